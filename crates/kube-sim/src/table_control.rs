//! kube-apiserver's printers for the cluster-level kinds: certificates,
//! leases, storage drivers and classes, admission, runtime and priority
//! classes, API priority and fairness, and APIServices.

use crate::table::{age_col, col, name_col, Column};
use crate::table_cells::*;
use crate::table_more::{s, strings};
use serde_json::{json, Value};

pub fn builtin(group: &str, kind: &str) -> Option<Vec<Column>> {
    Some(match (group, kind) {
        ("certificates.k8s.io", "CertificateSigningRequest") => vec![
            name_col(),
            age_col(),
            s("SignerName", |o| json!(str_at(o, "/spec/signerName"))),
            s("Requestor", |o| json!(str_at(o, "/spec/username"))),
            s("RequestedDuration", |o| {
                json!(o
                    .pointer("/spec/expirationSeconds")
                    .and_then(Value::as_u64)
                    .map_or(NONE.to_string(), format_age))
            }),
            s("Condition", |o| {
                let conds: Vec<&str> = array_at(o, "/status/conditions")
                    .iter()
                    .map(|c| str_at(c, "/type"))
                    .collect();
                let mut text = if conds.is_empty() {
                    "Pending".to_string()
                } else {
                    conds.join(",")
                };
                if o.pointer("/status/certificate").is_some() {
                    text.push_str(",Issued");
                }
                json!(text)
            }),
        ],
        ("coordination.k8s.io", "Lease") => vec![
            name_col(),
            s("Holder", |o| json!(str_at(o, "/spec/holderIdentity"))),
            age_col(),
        ],
        ("storage.k8s.io", "StorageClass") => vec![
            Column {
                format: "name",
                ..s("Name", |o| {
                    let name = str_at(o, "/metadata/name");
                    let default = str_at(
                        o,
                        "/metadata/annotations/storageclass.kubernetes.io~1is-default-class",
                    ) == "true";
                    json!(if default {
                        format!("{name} (default)")
                    } else {
                        name.to_string()
                    })
                })
            },
            s("Provisioner", |o| json!(str_at(o, "/provisioner"))),
            s("ReclaimPolicy", |o| {
                json!(scalar_or(o, "/reclaimPolicy", "Delete"))
            }),
            s("VolumeBindingMode", |o| {
                json!(scalar_or(o, "/volumeBindingMode", "Immediate"))
            }),
            col("AllowVolumeExpansion", "boolean", |o| {
                json!(o.pointer("/allowVolumeExpansion") == Some(&json!(true)))
            }),
            age_col(),
        ],
        ("storage.k8s.io", "VolumeAttachment") => vec![
            name_col(),
            s("Attacher", |o| json!(str_at(o, "/spec/attacher"))),
            s("PV", |o| {
                json!(str_at(o, "/spec/source/persistentVolumeName"))
            }),
            s("Node", |o| json!(str_at(o, "/spec/nodeName"))),
            col("Attached", "boolean", |o| {
                json!(o.pointer("/status/attached") == Some(&json!(true)))
            }),
            age_col(),
        ],
        ("storage.k8s.io", "CSINode") => vec![
            name_col(),
            col("Drivers", "integer", |o| json!(len_at(o, "/spec/drivers"))),
            age_col(),
        ],
        ("storage.k8s.io", "CSIDriver") => vec![
            name_col(),
            col("AttachRequired", "boolean", |o| {
                json!(o.pointer("/spec/attachRequired") != Some(&json!(false)))
            }),
            col("PodInfoOnMount", "boolean", |o| {
                json!(o.pointer("/spec/podInfoOnMount") == Some(&json!(true)))
            }),
            col("StorageCapacity", "boolean", |o| {
                json!(o.pointer("/spec/storageCapacity") == Some(&json!(true)))
            }),
            s("TokenRequests", |o| {
                let auds: Vec<&str> = array_at(o, "/spec/tokenRequests")
                    .iter()
                    .map(|t| str_at(t, "/audience"))
                    .collect();
                json!(non_empty(auds.join(",")))
            }),
            col("RequiresRepublish", "boolean", |o| {
                json!(o.pointer("/spec/requiresRepublish") == Some(&json!(true)))
            }),
            s("Modes", |o| {
                json!(non_empty(
                    strings(o, "/spec/volumeLifecycleModes").join(",")
                ))
            }),
            age_col(),
        ],
        ("storage.k8s.io", "CSIStorageCapacity") => vec![
            name_col(),
            s("StorageClassName", |o| {
                json!(str_at(o, "/storageClassName"))
            }),
            s("Capacity", |o| json!(scalar_or(o, "/capacity", NONE))),
        ],
        (
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration",
        ) => vec![
            name_col(),
            col("Webhooks", "integer", |o| json!(len_at(o, "/webhooks"))),
            age_col(),
        ],
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => vec![
            name_col(),
            col("Validations", "integer", |o| {
                json!(len_at(o, "/spec/validations"))
            }),
            s("ParamKind", |o| {
                json!(match o.pointer("/spec/paramKind") {
                    Some(p) => format!("{}/{}", str_at(p, "/apiVersion"), str_at(p, "/kind")),
                    None => "<unset>".to_string(),
                })
            }),
            age_col(),
        ],
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => vec![
            name_col(),
            s("PolicyName", |o| json!(str_at(o, "/spec/policyName"))),
            s("ParamRef", |o| {
                json!(match o.pointer("/spec/paramRef") {
                    Some(p) => {
                        let ns = str_at(p, "/namespace");
                        let name = str_at(p, "/name");
                        if ns.is_empty() {
                            format!("*/{name}")
                        } else {
                            format!("{ns}/{name}")
                        }
                    }
                    None => "<unset>".to_string(),
                })
            }),
            age_col(),
        ],
        ("node.k8s.io", "RuntimeClass") => vec![
            name_col(),
            s("Handler", |o| json!(str_at(o, "/handler"))),
            age_col(),
        ],
        ("scheduling.k8s.io", "PriorityClass") => vec![
            name_col(),
            col("Value", "integer", |o| json!(int_at(o, "/value"))),
            col("Global-Default", "boolean", |o| {
                json!(o.pointer("/globalDefault") == Some(&json!(true)))
            }),
            age_col(),
            s("PreemptionPolicy", |o| {
                json!(scalar_or(o, "/preemptionPolicy", "PreemptLowerPriority"))
            }),
        ],
        ("flowcontrol.apiserver.k8s.io", "FlowSchema") => vec![
            name_col(),
            s("PriorityLevel", |o| {
                json!(str_at(o, "/spec/priorityLevelConfiguration/name"))
            }),
            col("MatchingPrecedence", "string", |o| {
                json!(int_at(o, "/spec/matchingPrecedence"))
            }),
            s("DistinguisherMethod", |o| {
                json!(scalar_or(o, "/spec/distinguisherMethod/type", "*"))
            }),
            age_col(),
            s("MissingPL", |o| {
                json!(condition(o, "/status/conditions", "Dangling")
                    .map_or("?", |c| str_at(c, "/status")))
            }),
        ],
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration") => vec![
            name_col(),
            s("Type", |o| json!(str_at(o, "/spec/type"))),
            s("NominalConcurrencyShares", |o| {
                json!(scalar_or(o, "/spec/limited/nominalConcurrencyShares", NONE))
            }),
            s("Queues", |o| {
                json!(scalar_or(
                    o,
                    "/spec/limited/limitResponse/queuing/queues",
                    NONE
                ))
            }),
            s("HandSize", |o| {
                json!(scalar_or(
                    o,
                    "/spec/limited/limitResponse/queuing/handSize",
                    NONE
                ))
            }),
            s("QueueLengthLimit", |o| {
                json!(scalar_or(
                    o,
                    "/spec/limited/limitResponse/queuing/queueLengthLimit",
                    NONE
                ))
            }),
            age_col(),
        ],
        ("apiregistration.k8s.io", "APIService") => vec![
            name_col(),
            s("Service", |o| {
                json!(match o.pointer("/spec/service") {
                    Some(svc) if !svc.is_null() => {
                        format!("{}/{}", str_at(svc, "/namespace"), str_at(svc, "/name"))
                    }
                    _ => "Local".to_string(),
                })
            }),
            s("Available", |o| {
                json!(match condition(o, "/status/conditions", "Available") {
                    Some(c) if str_at(c, "/status") == "True" => "True".to_string(),
                    Some(c) => format!("{} ({})", str_at(c, "/status"), str_at(c, "/reason")),
                    None => "Unknown".to_string(),
                })
            }),
            age_col(),
        ],
        _ => return None,
    })
}
