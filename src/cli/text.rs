//! How the headless verbs lay out text, as kubectl and the flux CLI do: a
//! header row (left out with `--no-headers`, for scripts), columns measured
//! in display width (a CJK name or an emoji takes two cells), relative ages
//! (`3d`) unless `--absolute-times`, and the last column cut to the
//! terminal's width with `…` (JSON keeps the full text).

use std::time::SystemTime;
use unicode_width::UnicodeWidthStr;

/// The layout of one run's text output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextStyle {
    /// Columns available; None when stdout is not a terminal and `COLUMNS`
    /// is not set (nothing is cut, as `kubectl get` does into a pipe).
    pub width: Option<usize>,
    pub headers: bool,
    pub absolute_times: bool,
    pub now: SystemTime,
}

impl Default for TextStyle {
    fn default() -> Self {
        TextStyle {
            width: None,
            headers: true,
            absolute_times: false,
            now: SystemTime::now(),
        }
    }
}

impl TextStyle {
    /// From the flags and the terminal: `COLUMNS` when set, else the
    /// terminal's width when stdout is one.
    pub fn detect(no_headers: bool, absolute_times: bool) -> Self {
        use std::io::IsTerminal;
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|w| *w > 0)
            .or_else(|| {
                std::io::stdout()
                    .is_terminal()
                    .then(|| crossterm::terminal::size().ok().map(|(w, _)| w as usize))
                    .flatten()
            });
        TextStyle {
            width,
            headers: !no_headers,
            absolute_times,
            now: SystemTime::now(),
        }
    }

    /// An RFC 3339 time as this style shows it: `3d` or the time itself.
    pub fn when(&self, rfc3339: &str) -> String {
        if self.absolute_times {
            return rfc3339.to_string();
        }
        match humantime::parse_rfc3339_weak(rfc3339) {
            Ok(then) => age(self.now, then),
            Err(_) => rfc3339.to_string(),
        }
    }
}

pub use crate::model::display::{age, fit};

fn pad(s: &str, width: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(s.width())));
    out
}

/// The narrowest the last column is cut to, however narrow the terminal.
const MIN_LAST: usize = 10;

/// Rows under a header (when the style has headers), columns two spaces
/// apart and padded by display width, the last column cut to the width.
pub fn table(style: &TextStyle, header: &[&str], rows: &[Vec<String>]) -> String {
    let cols = header.len();
    let mut all: Vec<Vec<String>> = Vec::with_capacity(rows.len() + 1);
    if style.headers {
        all.push(header.iter().map(|h| h.to_string()).collect());
    }
    all.extend(rows.iter().cloned());
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            all.iter()
                .map(|r| r.get(c).map_or(0, |s| s.width()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let fixed: usize = widths
        .iter()
        .take(cols.saturating_sub(1))
        .map(|w| w + 2)
        .sum();
    let last_room = style.width.map(|w| w.saturating_sub(fixed).max(MIN_LAST));
    let mut out = String::new();
    for r in &all {
        let mut line = String::new();
        for (i, w) in widths.iter().enumerate() {
            let cell = r.get(i).map_or("", String::as_str);
            if i + 1 == cols {
                match last_room {
                    Some(room) => line.push_str(&fit(cell, room)),
                    None => line.push_str(cell),
                }
            } else {
                line.push_str(&pad(cell, *w));
                line.push_str("  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn style(width: Option<usize>, headers: bool) -> TextStyle {
        TextStyle {
            width,
            headers,
            absolute_times: false,
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        }
    }

    #[test]
    fn columns_are_padded_by_display_width_and_the_last_is_cut() {
        let rows = vec![
            vec!["山田太郎".to_string(), "a".repeat(40)],
            vec!["Bo".to_string(), "short".to_string()],
        ];
        let out = table(&style(Some(30), true), &["AUTHOR", "SUBJECT"], &rows);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "AUTHOR    SUBJECT");
        assert_eq!(lines[1], format!("山田太郎  {}…", "a".repeat(19)));
        assert_eq!(lines[1].width(), 30);
        assert_eq!(lines[2], "Bo        short");
        let out = table(&style(None, false), &["AUTHOR", "SUBJECT"], &rows);
        assert_eq!(
            out.lines().next(),
            Some(format!("山田太郎  {}", "a".repeat(40)).as_str())
        );
    }

    #[test]
    fn times_are_relative_unless_absolute() {
        let mut s = style(None, true);
        assert_eq!(s.when("2023-11-11T22:13:20Z"), "3d");
        assert_eq!(s.when("not a time"), "not a time");
        s.absolute_times = true;
        assert_eq!(s.when("2023-11-11T22:13:20Z"), "2023-11-11T22:13:20Z");
    }
}
