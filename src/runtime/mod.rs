//! The TUI's runtime: one `tokio::select!` loop over terminal events,
//! messages from background work and watches, and a clock tick. State changes
//! only in the reducer (`app::update`); a frame is drawn only when the state
//! says it changed, so an idle screen draws nothing, at once after input and
//! at most 30 times a second for background changes (`pacer`).

mod effects;
mod logs;
mod pacer;
mod terminal;
mod watch;
mod watch_managed;

use crate::app::mouse::MouseAction;
use crate::app::{self, AppEntry, AppState, Effect, Keymap, Msg, ThemeKind};
use crate::engine::{Backoff, Engine};
use crossterm::event::{
    Event, EventStream, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often the clock ticks (spinners, fading toasts, ages).
const TICK: Duration = Duration::from_millis(250);

/// How long quitting waits for cancelled operations to finish the object in
/// flight, record themselves and release their leases.
const QUIT_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
    #[error("config [ui.keys]: {0}")]
    Keys(String),
}

/// What the loop counted, for tests and benchmarks.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoopStats {
    pub frames: u64,
    pub messages: u64,
}

/// Run the TUI until the user quits (or SIGTERM/SIGINT), then give running
/// operations a few seconds to stop cleanly before restoring the terminal.
pub async fn run(engine: Arc<Engine>) -> Result<LoopStats, TuiError> {
    let keymap =
        Keymap::from_config(&engine.config.ui.keys).map_err(|e| TuiError::Keys(e.to_string()))?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = ThemeKind::from_config(engine.config.ui.theme.as_deref(), no_color);
    let entries: Vec<AppEntry> = engine
        .apps()
        .into_iter()
        .map(|id| AppEntry {
            context: engine
                .context_of(&id)
                .unwrap_or_else(|_| "(no context)".into()),
            id,
        })
        .collect();
    let first_run = entries.is_empty().then(|| crate::app::FirstRun {
        config: engine
            .config
            .source
            .as_ref()
            .or(engine.config.missing_file.as_ref())
            .map_or_else(
                || "~/.config/gitops-tui/config.toml".to_string(),
                |p| p.display().to_string(),
            ),
        repo_here: git2::Repository::discover(".").is_ok(),
    });
    let mut state = AppState::new(entries, SystemTime::now())
        .with_readonly(engine.readonly())
        .with_keymap(keymap)
        .with_theme(theme);
    state.first_run = first_run;

    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    // The engine's notices (waits before retries, leases taken over) as toasts.
    let notices = tx.clone();
    engine.on_notice(move |line| {
        let _ = notices.send(Msg::Notice {
            text: line.to_string(),
        });
    });
    let mut executor = effects::Executor::new(engine.clone(), tx.clone());
    let mut background = watch::spawn(
        engine.clone(),
        engine.config.record_namespace.clone(),
        tx.clone(),
    );
    background.push(watch_managed::spawn(engine.clone(), tx.clone()));
    // The in-process agent syncs too: on quit it stops like an operation.
    let agent_cancel = CancellationToken::new();
    let mut agent_task = (!engine.readonly())
        .then(|| tokio::spawn(agent(engine.clone(), tx.clone(), agent_cancel.clone())));

    let mut terminal = terminal::Terminal::enter(engine.config.ui.mouse.unwrap_or(true))?;
    // Where the last frame put each pane and row, for the mouse.
    let mut screen = crate::ui::ScreenMap::default();
    let size = terminal.inner.size()?;
    let mut effects = app::update(
        &mut state,
        Msg::Resize {
            width: size.width,
            height: size.height,
        },
    );
    effects.extend(state.start());
    // Flux and Argo CD apps join the list when discovery answers.
    effects.extend(app::discovered::start(&mut state));
    let mut stats = LoopStats::default();
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    // Set on quit: until then running operations may finish the object in flight.
    let mut quit_by: Option<Instant> = None;
    // A test hook: the end-to-end tests check that a panic in the UI loop
    // restores the terminal before the report is printed.
    let panic_for_test = std::env::var_os("GITOPS_TUI_TEST_PANIC").is_some();
    // A benchmark hook: once every app shows a status, the milliseconds since
    // start are written to this file (bench/run's fleet benchmarks wait for it).
    let mut ready_file = std::env::var_os("GITOPS_TUI_READY_FILE").map(std::path::PathBuf::from);
    let started = Instant::now();
    let mut pacer = pacer::Pacer::new(pacer::FRAME);

    'outer: loop {
        for effect in effects.drain(..) {
            match effect {
                // A second quit while operations finish leaves at once.
                Effect::Quit if quit_by.is_some() => break 'outer,
                Effect::Quit => {
                    quit_by = Some(Instant::now() + QUIT_GRACE);
                    agent_cancel.cancel();
                }
                // Quitting: only stopping operations still matters.
                e if quit_by.is_some() && !matches!(e, Effect::Cancel { .. }) => {}
                e => executor.run(e),
            }
        }
        if state.is_dirty() && pacer.due(Instant::now()) {
            state.take_dirty();
            terminal
                .inner
                .draw(|frame| screen = crate::ui::draw_mapped(frame, &state))?;
            pacer.drawn(Instant::now());
            stats.frames += 1;
            if panic_for_test {
                panic!("GITOPS_TUI_TEST_PANIC is set: a panic on purpose, after the first frame");
            }
            // Written once the frame showing every app's status is drawn.
            if ready_file.is_some() && state.all_statused() {
                if let Some(path) = ready_file.take() {
                    let _ = std::fs::write(path, started.elapsed().as_millis().to_string());
                }
            }
        }
        if quit_by.is_some() && !executor.busy() {
            break;
        }
        let grace = quit_by.unwrap_or_else(|| Instant::now() + QUIT_GRACE);
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => Msg::Key { key },
                Some(Ok(Event::Resize(width, height))) => Msg::Resize { width, height },
                Some(Ok(Event::Mouse(m))) => match mouse_msg(&screen, m) {
                    Some(msg) => msg,
                    None => continue,
                },
                Some(Ok(_)) => continue,
                // The terminal went away: nothing left to draw on.
                Some(Err(_)) | None => break 'outer,
            },
            Some(msg) = rx.recv() => msg,
            _ = tick.tick() => Msg::Tick { now: SystemTime::now() },
            _ = term.recv() => Msg::Terminate,
            _ = interrupt.recv() => Msg::Terminate,
            _ = tokio::time::sleep_until(grace), if quit_by.is_some() => break 'outer,
            // A background change waits for its frame (the top of the loop draws it).
            _ = tokio::time::sleep_until(pacer.next_at()), if state.is_dirty() => continue,
        };
        if matches!(
            msg,
            Msg::Key { .. } | Msg::Mouse { .. } | Msg::Resize { .. } | Msg::Terminate
        ) {
            pacer.input();
        }
        stats.messages += 1;
        effects = app::update(&mut state, msg);
    }
    if let (Some(task), Some(deadline)) = (&mut agent_task, quit_by) {
        let _ = tokio::time::timeout_at(deadline, task).await;
    }
    executor.shutdown();
    background.extend(agent_task);
    for task in background {
        task.abort();
    }
    drop(terminal);
    Ok(stats)
}

/// A click or wheel as the reducer's message, with what is under the pointer.
fn mouse_msg(screen: &crate::ui::ScreenMap, m: MouseEvent) -> Option<Msg> {
    let shift = m.modifiers.contains(KeyModifiers::SHIFT);
    let action = match m.kind {
        MouseEventKind::Down(MouseButton::Left) => MouseAction::Click,
        MouseEventKind::ScrollUp if shift => MouseAction::ScrollLeft,
        MouseEventKind::ScrollDown if shift => MouseAction::ScrollRight,
        MouseEventKind::ScrollUp => MouseAction::ScrollUp,
        MouseEventKind::ScrollDown => MouseAction::ScrollDown,
        MouseEventKind::ScrollLeft => MouseAction::ScrollLeft,
        MouseEventKind::ScrollRight => MouseAction::ScrollRight,
        _ => return None,
    };
    Some(Msg::Mouse {
        action,
        hit: crate::ui::hit(screen, m.column, m.row),
    })
}

/// The agent inside the TUI: auto-sync and self-heal while the screen is open.
async fn agent(engine: Arc<Engine>, tx: mpsc::UnboundedSender<Msg>, cancel: CancellationToken) {
    let mut backoff = Backoff::default();
    while !cancel.is_cancelled() {
        for action in engine.agent_pass_cancellable(&mut backoff, &cancel).await {
            let _ = tx.send(Msg::AppChanged { app: action.app });
        }
        tokio::select! {
            _ = tokio::time::sleep(engine.config.agent.interval) => {}
            _ = cancel.cancelled() => {}
        }
    }
}
