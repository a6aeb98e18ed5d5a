//! What kube-apiserver refuses, refused the same way: kube-sim must never be
//! kinder than a real cluster, or a typo in Git "syncs" here and fails there.
//!
//! Two stages, as in kube-apiserver:
//! - **decoding** (this file, [`typed`], [`crd`]): the body read as its type.
//!   Unknown and duplicate fields follow the request's `fieldValidation`
//!   (`Strict` refuses them, `Warn`, the default, answers with `Warning`
//!   headers, `Ignore` drops them; unknown fields are never stored); type
//!   mismatches and bad base64 are refused with Go's decoder's words. Each
//!   verb words its refusal as its kube-apiserver handler does: create and
//!   update `400 … cannot be handled as a …`, JSON/merge/strategic patches
//!   `422 patch: Invalid value`, server-side apply `500 failed to create
//!   typed patch object` (whatever `fieldValidation` says: the apiserver's
//!   structured-merge typing refuses unknown fields before the directive is
//!   looked at).
//! - **value rules** ([`rules`]): names, required fields, enums, selectors,
//!   run on every write in [`crate::commit`].

mod crd;
mod duplicates;
pub mod go;
pub(crate) mod rules;
mod typed;
mod yaml_dups;

pub use rules::validate;

use crate::registry::ResourceType;
use crate::schema::{ListType, Schema};
use crate::status::{ApiError, Cause};
use serde_json::Value;
use typed::{Decoded, Seg};

/// The `fieldValidation` directive of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

impl FieldValidation {
    /// From the query; absent is `Warn`. `options` names the options kind
    /// in the refusal of a bad value (`CreateOptions`, `PatchOptions`).
    pub fn from_query(value: Option<&str>, options: &str) -> Result<Self, ApiError> {
        match value.unwrap_or("") {
            "" | "Warn" => Ok(FieldValidation::Warn),
            "Strict" => Ok(FieldValidation::Strict),
            "Ignore" => Ok(FieldValidation::Ignore),
            other => Err(ApiError::invalid_with(
                "meta.k8s.io",
                options,
                "",
                vec![Cause::not_supported(
                    "fieldValidation",
                    other,
                    &["", "Ignore", "Strict", "Warn"],
                )],
            )),
        }
    }
}

/// What a body's decoding leaves to say: warnings for `Warn`.
pub type Warnings = Vec<String>;

/// How a write's body reached the decoder, which decides how a refusal is
/// worded and in which order problems are named.
pub enum Body<'a> {
    /// POST or PUT: the object as sent (`yaml` when sent as YAML).
    Object { yaml: bool },
    /// A JSON patch: its ops are decoded strictly, then the patched object.
    JsonPatch { patch: &'a [u8] },
    /// A merge patch: the patch's duplicates, then the patched object.
    MergePatch { patch: &'a [u8] },
    /// A strategic merge patch: refusals quote the patch (`%+v`).
    Strategic { patch: &'a [u8] },
}

/// Decodes `obj` (the object to be written) as kube-apiserver would for
/// create, update and the non-apply patches: removes unknown fields, and
/// answers per `directive`.
pub fn decode(
    rt: &ResourceType,
    obj: &mut Value,
    body: Body,
    raw: &[u8],
    directive: FieldValidation,
) -> Result<Warnings, ApiError> {
    let (unknown, failure, cr_errors) = if rt.custom {
        let f = crd::inspect(rt, obj);
        (f.unknown, None, f.type_errors)
    } else {
        match typed::decode(&rt.group, &rt.version, &rt.kind, obj) {
            Decoded::Untyped => return Ok(Vec::new()),
            Decoded::Failed(f) => (Vec::new(), Some(f.message), Vec::new()),
            Decoded::Fine { unknown } => (unknown, None, Vec::new()),
        }
    };
    if let Some(message) = failure {
        return Err(refusal(rt, obj, &body, message));
    }
    let (problems, warnings) = if directive == FieldValidation::Ignore {
        (Vec::new(), Vec::new())
    } else {
        strict_findings(rt.custom, &body, raw, &unknown)
    };
    // Refused before anything is dropped: the message shows the object as
    // the patch made it.
    if directive == FieldValidation::Strict && !problems.is_empty() {
        return Err(refusal(
            rt,
            obj,
            &body,
            format!("strict decoding error: {}", problems.join(", ")),
        ));
    }
    for path in unknown.iter().rev() {
        remove(obj, path);
    }
    // A custom resource's values are validated after decoding (422).
    if !cr_errors.is_empty() {
        return Err(crd::refuse(rt, obj, &cr_errors));
    }
    Ok(if directive == FieldValidation::Warn {
        warnings
    } else {
        Vec::new()
    })
}

/// What the strict decoder names, in kube-apiserver's order: the parts of a
/// Strict refusal and the `Warning`s of Warn (the same, except that go-yaml's
/// duplicates are one part but a warning each).
fn strict_findings(
    custom: bool,
    body: &Body,
    raw: &[u8],
    unknown: &[Vec<Seg>],
) -> (Vec<String>, Warnings) {
    let unknown_message =
        |p: &[Seg]| format!("unknown field {}", go::quote(&typed::strict_path(p)));
    // A patched object is re-encoded by Go before it is decoded, so its
    // unknown fields come in sorted key order (a custom resource's in
    // pruning order, whatever the body).
    let mut sorted: Vec<&Vec<Seg>> = unknown.iter().collect();
    if !custom {
        sorted.sort_by(|a, b| compare_paths(a, b));
    }
    let sorted_unknown = || sorted.iter().map(|p| unknown_message(p));
    let mut problems: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    match body {
        Body::Object { yaml: true } => {
            let dups = yaml_dups::duplicate_keys(raw);
            if !dups.is_empty() {
                problems.push(format!("yaml: unmarshal errors:\n  {}", dups.join("\n  ")));
                warnings.extend(dups);
            }
            problems.extend(sorted_unknown());
            warnings.extend(sorted_unknown());
        }
        Body::Object { yaml: false } if !custom => {
            // One pass over the body: unknown and duplicate fields in
            // document order, as Go's decoder meets them.
            let paths: Vec<String> = unknown.iter().map(|p| typed::strict_path(p)).collect();
            let is_unknown = |p: &str| paths.iter().any(|u| u == p);
            match duplicates::strict_problems(raw, "", &is_unknown) {
                Some(found) => {
                    problems = found;
                    problems.extend(unknown.iter().map(|p| unknown_message(p)));
                }
                None => problems.extend(unknown.iter().map(|p| unknown_message(p))),
            }
        }
        Body::Object { yaml: false } => {
            problems.extend(duplicates::duplicates(raw));
            problems.extend(unknown.iter().map(|p| unknown_message(p)));
        }
        Body::JsonPatch { patch } => {
            problems.extend(duplicates::json_patch_problems(patch));
            problems.extend(sorted_unknown());
        }
        Body::MergePatch { patch } | Body::Strategic { patch } => {
            problems.extend(duplicates::duplicates(patch));
            problems.extend(sorted_unknown());
        }
    }
    dedup(&mut problems);
    if warnings.is_empty() {
        warnings = problems.clone();
    }
    dedup(&mut warnings);
    (problems, warnings)
}

/// The order of paths in a document whose maps have sorted keys.
fn compare_paths(a: &[Seg], b: &[Seg]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = match (x, y) {
            (Seg::Index(i), Seg::Index(j)) => i.cmp(j),
            (
                Seg::Field { name: n, .. } | Seg::Key(n),
                Seg::Field { name: m, .. } | Seg::Key(m),
            ) => n.cmp(m),
            (Seg::Index(_), _) => std::cmp::Ordering::Less,
            (_, Seg::Index(_)) => std::cmp::Ordering::Greater,
        };
        if ord != std::cmp::Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

/// Server-side apply's strict check of its body, which kube-apiserver makes
/// after the apply succeeded: go-yaml's duplicate keys (JSON is read as
/// YAML), refused with 400 under Strict, one `Warning` each under Warn.
pub fn apply_duplicates(body: &[u8], directive: FieldValidation) -> Result<Warnings, ApiError> {
    if directive == FieldValidation::Ignore {
        return Ok(Vec::new());
    }
    // JSON bodies (what clients send) are checked by the fast JSON scan first.
    let json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if json && duplicates::duplicates(body).is_empty() {
        return Ok(Vec::new());
    }
    let dups = yaml_dups::duplicate_keys(body);
    if dups.is_empty() {
        return Ok(Vec::new());
    }
    if directive == FieldValidation::Strict {
        return Err(ApiError::bad_request(format!(
            "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  {}",
            dups.join("\n  ")
        )));
    }
    Ok(dups)
}

/// Server-side apply: the applied configuration must type-check against the
/// kind's schema whatever `fieldValidation` says (kube-apiserver's
/// structured-merge typing of the patch). Refused as kube-apiserver 1.27 to
/// 1.33 refuse it: HTTP 500 with no reason.
pub fn check_apply(rt: &ResourceType, config: &Value, namespace: &str) -> Result<(), ApiError> {
    // An applied configuration may not carry managedFields (an object read
    // back from the cluster and applied as it is).
    if config
        .pointer("/metadata/managedFields")
        .is_some_and(Value::is_array)
    {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    let name = crate::objects::meta_str(config, "name").unwrap_or("");
    let gvk = format!("{}/{}, Kind={}", rt.group, rt.version, rt.kind);
    let ident = format!("{namespace}/{name}; {gvk}");
    let unknown = if rt.custom {
        let f = crd::inspect(rt, config);
        if let Some(first) = f.type_errors.first() {
            // Structured merge types the patch first, as for built-in kinds.
            return Err(ApiError::new(
                500,
                "",
                format!(
                    "failed to create typed patch object ({ident}): {}: {}",
                    smd_path(&first.path, config, &rt.schema),
                    first.smd_complaint()
                ),
            ));
        }
        f.unknown
    } else {
        match typed::decode(&rt.group, &rt.version, &rt.kind, config) {
            Decoded::Untyped => return Ok(()),
            Decoded::Failed(f) => {
                return Err(apply_type_error(&ident, &gvk, config, &rt.schema, f))
            }
            Decoded::Fine { unknown } => unknown,
        }
    };
    // Structured merge stops at the first undeclared field of each map.
    let mut reported: Vec<&[Seg]> = Vec::new();
    for path in &unknown {
        let parent = &path[..path.len() - 1];
        if reported.iter().any(|r| &r[..r.len() - 1] == parent) {
            continue;
        }
        reported.push(path.as_slice());
    }
    if reported.is_empty() {
        return Ok(());
    }
    let errors: Vec<String> = reported
        .iter()
        .map(|p| {
            format!(
                "{}: field not declared in schema",
                smd_path(p, config, &rt.schema)
            )
        })
        .collect();
    let detail = if errors.len() == 1 {
        errors[0].clone()
    } else {
        format!("errors:\n  {}", errors.join("\n  "))
    };
    Err(ApiError::new(
        500,
        "",
        format!("failed to create typed patch object ({ident}): {detail}"),
    ))
}

/// A value the kind's type refuses, worded as structured-merge-diff (or,
/// for bad base64, the conversion after it) words it.
fn apply_type_error(
    ident: &str,
    gvk: &str,
    config: &Value,
    schema: &Schema,
    f: typed::Failure,
) -> ApiError {
    let Some(expected) = f.expected else {
        return ApiError::new(
            500,
            "",
            format!("failed to convert new object ({ident}) to proper version: unable to convert unstructured object to {gvk}: error decoding from json: {}", f.message),
        );
    };
    let path = smd_path(&f.path, config, schema);
    let complaint = match expected.as_str() {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "f32" | "f64" => format!(
            "expected numeric (int or float), got {}",
            go::type_name(&f.value)
        ),
        "a string" => format!(
            "expected string, got &value.valueUnstructured{{Value:{}}}",
            go::sharp_v(&f.value)
        ),
        "a boolean" => format!("expected boolean, got &{{{}}}", go::plus_v(&f.value)),
        "a sequence" => format!("expected list, got &{{{}}}", go::plus_v(&f.value)),
        _ => format!("expected map, got &{{{}}}", go::plus_v(&f.value)),
    };
    ApiError::new(
        500,
        "",
        format!("failed to create typed patch object ({ident}): {path}: {complaint}"),
    )
}

/// A path as structured-merge-diff prints it: `.spec.containers[name="web"].x`
/// (keyed list items by their keys, other list items by index).
fn smd_path(path: &[Seg], root: &Value, schema: &Schema) -> String {
    let mut out = String::new();
    let mut node = Some(root);
    let mut names: Vec<&str> = Vec::new();
    for seg in path {
        match seg {
            Seg::Field { name, .. } | Seg::Key(name) => {
                out.push('.');
                out.push_str(name);
                names.push(name);
                node = node.and_then(|n| n.get(name.as_str()));
            }
            Seg::Index(i) => {
                let item = node.and_then(|n| n.get(*i));
                match (schema.list_type(&names), item) {
                    (ListType::Map(keys), Some(item)) => {
                        let mut parts: Vec<String> = keys
                            .iter()
                            .filter_map(|k| {
                                let v = item
                                    .get(k.name)
                                    .cloned()
                                    .or_else(|| k.default.map(Value::from))?;
                                Some(format!("{}={}", k.name, v))
                            })
                            .collect();
                        parts.sort();
                        out.push_str(&format!("[{}]", parts.join(",")));
                    }
                    (ListType::Set, Some(item)) => out.push_str(&format!("[={item}]")),
                    _ => out.push_str(&format!("[{i}]")),
                }
                node = item;
            }
        }
    }
    out
}

/// The refusal of a body that does not decode, worded per verb.
fn refusal(rt: &ResourceType, obj: &Value, body: &Body, message: String) -> ApiError {
    match body {
        Body::Object { .. } => {
            let (version, kind) = body_gvk(rt, obj);
            ApiError::bad_request(format!(
                "{kind} in version {} cannot be handled as a {}: {message}",
                go::quote(&version),
                rt.kind
            ))
        }
        Body::JsonPatch { .. } | Body::MergePatch { .. } => {
            let text = serde_json::to_string(obj).unwrap_or_default();
            patch_invalid(&text, &message)
        }
        Body::Strategic { patch } => {
            let patch: Value = serde_json::from_slice(patch).unwrap_or(Value::Null);
            patch_invalid(&go::plus_v(&patch), &message)
        }
    }
}

fn patch_invalid(shown: &str, message: &str) -> ApiError {
    ApiError::invalid_with(
        "",
        "",
        "",
        vec![Cause::invalid("patch", &go::quote(shown), message)],
    )
}

/// The version and kind the body claims (kube-apiserver's decoder reads them
/// from it, defaulting to the URL's).
fn body_gvk(rt: &ResourceType, obj: &Value) -> (String, String) {
    let version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(|v| v.rsplit('/').next().unwrap_or(v).to_string())
        .unwrap_or_else(|| rt.version.clone());
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or(&rt.kind)
        .to_string();
    (version, kind)
}

fn dedup(items: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    items.retain(|i| seen.insert(i.clone()));
}

/// Removes the field at `path` (the decoder drops what its type lacks).
fn remove(obj: &mut Value, path: &[Seg]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = obj;
    for seg in parents {
        let next = match seg {
            Seg::Field { name, .. } | Seg::Key(name) => node.get_mut(name.as_str()),
            Seg::Index(i) => node.get_mut(*i),
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    if let (Seg::Field { name, .. } | Seg::Key(name), Some(map)) = (last, node.as_object_mut()) {
        map.remove(name.as_str());
    }
}

#[cfg(test)]
mod strict_tests;
#[cfg(test)]
mod tests;
