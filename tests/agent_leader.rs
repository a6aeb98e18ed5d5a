//! The agent as a Deployment runs it: two replicas on one app set, only the
//! holder of the `coordination.k8s.io` Lease acts, the other takes over when
//! the first is killed; each serves `/metrics`, `/healthz` and `/readyz`.

mod common;

use common::{Fixture, CONFIGMAP};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
[agent]
interval = "1s"
lease_duration = "2s"

[[apps]]
name = "shop"
repo = "repo"
path = "apps/shop"
namespace = "shop"
create_namespace = true
auto_sync = true
"#;

/// One `gitops-tui agent` process, its stdout and stderr lines as they come.
struct Agent {
    child: Child,
    out: mpsc::Receiver<String>,
    err: mpsc::Receiver<String>,
    seen_err: Vec<String>,
}

fn lines(r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Agent {
    fn start(f: &Fixture) -> Agent {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gitops-tui"))
            .arg("--config")
            .arg(&f.config)
            .arg("--kubeconfig")
            .arg(&f.kubeconfig)
            .args(["agent", "-o", "json", "--metrics-addr", "127.0.0.1:0"])
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("agent starts");
        let out = lines(child.stdout.take().expect("stdout"));
        let err = lines(child.stderr.take().expect("stderr"));
        Agent {
            child,
            out,
            err,
            seen_err: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `needle`.
    fn stderr_line(&mut self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.err.recv_timeout(left) {
                Ok(line) => {
                    self.seen_err.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no stderr line with {needle:?}; saw {:?}", self.seen_err);
    }

    /// The next action printed on stdout, if one comes within `within`.
    fn action(&self, within: Duration) -> Option<serde_json::Value> {
        self.out
            .recv_timeout(within)
            .ok()
            .map(|l| serde_json::from_str(&l).expect("a JSON action line"))
    }

    fn metrics_addr(&mut self) -> String {
        let line = self.stderr_line("metrics listening on ", Duration::from_secs(20));
        line.rsplit(' ').next().expect("an address").to_string()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 GET: (status code, body).
fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

fn shop_v(version: &str) -> String {
    CONFIGMAP.replace("color: blue", &format!("color: {version}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_leader_acts_and_a_follower_takes_over_when_it_dies() {
    let f = Fixture::new(CONFIG).await;
    assert!(
        CONFIGMAP.contains("color: blue"),
        "the fixture this test edits"
    );
    f.commit(&[("apps/shop/config.yaml", Some(CONFIGMAP))], "shop: v1");

    let mut a = Agent::start(&f);
    let a_metrics = a.metrics_addr();
    a.stderr_line("leading: ", Duration::from_secs(20));
    let first = a
        .action(Duration::from_secs(20))
        .expect("the leader syncs the app");
    assert_eq!(first["action"], "synced", "{first}");

    let mut b = Agent::start(&f);
    let b_metrics = b.metrics_addr();
    let waiting = b.stderr_line(
        "waiting: the agent Lease is held by",
        Duration::from_secs(20),
    );
    assert!(waiting.contains(&format!("_{}", a.child.id())), "{waiting}");

    // A new commit: the leader syncs it, the follower does nothing.
    f.commit(
        &[("apps/shop/config.yaml", Some(&shop_v("v2")))],
        "shop: v2",
    );
    let second = a
        .action(Duration::from_secs(20))
        .expect("the leader syncs v2");
    assert_eq!(second["action"], "synced", "{second}");
    assert!(
        b.action(Duration::from_secs(3)).is_none(),
        "the follower acted"
    );
    assert_eq!(f.cm_data("shop", "settings", "color"), "v2");

    // Metrics, health and readiness of both.
    let (code, text) = http_get(&a_metrics, "/metrics");
    assert_eq!(code, 200);
    assert!(text.contains("gitops_tui_agent_leader 1"), "{text}");
    assert!(
        text.contains("gitops_tui_agent_syncs_total{app=\"shop\",result=\"synced\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("gitops_tui_app_drift_resources{app=\"shop\"}"),
        "{text}"
    );
    assert!(
        text.contains("gitops_tui_sync_duration_seconds_count 2"),
        "{text}"
    );
    let (code, text) = http_get(&b_metrics, "/metrics");
    assert_eq!(code, 200);
    assert!(text.contains("gitops_tui_agent_leader 0"), "{text}");
    assert_eq!(http_get(&b_metrics, "/healthz"), (200, "ok".into()));
    assert_eq!(http_get(&b_metrics, "/readyz").0, 200);

    // The leader dies without releasing the Lease: the follower waits out
    // the lease duration, takes over and syncs the next commit.
    let _ = a.child.kill();
    let _ = a.child.wait();
    f.commit(
        &[("apps/shop/config.yaml", Some(&shop_v("v3")))],
        "shop: v3",
    );
    b.stderr_line("leading: ", Duration::from_secs(20));
    let third = b
        .action(Duration::from_secs(20))
        .expect("the new leader syncs v3");
    assert_eq!(third["action"], "synced", "{third}");
    assert_eq!(f.cm_data("shop", "settings", "color"), "v3");
    let lease = f.kubectl_ok(&[
        "get",
        "lease",
        "gitops-tui-agent",
        "-n",
        "gitops-tui",
        "-o",
        "jsonpath={.spec.holderIdentity} {.spec.leaseTransitions}",
    ]);
    assert_eq!(
        lease,
        format!("{}_{} 1", gitops_tui::engine::this_host(), b.child.id())
    );
}

/// Inside a pod there is no kubeconfig: the agent finds the API server in
/// `KUBERNETES_SERVICE_HOST`/`_PORT` and authenticates with the service
/// account's token and CA (a folder here, as the kubelet mounts it).
#[tokio::test(flavor = "multi_thread")]
async fn in_a_pod_the_agent_uses_its_service_account() {
    use base64::Engine as _;
    let f = common::Fixture::with_tls(CONFIG, true).await;
    f.commit(&[("apps/shop/config.yaml", Some(CONFIGMAP))], "shop: v1");
    let sa = f.dir.path().join("serviceaccount");
    std::fs::create_dir_all(&sa).expect("dir");
    let kc: serde_json::Value = serde_yaml::from_str(f.sim.kubeconfig()).expect("kubeconfig");
    let ca = kc["clusters"][0]["cluster"]["certificate-authority-data"]
        .as_str()
        .expect("the CA");
    let ca = base64::engine::general_purpose::STANDARD
        .decode(ca)
        .expect("base64");
    std::fs::write(sa.join("ca.crt"), ca).expect("ca");
    std::fs::write(sa.join("token"), f.sim.token().expect("a token over https")).expect("token");
    std::fs::write(sa.join("namespace"), "gitops-tui").expect("namespace");
    let (host, port) = f
        .sim
        .url()
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .rsplit_once(':')
        .expect("https://HOST:PORT");
    let run = |token_dir: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_gitops-tui"))
            .arg("--config")
            .arg(&f.config)
            .args(["agent", "--once", "-o", "json"])
            .env("KUBERNETES_SERVICE_HOST", host)
            .env("KUBERNETES_SERVICE_PORT", port)
            .env("GITOPS_TUI_SERVICEACCOUNT_DIR", token_dir)
            .env("KUBECONFIG", f.dir.path().join("no-such-kubeconfig"))
            .env("HOME", f.dir.path())
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .output()
            .expect("agent runs")
    };
    let out = run(&sa);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let action: serde_json::Value =
        serde_json::from_str(stdout.lines().next().expect("an action")).expect("JSON");
    assert_eq!(action["action"], "synced", "{action}");
    assert_eq!(f.cm_data("shop", "settings", "color"), "blue");
    // A token the server does not know is refused, and the agent says so.
    let bad = f.dir.path().join("bad-sa");
    std::fs::create_dir_all(&bad).expect("dir");
    std::fs::copy(sa.join("ca.crt"), bad.join("ca.crt")).expect("ca");
    std::fs::write(bad.join("token"), "not-a-token").expect("token");
    let out = run(&bad);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        text.contains("\"failed\"") && text.contains("Unauthorized"),
        "{text}"
    );
}
