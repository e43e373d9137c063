//! `history` and `rollback` against the fake API server: revisions recorded by apply,
//! listed per agent, and restored as new revisions (config and image together, volumes
//! untouched), from the fleet file or from the fleet's name alone.

use fake_apiserver::FakeApiServer;
use serde_json::Value;

use crate::harness::fake::{IMAGE, fleet, server, writes, writes_but_lease};
use crate::harness::{Output, Test};

const NEWER: &str = "ghcr.io/openclaw/openclaw:2026.5.1";

/// The same fleet with alpha's soul edited.
fn curious(text: &str) -> String {
    text.replace("You are alpha.", "You are alpha, and curious.")
}

/// Runs clawctl with `args` against `server`; `fleet.yaml` holds `fleet_text` unless it
/// is empty (then there is no fleet file at all).
fn clawctl(server: &FakeApiServer, fleet_text: &str, args: &[&str]) -> Test {
    let mut test = Test::new().file("kubeconfig", &server.kubeconfig());
    if !fleet_text.is_empty() {
        test = test.file("fleet.yaml", fleet_text);
    }
    let kubeconfig = test.path().join("kubeconfig");
    test.env("KUBECONFIG", &kubeconfig.to_string_lossy())
        .args(args)
}

/// `apply --all-at-once`: image changes go straight out and are recorded with cause
/// `apply` and the gate of apply's wait (a rollout would record its own causes and roll
/// a crash loop back by itself).
fn apply(server: &FakeApiServer, fleet_text: &str) -> Test {
    clawctl(
        server,
        fleet_text,
        &[
            "apply",
            "fleet.yaml",
            "--yes",
            "--all-at-once",
            "--timeout",
            "20s",
        ],
    )
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", out.stdout, out.stderr))
}

/// `history -o json` with `args` (a fleet file or `--fleet demo`, maybe `--agent`).
fn history(server: &FakeApiServer, fleet_text: &str, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["history"];
    all.extend_from_slice(args);
    all.extend(["-o", "json"]);
    match json(&clawctl(server, fleet_text, &all).success()) {
        Value::Array(items) => items,
        other => panic!("history is not a list: {other}"),
    }
}

/// (number, cause, gate) of each revision.
fn rows(revisions: &[Value]) -> Vec<(i64, String, String)> {
    revisions
        .iter()
        .map(|r| {
            (
                r["number"].as_i64().unwrap_or(-1),
                r["cause"].as_str().unwrap_or_default().to_string(),
                r["gate"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn row(number: i64, cause: &str, gate: &str) -> (i64, String, String) {
    (number, cause.to_string(), gate.to_string())
}

fn soul(server: &FakeApiServer, agent: &str) -> String {
    let cm = server
        .get("v1", "ConfigMap", Some("core"), &format!("agent-{agent}"))
        .expect("configmap");
    cm["data"]["SOUL.md"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn image(server: &FakeApiServer, agent: &str) -> String {
    let deployment = server
        .get(
            "apps/v1",
            "Deployment",
            Some("core"),
            &format!("agent-{agent}"),
        )
        .expect("deployment");
    deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn volume_uid(server: &FakeApiServer, agent: &str) -> String {
    let claim = server
        .get(
            "v1",
            "PersistentVolumeClaim",
            Some("core"),
            &format!("agent-{agent}"),
        )
        .expect("volume");
    claim["metadata"]["uid"].as_str().expect("uid").to_string()
}

/// `rollback -o json` report's one agent: (from, to, recorded, result).
fn outcome(report: &Value, agent: &str) -> (i64, i64, i64, String) {
    let a = report["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["agent"] == agent)
        .unwrap_or_else(|| panic!("{agent} not in {report}"));
    (
        a["from"]["revision"].as_i64().unwrap_or(-1),
        a["to"]["revision"].as_i64().unwrap_or(-1),
        a["recorded"].as_i64().unwrap_or(-1),
        a["result"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn history_lists_each_apply_and_rollback_restores_the_old_soul_as_a_new_revision() {
    let server = server();
    let text = fleet(&["alpha", "beta"], IMAGE);
    apply(&server, &text).success();
    let edited = curious(&text);
    apply(&server, &edited).success();

    let alpha = history(&server, &edited, &["fleet.yaml", "--agent", "alpha"]);
    assert_eq!(
        rows(&alpha),
        [row(1, "apply", "passed"), row(2, "apply", "passed")]
    );
    assert_eq!(alpha[0]["summary"], "first revision");
    let summary = alpha[1]["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("SOUL.md"), "{summary}");
    assert_eq!(alpha[1]["agent"], "alpha");
    assert_eq!(alpha[1]["team"], "core");
    assert_eq!(alpha[1]["namespace"], "core");
    assert_eq!(alpha[1]["image"], IMAGE);
    assert!(alpha[1]["created"].is_string(), "{}", alpha[1]);
    assert_ne!(alpha[0]["digest"], alpha[1]["digest"]);
    assert!(
        alpha[1].get("manifests").is_none(),
        "manifests leak into JSON"
    );

    let table = clawctl(&server, &edited, &["history", "fleet.yaml"]).success();
    for cell in [
        "revision",
        "summary",
        "alpha",
        "beta",
        "2026.4.14",
        "passed",
        "SOUL.md",
    ] {
        assert!(table.stdout.contains(cell), "{cell}:\n{}", table.stdout);
    }

    let volume = volume_uid(&server, "alpha");
    assert!(soul(&server, "alpha").contains("curious"));
    server.clear_requests();
    let out = clawctl(
        &server,
        &edited,
        &[
            "rollback",
            "fleet.yaml",
            "--agent",
            "alpha",
            "--yes",
            "-o",
            "json",
        ],
    )
    .success();
    let report = json(&out);
    assert_eq!(outcome(&report, "alpha"), (2, 1, 3, "ready".into()));
    assert_eq!(report["agents"].as_array().map(Vec::len), Some(1));
    let restored = soul(&server, "alpha");
    assert!(
        restored.contains("You are alpha.") && !restored.contains("curious"),
        "{restored}"
    );
    assert_eq!(volume_uid(&server, "alpha"), volume);

    let alpha = history(&server, "", &["--fleet", "demo", "--agent", "alpha"]);
    assert_eq!(
        rows(&alpha),
        [
            row(1, "apply", "passed"),
            row(2, "apply", "passed"),
            row(3, "rollback", "passed")
        ]
    );
    assert_eq!(alpha[2]["digest"], alpha[0]["digest"]);
    let summary = alpha[2]["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("SOUL.md"), "{summary}");
    // beta was not touched.
    let beta = history(&server, "", &["--fleet", "demo", "--agent", "beta"]);
    assert_eq!(rows(&beta), [row(1, "apply", "passed")]);
    // The lock was taken and given back.
    let lease = server
        .get(
            "v1",
            "ConfigMap",
            Some("clawctl-system"),
            "clawctl-demo-lock",
        )
        .expect("lease");
    assert_eq!(crate::harness::fake::lock_holder(&lease), "", "{lease}");
    let holders: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.resource == "configmaps" && r.verb == "update" && r.path.ends_with("-lock"))
        .map(|r| r.path)
        .collect();
    assert!(!holders.is_empty(), "rollback took no lease");
}

#[test]
fn rollback_by_fleet_name_without_the_file_restores_every_agent() {
    let server = server();
    let text = fleet(&["alpha", "beta"], IMAGE);
    apply(&server, &text).success();
    apply(&server, &fleet(&["alpha", "beta"], NEWER)).success();
    assert_eq!(image(&server, "alpha"), NEWER);
    let volumes = [volume_uid(&server, "alpha"), volume_uid(&server, "beta")];

    let out = clawctl(
        &server,
        "",
        &["rollback", "--fleet", "demo", "--all", "--yes"],
    )
    .success();
    assert!(
        out.stdout.contains("fleet demo: 2/2 agents rolled back"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("alpha: rolling back from revision 2"),
        "{}",
        out.stderr
    );
    assert_eq!(image(&server, "alpha"), IMAGE);
    assert_eq!(image(&server, "beta"), IMAGE);
    assert_eq!(
        [volume_uid(&server, "alpha"), volume_uid(&server, "beta")],
        volumes
    );
    let all = history(&server, "", &["--fleet", "demo"]);
    let causes: Vec<(String, i64, String)> = all
        .iter()
        .map(|r| {
            (
                r["agent"].as_str().unwrap_or_default().to_string(),
                r["number"].as_i64().unwrap_or(-1),
                r["cause"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        causes,
        [
            ("alpha".into(), 1, "apply".into()),
            ("alpha".into(), 2, "apply".into()),
            ("alpha".into(), 3, "rollback".into()),
            ("beta".into(), 1, "apply".into()),
            ("beta".into(), 2, "apply".into()),
            ("beta".into(), 3, "rollback".into()),
        ]
    );

    // A fleet the cluster has never seen.
    let out = clawctl(&server, "", &["rollback", "--fleet", "other", "--all"]).fails(1);
    assert!(
        out.stderr.contains("no fleet \"other\" on the cluster"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_revision_that_failed_its_gate_is_never_the_default_target() {
    let server = server();
    server.crash_images("crashy");
    let text = fleet(&["alpha"], IMAGE);
    apply(&server, &text).success();
    let out = apply(
        &server,
        &fleet(&["alpha"], "ghcr.io/openclaw/openclaw:2026.4.14-crashy"),
    )
    .fails(1);
    assert!(out.stderr.contains("CrashLoopBackOff"), "{}", out.stderr);
    let edited = curious(&text);
    apply(&server, &edited).success();
    assert_eq!(
        rows(&history(&server, &edited, &["fleet.yaml"])),
        [
            row(1, "apply", "passed"),
            row(2, "apply", "failed"),
            row(3, "apply", "passed")
        ]
    );

    // Revision 2 is the one just before, but it crash-looped: back to revision 1.
    let out = clawctl(
        &server,
        &edited,
        &[
            "rollback",
            "fleet.yaml",
            "--agent",
            "alpha",
            "--yes",
            "-o",
            "json",
        ],
    )
    .success();
    assert_eq!(outcome(&json(&out), "alpha"), (3, 1, 4, "ready".into()));
    assert_eq!(image(&server, "alpha"), IMAGE);
    assert!(!soul(&server, "alpha").contains("curious"));
}

#[test]
fn rollback_after_a_change_of_soul_and_image_restores_both() {
    let server = server();
    let text = fleet(&["alpha"], IMAGE);
    apply(&server, &text).success();
    let volume = volume_uid(&server, "alpha");
    let changed = curious(&fleet(&["alpha"], NEWER));
    apply(&server, &changed).success();
    assert_eq!(image(&server, "alpha"), NEWER);
    assert!(soul(&server, "alpha").contains("curious"));

    clawctl(
        &server,
        &changed,
        &["rollback", "fleet.yaml", "--agent", "alpha", "--yes"],
    )
    .success();
    assert_eq!(image(&server, "alpha"), IMAGE);
    let restored = soul(&server, "alpha");
    assert!(
        restored.contains("You are alpha.") && !restored.contains("curious"),
        "{restored}"
    );
    assert_eq!(volume_uid(&server, "alpha"), volume);
    let revisions = history(&server, &changed, &["fleet.yaml"]);
    let summary = revisions[2]["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("image 2026.5.1 → 2026.4.14") && summary.contains("SOUL.md"),
        "{summary}"
    );
    assert_eq!(revisions[2]["image"], IMAGE);
}

#[test]
fn history_max_keeps_only_that_many_revisions() {
    let server = server();
    let text = fleet(&["alpha"], IMAGE);
    apply(&server, &text).success();
    apply(&server, &curious(&text)).success();
    clawctl(
        &server,
        &text,
        &[
            "rollback",
            "fleet.yaml",
            "--agent",
            "alpha",
            "--history-max",
            "2",
            "--yes",
        ],
    )
    .success();
    let numbers: Vec<i64> = rows(&history(&server, &text, &["fleet.yaml"]))
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    assert_eq!(numbers, [2, 3]);
    assert_eq!(
        server
            .list("v1", "Secret", Some("core"))
            .iter()
            .filter(|s| s["type"] == "clawctl.io/revision.v1")
            .count(),
        2
    );
}

#[test]
fn to_revision_to_a_missing_number_fails_clearly_and_changes_nothing() {
    let server = server();
    let text = fleet(&["alpha"], IMAGE);
    apply(&server, &text).success();
    let edited = curious(&text);
    apply(&server, &edited).success();
    server.clear_requests();

    // No agent can go back: nothing to ask (no --yes needed), the report says why.
    let out = clawctl(
        &server,
        &edited,
        &[
            "rollback",
            "fleet.yaml",
            "--agent",
            "alpha",
            "--to-revision",
            "7",
        ],
    )
    .fails(1);
    assert!(
        out.stdout
            .contains("agent \"alpha\" has no revision 7; recorded: 1, 2"),
        "{}",
        out.stdout
    );
    assert_eq!(writes(&server), Vec::<String>::new());
    assert!(soul(&server, "alpha").contains("curious"));

    // An existing number is taken as asked.
    let out = clawctl(
        &server,
        &edited,
        &[
            "rollback",
            "fleet.yaml",
            "--agent",
            "alpha",
            "--to-revision",
            "1",
            "--yes",
            "-o",
            "json",
        ],
    )
    .success();
    assert_eq!(outcome(&json(&out), "alpha"), (2, 1, 3, "ready".into()));
    assert!(!soul(&server, "alpha").contains("curious"));

    let out = clawctl(
        &server,
        &edited,
        &[
            "rollback",
            "fleet.yaml",
            "--agent",
            "alpha",
            "--to-revision",
            "0",
        ],
    )
    .fails(2);
    assert!(
        out.stderr.contains("revision numbers start at 1"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_agent_without_an_earlier_revision_fails_naming_what_was_looked_at() {
    let server = server();
    let text = fleet(&["alpha"], IMAGE);
    apply(&server, &text).success();
    server.clear_requests();
    let out = clawctl(&server, &text, &["rollback", "fleet.yaml", "--all"]).fails(1);
    assert!(
        out.stdout.contains("there is no earlier revision"),
        "{}",
        out.stdout
    );
    // Nothing to do: no lock, no write.
    assert_eq!(writes(&server), Vec::<String>::new());
}

#[test]
fn unknown_agents_and_empty_history() {
    let server = server();
    let text = fleet(&["alpha"], IMAGE);

    // No history yet: a message, exit 0, and an empty list for scripts.
    let out = clawctl(&server, "", &["history", "--fleet", "demo"]).success();
    assert!(
        out.stderr.contains("no revisions recorded for fleet demo"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
    assert_eq!(
        history(&server, "", &["--fleet", "demo"]),
        Vec::<Value>::new()
    );

    apply(&server, &text).success();
    // With a file, an unknown agent is a usage error, before any request.
    for args in [
        vec!["history", "fleet.yaml", "--agent", "alpah"],
        vec!["rollback", "fleet.yaml", "--agent", "alpah"],
    ] {
        let out = clawctl(&server, &text, &args).fails(2);
        assert!(
            out.stderr
                .contains("the fleet has no agent named \"alpah\" (did you mean \"alpha\"?)"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // By name alone there is no list of agents to check: no history, with a hint.
    let out = clawctl(
        &server,
        "",
        &["history", "--fleet", "demo", "--agent", "alpah"],
    )
    .success();
    assert!(
        out.stderr.contains(
            "no revisions recorded for agent \"alpah\" of fleet demo (did you mean \"alpha\"?)"
        ),
        "{}",
        out.stderr
    );
}

/// alpha and beta applied at IMAGE (revision 1), then at NEWER (revision 2).
fn two_revisions() -> (FakeApiServer, String) {
    let server = server();
    apply(&server, &fleet(&["alpha", "beta"], IMAGE)).success();
    let newer = fleet(&["alpha", "beta"], NEWER);
    apply(&server, &newer).success();
    (server, newer)
}

/// The line of a rollback plan (stderr) naming `agent`.
fn plan_line(stderr: &str, agent: &str) -> String {
    stderr
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == agent))
        .unwrap_or_else(|| panic!("no {agent} in the plan:\n{stderr}"))
        .to_string()
}

#[test]
fn without_a_terminal_rollback_shows_the_plan_asks_for_yes_and_changes_nothing() {
    let (server, text) = two_revisions();
    server.clear_requests();
    let out = clawctl(
        &server,
        &text,
        &["rollback", "fleet.yaml", "--agent", "alpha"],
    )
    .fails(2);
    assert!(
        out.stderr.contains("Roll these agents back on ")
            && out.stderr.contains("pass --yes to go ahead"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("rollback of fleet demo on "),
        "{}",
        out.stderr
    );
    let alpha = plan_line(&out.stderr, "alpha");
    assert!(
        alpha.contains("2 (2026.5.1)") && alpha.contains("1 (2026.4.14)"),
        "{alpha}"
    );
    assert_eq!(writes(&server), Vec::<String>::new());
    assert_eq!(image(&server, "alpha"), NEWER);
    assert_eq!(out.stdout, "");
}

#[test]
fn rollback_dry_run_shows_each_agents_revisions_and_writes_nothing() {
    let (server, text) = two_revisions();
    server.clear_requests();

    let out = clawctl(
        &server,
        &text,
        &["rollback", "fleet.yaml", "--all", "--dry-run"],
    )
    .success();
    for agent in ["alpha", "beta"] {
        let line = plan_line(&out.stderr, agent);
        assert!(
            line.contains("2 (2026.5.1)") && line.contains("1 (2026.4.14)"),
            "{line}"
        );
    }
    assert!(
        out.stderr.contains("2 of 2 agent(s) go back")
            && out.stderr.contains("dry run: nothing was changed"),
        "{}",
        out.stderr
    );

    // -o json: the plan as data, from the fleet's name alone.
    let out = clawctl(
        &server,
        "",
        &[
            "rollback",
            "--fleet",
            "demo",
            "--all",
            "--dry-run",
            "-o",
            "json",
        ],
    )
    .success();
    let plan = json(&out);
    assert_eq!(plan["fleet"], "demo");
    assert_eq!(
        plan["agents"][0],
        serde_json::json!({
            "agent": "alpha",
            "namespace": "core",
            "from": {"revision": 2, "image": NEWER},
            "to": {"revision": 1, "image": IMAGE}
        })
    );
    assert_eq!(plan["agents"][1]["agent"], "beta");

    // An agent with nothing to return to: the dry run fails as the real run would.
    let out = clawctl(
        &server,
        &text,
        &[
            "rollback",
            "fleet.yaml",
            "--agent",
            "alpha",
            "--to-revision",
            "7",
            "--dry-run",
        ],
    )
    .fails(1);
    assert!(out.stderr.contains("has no revision 7"), "{}", out.stderr);

    assert_eq!(writes(&server), Vec::<String>::new());
    let requests = server.requests();
    assert!(!requests.is_empty(), "the dry run read nothing");
    assert!(
        requests.iter().all(|r| r.resource != "leases"),
        "a dry run touched the Lease"
    );
    assert_eq!(image(&server, "alpha"), NEWER);
    assert_eq!(image(&server, "beta"), NEWER);
}

#[test]
fn a_rollback_plan_another_run_made_stale_is_refused_before_any_change() {
    use clawctl::ops::history::Source;
    use clawctl::ops::rollback::{self, Agents, Options, Request};
    let (server, text) = two_revisions();
    let test = Test::new()
        .file("fleet.yaml", &text)
        .file("kubeconfig", &server.kubeconfig());
    let fleet_file = test.path().join("fleet.yaml");
    let request = Request {
        source: Source::File(&fleet_file),
        target: clawctl::cluster::Target {
            kubeconfig: Some(test.path().join("kubeconfig")),
            context: None,
        },
        agents: Agents::Named(vec!["alpha".into()]),
        options: Options {
            to_revision: None,
            wait: Some(std::time::Duration::from_secs(20)),
            history_max: 10,
            parallel: 1,
            snapshot: true,
        },
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let planned = runtime.block_on(rollback::plan(&request)).expect("plan");
    // While the plan waits for its question, another run rolls alpha back.
    clawctl(
        &server,
        &text,
        &["rollback", "fleet.yaml", "--agent", "alpha", "--yes"],
    )
    .success();
    server.clear_requests();
    let progress = clawctl::output::rollback::RollbackProgress::new(true);
    let err = runtime
        .block_on(rollback::execute(
            planned,
            &progress,
            &clawctl::interrupt::Stop::new(),
        ))
        .expect_err("a stale plan");
    assert!(
        format!("{err:#}").contains("has a new revision since the plan was made"),
        "{err:#}"
    );
    assert_eq!(writes_but_lease(&server), Vec::<String>::new());
    assert_eq!(
        rows(&history(
            &server,
            &text,
            &["fleet.yaml", "--agent", "alpha"]
        ))
        .len(),
        3
    );
}
