//! The HTTP layer: routing of Kubernetes API paths, the request log, latency, fault
//! injection, authentication ([`crate::authn`]) and RBAC authorization
//! ([`crate::rbac`]) of every request before it is routed, as the real filter chain
//! does, SelfSubjectAccessReview, and the read verbs (get, list with selectors and
//! paging, watch as a chunked stream of newline-delimited JSON events).
//!
//! Simplifications (vs kube-apiserver):
//! - plain HTTP/1.1 only; bearer tokens only (see [`crate::authn`]);
//! - lists always serve the latest state: `resourceVersion`/`resourceVersionMatch` on a
//!   list are accepted but not used to read the past;
//! - watches send a BOOKMARK every `bookmark_interval` (real servers: about a minute) when
//!   `allowWatchBookmarks` is set;
//! - the legacy `/api/v1/watch/...` paths and subresources other than `status` (and a
//!   ServiceAccount's `token`, which answers any token, and a Pod's `exec`, see
//!   [`crate::exec`]) are not served (404).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Response, StatusCode, header};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Value, json};

use crate::api::{self, Ctx, DeleteOpts, PatchType};
use crate::authn::{Tokens, UserInfo};
use crate::discovery;
use crate::rbac::{self, RequestInfo};
use crate::resources::{RESOURCES, ResIdx, by_plural, served};
use crate::selector::{FieldSelector, LabelSelector, Selector};
use crate::status::{self, ApiError};
use crate::store::{EventType, Store, meta_str};
use crate::{Fault, FaultRule, Request};

pub type Body = BoxBody<Bytes, Infallible>;

/// Locks a mutex, recovering from poisoning (a panicking handler must not wedge the fake).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Mutable settings the tests change while the server runs.
pub struct Config {
    pub latency: Duration,
    pub rollout_delay: Duration,
    pub bookmark_interval: Duration,
    pub crash_images: Vec<String>,
    pub unpullable_images: Vec<String>,
    /// Rules with how many matching requests each has seen.
    pub faults: Vec<(FaultRule, usize)>,
    /// (verb, resource, namespace) triples answered with 403 whatever RBAC says.
    pub denies: Vec<(String, String, Option<String>)>,
    /// Bearer tokens and who they authenticate as.
    pub tokens: Tokens,
    /// Gateway API's CRDs are installed: HTTPRoutes are served.
    pub gateway_api: bool,
}

/// State shared by the server, the controllers and the test-facing handle.
pub struct Shared {
    pub store: Mutex<Store>,
    pub cfg: Mutex<Config>,
    pub log: Mutex<Vec<Request>>,
    pub url: Mutex<String>,
    /// The `pods/exec` handler and the calls played.
    pub exec: Mutex<crate::exec::ExecState>,
}

/// What a request addresses.
#[derive(Debug, Clone, Default)]
struct Target {
    verb: String,
    resource: String,
    res: Option<ResIdx>,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
    /// A discovery/version/health path, answered without a resource.
    discovery: Option<Value>,
    content_type: Option<&'static str>,
    not_found: bool,
}

fn json_response(code: u16, body: &Value) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(bytes)).boxed())
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed()))
}

fn error_response(e: &ApiError) -> Response<Body> {
    let mut r = json_response(e.code, &e.body);
    if let Some(secs) = e.retry_after
        && let Ok(v) = header::HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// A `Warning` header value as the apiserver writes one (`299 - "<text>"`, RFC 7234: the
/// text quoted, `"` and `\\` escaped with a backslash).
fn warning_header(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("299 - \"{escaped}\"")
}

/// Classifies a path and method.
/// `crds`: whether the resources served by CRDs (see `resources`) are installed; when not,
/// their paths are unknown, as on a cluster without the CRD.
fn route(method: &str, path: &str, query: &Query, accept: &str, url: &str, crds: bool) -> Target {
    let by_plural =
        |g: &str, v: &str, r: &str| by_plural(g, v, r).filter(|&i| served(&RESOURCES[i], crds));
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let disc = |v: Value| Target {
        verb: "discovery".into(),
        discovery: Some(v),
        ..Default::default()
    };
    let (group, version, rest): (&str, &str, &[&str]) = match segs.as_slice() {
        ["version"] => return disc(discovery::version()),
        ["healthz"] | ["livez"] | ["readyz"] => return disc(Value::String("ok".into())),
        ["api"] if discovery::wants_aggregated(accept) => {
            let mut t = disc(discovery::aggregated(true, crds));
            t.content_type = Some(discovery::AGGREGATED_CONTENT_TYPE);
            return t;
        }
        ["api"] => return disc(discovery::core_versions(url)),
        ["apis"] if discovery::wants_aggregated(accept) => {
            let mut t = disc(discovery::aggregated(false, crds));
            t.content_type = Some(discovery::AGGREGATED_CONTENT_TYPE);
            return t;
        }
        ["apis"] => return disc(discovery::group_list(crds)),
        ["api", v] => {
            return match discovery::resource_list("", v, crds) {
                Some(d) => disc(d),
                None => Target {
                    verb: "discovery".into(),
                    not_found: true,
                    ..Default::default()
                },
            };
        }
        ["apis", g] => {
            return match discovery::group(g, crds) {
                Some(d) => disc(d),
                None => Target {
                    verb: "discovery".into(),
                    not_found: true,
                    ..Default::default()
                },
            };
        }
        ["apis", g, v] => {
            return match discovery::resource_list(g, v, crds) {
                Some(d) => disc(d),
                None => Target {
                    verb: "discovery".into(),
                    not_found: true,
                    ..Default::default()
                },
            };
        }
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => {
            return Target {
                not_found: true,
                ..Default::default()
            };
        }
    };
    // namespaces/{ns}/{resource}... when {resource} is a namespaced resource of this group.
    let (namespace, rest) = match rest {
        ["namespaces", ns, r, more @ ..]
            if by_plural(group, version, r).is_some_and(|i| RESOURCES[i].namespaced) =>
        {
            (Some(ns.to_string()), {
                let mut v = vec![*r];
                v.extend_from_slice(more);
                v
            })
        }
        other => (None, other.to_vec()),
    };
    let Some(res) = rest.first().and_then(|r| by_plural(group, version, r)) else {
        return Target {
            not_found: true,
            ..Default::default()
        };
    };
    let rt = &RESOURCES[res];
    let name = rest.get(1).map(|s| s.to_string());
    let subresource = rest.get(2).map(|s| s.to_string());
    let bad_scope = (!rt.namespaced && namespace.is_some())
        || (rt.namespaced && namespace.is_none() && name.is_some())
        || rest.len() > 3
        || subresource.as_deref().is_some_and(|s| {
            !(s == "status" && rt.status_subresource
                || s == "token" && rt.plural == "serviceaccounts"
                || s == "exec" && rt.plural == "pods")
        });
    let verb = match (method, name.is_some()) {
        ("POST", true) if subresource.as_deref() == Some("token") => "create",
        // RBAC checks `create` on pods/exec for both (since 1.31, a WebSocket GET too).
        ("GET" | "POST", true) if subresource.as_deref() == Some("exec") => "create",
        ("GET", true) => "get",
        ("GET", false) if query.watch => "watch",
        ("GET", false) => "list",
        ("POST", false) => "create",
        ("PUT", true) => "update",
        ("PATCH", true) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unsupported",
    };
    let resource = match &subresource {
        Some(s) => format!("{}/{s}", rt.plural),
        None => rt.plural.to_string(),
    };
    Target {
        verb: verb.into(),
        resource,
        res: Some(res),
        namespace,
        name,
        subresource,
        discovery: None,
        content_type: None,
        not_found: bad_scope,
    }
}

/// Query parameters the fake understands.
#[derive(Debug, Default)]
struct Query {
    label_selector: String,
    field_selector: String,
    limit: Option<usize>,
    continue_: Option<String>,
    resource_version: Option<String>,
    watch: bool,
    bookmarks: bool,
    send_initial_events: bool,
    timeout_seconds: Option<u64>,
    dry_run: Option<String>,
    field_manager: Option<String>,
    force: Option<bool>,
    propagation_policy: Option<String>,
}

fn parse_query(q: &str) -> Query {
    let mut out = Query::default();
    for (k, v) in form_urlencoded::parse(q.as_bytes()) {
        let v = v.into_owned();
        match k.as_ref() {
            "labelSelector" => out.label_selector = v,
            "fieldSelector" => out.field_selector = v,
            "limit" => out.limit = v.parse().ok().filter(|n| *n > 0),
            "continue" => out.continue_ = Some(v).filter(|s| !s.is_empty()),
            "resourceVersion" => out.resource_version = Some(v),
            "watch" => out.watch = v == "true" || v == "1",
            "allowWatchBookmarks" => out.bookmarks = v == "true" || v == "1",
            "sendInitialEvents" => out.send_initial_events = v == "true" || v == "1",
            "timeoutSeconds" => out.timeout_seconds = v.parse().ok(),
            "dryRun" => out.dry_run = Some(v),
            "fieldManager" => out.field_manager = Some(v),
            "force" => out.force = Some(v == "true" || v == "1"),
            "propagationPolicy" => out.propagation_policy = Some(v),
            _ => {}
        }
    }
    out
}

fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    format!("{rv}\0{ns}\0{name}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_continue(token: &str) -> Option<(u64, String, String)> {
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect();
    let s = String::from_utf8(bytes?).ok()?;
    let mut parts = s.splitn(3, '\0');
    let rv = parts.next()?.parse().ok()?;
    Some((rv, parts.next()?.to_string(), parts.next()?.to_string()))
}

/// An object serialised without `apiVersion`/`kind`, as list items are.
struct Item<'a>(&'a Value);

impl Serialize for Item<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(m) = self.0.as_object() else {
            return self.0.serialize(s);
        };
        let mut map = s.serialize_map(None)?;
        for (k, v) in m {
            if k != "apiVersion" && k != "kind" {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct ListBody<'a> {
    kind: String,
    #[serde(rename = "apiVersion")]
    api_version: String,
    metadata: Value,
    items: Vec<Item<'a>>,
}

fn selector(q: &Query) -> Result<Selector, ApiError> {
    Ok(Selector {
        labels: LabelSelector::parse(&q.label_selector).map_err(status::bad_request)?,
        fields: FieldSelector::parse(&q.field_selector).map_err(status::bad_request)?,
    })
}

fn list(store: &Store, res: ResIdx, ns: Option<&str>, q: &Query) -> Result<Vec<u8>, ApiError> {
    let rt = &RESOURCES[res];
    let sel = selector(q)?;
    let (list_rv, after) = match &q.continue_ {
        Some(tok) => {
            let (rv, ans, aname) = decode_continue(tok).ok_or_else(|| {
                status::bad_request(format!("continue key is not valid: {tok:?}"))
            })?;
            (rv, Some((ans, aname)))
        }
        None => (store.rv(), None),
    };
    let mut items = Vec::new();
    let mut more = None;
    let mut remaining = 0usize;
    let after_ref = after.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
    let candidates: Box<dyn Iterator<Item = &Arc<Value>>> = match sel.fields.pinned_name() {
        Some(name) if ns.is_some() && after.is_none() => {
            Box::new(store.get(res, ns.unwrap_or(""), name).into_iter())
        }
        _ => store.iter(res, ns, after_ref),
    };
    for obj in candidates {
        if !sel.matches(obj) {
            continue;
        }
        match q.limit {
            Some(limit) if items.len() >= limit => {
                if more.is_none() {
                    let last: &Value = items.last().map(|i: &Item| i.0).unwrap_or(obj);
                    more = Some(encode_continue(
                        list_rv,
                        meta_str(last, "namespace"),
                        meta_str(last, "name"),
                    ));
                }
                remaining += 1;
            }
            _ => items.push(Item(obj)),
        }
    }
    let mut metadata = json!({"resourceVersion": list_rv.to_string()});
    if let Some(tok) = more {
        metadata["continue"] = json!(tok);
        if sel.labels.is_empty() && q.field_selector.is_empty() {
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    let body = ListBody {
        kind: format!("{}List", rt.kind),
        api_version: rt.api_version(),
        metadata,
        items,
    };
    serde_json::to_vec(&body).map_err(|e| status::internal(e.to_string()))
}

/// A streaming response body fed by a channel.
struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

fn bookmark(res: ResIdx, rv: u64, initial_end: bool) -> Bytes {
    let rt = &RESOURCES[res];
    let mut meta = json!({"resourceVersion": rv.to_string(), "creationTimestamp": null});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    event_line(
        "BOOKMARK",
        &json!({"kind": rt.kind, "apiVersion": rt.api_version(), "metadata": meta}),
    )
}

fn matches_scope(obj: &Value, ns: Option<&str>, sel: &Selector) -> bool {
    ns.is_none_or(|ns| meta_str(obj, "namespace") == ns) && sel.matches(obj)
}

/// Starts a watch: the initial events (if any) are computed under the lock, then a task
/// streams new events until the timeout or the client goes away.
fn watch(
    shared: &Arc<Shared>,
    res: ResIdx,
    ns: Option<String>,
    q: &Query,
) -> Result<Response<Body>, ApiError> {
    let sel = selector(q)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4096);
    let mut initial: Vec<Bytes> = Vec::new();
    let mut notify;
    let start_rv;
    {
        let store = lock(&shared.store);
        notify = store.subscribe();
        let rv_param = q.resource_version.as_deref().unwrap_or("");
        if rv_param.is_empty() || rv_param == "0" || q.send_initial_events {
            for obj in store.iter(res, ns.as_deref(), None) {
                if sel.matches(obj) {
                    initial.push(event_line("ADDED", obj));
                }
            }
            start_rv = store.rv();
            if q.send_initial_events {
                initial.push(bookmark(res, start_rv, true));
            }
        } else {
            let rv: u64 = rv_param.parse().map_err(|_| {
                status::bad_request(format!("invalid resource version: {rv_param:?}"))
            })?;
            match store.events_since_for(rv, res) {
                Ok(_) => start_rv = rv,
                Err(oldest) => {
                    let e = status::expired(format!("too old resource version: {rv} ({oldest})"));
                    initial.push(event_line("ERROR", &e.body));
                    start_rv = u64::MAX;
                }
            }
        }
    }
    let timeout = q
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let bookmarks = q.bookmarks;
    let interval = lock(&shared.cfg).bookmark_interval;
    let shared2 = shared.clone();
    tokio::spawn(async move {
        for line in initial {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        if start_rv == u64::MAX {
            return;
        }
        let mut last = start_rv;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        loop {
            // Collect under the lock, send without it.
            let (lines, gone) = {
                let store = lock(&shared2.store);
                match store.events_since_for(last, res) {
                    Ok(evs) => {
                        let mut lines = Vec::new();
                        for ev in evs {
                            let now_in = matches_scope(&ev.object, ns.as_deref(), &sel);
                            let was_in = ev
                                .old
                                .as_ref()
                                .map(|o| matches_scope(o, ns.as_deref(), &sel));
                            let kind = match (ev.kind, was_in, now_in) {
                                (EventType::Modified, Some(true), false) => Some("DELETED"),
                                (EventType::Modified, Some(false), true) => Some("ADDED"),
                                (EventType::Modified, Some(false), false) => None,
                                (_, _, true) => Some(ev.kind.as_str()),
                                (_, _, false) => None,
                            };
                            if let Some(kind) = kind {
                                lines.push(event_line(kind, &ev.object));
                            }
                        }
                        last = store.rv();
                        (lines, None)
                    }
                    Err(oldest) => (
                        Vec::new(),
                        Some(status::expired(format!(
                            "too old resource version: {last} ({oldest})"
                        ))),
                    ),
                }
            };
            for line in lines {
                if tx.send(line).await.is_err() {
                    return;
                }
            }
            if let Some(e) = gone {
                let _ = tx.send(event_line("ERROR", &e.body)).await;
                return;
            }
            tokio::select! {
                r = notify.changed() => if r.is_err() { return },
                _ = ticker.tick() => {
                    if bookmarks && tx.send(bookmark(res, last, false)).await.is_err() {
                        return;
                    }
                }
                _ = tokio::time::sleep_until(deadline) => return,
                _ = tx.closed() => return,
            }
        }
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(ChannelBody(rx).boxed())
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed())))
}

/// The field manager of a non-apply write: `fieldManager`, else the User-Agent up to
/// the first '/' (the real server's `prefixFromUserAgent`).
fn manager(q: &Query, user_agent: &str) -> String {
    match &q.field_manager {
        Some(m) if !m.is_empty() => m.clone(),
        _ => user_agent.split('/').next().unwrap_or("").to_string(),
    }
}

fn delete_opts(q: &Query, body: &[u8]) -> (DeleteOpts, bool) {
    let b: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let policy = q
        .propagation_policy
        .clone()
        .or_else(|| b["propagationPolicy"].as_str().map(str::to_string));
    let orphan = policy.as_deref() == Some("Orphan") || b["orphanDependents"] == json!(true);
    let dry_run = b["dryRun"]
        .as_array()
        .is_some_and(|a| a.iter().any(|v| v == "All"));
    (
        DeleteOpts {
            orphan,
            explicit_policy: policy.is_some() || !b["orphanDependents"].is_null(),
            precondition_rv: b["preconditions"]["resourceVersion"]
                .as_str()
                .map(str::to_string),
            precondition_uid: b["preconditions"]["uid"].as_str().map(str::to_string),
        },
        dry_run,
    )
}

/// Synchronous part of a resource request (everything but watch).
#[allow(clippy::too_many_arguments)]
fn handle_resource(
    shared: &Shared,
    t: &Target,
    q: &Query,
    content_type: &str,
    body: &[u8],
    dry_run: bool,
    user: &UserInfo,
    ctx: &Ctx,
) -> Result<(u16, Vec<u8>), ApiError> {
    let res = t.res.unwrap_or(0);
    let plural = RESOURCES[res].plural;
    let ns = t.namespace.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let status_sub = t.subresource.is_some();
    let to_bytes = |code: u16, v: Value| Ok((code, serde_json::to_vec(&v).unwrap_or_default()));
    match t.verb.as_str() {
        "get" => {
            let store = lock(&shared.store);
            match store.get(res, &ns, &name) {
                Some(o) => Ok((200, serde_json::to_vec(&**o).unwrap_or_default())),
                None => Err(status::not_found(&RESOURCES[res], &name)),
            }
        }
        "list" => {
            let store = lock(&shared.store);
            list(&store, res, t.namespace.as_deref(), q).map(|b| (200, b))
        }
        "create" if t.subresource.as_deref() == Some("token") => {
            // TokenRequest: a token for the ServiceAccount (this fake authenticates no one,
            // so it only has to look like one).
            // The token authenticates as the ServiceAccount from now on.
            let mut request = api::parse_body(body)?;
            if lock(&shared.store).get(res, &ns, &name).is_none() {
                return Err(status::not_found(&RESOURCES[res], &name));
            }
            let sa = UserInfo::service_account(&ns, &name);
            let token = if dry_run {
                format!("fake-token-{}", crate::util::random_suffix(20))
            } else {
                lock(&shared.cfg).tokens.issue(sa)
            };
            request["status"] = serde_json::json!({
                "token": token,
                "expirationTimestamp": crate::util::now_rfc3339(),
            });
            to_bytes(201, request)
        }
        "create" => {
            let obj = api::parse_body(body)?;
            let mut store = lock(&shared.store);
            let obj_name = meta_str(&obj, "name").to_string();
            rbac::check_write(&store, user, plural, &ns, &obj_name, "", &obj, None)?;
            to_bytes(201, api::create(&mut store, res, &ns, obj, ctx)?)
        }
        "update" => {
            let obj = api::parse_body(body)?;
            let mut store = lock(&shared.store);
            if !status_sub && let Some(old) = store.get(res, &ns, &name).cloned() {
                rbac::check_write(&store, user, plural, &ns, &name, &name, &obj, Some(&old))?;
            }
            to_bytes(
                200,
                api::replace(&mut store, res, &ns, &name, obj, status_sub, ctx)?,
            )
        }
        "patch" => {
            let Some(kind) = PatchType::from_content_type(content_type) else {
                return Err(status::unsupported_media_type(content_type));
            };
            if kind == PatchType::Apply {
                if q.field_manager.as_deref().unwrap_or("").is_empty() {
                    return Err(status::invalid(
                        "PatchOptions.meta.k8s.io",
                        "meta.k8s.io",
                        "PatchOptions",
                        "",
                        &[(
                            "fieldManager".into(),
                            "FieldValueRequired".into(),
                            "Required value: is required for apply patch".into(),
                        )],
                    ));
                }
                let applied = api::parse_body(body)?;
                let force = q.force.unwrap_or(false);
                let mut store = lock(&shared.store);
                if rbac_checked(plural, status_sub, user) {
                    // Escalation is judged on the object as it would be stored.
                    let dry = Ctx::new(&ctx.manager, true);
                    let (_, result) = api::apply(
                        &mut store,
                        res,
                        &ns,
                        &name,
                        applied.clone(),
                        force,
                        false,
                        &dry,
                    )?;
                    let old = store.get(res, &ns, &name).cloned();
                    rbac::check_write(
                        &store,
                        user,
                        plural,
                        &ns,
                        &name,
                        &name,
                        &result,
                        old.as_deref(),
                    )?;
                }
                let (code, obj) =
                    api::apply(&mut store, res, &ns, &name, applied, force, status_sub, ctx)?;
                to_bytes(code, obj)
            } else {
                if q.force.is_some() {
                    return Err(status::invalid(
                        "PatchOptions.meta.k8s.io",
                        "meta.k8s.io",
                        "PatchOptions",
                        "",
                        &[(
                            "force".into(),
                            "FieldValueForbidden".into(),
                            "Forbidden: may not be specified for non-apply patch".into(),
                        )],
                    ));
                }
                let patch: Value = serde_json::from_slice(body)
                    .map_err(|e| status::bad_request(format!("error decoding patch: {e}")))?;
                let mut store = lock(&shared.store);
                if rbac_checked(plural, status_sub, user) {
                    let dry = Ctx::new(&ctx.manager, true);
                    let result =
                        api::patch(&mut store, res, &ns, &name, kind, &patch, false, &dry)?;
                    let old = store.get(res, &ns, &name).cloned();
                    rbac::check_write(
                        &store,
                        user,
                        plural,
                        &ns,
                        &name,
                        &name,
                        &result,
                        old.as_deref(),
                    )?;
                }
                to_bytes(
                    200,
                    api::patch(&mut store, res, &ns, &name, kind, &patch, status_sub, ctx)?,
                )
            }
        }
        "delete" => {
            let (opts, body_dry) = delete_opts(q, body);
            let ctx = Ctx::new(&ctx.manager, dry_run || body_dry);
            let mut store = lock(&shared.store);
            to_bytes(200, api::delete(&mut store, res, &ns, &name, &opts, &ctx)?)
        }
        "deletecollection" => {
            let (opts, body_dry) = delete_opts(q, body);
            let ctx = Ctx::new(&ctx.manager, dry_run || body_dry);
            let sel = selector(q)?;
            let mut store = lock(&shared.store);
            let names: Vec<(String, String)> = store
                .iter(res, t.namespace.as_deref(), None)
                .filter(|o| sel.matches(o))
                .map(|o| {
                    (
                        meta_str(o, "namespace").to_string(),
                        meta_str(o, "name").to_string(),
                    )
                })
                .collect();
            let mut items = Vec::new();
            for (ons, oname) in names {
                if let Some(o) = store.get(res, &ons, &oname).cloned() {
                    api::delete(&mut store, res, &ons, &oname, &opts, &ctx)?;
                    items.push((*o).clone());
                }
            }
            let rt = &RESOURCES[res];
            to_bytes(
                200,
                json!({
                    "kind": format!("{}List", rt.kind),
                    "apiVersion": rt.api_version(),
                    "metadata": {"resourceVersion": store.rv().to_string()},
                    "items": items,
                }),
            )
        }
        _ => Err(status::method_not_allowed(&t.verb)),
    }
}

/// Writes of RBAC objects by anyone but a superuser go through escalation checks.
fn rbac_checked(plural: &str, status_sub: bool, user: &UserInfo) -> bool {
    !status_sub
        && !user.is_superuser()
        && matches!(
            plural,
            "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings"
        )
}

/// A `deny()` rule matching the request.
fn denied_by_rule(denies: &[(String, String, Option<String>)], a: &RequestInfo) -> bool {
    a.resource_request
        && denies.iter().any(|(verb, resource, ns)| {
            (verb == "*" || *verb == a.verb)
                && (resource == "*" || *resource == a.combined_resource())
                && ns.as_deref().is_none_or(|ns| ns == a.namespace)
        })
}

/// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`.
fn is_ssar(a: &RequestInfo) -> bool {
    a.resource_request
        && a.verb == "create"
        && a.api_group == "authorization.k8s.io"
        && a.resource == "selfsubjectaccessreviews"
        && a.name.is_empty()
        && a.namespace.is_empty()
}

/// The connection is closed without an answer (an injected `Fault::Drop`).
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

fn rule_matches(rule: &FaultRule, method: &str, path: &str) -> bool {
    rule.method
        .as_deref()
        .is_none_or(|m| m.eq_ignore_ascii_case(method))
        && rule
            .path_contains
            .as_deref()
            .is_none_or(|p| path.contains(p))
}

/// Serves one HTTP request.
pub async fn serve(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<Response<Body>, Dropped> {
    let mut req = req;
    let exec_path = req.uri().path().contains("/pods/") && req.uri().path().ends_with("/exec");
    let exec_upgrade = exec_path.then(|| {
        let h = |name: header::HeaderName| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        crate::exec::Upgrade {
            upgrade: h(header::UPGRADE),
            key: h(header::SEC_WEBSOCKET_KEY),
            protocols: h(header::SEC_WEBSOCKET_PROTOCOL),
            on_upgrade: hyper::upgrade::on(&mut req),
        }
    });
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query_str = req.uri().query().unwrap_or("").to_string();
    let header = |h: header::HeaderName| {
        req.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let accept = header(header::ACCEPT);
    let content_type = header(header::CONTENT_TYPE);
    let user_agent = header(header::USER_AGENT);
    let authorization = header(header::AUTHORIZATION);
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(Dropped),
    };
    let q = parse_query(&query_str);
    let url = lock(&shared.url).clone();
    let crds = lock(&shared.cfg).gateway_api;
    let t = route(&method, &path, &q, &accept, &url, crds);
    let info = rbac::request_info(&method, &path, &query_str);
    let user = crate::authn::bearer(&authorization)
        .and_then(|token| lock(&shared.cfg).tokens.user(token).cloned());
    let dry_run = q.dry_run.as_deref() == Some("All");
    let ssar = is_ssar(&info);
    // A resource path the server does not serve (or SelfSubjectAccessReview) is logged
    // with the verb and resource the authorizer saw.
    let unrouted = (t.verb.is_empty() || ssar) && info.resource_request;
    let mut entry = Request {
        method: method.clone(),
        path: path.clone(),
        query: query_str.clone(),
        verb: if unrouted {
            info.verb.clone()
        } else {
            t.verb.clone()
        },
        resource: if unrouted {
            info.combined_resource()
        } else {
            t.resource.clone()
        },
        namespace: t.namespace.clone(),
        dry_run,
        status: 0,
    };

    // Latency and faults.
    let (latency, fault) = {
        let mut cfg = lock(&shared.cfg);
        let mut fault = None;
        for (rule, seen) in cfg.faults.iter_mut() {
            if rule_matches(rule, &method, &path) {
                *seen += 1;
                if fault.is_none() && *seen >= rule.nth && *seen < rule.nth + rule.times {
                    fault = Some(rule.fault.clone());
                }
            }
        }
        (cfg.latency, fault)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let log = |entry: Request| lock(&shared.log).push(entry);
    match fault {
        Some(Fault::Drop) => {
            log(entry);
            return Err(Dropped);
        }
        Some(Fault::Status { code, retry_after }) => {
            entry.status = code;
            log(entry);
            return Ok(error_response(&status::injected(code, retry_after)));
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        None => {}
    }

    let result: Result<Response<Body>, ApiError> = (|| {
        let Some(user) = user else {
            return Err(status::unauthorized());
        };
        // Authorization comes before routing, as in the real filter chain: a user without
        // rights on a resource the server does not serve gets 403, not 404.
        if denied_by_rule(&lock(&shared.cfg).denies, &info) {
            return Err(rbac::forbidden(&user, &info, ""));
        }
        let decision = rbac::authorize(&lock(&shared.store), &user, &info);
        if !decision.allowed {
            return Err(rbac::forbidden(&user, &info, &decision.reason));
        }
        if ssar {
            let review = api::parse_body(&body)?;
            let answer = rbac::self_subject_access_review(&lock(&shared.store), &user, &review);
            return Ok(json_response(201, &answer));
        }
        if t.not_found {
            return Err(status::no_route());
        }
        if let Some(d) = &t.discovery {
            let mut r = match d {
                Value::String(s) => Response::new(Full::new(Bytes::from(s.clone())).boxed()),
                v => json_response(200, v),
            };
            if let Some(ct) = t.content_type
                && let Ok(v) = header::HeaderValue::from_str(ct)
            {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            return Ok(r);
        }
        let res = t.res.unwrap_or(0);
        if let Some(d) = q.dry_run.as_deref()
            && d != "All"
        {
            let options = match t.verb.as_str() {
                "create" => "CreateOptions",
                "update" => "UpdateOptions",
                "patch" => "PatchOptions",
                "delete" | "deletecollection" => "DeleteOptions",
                _ => "ListOptions",
            };
            return Err(status::invalid(
                &format!("{options}.meta.k8s.io"),
                "meta.k8s.io",
                options,
                "",
                &[(
                    "dryRun".into(),
                    "FieldValueNotSupported".into(),
                    format!("Unsupported value: {d:?}: supported values: \"All\""),
                )],
            ));
        }
        if t.verb == "watch" {
            return watch(&shared, res, t.namespace.clone(), &q);
        }
        if t.subresource.as_deref() == Some("exec") {
            return crate::exec::start(
                &shared,
                t.namespace.as_deref().unwrap_or(""),
                t.name.as_deref().unwrap_or(""),
                &query_str,
                exec_upgrade,
            );
        }
        let ctx = Ctx::new(&manager(&q, &user_agent), dry_run);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handle_resource(&shared, &t, &q, &content_type, &body, dry_run, &user, &ctx)
        }));
        let (code, bytes) = match outcome {
            Ok(r) => r?,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into());
                return Err(status::internal(msg));
            }
        };
        let mut response = Response::builder()
            .status(StatusCode::from_u16(code).unwrap_or(StatusCode::OK))
            .header(header::CONTENT_TYPE, "application/json");
        for text in ctx.warnings.borrow().iter() {
            response = response.header(header::WARNING, warning_header(text));
        }
        Ok(response
            .body(Full::new(Bytes::from(bytes)).boxed())
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed())))
    })();
    let response = result.unwrap_or_else(|e| error_response(&e));
    entry.status = response.status().as_u16();
    log(entry);
    Ok(response)
}
