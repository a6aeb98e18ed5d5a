//! Colours and symbols. Every state is printed as its word (the CLI's), with
//! an icon and a colour beside it, so the plain theme (NO_COLOR) loses
//! nothing but colour.

use crate::app::{ConnectionState, ThemeKind, ToastLevel};
use crate::model::{Health, ResourceStatus, SyncStatus};
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub text: Style,
    pub dim: Style,
    pub title: Style,
    pub header: Style,
    pub border: Style,
    pub border_focus: Style,
    pub selected: Style,
    pub ok: Style,
    pub warn: Style,
    pub bad: Style,
    pub info: Style,
    pub added: Style,
    pub removed: Style,
    pub added_word: Style,
    pub removed_word: Style,
    pub hunk: Style,
    pub file_header: Style,
    pub mark: Style,
}

impl Theme {
    pub fn of(kind: ThemeKind) -> Theme {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        match kind {
            ThemeKind::Plain => Theme {
                text: Style::new(),
                dim: Style::new(),
                title: bold,
                header: bold,
                border: Style::new(),
                border_focus: bold,
                selected: Style::new().add_modifier(Modifier::REVERSED),
                ok: Style::new(),
                warn: Style::new(),
                bad: bold,
                info: Style::new(),
                added: Style::new(),
                removed: Style::new(),
                added_word: Style::new().add_modifier(Modifier::UNDERLINED),
                removed_word: Style::new().add_modifier(Modifier::UNDERLINED),
                hunk: bold,
                file_header: bold,
                mark: bold,
            },
            ThemeKind::Dark => Theme {
                text: Style::new().fg(Color::Gray),
                dim: Style::new().fg(Color::DarkGray),
                title: bold.fg(Color::Cyan),
                header: bold.fg(Color::White),
                border: Style::new().fg(Color::DarkGray),
                border_focus: Style::new().fg(Color::Cyan),
                selected: Style::new()
                    .bg(Color::Indexed(237))
                    .add_modifier(Modifier::BOLD),
                ok: Style::new().fg(Color::Green),
                warn: Style::new().fg(Color::Yellow),
                bad: Style::new().fg(Color::Red),
                info: Style::new().fg(Color::Cyan),
                added: Style::new().fg(Color::Green),
                removed: Style::new().fg(Color::Red),
                added_word: Style::new().fg(Color::Black).bg(Color::Green),
                removed_word: Style::new().fg(Color::Black).bg(Color::Red),
                hunk: Style::new().fg(Color::Magenta),
                file_header: bold.fg(Color::White),
                mark: bold.fg(Color::Yellow),
            },
            ThemeKind::Light => Theme {
                text: Style::new().fg(Color::Black),
                dim: Style::new().fg(Color::Gray),
                title: bold.fg(Color::Blue),
                header: bold.fg(Color::Black),
                border: Style::new().fg(Color::Gray),
                border_focus: Style::new().fg(Color::Blue),
                selected: Style::new()
                    .bg(Color::Indexed(254))
                    .add_modifier(Modifier::BOLD),
                ok: Style::new().fg(Color::Indexed(28)),
                warn: Style::new().fg(Color::Indexed(130)),
                bad: Style::new().fg(Color::Indexed(124)),
                info: Style::new().fg(Color::Blue),
                added: Style::new().fg(Color::Indexed(28)),
                removed: Style::new().fg(Color::Indexed(124)),
                added_word: Style::new().fg(Color::White).bg(Color::Indexed(28)),
                removed_word: Style::new().fg(Color::White).bg(Color::Indexed(124)),
                hunk: Style::new().fg(Color::Magenta),
                file_header: bold.fg(Color::Black),
                mark: bold.fg(Color::Indexed(130)),
            },
        }
    }

    pub fn sync(&self, s: SyncStatus) -> Style {
        match s {
            SyncStatus::Synced => self.ok,
            SyncStatus::OutOfSync => self.warn,
            SyncStatus::Unknown => self.dim,
        }
    }

    pub fn resource(&self, s: ResourceStatus) -> Style {
        match s {
            ResourceStatus::Synced => self.ok,
            ResourceStatus::OutOfSync | ResourceStatus::Missing | ResourceStatus::Extra => {
                self.warn
            }
        }
    }

    pub fn health(&self, h: Health) -> Style {
        match h {
            Health::Healthy => self.ok,
            Health::Progressing => self.info,
            Health::Suspended | Health::Missing => self.warn,
            Health::Degraded => self.bad,
            Health::Unknown => self.dim,
        }
    }

    pub fn toast(&self, level: ToastLevel) -> Style {
        match level {
            ToastLevel::Info => self.info,
            ToastLevel::Success => self.ok,
            ToastLevel::Error => self.bad,
        }
    }

    pub fn connection(&self, c: &ConnectionState) -> Style {
        match c {
            ConnectionState::Connected => self.ok,
            ConnectionState::Reconnecting { .. } => self.warn,
            ConnectionState::Forbidden { .. } => self.bad,
            ConnectionState::Unknown => self.dim,
        }
    }
}

pub fn sync_icon(s: SyncStatus) -> &'static str {
    match s {
        SyncStatus::Synced => "✓",
        SyncStatus::OutOfSync => "✗",
        SyncStatus::Unknown => "?",
    }
}

pub fn resource_icon(s: ResourceStatus) -> &'static str {
    match s {
        ResourceStatus::Synced => "✓",
        ResourceStatus::OutOfSync => "✗",
        ResourceStatus::Missing => "-",
        ResourceStatus::Extra => "+",
    }
}

pub fn health_icon(h: Health) -> &'static str {
    match h {
        Health::Healthy => "●",
        Health::Progressing => "◐",
        Health::Degraded => "✖",
        Health::Suspended => "‖",
        Health::Missing => "○",
        Health::Unknown => "?",
    }
}

pub fn connection_text(c: &ConnectionState) -> (&'static str, String) {
    match c {
        ConnectionState::Connected => ("●", "connected".into()),
        ConnectionState::Reconnecting { attempt } => {
            ("◌", format!("reconnecting (attempt {attempt})"))
        }
        ConnectionState::Forbidden { .. } => ("✖", "forbidden".into()),
        ConnectionState::Unknown => ("?", "connecting".into()),
    }
}

pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
