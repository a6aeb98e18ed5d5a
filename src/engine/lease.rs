//! The record is the lease: no two operations (two agents, or an agent and a
//! person) run on one app at once. A lease names its holder (`user@host:pid`)
//! and expires, so a crashed holder does not block the app forever; a holder
//! on this host whose process is gone frees it at once, and `unlock` breaks
//! one held elsewhere after asking.

use super::{now_rfc3339, who, Engine, EngineError};
use crate::cluster::Cluster;
use crate::config::AppConfig;
use crate::model::{AppId, HeldLease, Revision, SyncRecord, SyncResult};
use crate::sync::record::{AppRecord, Lease};
use std::sync::Mutex;
use std::time::Duration;

/// How long a lease lasts: a crashed holder on another host frees the app after this.
pub(super) const LEASE_TTL: Duration = Duration::from_secs(600);

/// The record's lease if it still binds: not expired, and not left behind
/// by a process of this host that no longer exists.
pub fn held(record: &AppRecord) -> Option<HeldLease> {
    record
        .lease
        .as_ref()
        .filter(|l| l.is_live(unix_now()) && !holder_gone(l))
        .map(|l| HeldLease {
            holder: l.holder.clone(),
            until: l.until(),
        })
}

/// This machine's name as leases spell it.
pub fn this_host() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// This process, as named in a lease: user, host and pid.
fn lease_holder() -> String {
    format!("{}@{}:{}", who(), this_host(), std::process::id())
}

/// Whether the lease's holder is a process of this host that has exited.
/// Only what can be known for sure: another host, an unparsable holder or a
/// machine without /proc never count as gone.
fn holder_gone(lease: &Lease) -> bool {
    let Some((host, pid)) = lease.host_and_pid() else {
        return false;
    };
    let proc = std::path::Path::new("/proc");
    host == this_host()
        && pid != std::process::id()
        && proc.join("self").exists()
        && !proc.join(pid.to_string()).exists()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What taking the lease found.
enum Taken {
    Free,
    TookOver(String),
    Busy(Lease),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
        let taken = Mutex::new(Taken::Free);
        self.records(cluster)
            .update(&app.name, |r| {
                let held = r
                    .lease
                    .as_ref()
                    .filter(|l| l.is_live(now) && l.holder != me);
                let outcome = match held {
                    Some(l) if holder_gone(l) => Taken::TookOver(l.holder.clone()),
                    Some(l) => Taken::Busy(l.clone()),
                    None => Taken::Free,
                };
                let busy = matches!(outcome, Taken::Busy(_));
                *lock(&taken) = outcome;
                if busy {
                    return;
                }
                r.lease = Some(Lease {
                    holder: me.clone(),
                    expires: now + ttl.as_secs(),
                });
            })
            .await?;
        match taken.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Taken::Busy(l) => Err(EngineError::Busy {
                app: app.name.clone(),
                until: l.until(),
                holder: l.holder,
            }),
            Taken::TookOver(holder) => {
                self.notice(&format!(
                    "app {}: took over the lease of {holder} (process gone)",
                    app.name
                ));
                Ok(())
            }
            Taken::Free => Ok(()),
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

    /// The app's lease if someone holds it now (see [`held`]).
    pub async fn lease(&self, id: &AppId) -> Result<Option<HeldLease>, EngineError> {
        let app = self.app(id)?.clone();
        let cluster = self.cluster(&app).await?;
        let record = self.records(&cluster).read(&app.name).await?;
        Ok(held(&record))
    }

    /// Break the lease `holder` holds on the app, as `gitops-tui unlock` does
    /// after asking, and say so in the app's history. Refused when the lease
    /// changed hands since it was shown; `false` when nothing was held.
    pub async fn break_lease(&self, id: &AppId, holder: &str) -> Result<bool, EngineError> {
        self.refuse_if_readonly("unlock")?;
        let app = self.app(id)?.clone();
        let cluster = self.cluster(&app).await?;
        let outcome: Mutex<Result<bool, Lease>> = Mutex::new(Ok(false));
        let entry = SyncRecord {
            revision: Revision::default(),
            time: now_rfc3339(),
            who: who(),
            result: SyncResult::LeaseBroken {
                holder: holder.to_string(),
            },
            applied: 0,
            not_applied: 0,
            pruned: 0,
            changed: vec![],
        };
        self.records(&cluster)
            .update(&app.name, |r| {
                *lock(&outcome) = match r.lease.clone() {
                    Some(l) if l.holder == holder => {
                        r.lease = None;
                        let mut entry = entry.clone();
                        entry.revision = r.deployed_revision.clone().unwrap_or_default();
                        r.push_history(entry);
                        Ok(true)
                    }
                    Some(l) if l.is_live(unix_now()) => Err(l),
                    _ => Ok(false),
                };
            })
            .await?;
        match outcome.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Ok(broken) => Ok(broken),
            Err(l) => Err(EngineError::Other(format!(
                "app {}: the lease changed hands: {} holds it now (until {}); nothing was broken",
                app.name,
                l.holder,
                l.until()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: String) -> Lease {
        Lease {
            holder,
            expires: unix_now() + 60,
        }
    }

    #[test]
    fn only_an_exited_process_of_this_host_is_gone() {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("true runs");
        let dead = child.id();
        child.wait().expect("true exits");
        let host = this_host();
        assert!(holder_gone(&lease(format!("root@{host}:{dead}"))));
        let me = std::process::id();
        assert!(!holder_gone(&lease(format!("root@{host}:{me}"))));
        assert!(
            !holder_gone(&lease(format!("root@{host}:1"))),
            "pid 1 lives"
        );
        assert!(!holder_gone(&lease(format!(
            "root@elsewhere-{host}:{dead}"
        ))));
        assert!(!holder_gone(&lease("agent-1".into())));
        assert!(!holder_gone(&lease(format!("root@{host}:notapid"))));
    }

    #[test]
    fn a_held_lease_shows_only_while_it_binds() {
        let host = this_host();
        let mut r = AppRecord {
            lease: Some(lease(format!("ada@{host}:1"))),
            ..Default::default()
        };
        let binding = held(&r).expect("held");
        assert_eq!(binding.holder, format!("ada@{host}:1"));
        assert!(binding.until.ends_with('Z'), "{}", binding.until);
        r.lease = Some(Lease {
            holder: "ada@elsewhere:1".into(),
            expires: 5,
        });
        assert_eq!(held(&r), None, "expired");
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("true runs");
        let dead = child.id();
        child.wait().expect("true exits");
        r.lease = Some(lease(format!("ada@{host}:{dead}")));
        assert_eq!(held(&r), None, "its process is gone");
    }
}
