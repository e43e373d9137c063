//! Rollouts as scenarios drive them: the command line, the record clawctl keeps in the
//! fleet namespace, a run in the background to interrupt, the target image, and when
//! each agent's Deployment moved.

use std::fs::File;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::ResourceExt;
use kube::runtime::wait::await_condition;
use serde_json::Value;

use crate::harness::Test;
use crate::harness::backend::Backend;

const NEXT_VAR: &str = "CLAWCTL_E2E_IMAGE_NEXT";

/// `rollout fleet.yaml --yes` with one canary, waves 50%,100%, the backend's wave
/// timeout and soak (unless `extra` names one), and `extra`.
pub(crate) fn rollout_args<'a>(b: &Backend, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "rollout",
        "fleet.yaml",
        "--yes",
        "--canary-count",
        "1",
        "--waves",
        "50%,100%",
        "--timeout",
        b.pace.wave,
    ];
    if !extra.contains(&"--soak") {
        args.extend(["--soak", b.pace.soak]);
    }
    args.extend_from_slice(extra);
    args
}

/// The (group, agent) rows of a rollout plan's table (`canary`, `wave 1`, ...).
pub(crate) fn plan_rows(text: &str) -> Vec<(String, String)> {
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

/// [`rollout_args`] without `--yes`.
pub(crate) fn asking<'a>(b: &Backend, extra: &[&'a str]) -> Vec<&'a str> {
    rollout_args(b, extra)
        .into_iter()
        .filter(|a| *a != "--yes")
        .collect()
}

fn state_of(cm: Option<&ConfigMap>) -> Value {
    cm.and_then(|cm| cm.data.as_ref()?.get("state.json"))
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null)
}

impl Backend {
    /// The rollout record's ConfigMap in the fleet namespace.
    pub(crate) fn state_name(&self) -> String {
        format!("clawctl-rollout-{}", self.fleet)
    }

    /// The rollout record (`state.json`), or null.
    pub(crate) fn state(&self) -> Value {
        state_of(
            self.get::<ConfigMap>(&self.fleet_ns, &self.state_name())
                .as_ref(),
        )
    }

    /// Watches the rollout record until at least `done` agents are done.
    pub(crate) fn wait_for_done(&self, done: usize) {
        let api = self.api::<ConfigMap>(&self.fleet_ns);
        let name = self.state_name();
        let reached = move |cm: Option<&ConfigMap>| {
            state_of(cm)["done"].as_array().map_or(0, Vec::len) >= done
        };
        // Inside the runtime: the timer needs its reactor.
        let waited = self.block_on(async {
            tokio::time::timeout(self.pace.progress, await_condition(api, &name, reached)).await
        });
        match waited {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("watching the rollout record: {e}"),
            Err(_) => panic!("the rollout made no progress: {}", self.state()),
        }
    }

    /// The target of a healthy rollout: on a real cluster `CLAWCTL_E2E_IMAGE_NEXT`, or
    /// the first image pinned by the digest alpha's pod runs (call once alpha is ready):
    /// another reference to the same bytes, so every agent moves and restarts without a
    /// second release to pull. The fake's pods report a digest just the same.
    pub(crate) fn next_image(&self) -> String {
        if self.fake().is_none()
            && let Some(next) = std::env::var(NEXT_VAR).ok().filter(|v| !v.is_empty())
        {
            return next;
        }
        let pods = self.list::<Pod>(&self.ns("core"), "clawctl.io/agent=alpha");
        let image_id = pods
            .iter()
            .filter_map(|p| p.status.as_ref()?.container_statuses.as_ref())
            .flatten()
            .map(|s| s.image_id.clone())
            .find(|id| !id.is_empty())
            .unwrap_or_default();
        match pinned(&self.image(), &image_id) {
            Some(next) if next != self.image() => next,
            _ => panic!(
                "cannot pin {} by the digest its pod runs (imageID {image_id:?}): set {NEXT_VAR} \
                 to a second release of the image",
                self.image()
            ),
        }
    }

    /// When `agent`'s Deployment (team "core") first ran `target`: the creation of its
    /// ReplicaSet for it.
    pub(crate) fn moved_at(&self, agent: &str, target: &str) -> Timestamp {
        let deployment = format!("agent-{agent}");
        self.list::<ReplicaSet>(&self.ns("core"), "")
            .iter()
            .filter(|rs| rs.owner_references().iter().any(|o| o.name == deployment))
            .filter(|rs| {
                rs.spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref()?.spec.as_ref())
                    .is_some_and(|s| {
                        s.containers
                            .iter()
                            .any(|c| c.image.as_deref() == Some(target))
                    })
            })
            .filter_map(|rs| rs.metadata.creation_timestamp.as_ref().map(|t| t.0))
            .min()
            .unwrap_or_else(|| panic!("{deployment} has no ReplicaSet for {target}"))
    }

    /// Asserts that `later` moved after `earlier` had passed its gate, the soak of
    /// [`rollout_args`] included (timestamps are whole seconds).
    pub(crate) fn after_soak(&self, earlier: &str, later: &str, target: &str) {
        let soak_secs = self.pace.soak_secs;
        let gap = self
            .moved_at(later, target)
            .duration_since(self.moved_at(earlier, target));
        assert!(
            gap >= SignedDuration::from_secs(soak_secs - 1),
            "{later} moved {gap:?} after {earlier}, within {earlier}'s soak of {soak_secs}s"
        );
    }
}

/// `image` pinned by the digest in a pod's `imageID` (`repo@sha256:...`, or
/// `docker-pullable://repo@sha256:...`): the same bytes under another reference.
pub(crate) fn pinned(image: &str, image_id: &str) -> Option<String> {
    let (_, digest) = image_id.rsplit_once('@')?;
    let hex = digest.strip_prefix("sha256:")?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let name = image.split('@').next().unwrap_or(image);
    let repository = match name.rsplit_once(':') {
        // A colon after the last slash starts a tag; before it, a registry port.
        Some((repository, tag)) if !tag.contains('/') => repository,
        _ => name,
    };
    Some(format!("{repository}@{digest}"))
}

/// A clawctl run in the background, killed if the test ends before it does.
pub(crate) struct Running {
    child: Child,
    test: Test,
}

impl Running {
    pub(crate) fn spawn(b: &Backend, fleet_text: &str, args: &[&str]) -> Running {
        let test = Test::new().file("fleet.yaml", fleet_text);
        // A file, not a pipe: a pipe nobody reads while the run goes on could fill up.
        let stderr = File::create(test.path().join("stderr")).expect("stderr file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_clawctl"));
        command
            .args(args)
            .current_dir(test.path())
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env("KUBECONFIG", &b.kubeconfig)
            .stdout(Stdio::null())
            .stderr(stderr);
        // As Backend::clawctl: exec credential plugins read their files under HOME.
        if b.fake().is_none()
            && let Some(home) = std::env::var_os("HOME")
        {
            command.env("HOME", home);
        }
        let child = command.spawn().expect("spawn clawctl");
        Running { child, test }
    }

    /// Sends `signal` (as `kill` spells it: -INT, -TERM, -KILL); the exit code and stderr.
    pub(crate) fn stop(&mut self, signal: &str) -> (i32, String) {
        let sent = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill {signal} failed");
        // Interrupted, clawctl finishes the agents in flight (each under its timeout).
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(360),
                "clawctl did not stop after {signal}"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let stderr = std::fs::read_to_string(self.test.path().join("stderr")).unwrap_or_default();
        (status.code().unwrap_or(-1), stderr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
