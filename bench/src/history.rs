//! `history`: an app's commit log on a large repository, gitops-tui's
//! `history -o json` beside `git log --format='%H %an %at %s' -- PATH`, on
//! the same repository without and then with git's commit-graph and
//! changed-path Bloom filters (what `git maintenance` leaves).
//!
//! The repository is written by `git fast-import` from a generated stream:
//! `APPS` app folders, one initial commit with everything, then commits that
//! each touch one app chosen with a skewed distribution (a few hot apps get
//! most), so the typical app's history is sparse in a long history, as in
//! real GitOps repositories.

use crate::measure::{self, median};
use crate::{Figure, Settings};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

const APPS: usize = 200;

/// A small deterministic generator (xorshift), so every run builds the same repository.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Skewed towards low indices: app k is picked about 1/(k+1) as often as app 0.
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        let x = ((n as f64 + 1.0).powf(u) - 1.0) as usize;
        x.min(n - 1)
    }
}

fn manifest(app: usize, version: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{app:03}\ndata:\n  version: \"{version}\"\n"
    )
}

/// The fast-import stream of `commits` commits over `APPS` apps.
fn stream(commits: usize) -> String {
    let mut out = String::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let base = 1_700_000_000u64;
    for c in 0..commits {
        let when = base + c as u64 * 600;
        let author = ["Ada Example", "Brook Example", "Casey Example"][c % 3];
        let (subject, files): (String, Vec<(usize, usize)>) = if c == 0 {
            ("add every app".into(), (0..APPS).map(|a| (a, 0)).collect())
        } else {
            let app = rng.skewed(APPS);
            (format!("app-{app:03}: version {c}"), vec![(app, c)])
        };
        let _ = write!(
            out,
            "commit refs/heads/main\ncommitter {author} <dev@example.invalid> {when} +0000\ndata {}\n{subject}\n",
            subject.len() + 1
        );
        for (app, version) in files {
            let body = manifest(app, version);
            let _ = write!(
                out,
                "M 100644 inline apps/app-{app:03}/config.yaml\ndata {}\n{body}\n",
                body.len()
            );
        }
        out.push('\n');
    }
    out
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn make_repo(dir: &Path, commits: usize) -> Result<(), String> {
    git(dir, &["init", "-q", "-b", "main"])?;
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(stream(commits).as_bytes())
        .map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("git fast-import failed".into());
    }
    git(dir, &["reset", "-q", "--hard", "main"])?;
    Ok(())
}

pub fn history(s: &Settings) -> Result<Vec<Figure>, String> {
    let commits = if s.quick { 5_000 } else { 50_000 };
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).map_err(|e| e.to_string())?;
    eprintln!("== history: making a {commits}-commit repository");
    make_repo(&repo, commits)?;
    // The typical app: the median of the apps' commit counts is about the
    // 40th most popular; take one well inside the tail.
    let app = 40;
    let path = format!("apps/app-{app:03}");
    let config = tmp.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[apps]]\nname = \"hist\"\nrepo = \"repo\"\npath = \"{path}\"\nnamespace = \"hist\"\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let expected = git(&repo, &["log", "--format=%H", "--", &path])?
        .lines()
        .count();
    let mut figures = Vec::new();
    for graph in [false, true] {
        if graph {
            git(
                &repo,
                &["commit-graph", "write", "--reachable", "--changed-paths"],
            )?;
        }
        let label = if graph {
            "history_commit_graph"
        } else {
            "history"
        };
        let ours = |cache: &Path| {
            let mut cmd = Command::new(&s.bin);
            cmd.arg("--config")
                .arg(&config)
                .args(["history", "hist", "-o", "json"])
                .env("XDG_CACHE_HOME", cache)
                .env("KUBECONFIG", tmp.path().join("no-kubeconfig"));
            measure::run(&mut cmd, tmp.path())
        };
        let peer = || {
            let mut cmd = Command::new("git");
            cmd.arg("-C")
                .arg(&repo)
                .args(["log", "--format=%H %an %at %s", "--", &path]);
            measure::run(&mut cmd, tmp.path())
        };
        let (mut o, mut p) = (vec![], vec![]);
        for run in 0..=s.runs {
            // A fresh cache each time: the figure is a first look, as git's is.
            let cache = tmp.path().join(format!("cache-{graph}-{run}"));
            let r = ours(&cache);
            if !r.ok {
                return Err("gitops-tui history failed".into());
            }
            let got = serde_json::from_str::<serde_json::Value>(&r.stdout)
                .ok()
                .and_then(|v| v["commits"].as_array().map(Vec::len));
            if got != Some(expected) {
                return Err(format!(
                    "history listed {got:?} commits, git log {expected}"
                ));
            }
            let g = peer();
            if run > 0 {
                o.push(r.wall.as_secs_f64() * 1000.0);
                p.push(g.wall.as_secs_f64() * 1000.0);
            }
        }
        figures.push(
            Figure::ours(label, "ms", median(o))
                .against("git log --format='%H %an %at %s' -- PATH", median(p))
                .note(format!(
                    "{commits} commits, {expected} touch the path{}; cold cache",
                    if graph {
                        ", commit-graph with changed paths"
                    } else {
                        ""
                    }
                )),
        );
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_makes_a_repository_whose_history_git_agrees_with() {
        let dir = tempfile::tempdir().expect("tempdir");
        make_repo(dir.path(), 300).expect("repository");
        let count = git(dir.path(), &["rev-list", "--count", "HEAD"]).expect("count");
        assert_eq!(count.trim(), "300");
        let hot = git(dir.path(), &["log", "--format=%H", "--", "apps/app-000"]).expect("log");
        let cold = git(dir.path(), &["log", "--format=%H", "--", "apps/app-150"]).expect("log");
        assert!(hot.lines().count() > cold.lines().count());
        assert!(cold.lines().count() >= 1, "every app has its first commit");
    }
}
