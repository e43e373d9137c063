//! Agents the router puts to sleep (`routing.router.idleAfter`) as clawctl sees them,
//! against the fake API server: what `render` gives the router, `apply` leaving the
//! router's `spec.replicas` alone, `status` telling idle from suspended, `suspend` and
//! `resume` of an idle agent, and `rollout` moving an idle agent's template without
//! starting it. The router's own writes are played here exactly as it makes them
//! (router/src/idle/kube.rs): a forced server-side apply of `spec.replicas: 0` and the
//! annotation as `clawctl-router` to sleep, an empty configuration to wake.

use serde_json::{Value, json};

use crate::harness::Test;
use crate::harness::backend::{Backend, IMAGE};
use crate::harness::fake::writes_but_lease;
use crate::harness::fleets::with_router;

const NEW: &str = "ghcr.io/openclaw/openclaw:2026.5.1";
const SINCE: &str = "2026-03-01T10:00:00Z";
const ROUTER: &str = "clawctl-router";

/// A fleet of agents in team `core`, each routed by its Slack id through the router,
/// which puts them to sleep after 30 minutes (a short soak: an image change held for
/// the rollout strategy passes its gates quickly).
fn fleet(b: &Backend, agents: &[&str]) -> String {
    let mut text = with_router(
        &b.fleet(agents, IMAGE),
        "image: \"ghcr.io/clawctl/clawctl-router:0.1.0\", slackSecret: demo-slack, idleAfter: 30m",
    )
    .replace("  routing:", "  rollout: {soak: 200ms}\n  routing:");
    for agent in agents {
        text = text.replace(
            &format!("{{name: {agent}, "),
            &format!("{{name: {agent}, user: {{slack: U{agent}}}, "),
        );
    }
    text
}

/// What the router does to an agent idle past idleAfter.
fn sleep(b: &Backend, agent: &str) {
    b.server()
        .apply_as(
            ROUTER,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": format!("agent-{agent}"), "namespace": "core",
                                "annotations": {"clawctl.io/idle": SINCE}},
                   "spec": {"replicas": 0}}),
            true,
        )
        .expect("slept");
}

/// What the router does at the next message.
fn wake(b: &Backend, agent: &str) {
    b.server()
        .apply_as(
            ROUTER,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": format!("agent-{agent}"), "namespace": "core"}}),
            false,
        )
        .expect("woken");
}

/// (phase, reason, idleSince) of `agent` in `status -o json`.
fn status_of(b: &Backend, text: &str, args: &[&str], agent: &str) -> (String, String, Value) {
    let out = b.clawctl(text, args).success();
    let status: Value = serde_json::from_str(&out.stdout).expect("json");
    let row = status["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["agent"] == agent)
        .cloned()
        .unwrap_or_else(|| panic!("no row for {agent}: {status}"));
    (
        row["phase"].as_str().unwrap_or_default().to_string(),
        row["reason"].as_str().unwrap_or_default().to_string(),
        row["idleSince"].clone(),
    )
}

#[test]
fn render_gives_the_router_exactly_the_routed_deployments_only_with_idle_after() {
    let documents = |text: &str| {
        let out = Test::new()
            .file("fleet.yaml", text)
            .args(&["render", "fleet.yaml"])
            .success()
            .stdout;
        clawctl::yaml::parse_documents(&out).expect("rendered output parses")
    };
    let find = |docs: &[Value], kind: &str, name: &str| {
        docs.iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{kind} {name} missing"))
    };
    let b = Backend::start_fake();
    let text = fleet(&b, &["alpha", "beta"]);
    let docs = documents(&text);
    let role = find(&docs, "Role", "clawctl-orchestrator");
    assert_eq!(
        role["rules"][1],
        json!({"apiGroups": ["apps"], "resources": ["deployments"],
               "resourceNames": ["agent-alpha", "agent-beta"],
               "verbs": ["get", "list", "watch", "patch"]}),
        "{role}"
    );
    let routes: Value = serde_json::from_str(
        find(&docs, "ConfigMap", "demo-routes")["data"]["routes.json"]
            .as_str()
            .expect("routes.json"),
    )
    .expect("json");
    assert_eq!(
        routes["slack:Ualpha"]["deployment"],
        json!({"namespace": "core", "name": "agent-alpha"})
    );
    let router = find(&docs, "Deployment", "demo-router");
    let env = &router["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(
        env.as_array()
            .expect("env")
            .contains(&json!({"name": "ROUTER_IDLE_AFTER_SECONDS", "value": "1800"})),
        "{env}"
    );

    // Without idleAfter: no Deployment in the table, none in the Role, no variable.
    let docs = documents(&text.replace(", idleAfter: 30m", ""));
    let role = find(&docs, "Role", "clawctl-orchestrator");
    assert_eq!(role["rules"].as_array().map(Vec::len), Some(1), "{role}");
    let routes = find(&docs, "ConfigMap", "demo-routes");
    assert!(!routes.to_string().contains("deployment"), "{routes}");
    let router = find(&docs, "Deployment", "demo-router");
    assert!(!router.to_string().contains("ROUTER_IDLE_AFTER"));
}

#[test]
fn apply_leaves_an_idle_agent_asleep_without_a_conflict_and_takes_it_back_once_woken() {
    let b = Backend::start_fake();
    let text = fleet(&b, &["alpha", "beta"]);
    b.apply(&text, &[]).success();
    assert_eq!(b.replicas_owners("alpha"), ["clawctl"]);
    sleep(&b, "alpha");
    b.settle("alpha", 0);
    assert_eq!(b.replicas_owners("alpha"), [ROUTER]);

    // Unchanged: nothing written, and apply says why.
    let before = writes_but_lease(b.server()).len();
    let out = b.apply(&text, &[]).success();
    assert_eq!(writes_but_lease(b.server()).len(), before, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("agent \"alpha\" idle: kept at 0 replicas (the router wakes them"),
        "{}",
        out.stderr
    );

    // A changed soul and a new image reach the template; spec.replicas is not sent (it
    // stays the router's: a sent value would conflict, a forced one would wake it), the
    // image is not held for a rollout gate, and the wait does not wait for a pod.
    let edited = text
        .replace("You are alpha.", "You are alpha, resting.")
        .replace(IMAGE, NEW);
    let out = b.apply(&edited, &[]).success();
    assert!(!out.stderr.contains("onflict"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("change image (alpha"),
        "an idle agent is not held for the rollout strategy: {}",
        out.stderr
    );
    assert_eq!(b.replicas("alpha"), Some(0));
    assert_eq!(b.replicas_owners("alpha"), [ROUTER]);
    assert_eq!(b.image_of("alpha"), NEW);
    assert_eq!(b.pods("alpha"), 0);
    assert_eq!(
        b.annotation("alpha", "clawctl.io/idle").as_deref(),
        Some(SINCE)
    );

    // The router wakes it: the field goes back to its default, 1, and the next apply
    // owns it again without a conflict.
    wake(&b, "alpha");
    assert_eq!(b.replicas("alpha"), Some(1));
    assert_eq!(b.annotation("alpha", "clawctl.io/idle"), None);
    assert_eq!(b.replicas_owners("alpha"), Vec::<String>::new());
    b.settle("alpha", 1);
    let out = b.apply(&edited, &["--force-conflicts"]).success();
    assert!(!out.stderr.contains("idle"), "{}", out.stderr);
    assert_eq!(b.replicas("alpha"), Some(1));

    // Asleep while the fleet stops sleeping agents: kept, with a warning that nothing
    // will wake it.
    sleep(&b, "beta");
    let out = b
        .apply(&edited.replace(", idleAfter: 30m", ""), &[])
        .success();
    assert!(
        out.stderr
            .contains("no message wakes them: `clawctl resume` them"),
        "{}",
        out.stderr
    );
    assert_eq!(b.replicas("beta"), Some(0));
}

#[test]
fn status_tells_idle_from_suspended() {
    let b = Backend::start_fake();
    let text = fleet(&b, &["alpha", "beta", "gamma"]);
    b.apply(&text, &[]).success();
    sleep(&b, "alpha");
    b.clawctl(
        &text,
        &["suspend", "fleet.yaml", "beta", "--yes", "--no-wait"],
    )
    .success();
    b.settle("alpha", 0);
    for args in [
        &["status", "fleet.yaml", "-o", "json"][..],
        &["status", "--fleet", "demo", "-o", "json"][..],
    ] {
        let (phase, reason, since) = status_of(&b, &text, args, "alpha");
        assert_eq!(phase, "Idle", "{args:?}");
        assert!(
            reason.starts_with(&format!("idle since {SINCE} ("))
                && reason.ends_with("): the router wakes it at its next message"),
            "{reason}"
        );
        assert_eq!(since, json!(SINCE));
        let (phase, reason, since) = status_of(&b, &text, args, "beta");
        assert_eq!(
            (phase.as_str(), reason.as_str()),
            ("Suspended", "suspended by `clawctl suspend`")
        );
        assert!(since.is_null());
        assert_eq!(status_of(&b, &text, args, "gamma").0, "Ready");
    }
    // The table says it too.
    let out = b.clawctl(&text, &["status", "fleet.yaml"]).success();
    assert!(out.stdout.contains("Idle"), "{}", out.stdout);
}

#[test]
fn suspend_wins_over_idle_and_resume_wakes_an_idle_agent() {
    let b = Backend::start_fake();
    let text = fleet(&b, &["alpha", "beta"]);
    b.apply(&text, &[]).success();
    sleep(&b, "alpha");
    sleep(&b, "beta");

    // suspend: the command's mark, the router's gone, still no pod.
    let out = b
        .clawctl(
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
    assert!(out.stderr.contains("idle (asleep)"), "{}", out.stderr);
    assert_eq!(
        b.annotation("alpha", "clawctl.io/suspended").as_deref(),
        Some("true")
    );
    assert_eq!(b.annotation("alpha", "clawctl.io/idle"), None);
    assert_eq!(b.replicas("alpha"), Some(0));
    assert_eq!(b.replicas_owners("alpha"), ["clawctl-suspend"]);
    assert_eq!(b.pods("alpha"), 0);
    // Hostile: a wake from the router (its field manager gives up what it holds, as
    // clawctl::cluster::idle::release does) cannot start an agent `clawctl suspend` holds.
    let target = clawctl::cluster::Target {
        kubeconfig: Some(b.kubeconfig.clone()),
        context: None,
    };
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let cluster = clawctl::cluster::Cluster::connect(&target).await?;
            clawctl::cluster::idle::release(&cluster, "core", "agent-alpha").await
        })
        .expect("the router's release");
    assert_eq!(b.replicas("alpha"), Some(0));
    assert_eq!(
        b.annotation("alpha", "clawctl.io/suspended").as_deref(),
        Some("true")
    );
    assert_eq!(b.replicas_owners("alpha"), ["clawctl-suspend"]);
    assert_eq!(b.pods("alpha"), 0);
    let args = ["status", "fleet.yaml", "-o", "json"];
    assert_eq!(status_of(&b, &text, &args, "alpha").0, "Suspended");

    // resume of the idle one wakes it, without a message.
    let out = b
        .clawctl(
            &text,
            &[
                "resume",
                "fleet.yaml",
                "beta",
                "--yes",
                "--timeout",
                "20s",
                "-o",
                "json",
            ],
        )
        .success();
    let report: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(report["agents"][0]["result"], "resumed", "{report}");
    assert_eq!(b.replicas("beta"), Some(1));
    assert_eq!(b.annotation("beta", "clawctl.io/idle"), None);
    assert_eq!(b.pods("beta"), 1);
    assert_eq!(status_of(&b, &text, &args, "beta").0, "Ready");

    // resume of the suspended one starts it: nothing of the router's is left to hold it.
    b.clawctl(
        &text,
        &["resume", "fleet.yaml", "alpha", "--yes", "--timeout", "20s"],
    )
    .success();
    assert_eq!(b.replicas("alpha"), Some(1));
    assert_eq!(b.pods("alpha"), 1);
}

#[test]
fn rollout_moves_an_idle_agents_template_after_the_gates_without_starting_it() {
    let b = Backend::start_fake();
    let text = fleet(&b, &["alpha", "beta", "gamma"]);
    b.apply(&text, &[]).success();
    sleep(&b, "beta");
    b.settle("beta", 0);

    let args = [
        "rollout",
        "fleet.yaml",
        "--tag",
        "2026.5.1",
        "--yes",
        "--soak",
        "100ms",
        "--timeout",
        "30s",
        "-o",
        "json",
    ];
    let out = b.clawctl(&text, &args).success();
    let report: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(report["phase"], "done", "{report}");
    let groups: Vec<&str> = report["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g.as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    assert!(
        !groups.contains(&"beta"),
        "no gate for an idle agent: {report}"
    );
    assert_eq!(report["skipped"][0]["agent"], "beta", "{report}");
    assert!(
        report["skipped"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("idle") && r.contains("template moved")),
        "{report}"
    );
    assert!(
        report["message"]
            .as_str()
            .is_some_and(|m| m.contains("1 idle agent(s) start on it at their next message")),
        "{report}"
    );
    for agent in ["alpha", "beta", "gamma"] {
        assert_eq!(b.image_of(agent), NEW, "{agent}");
    }
    assert_eq!(b.replicas("beta"), Some(0));
    assert_eq!(b.replicas_owners("beta"), [ROUTER]);
    assert_eq!(b.pods("beta"), 0);
    // A second rollout has nothing left to do.
    let out = b.clawctl(&text, &args).success();
    let report: Value = serde_json::from_str(&out.stdout).expect("json");
    assert!(
        report["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("nothing to move")),
        "{report}"
    );
}

/// What the rendered RBAC lets the router's ServiceAccount do, as the API server
/// decides it: get, list and watch (by name, with a field selector, as RBAC requires for
/// `resourceNames`) and patch exactly the routed agents' Deployments, nothing else; and
/// none of it once the fleet stops sleeping agents.
#[test]
fn the_router_may_read_watch_and_patch_exactly_the_routed_deployments() {
    use fake_apiserver::UserInfo;
    let b = Backend::start_fake();
    let text = fleet(&b, &["alpha", "beta"]);
    b.apply(&text, &[]).success();
    let router = UserInfo::service_account("demo-router", "demo-router");
    let can = |verb: &str, ns: &str, name: &str| {
        b.server()
            .can(&router, verb, "apps", "deployments", ns, name)
    };
    for verb in ["get", "list", "watch", "patch"] {
        for name in ["agent-alpha", "agent-beta"] {
            assert!(can(verb, "core", name), "{verb} {name}");
        }
    }
    for verb in ["create", "update", "delete"] {
        assert!(!can(verb, "core", "agent-alpha"), "{verb}");
    }
    // Not by listing everything, not another Deployment, not its own.
    assert!(!can("list", "core", ""));
    assert!(!can("patch", "core", "someone-else"));
    assert!(!can("patch", "demo-router", "demo-router"));

    b.apply(&text.replace(", idleAfter: 30m", ""), &[])
        .success();
    for verb in ["get", "watch", "patch"] {
        assert!(
            !can(verb, "core", "agent-alpha"),
            "{verb} without idleAfter"
        );
    }
}

/// `rollback` of an idle agent starts it: the revision is re-applied with force, which
/// takes `spec.replicas` back from the router, and its health gate needs a pod. The
/// router's mark left behind does not make it idle (it runs), and the next apply has
/// nothing to fight over.
#[test]
fn rollback_of_an_idle_agent_starts_it() {
    let b = Backend::start_fake();
    let text = fleet(&b, &["alpha"]);
    b.apply(&text, &[]).success();
    let edited = text.replace("You are alpha.", "You are alpha, v2.");
    b.apply(&edited, &[]).success();
    sleep(&b, "alpha");
    b.clawctl(
        &edited,
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
    assert_eq!(b.replicas("alpha"), Some(1));
    assert_eq!(b.pods("alpha"), 1);
    let args = ["status", "fleet.yaml", "-o", "json"];
    assert_ne!(status_of(&b, &edited, &args, "alpha").0, "Idle");
    let out = b.apply(&edited, &[]).success();
    assert!(!out.stderr.contains("onflict"), "{}", out.stderr);
    assert_eq!(b.replicas("alpha"), Some(1));
}
