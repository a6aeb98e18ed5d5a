//! `fleet_tui_growth`: the TUI's time to every app statused and its peak
//! memory at several fleet sizes (10, 100 and 500 clusters of 10 apps;
//! `--quick`: 5 and 10), each size a fleet of its own, built, measured and
//! dropped before the next. Besides each size's figures it reports each
//! against the smallest size scaled linearly (`peer_value` = smallest ×
//! apps ÷ smallest's apps): a ratio at or under 1 is growth at most
//! linear. The largest size runs fewer times (`--runs`, at most 3 at 500
//! clusters: each run statuses 5,000 apps), which the note says.

use crate::fleet::Fleet;
use crate::measure::median;
use crate::tui::{tui_once, TuiRun};
use crate::{Figure, Settings};
use std::time::{Duration, Instant};

/// The sizes swept, in clusters.
pub fn sizes(quick: bool) -> Vec<usize> {
    if quick {
        vec![5, 10]
    } else {
        vec![10, 100, 500]
    }
}

/// Runs at `clusters`: the settings' runs, at most 3 at 500 clusters.
fn runs_at(s: &Settings, clusters: usize) -> usize {
    if clusters >= 500 {
        s.runs.min(3)
    } else {
        s.runs
    }
}

struct Point {
    clusters: usize,
    apps: usize,
    runs: usize,
    ready_s: f64,
    rss_mb: f64,
    fds: f64,
    /// CPU seconds until ready: the TUI's, and the kube-sims' (the runner's).
    cpu_s: f64,
    sims_cpu_s: f64,
}

fn measure_at(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    clusters: usize,
) -> Result<Point, String> {
    eprintln!(
        "== fleet_tui_growth: {clusters} clusters x {} apps (setting up and syncing)",
        s.apps_per_cluster
    );
    let t = Instant::now();
    let fleet = Fleet::build(rt, &s.bin, clusters, s.apps_per_cluster)?;
    eprintln!("   ready in {:.1} s", t.elapsed().as_secs_f64());
    std::thread::sleep(Duration::from_secs(2));
    let runs = runs_at(s, clusters);
    // Warm-up, then the measured runs (idle CPU is fleet_tui's figure:
    // no idle window here, so the quick run stays short).
    let _ = tui_once(s, &fleet, Duration::ZERO)?;
    let mut measured: Vec<TuiRun> = Vec::new();
    for _ in 0..runs {
        measured.push(tui_once(s, &fleet, Duration::ZERO)?);
    }
    Ok(Point {
        clusters,
        apps: fleet.apps,
        runs,
        ready_s: median(measured.iter().map(|r| r.ready.as_secs_f64()).collect()),
        rss_mb: median(measured.iter().map(|r| r.rss_mb).collect()),
        fds: median(measured.iter().map(|r| r.fds as f64).collect()),
        cpu_s: median(
            measured
                .iter()
                .map(|r| r.cpu_to_ready.as_secs_f64())
                .collect(),
        ),
        sims_cpu_s: median(
            measured
                .iter()
                .map(|r| r.sims_cpu_to_ready.as_secs_f64())
                .collect(),
        ),
    })
}

/// The figures of a sweep (see the module doc).
fn figures(points: &[Point]) -> Vec<Figure> {
    let Some(first) = points.first() else {
        return vec![];
    };
    let scale = |p: &Point, v: f64| v * p.apps as f64 / first.apps as f64;
    let mut out = Vec::new();
    for p in points {
        let name = format!("fleet_tui_growth_{}", p.clusters);
        let note = format!(
            "{} apps on {} clusters; median of {} runs",
            p.apps, p.clusters, p.runs
        );
        let linear = format!("{} clusters scaled linearly", first.clusters);
        let mut time = Figure::ours(&name, "s", p.ready_s).note(note.clone());
        let mut rss = Figure::ours(&format!("{name}_rss"), "MB", p.rss_mb).note(note.clone());
        if p.clusters != first.clusters {
            time = time.against(&linear, scale(p, first.ready_s));
            rss = rss.against(&linear, scale(p, first.rss_mb));
        }
        out.push(time);
        out.push(rss);
        out.push(Figure::ours(&format!("{name}_fds"), "fds", p.fds).note(note.clone()));
        out.push(
            Figure::ours(&format!("{name}_cpu"), "s", p.cpu_s)
                .against("the kube-sims' CPU meanwhile (same 2 cores)", p.sims_cpu_s)
                .note(format!("{note}; the TUI's user + system CPU until ready")),
        );
    }
    out
}

pub fn fleet_tui_growth(rt: &tokio::runtime::Runtime, s: &Settings) -> Result<Vec<Figure>, String> {
    let mut points = Vec::new();
    for clusters in sizes(s.quick) {
        points.push(measure_at(rt, s, clusters)?);
    }
    Ok(figures(&points))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(clusters: usize, ready_s: f64, rss_mb: f64) -> Point {
        Point {
            clusters,
            apps: clusters * 10,
            runs: 5,
            ready_s,
            rss_mb,
            fds: 20.0,
            cpu_s: 1.0,
            sims_cpu_s: 2.0,
        }
    }

    #[test]
    fn each_size_is_set_against_the_smallest_scaled_linearly() {
        let f = figures(&[point(10, 0.5, 40.0), point(100, 2.0, 200.0)]);
        let names: Vec<&str> = f.iter().map(|f| f.bench.as_str()).collect();
        assert_eq!(
            names,
            [
                "fleet_tui_growth_10",
                "fleet_tui_growth_10_rss",
                "fleet_tui_growth_10_fds",
                "fleet_tui_growth_10_cpu",
                "fleet_tui_growth_100",
                "fleet_tui_growth_100_rss",
                "fleet_tui_growth_100_fds",
                "fleet_tui_growth_100_cpu"
            ]
        );
        assert_eq!(f[0].peer_value, None);
        // 2.0 s against 0.5 s x 10: a fifth of linear.
        assert_eq!(f[4].peer_value, Some(5.0));
        assert_eq!(f[5].peer_value, Some(400.0));
        assert!(f[4].json()["ratio"] == 0.4);
        assert_eq!(f[7].json()["ratio"], 0.5);
    }

    #[test]
    fn the_quick_sweep_leaves_out_500_clusters_and_500_runs_fewer() {
        assert_eq!(sizes(true), [5, 10]);
        assert_eq!(sizes(false), [10, 100, 500]);
        let s = Settings {
            bin: "x".into(),
            quick: false,
            runs: 5,
            clusters: 100,
            apps_per_cluster: 10,
        };
        assert_eq!(runs_at(&s, 100), 5);
        assert_eq!(runs_at(&s, 500), 3);
    }
}
