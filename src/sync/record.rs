//! The app record: one ConfigMap per app in the record namespace
//! (`gitops-tui` by default, never the app's own namespace), holding whether
//! the app is suspended or paused by a rollback, what was deployed, the
//! inventory of the last sync (so kinds dropped from Git are still pruned) and
//! the last 50 sync records.
//!
//! Keeping it in the cluster means it survives restarts, teammates and the
//! agent see the same state, and every running gitops-tui learns of a change
//! through its watch. It stays well under the 1 MiB object limit: history is
//! bounded and each entry lists at most a few changed objects.

use crate::cluster::ClusterError;
use crate::model::{
    ResourceKey, Revision, Suspension, SyncRecord, FIELD_MANAGER, RECORD_LABEL, RECORD_OF_LABEL,
};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const HISTORY_LIMIT: usize = 50;

/// An object this app applied, with what is needed to delete it later.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InventoryEntry {
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// Set when the app took over an object that existed before it; None
    /// when the app created it (entries written before ownership was
    /// recorded read as created: they all carried the app's label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<Adoption>,
}

/// Whom an adopted object belonged to before: its field managers and labels
/// when this app took it over. Prune releases such an object (removes the
/// app's label) instead of deleting it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Adoption {
    pub managers: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl InventoryEntry {
    pub fn key(&self) -> ResourceKey {
        ResourceKey::from_api_version(
            &self.api_version,
            &self.kind,
            self.namespace.as_deref(),
            &self.name,
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppRecord {
    pub suspended: bool,
    /// Who suspended the app, when and why (issue 12); cleared on resume.
    pub suspension: Option<Suspension>,
    pub paused_revision: Option<Revision>,
    pub deployed_revision: Option<Revision>,
    pub inventory: Vec<InventoryEntry>,
    pub history: Vec<SyncRecord>,
    /// Who is operating on the app now: the record is the lease, so no two
    /// agents (or an agent and a person) run two operations on one app at once.
    pub lease: Option<Lease>,
    /// The resourceVersion read, for optimistic concurrency on write.
    pub resource_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub holder: String,
    /// Unix seconds after which the lease is free again (a crashed holder
    /// does not block the app forever).
    pub expires: u64,
}

impl Lease {
    pub fn is_live(&self, now: u64) -> bool {
        self.expires > now
    }

    /// The host and pid of a `user@host:pid` holder (None for any other shape,
    /// e.g. a holder written by another tool).
    pub fn host_and_pid(&self) -> Option<(&str, u32)> {
        let (rest, pid) = self.holder.rsplit_once(':')?;
        let (_, host) = rest.split_once('@')?;
        Some((host, pid.parse().ok()?))
    }

    /// When it expires, RFC 3339.
    pub fn until(&self) -> String {
        humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(self.expires),
        )
        .to_string()
    }
}

impl AppRecord {
    pub fn push_history(&mut self, record: SyncRecord) {
        self.history.push(record);
        let excess = self.history.len().saturating_sub(HISTORY_LIMIT);
        self.history.drain(..excess);
    }

    fn from_config_map(cm: &ConfigMap) -> Self {
        let data = cm.data.clone().unwrap_or_default();
        let text = |k: &str| data.get(k).filter(|v| !v.is_empty()).cloned();
        AppRecord {
            suspended: data.get("suspended").is_some_and(|v| v == "true"),
            suspension: text("suspension").and_then(|t| serde_json::from_str(&t).ok()),
            paused_revision: text("pausedRevision").map(Revision),
            deployed_revision: text("deployedRevision").map(Revision),
            inventory: text("inventory")
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default(),
            history: text("history")
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default(),
            lease: text("lease").and_then(|t| serde_json::from_str(&t).ok()),
            resource_version: cm.metadata.resource_version.clone(),
        }
    }

    fn to_data(&self) -> BTreeMap<String, String> {
        let mut data = BTreeMap::new();
        data.insert("suspended".into(), self.suspended.to_string());
        // Written empty when cleared: a merge patch must remove the old one.
        data.insert(
            "suspension".into(),
            self.suspension
                .as_ref()
                .filter(|_| self.suspended)
                .and_then(|s| serde_json::to_string(s).ok())
                .unwrap_or_default(),
        );
        if let Some(lease) = &self.lease {
            data.insert(
                "lease".into(),
                serde_json::to_string(lease).unwrap_or_default(),
            );
        }
        data.insert(
            "pausedRevision".into(),
            self.paused_revision.clone().unwrap_or_default().0,
        );
        data.insert(
            "deployedRevision".into(),
            self.deployed_revision.clone().unwrap_or_default().0,
        );
        data.insert(
            "inventory".into(),
            serde_json::to_string(&self.inventory).unwrap_or_else(|_| "[]".into()),
        );
        data.insert(
            "history".into(),
            serde_json::to_string(&self.history).unwrap_or_else(|_| "[]".into()),
        );
        data
    }
}

pub fn record_name(app: &str) -> String {
    format!("app-{app}")
}

/// Reads and writes app records in one namespace of one cluster.
pub struct RecordStore {
    client: kube::Client,
    url: String,
    namespace: String,
}

impl RecordStore {
    pub fn new(client: kube::Client, url: &str, namespace: &str) -> Self {
        RecordStore {
            client,
            url: url.to_string(),
            namespace: namespace.to_string(),
        }
    }

    fn api(&self) -> Api<ConfigMap> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn err(&self, app: &str, e: kube::Error) -> ClusterError {
        ClusterError::from_kube(
            &format!(
                "record of app {app} (ConfigMap {}/{})",
                self.namespace,
                record_name(app)
            ),
            &self.url,
            e,
        )
    }

    /// The record, or an empty one when the app was never synced.
    pub async fn read(&self, app: &str) -> Result<AppRecord, ClusterError> {
        match self.api().get_opt(&record_name(app)).await {
            Ok(Some(cm)) => Ok(AppRecord::from_config_map(&cm)),
            Ok(None) => Ok(AppRecord::default()),
            Err(e) => Err(self.err(app, e)),
        }
    }

    /// Read, change and write back, retrying when someone else wrote in
    /// between (the resourceVersion precondition makes that a 409).
    pub async fn update(
        &self,
        app: &str,
        change: impl Fn(&mut AppRecord),
    ) -> Result<AppRecord, ClusterError> {
        for _ in 0..5 {
            let mut record = self.read(app).await?;
            change(&mut record);
            match self.write(app, &record).await {
                Ok(written) => return Ok(written),
                Err(e) if e.code() == Some(409) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(ClusterError::Other(format!(
            "record of app {app}: too many concurrent updates"
        )))
    }

    async fn write(&self, app: &str, record: &AppRecord) -> Result<AppRecord, ClusterError> {
        let mut labels = BTreeMap::new();
        labels.insert(RECORD_LABEL.to_string(), "true".to_string());
        labels.insert(RECORD_OF_LABEL.to_string(), app.to_string());
        let cm = ConfigMap {
            metadata: ObjectMeta {
                name: Some(record_name(app)),
                namespace: Some(self.namespace.clone()),
                labels: Some(labels),
                resource_version: record.resource_version.clone(),
                ..Default::default()
            },
            data: Some(record.to_data()),
            ..Default::default()
        };
        let written = match &record.resource_version {
            Some(_) => {
                self.api()
                    .replace(&record_name(app), &PostParams::default(), &cm)
                    .await
            }
            None => {
                self.ensure_namespace(app).await?;
                self.api().create(&PostParams::default(), &cm).await
            }
        };
        let written = written.map_err(|e| self.err(app, e))?;
        Ok(AppRecord::from_config_map(&written))
    }

    async fn ensure_namespace(&self, app: &str) -> Result<(), ClusterError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}});
        api.patch(
            &self.namespace,
            &PatchParams::apply(FIELD_MANAGER).validation_strict(),
            &Patch::Apply(&ns),
        )
        .await
        .map(|_| ())
        .map_err(|e| self.err(app, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SyncResult;

    #[test]
    fn record_round_trips_through_config_map_data() {
        let mut r = AppRecord {
            suspended: true,
            suspension: Some(Suspension {
                by: "mira".into(),
                at: "2026-12-01T10:00:00Z".into(),
                reason: "waiting for the DB migration".into(),
            }),
            paused_revision: Some("a".repeat(40).into()),
            deployed_revision: None,
            inventory: vec![InventoryEntry {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: Some("d".into()),
                name: "web".into(),
                adopted: Some(Adoption {
                    managers: vec!["kubectl-client-side-apply (Update)".into()],
                    labels: BTreeMap::from([("team".to_string(), "a".to_string())]),
                }),
            }],
            history: vec![],
            lease: Some(Lease {
                holder: "agent-1".into(),
                expires: 99,
            }),
            resource_version: None,
        };
        r.push_history(SyncRecord {
            revision: "b".repeat(40).into(),
            time: "t".into(),
            who: "me".into(),
            result: "Succeeded".into(),
            applied: 1,
            not_applied: 0,
            pruned: 0,
            changed: vec![],
        });
        let cm = ConfigMap {
            data: Some(r.to_data()),
            ..Default::default()
        };
        assert_eq!(AppRecord::from_config_map(&cm), r);
        assert_eq!(r.inventory[0].key().group, "apps");
        // Resumed: the reason is written empty, and reads as none.
        r.suspended = false;
        let cm = ConfigMap {
            data: Some(r.to_data()),
            ..Default::default()
        };
        assert_eq!(cm.data.as_ref().expect("data")["suspension"], "");
        assert_eq!(AppRecord::from_config_map(&cm).suspension, None);
    }

    #[test]
    fn inventory_written_before_ownership_reads_as_created() {
        let old = r#"[{"api_version":"v1","kind":"ConfigMap","namespace":"d","name":"c"}]"#;
        let entries: Vec<InventoryEntry> = serde_json::from_str(old).expect("old inventory");
        assert_eq!(entries[0].adopted, None);
        let again = serde_json::to_string(&entries).expect("json");
        assert_eq!(again, old, "created entries keep the old shape");
    }

    #[test]
    fn history_is_bounded() {
        let mut r = AppRecord::default();
        for i in 0..(HISTORY_LIMIT + 7) {
            r.push_history(SyncRecord {
                revision: i.to_string().into(),
                time: String::new(),
                who: String::new(),
                result: SyncResult::Succeeded,
                applied: 0,
                not_applied: 0,
                pruned: 0,
                changed: vec![],
            });
        }
        assert_eq!(r.history.len(), HISTORY_LIMIT);
        assert_eq!(r.history[0].revision, "7");
    }

    #[test]
    fn records_written_before_typed_results_still_read() {
        let old = r#"[{"revision":"r1","time":"t","who":"ada","result":"Succeeded","applied":3,"pruned":1,"changed":[]},
                     {"revision":"r2","time":"t","who":"ada","result":"Failed: 1 object(s) failed the dry-run: x","applied":0,"pruned":0,"changed":[]},
                     {"revision":"r3","time":"t","who":"ada","result":"Reticulated","applied":0}]"#;
        let history: Vec<SyncRecord> = serde_json::from_str(old).expect("old history reads");
        assert_eq!(history[0].result, SyncResult::Succeeded);
        assert_eq!(history[0].not_applied, 0);
        assert_eq!(
            history[1].result,
            SyncResult::Failed("1 object(s) failed the dry-run: x".into())
        );
        assert_eq!(history[2].result, SyncResult::Other("Reticulated".into()));
        // And they are written back exactly as they were.
        let again = serde_json::to_value(&history).expect("serializes");
        assert_eq!(
            again[1]["result"],
            "Failed: 1 object(s) failed the dry-run: x"
        );
        assert_eq!(again[2]["result"], "Reticulated");
    }

    #[test]
    fn lease_holders_name_host_and_pid() {
        let lease = |holder: &str| Lease {
            holder: holder.into(),
            expires: 0,
        };
        assert_eq!(lease("root@host:4387").host_and_pid(), Some(("host", 4387)));
        assert_eq!(lease("a@b@c:1").host_and_pid(), Some(("b@c", 1)));
        assert_eq!(lease("agent-1").host_and_pid(), None);
        assert_eq!(lease("root@host:x").host_and_pid(), None);
        assert_eq!(lease("host:12").host_and_pid(), None);
        assert_eq!(
            Lease {
                holder: String::new(),
                expires: 1_700_000_000
            }
            .until(),
            "2023-11-14T22:13:20Z"
        );
    }
}
