//! Authorization: request attributes from the URL, the RBAC authorizer over the stored
//! Roles, ClusterRoles and their bindings, escalation prevention on RBAC writes, the
//! clusterrole-aggregation controller, and SelfSubjectAccessReview.
//!
//! Upstream, fact by fact:
//! - request attributes: k8s.io/apiserver/pkg/endpoints/request/requestinfo.go (a GET of
//!   one Namespace carries that namespace; list/watch with `fieldSelector=metadata.name=x`
//!   carries the name);
//! - rule matching and the authorizer: plugin/pkg/auth/authorizer/rbac/rbac.go and
//!   k8s.io/component-helpers/auth/rbac/validation (`RuleAllows`, `VisitRulesFor`:
//!   ClusterRoleBindings first, then the RoleBindings of the request's namespace);
//! - `system:masters` is allowed everything before RBAC (the privileged-group authorizer);
//! - escalation: pkg/registry/rbac/validation/rule.go (`ConfirmNoEscalation`, `Covers`,
//!   `BreakdownRule`, `CompactRules`, `CompactString`), pkg/registry/rbac/escalation_check.go
//!   (`escalate` and `bind` verbs), pkg/registry/rbac/{role,clusterrole,rolebinding,
//!   clusterrolebinding}/policybased/storage.go;
//! - aggregation: pkg/controller/clusterroleaggregation (the union of the matching
//!   ClusterRoles' rules, in name order, without duplicates).
//!
//! Simplifications: the aggregation controller runs synchronously inside every
//! ClusterRole write (create, update, patch, apply, delete) instead of on its own queue, so
//! a test sees the aggregated rules as soon as the write returns; a real cluster gets
//! there a moment later. Escalation checks skip the "only GC fields changed" exception.
//! A WebSocket `GET` of `pods/exec` (or attach, portforward) is authorized as `create`,
//! as 1.31+ servers require.

use serde_json::{Value, json};

use crate::api::selector_matches;
use crate::authn::UserInfo;
use crate::resources::idx;
use crate::status::{self, ApiError};
use crate::store::{Store, meta_str};

/// What a request asks to do (k8s.io/apiserver `authorizer.Attributes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// A resource request (`/api/v1/...`, `/apis/g/v/...` with a resource), else a
    /// non-resource path (discovery, `/version`, health).
    pub resource_request: bool,
    pub verb: String,
    pub api_group: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    pub namespace: String,
    pub path: String,
}

impl RequestInfo {
    /// `resource` or `resource/subresource`.
    pub fn combined_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }

    /// A resource request for these attributes.
    pub fn resource(verb: &str, group: &str, resource: &str, namespace: &str, name: &str) -> Self {
        let (resource, subresource) = match resource.split_once('/') {
            Some((r, s)) => (r, s),
            None => (resource, ""),
        };
        Self {
            resource_request: true,
            verb: verb.into(),
            api_group: group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            name: name.into(),
            namespace: namespace.into(),
            path: String::new(),
        }
    }
}

/// The attributes of a request, parsed from its method, path and query as the real
/// server's `RequestInfoFactory` does.
pub fn request_info(method: &str, path: &str, query: &str) -> RequestInfo {
    let mut info = RequestInfo {
        verb: method.to_ascii_lowercase(),
        path: path.to_string(),
        ..Default::default()
    };
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut rest: &[&str] = match parts.as_slice() {
        ["api", v, rest @ ..] if !v.is_empty() => rest,
        ["apis", g, v, rest @ ..] if !g.is_empty() && !v.is_empty() => {
            info.api_group = g.to_string();
            rest
        }
        _ => return info,
    };
    if rest.is_empty() || rest[0].is_empty() {
        // `/api/v1`, `/apis/apps/v1`: discovery.
        info.api_group.clear();
        return info;
    }
    info.resource_request = true;
    let mut via_path = false;
    if matches!(rest[0], "watch" | "proxy") && rest.len() >= 2 {
        info.verb = rest[0].to_string();
        rest = &rest[1..];
        via_path = true;
    } else {
        info.verb = match method {
            "POST" => "create",
            "GET" | "HEAD" => "get",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => "delete",
            _ => "",
        }
        .to_string();
    }
    if rest[0] == "namespaces"
        && let Some(ns) = rest.get(1)
    {
        info.namespace = ns.to_string();
        if rest.len() > 2 && !matches!(rest[2], "status" | "finalize") {
            rest = &rest[2..];
        }
    }
    if rest.len() >= 3 && info.verb != "proxy" {
        info.subresource = rest[2].to_string();
    }
    if rest.len() >= 2 {
        info.name = rest[1].to_string();
    }
    info.resource = rest[0].to_string();
    let mut watch = false;
    let mut field_name = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "watch" => watch = v == "true" || v == "1",
            "fieldSelector" => {
                // `metadata.name=x` (or `==`) as the only requirement names the object.
                let sel = v.trim();
                if !sel.contains(',') {
                    field_name = sel
                        .strip_prefix("metadata.name==")
                        .or_else(|| sel.strip_prefix("metadata.name="))
                        .map(str::to_string);
                }
            }
            _ => {}
        }
    }
    if info.name.is_empty() && info.verb == "get" && !via_path {
        info.verb = if watch { "watch" } else { "list" }.into();
    }
    if info.name.is_empty()
        && matches!(info.verb.as_str(), "list" | "watch")
        && let Some(n) = field_name.filter(|n| !n.is_empty() && !n.contains('/'))
    {
        info.name = n;
    }
    if info.name.is_empty() && info.verb == "delete" {
        info.verb = "deletecollection".into();
    }
    // Since 1.31 a WebSocket upgrade (a GET) of these needs `create`, like the POST.
    if info.resource == "pods"
        && matches!(info.subresource.as_str(), "exec" | "attach" | "portforward")
        && info.verb == "get"
    {
        info.verb = "create".into();
    }
    info
}

/// A policy rule (rbac/v1 `PolicyRule`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn has(list: &[String], s: &str) -> bool {
    list.iter().any(|x| x == s)
}

impl Rule {
    pub fn from_value(v: &Value) -> Self {
        Self {
            verbs: strings(&v["verbs"]),
            api_groups: strings(&v["apiGroups"]),
            resources: strings(&v["resources"]),
            resource_names: strings(&v["resourceNames"]),
            non_resource_urls: strings(&v["nonResourceURLs"]),
        }
    }

    /// `RuleAllows`.
    pub fn allows(&self, a: &RequestInfo) -> bool {
        if !(has(&self.verbs, "*") || has(&self.verbs, &a.verb)) {
            return false;
        }
        if !a.resource_request {
            return self.non_resource_urls.iter().any(|u| {
                u == "*"
                    || *u == a.path
                    || u.strip_suffix('*')
                        .is_some_and(|prefix| a.path.starts_with(prefix))
            });
        }
        let combined = a.combined_resource();
        let group = has(&self.api_groups, "*") || has(&self.api_groups, &a.api_group);
        let resource = self.resources.iter().any(|r| {
            r == "*"
                || *r == combined
                || (!a.subresource.is_empty()
                    && r.strip_prefix("*/") == Some(a.subresource.as_str()))
        });
        let name = self.resource_names.is_empty() || has(&self.resource_names, &a.name);
        group && resource && name
    }

    /// `CompactString`, as escalation errors print a rule.
    pub fn compact_string(&self) -> String {
        let q = |l: &[String]| {
            let items: Vec<String> = l.iter().map(|s| format!("{s:?}")).collect();
            format!("[{}]", items.join(" "))
        };
        let mut parts = Vec::new();
        if !self.api_groups.is_empty() {
            parts.push(format!("APIGroups:{}", q(&self.api_groups)));
        }
        if !self.resources.is_empty() {
            parts.push(format!("Resources:{}", q(&self.resources)));
        }
        if !self.non_resource_urls.is_empty() {
            parts.push(format!("NonResourceURLs:{}", q(&self.non_resource_urls)));
        }
        if !self.resource_names.is_empty() {
            parts.push(format!("ResourceNames:{}", q(&self.resource_names)));
        }
        if !self.verbs.is_empty() {
            parts.push(format!("Verbs:{}", q(&self.verbs)));
        }
        format!("{{{}}}", parts.join(", "))
    }
}

/// Does `subject` (of a binding in `binding_ns`, `""` for a ClusterRoleBinding) name `user`?
fn applies_to(subject: &Value, user: &UserInfo, binding_ns: &str) -> bool {
    let name = subject["name"].as_str().unwrap_or("");
    match subject["kind"].as_str().unwrap_or("") {
        "User" => user.name == name,
        "Group" => user.groups.iter().any(|g| g == name),
        "ServiceAccount" => {
            let ns = match subject["namespace"].as_str() {
                Some(ns) if !ns.is_empty() => ns,
                _ => binding_ns,
            };
            !ns.is_empty() && user.name == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

fn describe_subject(subject: &Value, binding_ns: &str) -> String {
    let kind = subject["kind"].as_str().unwrap_or("");
    let name = subject["name"].as_str().unwrap_or("");
    if kind == "ServiceAccount" {
        let ns = subject["namespace"]
            .as_str()
            .filter(|s| !s.is_empty())
            .unwrap_or(binding_ns);
        format!("{kind} {:?}", format!("{name}/{ns}"))
    } else {
        format!("{kind} {name:?}")
    }
}

/// The rules of a binding's `roleRef` (a Role in `ns`, or a ClusterRole).
fn role_ref_rules(store: &Store, role_ref: &Value, ns: &str) -> Result<Vec<Rule>, ApiError> {
    let name = role_ref["name"].as_str().unwrap_or("");
    let (obj, singular) = match role_ref["kind"].as_str().unwrap_or("") {
        "Role" => (store.get(idx("roles"), ns, name), "role"),
        "ClusterRole" => (store.get(idx("clusterroles"), "", name), "clusterrole"),
        other => {
            return Err(status::bad_request(format!(
                "unsupported role reference kind: {other:?}"
            )));
        }
    };
    match obj {
        Some(o) => Ok(o["rules"]
            .as_array()
            .map(|a| a.iter().map(Rule::from_value).collect())
            .unwrap_or_default()),
        None => Err(status::not_found_resource(
            "rbac.authorization.k8s.io",
            singular,
            name,
        )),
    }
}

/// Every rule that applies to `user` in `ns` (`""`: cluster-wide rules only), with a
/// description of the binding it comes from; errors are roles that do not exist.
fn visit_rules(
    store: &Store,
    user: &UserInfo,
    ns: &str,
    mut visit: impl FnMut(&str, &Rule) -> bool,
) -> Vec<String> {
    let mut errors = Vec::new();
    for b in store.iter(idx("clusterrolebindings"), None, None) {
        let Some(subject) = b["subjects"]
            .as_array()
            .and_then(|s| s.iter().find(|s| applies_to(s, user, "")))
        else {
            continue;
        };
        match role_ref_rules(store, &b["roleRef"], "") {
            Ok(rules) => {
                let source = format!(
                    "ClusterRoleBinding {:?} of {} {:?} to {}",
                    meta_str(b, "name"),
                    b["roleRef"]["kind"].as_str().unwrap_or(""),
                    b["roleRef"]["name"].as_str().unwrap_or(""),
                    describe_subject(subject, "")
                );
                for r in &rules {
                    if !visit(&source, r) {
                        return errors;
                    }
                }
            }
            Err(e) => errors.push(e.message().to_string()),
        }
    }
    if ns.is_empty() {
        return errors;
    }
    for b in store.iter(idx("rolebindings"), Some(ns), None) {
        let Some(subject) = b["subjects"]
            .as_array()
            .and_then(|s| s.iter().find(|s| applies_to(s, user, ns)))
        else {
            continue;
        };
        match role_ref_rules(store, &b["roleRef"], ns) {
            Ok(rules) => {
                let source = format!(
                    "RoleBinding {:?} of {} {:?} to {}",
                    format!("{}/{ns}", meta_str(b, "name")),
                    b["roleRef"]["kind"].as_str().unwrap_or(""),
                    b["roleRef"]["name"].as_str().unwrap_or(""),
                    describe_subject(subject, ns)
                );
                for r in &rules {
                    if !visit(&source, r) {
                        return errors;
                    }
                }
            }
            Err(e) => errors.push(e.message().to_string()),
        }
    }
    errors
}

/// An authorization decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// `RBAC: allowed by ...`, or on a denial the roles that could not be resolved.
    pub reason: String,
}

/// Decides a request as kube-apiserver with `--authorization-mode=RBAC` does.
pub fn authorize(store: &Store, user: &UserInfo, a: &RequestInfo) -> Decision {
    if user.is_superuser() {
        return Decision {
            allowed: true,
            reason: String::new(),
        };
    }
    let mut allowed_by = None;
    let errors = visit_rules(store, user, &a.namespace, |source, rule| {
        if rule.allows(a) {
            allowed_by = Some(format!("RBAC: allowed by {source}"));
            false
        } else {
            true
        }
    });
    match allowed_by {
        Some(reason) => Decision {
            allowed: true,
            reason,
        },
        None => Decision {
            allowed: false,
            reason: match errors.len() {
                0 => String::new(),
                1 => format!("RBAC: {}", errors[0]),
                _ => format!("RBAC: [{}]", errors.join(", ")),
            },
        },
    }
}

/// The 403 for a denied request, worded as the apiserver's `forbiddenMessage`.
pub fn forbidden(user: &UserInfo, a: &RequestInfo, reason: &str) -> ApiError {
    let mut msg = if !a.resource_request {
        format!("User {:?} cannot {} path {:?}", user.name, a.verb, a.path)
    } else if !a.namespace.is_empty() {
        format!(
            "User {:?} cannot {} resource {:?} in API group {:?} in the namespace {:?}",
            user.name,
            a.verb,
            a.combined_resource(),
            a.api_group,
            a.namespace
        )
    } else {
        format!(
            "User {:?} cannot {} resource {:?} in API group {:?} at the cluster scope",
            user.name,
            a.verb,
            a.combined_resource(),
            a.api_group
        )
    };
    if !reason.is_empty() {
        msg = format!("{msg}: {reason}");
    }
    let (group, resource) = if a.resource_request {
        (a.api_group.as_str(), a.resource.as_str())
    } else {
        ("", "")
    };
    status::forbidden(group, resource, &a.name, &msg)
}

/// `BreakdownRule`: one rule per group, resource, verb (and resource name).
fn breakdown(rule: &Rule) -> Vec<Rule> {
    let mut out = Vec::new();
    for g in &rule.api_groups {
        for r in &rule.resources {
            for v in &rule.verbs {
                let one = |names: Vec<String>| Rule {
                    verbs: vec![v.clone()],
                    api_groups: vec![g.clone()],
                    resources: vec![r.clone()],
                    resource_names: names,
                    non_resource_urls: Vec::new(),
                };
                if rule.resource_names.is_empty() {
                    out.push(one(Vec::new()));
                } else {
                    for n in &rule.resource_names {
                        out.push(one(vec![n.clone()]));
                    }
                }
            }
        }
    }
    for u in &rule.non_resource_urls {
        for v in &rule.verbs {
            out.push(Rule {
                verbs: vec![v.clone()],
                non_resource_urls: vec![u.clone()],
                ..Default::default()
            });
        }
    }
    out
}

fn has_all(set: &[String], items: &[String]) -> bool {
    items.iter().all(|i| has(set, i))
}

/// `ruleCovers`: does `owner` grant everything `sub` (a broken-down rule) does?
fn covers(owner: &Rule, sub: &Rule) -> bool {
    let verbs = has(&owner.verbs, "*") || has_all(&owner.verbs, &sub.verbs);
    let groups = has(&owner.api_groups, "*") || has_all(&owner.api_groups, &sub.api_groups);
    let resources = has(&owner.resources, "*")
        || has_all(&owner.resources, &sub.resources)
        || sub.resources.iter().all(|p| {
            has(&owner.resources, p)
                || p.split_once('/')
                    .is_some_and(|(_, s)| has(&owner.resources, &format!("*/{s}")))
        });
    let urls = sub.non_resource_urls.iter().all(|p| {
        owner.non_resource_urls.iter().any(|o| {
            o == p
                || o.strip_suffix('*')
                    .is_some_and(|prefix| p.starts_with(prefix.trim_end_matches('*')))
        })
    });
    let names = if sub.resource_names.is_empty() {
        owner.resource_names.is_empty()
    } else {
        owner.resource_names.is_empty() || has_all(&owner.resource_names, &sub.resource_names)
    };
    verbs && groups && resources && urls && names
}

/// `CompactRules`: broken-down rules of one group and resource (and at most one name)
/// are merged, their verbs appended.
fn compact(rules: Vec<Rule>) -> Vec<Rule> {
    let mut out: Vec<Rule> = Vec::new();
    let mut simple: Vec<Rule> = Vec::new();
    for r in rules {
        let is_simple = r.resource_names.len() <= 1
            && r.non_resource_urls.is_empty()
            && r.api_groups.len() == 1
            && r.resources.len() == 1;
        if !is_simple {
            out.push(r);
            continue;
        }
        match simple.iter_mut().find(|s| {
            s.api_groups == r.api_groups
                && s.resources == r.resources
                && s.resource_names == r.resource_names
        }) {
            Some(s) => s.verbs.extend(r.verbs),
            None => simple.push(r),
        }
    }
    out.extend(simple);
    out
}

/// `ConfirmNoEscalation`: the user must already hold every rule in `rules` in `ns`.
/// The error is the message the real server puts after `... is forbidden: `.
pub fn confirm_no_escalation(
    store: &Store,
    user: &UserInfo,
    ns: &str,
    rules: &[Rule],
) -> Result<(), String> {
    let mut owned = Vec::new();
    let errors = visit_rules(store, user, ns, |_, r| {
        owned.push(r.clone());
        true
    });
    let missing: Vec<Rule> = rules
        .iter()
        .flat_map(breakdown)
        .filter(|sub| !owned.iter().any(|o| covers(o, sub)))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut lines: Vec<String> = compact(missing).iter().map(Rule::compact_string).collect();
    lines.sort();
    lines.dedup();
    let groups: Vec<String> = user.groups.iter().map(|g| format!("{g:?}")).collect();
    let mut msg = format!(
        "user {:?} (groups=[{}]) is attempting to grant RBAC permissions not currently held:\n{}",
        user.name,
        groups.join(" "),
        lines.join("\n")
    );
    if !errors.is_empty() {
        msg.push_str(&format!("; resolution errors: [{}]", errors.join(", ")));
    }
    Err(msg)
}

fn rules_of(obj: &Value) -> Vec<Rule> {
    obj["rules"]
        .as_array()
        .map(|a| a.iter().map(Rule::from_value).collect())
        .unwrap_or_default()
}

/// Escalation prevention for a write of a Role, ClusterRole, RoleBinding or
/// ClusterRoleBinding (`resource`, plural) named `name` in `ns`: `new` is the object as
/// it would be stored, `old` the live one for an update. `url_name` is the name in the
/// request's URL (empty for a POST), which the `escalate` check is made with. Other
/// resources pass.
#[allow(clippy::too_many_arguments)]
pub fn check_write(
    store: &Store,
    user: &UserInfo,
    resource: &str,
    ns: &str,
    name: &str,
    url_name: &str,
    new: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    if user.is_superuser() {
        return Ok(());
    }
    const GROUP: &str = "rbac.authorization.k8s.io";
    let forbid = |msg: &str| status::forbidden(GROUP, resource, name, msg);
    match resource {
        "roles" | "clusterroles" => {
            // `escalate` on the role (by name only for an update: a create has none).
            let escalate = RequestInfo::resource("escalate", GROUP, resource, ns, url_name);
            if authorize(store, user, &escalate).allowed {
                return Ok(());
            }
            confirm_no_escalation(store, user, ns, &rules_of(new)).map_err(|m| forbid(&m))?;
            let aggregating = |o: &Value| !o["aggregationRule"].is_null();
            if resource == "clusterroles" && (aggregating(new) || old.is_some_and(aggregating)) {
                let full = [
                    Rule {
                        verbs: vec!["*".into()],
                        api_groups: vec!["*".into()],
                        resources: vec!["*".into()],
                        ..Default::default()
                    },
                    Rule {
                        verbs: vec!["*".into()],
                        non_resource_urls: vec!["*".into()],
                        ..Default::default()
                    },
                ];
                if confirm_no_escalation(store, user, ns, &full).is_err() {
                    return Err(forbid(
                        "must have cluster-admin privileges to use the aggregationRule",
                    ));
                }
            }
            Ok(())
        }
        "rolebindings" | "clusterrolebindings" => {
            let role_ref = &new["roleRef"];
            let target = match role_ref["kind"].as_str().unwrap_or("") {
                "Role" => "roles",
                _ => "clusterroles",
            };
            let bind = RequestInfo::resource(
                "bind",
                role_ref["apiGroup"].as_str().unwrap_or(GROUP),
                target,
                ns,
                role_ref["name"].as_str().unwrap_or(""),
            );
            if authorize(store, user, &bind).allowed {
                return Ok(());
            }
            let rules = role_ref_rules(store, role_ref, ns)?;
            confirm_no_escalation(store, user, ns, &rules).map_err(|m| forbid(&m))
        }
        _ => Ok(()),
    }
}

/// The clusterrole-aggregation controller, run to a fixpoint: every ClusterRole with an
/// `aggregationRule` gets the union of the rules of the other ClusterRoles its selectors
/// match. `write` stores a changed role (as `clusterrole-aggregation-controller`).
pub fn aggregate(store: &mut Store, mut write: impl FnMut(&mut Store, Value)) {
    let res = idx("clusterroles");
    // Each round settles one more level of nesting (admin <- edit <- view); bounded.
    for _ in 0..8 {
        let roles: Vec<Value> = store.iter(res, None, None).map(|o| (**o).clone()).collect();
        let mut changed = false;
        for role in roles.iter().filter(|r| r["aggregationRule"].is_object()) {
            let name = meta_str(role, "name");
            let mut rules: Vec<Value> = Vec::new();
            let selectors = role["aggregationRule"]["clusterRoleSelectors"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for sel in &selectors {
                let mut matching: Vec<&Value> = roles
                    .iter()
                    .filter(|o| {
                        meta_str(o, "name") != name
                            && selector_matches(sel, &o["metadata"]["labels"])
                    })
                    .collect();
                matching.sort_by(|a, b| meta_str(a, "name").cmp(meta_str(b, "name")));
                for o in matching {
                    for r in o["rules"].as_array().into_iter().flatten() {
                        if !rules.contains(r) {
                            rules.push(r.clone());
                        }
                    }
                }
            }
            let current = role["rules"].as_array().cloned().unwrap_or_default();
            if current != rules {
                // Read the live copy: an earlier write this round may have changed it.
                if let Some(live) = store.get(res, "", name) {
                    let mut updated = (**live).clone();
                    updated["rules"] = json!(rules);
                    write(store, updated);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// A SelfSubjectAccessReview answered for `user`: the request's `spec` with `status`.
pub fn self_subject_access_review(store: &Store, user: &UserInfo, review: &Value) -> Value {
    let spec = &review["spec"];
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let a = if spec["resourceAttributes"].is_object() {
        let r = &spec["resourceAttributes"];
        RequestInfo {
            resource_request: true,
            verb: s(&r["verb"]),
            api_group: s(&r["group"]),
            resource: s(&r["resource"]),
            subresource: s(&r["subresource"]),
            name: s(&r["name"]),
            namespace: s(&r["namespace"]),
            path: String::new(),
        }
    } else {
        let r = &spec["nonResourceAttributes"];
        RequestInfo {
            verb: s(&r["verb"]),
            path: s(&r["path"]),
            ..Default::default()
        }
    };
    let d = authorize(store, user, &a);
    let mut status = json!({"allowed": d.allowed});
    if !d.reason.is_empty() {
        status["reason"] = json!(d.reason);
    }
    json!({
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "spec": spec,
        "status": status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(v: Value) -> Rule {
        Rule::from_value(&v)
    }

    #[test]
    fn request_info_like_the_apiserver() {
        let i = request_info("GET", "/api/v1/namespaces/core", "");
        assert_eq!(
            (
                i.verb.as_str(),
                i.resource.as_str(),
                i.namespace.as_str(),
                i.name.as_str()
            ),
            ("get", "namespaces", "core", "core")
        );
        let i = request_info("GET", "/apis/apps/v1/deployments", "watch=true");
        assert_eq!((i.verb.as_str(), i.namespace.as_str()), ("watch", ""));
        let i = request_info(
            "GET",
            "/api/v1/namespaces/a/secrets",
            "fieldSelector=metadata.name%3Dtok",
        );
        assert_eq!((i.verb.as_str(), i.name.as_str()), ("list", "tok"));
        let i = request_info("POST", "/api/v1/namespaces/a/pods/p/exec", "");
        assert_eq!(i.combined_resource(), "pods/exec");
        assert_eq!(i.verb, "create");
        let i = request_info("GET", "/api/v1/namespaces/a/pods/p/exec", "command=ls");
        assert_eq!(i.verb, "create");
        let i = request_info("DELETE", "/api/v1/namespaces/a/configmaps", "");
        assert_eq!(i.verb, "deletecollection");
        let i = request_info("GET", "/apis/apps/v1", "");
        assert!(!i.resource_request);
        assert_eq!(i.verb, "get");
        let i = request_info("PUT", "/api/v1/namespaces/a/finalize", "");
        assert_eq!(
            (i.resource.as_str(), i.subresource.as_str()),
            ("namespaces", "finalize")
        );
    }

    #[test]
    fn rules_match_subresources_names_and_wildcards() {
        let exec = RequestInfo::resource("create", "", "pods/exec", "a", "p");
        assert!(
            rule(json!({"verbs": ["create"], "apiGroups": [""], "resources": ["pods/exec"]}))
                .allows(&exec)
        );
        assert!(
            !rule(json!({"verbs": ["create"], "apiGroups": [""], "resources": ["pods"]}))
                .allows(&exec)
        );
        assert!(
            rule(json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})).allows(&exec)
        );
        let scale = RequestInfo::resource("patch", "apps", "deployments/scale", "a", "d");
        assert!(
            rule(json!({"verbs": ["patch"], "apiGroups": ["apps"], "resources": ["*/scale"]}))
                .allows(&scale)
        );
        let named = rule(
            json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["tok"]}),
        );
        assert!(named.allows(&RequestInfo::resource("get", "", "secrets", "a", "tok")));
        assert!(!named.allows(&RequestInfo::resource("get", "", "secrets", "a", "other")));
        assert!(!named.allows(&RequestInfo::resource("list", "", "secrets", "a", "")));
        let disc = RequestInfo {
            verb: "get".into(),
            path: "/apis/apps/v1".into(),
            ..Default::default()
        };
        assert!(rule(json!({"verbs": ["get"], "nonResourceURLs": ["/apis/*"]})).allows(&disc));
        assert!(!rule(json!({"verbs": ["get"], "nonResourceURLs": ["/api/*"]})).allows(&disc));
    }

    #[test]
    fn covers_and_compact_string() {
        let owner =
            rule(json!({"verbs": ["*"], "apiGroups": [""], "resources": ["*/log", "pods"]}));
        for sub in breakdown(&rule(
            json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "pods/log"]}),
        )) {
            assert!(covers(&owner, &sub), "{sub:?}");
        }
        let missing = breakdown(&rule(
            json!({"verbs": ["get", "create"], "apiGroups": ["coordination.k8s.io"], "resources": ["leases"]}),
        ));
        let compacted = compact(missing);
        assert_eq!(compacted.len(), 1);
        assert_eq!(
            compacted[0].compact_string(),
            r#"{APIGroups:["coordination.k8s.io"], Resources:["leases"], Verbs:["get" "create"]}"#
        );
    }
}
