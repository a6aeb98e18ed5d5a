//! `bench/run`: every benchmark of gitops-tui beside its peer, in one run.
//!
//! Each benchmark prints one JSON object per figure:
//! `{"bench", "unit", "ours", "peer", "peer_value", "ratio"}`, medians of
//! `--runs` runs (5 by default) after a warm-up, ours and the peer
//! interleaved so both see the same machine. Progress goes to stderr.
//! `--quick` shrinks the sizes (10 clusters, smaller repositories) so the
//! whole run is a smoke check of a few minutes.

mod cargo_benches;
mod fleet;
mod growth;
mod history;
mod measure;
mod objects;
mod single;
mod tree;
mod tui;

use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Counts the bytes held, for `fleet_objects` (`objects.rs`).
#[global_allocator]
static ALLOCATOR: objects::Counting = objects::Counting;

/// What one benchmark measured.
#[derive(Debug, Clone)]
pub struct Figure {
    pub bench: String,
    pub unit: &'static str,
    pub ours: f64,
    pub peer: Option<String>,
    pub peer_value: Option<f64>,
    pub note: Option<String>,
}

impl Figure {
    pub fn ours(bench: &str, unit: &'static str, ours: f64) -> Figure {
        Figure {
            bench: bench.into(),
            unit,
            ours,
            peer: None,
            peer_value: None,
            note: None,
        }
    }

    pub fn against(mut self, peer: &str, value: f64) -> Figure {
        self.peer = Some(peer.into());
        self.peer_value = Some(value);
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Figure {
        self.note = Some(note.into());
        self
    }

    fn json(&self) -> serde_json::Value {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        let ratio = self
            .peer_value
            .filter(|p| *p > 0.0)
            .map(|p| round(self.ours / p));
        let mut v = json!({
            "bench": self.bench,
            "unit": self.unit,
            "ours": round(self.ours),
            "peer": self.peer,
            "peer_value": self.peer_value.map(round),
            "ratio": ratio,
        });
        if let Some(n) = &self.note {
            v["note"] = json!(n);
        }
        v
    }
}

pub struct Settings {
    pub bin: PathBuf,
    pub quick: bool,
    pub runs: usize,
    pub clusters: usize,
    pub apps_per_cluster: usize,
}

const BENCHES: &[&str] = &[
    "history",
    "manifests_at_commit",
    "drift",
    "sync_noop",
    "fleet_status",
    "fleet_tui",
    "fleet_remote",
    "fleet_objects",
    "fleet_tui_growth",
    "render",
    "event_to_frame",
    "kube_sim_watch",
];

fn usage() -> String {
    format!(
        "usage: bench/run [--quick] [--runs N] [--clusters N] [--only NAME,...]\nbenchmarks: {}",
        BENCHES.join(", ")
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut bin = PathBuf::from("target/release/gitops-tui");
    let mut quick = false;
    let mut runs = None;
    let mut clusters = None;
    let mut only: Option<Vec<String>> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--bin" => bin = args.next().map(PathBuf::from).unwrap_or(bin),
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()),
            "--clusters" => clusters = args.next().and_then(|n| n.parse().ok()),
            "--only" => {
                only = args
                    .next()
                    .map(|l| l.split(',').map(str::to_string).collect())
            }
            "--help" | "-h" => {
                println!("{}", usage());
                return;
            }
            other => {
                eprintln!("unknown argument {other}\n{}", usage());
                std::process::exit(2);
            }
        }
    }
    if let Some(unknown) = only
        .iter()
        .flatten()
        .find(|n| !BENCHES.contains(&n.as_str()))
    {
        eprintln!("unknown benchmark {unknown}\n{}", usage());
        std::process::exit(2);
    }
    let settings = Settings {
        bin,
        quick,
        runs: runs.unwrap_or(5).max(1),
        clusters: clusters.unwrap_or(if quick { 10 } else { 100 }),
        apps_per_cluster: 10,
    };
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|n| n == name));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("no runtime: {e}");
            std::process::exit(1);
        }
    };
    let started = Instant::now();
    let mut failed = false;
    let mut emit = |result: Result<Vec<Figure>, String>, name: &str| match result {
        Ok(figures) => figures.iter().for_each(|f| println!("{}", f.json())),
        Err(e) => {
            failed = true;
            println!("{}", json!({"bench": name, "error": e}));
        }
    };
    if wanted("history") {
        emit(history::history(&settings), "history");
    }
    if wanted("manifests_at_commit") {
        emit(tree::manifests_at_commit(&settings), "manifests_at_commit");
    }
    if wanted("drift") || wanted("sync_noop") {
        let objects = if settings.quick { 300 } else { 2_000 };
        eprintln!("== one app of {objects} objects (setting up and syncing)");
        match single::BigApp::build(&rt, &settings.bin, objects) {
            Ok(app) => {
                if wanted("drift") {
                    emit(single::drift(&settings, &app), "drift");
                }
                if wanted("sync_noop") {
                    emit(single::sync_noop(&settings, &app), "sync_noop");
                }
            }
            Err(e) => emit(Err(e), "drift"),
        }
    }
    if ["fleet_status", "fleet_tui", "fleet_remote", "fleet_objects"]
        .iter()
        .any(|b| wanted(b))
    {
        eprintln!(
            "== fleet: {} clusters x {} apps (setting up and syncing)",
            settings.clusters, settings.apps_per_cluster
        );
        let t = Instant::now();
        match fleet::Fleet::build(
            &rt,
            &settings.bin,
            settings.clusters,
            settings.apps_per_cluster,
        ) {
            Ok(fleet) => {
                eprintln!("   ready in {:.1} s", t.elapsed().as_secs_f64());
                // Let the simulated controllers settle (pods ready).
                std::thread::sleep(Duration::from_secs(2));
                if wanted("fleet_objects") {
                    emit(objects::fleet_objects(&settings, &fleet), "fleet_objects");
                }
                if wanted("fleet_status") {
                    emit(
                        tui::fleet_status(&settings, &fleet, "fleet_status"),
                        "fleet_status",
                    );
                }
                if wanted("fleet_tui") {
                    emit(tui::fleet_tui(&settings, &fleet, "fleet_tui"), "fleet_tui");
                }
                if wanted("fleet_remote") {
                    fleet.set_latency(Some(Duration::from_millis(20)));
                    emit(
                        tui::fleet_status(&settings, &fleet, "fleet_remote_status"),
                        "fleet_remote",
                    );
                    emit(
                        tui::fleet_tui(&settings, &fleet, "fleet_remote_tui"),
                        "fleet_remote",
                    );
                    fleet.set_latency(None);
                }
            }
            Err(e) => emit(Err(e), "fleet"),
        }
    }
    if wanted("fleet_tui_growth") {
        emit(growth::fleet_tui_growth(&rt, &settings), "fleet_tui_growth");
    }
    if wanted("render") || wanted("event_to_frame") {
        eprintln!("== render, event_to_frame (cargo bench --bench tui)");
        let runs = ("BENCH_RUNS", settings.runs.to_string());
        let lines = cargo_benches::run(&["-p", "gitops-tui", "--bench", "tui"], &[runs]);
        let keep = |l: &String| {
            (wanted("render") && l.contains("\"bench\":\"render\""))
                || (wanted("event_to_frame") && l.contains("\"bench\":\"event_to_frame"))
        };
        match lines {
            Ok(lines) => lines
                .iter()
                .filter(|l| keep(l))
                .for_each(|l| println!("{l}")),
            Err(e) => emit(Err(e), "render"),
        }
    }
    if wanted("kube_sim_watch") {
        eprintln!("== kube_sim_watch (cargo bench -p kube-sim --bench throughput)");
        let objects = if settings.quick { "2000" } else { "50000" };
        let env = [
            ("KUBE_SIM_BENCH_ONLY", "watch".to_string()),
            ("KUBE_SIM_BENCH_OBJECTS", objects.to_string()),
        ];
        match cargo_benches::run(&["-p", "kube-sim", "--bench", "throughput"], &env) {
            Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
            Err(e) => emit(Err(e), "kube_sim_watch"),
        }
    }
    eprintln!("== done in {:.0} s", started.elapsed().as_secs_f64());
    if failed {
        std::process::exit(1);
    }
}
