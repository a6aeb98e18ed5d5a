//! The API server's `Warning` response headers (deprecated APIs, unknown
//! fields under `fieldValidation=Warn`, admission warnings) as plain
//! sentences, so previews and results can show them per object.
//!
//! kube-apiserver sends each as `299 - "text"` (RFC 7234's warn-code,
//! warn-agent `-`, quoted warn-text); several may share one header,
//! comma-separated. A value that does not parse is kept whole rather than
//! dropped.

use http::HeaderMap;

/// Every warning text of a response, in order, without duplicates.
pub fn from_headers(headers: &HeaderMap) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in headers.get_all(http::header::WARNING) {
        let text = String::from_utf8_lossy(value.as_bytes());
        for w in parse(&text) {
            if !out.contains(&w) {
                out.push(w);
            }
        }
    }
    out
}

/// The warn-texts of one header value.
pub fn parse(value: &str) -> Vec<String> {
    match parse_strict(value) {
        Some(texts) => texts,
        None if value.trim().is_empty() => vec![],
        None => vec![value.trim().to_string()],
    }
}

fn parse_strict(value: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = value.trim_start();
    while !rest.is_empty() {
        // warn-code: three digits.
        let code_end = rest.find(' ')?;
        let code = &rest[..code_end];
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        rest = rest[code_end..].trim_start();
        // warn-agent: a token or host[:port].
        let agent_end = rest.find(' ')?;
        rest = rest[agent_end..].trim_start();
        let (text, after) = quoted(rest)?;
        out.push(text);
        rest = after.trim_start();
        // An optional quoted warn-date.
        if rest.starts_with('"') {
            let (_, after) = quoted(rest)?;
            rest = after.trim_start();
        }
        match rest.strip_prefix(',') {
            Some(after) => rest = after.trim_start(),
            None if rest.is_empty() => {}
            None => return None,
        }
    }
    Some(out)
}

/// A quoted-string at the start of `s` (backslash escapes), and what follows.
fn quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('"')?.char_indices();
    let mut text = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => text.push(chars.next()?.1),
            '"' => return Some((text, &s[i + 2..])),
            c => text.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_apiserver_warnings_parse_to_their_text() {
        assert_eq!(
            parse(r#"299 - "unknown field \"spec.replica\"""#),
            vec![r#"unknown field "spec.replica""#]
        );
        assert_eq!(
            parse(r#"299 - "policy/v1beta1 PodSecurityPolicy is deprecated", 299 - "second""#),
            vec!["policy/v1beta1 PodSecurityPolicy is deprecated", "second"]
        );
        assert_eq!(
            parse(r#"299 example.com:443 "with a date" "Sat, 25 Aug 2012 23:34:45 GMT""#),
            vec!["with a date"]
        );
        assert_eq!(parse(r#"299 - "a, b""#), vec!["a, b"]);
    }

    #[test]
    fn a_value_that_does_not_parse_is_kept_whole() {
        assert_eq!(parse("something odd"), vec!["something odd"]);
        assert_eq!(
            parse(r#"299 - "unterminated"#),
            vec![r#"299 - "unterminated"#]
        );
        assert_eq!(parse("  "), Vec::<String>::new());
    }

    #[test]
    fn several_headers_are_read_in_order_once_each() {
        let mut h = HeaderMap::new();
        h.append(
            http::header::WARNING,
            r#"299 - "one""#.parse().expect("value"),
        );
        h.append(
            http::header::WARNING,
            r#"299 - "two", 299 - "one""#.parse().expect("value"),
        );
        assert_eq!(from_headers(&h), vec!["one", "two"]);
        assert!(from_headers(&HeaderMap::new()).is_empty());
    }
}
