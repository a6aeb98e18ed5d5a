//! `suspend APP --reason TEXT` (who, when and why, kept in the app's
//! record), and the `history` hint for a path no commit touches: the verbs
//! of issue 12 that print more than the others, kept out of commands.rs.

use super::args::Output;
use super::commands::{fail, print, EXIT_OK};
use crate::engine::Engine;
use crate::model::AppId;
use serde_json::json;

pub async fn run(engine: &Engine, output: Output, app: &AppId, reason: Option<&str>) -> i32 {
    match engine.suspend_with_reason(app, reason.unwrap_or("")).await {
        Ok(record) => {
            let suspension = record.suspension.clone();
            print(
                output,
                &json!({"app": app, "suspended": true, "suspension": suspension}),
                || match suspension.as_ref().filter(|s| !s.reason.is_empty()) {
                    Some(s) => format!(
                        "app {app} suspended: auto-sync and self-heal stopped ({})\n",
                        s.reason
                    ),
                    None => format!("app {app} suspended: auto-sync and self-heal stopped\n"),
                },
            );
            EXIT_OK
        }
        Err(e) => fail(&e),
    }
}

/// On stderr: a path with no commits is most often a typo in `path`.
pub fn no_commits_hint(engine: &Engine, app: &AppId) {
    if let Ok(a) = engine.app(app) {
        let path = if a.repo_path().is_empty() {
            "."
        } else {
            a.repo_path()
        };
        eprintln!(
            "hint: no commit of {} touches {path}; is `path` in the config right?",
            a.repo
        );
    }
}
