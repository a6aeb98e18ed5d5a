//! Appending to the user's config file without rewriting it: the TUI's `i`
//! adds an `ignore_differences` rule under one app's `[[apps]]` table with
//! toml_edit, so comments, order and formatting stay as the user wrote
//! them. The result is loaded back before it replaces the file (written
//! beside it, then renamed), so a write never leaves a config that does not
//! load or a rule attached to another app.

use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value};

use crate::config::Config;
use crate::model::IgnoreProposal;

#[derive(Debug, thiserror::Error)]
pub enum ConfigEditError {
    #[error("no config file to write to (start with --config FILE)")]
    NoFile,
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path} has no app {app:?}")]
    NoApp { path: PathBuf, app: String },
    #[error("the edited config would not load, nothing written: {0}")]
    Check(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Shifts every table positioned after `after` by one, making room.
fn shift_after(table: &mut Table, after: isize) {
    if let Some(p) = table.position() {
        if p > after {
            table.set_position(p + 1);
        }
    }
    for (_, item) in table.iter_mut() {
        match item {
            Item::Table(t) => shift_after(t, after),
            Item::ArrayOfTables(a) => {
                for t in a.iter_mut() {
                    shift_after(t, after);
                }
            }
            _ => {}
        }
    }
}

/// The largest position of `table` and the tables under it.
fn last_position(table: &Table) -> Option<isize> {
    let mut last = table.position();
    for (_, item) in table.iter() {
        let inner = match item {
            Item::Table(t) => last_position(t),
            Item::ArrayOfTables(a) => a.iter().filter_map(last_position).max(),
            _ => None,
        };
        last = last.max(inner);
    }
    last
}

fn rule_table(p: &IgnoreProposal) -> Table {
    let mut t = Table::new();
    if !p.group.is_empty() {
        t["group"] = toml_edit::value(p.group.as_str());
    }
    t["kind"] = toml_edit::value(p.kind.as_str());
    if let Some(ns) = &p.namespace {
        t["namespace"] = toml_edit::value(ns.as_str());
    }
    t["name"] = toml_edit::value(p.name.as_str());
    let mut pointers = Array::new();
    pointers.push(p.json_pointer.as_str());
    t["json_pointers"] = Item::Value(Value::Array(pointers));
    t
}

/// `text` with the rule appended under app `app`'s table.
pub fn with_ignore_rule(
    text: &str,
    path: &Path,
    app: &str,
    p: &IgnoreProposal,
) -> Result<String, ConfigEditError> {
    let mut doc: DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| ConfigEditError::Parse {
                path: path.to_path_buf(),
                message: e.message().to_string(),
            })?;
    let no_app = || ConfigEditError::NoApp {
        path: path.to_path_buf(),
        app: app.to_string(),
    };
    let apps = doc
        .get("apps")
        .and_then(Item::as_array_of_tables)
        .ok_or_else(no_app)?;
    let index = apps
        .iter()
        .position(|t| t.get("name").and_then(Item::as_str) == Some(app))
        .ok_or_else(no_app)?;
    let after = apps.get(index).and_then(last_position).unwrap_or(0);
    shift_after(doc.as_table_mut(), after);
    let mut rule = rule_table(p);
    rule.set_position(after + 1);
    let table = doc
        .get_mut("apps")
        .and_then(Item::as_array_of_tables_mut)
        .and_then(|a| a.get_mut(index))
        .ok_or_else(no_app)?;
    match table.get_mut("ignore_differences") {
        Some(Item::ArrayOfTables(rules)) => rules.push(rule),
        Some(_) => {
            return Err(ConfigEditError::Check(format!(
                "app {app}'s ignore_differences is not a list of tables: add the rule by hand"
            )))
        }
        None => {
            let mut rules = ArrayOfTables::new();
            rules.push(rule);
            table.insert("ignore_differences", Item::ArrayOfTables(rules));
        }
    }
    Ok(doc.to_string())
}

/// Appends the rule to the config at `path` under app `app`, checking the
/// result loads and gives that app (and only that app) the new rule.
pub fn append_ignore_rule(
    path: Option<&Path>,
    app: &str,
    p: &IgnoreProposal,
) -> Result<PathBuf, ConfigEditError> {
    let path = path.ok_or(ConfigEditError::NoFile)?;
    let text = std::fs::read_to_string(path).map_err(|source| ConfigEditError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let before = Config::parse(&text, path).map_err(|e| ConfigEditError::Check(e.to_string()))?;
    let edited = with_ignore_rule(&text, path, app, p)?;
    let after = Config::parse(&edited, path).map_err(|e| ConfigEditError::Check(e.to_string()))?;
    let count = |c: &Config, name: &str| c.app(name).map_or(0, |a| a.ignore_differences.len());
    for a in &before.apps {
        let want = count(&before, &a.name) + usize::from(a.name == app);
        if count(&after, &a.name) != want {
            return Err(ConfigEditError::Check(format!(
                "the rule would not land under app {app} alone"
            )));
        }
    }
    let tmp = path.with_extension("toml.gitops-tui-edit");
    let write_err = |source| ConfigEditError::Write {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(&tmp, edited).map_err(write_err)?;
    std::fs::rename(&tmp, path).map_err(write_err)?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# My platform's apps. Keep this comment.
record_namespace = "gitops-tui"

[[apps]]
name = "web"   # the storefront
repo = "repo"
path = "apps/web"
namespace = "web"

# api: owned by the backend team
[[apps]]
name = "api"
repo = "repo"
path = "apps/api"
namespace = "api"
[[apps.ignore_differences]]
kind = "ConfigMap"
json_pointers = ["/data/x"]

[cluster]
deadline = "30s"
"#;

    fn proposal() -> IgnoreProposal {
        IgnoreProposal {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: Some("web".into()),
            name: "web".into(),
            json_pointer: "/spec/replicas".into(),
        }
    }

    #[test]
    fn the_rule_lands_under_its_app_with_every_comment_kept() {
        let path = Path::new("/c/config.toml");
        let out = with_ignore_rule(TEXT, path, "web", &proposal()).expect("edited");
        for line in TEXT.lines() {
            assert!(out.contains(line), "lost {line:?}:\n{out}");
        }
        let c = Config::parse(&out, path).expect("loads");
        let web = c.app("web").expect("web");
        assert_eq!(web.ignore_differences.len(), 1);
        assert_eq!(
            web.ignore_differences[0].json_pointers,
            vec!["/spec/replicas"]
        );
        assert_eq!(c.app("api").expect("api").ignore_differences.len(), 1);
        // Right after web's table, before api's comment.
        let rule = out.find("[[apps.ignore_differences]]").expect("rule");
        assert!(rule < out.find("# api: owned").expect("comment"), "{out}");
        // A second rule, for api, lands after api's own.
        let out = with_ignore_rule(&out, path, "api", &proposal()).expect("again");
        let c = Config::parse(&out, path).expect("loads");
        assert_eq!(c.app("api").expect("api").ignore_differences.len(), 2);
        assert_eq!(c.app("web").expect("web").ignore_differences.len(), 1);
        assert!(out.contains("[cluster]\ndeadline = \"30s\""), "{out}");
    }

    #[test]
    fn an_unknown_app_or_no_file_is_an_error_and_nothing_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, TEXT).expect("write");
        let err = append_ignore_rule(Some(&path), "shop", &proposal()).expect_err("no shop");
        assert!(err.to_string().contains("has no app \"shop\""), "{err}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), TEXT);
        assert!(matches!(
            append_ignore_rule(None, "web", &proposal()),
            Err(ConfigEditError::NoFile)
        ));
        append_ignore_rule(Some(&path), "web", &proposal()).expect("written");
        assert!(std::fs::read_to_string(&path)
            .expect("read")
            .contains("/spec/replicas"));
    }
}
