//! `history`: the revisions recorded for a fleet's agents (oldest first per agent), read
//! from the cluster; and how the commands that work from a fleet file *or* a fleet name
//! (`history`, `rollback`) learn which fleet they are about.
//!
//! A fleet file is only loaded and resolved, never rendered: what was recorded is the
//! truth here, and the file at hand may already say something else.

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
}

impl Source<'_> {
    /// Loads the file (invalid files fail here with exit 2) or takes the name.
    pub fn fleet(&self) -> anyhow::Result<Fleet> {
        match self {
            Source::Name(name) => Ok(Fleet {
                name: name.to_string(),
                namespace: None,
                agents: None,
            }),
            Source::File(path) => {
                let (_, resolved) = super::load(path)?;
                Ok(Fleet {
                    name: resolved.name.clone(),
                    namespace: Some(resolved.namespace.clone()),
                    agents: Some(resolved.agents.iter().map(|a| a.name.clone()).collect()),
                })
            }
        }
    }
}

impl Fleet {
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
    let revisions = history::list(
        &cluster,
        &fleet.name,
        fleet.namespace.as_deref(),
        query.agent,
    )
    .await?;
    let mut recorded_agents = Vec::new();
    if revisions.is_empty() && query.agent.is_some() && fleet.agents.is_none() {
        recorded_agents = history::list(&cluster, &fleet.name, fleet.namespace.as_deref(), None)
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
