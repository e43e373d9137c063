//! The health gate of one agent (DESIGN §4): its Deployment rolls out (the readiness
//! rules), then its pods stay Ready with no new restarts for the soak period. Fails fast
//! on pull and crash errors. Watches only; every wait sits under a timeout.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::watcher::{self, Event};

use super::Cluster;
use super::readiness;
use super::wait::{self, Progress, Workload};
use crate::interrupt::Stop;
use crate::names::{AGENT_LABEL, FLEET_LABEL};

/// How a gate ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed(String),
    /// Stopped from outside (Ctrl-C): neither passed nor failed.
    Stopped,
}

/// Waits for `workload` to roll out within `timeout`, then watches its pods for `soak`.
pub async fn agent(
    cluster: &Cluster,
    fleet: &str,
    workload: &Workload,
    timeout: Duration,
    soak: Duration,
    progress: &dyn Progress,
    stop: &Stop,
) -> anyhow::Result<Verdict> {
    let Some(agent) = workload.agent.clone() else {
        anyhow::bail!("{} has no agent label", workload.name);
    };
    let selector = format!("{FLEET_LABEL}={fleet},{AGENT_LABEL}={agent}");
    let rolled = tokio::select! {
        outcome = wait::deployments(cluster, &selector, std::slice::from_ref(workload), timeout, progress) => outcome?,
        _ = stop.stopped() => return Ok(Verdict::Stopped),
    };
    match rolled.get(workload) {
        Some(wait::Outcome::Ready) => {}
        Some(wait::Outcome::Failed(why)) => return Ok(Verdict::Failed(why.clone())),
        Some(wait::Outcome::Unfinished(why)) => return Ok(Verdict::Failed(why.clone())),
        None => return Ok(Verdict::Failed("not watched".into())),
    }
    if soak.is_zero() {
        return Ok(Verdict::Passed);
    }
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), &workload.namespace);
    let deployment = super::retry::idempotent(|| deployments.get(&workload.name)).await?;
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &workload.namespace);
    let mut events = watcher::watcher(pods, watcher::Config::default().labels(&selector)).boxed();
    let mut baseline: HashMap<String, i32> = HashMap::new();
    let mut live: HashMap<String, Pod> = HashMap::new();
    let deadline = tokio::time::Instant::now() + soak;
    loop {
        let event = tokio::select! {
            event = events.next() => event,
            _ = tokio::time::sleep_until(deadline) => return Ok(Verdict::Passed),
            _ = stop.stopped() => return Ok(Verdict::Stopped),
        };
        match event {
            None => anyhow::bail!("the watch on {}'s pods ended", workload.name),
            Some(Err(_)) => continue,
            Some(Ok(Event::Init)) => live.clear(),
            Some(Ok(Event::InitApply(pod) | Event::Apply(pod))) => {
                let name = pod.metadata.name.clone().unwrap_or_default();
                live.insert(name, pod);
            }
            Some(Ok(Event::Delete(pod))) => {
                live.remove(pod.metadata.name.as_deref().unwrap_or_default());
            }
            Some(Ok(Event::InitDone)) => {}
        }
        for (name, pod) in &live {
            if pod.metadata.deletion_timestamp.is_some()
                || !wait::of_current_template(&deployment, pod)
            {
                continue;
            }
            if let Some(why) = readiness::pod_failure(pod) {
                return Ok(Verdict::Failed(format!("pod {name}: {why}")));
            }
            let restarts = readiness::restarts(pod);
            let first = *baseline.entry(name.clone()).or_insert(restarts);
            if restarts > first {
                return Ok(Verdict::Failed(format!(
                    "pod {name} restarted {} time(s) while soaking",
                    restarts - first
                )));
            }
            let ready = pod
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
                .is_some_and(|c| c.status == "True");
            if !ready {
                return Ok(Verdict::Failed(format!(
                    "pod {name} stopped being Ready while soaking"
                )));
            }
        }
    }
}
