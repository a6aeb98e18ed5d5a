//! `manifests_at_commit`: the files of a 500-file app at an old commit,
//! gitops-tui's reader (in process, as the engine calls it) beside `git
//! archive COMMIT PATH | tar -x`.

use crate::measure::median;
use crate::{Figure, Settings};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const FILES: usize = 500;

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Bench Runner",
            "-c",
            "user.email=bench@example.invalid",
        ])
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub fn manifests_at_commit(s: &Settings) -> Result<Vec<Figure>, String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let repo = tmp.path().join("repo");
    let app = repo.join("apps/big");
    std::fs::create_dir_all(&app).map_err(|e| e.to_string())?;
    git(&repo, &["init", "-q", "-b", "main"])?;
    let later = if s.quick { 20 } else { 200 };
    for round in 0..=later {
        // Round 0 writes every file; later rounds change a few.
        let range: Vec<usize> = if round == 0 {
            (0..FILES).collect()
        } else {
            (0..5).map(|k| (round * 7 + k * 101) % FILES).collect()
        };
        for i in range {
            std::fs::write(
                app.join(format!("{i:03}.yaml")),
                format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  round: \"{round}\"\n"),
            )
            .map_err(|e| e.to_string())?;
        }
        git(&repo, &["add", "."])?;
        git(&repo, &["commit", "-q", "-m", &format!("round {round}")])?;
    }
    let old = git(&repo, &["rev-list", "--max-parents=0", "HEAD"])?;
    eprintln!(
        "== manifests_at_commit: {FILES} files at the first of {} commits",
        later + 1
    );
    let handle = git2::Repository::open(&repo).map_err(|e| e.to_string())?;
    let oid = git2::Oid::from_str(&old).map_err(|e| e.to_string())?;
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for run in 0..=s.runs.max(5) {
        let t = Instant::now();
        let files = gitops_tui::git::files_at(&handle, oid, "apps/big", Default::default())
            .map_err(|e| e.to_string())?;
        let o = t.elapsed();
        if files.len() != FILES {
            return Err(format!("read {} files of {FILES}", files.len()));
        }
        let out = tmp.path().join(format!("archive-{run}"));
        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        let t = Instant::now();
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "git -C '{}' archive {old} apps/big | tar -x -C '{}'",
                repo.display(),
                out.display()
            ))
            .status()
            .map_err(|e| e.to_string())?;
        let p = t.elapsed();
        if !status.success() {
            return Err("git archive | tar failed".into());
        }
        if run > 0 {
            ours.push(o.as_secs_f64() * 1000.0);
            peer.push(p.as_secs_f64() * 1000.0);
        }
    }
    Ok(vec![Figure::ours(
        "manifests_at_commit",
        "ms",
        median(ours),
    )
    .against("git archive COMMIT PATH | tar -x", median(peer))
    .note(format!(
        "{FILES} files at the oldest of {} commits",
        later + 1
    ))])
}
