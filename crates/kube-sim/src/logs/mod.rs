//! The Pod subresources a kubelet serves: `log`, and `exec`, `attach` and
//! `portforward`.
//!
//! `pods/log` answers as kube-apiserver and the kubelet do together: the
//! apiserver's checks (PodLogOptions validation, the container name, no
//! node yet → empty), then the kubelet's (`container "x" in pod "y" is
//! waiting to start: ...`, `previous terminated container ... not found`),
//! then the simulated container's output ([`lines`]) with `follow`,
//! `previous`, `tailLines`, `sinceSeconds`/`sinceTime`, `timestamps` and
//! `limitBytes`. A followed log streams a new line about every second until
//! the container stops or the client goes.
//!
//! There are no kubelets to stream `exec`, `attach` or `portforward` to, so
//! those answer as kube-apiserver does when it cannot reach one: after the
//! same pod and container checks, a 500 `error dialing backend` Status,
//! at once (never a hang).

mod lines;

use crate::handler::Ctx;
use crate::objects::meta_str;
use crate::route::ResourcePath;
use crate::server::Shared;
use crate::status::ApiError;
use axum::body::{Body, Bytes};
use axum::http::{header, Method};
use axum::response::Response;
use futures::StreamExt;
use lines::{Line, RunSpan, Source};
use serde_json::{json, Value};
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// Handle `pods/<sub>` if it is one of these; None for anything else.
pub async fn pod_subresource(
    shared: &Arc<Shared>,
    method: &Method,
    rp: &ResourcePath,
    ctx: &Ctx,
) -> Option<Result<Response, ApiError>> {
    let sub = rp.subresource.as_deref()?;
    if !rp.group.is_empty() || rp.plural != "pods" || rp.name.is_none() {
        return None;
    }
    match sub {
        "log" => Some(log(shared, method, rp, ctx).await),
        "exec" | "attach" | "portforward" => Some(no_kubelet(shared, method, rp, ctx, sub)),
        _ => None,
    }
}

fn pod_of(shared: &Shared, rp: &ResourcePath) -> Result<Arc<Value>, ApiError> {
    let name = rp.name.as_deref().unwrap_or("");
    shared
        .lock()
        .store
        .get(
            &(String::new(), "pods".into()),
            rp.namespace.as_deref().unwrap_or(""),
            name,
        )
        .ok_or_else(|| ApiError::not_found("", "pods", name))
}

fn names(pod: &Value, field: &str) -> Vec<String> {
    pod.pointer(&format!("/spec/{field}"))
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The apiserver's container choice: the one named, or the only one.
fn container_name(pod: &Value, asked: Option<&str>) -> Result<String, ApiError> {
    let name = meta_str(pod, "name").unwrap_or("");
    let containers = names(pod, "containers");
    let init = names(pod, "initContainers");
    match asked.filter(|c| !c.is_empty()) {
        Some(c) if containers.iter().chain(&init).any(|n| n == c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {name}"
        ))),
        None => match containers.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}"
            ))),
            many => {
                let mut message = format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    many.join(" ")
                );
                if !init.is_empty() {
                    message.push_str(&format!(
                        " or one of the init containers: [{}]",
                        init.join(" ")
                    ));
                }
                Err(ApiError::bad_request(message))
            }
        },
    }
}

#[derive(Debug, Default)]
struct LogOptions {
    container: Option<String>,
    follow: bool,
    previous: bool,
    timestamps: bool,
    tail_lines: Option<i64>,
    since_seconds: Option<i64>,
    since_time: Option<OffsetDateTime>,
    limit_bytes: Option<i64>,
}

fn flag(ctx: &Ctx, name: &str) -> bool {
    ctx.query.get(name).is_some_and(|v| v == "true" || v == "1")
}

fn number(ctx: &Ctx, name: &str) -> Result<Option<i64>, ApiError> {
    match ctx.query.get(name) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!("strconv.ParseInt: parsing \"{v}\": invalid syntax"))
        }),
    }
}

/// Parse and validate as `ValidatePodLogOptions` does.
fn options(ctx: &Ctx, pod_name: &str) -> Result<LogOptions, ApiError> {
    let since_time = match ctx.query.get("sinceTime") {
        None => None,
        Some(t) => Some(
            OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|_| ApiError::bad_request(format!("parsing time \"{t}\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"{t}\" as \"2006\"")))?,
        ),
    };
    let o = LogOptions {
        container: ctx.query.get("container").cloned(),
        follow: flag(ctx, "follow"),
        previous: flag(ctx, "previous"),
        timestamps: flag(ctx, "timestamps"),
        tail_lines: number(ctx, "tailLines")?,
        since_seconds: number(ctx, "sinceSeconds")?,
        since_time,
        limit_bytes: number(ctx, "limitBytes")?,
    };
    let mut causes = Vec::new();
    if let Some(t) = o.tail_lines.filter(|t| *t < 0) {
        causes.push((
            "tailLines".to_string(),
            format!("Invalid value: {t}: must be greater than or equal to 0"),
        ));
    }
    if let Some(b) = o.limit_bytes.filter(|b| *b < 1) {
        causes.push((
            "limitBytes".to_string(),
            format!("Invalid value: {b}: must be greater than 0"),
        ));
    }
    if o.since_seconds.is_some() && o.since_time.is_some() {
        causes.push((
            String::new(),
            "Forbidden: at most one of sinceTime or sinceSeconds may be specified".to_string(),
        ));
    }
    if let Some(s) = o.since_seconds.filter(|s| *s < 1) {
        causes.push((
            "sinceSeconds".to_string(),
            format!("Invalid value: {s}: must be greater than 0"),
        ));
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid("", "PodLogOptions", pod_name, causes));
    }
    Ok(o)
}

fn parse_time(v: Option<&Value>) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(v?.as_str()?, &time::format_description::well_known::Rfc3339).ok()
}

fn span_of(terminated: &Value, run: i64) -> Option<RunSpan> {
    Some(RunSpan {
        started: parse_time(terminated.get("startedAt"))?,
        finished: parse_time(terminated.get("finishedAt")),
        crashed: terminated
            .get("exitCode")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            != 0,
        run,
    })
}

/// The kubelet's choice of which run to read (`validateContainerLogStatus`).
fn run_to_read(pod: &Value, container: &str, previous: bool) -> Result<RunSpan, ApiError> {
    let pod_name = meta_str(pod, "name").unwrap_or("");
    let status = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .filter_map(|f| pod.pointer(&format!("/status/{f}")).and_then(Value::as_array))
        .flatten()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(container))
        .ok_or_else(|| {
            ApiError::bad_request(format!("container \"{container}\" in pod \"{pod_name}\" is waiting to start: ContainerCreating"))
        })?;
    let restarts = status
        .get("restartCount")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let last = status.pointer("/lastState/terminated");
    let state = status.get("state").cloned().unwrap_or(json!({}));
    let last_run = || last.and_then(|t| span_of(t, (restarts - 1).max(0)));
    if previous {
        return last_run().ok_or_else(|| {
            ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{pod_name}\" not found"
            ))
        });
    }
    if let Some(r) = state.get("running") {
        let started = parse_time(r.get("startedAt")).unwrap_or_else(OffsetDateTime::now_utc);
        return Ok(RunSpan {
            started,
            finished: None,
            crashed: false,
            run: restarts,
        });
    }
    if let Some(t) = state.get("terminated") {
        return span_of(t, restarts).or_else(last_run).ok_or_else(|| {
            ApiError::bad_request(format!(
                "container \"{container}\" in pod \"{pod_name}\" is terminated"
            ))
        });
    }
    if let Some(run) = last_run() {
        return Ok(run);
    }
    let reason = state
        .pointer("/waiting/reason")
        .and_then(Value::as_str)
        .unwrap_or("");
    let why = match reason {
        "ErrImagePull" => "image can't be pulled".to_string(),
        "ImagePullBackOff" => "trying and failing to pull image".to_string(),
        "" => {
            return Err(ApiError::bad_request(format!(
                "container \"{container}\" in pod \"{pod_name}\" is waiting to start - no logs yet"
            )))
        }
        other => other.to_string(),
    };
    Err(ApiError::bad_request(format!(
        "container \"{container}\" in pod \"{pod_name}\" is waiting to start: {why}"
    )))
}

fn source(pod: &Value, container: &str) -> Source {
    let spec = ["containers", "initContainers"]
        .iter()
        .filter_map(|f| pod.pointer(&format!("/spec/{f}")).and_then(Value::as_array))
        .flatten()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(container));
    Source {
        pod: meta_str(pod, "name").unwrap_or("").to_string(),
        container: container.to_string(),
        image: spec
            .and_then(|c| c.get("image"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        port: spec
            .and_then(|c| c.pointer("/ports/0/containerPort"))
            .and_then(Value::as_i64)
            .unwrap_or(8080),
    }
}

fn render(line: &Line, timestamps: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.text.len() + 32);
    if timestamps {
        out.extend_from_slice(lines::rfc3339_nano(line.at).as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(line.text.as_bytes());
    out.push(b'\n');
    out
}

async fn log(
    shared: &Arc<Shared>,
    method: &Method,
    rp: &ResourcePath,
    ctx: &Ctx,
) -> Result<Response, ApiError> {
    if method != Method::GET {
        return Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        ));
    }
    let ns = rp.namespace.as_deref().unwrap_or("");
    let name = rp.name.as_deref().unwrap_or("");
    shared
        .auth
        .authorize_object(&ctx.user, "get", "", "pods", Some("log"), ns, name)?;
    let pod = pod_of(shared, rp)?;
    let opts = options(ctx, name)?;
    let container = container_name(&pod, opts.container.as_deref())?;
    let text = |body: Body| {
        Response::builder()
            .status(200)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(body)
            .unwrap_or_default()
    };
    if pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Ok(text(Body::empty()));
    }
    let span = run_to_read(&pod, &container, opts.previous)?;
    let src = source(&pod, &container);
    let now = OffsetDateTime::now_utc();
    let since = opts
        .since_time
        .or_else(|| opts.since_seconds.map(|s| now - time::Duration::seconds(s)));
    let mut first: Vec<Line> = lines::lines(&src, &span, now)
        .into_iter()
        .filter(|l| since.is_none_or(|s| l.at >= s))
        .collect();
    if let Some(n) = opts.tail_lines {
        let skip = first.len().saturating_sub(usize::try_from(n).unwrap_or(0));
        first.drain(..skip);
    }
    let mut budget = opts
        .limit_bytes
        .map(|b| usize::try_from(b).unwrap_or(usize::MAX));
    let mut body = Vec::new();
    for l in &first {
        body.extend(render(l, opts.timestamps));
    }
    if let Some(b) = budget {
        body.truncate(b);
        budget = Some(b - body.len());
    }
    let still_running = span.finished.is_none();
    if !opts.follow || !still_running || budget == Some(0) {
        return Ok(text(Body::from(body)));
    }
    // Follow: what there is, then each new line as its time comes.
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    let printed = lines::lines(&src, &span, now).len();
    let shared = shared.clone();
    let key = (
        ns.to_string(),
        name.to_string(),
        meta_str(&pod, "uid").unwrap_or("").to_string(),
    );
    tokio::spawn(async move {
        if tx.send(Bytes::from(body)).await.is_err() {
            return;
        }
        follow(
            shared,
            key,
            container,
            src,
            span,
            printed,
            opts.timestamps,
            budget,
            tx,
        )
        .await;
    });
    let stream = ReceiverStream::new(rx).map(Ok::<Bytes, std::io::Error>);
    Ok(text(Body::from_stream(stream)))
}

#[allow(clippy::too_many_arguments)]
async fn follow(
    shared: Arc<Shared>,
    (ns, name, uid): (String, String, String),
    container: String,
    src: Source,
    span: RunSpan,
    mut printed: usize,
    timestamps: bool,
    mut budget: Option<usize>,
    tx: mpsc::Sender<Bytes>,
) {
    let mut generation = shared.watch_generation.subscribe();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(250)) => {}
            _ = generation.changed() => return,
            _ = tx.closed() => return,
        }
        let pod = shared
            .lock()
            .store
            .get(&(String::new(), "pods".into()), &ns, &name);
        // The container is still that run: same Pod, still running it.
        let same_run = pod.as_ref().is_some_and(|p| {
            meta_str(p, "uid") == Some(uid.as_str())
                && run_to_read(p, &container, false)
                    .is_ok_and(|r| r.started == span.started && r.finished.is_none())
        });
        let all = lines::lines(&src, &span, OffsetDateTime::now_utc());
        let mut chunk = Vec::new();
        for l in all.iter().skip(printed) {
            chunk.extend(render(l, timestamps));
        }
        printed = all.len().max(printed);
        if let Some(b) = budget {
            chunk.truncate(b);
            budget = Some(b - chunk.len());
        }
        if !chunk.is_empty() && tx.send(Bytes::from(chunk)).await.is_err() {
            return;
        }
        if !same_run || budget == Some(0) {
            return;
        }
    }
}

/// exec, attach, portforward: the apiserver's checks, then what it says
/// when the kubelet cannot be dialled.
fn no_kubelet(
    shared: &Arc<Shared>,
    method: &Method,
    rp: &ResourcePath,
    ctx: &Ctx,
    sub: &str,
) -> Result<Response, ApiError> {
    if method != Method::GET && method != Method::POST {
        return Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        ));
    }
    let ns = rp.namespace.as_deref().unwrap_or("");
    let name = rp.name.as_deref().unwrap_or("");
    shared
        .auth
        .authorize_object(&ctx.user, "create", "", "pods", Some(sub), ns, name)?;
    let pod = pod_of(shared, rp)?;
    if sub != "portforward" {
        container_name(&pod, ctx.query.get("container").map(String::as_str))?;
    }
    if pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(ApiError::bad_request(format!(
            "pod {name} does not have a host assigned"
        )));
    }
    let host = pod
        .pointer("/status/hostIP")
        .and_then(Value::as_str)
        .unwrap_or("172.18.0.2");
    Err(ApiError::new(
        500,
        "",
        format!("error dialing backend: dial tcp {host}:10250: connect: connection refused"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_container_is_chosen_as_the_apiserver_does() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(container_name(&pod, Some("b")).expect("valid"), "b");
        let e = container_name(&pod, None).expect_err("ambiguous");
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                400,
                "a container name must be specified for pod p, choose one of: [a b]"
            )
        );
        let e = container_name(&pod, Some("c")).expect_err("unknown");
        assert_eq!(e.message, "container c is not valid for pod p");
        let one = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}});
        assert_eq!(container_name(&one, None).expect("only one"), "a");
    }

    #[test]
    fn the_kubelet_explains_why_there_are_no_logs() {
        let pod = |state: Value, last: Value| {
            json!({"metadata": {"name": "p"}, "status": {"containerStatuses": [
            {"name": "a", "restartCount": 1, "state": state, "lastState": last}]}})
        };
        let waiting = pod(
            json!({"waiting": {"reason": "ContainerCreating"}}),
            json!({}),
        );
        assert_eq!(
            run_to_read(&waiting, "a", false)
                .expect_err("waiting")
                .message,
            "container \"a\" in pod \"p\" is waiting to start: ContainerCreating"
        );
        assert_eq!(
            run_to_read(&waiting, "a", true)
                .expect_err("no previous")
                .message,
            "previous terminated container \"a\" in pod \"p\" not found"
        );
        let crashed = pod(
            json!({"waiting": {"reason": "CrashLoopBackOff"}}),
            json!({"terminated": {"exitCode": 1, "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:01Z"}}),
        );
        let run = run_to_read(&crashed, "a", true).expect("previous run");
        assert!(run.crashed);
        assert_eq!(
            run_to_read(&crashed, "a", false).expect("the last run"),
            run
        );
    }
}
