//! Running a one-pod Job to its end: create it, watch its conditions, and on failure
//! say why from its pod (the container's termination message, or what keeps the pod
//! from starting). A successful Job is deleted with its pod; a failed one is left for
//! `kubectl logs` until its `ttlSecondsAfterFinished`.
//!
//! A Job is finished when it has a `Complete` or `Failed` condition with status True
//! (batch/v1 JobStatus; "Job termination and cleanup",
//! <https://kubernetes.io/docs/concepts/workloads/controllers/job/>). Its pod carries the
//! label `batch.kubernetes.io/job-name` (Kubernetes 1.27+; `job-name` before).

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;

use super::condition::{self, Met};
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

/// How long a refusal of the Job's pod that waiting might fix (a quota another pod frees)
/// is given before the run fails.
const REFUSAL_GRACE: Duration = Duration::from_secs(10);

/// Creates `job` (a batch/v1 Job as JSON) and waits up to `timeout` for it to finish.
///
/// Everything waited for is watched, nothing polled: the Job (its end is in its
/// conditions, `condition::until`) and the Job controller's Events about it. A pod the
/// controller cannot create (a ResourceQuota, PodSecurity or a webhook refuses it)
/// never comes and the Job's status does not say so; only a `FailedCreate` Event does.
/// While no pod of the Job exists, a refusal that waiting cannot fix
/// (`readiness::cannot_heal`) fails the run at once, any other after [`REFUSAL_GRACE`].
pub async fn run(cluster: &Cluster, job: &Value, timeout: Duration) -> anyhow::Result<Outcome> {
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
    let ended = condition::until(&api, name, started + timeout, |job: Option<&Job>| {
        job.is_none_or(|job| finished(job).is_some())
    });
    let mut ended = std::pin::pin!(ended);
    let mut refusals = std::pin::pin!(refusals(cluster, namespace, name));
    let grace = tokio::time::sleep_until(started + REFUSAL_GRACE);
    let mut grace = std::pin::pin!(grace);
    let mut refused: Option<String> = None;
    loop {
        tokio::select! {
            ended = &mut ended => {
                let job = match ended {
                    Ok(Met::Now(Some(job))) => job,
                    Ok(Met::Now(None)) => anyhow::bail!(
                        "Job {name:?} in namespace {namespace:?} was deleted before it finished"
                    ),
                    Ok(Met::TimedOut) => {
                        let pod = pod_story(cluster, namespace, name)
                            .await
                            .unwrap_or_else(|| match &refused {
                                Some(why) => format!("its pod was not created: {why}"),
                                None => "its pod was not created".to_string(),
                            });
                        return Ok(Outcome::Unfinished(pod));
                    }
                    Err(e) => anyhow::bail!(errors::describe(
                        &e,
                        &Request {
                            verb: "watch",
                            ..request
                        }
                    )),
                };
                return Ok(if finished(&job) == Some(true) {
                    delete(&api, name).await;
                    Outcome::Succeeded
                } else {
                    let condition = condition_message(&job, "Failed");
                    let pod = pod_story(cluster, namespace, name).await;
                    let why = [pod, condition]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join("; ");
                    Outcome::Failed(if why.is_empty() {
                        "the Job failed".to_string()
                    } else {
                        why
                    })
                });
            }
            Some(why) = refusals.next() => {
                if has_pods(cluster, namespace, name).await {
                    continue;
                }
                if readiness::cannot_heal(&why) || started.elapsed() >= REFUSAL_GRACE {
                    return Ok(Outcome::Failed(format!(
                        "the Job controller cannot create its pod: {why}"
                    )));
                }
                refused = Some(why);
            }
            () = &mut grace, if refused.is_some() => {
                if !has_pods(cluster, namespace, name).await
                    && let Some(why) = refused.take()
                {
                    return Ok(Outcome::Failed(format!(
                        "the Job controller cannot create its pod: {why}"
                    )));
                }
                refused = None;
            }
        }
    }
}

/// The messages of the Job controller's `FailedCreate` Events about Job `job`, the
/// newest seen so far each time one comes (a watch by the `involvedObject.kind` and
/// `involvedObject.name` field selectors, which every API server serves for Events). A watch these credentials may not
/// make, or that breaks, is retried with a backoff and says nothing meanwhile: the
/// Job's own end and the timeout still end the run.
fn refusals(
    cluster: &Cluster,
    namespace: &str,
    job: &str,
) -> impl futures::Stream<Item = String> + Send + use<> {
    let api: Api<Event> = Api::namespaced(cluster.client.clone(), namespace);
    let fields = format!("involvedObject.kind=Job,involvedObject.name={job}");
    let job = job.to_string();
    let mut seen: Vec<Event> = Vec::new();
    watcher::watcher(api, watcher::Config::default().fields(&fields))
        .default_backoff()
        .filter_map(move |event| {
            let why = match event {
                Ok(watcher::Event::Apply(e) | watcher::Event::InitApply(e))
                    if e.reason.as_deref() == Some("FailedCreate") =>
                {
                    seen.push(e);
                    failed_create(&seen, &job)
                }
                _ => None,
            };
            std::future::ready(why)
        })
}

/// Whether any pod of Job `job` exists (an unreadable list counts as none).
async fn has_pods(cluster: &Cluster, namespace: &str, job: &str) -> bool {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let params = ListParams::default()
        .labels(&format!("batch.kubernetes.io/job-name={job}"))
        .limit(1);
    retry::idempotent(|| api.list(&params))
        .await
        .is_ok_and(|pods| !pods.items.is_empty())
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

    /// A one-pod Job in `default` running `image`.
    fn one_pod_job(name: &str, image: &str) -> Value {
        serde_json::json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"backoffLimit": 0, "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "snapshot", "image": image}]}}}
        })
    }

    async fn connect(server: &fake_apiserver::FakeApiServer, dir: &std::path::Path) -> Cluster {
        let target = super::super::Target {
            kubeconfig: Some(server.write_kubeconfig(dir)),
            context: None,
        };
        Cluster::connect(&target).await.expect("connected")
    }

    fn job_reads(server: &fake_apiserver::FakeApiServer) -> Vec<String> {
        server
            .requests()
            .iter()
            .filter(|r| r.resource == "jobs")
            .map(|r| r.verb.clone())
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_is_watched_to_its_end_not_polled() {
        let server = fake_apiserver::FakeApiServer::start_with(fake_apiserver::Options {
            rollout_delay: Some(Duration::from_millis(300)),
            ..Default::default()
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let cluster = connect(&server, dir.path()).await;

        let outcome = run(
            &cluster,
            &one_pod_job("ok", "busybox:1.36"),
            Duration::from_secs(20),
        )
        .await
        .expect("ran");
        assert_eq!(outcome, Outcome::Succeeded);
        // Created, listed and watched once (by name), deleted: never read again and again.
        assert_eq!(job_reads(&server), ["create", "list", "watch", "delete"]);

        server.crash_images("crashing");
        server.clear_requests();
        let outcome = run(
            &cluster,
            &one_pod_job("fails", "registry.example/crashing:1"),
            Duration::from_secs(20),
        )
        .await
        .expect("ran");
        let Outcome::Failed(why) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(why.contains("container snapshot exited 1"), "{why}");
        assert!(why.contains("BackoffLimitExceeded"), "{why}");
        assert_eq!(
            job_reads(&server),
            ["create", "list", "watch"],
            "a failed Job is kept"
        );

        // Not done in time: what its pod is doing.
        server.unpullable_images("nowhere");
        let outcome = run(
            &cluster,
            &one_pod_job("slow", "registry.example/nowhere:1"),
            Duration::from_millis(1500),
        )
        .await
        .expect("ran");
        let Outcome::Unfinished(why) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(why.contains("is waiting: "), "{why}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pod_admission_refuses_fails_the_job_at_once() {
        let server = fake_apiserver::FakeApiServer::start();
        // The credentials clawctl documents: `admin` through a RoleBinding; it watches
        // Jobs and Events and lists pods.
        server.restrict_to_namespaces(&["default"]);
        let dir = tempfile::tempdir().expect("tempdir");
        let cluster = connect(&server, dir.path()).await;
        server
            .apply_as(
                "platform-team",
                serde_json::json!({"apiVersion": "v1", "kind": "ResourceQuota",
                    "metadata": {"name": "no-pods", "namespace": "default"},
                    "spec": {"hard": {"pods": "0"}}}),
                true,
            )
            .expect("quota");
        let started = std::time::Instant::now();
        let outcome = run(
            &cluster,
            &one_pod_job("refused", "busybox:1.36"),
            Duration::from_secs(30),
        )
        .await
        .expect("ran");
        let Outcome::Failed(why) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(
            why.starts_with("the Job controller cannot create its pod: "),
            "{why}"
        );
        assert!(why.contains("exceeded quota"), "{why}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refusal_that_may_pass_is_given_its_grace_first() {
        let server = fake_apiserver::FakeApiServer::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let cluster = connect(&server, dir.path()).await;
        // A suspended Job gets no pod; the controller's Event says a webhook could not be
        // reached, which may pass.
        let mut job = one_pod_job("held", "busybox:1.36");
        job["spec"]["suspend"] = serde_json::json!(true);
        server
            .apply_as(
                "kube-controller-manager",
                serde_json::json!({"apiVersion": "v1", "kind": "Event",
                    "metadata": {"name": "held.1", "namespace": "default"},
                    "involvedObject": {"kind": "Job", "name": "held", "namespace": "default"},
                    "reason": "FailedCreate", "type": "Warning",
                    "lastTimestamp": "2026-12-02T01:00:00Z",
                    "message": "Internal error occurred: failed calling webhook \"x\""}),
                true,
            )
            .expect("event");
        let started = std::time::Instant::now();
        let outcome = run(&cluster, &job, Duration::from_secs(30))
            .await
            .expect("ran");
        let Outcome::Failed(why) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(why.contains("failed calling webhook"), "{why}");
        let took = started.elapsed();
        assert!(
            took >= REFUSAL_GRACE && took < REFUSAL_GRACE + Duration::from_secs(3),
            "{took:?}"
        );
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
