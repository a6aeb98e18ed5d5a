//! Suspend with a reason, across processes: one `gitops-tui suspend
//! --reason` writes who, when and why into the app's record ConfigMap, a
//! second process's `status` (text and JSON) shows it, and `resume` clears
//! it. The TUI side is in tests/ui_suspension.rs.

mod common;

use common::{synced_shop, Fixture};
use std::process::{Command, Output};

fn cli_as(f: &Fixture, user: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gitops-tui"))
        .arg("--config")
        .arg(&f.config)
        .arg("--kubeconfig")
        .arg(&f.kubeconfig)
        .args(args)
        .env("USER", user)
        .env_remove("COLUMNS")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .output()
        .expect("gitops-tui runs")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_suspension_reason_is_recorded_by_one_process_and_shown_by_another() {
    let f = synced_shop(false).await;
    let reason = "waiting for the DB migration (INC-42)";
    let out = cli_as(&f, "mira", &["suspend", "shop", "--reason", reason]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("app shop suspended: auto-sync and self-heal stopped ({reason})\n")
    );

    // Stored in the record ConfigMap, read back with kubectl.
    let stored = f.kubectl_ok(&[
        "get",
        "cm",
        "app-shop",
        "-n",
        "gitops-tui",
        "-o",
        "jsonpath={.data.suspension}",
    ]);
    let stored: serde_json::Value = serde_json::from_str(&stored).expect("json in the record");
    assert_eq!(
        (&stored["by"], &stored["reason"]),
        (&"mira".into(), &reason.into())
    );

    // Another process, another user: the status says who, when and why.
    let doc = json(&cli_as(&f, "tobin", &["status", "-o", "json"]));
    let app = &doc["apps"][0];
    assert_eq!(app["suspended"], true);
    assert_eq!(app["suspension"]["by"], "mira");
    assert_eq!(app["suspension"]["reason"], reason);
    let at = app["suspension"]["at"].as_str().expect("at");
    let at = humantime::parse_rfc3339(at).expect("RFC 3339");
    assert!(at.elapsed().map_or(true, |d| d.as_secs() < 120), "{at:?}");
    let text = String::from_utf8_lossy(&cli_as(&f, "tobin", &["status"]).stdout).into_owned();
    let row = text.lines().find(|l| l.starts_with("shop ")).expect("row");
    assert!(
        row.contains("suspended") && row.contains(&format!("suspended by mira (<1m): {reason}")),
        "{text}"
    );
    let text =
        String::from_utf8_lossy(&cli_as(&f, "tobin", &["status", "--absolute-times"]).stdout)
            .into_owned();
    assert!(
        text.contains(&format!(
            "suspended by mira ({}): {reason}",
            app["suspension"]["at"].as_str().unwrap_or("")
        )),
        "{text}"
    );

    // Resumed: the reason goes with the suspension.
    let out = cli_as(&f, "tobin", &["resume", "shop"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&cli_as(&f, "tobin", &["status", "-o", "json"]));
    assert_eq!(doc["apps"][0]["suspended"], false);
    assert!(doc["apps"][0].get("suspension").is_none(), "{doc}");
    // Suspended again without a reason: who and when, still.
    cli_as(&f, "kwame", &["suspend", "shop"]);
    let doc = json(&cli_as(&f, "tobin", &["status", "-o", "json"]));
    assert_eq!(doc["apps"][0]["suspension"]["by"], "kwame");
    assert_eq!(doc["apps"][0]["suspension"]["reason"], "");
    let text = String::from_utf8_lossy(&cli_as(&f, "tobin", &["status"]).stdout).into_owned();
    assert!(text.contains("suspended by kwame (<1m); "), "{text}");
}
