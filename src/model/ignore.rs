//! A proposed `ignore_differences` rule (the TUI's `i`): the object a
//! drifted field belongs to and the field's JSON pointer. Plain data, so the
//! reducer can propose it, the dialog show it and the config writer append
//! it without any of them knowing the others.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreProposal {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// RFC 6901, e.g. `/spec/replicas`.
    pub json_pointer: String,
}

impl IgnoreProposal {
    /// The TOML the config gains under the app's `[[apps]]` table.
    pub fn toml(&self) -> String {
        let q = |s: &str| format!("{s:?}");
        let mut out = String::from("[[apps.ignore_differences]]\n");
        if !self.group.is_empty() {
            out.push_str(&format!("group = {}\n", q(&self.group)));
        }
        out.push_str(&format!("kind = {}\n", q(&self.kind)));
        if let Some(ns) = &self.namespace {
            out.push_str(&format!("namespace = {}\n", q(ns)));
        }
        out.push_str(&format!("name = {}\n", q(&self.name)));
        out.push_str(&format!("json_pointers = [{}]\n", q(&self.json_pointer)));
        out
    }
}

impl fmt::Display for IgnoreProposal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} of {}", self.json_pointer, self.kind, self.name)
    }
}
