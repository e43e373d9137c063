//! The CI pipeline examples (`examples/ci/github/*.yml`, the book's "CI pipelines") run
//! here against the fake API server: every `run:` step of a workflow, in order, the way
//! a GitHub Actions runner runs it in clawctl's container image. The steps are read from
//! the workflow files, so what the examples say is what is tested.
//!
//! The runner is played as far as the examples need: each step's script in `bash
//! --noprofile --norc -eo pipefail` (the runner's `shell: bash`), the job's and the
//! step's `env` with `${{ secrets.NAME }}` and `${{ steps.ID.outputs.KEY }}` filled in,
//! `GITHUB_ENV`, `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY` and `RUNNER_TEMP`, `clawctl` and
//! `clawctl-diff-summary` on `PATH` (where the image puts them), and after a failed step
//! only the steps under `if: always()`. `uses:` steps (checkout, the comment) are
//! GitHub's and are left out; any other expression fails the test, so an example cannot
//! grow a step this runner silently skips.

use std::collections::BTreeMap;
use std::process::Command;

use fake_apiserver::FakeApiServer;
use serde_json::{Value, json};

use crate::harness::fake::{server, writes};
use crate::harness::repo;

/// A fleet like the README's quick start, fast to gate: a 1 s soak.
fn fleet(agents: &[&str], image: &str) -> String {
    let mut text = format!(
        "apiVersion: clawctl.io/v1alpha1\nkind: Fleet\nmetadata: {{name: shop}}\nspec:\n  \
         image: ghcr.io/openclaw/openclaw:{image}\n  adoptNamespaces: [assistants]\n  \
         rollout: {{soak: 1s, timeout: 1m}}\n  policy:\n    tools: {{deny: [\"group:runtime\"]}}\n  \
         defaults:\n    model: {{primary: anthropic/claude-sonnet-4-20250514}}\n    \
         secrets: [openclaw-secrets]\n  teams: [{{name: assistants}}]\n  agents:\n"
    );
    for agent in agents {
        text.push_str(&format!(
            "    - {{name: {agent}, soulInline: \"You are {agent}.\"}}\n"
        ));
    }
    text
}

/// What a platform team makes once: the team's namespace and the Secret its agents load.
fn platform(server: &FakeApiServer) {
    for object in [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "assistants"}}),
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "openclaw-secrets", "namespace": "assistants"},
               "data": {"OPENCLAW_GATEWAY_TOKEN": "ZGVtby10b2tlbg=="}}),
    ] {
        server
            .apply_as("platform-team", object, true)
            .expect("written");
    }
}

/// The ServiceAccount ci/pr-check with the fleet deployer's rights (`admin` in the fleet's
/// namespaces, as the book's CI page binds it); on a real cluster an admission policy
/// also refuses its every request but dry runs. Returns its kubeconfig.
fn pr_check_identity(server: &FakeApiServer) -> String {
    server
        .apply_as(
            "cluster-admin",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ci"}}),
            true,
        )
        .expect("ns");
    for ns in ["assistants", "clawctl-system"] {
        server
            .apply_as(
                "cluster-admin",
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                       "metadata": {"name": "clawctl-pr-check", "namespace": ns},
                       "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
                       "subjects": [{"kind": "ServiceAccount", "name": "pr-check", "namespace": "ci"}]}),
                true,
            )
            .expect("binding");
    }
    server.kubeconfig_for_service_account("ci", "pr-check")
}

/// One step's outcome.
#[derive(Debug)]
struct Ran {
    name: String,
    code: i32,
    output: String,
}

/// A workflow's run: the steps that ran, their `GITHUB_OUTPUT`s, the job summary.
struct Run {
    steps: Vec<Ran>,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    summary: String,
    /// The checkout, for looking at what the steps left.
    _checkout: tempfile::TempDir,
}

impl Run {
    /// `(step name, exit code)` of each step that ran.
    fn codes(&self) -> Vec<(&str, i32)> {
        self.steps
            .iter()
            .map(|s| (s.name.as_str(), s.code))
            .collect()
    }

    fn step(&self, name: &str) -> &Ran {
        self.steps
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no step {name:?} ran: {:?}", self.codes()))
    }
}

/// Runs the `run:` steps of `examples/ci/github/<workflow>` in a checkout holding
/// `files`, with `secrets`.
fn run_workflow(workflow: &str, files: &[(&str, &str)], secrets: &[(&str, &str)]) -> Run {
    let path = repo().join("examples/ci/github").join(workflow);
    let text = std::fs::read_to_string(&path).expect("workflow");
    let doc: Value = serde_saphyr::from_str(&text).expect("the workflow is YAML");
    let jobs = doc["jobs"].as_object().expect("jobs");
    assert_eq!(jobs.len(), 1, "one job per example");
    let job = jobs.values().next().expect("a job");
    assert_eq!(
        job["defaults"]["run"]["shell"], "bash",
        "steps run in bash, as played here"
    );

    let checkout = tempfile::tempdir().expect("temp dir");
    for (rel, content) in files {
        std::fs::write(checkout.path().join(rel), content).expect("write");
    }
    let runner = tempfile::tempdir().expect("temp dir");
    let temp = runner.path().join("temp");
    let bin = runner.path().join("bin");
    std::fs::create_dir_all(&temp).expect("mkdir");
    std::fs::create_dir_all(&bin).expect("mkdir");
    // Where clawctl's container image puts them.
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_clawctl"), bin.join("clawctl")).expect("link");
    std::os::unix::fs::symlink(
        repo().join("examples/ci/clawctl-diff-summary"),
        bin.join("clawctl-diff-summary"),
    )
    .expect("link");
    let github_env = runner.path().join("github_env");
    let summary = runner.path().join("step_summary");
    std::fs::write(&github_env, "").expect("write");
    std::fs::write(&summary, "").expect("write");
    let path_var = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut ran = Vec::new();
    let mut failed = false;
    for (index, step) in job["steps"].as_array().expect("steps").iter().enumerate() {
        let name = step["name"].as_str().unwrap_or("(unnamed)").to_string();
        if step.get("uses").is_some() {
            continue;
        }
        let script = step["run"].as_str().expect("a step runs or uses");
        match step["if"].as_str() {
            None if failed => continue,
            None => {}
            Some(condition) if condition.trim() == "always()" => {}
            Some(condition) => panic!("step {name:?}: `if: {condition}` is not played here"),
        }
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        for (key, value) in job["env"]
            .as_object()
            .into_iter()
            .flatten()
            .chain(step["env"].as_object().into_iter().flatten())
        {
            let value = value.as_str().expect("env values are strings");
            env.insert(key.clone(), expression(value, secrets, &outputs));
        }
        for line in std::fs::read_to_string(&github_env)
            .expect("GITHUB_ENV")
            .lines()
        {
            let (key, value) = line.split_once('=').expect("KEY=VALUE in GITHUB_ENV");
            env.insert(key.to_string(), value.to_string());
        }
        let output_file = runner.path().join(format!("output-{index}"));
        std::fs::write(&output_file, "").expect("write");
        let script_file = temp.join(format!("step-{index}.sh"));
        std::fs::write(&script_file, script).expect("write");
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script_file)
            .current_dir(checkout.path())
            .env_clear()
            .env("PATH", &path_var)
            .env("HOME", runner.path())
            .env("RUNNER_TEMP", &temp)
            .env("GITHUB_ENV", &github_env)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .envs(&env)
            .output()
            .expect("run bash");
        let code = out.status.code().unwrap_or(-1);
        if let Some(id) = step["id"].as_str() {
            let values = std::fs::read_to_string(&output_file)
                .expect("GITHUB_OUTPUT")
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            outputs.insert(id.to_string(), values);
        }
        failed |= code != 0;
        ran.push(Ran {
            name,
            code,
            output: format!(
                "stdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        });
    }
    Run {
        steps: ran,
        outputs,
        summary: std::fs::read_to_string(&summary).expect("summary"),
        _checkout: checkout,
    }
}

/// An `env` value with its `${{ ... }}` filled in; any other expression fails the test.
fn expression(
    value: &str,
    secrets: &[(&str, &str)],
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    let Some(inner) = value
        .trim()
        .strip_prefix("${{")
        .and_then(|v| v.strip_suffix("}}"))
    else {
        assert!(!value.contains("${{"), "expression inside text: {value}");
        return value.to_string();
    };
    let inner = inner.trim();
    if let Some(name) = inner.strip_prefix("secrets.") {
        return secrets
            .iter()
            .find(|(k, _)| *k == name)
            .unwrap_or_else(|| panic!("the test gives no secret {name}"))
            .1
            .to_string();
    }
    if let Some(rest) = inner.strip_prefix("steps.") {
        let (id, key) = rest.split_once(".outputs.").expect("steps.ID.outputs.KEY");
        return outputs
            .get(id)
            .and_then(|o| o.get(key))
            .cloned()
            .unwrap_or_default();
    }
    panic!("expression not played here: {value}");
}

fn assert_codes(run: &Run, expected: &[(&str, i32)]) {
    assert_eq!(
        run.codes(),
        expected,
        "steps:\n{}",
        run.steps
            .iter()
            .map(|s| format!("== {} (exit {})\n{}", s.name, s.code, s.output))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

const PR_STEPS: [&str; 4] = [
    "Validate the fleet file",
    "Credentials that may only send dry runs",
    "Diff against the cluster",
    "Fail on what diff could not answer",
];

/// A pull request editing a soul: the check passes (exit 3 is a change, not a failure),
/// the summary names what changes, and the check wrote nothing to the cluster.
#[test]
#[ignore = "needs jq (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn the_pull_request_check_summarizes_a_change_and_writes_nothing() {
    let server = server();
    platform(&server);
    let deployed = fleet(&["alice", "bob"], "2026.4.14");
    crate::harness::fake::apply(&server, &deployed, &[]).success();
    let pr_identity = pr_check_identity(&server);
    server.clear_requests();

    let edited = deployed.replace("You are bob.", "You are bob, on call.");
    let run = run_workflow(
        "pr-check.yml",
        &[("fleet.yaml", &edited)],
        &[("CLAWCTL_DIFF_KUBECONFIG", &pr_identity)],
    );
    assert_codes(&run, &PR_STEPS.map(|s| (s, 0)));
    assert_eq!(
        run.outputs["diff"]["status"], "3",
        "diff --exit-code found changes"
    );
    assert!(
        run.summary.contains(
            "### clawctl diff: fleet.yaml\n\n2 to update; 15 unchanged.\n\n\
             | change | object | agent | fields |\n|---|---|---|---|\n\
             | update | `ConfigMap assistants/agent-bob` | bob | `data.SOUL.md` |\n\
             | update | `Deployment assistants/agent-bob` | bob | `spec.template.metadata.annotations` |"
        ),
        "{}",
        run.summary
    );
    // Every request the check sent as the pull request's identity was a read or a dry run.
    assert_eq!(writes(&server), Vec::<String>::new());
    assert!(
        server.requests().iter().any(|r| r.dry_run),
        "the diff dry-ran its changes"
    );

    // Nothing to change: the summary says so, and the check passes.
    let run = run_workflow(
        "pr-check.yml",
        &[("fleet.yaml", &deployed)],
        &[("CLAWCTL_DIFF_KUBECONFIG", &pr_identity)],
    );
    assert_codes(&run, &PR_STEPS.map(|s| (s, 0)));
    assert_eq!(run.outputs["diff"]["status"], "0");
    assert!(
        run.summary
            .contains("No changes: the cluster matches the fleet (17 objects)."),
        "{}",
        run.summary
    );
}

/// What the check must not pass: an invalid fleet stops at validate (exit 2), and an
/// agent whose objects someone else owns is summarized as a conflict and fails the job.
#[test]
#[ignore = "needs jq (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn the_pull_request_check_fails_on_an_invalid_fleet_and_on_a_conflict() {
    let server = server();
    platform(&server);
    let deployed = fleet(&["alice"], "2026.4.14");
    crate::harness::fake::apply(&server, &deployed, &[]).success();
    let pr_identity = pr_check_identity(&server);

    let invalid = deployed.replace("teams: [{name: assistants}]", "teams: [{name: Assistants}]");
    let run = run_workflow(
        "pr-check.yml",
        &[("fleet.yaml", &invalid)],
        &[("CLAWCTL_DIFF_KUBECONFIG", &pr_identity)],
    );
    assert_codes(&run, &[("Validate the fleet file", 2)]);
    assert!(
        run.step("Validate the fleet file")
            .output
            .contains("spec.teams[0].name"),
        "{}",
        run.step("Validate the fleet file").output
    );

    // Someone made a Service under the name the new agent's would have.
    server
        .apply_as(
            "kubectl-client-side-apply",
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "agent-carol", "namespace": "assistants"},
                   "spec": {"ports": [{"port": 80}]}}),
            true,
        )
        .expect("service");
    server.clear_requests();
    let with_carol = fleet(&["alice", "carol"], "2026.4.14");
    let run = run_workflow(
        "pr-check.yml",
        &[("fleet.yaml", &with_carol)],
        &[("CLAWCTL_DIFF_KUBECONFIG", &pr_identity)],
    );
    assert_codes(
        &run,
        &[
            (PR_STEPS[0], 0),
            (PR_STEPS[1], 0),
            (PR_STEPS[2], 0),
            (PR_STEPS[3], 1),
        ],
    );
    assert_eq!(run.outputs["diff"]["status"], "1");
    assert!(
        run.summary.contains("**Ownership conflicts**")
            && run.summary.contains("- `Service assistants/agent-carol`: "),
        "{}",
        run.summary
    );
    assert_eq!(writes(&server), Vec::<String>::new());
}

const APPLY_STEPS: [&str; 5] = [
    "Validate the fleet file",
    "Credentials of the fleet's deployer",
    "Roll out a new image (canary, waves, automatic rollback)",
    "Apply everything else",
    "Status",
];

fn deployment_image(server: &FakeApiServer, agent: &str) -> Value {
    server
        .get(
            "apps/v1",
            "Deployment",
            Some("assistants"),
            &format!("agent-{agent}"),
        )
        .unwrap_or_else(|| panic!("agent-{agent} deployed"))["spec"]["template"]["spec"]
        ["containers"][0]["image"]
        .clone()
}

/// The merge pipeline: a first merge creates the fleet (the rollout has nothing to move),
/// a new image moves canary first, and an image that crashes rolls back and fails the
/// job with exit 4, applying nothing else; the status step runs all the same.
#[test]
fn the_merge_pipeline_applies_rolls_out_and_fails_on_a_rolled_back_rollout() {
    let server = server();
    platform(&server);
    let deployer = server.kubeconfig();
    let secrets = [("CLAWCTL_KUBECONFIG", deployer.as_str())];

    let first = fleet(&["alice", "bob"], "2026.4.14");
    let run = run_workflow("apply.yml", &[("fleet.yaml", &first)], &secrets);
    assert_codes(&run, &APPLY_STEPS.map(|s| (s, 0)));
    assert_eq!(
        deployment_image(&server, "bob"),
        "ghcr.io/openclaw/openclaw:2026.4.14"
    );
    assert!(
        run.summary.contains("### clawctl rollout\n```json\n")
            && run.summary.contains("\"message\": \"nothing to move"),
        "{}",
        run.summary
    );

    let next = fleet(&["alice", "bob"], "2026.9.6");
    let run = run_workflow("apply.yml", &[("fleet.yaml", &next)], &secrets);
    assert_codes(&run, &APPLY_STEPS.map(|s| (s, 0)));
    for agent in ["alice", "bob"] {
        assert_eq!(
            deployment_image(&server, agent),
            "ghcr.io/openclaw/openclaw:2026.9.6"
        );
    }
    assert!(
        run.summary.contains("\"result\": \"updated\""),
        "{}",
        run.summary
    );

    server.crash_images("crashy");
    let crashing =
        fleet(&["alice", "bob"], "2026.9.6-crashy").replace("You are alice.", "You are alice, v2.");
    let run = run_workflow("apply.yml", &[("fleet.yaml", &crashing)], &secrets);
    assert_codes(
        &run,
        &[
            (APPLY_STEPS[0], 0),
            (APPLY_STEPS[1], 0),
            (APPLY_STEPS[2], 4),
            (APPLY_STEPS[4], 0),
        ],
    );
    assert!(
        run.summary.contains("\"phase\": \"rolled-back\""),
        "{}",
        run.summary
    );
    // Rolled back, and nothing else applied: the soul edit did not go out either.
    assert_eq!(
        deployment_image(&server, "alice"),
        "ghcr.io/openclaw/openclaw:2026.9.6"
    );
    let config = server
        .get("v1", "ConfigMap", Some("assistants"), "agent-alice")
        .expect("config");
    assert_eq!(config["data"]["SOUL.md"], "You are alice.");
}

/// The examples run in the image clawctl's Containerfile builds, which carries the two
/// programs their steps call (the tests above put the same two on PATH).
#[test]
fn the_workflows_run_only_what_the_image_carries() {
    let containerfile =
        std::fs::read_to_string(repo().join("Containerfile")).expect("Containerfile");
    for program in ["clawctl", "clawctl-diff-summary"] {
        assert!(
            containerfile.contains(&format!("/usr/local/bin/{program}")),
            "the image carries {program}"
        );
    }
    let mut seen = 0;
    for workflow in ["pr-check.yml", "apply.yml"] {
        let text = std::fs::read_to_string(repo().join("examples/ci/github").join(workflow))
            .expect("workflow");
        let doc: Value = serde_saphyr::from_str(&text).expect("YAML");
        for job in doc["jobs"].as_object().expect("jobs").values() {
            assert_eq!(
                job["container"]["image"], "ghcr.io/example-org/clawctl:0.1.0",
                "{workflow}"
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 2);
}
