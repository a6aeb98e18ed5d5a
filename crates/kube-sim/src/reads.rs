//! get and list, with selectors, pagination and list-option validation.

use crate::handler::Ctx;
use crate::objects::at_version;
use crate::pagination::Token;
use crate::registry::ResourceType;
use crate::route::ResourcePath;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::server::{Query, Shared};
use crate::status::ApiError;
use crate::subresources;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn get(
    shared: &Shared,
    rt: &ResourceType,
    rp: &ResourcePath,
    ctx: &Ctx,
) -> Result<Value, ApiError> {
    let name = rp.name.as_deref().unwrap_or("");
    let ns = rp.namespace.as_deref().unwrap_or("");
    let obj = shared
        .lock()
        .store
        .get(&(rt.group.clone(), rt.plural.clone()), ns, name)
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
    match rp.subresource.as_deref() {
        // `kubectl get deploy web` asks for a Table, as for a list.
        None if wants_table(&ctx.accept) => {
            let presented = Arc::new(at_version(&obj, rt).into_owned());
            let rv = presented
                .pointer("/metadata/resourceVersion")
                .cloned()
                .unwrap_or(Value::Null);
            Ok(crate::table::table(
                rt,
                &[presented],
                json!({"resourceVersion": rv}),
            ))
        }
        None if wants_metadata(&ctx.accept) => Ok(partial_metadata(&obj)),
        None => Ok(at_version(&obj, rt).into_owned()),
        Some("status") if rt.has_status => Ok(at_version(&obj, rt).into_owned()),
        Some("scale") if rt.has_scale => subresources::scale_of(rt, &obj),
        Some(_) => Err(ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )),
    }
}

/// The parsed selectors of a list or watch.
pub struct Filter {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub namespace: Option<String>,
}

impl Filter {
    pub fn from_request(
        rt: &ResourceType,
        rp: &ResourcePath,
        query: &Query,
    ) -> Result<Self, ApiError> {
        Ok(Filter {
            labels: LabelSelector::parse(
                query.get("labelSelector").map(String::as_str).unwrap_or(""),
            )?,
            fields: FieldSelector::parse(
                query.get("fieldSelector").map(String::as_str).unwrap_or(""),
                &rt.kind,
            )?,
            namespace: rp.namespace.clone(),
        })
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }
}

/// The apiserver's ListOptions validation, for list and watch alike.
pub fn validate_list_options(query: &Query, watching: bool) -> Result<(), ApiError> {
    let get = |k: &str| query.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let mut causes = Vec::new();
    let rv_match = get("resourceVersionMatch");
    if let Some(m) = rv_match {
        // A list rule only: a streaming-list watch may leave the version unset.
        if !watching && get("resourceVersion").is_none() {
            causes.push((
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
                    .to_string(),
            ));
        }
        if get("continue").is_some() {
            causes.push((
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden when continue is provided"
                    .to_string(),
            ));
        }
        if !matches!(m, "Exact" | "NotOlderThan") {
            causes.push((
                "resourceVersionMatch",
                format!(
                    "Unsupported value: \"{m}\": supported values: \"Exact\", \"NotOlderThan\""
                ),
            ));
        }
        if m == "Exact" && get("resourceVersion") == Some("0") {
            causes.push((
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""
                    .to_string(),
            ));
        }
    }
    if let Some(send) = get("sendInitialEvents") {
        if !watching {
            causes.push((
                "sendInitialEvents",
                "Forbidden: sendInitialEvents is forbidden for list".to_string(),
            ));
        } else {
            if rv_match != Some("NotOlderThan") {
                causes.push(("resourceVersionMatch", "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan".to_string()));
            }
            if send == "true" && get("allowWatchBookmarks") != Some("true") {
                causes.push((
                    "allowWatchBookmarks",
                    "Forbidden: sendInitialEvents requires allowWatchBookmarks=true".to_string(),
                ));
            }
        }
    } else if watching && rv_match.is_some() {
        causes.push(("resourceVersionMatch", "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided".to_string()));
    }
    if causes.is_empty() {
        return Ok(());
    }
    let causes: Vec<(String, String)> = causes
        .into_iter()
        .map(|(f, m)| (f.to_string(), m))
        .collect();
    Err(ApiError::invalid(
        "meta.k8s.io",
        "ListOptions.meta.k8s.io",
        "",
        causes,
    ))
}

/// A list response as bytes: objects are written straight from the store's
/// shared values, so a 50,000-object list is not copied first.
pub fn list(
    shared: &Shared,
    rt: &ResourceType,
    rp: &ResourcePath,
    ctx: &Ctx,
) -> Result<Vec<u8>, ApiError> {
    validate_list_options(&ctx.query, false)?;
    let limit = ctx
        .query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let (items, rv, offset, snapshot_id) = match ctx.query.get("continue").filter(|c| !c.is_empty())
    {
        Some(token) => {
            let token = Token::decode(token).ok_or_else(|| {
                ApiError::bad_request("continue key is not valid: invalid continue token")
            })?;
            let state = shared.lock();
            let snap = state.snapshots.find(token.id).ok_or_else(|| {
                ApiError::expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
            })?;
            (snap.items.clone(), snap.rv, token.offset, Some(snap.id))
        }
        None => {
            let filter = Filter::from_request(rt, rp, &ctx.query)?;
            let state = shared.lock();
            let resource = (rt.group.clone(), rt.plural.clone());
            let items: Vec<Arc<Value>> = match (filter.fields.exact_name(), &filter.namespace) {
                (Some(name), Some(ns)) => {
                    state.store.get(&resource, ns, name).into_iter().collect()
                }
                _ => state.store.list(&resource, filter.namespace.as_deref()),
            };
            let items: Vec<Arc<Value>> = items.into_iter().filter(|o| filter.matches(o)).collect();
            (Arc::new(items), state.store.resource_version(), 0, None)
        }
    };
    let end = limit.map_or(items.len(), |l| (offset + l).min(items.len()));
    let mut continue_token = None;
    let mut remaining = None;
    if end < items.len() {
        let id = match snapshot_id {
            Some(id) => id,
            None => shared.lock().snapshots.keep(rv, items.clone()),
        };
        continue_token = Some(
            Token {
                id,
                offset: end,
                rv,
            }
            .encode(),
        );
        remaining = Some(items.len() - end);
    }
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = continue_token {
        metadata["continue"] = json!(c);
        metadata["remainingItemCount"] = json!(remaining);
    }
    if wants_table(&ctx.accept) {
        let page: Vec<Arc<Value>> = items
            .get(offset..end)
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        let table = crate::table::table(rt, &page, metadata);
        return Ok(serde_json::to_vec(&table).unwrap_or_default());
    }
    if wants_metadata(&ctx.accept) {
        let items: Vec<Value> = items
            .iter()
            .take(end)
            .skip(offset)
            .map(|o| partial_metadata(o))
            .collect();
        let list = json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": metadata,
            "items": items,
        });
        return Ok(serde_json::to_vec(&list).unwrap_or_default());
    }
    let mut out = Vec::with_capacity(64 + (end - offset.min(end)) * 512);
    out.extend_from_slice(b"{\"kind\":");
    write_json(&mut out, &json!(format!("{}List", rt.kind)));
    out.extend_from_slice(b",\"apiVersion\":");
    write_json(&mut out, &json!(rt.api_version()));
    out.extend_from_slice(b",\"metadata\":");
    write_json(&mut out, &metadata);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate().take(end).skip(offset) {
        if i > offset {
            out.push(b',');
        }
        if rt.custom {
            write_json(&mut out, &at_version(item, rt));
        } else {
            write_without_type_meta(&mut out, &at_version(item, rt));
        }
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

/// The apiserver omits `apiVersion` and `kind` on the items of a list of a
/// built-in kind (custom resources keep theirs); clients must cope, so
/// kube-sim does the same rather than hide that from them.
fn write_without_type_meta(out: &mut Vec<u8>, item: &Value) {
    let Some(map) = item.as_object() else {
        write_json(out, item);
        return;
    };
    out.push(b'{');
    let mut first = true;
    for (k, v) in map
        .iter()
        .filter(|(k, _)| k.as_str() != "apiVersion" && k.as_str() != "kind")
    {
        if !first {
            out.push(b',');
        }
        first = false;
        write_json(out, &Value::String(k.clone()));
        out.push(b':');
        write_json(out, v);
    }
    out.push(b'}');
}

pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

/// Whether the first media type offered asks for metadata only
/// (`as=PartialObjectMetadata` for get and watch, `…List` for a list), as
/// kube-rs's `Api<PartialObjectMeta<K>>` and client-go's metadata client do.
pub fn wants_metadata(accept: &str) -> bool {
    accept.split(',').next().is_some_and(|first| {
        first.split(';').any(|p| {
            matches!(
                p.trim(),
                "as=PartialObjectMetadata" | "as=PartialObjectMetadataList"
            )
        })
    })
}

/// An object as the apiserver answers a metadata-only request: its
/// `metadata` whole, nothing else, typed `meta.k8s.io/v1`
/// PartialObjectMetadata (a CRD's schema of hundreds of kilobytes is not
/// sent, and a client that reads anything but metadata finds nothing).
pub fn partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn write_json(out: &mut Vec<u8>, v: &Value) {
    // Writing a Value into a Vec cannot fail.
    let _ = serde_json::to_writer(out, v);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Query {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn list_option_rules() {
        assert!(validate_list_options(&q(&[("limit", "500")]), false).is_ok());
        let e =
            validate_list_options(&q(&[("sendInitialEvents", "true")]), false).expect_err("list");
        assert_eq!(e.code, 422);
        assert!(
            e.message
                .contains("sendInitialEvents is forbidden for list"),
            "{}",
            e.message
        );
        assert!(
            validate_list_options(&q(&[("resourceVersionMatch", "NotOlderThan")]), false).is_err()
        );
        let streaming = q(&[
            ("sendInitialEvents", "true"),
            ("resourceVersionMatch", "NotOlderThan"),
            ("allowWatchBookmarks", "true"),
        ]);
        assert!(validate_list_options(&streaming, true).is_ok());
        assert!(validate_list_options(&q(&[("sendInitialEvents", "true")]), true).is_err());
        assert!(validate_list_options(
            &q(&[("resourceVersion", "0"), ("resourceVersionMatch", "Exact")]),
            false
        )
        .is_err());
    }

    #[test]
    fn table_is_chosen_only_when_first_offered() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
    }

    #[test]
    fn metadata_only_is_what_kube_rs_and_client_go_ask_for() {
        assert!(wants_metadata(
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
        ));
        assert!(wants_metadata(
            "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
        ));
        assert!(!wants_metadata(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=PartialObjectMetadata"
        ));
        assert!(!wants_metadata("application/json"));
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "kustomizations.kustomize.toolkit.fluxcd.io", "resourceVersion": "7"},
            "spec": {"group": "kustomize.toolkit.fluxcd.io"}});
        assert_eq!(
            partial_metadata(&crd),
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                "metadata": {"name": "kustomizations.kustomize.toolkit.fluxcd.io", "resourceVersion": "7"}})
        );
    }
}
