//! Rules across agents, checked once every agent is resolved: a hostname declared by
//! two, a knowledge folder written by another agent or by a read-only agent's twin
//! identity, `access` that reaches other agents' objects.

use std::collections::{BTreeMap, HashMap};

use super::cx::{At, Cx, source};
use super::types::ResolvedAgent;
use crate::diag::{FieldPath, agents_phrase};
use crate::fleet::guardrails;
use crate::fleet::model::KnowledgeMode;

/// Two agents answering for the same host would split its traffic between them (the
/// proxy picks one, or rejects both): each hostname belongs to one agent.
pub(super) fn unique_hosts(cx: &mut Cx, agents: &[ResolvedAgent]) {
    let spec = &cx.loaded.fleet.spec;
    let index: HashMap<&str, usize> = spec
        .agents
        .iter()
        .enumerate()
        .map(|(i, a)| (a.name.as_str(), i))
        .collect();
    let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for agent in agents {
        for host in agent.exposure.hosts() {
            owners.entry(host).or_default().push(&agent.name);
        }
    }
    for (host, names) in owners.into_iter().filter(|(_, n)| n.len() > 1) {
        let Some(&i) = names.get(1).and_then(|n| index.get(n)) else {
            continue;
        };
        let team = cx.loaded.fleet.spec.agents[i]
            .team
            .as_ref()
            .and_then(|t| cx.loaded.fleet.spec.teams.iter().position(|x| &x.name == t))
            .or((cx.loaded.fleet.spec.teams.len() == 1).then_some(0));
        let at = At {
            agent: i,
            team,
            hosted: None,
            self_service: false,
        };
        let path = source(cx, at, &FieldPath::parse("exposure"));
        cx.error(
            &path,
            format!(
                "hostname {host:?} is declared by {}: each hostname routes to one agent",
                agents_phrase(&names)
            ),
        );
    }
}

/// An agent that writes another agent's folder (`from`) is a second writer there.
pub(super) fn foreign_writers(cx: &mut Cx, agents: &[ResolvedAgent]) {
    for (i, agent) in agents.iter().enumerate() {
        let Some(k) = &agent.knowledge else { continue };
        let own = k.path.ends_with(&format!("/{}", agent.name));
        if k.mode == KnowledgeMode::ReadWrite && !own {
            cx.warn(
                &agent_name(i),
                format!(
                    "agent {:?} writes knowledge to {}, another agent's folder: two writers overwrite each other's files; set `mode: readOnly` if it only reads",
                    agent.name, k.path
                ),
            );
        }
    }
}

/// A read-only agent is read-only only if the bucket refuses its writes: warn when it
/// holds the same cloud identity or credentials Secret as an agent that writes.
pub(super) fn shared_credentials(cx: &mut Cx, agents: &[ResolvedAgent]) {
    let writers: Vec<&ResolvedAgent> = agents
        .iter()
        .filter(|a| {
            a.knowledge
                .as_ref()
                .is_some_and(|k| k.mode == KnowledgeMode::ReadWrite)
        })
        .collect();
    for (i, reader) in agents.iter().enumerate() {
        let Some(k) = reader
            .knowledge
            .as_ref()
            .filter(|k| k.mode == KnowledgeMode::ReadOnly)
        else {
            continue;
        };
        for writer in &writers {
            let same_identity = [
                (&reader.identity.gcp, &writer.identity.gcp),
                (&reader.identity.aws, &writer.identity.aws),
                (&reader.identity.azure, &writer.identity.azure),
            ]
            .iter()
            .any(|(r, w)| r.is_some() && r == w);
            let same_secret = k.credentials_secret.is_some()
                && writer.namespace == reader.namespace
                && writer.knowledge.as_ref().map(|w| &w.credentials_secret)
                    == Some(&k.credentials_secret);
            if same_identity || same_secret {
                let what = if same_identity {
                    "cloud identity"
                } else {
                    "credentials Secret"
                };
                cx.warn(
                    &agent_name(i),
                    format!(
                        "agent {:?} reads its knowledge read-only but has the same {what} as agent {:?}, which writes: only the bucket's permissions can refuse its writes, so give it a read-only identity",
                        reader.name, writer.name
                    ),
                );
                break;
            }
        }
    }
}

/// `access` rules reaching beyond their agent (see [`guardrails::access_findings`]):
/// errors where the namespace holds other agents, warnings where it holds just one.
pub(super) fn access_reach(cx: &mut Cx, agents: &[ResolvedAgent]) {
    let subjects: Vec<guardrails::AccessSubject> = agents
        .iter()
        .map(|a| {
            let mounted = a.pod.volumes.values().filter_map(|v| v.secret.as_ref());
            let knowledge = a
                .knowledge
                .iter()
                .filter_map(|k| k.credentials_secret.as_deref());
            guardrails::AccessSubject {
                name: &a.name,
                namespace: &a.namespace,
                secrets: a
                    .secrets
                    .iter()
                    .map(String::as_str)
                    .chain(mounted.map(|s| s.secret_name.as_str()))
                    .chain(knowledge)
                    .collect(),
                access: &a.access,
            }
        })
        .collect();
    let spec = &cx.loaded.fleet.spec;
    for finding in guardrails::access_findings(&subjects) {
        let agent = &agents[finding.agent];
        let Some(i) = spec.agents.iter().position(|a| a.name == agent.name) else {
            continue;
        };
        let at = At {
            agent: i,
            team: spec.teams.iter().position(|t| t.name == agent.team),
            hosted: None,
            self_service: false,
        };
        let path = at
            .src(cx, &format!("access[{}]", finding.rule))
            .join(&finding.at);
        let own = at.path().to_string();
        let mut d = cx.loaded.diag(&path, finding.message);
        if !path.to_string().starts_with(&format!("{own}.")) {
            d.agents.push(agent.name.clone());
        }
        if finding.refused {
            cx.diags.push(d);
        } else {
            cx.warnings.push(d);
        }
    }
}

/// Where the file's agent `i` is named: warnings about the agent as a whole point there.
fn agent_name(i: usize) -> FieldPath {
    FieldPath::root()
        .key("spec")
        .key("agents")
        .index(i)
        .key("name")
}
