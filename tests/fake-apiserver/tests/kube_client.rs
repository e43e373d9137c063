//! The fake API server driven by the real kube-rs client (typed k8s-openapi objects and
//! `DynamicObject`), the way clawctl talks to a cluster.

use std::time::Duration;

use fake_apiserver::{FakeApiServer, Fault, FaultRule, Options};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{Discovery, pinned_kind};
use kube::runtime::wait::{await_condition, conditions};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

async fn client(s: &FakeApiServer) -> Client {
    let kc = kube::config::Kubeconfig::from_yaml(&s.kubeconfig()).expect("kubeconfig parses");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    Client::try_from(cfg).expect("client")
}

fn api_error(e: kube::Error) -> kube::core::Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn cm(ns: &str, name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data})
}

fn ns(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn deployment(ns: &str, name: &str, image: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "gateway", "image": image}]}
            }
        }
    })
}

fn apply_params() -> PatchParams {
    PatchParams::apply("clawctl")
}

async fn apply<K>(api: &Api<K>, obj: &Value) -> Result<K, kube::Error>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let name = obj["metadata"]["name"].as_str().expect("name").to_string();
    api.patch(&name, &apply_params(), &Patch::Apply(obj)).await
}

async fn within<F: std::future::Future>(secs: u64, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("timed out")
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_legacy_aggregated_and_pinned_kind() {
    let s = FakeApiServer::start();
    let c = client(&s).await;
    let info = c.apiserver_version().await.expect("version");
    assert_eq!(info.major, "1");

    let d = Discovery::new(c.clone()).run().await.expect("discovery");
    for (g, v, k) in [
        ("apps", "v1", "Deployment"),
        ("", "v1", "ConfigMap"),
        ("", "v1", "Namespace"),
        ("coordination.k8s.io", "v1", "Lease"),
        ("rbac.authorization.k8s.io", "v1", "ClusterRole"),
        ("networking.k8s.io", "v1", "NetworkPolicy"),
    ] {
        let (ar, caps) = d
            .resolve_gvk(&GroupVersionKind::gvk(g, v, k))
            .unwrap_or_else(|| panic!("{k} discovered"));
        assert_eq!(ar.kind, k);
        assert!(caps.supports_operation("patch"));
    }
    let (ar, caps) = d
        .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Namespace"))
        .expect("namespaces");
    assert_eq!(ar.plural, "namespaces");
    assert_eq!(caps.scope, kube::discovery::Scope::Cluster);

    let agg = Discovery::new(c.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    let (ar, caps) = agg
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .expect("deployments in aggregated discovery");
    assert_eq!(ar.plural, "deployments");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    assert!(agg.has_group(""));

    let (ar, _) = pinned_kind(
        &c,
        &GroupVersionKind::gvk("coordination.k8s.io", "v1", "Lease"),
    )
    .await
    .expect("pinned kind");
    assert_eq!(ar.plural, "leases");
    assert!(s.counts()["discovery"] >= 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn ssa_create_then_noop_reapply_keeps_resource_version() {
    let s = FakeApiServer::start();
    let c = client(&s).await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let obj = cm("default", "settings", json!({"a": "1"}));
    let created = apply(&cms, &obj).await.expect("apply creates");
    let rv = created.resource_version().expect("rv");
    assert!(created.uid().is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    let mf = created
        .metadata
        .managed_fields
        .clone()
        .expect("managedFields");
    assert_eq!(mf[0].manager.as_deref(), Some("clawctl"));
    assert_eq!(mf[0].operation.as_deref(), Some("Apply"));
    let log = s.requests();
    let last = log.last().expect("logged");
    assert_eq!((last.verb.as_str(), last.status), ("patch", 201));

    let again = apply(&cms, &obj).await.expect("re-apply");
    assert_eq!(again.resource_version(), Some(rv.clone()));
    assert_eq!(s.requests().last().map(|r| r.status), Some(200));

    let changed = apply(&cms, &cm("default", "settings", json!({"a": "2"})))
        .await
        .expect("changed apply");
    assert_ne!(changed.resource_version(), Some(rv));
    assert_eq!(changed.data.expect("data")["a"], "2");
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_conflict_has_the_real_status_shape() {
    let s = FakeApiServer::start();
    let c = client(&s).await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    apply(&cms, &cm("default", "c", json!({"x": "1"})))
        .await
        .expect("created");
    let mut edited = s
        .get("v1", "ConfigMap", Some("default"), "c")
        .expect("stored");
    edited["data"]["x"] = json!("2");
    s.update_as("kubectl-edit", edited);

    let err = apply(&cms, &cm("default", "c", json!({"x": "1"})))
        .await
        .expect_err("conflict");
    let st = api_error(err);
    assert_eq!(st.code, 409);
    assert_eq!(st.reason, "Conflict");
    assert_eq!(
        st.message,
        "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.x"
    );
    let causes = st.details.expect("details").causes;
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].reason, "FieldManagerConflict");
    assert_eq!(causes[0].message, "conflict with \"kubectl-edit\" using v1");
    assert_eq!(causes[0].field, ".data.x");

    // The dry-run apply conflicts the same way; forcing takes the field over.
    let err = cms
        .patch(
            "c",
            &apply_params().dry_run(),
            &Patch::Apply(cm("default", "c", json!({"x": "1"}))),
        )
        .await
        .expect_err("dry-run conflict");
    assert_eq!(api_error(err).code, 409);
    let forced = cms
        .patch(
            "c",
            &apply_params().force(),
            &Patch::Apply(cm("default", "c", json!({"x": "1"}))),
        )
        .await
        .expect("forced");
    assert_eq!(forced.data.expect("data")["x"], "1");
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_stores_nothing() {
    let s = FakeApiServer::start();
    let c = client(&s).await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let rv = s.resource_version();
    let out = cms
        .patch(
            "dry",
            &apply_params().dry_run(),
            &Patch::Apply(cm("default", "dry", json!({"k": "v"}))),
        )
        .await
        .expect("dry-run apply");
    assert_eq!(out.data.expect("data")["k"], "v");
    let posted: ConfigMap =
        serde_json::from_value(cm("default", "dry2", json!({}))).expect("typed");
    cms.create(
        &PostParams {
            dry_run: true,
            ..Default::default()
        },
        &posted,
    )
    .await
    .expect("dry-run create");
    assert!(cms.get_opt("dry").await.expect("get").is_none());
    assert!(cms.get_opt("dry2").await.expect("get").is_none());

    apply(&cms, &cm("default", "real", json!({"k": "v"})))
        .await
        .expect("real apply");
    let rv_real = s.resource_version();
    assert!(rv_real > rv);
    cms.delete("real", &DeleteParams::default().dry_run())
        .await
        .expect("dry-run delete");
    cms.patch(
        "real",
        &PatchParams::default().dry_run(),
        &Patch::Merge(json!({"data": {"k": "w"}})),
    )
    .await
    .expect("dry-run merge");
    assert_eq!(s.resource_version(), rv_real);
    assert_eq!(
        s.get("v1", "ConfigMap", Some("default"), "real")
            .expect("kept")["data"]["k"],
        "v"
    );
    assert!(s.requests().iter().filter(|r| r.dry_run).count() >= 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn namespace_delete_cascades_and_missing_namespace_is_refused() {
    let s = FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(50)),
        ..Default::default()
    });
    let c = client(&s).await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "team-a");
    let err = apply(&cms, &cm("team-a", "c", json!({})))
        .await
        .expect_err("namespace missing");
    let st = api_error(err);
    assert_eq!(
        (st.code, st.message.as_str()),
        (404, "namespaces \"team-a\" not found")
    );

    let nss: Api<Namespace> = Api::all(c.clone());
    let created = apply(&nss, &ns("team-a")).await.expect("namespace");
    assert_eq!(
        created.status.and_then(|s| s.phase).as_deref(),
        Some("Active")
    );
    apply(&cms, &cm("team-a", "c", json!({})))
        .await
        .expect("cm");
    let deps: Api<Deployment> = Api::namespaced(c.clone(), "team-a");
    apply(&deps, &deployment("team-a", "agent", "nginx:1", 1))
        .await
        .expect("deployment");

    let deleted = nss
        .delete("team-a", &DeleteParams::default())
        .await
        .expect("delete");
    let term = deleted.left().expect("the namespace comes back");
    assert_eq!(
        term.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    assert!(cms.get_opt("c").await.expect("get").is_none());
    assert!(s.list("apps/v1", "ReplicaSet", Some("team-a")).is_empty());
    let err = apply(&cms, &cm("team-a", "new", json!({})))
        .await
        .expect_err("terminating");
    assert_eq!(api_error(err).code, 403);
    within(
        5,
        await_condition(
            nss.clone(),
            "team-a",
            conditions::is_deleted(&term.metadata.uid.unwrap_or_default()),
        ),
    )
    .await
    .expect("namespace gone");
    assert!(s.list("v1", "Pod", Some("team-a")).is_empty());
}

fn deployment_done(d: Option<&Deployment>) -> bool {
    let Some(d) = d else { return false };
    let (Some(st), Some(generation)) = (d.status.as_ref(), d.metadata.generation) else {
        return false;
    };
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    // `replicas` too: mid-rollout the old pod still counts as ready and available
    // (kubectl: "old replicas are pending termination").
    st.observed_generation.unwrap_or(0) >= generation
        && st.replicas.unwrap_or(0) == want
        && st.updated_replicas.unwrap_or(0) == want
        && st.ready_replicas.unwrap_or(0) == want
        && st.available_replicas.unwrap_or(0) == want
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_sees_a_deployment_become_ready_after_the_delay() {
    let s = FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(200)),
        ..Default::default()
    });
    let c = client(&s).await;
    let deps: Api<Deployment> = Api::namespaced(c.clone(), "default");
    let d = apply(
        &deps,
        &deployment("default", "agent", "ghcr.io/o/agent:1.0", 1),
    )
    .await
    .expect("deployment");
    assert_eq!(d.metadata.generation, Some(1));
    assert!(!deployment_done(Some(&d)));
    let started = std::time::Instant::now();
    let done = within(10, await_condition(deps.clone(), "agent", deployment_done))
        .await
        .expect("condition")
        .expect("object");
    assert!(started.elapsed() >= Duration::from_millis(150));
    let st = done.status.expect("status");
    assert_eq!(st.observed_generation, Some(1));
    assert_eq!(st.replicas, Some(1));
    assert_eq!(st.unavailable_replicas, None);
    let conds = st.conditions.expect("conditions");
    let cond = |t: &str| conds.iter().find(|c| c.type_ == t).expect("condition");
    assert_eq!(cond("Available").status, "True");
    assert_eq!(
        cond("Progressing").reason.as_deref(),
        Some("NewReplicaSetAvailable")
    );
    assert_eq!(
        done.metadata.annotations.expect("annotations")["deployment.kubernetes.io/revision"],
        "1"
    );

    let rss: Api<ReplicaSet> = Api::namespaced(c.clone(), "default");
    let rs_list = rss.list(&ListParams::default()).await.expect("rs");
    assert_eq!(rs_list.items.len(), 1);
    let rs = &rs_list.items[0];
    let hash = rs.labels()["pod-template-hash"].clone();
    assert_eq!(rs.name_any(), format!("agent-{hash}"));
    assert_eq!(rs.owner_references()[0].kind, "Deployment");
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    let pod_list = pods
        .list(&ListParams::default().labels(&format!("app=agent,pod-template-hash={hash}")))
        .await
        .expect("pods");
    assert_eq!(pod_list.items.len(), 1);
    let pod = &pod_list.items[0];
    assert!(pod.name_any().starts_with(&format!("agent-{hash}-")));
    let ps = pod.status.clone().expect("pod status");
    assert_eq!(ps.phase.as_deref(), Some("Running"));
    let cs = &ps.container_statuses.expect("container statuses")[0];
    assert!(cs.ready);
    assert_eq!(cs.restart_count, 0);
    let managers: Vec<(Option<String>, Option<String>)> = pod
        .managed_fields()
        .iter()
        .map(|e| (e.manager.clone(), e.subresource.clone()))
        .collect();
    assert!(managers.contains(&(Some("kube-controller-manager".into()), None)));
    assert!(managers.contains(&(Some("kubelet".into()), Some("status".into()))));

    // A new image: generation 2, a second ReplicaSet, the old one scaled to zero.
    let d2 = apply(
        &deps,
        &deployment("default", "agent", "ghcr.io/o/agent:1.1", 1),
    )
    .await
    .expect("update");
    assert_eq!(d2.metadata.generation, Some(2));
    let done = within(10, await_condition(deps.clone(), "agent", deployment_done))
        .await
        .expect("condition")
        .expect("object");
    assert_eq!(done.status.and_then(|s| s.observed_generation), Some(2));
    let rs_list = rss.list(&ListParams::default()).await.expect("rs");
    assert_eq!(rs_list.items.len(), 2);
    let old = rs_list
        .items
        .iter()
        .find(|r| r.name_any() == rs.name_any())
        .expect("old rs");
    assert_eq!(old.spec.as_ref().and_then(|s| s.replicas), Some(0));
    assert_eq!(
        pods.list(&ListParams::default())
            .await
            .expect("pods")
            .items
            .len(),
        1
    );

    // Deleting the Deployment collects its ReplicaSets and pods.
    deps.delete("agent", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(
        rss.list(&ListParams::default())
            .await
            .expect("rs")
            .items
            .is_empty()
    );
    assert!(
        pods.list(&ListParams::default())
            .await
            .expect("pods")
            .items
            .is_empty()
    );
}

/// Scaling to zero as the real controller reports it (pkg/controller/deployment,
/// `calculateStatus`): the counts are 0 and, being `omitempty` int32s, absent;
/// `Available` stays True with `MinimumReplicasAvailable` (0 available >= 0 desired
/// minus maxUnavailable); `observedGeneration` follows the spec. A second manager takes
/// `spec.replicas` with a forced apply and gives it up with an empty one, after which
/// the field returns to its default of 1 (Server-Side Apply: "reset to their default
/// value if they have one").
#[tokio::test(flavor = "multi_thread")]
async fn scaled_to_zero_and_back_by_another_field_manager() {
    let s = FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(100)),
        ..Default::default()
    });
    let c = client(&s).await;
    let deps: Api<Deployment> = Api::namespaced(c.clone(), "default");
    let mut recreate = deployment("default", "agent", "ghcr.io/o/agent:1.0", 1);
    recreate["spec"]["strategy"] = json!({"type": "Recreate"});
    apply(&deps, &recreate).await.expect("deployment");
    within(10, await_condition(deps.clone(), "agent", deployment_done))
        .await
        .expect("ready");

    // clawctl owns replicas: a plain apply of another value by another manager conflicts.
    let scale = |replicas: Option<i64>| {
        let mut patch = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                               "metadata": {"name": "agent", "namespace": "default"}});
        if let Some(n) = replicas {
            patch["metadata"]["annotations"] = json!({"clawctl.io/suspended": "true"});
            patch["spec"] = json!({"replicas": n});
        }
        patch
    };
    let mut params = PatchParams::apply("clawctl-suspend");
    let err = deps
        .patch("agent", &params, &Patch::Apply(&scale(Some(0))))
        .await
        .expect_err("conflict");
    assert_eq!(api_error(err).code, 409);
    params.force = true;
    let d = deps
        .patch("agent", &params, &Patch::Apply(&scale(Some(0))))
        .await
        .expect("forced");
    assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), Some(0));
    let generation = d.metadata.generation;
    let done = within(10, await_condition(deps.clone(), "agent", deployment_done))
        .await
        .expect("scaled down")
        .expect("object");
    let st = done.status.clone().expect("status");
    assert_eq!(st.observed_generation, generation);
    assert_eq!(
        (
            st.replicas,
            st.updated_replicas,
            st.ready_replicas,
            st.available_replicas
        ),
        (None, None, None, None)
    );
    let conds = st.conditions.expect("conditions");
    let available = conds
        .iter()
        .find(|c| c.type_ == "Available")
        .expect("Available");
    assert_eq!(
        (available.status.as_str(), available.reason.as_deref()),
        ("True", Some("MinimumReplicasAvailable"))
    );
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    assert!(
        pods.list(&ListParams::default())
            .await
            .expect("pods")
            .items
            .is_empty()
    );
    // replicas moved to the new manager: clawctl's re-apply without it keeps zero.
    let owners: Vec<String> = done
        .managed_fields()
        .iter()
        .filter(|e| {
            e.fields_v1
                .as_ref()
                .is_some_and(|f| f.0.pointer("/f:spec/f:replicas").is_some())
        })
        .filter_map(|e| e.manager.clone())
        .collect();
    assert_eq!(owners, ["clawctl-suspend"]);
    let mut without = recreate.clone();
    without["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("replicas");
    let d = apply(&deps, &without).await.expect("re-apply");
    assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), Some(0));

    // Given up: the annotation goes, replicas back to the default, a pod again.
    params.force = false;
    let d = deps
        .patch("agent", &params, &Patch::Apply(&scale(None)))
        .await
        .expect("released");
    assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), Some(1));
    assert!(
        d.annotations().get("clawctl.io/suspended").is_none(),
        "{:?}",
        d.annotations()
    );
    let done = within(10, await_condition(deps.clone(), "agent", deployment_done))
        .await
        .expect("ready again")
        .expect("object");
    assert_eq!(done.status.and_then(|s| s.ready_replicas), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_and_unpullable_images() {
    let s = FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(60)),
        ..Default::default()
    });
    s.crash_images("crashy");
    s.unpullable_images("missing");
    let c = client(&s).await;
    let deps: Api<Deployment> = Api::namespaced(c.clone(), "default");
    apply(
        &deps,
        &deployment("default", "boom", "registry/crashy:1", 1),
    )
    .await
    .expect("deployment");
    apply(
        &deps,
        &deployment("default", "nopull", "registry/missing:1", 1),
    )
    .await
    .expect("deployment");
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    let waiting_reason = |p: &Pod| -> (String, i32) {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|cs| cs.first())
            .map(|cs| {
                (
                    cs.state
                        .as_ref()
                        .and_then(|s| s.waiting.as_ref())
                        .and_then(|w| w.reason.clone())
                        .unwrap_or_default(),
                    cs.restart_count,
                )
            })
            .unwrap_or_default()
    };
    let stream = watcher(pods.clone(), watcher::Config::default()).applied_objects();
    let mut stream = std::pin::pin!(stream);
    let mut saw_crash_restarts = 0;
    let mut saw_pull = (false, false);
    within(10, async {
        while let Some(p) = stream.try_next().await.expect("watch") {
            let (reason, restarts) = waiting_reason(&p);
            if p.name_any().starts_with("boom-") && reason == "CrashLoopBackOff" {
                saw_crash_restarts = saw_crash_restarts.max(restarts);
            }
            if p.name_any().starts_with("nopull-") {
                saw_pull.0 |= reason == "ErrImagePull";
                saw_pull.1 |= reason == "ImagePullBackOff";
            }
            if saw_crash_restarts >= 2 && saw_pull.0 && saw_pull.1 {
                break;
            }
        }
    })
    .await;
    let d = deps.get("boom").await.expect("deployment");
    let st = d.status.expect("status");
    assert_eq!(st.ready_replicas, None);
    assert_eq!(st.unavailable_replicas, Some(1));
    let progressing = st
        .conditions
        .expect("conditions")
        .into_iter()
        .find(|c| c.type_ == "Progressing")
        .expect("progressing");
    assert_ne!(
        progressing.reason.as_deref(),
        Some("NewReplicaSetAvailable")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn list_paging_and_selectors() {
    let s = FakeApiServer::start();
    let c = client(&s).await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    for i in 0..25 {
        let mut o = cm("default", &format!("cm-{i:02}"), json!({}));
        o["metadata"]["labels"] = json!({"fleet": "f", "idx": (i % 3).to_string()});
        apply(&cms, &o).await.expect("apply");
    }
    let mut names = Vec::new();
    let mut lp = ListParams::default().limit(10).labels("fleet=f");
    let mut pages = 0;
    let mut page = cms.list(&lp).await.expect("page");
    let first_rv = page.metadata.resource_version.clone();
    loop {
        pages += 1;
        assert_eq!(page.metadata.resource_version, first_rv);
        names.extend(page.items.iter().map(|i| i.name_any()));
        match page.metadata.continue_.clone().filter(|c| !c.is_empty()) {
            Some(tok) => {
                lp = lp.continue_token(&tok);
                page = cms.list(&lp).await.expect("page");
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 25);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);

    let unfiltered = cms
        .list(&ListParams::default().limit(10))
        .await
        .expect("page");
    // 25 ours + kube-root-ca.crt
    assert_eq!(unfiltered.metadata.remaining_item_count, Some(16));

    let count = |sel: &str| {
        let cms = cms.clone();
        let sel = sel.to_string();
        async move {
            cms.list(&ListParams::default().labels(&sel))
                .await
                .expect("list")
                .items
                .len()
        }
    };
    assert_eq!(count("idx=0").await, 9);
    assert_eq!(count("idx!=0,fleet").await, 16);
    assert_eq!(count("idx in (1,2)").await, 16);
    assert_eq!(count("idx notin (1,2)").await, 10); // 9 + kube-root-ca.crt
    assert_eq!(count("!fleet").await, 1);
    let by_name = cms
        .list(&ListParams::default().fields("metadata.name=cm-03"))
        .await
        .expect("field selector");
    assert_eq!(by_name.items.len(), 1);
    let all_deps: Api<DynamicObject> = Api::all_with(
        c.clone(),
        &kube::discovery::ApiResource::erase::<ConfigMap>(&()),
    );
    assert_eq!(
        all_deps
            .list(&ListParams::default())
            .await
            .expect("all")
            .items
            .len(),
        25 + 4
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_are_observable() {
    let s = FakeApiServer::start();
    let c = client(&s).await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");

    s.inject(
        FaultRule::new(Fault::Status {
            code: 500,
            retry_after: None,
        })
        .method("GET")
        .path("/configmaps"),
    );
    let st = api_error(cms.list(&ListParams::default()).await.expect_err("500"));
    assert_eq!((st.code, st.reason.as_str()), (500, "InternalError"));
    cms.list(&ListParams::default()).await.expect("only once");

    // kube retries 429 honouring Retry-After: two 429s, then the answer.
    s.clear_requests();
    s.inject(
        FaultRule::new(Fault::Status {
            code: 429,
            retry_after: Some(1),
        })
        .method("PATCH")
        .times(2),
    );
    let started = std::time::Instant::now();
    apply(&cms, &cm("default", "after-429", json!({})))
        .await
        .expect("retried");
    assert!(started.elapsed() >= Duration::from_secs(1));
    let statuses: Vec<u16> = s
        .requests()
        .iter()
        .filter(|r| r.verb == "patch")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![429, 429, 201]);

    // A dropped connection is a transport error, not a status.
    s.inject(
        FaultRule::new(Fault::Drop)
            .method("GET")
            .path("/configmaps/x"),
    );
    let err = cms.get("x").await.expect_err("dropped");
    assert!(!matches!(err, kube::Error::Api(_)), "{err:?}");
    let st = api_error(cms.get("x").await.expect_err("404 now"));
    assert_eq!(
        (st.code, st.message.as_str()),
        (404, "configmaps \"x\" not found")
    );
    assert!(s.requests().iter().any(|r| r.status == 0));

    // nth: the third matching request fails.
    s.inject(
        FaultRule::new(Fault::Status {
            code: 503,
            retry_after: None,
        })
        .path("/namespaces/default/secrets")
        .nth(3)
        .times(1),
    );
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(c.clone(), "default");
    s.clear_requests();
    for _ in 0..4 {
        let _ = secrets.list(&ListParams::default()).await;
    }
    let statuses: Vec<u16> = s.requests().iter().map(|r| r.status).collect();
    // kube retries 503 itself: the failed third request is followed by its retry.
    assert_eq!(statuses, vec![200, 200, 503, 200, 200]);

    s.deny("patch", "deployments", Some("team-a"));
    let nss: Api<Namespace> = Api::all(c.clone());
    apply(&nss, &ns("team-a")).await.expect("ns");
    let deps: Api<Deployment> = Api::namespaced(c.clone(), "team-a");
    let st = api_error(
        apply(&deps, &deployment("team-a", "x", "i:1", 1))
            .await
            .expect_err("403"),
    );
    assert_eq!(st.code, 403);
    assert_eq!(
        st.message,
        "deployments.apps \"x\" is forbidden: User \"admin\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"team-a\""
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lease_optimistic_concurrency() {
    let s = FakeApiServer::start();
    let c = client(&s).await;
    let leases: Api<Lease> = Api::namespaced(c.clone(), "default");
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "fleet-lock"},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 30}
    }))
    .expect("lease");
    let created = leases
        .create(&PostParams::default(), &lease)
        .await
        .expect("create");
    assert_eq!(created.metadata.generation, None);
    let st = api_error(
        leases
            .create(&PostParams::default(), &lease)
            .await
            .expect_err("exists"),
    );
    assert_eq!((st.code, st.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(
        st.message,
        "leases.coordination.k8s.io \"fleet-lock\" already exists"
    );

    let mut mine = created.clone();
    mine.spec.as_mut().expect("spec").holder_identity = Some("b".into());
    let updated = leases
        .replace("fleet-lock", &PostParams::default(), &mine)
        .await
        .expect("replace with the current rv");
    assert_ne!(updated.resource_version(), created.resource_version());

    // `mine` still carries the old resourceVersion.
    let st = api_error(
        leases
            .replace("fleet-lock", &PostParams::default(), &mine)
            .await
            .expect_err("stale"),
    );
    assert_eq!((st.code, st.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        st.message,
        "Operation cannot be fulfilled on leases.coordination.k8s.io \"fleet-lock\": the object has been modified; please apply your changes to the latest version and try again"
    );

    // A no-op replace keeps the resourceVersion.
    let same = leases
        .replace("fleet-lock", &PostParams::default(), &updated)
        .await
        .expect("no-op");
    assert_eq!(same.resource_version(), updated.resource_version());

    // Merge patch with a stale resourceVersion conflicts too.
    let st = api_error(
        leases
            .patch(
                "fleet-lock",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"resourceVersion": created.resource_version()}, "spec": {"holderIdentity": "c"}})),
            )
            .await
            .expect_err("stale patch"),
    );
    assert_eq!(st.code, 409);
}

#[tokio::test(flavor = "multi_thread")]
async fn watcher_relists_after_compaction_and_bookmarks_flow() {
    let s = FakeApiServer::start();
    s.set_bookmark_interval(Duration::from_millis(50));
    let c = client(&s).await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    apply(&cms, &cm("default", "one", json!({})))
        .await
        .expect("one");
    let rv = s.resource_version();
    apply(&cms, &cm("default", "two", json!({})))
        .await
        .expect("two");

    // A raw watch from an old rv replays what happened since.
    let wp = kube::api::WatchParams::default().timeout(2);
    let mut events = cms
        .watch(&wp, &rv.to_string())
        .await
        .expect("watch")
        .boxed();
    let first = within(5, events.try_next())
        .await
        .expect("event")
        .expect("some");
    match first {
        kube::api::WatchEvent::Added(o) => assert_eq!(o.name_any(), "two"),
        other => panic!("unexpected {other:?}"),
    }
    let bm = within(5, events.try_next())
        .await
        .expect("event")
        .expect("some");
    assert!(matches!(bm, kube::api::WatchEvent::Bookmark(_)), "{bm:?}");

    s.compact();
    let mut events = cms
        .watch(&wp, &rv.to_string())
        .await
        .expect("watch")
        .boxed();
    match within(5, events.try_next())
        .await
        .expect("event")
        .expect("some")
    {
        kube::api::WatchEvent::Error(e) => {
            assert_eq!((e.code, e.reason.as_str()), (410, "Expired"));
        }
        other => panic!("expected 410, got {other:?}"),
    }

    // Streaming list (sendInitialEvents) ends its initial events with a bookmark.
    let cfg = watcher::Config::default().streaming_lists();
    let mut stream = std::pin::pin!(watcher(cms.clone(), cfg));
    let mut init = Vec::new();
    within(5, async {
        while let Some(ev) = stream.try_next().await.expect("watch") {
            match ev {
                watcher::Event::InitApply(o) => init.push(o.name_any()),
                watcher::Event::InitDone => break,
                _ => {}
            }
        }
    })
    .await;
    init.sort();
    assert_eq!(init, vec!["kube-root-ca.crt", "one", "two"]);
    apply(&cms, &cm("default", "three", json!({})))
        .await
        .expect("three");
    cms.delete("one", &DeleteParams::default())
        .await
        .expect("delete");
    let mut seen = Vec::new();
    within(5, async {
        while let Some(ev) = stream.try_next().await.expect("watch") {
            match ev {
                watcher::Event::Apply(o) => seen.push(format!("apply {}", o.name_any())),
                watcher::Event::Delete(o) => seen.push(format!("delete {}", o.name_any())),
                _ => {}
            }
            if seen.len() == 2 {
                break;
            }
        }
    })
    .await;
    assert_eq!(seen, vec!["apply three", "delete one"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn generation_and_status_rules() {
    let s = FakeApiServer::start();
    let c = client(&s).await;
    let deps: Api<Deployment> = Api::namespaced(c.clone(), "default");
    let d = apply(&deps, &deployment("default", "g", "i:1", 0))
        .await
        .expect("d");
    assert_eq!(d.metadata.generation, Some(1));
    // Defaults the real server fills in.
    let spec = d.spec.clone().expect("spec");
    assert_eq!(spec.revision_history_limit, Some(10));
    assert_eq!(
        spec.strategy.and_then(|s| s.type_).as_deref(),
        Some("RollingUpdate")
    );
    // Status cannot be written through the main resource.
    let patched = deps
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 7}, "metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .expect("merge");
    assert_ne!(patched.status.and_then(|s| s.replicas), Some(7));
    assert_eq!(
        patched.metadata.generation,
        Some(1),
        "labels do not bump generation"
    );
    let patched = deps
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 2}})),
        )
        .await
        .expect("scale");
    assert_eq!(patched.metadata.generation, Some(2));
    let mf = patched.metadata.managed_fields.expect("managedFields");
    assert!(mf.iter().any(|e| e.operation.as_deref() == Some("Update")));

    // ConfigMaps have no generation; a missing fieldManager on apply is refused.
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let made = apply(&cms, &cm("default", "nog", json!({"a": "b"})))
        .await
        .expect("cm");
    assert_eq!(made.metadata.generation, None);
    let raw = http_request(
        &s,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/nog",
        "application/apply-patch+yaml",
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"nog\"}}",
    );
    assert_eq!(raw.0, 422, "{}", raw.1);
    assert!(
        raw.1.contains(r#""message":"PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch","reason":"Invalid","details":{"group":"meta.k8s.io","kind":"PatchOptions","causes":[{"#),
        "{}",
        raw.1
    );

    // A YAML apply body works too.
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fromyaml\ndata:\n  k: v\n";
    let raw = http_request(
        &s,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/fromyaml?fieldManager=me",
        "application/apply-patch+yaml",
        yaml,
    );
    assert_eq!(raw.0, 201, "{}", raw.1);

    // PVCs bind shortly after creation.
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(c.clone(), "default");
    let pvc = apply(
        &pvcs,
        &json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "default"},
               "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
    )
    .await
    .expect("pvc");
    assert_eq!(pvc.status.and_then(|s| s.phase).as_deref(), Some("Pending"));
    let bound = within(
        5,
        await_condition(pvcs.clone(), "data", |p: Option<&PersistentVolumeClaim>| {
            p.and_then(|p| p.status.as_ref())
                .and_then(|s| s.phase.as_deref())
                == Some("Bound")
        }),
    )
    .await
    .expect("bound")
    .expect("pvc");
    let uid = bound.uid().expect("uid");
    assert_eq!(
        bound.spec.and_then(|s| s.volume_name),
        Some(format!("pvc-{uid}"))
    );
}

/// A raw request with the kubeconfig's token (for what the typed client refuses to send).
fn http_request(
    s: &FakeApiServer,
    method: &str,
    path: &str,
    ct: &str,
    body: &str,
) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = s.url().trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: fake\r\nAuthorization: Bearer fake-token\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    stream.read_to_string(&mut out).expect("read");
    let code = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, out)
}

#[tokio::test(flavor = "multi_thread")]
async fn selector_watch_transitions_and_deletecollection() {
    let s = FakeApiServer::start();
    let c = client(&s).await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let mut o = cm("default", "moving", json!({}));
    o["metadata"]["labels"] = json!({"tier": "a"});
    apply(&cms, &o).await.expect("apply");
    let rv = s.resource_version().to_string();
    let wp = kube::api::WatchParams::default()
        .labels("tier=a")
        .timeout(5);
    let mut events = cms.watch(&wp, &rv).await.expect("watch").boxed();
    // Leaving the selection is a DELETED event, coming back an ADDED one.
    o["metadata"]["labels"] = json!({"tier": "b"});
    apply(&cms, &o).await.expect("relabel");
    o["metadata"]["labels"] = json!({"tier": "a"});
    apply(&cms, &o).await.expect("relabel back");
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        match within(5, events.try_next())
            .await
            .expect("event")
            .expect("some")
        {
            kube::api::WatchEvent::Added(_) => kinds.push("ADDED"),
            kube::api::WatchEvent::Deleted(_) => kinds.push("DELETED"),
            kube::api::WatchEvent::Modified(_) => kinds.push("MODIFIED"),
            _ => {}
        }
    }
    assert_eq!(kinds, vec!["DELETED", "ADDED"]);

    for i in 0..3 {
        let mut o = cm("default", &format!("gone-{i}"), json!({}));
        o["metadata"]["labels"] = json!({"batch": "x"});
        apply(&cms, &o).await.expect("apply");
    }
    cms.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("batch=x"),
    )
    .await
    .expect("deletecollection");
    assert!(
        cms.list(&ListParams::default().labels("batch"))
            .await
            .expect("list")
            .items
            .is_empty()
    );
    assert_eq!(s.counts().get("deletecollection"), Some(&1));
}
