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

/// How the apps pane's `/` matches a row: fuzzy on its address, or the
/// whole row when the text begins its MANAGED-BY word (`flux`, `argo`,
/// `gitops`; three letters at least, so a short query still narrows by name).
pub fn app_score(query: &str, id: &crate::model::AppId) -> Option<u32> {
    let q = query.trim().to_lowercase();
    if q.chars().count() >= 3 && id.source.managed_by().starts_with(&q) {
        return Some(u32::MAX);
    }
    score(query, &id.to_string())
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

    #[test]
    fn a_managed_by_word_matches_its_source_only() {
        use crate::model::{AppId, AppSource};
        let flux = AppId::managed(AppSource::Flux, "", "flux-system", "podinfo");
        let argo = AppId::managed(AppSource::ArgoCd, "", "argocd", "guestbook");
        let native = AppId::native("shop");
        assert!(app_score("flux", &flux).is_some());
        assert!(app_score("flux", &argo).is_none());
        assert!(app_score("flux", &native).is_none());
        assert!(app_score("argo", &argo).is_some());
        assert!(app_score("Argocd", &argo).is_some());
        assert!(app_score("argo", &flux).is_none());
        assert!(app_score("gitops", &native).is_some());
        assert!(app_score("gitops-tui", &flux).is_none());
        // Two letters narrow by name, not by source.
        assert!(app_score("sh", &native).is_some());
        assert!(app_score("gi", &flux).is_none());
    }
}
