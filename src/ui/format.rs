//! Small text helpers shared by the panes.

use std::time::SystemTime;
use unicode_width::UnicodeWidthStr;

/// A relative age at minute precision ("<1m", "5m", "3h", "2d", "4mo", "1y"),
/// so an idle screen only needs redrawing once a minute.
pub fn age(now: SystemTime, then: SystemTime) -> String {
    let secs = now.duration_since(then).map_or(0, |d| d.as_secs());
    let mins = secs / 60;
    let hours = mins / 60;
    let days = hours / 24;
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

/// `SUSPENDED by mira 3d ago: why` for a suspended app with a recorded
/// suspension (None otherwise).
pub fn suspension_line(s: &crate::model::AppStatus, now: SystemTime) -> Option<String> {
    let sus = s.suspension.as_ref().filter(|_| s.suspended)?;
    let when = humantime::parse_rfc3339_weak(&sus.at)
        .map(|t| format!("{} ago", age(now, t)))
        .unwrap_or_else(|_| sus.at.clone());
    Some(if sus.reason.is_empty() {
        format!("SUSPENDED by {} {when}", sus.by)
    } else {
        format!("SUSPENDED by {} {when}: {}", sus.by, sus.reason)
    })
}

/// Cut `s` to `width` columns, ending with `…` when cut.
pub fn fit(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
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
    use std::time::Duration;

    #[test]
    fn ages_round_down_to_the_unit() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(10_000_000);
        let ago = |s: u64| age(now, now - Duration::from_secs(s));
        assert_eq!(ago(30), "<1m");
        assert_eq!(ago(5 * 60), "5m");
        assert_eq!(ago(3 * 3600), "3h");
        assert_eq!(ago(3 * 86400), "3d");
        assert_eq!(ago(90 * 86400), "3mo");
        assert_eq!(age(now, now + Duration::from_secs(99)), "<1m");
        assert_eq!(fit("payments-api", 8), "payment…");
    }
}
