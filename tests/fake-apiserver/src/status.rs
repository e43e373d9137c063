//! `Status` error bodies worded as the real API server words them
//! (k8s.io/apimachinery `errors.New*` and the apiserver's RBAC/field-manager messages).

use serde_json::{Value, json};

use crate::resources::ResourceType;
use crate::ssa::Conflict;

/// An error answer: HTTP code, `Status` body and an optional `Retry-After` header.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub body: Value,
    pub retry_after: Option<u64>,
    /// The server-side apply error behind this answer, if any (for `apply_as`).
    pub apply_error: Option<Box<crate::ssa::ApplyError>>,
}

impl ApiError {
    /// The `message` of the Status body.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("")
    }
}

fn status(code: u16, reason: &str, message: String, details: Option<Value>) -> ApiError {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    });
    if let Some(d) = details {
        body["details"] = d;
    }
    body["code"] = json!(code);
    ApiError {
        code,
        body,
        retry_after: None,
        apply_error: None,
    }
}

fn details(rt: &ResourceType, name: &str) -> Value {
    let mut d = serde_json::Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !rt.group.is_empty() {
        d.insert("group".into(), json!(rt.group));
    }
    // The real server puts the resource (plural) in `kind` here.
    d.insert("kind".into(), json!(rt.plural));
    Value::Object(d)
}

/// 404 `deployments.apps "x" not found`.
pub fn not_found(rt: &ResourceType, name: &str) -> ApiError {
    status(
        404,
        "NotFound",
        format!("{} \"{}\" not found", rt.qualified(), name),
        Some(details(rt, name)),
    )
}

/// 404 for a path that names no resource (the real server answers `the server could not
/// find the requested resource`).
pub fn no_route() -> ApiError {
    status(
        404,
        "NotFound",
        "the server could not find the requested resource".into(),
        Some(
            json!({"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]}),
        ),
    )
}

/// 409 `deployments.apps "x" already exists`.
pub fn already_exists(rt: &ResourceType, name: &str) -> ApiError {
    status(
        409,
        "AlreadyExists",
        format!("{} \"{}\" already exists", rt.qualified(), name),
        Some(details(rt, name)),
    )
}

/// 409 optimistic-concurrency conflict.
pub fn conflict(rt: &ResourceType, name: &str) -> ApiError {
    status(
        409,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply your changes to the latest version and try again",
            rt.qualified(),
            name
        ),
        Some(details(rt, name)),
    )
}

/// 409 `Apply failed with N conflict(s)` with one `FieldManagerConflict` cause per field.
/// `is_applier(manager)` tells whether that manager's entry is an Apply (printed without
/// `using <apiVersion>`, as the real field manager does).
pub fn apply_conflicts(conflicts: &[Conflict], is_applier: impl Fn(&str) -> bool) -> ApiError {
    let who = |c: &Conflict| {
        if is_applier(&c.manager) {
            format!("{:?}", c.manager)
        } else {
            format!("{:?} using {}", c.manager, c.api_version)
        }
    };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", who(c)),
                "field": c.field,
            })
        })
        .collect();
    let message = if conflicts.len() == 1 {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            who(&conflicts[0]),
            conflicts[0].field
        )
    } else {
        // Grouped by manager, managers sorted, as apiserver's getConflictMessage does.
        let mut by_manager: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
        for c in conflicts {
            by_manager.entry(who(c)).or_default().push(&c.field);
        }
        let mut lines = Vec::new();
        for (m, fields) in by_manager {
            lines.push(format!("conflicts with {m}:"));
            lines.extend(fields.into_iter().map(|f| format!("- {f}")));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    status(409, "Conflict", message, Some(json!({ "causes": causes })))
}

/// 403 worded as `errors.NewForbidden` words it: `<resource>.<group> "<name>" is
/// forbidden: <message>` (`forbidden: <message>` without a resource, as for a
/// non-resource path). The RBAC authorizer's message is built in [`crate::rbac`].
pub fn forbidden(group: &str, resource: &str, name: &str, message: &str) -> ApiError {
    let qualified = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    };
    let full = if resource.is_empty() {
        format!("forbidden: {message}")
    } else if name.is_empty() {
        format!("{qualified} is forbidden: {message}")
    } else {
        format!("{qualified} {name:?} is forbidden: {message}")
    };
    let mut d = serde_json::Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        d.insert("group".into(), json!(group));
    }
    d.insert("kind".into(), json!(resource));
    status(403, "Forbidden", full, Some(Value::Object(d)))
}

/// 404 `<resource>.<group> "<name>" not found` for a resource outside the served table
/// (the RBAC listers' singular `role`/`clusterrole`).
pub fn not_found_resource(group: &str, resource: &str, name: &str) -> ApiError {
    let qualified = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    };
    let mut d = serde_json::Map::new();
    d.insert("name".into(), json!(name));
    if !group.is_empty() {
        d.insert("group".into(), json!(group));
    }
    d.insert("kind".into(), json!(resource));
    status(
        404,
        "NotFound",
        format!("{qualified} {name:?} not found"),
        Some(Value::Object(d)),
    )
}

/// 403 for new content in a Terminating namespace.
pub fn namespace_terminating(rt: &ResourceType, name: &str, namespace: &str) -> ApiError {
    let mut d = details(rt, name);
    d["causes"] = json!([{
        "reason": "NamespaceTerminating",
        "message": format!("namespace {namespace} is being terminated"),
        "field": "metadata.namespace",
    }]);
    status(
        403,
        "Forbidden",
        format!(
            "{} {:?} is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
            rt.qualified(),
            name
        ),
        Some(d),
    )
}

/// 422 `Deployment.apps "x" is invalid: <field>: <detail>`; `causes` are (field, message).
pub fn invalid(
    qualified_kind: &str,
    group: &str,
    kind: &str,
    name: &str,
    causes: &[(String, String, String)],
) -> ApiError {
    let joined: Vec<String> = causes
        .iter()
        .map(|(field, _, msg)| format!("{field}: {msg}"))
        .collect();
    let message = if joined.len() == 1 {
        format!("{qualified_kind} {name:?} is invalid: {}", joined[0])
    } else {
        format!(
            "{qualified_kind} {name:?} is invalid: [{}]",
            joined.join(", ")
        )
    };
    let causes: Vec<Value> = causes
        .iter()
        .map(|(field, reason, msg)| json!({"reason": reason, "message": msg, "field": field}))
        .collect();
    let mut d = serde_json::Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        d.insert("group".into(), json!(group));
    }
    d.insert("kind".into(), json!(kind));
    d.insert("causes".into(), json!(causes));
    let d = Value::Object(d);
    status(422, "Invalid", message, Some(d))
}

/// 422 for a resource's object.
pub fn invalid_object(
    rt: &ResourceType,
    name: &str,
    causes: &[(String, String, String)],
) -> ApiError {
    invalid(&rt.qualified_kind(), rt.group, rt.kind, name, causes)
}

/// 400 BadRequest.
pub fn bad_request(message: impl Into<String>) -> ApiError {
    status(400, "BadRequest", message.into(), None)
}

/// 405 MethodNotAllowed.
pub fn method_not_allowed(method: &str) -> ApiError {
    status(
        405,
        "MethodNotAllowed",
        format!("the server does not allow this method on the requested resource ({method})"),
        Some(json!({})),
    )
}

/// 415 for an unsupported patch content type.
pub fn unsupported_media_type(ct: &str) -> ApiError {
    status(
        415,
        "UnsupportedMediaType",
        format!(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml ({ct})"
        ),
        Some(json!({})),
    )
}

/// 401 when no credentials were sent.
pub fn unauthorized() -> ApiError {
    status(401, "Unauthorized", "Unauthorized".into(), None)
}

/// 410 Expired: a watch or continue token older than the kept history.
pub fn expired(message: String) -> ApiError {
    status(410, "Expired", message, None)
}

/// An injected failure with a given code, worded as the real server words that code.
pub fn injected(code: u16, retry_after: Option<u64>) -> ApiError {
    let mut e = match code {
        429 => status(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.".into(),
            Some(json!({"retryAfterSeconds": retry_after.unwrap_or(1)})),
        ),
        500 => status(
            500,
            "InternalError",
            "Internal error occurred: injected fault".into(),
            Some(json!({"causes": [{"message": "injected fault"}]})),
        ),
        503 => status(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request".into(),
            Some(json!({})),
        ),
        504 => status(
            504,
            "Timeout",
            "the server was unable to return a response in the time allotted, but may still be processing the request".into(),
            Some(json!({})),
        ),
        409 => status(
            409,
            "Conflict",
            "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again".into(),
            Some(json!({})),
        ),
        403 => status(403, "Forbidden", "forbidden: injected fault".into(), Some(json!({}))),
        404 => no_route(),
        c => status(c, "InternalError", format!("injected fault ({c})"), Some(json!({}))),
    };
    e.retry_after = retry_after;
    e
}

/// 500 for a bug in the fake itself (a panic while handling a request).
pub fn internal(message: String) -> ApiError {
    status(
        500,
        "InternalError",
        format!("Internal error occurred: {message}"),
        Some(json!({"causes": [{"message": message}]})),
    )
}

/// `Status` Success returned by DELETE for most kinds.
pub fn deleted(rt: &ResourceType, name: &str, uid: &str) -> Value {
    let mut d = details(rt, name);
    d["uid"] = json!(uid);
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": d,
    })
}

/// 422 with a message worded by the caller (server-side apply's own validation).
pub fn invalid_message(message: &str) -> ApiError {
    status(422, "Invalid", message.to_string(), Some(json!({})))
}

/// 422 for a JSON patch that cannot be applied.
pub fn json_patch_error(message: String) -> ApiError {
    status(422, "Invalid", message, Some(json!({})))
}
