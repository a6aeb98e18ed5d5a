//! `gitops-tui logs` against kube-sim's pods/log, with the real kubectl as
//! the reference: the same bytes for a pod, the same pod and note for a
//! workload, the same prefixed lines for the first workload's pods, the
//! previous run of a crashed container, and `-f` streaming new lines.
//!
//! A container prints a line a second, so a later read has more lines:
//! what we printed must be where kubectl printed it (a prefix of its later
//! read, or with timestamps a run of its lines), never different lines.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CRASHER: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: crasher
spec:
  containers:
  - name: main
    image: busybox:broken
"#;

async fn shop() -> Fixture {
    let f = Fixture::new(APP).await;
    f.commit(
        &[
            ("apps/shop/deploy.yaml", Some(DEPLOYMENT)),
            ("apps/shop/crasher.yaml", Some(CRASHER)),
        ],
        "shop with a crashing pod",
    );
    let report = f
        .engine()
        .sync(
            &gitops_tui::model::AppId::native("shop"),
            &gitops_tui::engine::SyncOptions::default(),
        )
        .await
        .expect("sync runs");
    assert!(report.succeeded, "{report:?}");
    wait_until("both web pods running", || {
        let phases = f.kubectl_ok(&[
            "get",
            "pods",
            "-n",
            "shop",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[*].status.phase}",
        ]);
        phases
            .split_whitespace()
            .filter(|p| *p == "Running")
            .count()
            == 2
    });
    f
}

fn wait_until(what: &str, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ok() {
        assert!(Instant::now() < deadline, "waited 60 s for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn web_pods(f: &Fixture) -> Vec<String> {
    f.kubectl_ok(&[
        "get",
        "pods",
        "-n",
        "shop",
        "-l",
        "app=web",
        "-o",
        "jsonpath={.items[*].metadata.name}",
    ])
    .split_whitespace()
    .map(str::to_string)
    .collect()
}

fn ours(f: &Fixture, args: &[&str]) -> (String, String, i32) {
    let out = f.cli(args);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// `part`'s lines appear, in order and together, among `whole`'s.
fn contiguous_in(part: &[&str], whole: &[&str]) -> bool {
    part.is_empty() || whole.windows(part.len()).any(|w| w == part)
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_cli_matches_kubectl() {
    let f = shop().await;
    let pods = web_pods(&f);
    let pod = pods.first().expect("a web pod").clone();

    // A pod: kubectl's bytes (it reads later, so it may have more).
    let (out, err, code) = ours(&f, &["logs", "shop", &format!("pod/{pod}")]);
    assert_eq!(code, 0, "{err}");
    let reference = f.kubectl_ok(&["logs", "-n", "shop", &pod]);
    assert!(out.lines().count() >= 3, "start-up lines at least:\n{out}");
    assert!(
        reference.starts_with(&out),
        "ours:\n{out}\nkubectl:\n{reference}"
    );

    // --tail and --timestamps: the last lines, each with its time.
    let (out, err, code) = ours(
        &f,
        &[
            "logs",
            "shop",
            &format!("pod/{pod}"),
            "--tail",
            "2",
            "--timestamps",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let reference = f.kubectl_ok(&["logs", "-n", "shop", &pod, "--timestamps"]);
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got.len(), 2, "{out}");
    assert!(
        contiguous_in(&got, &reference.lines().collect::<Vec<_>>()),
        "ours:\n{out}\nkubectl:\n{reference}"
    );

    // A Deployment: the pod kubectl picks, and its note on stderr.
    let (out, err, code) = ours(&f, &["logs", "shop", "deployment/web"]);
    assert_eq!(code, 0, "{err}");
    let k = f.kubectl(&["logs", "-n", "shop", "deployment/web"]);
    let k_err = String::from_utf8_lossy(&k.stderr).into_owned();
    let k_out = String::from_utf8_lossy(&k.stdout).into_owned();
    assert_eq!(
        err.trim(),
        k_err.trim(),
        "the same choice, said the same way"
    );
    assert!(err.contains("Found 2 pods, using pod/"), "{err}");
    assert!(k_out.starts_with(&out), "ours:\n{out}\nkubectl:\n{k_out}");

    // No object: every pod of the first workload, prefixed, 10 lines each
    // (as kubectl logs -l … --prefix).
    wait_until("a dozen lines from each pod", || {
        pods.iter()
            .all(|p| f.kubectl_ok(&["logs", "-n", "shop", p]).lines().count() >= 12)
    });
    let (out, err, code) = ours(&f, &["logs", "shop", "--timestamps"]);
    assert_eq!(code, 0, "{err}");
    let k_out = f.kubectl_ok(&[
        "logs",
        "-n",
        "shop",
        "-l",
        "app=web",
        "--prefix",
        "--timestamps",
    ]);
    for p in &pods {
        let prefix = format!("[pod/{p}/web] ");
        let mine: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .collect();
        let theirs: Vec<&str> = k_out
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .collect();
        assert_eq!(mine.len(), theirs.len().min(10), "{p}:\n{out}\n{k_out}");
        assert_eq!(mine.len(), 10, "{p} has printed enough lines:\n{out}");
        let full = f.kubectl_ok(&["logs", "-n", "shop", p, "--timestamps"]);
        assert!(
            contiguous_in(&mine, &full.lines().collect::<Vec<_>>()),
            "{p}: ours:\n{out}\nkubectl:\n{full}"
        );
    }
    assert_eq!(
        out.lines().count(),
        pods.len() * 10,
        "nothing but those lines:\n{out}"
    );

    // JSON lines name the pod and container.
    let (out, _, code) = ours(&f, &["logs", "shop", &format!("pod/{pod}"), "-o", "json"]);
    assert_eq!(code, 0);
    let first: serde_json::Value =
        serde_json::from_str(out.lines().next().expect("a line")).expect("JSON");
    assert_eq!(first["pod"], pod.as_str());
    assert_eq!(first["container"], "web");

    // --previous of a container that never restarted: the server's refusal.
    let (_, err, code) = ours(&f, &["logs", "shop", &format!("pod/{pod}"), "--previous"]);
    let k = f.kubectl(&["logs", "-n", "shop", &pod, "--previous"]);
    assert_eq!(code, 2);
    assert!(!k.status.success());
    assert!(
        err.contains(&format!(
            "previous terminated container \"web\" in pod \"{pod}\" not found"
        )),
        "{err}"
    );
    // An object that does not exist.
    let (_, err, code) = ours(&f, &["logs", "shop", "pod/nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("nope"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn previous_run_of_a_crashed_container_matches_kubectl() {
    let f = shop().await;
    wait_until("the crasher restarted", || {
        let restarts = f.kubectl_ok(&[
            "get",
            "pod",
            "crasher",
            "-n",
            "shop",
            "-o",
            "jsonpath={.status.containerStatuses[0].restartCount}",
        ]);
        restarts.trim().parse::<u32>().unwrap_or(0) >= 1
    });
    // A restart between the two reads changes which run is previous: try again.
    let mut last = None;
    for _ in 0..5 {
        let (out, err, code) = ours(&f, &["logs", "shop", "pod/crasher", "--previous"]);
        assert_eq!(code, 0, "{err}");
        let reference = f.kubectl_ok(&["logs", "-n", "shop", "crasher", "--previous"]);
        if out == reference {
            assert!(
                out.contains("panic"),
                "a crashed run ends in its panic:\n{out}"
            );
            return;
        }
        last = Some((out, reference));
    }
    panic!("never the same previous run: {last:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn follow_streams_new_lines_as_kubectl_has_them() {
    let f = shop().await;
    let pod = web_pods(&f).first().expect("a web pod").clone();
    let before = f.kubectl_ok(&["logs", "-n", "shop", &pod]).lines().count();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gitops-tui"))
        .arg("--config")
        .arg(&f.config)
        .arg("--kubeconfig")
        .arg(&f.kubeconfig)
        .args(["logs", "shop", &format!("pod/{pod}"), "-f"])
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("gitops-tui runs");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut got = vec![];
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.len() < before + 3 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => got.push(l),
            Err(_) => panic!("-f stopped at {} lines (had {before}): {got:?}", got.len()),
        }
    }
    assert!(
        child.try_wait().expect("wait").is_none(),
        "-f keeps running while the container does"
    );
    let _ = child.kill();
    let _ = child.wait();
    let reference = f.kubectl_ok(&["logs", "-n", "shop", &pod]);
    let theirs: Vec<&str> = reference.lines().collect();
    let mine: Vec<&str> = got.iter().map(String::as_str).collect();
    assert_eq!(
        &theirs[..mine.len()],
        &mine[..],
        "streamed lines are kubectl's"
    );
}
