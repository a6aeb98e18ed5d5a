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
/// worded.
pub enum Body<'a> {
    /// POST or PUT: the object as sent.
    Object,
    /// A JSON or merge patch: the patched object is what is decoded.
    JsonPatch { patch: &'a [u8] },
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
    let mut problems: Vec<String> = Vec::new();
    if directive != FieldValidation::Ignore {
        let dup_source = match body {
            Body::Object => raw,
            Body::JsonPatch { patch } | Body::Strategic { patch } => patch,
        };
        problems.extend(duplicates::duplicates(dup_source));
        problems.extend(
            unknown
                .iter()
                .map(|p| format!("unknown field {}", go::quote(&typed::strict_path(p)))),
        );
        dedup(&mut problems);
    }
    for path in unknown.iter().rev() {
        remove(obj, path);
    }
    if directive == FieldValidation::Strict && !problems.is_empty() {
        return Err(refusal(
            rt,
            obj,
            &body,
            format!("strict decoding error: {}", problems.join(", ")),
        ));
    }
    // A custom resource's values are validated after decoding (422).
    if !cr_errors.is_empty() {
        return Err(crd::refuse(rt, obj, &cr_errors));
    }
    Ok(if directive == FieldValidation::Warn {
        problems
    } else {
        Vec::new()
    })
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
        Body::Object => {
            let (version, kind) = body_gvk(rt, obj);
            ApiError::bad_request(format!(
                "{kind} in version {} cannot be handled as a {}: {message}",
                go::quote(&version),
                rt.kind
            ))
        }
        Body::JsonPatch { .. } => {
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
mod tests;
