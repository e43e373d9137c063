//! suspend and resume against the fake API server: the fleet file's `suspended: true`,
//! suspend by team, dry runs and names, `rollout` skipping suspended agents, rollback
//! refusing one. The first scenario (`suspend`, `apply` keeping the agent suspended,
//! `resume`) runs on a real cluster too (`crate::scenarios::apply`).

use fake_apiserver::FakeApiServer;
use serde_json::Value;

use crate::harness::backend::on_the_fake;
use crate::harness::fake::{IMAGE, apply, clawctl, fleet, server, writes_but_lease};

on_the_fake!(
    apply: suspend_keeps_the_volume_and_service_apply_keeps_it_suspended_and_resume_starts_it,
);

const NEW: &str = "ghcr.io/openclaw/openclaw:2026.5.1";

fn deployment(server: &FakeApiServer, agent: &str) -> Value {
    server
        .get(
            "apps/v1",
            "Deployment",
            Some("core"),
            &format!("agent-{agent}"),
        )
        .expect("deployment")
}

fn replicas(server: &FakeApiServer, agent: &str) -> Option<i64> {
    deployment(server, agent)["spec"]["replicas"].as_i64()
}

fn pods(server: &FakeApiServer, agent: &str) -> usize {
    server
        .list("v1", "Pod", Some("core"))
        .iter()
        .filter(|p| p["metadata"]["labels"]["clawctl.io/agent"] == agent)
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .count()
}

fn phases(server: &FakeApiServer, text: &str) -> Vec<(String, String, String)> {
    let out = clawctl(server, text, &["status", "fleet.yaml", "-o", "json"]).success();
    let status: Value = serde_json::from_str(&out.stdout).expect("json");
    status["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .map(|a| {
            (
                a["agent"].as_str().unwrap_or_default().to_string(),
                a["phase"].as_str().unwrap_or_default().to_string(),
                a["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_fleet_file_suspends_a_team_and_resume_leaves_that_to_the_file() {
    let server = server();
    let text = fleet(&["alpha", "beta"], IMAGE).replace(
        "teams: [{name: core}]",
        "teams: [{name: core, defaults: {suspended: true}}]",
    );
    let text = text.replace("{name: beta,", "{name: beta, suspended: false,");
    // The wait does not wait for a pod that is not meant to start.
    apply(&server, &text, &[]).success();
    assert_eq!(replicas(&server, "alpha"), Some(0));
    assert_eq!(replicas(&server, "beta"), Some(1));
    assert_eq!(pods(&server, "alpha"), 0);
    let status = phases(&server, &text);
    assert_eq!(
        status[0],
        (
            "alpha".into(),
            "Suspended".into(),
            "suspended by the fleet file".into()
        )
    );
    assert_eq!(status[1].1, "Ready");
    // Without the file too: the Deployment says the file suspended it.
    let out = clawctl(&server, &text, &["status", "--fleet", "demo", "-o", "json"]).success();
    let by_name: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        by_name["agents"][0]["reason"], "suspended by the fleet file",
        "{by_name:#}"
    );

    let out = clawctl(&server, &text, &["resume", "fleet.yaml", "alpha", "--yes"]).fails(1);
    assert!(
        out.stdout.contains("suspended by the fleet file"),
        "{}",
        out.stdout
    );
    assert_eq!(replicas(&server, "alpha"), Some(0));

    // Taken out of the file: the next apply starts it.
    let running = text.replace("defaults: {suspended: true}", "defaults: {}");
    apply(&server, &running, &[]).success();
    assert_eq!(replicas(&server, "alpha"), Some(1));
    assert_eq!(pods(&server, "alpha"), 1);
    assert!(
        deployment(&server, "alpha")["metadata"]["annotations"]["clawctl.io/suspended-in-fleet"]
            .is_null(),
        "the annotation goes with the setting"
    );
}

#[test]
fn suspend_by_team_dry_run_and_names_are_checked() {
    let server = server();
    let text = fleet(&["alpha", "beta"], IMAGE);
    apply(&server, &text, &[]).success();
    let before = writes_but_lease(&server).len();

    let out = clawctl(
        &server,
        &text,
        &[
            "suspend",
            "fleet.yaml",
            "--team",
            "core",
            "--dry-run",
            "-o",
            "json",
        ],
    )
    .success();
    let plan: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(plan["action"], "suspend");
    let agents: Vec<(&str, bool)> = plan["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .map(|a| (a["agent"].as_str().unwrap_or_default(), a["change"] == true))
        .collect();
    assert_eq!(agents, [("alpha", true), ("beta", true)]);

    // Without a terminal and without --yes: refused, nothing written.
    let out = clawctl(&server, &text, &["suspend", "fleet.yaml", "alpha"]).fails(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    let out = clawctl(&server, &text, &["suspend", "fleet.yaml", "alpah", "--yes"]).fails(2);
    assert!(
        out.stderr.contains("did you mean \"alpha\""),
        "{}",
        out.stderr
    );
    let out = clawctl(&server, &text, &["resume", "fleet.yaml", "--team", "cor"]).fails(2);
    assert!(
        out.stderr.contains("did you mean \"core\""),
        "{}",
        out.stderr
    );
    clawctl(&server, &text, &["suspend", "fleet.yaml"]).fails(2);
    assert_eq!(writes_but_lease(&server).len(), before);
    assert_eq!(replicas(&server, "alpha"), Some(1));
}

#[test]
fn rollout_skips_a_suspended_agent_and_records_it() {
    let server = server();
    let text = fleet(&["alpha", "beta", "gamma"], IMAGE);
    apply(&server, &text, &[]).success();
    clawctl(
        &server,
        &text,
        &["suspend", "fleet.yaml", "beta", "--yes", "--no-wait"],
    )
    .success();

    let out = clawctl(
        &server,
        &text,
        &[
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
        ],
    )
    .success();
    let report: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(report["phase"], "done", "{report}");
    assert_eq!(report["skipped"][0]["agent"], "beta", "{report}");
    assert!(
        report["skipped"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("suspended")),
        "{report}"
    );
    let image = |agent: &str| {
        deployment(&server, agent)["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(image("alpha"), NEW);
    assert_eq!(image("gamma"), NEW);
    assert_eq!(
        image("beta"),
        IMAGE,
        "a suspended agent's image does not move"
    );
    assert_eq!(replicas(&server, "beta"), Some(0));
    let record = server
        .get(
            "v1",
            "ConfigMap",
            Some("clawctl-system"),
            "clawctl-rollout-demo",
        )
        .expect("rollout record");
    let state: Value =
        serde_json::from_str(record["data"]["state.json"].as_str().unwrap_or("{}")).expect("state");
    assert_eq!(state["suspended"], serde_json::json!(["beta"]), "{state}");
}

#[test]
fn rollback_refuses_an_agent_suspended_by_the_command() {
    let server = server();
    let text = fleet(&["alpha"], IMAGE);
    apply(&server, &text, &[]).success();
    let edited = text.replace("You are alpha.", "You are alpha, v2.");
    apply(&server, &edited, &[]).success();
    clawctl(
        &server,
        &edited,
        &["suspend", "fleet.yaml", "alpha", "--yes", "--no-wait"],
    )
    .success();
    let before = writes_but_lease(&server).len();
    let out = clawctl(
        &server,
        &edited,
        &["rollback", "fleet.yaml", "--agent", "alpha", "--yes"],
    )
    .fails(1);
    assert!(out.stderr.contains("clawctl resume"), "{}", out.stderr);
    assert_eq!(writes_but_lease(&server).len(), before);
    assert_eq!(replicas(&server, "alpha"), Some(0));
}
