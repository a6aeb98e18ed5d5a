//! The in-process benchmarks that live as `cargo bench` targets (`render`
//! and `event_to_frame` in `benches/tui.rs`, `kube_sim_watch` in kube-sim's
//! `throughput` bench): run with `BENCH_JSON` set, their JSON lines are
//! passed on.

use std::process::Command;

pub fn run(args: &[&str], env: &[(&str, String)]) -> Result<Vec<String>, String> {
    let mut cmd = Command::new("cargo");
    cmd.args(["bench", "--quiet"])
        .args(args)
        .env("BENCH_JSON", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| format!("cargo bench: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(3).collect();
        return Err(format!("cargo bench {args:?} failed: {}", tail.join(" | ")));
    }
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("{\"bench\""))
        .map(str::to_string)
        .collect();
    if lines.is_empty() {
        return Err(format!("cargo bench {args:?} printed no figures"));
    }
    Ok(lines)
}
