//! RBAC on the fake API server, driven by the real kube-rs client as different users:
//! the bootstrap roles and their aggregation, RoleBinding scope, escalation prevention,
//! SelfSubjectAccessReview and authentication.

use fake_apiserver::{FakeApiServer, TEAM_OPERATOR, UserInfo};
use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::Discovery;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

async fn client_for(kubeconfig: &str) -> Client {
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig).expect("kubeconfig parses");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    Client::try_from(cfg).expect("client")
}

fn status_of(e: kube::Error) -> kube::core::Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// An API for any kind, by apiVersion and kind (plural guessed the Kubernetes way).
fn dynamic(
    c: &Client,
    api_version: &str,
    kind: &str,
    plural: &str,
    ns: Option<&str>,
) -> Api<DynamicObject> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let ar =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    match ns {
        Some(ns) => Api::namespaced_with(c.clone(), ns, &ar),
        None => Api::all_with(c.clone(), &ar),
    }
}

async fn create(c: &Client, plural: &str, obj: Value) -> Result<DynamicObject, kube::Error> {
    let api_version = obj["apiVersion"].as_str().expect("apiVersion").to_string();
    let kind = obj["kind"].as_str().expect("kind").to_string();
    let ns = obj["metadata"]["namespace"].as_str().map(str::to_string);
    let o: DynamicObject = serde_json::from_value(obj).expect("object");
    dynamic(c, &api_version, &kind, plural, ns.as_deref())
        .create(&PostParams::default(), &o)
        .await
}

/// A cluster admin's client plus namespaces `team-a` and `team-b`.
async fn cluster() -> (FakeApiServer, Client) {
    let s = FakeApiServer::start();
    let admin = client_for(&s.kubeconfig()).await;
    let nss: Api<Namespace> = Api::all(admin.clone());
    for ns in ["team-a", "team-b"] {
        let n: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}})).expect("ns");
        nss.create(&PostParams::default(), &n)
            .await
            .expect("namespace");
    }
    (s, admin)
}

fn role_binding(ns: &str, name: &str, role_kind: &str, role: &str, subject: Value) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [subject],
    })
}

fn user(name: &str) -> Value {
    json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name})
}

/// `alice` with the `admin` ClusterRole through a RoleBinding in `team-a`.
async fn alice_admin_of_team_a(s: &FakeApiServer, admin: &Client) -> Client {
    create(
        admin,
        "rolebindings",
        role_binding(
            "team-a",
            "alice-admin",
            "ClusterRole",
            "admin",
            user("alice"),
        ),
    )
    .await
    .expect("bind admin");
    client_for(&s.kubeconfig_for_user("alice", &[])).await
}

fn cm(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": {"k": "v"}})
}

fn lease(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": name, "namespace": ns},
           "spec": {"holderIdentity": "x"}})
}

async fn forbidden(r: Result<DynamicObject, kube::Error>) -> String {
    let st = status_of(r.expect_err("403"));
    assert_eq!(st.code, 403, "{}", st.message);
    assert_eq!(st.reason, "Forbidden");
    st.message
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_in_a_namespace_writes_config_and_rbac_but_not_revisions_leases_quotas_or_cluster_lists()
 {
    let (s, admin) = cluster().await;
    let alice = alice_admin_of_team_a(&s, &admin).await;

    create(&alice, "configmaps", cm("team-a", "c"))
        .await
        .expect("configmap");
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "team-a"},
                        "stringData": {"k": "v"}});
    create(&alice, "secrets", secret).await.expect("secret");
    let secrets: Api<Secret> = Api::namespaced(alice.clone(), "team-a");
    secrets.get("s").await.expect("read secret");
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                      "metadata": {"name": "cm-reader", "namespace": "team-a"},
                      "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]});
    create(&alice, "roles", role).await.expect("role");
    create(
        &alice,
        "rolebindings",
        role_binding("team-a", "cm-reader", "Role", "cm-reader", user("bob")),
    )
    .await
    .expect("rolebinding");

    let revision = json!({"apiVersion": "apps/v1", "kind": "ControllerRevision",
                          "metadata": {"name": "r1", "namespace": "team-a"}, "revision": 1, "data": {}});
    assert_eq!(
        forbidden(create(&alice, "controllerrevisions", revision).await).await,
        "controllerrevisions.apps is forbidden: User \"alice\" cannot create resource \"controllerrevisions\" in API group \"apps\" in the namespace \"team-a\""
    );
    // ... but it may read them (view's rules, aggregated into admin).
    dynamic(
        &alice,
        "apps/v1",
        "ControllerRevision",
        "controllerrevisions",
        Some("team-a"),
    )
    .list(&ListParams::default())
    .await
    .expect("list revisions");
    assert_eq!(
        forbidden(create(&alice, "leases", lease("team-a", "lock")).await).await,
        "leases.coordination.k8s.io is forbidden: User \"alice\" cannot create resource \"leases\" in API group \"coordination.k8s.io\" in the namespace \"team-a\""
    );
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q", "namespace": "team-a"},
                       "spec": {"hard": {"pods": "1"}}});
    forbidden(create(&alice, "resourcequotas", quota).await).await;
    dynamic(
        &alice,
        "v1",
        "ResourceQuota",
        "resourcequotas",
        Some("team-a"),
    )
    .list(&ListParams::default())
    .await
    .expect("read quotas");

    // Nothing at the cluster scope: no list across namespaces, no Namespaces but its own.
    let all: Api<ConfigMap> = Api::all(alice.clone());
    let st = status_of(all.list(&ListParams::default()).await.expect_err("403"));
    assert_eq!(
        st.message,
        "configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" at the cluster scope"
    );
    let nss: Api<Namespace> = Api::all(alice.clone());
    nss.get("team-a").await.expect("its own namespace");
    let st = status_of(nss.get("team-b").await.expect_err("403"));
    assert_eq!(
        st.message,
        "namespaces \"team-b\" is forbidden: User \"alice\" cannot get resource \"namespaces\" in API group \"\" in the namespace \"team-b\""
    );
    assert_eq!(
        status_of(nss.list(&ListParams::default()).await.expect_err("403")).code,
        403
    );
    let sc = dynamic(
        &alice,
        "storage.k8s.io/v1",
        "StorageClass",
        "storageclasses",
        None,
    );
    assert_eq!(
        status_of(sc.list(&ListParams::default()).await.expect_err("403")).code,
        403
    );

    // Discovery works for any authenticated user.
    Discovery::new(alice.clone())
        .run()
        .await
        .expect("discovery");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_binding_in_one_namespace_grants_nothing_in_another() {
    let (s, admin) = cluster().await;
    let alice = alice_admin_of_team_a(&s, &admin).await;
    create(&alice, "configmaps", cm("team-a", "c"))
        .await
        .expect("team-a");
    assert_eq!(
        forbidden(create(&alice, "configmaps", cm("team-b", "c")).await).await,
        "configmaps is forbidden: User \"alice\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"team-b\""
    );
    let cms: Api<ConfigMap> = Api::namespaced(alice.clone(), "team-b");
    assert_eq!(
        status_of(cms.list(&ListParams::default()).await.expect_err("403")).code,
        403
    );
    // The same user with a ServiceAccount's identity has none of alice's rights.
    let sa = client_for(&s.kubeconfig_for_service_account("team-a", "ci")).await;
    forbidden(create(&sa, "configmaps", cm("team-a", "d")).await).await;
    // A ServiceAccount subject without a namespace is the binding's namespace's.
    create(
        &admin,
        "rolebindings",
        role_binding(
            "team-a",
            "ci-edit",
            "ClusterRole",
            "edit",
            json!({"kind": "ServiceAccount", "name": "ci"}),
        ),
    )
    .await
    .expect("bind edit");
    create(&sa, "configmaps", cm("team-a", "d"))
        .await
        .expect("ci edits team-a");
    forbidden(create(&sa, "configmaps", cm("team-b", "d")).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn view_cannot_read_secrets() {
    let (s, admin) = cluster().await;
    create(
        &admin,
        "rolebindings",
        role_binding("team-a", "bob-view", "ClusterRole", "view", user("bob")),
    )
    .await
    .expect("bind view");
    create(&admin, "configmaps", cm("team-a", "c"))
        .await
        .expect("cm");
    let bob = client_for(&s.kubeconfig_for_user("bob", &[])).await;
    let cms: Api<ConfigMap> = Api::namespaced(bob.clone(), "team-a");
    assert_eq!(
        cms.get("c")
            .await
            .expect("view reads configmaps")
            .name_any(),
        "c"
    );
    let secrets: Api<Secret> = Api::namespaced(bob.clone(), "team-a");
    let st = status_of(secrets.get("any").await.expect_err("403"));
    assert_eq!(
        st.message,
        "secrets \"any\" is forbidden: User \"bob\" cannot get resource \"secrets\" in API group \"\" in the namespace \"team-a\""
    );
    assert_eq!(
        status_of(secrets.list(&ListParams::default()).await.expect_err("403")).code,
        403
    );
    forbidden(create(&bob, "configmaps", cm("team-a", "d")).await).await;
}

fn has_leases(role: &Value) -> bool {
    role["rules"].as_array().into_iter().flatten().any(|r| {
        r["resources"]
            .as_array()
            .is_some_and(|rs| rs.iter().any(|x| x == "leases"))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aggregated_cluster_role_adds_leases_to_admin_and_deleting_it_removes_them() {
    let (s, admin) = cluster().await;
    let alice = alice_admin_of_team_a(&s, &admin).await;
    let get_admin = || {
        s.get("rbac.authorization.k8s.io/v1", "ClusterRole", None, "admin")
            .expect("admin")
    };
    let seeded = get_admin();
    assert_eq!(
        seeded["metadata"]["labels"]["kubernetes.io/bootstrapping"],
        "rbac-defaults"
    );
    assert!(seeded["aggregationRule"]["clusterRoleSelectors"].is_array());
    assert!(!has_leases(&seeded), "{seeded}");
    forbidden(create(&alice, "leases", lease("team-a", "lock")).await).await;

    let bookkeeping = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "leases-for-admins",
                     "labels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}},
        "rules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                   "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}],
    });
    create(&admin, "clusterroles", bookkeeping)
        .await
        .expect("aggregated role");
    assert!(has_leases(&get_admin()));
    // Not aggregated into edit: the label names admin only.
    assert!(!has_leases(
        &s.get("rbac.authorization.k8s.io/v1", "ClusterRole", None, "edit")
            .expect("edit")
    ));
    create(&alice, "leases", lease("team-a", "lock"))
        .await
        .expect("lease");

    dynamic(
        &admin,
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        "clusterroles",
        None,
    )
    .delete("leases-for-admins", &DeleteParams::default())
    .await
    .expect("delete");
    assert!(!has_leases(&get_admin()));
    let leases = dynamic(
        &alice,
        "coordination.k8s.io/v1",
        "Lease",
        "leases",
        Some("team-a"),
    );
    assert_eq!(
        status_of(
            leases
                .delete("lock", &DeleteParams::default())
                .await
                .expect_err("403")
        )
        .code,
        403
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn escalation_is_refused_with_the_real_message() {
    let (s, admin) = cluster().await;
    let alice = alice_admin_of_team_a(&s, &admin).await;
    let lease_role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                            "metadata": {"name": "lease-writer", "namespace": "team-a"},
                            "rules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                                       "verbs": ["get", "create"]},
                                      {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]});
    assert_eq!(
        forbidden(create(&alice, "roles", lease_role.clone()).await).await,
        "roles.rbac.authorization.k8s.io \"lease-writer\" is forbidden: user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n\
         {APIGroups:[\"coordination.k8s.io\"], Resources:[\"leases\"], Verbs:[\"get\" \"create\"]}"
    );
    // Binding a role one does not hold whole is escalation too; binding edit is not.
    let msg = forbidden(
        create(
            &alice,
            "rolebindings",
            role_binding(
                "team-a",
                "root",
                "ClusterRole",
                "cluster-admin",
                user("alice"),
            ),
        )
        .await,
    )
    .await;
    assert!(
        msg.starts_with("rolebindings.rbac.authorization.k8s.io \"root\" is forbidden: user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n"),
        "{msg}"
    );
    create(
        &alice,
        "rolebindings",
        role_binding("team-a", "carol-edit", "ClusterRole", "edit", user("carol")),
    )
    .await
    .expect("admin holds all of edit");

    // The `escalate` verb lifts the check for Roles, `bind` for bindings of that role.
    let escalator = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                           "metadata": {"name": "role-escalator"},
                           "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["escalate"]},
                                     {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"],
                                      "verbs": ["bind"], "resourceNames": ["cluster-admin"]}]});
    create(&admin, "clusterroles", escalator)
        .await
        .expect("escalator");
    create(
        &admin,
        "rolebindings",
        role_binding(
            "team-a",
            "alice-escalates",
            "ClusterRole",
            "role-escalator",
            user("alice"),
        ),
    )
    .await
    .expect("bind escalator");
    create(&alice, "roles", lease_role)
        .await
        .expect("escalate allows it");
    create(
        &alice,
        "rolebindings",
        role_binding(
            "team-a",
            "root",
            "ClusterRole",
            "cluster-admin",
            user("alice"),
        ),
    )
    .await
    .expect("bind allows it");
}

async fn review(c: &Client, attrs: Value) -> Value {
    let api: Api<SelfSubjectAccessReview> = Api::all(c.clone());
    let r: SelfSubjectAccessReview =
        serde_json::from_value(json!({"spec": {"resourceAttributes": attrs}})).expect("review");
    let out = api.create(&PostParams::default(), &r).await.expect("ssar");
    serde_json::to_value(out.status).expect("status")
}

#[tokio::test(flavor = "multi_thread")]
async fn self_subject_access_review_answers_from_the_same_authorizer() {
    let (s, admin) = cluster().await;
    let alice = alice_admin_of_team_a(&s, &admin).await;
    let st = review(
        &alice,
        json!({"namespace": "team-a", "verb": "create", "resource": "configmaps"}),
    )
    .await;
    assert_eq!(st["allowed"], true);
    assert_eq!(
        st["reason"],
        "RBAC: allowed by RoleBinding \"alice-admin/team-a\" of ClusterRole \"admin\" to User \"alice\""
    );
    let st = review(
        &alice,
        json!({"namespace": "team-a", "verb": "create", "group": "coordination.k8s.io", "resource": "leases"}),
    )
    .await;
    assert_eq!(st["allowed"], false);
    let st = review(
        &alice,
        json!({"namespace": "team-b", "verb": "get", "resource": "configmaps"}),
    )
    .await;
    assert_eq!(st["allowed"], false);
    let st = review(
        &alice,
        json!({"namespace": "team-a", "verb": "create", "resource": "pods", "subresource": "exec"}),
    )
    .await;
    assert_eq!(st["allowed"], true);
    let st = review(
        &admin,
        json!({"verb": "create", "group": "coordination.k8s.io", "resource": "leases"}),
    )
    .await;
    assert_eq!(st["allowed"], true);
    assert!(s.can(
        &UserInfo::new("alice", &[]),
        "get",
        "",
        "pods/log",
        "team-a",
        "p"
    ));
    assert!(!s.can(
        &UserInfo::new("alice", &[]),
        "update",
        "",
        "resourcequotas",
        "team-a",
        "q"
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_tokens_get_401() {
    let s = FakeApiServer::start();
    let stranger = client_for(&s.kubeconfig_with_token("not-a-token")).await;
    let nss: Api<Namespace> = Api::all(stranger);
    let st = status_of(nss.list(&ListParams::default()).await.expect_err("401"));
    assert_eq!((st.code, st.message.as_str()), (401, "Unauthorized"));
}

#[tokio::test(flavor = "multi_thread")]
async fn restrict_to_namespaces_binds_admin_to_the_default_identity() {
    let s = FakeApiServer::start();
    let c = client_for(&s.kubeconfig()).await;
    let nss: Api<Namespace> = Api::all(c.clone());
    nss.list(&ListParams::default())
        .await
        .expect("superuser lists");
    s.restrict_to_namespaces(&["core", "default"]);
    let binding = s
        .get(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            Some("core"),
            "team-operator-admin",
        )
        .expect("binding in the namespace created for it");
    assert_eq!(binding["subjects"][0]["name"], TEAM_OPERATOR);
    let st = status_of(nss.list(&ListParams::default()).await.expect_err("403"));
    assert_eq!(
        st.message,
        "namespaces is forbidden: User \"team-operator\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"
    );
    create(&c, "configmaps", cm("core", "c"))
        .await
        .expect("admin of core");
    forbidden(create(&c, "configmaps", cm("kube-system", "c")).await).await;
    // A narrower call drops the binding elsewhere.
    s.restrict_to_namespaces(&["core"]);
    forbidden(create(&c, "configmaps", cm("default", "c")).await).await;
    // deny() still applies on top of RBAC.
    s.deny("create", "configmaps", Some("core"));
    forbidden(create(&c, "configmaps", cm("core", "d")).await).await;
    s.allow_all();
    nss.list(&ListParams::default())
        .await
        .expect("superuser again");
    create(&c, "configmaps", cm("kube-system", "c"))
        .await
        .expect("anywhere");
}
