//! `history`: the revisions recorded for a fleet's agents (oldest first per agent), read
//! from the cluster; and how the commands that work from a fleet file *or* a fleet name
//! (`history`, `rollback`) learn which fleet they are about.
//!
//! A fleet file is only loaded and resolved, never rendered: what was recorded is the
//! truth here, and the file at hand may already say something else.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cluster::history::{self, Revision};
use crate::cluster::{Cluster, Target};
use crate::error::InvalidInput;

/// Where the fleet comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A fleet file: its name, namespace and agents are known before connecting.
    File(&'a Path),
    /// `--fleet NAME`: only the name; the rest is found on the cluster.
    Name(&'a str),
}

/// What a fleet source tells before any request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    pub name: String,
    /// The fleet namespace (Lease, ApplySet parent), when a file says it.
    pub namespace: Option<String>,
    /// The file's agents, when there is a file.
    pub agents: Option<Vec<String>>,
    /// With a file: each agent's namespace.
    pub agent_namespaces: BTreeMap<String, String>,
    /// With a file: the namespaces it renders into (the fleet namespace and its teams').
    pub namespaces: Option<Vec<String>>,
}

impl Source<'_> {
    /// Loads the file (invalid files fail here with exit 2) or takes the name.
    pub fn fleet(&self) -> anyhow::Result<Fleet> {
        match self {
            Source::Name(name) => Ok(Fleet {
                name: name.to_string(),
                namespace: None,
                agents: None,
                agent_namespaces: BTreeMap::new(),
                namespaces: None,
            }),
            Source::File(path) => {
                let (_, resolved) = super::load(path)?;
                Ok(Fleet {
                    name: resolved.name.clone(),
                    namespace: Some(resolved.namespace.clone()),
                    agents: Some(resolved.agents.iter().map(|a| a.name.clone()).collect()),
                    agent_namespaces: resolved
                        .agents
                        .iter()
                        .map(|a| (a.name.clone(), a.namespace.clone()))
                        .collect(),
                    namespaces: Some(fleet_namespaces(&resolved)),
                })
            }
        }
    }
}

/// The namespaces a resolved fleet renders into: its own and its teams'.
pub fn fleet_namespaces(fleet: &crate::fleet::ResolvedFleet) -> Vec<String> {
    let mut namespaces: Vec<String> = std::iter::once(fleet.namespace.clone())
        .chain(fleet.teams.iter().map(|t| t.namespace.clone()))
        .chain(fleet.agents.iter().map(|a| a.namespace.clone()))
        .collect();
    namespaces.sort();
    namespaces.dedup();
    namespaces
}

impl Fleet {
    /// The fleet namespace: the file's, else where the fleet's ApplySet parent lives.
    pub async fn find_namespace(&self, cluster: &Cluster) -> anyhow::Result<String> {
        if let Some(namespace) = &self.namespace {
            return Ok(namespace.clone());
        }
        crate::cluster::applyset::find_namespace(cluster, &self.name)
            .await?
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no fleet {:?} on the cluster at {}: no ApplySet parent ConfigMap labelled \
                     {}={} with an {} label; was the fleet ever applied?",
                    self.name,
                    cluster.url,
                    crate::names::FLEET_LABEL,
                    self.name,
                    crate::cluster::applyset::PARENT_ID
                )
            })
    }

    /// Where this fleet's history may be read: the namespaces its file renders into, or,
    /// by name alone, those its ApplySet parent in `fleet_namespace` records. Never the
    /// whole cluster: anyone can label an object of theirs with any fleet's name.
    pub async fn namespaces(
        &self,
        cluster: &Cluster,
        fleet_namespace: &str,
    ) -> anyhow::Result<Vec<String>> {
        match &self.namespaces {
            Some(namespaces) => Ok(namespaces.clone()),
            None => {
                crate::cluster::applyset::member_namespaces(cluster, &self.name, fleet_namespace)
                    .await
            }
        }
    }

    /// With a file, every name must be one of its agents (exit 2 with a did-you-mean,
    /// as `render --agent`); without one there is nothing to check against yet.
    pub fn check_agents<'n>(
        &self,
        names: impl IntoIterator<Item = &'n str>,
    ) -> Result<(), InvalidInput> {
        let Some(agents) = &self.agents else {
            return Ok(());
        };
        let known: Vec<&str> = agents.iter().map(String::as_str).collect();
        for name in names {
            if !known.contains(&name) {
                return Err(InvalidInput(format!(
                    "the fleet has no agent named {name:?}{}",
                    hint(name, &known)
                )));
            }
        }
        Ok(())
    }
}

/// " (did you mean \"alpha\"?)" or nothing.
pub fn hint(name: &str, known: &[&str]) -> String {
    crate::diag::did_you_mean(name, known)
        .map(|s| format!(" (did you mean {s:?}?)"))
        .unwrap_or_default()
}

/// What `history` is asked.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    pub source: Source<'a>,
    pub target: Target,
    /// Only this agent's revisions.
    pub agent: Option<&'a str>,
}

/// What `history` found.
#[derive(Debug, Clone)]
pub struct History {
    pub fleet: String,
    pub agent: Option<String>,
    /// Oldest first per agent, agents by name.
    pub revisions: Vec<Revision>,
    /// When an agent was asked for by name alone and has no revisions: the agents that
    /// do, as a hint (the name may be a typo, or the agent never applied).
    pub recorded_agents: Vec<String>,
}

/// Reads the fleet's (or one agent's) revisions. An unknown `--agent` with a fleet file
/// fails before connecting.
pub async fn history(query: &Query<'_>) -> anyhow::Result<History> {
    let fleet = query.source.fleet()?;
    fleet.check_agents(query.agent)?;
    let cluster = Cluster::connect(&query.target).await?;
    // A fleet known by name whose ApplySet parent is nowhere was never applied: it has
    // no history (and no namespaces to read one from).
    let fleet_namespace = match &fleet.namespace {
        Some(namespace) => Some(namespace.clone()),
        None => crate::cluster::applyset::find_namespace(&cluster, &fleet.name).await?,
    };
    let namespaces = match &fleet_namespace {
        Some(namespace) => fleet.namespaces(&cluster, namespace).await?,
        None => Vec::new(),
    };
    let fleet_namespace = fleet_namespace.unwrap_or_default();
    let revisions = history::list(
        &cluster,
        &fleet.name,
        &fleet_namespace,
        &namespaces,
        query.agent,
    )
    .await?;
    let mut recorded_agents = Vec::new();
    if revisions.is_empty() && query.agent.is_some() && fleet.agents.is_none() {
        recorded_agents = history::list(&cluster, &fleet.name, &fleet_namespace, &namespaces, None)
            .await?
            .into_iter()
            .map(|r| r.agent)
            .collect();
        recorded_agents.dedup();
    }
    Ok(History {
        fleet: fleet.name,
        agent: query.agent.map(str::to_string),
        revisions,
        recorded_agents,
    })
}

impl History {
    /// Why the list is empty, for people: "no revisions recorded for agent \"alpah\" of
    /// fleet demo (did you mean \"alpha\"?)".
    pub fn empty_message(&self) -> String {
        let of = match &self.agent {
            Some(agent) => format!("agent {agent:?} of fleet {}", self.fleet),
            None => format!("fleet {}", self.fleet),
        };
        let mut text = format!("no revisions recorded for {of}");
        if let Some(agent) = &self.agent
            && !self.recorded_agents.is_empty()
        {
            let known: Vec<&str> = self.recorded_agents.iter().map(String::as_str).collect();
            text.push_str(&hint(agent, &known));
            text.push_str(&format!("; agents with history: {}", known.join(", ")));
        } else {
            text.push_str("; apply, rollout and rollback record one per agent they change");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(agents: Option<&[&str]>) -> Fleet {
        Fleet {
            name: "demo".into(),
            namespace: None,
            agents: agents.map(|a| a.iter().map(|s| s.to_string()).collect()),
            agent_namespaces: BTreeMap::new(),
            namespaces: None,
        }
    }

    #[test]
    fn unknown_agents_are_refused_only_when_a_file_lists_the_agents() {
        let with_file = fleet(Some(&["alpha", "beta"]));
        assert!(with_file.check_agents(["alpha", "beta"]).is_ok());
        let err = with_file.check_agents(["alpah"]).expect_err("unknown");
        assert_eq!(
            err.0,
            "the fleet has no agent named \"alpah\" (did you mean \"alpha\"?)"
        );
        assert!(fleet(None).check_agents(["anything"]).is_ok());
    }

    #[test]
    fn empty_history_says_why_and_hints_at_recorded_agents() {
        let mut history = History {
            fleet: "demo".into(),
            agent: None,
            revisions: Vec::new(),
            recorded_agents: Vec::new(),
        };
        assert!(
            history
                .empty_message()
                .starts_with("no revisions recorded for fleet demo; apply")
        );
        history.agent = Some("alpah".into());
        history.recorded_agents = vec!["alpha".into(), "beta".into()];
        assert_eq!(
            history.empty_message(),
            "no revisions recorded for agent \"alpah\" of fleet demo (did you mean \"alpha\"?); \
             agents with history: alpha, beta"
        );
    }
}
