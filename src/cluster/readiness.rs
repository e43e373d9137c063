//! Readiness rules as pure functions over typed objects: when a Deployment is done,
//! when a pod has failed for good, what state a volume is in. No I/O here, so every
//! rule is unit-tested from inline YAML.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};

/// Where a Deployment's rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// Every replica updated, ready and available, and the controller has seen the spec.
    Done,
    /// Still moving; the text says what it waits for.
    Waiting(String),
    /// It will not get there by waiting.
    Failed(String),
}

/// The rules `kubectl rollout status` applies (kubectl/pkg/polymorphichelpers/
/// rollout_status.go, DeploymentStatusViewer), checked in its order: first that the
/// controller observed this generation, then the progress deadline, then the counts.
/// A Deployment scaled to zero (a suspended agent) is done once no old replica is left:
/// zero updated, ready and available replicas are what it wants ("complete" in the
/// Deployment docs: all replicas updated and available, no old ones running).
fn counts(d: &Deployment) -> Rollout {
    let generation = d.metadata.generation.unwrap_or(0);
    let Some(status) = &d.status else {
        return Rollout::Waiting("the deployment controller has not reported status yet".into());
    };
    if status.observed_generation.unwrap_or(0) < generation {
        return Rollout::Waiting(
            "the deployment controller has not observed the new spec yet".into(),
        );
    }
    if let Some(cond) = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing")
        && cond.reason.as_deref() == Some("ProgressDeadlineExceeded")
    {
        return Rollout::Failed(format!(
            "exceeded its progress deadline{}",
            cond.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ));
    }
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let replicas = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let ready = status.ready_replicas.unwrap_or(0);
    if updated < desired {
        return Rollout::Waiting(format!("{updated} of {desired} replicas updated"));
    }
    if replicas > updated {
        return Rollout::Waiting(format!(
            "{} old replicas pending termination",
            replicas - updated
        ));
    }
    if available < updated || ready < updated {
        return Rollout::Waiting(format!(
            "{available} of {updated} updated replicas available"
        ));
    }
    Rollout::Done
}

/// Where a Deployment's rollout stands: the counts first, as `kubectl rollout status`
/// judges them, then why its pods cannot be created: the ReplicaSet
/// controller's `ReplicaFailure` condition (reason `FailedCreate`, the API server's
/// refusal as message), which the Deployment controller copies onto the Deployment
/// (kube-controller-manager `replicaset/replica_set_utils.go` calculateStatus,
/// `deployment/sync.go` syncRolloutStatus). A refusal that waiting cannot fix fails the
/// rollout at once; another one is shown while waiting.
pub fn deployment(d: &Deployment) -> Rollout {
    let state = counts(d);
    let Rollout::Waiting(why) = state else {
        return state;
    };
    // A condition from before the controller saw this spec is about an older template.
    let observed = d.status.as_ref().and_then(|s| s.observed_generation);
    if observed.unwrap_or(0) < d.metadata.generation.unwrap_or(0) {
        return Rollout::Waiting(why);
    }
    let failure = d
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "ReplicaFailure" && c.status == "True");
    match failure.and_then(|c| c.message.as_deref()) {
        Some(message) if cannot_heal(message) => {
            Rollout::Failed(format!("its pods cannot be created: {message}"))
        }
        Some(message) => Rollout::Waiting(format!("{why} (pods cannot be created: {message})")),
        None => Rollout::Waiting(why),
    }
}

/// Whether a refused pod create stays refused however long one waits: admission said
/// no (`... is forbidden: ...`: Pod Security, an exceeded ResourceQuota, a LimitRange,
/// a ValidatingAdmissionPolicy) or a webhook denied it. Errors like a webhook that could
/// not be reached (`Internal error occurred: failed calling webhook`) may pass.
pub fn cannot_heal(message: &str) -> bool {
    message.contains(" is forbidden: ") || message.contains("denied the request")
}

/// Container waiting reasons that do not resolve by waiting: the image cannot be
/// pulled, the process keeps crashing, or the container cannot even be configured.
const FATAL_REASONS: &[&str] = &[
    "ImagePullBackOff",
    "ErrImagePull",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "InvalidImageName",
];

/// Why a pod will not become ready, when one of its containers (init containers
/// included) waits for a reason that waiting does not fix.
pub fn pod_failure(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    let containers = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for c in containers {
        let Some(waiting) = c.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
            continue;
        };
        let reason = waiting.reason.as_deref().unwrap_or_default();
        if FATAL_REASONS.contains(&reason) {
            let message = waiting
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            return Some(format!("container {} is in {reason}{message}", c.name));
        }
    }
    None
}

/// Why a pod has not been scheduled (`PodScheduled` False: `Unschedulable` and the
/// scheduler's message), while it is.
pub fn unscheduled(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    let condition = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")?;
    Some(format!(
        "{}{}",
        condition.reason.as_deref().unwrap_or("not scheduled"),
        condition
            .message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    ))
}

/// The PersistentVolumeClaims a pod mounts.
pub fn claims(pod: &Pod) -> Vec<String> {
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| v.persistent_volume_claim.as_ref())
        .map(|c| c.claim_name.clone())
        .collect()
}

/// Restarts of all of a pod's containers.
pub fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .map(|s| {
            s.container_statuses
                .iter()
                .flatten()
                .map(|c| c.restart_count)
                .sum()
        })
        .unwrap_or(0)
}

/// A volume's phase as `status` shows it: Bound, Pending, Lost, or Missing.
pub fn volume(pvc: Option<&PersistentVolumeClaim>) -> &str {
    match pvc {
        None => "Missing",
        Some(p) => p
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("Pending"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
        let docs = crate::yaml::parse_documents(yaml).expect("yaml");
        serde_json::from_value(docs.into_iter().next().expect("one document")).expect("typed")
    }

    const BASE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, generation: 2}\nspec:\n  replicas: 1\n  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}}\n";

    fn with_status(status: &str) -> Deployment {
        parse(&format!("{BASE}status: {status}\n"))
    }

    #[test]
    fn a_refused_pod_create_fails_at_once_and_a_transient_one_waits() {
        let refused = with_status(
            "{observedGeneration: 2, replicas: 0, conditions: [{type: ReplicaFailure, status: 'True', reason: FailedCreate, \
             message: 'pods \"agent-ops-5d9c-x7k2p\" is forbidden: violates PodSecurity \"restricted:latest\": restricted volume types (volume \"nas\" uses restricted volume type \"nfs\")'}]}",
        );
        assert_eq!(
            deployment(&refused),
            Rollout::Failed(
                "its pods cannot be created: pods \"agent-ops-5d9c-x7k2p\" is forbidden: violates PodSecurity \"restricted:latest\": restricted volume types (volume \"nas\" uses restricted volume type \"nfs\")".into()
            )
        );
        let transient = with_status(
            "{observedGeneration: 2, replicas: 0, conditions: [{type: ReplicaFailure, status: 'True', reason: FailedCreate, \
             message: 'Internal error occurred: failed calling webhook \"v.example.com\": context deadline exceeded'}]}",
        );
        assert!(
            matches!(deployment(&transient), Rollout::Waiting(w) if w.contains("failed calling webhook"))
        );
        // Not yet observed: the condition may be the previous template's.
        let stale = with_status(
            "{observedGeneration: 1, replicas: 0, conditions: [{type: ReplicaFailure, status: 'True', reason: FailedCreate, \
             message: 'pods \"a\" is forbidden: exceeded quota: q, requested: memory=1Gi, used: memory=1Gi, limited: memory=1536Mi'}]}",
        );
        assert!(matches!(deployment(&stale), Rollout::Waiting(_)));
        assert!(cannot_heal(
            "admission webhook \"validate.kyverno.svc\" denied the request: no"
        ));
    }

    #[test]
    fn done_only_when_observed_and_counts_match() {
        let done = with_status(
            "{observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1}",
        );
        assert_eq!(deployment(&done), Rollout::Done);
    }

    #[test]
    fn an_unobserved_generation_is_never_done_even_with_good_counts() {
        let stale = with_status(
            "{observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1}",
        );
        assert!(matches!(deployment(&stale), Rollout::Waiting(w) if w.contains("observed")));
        let no_status: Deployment = parse(BASE);
        assert!(matches!(deployment(&no_status), Rollout::Waiting(_)));
    }

    #[test]
    fn waits_for_updates_old_replicas_and_availability() {
        let d = with_status("{observedGeneration: 2, replicas: 1, updatedReplicas: 0}");
        assert_eq!(
            deployment(&d),
            Rollout::Waiting("0 of 1 replicas updated".into())
        );
        let d = with_status(
            "{observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1, readyReplicas: 1}",
        );
        assert_eq!(
            deployment(&d),
            Rollout::Waiting("1 old replicas pending termination".into())
        );
        let d = with_status(
            "{observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 0}",
        );
        assert_eq!(
            deployment(&d),
            Rollout::Waiting("0 of 1 updated replicas available".into())
        );
    }

    /// A suspended agent (`replicas: 0`) is done once its pod is gone: kubectl's rules
    /// want no updated, ready or available replica, only no old one left; the controller
    /// then reports no counts at all (zero `omitempty` int32s) and `Available` True.
    #[test]
    fn zero_replicas_are_done_once_the_old_pod_is_gone() {
        let zero = BASE.replace("replicas: 1", "replicas: 0");
        let stopping: Deployment = parse(&format!(
            "{zero}status: {{observedGeneration: 2, replicas: 1, readyReplicas: 1, availableReplicas: 1}}\n"
        ));
        assert_eq!(
            deployment(&stopping),
            Rollout::Waiting("1 old replicas pending termination".into())
        );
        let stopped: Deployment = parse(&format!(
            "{zero}status: {{observedGeneration: 2, conditions: [{{type: Available, status: 'True', reason: MinimumReplicasAvailable}}]}}\n"
        ));
        assert_eq!(deployment(&stopped), Rollout::Done);
    }

    #[test]
    fn a_passed_progress_deadline_fails() {
        let d = with_status(
            "{observedGeneration: 2, conditions: [{type: Progressing, status: 'False', reason: ProgressDeadlineExceeded, message: 'ReplicaSet \"a-1\" has timed out progressing.'}]}",
        );
        assert!(matches!(deployment(&d), Rollout::Failed(m) if m.contains("timed out")));
    }

    #[test]
    fn fatal_container_reasons_fail_fast() {
        let pod: Pod = parse(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus:\n  initContainerStatuses:\n    - {name: workspace, image: x, imageID: '', ready: true, restartCount: 0, state: {terminated: {exitCode: 0}}}\n  containerStatuses:\n    - {name: gateway, image: x, imageID: '', ready: false, restartCount: 4, state: {waiting: {reason: CrashLoopBackOff, message: back-off 40s}}}\n",
        );
        assert_eq!(
            pod_failure(&pod),
            Some("container gateway is in CrashLoopBackOff: back-off 40s".into())
        );
        assert_eq!(restarts(&pod), 4);
        let starting: Pod = parse(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus:\n  containerStatuses:\n    - {name: gateway, image: x, imageID: '', ready: false, restartCount: 0, state: {waiting: {reason: ContainerCreating}}}\n",
        );
        assert_eq!(pod_failure(&starting), None);
    }

    #[test]
    fn volume_phases() {
        let bound: PersistentVolumeClaim = parse(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: v}\nstatus: {phase: Bound}\n",
        );
        assert_eq!(volume(Some(&bound)), "Bound");
        assert_eq!(volume(None), "Missing");
    }

    #[test]
    fn an_unscheduled_pod_says_why_and_names_its_claims() {
        let pod: Pod = parse(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n\
             spec:\n  containers: [{name: gateway, image: x}]\n  \
             volumes: [{name: state, persistentVolumeClaim: {claimName: agent-a}}, {name: tmp, emptyDir: {}}]\n\
             status:\n  phase: Pending\n  conditions: [{type: PodScheduled, status: 'False', reason: Unschedulable, \
             message: 'pod has unbound immediate PersistentVolumeClaims'}]\n",
        );
        assert_eq!(
            unscheduled(&pod).as_deref(),
            Some("Unschedulable: pod has unbound immediate PersistentVolumeClaims")
        );
        assert_eq!(claims(&pod), ["agent-a"]);
        let scheduled: Pod = parse(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {phase: Running, conditions: [{type: PodScheduled, status: 'True'}]}\n",
        );
        assert_eq!(unscheduled(&scheduled), None);
    }
}
