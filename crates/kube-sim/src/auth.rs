//! Bearer tokens and the RBAC table.
//!
//! Over https, each request must carry a known bearer token (else 401); the
//! token names a user, and a user other than the admin may only do what a rule
//! of the table allows (else 403). Over http kubectl sends no credentials, so
//! http requests act as the admin.

use crate::status::ApiError;
use axum::http::{header, HeaderMap};
use std::collections::HashMap;
use std::sync::RwLock;

pub const ADMIN: &str = "kube-sim-admin";

/// One allow rule: `verbs` on `resources` (plural names, `*` for all) in
/// `namespace` (`None` for all namespaces and cluster scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub user: String,
    pub verbs: Vec<String>,
    pub resources: Vec<String>,
    pub namespace: Option<String>,
}

pub struct Auth {
    /// None: no authentication (plain http).
    tokens: Option<RwLock<HashMap<String, String>>>,
    rules: RwLock<Vec<Rule>>,
}

impl Auth {
    pub fn open() -> Self {
        Auth {
            tokens: None,
            rules: RwLock::new(Vec::new()),
        }
    }

    pub fn with_admin_token(token: &str) -> Self {
        let mut tokens = HashMap::new();
        tokens.insert(token.to_string(), ADMIN.to_string());
        Auth {
            tokens: Some(RwLock::new(tokens)),
            rules: RwLock::new(Vec::new()),
        }
    }

    pub fn add_user(&self, token: &str, user: &str) {
        if let Some(tokens) = &self.tokens {
            tokens
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(token.to_string(), user.to_string());
        }
    }

    pub fn allow(&self, rule: Rule) {
        self.rules
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(rule);
    }

    pub fn authenticate(&self, headers: &HeaderMap) -> Result<String, ApiError> {
        let Some(tokens) = &self.tokens else {
            return Ok(ADMIN.to_string());
        };
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthorized)?;
        tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(token.trim())
            .cloned()
            .ok_or_else(ApiError::unauthorized)
    }

    pub fn authorize(
        &self,
        user: &str,
        verb: &str,
        group: &str,
        resource: &str,
        namespace: &str,
    ) -> Result<(), ApiError> {
        if user == ADMIN {
            return Ok(());
        }
        let rules = self.rules.read().unwrap_or_else(|e| e.into_inner());
        let allowed = rules.iter().any(|r| {
            r.user == user
                && r.verbs.iter().any(|v| v == "*" || v == verb)
                && r.resources.iter().any(|x| x == "*" || x == resource)
                && r.namespace.as_deref().is_none_or(|n| n == namespace)
        });
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden(user, verb, group, resource, namespace))
        }
    }

    /// Whether `user` may do `verb` on `resource` in `namespace` (the
    /// answer a SubjectAccessReview gives).
    pub fn is_allowed(&self, user: &str, verb: &str, resource: &str, namespace: &str) -> bool {
        self.authorize(user, verb, "", resource, namespace).is_ok()
    }

    /// The user a bearer token names; over http (no tokens) nobody.
    pub fn user_for_token(&self, token: &str) -> Option<String> {
        self.tokens
            .as_ref()?
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned()
    }

    /// The rules of the table that apply to `user` in `namespace`.
    pub fn rules_for(&self, user: &str, namespace: &str) -> Vec<Rule> {
        self.rules
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|r| r.user == user && r.namespace.as_deref().is_none_or(|n| n == namespace))
            .cloned()
            .collect()
    }

    /// The groups a user is in, as the authenticator reports them: the admin
    /// is in `system:masters`, service accounts in their namespace's group.
    pub fn groups_of(user: &str) -> Vec<String> {
        let mut groups = Vec::new();
        if user == ADMIN {
            groups.push("system:masters".to_string());
        }
        if let Some(rest) = user.strip_prefix("system:serviceaccount:") {
            groups.push("system:serviceaccounts".to_string());
            if let Some((ns, _)) = rest.split_once(':') {
                groups.push(format!("system:serviceaccounts:{ns}"));
            }
        }
        groups.push("system:authenticated".to_string());
        groups
    }

    /// [`Auth::authorize`] for a request that may name an object and a
    /// subresource: the 403 names them as the apiserver's does
    /// (`configmaps "x" is forbidden: ...`), which kubectl prints verbatim.
    #[allow(clippy::too_many_arguments)]
    pub fn authorize_object(
        &self,
        user: &str,
        verb: &str,
        group: &str,
        resource: &str,
        subresource: Option<&str>,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        self.authorize(user, verb, group, resource, namespace)
            .map_err(|e| {
                if e.code != 403 {
                    return e;
                }
                let resource = match subresource {
                    Some(sub) => format!("{resource}/{sub}"),
                    None => resource.to_string(),
                };
                ApiError::forbidden_object(user, verb, group, &resource, namespace, name)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn bearer(t: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&format!("Bearer {t}")) {
            h.insert(header::AUTHORIZATION, v);
        }
        h
    }

    #[test]
    fn tokens_map_to_users_and_rules_decide() {
        let auth = Auth::with_admin_token("secret");
        auth.add_user("ro", "viewer");
        auth.allow(Rule {
            user: "viewer".into(),
            verbs: vec!["get".into(), "list".into()],
            resources: vec!["*".into()],
            namespace: None,
        });
        assert_eq!(
            auth.authenticate(&bearer("secret")).ok().as_deref(),
            Some(ADMIN)
        );
        assert_eq!(
            auth.authenticate(&bearer("wrong")).map_err(|e| e.code),
            Err(401)
        );
        assert_eq!(
            auth.authenticate(&HeaderMap::new()).map_err(|e| e.code),
            Err(401)
        );
        assert!(auth
            .authorize("viewer", "list", "", "configmaps", "default")
            .is_ok());
        let e = auth
            .authorize("viewer", "patch", "", "configmaps", "default")
            .expect_err("read-only");
        assert_eq!(e.code, 403);
        assert!(
            e.message
                .contains("User \"viewer\" cannot patch resource \"configmaps\""),
            "{}",
            e.message
        );
        assert!(Auth::open().authenticate(&HeaderMap::new()).is_ok());
    }
}
