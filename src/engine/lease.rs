//! The record is the lease: no two operations (two agents, or an agent and a
//! person) run on one app at once. A lease names its holder and expires, so a
//! crashed holder does not block the app forever.

use super::{who, Engine, EngineError};
use crate::cluster::Cluster;
use crate::config::AppConfig;
use crate::sync::record::Lease;
use std::time::Duration;

/// How long a lease lasts: a crashed holder on another host frees the app after this.
pub(super) const LEASE_TTL: Duration = Duration::from_secs(600);

/// This process, as named in a lease: user, host and pid.
fn lease_holder() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{}@{host}:{}", who(), std::process::id())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Engine {
    /// Take the app's lease (its record) for this process, or say who has it.
    pub(super) async fn acquire_lease(
        &self,
        app: &AppConfig,
        cluster: &Cluster,
        ttl: Duration,
    ) -> Result<(), EngineError> {
        let me = lease_holder();
        let now = unix_now();
        let busy = std::sync::Mutex::new(None);
        self.records(cluster)
            .update(&app.name, |r| {
                if let Some(l) = r
                    .lease
                    .as_ref()
                    .filter(|l| l.is_live(now) && l.holder != me)
                {
                    *busy.lock().unwrap_or_else(|e| e.into_inner()) = Some(l.clone());
                    return;
                }
                *busy.lock().unwrap_or_else(|e| e.into_inner()) = None;
                r.lease = Some(Lease {
                    holder: me.clone(),
                    expires: now + ttl.as_secs(),
                });
            })
            .await?;
        match busy.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(l) => Err(EngineError::Busy {
                app: app.name.clone(),
                holder: l.holder,
                until: humantime::format_rfc3339_seconds(
                    std::time::UNIX_EPOCH + Duration::from_secs(l.expires),
                )
                .to_string(),
            }),
            None => Ok(()),
        }
    }

    pub(super) async fn release_lease(
        &self,
        app: &AppConfig,
        cluster: &Cluster,
    ) -> Result<(), EngineError> {
        let me = lease_holder();
        self.records(cluster)
            .update(&app.name, |r| {
                if r.lease.as_ref().is_some_and(|l| l.holder == me) {
                    r.lease = None;
                }
            })
            .await?;
        Ok(())
    }
}
