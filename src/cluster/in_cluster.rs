//! The agent's configuration inside a pod: the API server from
//! `KUBERNETES_SERVICE_HOST`/`_PORT`, the service account's token, CA and
//! namespace from its mounted folder (`/var/run/secrets/kubernetes.io/
//! serviceaccount`, or `GITOPS_TUI_SERVICEACCOUNT_DIR` for other mounts).
//!
//! It goes through the same kubeconfig path as every other cluster (an
//! in-memory kubeconfig naming the token *file*, so kube-rs re-reads the
//! token as the kubelet rotates it), which is also what makes the in-cluster
//! path testable outside a pod: a folder with those three files and the two
//! variables are all it reads.

use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::{Path, PathBuf};

/// Where Kubernetes mounts a pod's service account.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

fn service_account_dir() -> PathBuf {
    std::env::var_os("GITOPS_TUI_SERVICEACCOUNT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(SERVICE_ACCOUNT_DIR))
}

/// `https://HOST:PORT`, an IPv6 host in brackets.
fn server_url(host: &str, port: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("https://[{host}]:{port}")
    } else {
        format!("https://{host}:{port}")
    }
}

fn kubeconfig(server: String, dir: &Path) -> Result<Kubeconfig, String> {
    const NAME: &str = "in-cluster";
    let namespace = std::fs::read_to_string(dir.join("namespace"))
        .ok()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let mut context = serde_json::json!({"cluster": NAME, "user": NAME});
    if let Some(ns) = namespace {
        context["namespace"] = serde_json::json!(ns);
    }
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": NAME, "cluster": {
            "server": server,
            "certificate-authority": dir.join("ca.crt"),
        }}],
        "users": [{"name": NAME, "user": {"tokenFile": dir.join("token")}}],
        "contexts": [{"name": NAME, "context": context}],
        "current-context": NAME,
    }))
    .map_err(|e| e.to_string())
}

/// The in-cluster configuration, or why there is none.
pub async fn config() -> Result<kube::Config, String> {
    let host = std::env::var("KUBERNETES_SERVICE_HOST")
        .map_err(|_| "KUBERNETES_SERVICE_HOST is not set".to_string())?;
    let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
    let dir = service_account_dir();
    for file in ["token", "ca.crt"] {
        if !dir.join(file).is_file() {
            return Err(format!("no service account {file} in {}", dir.display()));
        }
    }
    kube::Config::from_custom_kubeconfig(
        kubeconfig(server_url(&host, &port), &dir)?,
        &KubeConfigOptions::default(),
    )
    .await
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_url_brackets_ipv6() {
        assert_eq!(server_url("10.0.0.1", "443"), "https://10.0.0.1:443");
        assert_eq!(server_url("fd00::1", "6443"), "https://[fd00::1]:6443");
    }

    #[test]
    fn the_kubeconfig_names_the_token_file_and_ca_of_the_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("namespace"), "agents\n").expect("ns");
        let kc = kubeconfig("https://10.0.0.1:443".into(), dir.path()).expect("kubeconfig");
        let user = kc.auth_infos[0].auth_info.as_ref().expect("user");
        assert_eq!(
            user.token_file.as_deref(),
            Some(dir.path().join("token").to_string_lossy().as_ref())
        );
        let ctx = kc.contexts[0].context.as_ref().expect("context");
        assert_eq!(ctx.namespace.as_deref(), Some("agents"));
    }
}
