//! Fuzzy matching for `/` (nucleo, as helix and television use), so `shp`
//! finds `shop` and `pmts` finds `payments`.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use std::cell::RefCell;

thread_local! {
    // The matcher holds scratch buffers worth reusing across rows.
    static MATCHER: RefCell<Matcher> = RefCell::new(Matcher::new(Config::DEFAULT));
}

/// Some(score) when `text` matches `query` (every text matches an empty query).
pub fn score(query: &str, text: &str) -> Option<u32> {
    if query.trim().is_empty() {
        return Some(0);
    }
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut buf = Vec::new();
    MATCHER.with(|m| pattern.score(Utf32Str::new(text, &mut buf), &mut m.borrow_mut()))
}

pub fn matches(query: &str, text: &str) -> bool {
    score(query, text).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_subsequences_match() {
        assert!(matches("shp", "shop"));
        assert!(matches("PMTS", "payments"));
        assert!(!matches("xyz", "shop"));
        assert!(matches("", "anything"));
    }
}
