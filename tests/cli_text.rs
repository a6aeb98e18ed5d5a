//! The text CLI as a person reads it: `status` and `history` snapshots at
//! 80 and 200 columns (header row, columns by display width with a CJK
//! author, relative ages, the subject cut to the width, HEAD and deployed
//! marked), `--no-headers`, `--absolute-times`, the full subject kept in
//! JSON, and the hint for a path with no commits. Real Git commits with set
//! dates, real kube-sim, the real binary; SHAs redacted.

mod common;

use common::{Fixture, CONFIGMAP};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

const CONFIG: &str = r#"
[[apps]]
name = "shop"
repo = "repo"
path = "apps/shop"
namespace = "shop"
create_namespace = true

[[apps]]
name = "ghost"
repo = "repo"
path = "apps/gohst"
namespace = "ghost"
"#;

const LONG: &str = "shop: raise the cache size and turn on the new search ranking for every storefront in the eu and us regions, after the load test of last week showed no regressions";

fn commit_as(
    f: &Fixture,
    author: &str,
    days_ago: u64,
    data: &str,
    subject: &str,
) -> (String, SystemTime) {
    let when = SystemTime::now() - Duration::from_secs(days_ago * 86400 + 600);
    let secs = when
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let path = f.repo.join("apps/shop/config.yaml");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, CONFIGMAP.replace("blue", data)).expect("write");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(&f.repo)
            .args(args)
            .env("GIT_AUTHOR_NAME", author)
            .env("GIT_AUTHOR_EMAIL", "dev@example.com")
            .env("GIT_COMMITTER_NAME", author)
            .env("GIT_COMMITTER_EMAIL", "dev@example.com")
            .env("GIT_AUTHOR_DATE", format!("@{secs} +0000"))
            .env("GIT_COMMITTER_DATE", format!("@{secs} +0000"))
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", subject]);
    (
        git(&["rev-parse", "HEAD"]),
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
    )
}

fn cli(f: &Fixture, columns: Option<usize>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gitops-tui"));
    cmd.arg("--config")
        .arg(&f.config)
        .arg("--kubeconfig")
        .arg(&f.kubeconfig)
        .args(args)
        .env("USER", "mira")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy");
    match columns {
        Some(c) => cmd.env("COLUMNS", c.to_string()),
        None => cmd.env_remove("COLUMNS"),
    };
    cmd.output().expect("gitops-tui runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Three commits by three people (one with a CJK name), the middle one
/// deployed, the newest the head with an 800-character-class subject.
async fn world() -> (Fixture, Vec<(String, SystemTime)>) {
    let f = Fixture::new(CONFIG).await;
    let c1 = commit_as(&f, "山田太郎", 20, "v1", "shop: first deployment");
    let c2 = commit_as(&f, "Mira Okafor", 12, "v2", "shop: 1.9.0");
    let c3 = commit_as(&f, "Tobin Vale", 3, "v3", LONG);
    let out = cli(&f, None, &["sync", "shop", "--revision", &c2.0]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (f, vec![c1, c2, c3])
}

fn redacted(text: &str) -> String {
    let mut out = String::new();
    for word in text.split_inclusive(|c: char| c.is_whitespace() || c == '@' || c == '→') {
        let core = word.trim_end_matches(|c: char| c.is_whitespace() || c == '@' || c == '→');
        let rest = &word[core.len()..];
        let hex = core.len() >= 7 && core.chars().all(|c| c.is_ascii_hexdigit());
        if hex && core.chars().any(|c| c.is_ascii_digit()) {
            out.push_str(&"#".repeat(core.len()));
        } else if let Some(cut) = core
            .strip_suffix('…')
            .filter(|c| c.len() >= 7 && c.chars().all(|h| h.is_ascii_hexdigit()))
        {
            out.push_str(&"#".repeat(cut.len()));
            out.push('…');
        } else {
            out.push_str(core);
        }
        out.push_str(rest);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn history_and_status_read_well_at_80_and_200_columns() {
    let (f, _) = world().await;
    for columns in [80, 200] {
        let out = cli(&f, Some(columns), &["history", "shop"]);
        assert_eq!(out.status.code(), Some(0));
        let text = stdout(&out);
        for line in text.lines() {
            assert!(
                unicode_width::UnicodeWidthStr::width(line) <= columns,
                "wider than {columns}: {line:?}"
            );
        }
        insta::assert_snapshot!(format!("history_{columns}"), redacted(&text));
        let out = cli(&f, Some(columns), &["status"]);
        assert_eq!(out.status.code(), Some(0));
        insta::assert_snapshot!(format!("status_{columns}"), redacted(&stdout(&out)));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn marks_ages_headers_and_absolute_times() {
    let (f, commits) = world().await;
    let out = cli(&f, Some(120), &["history", "shop", "--no-headers"]);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let short = |i: usize| commits[i].0[..12].to_string();
    assert!(
        lines[0].starts_with(&format!("H   {}  Tobin Vale", short(2))),
        "{text}"
    );
    assert!(
        lines[1].starts_with(&format!(" D  {}  Mira Okafor", short(1))),
        "{text}"
    );
    assert!(
        lines[2].starts_with(&format!("    {}  山田太郎     20d", short(0))),
        "{text}"
    );
    assert!(lines[0].contains("  3d   shop: raise"), "{text}");
    // The subject is cut, and whole in JSON.
    assert!(
        lines[0].ends_with('…') && !lines[0].contains("regressions"),
        "{text}"
    );
    let out = cli(&f, Some(120), &["history", "shop", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["commits"][0]["subject"], LONG);
    assert_eq!(doc["commits"][0]["head"], true);
    assert_eq!(doc["commits"][1]["deployed"], true);

    let out = cli(
        &f,
        None,
        &["history", "shop", "--absolute-times", "--no-headers"],
    );
    let text = stdout(&out);
    let when = humantime::format_rfc3339_seconds(commits[2].1).to_string();
    let first = text.lines().next().unwrap_or("");
    assert!(first.contains(&when), "{when} not in {first}");
    // Into a pipe nothing is cut.
    assert!(first.ends_with("no regressions"), "{first}");

    let out = cli(&f, Some(200), &["status", "--no-headers"]);
    let text = stdout(&out);
    assert!(
        text.starts_with("ghost ") || text.starts_with("shop "),
        "{text}"
    );
    assert!(!text.contains("APP"), "{text}");
    let out = cli(&f, Some(200), &["status"]);
    assert!(stdout(&out).starts_with("APP "), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_path_with_no_commits_prints_a_hint() {
    let (f, _) = world().await;
    let out = cli(&f, Some(80), &["history", "ghost"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("hint: no commit of repo touches apps/gohst; is `path` in the config right?"),
        "{err}"
    );
    // JSON stays a document, with no hint in it.
    let out = cli(&f, Some(80), &["history", "ghost", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["commits"], serde_json::json!([]));
}
