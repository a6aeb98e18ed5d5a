//! Leader election for the agent: of several `gitops-tui agent` replicas,
//! only the holder of one `coordination.k8s.io` Lease acts.
//!
//! The rules are client-go's `leaderelection` (what Flux's and Argo CD's
//! controllers use): the Lease names its holder and how long it binds; the
//! holder renews it well within that time; another replica takes it over
//! only after it has seen the same record unchanged for a whole lease
//! duration by its own clock (so clocks that disagree between nodes cannot
//! make two leaders); every write carries the `resourceVersion` read, so of
//! two replicas taking over at once one gets a conflict and stays a follower.
//! A leader that stops cleanly gives the lease up at once.

use super::{Engine, EngineError};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use std::time::{Duration, Instant};

/// The Lease the agents share, in the record namespace.
pub const LEASE_NAME: &str = "gitops-tui-agent";

/// What one look at the Lease found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Leader,
    /// Someone else holds it (their identity).
    Follower(String),
}

/// The record as last seen, and when this replica first saw it so.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observed {
    holder: String,
    renew: String,
    since: Instant,
}

/// What to do with the Lease as found, given what was seen before: the
/// decision of client-go's `tryAcquireOrRenew`, without the I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Create,
    /// Write ourselves in (renewing our own, or taking an expired or free one).
    Take {
        transition: bool,
    },
    Follow(String),
}

fn decide(
    me: &str,
    lease: Option<&Lease>,
    observed: Option<&Observed>,
    now: Instant,
    duration: Duration,
) -> Step {
    let Some(lease) = lease else {
        return Step::Create;
    };
    let spec = lease.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.unwrap_or_default();
    if holder == me {
        return Step::Take { transition: false };
    }
    if holder.is_empty() {
        return Step::Take { transition: true };
    }
    // Expired only if this replica has seen the same record for a whole
    // lease duration (its own clock, not the holder's renewTime).
    let renew = spec.renew_time.map(|t| t.0.to_string()).unwrap_or_default();
    let expired = observed.is_some_and(|o| {
        o.holder == holder && o.renew == renew && now.duration_since(o.since) >= duration
    });
    if expired {
        Step::Take { transition: true }
    } else {
        Step::Follow(holder)
    }
}

/// One replica's side of the election.
pub struct Elector {
    identity: String,
    namespace: String,
    duration: Duration,
    observed: Option<Observed>,
}

fn micro_now() -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::now())
}

impl Elector {
    pub fn new(identity: String, namespace: String, duration: Duration) -> Elector {
        Elector {
            identity,
            namespace,
            duration,
            observed: None,
        }
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// How often to look again: a third of the lease, as client-go's
    /// default renew deadline and retry period stand to its lease duration.
    pub fn retry_period(&self) -> Duration {
        (self.duration / 3).max(Duration::from_millis(200))
    }

    fn remember(&mut self, lease: &Lease, now: Instant) {
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.unwrap_or_default();
        let renew = spec.renew_time.map(|t| t.0.to_string()).unwrap_or_default();
        let same = self
            .observed
            .as_ref()
            .is_some_and(|o| o.holder == holder && o.renew == renew);
        if !same {
            self.observed = Some(Observed {
                holder,
                renew,
                since: now,
            });
        }
    }

    /// Acquires or renews the Lease if it may; says who leads.
    pub async fn try_lead(&mut self, engine: &Engine) -> Result<Role, EngineError> {
        let cluster = engine.home_cluster().await?;
        let api: Api<Lease> = Api::namespaced(cluster.client.clone(), &self.namespace);
        let now = Instant::now();
        let current = api.get_opt(LEASE_NAME).await.map_err(|e| {
            EngineError::Other(format!(
                "leader election: reading Lease {}/{LEASE_NAME}: {e}",
                self.namespace
            ))
        })?;
        if let Some(l) = &current {
            self.remember(l, now);
        }
        let seconds = i32::try_from(self.duration.as_secs().max(1)).unwrap_or(i32::MAX);
        match decide(
            &self.identity,
            current.as_ref(),
            self.observed.as_ref(),
            now,
            self.duration,
        ) {
            Step::Follow(holder) => Ok(Role::Follower(holder)),
            Step::Create => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(LEASE_NAME.into()),
                        namespace: Some(self.namespace.clone()),
                        ..Default::default()
                    },
                    spec: Some(LeaseSpec {
                        holder_identity: Some(self.identity.clone()),
                        lease_duration_seconds: Some(seconds),
                        acquire_time: Some(micro_now()),
                        renew_time: Some(micro_now()),
                        lease_transitions: Some(0),
                        ..Default::default()
                    }),
                };
                let mut created = api.create(&PostParams::default(), &lease).await;
                if matches!(&created, Err(kube::Error::Api(s)) if s.code == 404) {
                    // The record namespace does not exist yet (no sync ran).
                    self.ensure_namespace(&cluster.client).await?;
                    created = api.create(&PostParams::default(), &lease).await;
                }
                match created {
                    Ok(_) => Ok(Role::Leader),
                    // Another replica created it first.
                    Err(kube::Error::Api(s)) if s.code == 409 => {
                        Ok(Role::Follower("another replica".into()))
                    }
                    Err(e) => Err(EngineError::Other(format!(
                        "leader election: creating Lease {}/{LEASE_NAME}: {e}",
                        self.namespace
                    ))),
                }
            }
            Step::Take { transition } => {
                let Some(mut lease) = current else {
                    return Ok(Role::Follower("another replica".into()));
                };
                let mut spec = lease.spec.take().unwrap_or_default();
                if transition {
                    spec.acquire_time = Some(micro_now());
                    spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
                }
                spec.holder_identity = Some(self.identity.clone());
                spec.lease_duration_seconds = Some(seconds);
                spec.renew_time = Some(micro_now());
                lease.spec = Some(spec);
                // `replace` sends the resourceVersion read: a race is a 409.
                match api
                    .replace(LEASE_NAME, &PostParams::default(), &lease)
                    .await
                {
                    Ok(written) => {
                        self.remember(&written, Instant::now());
                        Ok(Role::Leader)
                    }
                    Err(kube::Error::Api(s)) if s.code == 409 => {
                        Ok(Role::Follower("another replica".into()))
                    }
                    Err(e) => Err(EngineError::Other(format!(
                        "leader election: updating Lease {}/{LEASE_NAME}: {e}",
                        self.namespace
                    ))),
                }
            }
        }
    }

    async fn ensure_namespace(&self, client: &kube::Client) -> Result<(), EngineError> {
        use k8s_openapi::api::core::v1::Namespace;
        use kube::api::{Patch, PatchParams};
        let api: Api<Namespace> = Api::all(client.clone());
        let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}});
        api.patch(
            &self.namespace,
            &PatchParams::apply(crate::model::FIELD_MANAGER).validation_strict(),
            &Patch::Apply(&ns),
        )
        .await
        .map(|_| ())
        .map_err(|e| {
            EngineError::Other(format!(
                "leader election: creating namespace {}: {e}",
                self.namespace
            ))
        })
    }

    /// Gives the Lease up (a clean stop), if this replica holds it, so the
    /// next takes over without waiting out the duration.
    pub async fn release(&mut self, engine: &Engine) {
        let Ok(cluster) = engine.home_cluster().await else {
            return;
        };
        let api: Api<Lease> = Api::namespaced(cluster.client.clone(), &self.namespace);
        let Ok(Some(mut lease)) = api.get_opt(LEASE_NAME).await else {
            return;
        };
        let mut spec = lease.spec.take().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return;
        }
        spec.holder_identity = Some(String::new());
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(micro_now());
        lease.spec = Some(spec);
        let _ = api
            .replace(LEASE_NAME, &PostParams::default(), &lease)
            .await;
    }
}

impl Engine {
    /// The cluster of the current context (in a pod: its own cluster), where
    /// the agents' Lease lives.
    pub async fn home_cluster(&self) -> Result<crate::cluster::Cluster, EngineError> {
        Ok(self.connector.cluster(None).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: &str, renew_secs: i64) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.into()),
                renew_time: Some(MicroTime(
                    k8s_openapi::jiff::Timestamp::from_second(renew_secs).expect("time"),
                )),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_missing_lease_is_created_and_ours_renewed() {
        let now = Instant::now();
        let d = Duration::from_secs(15);
        assert_eq!(decide("a", None, None, now, d), Step::Create);
        assert_eq!(
            decide("a", Some(&lease("a", 1)), None, now, d),
            Step::Take { transition: false }
        );
        assert_eq!(
            decide("a", Some(&lease("", 1)), None, now, d),
            Step::Take { transition: true }
        );
    }

    #[test]
    fn another_holder_is_followed_until_its_record_sat_unchanged_for_a_whole_duration() {
        let d = Duration::from_secs(15);
        let t0 = Instant::now();
        let l = lease("b", 100);
        let seen = Observed {
            holder: "b".into(),
            renew: l
                .spec
                .as_ref()
                .and_then(|s| s.renew_time.clone())
                .map(|t| t.0.to_string())
                .unwrap_or_default(),
            since: t0,
        };
        // First sight: never expired, however old renewTime is.
        assert_eq!(decide("a", Some(&l), None, t0, d), Step::Follow("b".into()));
        assert_eq!(
            decide("a", Some(&l), Some(&seen), t0 + Duration::from_secs(14), d),
            Step::Follow("b".into())
        );
        assert_eq!(
            decide("a", Some(&l), Some(&seen), t0 + d, d),
            Step::Take { transition: true }
        );
        // A renewal seen meanwhile starts the count again.
        let renewed = lease("b", 105);
        assert_eq!(
            decide("a", Some(&renewed), Some(&seen), t0 + d, d),
            Step::Follow("b".into())
        );
    }
}
