//! Self-service (`spec.routing.selfService`) against the fake API server: an agent made on
//! request the way the router makes it (`ops::self_service::provision`, the router's own
//! code path) is the fleet's own to `diff`, `status` and `apply --prune`; deleting its
//! claim gives it back (its volume kept); and claims that cannot be taken into the fleet
//! stop every command before any write, naming the claim.

use std::time::Duration;

use clawctl::cluster::{Cluster, Target};
use clawctl::fleet::self_service::Identity;
use clawctl::ops::self_service::provision::{Ask, Place, Provisioned, provision};
use serde_json::{Value, json};

use crate::harness::backend::{Backend, IMAGE};
use crate::harness::fake::writes_but_lease;

const ROUTER_NS: &str = "demo-router";

/// A fleet with a router, one file agent (alice, team core) and self-service into team
/// helpdesk for one Slack user and a mail domain.
fn fleet() -> String {
    format!(
        "apiVersion: clawctl.io/v1alpha1
kind: Fleet
metadata: {{name: demo}}
spec:
  image: {IMAGE}
  adoptNamespaces: [core]
  routing:
    router:
      image: ghcr.io/clawctl/clawctl-router:0.1.0
      http: {{proxy: [10.0.3.0/24]}}
    selfService:
      team: helpdesk
      allow: {{slack: [U0DANA], emails: [\"*@example.com\"]}}
      defaults:
        soulInline: \"You help whoever asked for you.\"
  defaults:
    model: {{primary: anthropic/claude-sonnet-4-20250514}}
  teams: [{{name: core}}, {{name: helpdesk}}]
  agents:
    - {{name: alice, team: core, user: {{slack: U0ALICE}}, soulInline: \"You are alice.\"}}
"
    )
}

/// The fleet without self-service (and so without claims to take in).
fn fleet_without_self_service() -> String {
    let text = fleet();
    let start = text.find("    selfService:").expect("block");
    let end = text.find("  defaults:\n    model").expect("defaults");
    format!("{}{}", &text[..start], &text[end..])
}

/// The fake with the platform team's namespace `core` (which the fleet adopts).
fn backend() -> Backend {
    let b = Backend::start_fake();
    b.platform_namespace("core");
    b
}

/// What the router does for a `/setup-agent`, with the library the router uses.
fn make_agent(b: &Backend, identity: &str, person: &str) -> Provisioned {
    b.block_on(async {
        let cluster = Cluster::connect(&Target {
            kubeconfig: Some(b.kubeconfig.clone()),
            context: None,
        })
        .await?;
        let place = Place {
            fleet: "demo".into(),
            fleet_namespace: "clawctl-system".into(),
            router_namespace: ROUTER_NS.into(),
        };
        let ask = Ask {
            identity: Identity::parse(identity).expect("identity"),
            person: person.into(),
            in_slack_group: false,
            timeout: Duration::from_secs(20),
            requested_at: "2026-05-01T10:00:00Z".into(),
        };
        provision(&cluster, &place, &ask).await
    })
    .expect("provision")
}

fn claim(agent: &str, identity: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": format!("claim-{agent}"), "namespace": ROUTER_NS,
                        "labels": {"clawctl.io/fleet": "demo", "clawctl.io/claim": "true"}},
           "data": {"agent": agent, "identity": identity}})
}

#[test]
fn an_agent_made_on_request_is_the_fleets_own_until_its_claim_is_deleted() {
    let b = backend();
    let server = b.server();
    let text = fleet();
    b.apply(&text, &[]).success();
    // The router's bundle and rights are there; no agent was made yet.
    assert!(
        server
            .get("v1", "ConfigMap", Some(ROUTER_NS), "demo-self-service")
            .is_some()
    );
    assert!(
        server
            .get(
                "rbac.authorization.k8s.io/v1",
                "Role",
                Some("helpdesk"),
                "demo-router-self-service"
            )
            .is_some()
    );

    let made = make_agent(&b, "slack:U0DANA", "Dana Scully");
    assert_eq!(
        made,
        Provisioned::Ready {
            agent: "dana-scully".into()
        }
    );
    let claim = server
        .get("v1", "ConfigMap", Some(ROUTER_NS), "claim-dana-scully")
        .expect("the claim");
    assert_eq!(claim["data"]["identity"], "slack:U0DANA");
    assert!(
        claim["metadata"]["labels"]
            .get("applyset.kubernetes.io/part-of")
            .is_none(),
        "a claim is not an ApplySet member, so prune never deletes it: {claim}"
    );
    let made = b
        .deployment_in("helpdesk", "dana-scully")
        .expect("the agent's Deployment");
    assert!(
        made["metadata"]["labels"]["applyset.kubernetes.io/part-of"]
            .as_str()
            .is_some_and(|id| id.starts_with("applyset-")),
        "{made}"
    );
    let token = server
        .get(
            "v1",
            "Secret",
            Some("helpdesk"),
            "agent-dana-scully-gateway-token",
        )
        .expect("its token Secret");
    assert!(token["data"]["OPENCLAW_GATEWAY_TOKEN"].as_str().is_some());

    // clawctl sees exactly what it would have made itself.
    let diff = b
        .clawctl(&text, &["diff", "fleet.yaml", "--exit-code"])
        .run();
    assert_eq!(
        diff.code, 0,
        "diff is clean:\n{}{}",
        diff.stdout, diff.stderr
    );
    let status = b
        .clawctl(&text, &["status", "fleet.yaml", "-o", "json"])
        .success();
    assert!(
        status.stdout.contains("\"dana-scully\""),
        "status lists the agent made on request:\n{}",
        status.stdout
    );

    // A second request from the same person makes nothing.
    assert_eq!(
        make_agent(&b, "slack:U0DANA", "Dana"),
        Provisioned::AlreadyHas {
            agent: "dana-scully".into()
        }
    );
    // Nor does one from a person allow does not admit, or one who has a file agent.
    assert_eq!(
        make_agent(&b, "slack:U0EVE", "Eve"),
        Provisioned::NotAdmitted
    );
    assert_eq!(
        make_agent(&b, "email:alice@example.com", "alice"),
        Provisioned::Ready {
            agent: "alice-2".into()
        },
        "an email identity is another person: admitted by domain, named around alice"
    );

    b.apply(&text, &["--prune"]).success();
    assert!(
        b.deployment_in("helpdesk", "dana-scully").is_some(),
        "apply --prune keeps an agent whose claim is there"
    );

    server.delete("v1", "ConfigMap", Some(ROUTER_NS), "claim-dana-scully");
    b.apply(&text, &["--prune"]).success();
    assert!(
        b.deployment_in("helpdesk", "dana-scully").is_none(),
        "without its claim the agent is pruned"
    );
    assert!(
        server
            .get(
                "v1",
                "PersistentVolumeClaim",
                Some("helpdesk"),
                "agent-dana-scully"
            )
            .is_some(),
        "its volume is kept, as for any removed agent"
    );
    assert!(b.deployment_in("helpdesk", "alice-2").is_some());
    // The kept volume's name is not given to the next person who asks.
    server.delete("v1", "ConfigMap", Some(ROUTER_NS), "claim-alice-2");
    assert_eq!(
        make_agent(&b, "email:dana.scully@example.com", "Dana Scully"),
        Provisioned::Ready {
            agent: "dana-scully-2".into()
        }
    );
}

#[test]
fn without_self_service_nothing_is_made() {
    let b = backend();
    let server = b.server();
    let text = fleet_without_self_service();
    b.apply(&text, &[]).success();
    assert_eq!(
        make_agent(&b, "slack:U0DANA", "Dana"),
        Provisioned::NotOffered
    );
    let configmaps = server.list("v1", "ConfigMap", Some(ROUTER_NS));
    assert!(!configmaps.is_empty(), "the router's ConfigMaps");
    assert!(
        configmaps.iter().all(|c| !c["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .starts_with("claim-")),
        "no claim was written"
    );
    assert!(
        server
            .list("apps/v1", "Deployment", Some("helpdesk"))
            .is_empty()
    );
}

/// Every command that plans refuses the claims before any write, naming the claim.
fn refused(b: &Backend, text: &str, expected: &[&str]) {
    let server = b.server();
    server.clear_requests();
    let out = b
        .clawctl(text, &["apply", "fleet.yaml", "--yes", "--prune"])
        .run();
    assert_ne!(out.code, 0, "apply refused:\n{}", out.stderr);
    for e in expected {
        assert!(out.stderr.contains(e), "{e:?} in:\n{}", out.stderr);
    }
    assert_eq!(writes_but_lease(server), Vec::<String>::new());
    let diff = b.clawctl(text, &["diff", "fleet.yaml"]).run();
    assert_ne!(diff.code, 0);
    assert!(diff.stderr.contains(expected[0]), "{}", diff.stderr);
    assert_eq!(writes_but_lease(server), Vec::<String>::new());
}

#[test]
fn claims_that_cannot_join_the_fleet_are_refused_by_name_and_nothing_is_written() {
    let b = backend();
    let server = b.server();
    let text = fleet();
    b.apply(&text, &[]).success();

    // An identity the file already routes.
    server
        .apply_as("someone", claim("mallory", "slack:U0ALICE"), true)
        .expect("planted");
    refused(
        &b,
        &text,
        &["claim claim-mallory", "already routed to agent \"alice\""],
    );
    server.delete("v1", "ConfigMap", Some(ROUTER_NS), "claim-mallory");

    // An agent of the file.
    server
        .apply_as("someone", claim("alice", "slack:U0DANA"), true)
        .expect("planted");
    refused(
        &b,
        &text,
        &[
            "claim claim-alice",
            "agent \"alice\" is an agent of the fleet file",
        ],
    );
    server.delete("v1", "ConfigMap", Some(ROUTER_NS), "claim-alice");

    // Malformed data.
    let mut bad = claim("eve", "eve");
    bad["data"]["agent"] = json!("Eve!");
    server.apply_as("someone", bad, true).expect("planted");
    refused(&b, &text, &["claim claim-eve"]);
    server.delete("v1", "ConfigMap", Some(ROUTER_NS), "claim-eve");

    // An identity allow does not admit.
    server
        .apply_as("someone", claim("trudy", "email:trudy@elsewhere.org"), true)
        .expect("planted");
    refused(
        &b,
        &text,
        &["claim claim-trudy", "not admitted by selfService.allow"],
    );
    server.delete("v1", "ConfigMap", Some(ROUTER_NS), "claim-trudy");

    // Claims while the file has no selfService.
    server
        .apply_as("someone", claim("dana", "slack:U0DANA"), true)
        .expect("planted");
    refused(
        &b,
        &fleet_without_self_service(),
        &["claim-dana", "has no spec.routing.selfService"],
    );
}

#[test]
fn claims_outside_the_routers_namespace_are_never_read() {
    let b = backend();
    let server = b.server();
    let text = fleet();
    b.apply(&text, &[]).success();
    for ns in ["core", "helpdesk", "clawctl-system"] {
        let mut planted = claim("mallory", "slack:U0DANA");
        planted["metadata"]["namespace"] = json!(ns);
        server.apply_as("someone", planted, true).expect("planted");
    }
    let diff = b
        .clawctl(&text, &["diff", "fleet.yaml", "--exit-code"])
        .run();
    assert_eq!(diff.code, 0, "{}{}", diff.stdout, diff.stderr);
    b.apply(&text, &["--prune"]).success();
    for ns in ["core", "helpdesk"] {
        assert!(b.deployment_in(ns, "mallory").is_none());
    }
}
