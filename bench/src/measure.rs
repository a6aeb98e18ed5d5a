//! Running a command and measuring it as the kernel sees it: wall time, peak
//! resident memory (`VmHWM`, sampled from `/proc/PID/status`), the peak
//! number of open file descriptors (sampled from `/proc/PID/fd`) and CPU
//! time (`wait4`); medians of repeated runs.
//!
//! Not `wait4`'s `ru_maxrss`: Linux carries the high-water mark of the
//! memory a process replaced by `execve` into it, and a child spawned by
//! vfork replaces the runner's own (a gigabyte with 100 kube-sims), so every
//! command measured the runner.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one run of a command cost.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub wall: Duration,
    pub max_rss_mb: f64,
    pub peak_fds: usize,
    pub cpu: Duration,
    pub stdout: String,
    pub ok: bool,
}

/// The open descriptors of a process, or 0 once it is gone.
pub fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// utime + stime of a process (all its threads), from `/proc/PID/stat`.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_millis(ticks * 1000 / hz))
}

/// The resident set of a process in MB (`VmRSS`).
pub fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Samples a process's descriptors every few milliseconds until stopped,
/// keeping the peak.
pub struct FdSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicUsize>,
    /// The highest `VmHWM` seen, in kB.
    hwm_kb: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FdSampler {
    pub fn start(pid: u32) -> FdSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicUsize::new(0));
        let hwm_kb = Arc::new(AtomicUsize::new(0));
        let (s, p, h) = (stop.clone(), peak.clone(), hwm_kb.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(fd_count(pid), Ordering::Relaxed);
                h.fetch_max(hwm_kb_of(pid).unwrap_or(0), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        FdSampler {
            stop,
            peak,
            hwm_kb,
            thread: Some(thread),
        }
    }

    /// The peak resident memory seen so far, in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        self.hwm_kb.load(Ordering::Relaxed) as f64 / 1024.0
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    pub fn finish(mut self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak()
    }
}

/// The peak resident set of a process's current image, in kB (`VmHWM`).
fn hwm_kb_of(pid: u32) -> Option<usize> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Waits for a child with `wait4`, for its CPU time (and `ru_maxrss`,
/// which is not the child's own: see the module doc).
fn wait4(child: &mut Child) -> (bool, f64, Duration) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own unreaped child; status and usage outlive the call.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r != pid {
        let ok = child.wait().is_ok_and(|s| s.success());
        return (ok, 0.0, Duration::ZERO);
    }
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (
        ok,
        usage.ru_maxrss as f64 / 1024.0,
        tv(usage.ru_utime) + tv(usage.ru_stime),
    )
}

/// Runs `cmd` to completion, stdout captured (into a file, so a large
/// output never blocks the child), stderr discarded unless it fails.
pub fn run(cmd: &mut Command, scratch: &Path) -> Run {
    let out_path = scratch.join("stdout");
    let err_path = scratch.join("stderr");
    let (Ok(out), Ok(err)) = (
        std::fs::File::create(&out_path),
        std::fs::File::create(&err_path),
    ) else {
        return Run::default();
    };
    let start = Instant::now();
    let Ok(mut child) = cmd.stdin(Stdio::null()).stdout(out).stderr(err).spawn() else {
        return Run::default();
    };
    let fds = FdSampler::start(child.id());
    let (ok, _, cpu) = wait4(&mut child);
    let wall = start.elapsed();
    let max_rss_mb = fds.peak_rss_mb();
    let peak_fds = fds.finish();
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    if !ok {
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        eprintln!("  command failed: {cmd:?}: {tail}");
    }
    Run {
        wall,
        max_rss_mb,
        peak_fds,
        cpu,
        stdout,
        ok,
    }
}

pub fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }

    #[test]
    fn a_run_reports_its_output_and_exit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = run(
            Command::new("sh").args(["-c", "sleep 0.1; echo hi"]),
            dir.path(),
        );
        assert!(r.ok);
        assert_eq!(r.stdout, "hi\n");
        assert!(r.max_rss_mb > 0.0);
        let r = run(Command::new("sh").args(["-c", "exit 3"]), dir.path());
        assert!(!r.ok);
    }

    #[test]
    fn a_child_s_peak_memory_is_its_own_not_the_runner_s() {
        // The runner holds a lot (here 512 MB, touched); a small child
        // must not be measured at the runner's size.
        let big: Vec<u8> = vec![1; 512 << 20];
        let dir = tempfile::tempdir().expect("tempdir");
        let r = run(Command::new("sh").args(["-c", "sleep 0.3"]), dir.path());
        assert!(r.ok);
        assert!(
            r.max_rss_mb > 0.0 && r.max_rss_mb < 100.0,
            "{} MB",
            r.max_rss_mb
        );
        assert_eq!(
            big.iter().step_by(4096).map(|b| *b as usize).sum::<usize>(),
            512 << 8
        );
    }

    #[test]
    fn cpu_and_fds_of_this_process_are_read() {
        let me = std::process::id();
        assert!(fd_count(me) >= 3);
        assert!(cpu_time(me).is_some());
        assert!(rss_mb(me).is_some_and(|m| m > 0.0));
    }
}
