//! `apply`: carry out a plan in the ordered steps of DESIGN §4 under the fleet Lease,
//! with bounded concurrency, then wait for the workloads that changed.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;

use super::planning::Planned;
use crate::cluster::errors::FieldConflict;
use crate::cluster::history::{self, Cause, Gate};
use crate::cluster::wait::{self, Workload};
use crate::cluster::{lease, objects, tokens};
use crate::plan::{Action, Change};

/// How to apply.
#[derive(Debug, Clone)]
pub struct Options {
    pub force_conflicts: bool,
    /// Delete what left the fleet (PVCs only with `--delete-volumes`, decided in the plan).
    pub prune: bool,
    pub concurrency: usize,
    /// Wait for changed workloads, at most this long (`None`: `--no-wait`).
    pub wait: Option<Duration>,
    /// Revisions kept per agent.
    pub history_max: usize,
}

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Deleted,
    /// Nothing to do (unchanged, kept, or a removal without `--prune`).
    Skipped,
    Failed {
        message: String,
        conflicts: Vec<FieldConflict>,
    },
    /// A step before it failed, so it was not tried.
    NotTried,
}

/// The result of `apply`.
#[derive(Debug)]
pub struct Report {
    /// Every change of the plan with its outcome, in plan order.
    pub objects: Vec<(Change, Outcome)>,
    pub waited: BTreeMap<Workload, wait::Outcome>,
}

impl Report {
    pub fn failed(&self) -> bool {
        self.objects
            .iter()
            .any(|(_, o)| matches!(o, Outcome::Failed { .. }))
            || self
                .waited
                .values()
                .any(|o| !matches!(o, wait::Outcome::Ready))
    }
}

/// What apply shows while it works; output implements it (progress bars or lines).
pub trait Reporter: wait::Progress {
    fn step(&self, name: &str, objects: usize);
    fn object(&self, change: &Change, outcome: &Outcome);
    fn step_done(&self, name: &str);
    fn waiting(&self, workloads: usize);
}

/// The steps of DESIGN §4, by `Manifest::rank`.
fn step_of(change: &Change) -> usize {
    match (change.action, change.rank) {
        (Action::Prune, _) => 4,
        (_, 0) => 0,
        (_, 1..=7) => 1,
        (_, 8) => 2,
        _ => 3,
    }
}

/// The step that applies workloads (Deployments).
const WORKLOADS: usize = 2;

/// Fills the generated key of every Secret applied in this run (a routed agent's gateway
/// token) unless it holds one; an agent already running gets its pods restarted, since
/// they read the token from their environment at start. The Secrets are independent, so
/// they are filled `concurrency` at a time, as objects are applied (one by one, the get
/// and patch per agent took 10 s of a 1,000-agent first apply at 5 ms per request). A
/// failure marks that Secret failed; returns whether all went well.
async fn fill_generated_keys(
    cluster: &crate::cluster::Cluster,
    changes: &[Change],
    outcomes: &mut [Option<Outcome>],
    concurrency: usize,
    reporter: &dyn Reporter,
) -> bool {
    let pending: Vec<(usize, &str)> = changes
        .iter()
        .zip(outcomes.iter())
        .enumerate()
        .filter(|(_, (_, outcome))| **outcome == Some(Outcome::Applied))
        .filter_map(|(i, (change, _))| Some((i, change.generated_key()?)))
        .collect();
    if pending.is_empty() {
        return true;
    }
    // The running Deployment of each agent, found once (not once per Secret).
    let mut running: HashMap<Option<&str>, &Change> = HashMap::new();
    for c in changes {
        if c.object.kind == "Deployment" && c.live.is_some() {
            running.entry(c.agent.as_deref()).or_insert(c);
        }
    }
    let failed: Vec<(usize, anyhow::Error)> = futures::stream::iter(pending)
        .map(|(i, key)| {
            let change = &changes[i];
            let deployment = running.get(&change.agent.as_deref()).copied();
            async move {
                fill_one(cluster, change, key, deployment, reporter)
                    .await
                    .err()
                    .map(|e| (i, e))
            }
        })
        .buffer_unordered(concurrency.max(1))
        .filter_map(std::future::ready)
        .collect()
        .await;
    for (i, e) in &failed {
        let outcome = Outcome::Failed {
            message: format!(
                "cannot generate {}: {e:#}",
                changes[*i].generated_key().unwrap_or_default()
            ),
            conflicts: Vec::new(),
        };
        reporter.object(&changes[*i], &outcome);
        outcomes[*i] = Some(outcome);
    }
    failed.is_empty()
}

/// One Secret of [`fill_generated_keys`], and the restart of its agent's `deployment`
/// when that runs already and the key was made anew.
async fn fill_one(
    cluster: &crate::cluster::Cluster,
    change: &Change,
    key: &str,
    deployment: Option<&Change>,
    reporter: &dyn Reporter,
) -> anyhow::Result<()> {
    let namespace = change.object.namespace.as_deref().unwrap_or_default();
    match tokens::fill(cluster, namespace, &change.object.name, key).await? {
        tokens::Filled::Kept => return Ok(()),
        tokens::Filled::Generated => reporter.note(&format!(
            "generated {key} in Secret {namespace}/{} (its value is never shown)",
            change.object.name
        )),
        tokens::Filled::Replaced(managers) => reporter.note(&format!(
            "replaced {key} in Secret {namespace}/{}: its value was written by {}, not \
             by clawctl, so nobody can choose the token an orchestrator trusts (the new \
             value is never shown)",
            change.object.name,
            if managers.is_empty() {
                "someone else".to_string()
            } else {
                managers.join(", ")
            }
        )),
    }
    if let Some(deployment) = deployment {
        tokens::restart(cluster, namespace, &deployment.object.name).await?;
        reporter.note(&format!(
            "restarted {} to read its new {key}",
            deployment.object
        ));
    }
    Ok(())
}

const STEPS: [&str; 5] = [
    "namespaces",
    "policies, accounts, RBAC, config and volumes",
    "workloads",
    "services",
    "prune",
];

/// Applies `planned`. Takes the fleet Lease first (after making sure the fleet
/// namespace, where the Lease lives, exists); a plan that writes nothing takes no lock
/// and sends no request.
pub async fn apply(
    planned: Planned,
    options: &Options,
    reporter: &dyn Reporter,
) -> anyhow::Result<Report> {
    if let Some(conflicts) = super::planning::Conflicts::of(&planned.plan) {
        return Err(conflicts.into());
    }
    let Planned {
        cluster,
        fleet,
        fleet_namespace,
        selector,
        plan,
        ..
    } = planned;
    let mut outcomes: Vec<Option<Outcome>> = plan
        .changes
        .iter()
        .map(|c| match c.action {
            Action::Unchanged | Action::Keep => Some(Outcome::Skipped),
            Action::Prune if !options.prune => Some(Outcome::Skipped),
            _ => None,
        })
        .collect();
    if outcomes.iter().all(Option::is_some) {
        return Ok(Report {
            objects: plan
                .changes
                .into_iter()
                .zip(outcomes.into_iter().flatten())
                .collect(),
            waited: BTreeMap::new(),
        });
    }

    // The Lease lives in the fleet namespace, so that one goes first.
    if let Some(index) = plan.changes.iter().zip(&outcomes).position(|(c, o)| {
        o.is_none() && c.object.kind == "Namespace" && c.object.name == fleet_namespace
    }) {
        let outcome = apply_one(&cluster, &plan.changes[index], options.force_conflicts).await;
        reporter.object(&plan.changes[index], &outcome);
        let failed = matches!(outcome, Outcome::Failed { .. });
        outcomes[index] = Some(outcome);
        if failed {
            return Ok(finish(plan.changes, outcomes, BTreeMap::new()));
        }
    }
    let lock = lease::acquire(&cluster, &fleet_namespace, &fleet, "apply", reporter).await?;

    let stop = AtomicBool::new(false);
    for (step, name) in STEPS.iter().enumerate() {
        if step == WORKLOADS
            && !stop.load(Ordering::SeqCst)
            // Before any pod can read them: the keys of the Secrets just applied.
            && !fill_generated_keys(
                &cluster,
                &plan.changes,
                &mut outcomes,
                options.concurrency,
                reporter,
            )
            .await
        {
            stop.store(true, Ordering::SeqCst);
        }
        let pending: Vec<usize> = (0..plan.changes.len())
            .filter(|&i| outcomes[i].is_none() && step_of(&plan.changes[i]) == step)
            .collect();
        if pending.is_empty() {
            continue;
        }
        if stop.load(Ordering::SeqCst) || lock.lost() {
            break;
        }
        reporter.step(name, pending.len());
        let done: Vec<(usize, Outcome)> = futures::stream::iter(pending)
            .map(|i| {
                let change = &plan.changes[i];
                let (cluster, stop) = (&cluster, &stop);
                async move {
                    if stop.load(Ordering::SeqCst) {
                        return (i, Outcome::NotTried);
                    }
                    let outcome = if change.action == Action::Prune {
                        match objects::delete(cluster, &change.object).await {
                            Ok(()) => Outcome::Deleted,
                            Err(e) => Outcome::Failed {
                                message: e.message,
                                conflicts: Vec::new(),
                            },
                        }
                    } else {
                        apply_one(cluster, change, options.force_conflicts).await
                    };
                    if matches!(outcome, Outcome::Failed { .. }) {
                        // A hard failure stops the step: nothing new starts.
                        stop.store(true, Ordering::SeqCst);
                    }
                    reporter.object(change, &outcome);
                    (i, outcome)
                }
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await;
        for (i, outcome) in done {
            outcomes[i] = Some(outcome);
        }
        reporter.step_done(name);
    }
    let applied_ok = !stop.load(Ordering::SeqCst);

    let mut waited = BTreeMap::new();
    if let (Some(timeout), true) = (options.wait, applied_ok) {
        let workloads: Vec<Workload> = plan
            .changes
            .iter()
            .zip(&outcomes)
            .filter(|(c, o)| c.object.kind == "Deployment" && **o == Some(Outcome::Applied))
            .map(|(c, _)| Workload {
                namespace: c.object.namespace.clone().unwrap_or_default(),
                name: c.object.name.clone(),
                agent: c.agent.clone(),
            })
            .collect();
        if !workloads.is_empty() {
            reporter.waiting(workloads.len());
            waited = wait::deployments(&cluster, &selector, &workloads, timeout, reporter).await?;
        }
    }
    let report = finish(plan.changes, outcomes, waited);
    let recorded = record_revisions(
        &cluster,
        (&fleet, &fleet_namespace),
        &report,
        options.history_max,
        options.concurrency,
    )
    .await;
    lock.release().await;
    recorded?;
    Ok(report)
}

/// Records a revision (cause `apply`) for every agent with an object applied, its gate
/// from the wait (unknown with `--no-wait`).
async fn record_revisions(
    cluster: &crate::cluster::Cluster,
    (fleet, fleet_namespace): (&str, &str),
    report: &Report,
    max: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let mut agents: BTreeMap<&str, (bool, Vec<&Change>)> = BTreeMap::new();
    for (change, outcome) in &report.objects {
        let (Some(agent), Some(_)) = (change.agent.as_deref(), &change.desired) else {
            continue;
        };
        if change.object.kind == "PersistentVolumeClaim" {
            continue;
        }
        let entry = agents.entry(agent).or_default();
        entry.0 |= *outcome == Outcome::Applied;
        entry.1.push(change);
    }
    agents.retain(|_, (applied, _)| *applied);
    if agents.is_empty() {
        return Ok(());
    }
    let mut namespaces: Vec<String> = agents
        .values()
        .filter_map(|(_, changes)| changes.first()?.object.namespace.clone())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    let existing = history::list(cluster, fleet, fleet_namespace, &namespaces, None).await?;
    let mut by_agent: BTreeMap<&str, Vec<history::Revision>> = BTreeMap::new();
    for revision in existing {
        let agent = agents
            .get_key_value(revision.agent.as_str())
            .map(|(k, _)| *k);
        if let Some(agent) = agent {
            by_agent.entry(agent).or_default().push(revision);
        }
    }
    let gates: BTreeMap<&str, Gate> = report
        .waited
        .iter()
        .filter_map(|(w, outcome)| {
            let gate = match outcome {
                wait::Outcome::Ready => Gate::Passed,
                wait::Outcome::Failed(_) => Gate::Failed,
                wait::Outcome::Unfinished(_) => Gate::Unknown,
            };
            Some((w.agent.as_deref()?, gate))
        })
        .collect();
    let no_history = Vec::new();
    let results: Vec<anyhow::Result<history::Revision>> = futures::stream::iter(agents)
        .map(|(agent, (_, changes))| {
            let first = changes[0];
            let record = history::Record {
                fleet,
                fleet_namespace,
                agent,
                team: first.team.as_deref(),
                namespace: first.object.namespace.as_deref().unwrap_or_default(),
                manifests: changes.iter().filter_map(|c| c.desired.clone()).collect(),
                cause: Cause::Apply,
                gate: gates.get(agent).copied().unwrap_or(Gate::Unknown),
            };
            let existing = by_agent.get(agent).unwrap_or(&no_history);
            history::record(cluster, record, existing, max)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    results.into_iter().try_for_each(|r| r.map(|_| ()))
}

fn finish(
    changes: Vec<Change>,
    outcomes: Vec<Option<Outcome>>,
    waited: BTreeMap<Workload, wait::Outcome>,
) -> Report {
    Report {
        objects: changes
            .into_iter()
            .zip(outcomes)
            .map(|(c, o)| (c, o.unwrap_or(Outcome::NotTried)))
            .collect(),
        waited,
    }
}

async fn apply_one(cluster: &crate::cluster::Cluster, change: &Change, force: bool) -> Outcome {
    let Some(desired) = &change.desired else {
        return Outcome::Skipped;
    };
    match objects::apply(cluster, &change.object, desired, force, false).await {
        Ok(_) => Outcome::Applied,
        Err(e) => Outcome::Failed {
            message: e.message,
            conflicts: e.conflicts,
        },
    }
}

/// `apply --dry-run=server`: every create and update sent with `dryRun=All`, so the API
/// server validates and admits (or refuses) it without storing anything. No lock.
pub async fn dry_run(
    planned: &Planned,
    force_conflicts: bool,
    concurrency: usize,
) -> Vec<(Change, Outcome)> {
    let creating = planned.plan.namespaces_to_create();
    futures::stream::iter(&planned.plan.changes)
        .map(|change| {
            let creating = &creating;
            async move {
                let outcome = match (&change.action, &change.desired) {
                    (Action::Create | Action::Update, Some(desired)) => {
                        // In a namespace this run would create, the server cannot check it yet.
                        let waits_for_namespace = change
                            .object
                            .namespace
                            .as_deref()
                            .is_some_and(|ns| creating.contains(&ns));
                        if waits_for_namespace {
                            Outcome::NotTried
                        } else {
                            match objects::apply(
                                &planned.cluster,
                                &change.object,
                                desired,
                                force_conflicts,
                                true,
                            )
                            .await
                            {
                                Ok(_) => Outcome::Applied,
                                Err(e) => Outcome::Failed {
                                    message: e.message,
                                    conflicts: e.conflicts,
                                },
                            }
                        }
                    }
                    _ => Outcome::Skipped,
                };
                (change.clone(), outcome)
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}
