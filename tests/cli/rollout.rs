//! rollout against the fake API server: the scenarios a real cluster runs too
//! (`crate::scenarios::rollout`), then what only the fake shows: the plan and the
//! questions, a crash-looping canary, the router's move, a failure in wave two
//! (injected), rollback refused while a rollout is unfinished, and a stale plan.

use std::time::Duration;

use fake_apiserver::{Fault, FaultRule};
use k8s_openapi::api::apps::v1::Deployment;
use serde_json::Value;

use crate::harness::backend::{Backend, IMAGE, on_the_fake};
use crate::harness::fake::{deployment_patches, writes, writes_but_lease};
use crate::harness::fleets::with_router;
use crate::harness::report::{pairs, report, results};
use crate::harness::rollout::{asking, plan_rows, rollout_args};

on_the_fake!(
    rollout: a_healthy_rollout_moves_the_canary_then_the_waves_in_order,
    an_unpullable_tag_fails_at_the_canary_and_only_the_canary_is_rolled_back,
    canary_then_promote,
    sigint_during_a_wave_records_state_then_resume_completes,
    sigterm_then_abort_restores_every_touched_agent,
    a_killed_rollout_leaves_a_lock_that_the_next_run_on_this_host_takes_over,
    a_concurrent_rollout_is_refused_by_the_lock,
    apply_with_a_new_image_runs_the_rollout_strategy_unless_all_at_once,
    team_scoped_credentials_run_every_command,
);

const AGENTS: [&str; 5] = ["alpha", "beta", "delta", "gamma", "omega"];
const NEW: &str = "ghcr.io/openclaw/openclaw:2026.5.1";

/// A fleet of five agents on the fake, applied and ready at IMAGE.
fn deployed() -> (Backend, String) {
    let b = Backend::start_fake();
    let text = b.fleet(&AGENTS, IMAGE);
    b.apply(&text, &[]).success();
    (b, text)
}

#[test]
fn without_a_terminal_rollout_shows_the_plan_asks_for_yes_and_changes_nothing() {
    let (b, text) = deployed();
    let server = b.server();
    server.clear_requests();
    let out = b
        .clawctl(&text, &asking(&b, &["--tag", "2026.5.1"]))
        .fails(2);
    assert!(
        out.stderr.contains("Start this rollout on ")
            && out.stderr.contains("pass --yes to go ahead"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "rollout of fleet demo to {NEW} on {}",
            server.url()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(
        plan_rows(&out.stderr),
        pairs(&[
            ("canary", "alpha"),
            ("wave 1", "beta"),
            ("wave 1", "delta"),
            ("wave 2", "gamma"),
            ("wave 2", "omega")
        ]),
        "{}",
        out.stderr
    );
    assert_eq!(writes(server), Vec::<String>::new());
    assert_eq!(b.images(&AGENTS), vec![IMAGE.to_string(); AGENTS.len()]);
    assert_eq!(b.state(), Value::Null);
}

#[test]
fn dry_run_shows_the_target_and_the_waves_and_writes_nothing() {
    let b = Backend::start_fake();
    let server = b.server();
    // zeta is in the file but not deployed: apply creates it, the rollout leaves it.
    b.apply(&b.fleet(&AGENTS, IMAGE), &[]).success();
    let mut names = AGENTS.to_vec();
    names.push("zeta");
    let text = b.fleet(&names, IMAGE);
    server.clear_requests();

    let out = b
        .clawctl(&text, &asking(&b, &["--tag", "2026.5.1", "--dry-run"]))
        .success();
    assert!(
        out.stderr
            .contains(&format!("rollout of fleet demo to {NEW} on ")),
        "{}",
        out.stderr
    );
    assert_eq!(
        plan_rows(&out.stderr),
        pairs(&[
            ("canary", "alpha"),
            ("wave 1", "beta"),
            ("wave 1", "delta"),
            ("wave 2", "gamma"),
            ("wave 2", "omega")
        ]),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("healthy for 200ms after its update; 30s per wave"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("left alone (not deployed: `clawctl apply` creates it): zeta"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("dry run: nothing was changed"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");

    // -o json: the plan as data.
    let out = b
        .clawctl(
            &text,
            &asking(&b, &["--tag", "2026.5.1", "--dry-run", "-o", "json"]),
        )
        .success();
    let plan = report(&out.stdout);
    assert_eq!(plan["mode"], "full");
    assert_eq!(plan["target"], NEW);
    assert_eq!(plan["canary"], true);
    assert_eq!(
        plan["groups"],
        serde_json::json!([["alpha"], ["beta", "delta"], ["gamma", "omega"]])
    );
    assert_eq!(
        plan["agents"][0],
        serde_json::json!({"agent": "alpha", "group": 0, "from": IMAGE, "to": NEW, "done": false})
    );
    assert_eq!(
        plan["skipped"],
        serde_json::json!([{"agent": "zeta", "reason": "not deployed: `clawctl apply` creates it"}])
    );

    // Nothing was written, not even the lock; nothing moved.
    assert_eq!(writes(server), Vec::<String>::new());
    let requests = server.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| !r.path.ends_with("/clawctl-demo-lock")),
        "a dry run touched the lock"
    );
    assert_eq!(b.images(&AGENTS), vec![IMAGE.to_string(); AGENTS.len()]);
    assert_eq!(b.state(), Value::Null);
}

#[test]
fn promote_and_abort_show_what_they_will_do_and_ask() {
    let (b, text) = deployed();
    let server = b.server();
    b.clawctl(&text, &rollout_args(&b, &["--tag", "2026.5.1", "--canary"]))
        .success();
    let record = b.state();
    server.clear_requests();

    // --promote: the waves left, the canary done already; refused without --yes.
    let out = b.clawctl(&text, &asking(&b, &["--promote"])).fails(2);
    assert!(
        out.stderr.contains("Promote this rollout on ") && out.stderr.contains("--yes"),
        "{}",
        out.stderr
    );
    assert_eq!(
        plan_rows(&out.stderr),
        pairs(&[
            ("wave 1", "beta"),
            ("wave 1", "delta"),
            ("wave 2", "gamma"),
            ("wave 2", "omega")
        ]),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("already moved by this rollout: alpha"),
        "{}",
        out.stderr
    );

    // --abort --dry-run: alpha goes back to the revision it had.
    let out = b
        .clawctl(&text, &asking(&b, &["--abort", "--dry-run"]))
        .success();
    assert!(
        out.stderr.contains(&format!(
            "abort the canary-passed rollout of fleet demo to {NEW}"
        )),
        "{}",
        out.stderr
    );
    let alpha = out
        .stderr
        .lines()
        .find(|l| l.contains("alpha"))
        .unwrap_or_default();
    assert!(
        alpha.contains("2026.5.1") && alpha.contains("revision 1 (2026.4.14)"),
        "{}",
        out.stderr
    );
    let out = b
        .clawctl(&text, &asking(&b, &["--abort", "--dry-run", "-o", "json"]))
        .success();
    let plan = report(&out.stdout);
    assert_eq!(plan["mode"], "abort");
    assert_eq!(plan["phase"], "canary-passed");
    assert_eq!(
        plan["returns"],
        serde_json::json!([{"agent": "alpha", "from": NEW, "to": {"revision": 1, "image": IMAGE}}])
    );
    // --abort without --yes is refused.
    let out = b.clawctl(&text, &asking(&b, &["--abort"])).fails(2);
    assert!(out.stderr.contains("Abort this rollout"), "{}", out.stderr);

    assert_eq!(writes(server), Vec::<String>::new());
    assert_eq!(b.state(), record);
    assert_eq!(b.image_of("alpha"), NEW);
    assert_eq!(b.image_of("beta"), IMAGE);

    // With --yes, --promote goes ahead.
    b.clawctl(&text, &rollout_args(&b, &["--promote"]))
        .success();
    assert_eq!(b.images(&AGENTS), vec![NEW.to_string(); AGENTS.len()]);
}

#[test]
fn a_crash_looping_tag_fails_at_the_canary_and_only_the_canary_is_rolled_back() {
    let (b, text) = deployed();
    b.server().crash_images("crashy");
    // The fake's Deployments change resourceVersion only when someone writes them.
    let versions = || -> Vec<Value> {
        AGENTS[1..]
            .iter()
            .map(|a| b.deployment(a)["metadata"]["resourceVersion"].clone())
            .collect()
    };
    let untouched = versions();
    let claims = b.claim_uids(&AGENTS);
    let out = b
        .clawctl(
            &text,
            &rollout_args(&b, &["--tag", "2026.4.14-crashy", "-o", "json"]),
        )
        .fails(4);
    let report = report(&out.stdout);
    assert_eq!(report["phase"], "rolled-back");
    assert_eq!(
        results(&report),
        [
            ("alpha".to_string(), "rolled-back".to_string()),
            ("beta".into(), "not-started".into()),
            ("delta".into(), "not-started".into()),
            ("gamma".into(), "not-started".into()),
            ("omega".into(), "not-started".into())
        ]
    );
    assert!(out.stderr.contains("CrashLoopBackOff"), "{}", out.stderr);
    assert_eq!(b.images(&AGENTS), vec![IMAGE.to_string(); AGENTS.len()]);
    assert_eq!(
        versions(),
        untouched,
        "agents after the canary were touched"
    );
    assert_eq!(b.claim_uids(&AGENTS), claims);
}

/// Issue 20: the router takes part in `rollout`: a new router image in the file moves the
/// router first, through its own gate; a router that crash-loops goes back to the image
/// it ran, and no agent moves (exit 4).
#[test]
fn the_router_moves_first_and_a_failing_one_goes_back_before_any_agent() {
    let b = Backend::start_fake();
    let routed = |router: &str, agents: &str| {
        with_router(
            &b.fleet(&AGENTS, agents),
            &format!(
                "image: ghcr.io/clawctl/clawctl-router:{router}, http: {{proxy: [10.0.3.0/24]}}"
            ),
        )
    };
    b.apply(&routed("0.1.0", IMAGE), &[]).success();
    let router_image = || {
        b.json::<Deployment>("demo-router", "demo-router")
            .and_then(|d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"]
                    .as_str()
                    .map(str::to_string)
            })
            .unwrap_or_default()
    };
    assert_eq!(router_image(), "ghcr.io/clawctl/clawctl-router:0.1.0");

    // The plan names the router's move before the agents'.
    let text = routed("0.2.0", NEW);
    let dry = b
        .clawctl(&text, &["rollout", "fleet.yaml", "--dry-run"])
        .success();
    assert!(
        dry.stderr
            .contains("first the router demo-router/demo-router: 0.1.0 -> 0.2.0"),
        "{}",
        dry.stderr
    );
    let out = b
        .clawctl(&text, &rollout_args(&b, &["-o", "json"]))
        .success();
    let moved = report(&out.stdout);
    assert_eq!(moved["router"]["result"], "updated", "{moved}");
    assert_eq!(router_image(), "ghcr.io/clawctl/clawctl-router:0.2.0");
    assert_eq!(b.images(&AGENTS), vec![NEW.to_string(); AGENTS.len()]);

    // Only the router's image changes: it moves alone.
    let text = routed("0.3.0", NEW);
    let out = b
        .clawctl(&text, &rollout_args(&b, &["-o", "json"]))
        .success();
    let moved = report(&out.stdout);
    assert_eq!(moved["router"]["result"], "updated", "{moved}");
    assert_eq!(moved["phase"], "done");
    assert_eq!(router_image(), "ghcr.io/clawctl/clawctl-router:0.3.0");

    // A router that crash-loops goes back; no agent moves.
    b.server().crash_images("crashy");
    let text = routed("0.4.0-crashy", IMAGE);
    let out = b
        .clawctl(&text, &rollout_args(&b, &["-o", "json"]))
        .fails(4);
    let moved = report(&out.stdout);
    assert_eq!(moved["phase"], "rolled-back", "{moved}");
    assert_eq!(moved["router"]["result"], "rolled-back", "{moved}");
    assert!(out.stderr.contains("CrashLoopBackOff"), "{}", out.stderr);
    assert_eq!(router_image(), "ghcr.io/clawctl/clawctl-router:0.3.0");
    assert_eq!(b.images(&AGENTS), vec![NEW.to_string(); AGENTS.len()]);
}

#[test]
fn a_failure_in_wave_two_rolls_back_the_canary_and_both_waves() {
    let (b, text) = deployed();
    let server = b.server();
    // omega (wave 2) cannot be updated.
    server.inject(
        FaultRule::new(Fault::Status {
            code: 500,
            retry_after: None,
        })
        .method("PATCH")
        .path("/deployments/agent-omega")
        // Every try of the update (clawctl tries 5 times); the rollback then succeeds.
        .times(5),
    );
    let out = b
        .clawctl(
            &text,
            &rollout_args(&b, &["--tag", "2026.5.1", "-o", "json"]),
        )
        .fails(4);
    server.clear_faults();
    let report = report(&out.stdout);
    let results = results(&report);
    assert_eq!(results.len(), AGENTS.len(), "{report}");
    assert!(
        results.iter().all(|(_, r)| r == "rolled-back"),
        "{results:?}\n{}",
        out.stderr
    );
    assert_eq!(b.images(&AGENTS), vec![IMAGE.to_string(); AGENTS.len()]);
}

#[test]
fn rollback_is_refused_while_a_rollout_is_unfinished() {
    let (b, text) = deployed();
    b.clawctl(&text, &rollout_args(&b, &["--tag", "2026.5.1", "--canary"]))
        .success();
    let out = b
        .clawctl(
            &text,
            &["rollback", "fleet.yaml", "--agent", "alpha", "--yes"],
        )
        .fails(1);
    assert!(out.stderr.contains("rollout --abort"), "{}", out.stderr);
    assert_eq!(b.image_of("alpha"), NEW);
    b.clawctl(&text, &rollout_args(&b, &["--abort"])).success();
    assert_eq!(b.image_of("alpha"), IMAGE);
}

/// `ops::rollout::plan` in process, against `b`, for `fleet_text`: the fast strategy of
/// `rollout_args`, to `tag`.
fn plan_in_process(
    runtime: &tokio::runtime::Runtime,
    b: &Backend,
    fleet_text: &str,
    tag: &str,
) -> clawctl::ops::rollout::Planned {
    use clawctl::ops::rollout::{Mode, Overrides, Request, plan, strategy::Canary};
    let dir = tempfile::tempdir().expect("temp dir");
    let fleet = dir.path().join("fleet.yaml");
    std::fs::write(&fleet, fleet_text).expect("fleet file");
    let request = Request {
        planning: clawctl::ops::planning::Request {
            fleet: &fleet,
            templates: None,
            target: clawctl::cluster::Target {
                kubeconfig: Some(b.kubeconfig.clone()),
                context: None,
            },
            delete_volumes: false,
            concurrency: 16,
            hold_image_changes: false,
        },
        tag: Some(tag.to_string()),
        mode: Mode::Full,
        overrides: Overrides {
            canary: Some(Canary::Count(1)),
            waves: Some(vec![50, 100]),
            soak: Some(Duration::from_millis(200)),
            timeout: Some(Duration::from_secs(30)),
            ..Overrides::default()
        },
        history_max: 10,
    };
    runtime.block_on(plan(request)).expect("plan")
}

#[test]
fn a_plan_another_run_made_stale_is_refused_before_any_change() {
    let (b, text) = deployed();
    let server = b.server();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let planned = plan_in_process(&runtime, &b, &text, "2026.5.1");
    assert_eq!(planned.plan.groups.len(), 3);

    // While the plan waits for its question, another run moves the canary.
    b.clawctl(&text, &rollout_args(&b, &["--tag", "2026.5.1", "--canary"]))
        .success();
    let record = b.state();
    server.clear_requests();
    let progress = clawctl::output::rollout::RolloutProgress::new(true);
    let stop = clawctl::interrupt::Stop::new();
    let err = runtime
        .block_on(clawctl::ops::rollout::execute(planned, &progress, &stop))
        .expect_err("a stale plan");
    assert!(
        format!("{err:#}").contains("changed on the cluster since the plan was made"),
        "{err:#}"
    );
    // Only the Lease was taken and given back.
    assert_eq!(writes_but_lease(server), Vec::<String>::new());
    assert_eq!(b.state(), record);
    assert_eq!(b.image_of("beta"), IMAGE);

    // The same for the agents' images: a plan made before an agent moved by other means.
    let (b, text) = deployed();
    let server = b.server();
    let planned = plan_in_process(&runtime, &b, &text, "2026.5.1");
    let mut alpha = server
        .get("apps/v1", "Deployment", Some("core"), "agent-alpha")
        .expect("deployment");
    alpha["spec"]["template"]["spec"]["containers"][0]["image"] = Value::from(NEW);
    server.update_as("kubectl-edit", alpha);
    server.clear_requests();
    let err = runtime
        .block_on(clawctl::ops::rollout::execute(planned, &progress, &stop))
        .expect_err("a stale plan");
    assert!(format!("{err:#}").contains("agents' images"), "{err:#}");
    assert!(deployment_patches(server).is_empty());
    assert_eq!(b.state(), Value::Null);
}
