//! Simulated controllers, on their own task, driven by the store's event history and
//! timers: Deployment -> ReplicaSet -> Pods (with a kubelet that starts, crash-loops or
//! fails to pull), the garbage collector's namespace finalisation, PVC binding (or, for a
//! StorageClass that does not exist, a `ProvisioningFailed` event and a retry), the
//! scheduler's wait for unbound claims, and the per-namespace `default` ServiceAccount and
//! `kube-root-ca.crt` ConfigMap.
//!
//! Simplifications (vs kube-controller-manager and a kubelet):
//! - RollingUpdate surges the new ReplicaSet to the full replica count at once and scales
//!   the old ones to zero when the new one is fully available (for one replica with the
//!   default 25%/25% this is exactly the real sequence); Recreate scales old ReplicaSets
//!   to zero and, pods being deleted immediately, creates the new one in the same step;
//! - pods are Pending until `rollout_delay` has passed, then Running and Ready (no
//!   probes, no minReadySeconds); crash-looping containers gain one restart per delay;
//! - status writes are recorded as the real managers do (`kube-controller-manager` and
//!   `kubelet`, subresource `status`), but with the fake's own timing;
//! - no collision counts, no pod disruption, no scheduling: every pod lands on node
//!   `fake-node`; pod IPs are counted up from 10.244.0.10.
//!
//! The Job controller and the kubelet's handling of a Job's pods live in [`crate::jobs`].

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::api;
use crate::resources::{RESOURCES, idx};
use crate::server::{Shared, lock};
use crate::store::{EventType, Store, meta_str};
use crate::util::{new_uid, now_rfc3339, pod_template_hash, random_suffix};

const REVISION: &str = "deployment.kubernetes.io/revision";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// Kubelet step `n` of a pod (ns, name, uid).
    Pod(String, String, String, u32),
    PvcBind(String, String),
    NamespaceFinalize(String),
    /// Re-check a Deployment's progress deadline.
    Deployment(String, String),
    /// Re-check a Job (its activeDeadlineSeconds).
    Job(String, String),
}

/// Settings snapshot for one reconcile round.
pub(crate) struct Knobs {
    pub(crate) delay: Duration,
    pub(crate) crash: Vec<String>,
    pub(crate) unpullable: Vec<String>,
}

#[derive(Default)]
pub(crate) struct Controller {
    timers: BinaryHeap<Reverse<(Instant, Timer)>>,
    /// When each Deployment last made progress (for progressDeadlineSeconds).
    progress: HashMap<(String, String), Instant>,
    pub(crate) pod_ips: u32,
    /// Jobs (ns, name) to reconcile in this round.
    pub(crate) dirty_jobs: BTreeSet<(String, String)>,
    /// When each Job (by uid) got its startTime, for activeDeadlineSeconds.
    pub(crate) job_started: HashMap<String, Instant>,
    /// Pods of each Job (by uid) deleted before they finished, not yet counted as failed.
    pub(crate) job_lost: HashMap<String, i64>,
}

pub(crate) fn controller_owner(obj: &Value, kind: &str) -> Option<String> {
    obj["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find_map(|r| {
            (r["kind"] == kind && r["controller"] == json!(true))
                .then(|| r["name"].as_str().map(str::to_string))
                .flatten()
        })
}

pub(crate) fn int(v: &Value, default: i64) -> i64 {
    v.as_i64().unwrap_or(default)
}

fn revision(rs: &Value) -> i64 {
    rs["metadata"]["annotations"][REVISION]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Resolves an int-or-percent against a total (`round_up` for maxSurge).
fn int_or_percent(v: &Value, total: i64, round_up: bool) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(p) if round_up => (p * total + 99) / 100,
            Some(p) => p * total / 100,
            None => s.parse().unwrap_or(0),
        },
        _ => 0,
    }
}

/// Sets a condition as the Deployment controller's `SetDeploymentCondition` does.
fn set_condition(conds: &mut Vec<Value>, ty: &str, status: &str, reason: &str, message: &str) {
    let now = now_rfc3339();
    let current = conds.iter().position(|c| c["type"] == ty);
    let mut transition = now.clone();
    if let Some(i) = current {
        let c = &conds[i];
        if c["status"] == status && c["reason"] == reason {
            return;
        }
        if c["status"] == status {
            transition = c["lastTransitionTime"].as_str().unwrap_or(&now).to_string();
        }
        conds.remove(i);
    }
    conds.push(json!({
        "type": ty,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": transition,
        "reason": reason,
        "message": message,
    }));
}

pub(crate) fn image_matches(image: &str, patterns: &[String]) -> bool {
    patterns
        .iter()
        .any(|p| !p.is_empty() && image.contains(p.as_str()))
}

impl Controller {
    pub(crate) fn schedule(&mut self, after: Duration, t: Timer) {
        self.timers.push(Reverse((Instant::now() + after, t)));
    }

    /// Creates and deletes pods of a ReplicaSet to match its replicas; updates its status.
    fn reconcile_rs(&mut self, store: &mut Store, ns: &str, name: &str) {
        let (rs_res, pod_res) = (idx("replicasets"), idx("pods"));
        let Some(rs) = store.get(rs_res, ns, name).cloned() else {
            return;
        };
        let desired = int(&rs["spec"]["replicas"], 1).max(0) as usize;
        let uid = meta_str(&rs, "uid").to_string();
        let mut pods: Vec<Arc<Value>> = store
            .dependents_of(&uid)
            .into_iter()
            .filter(|(r, _, _)| *r == pod_res)
            .filter_map(|(_, pns, pname)| store.get(pod_res, &pns, &pname).cloned())
            .collect();
        let mut failure: Option<String> = None;
        while pods.len() < desired {
            let template = &rs["spec"]["template"];
            let pod_name = format!("{name}-{}", random_suffix(5));
            let mut meta = template["metadata"].clone();
            if !meta.is_object() {
                meta = json!({});
            }
            if let Some(m) = meta.as_object_mut() {
                m.remove("creationTimestamp");
            }
            meta["name"] = json!(pod_name);
            meta["namespace"] = json!(ns);
            meta["ownerReferences"] = json!([{
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": name,
                "uid": uid,
                "controller": true,
                "blockOwnerDeletion": true,
            }]);
            let mut spec = template["spec"].clone();
            spec["nodeName"] = json!("fake-node");
            let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec});
            // The pod create goes through admission like any other (Pod Security, quota).
            if let Err(e) = crate::admission::admit_pod(store, &pod) {
                failure = Some(e.message().to_string());
                break;
            }
            match api::controller_create(store, pod_res, pod) {
                Some(p) => pods.push(p),
                None => break,
            }
        }
        if let Some(message) = &failure {
            // What controller_utils' createPods records on the owner, and the event
            // recorder's aggregation of repeats.
            controller_event(
                store,
                &rs,
                "replicaset-controller",
                "FailedCreate",
                &format!("Error creating: {message}"),
            );
        }
        if pods.len() > desired {
            // Not-ready pods go first, then the newest.
            pods.sort_by_key(|p| (!pod_ready(p), meta_str(p, "creationTimestamp").to_string()));
            for p in pods.split_off(desired) {
                store.delete_cascading(pod_res, ns, meta_str(&p, "name"), false);
            }
        }
        let ready = pods.iter().filter(|p| pod_ready(p)).count();
        let generation = rs["metadata"]["generation"].clone();
        api::controller_status(store, rs_res, ns, name, "kube-controller-manager", |rs| {
            let mut st = json!({"replicas": pods.len()});
            if !pods.is_empty() {
                st["fullyLabeledReplicas"] = json!(pods.len());
            }
            if ready > 0 {
                st["readyReplicas"] = json!(ready);
                st["availableReplicas"] = json!(ready);
            }
            st["observedGeneration"] = generation;
            // replica_set.go calculateStatus: a failed create sets ReplicaFailure (kept,
            // with its first message, while creates keep failing); a good sync removes it.
            let kept = rs["status"]["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == "ReplicaFailure"))
                .cloned();
            match (&failure, kept) {
                (Some(_), Some(c)) => st["conditions"] = json!([c]),
                (Some(message), None) => {
                    st["conditions"] = json!([{
                        "type": "ReplicaFailure", "status": "True",
                        "lastTransitionTime": now_rfc3339(),
                        "reason": "FailedCreate", "message": message,
                    }]);
                }
                (None, _) => {}
            }
            rs["status"] = st;
        });
    }

    fn scale_rs(&mut self, store: &mut Store, rs: &Value, replicas: i64) {
        if int(&rs["spec"]["replicas"], 1) == replicas {
            return;
        }
        let mut new = rs.clone();
        new["spec"]["replicas"] = json!(replicas);
        new["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
            json!(replicas.to_string());
        api::controller_update(store, idx("replicasets"), new);
    }

    fn reconcile_deployment(&mut self, store: &mut Store, ns: &str, name: &str) {
        let (d_res, rs_res) = (idx("deployments"), idx("replicasets"));
        let Some(d) = store.get(d_res, ns, name).cloned() else {
            self.progress.remove(&(ns.to_string(), name.to_string()));
            return;
        };
        if !d["metadata"]["deletionTimestamp"].is_null() {
            return;
        }
        let uid = meta_str(&d, "uid").to_string();
        let spec = &d["spec"];
        let desired = int(&spec["replicas"], 1).max(0);
        let template = spec["template"].clone();
        let hash = pod_template_hash(&template);
        let new_name = format!("{name}-{hash}");
        let recreate = spec["strategy"]["type"] == "Recreate";
        let paused = spec["paused"] == json!(true);
        let owned = |store: &Store| -> Vec<Arc<Value>> {
            store
                .dependents_of(&uid)
                .into_iter()
                .filter(|(r, _, _)| *r == rs_res)
                .filter_map(|(_, rns, rname)| store.get(rs_res, &rns, &rname).cloned())
                .collect()
        };
        let rss = owned(store);
        let max_rev = rss.iter().map(|r| revision(r)).max().unwrap_or(0);
        let mut created_new = false;
        if !paused {
            if recreate {
                for old in rss.iter().filter(|r| meta_str(r, "name") != new_name) {
                    self.scale_rs(store, old, 0);
                    self.reconcile_rs(store, ns, meta_str(old, "name"));
                }
            }
            match rss.iter().find(|r| meta_str(r, "name") == new_name) {
                None => {
                    let mut labels = template["metadata"]["labels"].clone();
                    if !labels.is_object() {
                        labels = json!({});
                    }
                    labels["pod-template-hash"] = json!(hash);
                    let mut rs_template = template.clone();
                    rs_template["metadata"]["labels"] = labels.clone();
                    let mut selector = spec["selector"].clone();
                    selector["matchLabels"]["pod-template-hash"] = json!(hash);
                    let max_surge = int_or_percent(
                        &spec["strategy"]["rollingUpdate"]["maxSurge"],
                        desired,
                        true,
                    );
                    let rs = json!({
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "metadata": {
                            "name": new_name,
                            "namespace": ns,
                            "labels": labels,
                            "annotations": {
                                "deployment.kubernetes.io/desired-replicas": desired.to_string(),
                                "deployment.kubernetes.io/max-replicas": (desired + if recreate { 0 } else { max_surge }).to_string(),
                                REVISION: (max_rev + 1).to_string(),
                            },
                            "ownerReferences": [{
                                "apiVersion": "apps/v1",
                                "kind": "Deployment",
                                "name": name,
                                "uid": uid,
                                "controller": true,
                                "blockOwnerDeletion": true,
                            }],
                        },
                        "spec": {
                            "replicas": desired,
                            "minReadySeconds": spec["minReadySeconds"].as_i64().unwrap_or(0),
                            "selector": selector,
                            "template": rs_template,
                        },
                    });
                    if api::controller_create(store, rs_res, rs).is_some() {
                        created_new = true;
                    }
                }
                Some(rs) => {
                    self.scale_rs(store, rs, desired);
                    if revision(rs) < max_rev {
                        // Back to an older template: that ReplicaSet becomes the newest revision.
                        if let Some(live) = store.get(rs_res, ns, &new_name).cloned() {
                            let mut new = (*live).clone();
                            new["metadata"]["annotations"][REVISION] =
                                json!((max_rev + 1).to_string());
                            api::controller_update(store, rs_res, new);
                        }
                    }
                }
            }
            self.reconcile_rs(store, ns, &new_name);
            if !recreate {
                let new_ready = store
                    .get(rs_res, ns, &new_name)
                    .map(|r| int(&r["status"]["availableReplicas"], 0) >= desired)
                    .unwrap_or(false);
                if new_ready {
                    for old in owned(store)
                        .iter()
                        .filter(|r| meta_str(r, "name") != new_name)
                    {
                        self.scale_rs(store, old, 0);
                        self.reconcile_rs(store, ns, meta_str(old, "name"));
                    }
                }
            }
            // revisionHistoryLimit: drop the oldest idle ReplicaSets.
            let limit = int(&spec["revisionHistoryLimit"], 10).max(0) as usize;
            let mut idle: Vec<Arc<Value>> = owned(store)
                .into_iter()
                .filter(|r| {
                    meta_str(r, "name") != new_name
                        && int(&r["spec"]["replicas"], 1) == 0
                        && int(&r["status"]["replicas"], 0) == 0
                })
                .collect();
            if idle.len() > limit {
                idle.sort_by_key(|r| revision(r));
                for r in &idle[..idle.len() - limit] {
                    store.delete_cascading(rs_res, ns, meta_str(r, "name"), false);
                }
            }
        }

        // Status.
        let rss = owned(store);
        let new_rs = rss
            .iter()
            .find(|r| meta_str(r, "name") == new_name)
            .cloned();
        let sum = |f: &dyn Fn(&Value) -> i64| rss.iter().map(|r| f(r)).sum::<i64>();
        let replicas = sum(&|r| int(&r["status"]["replicas"], 0));
        let updated = new_rs
            .as_ref()
            .map_or(0, |r| int(&r["status"]["replicas"], 0));
        let ready = sum(&|r| int(&r["status"]["readyReplicas"], 0));
        let available = sum(&|r| int(&r["status"]["availableReplicas"], 0));
        let total_spec = sum(&|r| int(&r["spec"]["replicas"], 1));
        let unavailable = (total_spec - available).max(0);
        let max_unavailable = if recreate || desired == 0 {
            0
        } else {
            let ru = &spec["strategy"]["rollingUpdate"];
            let mu = int_or_percent(&ru["maxUnavailable"], desired, false);
            let ms = int_or_percent(&ru["maxSurge"], desired, true);
            if mu == 0 && ms == 0 {
                1
            } else {
                mu.min(desired)
            }
        };
        let complete = updated == desired && replicas == desired && available == desired;
        let old_status = d["status"].clone();
        let improved = updated > int(&old_status["updatedReplicas"], 0)
            || ready > int(&old_status["readyReplicas"], 0)
            || available > int(&old_status["availableReplicas"], 0)
            || replicas < int(&old_status["replicas"], 0);
        let key = (ns.to_string(), name.to_string());
        let deadline =
            Duration::from_secs(int(&spec["progressDeadlineSeconds"], 600).max(0) as u64);
        if created_new || improved || complete || !self.progress.contains_key(&key) {
            self.progress.insert(key.clone(), Instant::now());
            if !complete && !paused {
                self.schedule(
                    deadline + Duration::from_millis(10),
                    Timer::Deployment(key.0.clone(), key.1.clone()),
                );
            }
        }
        let stalled = !complete
            && self
                .progress
                .get(&key)
                .is_some_and(|since| since.elapsed() >= deadline);
        let new_rs_name = new_rs
            .as_ref()
            .map(|r| meta_str(r, "name").to_string())
            .unwrap_or(new_name.clone());
        let new_revision = new_rs.as_ref().map(|r| revision(r));
        let failure_of = |r: &Arc<Value>| {
            r["status"]["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == "ReplicaFailure"))
                .cloned()
        };
        let replica_failure = new_rs
            .as_ref()
            .and_then(failure_of)
            .or_else(|| rss.iter().find_map(failure_of));
        let generation = d["metadata"]["generation"].clone();
        api::controller_status(store, d_res, ns, name, "kube-controller-manager", |d| {
            let mut conds: Vec<Value> = d["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let progressing = |conds: &mut Vec<Value>| {
                if paused {
                    set_condition(
                        conds,
                        "Progressing",
                        "Unknown",
                        "DeploymentPaused",
                        "Deployment is paused",
                    );
                } else if complete {
                    set_condition(
                        conds,
                        "Progressing",
                        "True",
                        "NewReplicaSetAvailable",
                        &format!("ReplicaSet {new_rs_name:?} has successfully progressed."),
                    );
                } else if stalled {
                    set_condition(
                        conds,
                        "Progressing",
                        "False",
                        "ProgressDeadlineExceeded",
                        &format!("ReplicaSet {new_rs_name:?} has timed out progressing."),
                    );
                } else if created_new {
                    set_condition(
                        conds,
                        "Progressing",
                        "True",
                        "NewReplicaSetCreated",
                        &format!("Created new replica set {new_rs_name:?}"),
                    );
                } else if improved || !conds.iter().any(|c| c["type"] == "Progressing") {
                    set_condition(
                        conds,
                        "Progressing",
                        "True",
                        "ReplicaSetUpdated",
                        &format!("ReplicaSet {new_rs_name:?} is progressing."),
                    );
                }
            };
            if created_new {
                progressing(&mut conds);
            }
            if available >= desired - max_unavailable {
                set_condition(
                    &mut conds,
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                );
            } else {
                set_condition(
                    &mut conds,
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                );
            }
            if !created_new {
                progressing(&mut conds);
            }
            let mut st = json!({"observedGeneration": generation});
            for (k, v) in [
                ("replicas", replicas),
                ("updatedReplicas", updated),
                ("readyReplicas", ready),
                ("availableReplicas", available),
                ("unavailableReplicas", unavailable),
            ] {
                if v != 0 {
                    st[k] = json!(v);
                }
            }
            // sync.go syncRolloutStatus: the ReplicaSets' ReplicaFailure moves onto the
            // Deployment (the new ReplicaSet's first), and leaves with them.
            conds.retain(|c| c["type"] != "ReplicaFailure");
            if let Some(f) = &replica_failure {
                conds.push(f.clone());
            }
            st["conditions"] = json!(conds);
            d["status"] = st;
            if let Some(rev) = new_revision {
                if !d["metadata"]["annotations"].is_object() {
                    d["metadata"]["annotations"] = json!({});
                }
                d["metadata"]["annotations"][REVISION] = json!(rev.to_string());
            }
        });
    }

    /// One kubelet step for a pod.
    fn pod_step(
        &mut self,
        store: &mut Store,
        knobs: &Knobs,
        ns: &str,
        name: &str,
        uid: &str,
        step: u32,
    ) {
        let pod_res = idx("pods");
        let Some(pod) = store.get(pod_res, ns, name).cloned() else {
            return;
        };
        if meta_str(&pod, "uid") != uid {
            return;
        }
        let now = now_rfc3339();
        if step == 0 && !claims_bound(store, ns, &pod) {
            // The scheduler's VolumeBinding plugin: a pod whose immediate-binding claim is
            // not bound yet stays Pending and unschedulable; it is retried.
            let unscheduled = pod["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "PodScheduled" && c["status"] == "False")
            });
            api::controller_status(store, pod_res, ns, name, "kube-scheduler", |p| {
                if unscheduled {
                    return;
                }
                p["status"] = json!({
                    "phase": "Pending",
                    "conditions": [{
                        "type": "PodScheduled", "status": "False", "lastProbeTime": null,
                        "lastTransitionTime": now, "reason": "Unschedulable",
                        "message": "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
                    }],
                    "qosClass": "BestEffort",
                });
            });
            self.schedule(
                knobs.delay.max(Duration::from_millis(100)),
                Timer::Pod(ns.into(), name.into(), uid.into(), 0),
            );
            return;
        }
        if step == 0 {
            // Accepted by the kubelet: scheduled, containers being created.
            api::controller_status(store, pod_res, ns, name, "kubelet", |p| {
                let waiting = |c: &Value, reason: &str| {
                    json!({
                        "name": c["name"], "image": c["image"], "imageID": "",
                        "state": {"waiting": {"reason": reason}},
                        "lastState": {}, "ready": false, "restartCount": 0, "started": false,
                    })
                };
                let inits: Vec<Value> = p["spec"]["initContainers"]
                    .as_array()
                    .map(|cs| cs.iter().map(|c| waiting(c, "PodInitializing")).collect())
                    .unwrap_or_default();
                let cs: Vec<Value> = p["spec"]["containers"]
                    .as_array()
                    .map(|cs| cs.iter().map(|c| waiting(c, "ContainerCreating")).collect())
                    .unwrap_or_default();
                let mut st = json!({
                    "phase": "Pending",
                    "conditions": [
                        {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now},
                    ],
                    "hostIP": "10.0.0.1",
                    "hostIPs": [{"ip": "10.0.0.1"}],
                    "startTime": now,
                    "qosClass": "BestEffort",
                    "containerStatuses": cs,
                });
                if !inits.is_empty() {
                    st["initContainerStatuses"] = json!(inits);
                }
                p["status"] = st;
            });
            self.schedule(
                knobs.delay,
                Timer::Pod(ns.into(), name.into(), uid.into(), 1),
            );
            return;
        }
        if crate::jobs::runs_to_completion(&pod, knobs) {
            self.job_pod_step(store, knobs, &pod, step);
            return;
        }
        self.pod_ips += 1;
        let ip = format!(
            "10.244.{}.{}",
            (self.pod_ips + 10) >> 8 & 0xff,
            (self.pod_ips + 10) & 0xff
        );
        let mut again = false;
        let container_id = || format!("containerd://{}", new_uid().replace('-', ""));
        api::controller_status(store, pod_res, ns, name, "kubelet", |p| {
            let old_status = p["status"].clone();
            let prev = |list: &str, cname: &Value| -> Value {
                old_status[list]
                    .as_array()
                    .and_then(|a| a.iter().find(|s| s["name"] == *cname).cloned())
                    .unwrap_or(Value::Null)
            };
            let pod_ref = format!("{name}_{ns}({uid})");
            let mut blocked = false; // an init container failed: later ones wait
            let state_of = |list: &str,
                            c: &Value,
                            init: bool,
                            blocked_before: bool|
             -> (Value, bool) {
                let image = c["image"].as_str().unwrap_or("");
                let cname = &c["name"];
                let base = |state: Value,
                            last: Value,
                            ready: bool,
                            restarts: i64,
                            started: bool| {
                    json!({
                        "name": cname, "image": image,
                        "imageID": if ready || started { format!("{image}@sha256:{:064x}", crate::util::fnv32a(image.as_bytes())) } else { String::new() },
                        "containerID": container_id(),
                        "state": state, "lastState": last, "ready": ready,
                        "restartCount": restarts, "started": started,
                    })
                };
                if blocked_before {
                    return (
                        base(
                            json!({"waiting": {"reason": "PodInitializing"}}),
                            json!({}),
                            false,
                            0,
                            false,
                        ),
                        false,
                    );
                }
                if image_matches(image, &knobs.unpullable) {
                    let (reason, message) = if step % 2 == 1 {
                        (
                            "ErrImagePull",
                            format!(
                                "failed to pull and unpack image {image:?}: failed to resolve reference {image:?}: not found"
                            ),
                        )
                    } else {
                        (
                            "ImagePullBackOff",
                            format!("Back-off pulling image {image:?}"),
                        )
                    };
                    let mut s = base(
                        json!({"waiting": {"reason": reason, "message": message}}),
                        json!({}),
                        false,
                        0,
                        false,
                    );
                    s["imageID"] = json!("");
                    if let Some(m) = s.as_object_mut() {
                        m.remove("containerID");
                    }
                    return (s, false);
                }
                if image_matches(image, &knobs.crash) {
                    let restarts = int(&prev(list, cname)["restartCount"], -1) + 1;
                    let finished = now.clone();
                    let state = json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off {}s restarting failed container={} pod={pod_ref}", 10u64 << restarts.clamp(0, 5), cname.as_str().unwrap_or(""))}});
                    let last = json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": finished, "finishedAt": finished, "containerID": container_id()}});
                    return (base(state, last, false, restarts.max(0), false), false);
                }
                if init {
                    (
                        base(
                            json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now, "containerID": container_id()}}),
                            json!({}),
                            true,
                            0,
                            false,
                        ),
                        true,
                    )
                } else {
                    (
                        base(
                            json!({"running": {"startedAt": now}}),
                            json!({}),
                            true,
                            0,
                            true,
                        ),
                        true,
                    )
                }
            };
            let mut inits = Vec::new();
            for c in p["spec"]["initContainers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                let (s, ok) = state_of("initContainerStatuses", &c, true, blocked);
                if !ok {
                    blocked = true;
                }
                inits.push(s);
            }
            let mut cs = Vec::new();
            let mut all_ready = true;
            let mut unready = Vec::new();
            let mut any_running_or_crash = false;
            for c in p["spec"]["containers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                let (s, ok) = state_of("containerStatuses", &c, false, blocked);
                if !ok {
                    all_ready = false;
                    unready.push(c["name"].as_str().unwrap_or("").to_string());
                }
                if ok || s["state"]["waiting"]["reason"] == "CrashLoopBackOff" {
                    any_running_or_crash = true;
                }
                cs.push(s);
            }
            again = !all_ready;
            let cond = |ty: &str, ok: bool, reason: &str, msg: &str| {
                let mut c = json!({"type": ty, "status": if ok { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": now});
                if !ok && !reason.is_empty() {
                    c["reason"] = json!(reason);
                    c["message"] = json!(msg);
                }
                c
            };
            let unready_msg = format!("containers with unready status: [{}]", unready.join(" "));
            let init_ok = !blocked;
            let phase = if init_ok && any_running_or_crash {
                "Running"
            } else {
                "Pending"
            };
            let mut st = json!({
                "phase": phase,
                "conditions": [
                    cond("PodReadyToStartContainers", true, "", ""),
                    cond("Initialized", init_ok, "ContainersNotInitialized", "containers with incomplete status: [init]"),
                    cond("Ready", all_ready, "ContainersNotReady", &unready_msg),
                    cond("ContainersReady", all_ready, "ContainersNotReady", &unready_msg),
                    cond("PodScheduled", true, "", ""),
                ],
                "hostIP": "10.0.0.1",
                "hostIPs": [{"ip": "10.0.0.1"}],
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "startTime": old_status["startTime"].as_str().unwrap_or(&now),
                "qosClass": "BestEffort",
                "containerStatuses": cs,
            });
            if !inits.is_empty() {
                st["initContainerStatuses"] = json!(inits);
            }
            // Keep transition times of conditions that did not change.
            if let (Some(new), Some(old)) = (
                st["conditions"].as_array_mut(),
                old_status["conditions"].as_array(),
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
            // A running container keeps its start time and id across steps.
            if let (Some(new), Some(old)) = (
                st["containerStatuses"].as_array_mut(),
                old_status["containerStatuses"].as_array(),
            ) {
                for c in new.iter_mut() {
                    if let Some(o) = old
                        .iter()
                        .find(|o| o["name"] == c["name"] && !o["state"]["running"].is_null())
                        && !c["state"]["running"].is_null()
                    {
                        *c = o.clone();
                    }
                }
            }
            p["status"] = st;
        });
        if again {
            self.schedule(
                knobs.delay,
                Timer::Pod(ns.into(), name.into(), uid.into(), step + 1),
            );
        }
    }

    fn fire(
        &mut self,
        store: &mut Store,
        knobs: &Knobs,
        t: Timer,
        dirty: &mut BTreeSet<(String, String)>,
    ) {
        match t {
            Timer::Pod(ns, name, uid, step) => self.pod_step(store, knobs, &ns, &name, &uid, step),
            Timer::PvcBind(ns, name) => {
                let pvc_res = idx("persistentvolumeclaims");
                let Some(pvc) = store.get(pvc_res, &ns, &name).cloned() else {
                    return;
                };
                if pvc["status"]["phase"] == "Bound" {
                    return;
                }
                let class = pvc["spec"]["storageClassName"]
                    .as_str()
                    .unwrap_or(crate::DEFAULT_STORAGE_CLASS)
                    .to_string();
                if store.get(idx("storageclasses"), "", &class).is_none() {
                    // What the persistent volume controller does: an event, and a retry
                    // with backoff (here a fixed period) until the class appears.
                    claim_event(
                        store,
                        &pvc,
                        "ProvisioningFailed",
                        &format!("storageclass.storage.k8s.io \"{class}\" not found"),
                    );
                    self.schedule(
                        (knobs.delay * 5).max(Duration::from_millis(500)),
                        Timer::PvcBind(ns, name),
                    );
                    return;
                }
                let volume = format!("pvc-{}", meta_str(&pvc, "uid"));
                let mut new = (*pvc).clone();
                new["spec"]["volumeName"] = json!(volume);
                if new["spec"]["storageClassName"].is_null() {
                    new["spec"]["storageClassName"] = json!(class);
                }
                let ann = &mut new["metadata"]["annotations"];
                if !ann.is_object() {
                    *ann = json!({});
                }
                ann["pv.kubernetes.io/bind-completed"] = json!("yes");
                ann["pv.kubernetes.io/bound-by-controller"] = json!("yes");
                api::controller_update(store, pvc_res, new);
                let capacity = pvc["spec"]["resources"]["requests"]["storage"].clone();
                let modes = pvc["spec"]["accessModes"].clone();
                api::controller_status(
                    store,
                    pvc_res,
                    &ns,
                    &name,
                    "kube-controller-manager",
                    |p| {
                        p["status"] = json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": capacity}});
                    },
                );
            }
            Timer::NamespaceFinalize(name) => {
                let ns_res = idx("namespaces");
                if store
                    .get(ns_res, "", &name)
                    .is_some_and(|n| !n["metadata"]["deletionTimestamp"].is_null())
                {
                    store.delete_namespace_content(&name);
                    store.remove(ns_res, "", &name);
                }
            }
            Timer::Deployment(ns, name) => {
                dirty.insert((ns, name));
            }
            Timer::Job(ns, name) => {
                self.dirty_jobs.insert((ns, name));
            }
        }
    }

    /// Reacts to one stored change.
    fn observe(
        &mut self,
        store: &mut Store,
        knobs: &Knobs,
        ev: &crate::store::Event,
        deployments: &mut BTreeSet<(String, String)>,
        replicasets: &mut BTreeSet<(String, String)>,
    ) {
        let plural = RESOURCES[ev.res].plural;
        let obj = &ev.object;
        let ns = meta_str(obj, "namespace").to_string();
        let name = meta_str(obj, "name").to_string();
        match plural {
            "deployments" if ev.kind != EventType::Deleted => {
                deployments.insert((ns, name));
            }
            "replicasets" => {
                if let Some(d) = controller_owner(obj, "Deployment") {
                    deployments.insert((ns.clone(), d));
                }
                if ev.kind != EventType::Deleted {
                    replicasets.insert((ns, name));
                }
            }
            "pods" => {
                if ev.kind == EventType::Added {
                    self.schedule(
                        Duration::ZERO,
                        Timer::Pod(ns.clone(), name.clone(), meta_str(obj, "uid").into(), 0),
                    );
                }
                if let Some(job) = controller_owner(obj, "Job") {
                    self.observe_job_pod(store, ev, &ns, &job);
                }
                if let Some(rs) = controller_owner(obj, "ReplicaSet") {
                    replicasets.insert((ns, rs));
                }
            }
            "jobs" => {
                if ev.kind == EventType::Deleted {
                    let uid = meta_str(obj, "uid");
                    self.job_started.remove(uid);
                    self.job_lost.remove(uid);
                } else {
                    self.dirty_jobs.insert((ns, name));
                }
            }
            "namespaces" => {
                if ev.kind == EventType::Added {
                    for (res, o) in [
                        (
                            "serviceaccounts",
                            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}}),
                        ),
                        (
                            "configmaps",
                            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt", "namespace": name, "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}}, "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n"}}),
                        ),
                    ] {
                        if store.get(idx(res), &name, meta_str(&o, "name")).is_none() {
                            api::controller_create(store, idx(res), o);
                        }
                    }
                }
                if ev.kind == EventType::Modified && !obj["metadata"]["deletionTimestamp"].is_null()
                {
                    self.schedule(knobs.delay, Timer::NamespaceFinalize(name));
                }
            }
            "persistentvolumeclaims" if ev.kind == EventType::Added => {
                self.schedule(knobs.delay / 2, Timer::PvcBind(ns, name));
            }
            _ => {}
        }
    }
}

/// Whether every PersistentVolumeClaim the pod mounts is Bound.
fn claims_bound(store: &Store, ns: &str, pod: &Value) -> bool {
    pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["persistentVolumeClaim"]["claimName"].as_str())
        .all(|claim| {
            store
                .get(idx("persistentvolumeclaims"), ns, claim)
                .is_some_and(|c| c["status"]["phase"] == "Bound")
        })
}

/// A Warning event about a claim from the persistent volume controller.
fn claim_event(store: &mut Store, pvc: &Value, reason: &str, message: &str) {
    controller_event(store, pvc, "persistentvolume-controller", reason, message);
}

/// A Warning event about `obj` from a controller; a repeat of the same reason and message
/// bumps the count of the existing event, as the event recorder aggregates them (one
/// event per object, reason and message here, named `<object>.<uid prefix><hash>`).
pub(crate) fn controller_event(
    store: &mut Store,
    obj: &Value,
    component: &str,
    reason: &str,
    message: &str,
) {
    let ns = meta_str(obj, "namespace").to_string();
    let object = meta_str(obj, "name").to_string();
    let uid = meta_str(obj, "uid").replace('-', "");
    let first = uid.len().min(8);
    let name = format!(
        "{object}.{}{:08x}",
        &uid[..first],
        crate::util::fnv32a(format!("{reason}/{message}").as_bytes())
    );
    let now = now_rfc3339();
    let res = idx("events");
    if let Some(existing) = store.get(res, &ns, &name).cloned() {
        let mut event = (*existing).clone();
        event["count"] = json!(event["count"].as_i64().unwrap_or(1) + 1);
        event["lastTimestamp"] = json!(now);
        api::controller_update(store, res, event);
        return;
    }
    let event = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": {"kind": obj["kind"], "namespace": ns, "name": object,
                           "uid": meta_str(obj, "uid"), "apiVersion": obj["apiVersion"],
                           "resourceVersion": meta_str(obj, "resourceVersion")},
        "reason": reason, "message": message, "type": "Warning", "count": 1,
        "source": {"component": component},
        "firstTimestamp": now, "lastTimestamp": now, "reportingComponent": component,
        "reportingInstance": "",
    });
    api::controller_create(store, res, event);
}

pub(crate) fn pod_ready(p: &Value) -> bool {
    p["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

fn guarded(what: &str, f: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        eprintln!("fake-apiserver: controller panicked in {what}: {msg}");
    }
}

/// The controller loop; runs until the runtime shuts down.
pub async fn run(shared: Arc<Shared>) {
    let mut ctl = Controller::default();
    let mut notify = lock(&shared.store).subscribe();
    let mut last = 0u64;
    loop {
        let knobs = {
            let cfg = lock(&shared.cfg);
            Knobs {
                delay: cfg.rollout_delay,
                crash: cfg.crash_images.clone(),
                unpullable: cfg.unpullable_images.clone(),
            }
        };
        {
            let mut store = lock(&shared.store);
            let mut deployments = BTreeSet::new();
            let mut replicasets = BTreeSet::new();
            // Due timers.
            let now = Instant::now();
            while ctl.timers.peek().is_some_and(|Reverse((at, _))| *at <= now) {
                if let Some(Reverse((_, t))) = ctl.timers.pop() {
                    guarded("timer", || {
                        ctl.fire(&mut store, &knobs, t, &mut deployments)
                    });
                }
            }
            // New events (including the controllers' own, until nothing changes).
            for _round in 0..100 {
                let evs = match store.events_since(last) {
                    Ok(evs) => evs,
                    Err(_) => {
                        // History compacted under us: resync every Deployment.
                        let all: Vec<(String, String)> = store
                            .iter(idx("deployments"), None, None)
                            .map(|d| {
                                (
                                    meta_str(d, "namespace").to_string(),
                                    meta_str(d, "name").to_string(),
                                )
                            })
                            .collect();
                        deployments.extend(all);
                        let jobs: Vec<(String, String)> = store
                            .iter(idx("jobs"), None, None)
                            .map(|j| {
                                (
                                    meta_str(j, "namespace").to_string(),
                                    meta_str(j, "name").to_string(),
                                )
                            })
                            .collect();
                        ctl.dirty_jobs.extend(jobs);
                        Vec::new()
                    }
                };
                last = store.rv();
                for ev in &evs {
                    guarded("observe", || {
                        ctl.observe(&mut store, &knobs, ev, &mut deployments, &mut replicasets)
                    });
                }
                if evs.is_empty()
                    && deployments.is_empty()
                    && replicasets.is_empty()
                    && ctl.dirty_jobs.is_empty()
                {
                    break;
                }
                for (ns, name) in std::mem::take(&mut ctl.dirty_jobs) {
                    guarded("job", || ctl.reconcile_job(&mut store, &ns, &name));
                }
                for (ns, name) in std::mem::take(&mut replicasets) {
                    guarded("replicaset", || ctl.reconcile_rs(&mut store, &ns, &name));
                }
                for (ns, name) in std::mem::take(&mut deployments) {
                    guarded("deployment", || {
                        ctl.reconcile_deployment(&mut store, &ns, &name)
                    });
                }
            }
        }
        let next = ctl.timers.peek().map(|Reverse((at, _))| *at);
        tokio::select! {
            r = notify.changed() => if r.is_err() { return },
            _ = async {
                match next {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {}
        }
    }
}
