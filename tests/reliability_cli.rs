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
