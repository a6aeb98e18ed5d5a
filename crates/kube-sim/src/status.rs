//! API errors as `Status` objects.
//!
//! kubectl and kube-rs read every non-2xx body as a `metav1.Status`; the
//! `reason` and `details` decide what they print (`Error from server
//! (NotFound): configmaps "x" not found`) and whether they retry.

use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
    /// Seconds a client should wait (429/503), sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

/// One field error of a 422: `field`, its cause type (`FieldValueRequired`,
/// `FieldValueNotSupported`, ...) and its body (`Required value`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    pub field: String,
    pub reason: &'static str,
    pub message: String,
}

impl Cause {
    pub fn new(field: impl Into<String>, reason: &'static str, message: impl Into<String>) -> Self {
        Cause {
            field: field.into(),
            reason,
            message: message.into(),
        }
    }

    /// The cause type a field error body implies.
    pub fn from_message(field: String, message: String) -> Self {
        let reason = [
            ("Required value", "FieldValueRequired"),
            ("Unsupported value", "FieldValueNotSupported"),
            ("Forbidden", "FieldValueForbidden"),
            ("Duplicate value", "FieldValueDuplicate"),
            ("Too long", "FieldValueTooLong"),
            ("Too many", "FieldValueTooMany"),
            ("Not found", "FieldValueNotFound"),
        ]
        .iter()
        .find(|(prefix, _)| message.starts_with(prefix))
        .map_or("FieldValueInvalid", |(_, r)| r);
        Cause {
            field,
            reason,
            message,
        }
    }
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// `configmaps "x" not found`, with the details kubectl prints from.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(group, resource);
        ApiError::new(404, "NotFound", format!("{qualified} \"{name}\" not found"))
            .with_details(details(group, resource, name))
    }

    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(group, resource);
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{qualified} \"{name}\" already exists"),
        )
        .with_details(details(group, resource, name))
    }

    pub fn conflict(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let qualified = qualified(group, resource);
        ApiError::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {qualified} \"{name}\": {why}"),
        )
        .with_details(details(group, resource, name))
    }

    pub fn stale(group: &str, resource: &str, name: &str) -> Self {
        Self::conflict(
            group,
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 with one cause per invalid field, as `kubectl` prints them:
    /// `The ConfigMap "x" is invalid: metadata.name: Invalid value: ...`.
    /// Each message is a field error's body; its cause type follows from
    /// how it starts (`Required value`, `Unsupported value`, ...).
    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<(String, String)>) -> Self {
        let causes = causes
            .into_iter()
            .map(|(field, message)| Cause::from_message(field, message))
            .collect();
        ApiError::invalid_with(group, kind, name, causes)
    }

    /// 422 as `errors.NewInvalid` builds it: the message names the
    /// group-qualified kind (`Deployment.apps "web" is invalid: ...`) and
    /// joins the causes as Go's aggregate does (`[a, b]` for several).
    pub fn invalid_with(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let mut summary: Vec<String> = Vec::new();
        for c in &causes {
            let line = format!("{}: {}", c.field, c.message);
            if !summary.contains(&line) {
                summary.push(line);
            }
        }
        let qualified = if group.is_empty() || kind.contains('.') || kind.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let message = match summary.len() {
            0 => format!("{qualified} \"{name}\" is invalid"),
            1 => format!("{qualified} \"{name}\" is invalid: {}", summary[0]),
            _ => format!(
                "{qualified} \"{name}\" is invalid: [{}]",
                summary.join(", ")
            ),
        };
        let causes: Vec<Value> = causes
            .into_iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect();
        ApiError::new(422, "Invalid", message).with_details(json!({
            "name": name, "group": group, "kind": kind, "causes": causes
        }))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message)
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        ApiError::new(405, "MethodNotAllowed", message)
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {content_type})"),
        )
    }

    pub fn expired(message: impl Into<String>) -> Self {
        ApiError::new(410, "Expired", message)
    }

    pub fn unauthorized() -> Self {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn forbidden(user: &str, verb: &str, group: &str, resource: &str, namespace: &str) -> Self {
        ApiError::forbidden_object(user, verb, group, resource, namespace, "")
    }

    /// The apiserver's 403: `configmaps "x" is forbidden: User "u" cannot
    /// patch resource "configmaps" in API group "" in the namespace "default"`
    /// (the group-qualified resource, and the name when the request has one;
    /// `resource` may carry a subresource, `deployments/scale`).
    pub fn forbidden_object(
        user: &str,
        verb: &str,
        group: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Self {
        let scope = if namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace \"{namespace}\"")
        };
        let plural = resource.split('/').next().unwrap_or(resource);
        let qualified = if group.is_empty() {
            plural.to_string()
        } else {
            format!("{plural}.{group}")
        };
        let subject = if name.is_empty() {
            qualified
        } else {
            format!("{qualified} \"{name}\"")
        };
        let mut details = json!({"group": group, "kind": plural});
        if !name.is_empty() {
            details["name"] = json!(name);
        }
        ApiError::new(
            403,
            "Forbidden",
            format!("{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {scope}"),
        )
        .with_details(details)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(500, "InternalError", message)
    }

    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        });
        // An error the apiserver did not classify has no reason at all
        // (kubectl then prints `Error from server: ...`).
        if !self.reason.is_empty() {
            status["reason"] = json!(self.reason);
        }
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        if let Some(secs) = self.retry_after {
            status["details"]["retryAfterSeconds"] = json!(secs);
        }
        status
    }
}

fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

fn details(group: &str, resource: &str, name: &str) -> Value {
    let mut d = json!({"name": name, "kind": resource});
    if !group.is_empty() {
        d["group"] = json!(group);
    }
    d
}

/// The `Status` a successful delete returns when the object is gone.
pub fn success(group: &str, resource: &str, name: &str, uid: Option<&str>) -> Value {
    let mut d = details(group, resource, name);
    if let Some(uid) = uid {
        d["uid"] = json!(uid);
    }
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_reads_like_the_apiserver() {
        let s = ApiError::not_found("", "configmaps", "x").to_status();
        assert_eq!(s["message"], "configmaps \"x\" not found");
        assert_eq!(s["reason"], "NotFound");
        assert_eq!(s["code"], 404);
        assert_eq!(s["details"]["name"], "x");
        let s = ApiError::not_found("apps", "deployments", "web").to_status();
        assert_eq!(s["message"], "deployments.apps \"web\" not found");
    }

    #[test]
    fn invalid_lists_causes() {
        let e = ApiError::invalid(
            "",
            "ConfigMap",
            "x",
            vec![("metadata.name".into(), "Required value".into())],
        );
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "ConfigMap \"x\" is invalid: metadata.name: Required value"
        );
        assert_eq!(
            e.to_status()["details"]["causes"][0]["field"],
            "metadata.name"
        );
    }
}
