//! The command line on the cases of issue 8 (10–13) that a careful user
//! meets: a rollback that fails, a force-push under a deployed commit,
//! `sync --wait` on a Degraded app, `history` without a cluster, and error
//! texts. Each runs the real binary against kube-sim and a real Git
//! repository, and asserts exit codes and the exact first lines printed.

mod common;

use common::*;
use std::process::Output;
use std::time::{Duration, Instant};

fn cm(color: &str) -> String {
    CONFIGMAP.replace("blue", color)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or("")
}

fn short(sha: &str, n: usize) -> &str {
    &sha[..n]
}

/// The binary, expected to exit with `code` (the output is shown otherwise).
fn cli_exit(f: &Fixture, args: &[&str], code: i32) -> Output {
    let out = f.cli(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "gitops-tui {args:?}\nstdout:\n{}\nstderr:\n{}",
        stdout(&out),
        stderr(&out)
    );
    out
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("one JSON document on stdout")
}

/// Point the fixture's kubeconfig at a port nobody listens on; returns it.
fn kill_cluster_address(f: &Fixture) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let text = std::fs::read_to_string(&f.kubeconfig).expect("read");
    let dead = format!("http://127.0.0.1:{port}");
    std::fs::write(&f.kubeconfig, text.replace(f.sim.url(), &dead)).expect("write");
    port
}

/// Commits red, then green, each synced by the CLI; returns their shas.
fn red_then_green_synced(f: &Fixture) -> (String, String) {
    let red = f.commit(&[("apps/shop/config.yaml", Some(&cm("red")))], "red");
    cli_exit(f, &["sync", "shop"], 0);
    let green = f.commit(&[("apps/shop/config.yaml", Some(&cm("green")))], "green");
    cli_exit(f, &["sync", "shop"], 0);
    (red, green)
}

/// Rewrite the branch so its newest commit is gone (as `git push --force`
/// after `reset --hard HEAD~1` would leave a remote), then commit teal.
fn force_push_over_head(f: &Fixture) -> String {
    git(&f.repo, &["reset", "-q", "--hard", "HEAD~1"]);
    f.commit(&[("apps/shop/config.yaml", Some(&cm("teal")))], "teal")
}

// Case 10: a failed rollback.

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_rollback_says_it_failed_and_does_not_pin() {
    let f = Fixture::new(APP).await;
    let (red, _green) = red_then_green_synced(&f);
    // Another Apply manager shares `color` (same value): a rollback that
    // changes it conflicts, and the sync fails without --force-conflicts.
    let theirs = f.dir.path().join("theirs.yaml");
    std::fs::write(
        &theirs,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  color: green\n",
    )
    .expect("write");
    f.kubectl_ok(&[
        "apply",
        "--server-side",
        "--field-manager=teammate",
        "-f",
        theirs.to_str().expect("utf-8 path"),
    ]);

    let out = cli_exit(&f, &["rollback", "shop", "--to", &red, "--yes"], 1);
    let text = stdout(&out);
    assert_eq!(
        last_line(&text),
        format!(
            "rollback of shop to {} FAILED: the app is not paused there",
            short(&red, 12)
        ),
        "{text}"
    );
    assert!(!text.contains("paused by rollback"), "{text}");
    assert!(text.contains("teammate"), "the conflict is named: {text}");
    // Not pinned, and the cluster still runs green.
    let status = json(&cli_exit(&f, &["status", "shop", "-o", "json"], 0));
    assert_eq!(
        status["apps"][0]["paused_revision"],
        serde_json::Value::Null
    );
    assert_eq!(f.cm_data("shop", "settings", "color"), "green");

    // With the teammate's claim on `color` dropped, the same rollback pins
    // and says so.
    std::fs::write(
        &theirs,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\n",
    )
    .expect("write");
    f.kubectl_ok(&[
        "apply",
        "--server-side",
        "--field-manager=teammate",
        "-f",
        theirs.to_str().expect("utf-8 path"),
    ]);
    let out = cli_exit(&f, &["rollback", "shop", "--to", &red, "--yes"], 0);
    assert_eq!(
        last_line(&stdout(&out)),
        format!(
            "app shop is paused by rollback at {}; `gitops-tui resume shop` returns it to its ref",
            short(&red, 12)
        )
    );
    let status = json(&cli_exit(&f, &["status", "shop", "-o", "json"], 0));
    assert_eq!(status["apps"][0]["paused_revision"], red.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_preview_that_cannot_be_computed_is_an_error_not_in_sync() {
    let f = Fixture::new(APP).await;
    let broken = f.commit(
        &[(
            "apps/shop/config.yaml",
            Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: [blue\n"),
        )],
        "broken yaml",
    );
    f.commit(&[("apps/shop/config.yaml", Some(CONFIGMAP))], "fixed");
    cli_exit(&f, &["sync", "shop"], 0);
    let out = cli_exit(&f, &["rollback", "shop", "--to", &broken, "--dry-run"], 2);
    let line = first_line(&stderr(&out)).to_string();
    assert!(
        line.starts_with(&format!(
            "error: app shop: cannot preview the rollback to {}: invalid manifests: apps/shop/config.yaml:",
            short(&broken, 12)
        )),
        "{line}"
    );
    assert!(!stdout(&out).contains("in sync"), "{}", stdout(&out));
}

// Case 10: a force-push removed the deployed commit.

#[tokio::test(flavor = "multi_thread")]
async fn after_a_force_push_history_marks_nothing_deployed_and_names_the_revision() {
    let f = Fixture::new(APP).await;
    let (red, green) = red_then_green_synced(&f);
    let teal = force_push_over_head(&f);
    let warning = format!(
        "warning: deployed revision {} is not in the history of apps/shop (force-push?)",
        short(&green, 7)
    );

    let out = cli_exit(&f, &["history", "shop", "--no-headers"], 0);
    assert_eq!(first_line(&stderr(&out)), warning);
    let text = stdout(&out);
    // red is what green descends from, but not what the cluster runs.
    assert_eq!(
        first_line(&text)
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>(),
        vec!["H", short(&teal, 12)],
        "the head, not marked deployed: {text}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.get(..2).is_some_and(|m| m.contains('D'))),
        "{text}"
    );

    let doc = json(&cli_exit(&f, &["history", "shop", "-o", "json"], 0));
    let shas: Vec<&str> = doc["commits"]
        .as_array()
        .expect("commits")
        .iter()
        .map(|c| c["sha"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(shas, [teal.as_str(), red.as_str()]);
    assert!(doc["commits"]
        .as_array()
        .expect("commits")
        .iter()
        .all(|c| c["deployed"] == false));
    assert_eq!(
        doc["warnings"],
        serde_json::json!([warning.trim_start_matches("warning: ")])
    );
    assert_eq!(doc["syncs"].as_array().map(Vec::len), Some(2));

    // Once the new head is synced, it is the deployed one again, no warning.
    cli_exit(&f, &["sync", "shop"], 0);
    let out = cli_exit(&f, &["history", "shop", "--no-headers"], 0);
    assert_eq!(stderr(&out), "");
    assert!(first_line(&stdout(&out)).starts_with(&format!("HD  {}", short(&teal, 12))));
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_previous_refuses_when_the_deployed_or_previous_revision_was_force_pushed_away() {
    let f = Fixture::new(APP).await;
    let (red, green) = red_then_green_synced(&f);
    force_push_over_head(&f);

    let out = cli_exit(&f, &["rollback", "shop", "--previous", "--dry-run"], 2);
    assert_eq!(
        first_line(&stderr(&out)),
        format!(
            "error: app shop: deployed revision {} is not in the history of apps/shop (force-push?): \
             --previous cannot tell what to roll back to; pick a commit with --to (see `gitops-tui history shop`)",
            short(&green, 7)
        )
    );
    assert_eq!(stdout(&out), "", "no preview of a guess");
    // An explicit target still works.
    let out = cli_exit(&f, &["rollback", "shop", "--to", &red, "--dry-run"], 0);
    assert_eq!(
        first_line(&stdout(&out)),
        format!(
            "Rollback of shop to {} changes 1 object(s):",
            short(&red, 12)
        )
    );

    // The new head deployed: now the revision deployed before it (green)
    // is the one gone.
    cli_exit(&f, &["sync", "shop"], 0);
    let out = cli_exit(&f, &["rollback", "shop", "--previous", "--dry-run"], 2);
    assert!(
        first_line(&stderr(&out)).starts_with(&format!(
            "error: app shop: the previously deployed revision {} is not in the history of apps/shop (force-push?)",
            short(&green, 7)
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(f.cm_data("shop", "settings", "color"), "teal");
}

// Case 11: sync --wait.

const BROKEN_DEPLOYMENT_5S: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  progressDeadlineSeconds: 5
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:broken
"#;

#[tokio::test(flavor = "multi_thread")]
async fn sync_wait_stops_when_degraded_with_exit_1_after_printing_the_sync_result() {
    let f = Fixture::new(APP).await;
    let head = f.commit(
        &[("apps/shop/deploy.yaml", Some(BROKEN_DEPLOYMENT_5S))],
        "broken image",
    );
    let started = Instant::now();
    let out = cli_exit(&f, &["sync", "shop", "--wait", "--timeout", "40s"], 1);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(25),
        "stopped at Degraded, not at the 40 s timeout: {took:?}"
    );
    assert!(
        took >= Duration::from_secs(5),
        "the deadline is 5 s: {took:?}"
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first(), Some(&"Namespace shop created"), "{text}");
    assert!(
        lines.contains(&"apps/Deployment shop/web created"),
        "the sync result comes first: {text}"
    );
    let verdict = lines
        .iter()
        .position(|l| l.starts_with(&format!("app shop synced at {}: ", short(&head, 12))))
        .expect("the sync verdict is printed");
    assert_eq!(verdict, lines.len() - 2, "{text}");
    assert_eq!(
        last_line(&text),
        "app shop is Degraded: apps/Deployment shop/web is Degraded (Deployment \"web\" exceeded its progress deadline)"
    );
    assert_eq!(
        first_line(&stderr(&out)),
        "waiting up to 40s for app shop to be Healthy..."
    );

    // JSON: one document, the sync report with how the wait ended; the
    // Deployment is already past its deadline, so this returns at once.
    let started = Instant::now();
    let doc = json(&cli_exit(
        &f,
        &["sync", "shop", "--wait", "--timeout", "40s", "-o", "json"],
        1,
    ));
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(doc["succeeded"], true);
    assert_eq!(doc["revision"], head.as_str());
    assert_eq!(doc["wait"]["result"], "Degraded");
    assert_eq!(doc["wait"]["resources"][0]["name"], "web");
    assert_eq!(doc["wait"]["resources"][0]["health"], "Degraded");
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_wait_waits_for_progressing_until_healthy_or_the_timeout() {
    let f = Fixture::new(APP).await;
    f.commit(&[("apps/shop/deploy.yaml", Some(DEPLOYMENT))], "web");
    let out = cli_exit(&f, &["sync", "shop", "--wait", "--timeout", "60s"], 0);
    let text = stdout(&out);
    assert_eq!(first_line(&text), "Namespace shop created", "{text}");
    assert_eq!(last_line(&text), "app shop is Healthy", "{text}");

    // Broken, with the default 600 s deadline: Progressing the whole time,
    // so the wait runs to its timeout and says so (exit 2).
    f.commit(
        &[(
            "apps/shop/deploy.yaml",
            Some(&BROKEN_DEPLOYMENT_5S.replace("  progressDeadlineSeconds: 5\n", "")),
        )],
        "broken, slow deadline",
    );
    let started = Instant::now();
    let out = cli_exit(&f, &["sync", "shop", "--wait", "--timeout", "3s"], 2);
    assert!(started.elapsed() >= Duration::from_secs(3));
    let text = stdout(&out);
    assert_eq!(first_line(&text), "Namespace shop unchanged", "{text}");
    assert!(
        text.lines()
            .any(|l| l == "apps/Deployment shop/web configured"),
        "{text}"
    );
    let err = stderr(&out);
    let line = err.lines().nth(1).unwrap_or("");
    assert!(
        line.starts_with(
            "error: app shop timed out after 3s waiting to be Healthy: apps/Deployment shop/web is Progressing (Waiting for rollout to finish"
        ),
        "{err}"
    );
}

// Case 12: history without a cluster.

#[tokio::test(flavor = "multi_thread")]
async fn history_without_a_cluster_lists_the_commits_and_says_why_syncs_are_missing() {
    let f = Fixture::new(APP).await;
    let (red, green) = red_then_green_synced(&f);
    let port = kill_cluster_address(&f);

    let started = Instant::now();
    let out = cli_exit(&f, &["history", "shop", "--no-headers"], 0);
    assert!(started.elapsed() < Duration::from_secs(15));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    // The head is Git's to say; the deployed mark is the cluster's.
    assert!(
        lines[0].starts_with(&format!("H   {}  ", short(&green, 12))),
        "{text}"
    );
    assert!(
        lines[1].starts_with(&format!("    {}  ", short(&red, 12))),
        "{text}"
    );
    let unavailable = lines
        .iter()
        .find(|l| l.starts_with("Sync records and the deployed mark unavailable: "))
        .unwrap_or_else(|| panic!("no line says the records are unavailable: {text}"));
    assert!(unavailable.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(!text.contains("Syncs:"), "{text}");

    let doc = json(&cli_exit(&f, &["history", "shop", "-o", "json"], 0));
    assert_eq!(doc["commits"].as_array().map(Vec::len), Some(2));
    assert_eq!(doc["syncs"], serde_json::Value::Null);
    assert!(
        doc["syncs_unavailable"]
            .as_str()
            .is_some_and(|r| r.contains(&port.to_string())),
        "{doc}"
    );
}

// Case 13: error texts.

const BAD_YAML: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  a: [1\n";

#[tokio::test(flavor = "multi_thread")]
async fn errors_name_the_app_once_and_keep_file_and_line_on_the_first_line() {
    let f = Fixture::new(APP).await;
    let good = f.commit(&[("apps/shop/config.yaml", Some(CONFIGMAP))], "good");
    cli_exit(&f, &["sync", "shop"], 0);
    let once = |out: &Output, starts: &str| {
        let err = stderr(out);
        let line = first_line(&err);
        assert!(
            line.starts_with(starts),
            "{line:?} should start with {starts:?}"
        );
        assert_eq!(err.matches("app shop:").count(), 1, "{err}");
    };
    // A Git error from a revert (the tree is already the target's).
    once(
        &cli_exit(
            &f,
            &["rollback", "shop", "--to", &good, "--revert", "--yes"],
            2,
        ),
        &format!(
            "error: app shop: apps/shop already equals {} on main: nothing to revert",
            short(&good, 7)
        ),
    );

    f.commit(&[("apps/shop/bad.yaml", Some(BAD_YAML))], "bad yaml");
    let invalid = "error: app shop: invalid manifests: apps/shop/bad.yaml:";
    once(&cli_exit(&f, &["diff", "shop"], 2), invalid);
    once(&cli_exit(&f, &["sync", "shop"], 2), invalid);
    once(&cli_exit(&f, &["sync", "shop", "--dry-run"], 2), invalid);
    once(
        &cli_exit(&f, &["sync", "shop", "--revision", "no-such-rev"], 2),
        "error: app shop: ",
    );
    once(
        &cli_exit(
            &f,
            &["rollback", "shop", "--to", "no-such-rev", "--dry-run"],
            2,
        ),
        "error: app shop: ",
    );
    once(
        &cli_exit(&f, &["diff", "shop", "--revision", "no-such-rev"], 2),
        "error: app shop: ",
    );
    // A revision that is fine diffs (exit 0, in sync).
    cli_exit(&f, &["diff", "shop", "--revision", &good], 0);

    // status: the message is the app's own field, without the prefix, and
    // its first line (the one the table shows) keeps file and line.
    let doc = json(&cli_exit(&f, &["status", "shop", "-o", "json"], 0));
    let message = doc["apps"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.starts_with("invalid manifests: apps/shop/bad.yaml:"),
        "{message}"
    );
    let table = stdout(&cli_exit(&f, &["status", "shop"], 0));
    let row = table.lines().nth(1).unwrap_or("");
    assert!(row.starts_with("shop "), "{table}");
    assert!(
        row.contains("invalid manifests: apps/shop/bad.yaml:"),
        "{table}"
    );
    assert!(!row.contains("app shop:"), "{table}");
}
