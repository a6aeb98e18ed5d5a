//! Which containers' logs an app's `logs` verb reads, and the reads
//! themselves, in the app's cluster. The choices follow kubectl (see
//! `cluster::logs`): `pod/NAME` reads that pod; a workload reads the one pod
//! `kubectl logs KIND/NAME` would; no object at all reads every pod of the
//! app's first workload, as `kubectl logs -l SELECTOR --prefix` does.

use super::{Engine, EngineError};
use crate::cluster::logs::{self, LogLines, LogRequest};
use crate::cluster::ClusterError;
use crate::model::{AppId, LiveObject};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// The kinds whose logs can be read: a Pod, or a workload through its pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
}

impl LogKind {
    pub fn kind(self) -> &'static str {
        match self {
            LogKind::Pod => "Pod",
            LogKind::Deployment => "Deployment",
            LogKind::StatefulSet => "StatefulSet",
            LogKind::DaemonSet => "DaemonSet",
            LogKind::ReplicaSet => "ReplicaSet",
            LogKind::Job => "Job",
        }
    }

    fn of_kind(kind: &str) -> Option<LogKind> {
        [
            LogKind::Pod,
            LogKind::Deployment,
            LogKind::StatefulSet,
            LogKind::DaemonSet,
            LogKind::ReplicaSet,
            LogKind::Job,
        ]
        .into_iter()
        .find(|k| k.kind() == kind)
    }
}

/// `KIND/NAME` as kubectl spells it (`pod/web-1`, `deploy/web`, `sts/db`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogObject {
    pub kind: LogKind,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?}: expected KIND/NAME with KIND one of pod, deployment, statefulset, daemonset, replicaset, job")]
pub struct LogObjectError(String);

impl FromStr for LogObject {
    type Err = LogObjectError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || LogObjectError(s.to_string());
        let (kind, name) = s.split_once('/').ok_or_else(bad)?;
        let kind = match kind.to_ascii_lowercase().as_str() {
            "pod" | "pods" | "po" => LogKind::Pod,
            "deployment" | "deployments" | "deploy" => LogKind::Deployment,
            "statefulset" | "statefulsets" | "sts" => LogKind::StatefulSet,
            "daemonset" | "daemonsets" | "ds" => LogKind::DaemonSet,
            "replicaset" | "replicasets" | "rs" => LogKind::ReplicaSet,
            "job" | "jobs" => LogKind::Job,
            _ => return Err(bad()),
        };
        if name.is_empty() || name.contains('/') {
            return Err(bad());
        }
        Ok(LogObject {
            kind,
            name: name.to_string(),
        })
    }
}

impl fmt::Display for LogObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind.kind().to_ascii_lowercase(), self.name)
    }
}

/// One container to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSource {
    pub pod: String,
    pub container: String,
}

/// What a `logs` call reads: where, which containers, and what kubectl
/// would have said on stderr about its choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPlan {
    pub namespace: String,
    pub sources: Vec<LogSource>,
    /// Lines for stderr (`Found 3 pods, using pod/web-1`, a defaulted container).
    pub notes: Vec<String>,
    /// Several pods by selector: each line says whose it is.
    pub by_selector: bool,
}

impl Engine {
    /// The containers `logs APP [KIND/NAME] [-c C]` reads.
    pub async fn log_plan(
        &self,
        app: &AppId,
        object: Option<&LogObject>,
        container: Option<&str>,
    ) -> Result<LogPlan, EngineError> {
        let status = self.status(app).await?;
        // A Flux or Argo CD app has no namespace of its own: its objects'.
        let default_ns = if app.is_native() {
            self.app(app)?.namespace.clone()
        } else {
            status
                .resources
                .iter()
                .find_map(|r| r.key.namespace.clone())
                .unwrap_or_else(|| app.namespace.clone())
        };
        let Some(o) = object else {
            let first = status
                .resources
                .iter()
                .find(|r| {
                    LogKind::of_kind(&r.key.kind).is_some_and(|k| k != LogKind::Pod)
                        && matches!(r.key.group.as_str(), "apps" | "batch")
                })
                .ok_or_else(|| {
                    EngineError::Other(format!(
                        "app {app} has no Deployment, StatefulSet, DaemonSet, ReplicaSet or Job to read logs of; name a pod (pod/NAME)"
                    ))
                })?;
            let ns = first.key.namespace.clone().unwrap_or(default_ns);
            let o = LogObject {
                kind: LogKind::of_kind(&first.key.kind).unwrap_or(LogKind::Deployment),
                name: first.key.name.clone(),
            };
            let live = first.live.as_ref().map(LiveObject::value).ok_or_else(|| {
                EngineError::Other(format!("{o} of app {app} is not in the cluster"))
            })?;
            let pods = self.selected_pods(app, &ns, &live, &o).await?;
            return plan_for(ns, &pods, true, vec![], container);
        };
        let known = status
            .resources
            .iter()
            .find(|r| r.key.kind == o.kind.kind() && r.key.name == o.name);
        let ns = known
            .and_then(|r| r.key.namespace.clone())
            .unwrap_or(default_ns);
        if o.kind == LogKind::Pod {
            let pod = self.pod(app, &ns, &o.name).await?.ok_or_else(|| {
                EngineError::Other(format!("pods \"{}\" not found in {ns}", o.name))
            })?;
            return plan_for(ns, &[pod], false, vec![], container);
        }
        let live = match known.and_then(|r| r.live.as_ref()).map(LiveObject::value) {
            Some(l) => l,
            None => self.workload(app, &ns, o).await?,
        };
        let pods = self.selected_pods(app, &ns, &live, o).await?;
        let chosen = logs::pod_for_logging(&pods).cloned();
        let mut notes = vec![];
        if let (true, Some(p)) = (pods.len() > 1, &chosen) {
            notes.push(format!(
                "Found {} pods, using pod/{}",
                pods.len(),
                logs::name_of(p)
            ));
        }
        plan_for(
            ns,
            &chosen.into_iter().collect::<Vec<_>>(),
            false,
            notes,
            container,
        )
    }

    async fn selected_pods(
        &self,
        app: &AppId,
        ns: &str,
        live: &Value,
        o: &LogObject,
    ) -> Result<Vec<Value>, EngineError> {
        let cluster = self.cluster_of(app).await?;
        let selector = logs::selector_of(live)
            .ok_or_else(|| EngineError::Other(format!("{o} has no selector to find pods by")))?;
        let pods = logs::pods(&cluster.client, &cluster.url, ns, &selector).await?;
        if pods.is_empty() {
            return Err(EngineError::Other(format!(
                "no pods found for {o} in {ns} (selector {selector})"
            )));
        }
        Ok(pods)
    }

    async fn workload(&self, app: &AppId, ns: &str, o: &LogObject) -> Result<Value, EngineError> {
        let cluster = self.cluster_of(app).await?;
        let group = if o.kind == LogKind::Job {
            "batch/v1"
        } else {
            "apps/v1"
        };
        let kind = self
            .kinds
            .resolve(&cluster.client, &cluster.url, group, o.kind.kind())
            .await?;
        crate::cluster::get(&cluster.client, &cluster.url, &kind, Some(ns), &o.name)
            .await?
            .ok_or_else(|| EngineError::Other(format!("{o} not found in {ns}")))
    }

    /// A pod of the app's cluster, None when it is gone.
    pub async fn pod(
        &self,
        app: &AppId,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, EngineError> {
        let cluster = self.cluster_of(app).await?;
        let kind = self
            .kinds
            .resolve(&cluster.client, &cluster.url, "v1", "Pod")
            .await?;
        Ok(
            crate::cluster::get(&cluster.client, &cluster.url, &kind, Some(namespace), name)
                .await?,
        )
    }

    /// Open one log read in the app's cluster. A followed log goes over the
    /// watch client, whose reads may stay quiet for minutes.
    pub async fn log_lines(&self, app: &AppId, req: &LogRequest) -> Result<LogLines, EngineError> {
        let cluster = self.cluster_of(app).await?;
        let client = if req.follow {
            &cluster.watch_client
        } else {
            &cluster.client
        };
        logs::open(client, &cluster.url, req)
            .await
            .map_err(|e: ClusterError| e.into())
    }
}

/// One source per pod: the container named (checked against a pod named
/// alone; by selector kubectl asks the server, which says which pods lack it),
/// else kubectl's default container.
fn plan_for(
    namespace: String,
    pods: &[Value],
    by_selector: bool,
    mut notes: Vec<String>,
    container: Option<&str>,
) -> Result<LogPlan, EngineError> {
    let mut sources = vec![];
    for pod in pods {
        let name = logs::name_of(pod).to_string();
        let container = match container {
            Some(c) => {
                if !by_selector && !logs::containers(pod).iter().any(|n| n == c) {
                    return Err(EngineError::Other(format!(
                        "container {c} is not valid for pod {name}"
                    )));
                }
                c.to_string()
            }
            None => match logs::default_container(pod) {
                Some((c, note)) => {
                    notes.extend(note);
                    c
                }
                None => return Err(EngineError::Other(format!("pod {name} has no containers"))),
            },
        };
        sources.push(LogSource {
            pod: name,
            container,
        });
    }
    Ok(LogPlan {
        namespace,
        sources,
        notes,
        by_selector,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_parse_as_kubectl_spells_them() {
        let o: LogObject = "deploy/web".parse().expect("valid");
        assert_eq!(o.kind, LogKind::Deployment);
        assert_eq!(o.to_string(), "deployment/web");
        assert_eq!(
            "sts/db".parse::<LogObject>().map(|o| o.kind),
            Ok(LogKind::StatefulSet)
        );
        assert!("web".parse::<LogObject>().is_err());
        assert!("service/web".parse::<LogObject>().is_err());
        assert!("pod/".parse::<LogObject>().is_err());
    }
}
