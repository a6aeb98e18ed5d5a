//! The fleet benchmarks: `gitops-tui status` beside `kubectl get -A` over
//! the same contexts, and the TUI itself (time until every app shows a
//! status, peak RSS, peak descriptors, idle CPU), both under the default
//! `ulimit -n 1024`.

use crate::fleet::Fleet;
use crate::measure::{self, median, FdSampler};
use crate::{Figure, Settings};
use std::process::Command;
use std::time::{Duration, Instant};

/// The soft descriptor limit most shells start with.
pub const DEFAULT_NOFILE: u32 = 1024;

/// The shell line that runs `cmd` (its environment, program and arguments)
/// under `ulimit -n 1024`, as from a default login shell.
fn limited_line(cmd: &Command) -> String {
    let mut line = format!("ulimit -n {DEFAULT_NOFILE} && exec env");
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            line.push(' ');
            line.push_str(&shell_quote(&format!(
                "{}={}",
                k.to_string_lossy(),
                v.to_string_lossy()
            )));
        }
    }
    line.push(' ');
    line.push_str(&shell_quote(&cmd.get_program().to_string_lossy()));
    for a in cmd.get_args() {
        line.push(' ');
        line.push_str(&shell_quote(&a.to_string_lossy()));
    }
    line
}

/// `cmd` run under `ulimit -n 1024`.
fn limited(cmd: &Command) -> Command {
    let mut sh = Command::new("sh");
    sh.args(["-c", &limited_line(cmd)]);
    sh
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// How many apps of a `status -o json` answer have no status.
fn unknown_apps(stdout: &str, expected: usize) -> Result<usize, String> {
    let v: serde_json::Value =
        serde_json::from_str(stdout).map_err(|e| format!("status printed no JSON: {e}"))?;
    let apps = v["apps"].as_array().ok_or("status printed no apps")?;
    if apps.len() != expected {
        return Err(format!("status listed {} apps of {expected}", apps.len()));
    }
    Ok(apps
        .iter()
        .filter(|a| a["sync"] == "Unknown" || a["health"] == "Unknown")
        .count())
}

pub fn fleet_status(s: &Settings, fleet: &Fleet, name: &str) -> Result<Vec<Figure>, String> {
    let scratch = fleet.dir.path();
    let ours = || {
        let cmd = fleet.gitops(&s.bin, &["status", "-o", "json"]);
        measure::run(&mut limited(&cmd), scratch)
    };
    let peer = || measure::run(&mut fleet.kubectl_get_all(), scratch);
    eprintln!("== {name}: {} apps, {} runs", fleet.apps, s.runs);
    // Warm-up.
    let _ = ours();
    let _ = peer();
    let (mut wall, mut rss, mut fds, mut cpu, mut peer_wall) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut unknown = 0;
    for _ in 0..s.runs {
        let r = ours();
        if !r.ok {
            return Err("gitops-tui status failed".into());
        }
        unknown = unknown.max(unknown_apps(&r.stdout, fleet.apps)?);
        wall.push(r.wall.as_secs_f64());
        rss.push(r.max_rss_mb);
        fds.push(r.peak_fds as f64);
        cpu.push(r.cpu.as_secs_f64());
        let p = peer();
        if !p.ok {
            return Err("kubectl get failed".into());
        }
        peer_wall.push(p.wall.as_secs_f64());
    }
    let apps = format!("{} apps on {} clusters", fleet.apps, fleet.contexts.len());
    let mut time = Figure::ours(name, "s", median(wall))
        .against(
            "kubectl get deployments,services,configmaps -A, each context in turn",
            median(peer_wall),
        )
        .note(apps.clone());
    if unknown > 0 {
        time = time.note(format!("{apps}; {unknown} apps without a status"));
    }
    Ok(vec![
        time,
        Figure::ours(&format!("{name}_cpu"), "s", median(cpu)).note(format!(
            "{apps}; user + system CPU (above the wall time: more than one core busy)"
        )),
        Figure::ours(&format!("{name}_rss"), "MB", median(rss)).note(apps.clone()),
        Figure::ours(&format!("{name}_fds"), "fds", median(fds)).note(format!(
            "{apps}; peak open descriptors (limit {DEFAULT_NOFILE})"
        )),
    ])
}

/// One TUI run in a 160x48 tmux pane: when every app had a status (the
/// TUI writes the moment to `GITOPS_TUI_READY_FILE`), the peak RSS and
/// descriptors until then, and the CPU it uses idle afterwards.
pub(crate) struct TuiRun {
    pub ready: Duration,
    pub rss_mb: f64,
    pub fds: usize,
    pub idle_cpu_pct: f64,
    /// CPU the TUI used until ready, and the runner (its kube-sims) meanwhile.
    pub cpu_to_ready: Duration,
    pub sims_cpu_to_ready: Duration,
}

pub(crate) fn tui_once(s: &Settings, fleet: &Fleet, idle: Duration) -> Result<TuiRun, String> {
    let session = format!("bench-{}", std::process::id());
    let ready_file = fleet.dir.path().join("ready");
    let _ = std::fs::remove_file(&ready_file);
    let mut cmd = fleet.gitops(&s.bin, &[]);
    cmd.env("GITOPS_TUI_READY_FILE", &ready_file);
    let full = format!("sh -c {}", shell_quote(&limited_line(&cmd)));
    let start = Instant::now();
    let sims_before = measure::cpu_time(std::process::id()).unwrap_or_default();
    let ok = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            "160",
            "-y",
            "48",
            &full,
        ])
        .status()
        .is_ok_and(|st| st.success());
    if !ok {
        return Err("tmux could not start the TUI".into());
    }
    let kill = || {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &session])
            .status();
    };
    let pid = (0..200).find_map(|_| {
        let pid = tui_pid(&session);
        if pid.is_none() {
            std::thread::sleep(Duration::from_millis(5));
        }
        pid
    });
    let Some(pid) = pid else {
        kill();
        return Err("the TUI process was not found".into());
    };
    let fds = FdSampler::start(pid);
    let mut rss: f64 = 0.0;
    // A minute per 500 apps (ten for the growth sweep's 5,000), never
    // under the fleet benchmarks' own deadline.
    let base = if s.quick { 30 } else { 120 };
    let deadline = Duration::from_secs(base.max(fleet.apps as u64 / 500 * 60));
    let mut cpu_to_ready = Duration::ZERO;
    let ready = loop {
        if ready_file.exists() {
            cpu_to_ready = measure::cpu_time(pid).unwrap_or_default();
            break Some(start.elapsed());
        }
        if start.elapsed() > deadline || measure::cpu_time(pid).is_none() {
            break None;
        }
        rss = rss.max(measure::rss_mb(pid).unwrap_or(0.0));
        std::thread::sleep(Duration::from_millis(5));
    };
    let Some(ready) = ready else {
        let screen = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &session])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        fds.finish();
        kill();
        let last: Vec<&str> = screen
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(8)
            .collect();
        return Err(format!(
            "not every app had a status within {deadline:?}; screen begins: {}",
            last.join(" / ")
        ));
    };
    let sims_cpu_to_ready = measure::cpu_time(std::process::id())
        .unwrap_or_default()
        .saturating_sub(sims_before);
    // Settle, then measure idle CPU over the window (no window: neither).
    if !idle.is_zero() {
        std::thread::sleep(Duration::from_secs(2));
    }
    rss = rss.max(measure::rss_mb(pid).unwrap_or(0.0));
    let before = measure::cpu_time(pid).unwrap_or_default();
    std::thread::sleep(idle);
    let after = measure::cpu_time(pid).unwrap_or_default();
    rss = rss.max(measure::rss_mb(pid).unwrap_or(0.0));
    let peak_fds = fds.finish();
    let _ = Command::new("tmux")
        .args(["send-keys", "-t", &session, "q"])
        .status();
    std::thread::sleep(Duration::from_millis(300));
    kill();
    Ok(TuiRun {
        ready,
        rss_mb: rss,
        fds: peak_fds,
        idle_cpu_pct: (after.saturating_sub(before)).as_secs_f64() / idle.as_secs_f64().max(1e-9)
            * 100.0,
        cpu_to_ready,
        sims_cpu_to_ready,
    })
}

/// The gitops-tui process inside a tmux session: the pane's process or,
/// when a shell stayed in between, its descendant.
fn tui_pid(session: &str) -> Option<u32> {
    let out = Command::new("tmux")
        .args(["display", "-p", "-t", session, "#{pane_pid}"])
        .output()
        .ok()?;
    let pane: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    descendant_named(pane, "gitops-tui", 4)
}

fn descendant_named(pid: u32, name: &str, depth: usize) -> Option<u32> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    if comm.trim() == name {
        return Some(pid);
    }
    if depth == 0 {
        return None;
    }
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    children
        .split_whitespace()
        .filter_map(|c| c.parse().ok())
        .find_map(|c| descendant_named(c, name, depth - 1))
}

pub fn fleet_tui(s: &Settings, fleet: &Fleet, name: &str) -> Result<Vec<Figure>, String> {
    let idle = if s.quick {
        Duration::from_secs(3)
    } else {
        Duration::from_secs(10)
    };
    eprintln!("== {name}: {} apps, {} runs", fleet.apps, s.runs);
    let _ = tui_once(s, fleet, Duration::from_secs(1))?;
    let mut runs = Vec::new();
    for _ in 0..s.runs {
        runs.push(tui_once(s, fleet, idle)?);
    }
    let apps = format!("{} apps on {} clusters", fleet.apps, fleet.contexts.len());
    Ok(vec![
        Figure::ours(
            name,
            "s",
            median(runs.iter().map(|r| r.ready.as_secs_f64()).collect()),
        )
        .note(format!("{apps}; until every app shows a status")),
        Figure::ours(
            &format!("{name}_rss"),
            "MB",
            median(runs.iter().map(|r| r.rss_mb).collect()),
        )
        .note(apps.clone()),
        Figure::ours(
            &format!("{name}_fds"),
            "fds",
            median(runs.iter().map(|r| r.fds as f64).collect()),
        )
        .note(format!(
            "{apps}; peak open descriptors (limit {DEFAULT_NOFILE})"
        )),
        Figure::ours(
            &format!("{name}_idle_cpu"),
            "%",
            median(runs.iter().map(|r| r.idle_cpu_pct).collect()),
        )
        .note(format!(
            "{apps}; one core = 100, over {} s idle",
            idle.as_secs()
        )),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_apps_are_counted_and_a_short_list_refused() {
        let out = r#"{"apps":[{"sync":"Synced","health":"Healthy"},{"sync":"Unknown","health":"Unknown"}]}"#;
        assert_eq!(unknown_apps(out, 2), Ok(1));
        assert!(unknown_apps(out, 3).is_err());
        assert!(unknown_apps("nope", 2).is_err());
    }

    #[test]
    fn commands_run_under_the_default_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "ulimit -n"]);
        let r = measure::run(&mut limited(&cmd), dir.path());
        assert_eq!(r.stdout.trim(), DEFAULT_NOFILE.to_string());
    }
}
