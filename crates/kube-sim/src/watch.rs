//! Watches: one chunked HTTP response, one JSON event per line.
//!
//! A watch starts from a version (`resourceVersion=N`: only what came after;
//! unset or `0`: ADDED for everything now, then changes), or as a streaming
//! list (`sendInitialEvents=true`: ADDED per object, then a BOOKMARK marked
//! `k8s.io/initial-events-end`). A version older than the watch cache gets an
//! HTTP 200 with a single 410 ERROR event, which is what makes kube-rs re-list
//! (an HTTP-level 410 would make it retry the same version forever).

use crate::handler::Ctx;
use crate::objects::at_version;
use crate::reads::{validate_list_options, Filter};
use crate::registry::ResourceType;
use crate::route::ResourcePath;
use crate::server::Shared;
use crate::status::ApiError;
use crate::store::{encode_event, Event, EventType, GroupResource};
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

struct WatchSpec {
    rt: Arc<ResourceType>,
    resource: GroupResource,
    filter: Filter,
    bookmarks: bool,
    timeout: Option<Duration>,
    /// `kubectl get -w` asks for `as=Table`: each event carries a one-row Table.
    table: bool,
    /// kube-rs's `Api<PartialObjectMeta<K>>` asks for
    /// `as=PartialObjectMetadata`: each event carries the metadata only.
    metadata: bool,
    /// Column definitions go with the first Table event only, as the
    /// apiserver sends them; kubectl reuses them for the rest.
    headers_sent: AtomicBool,
}

pub fn watch(
    shared: &Arc<Shared>,
    rt: Arc<ResourceType>,
    rp: &ResourcePath,
    ctx: &Ctx,
) -> Result<Response, ApiError> {
    validate_list_options(&ctx.query, true)?;
    let filter = Filter::from_request(&rt, rp, &ctx.query)?;
    let query = |k: &str| ctx.query.get(k).map(String::as_str).unwrap_or("");
    let streaming_list = query("sendInitialEvents") == "true";
    let requested_rv = query("resourceVersion");
    let spec = WatchSpec {
        resource: (rt.group.clone(), rt.plural.clone()),
        rt,
        filter,
        bookmarks: query("allowWatchBookmarks") == "true",
        timeout: query("timeoutSeconds")
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs),
        table: crate::reads::wants_table(&ctx.accept),
        metadata: crate::reads::wants_metadata(&ctx.accept),
        headers_sent: AtomicBool::new(false),
    };

    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let start = {
        let state = shared.lock();
        if streaming_list || requested_rv.is_empty() || requested_rv == "0" {
            let current: Vec<Arc<Value>> = state
                .store
                .list(&spec.resource, spec.filter.namespace.as_deref())
                .into_iter()
                .filter(|o| spec.filter.matches(o))
                .collect();
            Start::Initial {
                objects: current,
                rv: state.store.resource_version(),
                receiver: state.store.subscribe(),
                end_bookmark: streaming_list,
            }
        } else {
            let rv: u64 = requested_rv.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid resource version: {requested_rv}"))
            })?;
            match state.store.watch_from(rv) {
                Ok((backlog, receiver)) => Start::Resume {
                    backlog,
                    receiver,
                    rv,
                },
                Err(too_old) => Start::TooOld(format!(
                    "too old resource version: {} ({})",
                    too_old.requested, too_old.oldest
                )),
            }
        }
    };
    let generation = shared.watch_generation.subscribe();
    let bookmark_interval = shared.settings.bookmark_interval;
    tokio::spawn(run(spec, start, tx, generation, bookmark_interval));

    let stream = ReceiverStream::new(rx).map(Ok::<Bytes, std::io::Error>);
    Ok(Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(Body::from_stream(stream))
        .unwrap_or_default())
}

enum Start {
    Initial {
        objects: Vec<Arc<Value>>,
        rv: u64,
        receiver: broadcast::Receiver<Arc<Event>>,
        end_bookmark: bool,
    },
    Resume {
        backlog: Vec<Arc<Event>>,
        receiver: broadcast::Receiver<Arc<Event>>,
        rv: u64,
    },
    TooOld(String),
}

fn expired_line(message: &str) -> Bytes {
    let status = ApiError::expired(message).to_status();
    encode_event("ERROR", &status)
}

async fn run(
    spec: WatchSpec,
    start: Start,
    tx: mpsc::Sender<Bytes>,
    mut generation: tokio::sync::watch::Receiver<u64>,
    bookmark_interval: Duration,
) {
    let (mut receiver, mut last_rv) = match start {
        Start::TooOld(message) => {
            let _ = tx.send(expired_line(&message)).await;
            return;
        }
        Start::Initial {
            objects,
            rv,
            receiver,
            end_bookmark,
        } => {
            for obj in &objects {
                if tx
                    .send(event_line(&spec, "ADDED", &at_version(obj, &spec.rt)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            if end_bookmark {
                let mut b = bookmark(&spec, rv);
                b["object"]["metadata"]["annotations"] =
                    json!({"k8s.io/initial-events-end": "true"});
                if tx.send(line(&b)).await.is_err() {
                    return;
                }
            }
            (receiver, rv)
        }
        Start::Resume {
            backlog,
            receiver,
            rv,
        } => {
            let mut last = rv;
            for event in backlog {
                last = event.rv;
                if let Some(l) = render(&spec, &event) {
                    if tx.send(l).await.is_err() {
                        return;
                    }
                }
            }
            (receiver, last)
        }
    };
    let deadline = spec.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut ticker = tokio::time::interval(bookmark_interval);
    ticker.tick().await;
    loop {
        let sleep_until_deadline = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = receiver.recv() => match received {
                Ok(event) => {
                    if event.rv <= last_rv {
                        continue;
                    }
                    last_rv = event.rv;
                    if let Some(l) = render(&spec, &event) {
                        if tx.send(l).await.is_err() {
                            return;
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Too slow to keep up: like the apiserver, end the watch
                    // so the client re-lists.
                    let _ = tx.send(expired_line(&format!("too old resource version: {last_rv}"))).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = ticker.tick(), if spec.bookmarks => {
                if tx.send(line(&bookmark(&spec, last_rv))).await.is_err() {
                    return;
                }
            }
            _ = sleep_until_deadline => return,
            _ = generation.changed() => return,
            _ = tx.closed() => return,
        }
    }
}

/// A bookmark: an empty object of the watched kind at `rv` (a metadata
/// watch's is PartialObjectMetadata, as its events are).
fn bookmark(spec: &WatchSpec, rv: u64) -> Value {
    let (kind, api_version) = if spec.metadata {
        (
            "PartialObjectMetadata".to_string(),
            "meta.k8s.io/v1".to_string(),
        )
    } else {
        (spec.rt.kind.clone(), spec.rt.api_version())
    };
    json!({"type": "BOOKMARK", "object": {
        "kind": kind, "apiVersion": api_version,
        "metadata": {"resourceVersion": rv.to_string()}
    }})
}

fn line(v: &Value) -> Bytes {
    let mut bytes = serde_json::to_vec(v).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// The line this watcher sends for `event`, if any: selectors turn a
/// modification into ADDED or DELETED when the object starts or stops matching.
fn render(spec: &WatchSpec, event: &Event) -> Option<Bytes> {
    if event.resource != spec.resource {
        return None;
    }
    if let Some(ns) = &spec.filter.namespace {
        if &event.namespace != ns {
            return None;
        }
    }
    let now_matches = spec.filter.matches(&event.object);
    let was_matching = event.old.as_ref().map(|o| spec.filter.matches(o));
    let kind = match (event.kind, was_matching, now_matches) {
        (EventType::Added, _, true) => EventType::Added,
        (EventType::Modified, Some(true), true) => EventType::Modified,
        (EventType::Modified, _, true) => EventType::Added,
        (EventType::Modified, Some(true), false) => EventType::Deleted,
        (EventType::Deleted, Some(true), _) => EventType::Deleted,
        _ => return None,
    };
    let presented = at_version(&event.object, &spec.rt);
    if !spec.table
        && !spec.metadata
        && kind == event.kind
        && matches!(presented, std::borrow::Cow::Borrowed(_))
    {
        Some(event.line())
    } else {
        Some(event_line(spec, kind.as_str(), &presented))
    }
}

/// One event line. For a Table watch the object is a one-row `Table` whose
/// column definitions are sent with the first event only (the apiserver sets
/// `NoHeaders` after it; kubectl reuses the last columns it saw).
fn event_line(spec: &WatchSpec, kind: &str, object: &Value) -> Bytes {
    if spec.metadata {
        return encode_event(kind, &crate::reads::partial_metadata(object));
    }
    if !spec.table {
        return encode_event(kind, object);
    }
    let rv = object
        .pointer("/metadata/resourceVersion")
        .cloned()
        .unwrap_or(Value::Null);
    let mut table = crate::table::table(
        &spec.rt,
        &[Arc::new(object.clone())],
        json!({"resourceVersion": rv}),
    );
    if spec.headers_sent.swap(true, Ordering::Relaxed) {
        table["columnDefinitions"] = Value::Null;
    }
    encode_event(kind, &table)
}
