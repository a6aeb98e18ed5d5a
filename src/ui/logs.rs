//! The log pane (over the panes' whole area while open) and the chooser
//! that picks a pod and container. The title says what is read and how
//! (following or paused with how many lines wait, wrap, timestamps, the
//! search and its count, lines dropped to stay within 10,000); the bottom
//! border says what the stream is doing (streaming, reconnecting and why,
//! ended and why).

use super::hit::Rows;
use super::theme::Theme;
use super::{centered, pane};
use crate::app::logkeys::{self, matches};
use crate::app::logs::{LogLine, LogView, StreamState, MAX_LOG_LINES};
use crate::app::{Action, AppState};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, view: &LogView, theme: &Theme) {
    let block = pane(title(state, view), true, theme).title_bottom(footer(state, view, theme));
    let inner = block.inner(area);
    let height = usize::from(inner.height).max(1);
    let width = usize::from(inner.width).max(1);
    let page = logkeys::page(state);
    let start = logkeys::top(view, page).min(view.lines.len());
    // The index of the first line shown, and how many.
    let (offset, count) = if view.paused_at.is_none() && view.wrap {
        // Following with wrap: as many of the last lines as fit.
        let mut rows = 0;
        let mut n = 0;
        for l in view.lines.iter().rev() {
            let w = line_width(view, l).div_ceil(width).max(1);
            if rows + w > height {
                break;
            }
            rows += w;
            n += 1;
        }
        (view.lines.len() - n, n)
    } else {
        (start, height)
    };
    let mut lines: Vec<Line> = vec![];
    if view.lines.is_empty() {
        let text = match &view.state {
            StreamState::Failed { message } => format!("✖ {message}"),
            StreamState::Ended { reason } => format!("No lines. The stream ended: {reason}"),
            StreamState::Reconnecting { reason, .. } => format!("No lines yet: {reason}"),
            _ => "Waiting for lines…".to_string(),
        };
        let style = match view.state {
            StreamState::Failed { .. } => theme.bad,
            _ => theme.dim,
        };
        lines.push(Line::styled(text, style));
    }
    for (k, l) in view.lines.iter().skip(offset).take(count).enumerate() {
        let current = view.current == Some(offset + k);
        lines.push(styled_line(view, l, current, theme));
    }
    let mut p = Paragraph::new(lines).block(block);
    if view.wrap {
        p = p.wrap(Wrap { trim: false });
    } else {
        p = p.scroll((0, u16::try_from(view.hscroll).unwrap_or(u16::MAX)));
    }
    frame.render_widget(p, area);
}

fn stamp(view: &LogView, l: &LogLine) -> Option<String> {
    if !view.timestamps || l.note {
        return None;
    }
    l.time
        .map(|t| format!("{} ", humantime::format_rfc3339_millis(t)))
}

fn line_width(view: &LogView, l: &LogLine) -> usize {
    stamp(view, l).map_or(0, |s| s.width()) + l.text.width()
}

fn title<'a>(state: &AppState, view: &LogView) -> Line<'a> {
    let mut t = view.target.title();
    match view.paused_at {
        None if view.target.previous => {}
        None => t.push_str(" [following]"),
        Some(_) => t.push_str(&format!(
            " [paused: {} new · {} resumes]",
            view.unseen,
            state.keymap.keys_text(Action::Bottom)
        )),
    }
    if view.wrap {
        t.push_str(" [wrap]");
    }
    if view.timestamps {
        t.push_str(" [timestamps]");
    }
    if view.hscroll > 0 && !view.wrap {
        t.push_str(&format!(" [→{}]", view.hscroll));
    }
    if let Some(q) = &view.search {
        let n = view.lines.iter().filter(|l| matches(&l.text, q)).count();
        t.push_str(&format!(" [/{q}: {n} lines]"));
    }
    if view.dropped > 0 {
        t.push_str(&format!(
            " [{} older lines dropped: keeping the last {MAX_LOG_LINES}]",
            view.dropped
        ));
    }
    Line::from(t)
}

fn footer<'a>(state: &AppState, view: &LogView, theme: &Theme) -> Line<'a> {
    let (text, style) = match &view.state {
        StreamState::Connecting => ("connecting…".to_string(), theme.dim),
        StreamState::Streaming if view.target.previous => {
            ("reading the previous run".to_string(), theme.info)
        }
        StreamState::Streaming => ("● streaming".to_string(), theme.ok),
        StreamState::Reconnecting { attempt, reason } => (
            format!("↻ reconnecting (attempt {attempt}): {reason}"),
            theme.warn,
        ),
        StreamState::Ended { reason } => (format!("■ stream ended: {reason}"), theme.dim),
        StreamState::Failed { .. } => ("✖ the log could not be read".to_string(), theme.bad),
    };
    let mut spans = vec![Span::styled(format!(" {text} "), style)];
    if let Some(q) = &view.typing {
        spans.push(Span::styled(format!(" /{q}▏ "), theme.title));
    } else {
        let k = |a: Action| state.keymap.keys_text(a);
        spans.push(Span::styled(
            format!(
                " {} previous/current · {} wrap · {} timestamps · {} search · {} close ",
                k(Action::LogPrevious),
                k(Action::LogWrap),
                k(Action::LogTimestamps),
                k(Action::LogSearch),
                k(Action::Back)
            ),
            theme.dim,
        ));
    }
    Line::from(spans)
}

fn styled_line<'a>(view: &LogView, l: &LogLine, current: bool, theme: &Theme) -> Line<'a> {
    let mut spans = vec![];
    if let Some(s) = stamp(view, l) {
        spans.push(Span::styled(s, theme.dim));
    }
    if l.note {
        spans.push(Span::styled(l.text.clone(), theme.dim));
        return Line::from(spans);
    }
    let hit = Style::new().add_modifier(Modifier::REVERSED);
    let hit = if current {
        hit.add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    } else {
        hit
    };
    match view.search.as_deref().filter(|q| matches(&l.text, q)) {
        Some(q) => spans.extend(highlight(&l.text, q, theme.text, hit)),
        None => spans.push(Span::styled(l.text.clone(), theme.text)),
    }
    Line::from(spans)
}

/// `text` with each case-blind occurrence of `q` in `hit`.
fn highlight<'a>(text: &str, q: &str, plain: Style, hit: Style) -> Vec<Span<'a>> {
    let lower = text.to_lowercase();
    let ql = q.to_lowercase();
    // Lowercasing can change lengths outside ASCII: then mark the whole line.
    if lower.len() != text.len() || ql.is_empty() {
        return vec![Span::styled(text.to_string(), hit)];
    }
    let mut out = vec![];
    let mut at = 0;
    while let Some(found) = lower[at..].find(&ql) {
        let s = at + found;
        let e = s + ql.len();
        if !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            break;
        }
        if s > at {
            out.push(Span::styled(text[at..s].to_string(), plain));
        }
        out.push(Span::styled(text[s..e].to_string(), hit));
        at = e;
    }
    if at < text.len() {
        out.push(Span::styled(text[at..].to_string(), plain));
    }
    out
}

/// The chooser: one row per pod and container; returns where its rows are.
pub fn render_chooser(
    frame: &mut Frame,
    area: Rect,
    state: &AppState,
    theme: &Theme,
) -> Option<Rows> {
    let c = state.logs.chooser.as_ref()?;
    let longest = c
        .choices
        .iter()
        .map(|x| x.pod.width() + x.container.width() + 6)
        .max()
        .unwrap_or(20);
    let title = format!(" Logs of {}: pick a pod and container ", c.object);
    let width = u16::try_from(longest.max(title.width() + 2).max(40) + 2).unwrap_or(u16::MAX);
    let height = u16::try_from(c.choices.len() + 2).unwrap_or(u16::MAX);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.border_focus)
        .title(Line::styled(title, theme.title))
        .title_bottom(Line::styled(
            format!(
                " {} open · {} close ",
                state.keymap.keys_text(Action::Enter),
                state.keymap.keys_text(Action::Back)
            ),
            theme.dim,
        ));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let fits = usize::from(inner.height).max(1);
    let first = c.selected.saturating_sub(fits - 1);
    let lines: Vec<Line> = c
        .choices
        .iter()
        .enumerate()
        .skip(first)
        .take(fits)
        .map(|(i, x)| {
            let marker = if i == c.selected { "› " } else { "  " };
            let style = if i == c.selected {
                theme.selected
            } else {
                theme.text
            };
            Line::from(vec![
                Span::styled(marker, theme.title),
                Span::styled(format!("{} · {}", x.pod, x.container), style),
            ])
        })
        .collect();
    let count = lines.len();
    frame.render_widget(Paragraph::new(lines), inner);
    Some(Rows {
        area: rect,
        top: inner.y,
        first,
        count,
    })
}
