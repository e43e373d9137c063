//! `rollback`: returns agents to a recorded revision by applying that revision's
//! manifests as a *new* revision with cause `rollback` (DESIGN §4, helm's
//! `action/rollback.go`): config and image go back together, history stays append-only.
//!
//! Decisions the issue leaves open:
//! - The fleet comes from a file (its name and namespace; the file is not rendered, so
//!   what it says now never mixes into a rollback) or from `--fleet NAME`, whose
//!   namespace is where its ApplySet parent ConfigMap lives.
//! - With a file, every `--agent` must be one of its agents (exit 2, did-you-mean).
//!   Without one, a name with no recorded history fails that agent. `--all` means every
//!   agent with recorded history: an agent never recorded has nothing to return to.
//! - "Current" is the agent's newest recorded revision. The default target is the
//!   newest earlier revision that passed its health gate and differs (by digest) from
//!   the current one; a revision that failed its gate is never a default target.
//!   `--to-revision N` is taken as asked, even a revision whose gate failed or the
//!   current one (re-applying it repairs drift): the user named it.
//! - [`plan`] works out each agent's current revision and target from reads alone, so
//!   the command can show it and ask; [`execute`] then does it. Agents without a target
//!   fail with what was looked at; the others still go. The fleet Lease is taken only
//!   when at least one agent will be applied, and under it the history is read again:
//!   an agent with a newer revision than the plan saw stops the run before any write.
//! - Objects are applied with force (see `restore`), one agent's objects in order,
//!   never a PersistentVolumeClaim: revisions do not hold one and volumes are not touched.
//! - A revision is recorded only once all of the agent's objects applied. A failed
//!   apply records nothing: the live state is then part old, part new, which no revision
//!   describes, and running the same rollback again retries the same target.
//! - Without `--no-wait`, each agent is gated (readiness, no soak) within the timeout
//!   and its new revision carries the verdict; with it, the gate is `unknown`.
//! - Up to `parallel` agents at a time. Ctrl-C or SIGTERM starts no new agent, stops
//!   the gates under way (those agents are recorded with gate `unknown`), and the
//!   report says interrupted.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use serde::Serialize;

use super::history::Source;
use crate::cluster::gate::Verdict;
use crate::cluster::history::{self, Gate, Revision};
use crate::cluster::wait;
use crate::cluster::{Cluster, Target, applyset, lease};
use crate::interrupt::Stop;

/// Agents rolled back at once unless told otherwise.
pub const DEFAULT_PARALLEL: usize = 4;

/// How long a snapshot before a rollback may take.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Which agents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Agents {
    Named(Vec<String>),
    /// Every agent with recorded history.
    All,
}

/// How to roll back.
#[derive(Debug, Clone)]
pub struct Options {
    /// Return to this revision number instead of the default target.
    pub to_revision: Option<i64>,
    /// Gate each agent within this time (`None`: `--no-wait`).
    pub wait: Option<Duration>,
    /// Revisions kept per agent.
    pub history_max: usize,
    /// Agents rolled back at once.
    pub parallel: usize,
    /// Snapshot each agent whose image changes to its bucket first (`ops::snapshot`).
    pub snapshot: bool,
}

/// What `rollback` is asked.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub source: Source<'a>,
    pub target: Target,
    pub agents: Agents,
    pub options: Options,
}

/// A revision as the report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Point {
    pub revision: i64,
    pub image: String,
}

impl Point {
    pub fn of(revision: &Revision) -> Point {
        Point {
            revision: revision.number,
            image: revision.image.clone(),
        }
    }
}

/// How one agent ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Rolled back and ready.
    Ready,
    /// Rolled back, readiness not checked (`--no-wait`).
    Applied,
    /// No target, or the apply, the gate or the recording failed (see `reason`).
    Failed,
    /// Not begun: interrupted, or the fleet lock was lost first.
    NotStarted,
    /// Applied, then interrupted while waiting for readiness.
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ready => "ready",
            Outcome::Applied => "applied",
            Outcome::Failed => "failed",
            Outcome::NotStarted => "not started",
            Outcome::Interrupted => "interrupted",
        }
    }
}

/// One agent's line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentReport {
    pub agent: String,
    pub namespace: Option<String>,
    /// The revision that was current.
    pub from: Option<Point>,
    /// The revision returned to.
    pub to: Option<Point>,
    /// The number of the revision this rollback recorded.
    pub recorded: Option<i64>,
    pub result: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The result of `rollback`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub fleet: String,
    pub agents: Vec<AgentReport>,
    pub interrupted: bool,
    /// The snapshots taken before any image moved back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<super::snapshot::BackupReport>,
}

impl Report {
    /// Every agent rolled back (and ready, unless `--no-wait`).
    pub fn succeeded(&self) -> bool {
        !self.interrupted
            && self
                .agents
                .iter()
                .all(|a| matches!(a.result, Outcome::Ready | Outcome::Applied))
    }
}

/// What rollback shows while it works; output implements it.
pub trait Reporter: wait::Progress {
    fn started(&self, agent: &str, from: &Revision, to: &Revision);
    fn finished(&self, agent: &AgentReport);
}

/// The current revision of an agent and the one to return to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice<'a> {
    pub current: &'a Revision,
    pub target: &'a Revision,
}

/// Chooses the target among one agent's revisions (any order): `to_revision` when
/// given, else the newest revision older than the current (newest) one that passed its
/// gate and whose configuration differs from the current one. `Err` says what was
/// looked at.
pub fn choose<'a>(
    agent: &str,
    revisions: &'a [Revision],
    to_revision: Option<i64>,
) -> Result<Choice<'a>, String> {
    let mut namespaces: Vec<&str> = revisions.iter().map(|r| r.namespace.as_str()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    if namespaces.len() > 1 {
        return Err(format!(
            "revisions of agent {agent:?} lie in several namespaces ({}): give the fleet file, \
             which says which namespace is the agent's",
            namespaces.join(", ")
        ));
    }
    let refused: Vec<&Revision> = revisions.iter().filter(|r| r.refused.is_some()).collect();
    // A revision that fails `history::check` takes no part: not as the current one (a
    // planted "newest" must not steer the choice), never as a target.
    let trusted: Vec<&Revision> = revisions.iter().filter(|r| r.refused.is_none()).collect();
    let current = trusted.iter().copied().max_by_key(|r| r.number).ok_or_else(|| {
        match refused.first() {
            Some(r) => format!(
                "agent {agent:?} has no revision clawctl may apply: revision {} ({}) is refused: {}",
                r.number,
                r.name,
                r.refused.as_deref().unwrap_or_default()
            ),
            None => format!("no revisions recorded for agent {agent:?}"),
        }
    })?;
    let mut older: Vec<&Revision> = trusted
        .iter()
        .copied()
        .filter(|r| r.number < current.number)
        .collect();
    older.sort_by_key(|r| std::cmp::Reverse(r.number));
    if let Some(wanted) = to_revision {
        return match revisions.iter().find(|r| r.number == wanted) {
            Some(target) if target.refused.is_some() => Err(format!(
                "revision {wanted} of agent {agent:?} ({} in namespace {}) is refused and is \
                 never applied: {}",
                target.name,
                target.namespace,
                target.refused.as_deref().unwrap_or_default()
            )),
            Some(target) => Ok(Choice { current, target }),
            None => {
                let mut numbers: Vec<i64> = revisions.iter().map(|r| r.number).collect();
                numbers.sort_unstable();
                let numbers: Vec<String> = numbers.iter().map(i64::to_string).collect();
                Err(format!(
                    "agent {agent:?} has no revision {wanted}; recorded: {} (older ones are \
                     dropped beyond --history-max)",
                    numbers.join(", ")
                ))
            }
        };
    }
    // A default target is one clawctl sealed; an unsealed (pre-0.2) revision is taken
    // only when named with --to-revision.
    if let Some(target) = older
        .iter()
        .find(|r| r.gate == Gate::Passed && r.digest != current.digest && r.sealed)
    {
        return Ok(Choice { current, target });
    }
    let looked: Vec<String> = older
        .iter()
        .map(|r| {
            let why = if r.digest == current.digest {
                "same configuration as the current one"
            } else if !r.sealed {
                "recorded before clawctl 0.2, unsealed: take it only by naming it"
            } else {
                match r.gate {
                    Gate::Failed => "failed its health gate",
                    _ => "health gate unknown",
                }
            };
            format!("{} ({why})", r.number)
        })
        .collect();
    let looked = if looked.is_empty() {
        "there is no earlier revision".to_string()
    } else {
        format!("looked at revisions {}", looked.join(", "))
    };
    Err(format!(
        "agent {agent:?} has no earlier revision that passed its health gate and differs from \
         the current revision {}; {looked}; name one with --to-revision",
        current.number
    ))
}

/// One agent's line of a rollback plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub agent: String,
    pub namespace: Option<String>,
    /// Its current (newest recorded) revision.
    pub from: Option<Point>,
    /// The revision it returns to.
    pub to: Option<Point>,
    /// Why it cannot be rolled back; the other agents still go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// What `rollback` will do, worked out from the recorded history without writing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub fleet: String,
    /// The API server's URL.
    pub cluster: String,
    pub agents: Vec<Step>,
    /// Snapshots taken before any image moves: the agents whose image changes that have
    /// a bucket they can write, unless `--no-snapshot`.
    pub snapshots: Vec<super::snapshot::Backup>,
    /// Agents whose image changes that have a bucket but get no snapshot, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsnapshotted: Vec<super::snapshot::Unsnapshotted>,
}

impl Plan {
    /// No agent can be rolled back.
    pub fn is_noop(&self) -> bool {
        self.agents.iter().all(|a| a.problem.is_some())
    }
}

/// A rollback planned against the live cluster, nothing written yet: [`execute`] carries
/// it out once it is confirmed.
pub struct Planned {
    pub plan: Plan,
    pub cluster: Cluster,
    /// The fleet namespace (lock, rollout record).
    namespace: String,
    /// Where the fleet's history is read.
    namespaces: Vec<String>,
    options: Options,
    choices: Vec<(String, Chosen)>,
}

/// An agent's current revision and the one it returns to, or why it has none.
type Chosen = Result<(Revision, Revision), String>;

/// Works out each agent's current revision and the one it returns to. Reads the
/// history and the rollout record; writes nothing and takes no Lease. Fails while a
/// rollout is unfinished.
pub async fn plan(request: &Request<'_>) -> anyhow::Result<Planned> {
    let fleet = request.source.fleet()?;
    if let Agents::Named(names) = &request.agents {
        fleet.check_agents(names.iter().map(String::as_str))?;
    }
    let cluster = Cluster::connect(&request.target).await?;
    let namespace = fleet.find_namespace(&cluster).await?;
    let namespaces = fleet.namespaces(&cluster, &namespace).await?;
    let revisions = history::list(&cluster, &fleet.name, &namespace, &namespaces, None).await?;
    let by_agent = by_agent(&fleet, revisions);
    let wanted: Vec<String> = match &request.agents {
        Agents::All if by_agent.is_empty() => anyhow::bail!(
            "no revisions recorded for fleet {:?}: nothing to roll back to",
            fleet.name
        ),
        Agents::All => by_agent.keys().cloned().collect(),
        Agents::Named(names) => {
            let mut seen = Vec::new();
            for name in names {
                if !seen.contains(name) {
                    seen.push(name.clone());
                }
            }
            seen
        }
    };
    // A rollback re-applies a revision with force, which would take `spec.replicas` back
    // from `clawctl suspend` and start the pod under its annotation; and its health gate
    // needs a pod. So an agent suspended that way is resumed first.
    let suspended = crate::cluster::suspend::suspended_agents(
        &cluster,
        &super::planning::selector(&fleet.name),
        &fleet.name,
        &namespace,
    )
    .await?;
    let empty = Vec::new();
    let known: Vec<&str> = by_agent.keys().map(String::as_str).collect();
    let choices: Vec<(String, Chosen)> = wanted
        .into_iter()
        .map(|agent| {
            let mine = by_agent.get(&agent).unwrap_or(&empty);
            let mut choice = choose(&agent, mine, request.options.to_revision)
                .map(|c| (c.current.clone(), c.target.clone()));
            if mine.is_empty()
                && let Err(why) = &mut choice
            {
                why.push_str(&super::history::hint(&agent, &known));
            }
            if suspended.contains(&agent) && choice.is_ok() {
                choice = Err(
                    "suspended by `clawctl suspend`: `clawctl resume` it first (a rollback \
                     starts its pod and gates on it)"
                        .to_string(),
                );
            }
            (agent, choice)
        })
        .collect();
    let mut plan = Plan {
        fleet: fleet.name.clone(),
        cluster: cluster.url.clone(),
        agents: choices
            .iter()
            .map(|(agent, choice)| match choice {
                Ok((current, target)) => Step {
                    agent: agent.clone(),
                    namespace: Some(target.namespace.clone()),
                    from: Some(Point::of(current)),
                    to: Some(Point::of(target)),
                    problem: None,
                },
                Err(why) => Step {
                    agent: agent.clone(),
                    namespace: None,
                    from: None,
                    to: None,
                    problem: Some(why.clone()),
                },
            })
            .collect(),
        snapshots: Vec::new(),
        unsnapshotted: Vec::new(),
    };
    if !plan.is_noop() {
        refuse_during_rollout(&cluster, &namespace, &fleet.name).await?;
    }
    if request.options.snapshot && !plan.is_noop() {
        let moved: Vec<(&str, &str)> = choices
            .iter()
            .filter_map(|(agent, choice)| {
                let (current, target) = choice.as_ref().ok()?;
                (current.image != target.image)
                    .then_some((target.namespace.as_str(), agent.as_str()))
            })
            .collect();
        let live = super::agents::live_deployments(&cluster, &fleet.name, &namespace).await?;
        let (snapshots, skipped) = super::snapshot::before_image_change(
            &live,
            &moved,
            crate::snapshot::Reason::PreRollback,
            SNAPSHOT_TIMEOUT,
        );
        plan.snapshots = snapshots;
        plan.unsnapshotted = skipped;
    }
    Ok(Planned {
        plan,
        cluster,
        namespace,
        namespaces,
        options: request.options.clone(),
        choices,
    })
}

/// The revisions by agent. With a fleet file, only those in the agent's own namespace
/// count; by fleet name alone, an agent whose revisions lie in several namespaces keeps
/// none (which one is the agent's cannot be told), and `choose` says so.
fn by_agent(
    fleet: &super::history::Fleet,
    revisions: Vec<Revision>,
) -> BTreeMap<String, Vec<Revision>> {
    let mut by_agent: BTreeMap<String, Vec<Revision>> = BTreeMap::new();
    for revision in revisions {
        if let Some(namespace) = fleet.agent_namespaces.get(&revision.agent)
            && *namespace != revision.namespace
        {
            continue;
        }
        by_agent
            .entry(revision.agent.clone())
            .or_default()
            .push(revision);
    }
    by_agent
}

/// A rollback in the middle of a rollout would be undone by its `--resume`: finish or
/// abort the rollout first.
async fn refuse_during_rollout(
    cluster: &Cluster,
    namespace: &str,
    fleet: &str,
) -> anyhow::Result<()> {
    let state = super::rollout::state::load(cluster, namespace, fleet).await?;
    if let Some(rollout) = state.filter(|s| !s.phase.finished()) {
        anyhow::bail!(
            "a rollout of fleet {fleet:?} to {} is unfinished ({:?}): `clawctl rollout --abort` rolls back \
             what it touched, `clawctl rollout --resume` finishes it; roll back after that",
            rollout.target,
            rollout.phase
        );
    }
    Ok(())
}

/// Rolls the planned agents back under the fleet Lease and reports each one. Under the
/// Lease it checks again that no rollout is unfinished and that each agent's newest
/// revision is still the one the plan started from; otherwise it changes nothing.
pub async fn execute(
    planned: Planned,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> anyhow::Result<Report> {
    let Planned {
        plan,
        cluster,
        namespace,
        namespaces,
        options,
        choices,
    } = planned;
    let mut report = Report {
        fleet: plan.fleet.clone(),
        agents: Vec::new(),
        interrupted: false,
        snapshots: Vec::new(),
    };
    if plan.is_noop() {
        report.agents = choices
            .into_iter()
            .map(|(agent, choice)| unplanned(agent, choice.err()))
            .collect();
        for agent in &report.agents {
            reporter.finished(agent);
        }
        return Ok(report);
    }

    let lock = lease::acquire(&cluster, &namespace, &plan.fleet, "rollback", reporter).await?;
    let checked = async {
        refuse_during_rollout(&cluster, &namespace, &plan.fleet).await?;
        let revisions = history::list(&cluster, &plan.fleet, &namespace, &namespaces, None).await?;
        for (agent, choice) in &choices {
            let Ok((current, _)) = choice else { continue };
            // As `choose` saw them: refused revisions take no part.
            let newest = revisions
                .iter()
                .filter(|r| &r.agent == agent && r.namespace == current.namespace)
                .filter(|r| r.refused.is_none())
                .max_by_key(|r| r.number);
            if newest.map(|r| &r.name) != Some(&current.name) {
                anyhow::bail!(
                    "agent {agent:?} has a new revision since the plan was made (another run?); \
                     nothing was changed: run the command again to see the new plan"
                );
            }
        }
        Ok(revisions)
    }
    .await;
    let revisions = match checked {
        Ok(revisions) => revisions,
        Err(e) => {
            lock.release().await;
            return Err(e);
        }
    };
    // Snapshots before any image moves back; one that fails stops here, nothing changed.
    if !plan.snapshots.is_empty() {
        reporter.note(&format!(
            "taking {} snapshot(s) before moving images",
            plan.snapshots.len()
        ));
    }
    report.snapshots =
        super::snapshot::take(&cluster, &plan.snapshots, SNAPSHOT_TIMEOUT, reporter).await;
    if let Some(failed) = report.snapshots.iter().find(|b| b.result != "taken") {
        let why = failed
            .why
            .clone()
            .unwrap_or_else(|| "no reason given".into());
        let agent = failed.agent.clone();
        lock.release().await;
        anyhow::bail!(
            "the snapshot of agent {agent:?} before the rollback failed: {why}; nothing was \
             rolled back (fix it, or roll back without snapshots: --no-snapshot)"
        );
    }
    let context = Context {
        cluster: &cluster,
        fleet: &plan.fleet,
        fleet_namespace: &namespace,
        applyset_id: applyset::id(&plan.fleet, &namespace),
        existing: &revisions,
        options: &options,
        reporter,
        stop,
    };
    report.agents = futures::stream::iter(choices)
        .map(|(agent, choice)| {
            let (context, lock) = (&context, &lock);
            async move {
                let done = match choice {
                    Err(why) => unplanned(agent, Some(why)),
                    Ok(_) if stop.is_stopped() => AgentReport {
                        reason: Some("interrupted before it began".into()),
                        ..unplanned(agent, None)
                    },
                    Ok(_) if lock.lost() => AgentReport {
                        reason: Some("the fleet lock was lost before it began".into()),
                        ..unplanned(agent, None)
                    },
                    Ok((current, target)) => restore(context, &agent, &current, &target).await,
                };
                reporter.finished(&done);
                done
            }
        })
        .buffered(options.parallel.max(1))
        .collect()
        .await;
    lock.release().await;
    report.interrupted = stop.is_stopped();
    Ok(report)
}

fn unplanned(agent: String, why: Option<String>) -> AgentReport {
    AgentReport {
        agent,
        namespace: None,
        from: None,
        to: None,
        recorded: None,
        result: if why.is_some() {
            Outcome::Failed
        } else {
            Outcome::NotStarted
        },
        reason: why,
    }
}

/// What every agent's rollback shares.
struct Context<'a> {
    cluster: &'a Cluster,
    fleet: &'a str,
    fleet_namespace: &'a str,
    applyset_id: String,
    existing: &'a [Revision],
    options: &'a Options,
    reporter: &'a dyn Reporter,
    stop: &'a Stop,
}

/// Restores one agent (`ops::restore`) and says how it went.
async fn restore(
    context: &Context<'_>,
    agent: &str,
    current: &Revision,
    target: &Revision,
) -> AgentReport {
    context.reporter.started(agent, current, target);
    let mut report = AgentReport {
        agent: agent.to_string(),
        namespace: Some(target.namespace.clone()),
        from: Some(Point::of(current)),
        to: Some(Point::of(target)),
        recorded: None,
        result: Outcome::Failed,
        reason: None,
    };
    let shared = super::restore::Context {
        cluster: context.cluster,
        fleet: context.fleet,
        fleet_namespace: context.fleet_namespace,
        applyset_id: &context.applyset_id,
        existing: context.existing,
        history_max: context.options.history_max,
        progress: context.reporter,
    };
    let wait = context.options.wait.map(|timeout| (timeout, context.stop));
    let restored = match super::restore::restore(&shared, target, wait).await {
        Ok(restored) => restored,
        Err(why) => {
            report.reason = Some(why);
            return report;
        }
    };
    let (result, reason) = match restored.verdict {
        None => (Outcome::Applied, None),
        Some(Verdict::Passed) => (Outcome::Ready, None),
        Some(Verdict::Failed(why)) => (Outcome::Failed, Some(why)),
        Some(Verdict::Stopped) => (
            Outcome::Interrupted,
            Some("interrupted while waiting for readiness".into()),
        ),
    };
    match restored.recorded {
        Ok(number) => {
            report.recorded = Some(number);
            report.result = result;
            report.reason = reason;
        }
        Err(e) => {
            let before = reason.map(|r| format!("{r}; ")).unwrap_or_default();
            report.reason = Some(format!(
                "{before}rolled back, but the new revision was not recorded: {e}"
            ));
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::history::Cause;

    fn revision(number: i64, digest: &str, gate: Gate) -> Revision {
        Revision {
            agent: "alpha".into(),
            team: Some("core".into()),
            namespace: "core".into(),
            name: format!("agent-alpha-r{number}"),
            number,
            image: format!("img:{digest}"),
            cause: Cause::Apply,
            gate,
            created: None,
            summary: String::new(),
            digest: digest.into(),
            manifests: Vec::new(),
            refused: None,
            stored: history::Stored::Secret,
            sealed: true,
        }
    }

    fn target(revisions: &[Revision], to: Option<i64>) -> Result<(i64, i64), String> {
        choose("alpha", revisions, to).map(|c| (c.current.number, c.target.number))
    }

    #[test]
    fn default_target_is_the_newest_earlier_passed_revision_that_differs() {
        let revisions = [
            revision(1, "a", Gate::Passed),
            revision(2, "b", Gate::Passed),
            revision(3, "c", Gate::Passed),
        ];
        assert_eq!(target(&revisions, None), Ok((3, 2)));
        // Order of the input does not matter.
        let shuffled = [
            revisions[2].clone(),
            revisions[0].clone(),
            revisions[1].clone(),
        ];
        assert_eq!(target(&shuffled, None), Ok((3, 2)));
    }

    #[test]
    fn a_failed_or_unknown_gate_or_the_same_configuration_is_skipped() {
        let revisions = [
            revision(1, "a", Gate::Passed),
            revision(2, "b", Gate::Failed),
            revision(3, "c", Gate::Unknown),
            revision(4, "d", Gate::Passed),
            revision(5, "d", Gate::Passed),
        ];
        // 4 has the current configuration, 3 was never gated, 2 failed: back to 1.
        assert_eq!(target(&revisions, None), Ok((5, 1)));
    }

    #[test]
    fn a_failed_current_revision_returns_to_the_last_good_one() {
        let revisions = [
            revision(1, "a", Gate::Passed),
            revision(2, "b", Gate::Passed),
            revision(3, "crashy", Gate::Failed),
        ];
        assert_eq!(target(&revisions, None), Ok((3, 2)));
    }

    #[test]
    fn rollback_after_rollback_goes_back_and_forth() {
        let revisions = [
            revision(1, "a", Gate::Passed),
            revision(2, "b", Gate::Passed),
            Revision {
                cause: Cause::Rollback,
                ..revision(3, "a", Gate::Passed)
            },
        ];
        assert_eq!(target(&revisions, None), Ok((3, 2)));
    }

    #[test]
    fn no_target_says_what_was_looked_at() {
        let why = target(&[revision(1, "a", Gate::Passed)], None).expect_err("none");
        assert!(why.contains("current revision 1"), "{why}");
        assert!(why.contains("there is no earlier revision"), "{why}");
        let why = target(
            &[
                revision(1, "a", Gate::Failed),
                revision(2, "b", Gate::Passed),
                revision(3, "b", Gate::Passed),
            ],
            None,
        )
        .expect_err("none");
        assert!(
            why.contains(
                "looked at revisions 2 (same configuration as the current one), \
                 1 (failed its health gate)"
            ),
            "{why}"
        );
        assert_eq!(
            target(&[], None),
            Err("no revisions recorded for agent \"alpha\"".into())
        );
    }

    #[test]
    fn to_revision_is_taken_as_asked_or_fails_naming_the_recorded_ones() {
        let revisions = [
            revision(2, "a", Gate::Failed),
            revision(3, "b", Gate::Passed),
            revision(10, "c", Gate::Passed),
        ];
        assert_eq!(target(&revisions, Some(2)), Ok((10, 2)));
        assert_eq!(target(&revisions, Some(10)), Ok((10, 10)));
        let why = target(&revisions, Some(7)).expect_err("missing");
        assert!(
            why.contains("has no revision 7; recorded: 2, 3, 10"),
            "{why}"
        );
    }

    #[test]
    fn refused_revisions_are_neither_current_nor_targets() {
        let refused = |number, digest| Revision {
            refused: Some("it holds RoleBinding kube-system/x".into()),
            ..revision(number, digest, Gate::Passed)
        };
        let revisions = [
            revision(1, "a", Gate::Passed),
            refused(2, "evil"),
            revision(3, "c", Gate::Passed),
            // A planted "newest" must not become the current revision.
            refused(4, "evil"),
        ];
        assert_eq!(target(&revisions, None), Ok((3, 1)));
        let why = target(&revisions, Some(2)).expect_err("refused");
        assert!(why.contains("is refused and is never applied"), "{why}");
        let why = target(&[refused(1, "evil")], None).expect_err("nothing trusted");
        assert!(why.contains("has no revision clawctl may apply"), "{why}");
        let mut elsewhere = revision(1, "a", Gate::Passed);
        elsewhere.namespace = "other".into();
        let why = target(&[elsewhere, revision(2, "b", Gate::Passed)], None).expect_err("two");
        assert!(why.contains("several namespaces (core, other)"), "{why}");
    }

    #[test]
    fn success_needs_every_agent_rolled_back() {
        let agent = |result| AgentReport {
            agent: "a".into(),
            namespace: None,
            from: None,
            to: None,
            recorded: None,
            result,
            reason: None,
        };
        let mut report = Report {
            fleet: "demo".into(),
            agents: vec![agent(Outcome::Ready), agent(Outcome::Applied)],
            interrupted: false,
            snapshots: Vec::new(),
        };
        assert!(report.succeeded());
        report.agents.push(agent(Outcome::Failed));
        assert!(!report.succeeded());
        report.agents.pop();
        report.interrupted = true;
        assert!(!report.succeeded());
    }
}
