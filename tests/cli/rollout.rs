//! rollout against the fake API server: the scenarios a real cluster runs too
//! (`crate::scenarios::rollout`), then what only the fake shows: the plan and the
//! questions, a crash-looping canary, the router's move, a failure in wave two
//! (injected), rollback refused while a rollout is unfinished, and a stale plan.

use std::time::Duration;

use fake_apiserver::{FakeApiServer, Fault, FaultRule};
use serde_json::Value;

use crate::harness::backend::on_the_fake;
use crate::harness::fake::{IMAGE, apply, clawctl, fleet, server, uid, writes, writes_but_lease};

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

/// A fleet of five agents, applied and ready at IMAGE.
fn deployed() -> (FakeApiServer, String) {
    let server = server();
    let text = fleet(&AGENTS, IMAGE);
    apply(&server, &text, &[]).success();
    (server, text)
}

fn image(server: &FakeApiServer, agent: &str) -> String {
    server
        .get(
            "apps/v1",
            "Deployment",
            Some("core"),
            &format!("agent-{agent}"),
        )
        .and_then(|d| {
            d["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_default()
}

fn images(server: &FakeApiServer) -> Vec<String> {
    AGENTS.iter().map(|a| image(server, a)).collect()
}

fn claim_uids(server: &FakeApiServer) -> Vec<String> {
    AGENTS
        .iter()
        .map(|a| {
            server
                .get(
                    "v1",
                    "PersistentVolumeClaim",
                    Some("core"),
                    &format!("agent-{a}"),
                )
                .map(|c| uid(&c))
                .unwrap_or_default()
        })
        .collect()
}

/// `rollout fleet.yaml --yes` with a fast strategy (one canary, waves 50%,100%, 200ms
/// soak) and `extra`.
fn rollout_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "rollout",
        "fleet.yaml",
        "--yes",
        "--canary-count",
        "1",
        "--waves",
        "50%,100%",
        "--timeout",
        "30s",
    ];
    if !extra.contains(&"--soak") {
        args.extend(["--soak", "200ms"]);
    }
    args.extend_from_slice(extra);
    args
}

/// `rollout_args(extra)` without `--yes`.
fn asking(extra: &[&'static str]) -> Vec<&'static str> {
    rollout_args(extra)
        .into_iter()
        .filter(|a| *a != "--yes")
        .collect()
}

/// The (group, agent) rows of a rollout plan's table (`canary`, `wave 1`, ...).
fn plan_rows(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim_matches(|c: char| c == '│' || c.is_whitespace())
                .split_whitespace()
                .collect();
            match cells.as_slice() {
                ["canary", agent, _, _] => Some(("canary".to_string(), agent.to_string())),
                ["wave", n, agent, _, _] => Some((format!("wave {n}"), agent.to_string())),
                _ => None,
            }
        })
        .collect()
}

fn rows(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(g, a)| (g.to_string(), a.to_string()))
        .collect()
}

fn report(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not a JSON report ({e}):\n{out}"))
}

fn results(report: &Value) -> Vec<(String, String)> {
    report["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .map(|a| {
            (
                a["agent"].as_str().unwrap_or_default().to_string(),
                a["result"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The order in which Deployments were patched (non-dry-run), by agent.
fn deployment_patches(server: &FakeApiServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("/deployments/agent-") && !r.dry_run)
        .filter_map(|r| r.path.rsplit("agent-").next().map(str::to_string))
        .collect()
}

#[test]
fn without_a_terminal_rollout_shows_the_plan_asks_for_yes_and_changes_nothing() {
    let (server, text) = deployed();
    server.clear_requests();
    let out = clawctl(&server, &text, &asking(&["--tag", "2026.5.1"])).fails(2);
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
        rows(&[
            ("canary", "alpha"),
            ("wave 1", "beta"),
            ("wave 1", "delta"),
            ("wave 2", "gamma"),
            ("wave 2", "omega")
        ]),
        "{}",
        out.stderr
    );
    assert_eq!(writes(&server), Vec::<String>::new());
    assert_eq!(images(&server), vec![IMAGE.to_string(); 5]);
    assert_eq!(state(&server), Value::Null);
}

#[test]
fn dry_run_shows_the_target_and_the_waves_and_writes_nothing() {
    let server = server();
    // zeta is in the file but not deployed: apply creates it, the rollout leaves it.
    apply(&server, &fleet(&AGENTS, IMAGE), &[]).success();
    let mut names = AGENTS.to_vec();
    names.push("zeta");
    let text = fleet(&names, IMAGE);
    server.clear_requests();

    let out = clawctl(&server, &text, &asking(&["--tag", "2026.5.1", "--dry-run"])).success();
    assert!(
        out.stderr
            .contains(&format!("rollout of fleet demo to {NEW} on ")),
        "{}",
        out.stderr
    );
    assert_eq!(
        plan_rows(&out.stderr),
        rows(&[
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
    let out = clawctl(
        &server,
        &text,
        &asking(&["--tag", "2026.5.1", "--dry-run", "-o", "json"]),
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
    assert_eq!(writes(&server), Vec::<String>::new());
    let requests = server.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| !r.path.ends_with("/clawctl-demo-lock")),
        "a dry run touched the lock"
    );
    assert_eq!(images(&server), vec![IMAGE.to_string(); 5]);
    assert_eq!(state(&server), Value::Null);
}

#[test]
fn promote_and_abort_show_what_they_will_do_and_ask() {
    let (server, text) = deployed();
    clawctl(
        &server,
        &text,
        &rollout_args(&["--tag", "2026.5.1", "--canary"]),
    )
    .success();
    let record = state(&server);
    server.clear_requests();

    // --promote: the waves left, the canary done already; refused without --yes.
    let out = clawctl(&server, &text, &asking(&["--promote"])).fails(2);
    assert!(
        out.stderr.contains("Promote this rollout on ") && out.stderr.contains("--yes"),
        "{}",
        out.stderr
    );
    assert_eq!(
        plan_rows(&out.stderr),
        rows(&[
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
    let out = clawctl(&server, &text, &asking(&["--abort", "--dry-run"])).success();
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
    let out = clawctl(
        &server,
        &text,
        &asking(&["--abort", "--dry-run", "-o", "json"]),
    )
    .success();
    let plan = report(&out.stdout);
    assert_eq!(plan["mode"], "abort");
    assert_eq!(plan["phase"], "canary-passed");
    assert_eq!(
        plan["returns"],
        serde_json::json!([{"agent": "alpha", "from": NEW, "to": {"revision": 1, "image": IMAGE}}])
    );
    // --abort without --yes is refused.
    let out = clawctl(&server, &text, &asking(&["--abort"])).fails(2);
    assert!(out.stderr.contains("Abort this rollout"), "{}", out.stderr);

    assert_eq!(writes(&server), Vec::<String>::new());
    assert_eq!(state(&server), record);
    assert_eq!(image(&server, "alpha"), NEW);
    assert_eq!(image(&server, "beta"), IMAGE);

    // With --yes, --promote goes ahead.
    clawctl(&server, &text, &rollout_args(&["--promote"])).success();
    assert_eq!(images(&server), vec![NEW.to_string(); 5]);
}

#[test]
fn a_crash_looping_tag_fails_at_the_canary_and_only_the_canary_is_rolled_back() {
    let (server, text) = deployed();
    server.crash_images("crashy");
    let untouched: Vec<Value> = ["beta", "delta", "gamma", "omega"]
        .iter()
        .map(|a| {
            server
                .get("apps/v1", "Deployment", Some("core"), &format!("agent-{a}"))
                .expect("deployment")["metadata"]["resourceVersion"]
                .clone()
        })
        .collect();
    let claims = claim_uids(&server);
    let out = clawctl(
        &server,
        &text,
        &rollout_args(&["--tag", "2026.4.14-crashy", "-o", "json"]),
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
    assert_eq!(images(&server), vec![IMAGE.to_string(); 5]);
    let after: Vec<Value> = ["beta", "delta", "gamma", "omega"]
        .iter()
        .map(|a| {
            server
                .get("apps/v1", "Deployment", Some("core"), &format!("agent-{a}"))
                .expect("deployment")["metadata"]["resourceVersion"]
                .clone()
        })
        .collect();
    assert_eq!(after, untouched, "agents after the canary were touched");
    assert_eq!(claim_uids(&server), claims);
}

/// Issue 20: the router takes part in `rollout`: a new router image in the file moves the
/// router first, through its own gate; a router that crash-loops goes back to the image
/// it ran, and no agent moves (exit 4).
#[test]
fn the_router_moves_first_and_a_failing_one_goes_back_before_any_agent() {
    let server = server();
    let routed = |router: &str, agents: &str| {
        fleet(&AGENTS, agents).replace(
            "  defaults:",
            &format!("  routing:\n    router: {{image: ghcr.io/clawctl/clawctl-router:{router}, http: {{proxy: [10.0.3.0/24]}}}}\n  defaults:"),
        )
    };
    apply(&server, &routed("0.1.0", IMAGE), &[]).success();
    let router_image = || {
        server
            .get("apps/v1", "Deployment", Some("demo-router"), "demo-router")
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
    let dry = clawctl(&server, &text, &["rollout", "fleet.yaml", "--dry-run"]).success();
    assert!(
        dry.stderr
            .contains("first the router demo-router/demo-router: 0.1.0 -> 0.2.0"),
        "{}",
        dry.stderr
    );
    let out = clawctl(&server, &text, &rollout_args(&["-o", "json"])).success();
    let moved = report(&out.stdout);
    assert_eq!(moved["router"]["result"], "updated", "{moved}");
    assert_eq!(router_image(), "ghcr.io/clawctl/clawctl-router:0.2.0");
    assert_eq!(images(&server), vec![NEW.to_string(); 5]);

    // Only the router's image changes: it moves alone.
    let text = routed("0.3.0", NEW);
    let out = clawctl(&server, &text, &rollout_args(&["-o", "json"])).success();
    let moved = report(&out.stdout);
    assert_eq!(moved["router"]["result"], "updated", "{moved}");
    assert_eq!(moved["phase"], "done");
    assert_eq!(router_image(), "ghcr.io/clawctl/clawctl-router:0.3.0");

    // A router that crash-loops goes back; no agent moves.
    server.crash_images("crashy");
    let text = routed("0.4.0-crashy", IMAGE);
    let out = clawctl(&server, &text, &rollout_args(&["-o", "json"])).fails(4);
    let moved = report(&out.stdout);
    assert_eq!(moved["phase"], "rolled-back", "{moved}");
    assert_eq!(moved["router"]["result"], "rolled-back", "{moved}");
    assert!(out.stderr.contains("CrashLoopBackOff"), "{}", out.stderr);
    assert_eq!(router_image(), "ghcr.io/clawctl/clawctl-router:0.3.0");
    assert_eq!(images(&server), vec![NEW.to_string(); 5]);
}

#[test]
fn a_failure_in_wave_two_rolls_back_the_canary_and_both_waves() {
    let (server, text) = deployed();
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
    let out = clawctl(
        &server,
        &text,
        &rollout_args(&["--tag", "2026.5.1", "-o", "json"]),
    )
    .fails(4);
    server.clear_faults();
    let report = report(&out.stdout);
    let results = results(&report);
    assert!(!results.is_empty(), "{report}");
    assert!(
        results.iter().all(|(_, r)| r == "rolled-back"),
        "{results:?}\n{}",
        out.stderr
    );
    assert_eq!(images(&server), vec![IMAGE.to_string(); 5]);
}

fn state(server: &FakeApiServer) -> Value {
    server
        .get(
            "v1",
            "ConfigMap",
            Some("clawctl-system"),
            "clawctl-rollout-demo",
        )
        .and_then(|cm| {
            cm["data"]["state.json"]
                .as_str()
                .and_then(|t| serde_json::from_str(t).ok())
        })
        .unwrap_or(Value::Null)
}

#[test]
fn rollback_is_refused_while_a_rollout_is_unfinished() {
    let (server, text) = deployed();
    clawctl(
        &server,
        &text,
        &rollout_args(&["--tag", "2026.5.1", "--canary"]),
    )
    .success();
    let out = clawctl(
        &server,
        &text,
        &["rollback", "fleet.yaml", "--agent", "alpha", "--yes"],
    )
    .fails(1);
    assert!(out.stderr.contains("rollout --abort"), "{}", out.stderr);
    assert_eq!(image(&server, "alpha"), NEW);
    clawctl(&server, &text, &rollout_args(&["--abort"])).success();
    assert_eq!(image(&server, "alpha"), IMAGE);
}

/// `ops::rollout::plan` in process, against `server`, for `fleet.yaml` in `test`'s folder:
/// the fast strategy of `rollout_args`, to `tag`.
fn plan_in_process(
    runtime: &tokio::runtime::Runtime,
    test: &crate::harness::Test,
    tag: &str,
) -> clawctl::ops::rollout::Planned {
    use clawctl::ops::rollout::{Mode, Overrides, Request, plan, strategy::Canary};
    let fleet = test.path().join("fleet.yaml");
    let request = Request {
        planning: clawctl::ops::planning::Request {
            fleet: &fleet,
            templates: None,
            target: clawctl::cluster::Target {
                kubeconfig: Some(test.path().join("kubeconfig")),
                context: None,
            },
            delete_volumes: false,
            concurrency: 16,
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
    let (server, text) = deployed();
    let test = crate::harness::Test::new()
        .file("fleet.yaml", &text)
        .file("kubeconfig", &server.kubeconfig());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let planned = plan_in_process(&runtime, &test, "2026.5.1");
    assert_eq!(planned.plan.groups.len(), 3);

    // While the plan waits for its question, another run moves the canary.
    clawctl(
        &server,
        &text,
        &rollout_args(&["--tag", "2026.5.1", "--canary"]),
    )
    .success();
    let record = state(&server);
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
    assert_eq!(writes_but_lease(&server), Vec::<String>::new());
    assert_eq!(state(&server), record);
    assert_eq!(image(&server, "beta"), IMAGE);

    // The same for the agents' images: a plan made before an agent moved by other means.
    let (server, text) = deployed();
    let test = crate::harness::Test::new()
        .file("fleet.yaml", &text)
        .file("kubeconfig", &server.kubeconfig());
    let planned = plan_in_process(&runtime, &test, "2026.5.1");
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
    assert!(deployment_patches(&server).is_empty());
    assert_eq!(state(&server), Value::Null);
}
