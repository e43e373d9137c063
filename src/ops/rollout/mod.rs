//! `rollout`: move agents to a new image tag canary first, then in waves, each agent
//! through its health gate; on a failed gate roll back every agent this rollout touched
//! (config and image together). State lives in the cluster under the fleet Lease, so
//! an interrupted or killed rollout is resumed (`--resume`) or undone (`--abort`).

pub mod state;
pub mod strategy;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::ListParams;
use serde::Serialize;
use tokio::sync::Mutex;

use self::state::{Phase, State};
use self::strategy::{Canary, Strategy};
use super::agents::{self, AgentObjects};
use super::planning;
use crate::cluster::gate::{self, Verdict};
use crate::cluster::history::{self, Cause, Gate, Revision};
use crate::cluster::wait::{Progress, Workload};
use crate::cluster::{Cluster, applyset, lease, retry};
use crate::error::ExitStatus;
use crate::interrupt::Stop;
use crate::render::context::AGENT_LABEL;
use crate::render::{self, Filter};

/// What the command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Canary, then every wave.
    Full,
    /// Only the canary; then stop with phase canary-passed.
    CanaryOnly,
    /// The waves after a passed canary.
    Promote,
    /// Go on after an interruption (or a killed process).
    Resume,
    /// Roll back what an unfinished rollout touched.
    Abort,
}

/// Flags that override `spec.rollout`.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub canary: Option<Canary>,
    pub waves: Option<Vec<u32>>,
    pub soak: Option<Duration>,
    pub timeout: Option<Duration>,
    pub max_parallel: Option<usize>,
    pub no_auto_rollback: bool,
}

pub struct Request<'a> {
    pub planning: planning::Request<'a>,
    pub tag: Option<String>,
    pub mode: Mode,
    pub overrides: Overrides,
    pub history_max: usize,
}

/// What happened to one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result", content = "reason")]
pub enum Outcome {
    /// Moved to the target and passed its gate.
    Updated,
    /// Its gate failed.
    Failed(String),
    /// Moved back to its previous revision.
    RolledBack,
    /// Its rollback failed too.
    RollbackFailed(String),
    /// Not started (an earlier gate failed, or the run was interrupted).
    NotStarted,
    /// Started but not finished when the run was interrupted.
    Interrupted,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentReport {
    pub agent: String,
    /// 0 is the canary when there is one.
    pub group: usize,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The end of a rollout.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub fleet: String,
    pub target: String,
    pub phase: Phase,
    pub groups: Vec<Vec<String>>,
    pub agents: Vec<AgentReport>,
    /// One sentence for people.
    pub message: String,
}

impl Report {
    /// DESIGN §4: 0 ok, 4 failed and rolled back, 5 the rollback failed too, 130 interrupted.
    pub fn exit_status(&self) -> ExitStatus {
        let rollback_failed = self
            .agents
            .iter()
            .any(|a| matches!(a.outcome, Outcome::RollbackFailed(_)));
        match self.phase {
            Phase::Done | Phase::CanaryPassed | Phase::Aborted if !rollback_failed => {
                ExitStatus::Ok
            }
            Phase::RolledBack if !rollback_failed => ExitStatus::RolledBack,
            Phase::Interrupted | Phase::Running => ExitStatus::Interrupted,
            _ if rollback_failed => ExitStatus::RollbackFailed,
            _ => ExitStatus::Error,
        }
    }
}

/// What a rollout shows while it runs.
pub trait Reporter: Progress {
    fn group(&self, index: usize, total: usize, canary: bool, agents: &[String]);
    fn agent(&self, agent: &str, what: &str);
}

/// `image` with its tag (or digest) replaced by `tag`.
pub fn with_tag(image: &str, tag: &str) -> String {
    let base = image.split_once('@').map_or(image, |(base, _)| base);
    let slash = base.rfind('/').map_or(0, |i| i + 1);
    let base = match base[slash..].rfind(':') {
        Some(colon) => &base[..slash + colon],
        None => base,
    };
    format!("{base}:{tag}")
}

/// Everything a run works with.
struct Run<'r> {
    cluster: Cluster,
    fleet: String,
    fleet_namespace: String,
    applyset_id: String,
    strategy: Strategy,
    /// The agents' objects at the target image.
    agents: BTreeMap<String, AgentObjects>,
    history_max: usize,
    reporter: &'r dyn Reporter,
    stop: &'r Stop,
    state: Mutex<State>,
    outcomes: Mutex<BTreeMap<String, Outcome>>,
}

/// Runs a rollout (or its promote, resume or abort).
pub async fn rollout(
    request: Request<'_>,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> anyhow::Result<Report> {
    let (_, mut fleet) = super::load(request.planning.fleet)?;
    let mut strategy = Strategy::from_fleet(&fleet.rollout).map_err(crate::error::InvalidInput)?;
    let o = &request.overrides;
    if let Some(canary) = &o.canary {
        strategy.canary = canary.clone();
    }
    if let Some(waves) = &o.waves {
        strategy.waves = waves.clone();
    }
    strategy.soak = o.soak.unwrap_or(strategy.soak);
    strategy.timeout = o.timeout.unwrap_or(strategy.timeout);
    strategy.max_parallel = o.max_parallel.unwrap_or(strategy.max_parallel).max(1);
    strategy.auto_rollback &= !o.no_auto_rollback;
    if request.mode == Mode::CanaryOnly && strategy.canary == Canary::None {
        return Err(crate::error::InvalidInput(
            "--canary needs canary agents: set spec.rollout.canary or pass --canary-agents, --canary-count or --canary-percent".into(),
        )
        .into());
    }
    let templates = super::templates(request.planning.templates, &fleet)?;

    let cluster = Cluster::connect(&request.planning.target).await?;
    let lock = lease::acquire(&cluster, &fleet.namespace, &fleet.name, "rollout", reporter).await?;
    // Whatever happens from here on, the lock is released at the end.
    let result = async {
        let previous = state::load(&cluster, &fleet.namespace, &fleet.name).await?;

        // Which image: a resumed, promoted or aborted rollout keeps its own target.
        let target = match (request.mode, &previous) {
            (Mode::Resume | Mode::Promote | Mode::Abort, Some(s)) => s.target.clone(),
            (Mode::Resume | Mode::Promote | Mode::Abort, None) => {
                bail!(
                    "there is no unfinished rollout of fleet {:?} to continue or abort",
                    fleet.name
                )
            }
            (_, _) => match &request.tag {
                Some(tag) => with_tag(&fleet.image, tag),
                None => fleet.image.clone(),
            },
        };
        fleet.image = target.clone();
        let manifests = render::render(&fleet, &templates, &Filter::default())?;
        let run = Run {
            applyset_id: applyset::id(&fleet.name, &fleet.namespace),
            cluster,
            fleet: fleet.name.clone(),
            fleet_namespace: fleet.namespace.clone(),
            strategy,
            agents: agents::by_agent(&manifests),
            history_max: request.history_max,
            reporter,
            stop,
            state: Mutex::new(State {
                target: target.clone(),
                phase: Phase::Running,
                groups: Vec::new(),
                canary: false,
                group: 0,
                done: Vec::new(),
                touched: Vec::new(),
                previous: BTreeMap::new(),
                reason: None,
                holder: lease::identity("rollout"),
            }),
            outcomes: Mutex::new(BTreeMap::new()),
        };
        drive(&run, request.mode, previous).await
    }
    .await;
    lock.release().await;
    result
}

async fn drive(run: &Run<'_>, mode: Mode, previous: Option<State>) -> anyhow::Result<Report> {
    let unfinished = previous.as_ref().filter(|s| !s.phase.finished());
    match (mode, unfinished) {
        (Mode::Abort, Some(s)) => {
            *run.state.lock().await = State {
                holder: lease::identity("rollout"),
                ..s.clone()
            };
            return roll_back_all(
                run,
                Phase::Aborted,
                "aborted: every agent the rollout touched went back",
            )
            .await;
        }
        (Mode::Resume, Some(s)) if matches!(s.phase, Phase::Running | Phase::Interrupted) => {
            *run.state.lock().await = State {
                phase: Phase::Running,
                holder: lease::identity("rollout"),
                ..s.clone()
            };
        }
        (Mode::Promote, Some(s)) if s.phase == Phase::CanaryPassed => {
            *run.state.lock().await = State {
                phase: Phase::Running,
                holder: lease::identity("rollout"),
                ..s.clone()
            };
        }
        (Mode::Resume | Mode::Promote, Some(s)) => bail!(
            "the rollout of fleet {:?} to {} is {:?}: {}",
            run.fleet,
            s.target,
            s.phase,
            match s.phase {
                Phase::CanaryPassed =>
                    "`rollout --promote` continues it, `rollout --abort` undoes it",
                Phase::Failed => "`rollout --abort` rolls back what it touched",
                _ => "`rollout --resume` continues it, `rollout --abort` undoes it",
            }
        ),
        (Mode::Abort | Mode::Resume | Mode::Promote, None) => {
            bail!(
                "there is no unfinished rollout of fleet {:?} to continue or abort",
                run.fleet
            )
        }
        (Mode::Full | Mode::CanaryOnly, Some(s)) => bail!(
            "a rollout of fleet {:?} to {} is unfinished ({:?}, by {}): finish it with `rollout --resume`{} or undo it with `rollout --abort` first",
            run.fleet,
            s.target,
            s.phase,
            s.holder,
            if s.phase == Phase::CanaryPassed {
                " / `--promote`"
            } else {
                ""
            }
        ),
        (Mode::Full | Mode::CanaryOnly, None) => {
            let target = run.state.lock().await.target.clone();
            let live = live_images(&run.cluster, &run.fleet).await?;
            // Agents not deployed yet are `apply`'s to create; the rest move if their
            // image differs.
            let moving: Vec<String> = run
                .agents
                .keys()
                .filter(|agent| live.get(*agent).is_some_and(|image| *image != target))
                .cloned()
                .collect();
            let groups = run.strategy.groups(&moving);
            if groups.is_empty() {
                return Ok(report(
                    run,
                    Phase::Done,
                    format!("nothing to move: every deployed agent runs {target}"),
                )
                .await);
            }
            let mut state = run.state.lock().await;
            state.canary = run.strategy.has_canary(&moving);
            state.groups = groups;
            state::save(&run.cluster, &run.fleet_namespace, &run.fleet, &state).await?;
        }
    }
    execute(run, mode).await
}

/// Each deployed agent's gateway image, from one list of the fleet's Deployments.
async fn live_images(cluster: &Cluster, fleet: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let api: Api<Deployment> = Api::all(cluster.client.clone());
    let params = ListParams::default().labels(&planning::selector(fleet));
    let list = retry::idempotent(|| api.list(&params))
        .await
        .context("cannot list the fleet's Deployments")?;
    Ok(list
        .items
        .iter()
        .filter_map(|d| {
            let agent = d.metadata.labels.as_ref()?.get(AGENT_LABEL)?.clone();
            let image = d
                .spec
                .as_ref()?
                .template
                .spec
                .as_ref()?
                .containers
                .first()?
                .image
                .clone()?;
            Some((agent, image))
        })
        .collect())
}

/// Works through the groups from where the state says, until done, a failed gate, an
/// interruption, or (with `--canary`) the canary passed.
async fn execute(run: &Run<'_>, mode: Mode) -> anyhow::Result<Report> {
    let history = history::list(&run.cluster, &run.fleet, None).await?;
    let (groups, first, canary) = {
        let state = run.state.lock().await;
        (state.groups.clone(), state.group, state.canary)
    };
    let mut failed: Option<String> = None;
    for (index, group) in groups.iter().enumerate().skip(first) {
        if run.stop.is_stopped() {
            break;
        }
        run.reporter
            .group(index, groups.len(), canary && index == 0, group);
        let deadline = tokio::time::Instant::now() + run.strategy.timeout;
        let todo: Vec<&String> = {
            let state = run.state.lock().await;
            group.iter().filter(|a| !state.done.contains(a)).collect()
        };
        // One write records the whole group as touched, each agent with the revision to
        // come back to, before any of them changes (one write per agent would make the
        // agents of a wave start one after another).
        let mut ready = Vec::new();
        {
            let mut state = run.state.lock().await;
            for agent in todo {
                let namespace = run.agents.get(agent).map(|o| o.namespace.as_str());
                let previous = history
                    .iter()
                    .filter(|r| r.agent == *agent && Some(r.namespace.as_str()) == namespace)
                    .max_by_key(|r| r.number);
                match previous {
                    Some(previous) => {
                        if !state.touched.contains(agent) {
                            state.touched.push(agent.clone());
                        }
                        state
                            .previous
                            .entry(agent.clone())
                            .or_insert_with(|| previous.name.clone());
                        ready.push(agent);
                    }
                    None => {
                        failed.get_or_insert(format!(
                            "{agent}: has no recorded revision to come back to (apply the fleet with this clawctl first)"
                        ));
                    }
                }
            }
            state::save(&run.cluster, &run.fleet_namespace, &run.fleet, &state).await?;
        }
        if failed.is_some() {
            break;
        }
        let results: Vec<(String, Result<bool, String>)> = futures::stream::iter(ready)
            .map(|agent| {
                let history = &history;
                async move {
                    let result = run_agent(run, agent, history, deadline).await;
                    (agent.clone(), result)
                }
            })
            .buffer_unordered(run.strategy.max_parallel)
            .collect()
            .await;
        let mut passed = Vec::new();
        for (agent, result) in results {
            match result {
                Ok(true) => passed.push(agent),
                Ok(false) => {}
                Err(why) => {
                    failed.get_or_insert(format!("{agent}: {why}"));
                }
            }
        }
        {
            let mut state = run.state.lock().await;
            state.done.extend(passed);
            state::save(&run.cluster, &run.fleet_namespace, &run.fleet, &state).await?;
        }
        if failed.is_some() || run.stop.is_stopped() {
            break;
        }
        let mut state = run.state.lock().await;
        state.group = index + 1;
        if mode == Mode::CanaryOnly && canary && index == 0 && index + 1 < groups.len() {
            state.phase = Phase::CanaryPassed;
            state::save(&run.cluster, &run.fleet_namespace, &run.fleet, &state).await?;
            drop(state);
            return Ok(report(run, Phase::CanaryPassed, "canary passed: `rollout --promote` continues with the waves, `rollout --abort` undoes it".into()).await);
        }
        state::save(&run.cluster, &run.fleet_namespace, &run.fleet, &state).await?;
    }

    if let Some(why) = failed {
        if run.strategy.auto_rollback {
            return roll_back_all(
                run,
                Phase::RolledBack,
                &format!("health gate failed ({why}); every agent this rollout changed went back"),
            )
            .await;
        }
        let mut state = run.state.lock().await;
        state.phase = Phase::Failed;
        state.reason = Some(why.clone());
        state::save(&run.cluster, &run.fleet_namespace, &run.fleet, &state).await?;
        drop(state);
        return Ok(report(run, Phase::Failed, format!("health gate failed ({why}); automatic rollback is off: `rollout --abort` rolls back")).await);
    }
    if run.stop.is_stopped() {
        let mut state = run.state.lock().await;
        state.phase = Phase::Interrupted;
        state.reason = Some("interrupted".into());
        state::save(&run.cluster, &run.fleet_namespace, &run.fleet, &state).await?;
        let done = state.done.len();
        drop(state);
        return Ok(report(run, Phase::Interrupted, format!(
            "interrupted after {done} agent(s): no new agent was started and the state is recorded; \
             `clawctl rollout FLEET --resume` continues, `clawctl rollout FLEET --abort` rolls back what it touched"
        )).await);
    }
    let mut state = run.state.lock().await;
    state.phase = Phase::Done;
    state.reason = None;
    state::save(&run.cluster, &run.fleet_namespace, &run.fleet, &state).await?;
    let message = format!("done: {} agent(s) run {}", state.done.len(), state.target);
    drop(state);
    Ok(report(run, Phase::Done, message).await)
}

/// One agent: remember its revision, apply the target, gate it, record the revision.
async fn run_agent(
    run: &Run<'_>,
    agent: &str,
    history: &[Revision],
    deadline: tokio::time::Instant,
) -> Result<bool, String> {
    if run.stop.is_stopped() {
        return Ok(false);
    }
    let objects = run.agents.get(agent).ok_or("not in the fleet file")?;
    run.reporter.agent(agent, "updating");
    let applied = agents::apply(&run.cluster, &run.applyset_id, &objects.manifests, false).await;
    let verdict = match applied {
        Err(why) => Verdict::Failed(why),
        Ok(()) => {
            run.reporter.agent(agent, "checking health");
            let workload = Workload {
                namespace: objects.namespace.clone(),
                name: objects.deployment().unwrap_or_default(),
                agent: Some(agent.to_string()),
            };
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            gate::agent(
                &run.cluster,
                &run.fleet,
                &workload,
                left,
                run.strategy.soak,
                run.reporter,
                run.stop,
            )
            .await
            .unwrap_or_else(|e| Verdict::Failed(format!("{e:#}")))
        }
    };
    let gate = match &verdict {
        Verdict::Passed => Gate::Passed,
        Verdict::Failed(_) => Gate::Failed,
        Verdict::Stopped => Gate::Unknown,
    };
    let record = history::Record {
        fleet: &run.fleet,
        agent,
        team: objects.team.as_deref(),
        namespace: &objects.namespace,
        manifests: objects.manifests.clone(),
        cause: Cause::Rollout,
        gate,
    };
    let mine: Vec<Revision> = history
        .iter()
        .filter(|r| r.agent == agent)
        .cloned()
        .collect();
    let recorded = history::record(&run.cluster, record, &mine, run.history_max).await;
    let mut outcomes = run.outcomes.lock().await;
    match verdict {
        Verdict::Passed => {
            outcomes.insert(agent.to_string(), Outcome::Updated);
            drop(outcomes);
            run.reporter.agent(agent, "passed");
            recorded.map(|_| true).map_err(|e| format!("{e:#}"))
        }
        Verdict::Failed(why) => {
            outcomes.insert(agent.to_string(), Outcome::Failed(why.clone()));
            drop(outcomes);
            run.reporter.agent(agent, &format!("FAILED: {why}"));
            Err(why)
        }
        Verdict::Stopped => {
            outcomes.insert(agent.to_string(), Outcome::Interrupted);
            Ok(false)
        }
    }
}

/// Returns every touched agent to its recorded previous revision (config and image
/// together; never its volume), waits for it, and records the rollback as a revision.
async fn roll_back_all(run: &Run<'_>, phase: Phase, message: &str) -> anyhow::Result<Report> {
    let history = history::list(&run.cluster, &run.fleet, None).await?;
    let (touched, previous) = {
        let state = run.state.lock().await;
        (state.touched.clone(), state.previous.clone())
    };
    let results: Vec<(String, Result<(), String>)> = futures::stream::iter(touched)
        .map(|agent| {
            let history = &history;
            let previous = &previous;
            async move {
                let result = async {
                    let name = previous
                        .get(&agent)
                        .ok_or("no previous revision was recorded")?;
                    let revision = history.iter().find(|r| &r.name == name).ok_or_else(|| {
                        format!("its previous revision {name} is gone from the history")
                    })?;
                    run.reporter.agent(
                        &agent,
                        &format!("rolling back to revision {}", revision.number),
                    );
                    agents::apply(&run.cluster, &run.applyset_id, &revision.manifests, true)
                        .await?;
                    let workload = Workload {
                        namespace: revision.namespace.clone(),
                        name: crate::render::context::resource_name(&agent),
                        agent: Some(agent.clone()),
                    };
                    // A rollback must not be cut short by the Ctrl-C that asked for it.
                    let verdict = gate::agent(
                        &run.cluster,
                        &run.fleet,
                        &workload,
                        run.strategy.timeout,
                        Duration::ZERO,
                        run.reporter,
                        &Stop::new(),
                    )
                    .await
                    .unwrap_or_else(|e| Verdict::Failed(format!("{e:#}")));
                    let record = history::Record {
                        fleet: &run.fleet,
                        agent: &agent,
                        team: revision.team.as_deref(),
                        namespace: &revision.namespace,
                        manifests: revision.manifests.clone(),
                        cause: Cause::Rollback,
                        gate: if verdict == Verdict::Passed {
                            Gate::Passed
                        } else {
                            Gate::Failed
                        },
                    };
                    let mine: Vec<Revision> = history
                        .iter()
                        .filter(|r| r.agent == agent)
                        .cloned()
                        .collect();
                    history::record(&run.cluster, record, &mine, run.history_max)
                        .await
                        .map_err(|e| format!("{e:#}"))?;
                    match verdict {
                        Verdict::Passed => Ok(()),
                        Verdict::Failed(why) => Err(why),
                        Verdict::Stopped => Err("stopped".into()),
                    }
                }
                .await;
                (agent, result)
            }
        })
        .buffer_unordered(run.strategy.max_parallel)
        .collect()
        .await;
    let mut all_ok = true;
    {
        let mut outcomes = run.outcomes.lock().await;
        for (agent, result) in results {
            match result {
                Ok(()) => {
                    run.reporter.agent(&agent, "rolled back");
                    outcomes.insert(agent, Outcome::RolledBack);
                }
                Err(why) => {
                    all_ok = false;
                    run.reporter
                        .agent(&agent, &format!("ROLLBACK FAILED: {why}"));
                    outcomes.insert(agent, Outcome::RollbackFailed(why));
                }
            }
        }
    }
    let mut state = run.state.lock().await;
    state.phase = if all_ok { phase } else { Phase::Failed };
    state.reason = Some(message.to_string());
    state::save(&run.cluster, &run.fleet_namespace, &run.fleet, &state).await?;
    let phase = state.phase;
    drop(state);
    let message = if all_ok {
        message.to_string()
    } else {
        format!("{message}; but some rollbacks failed: `rollout --abort` tries again")
    };
    Ok(report(run, phase, message).await)
}

async fn report(run: &Run<'_>, phase: Phase, message: String) -> Report {
    let state = run.state.lock().await;
    let outcomes = run.outcomes.lock().await;
    let agents = state
        .groups
        .iter()
        .enumerate()
        .flat_map(|(group, agents)| agents.iter().map(move |a| (group, a)))
        .map(|(group, agent)| AgentReport {
            agent: agent.clone(),
            group,
            outcome: outcomes.get(agent).cloned().unwrap_or_else(|| {
                if state.done.contains(agent) {
                    Outcome::Updated
                } else {
                    Outcome::NotStarted
                }
            }),
        })
        .collect();
    Report {
        fleet: run.fleet.clone(),
        target: state.target.clone(),
        phase,
        groups: state.groups.clone(),
        agents,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_replaced_whatever_the_reference_looks_like() {
        assert_eq!(
            with_tag("ghcr.io/openclaw/openclaw:2026.4.14", "2026.5.1"),
            "ghcr.io/openclaw/openclaw:2026.5.1"
        );
        assert_eq!(
            with_tag("localhost:5000/openclaw", "v2"),
            "localhost:5000/openclaw:v2"
        );
        assert_eq!(
            with_tag("localhost:5000/openclaw:v1", "v2"),
            "localhost:5000/openclaw:v2"
        );
        assert_eq!(with_tag("img@sha256:abc", "v2"), "img:v2");
    }
}
