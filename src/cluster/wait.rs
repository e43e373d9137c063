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
use crate::render::context::{AGENT_LABEL, CONFIG_HASH};

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
            let deployment = live_deployments.get(&key);
            let pod_failure = workload.agent.as_ref().and_then(|agent| {
                live_pods
                    .values()
                    // Only pods of the current template: right after an update (or a
                    // rollback) the previous ReplicaSet's pods still exist for a moment,
                    // and their failures are not the new template's.
                    .filter(|p| deployment.is_some_and(|d| of_current_template(d, p)))
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
