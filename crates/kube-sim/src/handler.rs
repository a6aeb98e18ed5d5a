//! One entry point for every request: log it, apply injected faults,
//! authenticate and authorise, then dispatch by route and verb.

use crate::discovery::{self, Aggregated};
use crate::route::{self, ResourcePath, Route};
use crate::server::{parse_query, Query, Shared};
use crate::status::ApiError;
use crate::{openapi, reads, watch, writes};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;

/// What every verb handler knows about the request.
pub struct Ctx {
    pub user: String,
    pub user_agent: String,
    pub query: Query,
    pub content_type: String,
    pub accept: String,
    /// What the request earns besides its answer: `Warning` headers
    /// (unknown fields under `fieldValidation=Warn`).
    pub warnings: std::sync::Mutex<Vec<String>>,
}

impl Ctx {
    /// The request's `fieldValidation` (absent: Warn); `options` names the
    /// options kind a bad value is refused with.
    pub fn field_validation(
        &self,
        options: &str,
    ) -> Result<crate::validation::FieldValidation, ApiError> {
        crate::validation::FieldValidation::from_query(
            self.query.get("fieldValidation").map(String::as_str),
            options,
        )
    }

    pub fn warn(&self, warnings: Vec<String>) {
        if warnings.is_empty() {
            return;
        }
        let mut all = self.warnings.lock().unwrap_or_else(|e| e.into_inner());
        for w in warnings {
            if !all.contains(&w) {
                all.push(w);
            }
        }
    }

    pub fn dry_run(&self) -> bool {
        self.query.get("dryRun").is_some_and(|v| v == "All")
    }

    /// The field manager: explicit, else derived from the user agent the way
    /// the apiserver does (`kubectl/v1.32.0 (...)` → `kubectl`).
    pub fn field_manager(&self) -> String {
        if let Some(m) = self.query.get("fieldManager") {
            return m.clone();
        }
        let agent = self.user_agent.split('/').next().unwrap_or("").trim();
        if agent.is_empty() {
            "unknown".into()
        } else {
            agent.chars().take(128).collect()
        }
    }
}

pub fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(shared)
}

const MAX_BODY: usize = 64 * 1024 * 1024;

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return error(&ApiError::new(
                413,
                "RequestEntityTooLarge",
                "request body too large",
            ))
        }
    };
    let path = parts.uri.path().to_string();
    let query_string = parts.uri.query().unwrap_or("").to_string();
    let header = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let content_type = header(header::CONTENT_TYPE);
    if let Some(route) = path.strip_prefix(crate::admin::PREFIX) {
        // The admin API: not logged, never faulted, admin only.
        return match shared.auth.authenticate(&parts.headers) {
            Ok(user) if user == crate::auth::ADMIN => {
                crate::admin::handle(&shared, &parts.method, route, &query_string, &body)
            }
            Ok(user) => error(&ApiError::new(
                403,
                "Forbidden",
                format!("User \"{user}\" cannot use the kube-sim admin API"),
            )),
            Err(e) => error(&e),
        };
    }
    // The simulated GitOps controllers' own requests are neither logged nor
    // faulted: tests assert on and fault their own requests.
    let internal = parts
        .headers
        .get(crate::controllers::gitops::INTERNAL_HEADER)
        .and_then(|v| v.to_str().ok())
        == Some(shared.controller_token.as_str());
    if !internal {
        shared
            .log
            .record(&parts.method, &path, &query_string, &content_type, &body);
    }

    let mut added_headers = Vec::new();
    let fault = if internal {
        None
    } else {
        shared.faults.take_matching(&parts.method, &path)
    };
    if let Some(fault) = fault {
        if let Some(latency) = fault.latency {
            tokio::time::sleep(latency).await;
        }
        if let Some(err) = fault.error {
            return with_headers(error(&err), &fault.headers);
        }
        added_headers = fault.headers;
    }

    let user = match shared.auth.authenticate(&parts.headers) {
        Ok(user) => user,
        Err(e) => return error(&e),
    };
    let ctx = Ctx {
        user,
        user_agent: header(header::USER_AGENT),
        query: parse_query(Some(&query_string)),
        content_type,
        accept: header(header::ACCEPT),
        warnings: Default::default(),
    };
    let mut resp = match dispatch(&shared, &parts.method, &path, &ctx, body).await {
        Ok(resp) => resp,
        Err(e) => error(&e),
    };
    // Warnings go with any answer, an error too, as the apiserver's do.
    let warnings = ctx.warnings.lock().unwrap_or_else(|e| e.into_inner());
    for w in warnings.iter() {
        if let Ok(v) = warning_header(w).parse() {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    drop(warnings);
    with_headers(resp, &added_headers)
}

/// Headers an injected fault adds to an answer.
fn with_headers(mut resp: Response, headers: &[(String, String)]) -> Response {
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            header::HeaderValue::from_str(value),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

async fn dispatch(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    ctx: &Ctx,
    body: Bytes,
) -> Result<Response, ApiError> {
    let route = route::parse(path);
    if !matches!(route, Route::Resource(_)) && method != Method::GET {
        return Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        ));
    }
    match route {
        Route::Version => Ok(ok_json(&version(shared.settings.kube_minor))),
        Route::Health => Ok(Response::builder()
            .status(200)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("ok"))
            .unwrap_or_default()),
        Route::LegacyRoot => {
            let state = shared.lock();
            Ok(match Aggregated::negotiate(&ctx.accept) {
                Some(flavour) => with_content_type(
                    &discovery::aggregated(&state.registry, true, flavour),
                    &flavour.content_type(),
                ),
                None => ok_json(&discovery::legacy_root(&shared.server_url)),
            })
        }
        Route::GroupsRoot => {
            let state = shared.lock();
            Ok(match Aggregated::negotiate(&ctx.accept) {
                Some(flavour) => with_content_type(
                    &discovery::aggregated(&state.registry, false, flavour),
                    &flavour.content_type(),
                ),
                None => ok_json(&discovery::group_list(&state.registry)),
            })
        }
        Route::Group(g) => discovery::group(&shared.lock().registry, &g)
            .map(|v| ok_json(&v))
            .ok_or_else(|| not_found_path(path)),
        Route::GroupVersion { group, version } => {
            discovery::resource_list(&shared.lock().registry, &group, &version)
                .map(|v| ok_json(&v))
                .ok_or_else(|| not_found_path(path))
        }
        Route::OpenApiV2 => Ok(openapi_v2(
            &ctx.accept,
            &shared.lock().registry,
            shared.settings.kube_minor,
        )),
        Route::OpenApiV3Root => Ok(ok_json(&openapi::root(&shared.lock().registry))),
        Route::OpenApiV3(key) => openapi::document(&shared.lock().registry, &key)
            .map(|v| ok_json(&v))
            .ok_or_else(|| not_found_path(path)),
        Route::NotFound => Err(not_found_path(path)),
        Route::Resource(rp) => resource(shared, method, &rp, ctx, body).await,
    }
}

async fn resource(
    shared: &Arc<Shared>,
    method: &Method,
    rp: &ResourcePath,
    ctx: &Ctx,
    body: Bytes,
) -> Result<Response, ApiError> {
    let rt = shared
        .lock()
        .registry
        .find(&rp.group, &rp.version, &rp.plural)
        .ok_or_else(|| {
            ApiError::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            )
            .with_details(json!({"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]}))
        })?;
    let minor = shared.settings.kube_minor;
    if let Some(w) = crate::builtins::deprecation_warning(&rt.group, &rt.version, &rt.kind, minor) {
        ctx.warn(vec![w]);
    }
    if rp.namespace.is_some() && !rt.namespaced {
        return Err(not_found_path(&format!(
            "{}/namespaces",
            rt.group_version_path()
        )));
    }
    if let Some(answer) = crate::logs::pod_subresource(shared, method, rp, ctx).await {
        return answer;
    }
    if let Some(answer) = crate::actions::handle(shared, &rt, rp, method, ctx, &body)? {
        return Ok(answer);
    }
    let watching = ctx
        .query
        .get("watch")
        .is_some_and(|w| w == "true" || w == "1");
    let verb = match (method.as_str(), rp.name.is_some()) {
        ("GET", true) => "get",
        ("GET", false) if watching => "watch",
        ("GET", false) => "list",
        ("POST", false) => "create",
        ("PUT", true) => "update",
        ("PATCH", true) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ))
        }
    };
    if let Some(sub) = rp
        .subresource
        .as_deref()
        .filter(|s| rt.subresource(s).is_none())
    {
        return Err(not_found_path(sub));
    }
    if !rt.allows(verb, rp.subresource.as_deref()) {
        return Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        ));
    }
    let namespace = rp.namespace.as_deref().unwrap_or("");
    shared.auth.authorize_object(
        &ctx.user,
        verb,
        &rt.group,
        &rt.plural,
        rp.subresource.as_deref(),
        namespace,
        rp.name.as_deref().unwrap_or(""),
    )?;
    match verb {
        "get" => reads::get(shared, &rt, rp, ctx).map(|v| ok_json(&v)),
        "list" => reads::list(shared, &rt, rp, ctx).map(|bytes| {
            Response::builder()
                .status(200)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(bytes))
                .unwrap_or_default()
        }),
        "watch" => watch::watch(shared, rt, rp, ctx),
        "create" => writes::create(shared, &rt, rp, ctx, &body)
            .map(|v| json_response(StatusCode::CREATED, &v)),
        "update" => writes::update(shared, &rt, rp, ctx, &body).map(|v| ok_json(&v)),
        "patch" => writes::patch(shared, &rt, rp, ctx, &body).map(|(created, v)| {
            json_response(
                if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                &v,
            )
        }),
        "delete" => {
            writes::delete(shared, &rt, rp, ctx, &body).map(|(status, v)| json_response(status, &v))
        }
        _ => writes::delete_collection(shared, &rt, rp, ctx).map(|v| ok_json(&v)),
    }
}

fn version(minor: u32) -> Value {
    json!({
        "major": "1",
        "minor": minor.to_string(),
        "gitVersion": format!("v1.{minor}.0"),
        "gitCommit": "kube-sim",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/openapi/v2`: protobuf for kubectl and client-go (which ask for nothing
/// else), JSON for everyone else.
fn openapi_v2(accept: &str, registry: &crate::registry::Registry, minor: u32) -> Response {
    let protobuf = accept.contains("protobuf");
    let content_type = if protobuf {
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    } else {
        "application/json"
    };
    let body = openapi::swagger_bytes(registry, minor, protobuf);
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.as_ref().clone()))
        .unwrap_or_default()
}

fn not_found_path(_path: &str) -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

/// A `Warning` header value as kube-apiserver writes it: code 299, no
/// agent, the text quoted with `"` and `\\` escaped.
pub fn warning_header(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    format!("299 - \"{quoted}\"")
}

pub fn json_response(status: StatusCode, v: &Value) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_default()
}

fn ok_json(v: &Value) -> Response {
    json_response(StatusCode::OK, v)
}

fn with_content_type(v: &Value, content_type: &str) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap_or_default()
}

pub fn error(e: &ApiError) -> Response {
    let mut resp = json_response(
        StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &e.to_status(),
    );
    if let Some(secs) = e.retry_after {
        if let Ok(v) = secs.to_string().parse() {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}
