//! Guardrails: what a fleet file may not ask for because it would carry an agent across
//! a trust boundary (DESIGN 4.1): `access` rules reaching other agents, another agent's
//! volumes or Secrets, credentials in clear in `env`, config that loads code from where
//! the agent writes, ingress snippets, reserved namespaces. Pure functions over the
//! fleet's data, returning problems for `resolve` to place; each boundary has one
//! implementation here.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::diag::{FieldPath, agents_phrase};
use crate::fleet::model::{AccessRule, Agent};
use crate::names;
use crate::openclaw;

/// `default` and `kube-*` belong to Kubernetes: clawctl never places anything there
/// (the team namespace would get PodSecurity `restricted` and a deny-ingress policy).
pub fn reserved_namespace(namespace: &str) -> Result<(), String> {
    if names::reserved_namespace(namespace) {
        return Err(format!(
            "namespace {namespace:?} is reserved (`default` and `kube-*` belong to Kubernetes itself); choose a namespace of the fleet's own"
        ));
    }
    Ok(())
}

/// Every object name clawctl gives an agent of `agents`, with its owner and what it is:
/// the state claim and ConfigMap `agent-<name>`, the token Secret, a multi-agent
/// gateway's workspace claims. Where two agents' names collide (agent `home-work` and
/// gateway `home`'s workspace `work`), the state volume keeps the name, whatever the
/// agents' order: it is an agent's memory, and render refuses the collision anyway.
pub fn agent_objects(agents: &[Agent]) -> BTreeMap<String, (String, &'static str)> {
    let mut out: BTreeMap<String, (String, &'static str)> = agents
        .iter()
        .map(|a| {
            let own = (a.name.clone(), "its state volume and its ConfigMap");
            (names::resource_name(&a.name), own)
        })
        .collect();
    for a in agents {
        let own = |what| (a.name.clone(), what);
        out.entry(names::token_secret(&a.name))
            .or_insert_with(|| own("its gateway token Secret"));
        for h in a.agents.iter().flatten() {
            out.entry(names::workspace_claim(&a.name, &h.name))
                .or_insert_with(|| own("a workspace volume of its gateway"));
        }
    }
    out
}

/// Why agent `agent` may not mount the object `name` (a claim, Secret or ConfigMap),
/// when `name` is another agent's (see [`agent_objects`]).
pub fn foreign_object(
    agent: &str,
    name: &str,
    objects: &BTreeMap<String, (String, &'static str)>,
) -> Result<(), String> {
    match objects.get(name) {
        Some((owner, what)) if owner != agent => Err(format!(
            "{name:?} is agent {owner:?}'s ({what}): an agent mounts only its own objects, never another agent's"
        )),
        _ => Ok(()),
    }
}

/// Name patterns of environment variables that hold credentials (upper-cased): a
/// literal value under one of them lands in the Deployment and every recorded revision,
/// readable by the namespace's viewers. Suffixes first, then parts anywhere in the name.
pub const SECRET_ENV_SUFFIXES: [&str; 6] = [
    "_KEY",
    "_TOKEN",
    "_SECRET",
    "_PASSWORD",
    "_CREDENTIALS",
    "_APIKEY",
];
/// Parts of a name that mark a credential wherever they are (`DB_PASSWORD_FILE` is a
/// path, but `PASSWORD` in a name is too likely a secret to guess).
pub const SECRET_ENV_PARTS: [&str; 3] = ["PASSWORD", "PASSWD", "SECRET"];
/// Whole names that are credentials.
pub const SECRET_ENV_NAMES: [&str; 5] = ["TOKEN", "SECRET", "PASSWORD", "API_KEY", "APIKEY"];

/// Whether the variable `name` looks like a credential (see [`SECRET_ENV_SUFFIXES`]).
pub fn secret_looking_env(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_ENV_NAMES.contains(&upper.as_str())
        || SECRET_ENV_SUFFIXES.iter().any(|s| upper.ends_with(s))
        || SECRET_ENV_PARTS.iter().any(|p| upper.contains(p))
}

/// Checks one of the gateway's `env` entries: the gateway token and credentials belong
/// in a Secret named in `secrets` (envFrom), never in clear in the fleet file.
pub fn env_literal(name: &str, value: &str) -> Result<(), String> {
    if name == openclaw::TOKEN_ENV {
        return Err(format!(
            "{name} is the gateway's credential and may not be written in the fleet file (it would land in the Deployment and every revision, readable by the namespace's viewers): put it in a Secret named in `secrets`, or let `routing.from` have clawctl make one"
        ));
    }
    if !value.is_empty() && secret_looking_env(name) {
        return Err(format!(
            "{name} looks like a credential, and a value written here lands in the Deployment and every revision, readable by the namespace's viewers: put it in a Secret and name the Secret in `secrets` (loaded with envFrom)"
        ));
    }
    Ok(())
}

/// Problems with an openclaw.json fragment, as (path below `config`, message):
/// `$include` anywhere (it reads files relative to openclaw.json, in the state
/// directory the agent writes), and `plugins.load.paths` entries OpenClaw would load
/// code from where the agent writes: inside the state directory or `/tmp`, or relative
/// (resolved against the state directory), `~/.openclaw` included.
pub fn config_fragment(config: &Map<String, Value>) -> Vec<(FieldPath, String)> {
    let mut problems = Vec::new();
    includes(config, &FieldPath::root(), &mut problems);
    let paths = config
        .get("plugins")
        .and_then(|p| p.get("load"))
        .and_then(|l| l.get("paths"));
    let at = FieldPath::root().key("plugins").key("load").key("paths");
    let entries: Vec<(FieldPath, &str)> = match paths {
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((at.index(i), v.as_str()?)))
            .collect(),
        Some(Value::String(s)) => vec![(at.clone(), s.as_str())],
        _ => Vec::new(),
    };
    for (path, entry) in entries {
        if let Err(e) = plugin_path(entry) {
            problems.push((path, e));
        }
    }
    problems
}

fn includes(map: &Map<String, Value>, at: &FieldPath, problems: &mut Vec<(FieldPath, String)>) {
    for (key, value) in map {
        let here = at.key(key.as_str());
        if key == "$include" {
            problems.push((
                here.clone(),
                "`$include` reads files next to openclaw.json, in the state directory the agent itself writes: write the settings in `config` instead".to_string(),
            ));
        }
        walk(value, &here, problems);
    }
}

fn walk(value: &Value, at: &FieldPath, problems: &mut Vec<(FieldPath, String)>) {
    match value {
        Value::Object(map) => includes(map, at, problems),
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                walk(v, &at.index(i), problems);
            }
        }
        _ => {}
    }
}

/// A plugin path OpenClaw may load code from: absolute, outside every directory the
/// agent can write (its state directory, the pod's scratch space).
fn plugin_path(entry: &str) -> Result<(), String> {
    let expanded = match entry.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{rest}", openclaw::HOME)
        }
        _ => entry.to_string(),
    };
    if !expanded.starts_with('/') {
        return Err(format!(
            "{entry:?} is relative, and OpenClaw resolves it against its state directory {}, which the agent writes: plugins load only from absolute paths outside it (e.g. in the image or a read-only volume)",
            openclaw::STATE_DIR
        ));
    }
    let normal = normalise(&expanded);
    for (dir, what) in [
        (openclaw::STATE_DIR, "OpenClaw's state directory"),
        (openclaw::TMP_DIR, "the pod's scratch space"),
    ] {
        if normal == dir || normal.starts_with(&format!("{dir}/")) {
            return Err(format!(
                "{entry:?} is inside {dir}, {what}, which the agent writes: a plugin placed there would run as the gateway; load plugins from the image or a read-only volume"
            ));
        }
    }
    Ok(())
}

/// `path` (absolute) with `.`, `..` and repeated slashes resolved, as the kernel would
/// without symlinks.
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Ingress annotations that paste raw configuration into the ingress controller, which
/// serves every namespace (ingress-nginx `*-snippet`, NGINX Inc's `*-snippets`): one
/// agent's Ingress could read another's traffic or the controller's credentials
/// (CVE-2021-25742, CVE-2025-1974).
pub fn ingress_annotation(key: &str) -> Result<(), String> {
    let name = key.rsplit('/').next().unwrap_or(key);
    if name == "snippet" || name.ends_with("-snippet") || name.ends_with("-snippets") {
        return Err(format!(
            "{key:?} pastes raw configuration into the ingress controller, which serves every namespace: snippet annotations are refused"
        ));
    }
    Ok(())
}

/// One agent as the `access` check sees it.
pub struct AccessSubject<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    /// Every Secret it references: `secrets`, Secret volumes, its knowledge credentials.
    pub secrets: BTreeSet<&'a str>,
    pub access: &'a [AccessRule],
}

/// An `access` rule that reaches beyond the agent's own things.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessFinding {
    /// Index into the subjects given to [`access_findings`].
    pub agent: usize,
    /// Index of the rule in the agent's `access`, and the field below it to blame.
    pub rule: usize,
    pub at: FieldPath,
    pub message: String,
    /// Refused (the namespace holds other agents) or only warned about (it holds just
    /// this agent: nothing of another agent is reached, but the agent holds the power).
    pub refused: bool,
}

/// What a rule may reach: resources (with their API groups), and the verbs that
/// matter (`None`: any verb).
struct Target {
    groups: &'static [&'static str],
    resource: &'static str,
    verbs: Option<&'static [&'static str]>,
    reach: &'static str,
}

const WRITE: &[&str] = &["create", "update", "patch"];
const CONFIG_WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const APPS: &[&str] = &["apps", "extensions"];
const RBAC: &[&str] = &["rbac.authorization.k8s.io"];

/// Everything an `access` rule may not reach in a namespace shared with other agents.
/// Secrets are handled apart (`resourceNames` can limit them to the agent's own).
const TARGETS: &[Target] = &[
    Target {
        groups: &[""],
        resource: "pods/exec",
        verbs: None,
        reach: "a shell in every pod of the namespace",
    },
    Target {
        groups: &[""],
        resource: "pods/attach",
        verbs: None,
        reach: "the running processes of every pod of the namespace",
    },
    Target {
        groups: &[""],
        resource: "pods/portforward",
        verbs: None,
        reach: "every pod's ports, past the NetworkPolicies",
    },
    Target {
        groups: &[""],
        resource: "serviceaccounts/token",
        verbs: None,
        reach: "tokens of every ServiceAccount of the namespace",
    },
    Target {
        groups: RBAC,
        resource: "roles",
        verbs: None,
        reach: "RBAC objects, which give access in the namespace",
    },
    Target {
        groups: RBAC,
        resource: "rolebindings",
        verbs: None,
        reach: "RBAC objects, which give access in the namespace",
    },
    Target {
        groups: &["apps"],
        resource: "controllerrevisions",
        verbs: None,
        reach: "ControllerRevisions, where clawctl records every agent's history",
    },
    Target {
        groups: &[""],
        resource: "pods",
        verbs: Some(WRITE),
        reach: "creating or changing pods, which can mount any Secret or volume of the namespace",
    },
    Target {
        groups: APPS,
        resource: "deployments",
        verbs: Some(WRITE),
        reach: "creating or changing Deployments (other agents' gateways included)",
    },
    Target {
        groups: APPS,
        resource: "replicasets",
        verbs: Some(WRITE),
        reach: "creating or changing ReplicaSets, whose pods can mount any Secret or volume of the namespace",
    },
    Target {
        groups: &["apps"],
        resource: "statefulsets",
        verbs: Some(WRITE),
        reach: "creating or changing StatefulSets, whose pods can mount any Secret or volume of the namespace",
    },
    Target {
        groups: APPS,
        resource: "daemonsets",
        verbs: Some(WRITE),
        reach: "creating or changing DaemonSets, whose pods can mount any Secret or volume of the namespace",
    },
    Target {
        groups: &["batch"],
        resource: "jobs",
        verbs: Some(WRITE),
        reach: "creating or changing Jobs, whose pods can mount any Secret or volume of the namespace",
    },
    Target {
        groups: &["batch"],
        resource: "cronjobs",
        verbs: Some(WRITE),
        reach: "creating or changing CronJobs, whose pods can mount any Secret or volume of the namespace",
    },
    Target {
        groups: &[""],
        resource: "configmaps",
        verbs: Some(CONFIG_WRITE),
        reach: "writing ConfigMaps, other agents' openclaw.json included",
    },
];

/// Whether a rule's resource entry covers `target` (`resource` or
/// `resource/subresource`), as RBAC matches: `*`, the exact name, or `*/subresource`.
fn covers(entry: &str, target: &str) -> bool {
    if entry == "*" || entry == target {
        return true;
    }
    match target.split_once('/') {
        Some((_, sub)) => entry.strip_prefix("*/") == Some(sub),
        None => false,
    }
}

fn group_matches(rule: &AccessRule, groups: &[&str]) -> bool {
    rule.api_groups
        .iter()
        .any(|g| g == "*" || groups.contains(&g.as_str()))
}

fn verb_matches(rule: &AccessRule, verbs: Option<&[&str]>) -> bool {
    match verbs {
        None => true,
        Some(verbs) => rule
            .verbs
            .iter()
            .any(|v| v == "*" || verbs.contains(&v.as_str())),
    }
}

/// What `rule` reaches beyond the agent, as (field below the rule, what): each
/// resource entry once, naming everything it reaches. `own` are the Secrets that are
/// the agent's alone.
fn rule_reach(rule: &AccessRule, own: &BTreeSet<String>) -> Vec<(FieldPath, String)> {
    let mut by_entry: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut out = Vec::new();
    for (k, entry) in rule.resources.iter().enumerate() {
        if group_matches(rule, &[""]) && covers(entry, "secrets") {
            if rule.resource_names.is_empty() {
                let own: Vec<&str> = own.iter().map(String::as_str).collect();
                by_entry.entry(k).or_default().push(format!(
                    "every Secret in the namespace, other agents' gateway tokens included (limit it with `resourceNames` to the agent's own: {})",
                    own.join(", ")
                ));
            } else {
                for (n, name) in rule.resource_names.iter().enumerate() {
                    if !own.contains(name) {
                        out.push((
                            FieldPath::root().key("resourceNames").index(n),
                            format!(
                                "Secret {name:?}, which is not the agent's own (its own: its gateway token and the Secrets no other agent of the namespace references)"
                            ),
                        ));
                    }
                }
            }
        }
        for t in TARGETS {
            if group_matches(rule, t.groups)
                && verb_matches(rule, t.verbs)
                && covers(entry, t.resource)
            {
                let reaches = by_entry.entry(k).or_default();
                if !reaches.iter().any(|r| r == t.reach) {
                    reaches.push(t.reach.to_string());
                }
            }
        }
    }
    for (k, reaches) in by_entry {
        let entry = &rule.resources[k];
        out.push((
            FieldPath::root().key("resources").index(k),
            format!("{entry:?} grants {}", reaches.join("; ")),
        ));
    }
    out.sort();
    out.dedup();
    out
}

/// Every `access` rule of `agents` that reaches beyond its agent: refused where the
/// agent's namespace holds other agents of the fleet, warned about where it holds
/// just this one.
pub fn access_findings(agents: &[AccessSubject]) -> Vec<AccessFinding> {
    let mut out = Vec::new();
    for (i, agent) in agents.iter().enumerate() {
        if agent.access.is_empty() {
            continue;
        }
        let neighbours: Vec<&AccessSubject> = agents
            .iter()
            .enumerate()
            .filter(|(j, a)| *j != i && a.namespace == agent.namespace)
            .map(|(_, a)| a)
            .collect();
        let mut own: BTreeSet<String> = agent
            .secrets
            .iter()
            .filter(|s| !neighbours.iter().any(|n| n.secrets.contains(*s)))
            .map(|s| s.to_string())
            .collect();
        own.insert(names::token_secret(agent.name));
        let mut sharing: Vec<&str> = agents
            .iter()
            .filter(|a| a.namespace == agent.namespace)
            .map(|a| a.name)
            .collect();
        sharing.sort_unstable();
        for (j, rule) in agent.access.iter().enumerate() {
            for (at, reach) in rule_reach(rule, &own) {
                let (message, refused) = if neighbours.is_empty() {
                    (
                        format!(
                            "{reach}: namespace {:?} holds only this agent, so no other agent is reached; keep it only if the agent's task needs it (an LLM with tools holds it)",
                            agent.namespace
                        ),
                        false,
                    )
                } else {
                    (
                        format!(
                            "{reach}: namespace {:?} holds {}, so this reaches the other agents; narrow the rule or give the agent a team (namespace) of its own",
                            agent.namespace,
                            agents_phrase(&sharing)
                        ),
                        true,
                    )
                };
                out.push(AccessFinding {
                    agent: i,
                    rule: j,
                    at,
                    message,
                    refused,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(groups: &[&str], resources: &[&str], verbs: &[&str], names: &[&str]) -> AccessRule {
        let s = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        AccessRule {
            api_groups: s(groups),
            resources: s(resources),
            resource_names: s(names),
            verbs: s(verbs),
            non_resource_urls: vec![],
        }
    }

    fn reach(r: &AccessRule) -> Vec<String> {
        let own = BTreeSet::from(["agent-a-gateway-token".to_string()]);
        rule_reach(r, &own)
            .into_iter()
            .map(|(p, m)| format!("{p}: {m}"))
            .collect()
    }

    #[test]
    fn harmless_rules_reach_nothing() {
        assert!(reach(&rule(&[""], &["pods", "pods/log"], &["get", "list"], &[])).is_empty());
        assert!(reach(&rule(&["batch"], &["jobs"], &["get", "list", "watch"], &[])).is_empty());
        assert!(reach(&rule(&[""], &["configmaps"], &["get"], &[])).is_empty());
        // The wrong group grants nothing.
        assert!(reach(&rule(&["apps"], &["secrets"], &["get"], &[])).is_empty());
        assert!(reach(&rule(&[""], &["jobs"], &["create"], &[])).is_empty());
    }

    #[test]
    fn secrets_are_reached_unless_limited_to_the_agents_own() {
        let all = reach(&rule(&[""], &["secrets"], &["get"], &[]));
        assert_eq!(all.len(), 1);
        assert!(all[0].starts_with("resources[0]: \"secrets\" grants every Secret"));
        assert!(
            reach(&rule(
                &[""],
                &["secrets"],
                &["get"],
                &["agent-a-gateway-token"]
            ))
            .is_empty()
        );
        let other = reach(&rule(
            &[""],
            &["secrets"],
            &["get"],
            &["agent-a-gateway-token", "agent-b-gateway-token"],
        ));
        assert_eq!(other.len(), 1);
        assert!(other[0].starts_with("resourceNames[1]: Secret \"agent-b-gateway-token\""));
    }

    #[test]
    fn subresources_workloads_and_wildcards() {
        assert_eq!(
            reach(&rule(&[""], &["pods/exec"], &["create"], &[])).len(),
            1
        );
        assert_eq!(reach(&rule(&[""], &["*/exec"], &["create"], &[])).len(), 1);
        assert_eq!(
            reach(&rule(&[""], &["serviceaccounts/token"], &["create"], &[])).len(),
            1
        );
        assert_eq!(
            reach(&rule(&["batch"], &["jobs"], &["create"], &[])).len(),
            1
        );
        assert_eq!(
            reach(&rule(&["apps"], &["controllerrevisions"], &["list"], &[])).len(),
            1
        );
        assert_eq!(
            reach(&rule(
                &["rbac.authorization.k8s.io"],
                &["roles"],
                &["get"],
                &[]
            ))
            .len(),
            1
        );
        assert_eq!(
            reach(&rule(&[""], &["configmaps"], &["patch"], &[])).len(),
            1
        );
        // `*` resources in the core group: one finding naming all it reaches.
        let star = reach(&rule(&[""], &["*"], &["get"], &[]));
        assert_eq!(star.len(), 1);
        assert!(star[0].contains("every Secret") && star[0].contains("a shell"));
        assert!(
            !star[0].contains("writing ConfigMaps"),
            "get writes nothing: {star:?}"
        );
        // `*` groups with jobs.
        assert_eq!(reach(&rule(&["*"], &["jobs"], &["create"], &[])).len(), 1);
        // `*` verbs with pods create.
        assert_eq!(reach(&rule(&[""], &["pods"], &["*"], &[])).len(), 1);
    }

    fn subject<'a>(
        name: &'a str,
        ns: &'a str,
        secrets: &[&'a str],
        access: &'a [AccessRule],
    ) -> AccessSubject<'a> {
        AccessSubject {
            name,
            namespace: ns,
            secrets: secrets.iter().copied().collect(),
            access,
        }
    }

    #[test]
    fn shared_namespaces_refuse_and_agent_only_ones_warn() {
        let jobs = [rule(&["batch"], &["jobs"], &["create"], &[])];
        let found = access_findings(&[
            subject("ops", "ops", &[], &jobs),
            subject("alice", "research", &[], &jobs),
            subject("bob", "research", &[], &[]),
        ]);
        assert_eq!(found.len(), 2);
        assert!(!found[0].refused, "ops is alone in its namespace");
        assert!(found[1].refused);
        assert!(
            found[1].message.contains("agents \"alice\", \"bob\""),
            "{}",
            found[1].message
        );
    }

    #[test]
    fn a_secret_another_agent_references_is_not_own() {
        let own = [rule(&[""], &["secrets"], &["get"], &["mine"])];
        let shared = [rule(&[""], &["secrets"], &["get"], &["shared"])];
        let found = access_findings(&[
            subject("a", "ns", &["mine", "shared"], &own),
            subject("b", "ns", &["shared"], &[]),
        ]);
        assert!(found.is_empty(), "{found:?}");
        let found = access_findings(&[
            subject("a", "ns", &["mine", "shared"], &shared),
            subject("b", "ns", &["shared"], &[]),
        ]);
        assert_eq!(found.len(), 1);
        assert!(found[0].refused);
    }

    #[test]
    fn env_names_that_look_like_credentials() {
        for name in [
            "OPENAI_API_KEY",
            "SLACK_BOT_TOKEN",
            "CLIENT_SECRET",
            "DB_PASSWORD",
            "PASSWORD",
            "MY_PASSWORD_FILE",
            "GOOGLE_CREDENTIALS",
        ] {
            assert!(secret_looking_env(name), "{name}");
        }
        for name in ["NODE_ENV", "HOME", "TOKENIZER", "KEYBOARD", "LOG_LEVEL"] {
            assert!(!secret_looking_env(name), "{name}");
        }
        assert!(env_literal("OPENCLAW_GATEWAY_TOKEN", "").is_err());
        assert!(env_literal("OPENAI_API_KEY", "sk-123").is_err());
        assert!(env_literal("OPENAI_API_KEY", "").is_ok());
        assert!(env_literal("NODE_ENV", "production").is_ok());
    }

    #[test]
    fn config_includes_and_plugin_paths() {
        let Value::Object(config) = serde_json::json!({
            "agents": {"list": [{"$include": "./a.json5"}]},
            "plugins": {"load": {"paths": [
                "/opt/plugins/x", "plugins/x", "~/.openclaw/extensions/x",
                "/home/node/.openclaw/../.openclaw/x", "/tmp/x", "/home/node/.openclawx",
            ]}},
        }) else {
            unreachable!()
        };
        let paths: Vec<String> = config_fragment(&config)
            .into_iter()
            .map(|(p, _)| p.to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "agents.list[0].$include",
                "plugins.load.paths[1]",
                "plugins.load.paths[2]",
                "plugins.load.paths[3]",
                "plugins.load.paths[4]",
            ]
        );
    }

    #[test]
    fn snippets_and_reserved_namespaces() {
        assert!(ingress_annotation("nginx.ingress.kubernetes.io/configuration-snippet").is_err());
        assert!(ingress_annotation("nginx.ingress.kubernetes.io/server-snippet").is_err());
        assert!(ingress_annotation("nginx.org/location-snippets").is_err());
        assert!(ingress_annotation("nginx.ingress.kubernetes.io/proxy-read-timeout").is_ok());
        assert!(reserved_namespace("kube-system").is_err());
        assert!(reserved_namespace("default").is_err());
        assert!(reserved_namespace("kubeflow").is_ok());
        assert!(reserved_namespace("research").is_ok());
    }
}
