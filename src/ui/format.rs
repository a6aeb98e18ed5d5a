//! Small text helpers shared by the panes.

use std::time::SystemTime;

pub use crate::model::display::{age, fit};

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
