//! diff, apply and status against the fake API server (tests/fake-apiserver): the real
//! binary, the real kube-rs client, a generated kubeconfig. The scenarios a real cluster
//! runs too (`crate::scenarios::apply`, `::admission`) run here on the fake; the tests
//! below need what only the fake does: injected faults, denied verbs, crash-looping
//! images, its request log, no cluster at all.

use std::time::Duration;

use fake_apiserver::{FakeApiServer, Fault, FaultRule, Options};
use serde_json::{Value, json};

use crate::harness::backend::on_the_fake;
use crate::harness::fake::{
    IMAGE, apply, clawctl, fleet, gateway_secrets, lease, lock_holder, writes,
};
// docs.rs starts its fake from here.
pub(crate) use crate::harness::fake::server;
use crate::harness::report::{json_of, phases};
use crate::harness::{Output, Test};

on_the_fake!(
    apply: first_apply_creates_everything_and_waits_then_reapply_writes_nothing,
    a_bare_fleet_with_loose_quantities_reapplied_writes_nothing,
    a_soul_edit_updates_one_configmap_and_restarts_one_pod,
    an_unpullable_image_fails_apply_fast_with_the_pods_reason,
    drift_by_another_manager_shows_in_diff_and_only_force_takes_it_back,
    prune_deletes_a_removed_agent_but_keeps_its_volume,
    delete_volumes_needs_a_typed_confirmation_or_yes,
    a_namespace_holding_a_volume_is_never_pruned,
    a_held_lock_refuses_a_second_apply_and_an_expired_one_is_taken_over,
    without_a_terminal_apply_asks_for_yes_and_changes_nothing,
    dry_run_server_stores_nothing,
    secrets_never_appear_in_any_output,
    a_storage_class_that_does_not_exist_is_refused_before_anything_is_written,
    a_multi_agent_gateway_is_one_pod_with_a_workspace_volume_per_agent,
);

on_the_fake!(
    admission: the_example_fleets_pods_are_admitted_by_a_restricted_namespace,
    the_homelab_example_applies_and_becomes_ready_under_restricted,
);

/// `status` of `fleet_text` with `args` and `-o json`.
fn status_json(server: &FakeApiServer, fleet_text: &str, args: &[&str]) -> Value {
    let mut all = vec!["status"];
    all.extend_from_slice(args);
    all.extend(["-o", "json"]);
    json_of(&clawctl(server, fleet_text, &all).success())
}

#[test]
fn a_crash_looping_image_fails_apply_fast_with_the_pods_reason() {
    let server = server();
    server.crash_images("crashy");
    let text = fleet(&["alpha"], "ghcr.io/openclaw/openclaw:2026.4.14-crashy");
    let out = apply(&server, &text, &["--timeout", "60s"]).fails(1);
    assert!(out.stderr.contains("CrashLoopBackOff"), "{}", out.stderr);
    assert!(out.stderr.contains("agent-alpha"), "{}", out.stderr);
}

/// Issue 11: an apply that died with the API server could not release its Lease, and
/// the next run on the same machine waited ~30 s for it to expire. A holder on this host
/// whose process is gone is taken over at once, and the run says so; a live one is not.
#[test]
fn a_lease_left_by_a_dead_process_on_this_host_is_taken_over_at_once() {
    let server = server();
    let text = fleet(&["alpha"], IMAGE);
    apply(&server, &text, &["--no-wait"]).success();
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .expect("a host name");
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let dead = child.id();
    child.wait().expect("wait");

    // A live process of this host (this test) still holds it.
    let alive = format!("me@{host} pid {} (clawctl apply)", std::process::id());
    server
        .apply_as("other-run", lease(&alive, 2), true)
        .expect("lease written");
    let changed = text.replace("You are alpha.", "You are alpha, v2.");
    let out = apply(&server, &changed, &["--no-wait"]).fails(1);
    assert!(out.stderr.contains("is locked by"), "{}", out.stderr);

    let gone = format!("me@{host} pid {dead} (clawctl apply)");
    server
        .apply_as("other-run", lease(&gone, 2), true)
        .expect("lease written");
    let started = std::time::Instant::now();
    let out = apply(&server, &changed, &["--no-wait"]).success();
    assert!(
        out.stderr.contains(&format!(
            "taking over the fleet lock from {gone}: that process is no longer running on this host"
        )),
        "{}",
        out.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let cm = server
        .get("v1", "ConfigMap", Some("core"), "agent-alpha")
        .expect("cm");
    assert_eq!(cm["data"]["SOUL.md"], "You are alpha, v2.");
    let lease = server
        .get(
            "v1",
            "ConfigMap",
            Some("clawctl-system"),
            "clawctl-demo-lock",
        )
        .expect("lease");
    assert_eq!(lock_holder(&lease), "", "released: {lease}");
}

#[test]
fn transient_faults_are_retried() {
    let server = server();
    server.inject(
        FaultRule::new(Fault::Status {
            code: 500,
            retry_after: None,
        })
        .method("PATCH")
        .nth(2),
    );
    server.inject(
        FaultRule::new(Fault::Status {
            code: 429,
            retry_after: Some(1),
        })
        .method("PATCH")
        .nth(4),
    );
    server.inject(FaultRule::new(Fault::Drop).method("PATCH").nth(6));
    server.inject(
        FaultRule::new(Fault::Status {
            code: 503,
            retry_after: None,
        })
        .method("GET")
        .nth(3),
    );
    let text = fleet(&["alpha", "beta"], IMAGE);
    let out = apply(&server, &text, &["--no-wait"]).success();
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert!(
        statuses.contains(&500) && statuses.contains(&429),
        "{statuses:?}"
    );
    assert!(
        server
            .get("apps/v1", "Deployment", Some("core"), "agent-beta")
            .is_some(),
        "{}",
        out.stderr
    );
}

#[test]
fn a_hard_failure_stops_the_step_reports_precisely_and_a_rerun_converges() {
    let server = server();
    let text = fleet(&["alpha", "beta"], IMAGE);
    server.inject(
        FaultRule::new(Fault::Status {
            code: 500,
            retry_after: None,
        })
        .method("PATCH")
        .path("/persistentvolumeclaims/agent-beta")
        .always(),
    );
    let out = apply(&server, &text, &["--no-wait", "--concurrency", "1"]).fails(1);
    assert!(
        out.stderr
            .contains("failed: PersistentVolumeClaim core/agent-beta"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("not tried: Deployment core/agent-alpha"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("applied"), "{}", out.stderr);
    assert!(
        server
            .get("apps/v1", "Deployment", Some("core"), "agent-alpha")
            .is_none()
    );

    server.clear_faults();
    apply(&server, &text, &[]).success();
    server.clear_requests();
    apply(&server, &text, &[]).success();
    assert_eq!(writes(&server), Vec::<String>::new());
}

#[test]
fn forbidden_names_the_verb_resource_and_namespace() {
    let server = server();
    server.deny("patch", "deployments", Some("core"));
    let out = apply(&server, &fleet(&["alpha"], IMAGE), &["--no-wait"]).fails(1);
    assert!(
        out.stderr
            .contains("permission to apply deployments.apps in namespace \"core\""),
        "{}",
        out.stderr
    );
}

#[test]
fn no_cluster_or_an_unreachable_one_fails_within_seconds_naming_the_config() {
    let text = fleet(&["alpha"], IMAGE);
    let out = Test::new()
        .file("fleet.yaml", &text)
        .args(&["diff", "fleet.yaml"])
        .fails(1);
    assert!(
        out.stderr.contains("no cluster configured"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("$KUBECONFIG (not set)"),
        "{}",
        out.stderr
    );

    let kubeconfig = "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster: {server: \"http://127.0.0.1:9\"}\n\
        users:\n- name: dead\n  user: {token: x}\ncontexts:\n- name: dead\n  context: {cluster: dead, user: dead}\ncurrent-context: dead\n";
    let test = Test::new().file("fleet.yaml", &text).file("kc", kubeconfig);
    let path = test.path().join("kc");
    let started = std::time::Instant::now();
    let out: Output = test
        .args(&[
            "apply",
            "fleet.yaml",
            "--kubeconfig",
            &path.to_string_lossy(),
        ])
        .fails(1);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        out.stderr
            .contains("cannot reach the Kubernetes API server at http://127.0.0.1:9"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--kubeconfig"), "{}", out.stderr);
}

#[test]
fn status_shows_each_agent_from_the_file_or_from_labels_alone() {
    let server = server();
    let text = fleet(&["alpha", "beta"], IMAGE);
    apply(&server, &text, &[]).success();

    let status = status_json(&server, &text, &["fleet.yaml"]);
    assert_eq!(
        phases(&status),
        [
            ("alpha".into(), "Ready".into()),
            ("beta".into(), "Ready".into())
        ]
    );
    let alpha = &status["agents"][0];
    assert_eq!(alpha["team"], "core");
    assert_eq!(alpha["image"], "2026.4.14");
    assert_eq!(alpha["ready"], "1/1");
    assert_eq!(alpha["volume"], "Bound");
    assert_eq!(alpha["restarts"], 0);

    // Labels alone, no file: same agents.
    let by_name = status_json(&server, "", &["--fleet", "demo"]);
    assert_eq!(phases(&by_name), phases(&status));

    // A file with one more agent, and an edit by someone else.
    let mut cm = server
        .get("v1", "ConfigMap", Some("core"), "agent-beta")
        .expect("cm");
    cm["data"]["SOUL.md"] = json!("edited");
    server.update_as("kubectl-edit", cm);
    let bigger = fleet(&["alpha", "beta", "gamma"], IMAGE);
    let status = status_json(&server, &bigger, &["fleet.yaml"]);
    assert_eq!(
        phases(&status),
        [
            ("alpha".into(), "Ready".into()),
            ("beta".into(), "Drifted".into()),
            ("gamma".into(), "Missing".into())
        ]
    );

    let table = clawctl(&server, &bigger, &["status", "fleet.yaml"]).success();
    assert!(
        table
            .stdout
            .contains("fleet demo: 3 agents: 1 Ready, 1 Missing, 1 Drifted"),
        "{}",
        table.stdout
    );
}

#[test]
fn status_shows_a_crash_loop_as_degraded() {
    let server = server();
    server.crash_images("crashy");
    let text = fleet(&["alpha"], "ghcr.io/openclaw/openclaw:2026.4.14-crashy");
    apply(&server, &text, &["--no-wait"]).success();
    std::thread::sleep(Duration::from_millis(500));
    let status = status_json(&server, &text, &["fleet.yaml"]);
    assert_eq!(phases(&status), [("alpha".into(), "Degraded".into())]);
    assert!(
        status["agents"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("CrashLoopBackOff"),
        "{status}"
    );
}

/// Issue 20: the router takes part in `status`: its own line (and `router` in JSON), from
/// the file or from labels alone, Degraded with the pod's reason when it crash-loops.
#[test]
fn status_shows_the_router_apart_from_the_agents() {
    let server = server();
    let routed = |image: &str| {
        fleet(&["alpha"], IMAGE).replace(
            "  defaults:",
            &format!("  routing:\n    router: {{image: {image}, http: {{proxy: [10.0.3.0/24]}}}}\n  defaults:"),
        )
    };
    let text = routed("ghcr.io/clawctl/clawctl-router:0.1.0");
    apply(&server, &text, &[]).success();
    let status = status_json(&server, &text, &["fleet.yaml"]);
    assert_eq!(phases(&status), [("alpha".into(), "Ready".into())]);
    let router = &status["router"];
    assert_eq!(router["namespace"], "demo-router", "{status}");
    assert_eq!(router["name"], "demo-router");
    assert_eq!(router["image"], "0.1.0");
    assert_eq!(router["ready"], "1/1");
    assert_eq!(router["phase"], "Ready");
    let by_name = status_json(&server, "", &["--fleet", "demo"]);
    assert_eq!(by_name["router"], status["router"]);
    let table = clawctl(&server, &text, &["status", "fleet.yaml"]).success();
    assert!(
        table
            .stdout
            .contains("router demo-router/demo-router: image 0.1.0, 1/1 ready, Ready, 0 restarts"),
        "{}",
        table.stdout
    );

    // A router image that crash-loops.
    server.crash_images("crashy");
    let crashy = routed("ghcr.io/clawctl/clawctl-router:0.1.0-crashy");
    apply(&server, &crashy, &["--no-wait"]).success();
    std::thread::sleep(Duration::from_millis(500));
    let status = status_json(&server, &crashy, &["fleet.yaml"]);
    assert_eq!(status["router"]["phase"], "Degraded", "{status}");
    assert!(
        status["router"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("CrashLoopBackOff"),
        "{status}"
    );
    // A file without the router: the live one is drift, not an agent.
    let plain = fleet(&["alpha"], IMAGE);
    let status = status_json(&server, &plain, &["fleet.yaml"]);
    assert_eq!(status["router"]["phase"], "Drifted", "{status}");
    assert_eq!(status["agents"].as_array().map(Vec::len), Some(1));
}

#[test]
fn status_watch_prints_again_when_an_agent_changes() {
    use std::io::{BufRead, BufReader};
    let server = server();
    let text = fleet(&["alpha"], IMAGE);
    apply(&server, &text, &[]).success();
    let test = Test::new().file("kubeconfig", &server.kubeconfig());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_clawctl"))
        .args(["status", "--fleet", "demo", "--watch", "-o", "json"])
        .env("KUBECONFIG", test.path().join("kubeconfig"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("first snapshot");
    assert!(first.contains("\"Ready\""), "{first}");
    // Another image, as a rollout would: the agent goes Progressing, then Ready again.
    let mut deployment = server
        .get("apps/v1", "Deployment", Some("core"), "agent-alpha")
        .expect("deployment");
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] =
        json!("ghcr.io/openclaw/openclaw:2026.5.1");
    server.update_as("kubectl-edit", deployment);
    let mut seen = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
        let done = line.contains("2026.5.1") && line.contains("\"Ready\"");
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.iter().any(|l| l.contains("2026.5.1")), "{seen:#?}");
    assert!(
        seen.last().is_some_and(|l| l.contains("\"Ready\"")),
        "{seen:#?}"
    );
}

/// A fleet whose agent takes its token and its model key from Secret "agent-keys".
fn fleet_with_secret() -> String {
    fleet(&["alpha"], IMAGE)
        .replace(
            "    secrets: [demo-gateway]\n",
            "    secrets: [agent-keys]\n",
        )
        .replace(
            "model: {primary: anthropic/claude-sonnet-4-20250514}",
            "model: {primary: litellm/gpt-x, endpoint: {provider: litellm, baseUrl: \"http://litellm.llm.svc:4000\", apiKeyEnv: LITELLM_API_KEY}}",
        )
}

fn put_secret(server: &FakeApiServer, data: Value) {
    for object in [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "core"}}),
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "agent-keys", "namespace": "core"}, "data": data}),
    ] {
        server.apply_as("kubectl", object, true).expect("written");
    }
}

#[test]
fn preflight_refuses_a_missing_secret_or_key_before_writing_anything() {
    let server = server();
    let text = fleet_with_secret();
    let out = apply(&server, &text, &[]).fails(1);
    assert!(
        out.stderr.contains(
            "agent \"alpha\": Secret \"agent-keys\" does not exist in namespace \"core\""
        ),
        "{}",
        out.stderr
    );
    assert_eq!(writes(&server), Vec::<String>::new());

    // The Secret holds the token but not the model's key: named, and still nothing written.
    put_secret(
        &server,
        json!({"OPENCLAW_GATEWAY_TOKEN": "c3VwZXItc2VjcmV0LXRva2Vu"}),
    );
    let before = writes(&server).len();
    for args in [
        vec!["diff", "fleet.yaml"],
        vec!["apply", "fleet.yaml", "--yes"],
    ] {
        let out = clawctl(&server, &text, &args).fails(1);
        assert!(
            out.stderr.contains(
                "agent \"alpha\": no key LITELLM_API_KEY in Secret \"agent-keys\" (namespace \"core\")"
            ),
            "{}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("c3VwZXItc2VjcmV0LXRva2Vu")
                && !out.stderr.contains("super-secret")
        );
    }
    assert_eq!(writes(&server).len(), before);

    // Both keys: the apply goes ahead.
    put_secret(
        &server,
        json!({"OPENCLAW_GATEWAY_TOKEN": "c3VwZXItc2VjcmV0LXRva2Vu", "LITELLM_API_KEY": "a2V5"}),
    );
    apply(&server, &text, &["--no-wait"]).success();
    assert!(writes(&server).len() > before);
}

/// Issue 9: an agent's extra volumes name a claim and Secrets the user creates; a missing
/// one would leave the pod Pending or in ContainerCreating. The preflight names each
/// before anything is written, and never prints a mounted Secret's value.
#[test]
fn preflight_refuses_a_missing_mounted_claim_secret_or_item() {
    let server = server();
    let text = fleet(&["alpha"], IMAGE).replace(
        "    secrets: [demo-gateway]\n",
        "    secrets: [demo-gateway]\n    volumes:\n      \
         gigs: {persistentVolumeClaim: {claimName: gigs-pvc}, mountPath: /mnt/gigs, readOnly: true}\n      \
         ssh: {secret: {secretName: deploy-key, items: [{key: id_ed25519, path: id_ed25519}]}, mountPath: /home/node/.ssh}\n      \
         extra: {secret: {secretName: maybe, optional: true}, mountPath: /mnt/maybe}\n",
    );
    let out = apply(&server, &text, &[]).fails(1);
    for expected in [
        "agent \"alpha\": PersistentVolumeClaim \"gigs-pvc\" does not exist in namespace \"core\", so the pod would stay Pending",
        "agent \"alpha\": Secret \"deploy-key\" does not exist in namespace \"core\"",
    ] {
        assert!(out.stderr.contains(expected), "{expected}\n{}", out.stderr);
    }
    assert!(
        !out.stderr.contains("\"maybe\""),
        "an optional Secret may be missing"
    );
    assert_eq!(writes(&server), Vec::<String>::new());

    for object in [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "core"}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"name": "gigs-pvc", "namespace": "core"},
               "spec": {"accessModes": ["ReadOnlyMany"], "resources": {"requests": {"storage": "1Gi"}}}}),
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "deploy-key", "namespace": "core"},
               "data": {"id_rsa": "c2VjcmV0LWtleS12YWx1ZQ=="}}),
    ] {
        server.apply_as("kubectl", object, true).expect("written");
    }
    let out = apply(&server, &text, &[]).fails(1);
    assert!(
        out.stderr.contains(
            "agent \"alpha\": no key id_ed25519 in Secret \"deploy-key\" (namespace \"core\")"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("gigs-pvc"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("c2VjcmV0LWtleS12YWx1ZQ") && !out.stderr.contains("secret-key-value")
    );

    server
        .apply_as(
            "kubectl",
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "deploy-key", "namespace": "core"},
                   "data": {"id_ed25519": "c2VjcmV0LWtleS12YWx1ZQ=="}}),
            true,
        )
        .expect("written");
    let sidecar = text.replace(
        "    volumes:\n",
        "    sidecars:\n      chrome: {image: \"docker.io/chromedp/headless-shell:131.0.6778.85\", \
         ports: [{name: cdp, containerPort: 9222}], volumeMounts: [{name: ssh, mountPath: /keys}]}\n    volumes:\n",
    );
    apply(&server, &sidecar, &["--no-wait"]).success();
    // The pod shape reads back as applied: a second apply writes nothing.
    let before = writes(&server).len();
    apply(&server, &sidecar, &["--no-wait"]).success();
    assert_eq!(
        writes(&server).len(),
        before,
        "{:?}",
        &writes(&server)[before..]
    );
}

/// Where RBAC forbids reading StorageClasses the preflight can only warn; the wait then
/// says why the agent is not coming up (the pod's PodScheduled reason, the claim's event)
/// and stops at once, since Kubernetes will not recover from a missing class by itself.
#[test]
fn a_volume_whose_class_does_not_exist_fails_the_wait_fast_and_says_why() {
    let server = server();
    server.deny("*", "storageclasses", None);
    let text = fleet(&["alpha"], IMAGE).replace(
        "    secrets: [demo-gateway]\n",
        "    secrets: [demo-gateway]\n    storage: {storageClassName: local-path}\n",
    );
    let started = std::time::Instant::now();
    let out = apply(&server, &text, &["--timeout", "120s"]).fails(1);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "waited {:?}",
        started.elapsed()
    );
    for expected in [
        "cannot check that StorageClass \"local-path\" exists",
        "is not scheduled: Unschedulable: 0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims",
        "PersistentVolumeClaim core/agent-alpha is Pending: StorageClass \"local-path\" does not exist",
    ] {
        assert!(out.stderr.contains(expected), "{expected}\n{}", out.stderr);
    }
}

/// A swarm fleet: an orchestrator (ServiceAccount `orchestrator` in clawctl-system)
/// routes to each agent, so each agent has its own gateway token.
fn routed_fleet(agents: &[&str]) -> String {
    let mut text = format!(
        "apiVersion: clawctl.io/v1alpha1\nkind: Fleet\nmetadata: {{name: demo}}\nspec:\n  image: {IMAGE}\n  \
         adoptNamespaces: [core]\n  \
         routing:\n    from: {{namespace: clawctl-system, podSelector: {{app: orchestrator}}, serviceAccount: orchestrator}}\n  \
         defaults:\n    model: {{primary: anthropic/claude-sonnet-4-20250514}}\n  teams: [{{name: core}}]\n  agents:\n"
    );
    for (i, agent) in agents.iter().enumerate() {
        text.push_str(&format!(
            "    - {{name: {agent}, user: {{slack: U{i:03}}}, soulInline: \"You are {agent}.\"}}\n"
        ));
    }
    text
}

fn token_of(server: &FakeApiServer, agent: &str) -> Option<String> {
    let secret = server.get(
        "v1",
        "Secret",
        Some("core"),
        &format!("agent-{agent}-gateway-token"),
    )?;
    secret["data"]["OPENCLAW_GATEWAY_TOKEN"]
        .as_str()
        .map(str::to_string)
}

/// Issue 9: in the swarm pattern the orchestrator forwards to each person's agent over
/// HTTP with that agent's own token. clawctl creates the token Secret on first apply,
/// keeps it across applies, never shows it, never prunes it while the agent exists, and
/// makes a new one (restarting the agent) only when asked by deleting the Secret.
#[test]
fn a_routed_agents_token_is_created_once_kept_never_shown_and_pruned_with_it() {
    let server = server();
    let text = routed_fleet(&["alpha", "beta"]);
    let mut outputs = Vec::new();
    let out = apply(&server, &text, &[]).success();
    outputs.push(out.stdout + &out.stderr);
    let token = token_of(&server, "alpha").expect("alpha's token");
    use base64::Engine;
    let plain = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&token)
            .expect("base64"),
    )
    .expect("utf-8");
    assert_eq!(plain.len(), 64, "{plain}");
    assert_ne!(token_of(&server, "beta"), Some(token.clone()));

    // The gateway reads it from its own Secret; the orchestrator may read exactly these.
    let deployment = server
        .get("apps/v1", "Deployment", Some("core"), "agent-alpha")
        .expect("deployment");
    let env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let from_secret = env
        .iter()
        .find(|e| e["name"] == "OPENCLAW_GATEWAY_TOKEN")
        .expect("token env");
    assert_eq!(
        from_secret["valueFrom"]["secretKeyRef"]["name"],
        "agent-alpha-gateway-token"
    );
    let role = server
        .get(
            "rbac.authorization.k8s.io/v1",
            "Role",
            Some("core"),
            "clawctl-orchestrator",
        )
        .expect("role");
    assert_eq!(
        role["rules"][0]["resourceNames"],
        json!(["agent-alpha-gateway-token", "agent-beta-gateway-token"])
    );
    let routes = server
        .get("v1", "ConfigMap", Some("clawctl-system"), "demo-routes")
        .expect("routes");
    let routes: Value =
        serde_json::from_str(routes["data"]["routes.json"].as_str().unwrap_or("{}")).expect("json");
    assert_eq!(
        routes["slack:U000"]["tokenSecret"]["name"],
        "agent-alpha-gateway-token"
    );
    assert_eq!(
        routes["slack:U000"]["url"],
        "http://agent-alpha.core.svc.cluster.local:18789/v1/chat/completions"
    );

    // Kept across applies: a re-apply writes nothing, an edit leaves the token alone.
    server.clear_requests();
    let out = apply(&server, &text, &[]).success();
    assert!(out.stderr.contains("nothing to change"), "{}", out.stderr);
    assert_eq!(writes(&server), Vec::<String>::new());
    outputs.push(out.stdout + &out.stderr);
    let edited = text.replace("You are alpha.", "You are alpha, v2.");
    let out = apply(&server, &edited, &["--prune"]).success();
    outputs.push(out.stdout + &out.stderr);
    assert_eq!(token_of(&server, "alpha"), Some(token.clone()));
    for args in [
        vec!["diff", "fleet.yaml"],
        vec!["status", "fleet.yaml"],
        vec!["history", "fleet.yaml"],
        vec!["render", "fleet.yaml"],
        vec!["apply", "fleet.yaml", "--dry-run", "server"],
    ] {
        let out = clawctl(&server, &edited, &args).run();
        outputs.push(out.stdout + &out.stderr);
    }

    // Asked for anew: the Secret deleted, apply makes a new token and restarts the agent.
    server.delete("v1", "Secret", Some("core"), "agent-alpha-gateway-token");
    let out = apply(&server, &edited, &[]).success();
    assert!(
        out.stderr
            .contains("generated OPENCLAW_GATEWAY_TOKEN in Secret core/agent-alpha-gateway-token"),
        "{}",
        out.stderr
    );
    outputs.push(out.stdout + &out.stderr);
    let renewed = token_of(&server, "alpha").expect("a new token");
    assert_ne!(renewed, token);
    let deployment = server
        .get("apps/v1", "Deployment", Some("core"), "agent-alpha")
        .expect("deployment");
    assert!(
        deployment["spec"]["template"]["metadata"]["annotations"]["clawctl.io/token-renewed-at"]
            .is_string(),
        "{deployment}"
    );

    // Pruned with its agent, not before.
    let without_beta = routed_fleet(&["alpha"]).replace("You are alpha.", "You are alpha, v2.");
    let out = apply(&server, &without_beta, &["--prune"]).success();
    outputs.push(out.stdout + &out.stderr);
    assert!(token_of(&server, "beta").is_none());
    assert_eq!(token_of(&server, "alpha"), Some(renewed.clone()));

    for text in &outputs {
        for secret in [&token, &plain, &renewed] {
            assert!(
                !text.contains(secret.as_str()),
                "a token was shown:\n{text}"
            );
        }
    }
}

/// A token that cannot be written fails the apply on that Secret, before any workload
/// would start without it.
#[test]
fn a_token_that_cannot_be_generated_fails_the_apply_before_the_workloads() {
    let server = server();
    server.inject(
        FaultRule::new(Fault::Status {
            code: 403,
            retry_after: None,
        })
        // The first PATCH is clawctl's server-side apply; the second writes the token.
        .method("PATCH")
        .path("/secrets/agent-alpha-gateway-token")
        .nth(2)
        .always(),
    );
    let out = apply(&server, &routed_fleet(&["alpha"]), &[]).fails(1);
    assert!(
        out.stderr
            .contains("cannot generate OPENCLAW_GATEWAY_TOKEN"),
        "{}",
        out.stderr
    );
    assert!(
        server
            .get("apps/v1", "Deployment", Some("core"), "agent-alpha")
            .is_none(),
        "the workload was applied without its token"
    );
}

/// A writable extra volume: the mount's `readOnly: false` is not stored by the API server
/// (a plain `bool` with `omitempty`), so rendering it would update the Deployment at
/// every apply. A re-apply writes nothing.
#[test]
fn a_writable_extra_volume_reapplies_without_a_write() {
    let server = server();
    let text = fleet(&["alpha"], IMAGE).replace(
        "    secrets: [demo-gateway]\n",
        "    secrets: [demo-gateway]\n    volumes:\n      \
         shared: {persistentVolumeClaim: {claimName: shared-pvc}, mountPath: /mnt/shared}\n",
    );
    for object in [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "core"}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"name": "shared-pvc", "namespace": "core"},
               "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}}),
    ] {
        server.apply_as("kubectl", object, true).expect("written");
    }
    apply(&server, &text, &["--no-wait"]).success();
    let deployment = server
        .get("apps/v1", "Deployment", Some("core"), "agent-alpha")
        .expect("deployment");
    let mounts = deployment["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        mounts.iter().any(|m| m["mountPath"] == "/mnt/shared"),
        "{mounts:?}"
    );
    server.clear_requests();
    let out = apply(&server, &text, &["--no-wait"]).success();
    assert!(out.stderr.contains("nothing to change"), "{}", out.stderr);
    assert_eq!(writes(&server), Vec::<String>::new());
}

/// The fleet of [`fleet`] with agent "alpha" exposed through an HTTPRoute on a shared
/// Gateway, its proxy pods admitted by the NetworkPolicy.
fn exposed_fleet() -> String {
    fleet(&["alpha", "beta"], IMAGE).replace(
        "    - {name: alpha, soulInline: \"You are alpha.\"}\n",
        "    - name: alpha\n      soulInline: \"You are alpha.\"\n      exposure:\n        \
         httpRoute:\n          parentRefs: [{name: shared, namespace: gateway-system, sectionName: https}]\n          \
         hostnames: [alpha.example.com]\n        from: {namespace: gateway-system, podSelector: {app: gateway}}\n",
    )
}

/// Issue 9: Gateway API is a CRD. On a cluster without it, a fleet that renders an
/// HTTPRoute is refused by the preflight, naming the CRD and the objects needing it,
/// before anything is written; `diff` says the same. A fleet without HTTPRoutes is not
/// bothered by the 404 of listing them (every other test here runs without the CRD).
#[test]
fn preflight_refuses_an_httproute_on_a_cluster_without_gateway_api() {
    let server = server();
    let text = exposed_fleet();
    let expected = "the cluster does not serve HTTPRoute (gateway.networking.k8s.io/v1): \
                    CustomResourceDefinition httproutes.gateway.networking.k8s.io is not \
                    installed, and the fleet renders 1 HTTPRoute: core/agent-alpha";
    let out = apply(&server, &text, &[]).fails(1);
    assert!(out.stderr.contains(expected), "{}", out.stderr);
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    assert_eq!(writes(&server), Vec::<String>::new());
    let out = clawctl(&server, &text, &["diff", "fleet.yaml"]).fails(1);
    assert!(out.stderr.contains(expected), "{}", out.stderr);
    // The list that found the CRD missing was answered as a real server answers an
    // unknown resource type.
    assert!(
        server.requests().iter().any(|r| r
            .path
            .ends_with("/apis/gateway.networking.k8s.io/v1/httproutes")
            && r.status == 404),
        "no 404 for the httproutes list"
    );

    // Without the route, the same fleet applies, diffs and reports status on that cluster.
    let plain = fleet(&["alpha", "beta"], IMAGE);
    apply(&server, &plain, &[]).success();
    clawctl(&server, &plain, &["diff", "fleet.yaml", "--exit-code"]).success();
    clawctl(&server, &plain, &["status", "fleet.yaml"]).success();
}

/// With Gateway API installed, the route is applied after the Service, owned by clawctl,
/// pruned with its agent, and the agent's NetworkPolicy admits the Gateway's pods.
#[test]
fn httproutes_apply_and_prune_where_gateway_api_is_installed() {
    let server = FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(100)),
        gateway_api: true,
        ..Options::default()
    });
    gateway_secrets(&server);
    apply(&server, &exposed_fleet(), &[]).success();
    let route = server
        .get(
            "gateway.networking.k8s.io/v1",
            "HTTPRoute",
            Some("core"),
            "agent-alpha",
        )
        .expect("route");
    assert_eq!(route["spec"]["hostnames"], json!(["alpha.example.com"]));
    assert_eq!(
        route["spec"]["rules"][0]["backendRefs"][0],
        json!({"name": "agent-alpha", "port": 18789})
    );
    let policy = server
        .get(
            "networking.k8s.io/v1",
            "NetworkPolicy",
            Some("core"),
            "agent-alpha",
        )
        .expect("policy");
    assert_eq!(
        policy["spec"]["ingress"][0]["from"][0]["podSelector"],
        json!({"matchLabels": {"app": "gateway"}}),
        "{policy}"
    );
    let order: Vec<String> = writes(&server)
        .into_iter()
        .filter(|w| w.contains("/services/") || w.contains("/httproutes/"))
        .collect();
    // Both in the last step (services and routes), sent in parallel: either may land
    // first, and a route to a Service that is not there yet resolves once it is.
    assert!(
        order.iter().any(|w| w.contains("/services/agent-alpha"))
            && order.iter().any(|w| w.contains("/httproutes/agent-alpha")),
        "{order:?}"
    );
    clawctl(
        &server,
        &exposed_fleet(),
        &["diff", "fleet.yaml", "--exit-code"],
    )
    .success();

    apply(&server, &fleet(&["alpha", "beta"], IMAGE), &["--prune"]).success();
    assert!(
        server
            .get(
                "gateway.networking.k8s.io/v1",
                "HTTPRoute",
                Some("core"),
                "agent-alpha"
            )
            .is_none()
    );
}

/// Namespace admins have no rights on a CRD's kind unless a ClusterRole is aggregated
/// into `admin`: where Gateway API is installed, team-scoped credentials cannot list
/// HTTPRoutes at all, which must not stop a fleet that renders none.
#[test]
fn team_scoped_credentials_need_no_rights_on_httproutes_when_the_fleet_has_none() {
    let server = FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(100)),
        gateway_api: true,
        ..Options::default()
    });
    gateway_secrets(&server);
    let text = fleet(&["alpha"], IMAGE);
    apply(&server, &text, &[]).success();
    server.restrict_to_namespaces(&["core", "clawctl-system"]);
    server.clear_requests();
    clawctl(&server, &text, &["diff", "fleet.yaml", "--exit-code"]).success();
    assert!(
        server.requests().iter().any(|r| r
            .path
            .starts_with("/apis/gateway.networking.k8s.io/v1/namespaces/")
            && r.path.ends_with("/httproutes")
            && r.status == 403),
        "no refused httproutes list"
    );
    clawctl(&server, &text, &["status", "fleet.yaml"]).success();
}

/// Issue 19: a team quota too small for the agent refuses the ReplicaSet controller's pod
/// create; apply stops within seconds quoting the quota's message instead of waiting out
/// its timeout, and status shows the same reason in the agent's row.
#[test]
fn a_quota_too_small_fails_the_wait_fast_with_the_quotas_message() {
    let server = server();
    let text = fleet(&["alpha"], IMAGE).replace(
        "teams: [{name: core}]",
        "teams: [{name: core, quota: {cpu: 100m, memory: 64Mi}}]",
    );
    let started = std::time::Instant::now();
    let out = apply(&server, &text, &["--timeout", "120s"]).fails(1);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "waited {:?}",
        started.elapsed()
    );
    for expected in [
        "its pods cannot be created: pods \"agent-alpha-",
        "is forbidden: exceeded quota: clawctl-quota, requested: ",
        "limited: limits.cpu=100m,limits.memory=64Mi,requests.cpu=100m,requests.memory=64Mi",
    ] {
        assert!(out.stderr.contains(expected), "{expected}\n{}", out.stderr);
    }
    let status = status_json(&server, &text, &["fleet.yaml"]);
    assert_eq!(phases(&status), [("alpha".into(), "Degraded".into())]);
    let reason = status["agents"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("exceeded quota: clawctl-quota"), "{status}");
}

/// Issue 19: a namespace a platform team set to enforce `restricted` (clawctl adopts it)
/// and a pod shape the level refuses, through a template override (no fleet field renders
/// a hostPath volume): refused at render, before anything is written, naming the check as
/// Pod Security names it. (Until render checked it, the apply went through and the wait
/// failed on the ReplicaSet's FailedCreate; the wait's fast failure is tested with a
/// quota, which no render can foresee.)
#[test]
fn a_pod_refused_by_pod_security_is_refused_before_anything_is_written() {
    let server = server();
    server
        .apply_as(
            "platform-team",
            json!({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": "core", "labels": {
                       "pod-security.kubernetes.io/enforce": "restricted"}}}),
            true,
        )
        .expect("labelled");
    let text = fleet(&["alpha"], IMAGE);
    let test = apply(
        &server,
        &text,
        &["--timeout", "120s", "--templates", "templates"],
    );
    let deployment =
        std::fs::read_to_string(crate::harness::repo().join("templates/agent-deployment.yaml.j2"))
            .expect("template");
    let volumes = deployment
        .find("      volumes:\n")
        .expect("the template has a volumes list");
    let patched = format!(
        "{}      volumes:\n        - name: host\n          hostPath: {{path: /var/run}}\n{}",
        &deployment[..volumes],
        &deployment[volumes + "      volumes:\n".len()..]
    );
    server.clear_requests();
    let out = test
        .file("templates/agent-deployment.yaml.j2", &patched)
        .fails(2);
    assert!(
        out.stderr.contains(
            "its pods would be refused by the Pod Security level \"restricted\" that clawctl's \
             namespaces enforce: restricted volume types (volume \"host\" uses restricted volume \
             type \"hostPath\")"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(writes(&server), Vec::<String>::new());
}
