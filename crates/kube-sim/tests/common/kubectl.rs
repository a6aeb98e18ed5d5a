//! Helpers for the real-kubectl acceptance tests: one kube-sim per test, its
//! kubeconfig and a fresh discovery cache in a tempdir, and the real `kubectl`
//! run as a child process.

use kube_sim::{KubeSim, Options};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The versions the acceptance list asks for besides the default (1.32).
pub const OLDEST: u32 = 27;
pub const NEWEST: u32 = 33;

/// How long any single kubectl call may take before the test fails.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// stdout and stderr together, for messages kubectl may print on either.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "kubectl failed:\n{self}");
        self
    }

    #[track_caller]
    pub fn failed_with(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code:\n{self}");
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{self}"
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{self}"
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self}"))
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub struct Env {
    pub sim: KubeSim,
    pub dir: TempDir,
    pub kubeconfig: PathBuf,
    cache: PathBuf,
    pub minor: u32,
}

impl Env {
    /// A plain-http kube-sim reporting `1.<minor>` (so the kubectl dispatcher
    /// runs `kubectl.1.<minor>`), with workloads ready after 300 ms.
    pub async fn start(minor: u32) -> Env {
        Env::with(Options {
            kube_minor: minor,
            ready_after: Duration::from_millis(300),
            ..Options::default()
        })
        .await
    }

    pub async fn with(opts: Options) -> Env {
        let minor = opts.kube_minor;
        let sim = KubeSim::start(opts).await.expect("kube-sim starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig)
            .expect("kubeconfig written");
        let cache = dir.path().join("cache");
        std::fs::create_dir_all(&cache).expect("cache dir");
        Env {
            sim,
            dir,
            kubeconfig,
            cache,
            minor,
        }
    }

    /// Write `contents` to a file in the test's tempdir and return its path.
    pub fn file(&self, name: &str, contents: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).expect("manifest written");
        p.to_string_lossy().into_owned()
    }

    /// The kubectl command line with this test's kubeconfig and cache.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        self.command_with(&self.kubeconfig, args)
    }

    pub fn command_with(&self, kubeconfig: &Path, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("kubectl");
        cmd.arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args)
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// `kubectl apply --server-side` of `yaml` written to `name`; must succeed.
    pub async fn apply(&self, name: &str, yaml: &str) {
        let f = self.file(name, yaml);
        self.kubectl(&["apply", "--server-side", "-f", &f])
            .await
            .ok();
    }

    pub async fn kubectl(&self, args: &[&str]) -> Out {
        run(self.command(args)).await
    }

    pub async fn kubectl_with(&self, kubeconfig: &Path, args: &[&str]) -> Out {
        run(self.command_with(kubeconfig, args)).await
    }

    /// `kubectl get <what> -o json` parsed.
    pub async fn get_json(&self, what: &[&str]) -> serde_json::Value {
        let mut args = vec!["get"];
        args.extend_from_slice(what);
        args.extend_from_slice(&["-o", "json"]);
        let out = self.kubectl(&args).await;
        out.ok();
        out.json()
    }
}

pub async fn run(mut cmd: tokio::process::Command) -> Out {
    let child = cmd.spawn().expect("kubectl runs (is it on PATH?)");
    let output = tokio::time::timeout(KUBECTL_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("kubectl did not finish in {KUBECTL_TIMEOUT:?}: {cmd:?}"))
        .expect("kubectl output");
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Poll `check` every 100 ms until it returns true or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub const DEPLOY: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels:
    app: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
"#;

/// [`DEPLOY`] with another image.
pub fn deploy_with_image(image: &str) -> String {
    DEPLOY.replace("nginx:1.25", image)
}

pub const CM_X: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: x
  labels:
    app: web
data:
  a: "1"
  b: "2"
"#;

/// Reads lines of a background kubectl's stdout.
pub struct Lines {
    pub rx: tokio::sync::mpsc::UnboundedReceiver<String>,
    pub seen: Vec<String>,
}

impl Lines {
    pub fn of(stdout: tokio::process::ChildStdout) -> Lines {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            rx,
            seen: Vec::new(),
        }
    }

    /// The next line satisfying `want`, within 10 s.
    pub async fn expect(&mut self, what: &str, want: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                _ => panic!("no line with {what}; saw {:#?}", self.seen),
            }
        }
    }
}

/// The rows of a table, header skipped, split on whitespace.
pub fn rows(out: &Out) -> Vec<Vec<String>> {
    out.stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// A table's header split into column names (names may hold one space).
pub fn header(out: &Out) -> Vec<String> {
    out.stdout
        .lines()
        .next()
        .unwrap_or("")
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// The cells of the row whose NAME column is `name`, split like [`header`].
pub fn row_named(out: &Out, name: &str) -> Vec<String> {
    out.stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row {name}:\n{out}"))
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// One test per kubectl version (1.27, 1.32, 1.33) for each async fn named;
/// each takes the minor version it runs against.
#[macro_export]
macro_rules! each_version {
    ($($item:ident),* $(,)?) => {$(
        mod $item {
            #[tokio::test(flavor = "multi_thread")]
            async fn kubectl_1_27() {
                super::$item($crate::common::kubectl::OLDEST).await
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn kubectl_1_32() {
                super::$item(32).await
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn kubectl_1_33() {
                super::$item($crate::common::kubectl::NEWEST).await
            }
        }
    )*};
}

/// Whether a Pod's Ready condition is True.
pub fn pod_ready(pod: &serde_json::Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}
