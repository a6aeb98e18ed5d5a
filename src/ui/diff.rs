//! The diff pane: unified diff coloured by line, the changed words of a
//! changed line highlighted (a removed line paired with the added line that
//! replaced it, compared word by word with `similar`), hunk position and
//! wrapping in the title.

use super::pane;
use super::theme::Theme;
use crate::app::diffdoc::{self, DiffLine, LineKind};
use crate::app::{AppState, Focus};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use similar::{ChangeTag, TextDiff};

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let doc = diffdoc::current(state);
    let mut title = doc.title.clone();
    if !doc.hunks.is_empty() {
        let n = doc.hunks.len();
        match doc.hunks.iter().rposition(|h| *h <= state.diff.scroll) {
            Some(i) => title.push_str(&format!(" [hunk {}/{n}]", i + 1)),
            None if n == 1 => title.push_str(" [1 hunk]"),
            None => title.push_str(&format!(" [{n} hunks]")),
        }
    }
    if state.diff.wrap {
        title.push_str(" [wrap]");
    } else if state.diff.hscroll > 0 {
        title.push_str(&format!(" [→{}]", state.diff.hscroll));
    }
    let block = pane(Line::from(title), state.focus == Focus::Diff, theme);
    let height = usize::from(area.height);
    let start = state.diff.scroll.min(doc.lines.len().saturating_sub(1));
    // Style only what can be seen (plus the pairs reaching into view).
    let end = (start + height).min(doc.lines.len());
    let lines = styled(&doc.lines, start, end, theme);
    let mut p = Paragraph::new(lines).block(block);
    if state.diff.wrap {
        p = p.wrap(Wrap { trim: false });
    } else {
        p = p.scroll((0, u16::try_from(state.diff.hscroll).unwrap_or(u16::MAX)));
    }
    frame.render_widget(p, area);
}

fn plain(line: &DiffLine, theme: &Theme) -> Line<'static> {
    let style = match line.kind {
        LineKind::Title => theme.title,
        LineKind::FileHeader => theme.file_header,
        LineKind::Hunk => theme.hunk,
        LineKind::Added => theme.added,
        LineKind::Removed => theme.removed,
        LineKind::Context => theme.text,
        LineKind::Note => theme.dim,
        LineKind::Error => theme.bad,
    };
    Line::styled(line.text.clone(), style)
}

fn styled(lines: &[DiffLine], start: usize, end: usize, theme: &Theme) -> Vec<Line<'static>> {
    let changed = |i: usize| {
        lines
            .get(i)
            .is_some_and(|l| matches!(l.kind, LineKind::Removed | LineKind::Added))
    };
    // Begin at the start of the change block holding `start`, so a pair cut by
    // the top of the pane is still highlighted.
    let mut first = start;
    while first > 0 && changed(first) && changed(first - 1) {
        first -= 1;
    }
    let mut out: Vec<Line<'static>> = vec![];
    let mut i = first;
    while i < end {
        let removed = run(lines, i, LineKind::Removed);
        let added = run(lines, i + removed, LineKind::Added);
        if removed == 0 || added == 0 {
            out.push(plain(&lines[i], theme));
            i += 1;
            continue;
        }
        let pairs = removed.min(added);
        let mut plus = vec![];
        for k in 0..removed {
            if k < pairs {
                let (m, p) = inline(&lines[i + k].text, &lines[i + removed + k].text, theme);
                out.push(m);
                plus.push(p);
            } else {
                out.push(plain(&lines[i + k], theme));
            }
        }
        out.extend(plus);
        for k in pairs..added {
            out.push(plain(&lines[i + removed + k], theme));
        }
        i += removed + added;
    }
    out.into_iter()
        .skip(start - first)
        .take(end - start)
        .collect()
}

fn run(lines: &[DiffLine], from: usize, kind: LineKind) -> usize {
    lines[from.min(lines.len())..]
        .iter()
        .take_while(|l| l.kind == kind)
        .count()
}

/// A `-old` / `+new` pair with the words that differ emphasised.
fn inline(old: &str, new: &str, theme: &Theme) -> (Line<'static>, Line<'static>) {
    let (o, n) = (old.get(1..).unwrap_or(""), new.get(1..).unwrap_or(""));
    let diff = TextDiff::from_words(o, n);
    let mut minus = vec![Span::styled("-", theme.removed)];
    let mut plus = vec![Span::styled("+", theme.added)];
    for change in diff.iter_all_changes() {
        let text = change.value().to_string();
        match change.tag() {
            ChangeTag::Equal => {
                minus.push(Span::styled(text.clone(), theme.removed));
                plus.push(Span::styled(text, theme.added));
            }
            ChangeTag::Delete => minus.push(Span::styled(text, theme.removed_word)),
            ChangeTag::Insert => plus.push(Span::styled(text, theme.added_word)),
        }
    }
    (Line::from(minus), Line::from(plus))
}
