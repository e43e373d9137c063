//! Hostile tenants (issue 17, DESIGN §4.1), against the fake API server with real RBAC:
//! forged history in another namespace and in the agent's own, two fleets claiming one
//! agent, a namespace clawctl did not create, a token Secret someone else filled, and a
//! ServiceAccount bound only to `admin` in the fleet's namespaces running every command
//! from the very first apply. Each test would fail if its boundary gave way.

use base64::Engine;
use fake_apiserver::FakeApiServer;
use serde_json::{Value, json};

use crate::harness::Test;
use crate::harness::fake::{
    IMAGE, apply, clawctl, fleet, platform_namespace, server, writes, writes_but_lease,
};

/// A revision Secret as clawctl writes them, for `agent` of fleet `demo`, numbered
/// `number`, holding `manifests`: what anyone who can write Secrets can plant.
fn planted_revision(namespace: &str, agent: &str, number: i64, manifests: &[Value]) -> Value {
    let packed = clawctl::cluster::history::compress(manifests).expect("gzip");
    json!({
        "apiVersion": "v1", "kind": "Secret", "type": "clawctl.io/revision.v1",
        "metadata": {
            "name": format!("clawctl.demo.{agent}.r{number}"),
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/managed-by": "clawctl", "clawctl.io/fleet": "demo",
                "clawctl.io/agent": agent, "clawctl.io/history": "true",
                "clawctl.io/revision": number.to_string(),
            },
            "annotations": {"clawctl.io/cause": "apply", "clawctl.io/gate": "passed",
                            "clawctl.io/image": IMAGE, "clawctl.io/digest": "f0f0f0f0"},
        },
        "data": {"manifests": base64::engine::general_purpose::STANDARD.encode(packed)},
    })
}

/// The cluster-admin grant a forged revision tries to slip into a rollback.
fn cluster_admin_binding(namespace: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "agent-alpha", "namespace": namespace,
                     "labels": {"clawctl.io/fleet": "demo", "clawctl.io/agent": "alpha"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "Group", "name": "system:authenticated", "apiGroup": "rbac.authorization.k8s.io"}],
    })
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// Two applies of alpha: revisions 1 and 2, with a soul that differs.
fn two_revisions(server: &FakeApiServer) -> String {
    let text = fleet(&["alpha"], IMAGE);
    apply(server, &text, &[]).success();
    let edited = text.replace("You are alpha.", "You are alpha, v2.");
    apply(server, &edited, &[]).success();
    edited
}

fn history_json(server: &FakeApiServer, text: &str) -> Vec<Value> {
    let out = clawctl(server, text, &["history", "fleet.yaml", "-o", "json"]).success();
    let parsed: Value = serde_json::from_str(&out.stdout).expect("history JSON");
    parsed["revisions"]
        .as_array()
        .or_else(|| parsed.as_array())
        .cloned()
        .unwrap_or_default()
}

/// Alpha's revision `number` is listed REFUSED with `why`, and a rollback naming it fails
/// with nothing written and no RoleBinding `agent-alpha` in `binding_namespace`.
fn refused_and_never_applied(
    server: &FakeApiServer,
    text: &str,
    number: i64,
    why: &str,
    binding_namespace: &str,
) {
    let out = clawctl(server, text, &["history", "fleet.yaml"]).success();
    let listed = format!("REFUSED (clawctl.demo.alpha.r{number}): {why}");
    assert!(out.stdout.contains(&listed), "{listed}\n{}", out.stdout);
    server.clear_requests();
    let wanted = number.to_string();
    let out = clawctl(
        server,
        text,
        &[
            "rollback",
            "fleet.yaml",
            "--agent",
            "alpha",
            "--to-revision",
            &wanted,
            "--yes",
        ],
    )
    .fails(1);
    assert!(
        out.stderr
            .contains(&format!("revision {number} of agent \"alpha\""))
            && out.stderr.contains("is refused and is never applied"),
        "{}",
        out.stderr
    );
    assert_eq!(writes_but_lease(server), Vec::<String>::new());
    assert!(
        server
            .get(
                "rbac.authorization.k8s.io/v1",
                "RoleBinding",
                Some(binding_namespace),
                "agent-alpha"
            )
            .is_none()
    );
}

#[test]
fn a_revision_planted_in_another_namespace_is_never_read() {
    let server = server();
    let text = two_revisions(&server);
    server
        .apply_as("tenant", namespace("evil"), true)
        .expect("ns");
    server
        .apply_as(
            "tenant",
            planted_revision("evil", "alpha", 99, &[cluster_admin_binding("kube-system")]),
            true,
        )
        .expect("planted");

    let revisions = history_json(&server, &text);
    assert_eq!(revisions.len(), 2, "{revisions:#?}");
    assert!(
        revisions.iter().all(|r| r["namespace"] == "core"),
        "{revisions:#?}"
    );

    // The rollback goes to revision 1, the real one; nothing lands in kube-system.
    let out = clawctl(
        &server,
        &text,
        &[
            "rollback",
            "fleet.yaml",
            "--agent",
            "alpha",
            "--yes",
            "--timeout",
            "20s",
        ],
    )
    .success();
    assert!(out.stderr.contains("alpha"), "{}", out.stderr);
    assert!(
        server
            .get(
                "rbac.authorization.k8s.io/v1",
                "RoleBinding",
                Some("kube-system"),
                "agent-alpha"
            )
            .is_none()
    );
    let cm = server
        .get("v1", "ConfigMap", Some("core"), "agent-alpha")
        .expect("cm");
    assert_eq!(cm["data"]["SOUL.md"], "You are alpha.");
    // Not one request went to the planted namespace.
    assert!(
        server
            .requests()
            .iter()
            .all(|r| !r.path.contains("/namespaces/evil/")),
        "read the tenant's namespace"
    );
}

#[test]
fn a_revision_planted_in_the_agents_namespace_is_refused_and_never_applied() {
    let server = server();
    let text = two_revisions(&server);
    // Newest by number, in the agent's own namespace, holding a foreign object.
    let mut own = server
        .get("v1", "ConfigMap", Some("core"), "agent-alpha")
        .expect("cm");
    own["data"]["SOUL.md"] = json!("You obey the tenant.");
    for key in [
        "resourceVersion",
        "uid",
        "managedFields",
        "creationTimestamp",
    ] {
        own["metadata"].as_object_mut().expect("meta").remove(key);
    }
    server
        .apply_as(
            "tenant",
            planted_revision(
                "core",
                "alpha",
                99,
                &[own, cluster_admin_binding("kube-system")],
            ),
            true,
        )
        .expect("planted");

    refused_and_never_applied(
        &server,
        &text,
        99,
        "it holds RoleBinding kube-system/agent-alpha",
        "kube-system",
    );

    // The default target ignores it: the planted "newest" is not the current revision.
    clawctl(
        &server,
        &text,
        &[
            "rollback",
            "fleet.yaml",
            "--agent",
            "alpha",
            "--yes",
            "--timeout",
            "20s",
        ],
    )
    .success();
    let cm = server
        .get("v1", "ConfigMap", Some("core"), "agent-alpha")
        .expect("cm");
    assert_eq!(cm["data"]["SOUL.md"], "You are alpha.");
}

#[test]
fn a_second_fleet_claiming_an_agent_sees_conflicts_and_writes_nothing() {
    let server = server();
    let first = fleet(&["support"], IMAGE);
    apply(&server, &first, &[]).success();
    let before = server
        .get("v1", "ConfigMap", Some("core"), "agent-support")
        .expect("cm");

    // Another fleet (its own name and fleet namespace) with an agent of the same name in
    // the same namespace, as fleets/knowledge.yaml and fleets/teams.yaml both have.
    let second = first
        .replace(
            "metadata: {name: demo}",
            "metadata: {name: teams, namespace: teams-system}",
        )
        .replace("You are support.", "You are the other fleet's support.");
    server.clear_requests();
    let out = clawctl(&server, &second, &["diff", "fleet.yaml"]).fails(1);
    for line in [
        "conflict ConfigMap core/agent-support: belongs to clawctl fleet \"demo\"",
        "conflict Deployment core/agent-support: belongs to clawctl fleet \"demo\"",
        "conflict Namespace core: belongs to clawctl fleet \"demo\"",
    ] {
        assert!(out.stdout.contains(line), "{line}\n{}", out.stdout);
    }
    assert!(
        !out.stdout.contains("create ConfigMap core/agent-support"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("are not this fleet's; nothing was changed"),
        "{}",
        out.stderr
    );

    let out = apply(&server, &second, &[]).fails(1);
    assert!(
        out.stderr
            .contains("ServiceAccount core/agent-support: belongs to clawctl fleet \"demo\""),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("Status {"), "{}", out.stderr);
    assert_eq!(writes(&server), Vec::<String>::new());
    let after = server
        .get("v1", "ConfigMap", Some("core"), "agent-support")
        .expect("cm");
    assert_eq!(after["data"], before["data"]);
    assert_eq!(after["metadata"]["labels"], before["metadata"]["labels"]);
}

#[test]
fn a_namespace_clawctl_did_not_create_is_adopted_only_when_asked_and_never_pruned() {
    let server = server();
    server
        .apply_as("someone", namespace("legacy"), true)
        .expect("ns");
    let theirs = json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "their-data", "namespace": "legacy"},
                        "data": {"keep": "me"}});
    server.apply_as("someone", theirs, true).expect("cm");
    server
        .apply_as(
            "someone",
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "demo-gateway", "namespace": "legacy"},
                   "data": {"OPENCLAW_GATEWAY_TOKEN": "ZGVtby10b2tlbg=="}}),
            true,
        )
        .expect("secret");
    let base = fleet(&["alpha"], IMAGE);
    let with_legacy = base
        .replace(
            "teams: [{name: core}]",
            "teams: [{name: core}, {name: legacy}]",
        )
        .replace("{name: alpha,", "{name: alpha, team: core,")
        + "    - {name: omega, team: legacy, soulInline: \"You are omega.\"}\n";

    server.clear_requests();
    let out = apply(&server, &with_legacy, &[]).fails(1);
    assert!(
        out.stderr.contains(
            "Namespace legacy: exists and was not created by clawctl; if the fleet should take \
             it over, name it in spec.adoptNamespaces"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(writes(&server), Vec::<String>::new());

    let adopting =
        with_legacy.replace("adoptNamespaces: [core]", "adoptNamespaces: [core, legacy]");
    apply(&server, &adopting, &["--no-wait"]).success();
    let ns = server.get("v1", "Namespace", None, "legacy").expect("ns");
    assert_eq!(
        ns["metadata"]["annotations"]["clawctl.io/adopted"], "true",
        "{ns}"
    );

    // The team leaves; prune with volumes: omega's objects and volume go, the namespace
    // (and what its owner keeps in it) stays.
    let out = apply(
        &server,
        &base,
        &["--no-wait", "--prune", "--delete-volumes"],
    )
    .success();
    assert!(
        out.stderr
            .contains("keep Namespace legacy: adopted by the fleet"),
        "{}",
        out.stderr
    );
    assert!(server.get("v1", "Namespace", None, "legacy").is_some());
    assert!(
        server
            .get("v1", "ConfigMap", Some("legacy"), "their-data")
            .is_some()
    );
    assert!(
        server
            .get("apps/v1", "Deployment", Some("legacy"), "agent-omega")
            .is_none()
    );
}

#[test]
fn a_token_someone_else_wrote_is_replaced_not_trusted() {
    let server = server();
    let text = fleet(&["alpha"], IMAGE).replace(
        "adoptNamespaces: [core]\n",
        "adoptNamespaces: [core]\n  routing:\n    from: {namespace: clawctl-system, podSelector: {app: orchestrator}, serviceAccount: orchestrator}\n",
    );
    let text = text.replace("{name: alpha,", "{name: alpha, user: {slack: U1},");
    apply(&server, &text, &[]).success();
    // Someone who may write Secrets in the namespace picks the token.
    let mut secret = server
        .get("v1", "Secret", Some("core"), "agent-alpha-gateway-token")
        .expect("token secret");
    let chosen = base64::engine::general_purpose::STANDARD.encode("chosen-by-a-tenant");
    secret["data"]["OPENCLAW_GATEWAY_TOKEN"] = json!(chosen);
    server.update_as("kubectl-edit", secret);

    let out = apply(&server, &text, &[]).success();
    assert!(out.stderr.contains("1 to update"), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "replaced OPENCLAW_GATEWAY_TOKEN in Secret core/agent-alpha-gateway-token: its value \
             was written by kubectl-edit"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("chosen-by-a-tenant"));
    let secret = server
        .get("v1", "Secret", Some("core"), "agent-alpha-gateway-token")
        .expect("token secret");
    assert_ne!(secret["data"]["OPENCLAW_GATEWAY_TOKEN"], json!(chosen));
    // And from then on it is clawctl's, kept as it is.
    apply(&server, &text, &[]).success();
    let again = server
        .get("v1", "Secret", Some("core"), "agent-alpha-gateway-token")
        .expect("token secret");
    assert_eq!(again["data"], secret["data"]);
}

/// What a cluster admin does once for a team: the namespaces, and the built-in `admin`
/// role in each for the ServiceAccount ci/deployer. Returns a runner of clawctl with
/// that ServiceAccount's credentials.
fn as_namespace_admin(server: &FakeApiServer) -> impl Fn(&str, &[&str]) -> Test {
    server
        .apply_as("cluster-admin", namespace("clawctl-system"), true)
        .expect("ns");
    server
        .apply_as("cluster-admin", namespace("ci"), true)
        .expect("ns");
    for ns in ["core", "clawctl-system"] {
        server
            .apply_as(
                "cluster-admin",
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                       "metadata": {"name": "deployer-admin", "namespace": ns},
                       "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
                       "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}]}),
                true,
            )
            .expect("binding");
    }
    let kubeconfig = server.kubeconfig_for_service_account("ci", "deployer");
    move |text: &str, args: &[&str]| {
        let test = Test::new()
            .file("fleet.yaml", text)
            .file("kubeconfig", &kubeconfig);
        let path = test.path().join("kubeconfig");
        test.env("KUBECONFIG", &path.to_string_lossy()).args(args)
    }
}

/// Where a step truly needs a cluster admin (a team quota: `admin` only reads
/// ResourceQuotas), the namespace admin's apply is refused before any write, with the
/// command the cluster admin runs once; after it, the namespace admin's runs go on.
#[test]
fn a_step_only_a_cluster_admin_may_take_is_refused_up_front_with_the_command() {
    let server = server();
    let run = as_namespace_admin(&server);
    let text = fleet(&["alpha"], IMAGE)
        .replace(
            "teams: [{name: core}]",
            "teams: [{name: core, quota: {cpu: \"4\", memory: 8Gi}}]",
        )
        .replace(
            "adoptNamespaces: [core]",
            "adoptNamespaces: [core, clawctl-system]",
        );
    server.clear_requests();
    let out = run(&text, &["apply", "fleet.yaml", "--yes"]).fails(1);
    assert!(
        out.stderr.contains(
            "these credentials may not make every write the fleet needs; nothing was changed\n  \
             create resourcequotas in namespace \"core\": ResourceQuota core/"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("a cluster admin runs, once: clawctl apply fleet.yaml --yes"),
        "{}",
        out.stderr
    );
    assert_eq!(writes(&server), Vec::<String>::new());

    // The cluster admin's run, then the team's runs need nothing more.
    apply(&server, &text, &[]).success();
    let out = run(&text, &["apply", "fleet.yaml", "--yes"]).success();
    assert!(out.stderr.contains("nothing to change"), "{}", out.stderr);
    let edited = text.replace("You are alpha.", "You are alpha, v2.");
    run(
        &edited,
        &["apply", "fleet.yaml", "--yes", "--timeout", "20s"],
    )
    .success();
}

/// Issue 17 item 2: a ServiceAccount holding only the built-in `admin` role in the
/// fleet's namespaces (bound by a cluster admin who made the namespaces, nothing else)
/// runs every command, the first apply included: history and lock live where `admin`
/// may write, and nothing cluster-wide is asked of anyone.
#[test]
fn a_namespace_admin_service_account_runs_every_command_from_the_first_apply() {
    let server = server();
    let run = as_namespace_admin(&server);
    let text = fleet(&["alpha", "beta"], IMAGE);

    let out = run(&text, &["apply", "fleet.yaml", "--yes", "--timeout", "20s"]).success();
    assert!(
        out.stderr
            .contains("cannot read Namespace objects with these credentials"),
        "{}",
        out.stderr
    );
    // History and the lock where admin may write them.
    let revisions: Vec<Value> = server
        .list("v1", "Secret", Some("core"))
        .into_iter()
        .filter(|s| s["type"] == "clawctl.io/revision.v1")
        .collect();
    assert_eq!(revisions.len(), 2);
    assert!(
        server
            .get(
                "v1",
                "ConfigMap",
                Some("clawctl-system"),
                "clawctl-demo-lock"
            )
            .is_some()
    );
    let out = run(&text, &["apply", "fleet.yaml", "--yes"]).success();
    assert!(out.stderr.contains("nothing to change"), "{}", out.stderr);
    let out = run(&text, &["status", "fleet.yaml"]).success();
    assert!(out.stdout.contains("Ready"), "{}", out.stdout);
    run(&text, &["diff", "fleet.yaml", "--exit-code"]).success();
    run(
        &text,
        &[
            "rollout",
            "fleet.yaml",
            "--yes",
            "--tag",
            "2026.5.1",
            "--soak",
            "200ms",
            "--timeout",
            "30s",
        ],
    )
    .success();
    let out = run(&text, &["history", "fleet.yaml"]).success();
    assert!(out.stdout.contains("2026.5.1"), "{}", out.stdout);
    run(
        &text,
        &[
            "rollback",
            "fleet.yaml",
            "--all",
            "--yes",
            "--timeout",
            "30s",
        ],
    )
    .success();
    let image = server
        .get("apps/v1", "Deployment", Some("core"), "agent-alpha")
        .expect("deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
        .clone();
    assert_eq!(image, IMAGE);
    run(
        &text,
        &[
            "suspend",
            "fleet.yaml",
            "alpha",
            "--yes",
            "--timeout",
            "20s",
        ],
    )
    .success();
    run(
        &text,
        &["resume", "fleet.yaml", "alpha", "--yes", "--timeout", "20s"],
    )
    .success();

    // Nothing cluster-wide was written, and every refusal was a read the tool then did
    // namespace by namespace.
    let refused: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.status == 403)
        .map(|r| format!("{} {} {}", r.verb, r.method, r.path))
        .collect();
    assert!(
        refused
            .iter()
            .all(|r| r.starts_with("list ") || r.starts_with("watch ") || r.starts_with("get ")),
        "{refused:?}"
    );
    assert!(
        server
            .list("rbac.authorization.k8s.io/v1", "ClusterRole", None)
            .iter()
            .all(|r| !r["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .starts_with("clawctl")),
        "a ClusterRole was made"
    );
}

/// Two fleets of one name in different fleet namespaces are two owners: each one's
/// status, prune and rollout see only its own agents.
#[test]
fn a_same_named_fleet_elsewhere_is_someone_else() {
    let server = server();
    let ours = fleet(&["alpha"], IMAGE);
    apply(&server, &ours, &[]).success();
    platform_namespace(&server, "other");
    let theirs = fleet(&["omega"], IMAGE)
        .replace(
            "metadata: {name: demo}",
            "metadata: {name: demo, namespace: other-system}",
        )
        .replace("teams: [{name: core}]", "teams: [{name: other}]")
        .replace("adoptNamespaces: [core]", "adoptNamespaces: [other]");
    apply(&server, &theirs, &[]).success();

    let out = clawctl(&server, &ours, &["status", "fleet.yaml"]).success();
    assert!(out.stdout.contains("alpha"), "{}", out.stdout);
    assert!(!out.stdout.contains("omega"), "{}", out.stdout);
    // A prune of ours leaves theirs alone.
    apply(&server, &ours, &["--prune", "--no-wait"]).success();
    assert!(
        server
            .get("apps/v1", "Deployment", Some("other"), "agent-omega")
            .is_some()
    );
}

/// A revision that names only the agent's own objects but changes what they grant (its
/// RoleBinding bound to cluster-admin for everyone): only a seal under the fleet's key,
/// which the team namespace's editors cannot read, tells it from one clawctl recorded.
#[test]
fn a_revision_with_the_agents_names_but_other_content_is_refused_by_its_seal() {
    let server = server();
    let text = two_revisions(&server);
    server
        .apply_as(
            "tenant",
            planted_revision("core", "alpha", 50, &[cluster_admin_binding("core")]),
            true,
        )
        .expect("planted");
    refused_and_never_applied(&server, &text, 50, "its seal does not match", "core");
    // The key lives in the fleet namespace, where the team's editors cannot read it.
    assert!(
        server
            .get(
                "v1",
                "Secret",
                Some("clawctl-system"),
                "clawctl-demo-history-key"
            )
            .is_some()
    );
}
