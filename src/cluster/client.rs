//! Clients per kubeconfig context, built with kube-rs's own config loading
//! (KUBECONFIG, exec plugins, tokens, client certificates) and bounded
//! timeouts, so an unreachable cluster fails fast with its URL named.

use super::ClusterError;
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::Mutex;

#[derive(Debug, Clone, Default)]
pub struct KubeOptions {
    /// `--kubeconfig`: else KUBECONFIG or ~/.kube/config.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`: overrides every app's context for the whole run.
    pub context: Option<String>,
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
    clients: Mutex<HashMap<String, Cluster>>,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_secs(12);
const WATCH_READ_TIMEOUT: Duration = Duration::from_secs(300);

/// Two clients from one config: short reads for requests, long for watches.
fn build_clients(mut config: kube::Config) -> Result<(kube::Client, kube::Client), kube::Error> {
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.write_timeout = Some(READ_TIMEOUT);
    let mut watch_config = config.clone();
    watch_config.read_timeout = Some(WATCH_READ_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    Ok((
        kube::Client::try_from(config)?,
        kube::Client::try_from(watch_config)?,
    ))
}

impl ClusterConnector {
    pub fn new(options: KubeOptions) -> Self {
        ClusterConnector {
            options,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn kubeconfig(&self) -> Result<Kubeconfig, ClusterError> {
        let kc = match &self.options.kubeconfig {
            Some(path) => Kubeconfig::read_from(path)
                .map_err(|e| ClusterError::Kubeconfig(format!("{}: {e}", path.display())))?,
            None => Kubeconfig::read().map_err(|e| ClusterError::Kubeconfig(e.to_string()))?,
        };
        Ok(kc)
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
        let (client, watch_client) = build_clients(config)
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
        let config = kube::Config::incluster().map_err(|e| err(&e))?;
        let url = config.cluster_url.to_string();
        let (client, watch_client) = build_clients(config).map_err(|e| err(&e))?;
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
