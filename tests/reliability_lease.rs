//! Leases (issue 8, item 5): a lease left by a process of this host that is
//! gone is taken over at once; one held by a live process or another host is
//! refused until it expires or `unlock` breaks it; `status` shows it. Real
//! kube-sim, real Git, the real binary.

mod common;

use common::records::record_data;
use common::*;
use gitops_tui::engine::{this_host, SyncOptions};
use gitops_tui::model::AppId;
use gitops_tui::sync::record::{Lease, RecordStore};
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Leave a lease on the app's record, as another holder would.
async fn hold_lease(f: &Fixture, app: &str, holder: &str) {
    let client = f.sim.client().await.expect("client");
    let store = RecordStore::new(client, f.sim.url(), "gitops-tui");
    let holder = holder.to_string();
    store
        .update(app, |r| {
            r.lease = Some(Lease {
                holder: holder.clone(),
                expires: unix_now() + 600,
            })
        })
        .await
        .expect("lease written");
}

/// A pid that existed on this host and is gone.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("true runs");
    let pid = child.id();
    child.wait().expect("true exits");
    pid
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lease_of_a_dead_pid_on_this_host_is_taken_over_a_live_one_is_refused() {
    let f = synced_shop(false).await;
    let host = this_host();

    let gone = format!("root@{host}:{}", dead_pid());
    hold_lease(&f, "shop", &gone).await;
    // status does not show a lease nobody holds any more.
    let status = f.cli(&["status", "-o", "json"]);
    let doc: Value = serde_json::from_slice(&status.stdout).expect("json");
    assert!(doc["apps"][0].get("lease").is_none(), "{doc}");
    let out = f.cli(&["sync", "shop"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("took over the lease of {gone} (process gone)")),
        "{err}"
    );
    assert!(!record_data(&f, "shop").contains_key("lease"));

    // A live process on this host still holds its lease.
    let mut sleeper = Command::new("sleep").arg("60").spawn().expect("sleep");
    let live = format!("ada@{host}:{}", sleeper.id());
    hold_lease(&f, "shop", &live).await;
    let out = f.cli(&["sync", "shop"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("app shop is busy: {live} is operating on it")),
        "{err}"
    );
    let rollback = f.cli(&["rollback", "shop", "--to", "HEAD", "--yes"]);
    assert_eq!(rollback.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&rollback.stderr).contains("is busy"));

    // Once it is gone, the next sync goes ahead.
    sleeper.kill().expect("kill sleep");
    sleeper.wait().expect("sleep reaped");
    let out = f.cli(&["sync", "shop"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("took over the lease of {live}")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn another_hosts_lease_shows_in_status_and_holds_until_unlock() {
    let f = synced_shop(false).await;
    let holder = "root@build-7.elsewhere.example:4387";
    hold_lease(&f, "shop", holder).await;

    let out = f.cli(&["sync", "shop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("is busy: {holder}")));

    let status = f.cli(&["status", "-o", "json"]);
    assert!(status.status.success());
    let doc: Value = serde_json::from_slice(&status.stdout).expect("json");
    let lease = &doc["apps"][0]["lease"];
    assert_eq!(lease["holder"], holder, "{doc}");
    let until = lease["until"].as_str().expect("until");
    let until = humantime::parse_rfc3339(until).expect("RFC 3339");
    let left = until
        .duration_since(SystemTime::now())
        .expect("in the future");
    assert!(left > Duration::from_secs(500) && left <= Duration::from_secs(600));
    let text = String::from_utf8_lossy(&f.cli(&["status"]).stdout).into_owned();
    assert!(
        text.contains(&format!("app shop is locked by {holder} until")),
        "{text}"
    );

    // Without a terminal to ask on, and without --yes: refused, nothing broken.
    let out = f.cli(&["unlock", "shop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs confirmation: pass --yes"));
    assert!(record_data(&f, "shop").contains_key("lease"));
    // --readonly refuses it too.
    let out = f.cli(&["--readonly", "unlock", "shop", "--yes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(record_data(&f, "shop").contains_key("lease"));

    let out = f.cli(&["unlock", "shop", "--yes"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("broke the lease of shop held by {holder}")),
        "{text}"
    );
    assert!(!record_data(&f, "shop").contains_key("lease"));
    let doc: Value =
        serde_json::from_slice(&f.cli(&["status", "-o", "json"]).stdout).expect("json");
    assert!(doc["apps"][0].get("lease").is_none(), "{doc}");
    // Who broke it is in the app's history.
    let history: Value =
        serde_json::from_slice(&f.cli(&["history", "shop", "-o", "json"]).stdout).expect("json");
    let last = history["syncs"]
        .as_array()
        .and_then(|s| s.last())
        .cloned()
        .expect("a history entry");
    assert_eq!(
        last["result"],
        format!("Lease broken: held by {holder}"),
        "{last}"
    );
    assert!(!last["who"].as_str().unwrap_or("").is_empty(), "{last}");

    // Nothing left to break is fine, and the app syncs again.
    let out = f.cli(&["unlock", "shop", "--yes"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("not locked"));
    let report = f
        .engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync runs");
    assert!(report.succeeded, "{report:?}");
}
