//! Running a one-pod Job to its end: create it, follow its conditions, and on failure
//! say why from its pod (the container's termination message, or what keeps the pod
//! from starting). A successful Job is deleted with its pod; a failed one is left for
//! `kubectl logs` until its `ttlSecondsAfterFinished`.
//!
//! A Job is finished when it has a `Complete` or `Failed` condition with status True
//! (batch/v1 JobStatus; "Job termination and cleanup",
//! <https://kubernetes.io/docs/concepts/workloads/controllers/job/>). Its pod carries the
//! label `batch.kubernetes.io/job-name` (Kubernetes 1.27+; `job-name` before).

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::Value;

use super::errors::{self, Request};
use super::{Cluster, readiness, retry};

/// How a Job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Why, as the Job and its pod tell it.
    Failed(String),
    /// Not finished in time: what its pod was doing.
    Unfinished(String),
}

/// Creates `job` (a batch/v1 Job as JSON) and waits up to `timeout` for it to finish.
/// Polls every `every`.
pub async fn run(
    cluster: &Cluster,
    job: &Value,
    timeout: Duration,
    every: Duration,
) -> anyhow::Result<Outcome> {
    let namespace = job["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = job["metadata"]["name"].as_str().unwrap_or_default();
    let api: Api<Job> = Api::namespaced(cluster.client.clone(), namespace);
    let typed: Job = serde_json::from_value(job.clone())?;
    let request = Request {
        verb: "create",
        resource: "jobs.batch",
        namespace: Some(namespace),
        name: Some(name),
    };
    api.create(&PostParams::default(), &typed)
        .await
        .map_err(|e| anyhow::anyhow!(errors::describe(&e, &request)))?;

    let started = tokio::time::Instant::now();
    let deadline = started + timeout;
    let mut polls: u32 = 0;
    let mut refused: Option<String> = None;
    loop {
        polls += 1;
        let live = retry::idempotent(|| api.get(name)).await.map_err(|e| {
            anyhow::anyhow!(errors::describe(
                &e,
                &Request {
                    verb: "get",
                    ..request
                }
            ))
        })?;
        match finished(&live) {
            Some(true) => {
                delete(&api, name).await;
                return Ok(Outcome::Succeeded);
            }
            Some(false) => {
                let condition = condition_message(&live, "Failed");
                let pod = pod_story(cluster, namespace, name).await;
                let why = [pod, condition]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; ");
                return Ok(Outcome::Failed(if why.is_empty() {
                    "the Job failed".to_string()
                } else {
                    why
                }));
            }
            None => {}
        }
        // A pod the Job controller cannot create (a ResourceQuota, PodSecurity or a
        // webhook refuses it) never comes: its latest `FailedCreate` event says why. A
        // refusal that waiting cannot fix (`readiness::cannot_heal`) fails the run at
        // once; any other fails it after 10 s. Looked at every other poll while the Job
        // has no active pod.
        if polls.is_multiple_of(2)
            && live.status.as_ref().and_then(|s| s.active).unwrap_or(0) == 0
            && pod_story(cluster, namespace, name).await.is_none()
        {
            let events: Api<Event> = Api::namespaced(cluster.client.clone(), namespace);
            let all = ListParams::default();
            if let Ok(list) = retry::idempotent(|| events.list(&all)).await
                && let Some(why) = failed_create(&list.items, name)
            {
                if readiness::cannot_heal(&why) || started.elapsed() >= Duration::from_secs(10) {
                    return Ok(Outcome::Failed(format!(
                        "the Job controller cannot create its pod: {why}"
                    )));
                }
                refused = Some(why);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            let pod = pod_story(cluster, namespace, name)
                .await
                .unwrap_or_else(|| match &refused {
                    Some(why) => format!("its pod was not created: {why}"),
                    None => "its pod was not created".to_string(),
                });
            return Ok(Outcome::Unfinished(pod));
        }
        tokio::time::sleep(every).await;
    }
}

/// The newest `FailedCreate` message among `events` about Job `job` (the Job
/// controller's warning when the API server refuses its pod).
pub fn failed_create(events: &[Event], job: &str) -> Option<String> {
    events
        .iter()
        .filter(|e| {
            e.reason.as_deref() == Some("FailedCreate")
                && e.involved_object.kind.as_deref() == Some("Job")
                && e.involved_object.name.as_deref() == Some(job)
        })
        .max_by_key(|e| {
            e.last_timestamp
                .as_ref()
                .map(|t| t.0)
                .or(e.event_time.as_ref().map(|t| t.0))
        })
        .and_then(|e| e.message.clone())
}

/// `Some(true)` Complete, `Some(false)` Failed, `None` still running.
pub fn finished(job: &Job) -> Option<bool> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    let is = |kind: &str| {
        conditions
            .iter()
            .any(|c| c.type_ == kind && c.status == "True")
    };
    if is("Complete") {
        Some(true)
    } else if is("Failed") {
        Some(false)
    } else {
        None
    }
}

fn condition_message(job: &Job, kind: &str) -> Option<String> {
    let c = job
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind)?;
    let reason = c.reason.clone().unwrap_or_default();
    Some(match &c.message {
        Some(m) if !m.is_empty() => format!("{reason}: {m}"),
        _ => reason,
    })
    .filter(|s| !s.is_empty())
}

/// What the Job's pod says: the container's termination message (its last log lines,
/// `FallbackToLogsOnError`) and exit code, or why it is waiting, or why it is not
/// scheduled.
async fn pod_story(cluster: &Cluster, namespace: &str, job: &str) -> Option<String> {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let params = ListParams::default().labels(&format!("batch.kubernetes.io/job-name={job}"));
    let pods = retry::idempotent(|| api.list(&params)).await.ok()?;
    let pod = pods.items.into_iter().last()?;
    describe_pod(&pod)
}

/// [`pod_story`] for one pod.
pub fn describe_pod(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    for c in status.container_statuses.iter().flatten() {
        let Some(state) = &c.state else { continue };
        if let Some(t) = &state.terminated
            && t.exit_code != 0
        {
            let message = t.message.as_deref().map(str::trim).unwrap_or_default();
            return Some(match message {
                "" => format!("container {} exited {}", c.name, t.exit_code),
                m => format!("container {} exited {}: {m}", c.name, t.exit_code),
            });
        }
        if let Some(w) = &state.waiting
            && let Some(reason) = &w.reason
        {
            return Some(match &w.message {
                Some(m) => format!("container {} is waiting: {reason}: {m}", c.name),
                None => format!("container {} is waiting: {reason}", c.name),
            });
        }
    }
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        .map(|c| {
            format!(
                "its pod is not scheduled: {}",
                c.message.clone().or(c.reason.clone()).unwrap_or_default()
            )
        })
}

/// Deletes a finished Job and its pod (background propagation: the garbage collector
/// removes the pod). Best effort: the Job's TTL removes it anyway.
async fn delete(api: &Api<Job>, name: &str) {
    let _ = api.delete(name, &DeleteParams::background()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(conditions: Value) -> Job {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "j"},
            "status": {"conditions": conditions},
        }))
        .expect("job")
    }

    #[test]
    fn a_job_is_finished_by_a_true_complete_or_failed_condition() {
        assert_eq!(finished(&job(serde_json::json!([]))), None);
        assert_eq!(
            finished(&job(serde_json::json!([
                {"type": "SuccessCriteriaMet", "status": "True"},
                {"type": "Complete", "status": "True"},
            ]))),
            Some(true)
        );
        assert_eq!(
            finished(&job(serde_json::json!([
                {"type": "FailureTarget", "status": "True"},
            ]))),
            None,
            "FailureTarget comes before the pods are gone"
        );
        assert_eq!(
            finished(&job(serde_json::json!([
                {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"},
            ]))),
            Some(false)
        );
    }

    #[test]
    fn a_refused_pod_is_found_in_the_jobs_failed_create_events() {
        let event = |name: &str, reason: &str, at: &str, message: &str| -> Event {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": format!("{name}.{at}")},
                "involvedObject": {"kind": "Job", "name": name},
                "reason": reason,
                "lastTimestamp": at,
                "message": message,
            }))
            .expect("event")
        };
        let events = [
            event("j", "FailedCreate", "2026-12-02T01:00:00Z", "old"),
            event(
                "j",
                "FailedCreate",
                "2026-12-02T01:00:05Z",
                "pods \"j-x\" is forbidden: exceeded quota: clawctl-quota",
            ),
            event(
                "j",
                "SuccessfulCreate",
                "2026-12-02T01:00:09Z",
                "Created pod",
            ),
            event("other", "FailedCreate", "2026-12-02T01:00:09Z", "not mine"),
        ];
        assert_eq!(
            failed_create(&events, "j").as_deref(),
            Some("pods \"j-x\" is forbidden: exceeded quota: clawctl-quota")
        );
        assert_eq!(failed_create(&events, "none"), None);
    }

    #[test]
    fn a_failed_pod_says_why() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "status": {"containerStatuses": [{
                "name": "snapshot", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 1, "message": "AccessDenied\n"}},
            }]},
        }))
        .expect("pod");
        assert_eq!(
            describe_pod(&pod).as_deref(),
            Some("container snapshot exited 1: AccessDenied")
        );
    }
}
