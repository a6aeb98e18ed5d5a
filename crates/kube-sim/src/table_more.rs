//! kube-apiserver's printers for core configuration and storage kinds,
//! networking, discovery and RBAC bindings.

use crate::table::{age_col, col, name_col, wide, Column};
use crate::table_cells::*;
use serde_json::{json, Value};

pub fn s(name: &str, cell: fn(&Value) -> Value) -> Column {
    col(name, "string", cell)
}

fn created_at() -> Column {
    Column {
        format: "date",
        ..col("Created At", "date", |o| {
            json!(str_at(o, "/metadata/creationTimestamp"))
        })
    }
}

pub fn builtin(group: &str, kind: &str) -> Option<Vec<Column>> {
    Some(match (group, kind) {
        ("", "Service") => vec![
            name_col(),
            s("Type", |o| json!(str_at(o, "/spec/type"))),
            s("Cluster-IP", |o| json!(or_none(o, "/spec/clusterIP"))),
            s("External-IP", |o| json!(service_external_ip(o))),
            s("Port(s)", |o| json!(service_ports(o))),
            age_col(),
            wide("Selector", "string", |o| {
                json!(format_labels(o, "/spec/selector"))
            }),
        ],
        ("", "Endpoints") => vec![
            name_col(),
            s("Endpoints", |o| json!(endpoints(o))),
            age_col(),
        ],
        ("", "Namespace") => vec![
            name_col(),
            s("Status", |o| json!(str_at(o, "/status/phase"))),
            age_col(),
        ],
        ("", "Secret") => vec![
            name_col(),
            s("Type", |o| json!(str_at(o, "/type"))),
            col("Data", "integer", |o| json!(len_at(o, "/data"))),
            age_col(),
        ],
        ("", "ConfigMap") => vec![
            name_col(),
            col("Data", "integer", |o| {
                json!(len_at(o, "/data") + len_at(o, "/binaryData"))
            }),
            age_col(),
        ],
        ("", "ServiceAccount") => vec![
            name_col(),
            col("Secrets", "integer", |o| json!(len_at(o, "/secrets"))),
            age_col(),
        ],
        ("", "PersistentVolume") => vec![
            name_col(),
            s("Capacity", |o| {
                json!(scalar_or(o, "/spec/capacity/storage", ""))
            }),
            s("Access Modes", |o| {
                json!(access_modes(o, "/spec/accessModes"))
            }),
            s("Reclaim Policy", |o| {
                json!(str_at(o, "/spec/persistentVolumeReclaimPolicy"))
            }),
            s("Status", |o| json!(str_at(o, "/status/phase"))),
            s("Claim", |o| {
                json!(match o.pointer("/spec/claimRef") {
                    Some(r) => format!("{}/{}", str_at(r, "/namespace"), str_at(r, "/name")),
                    None => String::new(),
                })
            }),
            s("StorageClass", |o| {
                json!(str_at(o, "/spec/storageClassName"))
            }),
            s("VolumeAttributesClass", |o| {
                json!(unset(o, "/spec/volumeAttributesClassName"))
            }),
            s("Reason", |o| json!(str_at(o, "/status/reason"))),
            age_col(),
            wide("VolumeMode", "string", |o| {
                json!(unset(o, "/spec/volumeMode"))
            }),
        ],
        ("", "PersistentVolumeClaim") => vec![
            name_col(),
            s("Status", |o| json!(str_at(o, "/status/phase"))),
            s("Volume", |o| json!(str_at(o, "/spec/volumeName"))),
            s("Capacity", |o| {
                json!(scalar_or(o, "/status/capacity/storage", ""))
            }),
            s("Access Modes", |o| {
                json!(access_modes(o, "/status/accessModes"))
            }),
            s("StorageClass", |o| {
                json!(str_at(o, "/spec/storageClassName"))
            }),
            s("VolumeAttributesClass", |o| {
                json!(unset(o, "/spec/volumeAttributesClassName"))
            }),
            age_col(),
            wide("VolumeMode", "string", |o| {
                json!(unset(o, "/spec/volumeMode"))
            }),
        ],
        ("", "ComponentStatus") => vec![
            name_col(),
            s("Status", |o| {
                json!(if condition_true(o, "/conditions", "Healthy") {
                    "Healthy"
                } else {
                    "Unhealthy"
                })
            }),
            s("Message", |o| {
                json!(condition(o, "/conditions", "Healthy").map_or("", |c| str_at(c, "/message")))
            }),
            s("Error", |o| {
                json!(condition(o, "/conditions", "Healthy").map_or("", |c| str_at(c, "/error")))
            }),
        ],
        ("", "ResourceQuota") => vec![
            name_col(),
            age_col(),
            s("Request", |o| json!(quota(o, false))),
            s("Limit", |o| json!(quota(o, true))),
        ],
        ("", "LimitRange") => vec![name_col(), created_at()],
        ("", "PodTemplate") => vec![
            name_col(),
            s("Containers", |o| {
                json!(containers(o, "/template/spec", "name"))
            }),
            s("Images", |o| {
                json!(containers(o, "/template/spec", "image"))
            }),
            s("Pod Labels", |o| {
                json!(format_labels(o, "/template/metadata/labels"))
            }),
        ],
        ("networking.k8s.io", "Ingress") => vec![
            name_col(),
            s("Class", |o| json!(or_none(o, "/spec/ingressClassName"))),
            s("Hosts", |o| {
                let hosts: Vec<&str> = array_at(o, "/spec/rules")
                    .iter()
                    .map(|r| match str_at(r, "/host") {
                        "" => "*",
                        h => h,
                    })
                    .collect();
                json!(if hosts.is_empty() {
                    "*".to_string()
                } else {
                    hosts.join(",")
                })
            }),
            s("Address", |o| json!(lb_ingress(o).join(","))),
            s("Ports", |o| {
                json!(if len_at(o, "/spec/tls") > 0 {
                    "80, 443"
                } else {
                    "80"
                })
            }),
            age_col(),
        ],
        ("networking.k8s.io", "IngressClass") => vec![
            name_col(),
            s("Controller", |o| json!(str_at(o, "/spec/controller"))),
            s("Parameters", |o| {
                json!(match o.pointer("/spec/parameters") {
                    Some(p) => {
                        let group = str_at(p, "/apiGroup");
                        let kind_name = format!("{}/{}", str_at(p, "/kind"), str_at(p, "/name"));
                        if group.is_empty() {
                            kind_name
                        } else {
                            format!("{group}/{kind_name}")
                        }
                    }
                    None => NONE.to_string(),
                })
            }),
            age_col(),
        ],
        ("networking.k8s.io", "NetworkPolicy") => vec![
            name_col(),
            s("Pod-Selector", |o| {
                json!(format_selector(o, "/spec/podSelector"))
            }),
            age_col(),
        ],
        ("networking.k8s.io", "IPAddress") => vec![
            name_col(),
            s("ParentRef", |o| {
                let r = o.pointer("/spec/parentRef").cloned().unwrap_or(json!({}));
                let mut parts: Vec<&str> = Vec::new();
                for f in ["/group", "/resource", "/namespace", "/name"] {
                    let v = str_at(&r, f);
                    if !v.is_empty() {
                        parts.push(v);
                    }
                }
                json!(parts.join("/"))
            }),
        ],
        ("networking.k8s.io", "ServiceCIDR") => vec![
            name_col(),
            s("CIDRs", |o| json!(strings(o, "/spec/cidrs").join(","))),
            age_col(),
        ],
        ("discovery.k8s.io", "EndpointSlice") => vec![
            name_col(),
            s("AddressType", |o| json!(str_at(o, "/addressType"))),
            s("Ports", |o| {
                let ports: Vec<String> = array_at(o, "/ports")
                    .iter()
                    .map(|p| scalar_or(p, "/port", "<unset>"))
                    .collect();
                json!(if ports.is_empty() {
                    "<unset>".to_string()
                } else {
                    ports.join(",")
                })
            }),
            s("Endpoints", |o| {
                let addrs: Vec<String> = array_at(o, "/endpoints")
                    .iter()
                    .flat_map(|e| strings(e, "/addresses"))
                    .collect();
                json!(if addrs.is_empty() {
                    "<unset>".to_string()
                } else {
                    first_three(addrs)
                })
            }),
            age_col(),
        ],
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => vec![
            name_col(),
            s("Role", |o| {
                json!(format!(
                    "{}/{}",
                    str_at(o, "/roleRef/kind"),
                    str_at(o, "/roleRef/name")
                ))
            }),
            age_col(),
            wide("Users", "string", |o| json!(subjects(o, "User"))),
            wide("Groups", "string", |o| json!(subjects(o, "Group"))),
            wide("ServiceAccounts", "string", |o| {
                json!(subjects(o, "ServiceAccount"))
            }),
        ],
        _ => return crate::table_control::builtin(group, kind),
    })
}

fn unset(o: &Value, pointer: &str) -> String {
    match str_at(o, pointer) {
        "" => "<unset>".to_string(),
        v => v.to_string(),
    }
}

pub fn strings(o: &Value, pointer: &str) -> Vec<String> {
    array_at(o, pointer)
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// The first three entries, then `+ N more...`, as the printers cut lists.
fn first_three(items: Vec<String>) -> String {
    let more = items.len().saturating_sub(3);
    let mut text = items.into_iter().take(3).collect::<Vec<_>>().join(",");
    if more > 0 {
        text.push_str(&format!(" + {more} more..."));
    }
    text
}

fn lb_ingress(o: &Value) -> Vec<String> {
    array_at(o, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| match str_at(i, "/ip") {
            "" => str_at(i, "/hostname").to_string(),
            ip => ip.to_string(),
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn service_external_ip(o: &Value) -> String {
    let external = strings(o, "/spec/externalIPs");
    match str_at(o, "/spec/type") {
        "LoadBalancer" => {
            let mut ips = lb_ingress(o);
            ips.extend(external);
            if ips.is_empty() {
                "<pending>".to_string()
            } else {
                ips.join(",")
            }
        }
        "ExternalName" => str_at(o, "/spec/externalName").to_string(),
        _ => non_empty(external.join(",")),
    }
}

fn service_ports(o: &Value) -> String {
    let ports: Vec<String> = array_at(o, "/spec/ports")
        .iter()
        .map(|p| {
            let proto = scalar_or(p, "/protocol", "TCP");
            match p.get("nodePort").and_then(Value::as_i64) {
                Some(np) => format!("{}:{np}/{proto}", int_at(p, "/port")),
                None => format!("{}/{proto}", int_at(p, "/port")),
            }
        })
        .collect();
    non_empty(ports.join(","))
}

fn endpoints(o: &Value) -> String {
    let mut out = Vec::new();
    for subset in array_at(o, "/subsets") {
        let ports = array_at(subset, "/ports");
        for a in array_at(subset, "/addresses") {
            let ip = str_at(a, "/ip");
            if ports.is_empty() {
                out.push(ip.to_string());
            }
            for p in ports {
                out.push(format!("{ip}:{}", int_at(p, "/port")));
            }
        }
    }
    if out.is_empty() {
        NONE.to_string()
    } else {
        first_three(out)
    }
}

fn access_modes(o: &Value, pointer: &str) -> String {
    let modes: Vec<&str> = array_at(o, pointer)
        .iter()
        .filter_map(Value::as_str)
        .map(|m| match m {
            "ReadWriteOnce" => "RWO",
            "ReadOnlyMany" => "ROX",
            "ReadWriteMany" => "RWX",
            "ReadWriteOncePod" => "RWOP",
            other => other,
        })
        .collect();
    modes.join(",")
}

fn subjects(o: &Value, kind: &str) -> String {
    let names: Vec<String> = array_at(o, "/subjects")
        .iter()
        .filter(|s| str_at(s, "/kind") == kind)
        .map(|s| {
            if kind == "ServiceAccount" {
                format!("{}/{}", str_at(s, "/namespace"), str_at(s, "/name"))
            } else {
                str_at(s, "/name").to_string()
            }
        })
        .collect();
    names.join(", ")
}

/// `pods: 1/10, secrets: 2/20`: used/hard of each resource, requests or limits.
fn quota(o: &Value, limits: bool) -> String {
    let Some(hard) = o.pointer("/status/hard").and_then(Value::as_object) else {
        return String::new();
    };
    let mut keys: Vec<&String> = hard
        .keys()
        .filter(|k| k.starts_with("limits.") == limits)
        .collect();
    keys.sort();
    keys.iter()
        .map(|k| {
            let used = o
                .pointer("/status/used")
                .and_then(|u| u.get(k.as_str()))
                .map_or("0".to_string(), |v| scalar_or(v, "", "0"));
            format!("{k}: {used}/{}", scalar_or(&hard[k.as_str()], "", ""))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
