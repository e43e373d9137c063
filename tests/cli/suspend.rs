//! suspend and resume against the fake API server: the fleet file's `suspended: true`,
//! suspend by team, dry runs and names, `rollout` skipping suspended agents, rollback
//! refusing one. The first scenario (`suspend`, `apply` keeping the agent suspended,
//! `resume`) runs on a real cluster too (`crate::scenarios::apply`).

use crate::harness::backend::{Backend, IMAGE, on_the_fake};
use crate::harness::fake::writes_but_lease;
use crate::harness::report::{phases_and_reasons, report};

on_the_fake!(
    apply: suspend_keeps_the_volume_and_service_apply_keeps_it_suspended_and_resume_starts_it,
);

const NEW: &str = "ghcr.io/openclaw/openclaw:2026.5.1";

#[test]
fn the_fleet_file_suspends_a_team_and_resume_leaves_that_to_the_file() {
    let b = Backend::start_fake();
    let text = b.fleet(&["alpha", "beta"], IMAGE).replace(
        "teams: [{name: core, namespace: core}]",
        "teams: [{name: core, namespace: core, defaults: {suspended: true}}]",
    );
    let text = text.replace("{name: beta,", "{name: beta, suspended: false,");
    assert!(text.contains("suspended: true") && text.contains("suspended: false"));
    // The wait does not wait for a pod that is not meant to start.
    b.apply(&text, &[]).success();
    assert_eq!(b.replicas("alpha"), Some(0));
    assert_eq!(b.replicas("beta"), Some(1));
    assert_eq!(b.pods("alpha"), 0);
    let status = phases_and_reasons(&b.status_json(&text, &["fleet.yaml"]));
    assert_eq!(status.len(), 2, "{status:?}");
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
    let by_name = b.status_json(&text, &["--fleet", b.fleet.as_str()]);
    assert_eq!(
        by_name["agents"][0]["reason"], "suspended by the fleet file",
        "{by_name:#}"
    );

    let out = b
        .clawctl(&text, &["resume", "fleet.yaml", "alpha", "--yes"])
        .fails(1);
    assert!(
        out.stdout.contains("suspended by the fleet file"),
        "{}",
        out.stdout
    );
    assert_eq!(b.replicas("alpha"), Some(0));

    // Taken out of the file: the next apply starts it.
    let running = text.replace("defaults: {suspended: true}", "defaults: {}");
    b.apply(&running, &[]).success();
    assert_eq!(b.replicas("alpha"), Some(1));
    assert_eq!(b.pods("alpha"), 1);
    assert!(
        b.deployment("alpha")["metadata"]["annotations"]["clawctl.io/suspended-in-fleet"].is_null(),
        "the annotation goes with the setting"
    );
}

#[test]
fn suspend_by_team_dry_run_and_names_are_checked() {
    let b = Backend::start_fake();
    let text = b.fleet(&["alpha", "beta"], IMAGE);
    b.apply(&text, &[]).success();
    let before = writes_but_lease(b.server()).len();

    let out = b
        .clawctl(
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
    let plan = report(&out.stdout);
    assert_eq!(plan["action"], "suspend");
    let agents: Vec<(&str, bool)> = plan["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .map(|a| (a["agent"].as_str().unwrap_or_default(), a["change"] == true))
        .collect();
    assert_eq!(agents, [("alpha", true), ("beta", true)]);

    // Without a terminal and without --yes: refused, nothing written.
    let out = b
        .clawctl(&text, &["suspend", "fleet.yaml", "alpha"])
        .fails(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    let out = b
        .clawctl(&text, &["suspend", "fleet.yaml", "alpah", "--yes"])
        .fails(2);
    assert!(
        out.stderr.contains("did you mean \"alpha\""),
        "{}",
        out.stderr
    );
    let out = b
        .clawctl(&text, &["resume", "fleet.yaml", "--team", "cor"])
        .fails(2);
    assert!(
        out.stderr.contains("did you mean \"core\""),
        "{}",
        out.stderr
    );
    b.clawctl(&text, &["suspend", "fleet.yaml"]).fails(2);
    assert_eq!(writes_but_lease(b.server()).len(), before);
    assert_eq!(b.replicas("alpha"), Some(1));
}

#[test]
fn rollout_skips_a_suspended_agent_and_records_it() {
    let b = Backend::start_fake();
    let text = b.fleet(&["alpha", "beta", "gamma"], IMAGE);
    b.apply(&text, &[]).success();
    b.clawctl(
        &text,
        &["suspend", "fleet.yaml", "beta", "--yes", "--no-wait"],
    )
    .success();

    let out = b
        .clawctl(
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
    let report = report(&out.stdout);
    assert_eq!(report["phase"], "done", "{report}");
    assert_eq!(report["skipped"][0]["agent"], "beta", "{report}");
    assert!(
        report["skipped"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("suspended")),
        "{report}"
    );
    assert_eq!(b.image_of("alpha"), NEW);
    assert_eq!(b.image_of("gamma"), NEW);
    assert_eq!(
        b.image_of("beta"),
        IMAGE,
        "a suspended agent's image does not move"
    );
    assert_eq!(b.replicas("beta"), Some(0));
    let state = b.state();
    assert_eq!(state["suspended"], serde_json::json!(["beta"]), "{state}");
}

#[test]
fn rollback_refuses_an_agent_suspended_by_the_command() {
    let b = Backend::start_fake();
    let text = b.fleet(&["alpha"], IMAGE);
    b.apply(&text, &[]).success();
    let edited = text.replace("You are alpha.", "You are alpha, v2.");
    b.apply(&edited, &[]).success();
    b.clawctl(
        &edited,
        &["suspend", "fleet.yaml", "alpha", "--yes", "--no-wait"],
    )
    .success();
    let before = writes_but_lease(b.server()).len();
    let out = b
        .clawctl(
            &edited,
            &["rollback", "fleet.yaml", "--agent", "alpha", "--yes"],
        )
        .fails(1);
    assert!(out.stderr.contains("clawctl resume"), "{}", out.stderr);
    assert_eq!(writes_but_lease(b.server()).len(), before);
    assert_eq!(b.replicas("alpha"), Some(0));
}
