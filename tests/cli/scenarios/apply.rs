//! diff and apply on a cluster: the first apply and a zero-write re-apply, a soul edit
//! restarting one pod, an unpullable image failing fast, drift and `--force-conflicts`,
//! prune keeping volumes and the namespaces holding them, `--delete-volumes`, the fleet
//! lock, `--yes` without a terminal, `--dry-run server`, secrets never printed, a bare
//! fleet with loosely written sizes, a StorageClass that does not exist, a multi-agent
//! gateway, and suspend/resume. `cluster.rs` (`suspend.rs` for suspend/resume) runs them on
//! the fake, `e2e.rs` on a cluster.
//!
//! Where the fake can also count requests, a scenario checks that there (`writes`); on
//! both it compares resourceVersions and Deployment generations ([`Backend::written`]).
//! The order of a first apply shows on a real server only through creation timestamps,
//! to the second; the fake's request log shows it exactly.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment};
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, ResourceQuota, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;
use kube::api::ListParams;
use serde_json::json;

use crate::harness::backend::{Backend, FLEET_LABEL};
use crate::harness::fake::{writes, writes_but_lease};
use crate::harness::fleets::{GATEWAY_SECRET, GATEWAY_TOKEN};
use crate::harness::report::{json_of, pairs, phases, phases_and_reasons};

pub(crate) fn first_apply_creates_everything_and_waits_then_reapply_writes_nothing(b: &Backend) {
    let ns = b.ns("core");
    let text = b.fleet(&["alpha", "beta"], &b.image());
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }
    let out = b.apply(&text, &[]).success();
    assert!(out.stderr.contains("2/2 agents ready"), "{}", out.stderr);

    assert!(b.get::<ConfigMap>(&ns, "agent-alpha").is_some());
    assert!(b.get::<Service>(&ns, "agent-alpha").is_some());
    assert!(b.get::<ServiceAccount>(&ns, "agent-alpha").is_some());
    assert!(b.get::<PersistentVolumeClaim>(&ns, "agent-alpha").is_some());
    let deployment: Deployment = b.get(&ns, "agent-beta").expect("deployment");
    let managers: Vec<String> = deployment
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(managers.iter().any(|m| m == "clawctl"), "{managers:?}");

    // Order, as far as a real server shows it (creation times, to the second): the
    // namespace first, workloads after their config, services last (DESIGN §4).
    let created = |meta: &ObjectMeta| meta.creation_timestamp.clone().expect("created").0;
    let namespace = b.namespace(&ns).expect("team namespace");
    let config: ConfigMap = b.get(&ns, "agent-beta").expect("cm");
    let service: Service = b.get(&ns, "agent-beta").expect("service");
    assert!(created(&namespace.metadata) <= created(&config.metadata));
    assert!(created(&config.metadata) <= created(&deployment.metadata));
    assert!(created(&deployment.metadata) <= created(&service.metadata));
    // The fake's request log shows it exactly: every namespace before any namespaced
    // object, workloads after config and volumes, services last.
    if let Some(fake) = b.fake() {
        let order: Vec<String> = writes(fake)
            .into_iter()
            .filter(|w| w.starts_with("PATCH"))
            .collect();
        let position = |needle: &str| {
            order
                .iter()
                .position(|w| w.contains(needle))
                .unwrap_or_else(|| panic!("{needle} not applied: {order:#?}"))
        };
        let last = |needle: &str| {
            order
                .iter()
                .rposition(|w| w.contains(needle))
                .unwrap_or_else(|| panic!("{needle} not applied"))
        };
        let namespace = order
            .iter()
            .position(|w| *w == format!("PATCH /api/v1/namespaces/{ns}"))
            .expect("the team namespace applied");
        assert!(namespace < position("/configmaps/"), "{order:#?}");
        assert!(last("/persistentvolumeclaims/") < position("/deployments/"));
        assert!(last("/configmaps/agent-") < position("/deployments/"));
        assert!(last("/deployments/") < position("/services/"));
    }

    // The ApplySet parent exists and names its members' kinds.
    let parent: ConfigMap = b
        .get(&b.fleet_ns, &format!("clawctl-applyset-{}", b.fleet))
        .expect("applyset parent");
    let kinds = parent
        .annotations()
        .get("applyset.kubernetes.io/contains-group-kinds")
        .cloned()
        .unwrap_or_default();
    assert!(kinds.contains("Deployment.apps"), "{kinds}");
    assert_eq!(
        deployment.labels().get("applyset.kubernetes.io/part-of"),
        parent.labels().get("applyset.kubernetes.io/id")
    );

    // The team namespace existed (the platform team made it) and was adopted.
    assert_eq!(
        namespace
            .annotations()
            .get("clawctl.io/adopted")
            .map(String::as_str),
        Some("true")
    );

    // The lock, a ConfigMap in the fleet namespace, was taken and released.
    let lock: ConfigMap = b
        .get(&b.fleet_ns, &b.lock_name())
        .expect("the lock ConfigMap");
    assert!(
        lock.data
            .as_ref()
            .is_some_and(|d| d.contains_key("leaseDurationSeconds")),
        "{lock:?}"
    );
    assert_eq!(b.lock_holder(), None, "the lock is still held");

    // History: one revision Secret per agent in its own namespace, no ControllerRevision.
    let revisions = b.revisions(&ns);
    for agent in ["alpha", "beta"] {
        let name = format!("clawctl.{}.{agent}.r1", b.fleet);
        let revision = revisions
            .get(&name)
            .unwrap_or_else(|| panic!("revision {name} missing: {:?}", revisions.keys()));
        let labels = revision.labels();
        for (key, value) in [
            ("app.kubernetes.io/managed-by", "clawctl"),
            ("clawctl.io/agent", agent),
            ("clawctl.io/history", "true"),
            ("clawctl.io/revision", "1"),
        ] {
            assert_eq!(labels.get(key).map(String::as_str), Some(value), "{name}");
        }
        assert!(
            revision
                .data
                .as_ref()
                .is_some_and(|d| d.contains_key("manifests")),
            "{name}"
        );
    }
    let by_fleet = format!("{FLEET_LABEL}={}", b.fleet);
    let legacy = b.list::<ControllerRevision>(&ns, &by_fleet);
    assert!(legacy.is_empty(), "{legacy:?}");
    // Nothing cluster-scoped but Namespaces: no bookkeeping ClusterRole.
    let roles = b
        .block_on(
            b.cluster_api::<ClusterRole>()
                .list(&ListParams::default().labels(&by_fleet)),
        )
        .expect("list clusterroles");
    assert!(roles.items.is_empty(), "{:?}", roles.items);
    let bookkeeping = format!("clawctl-{}-bookkeeping", b.fleet);
    assert!(
        b.block_on(b.cluster_api::<ClusterRole>().get_opt(&bookkeeping))
            .expect("get clusterrole")
            .is_none()
    );

    let before = b.written(&["core"]);
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }
    let out = b.apply(&text, &[]).success();
    assert!(out.stderr.contains("nothing to change"), "{}", out.stderr);
    assert_eq!(b.written(&["core"]), before);
    if let Some(fake) = b.fake() {
        assert_eq!(writes(fake), Vec::<String>::new());
        let counts = fake.counts();
        assert_eq!(counts.get("patch"), None, "{counts:?}");
    }
}

/// Issue 11, measured on kube-apiserver v1.32.13: the server drops empty lists
/// (`ingress: []`, `envFrom: []`) and stores quantities canonically (`0.5` → `500m`), and
/// a bare fleet re-applied every NetworkPolicy and Deployment each time. A re-apply of a
/// bare fleet (no routing, egress or access; only the gateway token's Secret) with
/// loosely written sizes must write nothing at all, not even the lock.
pub(crate) fn a_bare_fleet_with_loose_quantities_reapplied_writes_nothing(b: &Backend) {
    let ns = b.ns("core");
    let text = b
        .fleet(&["a", "b"], &b.image())
        .replace(
            "\n  teams: [",
            "\n    resources: {requests: {cpu: \"0.5\", memory: 1024Mi}, limits: {cpu: 1000m, memory: 2048Mi}}\
             \n    storage: {size: 1024Mi}\n  teams: [",
        )
        .replace(
            &format!("namespace: {ns}}}"),
            &format!("namespace: {ns}, quota: {{cpu: 4000m, memory: 8192Mi}}}}"),
        );
    assert!(text.contains("quota:") && text.contains("1024Mi"), "{text}");
    b.apply(&text, &[]).success();
    // What the server stored differs from what was sent.
    let policy = b
        .json::<NetworkPolicy>(&ns, "agent-a")
        .expect("NetworkPolicy");
    assert!(policy["spec"].get("ingress").is_none(), "{policy}");
    let deployment = b.json::<Deployment>(&ns, "agent-a").expect("Deployment");
    let gateway = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        gateway["envFrom"],
        json!([{"secretRef": {"name": GATEWAY_SECRET}}]),
        "{gateway}"
    );
    assert_eq!(gateway["resources"]["requests"]["cpu"], "500m");
    assert_eq!(gateway["resources"]["limits"]["memory"], "2Gi");

    let lock = |b: &Backend| {
        b.get::<ConfigMap>(&b.fleet_ns, &b.lock_name())
            .and_then(|l| l.resource_version())
    };
    let mut before = b.written(&["core"]);
    b.versions_of::<ResourceQuota>(&ns, &mut before);
    b.versions_of::<PersistentVolumeClaim>(&ns, &mut before);
    let lock_before = lock(b);
    for _ in 0..2 {
        if let Some(fake) = b.fake() {
            fake.clear_requests();
        }
        let out = b.apply(&text, &[]).success();
        assert!(out.stderr.contains("nothing to change"), "{}", out.stderr);
        if let Some(fake) = b.fake() {
            assert_eq!(writes(fake), Vec::<String>::new());
        }
        let mut after = b.written(&["core"]);
        b.versions_of::<ResourceQuota>(&ns, &mut after);
        b.versions_of::<PersistentVolumeClaim>(&ns, &mut after);
        assert_eq!(after, before);
        assert_eq!(lock(b), lock_before, "the lock was written");
        b.clawctl(&text, &["diff", "fleet.yaml", "--exit-code"])
            .success();
    }
}

pub(crate) fn a_soul_edit_updates_one_configmap_and_restarts_one_pod(b: &Backend) {
    let ns = b.ns("core");
    let text = b.fleet(&["alpha", "beta"], &b.image());
    b.apply(&text, &[]).success();
    let pods_before = b.pod_uids(&ns);
    let before = b.written(&["core"]);

    let edited = text.replace("You are alpha.", "You are alpha, and curious.");
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }
    let out = b.apply(&edited, &[]).success();
    assert_eq!(
        b.changed_since(&before, &["core"]),
        [
            format!("ConfigMap {ns}/agent-alpha"),
            format!("Deployment {ns}/agent-alpha generation"),
            // alpha's second revision; beta's first stays its newest.
            format!("Revision {ns}/clawctl.{}.alpha.r2", b.fleet),
        ],
        "{}",
        out.stderr
    );
    // The fake's requests: two patches, the revision, the lock, and nothing else.
    if let Some(fake) = b.fake() {
        let all = writes_but_lease(fake);
        assert!(
            all.contains(&format!("POST /api/v1/namespaces/{ns}/secrets")),
            "no revision recorded: {all:#?}"
        );
        let mut patched: Vec<String> = all
            .into_iter()
            .filter(|w| !w.contains("/secrets"))
            .collect();
        patched.sort();
        assert_eq!(
            patched,
            [
                format!("PATCH /api/v1/namespaces/{ns}/configmaps/agent-alpha"),
                format!("PATCH /apis/apps/v1/namespaces/{ns}/deployments/agent-alpha")
            ],
            "{}",
            out.stderr
        );
    }

    let pods_after = b.pod_uids(&ns);
    let pod = |pods: &[(String, String)], agent: &str| {
        pods.iter()
            .find(|(a, _)| a == agent)
            .map(|(_, u)| u.clone())
    };
    assert!(pod(&pods_before, "beta").is_some(), "{pods_before:?}");
    assert_eq!(pod(&pods_before, "beta"), pod(&pods_after, "beta"));
    assert_ne!(pod(&pods_before, "alpha"), pod(&pods_after, "alpha"));
}

/// `clawctl suspend` scales one agent to zero (its pod gone, its volume and Service the
/// same objects), a second suspend has nothing to do, `apply` neither starts it nor
/// writes (and a changed fleet reaches it without `spec.replicas`), `status` says
/// Suspended, `clawctl resume` brings the pod back and `apply` still has nothing to do.
pub(crate) fn suspend_keeps_the_volume_and_service_apply_keeps_it_suspended_and_resume_starts_it(
    b: &Backend,
) {
    let ns = b.ns("core");
    let text = b.fleet(&["alpha", "beta"], &b.image());
    b.apply(&text, &[]).success();
    let uid_of = |kind: &str| -> Option<String> {
        match kind {
            "claim" => b.get::<PersistentVolumeClaim>(&ns, "agent-alpha")?.uid(),
            _ => b.get::<Service>(&ns, "agent-alpha")?.uid(),
        }
    };
    let (claim, service) = (uid_of("claim"), uid_of("service"));
    assert!(claim.is_some() && service.is_some());
    let agents = |pods: Vec<(String, String)>| -> Vec<String> {
        pods.into_iter().map(|(agent, _)| agent).collect()
    };
    let status = |text: &str| phases_and_reasons(&b.status_json(text, &["fleet.yaml"]));
    let suspend = ["suspend", "fleet.yaml", "alpha", "--yes"];
    let resume = ["resume", "fleet.yaml", "alpha", "--yes"];

    let mut args = suspend.to_vec();
    args.extend(["--timeout", b.pace.ready]);
    let out = b.clawctl(&text, &args).success();
    assert!(out.stdout.contains("suspended"), "{}", out.stdout);
    let d: Deployment = b.get(&ns, "agent-alpha").expect("deployment");
    assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), Some(0));
    assert_eq!(
        d.annotations()
            .get("clawctl.io/suspended")
            .map(String::as_str),
        Some("true")
    );
    // The wait ends when the pod is gone.
    assert_eq!(agents(b.pod_uids(&ns)), ["beta"]);
    assert_eq!(
        (uid_of("claim"), uid_of("service")),
        (claim.clone(), service.clone())
    );
    assert_eq!(
        status(&text),
        [
            (
                "alpha".into(),
                "Suspended".into(),
                "suspended by `clawctl suspend`".into()
            ),
            ("beta".into(), "Ready".into(), String::new()),
        ]
    );

    // A second suspend has nothing to do.
    let before = b.written(&["core"]);
    let out = b.clawctl(&text, &suspend).success();
    assert!(out.stderr.contains("already suspended"), "{}", out.stderr);
    assert_eq!(b.changed_since(&before, &["core"]), Vec::<String>::new());

    // apply does not take the agent back: no write at all for an unchanged fleet ...
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }
    let out = b.apply(&text, &[]).success();
    assert_eq!(
        b.changed_since(&before, &["core"]),
        Vec::<String>::new(),
        "{}",
        out.stderr
    );
    if let Some(fake) = b.fake() {
        assert_eq!(writes_but_lease(fake), Vec::<String>::new());
    }
    assert!(
        out.stderr
            .contains("agent \"alpha\" suspended by `clawctl suspend`"),
        "{}",
        out.stderr
    );
    assert_eq!(agents(b.pod_uids(&ns)), ["beta"]);
    // ... and a changed one is applied without spec.replicas, and waits for nothing.
    let edited = text.replace("You are alpha.", "You are alpha, resting.");
    let out = b.apply(&edited, &[]).success();
    assert!(!out.stderr.contains("onflict"), "{}", out.stderr);
    assert_eq!(b.replicas("alpha"), Some(0));
    assert_eq!(b.pods("alpha"), 0);
    assert_eq!(status(&edited)[0].1, "Suspended");
    let before = b.written(&["core"]);
    b.apply(&edited, &[]).success();
    assert_eq!(
        b.changed_since(&before, &["core"]),
        Vec::<String>::new(),
        "a no-op re-apply"
    );

    // resume: back to one replica, ready, and apply still has nothing to do.
    let mut args = resume.to_vec();
    args.extend(["--timeout", b.pace.ready, "-o", "json"]);
    let out = b.clawctl(&edited, &args).success();
    let report = json_of(&out);
    assert_eq!(report["agents"][0]["result"], "resumed", "{report}");
    let d: Deployment = b.get(&ns, "agent-alpha").expect("deployment");
    assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), Some(1));
    assert!(d.annotations().get("clawctl.io/suspended").is_none());
    assert_eq!(agents(b.pod_uids(&ns)), ["alpha", "beta"]);
    assert_eq!(
        phases(&b.status_json(&edited, &["fleet.yaml"])),
        pairs(&[("alpha", "Ready"), ("beta", "Ready")])
    );
    let before = b.written(&["core"]);
    b.apply(&edited, &[]).success();
    assert_eq!(b.changed_since(&before, &["core"]), Vec::<String>::new());
    assert_eq!(uid_of("claim"), claim);
}

/// A tag that does not exist (nodes without internet access fail the pull just the
/// same): apply fails as soon as the pod says so, naming its reason, not at its timeout.
pub(crate) fn an_unpullable_image_fails_apply_fast_with_the_pods_reason(b: &Backend) {
    let text = b.fleet(&["alpha"], &b.unpullable_image());
    let started = Instant::now();
    let out = b.apply(&text, &["--timeout", "300s"]).fails(1);
    assert!(
        out.stderr.contains("ErrImagePull") || out.stderr.contains("ImagePullBackOff"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("agent-alpha"), "{}", out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(240),
        "failed only after {:?}, not fast:\n{}",
        started.elapsed(),
        out.stderr
    );
}

pub(crate) fn drift_by_another_manager_shows_in_diff_and_only_force_takes_it_back(b: &Backend) {
    let ns = b.ns("core");
    let text = b.fleet(&["alpha"], &b.image());
    b.apply(&text, &["--no-wait"]).success();

    b.edit_soul(&ns, "alpha", "You are someone else.");

    let out = b
        .clawctl(&text, &["diff", "fleet.yaml", "--exit-code"])
        .fails(3);
    let line = |sign: char, text: &str| {
        out.stdout
            .lines()
            .any(|l| l.starts_with(sign) && l.contains(text))
    };
    assert!(line('-', "You are someone else."), "{}", out.stdout);
    assert!(line('+', "You are alpha."), "{}", out.stdout);
    assert!(out.stdout.contains(".data.SOUL.md"), "{}", out.stdout);
    assert!(out.stdout.contains("kubectl-edit"), "{}", out.stdout);

    let json_out = b
        .clawctl(&text, &["diff", "fleet.yaml", "-o", "json"])
        .success();
    let parsed = json_of(&json_out);
    let change = &parsed["changes"][0];
    assert_eq!(change["kind"], "ConfigMap", "{parsed:#}");
    assert_eq!(
        change["conflicts"][0]["manager"], "kubectl-edit",
        "{parsed:#}"
    );

    let out = b.apply(&text, &["--no-wait"]).fails(1);
    assert!(
        out.stderr.contains(".data.SOUL.md (owned by kubectl-edit)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--force-conflicts"), "{}", out.stderr);
    assert_eq!(b.soul(&ns, "alpha"), "You are someone else.");

    b.apply(&text, &["--no-wait", "--force-conflicts"])
        .success();
    assert_eq!(b.soul(&ns, "alpha"), "You are alpha.");
    b.clawctl(&text, &["diff", "fleet.yaml", "--exit-code"])
        .success();
}

pub(crate) fn prune_deletes_a_removed_agent_but_keeps_its_volume(b: &Backend) {
    let ns = b.ns("core");
    b.apply(&b.fleet(&["alpha", "beta"], &b.image()), &["--no-wait"])
        .success();
    let claim: PersistentVolumeClaim = b.get(&ns, "agent-beta").expect("claim");

    let smaller = b.fleet(&["alpha"], &b.image());
    let out = b.clawctl(&smaller, &["diff", "fleet.yaml"]).success();
    assert!(
        out.stdout
            .contains(&format!("prune Deployment {ns}/agent-beta")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("keep PersistentVolumeClaim {ns}/agent-beta")),
        "{}",
        out.stdout
    );

    // Without --prune nothing is deleted.
    b.apply(&smaller, &["--no-wait"]).success();
    assert!(b.get::<Deployment>(&ns, "agent-beta").is_some());

    let out = b.apply(&smaller, &["--no-wait", "--prune"]).success();
    assert!(b.get::<Deployment>(&ns, "agent-beta").is_none());
    assert!(b.get::<ConfigMap>(&ns, "agent-beta").is_none());
    let kept: PersistentVolumeClaim = b.get(&ns, "agent-beta").expect("the claim is kept");
    assert_eq!(kept.uid(), claim.uid());
    assert!(
        out.stderr
            .contains(&format!("keep PersistentVolumeClaim {ns}/agent-beta")),
        "{}",
        out.stderr
    );
    assert!(b.get::<Deployment>(&ns, "agent-alpha").is_some());
}

pub(crate) fn delete_volumes_needs_a_typed_confirmation_or_yes(b: &Backend) {
    let ns = b.ns("core");
    b.apply(&b.fleet(&["alpha", "beta"], &b.image()), &["--no-wait"])
        .success();
    let smaller = b.fleet(&["alpha"], &b.image());
    // No terminal and no --yes: refused, nothing deleted.
    let out = b
        .clawctl(
            &smaller,
            &["apply", "fleet.yaml", "--prune", "--delete-volumes"],
        )
        .fails(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert!(b.get::<PersistentVolumeClaim>(&ns, "agent-beta").is_some());

    b.apply(&smaller, &["--no-wait", "--prune", "--delete-volumes"])
        .success();
    // Gone, or held only by the pvc-protection finalizer until beta's pod has left.
    assert!(b.get::<PersistentVolumeClaim>(&ns, "agent-beta").is_none());
    assert!(b.get::<PersistentVolumeClaim>(&ns, "agent-alpha").is_some());
}

pub(crate) fn a_namespace_holding_a_volume_is_never_pruned(b: &Backend) {
    let extra = b.ns("extra");
    let two_teams = b.fleet_with(
        &b.image(),
        &["core", "extra"],
        &[("alpha", "core"), ("omega", "extra")],
    );
    b.apply(&two_teams, &["--no-wait"]).success();
    assert!(b.namespace(&extra).is_some());

    let out = b
        .apply(&b.fleet(&["alpha"], &b.image()), &["--no-wait", "--prune"])
        .success();
    assert!(b.namespace(&extra).is_some(), "{}", out.stderr);
    assert!(
        b.get::<PersistentVolumeClaim>(&extra, "agent-omega")
            .is_some()
    );
    assert!(
        out.stderr.contains(&format!("keep Namespace {extra}")),
        "{}",
        out.stderr
    );
    assert!(b.get::<Deployment>(&extra, "agent-omega").is_none());
}

pub(crate) fn a_held_lock_refuses_a_second_apply_and_an_expired_one_is_taken_over(b: &Backend) {
    let ns = b.ns("core");
    let text = b.fleet(&["alpha"], &b.image());
    b.apply(&text, &["--no-wait"]).success();
    let changed = text.replace("You are alpha.", "You are alpha, v2.");

    b.hold_lock("ci@runner-7 pid 42 (clawctl apply)", 2);
    let out = b.apply(&changed, &["--no-wait"]).fails(1);
    assert!(out.stderr.contains("ci@runner-7 pid 42"), "{}", out.stderr);
    assert_eq!(b.soul(&ns, "alpha"), "You are alpha.");

    b.hold_lock("ci@runner-7 pid 42 (clawctl apply)", 120);
    b.apply(&changed, &["--no-wait"]).success();
    assert_eq!(b.soul(&ns, "alpha"), "You are alpha, v2.");
}

pub(crate) fn without_a_terminal_apply_asks_for_yes_and_changes_nothing(b: &Backend) {
    let text = b.fleet(&["alpha"], &b.image());
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }
    let out = b.clawctl(&text, &["apply", "fleet.yaml"]).fails(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    if let Some(fake) = b.fake() {
        assert_eq!(writes(fake), Vec::<String>::new());
    }
    b.assert_untouched("core");
}

pub(crate) fn dry_run_server_stores_nothing(b: &Backend) {
    let ns = b.ns("core");
    let text = b.fleet(&["alpha"], &b.image());
    b.apply(&text, &["--no-wait"]).success();
    let changed = text.replace("You are alpha.", "You are alpha, v2.");
    let before = b.written(&["core"]);
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }
    let out = b
        .clawctl(&changed, &["apply", "fleet.yaml", "--dry-run", "server"])
        .success();
    assert!(
        out.stderr
            .contains(&format!("server accepts update ConfigMap {ns}/agent-alpha")),
        "{}",
        out.stderr
    );
    if let Some(fake) = b.fake() {
        assert_eq!(writes(fake), Vec::<String>::new());
    }
    assert_eq!(b.written(&["core"]), before);
    assert_eq!(b.soul(&ns, "alpha"), "You are alpha.");
}

pub(crate) fn secrets_never_appear_in_any_output(b: &Backend) {
    let ns = b.ns("core");
    let text = b.fleet(&["alpha"], &b.image());
    b.apply(&text, &["--no-wait"]).success();
    // A second Secret of the team's, named in `secrets` from now on.
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "openclaw-secrets", "namespace": ns},
        "data": {"OPENCLAW_GATEWAY_TOKEN": "c3VwZXItc2VjcmV0LXRva2Vu"}});
    b.apply_as::<Secret>("kubectl", &secret);
    let changed = text
        .replace("You are alpha.", "You are alpha, v2.")
        .replace(
            &format!("secrets: [{GATEWAY_SECRET}]"),
            &format!("secrets: [{GATEWAY_SECRET}, openclaw-secrets]"),
        );
    assert!(changed.contains("openclaw-secrets"), "{changed}");
    let encoded = k8s_openapi::ByteString(GATEWAY_TOKEN.into());
    let encoded = serde_json::to_value(&encoded).expect("base64");
    let encoded = encoded.as_str().expect("base64 text");
    for args in [
        vec!["diff", "fleet.yaml"],
        vec!["diff", "fleet.yaml", "-o", "json"],
        vec!["apply", "fleet.yaml", "--yes", "--no-wait"],
        vec!["history", "fleet.yaml", "-o", "json"],
        vec!["status", "fleet.yaml", "-o", "json"],
    ] {
        let out = b.clawctl(&changed, &args).run();
        for text in [&out.stdout, &out.stderr] {
            for secret in [
                "c3VwZXItc2VjcmV0LXRva2Vu",
                "super-secret-token",
                GATEWAY_TOKEN,
                encoded,
            ] {
                assert!(!text.contains(secret), "{args:?} printed {secret}");
            }
        }
    }
}

/// Issue 11: a fleet naming a StorageClass the cluster lacks is refused by the preflight
/// (the volume would stay Pending and apply would wait its whole timeout), naming every
/// agent it concerns, and nothing is written. On the fake, the class made, the same fleet
/// applies and its volumes bind (a test does not make StorageClasses on a real cluster).
pub(crate) fn a_storage_class_that_does_not_exist_is_refused_before_anything_is_written(
    b: &Backend,
) {
    let class = format!("{}-no-such-class", b.fleet);
    let text = b.fleet(&["alpha", "beta"], &b.image()).replace(
        "\n  teams: [",
        &format!("\n    storage: {{storageClassName: {class}}}\n  teams: ["),
    );
    assert!(text.contains(&class), "{text}");
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }
    let out = b.apply(&text, &[]).fails(1);
    assert!(
        out.stderr.contains(&format!(
            "agents \"alpha\", \"beta\": StorageClass {class:?} does not exist, so the volume would stay Pending"
        )),
        "{}",
        out.stderr
    );
    if let Some(fake) = b.fake() {
        assert_eq!(writes(fake), Vec::<String>::new());
    }
    b.assert_untouched("core");

    if let Some(fake) = b.fake() {
        fake.apply_as(
            "admin",
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                   "metadata": {"name": class}, "provisioner": "rancher.io/local-path"}),
            true,
        )
        .expect("storage class");
        b.apply(&text, &[]).success();
        let claim = b
            .json::<PersistentVolumeClaim>(&b.ns("core"), "agent-alpha")
            .expect("claim");
        assert_eq!(claim["status"]["phase"], "Bound", "{claim}");
    }
}

/// Issue 9: a gateway hosting several agents is one Deployment that becomes ready with a
/// workspace claim per agent mounted; it re-applies without a write; `status` shows one
/// row with its agents; an agent taken out of the gateway leaves its workspace claim
/// behind, even with `--prune`.
pub(crate) fn a_multi_agent_gateway_is_one_pod_with_a_workspace_volume_per_agent(b: &Backend) {
    let ns = b.ns("core");
    let gateway = |agents: &str| {
        b.fleet(&[], &b.image())
            + "    - name: home\n      team: core\n      channels: [{channel: slack}, {channel: discord}]\n      agents:\n"
            + agents
    };
    let both = gateway(
        "        - {name: work, soulInline: \"You are work.\", bindings: [{channel: slack}]}\n        \
         - {name: support, soulInline: \"You help.\", storage: {size: 3Gi}, bindings: [{channel: discord}]}\n",
    );
    b.apply(&both, &[]).success();
    let deployment: Deployment = b
        .get(&ns, "agent-home")
        .expect("one Deployment for the gateway");
    assert_eq!(
        deployment
            .annotations()
            .get("clawctl.io/agents")
            .map(String::as_str),
        Some("work,support")
    );
    let claims: Vec<String> = deployment
        .spec
        .and_then(|s| s.template.spec)
        .map(|p| p.volumes.unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| Some(v.persistent_volume_claim?.claim_name))
        .collect();
    assert_eq!(
        claims,
        ["agent-home", "agent-home-work", "agent-home-support"]
    );
    let support = b
        .json::<PersistentVolumeClaim>(&ns, "agent-home-support")
        .expect("support's workspace claim");
    assert_eq!(support["spec"]["resources"]["requests"]["storage"], "3Gi");
    assert_eq!(
        support["metadata"]["labels"]["clawctl.io/hosted-agent"],
        "support"
    );
    let cm = b.json::<ConfigMap>(&ns, "agent-home").expect("ConfigMap");
    assert_eq!(cm["data"]["work_SOUL.md"], "You are work.");
    assert!(cm["data"].get("SOUL.md").is_none(), "{cm}");

    let before = b.written(&["core"]);
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }
    b.apply(&both, &["--no-wait"]).success();
    if let Some(fake) = b.fake() {
        assert_eq!(writes_but_lease(fake), Vec::<String>::new());
    }
    assert_eq!(b.changed_since(&before, &["core"]), Vec::<String>::new());
    b.clawctl(&both, &["diff", "fleet.yaml", "--exit-code"])
        .success();

    let status = b.status_json(&both, &["fleet.yaml"]);
    let rows = status["agents"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{status}");
    assert_eq!(rows[0]["agent"], "home");
    assert_eq!(rows[0]["agents"], json!(["work", "support"]));
    assert_eq!(rows[0]["phase"], "Ready");

    let one = gateway(
        "        - {name: work, soulInline: \"You are work.\", bindings: [{channel: slack}]}\n",
    );
    let out = b.apply(&one, &["--no-wait", "--prune"]).success();
    assert!(
        out.stderr.contains(&format!(
            "keep PersistentVolumeClaim {ns}/agent-home-support"
        )),
        "{}",
        out.stderr
    );
    let kept = b
        .json::<PersistentVolumeClaim>(&ns, "agent-home-support")
        .expect("the workspace claim is kept");
    assert_eq!(kept["metadata"]["uid"], support["metadata"]["uid"]);
    let deployment = b.json::<Deployment>(&ns, "agent-home").expect("Deployment");
    let volumes = deployment["spec"]["template"]["spec"]["volumes"].to_string();
    assert!(!volumes.contains("agent-home-support"), "{volumes}");
}
