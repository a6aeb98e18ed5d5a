//! Interruption (issue 8, item 5): a signal to the CLI, the agent or the TUI
//! stops a sync between objects, records it as Interrupted with what was and
//! was not applied, and frees the app for the next sync. Real kube-sim, real
//! Git, the real binary as a child process (and in tmux). Leases are in
//! reliability_lease.rs.

mod common;

use common::records::{last_sync, record_data};
use common::*;
use gitops_tui::engine::SyncOptions;
use gitops_tui::model::AppId;
use gitops_tui::model::SyncResult;
use kube_sim::Fault;
use serde_json::Value;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIG: &str = r#"
[[apps]]
name = "big"
repo = "repo"
path = "apps/big"
namespace = "big"
"#;

const OBJECTS: usize = 400;

fn name(i: usize) -> String {
    format!("cm-{i:03}")
}

/// The app `big`: 400 ConfigMaps in one file, its namespace made with kubectl.
async fn big_app() -> Fixture {
    let f = Fixture::new(BIG).await;
    f.kubectl_ok(&["create", "namespace", "big"]);
    let docs: Vec<String> = (0..OBJECTS)
        .map(|i| {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\ndata:\n  n: \"{i}\"\n",
                name(i)
            )
        })
        .collect();
    f.commit(
        &[("apps/big/configmaps.yaml", Some(&docs.join("---\n")))],
        "big: 400 ConfigMaps",
    );
    f
}

/// How many of the app's ConfigMaps the server holds.
fn stored(f: &Fixture) -> usize {
    (0..OBJECTS)
        .filter(|i| f.exists("v1", "ConfigMap", "big", &name(*i)))
        .count()
}

/// The gitops-tui binary as a child, output piped (small enough never to fill a pipe).
/// Wait (at most 2 minutes) until the sync under test has written some
/// objects, so a signal lands mid-way; `what` says what never happened.
async fn some_stored(f: &Fixture, what: &str) {
    some_stored_or(f, || what.to_string()).await
}

/// The same, describing the failure with `what()` (a screen, say).
async fn some_stored_or(f: &Fixture, what: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while stored(f) < 40 {
        assert!(Instant::now() < deadline, "{}", what());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn spawn_cli(f: &Fixture, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_gitops-tui"))
        .arg("--config")
        .arg(&f.config)
        .arg("--kubeconfig")
        .arg(&f.kubeconfig)
        .args(args)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gitops-tui starts")
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(ok.success(), "kill -{sig} failed");
}

/// Wait for the child to exit (at most `limit`): exit code, stdout, stderr.
fn finish(mut child: Child, limit: Duration) -> (i32, String, String) {
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("gitops-tui did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        s.read_to_string(&mut out).expect("stdout");
    }
    if let Some(mut s) = child.stderr.take() {
        s.read_to_string(&mut err).expect("stderr");
    }
    (status.code().unwrap_or(-1), out, err)
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_mid_sync_records_interrupted_frees_the_app_and_a_second_sync_finishes() {
    let f = big_app().await;
    // Each write takes a little while, so the signal lands mid-way.
    f.sim
        .inject(Fault::latency(Duration::from_millis(15)).on("PATCH", "configmaps"));
    let child = spawn_cli(&f, &["sync", "big"]);
    some_stored(&f, "the sync never got going").await;
    signal(&child, "TERM");
    let (code, out, err) = finish(child, Duration::from_secs(60));

    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("interrupted: finishing the object in flight…"),
        "{err}"
    );
    let applied_now = stored(&f);
    assert!(
        applied_now < OBJECTS,
        "the signal came too late to test anything"
    );
    // The report names what was applied and what was not.
    assert_eq!(
        out.matches(" created\n").count(),
        applied_now,
        "stdout:\n{out}"
    );
    assert_eq!(
        out.matches(" not applied (interrupted)\n").count(),
        OBJECTS - applied_now,
        "stdout:\n{out}"
    );
    assert!(
        out.contains("app big sync INTERRUPTED at ")
            && out.contains("not applied; nothing was pruned (sync again to finish)"),
        "{out}"
    );

    // The record says so, with counts that match the server.
    let last = last_sync(&f, "big");
    assert_eq!(last["result"], "Interrupted", "{last}");
    let applied = last["applied"].as_u64().expect("applied") as usize;
    let not_applied = last["not_applied"].as_u64().expect("not_applied") as usize;
    assert_eq!(applied + not_applied, OBJECTS, "{last}");
    assert_eq!(applied, applied_now, "{last}");
    // Not deployed: the revision did not fully reach the cluster.
    assert_eq!(
        record_data(&f, "big")
            .get("deployedRevision")
            .and_then(Value::as_str),
        Some(""),
        "{:?}",
        record_data(&f, "big")
    );
    // The lease is gone: nothing is left to refuse the next sync.
    assert!(
        !record_data(&f, "big").contains_key("lease"),
        "{:?}",
        record_data(&f, "big").get("lease")
    );

    f.sim.clear_faults();
    let again = f.cli(&["sync", "big"]);
    let out2 = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.status.success(),
        "{out2}\n{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(stored(&f), OBJECTS);
    let last = last_sync(&f, "big");
    assert_eq!(last["result"], "Succeeded", "{last}");
    assert_eq!(
        last["applied"].as_u64(),
        Some(not_applied as u64),
        "the second sync writes exactly what the first did not: {last}"
    );
    let history = f
        .engine()
        .history(&AppId::native("big"))
        .await
        .expect("history");
    let results: Vec<&SyncResult> = history.syncs.iter().flatten().map(|s| &s.result).collect();
    assert_eq!(
        results,
        vec![&SyncResult::Interrupted, &SyncResult::Succeeded]
    );
}

/// Whether the server's copy of ConfigMap `i` carries the app's label.
fn labelled(f: &Fixture, i: usize) -> bool {
    f.sim
        .get("v1", "ConfigMap", "big", &name(i))
        .and_then(|cm| {
            cm.pointer("/metadata/labels/gitops-tui.dev~1app")
                .and_then(Value::as_str)
                .map(|a| a == "big")
        })
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_adopted_before_an_interruption_are_released_not_deleted_by_a_later_prune() {
    let f = big_app().await;
    // The first 100 exist already, made by someone else: the sync adopts them.
    const EXISTING: usize = 100;
    let theirs: Vec<String> = (0..EXISTING)
        .map(|i| {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n  namespace: big\ndata:\n  n: \"theirs\"\n",
                name(i)
            )
        })
        .collect();
    let file = f.dir.path().join("theirs.yaml");
    std::fs::write(&file, theirs.join("---\n")).expect("write");
    f.kubectl_ok(&["create", "-f", file.to_str().expect("utf-8 path")]);
    f.sim
        .inject(Fault::latency(Duration::from_millis(15)).on("PATCH", "configmaps"));
    let child = spawn_cli(&f, &["sync", "big", "--adopt"]);
    let deadline = Instant::now() + Duration::from_secs(120);
    while (0..EXISTING).filter(|i| labelled(&f, *i)).count() < 40 {
        assert!(Instant::now() < deadline, "the sync never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(&child, "TERM");
    let (code, out, err) = finish(child, Duration::from_secs(60));
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    let adopted: Vec<usize> = (0..EXISTING).filter(|i| labelled(&f, *i)).collect();
    assert!(
        adopted.len() < EXISTING,
        "interrupted too late to test anything"
    );
    let last = last_sync(&f, "big");
    assert_eq!(last["result"], "Interrupted", "{last}");

    // The record knows which objects the interrupted sync adopted.
    let inventory: Vec<Value> = record_data(&f, "big")
        .get("inventory")
        .and_then(Value::as_str)
        .and_then(|i| serde_json::from_str(i).ok())
        .unwrap_or_default();
    for i in &adopted {
        let entry = inventory
            .iter()
            .find(|e| e["name"] == name(*i))
            .unwrap_or_else(|| panic!("{} missing from the inventory", name(*i)));
        assert!(entry.get("adopted").is_some(), "{entry}");
    }

    // Git drops them: a pruning sync gives them back (label removed), it does
    // not delete what this app never created.
    f.sim.clear_faults();
    let ours: Vec<String> = (EXISTING..OBJECTS)
        .map(|i| {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\ndata:\n  n: \"{i}\"\n",
                name(i)
            )
        })
        .collect();
    f.commit(
        &[("apps/big/configmaps.yaml", Some(&ours.join("---\n")))],
        "big: drop the first 100",
    );
    let out = f.cli(&["sync", "big", "--prune", "--adopt"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for i in &adopted {
        assert!(
            f.exists("v1", "ConfigMap", "big", &name(*i)),
            "{} was deleted: {}",
            name(*i),
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(!labelled(&f, *i), "{} still carries the label", name(*i));
    }
    assert_eq!(stored(&f), OBJECTS);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_stops_at_once_and_the_next_sync_takes_the_lease_over() {
    let f = big_app().await;
    // Every write of a ConfigMap hangs for a long while: the first signal
    // alone would wait for the object in flight.
    f.sim
        .inject(Fault::latency(Duration::from_secs(20)).on("PATCH", "configmaps"));
    let child = spawn_cli(&f, &["sync", "big"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f
        .sim
        .requests()
        .iter()
        .any(|r| r.method == "PATCH" && r.path.contains("configmaps"))
    {
        assert!(Instant::now() < deadline, "the sync never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(&child, "TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = Instant::now();
    signal(&child, "INT");
    let (code, _out, err) = finish(child, Duration::from_secs(15));
    assert_eq!(code, 130, "{err}");
    assert!(
        second.elapsed() < Duration::from_secs(10),
        "did not stop at once"
    );
    assert!(err.contains("interrupted again"), "{err}");
    let holder = record_data(&f, "big")
        .get("lease")
        .and_then(Value::as_str)
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .and_then(|l| l["holder"].as_str().map(str::to_string))
        .expect("a process that stops at once leaves its lease");
    f.sim.clear_faults();

    // The holder is gone, on this host: taken over at once, not refused for 10 minutes.
    let out = f.cli(&["sync", "big"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("took over the lease of {holder} (process gone)")),
        "{err}"
    );
    assert_eq!(stored(&f), OBJECTS);
    assert!(!record_data(&f, "big").contains_key("lease"));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_to_the_agent_mid_pass_lets_its_sync_stop_cleanly() {
    let f = big_app().await;
    std::fs::write(&f.config, format!("{BIG}auto_sync = true\n")).expect("config");
    f.sim
        .inject(Fault::latency(Duration::from_millis(15)).on("PATCH", "configmaps"));
    let child = spawn_cli(&f, &["agent"]);
    some_stored(&f, "the agent never synced").await;
    signal(&child, "TERM");
    let (code, out, err) = finish(child, Duration::from_secs(60));
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("interrupted: finishing the object in flight…"),
        "{err}"
    );
    let last = last_sync(&f, "big");
    assert_eq!(last["result"], "Interrupted", "{last}");
    assert_eq!(last["applied"].as_u64(), Some(stored(&f) as u64), "{last}");
    assert!(!record_data(&f, "big").contains_key("lease"));
}

/// A server slow to answer the Lease read holds no signal back: the agent
/// stops at once on SIGTERM instead of after the answer (it awaited the
/// read outside the select that listens for signals).
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_while_the_agent_waits_for_a_slow_lease_read_stops_at_once() {
    let f = big_app().await;
    std::fs::write(&f.config, format!("{BIG}auto_sync = true\n")).expect("config");
    f.sim.inject(
        Fault::latency(Duration::from_secs(25))
            .on("GET", "/leases/")
            .times(1),
    );
    let child = spawn_cli(&f, &["agent"]);
    let asked = Instant::now() + Duration::from_secs(20);
    while !f
        .sim
        .requests()
        .iter()
        .any(|r| r.method == "GET" && r.path.contains("/leases/"))
    {
        assert!(
            Instant::now() < asked,
            "the agent never asked for its Lease"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent = Instant::now();
    signal(&child, "TERM");
    // Well inside the 12 s read timeout that would end the slow read.
    let (code, out, err) = finish(child, Duration::from_secs(10));
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "stopped only after the slow answer"
    );
    assert!(!err.contains("leading:"), "it never led: {err}");
    assert_eq!(stored(&f), 0, "nothing synced");
}

/// The Lease is renewed beside the pass, not in its place: while a slow
/// renewal is answered, objects are still written. The renewal used to be
/// awaited with the pass not polled: the pass's requests in flight held the
/// context's request slots (a slot is freed when its answer is read, and
/// nobody read them), so the renewal's read waited for a slot that would
/// never be freed, timed out after 60 s, and cancelled the pass as a lost
/// Lease: any pass with as many requests in flight as the bound (4 on
/// HTTP/1.1, as here: 16 dry-runs at once; 32 on HTTP/2).
#[tokio::test(flavor = "multi_thread")]
async fn the_pass_goes_on_while_a_slow_lease_renewal_is_answered() {
    let f = big_app().await;
    std::fs::write(
        &f.config,
        format!("{BIG}auto_sync = true\n\n[agent]\nlease_duration = \"3s\"\n"),
    )
    .expect("config");
    f.sim
        .inject(Fault::latency(Duration::from_millis(30)).on("PATCH", "configmaps"));
    // Renewals replace the Lease (a PUT): the first one is held 2 s.
    f.sim.inject(
        Fault::latency(Duration::from_secs(2))
            .on("PUT", "/leases/")
            .times(1),
    );
    let child = spawn_cli(&f, &["agent"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let renewal = loop {
        if let Some(put) = f
            .sim
            .requests()
            .into_iter()
            .find(|r| r.method == "PUT" && r.path.contains("/leases/"))
        {
            break Some(put.at);
        }
        if Instant::now() > deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Past the held answer, then look at what arrived meanwhile.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    signal(&child, "KILL");
    let (_, out, err) = finish(child, Duration::from_secs(10));
    let renewal = renewal.unwrap_or_else(|| panic!("the Lease was never renewed:\n{out}\n{err}"));
    let during = f
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("/namespaces/big/configmaps/"))
        .filter(|r| {
            r.at > renewal + Duration::from_millis(300)
                && r.at < renewal + Duration::from_millis(1700)
        })
        .count();
    assert!(
        during > 0,
        "no object was written while the renewal was answered"
    );
}

/// The pid of the gitops-tui process started with this fixture's config.
fn tui_pid(f: &Fixture) -> Option<u32> {
    let config = f.config.to_string_lossy().into_owned();
    std::fs::read_dir("/proc").ok()?.find_map(|e| {
        let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_tui =
            args.first().is_some_and(|a| a.ends_with("gitops-tui")) && args.contains(&config);
        is_tui.then_some(pid)
    })
}

/// The TUI on the fixture's config in a tmux pane; `EXIT:<code>` once it ends.
fn tui_in_tmux(f: &Fixture, test: &str) -> tmux::Tmux {
    tmux::Tmux::start(test, &tmux::tui_script(f, "", ""))
}

/// Send SIGTERM to the fixture's TUI.
fn terminate_tui(f: &Fixture) {
    let pid = tui_pid(f).expect("the TUI's pid");
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_to_the_tui_mid_sync_stops_after_the_object_in_flight_and_frees_the_app() {
    let f = big_app().await;
    f.sim
        .inject(Fault::latency(Duration::from_millis(15)).on("PATCH", "configmaps"));
    let t = tui_in_tmux(&f, "interrupt");
    t.wait_for("big loaded as OutOfSync", |s| {
        s.lines()
            .any(|l| l.contains(" big ") && l.contains("OutOfSync"))
    });
    t.send(&["s"]);
    t.wait_for("the sync dialog", |s| {
        s.contains("[y]") || s.contains("confirm")
    });
    t.send(&["y"]);
    some_stored_or(&f, || format!("the sync never got going:\n{}", t.screen())).await;
    terminate_tui(&f);
    let screen = t.wait_for("the TUI to exit", |s| s.contains("EXIT:"));
    assert!(screen.contains("EXIT:0"), "{screen}");

    let applied_now = stored(&f);
    assert!(applied_now < OBJECTS, "the signal came too late");
    let last = last_sync(&f, "big");
    assert_eq!(last["result"], "Interrupted", "{last}\n{screen}");
    let applied = last["applied"].as_u64().expect("applied") as usize;
    let not_applied = last["not_applied"].as_u64().expect("not_applied") as usize;
    assert_eq!(applied, applied_now, "{last}");
    assert_eq!(applied + not_applied, OBJECTS, "{last}");
    assert!(!record_data(&f, "big").contains_key("lease"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_rollback_applies_nothing_more_and_does_not_pin() {
    let f = synced_shop(false).await;
    let first = git(&f.repo, &["rev-parse", "HEAD"]).trim().to_string();
    f.commit(
        &[(
            "apps/shop/config.yaml",
            Some(&CONFIGMAP.replace("color: blue", "color: red")),
        )],
        "shop: red",
    );
    let engine = f.engine();
    let report = engine
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync");
    assert!(report.succeeded, "{report:?}");
    assert_eq!(f.cm_data("shop", "settings", "color"), "red");

    // Cancelled before it writes anything (as a signal during its dry-run).
    let cancel = tokio_util::sync::CancellationToken::new();
    cancel.cancel();
    let report = engine
        .rollback_with(
            &AppId::native("shop"),
            &first.as_str().into(),
            gitops_tui::engine::SyncOptions {
                cancel,
                ..Default::default()
            },
        )
        .await
        .expect("an interrupted rollback returns its report");
    assert!(!report.succeeded);
    assert!(
        report.message.starts_with("interrupted:"),
        "{}",
        report.message
    );
    let not_applied: Vec<_> = report
        .resources
        .iter()
        .filter(|r| r.action == "not applied (interrupted)")
        .map(|r| r.key.name.clone())
        .collect();
    assert_eq!(not_applied, vec!["settings".to_string()], "{report:?}");
    assert_eq!(f.cm_data("shop", "settings", "color"), "red");
    let status = engine.status(&AppId::native("shop")).await.expect("status");
    assert_eq!(
        status.paused_revision, None,
        "an interrupted rollback does not pin"
    );
    assert_eq!(status.lease, None);
    let last = last_sync(&f, "shop");
    assert_eq!(last["result"], "Interrupted", "{last}");
    assert_eq!(last["not_applied"], 1, "{last}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_to_the_tui_while_its_agent_syncs_lets_that_sync_stop_cleanly_too() {
    let f = big_app().await;
    std::fs::write(&f.config, format!("{BIG}auto_sync = true\n")).expect("config");
    f.sim
        .inject(Fault::latency(Duration::from_millis(15)).on("PATCH", "configmaps"));
    let t = tui_in_tmux(&f, "agent");
    some_stored_or(&f, || format!("the agent never synced:\n{}", t.screen())).await;
    terminate_tui(&f);
    let screen = t.wait_for("the TUI to exit", |s| s.contains("EXIT:"));
    assert!(screen.contains("EXIT:0"), "{screen}");
    let last = last_sync(&f, "big");
    assert_eq!(last["result"], "Interrupted", "{last}");
    assert_eq!(last["applied"].as_u64(), Some(stored(&f) as u64), "{last}");
    assert!(!record_data(&f, "big").contains_key("lease"));
}
