//! Fault injection and the request log, for reliability tests.
//!
//! Tests arm faults (an error status, Retry-After, added latency) for
//! requests matching a method and a path fragment, optionally only N times,
//! and read back every request the server saw, with when it arrived. A fault
//! may also add response headers (e.g. `Warning`) to the real answer.

use crate::status::ApiError;
use axum::http::Method;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Fault {
    /// Only requests with this method (None: any).
    pub method: Option<String>,
    /// Only paths containing this fragment (None: any).
    pub path_contains: Option<String>,
    pub error: Option<ApiError>,
    pub latency: Option<Duration>,
    /// How many more requests it applies to (None: until cleared).
    pub times: Option<usize>,
    /// Headers added to the answer (the error's, or the real one).
    pub headers: Vec<(String, String)>,
    /// Matching requests let through before it applies (e.g. a dry-run
    /// before the real write of the same object).
    pub after: usize,
}

impl Fault {
    /// Answer matching requests with `code` (500, 429, 503, ...).
    pub fn status(code: u16) -> Self {
        let reason = match code {
            400 => "BadRequest",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            409 => "Conflict",
            410 => "Expired",
            422 => "Invalid",
            429 => "TooManyRequests",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "InternalError",
        };
        Fault {
            method: None,
            path_contains: None,
            error: Some(ApiError::new(
                code,
                reason,
                format!("injected fault: {code}"),
            )),
            latency: None,
            times: None,
            headers: Vec::new(),
            after: 0,
        }
    }

    pub fn latency(d: Duration) -> Self {
        Fault {
            method: None,
            path_contains: None,
            error: None,
            latency: Some(d),
            times: None,
            headers: Vec::new(),
            after: 0,
        }
    }

    /// Answer matching requests as usual, with `name: value` added.
    pub fn header(name: &str, value: &str) -> Self {
        Fault {
            method: None,
            path_contains: None,
            error: None,
            latency: None,
            times: None,
            headers: Vec::new(),
            after: 0,
        }
        .with_header(name, value)
    }

    /// Also add `name: value` to the answer (repeatable).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        if let Some(e) = &mut self.error {
            e.retry_after = Some(secs);
        }
        self
    }

    pub fn on(mut self, method: &str, path_contains: &str) -> Self {
        self.method = Some(method.to_uppercase());
        self.path_contains = Some(path_contains.to_string());
        self
    }

    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }

    /// Let the first `n` matching requests through untouched.
    pub fn after(mut self, n: usize) -> Self {
        self.after = n;
        self
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method.as_str())
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.contains(p))
    }
}

#[derive(Default)]
pub struct Faults(Mutex<Vec<Fault>>);

impl Faults {
    pub fn add(&self, fault: Fault) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(fault);
    }

    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The armed faults, in matching order.
    pub fn list(&self) -> Vec<Fault> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The first armed fault for this request, counting it down.
    pub fn take_matching(&self, method: &Method, path: &str) -> Option<Fault> {
        let mut faults = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let i = faults.iter().position(|f| f.matches(method, path))?;
        if faults[i].after > 0 {
            faults[i].after -= 1;
            return None;
        }
        let fault = faults[i].clone();
        if let Some(n) = &mut faults[i].times {
            *n = n.saturating_sub(1);
            if *n == 0 {
                faults.remove(i);
            }
        }
        Some(fault)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub body: String,
    /// When the server received it.
    pub at: std::time::Instant,
}

impl LoggedRequest {
    /// A query parameter's value, decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&self.query)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn is_mutating(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
    }
}

/// The last requests, bounded so a long benchmark does not grow memory.
pub struct RequestLog(Mutex<VecDeque<LoggedRequest>>);

const LOG_CAPACITY: usize = 20_000;

impl Default for RequestLog {
    fn default() -> Self {
        RequestLog(Mutex::new(VecDeque::new()))
    }
}

impl RequestLog {
    pub fn record(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        content_type: &str,
        body: &[u8],
    ) {
        let mut log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= LOG_CAPACITY {
            log.pop_front();
        }
        // Bodies are kept whole up to 64 KiB; tests assert on what was sent.
        let body = String::from_utf8_lossy(&body[..body.len().min(65_536)]).into_owned();
        log.push_back(LoggedRequest {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            content_type: content_type.to_string(),
            body,
            at: std::time::Instant::now(),
        });
    }

    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_count_down_and_match_by_path() {
        let f = Faults::default();
        f.add(Fault::status(500).on("GET", "/configmaps").times(2));
        assert!(f.take_matching(&Method::GET, "/api/v1/pods").is_none());
        assert!(f
            .take_matching(&Method::POST, "/api/v1/configmaps")
            .is_none());
        assert_eq!(
            f.take_matching(&Method::GET, "/api/v1/configmaps")
                .and_then(|x| x.error)
                .map(|e| e.code),
            Some(500)
        );
        assert!(f
            .take_matching(&Method::GET, "/api/v1/configmaps")
            .is_some());
        assert!(f
            .take_matching(&Method::GET, "/api/v1/configmaps")
            .is_none());
        f.add(Fault::status(429).retry_after(3));
        assert_eq!(
            f.take_matching(&Method::GET, "/x")
                .and_then(|x| x.error)
                .and_then(|e| e.retry_after),
            Some(3)
        );
    }

    #[test]
    fn log_keeps_query_parameters() {
        let log = RequestLog::default();
        log.record(
            &Method::PATCH,
            "/api/v1/namespaces/d/configmaps/x",
            "fieldManager=gitops-tui&dryRun=All",
            "application/apply-patch+yaml",
            b"{}",
        );
        let e = &log.entries()[0];
        assert_eq!(e.param("dryRun").as_deref(), Some("All"));
        assert!(e.is_mutating());
        assert!(e.at <= std::time::Instant::now());
    }

    #[test]
    fn header_faults_carry_their_headers_and_no_error() {
        let f = Faults::default();
        f.add(Fault::header("Warning", "299 - \"x\"").with_header("Warning", "299 - \"y\""));
        let got = f.take_matching(&Method::GET, "/x").expect("matches");
        assert!(got.error.is_none() && got.latency.is_none());
        assert_eq!(
            got.headers,
            vec![
                ("Warning".to_string(), "299 - \"x\"".to_string()),
                ("Warning".to_string(), "299 - \"y\"".to_string())
            ]
        );
    }
}
