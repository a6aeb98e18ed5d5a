//! A small hand-written bench runner shared by the bench binaries: repeat a
//! closure, print min / median / max, and say how busy the machine was.
//!
//! The binaries only measure under `cargo bench` (which passes `--bench`);
//! under `cargo test --all-targets` they print a line and exit, so timings
//! never run as tests.

#![allow(dead_code)]

use std::time::{Duration, Instant};

/// The allocator the product binary uses (src/main.rs), so the benches
/// measure what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// True under `cargo bench`; false when cargo runs the binary as a test.
pub fn benching() -> bool {
    if std::env::args().any(|a| a == "--bench") {
        return true;
    }
    println!("benchmarks run only under `cargo bench`; skipping");
    false
}

#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub min: Duration,
    pub median: Duration,
    /// The 99th percentile (nearest rank).
    pub p99: Duration,
    pub max: Duration,
    pub runs: usize,
}

impl Stats {
    pub fn from_samples(mut samples: Vec<Duration>) -> Stats {
        assert!(!samples.is_empty(), "no samples");
        samples.sort();
        let n = samples.len();
        let median = if n % 2 == 1 {
            samples[n / 2]
        } else {
            (samples[n / 2 - 1] + samples[n / 2]) / 2
        };
        let rank = (n * 99).div_ceil(100).clamp(1, n);
        Stats {
            min: samples[0],
            median,
            p99: samples[rank - 1],
            max: samples[n - 1],
            runs: n,
        }
    }

    /// Every figure divided by `per` (for per-message costs measured in batches).
    pub fn per(self, per: u32) -> Stats {
        Stats {
            min: self.min / per,
            median: self.median / per,
            p99: self.p99 / per,
            max: self.max / per,
            runs: self.runs,
        }
    }
}

/// Runs `f` `warmup` times untimed, then `runs` times timed.
pub fn measure<T>(name: &str, warmup: usize, runs: usize, mut f: impl FnMut() -> T) -> Stats {
    for _ in 0..warmup {
        std::hint::black_box(f());
    }
    let samples = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    let s = Stats::from_samples(samples);
    print_stats(name, &s);
    s
}

/// Like [`measure`], but `f` times itself (for set-up that must stay untimed).
pub fn measure_timed(name: &str, warmup: usize, runs: usize, f: impl FnMut() -> Duration) -> Stats {
    measure_batch(name, warmup, runs, 1, f)
}

/// Like [`measure_timed`], where each call handles `per` items: prints and
/// returns the time per item.
pub fn measure_batch(
    name: &str,
    warmup: usize,
    runs: usize,
    per: u32,
    mut f: impl FnMut() -> Duration,
) -> Stats {
    for _ in 0..warmup {
        f();
    }
    let s = Stats::from_samples((0..runs).map(|_| f()).collect()).per(per);
    print_stats(name, &s);
    s
}

/// With `BENCH_JSON` set (as `bench/run` does), one figure as the runner's
/// JSON line, in milliseconds, with no peer.
pub fn json_line(bench: &str, d: Duration, note: &str) {
    if std::env::var_os("BENCH_JSON").is_none() {
        return;
    }
    let ms = (d.as_secs_f64() * 1e6).round() / 1e3;
    println!(
        "{{\"bench\":\"{bench}\",\"unit\":\"ms\",\"ours\":{ms},\"peer\":null,\"peer_value\":null,\"ratio\":null,\"note\":\"{note}\"}}"
    );
}

pub fn print_stats(name: &str, s: &Stats) {
    println!(
        "{name:<58} median {:>10}  min {:>10}  max {:>10}  (n={})",
        fmt(s.median),
        fmt(s.min),
        fmt(s.max),
        s.runs
    );
}

pub fn fmt(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns >= 1_000_000_000 {
        format!("{:.2} s", d.as_secs_f64())
    } else if ns >= 1_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else if ns >= 1_000 {
        format!("{:.2} µs", ns as f64 / 1e3)
    } else {
        format!("{ns} ns")
    }
}

/// `a / b` as a ratio of medians.
pub fn ratio(a: &Stats, b: &Stats) -> f64 {
    a.median.as_secs_f64() / b.median.as_secs_f64()
}

/// The 1/5/15-minute load averages and the core count, for the report.
pub fn load() -> String {
    let avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let avg: Vec<&str> = avg.split_whitespace().take(3).collect();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("load average {} on {cores} cores", avg.join(" "))
}

pub fn header(title: &str) {
    println!("== {title} ({})", load());
}

/// Iteration count from the environment (`BENCH_RUNS=3 cargo bench ...`),
/// for quick runs; `default` otherwise.
pub fn runs(default: usize) -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
