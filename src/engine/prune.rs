//! Prune: what Git no longer has, taken away only where that takes nothing
//! that is not the app's own.
//!
//! - An object is deleted only when it carries the app's label, gitops-tui
//!   wrote it (its field manager is in managedFields) and the app created it.
//! - An object the app adopted is released instead: the label is removed and
//!   the object stays, as it was before the app took it over (unless the
//!   user asks for more: `--prune-adopted` deletes it too).
//! - A Namespace or a CRD takes other objects with it, so it goes last, and
//!   only when what it holds (every namespaced kind in the namespace; every
//!   custom resource of the CRD) is pruned by the same sync or made by the
//!   cluster itself (Events, the default ServiceAccount, owned objects).
//!   Otherwise it is reported as kept and stays in the inventory, so a later
//!   sync tries again.

use super::ownership::{tracking_label, written_by_us};
use super::sync::{action, inventory_entry, ResourceResult, SyncOptions};
use super::{Engine, EngineError};
use crate::cluster::{self, Cluster, Kind, TRACKING_LABEL};
use crate::config::AppConfig;
use crate::model::ResourceKey;
use crate::sync::record::InventoryEntry;
use kube::api::ApiResource;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// How an extra leaves the app.
enum Removal {
    /// The app created it: delete it.
    Delete,
    /// The app adopted it: remove the app's label, keep the object.
    Release { managers: Vec<String> },
}

/// What prune did, and the extras that stay in the inventory.
pub(super) struct Pruned {
    pub results: Vec<ResourceResult>,
    pub remaining: Vec<InventoryEntry>,
}

fn is_namespace(key: &ResourceKey) -> bool {
    key.group.is_empty() && key.kind == "Namespace"
}

fn is_crd(key: &ResourceKey) -> bool {
    key.group == "apiextensions.k8s.io" && key.kind == "CustomResourceDefinition"
}

fn result(key: &ResourceKey, action: String, message: impl Into<String>) -> ResourceResult {
    ResourceResult {
        key: key.clone(),
        action,
        message: message.into(),
        warnings: vec![],
    }
}

impl Engine {
    pub(super) async fn prune(
        &self,
        app: &AppConfig,
        cluster: &Cluster,
        extras: BTreeMap<ResourceKey, Value>,
        inventory: &[InventoryEntry],
        opts: &SyncOptions,
    ) -> Result<Pruned, EngineError> {
        let dry_run = opts.dry_run;
        let recorded: BTreeMap<ResourceKey, &InventoryEntry> =
            inventory.iter().map(|e| (e.key(), e)).collect();
        let keep = |key: &ResourceKey, live: &Value| {
            let mut entry = inventory_entry(key, live);
            entry.adopted = recorded.get(key).and_then(|e| e.adopted.clone());
            entry
        };
        let mut out = Pruned {
            results: Vec::new(),
            remaining: Vec::new(),
        };
        let mut deletions = Vec::new();
        let mut last = Vec::new();
        for (key, live) in extras {
            if tracking_label(&live) != Some(app.name.as_str()) {
                // Someone removed the label (or it was never there): not ours.
                out.remaining.push(keep(&key, &live));
                continue;
            }
            if !written_by_us(&live) {
                out.results.push(result(
                    &key,
                    "kept".into(),
                    "carries the app's label but gitops-tui never wrote it: not deleted",
                ));
                out.remaining.push(keep(&key, &live));
                continue;
            }
            let adopted = recorded.get(&key).and_then(|e| e.adopted.as_ref());
            if let Some(adopted) = adopted.filter(|_| !opts.prune_adopted) {
                let how = Removal::Release {
                    managers: adopted.managers.clone(),
                };
                if !self
                    .remove(cluster, &key, &live, how, dry_run, &mut out)
                    .await?
                {
                    out.remaining.push(keep(&key, &live));
                }
                continue;
            }
            if is_namespace(&key) && self.is_protected_namespace(&key.name) {
                // Never deleted by any app, whatever an old inventory says.
                out.results.push(result(
                    &key,
                    "kept".into(),
                    "belongs to the cluster (or holds the app records): never pruned",
                ));
                out.remaining.push(keep(&key, &live));
                continue;
            }
            if is_namespace(&key) || is_crd(&key) {
                last.push((key, live));
            } else {
                deletions.push((key, live));
            }
        }

        let mut pruned: BTreeSet<ResourceKey> = BTreeSet::new();
        for (key, live) in deletions {
            if self
                .remove(cluster, &key, &live, Removal::Delete, dry_run, &mut out)
                .await?
            {
                pruned.insert(key);
            } else {
                out.remaining.push(keep(&key, &live));
            }
        }
        // Namespaces before CRDs: a namespace's custom resources are pruned
        // with it only when the check above allowed it.
        last.sort_by_key(|(k, _)| is_crd(k));
        for (key, live) in last {
            let held = if is_namespace(&key) {
                self.namespace_holds(cluster, &key.name, &pruned).await
            } else {
                self.crd_holds(cluster, &live, &pruned).await
            };
            match held {
                Ok(held) if held.is_empty() => {
                    if self
                        .remove(cluster, &key, &live, Removal::Delete, dry_run, &mut out)
                        .await?
                    {
                        pruned.insert(key);
                    } else {
                        out.remaining.push(keep(&key, &live));
                    }
                }
                Ok(held) => {
                    let shown: Vec<String> = held.iter().take(3).map(ToString::to_string).collect();
                    let more = held.len().saturating_sub(shown.len());
                    out.results.push(result(
                        &key,
                        "kept".into(),
                        format!(
                            "still holds {} object(s) this sync does not prune: {}{}",
                            held.len(),
                            shown.join(", "),
                            if more > 0 {
                                format!(" and {more} more")
                            } else {
                                String::new()
                            }
                        ),
                    ));
                    out.remaining.push(keep(&key, &live));
                }
                Err(e) => {
                    out.results.push(result(
                        &key,
                        "kept".into(),
                        format!("cannot tell what it still holds, so it is not deleted: {e}"),
                    ));
                    out.remaining.push(keep(&key, &live));
                }
            }
        }
        Ok(out)
    }

    fn is_protected_namespace(&self, name: &str) -> bool {
        name == self.config.record_namespace
            || crate::sync::boundary::PROTECTED_NAMESPACES.contains(&name)
            || name == "default"
    }

    async fn kind_of(
        &self,
        cluster: &Cluster,
        key: &ResourceKey,
        live: &Value,
    ) -> Result<Kind, EngineError> {
        let api_version = live.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        Ok(self
            .kinds
            .resolve(&cluster.client, &cluster.url, api_version, &key.kind)
            .await?)
    }

    /// Delete or release one extra (or say it would be); false when that
    /// failed.
    async fn remove(
        &self,
        cluster: &Cluster,
        key: &ResourceKey,
        live: &Value,
        how: Removal,
        dry_run: bool,
        out: &mut Pruned,
    ) -> Result<bool, EngineError> {
        let kind = self.kind_of(cluster, key, live).await?;
        let (client, url, ns) = (&cluster.client, &cluster.url, key.namespace.as_deref());
        let done = match (&how, dry_run) {
            (_, true) => Ok(()),
            (Removal::Delete, false) => cluster::delete(client, url, &kind, ns, &key.name).await,
            (Removal::Release { .. }, false) => {
                cluster::remove_label(client, url, &kind, ns, &key.name, TRACKING_LABEL).await
            }
        };
        Ok(match done {
            Ok(()) => {
                let (word, message) = match how {
                    Removal::Delete => ("pruned", String::new()),
                    Removal::Release { managers } => (
                        "released",
                        format!(
                            "adopted, not created by this app: label removed, object kept{}",
                            if managers.is_empty() {
                                String::new()
                            } else {
                                format!(" (it was managed by {})", managers.join(", "))
                            }
                        ),
                    ),
                };
                out.results
                    .push(result(key, action(word, dry_run), message));
                true
            }
            Err(e) => {
                out.results
                    .push(result(key, "failed".into(), e.to_string()));
                false
            }
        })
    }

    /// What `namespace` holds that deleting it would take and this sync does
    /// not prune: every listable namespaced kind, less what the cluster makes
    /// by itself.
    async fn namespace_holds(
        &self,
        cluster: &Cluster,
        namespace: &str,
        pruned: &BTreeSet<ResourceKey>,
    ) -> Result<Vec<ResourceKey>, EngineError> {
        let kinds = cluster::namespaced_kinds(&cluster.client, &cluster.url).await?;
        let mut services = BTreeSet::new();
        let mut held = Vec::new();
        let mut endpoints = Vec::new();
        for kind in &kinds {
            let items =
                cluster::list_all(&cluster.client, &cluster.url, kind, Some(namespace)).await?;
            for item in items {
                let key = ResourceKey::of(&item);
                if pruned.contains(&key) || made_by_the_cluster(&key, &item) {
                    continue;
                }
                if key.group.is_empty() && key.kind == "Service" {
                    services.insert(key.name.clone());
                }
                if key.group.is_empty() && key.kind == "Endpoints" {
                    endpoints.push(key);
                    continue;
                }
                held.push(key);
            }
        }
        // Endpoints of a Service are the Service's; the Service decides.
        let pruned_services: BTreeSet<&str> = pruned
            .iter()
            .filter(|k| k.group.is_empty() && k.kind == "Service")
            .map(|k| k.name.as_str())
            .collect();
        held.extend(
            endpoints.into_iter().filter(|e| {
                !services.contains(&e.name) && !pruned_services.contains(e.name.as_str())
            }),
        );
        held.sort();
        Ok(held)
    }

    /// The custom resources of a CRD that this sync does not prune.
    async fn crd_holds(
        &self,
        cluster: &Cluster,
        crd: &Value,
        pruned: &BTreeSet<ResourceKey>,
    ) -> Result<Vec<ResourceKey>, EngineError> {
        let text = |p: &str| crd.pointer(p).and_then(Value::as_str).unwrap_or("");
        let group = text("/spec/group");
        let versions = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let version = versions
            .iter()
            .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
            .or(versions.first())
            .and_then(|v| v.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("v1");
        let kind = Kind {
            resource: ApiResource {
                group: group.to_string(),
                version: version.to_string(),
                api_version: format!("{group}/{version}"),
                kind: text("/spec/names/kind").to_string(),
                plural: text("/spec/names/plural").to_string(),
            },
            namespaced: text("/spec/scope") != "Cluster",
        };
        let items = match cluster::list_all(&cluster.client, &cluster.url, &kind, None).await {
            Ok(items) => items,
            // The CRD is not served (any more): nothing of it is left.
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let mut held: Vec<ResourceKey> = items
            .iter()
            .map(ResourceKey::of)
            .filter(|k| !pruned.contains(k))
            .collect();
        held.sort();
        Ok(held)
    }
}

/// Objects a namespace holds that the cluster made, not a person or an app:
/// Events, owned objects (ReplicaSets, Pods, EndpointSlices…), the default
/// ServiceAccount and the root CA ConfigMap every namespace gets.
fn made_by_the_cluster(key: &ResourceKey, item: &Value) -> bool {
    if key.kind == "Event" && (key.group.is_empty() || key.group == "events.k8s.io") {
        return true;
    }
    if item
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|o| !o.is_empty())
    {
        return true;
    }
    key.group.is_empty()
        && matches!(
            (key.kind.as_str(), key.name.as_str()),
            ("ServiceAccount", "default") | ("ConfigMap", "kube-root-ca.crt")
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(group: &str, kind: &str, name: &str) -> ResourceKey {
        ResourceKey {
            group: group.into(),
            kind: kind.into(),
            namespace: Some("web".into()),
            name: name.into(),
        }
    }

    #[test]
    fn what_the_cluster_makes_does_not_hold_a_namespace() {
        let plain = json!({"metadata": {"name": "x"}});
        let owned = json!({"metadata": {"name": "x", "ownerReferences": [{"uid": "1"}]}});
        assert!(made_by_the_cluster(&key("", "Event", "e"), &plain));
        assert!(made_by_the_cluster(
            &key("events.k8s.io", "Event", "e"),
            &plain
        ));
        assert!(made_by_the_cluster(
            &key("", "ServiceAccount", "default"),
            &plain
        ));
        assert!(made_by_the_cluster(
            &key("", "ConfigMap", "kube-root-ca.crt"),
            &plain
        ));
        assert!(made_by_the_cluster(
            &key("apps", "ReplicaSet", "web-1"),
            &owned
        ));
        assert!(!made_by_the_cluster(
            &key("", "ConfigMap", "manual"),
            &plain
        ));
        assert!(!made_by_the_cluster(
            &key("", "ServiceAccount", "robot"),
            &plain
        ));
        assert!(!made_by_the_cluster(
            &key("example.com", "Event", "e"),
            &plain
        ));
    }
}
