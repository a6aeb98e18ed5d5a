//! An app's boundaries, checked before anything is applied, in the spirit of
//! Argo CD's AppProject destinations: which namespaces an app may write into,
//! which namespaces no app may touch, and which cluster-wide grants need the
//! app's explicit consent. Also the duplicate check on resolved namespaces
//! (`namespace: web` and no namespace are the same object in an app whose
//! namespace is `web`).
//!
//! Pure: desired objects (namespaces resolved) in, violations out.

use super::desired::Desired;
use crate::config::AppConfig;
use crate::manifest::{SourceRef, Warning};
use crate::model::ResourceKey;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;

/// Namespaces no app writes into and no app's Namespace object may name.
pub const PROTECTED_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// One object outside the app's boundaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub key: ResourceKey,
    pub source: Option<SourceRef>,
    pub reason: String,
}

impl Violation {
    /// As a warning of `status` (which a sync would turn into a refusal).
    pub fn warning(&self) -> Warning {
        let reason = format!(
            "{}: {}; a sync refuses it (outside the app's boundaries)",
            self.key, self.reason
        );
        match &self.source {
            Some(s) => Warning::at(&s.file, s.line, reason),
            None => Warning::general(reason),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(s) => write!(f, "{s}: {}: {}", self.key, self.reason),
            None => write!(f, "{}: {}", self.key, self.reason),
        }
    }
}

/// Every desired object that breaks a boundary rule, in the objects' order.
pub fn check(app: &AppConfig, record_namespace: &str, objects: &[Desired]) -> Vec<Violation> {
    objects
        .iter()
        .filter_map(|d| {
            reason(app, record_namespace, d).map(|reason| Violation {
                key: d.key.clone(),
                source: d.source.clone(),
                reason,
            })
        })
        .collect()
}

fn reason(app: &AppConfig, record_namespace: &str, d: &Desired) -> Option<String> {
    let forbidden = |ns: &str| {
        if ns == record_namespace {
            Some(format!(
                "{ns} is the record namespace (it holds every app's record); no app writes there"
            ))
        } else if PROTECTED_NAMESPACES.contains(&ns) {
            Some(format!("{ns} belongs to the cluster; no app writes there"))
        } else {
            None
        }
    };
    if let Some(ns) = &d.key.namespace {
        if let Some(why) = forbidden(ns) {
            return Some(format!("namespace {why}"));
        }
        if ns != &app.namespace && !app.allowed_namespaces.iter().any(|a| a == ns) {
            return Some(format!(
                "namespace {ns} is outside the app's namespaces ({}); list it in allowed_namespaces to allow it",
                std::iter::once(app.namespace.as_str())
                    .chain(app.allowed_namespaces.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return None;
    }
    if d.key.group.is_empty() && d.key.kind == "Namespace" {
        return forbidden(&d.key.name).map(|why| format!("a Namespace object for {why}"));
    }
    if d.key.group == RBAC_GROUP && !app.allow_cluster_admin {
        if d.key.kind == "ClusterRole" && grants_everything(&d.object) {
            return Some(
                "grants every verb on every resource; set allow_cluster_admin = true on the app to allow it"
                    .into(),
            );
        }
        if binds_cluster_admin(&d.object) {
            return Some(
                "binds cluster-admin; set allow_cluster_admin = true on the app to allow it".into(),
            );
        }
    }
    None
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A rule with `*` verbs on `*` resources (in every group, or the core one).
fn grants_everything(role: &Value) -> bool {
    role.get("rules")
        .and_then(Value::as_array)
        .is_some_and(|rules| {
            rules.iter().any(|r| {
                strings(r.get("verbs")).contains(&"*") && strings(r.get("resources")).contains(&"*")
            })
        })
}

/// A RoleBinding or ClusterRoleBinding whose roleRef is the cluster-admin ClusterRole.
fn binds_cluster_admin(binding: &Value) -> bool {
    binding.pointer("/roleRef/kind").and_then(Value::as_str) == Some("ClusterRole")
        && binding.pointer("/roleRef/name").and_then(Value::as_str) == Some("cluster-admin")
}

/// Two desired objects with the same key once namespaces are resolved: the
/// second and where the first was defined.
pub fn duplicates(objects: &[Desired]) -> Vec<(&Desired, &Desired)> {
    let mut seen: HashMap<&ResourceKey, &Desired> = HashMap::new();
    let mut out = Vec::new();
    for d in objects {
        match seen.get(&d.key) {
            Some(first) => out.push((d, *first)),
            None => {
                seen.insert(&d.key, d);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ManifestObject;
    use crate::sync::desired::prepare;
    use serde_json::json;

    fn app(toml_extra: &str) -> AppConfig {
        let text = format!("name = \"shop\"\nrepo = \"r\"\nnamespace = \"shop\"\n{toml_extra}");
        toml::from_str(&text).expect("app config")
    }

    fn desired(object: Value, namespaced: bool) -> Desired {
        let kind = kube::api::ApiResource {
            group: String::new(),
            version: "v1".into(),
            api_version: "v1".into(),
            kind: "X".into(),
            plural: "xs".into(),
        };
        prepare(
            &ManifestObject {
                object,
                source: SourceRef {
                    file: "apps/shop/a.yaml".into(),
                    line: 3,
                    doc_index: 0,
                },
            },
            Some(crate::cluster::Kind {
                resource: kind,
                namespaced,
            }),
            "shop",
            "shop",
        )
    }

    fn cm(ns: Option<&str>) -> Value {
        let mut v = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        if let Some(ns) = ns {
            v["metadata"]["namespace"] = json!(ns);
        }
        v
    }

    #[test]
    fn namespaced_objects_stay_in_the_app_namespaces() {
        let a = app("allowed_namespaces = [\"shop-jobs\"]");
        let ok = [
            desired(cm(None), true),
            desired(cm(Some("shop")), true),
            desired(cm(Some("shop-jobs")), true),
        ];
        assert!(check(&a, "gitops-tui", &ok).is_empty());
        let out = check(&a, "gitops-tui", &[desired(cm(Some("billing")), true)]);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].to_string(),
            "apps/shop/a.yaml:3: ConfigMap billing/c: namespace billing is outside the app's namespaces (shop, shop-jobs); list it in allowed_namespaces to allow it"
        );
    }

    #[test]
    fn protected_and_record_namespaces_are_refused_even_when_allowed() {
        let a = app("allowed_namespaces = [\"kube-system\", \"gitops-tui\"]");
        for ns in [
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "gitops-tui",
        ] {
            let out = check(&a, "gitops-tui", &[desired(cm(Some(ns)), true)]);
            assert_eq!(out.len(), 1, "{ns}");
            assert!(
                out[0].reason.starts_with(&format!("namespace {ns} ")),
                "{}",
                out[0]
            );
        }
        let ns = |name: &str| {
            desired(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
                false,
            )
        };
        let out = check(
            &a,
            "gitops-tui",
            &[ns("kube-system"), ns("gitops-tui"), ns("web")],
        );
        let names: Vec<&str> = out.iter().map(|v| v.key.name.as_str()).collect();
        assert_eq!(names, vec!["kube-system", "gitops-tui"]);
        assert!(out[0]
            .reason
            .starts_with("a Namespace object for kube-system belongs to the cluster"));
    }

    #[test]
    fn cluster_admin_grants_need_consent() {
        let star = desired(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": "god"},
                   "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
            false,
        );
        let narrow = desired(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": "reader"},
                   "rules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}]}),
            false,
        );
        let binding = desired(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": "b"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                   "subjects": []}),
            false,
        );
        let objects = [star, narrow, binding];
        let out = check(&app(""), "gitops-tui", &objects);
        let names: Vec<&str> = out.iter().map(|v| v.key.name.as_str()).collect();
        assert_eq!(names, vec!["god", "b"]);
        assert!(check(&app("allow_cluster_admin = true"), "gitops-tui", &objects).is_empty());
    }

    #[test]
    fn duplicates_are_found_on_the_resolved_namespace() {
        let objects = [
            desired(cm(Some("shop")), true),
            desired(cm(None), true),
            desired(cm(Some("other")), true),
        ];
        let d = duplicates(&objects);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].0.key.namespace.as_deref(), Some("shop"));
    }
}
