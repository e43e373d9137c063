//! Hostile tenants (issue 17, DESIGN §4.1), against the fake API server with real RBAC.
//! The scenarios a real cluster runs too (`crate::scenarios::hostile`: forged history in
//! another namespace and in the agent's own, two fleets claiming one agent, a namespace
//! clawctl did not create, a ServiceAccount bound only to `admin` in the fleet's
//! namespaces running every command from the very first apply) run here on the fake;
//! then a token Secret someone else filled, a step only a cluster admin may take, and a
//! fleet of the same name elsewhere. Each test would fail if its boundary gave way.

use base64::Engine;
use serde_json::json;

use crate::harness::backend::{Backend, IMAGE, on_the_fake};
use crate::harness::fake::writes;

on_the_fake!(
    hostile: a_revision_planted_outside_the_fleets_namespaces_is_never_read,
    a_revision_holding_foreign_objects_is_refused_and_never_applied,
    a_planted_newer_revision_does_not_block_the_default_rollback,
    a_second_fleet_with_the_same_agent_writes_nothing,
    a_namespace_clawctl_did_not_create_is_adopted_only_when_named_and_never_deleted,
    a_team_with_only_admin_in_its_namespaces_runs_every_command_from_the_first_apply,
    a_revision_with_the_agents_names_but_foreign_content_is_refused,
);

#[test]
fn a_token_someone_else_wrote_is_replaced_not_trusted() {
    let b = Backend::start_fake();
    let server = b.server();
    let text = b.fleet(&["alpha"], IMAGE).replace(
        "adoptNamespaces: [core]\n",
        "adoptNamespaces: [core]\n  routing:\n    from: {namespace: clawctl-system, podSelector: {app: orchestrator}, serviceAccount: orchestrator}\n",
    );
    let text = text.replace("{name: alpha,", "{name: alpha, user: {slack: U1},");
    assert!(
        text.contains("routing:") && text.contains("slack: U1"),
        "{text}"
    );
    b.apply(&text, &[]).success();
    // Someone who may write Secrets in the namespace picks the token.
    let mut secret = server
        .get("v1", "Secret", Some("core"), "agent-alpha-gateway-token")
        .expect("token secret");
    let chosen = base64::engine::general_purpose::STANDARD.encode("chosen-by-a-tenant");
    secret["data"]["OPENCLAW_GATEWAY_TOKEN"] = json!(chosen);
    server.update_as("kubectl-edit", secret);

    let out = b.apply(&text, &[]).success();
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
    b.apply(&text, &[]).success();
    let again = server
        .get("v1", "Secret", Some("core"), "agent-alpha-gateway-token")
        .expect("token secret");
    assert_eq!(again["data"], secret["data"]);
}

/// Where a step truly needs a cluster admin (a team quota: `admin` only reads
/// ResourceQuotas), the namespace admin's apply is refused before any write, with the
/// command the cluster admin runs once; after it, the namespace admin's runs go on.
#[test]
fn a_step_only_a_cluster_admin_may_take_is_refused_up_front_with_the_command() {
    let b = Backend::start_fake();
    let server = b.server();
    b.platform_namespace(&b.fleet_ns);
    let text = b
        .fleet(&["alpha"], IMAGE)
        .replace(
            "teams: [{name: core, namespace: core}]",
            "teams: [{name: core, namespace: core, quota: {cpu: \"4\", memory: 8Gi}}]",
        )
        .replace(
            "adoptNamespaces: [core]",
            "adoptNamespaces: [core, clawctl-system]",
        );
    assert!(
        text.contains("quota:") && text.contains("clawctl-system]"),
        "{text}"
    );
    let team = b.team_scoped_kubeconfig(&["core", &b.fleet_ns]);
    let run = |fleet_text: &str, args: &[&str]| b.clawctl_as(&team, fleet_text, args);
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
    assert_eq!(writes(server), Vec::<String>::new());

    // The cluster admin's run, then the team's runs need nothing more.
    b.apply(&text, &[]).success();
    let out = run(&text, &["apply", "fleet.yaml", "--yes"]).success();
    assert!(out.stderr.contains("nothing to change"), "{}", out.stderr);
    let edited = text.replace("You are alpha.", "You are alpha, v2.");
    run(
        &edited,
        &["apply", "fleet.yaml", "--yes", "--timeout", b.pace.ready],
    )
    .success();
}

/// Two fleets of one name in different fleet namespaces are two owners: each one's
/// status, prune and rollout see only its own agents.
#[test]
fn a_same_named_fleet_elsewhere_is_someone_else() {
    let b = Backend::start_fake();
    let ours = b.fleet(&["alpha"], IMAGE);
    b.apply(&ours, &[]).success();
    let theirs = b.fleet_named(
        &b.fleet,
        "other-system",
        IMAGE,
        &[("other".to_string(), "other".to_string())],
        &[("omega", "other")],
    );
    b.apply(&theirs, &[]).success();

    let out = b.clawctl(&ours, &["status", "fleet.yaml"]).success();
    assert!(out.stdout.contains("alpha"), "{}", out.stdout);
    assert!(!out.stdout.contains("omega"), "{}", out.stdout);
    // A prune of ours leaves theirs alone.
    b.apply(&ours, &["--prune", "--no-wait"]).success();
    assert!(b.deployment_in("other", "omega").is_some());
}
