//! The one type for a Git commit id, so no layer passes commit ids around as
//! bare strings or writes its own short-sha helper. What a user types (a
//! branch, a tag, `HEAD~2`) is a revision *spec* and stays text until Git
//! resolves it to a [`Revision`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// A full 40-hex commit id. JSON and the app record carry it as the plain
/// string it always was.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Revision(pub String);

impl Revision {
    pub fn new(sha: impl Into<String>) -> Revision {
        Revision(sha.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first `len` characters (all of it when shorter).
    pub fn abbrev(&self, len: usize) -> &str {
        self.0.get(..len).unwrap_or(&self.0)
    }

    /// Seven characters, as the panes and the status table show commits.
    pub fn short(&self) -> &str {
        self.abbrev(7)
    }

    /// Twelve characters, as `sync`, `rollback` and `diff` name commits.
    pub fn medium(&self) -> &str {
        self.abbrev(12)
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads as the text it is (`Option<Revision>::as_deref()` is the sha as
/// `&str`); only [`Revision::new`] and the `From`s make one.
impl std::ops::Deref for Revision {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Revision {
    fn from(sha: String) -> Self {
        Revision(sha)
    }
}

impl From<&str> for Revision {
    fn from(sha: &str) -> Self {
        Revision(sha.to_string())
    }
}

impl PartialEq<str> for Revision {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for Revision {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<Revision> for String {
    fn eq(&self, other: &Revision) -> bool {
        self == &other.0
    }
}

impl PartialEq<&str> for Revision {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_and_json() {
        let r = Revision::new("0123456789abcdef0123456789abcdef01234567");
        assert_eq!(r.short(), "0123456");
        assert_eq!(r.medium(), "0123456789ab");
        assert_eq!(Revision::new("abc").short(), "abc");
        assert_eq!(
            serde_json::to_value(&r).ok(),
            Some(serde_json::Value::String(r.to_string()))
        );
        let back: Revision = serde_json::from_str("\"abc\"").expect("reads");
        assert!(back == "abc");
    }
}
