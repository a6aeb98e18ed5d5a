//! From loaded manifests to the objects a sync applies: namespaces filled
//! in, the tracking label set, split into the two stages, in apply order.

use crate::cluster::{Kind, TRACKING_LABEL};
use crate::manifest::{ManifestObject, SourceRef};
use crate::model::ResourceKey;
use serde_json::{json, Value};

/// One object to apply, with where it came from.
#[derive(Debug, Clone)]
pub struct Desired {
    pub key: ResourceKey,
    pub api_version: String,
    pub object: Value,
    pub source: Option<SourceRef>,
    /// Resolved by discovery; None while its CRD is not served yet.
    pub kind: Option<Kind>,
}

impl Desired {
    /// Stage one: Namespaces and CRDs, which the rest may need to exist.
    pub fn is_stage_one(&self) -> bool {
        (self.key.group.is_empty() && self.key.kind == "Namespace")
            || (self.key.group == "apiextensions.k8s.io"
                && self.key.kind == "CustomResourceDefinition")
    }
}

/// Fill in what the server needs and what marks the object as ours.
pub fn prepare(
    manifest: &ManifestObject,
    kind: Option<Kind>,
    app: &str,
    default_namespace: &str,
) -> Desired {
    let mut object = manifest.object.clone();
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    match &kind {
        Some(k) if k.namespaced => {
            if object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                object["metadata"]["namespace"] = json!(default_namespace);
            }
        }
        Some(_) => {
            // Cluster-scoped: a namespace written in Git means nothing.
            if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("namespace");
            }
        }
        None => {
            // Unknown until its CRD is served: assume namespaced unless told.
            if object.pointer("/metadata/namespace").is_none() {
                object["metadata"]["namespace"] = json!(default_namespace);
            }
        }
    }
    if !object
        .pointer("/metadata/labels")
        .is_some_and(Value::is_object)
    {
        object["metadata"]["labels"] = json!({});
    }
    object["metadata"]["labels"][TRACKING_LABEL] = json!(app);
    unlabelled(object, kind, Some(manifest.source.clone()))
}

/// An object as it stands (namespace filled in, labels set): ours from
/// [`prepare`], or one another controller applies (Flux, Argo CD) with no
/// tracking label of ours.
pub fn unlabelled(object: Value, kind: Option<Kind>, source: Option<SourceRef>) -> Desired {
    Desired {
        key: ResourceKey::of(&object),
        api_version: object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        object,
        source,
        kind,
    }
}

/// The Namespace `create_namespace` asks for: not part of the app, so not
/// labelled (and so never Extra, never pruned).
pub fn created_namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// Argo CD's apply order by kind; unknown kinds go last, by name.
const KIND_ORDER: &[&str] = &[
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

pub fn apply_order(objects: &mut [Desired]) {
    objects.sort_by(|a, b| {
        let rank = |d: &Desired| {
            KIND_ORDER
                .iter()
                .position(|k| *k == d.key.kind)
                .unwrap_or(KIND_ORDER.len())
        };
        rank(a).cmp(&rank(b)).then_with(|| a.key.cmp(&b.key))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(v: Value) -> ManifestObject {
        ManifestObject {
            object: v,
            source: SourceRef {
                file: "a.yaml".into(),
                line: 1,
                doc_index: 0,
            },
        }
    }

    fn namespaced() -> Kind {
        Kind {
            resource: kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()),
            namespaced: true,
        }
    }

    #[test]
    fn namespaced_objects_get_the_app_namespace_and_the_label() {
        let d = prepare(
            &manifest(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})),
            Some(namespaced()),
            "shop",
            "shop-ns",
        );
        assert_eq!(d.object["metadata"]["namespace"], "shop-ns");
        assert_eq!(d.object["metadata"]["labels"][TRACKING_LABEL], "shop");
        assert_eq!(d.key.namespace.as_deref(), Some("shop-ns"));
        let kept = prepare(
            &manifest(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "other"}}),
            ),
            Some(namespaced()),
            "shop",
            "shop-ns",
        );
        assert_eq!(kept.key.namespace.as_deref(), Some("other"));
    }

    #[test]
    fn order_follows_argo_cd() {
        let mk = |kind: &str, api: &str| {
            prepare(
                &manifest(json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x"}})),
                None,
                "a",
                "n",
            )
        };
        let mut v = vec![
            mk("Deployment", "apps/v1"),
            mk("Widget", "example.com/v1"),
            mk("Service", "v1"),
            mk("ConfigMap", "v1"),
            mk("Namespace", "v1"),
        ];
        apply_order(&mut v);
        let kinds: Vec<&str> = v.iter().map(|d| d.key.kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec!["Namespace", "ConfigMap", "Service", "Deployment", "Widget"]
        );
        assert!(v[0].is_stage_one());
    }
}
