//! Resources that are requests rather than stored objects: the access and
//! identity reviews (`kubectl auth can-i`, `kubectl auth whoami`, TokenReview)
//! answered from kube-sim's token map and RBAC table, and the action
//! subresources `pods/binding`, `bindings`, `pods/eviction` and
//! `serviceaccounts/token`. kube-apiserver stores none of them; each POST is
//! answered (201) and, for the actions, changes the object it names.

use crate::auth::{Auth, ADMIN};
use crate::commit::{commit, Tracking};
use crate::handler::{json_response, Ctx};
use crate::objects::meta_str;
use crate::registry::ResourceType;
use crate::route::ResourcePath;
use crate::server::Shared;
use crate::status::ApiError;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Arc;

const AUTHN: &str = "authentication.k8s.io";
const AUTHZ: &str = "authorization.k8s.io";
const AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

/// Answer the request when it is one of these; `None` leaves it to the
/// ordinary verbs (which refuse what discovery does not list).
pub fn handle(
    shared: &Shared,
    rt: &Arc<ResourceType>,
    rp: &ResourcePath,
    method: &Method,
    ctx: &Ctx,
    body: &[u8],
) -> Result<Option<Response>, ApiError> {
    if method != Method::POST {
        return Ok(None);
    }
    let key = (
        rt.group.as_str(),
        rt.plural.as_str(),
        rp.name.is_some(),
        rp.subresource.as_deref(),
    );
    let answer = match key {
        (AUTHN | AUTHZ, _, false, None) => review(shared, rt, rp, ctx, body)?,
        ("", "bindings", false, None) => {
            let b = crate::writes::parse_body(body, &ctx.content_type)?;
            let pod = meta_str(&b, "name").unwrap_or("").to_string();
            authorize(shared, ctx, rt, None, rp, &pod)?;
            bind(shared, rp, &pod, &b)?
        }
        ("", "pods", true, Some("binding")) => {
            let pod = rp.name.clone().unwrap_or_default();
            authorize(shared, ctx, rt, Some("binding"), rp, &pod)?;
            let b = crate::writes::parse_body(body, &ctx.content_type)?;
            bind(shared, rp, &pod, &b)?
        }
        ("", "pods", true, Some("eviction")) => {
            let pod = rp.name.clone().unwrap_or_default();
            authorize(shared, ctx, rt, Some("eviction"), rp, &pod)?;
            crate::eviction::evict(shared, rt, rp, ctx)?
        }
        ("", "serviceaccounts", true, Some("token")) => {
            let sa = rp.name.clone().unwrap_or_default();
            authorize(shared, ctx, rt, Some("token"), rp, &sa)?;
            token_request(shared, rp, &sa, ctx, body)?
        }
        _ => return Ok(None),
    };
    Ok(Some(json_response(StatusCode::CREATED, &answer)))
}

fn authorize(
    shared: &Shared,
    ctx: &Ctx,
    rt: &ResourceType,
    sub: Option<&str>,
    rp: &ResourcePath,
    name: &str,
) -> Result<(), ApiError> {
    shared.auth.authorize_object(
        &ctx.user,
        "create",
        &rt.group,
        &rt.plural,
        sub,
        rp.namespace.as_deref().unwrap_or(""),
        name,
    )
}

/// The four reviews. The self reviews are open to every authenticated user
/// (kube-apiserver's `system:basic-user`); the others need `create`.
fn review(
    shared: &Shared,
    rt: &Arc<ResourceType>,
    rp: &ResourcePath,
    ctx: &Ctx,
    body: &[u8],
) -> Result<Value, ApiError> {
    let mut req = crate::writes::parse_body(body, &ctx.content_type)?;
    let own = rt.plural.starts_with("self");
    if !own {
        authorize(shared, ctx, rt, None, rp, "")?;
    }
    let auth = &shared.auth;
    let status = match rt.plural.as_str() {
        "selfsubjectreviews" => json!({"userInfo": user_info(&ctx.user)}),
        "tokenreviews" => {
            let token = req
                .pointer("/spec/token")
                .and_then(Value::as_str)
                .unwrap_or("");
            match auth.user_for_token(token) {
                Some(user) => json!({
                    "authenticated": true,
                    "user": user_info(&user),
                    "audiences": req.pointer("/spec/audiences").cloned().unwrap_or(json!([AUDIENCE])),
                }),
                None => json!({"user": {}, "error": "invalid bearer token"}),
            }
        }
        "selfsubjectaccessreviews" => access(auth, &ctx.user, &req, None),
        "subjectaccessreviews" => {
            let user = req
                .pointer("/spec/user")
                .and_then(Value::as_str)
                .unwrap_or("");
            access(auth, user, &req, None)
        }
        "localsubjectaccessreviews" => {
            let ns = rp.namespace.as_deref().unwrap_or("");
            let asked = req
                .pointer("/spec/resourceAttributes/namespace")
                .and_then(Value::as_str)
                .unwrap_or("");
            if asked != ns {
                return Err(ApiError::bad_request(format!(
                    "spec.resourceAttributes.namespace must match namespace: {ns}"
                )));
            }
            let user = req
                .pointer("/spec/user")
                .and_then(Value::as_str)
                .unwrap_or("");
            access(auth, user, &req, Some(ns))
        }
        "selfsubjectrulesreviews" => {
            let ns = req
                .pointer("/spec/namespace")
                .and_then(Value::as_str)
                .unwrap_or("");
            rules(auth, &ctx.user, ns)
        }
        _ => {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ))
        }
    };
    req["apiVersion"] = json!(rt.api_version());
    req["kind"] = json!(rt.kind);
    req["metadata"] = json!({"creationTimestamp": null});
    if rt.plural == "localsubjectaccessreviews" {
        req["metadata"]["namespace"] = json!(rp.namespace);
    }
    req["status"] = status;
    Ok(req)
}

fn user_info(user: &str) -> Value {
    json!({"username": user, "groups": Auth::groups_of(user)})
}

/// `allowed` for resource attributes from the RBAC table; non-resource URLs
/// are the discovery and health paths every authenticated user may read.
fn access(auth: &Auth, user: &str, req: &Value, namespace: Option<&str>) -> Value {
    let attrs = req.pointer("/spec/resourceAttributes");
    let allowed = match attrs {
        Some(a) => {
            let get = |f: &str| a.get(f).and_then(Value::as_str).unwrap_or("");
            let ns = namespace.unwrap_or(get("namespace"));
            let resource = match get("subresource") {
                "" => get("resource").to_string(),
                sub => format!("{}/{sub}", get("resource")),
            };
            auth.is_allowed(user, get("verb"), &resource, ns)
        }
        None => {
            let path = req
                .pointer("/spec/nonResourceAttributes/path")
                .and_then(Value::as_str)
                .unwrap_or("");
            let verb = req
                .pointer("/spec/nonResourceAttributes/verb")
                .and_then(Value::as_str)
                .unwrap_or("");
            user == ADMIN || (verb == "get" && public_path(path))
        }
    };
    if !allowed {
        return json!({"allowed": false});
    }
    let reason = if user == ADMIN {
        "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to Group \"system:masters\"".to_string()
    } else {
        format!("RBAC: allowed by a kube-sim rule for User \"{user}\"")
    };
    json!({"allowed": true, "reason": reason})
}

fn public_path(path: &str) -> bool {
    [
        "/api", "/apis", "/version", "/healthz", "/livez", "/readyz", "/openapi",
    ]
    .iter()
    .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// What `kubectl auth can-i --list` shows: the user's rules, plus the self
/// reviews and discovery every authenticated user has.
fn rules(auth: &Auth, user: &str, namespace: &str) -> Value {
    let mut resource_rules = vec![
        json!({"verbs": ["create"], "apiGroups": [AUTHZ], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}),
        json!({"verbs": ["create"], "apiGroups": [AUTHN], "resources": ["selfsubjectreviews"]}),
    ];
    let mut non_resource = vec![json!({
        "verbs": ["get"],
        "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"],
    })];
    if user == ADMIN {
        resource_rules.insert(
            0,
            json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}),
        );
        non_resource.insert(0, json!({"verbs": ["*"], "nonResourceURLs": ["*"]}));
    }
    for r in auth.rules_for(user, namespace) {
        resource_rules
            .push(json!({"verbs": r.verbs, "apiGroups": ["*"], "resources": r.resources}));
    }
    json!({"resourceRules": resource_rules, "nonResourceRules": non_resource, "incomplete": false})
}

/// Put a pod on a node, once: as the scheduler does through `pods/binding`.
fn bind(shared: &Shared, rp: &ResourcePath, pod: &str, binding: &Value) -> Result<Value, ApiError> {
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if node.is_empty() {
        return Err(ApiError::invalid(
            "",
            "Binding",
            pod,
            vec![("target.name".into(), "Required value".into())],
        ));
    }
    let ns = rp.namespace.as_deref().unwrap_or("");
    let mut state = shared.lock();
    let state = &mut *state;
    let rt = state
        .registry
        .find("", "v1", "pods")
        .ok_or_else(|| ApiError::not_found("", "pods", pod))?;
    let old = state
        .store
        .get(&(String::new(), "pods".into()), ns, pod)
        .ok_or_else(|| ApiError::not_found("", "pods", pod))?;
    if let Some(current) = old.pointer("/spec/nodeName").and_then(Value::as_str) {
        if !current.is_empty() {
            return Err(ApiError::conflict(
                "",
                "pods/binding",
                pod,
                &format!("pod {pod} is already assigned to node \"{current}\""),
            ));
        }
    }
    let mut new = (*old).clone();
    new["spec"]["nodeName"] = json!(node);
    commit(state, &rt, Some(old), new, false, Tracking::Done)?;
    Ok(
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    )
}

/// A bound service-account token, usable as a bearer token over https.
fn token_request(
    shared: &Shared,
    rp: &ResourcePath,
    sa: &str,
    ctx: &Ctx,
    body: &[u8],
) -> Result<Value, ApiError> {
    let req = crate::writes::parse_body(body, &ctx.content_type)?;
    let ns = rp.namespace.clone().unwrap_or_default();
    if shared
        .lock()
        .store
        .get(&(String::new(), "serviceaccounts".into()), &ns, sa)
        .is_none()
    {
        return Err(ApiError::not_found("", "serviceaccounts", sa));
    }
    let seconds = req
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(3600);
    if seconds < 600 {
        return Err(ApiError::invalid(
            AUTHN,
            "TokenRequest",
            sa,
            vec![(
                "spec.expirationSeconds".into(),
                format!(
                    "Invalid value: {seconds}: may not specify a duration less than 10 minutes"
                ),
            )],
        ));
    }
    let audiences = req
        .pointer("/spec/audiences")
        .filter(|a| a.as_array().is_some_and(|a| !a.is_empty()))
        .cloned()
        .unwrap_or(json!([AUDIENCE]));
    let now = time::OffsetDateTime::now_utc();
    let expires = now + time::Duration::seconds(seconds);
    let user = format!("system:serviceaccount:{ns}:{sa}");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = json!({"aud": audiences, "exp": expires.unix_timestamp(), "iat": now.unix_timestamp(),
        "iss": AUDIENCE, "sub": user,
        "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": sa}}});
    let token = format!(
        "{}.{}.{}",
        b64.encode(r#"{"alg":"RS256","kid":"kube-sim"}"#),
        b64.encode(claims.to_string()),
        b64.encode(uuid::Uuid::new_v4().as_bytes()),
    );
    shared.auth.add_user(&token, &user);
    let expiration = expires
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    Ok(json!({
        "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": sa, "namespace": ns, "creationTimestamp": null},
        "spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": req.pointer("/spec/boundObjectRef").cloned().unwrap_or(Value::Null)},
        "status": {"token": token, "expirationTimestamp": expiration},
    }))
}
