//! batch/v1 Jobs: the Job controller (kube-controller-manager's `job-controller`) and
//! the kubelet's side of a Job's pods, which run to completion instead of forever. Driven
//! by the loop in [`crate::controller`]; the API side (defaults, the generated selector,
//! validation, the orphaning default of DELETE) is in [`crate::api`].
//!
//! What a Job goes through, as a 1.31+ cluster writes it
//! (<https://kubernetes.io/docs/concepts/workloads/controllers/job/>):
//! - the controller sets `startTime` and creates pods named `<job>-<5 chars>` from the
//!   template, owned by the Job (`controller`, `blockOwnerDeletion`), with the
//!   `batch.kubernetes.io/job-tracking` finalizer, up to `parallelism` at once and
//!   `completions` in all; status `active`, `ready`, `terminating: 0`,
//!   `uncountedTerminatedPods: {}`;
//! - each pod is Pending (the kubelet step shared with other pods), then Running and
//!   Ready after `rollout_delay`, then, after another `rollout_delay`, `Succeeded` (every
//!   container `terminated` with exit code 0, reason `Completed`) or, when an (init)
//!   container image matches one of the server's crash images, `Failed` (exit code 1,
//!   reason `Error`, `message` from the container's `CLAWCTL_FAKE_FAILURE` env var or
//!   `fake failure`: what a kubelet shows for `terminationMessagePolicy:
//!   FallbackToLogsOnError`). A pod with an unpullable image stays Pending with
//!   `ErrImagePull`/`ImagePullBackOff`, as other pods do, and the Job stays active;
//! - a finished pod is counted into `succeeded`/`failed` and loses its finalizer in the
//!   same sync (the real controller first lists it in `uncountedTerminatedPods`, which
//!   here is always `{}`); a pod deleted before it finished counts as failed
//!   (podReplacementPolicy TerminatingOrFailed) and is replaced;
//! - enough successes: condition `SuccessCriteriaMet`, then (in a later write)
//!   `Complete` and `completionTime`, both reason `CompletionsReached`;
//! - more failures than `backoffLimit` (failed pods are replaced until then, so a crash
//!   image with the default limit of 6 makes 7 pods), or `activeDeadlineSeconds` (real
//!   time since the fake set `startTime`) passed: condition `FailureTarget`, active pods
//!   deleted, then `Failed` (reason `BackoffLimitExceeded` or `DeadlineExceeded`).
//!
//! Writes are as `kube-controller-manager` (Job status through the `status` subresource)
//! and `kubelet` (pod status). The controller records the real Events about the Job
//! (source `job-controller`): Normal `SuccessfulCreate` (`Created pod: <name>`), Normal
//! `Completed` (`Job completed`), Warning `BackoffLimitExceeded`/`DeadlineExceeded`
//! (the condition's message).
//!
//! Simplifications: no backoff delay before a replacement pod (the real controller waits
//! 10 s, 20 s, ...); `restartPolicy: OnFailure` behaves as `Never` (a failing container
//! fails its pod instead of restarting in place); a suspended Job only gets no pods (no
//! `Suspended` condition, running pods are not deleted); Indexed completion mode,
//! `successPolicy`, `podFailurePolicy`, `backoffLimitPerIndex`, `ttlSecondsAfterFinished`
//! and the controller's Events are not simulated; `completions` absent (a work queue)
//! counts as 1.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::api;
use crate::controller::{
    Controller, Knobs, Timer, controller_owner, image_matches, int, pod_ready,
};
use crate::resources::idx;
use crate::store::{Event, EventType, Store, meta_str};
use crate::util::{new_uid, now_rfc3339, random_suffix, random_u64};

/// The finalizer the Job controller puts on its pods until it has counted them.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";

/// The container env var whose value becomes the `message` of a crash image's
/// terminated state (`fake failure` without it).
pub const FAILURE_ENV: &str = "CLAWCTL_FAKE_FAILURE";

/// The message of a crashed container without [`FAILURE_ENV`].
pub const DEFAULT_FAILURE_MESSAGE: &str = "fake failure";

const COMPLETIONS_REACHED: (&str, &str) = (
    "CompletionsReached",
    "Reached expected number of succeeded pods",
);
const BACKOFF_LIMIT: (&str, &str) = (
    "BackoffLimitExceeded",
    "Job has reached the specified backoff limit",
);
const DEADLINE: (&str, &str) = (
    "DeadlineExceeded",
    "Job was active longer than specified deadline",
);

/// Whether the kubelet runs this pod to completion here: it belongs to a Job (or did, and
/// was orphaned: it still has the Job's `batch.kubernetes.io/job-name` label) and none of
/// its images fails to pull (those stay Pending like any other pod's).
pub(crate) fn runs_to_completion(pod: &Value, knobs: &Knobs) -> bool {
    (controller_owner(pod, "Job").is_some()
        || pod["metadata"]["labels"][api::JOB_NAME_LABEL].is_string())
        && !containers(pod, "initContainers")
            .iter()
            .chain(containers(pod, "containers").iter())
            .any(|c| image_matches(c["image"].as_str().unwrap_or(""), &knobs.unpullable))
}

fn containers(pod: &Value, list: &str) -> Vec<Value> {
    pod["spec"][list].as_array().cloned().unwrap_or_default()
}

fn condition_true(job: &Value, ty: &str) -> bool {
    job["status"]["conditions"]
        .as_array()
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == ty && c["status"] == "True"))
}

fn job_condition(ty: &str, (reason, message): (&str, &str), now: &str) -> Value {
    json!({
        "type": ty, "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
        "reason": reason, "message": message,
    })
}

fn is_terminal(pod: &Value) -> bool {
    matches!(
        pod["status"]["phase"].as_str(),
        Some("Succeeded") | Some("Failed")
    )
}

fn has_tracking_finalizer(pod: &Value) -> bool {
    pod["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| f.iter().any(|f| f == TRACKING_FINALIZER))
}

/// The failure message of a crashing container.
fn failure_message(c: &Value) -> String {
    c["env"]
        .as_array()
        .and_then(|env| {
            env.iter()
                .find(|e| e["name"] == FAILURE_ENV)
                .and_then(|e| e["value"].as_str())
        })
        .unwrap_or(DEFAULT_FAILURE_MESSAGE)
        .to_string()
}

/// An Event about a Job from the Job controller (the event recorder's name: the Job's
/// name, a dot, a unique hex suffix).
fn job_event(store: &mut Store, job: &Value, ty: &str, reason: &str, message: &str) {
    let ns = meta_str(job, "namespace").to_string();
    let name = meta_str(job, "name").to_string();
    let now = now_rfc3339();
    let event = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{name}.{:016x}", random_u64()), "namespace": ns},
        "involvedObject": {"kind": "Job", "namespace": ns, "name": name,
                           "uid": meta_str(job, "uid"), "apiVersion": "batch/v1",
                           "resourceVersion": meta_str(job, "resourceVersion")},
        "reason": reason, "message": message, "type": ty, "count": 1,
        "source": {"component": "job-controller"},
        "firstTimestamp": now, "lastTimestamp": now, "reportingComponent": "job-controller",
        "reportingInstance": "",
    });
    api::controller_create(store, idx("events"), event);
}

impl Controller {
    /// A pod of a Job changed: the Job is reconciled; a pod deleted before it finished
    /// (and not yet counted) will count as failed.
    pub(crate) fn observe_job_pod(&mut self, store: &Store, ev: &Event, ns: &str, job: &str) {
        let pod = &ev.object;
        if ev.kind == EventType::Deleted && !is_terminal(pod) && has_tracking_finalizer(pod) {
            let owner_uid = pod["metadata"]["ownerReferences"]
                .as_array()
                .and_then(|refs| refs.iter().find(|r| r["kind"] == "Job"))
                .and_then(|r| r["uid"].as_str())
                .unwrap_or("");
            if store
                .get(idx("jobs"), ns, job)
                .is_some_and(|j| meta_str(j, "uid") == owner_uid)
            {
                *self.job_lost.entry(owner_uid.to_string()).or_insert(0) += 1;
            }
        }
        self.dirty_jobs.insert((ns.to_string(), job.to_string()));
    }

    /// One sync of a Job: count finished pods, decide success or failure, create or
    /// delete pods, write the status.
    pub(crate) fn reconcile_job(&mut self, store: &mut Store, ns: &str, name: &str) {
        let (job_res, pod_res) = (idx("jobs"), idx("pods"));
        let Some(job) = store.get(job_res, ns, name).cloned() else {
            return;
        };
        if !job["metadata"]["deletionTimestamp"].is_null()
            || condition_true(&job, "Complete")
            || condition_true(&job, "Failed")
        {
            return;
        }
        let uid = meta_str(&job, "uid").to_string();
        let spec = &job["spec"];
        let status = &job["status"];
        let lost = self.job_lost.remove(&uid).unwrap_or(0);
        let mut succeeded = int(&status["succeeded"], 0);
        let mut failed = int(&status["failed"], 0) + lost;
        let pods: Vec<Arc<Value>> = store
            .dependents_of(&uid)
            .into_iter()
            .filter(|(r, _, _)| *r == pod_res)
            .filter_map(|(_, pns, pname)| store.get(pod_res, &pns, &pname).cloned())
            .collect();
        let mut active = Vec::new();
        for p in pods {
            if !is_terminal(&p) {
                active.push(p);
                continue;
            }
            if !has_tracking_finalizer(&p) {
                continue; // counted before
            }
            if p["status"]["phase"] == "Succeeded" {
                succeeded += 1;
            } else {
                failed += 1;
            }
            let mut counted = (*p).clone();
            if let Some(f) = counted["metadata"]["finalizers"].as_array_mut() {
                f.retain(|f| f != TRACKING_FINALIZER);
                if f.is_empty() {
                    counted["metadata"]
                        .as_object_mut()
                        .map(|m| m.remove("finalizers"));
                }
            }
            api::controller_update(store, pod_res, counted);
        }

        let now = now_rfc3339();
        let suspended = spec["suspend"] == json!(true);
        let completions = int(&spec["completions"], 1).max(0);
        let parallelism = int(&spec["parallelism"], 1).max(0);
        let backoff_limit = int(&spec["backoffLimit"], 6).max(0);
        let mut start_time = status["startTime"].as_str().map(str::to_string);
        if start_time.is_none() && !suspended {
            start_time = Some(now.clone());
            self.job_started.insert(uid.clone(), Instant::now());
            if let Some(secs) = spec["activeDeadlineSeconds"].as_i64() {
                self.schedule(
                    Duration::from_secs(secs.max(0) as u64) + Duration::from_millis(10),
                    Timer::Job(ns.to_string(), name.to_string()),
                );
            }
        }
        let deadline_passed = spec["activeDeadlineSeconds"].as_i64().is_some_and(|secs| {
            self.job_started
                .get(&uid)
                .is_some_and(|t| t.elapsed() >= Duration::from_secs(secs.max(0) as u64))
        });

        let mut conditions: Vec<Value> =
            status["conditions"].as_array().cloned().unwrap_or_default();
        let failure_target = conditions
            .iter()
            .find(|c| c["type"] == "FailureTarget" && c["status"] == "True")
            .map(|c| {
                (
                    c["reason"].as_str().unwrap_or("").to_string(),
                    c["message"].as_str().unwrap_or("").to_string(),
                )
            });
        let success_met = condition_true(&job, "SuccessCriteriaMet");
        let mut completion_time = None;
        let mut finishing = failure_target.is_some() || success_met;
        if let Some((reason, message)) = &failure_target {
            // Second step of a failure: once no pod runs any more.
            if active.is_empty() {
                conditions.push(job_condition("Failed", (reason, message), &now));
            }
        } else if success_met {
            if active.is_empty() {
                conditions.push(job_condition("Complete", COMPLETIONS_REACHED, &now));
                completion_time = Some(now.clone());
                job_event(store, &job, "Normal", "Completed", "Job completed");
            }
        } else if failed > backoff_limit {
            conditions.push(job_condition("FailureTarget", BACKOFF_LIMIT, &now));
            job_event(store, &job, "Warning", BACKOFF_LIMIT.0, BACKOFF_LIMIT.1);
            finishing = true;
        } else if deadline_passed {
            conditions.push(job_condition("FailureTarget", DEADLINE, &now));
            job_event(store, &job, "Warning", DEADLINE.0, DEADLINE.1);
            finishing = true;
        } else if succeeded >= completions {
            conditions.push(job_condition(
                "SuccessCriteriaMet",
                COMPLETIONS_REACHED,
                &now,
            ));
            finishing = true;
        }

        if finishing {
            // Finished or about to: no pod may run on (deleted; the deletion counts as a
            // failure on the next sync, while the Job is not finished yet).
            for p in std::mem::take(&mut active) {
                store.delete_cascading(pod_res, ns, meta_str(&p, "name"), false);
            }
        } else if !suspended {
            let wanted = parallelism.min((completions - succeeded).max(0));
            let template = &spec["template"];
            while (active.len() as i64) < wanted {
                let mut meta = template["metadata"].clone();
                if !meta.is_object() {
                    meta = json!({});
                }
                if let Some(m) = meta.as_object_mut() {
                    m.remove("creationTimestamp");
                }
                meta["name"] = json!(format!("{name}-{}", random_suffix(5)));
                meta["generateName"] = json!(format!("{name}-"));
                meta["namespace"] = json!(ns);
                meta["ownerReferences"] = json!([{
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": name,
                    "uid": uid,
                    "controller": true,
                    "blockOwnerDeletion": true,
                }]);
                meta["finalizers"] = json!([TRACKING_FINALIZER]);
                let mut pod_spec = template["spec"].clone();
                pod_spec["nodeName"] = json!("fake-node");
                let pod =
                    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec});
                // Admission refuses the pod: job_controller.go records FailedCreate
                // (`Error creating: <err>`) and retries with backoff; the Job has no
                // condition for it.
                if let Err(e) = crate::admission::admit_pod(store, &pod) {
                    let message = format!("Error creating: {}", e.message());
                    crate::controller::controller_event(
                        store,
                        &job,
                        "job-controller",
                        "FailedCreate",
                        &message,
                    );
                    self.schedule(
                        std::time::Duration::from_millis(500),
                        crate::controller::Timer::Job(ns.to_string(), name.to_string()),
                    );
                    break;
                }
                match api::controller_create(store, pod_res, pod) {
                    Some(p) => {
                        let message = format!("Created pod: {}", meta_str(&p, "name"));
                        job_event(store, &job, "Normal", "SuccessfulCreate", &message);
                        active.push(p);
                    }
                    None => break,
                }
            }
        }

        let ready = active.iter().filter(|p| pod_ready(p)).count();
        api::controller_status(store, job_res, ns, name, "kube-controller-manager", |j| {
            // Field order of batch/v1 JobStatus; zero counts are `omitempty` except the
            // pointer fields `terminating` and `ready`.
            let mut st = serde_json::Map::new();
            if !conditions.is_empty() {
                st.insert("conditions".into(), json!(conditions));
            }
            if let Some(t) = &start_time {
                st.insert("startTime".into(), json!(t));
            }
            if let Some(t) = &completion_time {
                st.insert("completionTime".into(), json!(t));
            }
            for (key, n) in [
                ("active", active.len() as i64),
                ("succeeded", succeeded),
                ("failed", failed),
            ] {
                if n != 0 {
                    st.insert(key.into(), json!(n));
                }
            }
            st.insert("terminating".into(), json!(0));
            st.insert("uncountedTerminatedPods".into(), json!({}));
            st.insert("ready".into(), json!(ready));
            j["status"] = Value::Object(st);
        });
    }

    /// The kubelet's steps for a Job's pod after it was accepted (step 0 is shared with
    /// every pod): step 1 Running (containers started), step 2 Succeeded or Failed.
    pub(crate) fn job_pod_step(
        &mut self,
        store: &mut Store,
        knobs: &Knobs,
        pod: &Value,
        step: u32,
    ) {
        if is_terminal(pod) || step == 0 {
            return;
        }
        let ns = meta_str(pod, "namespace").to_string();
        let name = meta_str(pod, "name").to_string();
        let uid = meta_str(pod, "uid").to_string();
        let inits = containers(pod, "initContainers");
        let mains = containers(pod, "containers");
        let crashes = |c: &Value| image_matches(c["image"].as_str().unwrap_or(""), &knobs.crash);
        let init_crash = inits.iter().position(crashes);
        let finish = step >= 2;
        let now = now_rfc3339();
        let old = pod["status"].clone();
        if !finish {
            self.pod_ips += 1;
        }
        let ip = old["podIP"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!(
                    "10.244.{}.{}",
                    (self.pod_ips + 10) >> 8 & 0xff,
                    (self.pod_ips + 10) & 0xff
                )
            });
        let prev = |list: &str, cname: &Value| -> Value {
            old[list]
                .as_array()
                .and_then(|a| a.iter().find(|s| s["name"] == *cname).cloned())
                .unwrap_or(Value::Null)
        };
        // A container's status; `started_at` of a terminated one is when it began running.
        let status_of = |list: &str, c: &Value, state: &str, exit: Option<(i64, String)>| {
            let image = c["image"].as_str().unwrap_or("");
            let before = prev(list, &c["name"]);
            let container_id = before["containerID"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("containerd://{}", new_uid().replace('-', "")));
            let started_at = before["state"]["running"]["startedAt"]
                .as_str()
                .unwrap_or(&now)
                .to_string();
            let image_id = format!(
                "{image}@sha256:{:064x}",
                crate::util::fnv32a(image.as_bytes())
            );
            let (state, ready, started, image_id, container_id) = match state {
                "waiting" => (
                    json!({"waiting": {"reason": "PodInitializing"}}),
                    false,
                    false,
                    String::new(),
                    None,
                ),
                "running" => (
                    json!({"running": {"startedAt": started_at}}),
                    list == "containerStatuses",
                    list == "containerStatuses",
                    image_id,
                    Some(container_id),
                ),
                _ => {
                    let (code, message) = exit.unwrap_or((0, String::new()));
                    let mut t = json!({
                        "exitCode": code,
                        "reason": if code == 0 { "Completed" } else { "Error" },
                        "startedAt": started_at, "finishedAt": now,
                        "containerID": container_id,
                    });
                    if !message.is_empty() {
                        t["message"] = json!(message);
                    }
                    (
                        json!({"terminated": t}),
                        false,
                        false,
                        image_id,
                        Some(container_id),
                    )
                }
            };
            let mut s = json!({
                "name": c["name"], "image": image, "imageID": image_id,
                "containerID": container_id,
                "state": state, "lastState": {}, "ready": ready,
                "restartCount": 0, "started": started,
            });
            if s["containerID"].is_null()
                && let Some(m) = s.as_object_mut()
            {
                m.remove("containerID");
            }
            s
        };
        let exit_of = |c: &Value| -> (i64, String) {
            if crashes(c) {
                (1, failure_message(c))
            } else {
                (0, String::new())
            }
        };
        let mut init_statuses = Vec::new();
        for (i, c) in inits.iter().enumerate() {
            let state = match init_crash {
                Some(k) if i > k => "waiting",
                Some(k) if i == k && !finish => "running",
                _ => "terminated",
            };
            init_statuses.push(status_of(
                "initContainerStatuses",
                c,
                state,
                Some(exit_of(c)),
            ));
        }
        let mut statuses = Vec::new();
        for c in &mains {
            let state = match (init_crash.is_some(), finish) {
                (true, _) => "waiting",
                (false, false) => "running",
                (false, true) => "terminated",
            };
            statuses.push(status_of("containerStatuses", c, state, Some(exit_of(c))));
        }
        let failed = init_crash.is_some() || mains.iter().any(crashes);
        let phase = match (finish, init_crash.is_some(), failed) {
            (false, true, _) => "Pending",
            (false, false, _) => "Running",
            (true, _, true) => "Failed",
            (true, _, false) => "Succeeded",
        };
        let cond = |ty: &str, ok: bool, reason: &str, message: &str| {
            let mut c = json!({"type": ty, "status": if ok { "True" } else { "False" },
                               "lastProbeTime": null, "lastTransitionTime": now});
            if !reason.is_empty() {
                c["reason"] = json!(reason);
            }
            if !message.is_empty() {
                c["message"] = json!(message);
            }
            c
        };
        let names = |cs: &[Value]| {
            cs.iter()
                .filter_map(|c| c["name"].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let initialized = match init_crash {
            Some(k) => cond(
                "Initialized",
                false,
                "ContainersNotInitialized",
                &format!(
                    "containers with incomplete status: [{}]",
                    names(&inits[k..])
                ),
            ),
            None if phase == "Succeeded" => cond("Initialized", true, "PodCompleted", ""),
            None => cond("Initialized", true, "", ""),
        };
        let (ready_ok, ready_reason, ready_message) = match phase {
            "Running" => (true, "", String::new()),
            "Succeeded" => (false, "PodCompleted", String::new()),
            "Failed" => (false, "PodFailed", String::new()),
            _ => (
                false,
                "ContainersNotReady",
                format!("containers with unready status: [{}]", names(&mains)),
            ),
        };
        let mut st = json!({
            "phase": phase,
            "conditions": [
                cond("PodReadyToStartContainers", !finish, "", ""),
                initialized,
                cond("Ready", ready_ok, ready_reason, &ready_message),
                cond("ContainersReady", ready_ok, ready_reason, &ready_message),
                cond("PodScheduled", true, "", ""),
            ],
            "hostIP": "10.0.0.1",
            "hostIPs": [{"ip": "10.0.0.1"}],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": old["startTime"].as_str().unwrap_or(&now),
            "qosClass": "BestEffort",
            "containerStatuses": statuses,
        });
        if !init_statuses.is_empty() {
            st["initContainerStatuses"] = json!(init_statuses);
        }
        // Keep transition times of conditions that did not change.
        if let (Some(new), Some(old)) = (
            st["conditions"].as_array_mut(),
            old["conditions"].as_array(),
        ) {
            for c in new.iter_mut() {
                if let Some(o) = old
                    .iter()
                    .find(|o| o["type"] == c["type"] && o["status"] == c["status"])
                {
                    c["lastTransitionTime"] = o["lastTransitionTime"].clone();
                }
            }
        }
        api::controller_status(store, idx("pods"), &ns, &name, "kubelet", |p| {
            p["status"] = st;
        });
        if !finish {
            self.schedule(knobs.delay, Timer::Pod(ns, name, uid, step + 1));
        }
    }
}
