//! The TUI's costs, measured in-process: one frame with 1,000 apps and
//! 20,000 resources, the reducer per message, a watch event to the frame that
//! shows it, and the first frame after start on the demo world. Issue 4.
//! (Idle CPU of the real binary is measured by `benches/idle_cpu.sh`.)
//!
//! `cargo bench --bench tui` (`BENCH_RUNS=N` to change the repeat count).

mod support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gitops_tui::app::{update, AppEntry, AppState, Commit, Effect, History, Msg};
use gitops_tui::engine::Engine;
use gitops_tui::model::{AppId, AppStatus, Counts, ResourceState};
use gitops_tui::model::{Health, ResourceKey, ResourceStatus, SyncStatus};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::*;

const APPS: usize = 1_000;
const RESOURCES_PER_APP: usize = 20;
const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;
const HEAD: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";

fn main() {
    if !benching() {
        return;
    }
    header("tui: frames, reducer, event-to-frame, first frame");
    big_world();
    demo_world();
    println!("== done ({})", load());
}

// ---------------------------------------------------------------- big world

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

fn app_name(i: usize) -> AppId {
    AppId::native(format!("app-{i:04}"))
}

const DIFF: &str = "--- live apps/Deployment ns/web\n+++ git apps/Deployment ns/web\n@@ -6,7 +6,7 @@\n   name: web\n spec:\n-  replicas: 5\n+  replicas: 2\n   selector:\n";

fn resource(app: usize, j: usize, variant: usize) -> ResourceState {
    let ns = app_name(app).name;
    let (group, kind, api_version) = match j % 4 {
        0 => ("apps", "Deployment", "apps/v1"),
        1 => ("", "Service", "v1"),
        2 => ("", "ConfigMap", "v1"),
        _ => ("", "Secret", "v1"),
    };
    let name = format!("{kind}-{j:02}").to_lowercase();
    // Most resources synced; some drift, a few missing or degraded.
    let (status, health, reason, diff) = match (app + j + variant) % 23 {
        0 => (ResourceStatus::OutOfSync, Health::Healthy, "", DIFF),
        1 => (
            ResourceStatus::Missing,
            Health::Missing,
            "not in the cluster",
            "",
        ),
        2 if kind == "Deployment" => (
            ResourceStatus::Synced,
            Health::Degraded,
            "Deployment exceeded its progress deadline",
            "",
        ),
        _ => (ResourceStatus::Synced, Health::Healthy, "", ""),
    };
    ResourceState {
        takeover: None,
        live: (status != ResourceStatus::Missing).then(|| {
            json!({"apiVersion": api_version, "kind": kind,
                "metadata": {"name": name, "namespace": ns, "uid": format!("{ns}-{kind}-{name}")}})
            .into()
        }),
        key: ResourceKey {
            group: group.into(),
            kind: kind.into(),
            namespace: Some(ns),
            name,
        },
        api_version: api_version.into(),
        status,
        health,
        health_reason: reason.into(),
        diff: diff.into(),
    }
}

/// App `i`'s status; `variant` shifts which resources drift, so two
/// variants of one app always differ on screen.
fn status(i: usize, variant: usize) -> AppStatus {
    let resources: Vec<ResourceState> = (0..RESOURCES_PER_APP)
        .map(|j| resource(i, j, variant))
        .collect();
    let mut counts = Counts::default();
    let mut health = Health::Healthy;
    for r in &resources {
        match r.status {
            ResourceStatus::Synced => counts.synced += 1,
            ResourceStatus::OutOfSync => counts.out_of_sync += 1,
            ResourceStatus::Missing => counts.missing += 1,
            ResourceStatus::Extra => counts.extra += 1,
        }
        if r.health == Health::Degraded {
            health = Health::Degraded;
        }
    }
    let in_sync = counts.out_of_sync + counts.missing + counts.extra == 0;
    AppStatus {
        name: app_name(i),
        source: format!("platform@main:apps/{}", app_name(i)),
        sync: if in_sync {
            SyncStatus::Synced
        } else {
            SyncStatus::OutOfSync
        },
        health,
        suspended: i.is_multiple_of(97),
        suspension: None,
        paused_revision: None,
        deployed_revision: Some(HEAD.into()),
        head_revision: Some(HEAD.into()),
        last_sync: None,
        lease: None,
        drift_unavailable: None,
        target_revision: Some(HEAD.into()),
        message: if in_sync {
            format!("{} resources in sync", counts.synced)
        } else {
            format!(
                "{} out of sync, {} missing, {} extra",
                counts.out_of_sync, counts.missing, counts.extra
            )
        },
        counts,
        warnings: vec![],
        resources,
        controller: None,
    }
}

fn history() -> History {
    History {
        commits: (0..50)
            .map(|k| Commit {
                sha: format!("{k:040x}").into(),
                author: "Ines Larsson".into(),
                time: Some(now() - Duration::from_secs(3600 * (k + 1))),
                subject: format!("change number {k}"),
                deployed: k == 0,
                head: k == 0,
                pinned: false,
            })
            .collect(),
        syncs: vec![],
    }
}

fn entries() -> Vec<AppEntry> {
    (0..APPS)
        .map(|i| AppEntry {
            id: app_name(i),
            context: ["prod-eu", "prod-us", "staging"][i % 3].into(),
        })
        .collect()
}

/// Feeds every LoadStatus effect its answer (from `statuses`, by index).
fn feed(state: &mut AppState, effects: Vec<Effect>, statuses: &mut [Option<AppStatus>]) {
    for e in effects {
        if let Effect::LoadStatus { app, generation } = e {
            let i = state.app_index(&app).expect("app");
            if let Some(st) = statuses[i].take() {
                update(
                    state,
                    Msg::StatusLoaded {
                        app,
                        generation,
                        result: Ok(st),
                    },
                );
            }
        }
    }
}

fn loaded_world() -> AppState {
    let mut s = AppState::new(entries(), now());
    update(
        &mut s,
        Msg::Resize {
            width: WIDTH,
            height: HEIGHT,
        },
    );
    let effects = s.start();
    let mut statuses: Vec<Option<AppStatus>> = (0..APPS).map(|i| Some(status(i, 0))).collect();
    feed(&mut s, effects, &mut statuses);
    let selected = s.selected_index().expect("a selected app");
    let name = s.apps[selected].id.clone();
    update(
        &mut s,
        Msg::CommitsLoaded {
            app: name,
            result: Ok(history()),
        },
    );
    s
}

fn key(c: char) -> Msg {
    Msg::Key {
        key: KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
    }
}

fn new_terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("test backend")
}

fn big_world() {
    println!(
        "\n-- {APPS} apps, {} resources, {WIDTH}x{HEIGHT}",
        APPS * RESOURCES_PER_APP
    );
    let n = runs(7);
    let t = Instant::now();
    let mut state = loaded_world();
    println!("set-up: built and fed the world in {}", fmt(t.elapsed()));
    let loaded = state
        .apps
        .iter()
        .filter(|a| a.status.value.is_some())
        .count();
    assert_eq!(loaded, APPS, "every app has its status");

    let frame = measure(
        "frame: Terminal::new(TestBackend) + draw",
        5,
        n * 30,
        || {
            let mut terminal = new_terminal();
            terminal
                .draw(|f| gitops_tui::ui::draw(f, &state))
                .expect("draw");
        },
    );
    let mut terminal = new_terminal();
    measure(
        "frame: draw on a kept terminal (as the runtime)",
        5,
        n * 30,
        || {
            terminal
                .draw(|f| gitops_tui::ui::draw(f, &state))
                .expect("draw");
        },
    );
    // Sanity: the frame shows the apps.
    let text = terminal.backend().to_string();
    assert!(text.contains("app-0000"), "{text}");

    // The reducer, per message, in batches of APPS messages.
    let batch = APPS as u32;
    measure_batch("reducer: AppChanged (per message)", 1, n, batch, || {
        let t = Instant::now();
        for i in 0..APPS {
            std::hint::black_box(update(&mut state, Msg::AppChanged { app: app_name(i) }));
        }
        let d = t.elapsed();
        // Answer the loads (untimed) so the next batch starts idle.
        let effects = (0..APPS)
            .map(|i| Effect::LoadStatus {
                app: app_name(i),
                generation: state.apps[i].status.generation(),
            })
            .collect();
        let mut statuses: Vec<Option<AppStatus>> = (0..APPS).map(|i| Some(status(i, 0))).collect();
        feed(&mut state, effects, &mut statuses);
        d
    });
    let mut variant = 0;
    measure_batch(
        "reducer: StatusLoaded, 20 resources (per message)",
        1,
        n,
        batch,
        || {
            variant += 1;
            let msgs: Vec<Msg> = (0..APPS)
                .map(|i| {
                    let effects = update(&mut state, Msg::AppChanged { app: app_name(i) });
                    let generation = match effects.first() {
                        Some(Effect::LoadStatus { generation, .. }) => *generation,
                        other => panic!("expected a status load, got {other:?}"),
                    };
                    Msg::StatusLoaded {
                        app: app_name(i),
                        generation,
                        result: Ok(status(i, variant)),
                    }
                })
                .collect();
            let t = Instant::now();
            for m in msgs {
                std::hint::black_box(update(&mut state, m));
            }
            t.elapsed()
        },
    );
    let mut clock = now();
    measure_batch("reducer: Tick (per message)", 1, n, batch, || {
        let t = Instant::now();
        for _ in 0..APPS {
            clock += Duration::from_millis(250);
            std::hint::black_box(update(&mut state, Msg::Tick { now: clock }));
        }
        t.elapsed()
    });
    measure_batch(
        "reducer: key j/k, moving the selection (per message)",
        1,
        n,
        batch,
        || {
            let t = Instant::now();
            for k in 0..APPS {
                let c = if k % 2 == 0 { 'j' } else { 'k' };
                std::hint::black_box(update(&mut state, key(c)));
            }
            t.elapsed()
        },
    );

    // A watch event for the selected app to the frame that shows it:
    // AppChanged → (load) → StatusLoaded → draw, status load itself excluded
    // (see the demo section for one with a real load).
    let selected = state.selected_index().expect("selected");
    let app = state.apps[selected].id.clone();
    let mut variant = 0;
    let e2f = measure_timed(
        "event-to-frame: AppChanged → StatusLoaded → draw",
        5,
        n * 30,
        || {
            variant += 1;
            let next = status(selected, variant);
            let t = Instant::now();
            let effects = update(&mut state, Msg::AppChanged { app: app.clone() });
            let Some(Effect::LoadStatus { generation, .. }) = effects.into_iter().next() else {
                panic!("expected a status load");
            };
            update(
                &mut state,
                Msg::StatusLoaded {
                    app: app.clone(),
                    generation,
                    result: Ok(next),
                },
            );
            assert!(state.take_dirty(), "the change marks the state dirty");
            terminal
                .draw(|f| gitops_tui::ui::draw(f, &state))
                .expect("draw");
            t.elapsed()
        },
    );
    println!(
        "targets: frame {} (< 5 ms), event-to-frame {} (< 50 ms)",
        fmt(frame.median),
        fmt(e2f.median)
    );
    let world = "1,000 apps x 20 resources, 160x48";
    json_line(
        "render",
        frame.median,
        &format!("one frame, new terminal; {world}"),
    );
    json_line("event_to_frame_p50", e2f.median, world);
    json_line("event_to_frame_p99", e2f.p99, world);
}

// ---------------------------------------------------------------- demo world

fn demo_entries(engine: &Engine) -> Vec<AppEntry> {
    engine
        .config
        .apps
        .iter()
        .map(|a| AppEntry {
            id: a.id(),
            context: engine
                .context_of(&a.id())
                .unwrap_or_else(|_| "(no context)".into()),
        })
        .collect()
}

fn started(engine: &Engine) -> (AppState, Vec<Effect>) {
    let mut state = AppState::new(demo_entries(engine), SystemTime::now());
    let mut effects = update(
        &mut state,
        Msg::Resize {
            width: WIDTH,
            height: HEIGHT,
        },
    );
    effects.extend(state.start());
    (state, effects)
}

/// Runs the effects' status and commit loads concurrently against the
/// engine, as the runtime's executor does, and feeds the answers.
async fn load_all(engine: &Arc<Engine>, state: &mut AppState, effects: Vec<Effect>) {
    let mut statuses = Vec::new();
    let mut commits = Vec::new();
    for e in effects {
        match e {
            Effect::LoadStatus { app, generation } => statuses.push(async move {
                let result = engine.status(&app).await.map_err(|e| e.to_string());
                Msg::StatusLoaded {
                    app,
                    generation,
                    result,
                }
            }),
            Effect::LoadCommits { app } => commits.push(async move {
                let result = engine
                    .history(&app)
                    .await
                    .map(History::from_report)
                    .map_err(|e| e.to_string());
                Msg::CommitsLoaded { app, result }
            }),
            _ => {}
        }
    }
    let (s, c) = futures::join!(
        futures::future::join_all(statuses),
        futures::future::join_all(commits)
    );
    for m in s.into_iter().chain(c) {
        update(state, m);
    }
}

fn demo_world() {
    let n = runs(7);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let t = Instant::now();
    let demo = rt
        .block_on(gitops_tui::demo::start(Some(dir.path().join("demo"))))
        .expect("demo starts");
    let engine = demo.engine.clone();
    println!(
        "\n-- demo world ({} apps, in-process kube-sim), built in {} (untimed)",
        engine.config.apps.len(),
        fmt(t.elapsed())
    );

    // What the runtime draws first: the apps, statuses still loading.
    measure(
        "first frame: new + start + draw (statuses loading)",
        3,
        n * 10,
        || {
            let (state, _effects) = started(&engine);
            let mut terminal = new_terminal();
            terminal
                .draw(|f| gitops_tui::ui::draw(f, &state))
                .expect("draw");
        },
    );
    // The first frame with every status and the selected app's commits in:
    // the loads run against the demo's kube-sim and Git repository.
    let first = measure(
        "first full frame: new + start + load statuses + draw",
        1,
        n,
        || {
            let (mut state, effects) = started(&engine);
            rt.block_on(load_all(&engine, &mut state, effects));
            assert!(state.apps.iter().all(|a| a.status.value.is_some()));
            let mut terminal = new_terminal();
            terminal
                .draw(|f| gitops_tui::ui::draw(f, &state))
                .expect("draw");
        },
    );
    // The same with the answers already computed: the UI's share alone.
    let (mut warm, effects) = started(&engine);
    rt.block_on(load_all(&engine, &mut warm, effects));
    let answers: Vec<AppStatus> = warm
        .apps
        .iter()
        .map(|a| a.status.value.clone().expect("status loaded"))
        .collect();
    measure_timed(
        "first full frame, statuses precomputed (UI only)",
        3,
        n * 10,
        || {
            let mut statuses: Vec<Option<AppStatus>> = answers.iter().cloned().map(Some).collect();
            let t = Instant::now();
            let (mut state, effects) = started(&engine);
            feed(&mut state, effects, &mut statuses);
            let mut terminal = new_terminal();
            terminal
                .draw(|f| gitops_tui::ui::draw(f, &state))
                .expect("draw");
            t.elapsed()
        },
    );

    // A watch event to its frame, with the real status load.
    let mut terminal = new_terminal();
    let selected = warm.selected_index().expect("selected");
    let app = warm.apps[selected].id.clone();
    let e2f = measure(
        "event-to-frame with the status load (demo app)",
        2,
        n * 3,
        || {
            let effects = update(&mut warm, Msg::AppChanged { app: app.clone() });
            rt.block_on(load_all(&engine, &mut warm, effects));
            warm.take_dirty();
            terminal
                .draw(|f| gitops_tui::ui::draw(f, &warm))
                .expect("draw");
        },
    );
    println!(
        "targets: first full frame {} (< 100 ms), event-to-frame with load {} (< 50 ms)",
        fmt(first.median),
        fmt(e2f.median)
    );
    rt.block_on(demo.stop());
}
