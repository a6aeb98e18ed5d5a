//! Runs the reducer's effects: each becomes a background task whose answer
//! comes back as a `Msg`. A newer load of the same kind supersedes (aborts)
//! the older one, so scrolling fast through commits never queues a hundred
//! previews. Operations are never aborted: cancelling one cancels its token,
//! and it stops after the object in flight, records itself as interrupted and
//! releases its lease, then answers like any finished operation.

use crate::app::{Effect, History, Msg, OpId};
use crate::engine::{Engine, SyncOptions};
use crate::model::AppId;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Which slot a background load occupies: a newer load in the same slot
/// replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum SlotKey {
    Status(AppId),
    Commits(AppId),
    Preview,
    CommitDiff,
    Events,
    /// The work tree's status (`L`): one at a time, the newest wins.
    Local,
    Discover,
}

/// The running operations, each with the token that stops it.
#[derive(Default)]
pub struct Operations {
    running: HashMap<OpId, (JoinHandle<()>, CancellationToken)>,
}

impl Operations {
    /// Start `work` with a fresh token; its result comes back as
    /// `OperationFinished`, cancelled or not.
    pub fn start<F, W>(&mut self, id: OpId, tx: UnboundedSender<Msg>, work: W)
    where
        W: FnOnce(CancellationToken) -> F,
        F: std::future::Future<Output = Result<String, String>> + Send + 'static,
    {
        let cancel = CancellationToken::new();
        let work = work(cancel.clone());
        let handle = tokio::spawn(async move {
            let result = work.await;
            let _ = tx.send(Msg::OperationFinished { id, result });
        });
        self.running.retain(|_, (h, _)| !h.is_finished());
        self.running.insert(id, (handle, cancel));
    }

    /// Ask one operation to stop after the object in flight.
    pub fn cancel(&self, id: OpId) {
        if let Some((_, cancel)) = self.running.get(&id) {
            cancel.cancel();
        }
    }

    pub fn cancel_all(&self) {
        for (_, cancel) in self.running.values() {
            cancel.cancel();
        }
    }

    /// Whether any operation is still running.
    pub fn busy(&self) -> bool {
        self.running.values().any(|(h, _)| !h.is_finished())
    }

    /// Abort whatever is still running (the last resort on exit).
    pub fn abort_all(&mut self) {
        for (_, (h, _)) in self.running.drain() {
            h.abort();
        }
    }
}

pub struct Executor {
    engine: Arc<Engine>,
    tx: UnboundedSender<Msg>,
    loads: HashMap<SlotKey, JoinHandle<()>>,
    operations: Operations,
    /// The log pane's stream, by its id.
    logs: Option<(u64, JoinHandle<()>)>,
}

impl Executor {
    pub fn new(engine: Arc<Engine>, tx: UnboundedSender<Msg>) -> Self {
        Executor {
            engine,
            tx,
            loads: HashMap::new(),
            operations: Operations::default(),
            logs: None,
        }
    }

    /// Whether an operation is still running (quit waits for it).
    pub fn busy(&self) -> bool {
        self.operations.busy()
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

    fn operation<F, W>(&mut self, id: OpId, work: W)
    where
        W: FnOnce(CancellationToken) -> F,
        F: std::future::Future<Output = Result<String, String>> + Send + 'static,
    {
        self.operations.start(id, self.tx.clone(), work);
    }

    pub fn run(&mut self, effect: Effect) {
        let engine = self.engine.clone();
        match effect {
            // Two answers: the first without waiting on dry-runs, then the
            // same status refined by those its first left unsure.
            Effect::LoadStatus { app, generation } => {
                let tx = self.tx.clone();
                self.load(SlotKey::Status(app.clone()), async move {
                    let (status, refinement) = match engine.status_first(&app).await {
                        Ok(first) => first,
                        Err(e) => {
                            return Msg::StatusLoaded {
                                app,
                                generation,
                                result: Err(e.to_string()),
                            }
                        }
                    };
                    let Some(refinement) = refinement else {
                        return Msg::StatusLoaded {
                            app,
                            generation,
                            result: Ok(status),
                        };
                    };
                    let _ = tx.send(Msg::StatusLoaded {
                        app: app.clone(),
                        generation,
                        result: Ok(status.clone()),
                    });
                    let status = engine.refine(status, refinement).await;
                    Msg::StatusRefined {
                        app,
                        generation,
                        status,
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
                    .status_at(&app, Some(sha.as_str()))
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
                self.operation(id, |cancel| async move {
                    let mut lines = Vec::new();
                    for (i, app) in apps.iter().enumerate() {
                        if cancel.is_cancelled() {
                            let rest = AppId::join(&apps[i..], ", ");
                            return Err(format!("cancelled before {rest} was synced"));
                        }
                        let _ = tx.send(Msg::OperationProgress {
                            id,
                            message: format!("syncing {app} ({}/{})", i + 1, apps.len()),
                        });
                        let opts = SyncOptions {
                            prune,
                            adopt: adopt.contains(app),
                            cancel: cancel.clone(),
                            ..Default::default()
                        };
                        match engine.sync(app, &opts).await {
                            // The toast already names the apps; with several, say which said what.
                            Ok(r) if r.succeeded && apps.len() == 1 => {
                                lines.push(success_detail(&r))
                            }
                            Ok(r) if r.succeeded => {
                                lines.push(format!("{app}: {}", success_detail(&r)))
                            }
                            Ok(r) => return Err(format!("{app}: {}", failure_detail(&r))),
                            Err(e) => return Err(format!("{app}: {e}")),
                        }
                        let _ = tx.send(Msg::AppChanged { app: app.clone() });
                    }
                    Ok(lines.join("; "))
                });
            }
            Effect::Suspend { id, app, reason } => self.operation(id, |_| async move {
                engine
                    .suspend_with_reason(&app, &reason)
                    .await
                    .map(|_| format!("{app} suspended"))
                    .map_err(|e| e.to_string())
            }),
            Effect::Refresh { id, app, hard } => self.operation(id, |_| async move {
                engine
                    .refresh(&app, hard)
                    .await
                    .map(|r| r.summary())
                    .map_err(|e| e.to_string())
            }),
            Effect::Resume { id, app } => self.operation(id, |cancel| async move {
                match engine.resume_cancellable(&app, cancel).await {
                    Ok(Some(r)) if !r.succeeded => Err(format!(
                        "{app} resumed, but its sync failed: {}",
                        failure_detail(&r)
                    )),
                    Ok(_) => Ok(format!("{app} resumed")),
                    Err(e) => Err(e.to_string()),
                }
            }),
            Effect::Rollback {
                id,
                app,
                sha,
                adopt,
            } => self.operation(id, |cancel| async move {
                let opts = SyncOptions {
                    cancel,
                    adopt,
                    ..Default::default()
                };
                match engine.rollback_with(&app, &sha, opts).await {
                    Ok(r) if r.succeeded => {
                        Ok(format!("{app} rolled back to {} and paused", sha.short()))
                    }
                    Ok(r) => Err(format!("{app}: {}", failure_detail(&r))),
                    Err(e) => Err(e.to_string()),
                }
            }),
            Effect::OpenLogs {
                stream,
                target,
                tail,
            } => {
                let task = super::logs::run(engine, self.tx.clone(), stream, target, tail);
                if let Some((_, old)) = self.logs.replace((stream, tokio::spawn(task))) {
                    old.abort();
                }
            }
            Effect::CloseLogs { stream } => {
                if self.logs.as_ref().is_some_and(|(s, _)| *s == stream) {
                    if let Some((_, task)) = self.logs.take() {
                        task.abort();
                    }
                }
            }
            // The operation answers itself once it has stopped.
            Effect::Cancel { id } => self.operations.cancel(id),
            Effect::LoadLocal { app, generation } => self.load(SlotKey::Local, async move {
                let result = match engine.local_dir(&app, None) {
                    Ok(dir) => engine.status_local(&app, dir).await,
                    Err(e) => Err(e),
                }
                .map_err(|e| e.to_string());
                Msg::LocalLoaded {
                    app,
                    generation,
                    result,
                }
            }),
            // A file write, off the UI thread; the answer comes back as a toast.
            Effect::AppendIgnoreRule { app, proposal } => {
                let tx = self.tx.clone();
                let path = engine.config.source.clone();
                tokio::task::spawn_blocking(move || {
                    let text = match crate::config_edit::append_ignore_rule(
                        path.as_deref(),
                        &app.name,
                        &proposal,
                    ) {
                        Ok(p) => format!(
                            "ignore rule for {proposal} appended to {} (used from the next start and by every CLI run)",
                            p.display()
                        ),
                        Err(e) => format!("ignore rule not written: {e}"),
                    };
                    let _ = tx.send(Msg::Notice { text });
                });
            }
            Effect::Discover => self.load(SlotKey::Discover, async move {
                let problems = engine.discover().await;
                let apps = super::watch_managed::entries(&engine);
                Msg::AppsDiscovered { apps, problems }
            }),
            Effect::Quit => {}
        }
    }

    /// Stop every load and whatever operation outlived the wait for it (on quit).
    pub fn shutdown(&mut self) {
        for (_, h) in self.loads.drain() {
            h.abort();
        }
        if let Some((_, task)) = self.logs.take() {
            task.abort();
        }
        self.operations.cancel_all();
        self.operations.abort_all();
    }
}

/// The summary, and what the server warned about (the first warning named).
fn success_detail(r: &crate::engine::SyncReport) -> String {
    let warned: Vec<String> = r
        .resources
        .iter()
        .flat_map(|x| x.warnings.iter().map(move |w| format!("{}: {w}", x.key)))
        .collect();
    match warned.first() {
        None => r.message.clone(),
        Some(first) => format!(
            "{} ({} warning(s) from the API server, first: {first})",
            r.message,
            warned.len()
        ),
    }
}

/// The summary and every object that failed or was refused, with why.
fn failure_detail(r: &crate::engine::SyncReport) -> String {
    let failed: Vec<String> = r
        .resources
        .iter()
        .filter(|x| x.action == "failed" || x.action == "refused")
        .map(|x| format!("{}: {}", x.key, x.message))
        .collect();
    if failed.is_empty() {
        r.message.clone()
    } else {
        format!("{} — {}", r.message, failed.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(resources: Vec<crate::engine::ResourceResult>) -> crate::engine::SyncReport {
        crate::engine::SyncReport {
            app: AppId::native("shop"),
            revision: "a".repeat(40).into(),
            succeeded: true,
            dry_run: false,
            message: "1 created".into(),
            stage_one_created: vec![],
            resources,
            warnings: vec![],
        }
    }

    fn result(
        name: &str,
        action: &str,
        message: &str,
        warnings: &[&str],
    ) -> crate::engine::ResourceResult {
        crate::engine::ResourceResult {
            key: crate::model::ResourceKey {
                group: String::new(),
                kind: "ConfigMap".into(),
                namespace: Some("shop".into()),
                name: name.into(),
            },
            action: action.into(),
            message: message.into(),
            warnings: warnings.iter().map(|w| w.to_string()).collect(),
        }
    }

    #[test]
    fn the_toast_names_server_warnings_and_refused_objects() {
        let ok = report(vec![
            result("a", "created", "", &[]),
            result("b", "created", "", &["deprecated field x"]),
        ]);
        assert_eq!(
            success_detail(&ok),
            "1 created (1 warning(s) from the API server, first: ConfigMap shop/b: deprecated field x)"
        );
        assert_eq!(success_detail(&report(vec![])), "1 created");
        let refused = report(vec![result(
            "c",
            "refused",
            "exists; --adopt takes it over",
            &[],
        )]);
        assert_eq!(
            failure_detail(&refused),
            "1 created — ConfigMap shop/c: exists; --adopt takes it over"
        );
    }
    use std::time::Duration;
    use tokio::sync::mpsc;

    #[tokio::test]
    async fn cancel_lets_the_operation_finish_and_answer_itself() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut ops = Operations::default();
        ops.start(7, tx, |cancel| async move {
            // Stands for a sync: it notices the token between objects and
            // then still does its own bookkeeping (record, lease).
            cancel.cancelled().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err("interrupted: 3 applied, 2 not applied".to_string())
        });
        assert!(ops.busy());
        ops.cancel(7);
        assert!(ops.busy(), "cancelling does not abort");
        let msg = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("the operation answers")
            .expect("a message");
        match msg {
            Msg::OperationFinished { id, result } => {
                assert_eq!(id, 7);
                assert_eq!(
                    result,
                    Err("interrupted: 3 applied, 2 not applied".to_string())
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!ops.busy());
    }

    #[tokio::test]
    async fn an_unknown_id_cancels_nothing() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut ops = Operations::default();
        ops.start(1, tx, |cancel| async move {
            tokio::select! {
                _ = cancel.cancelled() => Err("cancelled".to_string()),
                _ = tokio::time::sleep(Duration::from_millis(100)) => Ok("done".to_string()),
            }
        });
        ops.cancel(2);
        let msg = rx.recv().await.expect("a message");
        assert!(matches!(msg, Msg::OperationFinished { id: 1, result: Ok(m) } if m == "done"));
    }
}
