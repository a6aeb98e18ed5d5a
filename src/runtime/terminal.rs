//! Terminal set-up and restore. The terminal is restored on every exit path:
//! a normal quit, an error, SIGTERM, and a panic (ratatui's hook restores it
//! before the panic report is printed).

use ratatui::DefaultTerminal;

pub struct Terminal {
    pub inner: DefaultTerminal,
}

impl Terminal {
    /// Raw mode, alternate screen, and a panic hook that undoes both.
    pub fn enter() -> std::io::Result<Self> {
        let inner = ratatui::try_init()?;
        Ok(Terminal { inner })
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        ratatui::restore();
    }
}
