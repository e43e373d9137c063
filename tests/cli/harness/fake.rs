//! The fake API server's own fixtures, for tests that need only it: fleet `demo` with
//! team `core` in namespace `core`, clawctl runs against a [`FakeApiServer`], and the
//! requests it served (what a real cluster cannot count).

use std::time::Duration;

use fake_apiserver::{FakeApiServer, Options};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::harness::Test;
pub(crate) use crate::harness::backend::IMAGE;

/// A fleet of one team ("core") with these agents, each with its own inline soul. The
/// gateway token comes from the Secret `demo-gateway` that [`server`] holds in each test
/// namespace (a token in plain `env` is refused by validate).
pub(crate) fn fleet(agents: &[&str], image: &str) -> String {
    let mut text = format!(
        "apiVersion: clawctl.io/v1alpha1\nkind: Fleet\nmetadata: {{name: demo}}\nspec:\n  image: {image}\n  \
         adoptNamespaces: [core]\n  defaults:\n    model: {{primary: anthropic/claude-sonnet-4-20250514}}\n    \
         secrets: [demo-gateway]\n  teams: [{{name: core}}]\n  agents:\n"
    );
    for agent in agents {
        text.push_str(&format!(
            "    - {{name: {agent}, soulInline: \"You are {agent}.\"}}\n"
        ));
    }
    text
}

/// A fake API server with a 100 ms rollout delay and the platform team's namespace
/// `core` ([`gateway_secrets`]).
pub(crate) fn server() -> FakeApiServer {
    let server = FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(100)),
        ..Options::default()
    });
    gateway_secrets(&server);
    server
}

/// The namespace `core` and in it the Secret `demo-gateway` with a gateway token, made
/// by a platform team before the first apply: the fixtures' agents load it through
/// `secrets`, and the fleets adopt the namespace (`adoptNamespaces`), since clawctl did
/// not create it.
pub(crate) fn gateway_secrets(server: &FakeApiServer) {
    platform_namespace(server, "core");
}

/// Namespace `ns` and in it the Secret `demo-gateway`, as a platform team makes them
/// (`kubectl create namespace`, `kubectl create secret`).
pub(crate) fn platform_namespace(server: &FakeApiServer, ns: &str) {
    for object in [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "demo-gateway", "namespace": ns},
               "data": {"OPENCLAW_GATEWAY_TOKEN": "ZGVtby10b2tlbg=="}}),
    ] {
        server
            .apply_as("platform-team", object, true)
            .expect("written");
    }
}

/// Runs clawctl with `args` (the fleet file is `fleet.yaml`) against `server`.
pub(crate) fn clawctl(server: &FakeApiServer, fleet_text: &str, args: &[&str]) -> Test {
    let test = Test::new()
        .file("fleet.yaml", fleet_text)
        .file("kubeconfig", &server.kubeconfig());
    let kubeconfig = test.path().join("kubeconfig");
    test.env("KUBECONFIG", &kubeconfig.to_string_lossy())
        .args(args)
}

/// `apply fleet.yaml --yes` with `extra`, waiting 20 s unless `extra` says how long.
pub(crate) fn apply(server: &FakeApiServer, fleet_text: &str, extra: &[&str]) -> Test {
    let mut args = vec!["apply", "fleet.yaml", "--yes"];
    if !extra.contains(&"--timeout") {
        args.extend(["--timeout", "20s"]);
    }
    args.extend_from_slice(extra);
    clawctl(server, fleet_text, &args)
}

/// Requests that change what the server stores. An access review is a POST, but the
/// server keeps nothing of it (it only answers).
pub(crate) fn writes(server: &FakeApiServer) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|r| {
            matches!(r.verb.as_str(), "create" | "update" | "patch" | "delete")
                && !r.dry_run
                && !r.path.ends_with("/selfsubjectaccessreviews")
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// [`writes`] but the fleet lock's (taken and given back by every mutating command).
pub(crate) fn writes_but_lease(server: &FakeApiServer) -> Vec<String> {
    writes(server).into_iter().filter(|w| !is_lock(w)).collect()
}

/// Whether a write is to a fleet lock ConfigMap (`clawctl-<fleet>-lock`): its replaces
/// name it; a POST of a ConfigMap is only ever the lock's creation (everything else is
/// server-side applied, a PATCH by name).
pub(crate) fn is_lock(write: &str) -> bool {
    write.ends_with("/configmaps/clawctl-demo-lock")
        || (write.starts_with("POST ") && write.ends_with("/configmaps"))
}

/// The holder of the fleet lock as its ConfigMap records it ("" once released).
pub(crate) fn lock_holder(lock: &Value) -> &str {
    lock["data"]["holderIdentity"].as_str().unwrap_or_default()
}

/// Fleet `demo`'s lock as another clawctl run holds it, renewed `renewed_secs_ago`.
pub(crate) fn lease(holder: &str, renewed_secs_ago: i64) -> Value {
    let renewed = (Timestamp::now() - SignedDuration::from_secs(renewed_secs_ago)).to_string();
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "clawctl-demo-lock", "namespace": "clawctl-system"},
        "data": {"holderIdentity": holder, "leaseDurationSeconds": "30",
                 "acquireTime": renewed, "renewTime": renewed, "leaseTransitions": "0"}
    })
}

/// The agents whose Deployments were patched (not dry-run), in order.
pub(crate) fn deployment_patches(server: &FakeApiServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("/deployments/agent-") && !r.dry_run)
        .filter_map(|r| r.path.rsplit("agent-").next().map(str::to_string))
        .collect()
}
