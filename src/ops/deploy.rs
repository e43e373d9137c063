//! `clawctl apply` end to end: apply the plan, from which the agents whose image changes
//! were left out (`planning::Request::hold_image_changes`), then move those agents by the
//! fleet's rollout strategy (`spec.rollout`: canary, waves, gates), as `clawctl rollout
//! FLEET` would. The rollout runs only after an apply that did not fail.

use super::apply::{self, Report as Applied};
use super::planning::{self, Planned};
use super::rollout::{self, Mode, Overrides, Report as RolledOut};
use crate::interrupt::Stop;

/// The hand-over from the apply to the rollout of the agents it held back.
pub trait Handover {
    /// The rollout is planned and about to start: show its plan (apply asked already,
    /// so nothing asks again) and answer how it reports and what stops it. Called once,
    /// after the apply, and only when agents were held back; Ctrl-C is armed here, so
    /// that an interrupted apply before it ends the ordinary way.
    fn rollout(&self, plan: &rollout::Plan) -> (&dyn rollout::Reporter, Stop);
}

/// What became of an apply and the rollout after it.
#[derive(Debug)]
pub struct Deployed {
    /// The apply; `None` when the plan wrote nothing (only held-back agents moved).
    pub applied: Option<Applied>,
    /// The held-back agents' rollout; `None` when none were held back, or when the apply
    /// failed (they stay where they were).
    pub rollout: Option<RolledOut>,
}

/// Applies `planned` (made from `request`), then rolls out the agents it held back
/// (`Planned::held`). The rollout plans afresh from the cluster the apply left, with
/// the fleet's own strategy and no flag overriding it.
pub async fn deploy(
    planned: Planned,
    request: &planning::Request<'_>,
    options: &apply::Options,
    reporter: &dyn apply::Reporter,
    handover: &dyn Handover,
) -> anyhow::Result<Deployed> {
    let held = !planned.held.is_empty();
    let applied = if planned.plan.is_noop(options.prune) {
        None
    } else {
        Some(apply::apply(planned, options, reporter).await?)
    };
    if !held || applied.as_ref().is_some_and(Applied::failed) {
        return Ok(Deployed {
            applied,
            rollout: None,
        });
    }
    let planned = rollout::plan(rollout::Request {
        planning: request.clone(),
        tag: None,
        mode: Mode::Full,
        overrides: Overrides::default(),
        history_max: options.history_max,
    })
    .await?;
    let (progress, stop) = handover.rollout(&planned.plan);
    let report = rollout::execute(planned, progress, &stop).await?;
    Ok(Deployed {
        applied,
        rollout: Some(report),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Mutex;
    use std::time::Duration;

    use fake_apiserver::{FakeApiServer, Fault, FaultRule, Options as ServerOptions};
    use serde_json::json;

    use super::*;
    use crate::cluster::readiness::Rollout;
    use crate::cluster::wait::{Progress, Workload};
    use crate::ops::rollout::state::Phase;
    use crate::plan::{Action, Change, HELD};

    const OLD: &str = "ghcr.io/openclaw/openclaw:2026.4.14";
    const NEW: &str = "ghcr.io/openclaw/openclaw:2026.5.1";

    /// `agents` at `image`, with a canary and one wave.
    fn fleet(image: &str, agents: &[&str]) -> String {
        let mut text = format!(
            "apiVersion: clawctl.io/v1alpha1\nkind: Fleet\nmetadata: {{name: demo}}\nspec:\n  \
             image: {image}\n  adoptNamespaces: [core]\n  \
             rollout: {{canary: {{count: 1}}, waves: [\"100%\"], soak: 100ms, timeout: 30s}}\n  \
             defaults:\n    model: {{primary: anthropic/claude-sonnet-4-20250514}}\n    \
             secrets: [demo-gateway]\n  teams: [{{name: core}}]\n  agents:\n"
        );
        for agent in agents {
            text.push_str(&format!(
                "    - {{name: {agent}, soulInline: \"You are {agent}.\"}}\n"
            ));
        }
        text
    }

    /// A server with the namespace and gateway Secret a platform team makes first.
    fn server() -> FakeApiServer {
        let server = FakeApiServer::start_with(ServerOptions {
            rollout_delay: Some(Duration::from_millis(50)),
            ..ServerOptions::default()
        });
        for object in [
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "core"}}),
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "demo-gateway", "namespace": "core"},
                   "data": {"OPENCLAW_GATEWAY_TOKEN": "ZGVtby10b2tlbg=="}}),
        ] {
            server
                .apply_as("platform-team", object, true)
                .expect("written");
        }
        server
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

    /// What the use case told its reporters, in order.
    #[derive(Default)]
    struct Seen(Mutex<Vec<String>>);

    impl Seen {
        fn push(&self, what: String) {
            self.0.lock().expect("lock").push(what);
        }
        fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock().expect("lock"))
        }
    }

    impl Progress for Seen {
        fn changed(&self, _: &Workload, _: &Rollout) {}
    }

    impl apply::Reporter for Seen {
        fn step(&self, name: &str, _: usize) {
            self.push(format!("apply step {name}"));
        }
        fn object(&self, _: &Change, _: &apply::Outcome) {}
        fn step_done(&self, _: &str) {}
        fn waiting(&self, _: usize) {}
    }

    impl rollout::Reporter for Seen {
        fn group(&self, index: usize, _: usize, _: bool, agents: &[String]) {
            self.push(format!("rollout group {index}: {}", agents.join(",")));
        }
        fn agent(&self, _: &str, _: &str) {}
    }

    impl Handover for Seen {
        fn rollout(&self, plan: &rollout::Plan) -> (&dyn rollout::Reporter, Stop) {
            let groups: Vec<String> = plan.groups.iter().map(|g| g.join(",")).collect();
            self.push(format!(
                "rollout plan to {}: {}",
                plan.target,
                groups.join(" ")
            ));
            (self, Stop::new())
        }
    }

    fn options() -> apply::Options {
        apply::Options {
            force_conflicts: false,
            prune: false,
            concurrency: 8,
            wait: Some(Duration::from_secs(30)),
            history_max: 10,
        }
    }

    /// Plans `fleet_text` as apply does (image changes held back), then deploys it.
    async fn run(
        server: &FakeApiServer,
        dir: &Path,
        fleet_text: &str,
        seen: &Seen,
    ) -> (Vec<String>, Deployed) {
        let fleet = dir.join("fleet.yaml");
        std::fs::write(&fleet, fleet_text).expect("fleet");
        let request = planning::Request {
            fleet: &fleet,
            templates: None,
            target: crate::cluster::Target {
                kubeconfig: Some(server.write_kubeconfig(dir)),
                context: None,
            },
            delete_volumes: false,
            concurrency: 8,
            hold_image_changes: true,
        };
        let planned = match planning::plan(&request).await {
            Ok(planned) => planned,
            Err(e) => panic!("plan: {e:?}"),
        };
        let held = planned.held.clone();
        let deployed = deploy(planned, &request, &options(), seen, seen)
            .await
            .expect("deploy");
        (held, deployed)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn apply_then_the_held_back_agents_roll_out_canary_first() {
        let server = server();
        let dir = tempfile::tempdir().expect("tempdir");
        let seen = Seen::default();

        // The first apply creates everything: nothing is held, nothing rolls out.
        let (held, deployed) =
            run(&server, dir.path(), &fleet(OLD, &["alpha", "beta"]), &seen).await;
        assert!(held.is_empty());
        assert!(!deployed.applied.expect("applied").failed());
        assert!(deployed.rollout.is_none());
        assert!(seen.take().iter().all(|s| s.starts_with("apply step")));

        // A new image and a new agent: the new agent is applied, with the others' objects
        // left out; then their image moves by the strategy, canary first.
        let three = fleet(NEW, &["alpha", "beta", "gamma"]);
        let (held, deployed) = run(&server, dir.path(), &three, &seen).await;
        assert_eq!(held, ["alpha", "beta"]);
        let applied = deployed.applied.expect("applied");
        assert!(!applied.failed());
        let deployments: Vec<&(Change, apply::Outcome)> = applied
            .objects
            .iter()
            .filter(|(c, _)| c.object.kind == "Deployment" && c.agent.is_some())
            .collect();
        assert_eq!(deployments.len(), 3);
        for (change, outcome) in deployments {
            if change.agent.as_deref() == Some("gamma") {
                assert_eq!(
                    (change.action, outcome),
                    (Action::Create, &apply::Outcome::Applied)
                );
            } else {
                assert_eq!(change.action, Action::Unchanged, "{}", change.object);
                assert_eq!(change.notes, [HELD]);
                assert_eq!(*outcome, apply::Outcome::Skipped);
            }
        }
        let report = deployed.rollout.expect("a rollout");
        assert_eq!(report.phase, Phase::Done);
        assert_eq!(
            report.groups,
            [vec!["alpha".to_string()], vec!["beta".into()]]
        );
        let seen = seen.take();
        let handed = seen
            .iter()
            .position(|s| s.starts_with("rollout plan"))
            .expect("the rollout's plan was shown");
        assert!(handed > 0);
        assert!(
            seen[..handed].iter().all(|s| s.starts_with("apply step")),
            "{seen:?}"
        );
        assert_eq!(seen[handed], format!("rollout plan to {NEW}: alpha beta"));
        assert_eq!(
            seen[handed + 1..],
            ["rollout group 0: alpha", "rollout group 1: beta"]
        );
        for agent in ["alpha", "beta", "gamma"] {
            assert_eq!(image(&server, agent), NEW, "{agent}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_apply_moves_no_held_back_agent() {
        let server = server();
        let dir = tempfile::tempdir().expect("tempdir");
        let seen = Seen::default();
        run(&server, dir.path(), &fleet(OLD, &["alpha", "beta"]), &seen).await;
        seen.take();

        // The new agent's ConfigMap is refused: the apply fails, the images stay.
        server.inject(
            FaultRule::new(Fault::Status {
                code: 422,
                retry_after: None,
            })
            .method("PATCH")
            .path("configmaps/agent-gamma")
            .always(),
        );
        let three = fleet(NEW, &["alpha", "beta", "gamma"]);
        let (held, deployed) = run(&server, dir.path(), &three, &seen).await;
        assert_eq!(held, ["alpha", "beta"]);
        assert!(deployed.applied.expect("applied").failed());
        assert!(deployed.rollout.is_none());
        assert!(!seen.take().iter().any(|s| s.starts_with("rollout")));
        assert_eq!(
            (image(&server, "alpha"), image(&server, "beta")),
            (OLD.into(), OLD.into())
        );

        // Only an image change: nothing to apply, and the rollout still runs.
        server.clear_faults();
        run(
            &server,
            dir.path(),
            &fleet(OLD, &["alpha", "beta", "gamma"]),
            &seen,
        )
        .await;
        let (held, deployed) = run(&server, dir.path(), &three, &seen).await;
        assert_eq!(held, ["alpha", "beta", "gamma"]);
        assert!(deployed.applied.is_none());
        assert_eq!(deployed.rollout.expect("a rollout").phase, Phase::Done);
        assert_eq!(image(&server, "gamma"), NEW);
    }
}
