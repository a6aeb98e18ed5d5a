//! Clients per kubeconfig context, built with kube-rs's own config loading
//! (KUBECONFIG, exec plugins, tokens, client certificates) and bounded
//! timeouts, so an unreachable cluster fails fast with its URL named. The
//! request client retries within the run's deadline (`transport.rs`).

use super::retry::{RetryPolicy, RetryProgressSink};
use super::{transport, ClusterError};
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

#[derive(Debug, Clone, Default)]
pub struct KubeOptions {
    /// `--kubeconfig`: else KUBECONFIG or ~/.kube/config.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`: overrides every app's context for the whole run.
    pub context: Option<String>,
}

impl KubeOptions {
    /// An explicit `--kubeconfig` must be a readable kubeconfig: checked
    /// before any verb runs, so no verb reports "Unknown" and exits 0 over
    /// a file that is not there.
    pub fn check(&self) -> Result<(), ClusterError> {
        match &self.kubeconfig {
            Some(path) => read_kubeconfig(path).map(|_| ()),
            None => Ok(()),
        }
    }
}

fn read_kubeconfig(path: &std::path::Path) -> Result<Kubeconfig, ClusterError> {
    if let Err(e) = std::fs::metadata(path) {
        return Err(ClusterError::Kubeconfig(format!(
            "cannot read {}: {e}",
            path.display()
        )));
    }
    Kubeconfig::read_from(path)
        .map_err(|e| ClusterError::Kubeconfig(format!("{}: {e}", path.display())))
}

/// A connected cluster: its clients and where it is.
#[derive(Clone)]
pub struct Cluster {
    /// For requests: a bounded read timeout, so a hung server fails fast.
    pub client: kube::Client,
    /// For watches, which stay quiet for minutes: a read timeout above the
    /// server-side watch timeout (kube-runtime asks for 290 s).
    pub watch_client: kube::Client,
    pub context: String,
    pub url: String,
}

pub struct ClusterConnector {
    options: KubeOptions,
    retry: Arc<RetryPolicy>,
    clients: Mutex<HashMap<String, Cluster>>,
    /// The kubeconfig as last parsed, with the files' stamp it was read at:
    /// parsed again only when a file changed (a fleet's kubeconfig of 100
    /// contexts was parsed once per context connected, 5% of `status`).
    parsed: std::sync::Mutex<Option<(Vec<FileStamp>, Kubeconfig)>>,
}

/// A kubeconfig file's path, modification time and length (None: absent).
type FileStamp = (std::path::PathBuf, Option<(std::time::SystemTime, u64)>);

/// The files a kubeconfig is read from: the one given, else `KUBECONFIG`'s
/// list, else `~/.kube/config`, as kube-rs reads them.
fn kubeconfig_files(given: Option<&std::path::Path>) -> Vec<std::path::PathBuf> {
    if let Some(p) = given {
        return vec![p.to_path_buf()];
    }
    match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) => std::env::split_paths(&list).collect(),
        None => std::env::var_os("HOME")
            .map(|h| std::path::PathBuf::from(h).join(".kube").join("config"))
            .into_iter()
            .collect(),
    }
}

fn stamp(files: Vec<std::path::PathBuf>) -> Vec<FileStamp> {
    files
        .into_iter()
        .map(|p| {
            let meta = std::fs::metadata(&p)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())));
            (p, meta)
        })
        .collect()
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_secs(12);
const WATCH_READ_TIMEOUT: Duration = Duration::from_secs(300);

/// Two clients from one config: short reads for requests, retried within
/// `retry`'s deadline; long reads for watches, which kube-runtime's watcher
/// retries with its own backoff.
fn build_clients(
    mut config: kube::Config,
    retry: &Arc<RetryPolicy>,
) -> Result<(kube::Client, kube::Client), kube::Error> {
    // One connection pool per context, HTTP/2 where the server speaks it,
    // bounded (see `stack.rs`); kube's own stack only behind a proxy.
    if let Some(clients) =
        super::stack::build(&config, CONNECT_TIMEOUT, READ_TIMEOUT, WATCH_READ_TIMEOUT)?
    {
        return Ok((
            transport::retrying(clients.requests, retry.clone()),
            clients.watches,
        ));
    }
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.write_timeout = Some(READ_TIMEOUT);
    let mut watch_config = config.clone();
    watch_config.read_timeout = Some(WATCH_READ_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    // kube's own retry layer waits out 429s silently, 15 times, with no
    // deadline (minutes against an endlessly busy server): ours replaces it.
    config.default_retry = false;
    Ok((
        transport::retrying(kube::Client::try_from(config)?, retry.clone()),
        kube::Client::try_from(watch_config)?,
    ))
}

impl ClusterConnector {
    pub fn new(options: KubeOptions) -> Self {
        ClusterConnector {
            options,
            retry: Arc::new(RetryPolicy::default()),
            clients: Mutex::new(HashMap::new()),
            parsed: std::sync::Mutex::new(None),
        }
    }

    /// Requests of clients made from now on retry within `deadline`.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        Arc::make_mut(&mut self.retry).deadline = deadline;
        self
    }

    /// Every wait before a retry is also told to `sink` (the CLI prints it).
    pub fn with_retry_progress(mut self, sink: RetryProgressSink) -> Self {
        Arc::make_mut(&mut self.retry).progress = Some(sink);
        self
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Whether there is any way to a cluster: a kubeconfig that reads, or a
    /// pod's service account (no kubeconfig at all is a first run's state).
    pub fn configured(&self) -> bool {
        self.kubeconfig().is_ok() || std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
    }

    fn kubeconfig(&self) -> Result<Kubeconfig, ClusterError> {
        let now = stamp(kubeconfig_files(self.options.kubeconfig.as_deref()));
        let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, kc)) = parsed.as_ref() {
            if *at == now && now.iter().all(|(_, m)| m.is_some()) {
                return Ok(kc.clone());
            }
        }
        let kc = match &self.options.kubeconfig {
            Some(path) => read_kubeconfig(path)?,
            None => Kubeconfig::read().map_err(|e| ClusterError::Kubeconfig(e.to_string()))?,
        };
        *parsed = Some((now, kc.clone()));
        Ok(kc)
    }

    /// Every context of the kubeconfig, in its order (`--all-contexts`).
    pub fn contexts(&self) -> Result<Vec<String>, ClusterError> {
        Ok(self
            .kubeconfig()?
            .contexts
            .into_iter()
            .map(|c| c.name)
            .collect())
    }

    /// The context an app with `app_context` uses in this run.
    pub fn effective_context(&self, app_context: Option<&str>) -> Result<String, ClusterError> {
        if let Some(c) = &self.options.context {
            return Ok(c.clone());
        }
        if let Some(c) = app_context {
            return Ok(c.to_string());
        }
        self.kubeconfig()?.current_context.ok_or_else(|| {
            ClusterError::Kubeconfig(
                "no current-context is set and the app names no context".into(),
            )
        })
    }

    pub async fn cluster(&self, app_context: Option<&str>) -> Result<Cluster, ClusterError> {
        // A named context already connected: no kubeconfig read at all (a
        // status asks once per app; at 500 contexts each read cost a copy
        // of the whole kubeconfig).
        if let Some(named) = self.options.context.as_deref().or(app_context) {
            if let Some(c) = self.clients.lock().await.get(named) {
                return Ok(c.clone());
            }
        }
        // Inside a pod (the agent's Deployment) there is no kubeconfig: use
        // the service account, unless a kubeconfig or context was asked for.
        if self.options.kubeconfig.is_none()
            && self.kubeconfig().is_err()
            && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        {
            return self.in_cluster().await;
        }
        let context = self.effective_context(app_context)?;
        let mut clients = self.clients.lock().await;
        if let Some(c) = clients.get(&context) {
            return Ok(c.clone());
        }
        let kc = self.kubeconfig()?;
        let opts = KubeConfigOptions {
            context: Some(context.clone()),
            ..Default::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kc, &opts)
            .await
            .map_err(|e| ClusterError::Kubeconfig(format!("context {context}: {e}")))?;
        let url = config.cluster_url.to_string();
        let (client, watch_client) = build_clients(config, &self.retry)
            .map_err(|e| ClusterError::Kubeconfig(format!("context {context}: {e}")))?;
        let cluster = Cluster {
            client,
            watch_client,
            context: context.clone(),
            url,
        };
        clients.insert(context, cluster.clone());
        Ok(cluster)
    }

    async fn in_cluster(&self) -> Result<Cluster, ClusterError> {
        const CONTEXT: &str = "in-cluster";
        let mut clients = self.clients.lock().await;
        if let Some(c) = clients.get(CONTEXT) {
            return Ok(c.clone());
        }
        let err =
            |e: &dyn std::fmt::Display| ClusterError::Kubeconfig(format!("in-cluster config: {e}"));
        let config = super::in_cluster::config().await.map_err(|e| err(&e))?;
        let url = config.cluster_url.to_string();
        let (client, watch_client) = build_clients(config, &self.retry).map_err(|e| err(&e))?;
        let cluster = Cluster {
            client,
            watch_client,
            context: CONTEXT.into(),
            url,
        };
        clients.insert(CONTEXT.into(), cluster.clone());
        Ok(cluster)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubeconfig(current: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {current}\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:1'}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: one\n  context: {{cluster: c, user: u}}\n- name: second\n  context: {{cluster: c, user: u}}\n"
        )
    }

    #[test]
    fn the_kubeconfig_is_parsed_again_only_when_its_file_changed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, kubeconfig("one")).expect("write");
        let c = ClusterConnector::new(KubeOptions {
            kubeconfig: Some(path.clone()),
            context: None,
        });
        assert_eq!(c.effective_context(None).expect("context"), "one");
        assert!(c.parsed.lock().expect("lock").is_some(), "kept");
        // `kubectl config use-context second`: seen at once.
        std::fs::write(&path, kubeconfig("second")).expect("write");
        assert_eq!(c.effective_context(None).expect("context"), "second");
        assert_eq!(c.contexts().expect("contexts"), ["one", "second"]);
        // Gone: an error, not the kept copy.
        std::fs::remove_file(&path).expect("remove");
        assert!(c.effective_context(None).is_err());
    }
}
