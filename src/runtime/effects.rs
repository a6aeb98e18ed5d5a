//! Runs the reducer's effects: each becomes a background task whose answer
//! comes back as a `Msg`. A newer load of the same kind supersedes (aborts)
//! the older one, so scrolling fast through commits never queues a hundred
//! previews; operations can be cancelled.

use crate::app::{Effect, History, Msg, OpId};
use crate::engine::{Engine, SyncOptions};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

/// Which slot a background load occupies: a newer load in the same slot
/// replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum SlotKey {
    Status(String),
    Commits(String),
    Preview,
    CommitDiff,
    Events,
}

pub struct Executor {
    engine: Arc<Engine>,
    tx: UnboundedSender<Msg>,
    loads: HashMap<SlotKey, JoinHandle<()>>,
    operations: HashMap<OpId, JoinHandle<()>>,
}

impl Executor {
    pub fn new(engine: Arc<Engine>, tx: UnboundedSender<Msg>) -> Self {
        Executor {
            engine,
            tx,
            loads: HashMap::new(),
            operations: HashMap::new(),
        }
    }

    fn load<F>(&mut self, slot: SlotKey, work: F)
    where
        F: std::future::Future<Output = Msg> + Send + 'static,
    {
        let tx = self.tx.clone();
        let handle = tokio::spawn(async move {
            let _ = tx.send(work.await);
        });
        if let Some(old) = self.loads.insert(slot, handle) {
            old.abort();
        }
    }

    fn operation<F>(&mut self, id: OpId, work: F)
    where
        F: std::future::Future<Output = Result<String, String>> + Send + 'static,
    {
        let tx = self.tx.clone();
        let handle = tokio::spawn(async move {
            let result = work.await;
            let _ = tx.send(Msg::OperationFinished { id, result });
        });
        self.operations.retain(|_, h| !h.is_finished());
        self.operations.insert(id, handle);
    }

    pub fn run(&mut self, effect: Effect) {
        let engine = self.engine.clone();
        match effect {
            Effect::LoadStatus { app, generation } => {
                self.load(SlotKey::Status(app.clone()), async move {
                    let result = engine.status(&app).await.map_err(|e| e.to_string());
                    Msg::StatusLoaded {
                        app,
                        generation,
                        result,
                    }
                })
            }
            Effect::LoadCommits { app } => self.load(SlotKey::Commits(app.clone()), async move {
                let result = engine
                    .history(&app)
                    .await
                    .map(History::from_report)
                    .map_err(|e| e.to_string());
                Msg::CommitsLoaded { app, result }
            }),
            Effect::LoadPreview {
                app,
                sha,
                generation,
            } => self.load(SlotKey::Preview, async move {
                let result = engine
                    .status_at(&app, Some(&sha))
                    .await
                    .map_err(|e| e.to_string());
                Msg::PreviewLoaded {
                    app,
                    sha,
                    generation,
                    result,
                }
            }),
            Effect::LoadCommitDiff {
                app,
                sha,
                generation,
            } => self.load(SlotKey::CommitDiff, async move {
                let result = engine
                    .commit_diff(&app, &sha)
                    .await
                    .map_err(|e| e.to_string());
                Msg::CommitDiffLoaded {
                    app,
                    sha,
                    generation,
                    result,
                }
            }),
            Effect::LoadEvents {
                app,
                key,
                generation,
            } => self.load(SlotKey::Events, async move {
                let result = engine.events(&app, &key).await.map_err(|e| e.to_string());
                Msg::EventsLoaded {
                    app,
                    key,
                    generation,
                    result,
                }
            }),
            Effect::Sync {
                id,
                apps,
                prune,
                adopt,
            } => {
                let tx = self.tx.clone();
                self.operation(id, async move {
                    let mut lines = Vec::new();
                    for (i, app) in apps.iter().enumerate() {
                        let _ = tx.send(Msg::OperationProgress {
                            id,
                            message: format!("syncing {app} ({}/{})", i + 1, apps.len()),
                        });
                        let opts = SyncOptions {
                            prune,
                            adopt: adopt.contains(app),
                            ..Default::default()
                        };
                        match engine.sync(app, &opts).await {
                            // The toast already names the apps; with several, say which said what.
                            Ok(r) if r.succeeded && apps.len() == 1 => lines.push(r.message),
                            Ok(r) if r.succeeded => lines.push(format!("{app}: {}", r.message)),
                            Ok(r) => return Err(format!("{app}: {}", failure_detail(&r))),
                            Err(e) => return Err(format!("{app}: {e}")),
                        }
                        let _ = tx.send(Msg::AppChanged { app: app.clone() });
                    }
                    Ok(lines.join("; "))
                });
            }
            Effect::Suspend { id, app } => self.operation(id, async move {
                engine
                    .suspend(&app)
                    .await
                    .map(|_| format!("{app} suspended"))
                    .map_err(|e| e.to_string())
            }),
            Effect::Resume { id, app } => self.operation(id, async move {
                match engine.resume(&app).await {
                    Ok(Some(r)) if !r.succeeded => Err(format!(
                        "{app} resumed, but its sync failed: {}",
                        failure_detail(&r)
                    )),
                    Ok(_) => Ok(format!("{app} resumed")),
                    Err(e) => Err(e.to_string()),
                }
            }),
            Effect::Rollback { id, app, sha } => self.operation(id, async move {
                match engine.rollback(&app, &sha, false).await {
                    Ok(r) if r.succeeded => Ok(format!(
                        "{app} rolled back to {} and paused",
                        &sha[..sha.len().min(7)]
                    )),
                    Ok(r) => Err(format!("{app}: {}", failure_detail(&r))),
                    Err(e) => Err(e.to_string()),
                }
            }),
            Effect::Cancel { id } => {
                if let Some(h) = self.operations.remove(&id) {
                    h.abort();
                    let _ = self.tx.send(Msg::OperationFinished {
                        id,
                        result: Err("cancelled".into()),
                    });
                }
            }
            Effect::Quit => {}
        }
    }

    /// Stop everything still running (on quit).
    pub fn shutdown(&mut self) {
        for (_, h) in self.loads.drain() {
            h.abort();
        }
        for (_, h) in self.operations.drain() {
            h.abort();
        }
    }
}

fn failure_detail(r: &crate::engine::SyncReport) -> String {
    let failed: Vec<String> = r
        .resources
        .iter()
        .filter(|x| x.action == "failed")
        .map(|x| format!("{}: {}", x.key, x.message))
        .collect();
    if failed.is_empty() {
        r.message.clone()
    } else {
        format!("{} — {}", r.message, failed.join("; "))
    }
}
