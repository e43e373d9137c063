//! Reading and writing objects generically (`Api<DynamicObject>`): the fleet's live
//! objects by label, server-side apply, delete. Every request is retried when transient.

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::Value;

use super::errors::{self, FieldConflict, Request};
use super::kinds::{self, Kind};
use super::{Cluster, retry};
use crate::plan::ObjectRef;

/// clawctl's field manager name for server-side apply.
pub const FIELD_MANAGER: &str = "clawctl";

/// Page size for lists; the API server's default maximum is 500 per page too.
const PAGE: u32 = 500;

/// A failed request, described for the user, with the conflicts when it was a 409.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct RequestError {
    pub message: String,
    pub conflicts: Vec<FieldConflict>,
    pub forbidden: bool,
    pub not_found: bool,
}

impl RequestError {
    fn new(err: &kube::Error, request: &Request<'_>) -> RequestError {
        let code = match err {
            kube::Error::Api(status) => status.code,
            _ => 0,
        };
        RequestError {
            message: errors::describe(err, request),
            conflicts: errors::field_conflicts(err).unwrap_or_default(),
            forbidden: code == 403,
            not_found: code == 404,
        }
    }
}

fn api(cluster: &Cluster, kind: &Kind, namespace: Option<&str>) -> Api<DynamicObject> {
    match namespace {
        Some(ns) if kind.namespaced => {
            Api::namespaced_with(cluster.client.clone(), ns, &kind.resource)
        }
        _ => Api::all_with(cluster.client.clone(), &kind.resource),
    }
}

fn to_value(kind: &Kind, object: DynamicObject) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if kind.resource.kind == "Secret" {
        forget_values(&mut value);
    }
    // List items come without apiVersion and kind; the plan matches on them.
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "apiVersion".into(),
            kind.resource.api_version.clone().into(),
        );
        map.insert("kind".into(), kind.resource.kind.clone().into());
    }
    value
}

/// Keeps a Secret's key names and drops its values at once: clawctl's manifests of
/// Secrets carry none, so nothing compares or shows them.
fn forget_values(secret: &mut Value) {
    if let Some(map) = secret.as_object_mut() {
        map.remove("stringData");
        if let Some(Value::Object(data)) = map.get_mut("data") {
            for value in data.values_mut() {
                *value = Value::String(String::new());
            }
        }
    }
}

/// Lists every object of `kind` matching `selector`, in all namespaces (`namespace`
/// `None`) or one, page by page.
pub async fn list(
    cluster: &Cluster,
    kind: &Kind,
    namespace: Option<&str>,
    selector: &str,
) -> Result<Vec<Value>, RequestError> {
    let api = api(cluster, kind, namespace);
    let resource = kind.group_resource();
    let request = Request {
        verb: "list",
        resource: &resource,
        namespace,
        name: None,
    };
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut params = ListParams::default().labels(selector).limit(PAGE);
        if let Some(token) = &token {
            params = params.continue_token(token);
        }
        let page = retry::idempotent(|| api.list(&params))
            .await
            .map_err(|e| RequestError::new(&e, &request))?;
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        items.extend(page.items.into_iter().map(|o| to_value(kind, o)));
        if token.is_none() {
            return Ok(items);
        }
    }
}

/// The fleet's live objects, and the cluster-scoped kinds these credentials may not read.
#[derive(Debug, Default)]
pub struct Live {
    pub objects: Vec<Value>,
    /// Kinds (`Namespace`) a user bound only to the fleet's namespaces cannot list.
    pub unreadable: Vec<&'static str>,
    /// Kinds served by a CRD the cluster lacks (their list answered 404).
    pub absent: Vec<&'static Kind>,
}

/// What listing one kind found.
enum Listed {
    Items(Vec<Value>),
    /// Forbidden to these credentials.
    Unreadable,
    /// Not served: its CRD is not installed.
    Absent,
}

/// The fleet's live objects of every managed kind: one list per kind across all
/// namespaces; where that is forbidden (namespace-scoped RBAC), one per namespace. A
/// cluster-scoped kind that cannot be listed is reported as unreadable.
pub async fn list_fleet(
    cluster: &Cluster,
    selector: &str,
    namespaces: &[String],
    concurrency: usize,
) -> Result<Live, RequestError> {
    let lists = futures::stream::iter(kinds::managed())
        .map(|kind| async move {
            match list(cluster, kind, None, selector).await {
                Err(e) if e.forbidden && kind.namespaced => {
                    let mut items = Vec::new();
                    for ns in namespaces {
                        match list(cluster, kind, Some(ns), selector).await {
                            Ok(found) => items.extend(found),
                            // A namespace that does not exist yet holds nothing.
                            Err(e) if e.not_found => {}
                            // Namespace admins get no rights on a CRD's kind unless its
                            // roles are aggregated: it matters only to a fleet using it.
                            Err(e) if e.forbidden && kind.crd.is_some() => {
                                return Ok((kind, Listed::Unreadable));
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    Ok((kind, Listed::Items(items)))
                }
                Err(e) if e.forbidden => Ok((kind, Listed::Unreadable)),
                // The API server answers 404 for a resource type it does not serve: a
                // kind whose CRD is not installed has no objects, fleet's or not.
                Err(e) if e.not_found && kind.crd.is_some() => Ok((kind, Listed::Absent)),
                other => other.map(|items| (kind, Listed::Items(items))),
            }
        })
        .buffer_unordered(concurrency.max(1));
    let lists: Vec<(&'static Kind, Listed)> = lists.try_collect().await?;
    let mut live = Live::default();
    for (kind, listed) in lists {
        match listed {
            Listed::Items(items) => live.objects.extend(items),
            Listed::Unreadable => live.unreadable.push(kind.resource.kind.as_str()),
            Listed::Absent => live.absent.push(kind),
        }
    }
    Ok(live)
}

fn kind_of(object: &ObjectRef) -> Result<&'static Kind, RequestError> {
    kinds::find(&object.api_version, &object.kind).ok_or_else(|| RequestError {
        message: format!("clawctl does not manage {} objects", object.kind),
        conflicts: Vec::new(),
        forbidden: false,
        not_found: false,
    })
}

/// One object of `kind` by name (`None`: it does not exist). A Secret's values are
/// dropped at once, as in [`list`].
pub async fn get(
    cluster: &Cluster,
    kind: &Kind,
    namespace: Option<&str>,
    name: &str,
) -> Result<Option<Value>, RequestError> {
    let api = api(cluster, kind, namespace);
    let resource = kind.group_resource();
    let request = Request {
        verb: "get",
        resource: &resource,
        namespace,
        name: Some(name),
    };
    retry::idempotent(|| api.get_opt(name))
        .await
        .map(|found| found.map(|o| to_value(kind, o)))
        .map_err(|e| RequestError::new(&e, &request))
}

/// Server-side apply of `desired` as field manager `clawctl`; returns what the server
/// stored (or, with `dry_run`, would store).
pub async fn apply(
    cluster: &Cluster,
    object: &ObjectRef,
    desired: &Value,
    force: bool,
    dry_run: bool,
) -> Result<Value, RequestError> {
    let kind = kind_of(object)?;
    let api = api(cluster, kind, object.namespace.as_deref());
    let mut params = PatchParams::apply(FIELD_MANAGER);
    params.force = force;
    params.dry_run = dry_run;
    let resource = kind.group_resource();
    let request = Request {
        verb: "apply",
        resource: &resource,
        namespace: object.namespace.as_deref(),
        name: Some(&object.name),
    };
    // Server-side apply is idempotent: sending the same configuration twice is safe.
    let patch = Patch::Apply(desired);
    let stored = retry::idempotent(|| api.patch(&object.name, &params, &patch))
        .await
        .map_err(|e| RequestError::new(&e, &request))?;
    Ok(to_value(kind, stored))
}

/// Deletes an object with background propagation (the garbage collector then removes
/// its dependents, as after `kubectl delete`). An object already gone counts as deleted.
pub async fn delete(cluster: &Cluster, object: &ObjectRef) -> Result<(), RequestError> {
    let kind = kind_of(object)?;
    let api = api(cluster, kind, object.namespace.as_deref());
    let resource = kind.group_resource();
    let request = Request {
        verb: "delete",
        resource: &resource,
        namespace: object.namespace.as_deref(),
        name: Some(&object.name),
    };
    let params = DeleteParams::background();
    match retry::idempotent(|| api.delete(&object.name, &params)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(RequestError::new(&e, &request)),
    }
}

/// The names of every PersistentVolumeClaim in `namespace`, the fleet's or not.
pub async fn claims_in(cluster: &Cluster, namespace: &str) -> Result<Vec<String>, RequestError> {
    let kind = kinds::find("v1", "PersistentVolumeClaim").ok_or_else(|| RequestError {
        message: "PersistentVolumeClaim is not a managed kind".into(),
        conflicts: Vec::new(),
        forbidden: false,
        not_found: false,
    })?;
    match list(cluster, kind, Some(namespace), "").await {
        Ok(items) => Ok(items
            .iter()
            .filter_map(|v| v.pointer("/metadata/name").and_then(Value::as_str))
            .map(str::to_string)
            .collect()),
        Err(e) if e.not_found => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}
