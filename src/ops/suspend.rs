//! `suspend` and `resume`: scale agents to zero and back without editing the fleet file,
//! keeping their volumes, Services and every other object.
//!
//! The fleet file stays the declarative truth; these commands are an operational switch
//! on top of it, the way an autoscaler owns `spec.replicas` beside a manifest (not the
//! way `kubectl scale` fights the next `kubectl apply`). The rules:
//! - `suspend` applies `spec.replicas: 0` and the annotation `clawctl.io/suspended` as
//!   its own field manager (`cluster::suspend`); `apply` then leaves `spec.replicas` to
//!   it (`Plan::keep_scaled_down`), so the agent stays suspended through any number of
//!   applies, image and config changes included (its template moves; no pod starts),
//!   until `resume`. `status` shows it `Suspended`; `rollout` skips it.
//! - `resume` gives both fields up, and the API server resets `spec.replicas` to 1. It
//!   refuses an agent the fleet file suspends (`suspended: true`): the file wins, and
//!   the way to run that agent is to change the file and apply.
//! - An agent is suspended when the file or the command says so: either one is enough.
//! - An idle agent (asleep: the router scaled it to zero after `idleAfter` without a
//!   message, `cluster::idle`) is not suspended, but `suspend` makes it so: suspension
//!   wins, since a message must never start an agent someone suspended. It takes
//!   `spec.replicas` (shared at 0 with the router), then gives up the router's fields as
//!   the router would on waking ([`idle::release`]): the idle mark goes, the replicas
//!   stay 0 under `clawctl-suspend`. `resume` of an idle agent wakes it the same way
//!   (back to 1 replica without waiting for a message), and `resume` of a suspended
//!   agent that also carries the idle mark gives up both managers' fields.
//! - Agents are named from the fleet file (exit 2, with a did-you-mean, for a name it
//!   lacks) or by `--team`. An agent not deployed yet is reported, not created: that
//!   is `apply`'s job.
//! - [`plan`] reads only; [`execute`] takes the fleet Lease, writes one server-side
//!   apply per agent that changes, then (unless `--no-wait`) waits for the Deployments:
//!   a suspended one is done when its pod is gone (the readiness rules count zero
//!   replicas as complete), a resumed one when its pod is ready, failing fast as
//!   `apply` does. No revision is recorded: the rendered objects did not change.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::planning;
use crate::cluster::idle;
use crate::cluster::suspend::{self, SuspendedBy};
use crate::cluster::wait::{self, Outcome as WaitOutcome, Workload};
use crate::cluster::{Cluster, lease};
use crate::error::InvalidInput;
use crate::names::resource_name;

/// Which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Suspend,
    Resume,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Suspend => "suspend",
            Action::Resume => "resume",
        }
    }
}

/// What the command is asked.
pub struct Request<'a> {
    pub planning: planning::Request<'a>,
    pub action: Action,
    /// Agents by name.
    pub agents: Vec<String>,
    /// Every agent of these teams.
    pub teams: Vec<String>,
    /// Wait this long for the Deployments (`None`: `--no-wait`).
    pub wait: Option<Duration>,
}

/// Where an agent stands before the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Running,
    /// By `clawctl suspend`.
    Suspended,
    /// By the fleet file's `suspended: true`.
    SuspendedByFleet,
    /// No Deployment on the cluster.
    NotDeployed,
    /// Asleep: the router scaled it to zero after `idleAfter` without a message.
    Idle,
}

/// One agent of the plan.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub agent: String,
    pub namespace: String,
    pub state: State,
    /// Whether the command writes to it.
    pub change: bool,
    /// Why it is left alone, when it is.
    pub note: Option<String>,
    /// Why the command cannot do what it was asked for this agent (a failure).
    pub problem: Option<String>,
    /// Its Deployment carries the router's idle mark: writing to it also gives up the
    /// router's fields.
    #[serde(skip)]
    pub idle_mark: bool,
}

/// What a run will do, from reads alone.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub fleet: String,
    pub cluster: String,
    pub action: Action,
    pub agents: Vec<Entry>,
}

impl Plan {
    /// Nothing to write.
    pub fn is_noop(&self) -> bool {
        !self.agents.iter().any(|a| a.change)
    }

    /// Whether some agent cannot be done as asked.
    pub fn has_problems(&self) -> bool {
        self.agents.iter().any(|a| a.problem.is_some())
    }
}

/// A plan with what it needs to be carried out.
pub struct Planned {
    pub plan: Plan,
    pub cluster: Cluster,
    fleet_namespace: String,
    selector: String,
}

/// What happened to one agent.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentReport {
    pub agent: String,
    /// `suspended`, `resumed`, `unchanged` or `failed`.
    pub result: &'static str,
    pub reason: Option<String>,
}

/// The end of a run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub fleet: String,
    pub action: Action,
    pub agents: Vec<AgentReport>,
}

impl Report {
    pub fn succeeded(&self) -> bool {
        self.agents.iter().all(|a| a.result != "failed")
    }
}

/// Reads the fleet file and the agents' Deployments; writes nothing.
pub async fn plan(request: &Request<'_>) -> anyhow::Result<Planned> {
    let (_, fleet) = super::load(request.planning.fleet)?;
    let known: Vec<&str> = fleet.agents.iter().map(|a| a.name.as_str()).collect();
    for name in &request.agents {
        if !known.contains(&name.as_str()) {
            return Err(InvalidInput(format!(
                "the fleet has no agent named {name:?}{}",
                super::history::hint(name, &known)
            ))
            .into());
        }
    }
    let teams: Vec<&str> = fleet.teams.iter().map(|t| t.name.as_str()).collect();
    for team in &request.teams {
        if !teams.contains(&team.as_str()) {
            return Err(InvalidInput(format!(
                "the fleet has no team named {team:?}{}",
                super::history::hint(team, &teams)
            ))
            .into());
        }
    }
    let chosen: Vec<_> = fleet
        .agents
        .iter()
        .filter(|a| request.agents.contains(&a.name) || request.teams.contains(&a.team))
        .collect();

    let cluster = Cluster::connect(&request.planning.target).await?;
    let selector = planning::selector(&fleet.name);
    let live = super::agents::live_deployments(&cluster, &fleet.name, &fleet.namespace).await?;

    let agents = chosen
        .iter()
        .map(|a| {
            let deployment = live.get(&(a.namespace.clone(), a.name.clone()));
            let state = match deployment.and_then(suspend::suspended) {
                _ if deployment.is_none() => State::NotDeployed,
                _ if deployment.and_then(idle::idle_since).is_some() => State::Idle,
                Some(SuspendedBy::Command) => State::Suspended,
                _ if a.suspended => State::SuspendedByFleet,
                // Zero replicas the file does not ask for: someone scaled it; suspending
                // makes that clawctl's, resuming has nothing of clawctl's to give up.
                Some(SuspendedBy::Fleet | SuspendedBy::Replicas) | None => State::Running,
            };
            let mut entry = entry(request.action, a.name.clone(), a.namespace.clone(), state);
            entry.idle_mark = deployment
                .and_then(|d| d.metadata.annotations.as_ref())
                .is_some_and(|m| m.contains_key(idle::ANNOTATION));
            entry
        })
        .collect();
    Ok(Planned {
        plan: Plan {
            fleet: fleet.name.clone(),
            cluster: cluster.url.clone(),
            action: request.action,
            agents,
        },
        cluster,
        fleet_namespace: fleet.namespace.clone(),
        selector,
    })
}

/// What the command does with an agent in `state`.
fn entry(action: Action, agent: String, namespace: String, state: State) -> Entry {
    let (change, note, problem) = match (action, state) {
        (_, State::NotDeployed) => (
            false,
            None,
            Some("not deployed: `clawctl apply` creates it".to_string()),
        ),
        (Action::Suspend, State::Running | State::SuspendedByFleet | State::Idle) => {
            (true, None, None)
        }
        (Action::Suspend, State::Suspended) => (false, Some("already suspended".into()), None),
        (Action::Resume, State::Suspended | State::Idle) => (true, None, None),
        (Action::Resume, State::Running) => (false, Some("not suspended".into()), None),
        (Action::Resume, State::SuspendedByFleet) => (
            false,
            None,
            Some(
                "suspended by the fleet file (`suspended: true` on the agent or its team): \
                 remove it there and apply"
                    .to_string(),
            ),
        ),
    };
    Entry {
        agent,
        namespace,
        state,
        change,
        note,
        problem,
        idle_mark: false,
    }
}

/// One agent's writes: suspension first (so it holds `spec.replicas` before the router's
/// fields go, and the agent never starts in between), then the router's fields given up
/// when its idle mark is there.
async fn write(action: Action, cluster: &Cluster, entry: &Entry, name: &str) -> anyhow::Result<()> {
    let ns = entry.namespace.as_str();
    match (action, entry.state) {
        (Action::Suspend, _) => suspend::suspend(cluster, ns, name).await?,
        (Action::Resume, State::Idle) => {}
        (Action::Resume, _) => suspend::resume(cluster, ns, name).await?,
    }
    if entry.idle_mark {
        idle::release(cluster, ns, name).await?;
    }
    Ok(())
}

/// Carries out a plan under the fleet Lease, then waits unless told not to.
pub async fn execute(
    planned: Planned,
    wait_for: Option<Duration>,
    progress: &dyn wait::Progress,
) -> anyhow::Result<Report> {
    let Planned {
        plan,
        cluster,
        fleet_namespace,
        selector,
    } = planned;
    let mut results: BTreeMap<String, AgentReport> = plan
        .agents
        .iter()
        .map(|a| {
            let report = match &a.problem {
                Some(why) => AgentReport {
                    agent: a.agent.clone(),
                    result: "failed",
                    reason: Some(why.clone()),
                },
                None => AgentReport {
                    agent: a.agent.clone(),
                    result: "unchanged",
                    reason: a.note.clone(),
                },
            };
            (a.agent.clone(), report)
        })
        .collect();
    let changing: Vec<&Entry> = plan.agents.iter().filter(|a| a.change).collect();
    if !changing.is_empty() {
        let lock = lease::acquire(
            &cluster,
            &fleet_namespace,
            &plan.fleet,
            plan.action.as_str(),
            progress,
        )
        .await?;
        let mut written = Vec::new();
        for entry in &changing {
            let name = resource_name(&entry.agent);
            let result = write(plan.action, &cluster, entry, &name).await;
            let report = match result {
                Ok(()) => {
                    written.push(Workload {
                        namespace: entry.namespace.clone(),
                        name,
                        agent: Some(entry.agent.clone()),
                    });
                    AgentReport {
                        agent: entry.agent.clone(),
                        result: match plan.action {
                            Action::Suspend => "suspended",
                            Action::Resume => "resumed",
                        },
                        reason: None,
                    }
                }
                Err(e) => AgentReport {
                    agent: entry.agent.clone(),
                    result: "failed",
                    reason: Some(format!("{e:#}")),
                },
            };
            results.insert(entry.agent.clone(), report);
        }
        lock.release().await;
        if let Some(timeout) = wait_for {
            let outcomes =
                wait::deployments(&cluster, &selector, &written, timeout, progress).await?;
            for (workload, outcome) in outcomes {
                let Some(agent) = workload.agent else {
                    continue;
                };
                let why = match outcome {
                    WaitOutcome::Ready => continue,
                    WaitOutcome::Failed(why) => why,
                    WaitOutcome::Unfinished(why) => format!("not done in time: {why}"),
                };
                results.insert(
                    agent.clone(),
                    AgentReport {
                        agent,
                        result: "failed",
                        reason: Some(why),
                    },
                );
            }
        }
    }
    Ok(Report {
        fleet: plan.fleet,
        action: plan.action,
        agents: results.into_values().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_has_one_answer() {
        let e = |action, state| entry(action, "a".into(), "ns".into(), state);
        assert!(e(Action::Suspend, State::Running).change);
        assert!(e(Action::Suspend, State::SuspendedByFleet).change);
        assert!(!e(Action::Suspend, State::Suspended).change);
        assert!(e(Action::Resume, State::Suspended).change);
        // Idle: suspend makes it suspended, resume wakes it.
        assert!(e(Action::Suspend, State::Idle).change);
        assert!(e(Action::Resume, State::Idle).change);
        assert!(!e(Action::Resume, State::Running).change);
        let by_file = e(Action::Resume, State::SuspendedByFleet);
        assert!(!by_file.change && by_file.problem.is_some());
        for action in [Action::Suspend, Action::Resume] {
            let missing = e(action, State::NotDeployed);
            assert!(!missing.change && missing.problem.is_some());
        }
    }
}
