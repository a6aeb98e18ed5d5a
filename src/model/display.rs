//! How the CLI's text output and the panes write an age and cut a cell:
//! one spelling for both, so `status` and the apps pane say "3d" alike.

use std::time::SystemTime;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// A relative age at minute precision ("<1m", "5m", "3h", "2d", "4mo",
/// "1y"), so an idle screen only needs redrawing once a minute; a time in
/// the future (clock skew) is "<1m".
pub fn age(now: SystemTime, then: SystemTime) -> String {
    let secs = now.duration_since(then).map_or(0, |d| d.as_secs());
    let (mins, hours, days) = (secs / 60, secs / 3600, secs / 86400);
    if mins == 0 {
        "<1m".into()
    } else if hours == 0 {
        format!("{mins}m")
    } else if days < 2 {
        format!("{hours}h")
    } else if days < 60 {
        format!("{days}d")
    } else if days < 730 {
        format!("{}mo", days / 30)
    } else {
        format!("{}y", days / 365)
    }
}

/// `s` cut to `width` display columns, ending with `…` when cut (nothing
/// at all in no room).
pub fn fit(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_ends_in_an_ellipsis_within_the_width_and_no_room_is_empty() {
        assert_eq!(fit("payments-api", 8), "payment…");
        assert_eq!(fit("short", 8), "short");
        assert_eq!(fit("日本語テキスト", 7), "日本語…");
        assert_eq!(fit("anything", 0), "");
    }
}
