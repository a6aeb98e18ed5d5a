//! The admin API under `/kube-sim/`: fault injection and observation for the
//! binary, the same operations [`crate::KubeSim`] offers to library users.
//!
//! Only the admin may call it (over https, the admin's token; over http every
//! request is the admin). Its requests are neither logged nor subject to
//! injected faults, so a test can always clear what it armed.
//!
//! | route                        | does                                       |
//! |------------------------------|--------------------------------------------|
//! | `GET /kube-sim/faults`       | the armed faults                           |
//! | `POST /kube-sim/faults`      | arm one: `{"status":500,"method":"GET","pathContains":"/configmaps","times":1,"retryAfter":2,"latencyMs":100,"message":"..."}` |
//! | `DELETE /kube-sim/faults`    | disarm all                                 |
//! | `POST /kube-sim/compact`     | forget watch history (410 on resume)       |
//! | `POST /kube-sim/drop-watches`| end every open watch                       |
//! | `GET /kube-sim/requests`     | the request log (`?method=PATCH`, `?pathContains=...` filter) |
//! | `DELETE /kube-sim/requests`  | clear the log                              |
//! | `POST /kube-sim/users`       | `{"token":"t","user":"viewer"}` (https)    |
//! | `POST /kube-sim/rbac`        | `{"user":"viewer","verbs":["get"],"resources":["*"],"namespace":null}` |
//! | `POST /kube-sim/seed`        | store an object directly, as the admin     |
//! | `GET /kube-sim/state`        | `{"resourceVersion":N,"objects":N}`        |

use crate::auth::Rule;
use crate::faults::{Fault, LoggedRequest};
use crate::handler::json_response;
use crate::server::{parse_query, Shared};
use crate::status::ApiError;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

pub const PREFIX: &str = "/kube-sim/";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultSpec {
    status: Option<u16>,
    message: Option<String>,
    retry_after: Option<u64>,
    latency_ms: Option<u64>,
    method: Option<String>,
    path_contains: Option<String>,
    times: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSpec {
    token: String,
    user: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    user: String,
    verbs: Vec<String>,
    resources: Vec<String>,
    #[serde(default)]
    namespace: Option<String>,
}

/// Serve one admin request; `route` is the path after `/kube-sim/`.
pub fn handle(shared: &Shared, method: &Method, route: &str, query: &str, body: &[u8]) -> Response {
    match dispatch(shared, method, route.trim_end_matches('/'), query, body) {
        Ok((status, v)) => json_response(status, &v),
        Err(e) => crate::handler::error(&e),
    }
}

fn dispatch(
    shared: &Shared,
    method: &Method,
    route: &str,
    query: &str,
    body: &[u8],
) -> Result<(StatusCode, Value), ApiError> {
    let ok = |v: Value| Ok((StatusCode::OK, v));
    match (method.as_str(), route) {
        ("GET", "faults") => ok(Value::Array(
            shared.faults.list().iter().map(fault_json).collect(),
        )),
        ("POST", "faults") => {
            let spec: FaultSpec = parse(body)?;
            let fault = fault_from(spec)?;
            let shown = fault_json(&fault);
            shared.faults.add(fault);
            Ok((StatusCode::CREATED, shown))
        }
        ("DELETE", "faults") => {
            shared.faults.clear();
            ok(json!({}))
        }
        ("POST", "compact") => {
            shared.compact();
            ok(json!({"resourceVersion": shared.lock().store.resource_version().to_string()}))
        }
        ("POST", "drop-watches") => {
            shared.drop_watches();
            ok(json!({}))
        }
        ("GET", "requests") => {
            let q = parse_query(Some(query));
            let method = q.get("method").map(|m| m.to_uppercase());
            let fragment = q.get("pathContains");
            let entries: Vec<Value> = shared
                .log
                .entries()
                .iter()
                .filter(|r| method.as_deref().is_none_or(|m| r.method == m))
                .filter(|r| fragment.is_none_or(|f| r.path.contains(f.as_str())))
                .map(request_json)
                .collect();
            ok(Value::Array(entries))
        }
        ("DELETE", "requests") => {
            shared.log.clear();
            ok(json!({}))
        }
        ("POST", "users") => {
            let spec: UserSpec = parse(body)?;
            shared.auth.add_user(&spec.token, &spec.user);
            Ok((StatusCode::CREATED, json!({"user": spec.user})))
        }
        ("POST", "rbac") => {
            let spec: RuleSpec = parse(body)?;
            shared.auth.allow(Rule {
                user: spec.user,
                verbs: spec.verbs,
                resources: spec.resources,
                namespace: spec.namespace,
            });
            Ok((StatusCode::CREATED, json!({})))
        }
        ("POST", "seed") => {
            let object: Value = parse(body)?;
            crate::seed_object(shared, object)
                .map(|v| (StatusCode::CREATED, v))
                .map_err(|e| ApiError::bad_request(e.to_string()))
        }
        ("GET", "state") => {
            let state = shared.lock();
            ok(json!({
                "resourceVersion": state.store.resource_version().to_string(),
                "objects": state.store.count(),
            }))
        }
        (
            _,
            "faults" | "compact" | "drop-watches" | "requests" | "users" | "rbac" | "seed"
            | "state",
        ) => Err(ApiError::method_not_allowed(format!(
            "{method} is not supported on {PREFIX}{route}"
        ))),
        _ => Err(ApiError::new(
            404,
            "NotFound",
            format!("no admin route {PREFIX}{route}"),
        )),
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
    })
}

fn fault_from(spec: FaultSpec) -> Result<Fault, ApiError> {
    let mut fault = match (spec.status, spec.latency_ms) {
        (Some(code), _) => {
            if !(400..=599).contains(&code) {
                return Err(ApiError::bad_request(format!(
                    "status must be an error code (400-599), got {code}"
                )));
            }
            Fault::status(code)
        }
        (None, Some(ms)) => Fault::latency(Duration::from_millis(ms)),
        (None, None) => {
            return Err(ApiError::bad_request(
                "a fault needs a status, a latencyMs or both",
            ))
        }
    };
    if let Some(ms) = spec.latency_ms {
        fault.latency = Some(Duration::from_millis(ms));
    }
    if let Some(secs) = spec.retry_after {
        fault = fault.retry_after(secs);
    }
    if let (Some(message), Some(error)) = (spec.message, fault.error.as_mut()) {
        error.message = message;
    }
    fault.method = spec.method.map(|m| m.to_uppercase());
    fault.path_contains = spec.path_contains;
    fault.times = spec.times;
    if fault.times == Some(0) {
        return Err(ApiError::bad_request("times must be at least 1"));
    }
    Ok(fault)
}

fn fault_json(f: &Fault) -> Value {
    json!({
        "status": f.error.as_ref().map(|e| e.code),
        "message": f.error.as_ref().map(|e| e.message.clone()),
        "retryAfter": f.error.as_ref().and_then(|e| e.retry_after),
        "latencyMs": f.latency.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        "method": f.method,
        "pathContains": f.path_contains,
        "times": f.times,
    })
}

fn request_json(r: &LoggedRequest) -> Value {
    json!({
        "method": r.method,
        "path": r.path,
        "query": r.query,
        "contentType": r.content_type,
        "body": r.body,
    })
}
