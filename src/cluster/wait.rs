//! Waiting for Deployments to finish rolling out: two watches (the fleet's Deployments
//! and Pods, by label), the readiness rules of `readiness`, fail-fast on pod errors, and
//! one overall timeout. Every decision follows a watch event, except one: a pod the
//! scheduler cannot place has its claims looked at (`storage::unbound`) every few seconds,
//! to say why and to fail at once on a StorageClass that does not exist.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::watcher::Event;

use super::readiness::{self, Rollout};
use super::storage::{self, Unbound};
use super::{Cluster, scoped};
use crate::names::{AGENT_LABEL, CONFIG_HASH};

/// A Deployment to wait for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Workload {
    pub namespace: String,
    pub name: String,
    /// The agent it runs (its pods carry this agent label); `None` for a workload whose
    /// pods carry no agent label (clawctl-router, alone in its namespace): its pods are
    /// the namespace's pods without one.
    pub agent: Option<String>,
}

/// How a wait ended for one Deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ready,
    /// A pod or the controller reported a failure; the text names it.
    Failed(String),
    /// Still going when the wait stopped (timeout, or another workload failed first).
    Unfinished(String),
}

/// Something to show while waiting.
pub trait Progress: Sync {
    fn changed(&self, workload: &Workload, state: &Rollout);
    /// Something the user should know that is not a workload's state (a lock taken over).
    fn note(&self, _text: &str) {}
}

/// Waits until every workload is ready, one fails (fail-fast: the others are reported
/// unfinished), or `timeout` passes.
///
/// Each watch event re-evaluates only the workloads it concerns (a Deployment by name, a
/// Pod by its namespace and agent label), so a fleet of N agents costs O(N) work per
/// rollout, not O(N²); while a (re-)list is loading nothing is decided until it is done.
pub async fn deployments(
    cluster: &Cluster,
    selector: &str,
    workloads: &[Workload],
    timeout: Duration,
    progress: &dyn Progress,
) -> anyhow::Result<BTreeMap<Workload, Outcome>> {
    let mut outcomes: BTreeMap<Workload, Outcome> = workloads
        .iter()
        .map(|w| (w.clone(), Outcome::Unfinished("no status yet".into())))
        .collect();
    if workloads.is_empty() {
        return Ok(outcomes);
    }
    // Cluster-wide where allowed, else in the workloads' namespaces (`scoped`).
    let namespaces: Vec<String> = workloads.iter().map(|w| w.namespace.clone()).collect();
    let deployments = scoped::watch::<Deployment>(cluster, selector, &namespaces)
        .await?
        .map_ok(|e| Change::Deployment(Box::new(e)))
        .boxed();
    let pods = scoped::watch::<Pod>(cluster, selector, &namespaces)
        .await?
        .map_ok(|e| Change::Pod(Box::new(e)))
        .boxed();
    let mut events = futures::stream::select(deployments, pods);

    // Workloads by (namespace, Deployment name) and by (namespace, agent).
    let by_name: HashMap<(String, String), &Workload> = workloads
        .iter()
        .map(|w| ((w.namespace.clone(), w.name.clone()), w))
        .collect();
    let mut by_agent: HashMap<(String, String), Vec<&Workload>> = HashMap::new();
    for w in workloads {
        by_agent
            .entry((w.namespace.clone(), w.agent.clone().unwrap_or_default()))
            .or_default()
            .push(w);
    }
    let mut live_deployments: HashMap<(String, String), Deployment> = HashMap::new();
    // (namespace, agent) -> pod name -> pod
    let mut live_pods: HashMap<(String, String), HashMap<String, Pod>> = HashMap::new();
    let (mut deployments_listing, mut pods_listing) = (true, true);
    let mut unfinished = outcomes.len();
    let deadline = tokio::time::Instant::now() + timeout;
    // Workloads whose pod is not scheduled, and what their claims last said (looked up
    // again on a pod event or every DIAGNOSIS_PERIOD, no more often).
    let mut unscheduled: HashMap<Workload, Diagnosis> = HashMap::new();
    let mut tick = tokio::time::interval(DIAGNOSIS_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let event = tokio::select! {
            event = events.next() => Some(event),
            _ = tick.tick() => None,
            _ = tokio::time::sleep_until(deadline) => {
                for outcome in outcomes.values_mut() {
                    if let Outcome::Unfinished(why) = outcome {
                        *outcome = Outcome::Unfinished(format!("timed out after {} s: {why}", timeout.as_secs()));
                    }
                }
                return Ok(outcomes);
            }
        };
        // Which workloads to look at again: `None` for all of them.
        let concerned: Option<Vec<&Workload>> = match event {
            None if unscheduled.is_empty() => continue,
            None => Some(
                workloads
                    .iter()
                    .filter(|w| unscheduled.contains_key(*w))
                    .collect(),
            ),
            Some(event) => match event {
                None => anyhow::bail!("the watch on the fleet's workloads ended unexpectedly"),
                // The watcher re-lists and retries by itself after errors; keep waiting.
                Some(Err(_)) => continue,
                Some(Ok(Change::Deployment(event))) => match *event {
                    Event::Init => {
                        deployments_listing = true;
                        live_deployments.clear();
                        continue;
                    }
                    Event::InitApply(d) => {
                        live_deployments.insert(key(&d), d);
                        continue;
                    }
                    Event::InitDone => {
                        deployments_listing = false;
                        None
                    }
                    Event::Apply(d) => {
                        let k = key(&d);
                        live_deployments.insert(k.clone(), d);
                        Some(by_name.get(&k).copied().into_iter().collect())
                    }
                    Event::Delete(d) => {
                        let k = key(&d);
                        live_deployments.remove(&k);
                        Some(by_name.get(&k).copied().into_iter().collect())
                    }
                },
                Some(Ok(Change::Pod(event))) => {
                    let slot = |p: &Pod| {
                        let (ns, name) = key(p);
                        let agent = p
                            .metadata
                            .labels
                            .as_ref()
                            .and_then(|l| l.get(AGENT_LABEL))
                            .cloned()
                            .unwrap_or_default();
                        ((ns, agent), name)
                    };
                    match *event {
                        Event::Init => {
                            pods_listing = true;
                            live_pods.clear();
                            continue;
                        }
                        Event::InitApply(p) => {
                            let (group, name) = slot(&p);
                            live_pods.entry(group).or_default().insert(name, p);
                            continue;
                        }
                        Event::InitDone => {
                            pods_listing = false;
                            None
                        }
                        Event::Apply(p) => {
                            let (group, name) = slot(&p);
                            let concerned = by_agent.get(&group).cloned().unwrap_or_default();
                            live_pods.entry(group).or_default().insert(name, p);
                            Some(concerned)
                        }
                        Event::Delete(p) => {
                            let (group, name) = slot(&p);
                            let concerned = by_agent.get(&group).cloned().unwrap_or_default();
                            if let Some(pods) = live_pods.get_mut(&group) {
                                pods.remove(&name);
                            }
                            Some(concerned)
                        }
                    }
                }
            },
        };
        if deployments_listing || pods_listing {
            continue;
        }
        let concerned: Vec<&Workload> = concerned.unwrap_or_else(|| workloads.iter().collect());
        let mut failed = false;
        for workload in concerned {
            let Some(outcome) = outcomes.get_mut(workload) else {
                continue;
            };
            if *outcome == Outcome::Ready {
                continue;
            }
            let deployment =
                live_deployments.get(&(workload.namespace.clone(), workload.name.clone()));
            let state = match deployment {
                None => Rollout::Waiting("the Deployment does not exist (yet)".into()),
                Some(d) => readiness::deployment(d),
            };
            let group = (
                workload.namespace.clone(),
                workload.agent.clone().unwrap_or_default(),
            );
            let pods = live_pods.get(&group);
            let pod_failure = pods.and_then(|pods| {
                pods.values()
                    .filter(|p| p.metadata.deletion_timestamp.is_none())
                    // Only pods of the current template: right after an update (or a
                    // rollback) the previous ReplicaSet's pods still exist for a moment,
                    // and their failures are not the new template's.
                    .filter(|p| deployment.is_some_and(|d| of_current_template(d, p)))
                    .find_map(|p| {
                        readiness::pod_failure(p).map(|why| {
                            format!("pod {}: {why}", p.metadata.name.as_deref().unwrap_or("?"))
                        })
                    })
            });
            let state = match (state, pod_failure) {
                (Rollout::Done, _) => Rollout::Done,
                (_, Some(why)) => Rollout::Failed(why),
                (state, None) => state,
            };
            // A pod the scheduler cannot place says why, and so do its unbound claims.
            let pending = match &state {
                Rollout::Waiting(_) => pods.and_then(|pods| {
                    pods.values()
                        .filter(|p| p.metadata.deletion_timestamp.is_none())
                        .filter(|p| deployment.is_some_and(|d| of_current_template(d, p)))
                        .find_map(|p| {
                            let why = readiness::unscheduled(p)?;
                            let name = p.metadata.name.clone().unwrap_or_default();
                            Some((
                                format!("pod {name} is not scheduled: {why}"),
                                readiness::claims(p),
                            ))
                        })
                }),
                _ => None,
            };
            let state = match pending {
                None => {
                    unscheduled.remove(workload);
                    state
                }
                Some((why, claims)) => {
                    let diagnosis = unscheduled.entry(workload.clone()).or_default();
                    if diagnosis.due() {
                        diagnosis.claims = Vec::new();
                        for claim in &claims {
                            if let Some(unbound) =
                                storage::unbound(cluster, &workload.namespace, claim).await
                            {
                                diagnosis.claims.push(unbound);
                            }
                        }
                        diagnosis.at = Some(tokio::time::Instant::now());
                    }
                    diagnosis.state(why)
                }
            };
            progress.changed(workload, &state);
            *outcome = match state {
                Rollout::Done => {
                    unfinished -= 1;
                    Outcome::Ready
                }
                Rollout::Failed(why) => {
                    failed = true;
                    Outcome::Failed(why)
                }
                Rollout::Waiting(why) => Outcome::Unfinished(why),
            };
        }
        if unfinished == 0 || failed {
            return Ok(outcomes);
        }
    }
}

/// How often the claims of an unschedulable pod are looked at again while nothing else
/// happens (their events are not watched).
const DIAGNOSIS_PERIOD: Duration = Duration::from_secs(3);

/// What the claims of a workload's unschedulable pod last said.
#[derive(Debug, Default)]
struct Diagnosis {
    at: Option<tokio::time::Instant>,
    claims: Vec<Unbound>,
}

impl Diagnosis {
    fn due(&self) -> bool {
        self.at.is_none_or(|at| at.elapsed() >= DIAGNOSIS_PERIOD)
    }

    /// Failed when a claim will not bind by itself (a StorageClass that does not exist);
    /// otherwise waiting, with the scheduler's reason and what the claims report.
    fn state(&self, unscheduled: String) -> Rollout {
        let mut text = unscheduled;
        let mut stuck = false;
        for claim in &self.claims {
            let (Unbound::Stuck(why) | Unbound::Pending(why)) = claim;
            stuck |= matches!(claim, Unbound::Stuck(_));
            text.push_str("; ");
            text.push_str(why);
        }
        if stuck {
            Rollout::Failed(text)
        } else {
            Rollout::Waiting(text)
        }
    }
}

fn key<K: kube::Resource>(o: &K) -> (String, String) {
    (
        o.meta().namespace.clone().unwrap_or_default(),
        o.meta().name.clone().unwrap_or_default(),
    )
}

/// Whether `pod` runs `deployment`'s current pod template: same config-hash annotation
/// (clawctl's templates put it there) and the same image for every container.
pub fn of_current_template(deployment: &Deployment, pod: &Pod) -> bool {
    let Some(template) = deployment.spec.as_ref().map(|s| &s.template) else {
        return false;
    };
    let hash = |annotations: Option<&std::collections::BTreeMap<String, String>>| {
        annotations.and_then(|a| a.get(CONFIG_HASH)).cloned()
    };
    let template_hash = hash(
        template
            .metadata
            .as_ref()
            .and_then(|m| m.annotations.as_ref()),
    );
    if template_hash != hash(pod.metadata.annotations.as_ref()) {
        return false;
    }
    let images = |containers: Option<&Vec<k8s_openapi::api::core::v1::Container>>| {
        containers
            .into_iter()
            .flatten()
            .map(|c| (c.name.clone(), c.image.clone()))
            .collect::<Vec<_>>()
    };
    let want = images(template.spec.as_ref().map(|s| &s.containers));
    let have = images(pod.spec.as_ref().map(|s| &s.containers));
    want == have
}

enum Change {
    Deployment(Box<Event<Deployment>>),
    Pod(Box<Event<Pod>>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
        let docs = crate::yaml::parse_documents(yaml).expect("yaml");
        serde_json::from_value(docs.into_iter().next().expect("one document")).expect("typed")
    }

    #[test]
    fn only_pods_of_the_current_template_count() {
        let deployment: Deployment = parse(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  selector: {matchLabels: {a: b}}\n  \
             template:\n    metadata: {labels: {a: b}, annotations: {clawctl.io/config-hash: h2}}\n    \
             spec: {containers: [{name: gateway, image: 'img:2'}]}\n",
        );
        let pod = |hash: &str, image: &str| -> Pod {
            parse(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, annotations: {{clawctl.io/config-hash: {hash}}}}}\n\
                 spec: {{containers: [{{name: gateway, image: '{image}'}}]}}\n"
            ))
        };
        assert!(of_current_template(&deployment, &pod("h2", "img:2")));
        assert!(!of_current_template(&deployment, &pod("h1", "img:2")));
        assert!(!of_current_template(&deployment, &pod("h2", "img:1")));
    }
}
