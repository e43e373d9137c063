//! Rollouts on a cluster: canary then waves in order, a tag that does not exist failing
//! at the canary with only the canary rolled back (exit 4), `--canary` then `--promote`,
//! SIGINT then `--resume`, SIGTERM then `--abort`, a killed run's lock taken over at once
//! by the next run on the same host, a concurrent rollout refused, `apply` with a new
//! image going through the strategy, every agent's volume keeping its uid, and every
//! command run with team-scoped credentials. `rollout.rs` runs them on the fake,
//! `e2e_rollout.rs` on a cluster.
//!
//! Three agents (a canary and two waves of one) keep a small cluster within its CPU; the
//! fake runs five (waves of two, moved in parallel). The target of a healthy rollout is
//! [`Backend::next_image`]. Where the fake's request log
//! shows the order of Deployment patches, a real cluster shows when each agent's
//! Deployment got a ReplicaSet for the target (to the second; its soak keeps groups
//! further apart than that): [`Backend::after_soak`]. A failure in wave two needs fault
//! injection, which a real cluster cannot do to one agent and not the others: it is
//! `rollout.rs`'s alone.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use serde_json::{Value, json};

use crate::harness::backend::Backend;
use crate::harness::fake::{deployment_patches, writes};
use crate::harness::report::{report, results};
use crate::harness::rollout::{Running, asking, plan_rows, rollout_args};

/// The fleet's agents: three on a real cluster, five on the fake.
fn agents(b: &Backend) -> &'static [&'static str] {
    match b.fake() {
        Some(_) => &["alpha", "beta", "delta", "gamma", "omega"],
        None => &["alpha", "beta", "gamma"],
    }
}

/// The groups of [`rollout_args`]' strategy (one canary, waves 50%,100%) for [`agents`].
fn groups(b: &Backend) -> Value {
    match b.fake() {
        Some(_) => json!([["alpha"], ["beta", "delta"], ["gamma", "omega"]]),
        None => json!([["alpha"], ["beta"], ["gamma"]]),
    }
}

/// The images of [`agents`] once the canary alone moved to `next`.
fn canary_moved(b: &Backend, next: &str) -> Vec<String> {
    let mut images = vec![b.image(); agents(b).len()];
    images[0] = next.to_string();
    images
}

/// The agents deployed and ready at the first image; the fleet file's text.
fn deployed(b: &Backend) -> String {
    let text = b.fleet(agents(b), &b.image());
    b.apply(&text, &[]).success();
    text
}

/// Asserts the canary moved first and each wave only after the group before it passed
/// its gate: on the fake by the order of its requests (every agent of a wave after
/// every agent of the one before, the canary's revision recorded before wave 1's first
/// patch), on a real cluster by when each Deployment got its ReplicaSet for `target`.
fn moved_in_order(b: &Backend, target: &str) {
    let Some(fake) = b.fake() else {
        b.after_soak("alpha", "beta", target);
        b.after_soak("beta", "gamma", target);
        return;
    };
    let order = deployment_patches(fake);
    assert_eq!(order.len(), agents(b).len(), "{order:?}");
    let at = |agent: &str| {
        order
            .iter()
            .position(|a| a == agent)
            .unwrap_or_else(|| panic!("{agent} not patched: {order:?}"))
    };
    assert_eq!(order[0], "alpha", "{order:?}");
    assert!(
        at("beta").max(at("delta")) < at("gamma").min(at("omega")),
        "{order:?}"
    );
    let requests = fake.requests();
    let canary_recorded = requests
        .iter()
        .position(|r| {
            // Revisions are Secrets created by POST (everything else is applied).
            r.method == "POST" && r.path.ends_with("/secrets") && r.status == 201
        })
        .expect("a revision recorded");
    let first_wave_patch = requests
        .iter()
        .position(|r| {
            r.method == "PATCH"
                && (r.path.ends_with("/deployments/agent-beta")
                    || r.path.ends_with("/deployments/agent-delta"))
        })
        .expect("wave 1 patched");
    assert!(canary_recorded < first_wave_patch);
}

pub(crate) fn a_healthy_rollout_moves_the_canary_then_the_waves_in_order(b: &Backend) {
    let agents = agents(b);
    deployed(b);
    let claims = b.claim_uids(agents);
    let next = b.next_image();
    let target = b.fleet(agents, &next);

    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }
    let out = b
        .clawctl(&target, &rollout_args(b, &["-o", "json"]))
        .success();
    let report = report(&out.stdout);
    assert_eq!(report["phase"], "done", "{}", out.stderr);
    assert_eq!(report["target"], next.as_str());
    assert_eq!(report["groups"], groups(b), "{report}");
    // Every agent, each updated (an empty list would pass `all`).
    let updated = results(&report);
    assert_eq!(updated.len(), agents.len(), "{report}");
    assert!(updated.iter().all(|(_, r)| r == "updated"), "{report}");
    assert_eq!(b.images(agents), vec![next.clone(); agents.len()]);
    assert_eq!(b.claim_uids(agents), claims);
    assert_eq!(b.state()["phase"], "done");
    moved_in_order(b, &next);

    // The plan was shown first; --yes answered the question.
    assert!(
        out.stderr
            .contains(&format!("rollout of fleet {} to {next} on ", b.fleet)),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("needs confirmation"), "{}", out.stderr);

    // Again: nothing to move, so nothing to ask (no --yes, no terminal) and no write.
    let before = b.written(&["core"]);
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }
    let out = b.clawctl(&target, &asking(b, &[])).success();
    assert!(out.stderr.contains("nothing to move"), "{}", out.stderr);
    if let Some(fake) = b.fake() {
        assert_eq!(writes(fake), Vec::<String>::new());
    }
    assert_eq!(b.written(&["core"]), before);
}

/// A tag that does not exist fails at the canary (on the pull, not at the wave's
/// timeout); only the canary goes back, the agents after it are never touched (exit 4).
pub(crate) fn an_unpullable_tag_fails_at_the_canary_and_only_the_canary_is_rolled_back(
    b: &Backend,
) {
    let text = deployed(b);
    let claims = b.claim_uids(agents(b));
    let after_the_canary = &agents(b)[1..];
    let others = |written: BTreeMap<String, String>| {
        written
            .into_iter()
            .filter(|(k, _)| {
                after_the_canary
                    .iter()
                    .any(|a| k.contains(&format!("/agent-{a}")))
            })
            .collect::<Vec<_>>()
    };
    let untouched = others(b.written(&["core"]));
    assert!(!untouched.is_empty());
    // The fake's Deployments change resourceVersion only when someone writes them (a
    // real cluster's controllers write their status too).
    let versions = |b: &Backend| -> Vec<String> {
        after_the_canary
            .iter()
            .map(|a| {
                b.deployment(a)["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    let versions_before = versions(b);

    let started = Instant::now();
    let out = b
        .clawctl(
            &text,
            &rollout_args(b, &["--tag", &b.unpullable_tag(), "-o", "json"]),
        )
        .fails(4);
    let report = report(&out.stdout);
    assert_eq!(report["phase"], "rolled-back", "{}", out.stderr);
    let mut expected = vec![("alpha".to_string(), "rolled-back".to_string())];
    expected.extend(
        after_the_canary
            .iter()
            .map(|a| (a.to_string(), "not-started".to_string())),
    );
    assert_eq!(results(&report), expected);
    assert!(
        out.stderr.contains("ErrImagePull") || out.stderr.contains("ImagePullBackOff"),
        "{}",
        out.stderr
    );
    // Failed fast on the pull, not at the wave's timeout.
    assert!(
        started.elapsed() < Duration::from_secs(240),
        "failed only after {:?}:\n{}",
        started.elapsed(),
        out.stderr
    );
    assert_eq!(b.images(agents(b)), vec![b.image(); agents(b).len()]);
    assert_eq!(
        others(b.written(&["core"])),
        untouched,
        "agents after the canary were touched"
    );
    if b.fake().is_some() {
        assert_eq!(
            versions(b),
            versions_before,
            "agents after the canary were touched"
        );
    }
    assert_eq!(b.claim_uids(agents(b)), claims);
}

pub(crate) fn canary_then_promote(b: &Backend) {
    deployed(b);
    let claims = b.claim_uids(agents(b));
    let next = b.next_image();
    let target = b.fleet(agents(b), &next);

    let out = b
        .clawctl(&target, &rollout_args(b, &["--canary"]))
        .success();
    assert!(out.stderr.contains("canary passed"), "{}", out.stderr);
    assert_eq!(b.images(agents(b)), canary_moved(b, &next));
    assert_eq!(b.state()["phase"], "canary-passed");

    // A new rollout is refused while this one waits for --promote.
    let out = b
        .clawctl(&target, &rollout_args(b, &["--tag", &b.unpullable_tag()]))
        .fails(1);
    assert!(out.stderr.contains("--promote"), "{}", out.stderr);
    assert_eq!(b.images(agents(b)), canary_moved(b, &next));

    b.clawctl(&target, &rollout_args(b, &["--promote"]))
        .success();
    assert_eq!(b.images(agents(b)), vec![next; agents(b).len()]);
    assert_eq!(b.state()["phase"], "done");
    assert_eq!(b.claim_uids(agents(b)), claims);
}

/// A run moving one agent at a time with a long soak, waited for until the canary is
/// done: the target image, its fleet text, the volume claims' uids before, and the run.
fn interruptible(b: &Backend) -> (String, String, Vec<String>, Running) {
    deployed(b);
    let claims = b.claim_uids(agents(b));
    let next = b.next_image();
    let target = b.fleet(agents(b), &next);
    let run = Running::spawn(
        b,
        &target,
        &rollout_args(b, &["--soak", b.pace.long_soak, "--max-parallel", "1"]),
    );
    b.wait_for_done(1);
    (next, target, claims, run)
}

pub(crate) fn sigint_during_a_wave_records_state_then_resume_completes(b: &Backend) {
    let (next, target, claims, mut run) = interruptible(b);
    let (code, stderr) = run.stop("-INT");
    assert_eq!(code, 130, "{stderr}");
    assert!(
        stderr.contains("--resume") && stderr.contains("--abort"),
        "{stderr}"
    );
    let recorded = b.state();
    assert_eq!(recorded["phase"], "interrupted", "{recorded}");
    let moved = b.images(agents(b)).iter().filter(|i| **i == next).count();
    assert!(
        moved < agents(b).len(),
        "everything moved before the interrupt"
    );

    b.clawctl(&target, &rollout_args(b, &["--resume"]))
        .success();
    assert_eq!(b.images(agents(b)), vec![next; agents(b).len()]);
    assert_eq!(b.state()["phase"], "done");
    assert_eq!(b.claim_uids(agents(b)), claims);
}

pub(crate) fn sigterm_then_abort_restores_every_touched_agent(b: &Backend) {
    let (next, target, claims, mut run) = interruptible(b);
    let (code, stderr) = run.stop("-TERM");
    assert_eq!(code, 130, "{stderr}");
    assert!(b.images(agents(b)).contains(&next), "{stderr}");

    b.clawctl(&target, &rollout_args(b, &["--abort"])).success();
    assert_eq!(b.images(agents(b)), vec![b.image(); agents(b).len()]);
    assert_eq!(b.state()["phase"], "aborted");
    assert_eq!(b.claim_uids(agents(b)), claims);
}

/// Issue 11: a run killed with its lock held. Held by a run on another machine, the lock
/// is refused, naming the holder (this process cannot tell whether that one is alive);
/// held by the killed run, a process of this host that is gone, `--resume` takes it over
/// at once and says so.
pub(crate) fn a_killed_rollout_leaves_a_lock_that_the_next_run_on_this_host_takes_over(
    b: &Backend,
) {
    let (next, target, claims, mut run) = interruptible(b);
    let (code, _) = run.stop("-KILL");
    assert_ne!(code, 0);

    let holder = b.lock_holder().expect("the killed run's holder");
    assert!(holder.contains("(clawctl rollout)"), "{holder}");
    b.hold_lock("ci@another-machine pid 7 (clawctl rollout)", 1);
    let out = b.clawctl(&target, &rollout_args(b, &["--resume"])).fails(1);
    assert!(out.stderr.contains("is locked by"), "{}", out.stderr);
    b.hold_lock(&holder, 1);
    let out = b
        .clawctl(&target, &rollout_args(b, &["--resume"]))
        .success();
    assert!(
        out.stderr.contains(&format!(
            "taking over the fleet lock from {holder}: that process is no longer running"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(b.images(agents(b)), vec![next; agents(b).len()]);
    assert_eq!(b.claim_uids(agents(b)), claims);
}

pub(crate) fn a_concurrent_rollout_is_refused_by_the_lock(b: &Backend) {
    // Refused before anything moves: nothing needs to be ready.
    let text = b.fleet(agents(b), &b.image());
    b.apply(&text, &["--no-wait"]).success();
    b.hold_lock("ci@runner-9 pid 7 (clawctl rollout)", 1);
    let before = b.written(&["core"]);
    let out = b
        .clawctl(&text, &rollout_args(b, &["--tag", &b.unpullable_tag()]))
        .fails(1);
    assert!(out.stderr.contains("ci@runner-9 pid 7"), "{}", out.stderr);
    assert_eq!(b.images(agents(b)), vec![b.image(); agents(b).len()]);
    assert_eq!(b.written(&["core"]), before);
}

/// The fleet of [`agents`] with a rollout strategy in the file.
fn with_strategy(b: &Backend, image: &str) -> String {
    b.fleet(agents(b), image).replace(
        "  teams:",
        &format!(
            "  rollout: {{canary: {{count: 1}}, waves: [\"50%\", \"100%\"], soak: {}, \
             timeout: {}}}\n  teams:",
            b.pace.soak, b.pace.wave
        ),
    )
}

/// `apply` with a new image hands it to the file's rollout strategy (shown as a plan,
/// not asked again: `apply --yes` confirmed once and there is no terminal);
/// `--all-at-once` moves every agent in one apply step and leaves the rollout record as
/// it was.
pub(crate) fn apply_with_a_new_image_runs_the_rollout_strategy_unless_all_at_once(b: &Backend) {
    b.apply(&with_strategy(b, &b.image()), &[]).success();
    let claims = b.claim_uids(agents(b));
    let next = b.next_image();

    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }
    let out = b.apply(&with_strategy(b, &next), &[]).success();
    assert!(out.stderr.contains("change image"), "{}", out.stderr);
    let plan = plan_rows(&out.stderr);
    assert_eq!(
        plan.first(),
        Some(&("canary".into(), "alpha".into())),
        "{}",
        out.stderr
    );
    assert_eq!(b.images(agents(b)), vec![next.clone(); agents(b).len()]);
    let recorded = b.state();
    assert_eq!(recorded["phase"], "done", "{recorded}");
    assert_eq!(recorded["groups"][0], json!(["alpha"]), "{recorded}");
    moved_in_order(b, &next);

    // --all-at-once: one apply step, no rollout (its record stays as it was).
    let record: ConfigMap = b.get(&b.fleet_ns, &b.state_name()).expect("rollout record");
    let out = b
        .apply(&with_strategy(b, &b.image()), &["--all-at-once"])
        .success();
    assert!(!out.stderr.contains("change image"), "{}", out.stderr);
    assert_eq!(b.images(agents(b)), vec![b.image(); agents(b).len()]);
    let after: ConfigMap = b.get(&b.fleet_ns, &b.state_name()).expect("rollout record");
    assert_eq!(after.resource_version(), record.resource_version());
    assert_eq!(b.claim_uids(agents(b)), claims);
}

/// Issue 11: a person or CI job bound only to the fleet's namespaces (the `admin`
/// ClusterRole through RoleBindings in the team and fleet namespaces, no cluster-wide list
/// or watch, no Namespaces) runs status, diff, apply, rollout, history and rollback.
/// Issue 17: with nothing granted by a cluster admin for history or the lock (revisions
/// are Secrets, the lock a ConfigMap, which `admin` writes; no aggregated ClusterRole).
/// Lists and watches fall back to one per namespace; the Namespaces, which such an
/// account cannot read, are left to the admin who created them. `hostile`'s scenarios
/// have the same account make the first apply too.
pub(crate) fn team_scoped_credentials_run_every_command(b: &Backend) {
    let text = deployed(b); // the cluster admin's first apply
    let next = b.next_image();
    let team = b.team_scoped_kubeconfig(&[&b.ns("core"), &b.fleet_ns]);
    let run = |fleet_text: &str, args: &[&str]| b.clawctl_as(&team, fleet_text, args);
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }

    let out = run(&text, &["status", "fleet.yaml"]).success();
    assert!(
        out.stdout.contains("alpha") && out.stdout.contains("Ready"),
        "{}",
        out.stdout
    );
    // The Namespaces, which this account cannot read, are left alone with a warning.
    let out = run(&text, &["diff", "fleet.yaml", "--exit-code"]).success();
    assert!(
        out.stderr
            .contains("cannot read Namespace objects with these credentials"),
        "{}",
        out.stderr
    );
    let apply = ["apply", "fleet.yaml", "--yes", "--timeout", b.pace.wave];
    let out = run(&text, &apply).success();
    assert!(out.stderr.contains("nothing to change"), "{}", out.stderr);
    let changed = text.replace("You are alpha.", "You are alpha, v2.");
    run(&changed, &apply).success();
    assert_eq!(b.soul(&b.ns("core"), "alpha"), "You are alpha, v2.");

    let target = b
        .fleet(agents(b), &next)
        .replace("You are alpha.", "You are alpha, v2.");
    run(&target, &rollout_args(b, &["--soak", "1s"])).success();
    assert_eq!(b.images(agents(b)), vec![next.clone(); agents(b).len()]);
    let out = run(&target, &["history", "fleet.yaml"]).success();
    assert!(out.stdout.contains("rollout"), "{}", out.stdout);
    assert!(!out.stdout.contains("REFUSED"), "{}", out.stdout);
    // Recorded by the team account, as Secrets in the agents' namespace.
    let revisions = b.revisions(&b.ns("core"));
    assert!(
        revisions.values().any(|r| r
            .annotations()
            .get("clawctl.io/cause")
            .is_some_and(|c| c == "rollout")),
        "{:?}",
        revisions.keys()
    );
    run(
        &target,
        &[
            "rollback",
            "fleet.yaml",
            "--all",
            "--yes",
            "--timeout",
            b.pace.wave,
        ],
    )
    .success();
    assert_eq!(b.images(agents(b)), vec![b.image(); agents(b).len()]);

    // Nothing was asked of the fake outside the two namespaces but what RBAC refused (the
    // cluster-wide probes), and none of that was a write.
    if let Some(fake) = b.fake() {
        let refused: Vec<String> = fake
            .requests()
            .into_iter()
            .filter(|r| r.status == 403)
            .map(|r| format!("{} {} {}", r.verb, r.method, r.path))
            .collect();
        assert!(!refused.is_empty(), "nothing was refused");
        assert!(
            refused.iter().all(|r| r.starts_with("list ")
                || r.starts_with("watch ")
                || r.starts_with("get ")),
            "{refused:?}"
        );
    }
}
