//! An app's history on a 50,000-commit repository, side by side with the
//! uncached `git log --format=%H -- PATH` in the same run: the whole history,
//! the first page of 50, a refresh with no new commits through the
//! `HistoryCache`, and a refresh after one new commit. Issue 3.
//!
//! The repository comes from `make-synthetic-repo.sh` and is kept under
//! `target/bench-data/` so reruns reuse it (`GITOPS_BENCH_REPO=DIR` to use
//! another; `GITOPS_BENCH_PATH=apps/x/y` to pick the path).

mod support;

use gitops_tui::git::{self, HistoryCache, HistoryOptions, HistoryWalker, Oid, Repository};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use support::*;

const APPS: u32 = 200;
const COMMITS: u32 = 50_000;
const SEED: u32 = 42;
const PAGE: usize = 50;

fn main() {
    if !benching() {
        return;
    }
    header("history: HistoryWalker / HistoryCache vs git log -- PATH");
    let repo_dir = synthetic_repo();
    let total = git_out(&repo_dir, &["rev-list", "--count", "HEAD"]);
    let graph = repo_dir.join(".git/objects/info/commit-graph").exists();
    println!(
        "repository {} ({} commits, commit-graph: {})",
        repo_dir.display(),
        total.trim(),
        if graph { "yes" } else { "no" }
    );

    let paths = match std::env::var("GITOPS_BENCH_PATH") {
        Ok(p) => vec![("chosen", p)],
        Err(_) => typical_and_hot(&repo_dir),
    };
    for (label, path) in &paths {
        bench_path(&repo_dir, label, path);
    }
    println!("== done ({})", load());
}

fn bench_path(repo_dir: &Path, label: &str, path: &str) {
    let opts = HistoryOptions::default();
    let expected = git_log(repo_dir, path);
    println!(
        "\n-- {label} app {path}: {} commits touch it",
        expected.len()
    );

    // Correctness first: exactly git log's list, in git log's order.
    let repo = git::open(repo_dir).expect("open");
    let head = git::resolve(&repo, "HEAD").expect("HEAD");
    let ours: Vec<String> = HistoryWalker::new(&repo, path, head, opts)
        .expect("walker")
        .map(|e| e.expect("entry").sha)
        .collect();
    assert_eq!(ours, expected, "history differs from git log");

    let n = runs(7);
    let git_all = measure("git log --format=%H -- PATH (whole history)", 1, n, || {
        git_log(repo_dir, path).len()
    });
    // Ours from scratch each run: open, resolve HEAD, walk everything.
    let ours_all = measure("ours: open + resolve + whole history", 1, n, || {
        let repo = git::open(repo_dir).expect("open");
        let head = git::resolve(&repo, "HEAD").expect("HEAD");
        let entries: Vec<_> = HistoryWalker::new(&repo, path, head, opts)
            .expect("walker")
            .collect::<Result<_, _>>()
            .expect("entries");
        entries.len()
    });
    let git_page = measure(
        "git log -n 50 --format=%H -- PATH (first page)",
        1,
        n * 2,
        || git_out(repo_dir, &["log", "-n", "50", "--format=%H", "--", path]).len(),
    );
    let ours_page = measure("ours: open + resolve + first 50 entries", 1, n * 2, || {
        let repo = git::open(repo_dir).expect("open");
        let head = git::resolve(&repo, "HEAD").expect("HEAD");
        let mut walker = HistoryWalker::new(&repo, path, head, opts).expect("walker");
        walker.page(PAGE).expect("page").len()
    });

    // A refresh with no new commits: the engine reopens and resolves, then
    // asks the cache, which already holds this head.
    let cache = HistoryCache::default();
    cache.history(&repo, path, head, opts).expect("history");
    let refresh = measure(
        "ours: refresh, no new commits (open+resolve+cache)",
        3,
        n * 10,
        || {
            let repo = git::open(repo_dir).expect("open");
            let head = git::resolve(&repo, "HEAD").expect("HEAD");
            cache
                .history(&repo, path, head, opts)
                .expect("history")
                .len()
        },
    );
    let lookup = measure(
        "ours: cache.history alone, no new commits",
        3,
        n * 10,
        || {
            cache
                .history(&repo, path, head, opts)
                .expect("history")
                .len()
        },
    );

    // A refresh after one new commit touching the app (a commit object no
    // ref points at, so the cached repository stays as generated).
    let new_head = commit_touching(&repo, head, path);
    let moved = measure_timed("ours: refresh after 1 new commit (cache)", 1, n, || {
        let cache = HistoryCache::default();
        cache.history(&repo, path, head, opts).expect("history");
        let t = Instant::now();
        let h = cache.history(&repo, path, new_head, opts).expect("history");
        let d = t.elapsed();
        assert_eq!(h.len(), expected.len() + 1);
        d
    });

    println!(
        "ratios ({label}): whole history git/ours {:.2}x; first page git/ours {:.2}x; \
         refresh no-new-commits {} ({:.0}x under git log); after 1 commit {}",
        ratio(&git_all, &ours_all),
        ratio(&git_page, &ours_page),
        fmt(refresh.median),
        ratio(&git_all, &refresh),
        fmt(moved.median),
    );
    let _ = lookup;
}

/// The cached synthetic repository, made on first use (about a minute).
fn synthetic_repo() -> PathBuf {
    if let Ok(dir) = std::env::var("GITOPS_BENCH_REPO") {
        return PathBuf::from(dir);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root
        .join("target/bench-data")
        .join(format!("synthetic-{APPS}x{COMMITS}-{SEED}"));
    if dir.join(".git").exists() {
        return dir;
    }
    let script = std::env::var("GITOPS_SYNTHETIC_SCRIPT").map_or_else(
        |_| root.join("../shared/tools/make-synthetic-repo.sh"),
        PathBuf::from,
    );
    let tmp = dir.with_extension("tmp");
    println!(
        "making {} with {} (about a minute)...",
        dir.display(),
        script.display()
    );
    let t = Instant::now();
    let status = Command::new(&script)
        .arg(&tmp)
        .args([APPS.to_string(), COMMITS.to_string(), SEED.to_string()])
        .status()
        .expect("make-synthetic-repo.sh runs");
    assert!(status.success(), "make-synthetic-repo.sh failed");
    std::fs::rename(&tmp, &dir).expect("rename");
    println!("made in {}", fmt(t.elapsed()));
    dir
}

/// The app directory with the median number of commits, and the hottest.
fn typical_and_hot(repo: &Path) -> Vec<(&'static str, String)> {
    let names = git_out(repo, &["log", "--format=@%H", "--name-only"]);
    // app → (commits touching it, the last commit counted)
    let mut per_app: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut commit = 0usize;
    for line in names.lines() {
        if line.starts_with('@') {
            commit += 1;
            continue;
        }
        let parts: Vec<&str> = line.split('/').collect();
        if parts.len() >= 3 && parts[0] == "apps" {
            let app = format!("apps/{}/{}", parts[1], parts[2]);
            let e = per_app.entry(app).or_insert((0, 0));
            if e.1 != commit {
                *e = (e.0 + 1, commit);
            }
        }
    }
    let mut counts: Vec<(usize, String)> = per_app.into_iter().map(|(k, (n, _))| (n, k)).collect();
    counts.sort();
    let typical = counts[counts.len() / 2].1.clone();
    let hot = counts[counts.len() - 1].1.clone();
    vec![("typical", typical), ("hottest", hot)]
}

/// A commit on top of `head` that changes one file under `path`.
fn commit_touching(repo: &Repository, head: Oid, path: &str) -> Oid {
    let parent = repo.find_commit(head).expect("head commit");
    let tree = parent.tree().expect("tree");
    let blob = repo.blob(b"# bench: one more commit\n").expect("blob");
    let mut update = git2::build::TreeUpdateBuilder::new();
    update.upsert(
        format!("{path}/bench-extra.yaml"),
        blob,
        git2::FileMode::Blob,
    );
    let new_tree = update.create_updated(repo, &tree).expect("tree update");
    let new_tree = repo.find_tree(new_tree).expect("new tree");
    // A fixed date: the same commit object every run.
    let when = git2::Time::new(2_000_000_000, 0);
    let sig = git2::Signature::new("Bench", "bench@example.com", &when).expect("signature");
    repo.commit(None, &sig, &sig, "bench: touch app", &new_tree, &[&parent])
        .expect("commit")
}

fn git_log(repo: &Path, path: &str) -> Vec<String> {
    git_out(repo, &["log", "--format=%H", "--", path])
        .lines()
        .map(str::to_string)
        .collect()
}

fn git_out(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}
