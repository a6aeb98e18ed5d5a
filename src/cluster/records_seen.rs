//! Which version of each app record the TUI's statuses read, beside what
//! the context's record watch holds, so the watch's first list reloads only
//! the apps whose status read another version (it used to reload every app
//! of the context: each status was computed twice at start).
//!
//! Record versions are opaque (Kubernetes promises no order), so this only
//! tells equal from different; a difference either way means "read again".

use std::collections::HashMap;

#[derive(Default)]
pub struct RecordsSeen {
    /// app → the resourceVersion its last status read (None: no record).
    seen: HashMap<String, Option<String>>,
    /// app → the record watch's current version, from its first list on.
    listed: Option<HashMap<String, String>>,
}

impl RecordsSeen {
    /// A status read this version: whether it is the one the watch holds
    /// (true while the watch has not listed: its list will compare).
    pub fn saw(&mut self, app: &str, version: Option<&str>) -> bool {
        self.seen
            .insert(app.to_string(), version.map(str::to_string));
        match &self.listed {
            None => true,
            Some(listed) => listed.get(app).map(String::as_str) == version,
        }
    }

    /// The first list: the apps already read at another version.
    pub fn listed(&mut self, listed: HashMap<String, String>) -> Vec<String> {
        let mut stale: Vec<String> = self
            .seen
            .iter()
            .filter(|(app, seen)| listed.get(*app) != seen.as_ref())
            .map(|(app, _)| app.clone())
            .collect();
        stale.sort();
        self.listed = Some(listed);
        stale
    }

    /// A change the watch delivered after its list.
    pub fn changed(&mut self, app: &str, version: Option<&str>) {
        if let Some(listed) = self.listed.as_mut() {
            match version {
                Some(v) => listed.insert(app.to_string(), v.to_string()),
                None => listed.remove(app),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(a, v)| (a.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_first_list_reloads_only_apps_read_at_another_version() {
        let mut r = RecordsSeen::default();
        assert!(r.saw("same", Some("5")));
        assert!(r.saw("moved", Some("6")));
        assert!(r.saw("created", None));
        assert!(r.saw("never", None));
        let stale = r.listed(map(&[("same", "5"), ("moved", "9"), ("created", "3")]));
        assert_eq!(stale, vec!["created".to_string(), "moved".to_string()]);
    }

    #[test]
    fn after_the_list_a_status_that_read_an_older_version_reads_again() {
        let mut r = RecordsSeen::default();
        assert!(r.listed(map(&[("web", "5")])).is_empty());
        assert!(r.saw("web", Some("5")));
        assert!(!r.saw("web", Some("4")));
        assert!(!r.saw("api", Some("1")), "the watch holds no record of api");
        assert!(r.saw("api", None));
        r.changed("web", Some("7"));
        assert!(r.saw("web", Some("7")));
        r.changed("web", None);
        assert!(r.saw("web", None));
    }
}
