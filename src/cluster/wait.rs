//! Waiting for Deployments to finish rolling out: two watches (the fleet's Deployments
//! and Pods, by label), the readiness rules of `readiness`, fail-fast on pod errors, and
//! one overall timeout. No polling: every decision follows a watch event.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::watcher::{self, Event};

use super::Cluster;
use super::readiness::{self, Rollout};
use crate::render::context::AGENT_LABEL;

/// A Deployment to wait for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Workload {
    pub namespace: String,
    pub name: String,
    /// The agent it runs (its pods carry this agent label).
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
}

/// Waits until every workload is ready, one fails (fail-fast: the others are reported
/// unfinished), or `timeout` passes.
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
    let config = watcher::Config::default().labels(selector);
    let deployments = watcher::watcher(
        Api::<Deployment>::all(cluster.client.clone()),
        config.clone(),
    )
    .map_ok(|e| Change::Deployment(Box::new(e)))
    .boxed();
    let pods = watcher::watcher(Api::<Pod>::all(cluster.client.clone()), config)
        .map_ok(|e| Change::Pod(Box::new(e)))
        .boxed();
    let mut events = futures::stream::select(deployments, pods);

    let mut live_deployments: HashMap<(String, String), Deployment> = HashMap::new();
    let mut live_pods: HashMap<(String, String), Pod> = HashMap::new();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let event = tokio::select! {
            event = events.next() => event,
            _ = tokio::time::sleep_until(deadline) => {
                for outcome in outcomes.values_mut() {
                    if let Outcome::Unfinished(why) = outcome {
                        *outcome = Outcome::Unfinished(format!("timed out after {} s: {why}", timeout.as_secs()));
                    }
                }
                return Ok(outcomes);
            }
        };
        match event {
            None => anyhow::bail!("the watch on the fleet's workloads ended unexpectedly"),
            // The watcher re-lists and retries by itself after errors; keep waiting.
            Some(Err(_)) => continue,
            Some(Ok(Change::Deployment(event))) => apply_event(&mut live_deployments, *event),
            Some(Ok(Change::Pod(event))) => apply_event(&mut live_pods, *event),
        }
        let mut all_ready = true;
        let mut failed = false;
        for (workload, outcome) in outcomes.iter_mut() {
            if *outcome == Outcome::Ready {
                continue;
            }
            let key = (workload.namespace.clone(), workload.name.clone());
            let state = match live_deployments.get(&key) {
                None => Rollout::Waiting("the Deployment does not exist (yet)".into()),
                Some(d) => readiness::deployment(d),
            };
            let pod_failure = workload.agent.as_ref().and_then(|agent| {
                live_pods
                    .values()
                    .filter(|p| {
                        p.metadata.namespace.as_deref() == Some(workload.namespace.as_str())
                    })
                    .filter(|p| p.metadata.deletion_timestamp.is_none())
                    .filter(|p| {
                        p.metadata.labels.as_ref().and_then(|l| l.get(AGENT_LABEL)) == Some(agent)
                    })
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
            progress.changed(workload, &state);
            *outcome = match state {
                Rollout::Done => Outcome::Ready,
                Rollout::Failed(why) => {
                    failed = true;
                    Outcome::Failed(why)
                }
                Rollout::Waiting(why) => {
                    all_ready = false;
                    Outcome::Unfinished(why)
                }
            };
        }
        if all_ready || failed {
            return Ok(outcomes);
        }
    }
}

enum Change {
    Deployment(Box<Event<Deployment>>),
    Pod(Box<Event<Pod>>),
}

fn apply_event<K: kube::Resource>(map: &mut HashMap<(String, String), K>, event: Event<K>) {
    let key = |o: &K| {
        (
            o.meta().namespace.clone().unwrap_or_default(),
            o.meta().name.clone().unwrap_or_default(),
        )
    };
    match event {
        // A (re-)list starts: what follows replaces what we knew.
        Event::Init => map.clear(),
        Event::InitApply(o) | Event::Apply(o) => {
            map.insert(key(&o), o);
        }
        Event::Delete(o) => {
            map.remove(&key(&o));
        }
        Event::InitDone => {}
    }
}
