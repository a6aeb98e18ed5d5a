//! Terminal set-up and restore (raw mode, the alternate screen, mouse
//! capture). The terminal is restored on every exit path
//! (a normal quit, an error, SIGTERM, a panic) and exactly once: leaving the
//! alternate screen a second time moves the cursor back to where the TUI
//! started, over whatever was printed since (a panic report).
//!
//! The panic hook restores only for a panic on the UI thread, then prints the
//! report (color-eyre's hook). A panic in a background task does not end the
//! TUI, so it must not take the terminal away from under it: it is logged.

use crossterm::cursor::Show;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::DefaultTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the terminal is in the TUI's state (raw, alternate screen).
static ENTERED: AtomicBool = AtomicBool::new(false);
/// Whether mouse reporting was turned on (and so must be turned off).
static MOUSE: AtomicBool = AtomicBool::new(false);

pub struct Terminal {
    pub inner: DefaultTerminal,
}

impl Terminal {
    /// Raw mode, alternate screen, mouse reporting when `mouse`, and a
    /// panic hook that undoes them.
    pub fn enter(mouse: bool) -> std::io::Result<Self> {
        let previous = std::panic::take_hook();
        let ui = std::thread::current().id();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == ui {
                restore();
                previous(info);
            } else {
                tracing::error!("a background task panicked: {info}");
            }
        }));
        enable_raw_mode()?;
        ENTERED.store(true, Ordering::SeqCst);
        execute!(std::io::stdout(), EnterAlternateScreen)?;
        if mouse {
            MOUSE.store(true, Ordering::SeqCst);
            execute!(std::io::stdout(), EnableMouseCapture)?;
        }
        let inner = ratatui::Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
        Ok(Terminal { inner })
    }
}

/// Leave raw mode and the alternate screen, once.
fn restore() {
    if ENTERED.swap(false, Ordering::SeqCst) {
        if MOUSE.swap(false, Ordering::SeqCst) {
            let _ = execute!(std::io::stdout(), DisableMouseCapture);
        }
        let _ = disable_raw_mode();
        let _ = execute!(std::io::stdout(), LeaveAlternateScreen, Show);
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        restore();
    }
}
