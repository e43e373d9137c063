//! Rendering: resolved fleet -> Kubernetes manifests, through minijinja templates with
//! strict undefined and JSON auto-escaping (every inserted value is a JSON literal, so
//! no string can add, split or reshape a YAML document). Each document is parsed back,
//! checked (kind allowed for the template, namespace, managed labels) and typed.

pub mod context;
#[cfg(test)]
mod context_docs;
mod gateway_api;
mod json;
pub mod openclaw_json;
mod pod_security;
mod self_service;
pub mod templates;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::InvalidInput;
use crate::fleet::ResolvedFleet;
use crate::names::{AGENT_LABEL, FLEET_LABEL, MANAGED_BY, PART_OF, TEAM_LABEL};
use crate::yaml::Doc;
pub use templates::{Scope, Templates};

/// One rendered Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// `None` for cluster-scoped kinds (Namespace).
    pub namespace: Option<String>,
    pub team: Option<String>,
    pub agent: Option<String>,
    pub value: Value,
}

impl Manifest {
    /// Position in apply order: namespaces, then policies, accounts, RBAC, config and
    /// volumes, then workloads, then services (DESIGN §4).
    pub fn rank(&self) -> u8 {
        rank(&self.kind)
    }

    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            rank: self.rank(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            kind: self.kind.clone(),
        }
    }
}

/// Position of `kind` in apply order (see [`Manifest::rank`]).
pub fn rank(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "ResourceQuota" => 1,
        "NetworkPolicy" => 2,
        "ServiceAccount" => 3,
        "ClusterRole" | "Role" => 4,
        "RoleBinding" => 5,
        "Secret" | "ConfigMap" => 6,
        "PersistentVolumeClaim" => 7,
        "Deployment" => 8,
        "Service" => 9,
        // Routes go last, beside the Service they send to (DESIGN §4: services last).
        "Ingress" | "HTTPRoute" => 10,
        _ => 11,
    }
}

/// Which part of the fleet to render. Empty lists mean everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub agents: Vec<String>,
    pub teams: Vec<String>,
}

/// Where an object stands in apply order, and what makes it unique.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectKey {
    pub rank: u8,
    pub namespace: Option<String>,
    pub name: String,
    pub kind: String,
}

impl ObjectKey {
    /// A stable file name relative to an output folder:
    /// `<namespace or _cluster>/<rank>-<kind>-<name>.yaml`.
    pub fn file_name(&self) -> String {
        format!(
            "{}/{:02}-{}-{}.yaml",
            self.namespace.as_deref().unwrap_or("_cluster"),
            self.rank,
            self.kind.to_ascii_lowercase(),
            self.name
        )
    }
}

/// Renders every object of `fleet`, in apply order.
pub fn render(
    fleet: &ResolvedFleet,
    templates: &Templates,
    filter: &Filter,
) -> anyhow::Result<Vec<Manifest>> {
    let all = render_each(fleet, templates, filter, &mut |m| Ok(m))?;
    Ok(all.into_iter().map(|(_, m)| m).collect())
}

/// Renders every object as YAML text, in apply order, keeping only the text of each
/// object once it is checked: memory stays proportional to the output.
pub fn render_yaml(
    fleet: &ResolvedFleet,
    templates: &Templates,
    filter: &Filter,
) -> anyhow::Result<Vec<(ObjectKey, String)>> {
    render_checked(fleet, templates, filter, &mut |doc, _, size| {
        crate::yaml::doc_to_yaml(doc, size)
    })
}

/// Renders and checks every object, handing each to `keep`; returns what `keep`
/// made of them, in apply order.
pub fn render_each<T>(
    fleet: &ResolvedFleet,
    templates: &Templates,
    filter: &Filter,
    keep: &mut dyn FnMut(Manifest) -> anyhow::Result<T>,
) -> anyhow::Result<Vec<(ObjectKey, T)>> {
    render_checked(fleet, templates, filter, &mut |doc, object, _| {
        keep(Manifest {
            api_version: object.api_version.to_string(),
            kind: object.kind.to_string(),
            name: object.name.to_string(),
            namespace: object.namespace.map(str::to_string),
            team: object.team.map(str::to_string),
            agent: object.agent.map(str::to_string),
            value: doc.to_value(),
        })
    })
}

/// What [`render_checked`] hands on: a checked document, the object it is, and the
/// size of the text it was read from.
type Keep<'k, T> = dyn FnMut(&Doc, &Object, usize) -> anyhow::Result<T> + 'k;

/// An object's identity, borrowed from its checked document.
struct Object<'d> {
    api_version: &'d str,
    kind: &'d str,
    name: &'d str,
    /// `None` for cluster-scoped kinds (Namespace).
    namespace: Option<&'d str>,
    team: Option<&'d str>,
    agent: Option<&'d str>,
}

impl Object<'_> {
    fn key(&self) -> ObjectKey {
        ObjectKey {
            rank: rank(self.kind),
            namespace: self.namespace.map(str::to_string),
            name: self.name.to_string(),
            kind: self.kind.to_string(),
        }
    }
}

/// Renders and checks every object, handing each document to `keep`.
fn render_checked<T>(
    fleet: &ResolvedFleet,
    templates: &Templates,
    filter: &Filter,
    keep: &mut Keep<'_, T>,
) -> anyhow::Result<Vec<(ObjectKey, T)>> {
    check_filter(fleet, filter)?;
    let env = environment(templates)?;
    let whole = filter.agents.is_empty() && filter.teams.is_empty();
    let team_wanted = |t: &str| {
        filter.agents.is_empty() && (filter.teams.is_empty() || filter.teams.iter().any(|f| f == t))
    };
    let agent_wanted = |a: &crate::fleet::ResolvedAgent| {
        (filter.agents.is_empty() || filter.agents.contains(&a.name))
            && (filter.teams.is_empty() || filter.teams.contains(&a.team))
    };

    let mut out = Vec::new();
    let mut sink = |doc: &Doc, object: &Object, size: usize| -> anyhow::Result<()> {
        let kept = keep(doc, object, size)?;
        out.push((object.key(), kept));
        Ok(())
    };
    let fleet_ctx = context::fleet_value(fleet);
    for t in templates.entries.iter() {
        match t.scope {
            Scope::Fleet if whole => {
                let ctx = minijinja::context! { fleet => fleet_ctx.clone() };
                let expect = Expect {
                    scope: t.scope,
                    namespace: &fleet.namespace,
                    fleet: &fleet.name,
                    team: None,
                    agent: None,
                    sync: &[],
                };
                render_one(&env, t, ctx, &expect, &mut sink)?;
            }
            Scope::Router if whole => {
                let Some(namespace) = fleet.router_namespace() else {
                    continue;
                };
                let ctx = minijinja::context! { fleet => fleet_ctx.clone() };
                let expect = Expect {
                    scope: t.scope,
                    namespace,
                    fleet: &fleet.name,
                    team: None,
                    agent: None,
                    sync: &[],
                };
                render_one(&env, t, ctx, &expect, &mut sink)?;
            }
            Scope::Team => {
                for team in fleet.teams.iter().filter(|t| team_wanted(&t.name)) {
                    let ctx = minijinja::context! {
                        fleet => fleet_ctx.clone(),
                        team => context::team_value(fleet, team),
                    };
                    let expect = Expect {
                        scope: t.scope,
                        namespace: &team.namespace,
                        fleet: &fleet.name,
                        team: Some(&team.name),
                        agent: None,
                        sync: &[],
                    };
                    render_one(&env, t, ctx, &expect, &mut sink)?;
                }
            }
            _ => {}
        }
    }
    // Agent templates render per agent, so an agent's context is built once.
    let agent_templates: Vec<_> = templates
        .entries
        .iter()
        .filter(|t| t.scope == Scope::Agent)
        .collect();
    let shared = context::AgentShared::new(fleet)?;
    for agent in fleet.agents.iter().filter(|a| agent_wanted(a)) {
        let agent_ctx = context::agent_context(&shared, fleet, agent);
        let ctx = minijinja::context! { fleet => fleet_ctx.clone(), agent => agent_ctx };
        let expect = Expect {
            scope: Scope::Agent,
            namespace: &agent.namespace,
            fleet: &fleet.name,
            team: Some(&agent.team),
            agent: Some(&agent.name),
            sync: crate::knowledge::containers(agent.knowledge.as_ref()),
        };
        for t in &agent_templates {
            render_one(&env, t, ctx.clone(), &expect, &mut sink)?;
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(pair) = out.windows(2).find(|p| p[0].0 == p[1].0) {
        let key = &pair[0].0;
        let ns = key.namespace.as_deref().unwrap_or("");
        let message = format!(
            "two templates rendered the same object: {} {ns}/{}",
            key.kind, key.name
        );
        return Err(InvalidInput(message).into());
    }
    Ok(out)
}

fn check_filter(fleet: &ResolvedFleet, filter: &Filter) -> Result<(), InvalidInput> {
    let agents: Vec<&str> = fleet.agents.iter().map(|a| a.name.as_str()).collect();
    let teams: Vec<&str> = fleet.teams.iter().map(|t| t.name.as_str()).collect();
    for (what, wanted, known) in [
        ("agent", &filter.agents, &agents),
        ("team", &filter.teams, &teams),
    ] {
        for name in wanted {
            if !known.contains(&name.as_str()) {
                let hint = crate::diag::did_you_mean(name, known)
                    .map(|s| format!(" (did you mean {s:?}?)"))
                    .unwrap_or_default();
                return Err(InvalidInput(format!(
                    "the fleet has no {what} named {name:?}{hint}"
                )));
            }
        }
    }
    Ok(())
}

fn environment(templates: &Templates) -> Result<Environment<'static>, InvalidInput> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Every template renders YAML, and every value goes in as JSON: a JSON string is a
    // YAML double-quoted scalar, a JSON object a flow mapping.
    env.set_auto_escape_callback(|_| AutoEscape::Json);
    env.set_formatter(json::formatter);
    for t in &templates.entries {
        env.add_template_owned(t.name, t.source.clone())
            .map_err(|e| InvalidInput(template_error(t, &e)))?;
    }
    Ok(env)
}

fn template_error(t: &templates::Template, e: &minijinja::Error) -> String {
    let origin = t
        .origin
        .clone()
        .unwrap_or_else(|| format!("built-in template {}", t.name));
    let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
    let mut message = format!("{origin}{line}: {}", e.kind());
    if let Some(detail) = e.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    message
}

/// What a template's documents must satisfy.
struct Expect<'a> {
    scope: Scope,
    namespace: &'a str,
    fleet: &'a str,
    team: Option<&'a str>,
    agent: Option<&'a str>,
    /// Init containers the agent's Deployment must have: its knowledge sync (a template
    /// override that leaves them out would silently stop it).
    sync: &'static [&'static str],
}

fn render_one(
    env: &Environment<'static>,
    t: &templates::Template,
    ctx: minijinja::Value,
    expect: &Expect,
    sink: &mut Keep<'_, ()>,
) -> anyhow::Result<()> {
    // Only an error names the template and whom it rendered for.
    let whom = || match (expect.agent, expect.team) {
        (Some(a), _) => format!(" for agent {a:?}"),
        (None, Some(team)) => format!(" for team {team:?}"),
        _ => String::new(),
    };
    let origin = || {
        t.origin
            .clone()
            .unwrap_or_else(|| format!("built-in template {}", t.name))
    };
    let template = env
        .get_template(t.name)
        .map_err(|e| InvalidInput(template_error(t, &e)))?;
    let text = template
        .render(ctx)
        .map_err(|e| InvalidInput(format!("{}{}", template_error(t, &e), whom())))?;
    let docs = crate::yaml::parse_docs(&text).map_err(|e| {
        InvalidInput(format!(
            "{} rendered invalid YAML{}: {}",
            origin(),
            whom(),
            e.message
        ))
    })?;
    // Each document's share of the text, as a first guess at the size of its YAML.
    let size = 2 * text.len() / docs.len().max(1) + 64;
    for doc in &docs {
        let object = check(doc, expect)
            .map_err(|e| InvalidInput(format!("{} rendered{}: {e}", origin(), whom())))?;
        sink(doc, &object, size)?;
    }
    Ok(())
}

fn check<'d>(doc: &'d Doc, expect: &Expect<'d>) -> Result<Object<'d>, String> {
    let str_at = |path: &[&str]| -> Option<&'d str> {
        let mut v = doc;
        for k in path {
            v = v.get(k)?;
        }
        v.as_str()
    };
    let api_version = str_at(&["apiVersion"]).ok_or("a document without apiVersion")?;
    let kind = str_at(&["kind"]).ok_or("a document without kind")?;
    if !expect.scope.allowed_kinds().contains(&(api_version, kind)) {
        let allowed: Vec<String> = expect
            .scope
            .allowed_kinds()
            .iter()
            .map(|(a, k)| format!("{a} {k}"))
            .collect();
        return Err(format!(
            "{api_version} {kind} is not allowed here; allowed: {}",
            allowed.join(", ")
        ));
    }
    let name =
        str_at(&["metadata", "name"]).ok_or_else(|| format!("a {kind} without metadata.name"))?;
    crate::fleet::check_object_name(name).map_err(|e| format!("{kind} name {e}"))?;
    let namespace = str_at(&["metadata", "namespace"]);
    if kind == "Namespace" {
        if name != expect.namespace || namespace.is_some() {
            return Err(format!(
                "Namespace {name:?}: only namespace {:?} may be rendered here",
                expect.namespace
            ));
        }
    } else if namespace != Some(expect.namespace) {
        return Err(format!(
            "{kind} {name:?} is in namespace {:?}, expected {:?}",
            namespace.unwrap_or_default(),
            expect.namespace
        ));
    }
    // Labels count only as a mapping of strings to strings; anything else has none.
    let labels = match doc.get("metadata").and_then(|m| m.get("labels")) {
        Some(Doc::Map(entries)) if entries.iter().all(|(_, v)| matches!(v, Doc::Str(_))) => {
            entries.as_slice()
        }
        _ => &[],
    };
    let label = |key: &str| {
        labels
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_str())
    };
    let mut required = vec![
        (MANAGED_BY, "clawctl"),
        (PART_OF, expect.fleet),
        (FLEET_LABEL, expect.fleet),
    ];
    required.extend(expect.team.map(|t| (TEAM_LABEL, t)));
    required.extend(expect.agent.map(|a| (AGENT_LABEL, a)));
    for (key, want) in required {
        if label(key) != Some(want) {
            return Err(format!("{kind} {name:?} lacks the label {key}: {want}"));
        }
    }
    if kind == "Deployment" {
        let init: Vec<&str> = match doc
            .get("spec")
            .and_then(|s| s.get("template"))
            .and_then(|t| t.get("spec"))
            .and_then(|p| p.get("initContainers"))
        {
            Some(Doc::Seq(containers)) => containers
                .iter()
                .filter_map(|c| c.get("name")?.as_str())
                .collect(),
            _ => Vec::new(),
        };
        if let Some(missing) = expect.sync.iter().find(|c| !init.contains(c)) {
            return Err(format!(
                "Deployment {name:?} has no init container {missing:?}, so the agent's \
                 `knowledge` would not sync: a Deployment template must keep the built-in \
                 one's knowledgePull, knowledgePush and knowledgeVolumes loops"
            ));
        }
    }
    if kind == "Deployment" {
        let value = doc.to_value();
        if let Some(pod) = value.pointer("/spec/template/spec") {
            let problems = pod_security::restricted(pod);
            if !problems.is_empty() {
                return Err(format!(
                    "Deployment {name:?}: its pods would be refused by the Pod Security level \
                     \"restricted\" that clawctl's namespaces enforce: {}",
                    problems.join("; ")
                ));
            }
        }
    }
    typed(kind, doc)
        .map_err(|e| format!("{kind} {name:?} does not match the Kubernetes schema: {e}"))?;
    let namespace = if kind == "Namespace" { None } else { namespace };
    Ok(Object {
        api_version,
        kind,
        name,
        namespace,
        team: expect.team,
        agent: expect.agent,
    })
}

/// Reads the document as its k8s-openapi type: field types and required fields hold.
fn typed(kind: &str, doc: &Doc) -> Result<(), serde_json::Error> {
    use k8s_openapi::api::{apps, core, networking, rbac};
    fn parse<T: DeserializeOwned>(doc: &Doc) -> Result<(), serde_json::Error> {
        // A document reads as its JSON value does; only a refusal goes through that
        // value, so the message is serde_json's own.
        match T::deserialize(doc) {
            Ok(_) => Ok(()),
            Err(_) => T::deserialize(&doc.to_value()).map(drop),
        }
    }
    match kind {
        "Namespace" => parse::<core::v1::Namespace>(doc),
        "ConfigMap" => parse::<core::v1::ConfigMap>(doc),
        "ServiceAccount" => parse::<core::v1::ServiceAccount>(doc),
        "PersistentVolumeClaim" => parse::<core::v1::PersistentVolumeClaim>(doc),
        "Service" => parse::<core::v1::Service>(doc),
        "ResourceQuota" => parse::<core::v1::ResourceQuota>(doc),
        "Deployment" => parse::<apps::v1::Deployment>(doc),
        "NetworkPolicy" => parse::<networking::v1::NetworkPolicy>(doc),
        "Ingress" => parse::<networking::v1::Ingress>(doc),
        // No Rust type for a CRD: its shape is checked by `gateway_api::check_route`.
        "HTTPRoute" => gateway_api::check_route(&doc.to_value())
            .map_err(<serde_json::Error as serde::de::Error>::custom),
        "Role" => parse::<rbac::v1::Role>(doc),
        "RoleBinding" => parse::<rbac::v1::RoleBinding>(doc),
        _ => Ok(()),
    }
}

/// Writes rendered objects as one multi-document YAML stream.
pub fn write_stream(
    out: &mut dyn std::io::Write,
    objects: &[(ObjectKey, String)],
) -> std::io::Result<()> {
    for (_, text) in objects {
        out.write_all(b"---\n")?;
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}
