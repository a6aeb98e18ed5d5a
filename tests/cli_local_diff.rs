//! `diff APP --local [DIR]`: the work tree against live, with uncommitted,
//! untracked (and not Git-ignored) changes, from the app's own repository or
//! from a clone named on the command line, while a plain `diff` still
//! compares what is committed.

mod common;

use common::{git, synced_shop, CONFIGMAP};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_local_sees_an_uncommitted_edit_and_untracked_files_not_ignored_ones() {
    let f = synced_shop(false).await;
    let cm = f.repo.join("apps/shop/config.yaml");
    std::fs::write(&cm, CONFIGMAP.replace("blue", "green")).expect("edit");
    let new = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: brand-new\ndata: {a: b}\n";
    std::fs::write(f.repo.join("apps/shop/new.yaml"), new).expect("untracked");
    std::fs::write(f.repo.join(".gitignore"), "scratch.yaml\n").expect("gitignore");
    std::fs::write(
        f.repo.join("apps/shop/scratch.yaml"),
        new.replace("brand-new", "scratch"),
    )
    .expect("ignored");

    // What is committed is in sync.
    let out = f.cli(&["diff", "shop"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    let out = f.cli(&["diff", "shop", "--local"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let diff = text(&out.stdout);
    assert!(
        diff.contains("-  color: blue") && diff.contains("+  color: green"),
        "{diff}"
    );
    let out = f.cli(&["diff", "shop", "--local", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let statuses: Vec<(String, String)> = doc["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| r["kind"] == "ConfigMap")
        .map(|r| {
            (
                r["name"].as_str().unwrap_or("").into(),
                r["status"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("settings".into(), "OutOfSync".into())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("brand-new".into(), "Missing".into())),
        "{statuses:?}"
    );
    assert!(
        !statuses.iter().any(|(n, _)| n == "scratch"),
        "an ignored file was loaded: {statuses:?}"
    );
    // Nothing was written to the cluster by looking.
    assert_eq!(f.cm_data("shop", "settings", "color"), "blue");
    assert!(!f.exists("v1", "ConfigMap", "shop", "brand-new"));

    // A clone elsewhere, named on the command line.
    let clone = f.dir.path().join("clone");
    git(
        f.dir.path(),
        &[
            "clone",
            "-q",
            f.repo.to_str().expect("utf-8"),
            clone.to_str().expect("utf-8"),
        ],
    );
    let out = f.cli(&["diff", "shop", "--local", clone.to_str().expect("utf-8")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the clone has no edit: {}",
        text(&out.stdout)
    );
    std::fs::write(
        clone.join("apps/shop/config.yaml"),
        CONFIGMAP.replace("\"3\"", "\"9\""),
    )
    .expect("edit");
    let out = f.cli(&["diff", "shop", "--local", clone.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("+  size: '9'"),
        "{}",
        text(&out.stdout)
    );

    // A broken edit is an error naming the file, never "in sync".
    std::fs::write(
        &cm,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n",
    )
    .expect("break");
    let out = f.cli(&["diff", "shop", "--local"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid manifests: apps/shop/config.yaml:4:"),
        "{}",
        text(&out.stderr)
    );
}
