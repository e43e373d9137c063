//! `rollout`: move agents to a new image tag canary first, then in waves, each agent
//! through its health gate; on a failed gate roll back every agent this rollout touched
//! (config and image together). State lives in the cluster under the fleet Lease, so
//! an interrupted or killed rollout is resumed (`--resume`) or undone (`--abort`).
//! [`plan`] works out what a run will do from reads alone (the command shows it and
//! asks); [`execute`] then does it under the Lease, refusing if the cluster moved on.

mod idle;
pub mod outcome;
pub mod router;
pub mod state;
pub mod strategy;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::bail;
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use serde::Serialize;
use tokio::sync::Mutex;

pub use self::outcome::{Outcome, SUSPENDED, Skip};
use self::state::{Phase, State};
use self::strategy::{Canary, Strategy};
use super::agents::{self, AgentObjects};
use super::planning;
use crate::cluster::gate::{self, Verdict};
use crate::cluster::history::{self, Cause, Gate, Revision};
use crate::cluster::wait::{Progress, Workload};
use crate::cluster::{Cluster, applyset, lease};
use crate::error::ExitStatus;
use crate::interrupt::Stop;
use crate::render::{self, Filter};

/// What the command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
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
    /// Move images without taking snapshots first (`ops::snapshot`).
    pub no_snapshot: bool,
}

pub struct Request<'a> {
    pub planning: planning::Request<'a>,
    pub tag: Option<String>,
    pub mode: Mode,
    pub overrides: Overrides,
    pub history_max: usize,
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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub fleet: String,
    pub target: String,
    pub phase: Phase,
    pub groups: Vec<Vec<String>>,
    pub agents: Vec<AgentReport>,
    /// Agents left alone because they are suspended, and idle agents, whose template
    /// moves without a gate (none: the field is left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skip>,
    /// The snapshots taken before images moved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<super::snapshot::BackupReport>,
    /// The router's step, when it moved (first, before any agent).
    #[serde(default)]
    pub router: Option<router::RouterReport>,
    /// One sentence for people.
    pub message: String,
}

impl Report {
    /// DESIGN §4: 0 ok, 4 failed and rolled back, 5 the rollback failed too, 130 interrupted.
    pub fn exit_status(&self) -> ExitStatus {
        let rollback_failed = self
            .agents
            .iter()
            .map(|a| &a.outcome)
            .chain(self.router.as_ref().map(|r| &r.outcome))
            .any(|o| matches!(o, Outcome::RollbackFailed(_)));
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

/// One agent a rollout moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Move {
    pub agent: String,
    /// Index into [`Plan::groups`]; 0 is the canary when [`Plan::canary`].
    pub group: usize,
    /// The image it runs now (empty when its Deployment is gone).
    pub from: String,
    pub to: String,
    /// Moved and passed in an earlier run of this rollout (`--resume`, `--promote`).
    pub done: bool,
    /// A multi-agent gateway's agents, which move with its pod.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
}

/// An agent `--abort` returns to the revision it had before the rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Return {
    pub agent: String,
    /// The image it runs now (empty when its Deployment is gone).
    pub from: String,
    /// The revision it goes back to; `None` when it is gone from the history.
    pub to: Option<super::rollback::Point>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// What a rollout (or its `--promote`, `--resume`, `--abort`) will do, worked out from
/// the fleet file and the cluster without writing anything.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub fleet: String,
    /// The API server's URL.
    pub cluster: String,
    pub mode: Mode,
    /// The image every moved agent runs afterwards.
    pub target: String,
    /// The phase of the unfinished rollout this run continues or aborts.
    pub phase: Option<Phase>,
    /// Whether the first group is the canary.
    pub canary: bool,
    /// Canary first (when `canary`), then the waves.
    pub groups: Vec<Vec<String>>,
    /// The group the run starts with (where an earlier run of this rollout stopped).
    pub start: usize,
    /// `--canary`: the run stops once the canary passed.
    pub stop_after_canary: bool,
    /// The agents it moves, group by group.
    pub agents: Vec<Move>,
    /// Agents of the fleet file it leaves alone.
    pub skipped: Vec<Skip>,
    /// `--abort`: the agents that go back.
    pub returns: Vec<Return>,
    /// The router's move, first (its image in the file differs from the live one's).
    pub router: Option<router::Step>,
    /// Snapshots taken before any image moves: the agents this run moves that have a
    /// bucket they can write (`ops::snapshot`), unless `--no-snapshot`.
    pub snapshots: Vec<super::snapshot::Backup>,
    /// Agents this run moves that have a bucket but get no snapshot, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsnapshotted: Vec<super::snapshot::Unsnapshotted>,
    pub soak_seconds: f64,
    pub timeout_seconds: f64,
    pub max_parallel: usize,
    pub auto_rollback: bool,
}

impl Plan {
    /// Nothing to move and no rollout record to continue or close.
    pub fn is_noop(&self) -> bool {
        matches!(self.mode, Mode::Full | Mode::CanaryOnly)
            && self.groups.is_empty()
            && self.idle().is_empty()
            && self.router.is_none()
    }

    /// The sentence a run that has nothing to do ends with.
    pub fn noop_message(&self) -> String {
        let suspended = self.suspended().len();
        if suspended == 0 {
            format!("nothing to move: every deployed agent runs {}", self.target)
        } else {
            format!(
                "nothing to move: every deployed agent runs {} or is suspended ({suspended} skipped)",
                self.target
            )
        }
    }

    /// The idle agents whose template moves once every gate passed.
    pub fn idle(&self) -> Vec<Skip> {
        self.skipped.iter().filter(|s| s.idle).cloned().collect()
    }

    /// The agents skipped because they are suspended.
    pub fn suspended(&self) -> Vec<Skip> {
        self.skipped
            .iter()
            .filter(|s| s.suspended)
            .cloned()
            .collect()
    }
}

/// A rollout planned against the live cluster, nothing written yet: [`execute`] carries
/// it out once it is confirmed.
pub struct Planned {
    pub plan: Plan,
    pub cluster: Cluster,
    fleet_namespace: String,
    /// The namespaces the fleet renders into: where its history is read.
    namespaces: Vec<String>,
    applyset_id: String,
    strategy: Strategy,
    /// The agents' objects at the target image.
    agents: BTreeMap<String, AgentObjects>,
    /// The rollout record as it was read for the plan; a run refuses to go on when it
    /// has changed since (another run came in between).
    record: Option<State>,
    history_max: usize,
}

/// Everything a run works with.
struct Run<'r> {
    cluster: Cluster,
    fleet: String,
    fleet_namespace: String,
    /// The namespaces the fleet renders into: where its history is read.
    namespaces: Vec<String>,
    applyset_id: String,
    strategy: Strategy,
    /// The agents' objects at the target image.
    agents: BTreeMap<String, AgentObjects>,
    history_max: usize,
    reporter: &'r dyn Reporter,
    stop: &'r Stop,
    state: Mutex<State>,
    outcomes: Mutex<BTreeMap<String, Outcome>>,
    /// What became of the idle agents' templates (set once every gate passed).
    idle: Mutex<Vec<Skip>>,
    /// The snapshots taken before the run moved anything.
    snapshots: Vec<super::snapshot::BackupReport>,
}

/// Plans, then runs a rollout without asking (for callers that confirmed already).
pub async fn rollout(
    request: Request<'_>,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> anyhow::Result<Report> {
    execute(plan(request).await?, reporter, stop).await
}

/// Works out what a rollout would do: reads the fleet file, the rollout record, the
/// agents' live images (and for `--abort` the revision history). Writes nothing and
/// takes no Lease; bad input and a rollout in the wrong phase fail here.
pub async fn plan(request: Request<'_>) -> anyhow::Result<Planned> {
    let (loaded, fleet) = super::load(request.planning.fleet)?;
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
    // Agents made on request (self-service claims) roll out with the others.
    let mut fleet = super::self_service::with_claims(&cluster, &loaded, fleet).await?;
    let record = state::load(&cluster, &fleet.namespace, &fleet.name).await?;
    let start = Start::resolve(request.mode, &fleet.name, record.clone())?;
    // A resumed, promoted or aborted rollout keeps its own target.
    let target = match (start.record(), &request.tag) {
        (Some(s), _) => s.target.clone(),
        (None, Some(tag)) => with_tag(&fleet.image, tag),
        (None, None) => fleet.image.clone(),
    };
    fleet.image = target.clone();
    let manifests = render::render(&fleet, &templates, &Filter::default())?;
    let agents = agents::by_agent(&manifests);
    let live = live_images(&cluster, &fleet.name, &fleet.namespace).await?;
    let image = |agent: &str| live.images.get(agent).cloned().unwrap_or_default();

    let mut plan = Plan {
        fleet: fleet.name.clone(),
        cluster: cluster.url.clone(),
        mode: request.mode,
        target: target.clone(),
        phase: start.record().map(|s| s.phase),
        canary: false,
        groups: Vec::new(),
        start: 0,
        stop_after_canary: false,
        agents: Vec::new(),
        skipped: Vec::new(),
        returns: Vec::new(),
        router: None,
        snapshots: Vec::new(),
        unsnapshotted: Vec::new(),
        soak_seconds: strategy.soak.as_secs_f64(),
        timeout_seconds: strategy.timeout.as_secs_f64(),
        max_parallel: strategy.max_parallel,
        auto_rollback: strategy.auto_rollback,
    };
    match &start {
        Start::Fresh => {
            let id = applyset::id(&fleet.name, &fleet.namespace);
            let live_router = router::live(&cluster, &fleet, &id).await?;
            plan.router = router::plan(&fleet, &manifests, live_router.as_ref());
            let moving = moving(&agents, &live, &target);
            plan.canary = strategy.has_canary(&moving);
            plan.groups = strategy.groups(&moving);
            plan.skipped = agents
                .keys()
                .filter(|agent| !moving.contains(agent))
                .map(|agent| {
                    if live.suspended.contains(agent) {
                        return Skip::suspended(agent);
                    }
                    if live.idle.contains(agent) && image(agent) != target {
                        return Skip::idle(agent, idle::PLANNED);
                    }
                    Skip {
                        agent: agent.clone(),
                        reason: if live.images.contains_key(agent) {
                            "already runs the target".into()
                        } else {
                            "not deployed: `clawctl apply` creates it".into()
                        },
                        suspended: false,
                        idle: false,
                    }
                })
                .collect();
        }
        Start::Resume(s) | Start::Promote(s) => {
            plan.canary = s.canary;
            plan.groups = s.groups.clone();
            plan.start = s.group;
        }
        Start::Abort(s) => {
            let namespaces = super::history::fleet_namespaces(&fleet);
            let history =
                history::list(&cluster, &fleet.name, &fleet.namespace, &namespaces, None).await?;
            plan.returns = s
                .touched
                .iter()
                .map(|agent| {
                    let name = s.previous.get(agent);
                    let revision = name.and_then(|n| {
                        history
                            .iter()
                            .find(|r| &r.name == n && r.agent == *agent && r.refused.is_none())
                    });
                    Return {
                        agent: agent.clone(),
                        from: image(agent),
                        to: revision.map(super::rollback::Point::of),
                        problem: match (name, revision) {
                            (None, _) => Some("no previous revision was recorded".into()),
                            (Some(name), None) => Some(format!(
                                "its previous revision {name} is gone from the history"
                            )),
                            _ => None,
                        },
                    }
                })
                .collect();
        }
    }
    plan.stop_after_canary =
        request.mode == Mode::CanaryOnly && plan.canary && plan.groups.len() > 1;
    let done: &[String] = match &start {
        Start::Resume(s) | Start::Promote(s) => &s.done,
        Start::Fresh | Start::Abort(_) => &[],
    };
    plan.agents = plan
        .groups
        .iter()
        .enumerate()
        .flat_map(|(group, agents)| agents.iter().map(move |a| (group, a)))
        .map(|(group, agent)| Move {
            agent: agent.clone(),
            group,
            from: image(agent),
            to: target.clone(),
            done: done.contains(agent),
            hosts: fleet
                .agents
                .iter()
                .find(|a| &a.name == agent)
                .map(|a| a.hosted.iter().map(|h| h.name.clone()).collect())
                .unwrap_or_default(),
        })
        .collect();
    if !o.no_snapshot {
        let moved: Vec<(&str, &str)> = plan
            .agents
            .iter()
            .filter(|m| !m.done && m.group >= plan.start)
            .filter(|m| !plan.stop_after_canary || m.group == 0)
            .filter_map(|m| Some((agents.get(&m.agent)?.namespace.as_str(), m.agent.as_str())))
            .collect();
        let (snapshots, skipped) = super::snapshot::before_image_change(
            &live.deployments,
            &moved,
            crate::snapshot::Reason::PreRollout,
            strategy.timeout,
        );
        plan.snapshots = snapshots;
        plan.unsnapshotted = skipped;
    }
    Ok(Planned {
        plan,
        applyset_id: applyset::id(&fleet.name, &fleet.namespace),
        fleet_namespace: fleet.namespace.clone(),
        namespaces: super::history::fleet_namespaces(&fleet),
        cluster,
        strategy,
        agents,
        record,
        history_max: request.history_max,
    })
}

/// Where a run starts, resolved once from the mode asked for and the rollout record:
/// a fresh rollout (`Full`, `--canary`), or the unfinished one it resumes, promotes or
/// aborts. Every other pair is refused here, with what to do instead.
#[derive(Debug, Clone, PartialEq)]
enum Start {
    Fresh,
    Resume(State),
    Promote(State),
    Abort(State),
}

impl Start {
    /// Pure: the record as read, the mode as asked.
    fn resolve(mode: Mode, fleet: &str, record: Option<State>) -> anyhow::Result<Start> {
        let unfinished = record.filter(|s| !s.phase.finished());
        match (mode, unfinished) {
            (Mode::Full | Mode::CanaryOnly, None) => Ok(Start::Fresh),
            (Mode::Abort, Some(s)) => Ok(Start::Abort(s)),
            (Mode::Resume, Some(s)) if matches!(s.phase, Phase::Running | Phase::Interrupted) => {
                Ok(Start::Resume(s))
            }
            (Mode::Promote, Some(s)) if s.phase == Phase::CanaryPassed => Ok(Start::Promote(s)),
            (Mode::Resume | Mode::Promote, Some(s)) => bail!(
                "the rollout of fleet {fleet:?} to {} is {:?}: {}",
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
                bail!("there is no unfinished rollout of fleet {fleet:?} to continue or abort")
            }
            (Mode::Full | Mode::CanaryOnly, Some(s)) => bail!(
                "a rollout of fleet {fleet:?} to {} is unfinished ({:?}, by {}): finish it with `rollout --resume`{} or undo it with `rollout --abort` first",
                s.target,
                s.phase,
                s.holder,
                if s.phase == Phase::CanaryPassed {
                    " / `--promote`"
                } else {
                    ""
                }
            ),
        }
    }

    /// The unfinished rollout this run continues or aborts.
    fn record(&self) -> Option<&State> {
        match self {
            Start::Fresh => None,
            Start::Resume(s) | Start::Promote(s) | Start::Abort(s) => Some(s),
        }
    }
}

/// The agents to move through the gates: deployed, neither suspended (see [`SUSPENDED`])
/// nor idle (see `idle`), with another image than `target`. Agents not deployed yet are
/// `apply`'s to create.
fn moving(agents: &BTreeMap<String, AgentObjects>, live: &Live, target: &str) -> Vec<String> {
    agents
        .keys()
        .filter(|agent| !live.suspended.contains(*agent) && !live.idle.contains(*agent))
        .filter(|agent| live.images.get(*agent).is_some_and(|image| image != target))
        .cloned()
        .collect()
}

/// Carries out a plan under the fleet Lease. It first reads the rollout record (and for
/// a new rollout the live images) again, and refuses, changing nothing, when they no
/// longer match what the plan was made from.
pub async fn execute(
    planned: Planned,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> anyhow::Result<Report> {
    let Planned {
        plan,
        cluster,
        fleet_namespace,
        namespaces,
        applyset_id,
        strategy,
        agents,
        record,
        history_max,
    } = planned;
    if plan.is_noop() {
        return Ok(Report {
            message: plan.noop_message(),
            skipped: plan.suspended(),
            fleet: plan.fleet,
            target: plan.target,
            phase: Phase::Done,
            groups: Vec::new(),
            agents: Vec::new(),
            snapshots: Vec::new(),
            router: None,
        });
    }
    let lock = lease::acquire(&cluster, &fleet_namespace, &plan.fleet, "rollout", reporter).await?;
    // Whatever happens from here on, the lock is released at the end.
    let result = async {
        let stale = |what: &str| {
            anyhow::anyhow!(
                "{what} changed on the cluster since the plan was made (another run?); nothing \
                 was changed: run the command again to see the new plan"
            )
        };
        let now = state::load(&cluster, &fleet_namespace, &plan.fleet).await?;
        if now != record {
            return Err(stale(&format!(
                "the rollout record of fleet {:?}",
                plan.fleet
            )));
        }
        if matches!(plan.mode, Mode::Full | Mode::CanaryOnly) {
            let live = live_images(&cluster, &plan.fleet, &fleet_namespace).await?;
            if strategy.groups(&moving(&agents, &live, &plan.target)) != plan.groups {
                return Err(stale("the agents' images"));
            }
        }
        // Snapshots before any image moves; one that fails stops the run here, before
        // anything changed.
        let timeout = strategy.timeout;
        if !plan.snapshots.is_empty() {
            reporter.note(&format!(
                "taking {} snapshot(s) before moving images",
                plan.snapshots.len()
            ));
        }
        let snapshots = super::snapshot::take(&cluster, &plan.snapshots, timeout, reporter).await;
        if let Some(failed) = snapshots.iter().find(|b| b.result != "taken") {
            bail!(
                "the snapshot of agent {:?} before the rollout failed: {}; nothing was moved \
                 (fix it, or roll out without snapshots: --no-snapshot)",
                failed.agent,
                failed.why.as_deref().unwrap_or("no reason given")
            );
        }
        // The router first: every message passes through it. One that fails its gate is
        // put back, and no agent moves.
        let router = match &plan.router {
            Some(step) => {
                reporter.note(&format!(
                    "moving the router {}/{} to {}",
                    step.namespace, step.name, step.to
                ));
                let moved = router::run(
                    &cluster,
                    &applyset_id,
                    &super::planning::selector(&plan.fleet),
                    step,
                    timeout,
                    strategy.auto_rollback,
                    reporter,
                )
                .await;
                if moved.outcome != Outcome::Updated {
                    let (phase, what) = match &moved.outcome {
                        Outcome::RolledBack => (Phase::RolledBack, "and went back"),
                        Outcome::RollbackFailed(_) => (Phase::Failed, "and did not go back"),
                        _ => (Phase::Failed, "and was left as it is"),
                    };
                    return Ok(Report {
                        fleet: plan.fleet.clone(),
                        target: plan.target.clone(),
                        phase,
                        groups: Vec::new(),
                        agents: Vec::new(),
                        skipped: plan.suspended(),
                        message: format!(
                            "the router failed its gate on {} ({}) {what}; no agent was moved",
                            moved.to,
                            moved.failure.as_deref().unwrap_or("no reason given")
                        ),
                        router: Some(moved),
                        snapshots,
                    });
                }
                Some(moved)
            }
            None => None,
        };
        if router.is_some() && plan.groups.is_empty() {
            // The router moved and no agent has to.
            return Ok(Report {
                fleet: plan.fleet.clone(),
                target: plan.target.clone(),
                phase: Phase::Done,
                groups: Vec::new(),
                agents: Vec::new(),
                skipped: plan.suspended(),
                message: format!(
                    "the router moved; {}",
                    plan.noop_message().trim_start_matches("nothing to move: ")
                ),
                router,
                snapshots,
            });
        }
        let run = Run {
            cluster,
            fleet: plan.fleet.clone(),
            fleet_namespace,
            namespaces,
            applyset_id,
            strategy,
            agents,
            history_max,
            reporter,
            stop,
            state: Mutex::new(State {
                target: plan.target.clone(),
                phase: Phase::Running,
                groups: Vec::new(),
                canary: false,
                group: 0,
                done: Vec::new(),
                touched: Vec::new(),
                previous: BTreeMap::new(),
                suspended: Vec::new(),
                idle: Vec::new(),
                reason: None,
                holder: lease::identity("rollout"),
            }),
            outcomes: Mutex::new(BTreeMap::new()),
            idle: Mutex::new(Vec::new()),
            snapshots,
        };
        let mut report = drive(&run, &plan, now).await?;
        report.router = router;
        Ok(report)
    }
    .await;
    lock.release().await;
    result
}

/// Sets up the run's state for the plan's mode, then moves the agents or (`--abort`)
/// rolls back what the rollout touched.
async fn drive(run: &Run<'_>, plan: &Plan, record: Option<State>) -> anyhow::Result<Report> {
    // Resolved when planning too, and the record has not changed since; resolved again
    // so this function stands on its own.
    match Start::resolve(plan.mode, &run.fleet, record)? {
        Start::Abort(s) => {
            *run.state.lock().await = State {
                holder: lease::identity("rollout"),
                ..s
            };
            return roll_back_all(
                run,
                Phase::Aborted,
                "aborted: every agent the rollout touched went back",
            )
            .await;
        }
        Start::Resume(s) | Start::Promote(s) => {
            *run.state.lock().await = State {
                phase: Phase::Running,
                holder: lease::identity("rollout"),
                ..s
            };
        }
        Start::Fresh => {
            let mut state = run.state.lock().await;
            state.canary = plan.canary;
            state.groups = plan.groups.clone();
            state.suspended = plan.suspended().into_iter().map(|s| s.agent).collect();
            state.idle = plan.idle().into_iter().map(|s| s.agent).collect();
            state::save(&run.cluster, &run.fleet_namespace, &run.fleet, &state).await?;
        }
    }
    execute_groups(run, plan.mode).await
}

/// The deployed agents as a rollout sees them.
struct Live {
    /// Each deployed agent's gateway image.
    images: BTreeMap<String, String>,
    /// The agents suspended (`cluster::suspend::suspended`), idle ones not included.
    suspended: std::collections::BTreeSet<String>,
    /// The agents asleep (`cluster::idle::idle_since`).
    idle: std::collections::BTreeSet<String>,
    /// The Deployments, by (namespace, agent).
    deployments: BTreeMap<(String, String), Deployment>,
}

/// Each deployed agent's gateway image and whether it is suspended, from one list of the
/// fleet's Deployments.
async fn live_images(
    cluster: &Cluster,
    fleet: &str,
    fleet_namespace: &str,
) -> anyhow::Result<Live> {
    let deployments = agents::live_deployments(cluster, fleet, fleet_namespace).await?;
    let idle: std::collections::BTreeSet<String> = deployments
        .iter()
        .filter(|(_, d)| crate::cluster::idle::idle_since(d).is_some())
        .map(|((_, agent), _)| agent.clone())
        .collect();
    let suspended = deployments
        .iter()
        .filter(|(_, d)| crate::cluster::suspend::suspended(d).is_some())
        .map(|((_, agent), _)| agent.clone())
        .filter(|agent| !idle.contains(agent))
        .collect();
    let images = deployments
        .iter()
        .filter_map(|((_, agent), d)| Some((agent.clone(), agents::image(d)?)))
        .collect();
    Ok(Live {
        images,
        suspended,
        idle,
        deployments,
    })
}

/// Works through the groups from where the state says, until done, a failed gate, an
/// interruption, or (with `--canary`) the canary passed.
async fn execute_groups(run: &Run<'_>, mode: Mode) -> anyhow::Result<Report> {
    let history = history::list(
        &run.cluster,
        &run.fleet,
        &run.fleet_namespace,
        &run.namespaces,
        None,
    )
    .await?;
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
            drop(state);
            return finish(run, Phase::CanaryPassed, None, "canary passed: `rollout --promote` continues with the waves, `rollout --abort` undoes it".into()).await;
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
        let message = format!(
            "health gate failed ({why}); automatic rollback is off: `rollout --abort` rolls back"
        );
        return finish(run, Phase::Failed, Some(why), message).await;
    }
    let (done, target) = {
        let state = run.state.lock().await;
        (state.done.len(), state.target.clone())
    };
    if run.stop.is_stopped() {
        let message = format!(
            "interrupted after {done} agent(s): no new agent was started and the state is recorded; \
             `clawctl rollout FLEET --resume` continues, `clawctl rollout FLEET --abort` rolls back what it touched"
        );
        return finish(run, Phase::Interrupted, Some("interrupted".into()), message).await;
    }
    // Every gate passed: the idle agents' templates follow (they start on it when woken).
    let idle = run.state.lock().await.idle.clone();
    let moved = move_idle(run, &idle).await;
    let idle_moved = moved.iter().filter(|s| s.reason == idle::MOVED).count();
    *run.idle.lock().await = moved;
    let mut message = format!("done: {done} agent(s) run {target}");
    if idle_moved > 0 {
        message.push_str(&format!(
            "; {idle_moved} idle agent(s) start on it at their next message"
        ));
    }
    finish(run, Phase::Done, None, message).await
}

/// Moves the templates of the `idle` agents still asleep (see `idle`), saying so per agent.
async fn move_idle(run: &Run<'_>, idle: &[String]) -> Vec<Skip> {
    if idle.is_empty() {
        return Vec::new();
    }
    let asleep = match live_images(&run.cluster, &run.fleet, &run.fleet_namespace).await {
        Ok(live) => live.idle,
        Err(e) => {
            let why = format!("idle, not moved: cannot read the Deployments ({e:#})");
            return idle.iter().map(|a| Skip::idle(a, &why)).collect();
        }
    };
    let target = idle::Target {
        cluster: &run.cluster,
        fleet: &run.fleet,
        fleet_namespace: &run.fleet_namespace,
        namespaces: &run.namespaces,
        applyset_id: &run.applyset_id,
        agents: &run.agents,
        history_max: run.history_max,
        concurrency: run.strategy.max_parallel,
    };
    let moved = idle::move_templates(&target, idle, &asleep).await;
    for skip in &moved {
        if skip.reason == idle::MOVED {
            run.reporter.agent(&skip.agent, "template moved (idle)");
        }
    }
    moved
}

/// Ends the run in `phase`: the record gets the phase and `reason`, the report `message`.
async fn finish(
    run: &Run<'_>,
    phase: Phase,
    reason: Option<String>,
    message: String,
) -> anyhow::Result<Report> {
    {
        let mut state = run.state.lock().await;
        state.phase = phase;
        state.reason = reason;
        state::save(&run.cluster, &run.fleet_namespace, &run.fleet, &state).await?;
    }
    Ok(report(run, phase, message).await)
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
        fleet_namespace: &run.fleet_namespace,
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
    let history = history::list(
        &run.cluster,
        &run.fleet,
        &run.fleet_namespace,
        &run.namespaces,
        None,
    )
    .await?;
    let (touched, previous) = {
        let state = run.state.lock().await;
        (state.touched.clone(), state.previous.clone())
    };
    let context = crate::ops::restore::Context {
        cluster: &run.cluster,
        fleet: &run.fleet,
        fleet_namespace: &run.fleet_namespace,
        applyset_id: &run.applyset_id,
        existing: &history,
        history_max: run.history_max,
        progress: run.reporter,
    };
    // A rollback must not be cut short by the Ctrl-C that asked for it.
    let unstoppable = Stop::new();
    let results: Vec<(String, Result<(), String>)> = futures::stream::iter(touched)
        .map(|agent| {
            let (history, previous, context, unstoppable) =
                (&history, &previous, &context, &unstoppable);
            async move {
                let result = async {
                    let name = previous
                        .get(&agent)
                        .ok_or("no previous revision was recorded")?;
                    let namespace = run.agents.get(&agent).map(|o| o.namespace.as_str());
                    let revision = history
                        .iter()
                        .find(|r| {
                            &r.name == name
                                && r.agent == agent
                                && Some(r.namespace.as_str()) == namespace
                        })
                        .ok_or_else(|| {
                            format!("its previous revision {name} is gone from the history")
                        })?;
                    run.reporter.agent(
                        &agent,
                        &format!("rolling back to revision {}", revision.number),
                    );
                    let restored = crate::ops::restore::restore(
                        context,
                        revision,
                        Some((run.strategy.timeout, unstoppable)),
                    )
                    .await?;
                    restored.recorded?;
                    match restored.verdict {
                        Some(Verdict::Passed) => Ok(()),
                        Some(Verdict::Failed(why)) => Err(why),
                        Some(Verdict::Stopped) | None => Err("stopped".into()),
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
    let (phase, said) = if all_ok {
        (phase, message.to_string())
    } else {
        (
            Phase::Failed,
            format!("{message}; but some rollbacks failed: `rollout --abort` tries again"),
        )
    };
    finish(run, phase, Some(message.to_string()), said).await
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
    let moved = run.idle.lock().await;
    let idle = state.idle.iter().map(|agent| {
        moved
            .iter()
            .find(|s| &s.agent == agent)
            .cloned()
            .unwrap_or_else(|| Skip::idle(agent, idle::PLANNED))
    });
    Report {
        skipped: state
            .suspended
            .iter()
            .map(|agent| Skip::suspended(agent))
            .chain(idle)
            .collect(),
        fleet: run.fleet.clone(),
        target: state.target.clone(),
        phase,
        groups: state.groups.clone(),
        agents,
        snapshots: run.snapshots.clone(),
        router: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(phase: Phase) -> State {
        State {
            target: "img:2".into(),
            phase,
            groups: vec![vec!["a".into()]],
            canary: false,
            group: 0,
            done: Vec::new(),
            touched: Vec::new(),
            previous: BTreeMap::new(),
            suspended: Vec::new(),
            idle: Vec::new(),
            reason: None,
            holder: "someone".into(),
        }
    }

    #[test]
    fn each_mode_starts_from_the_record_it_needs_or_says_what_to_do() {
        let start = |mode, phase: Option<Phase>| Start::resolve(mode, "demo", phase.map(record));
        // A finished rollout is no rollout: a fresh one may start.
        for done in [
            None,
            Some(Phase::Done),
            Some(Phase::RolledBack),
            Some(Phase::Aborted),
        ] {
            assert_eq!(start(Mode::Full, done).ok(), Some(Start::Fresh));
            assert_eq!(start(Mode::CanaryOnly, done).ok(), Some(Start::Fresh));
            let err = start(Mode::Resume, done).expect_err("nothing to resume");
            assert!(err.to_string().contains("no unfinished rollout"), "{err}");
        }
        for open in [Phase::Running, Phase::Interrupted] {
            assert!(matches!(
                start(Mode::Resume, Some(open)),
                Ok(Start::Resume(_))
            ));
            let err = start(Mode::Promote, Some(open)).expect_err("not promotable");
            assert!(
                err.to_string().contains("`rollout --resume` continues it"),
                "{err}"
            );
        }
        assert!(matches!(
            start(Mode::Promote, Some(Phase::CanaryPassed)),
            Ok(Start::Promote(_))
        ));
        let err = start(Mode::Resume, Some(Phase::CanaryPassed)).expect_err("promote, not resume");
        assert!(
            err.to_string().contains("`rollout --promote` continues it"),
            "{err}"
        );
        for open in [
            Phase::Running,
            Phase::Interrupted,
            Phase::CanaryPassed,
            Phase::Failed,
        ] {
            assert!(matches!(
                start(Mode::Abort, Some(open)),
                Ok(Start::Abort(_))
            ));
            let err = start(Mode::Full, Some(open)).expect_err("unfinished");
            assert!(err.to_string().contains("is unfinished"), "{err}");
        }
        let err = start(Mode::Resume, Some(Phase::Failed)).expect_err("failed: abort");
        assert!(
            err.to_string().contains("`rollout --abort` rolls back"),
            "{err}"
        );
    }

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
