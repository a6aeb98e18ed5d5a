//! The agent's in-cluster manifests are valid: kubectl applies them to
//! kube-sim, and the config embedded in them parses.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn agent_manifests_apply_and_their_config_parses() {
    let f = Fixture::new("").await;
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/deploy/agent.yaml");
    let out = f.kubectl_ok(&["apply", "--server-side", "-f", manifest]);
    assert!(
        out.contains("deployment.apps/gitops-tui-agent serverside-applied"),
        "{out}"
    );
    assert!(
        out.contains(
            "clusterrolebinding.rbac.authorization.k8s.io/gitops-tui-agent serverside-applied"
        ),
        "{out}"
    );
    let text = std::fs::read_to_string(manifest).expect("read");
    let config = text
        .split("config.toml: |\n")
        .nth(1)
        .and_then(|rest| rest.split("\n---").next())
        .expect("embedded config");
    let config: String = config
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let parsed = gitops_tui::config::Config::parse(&config, std::path::Path::new("agent.yaml"))
        .expect("config parses");
    assert_eq!(parsed.apps.len(), 1);
    assert!(parsed.apps[0].is_remote());
}
