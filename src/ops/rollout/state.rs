//! The rollout's record in the cluster: a ConfigMap in the fleet namespace, written
//! only while holding the fleet Lease, so an interrupted or killed rollout can be
//! resumed or aborted by the next run without anyone editing anything by hand.

use std::collections::BTreeMap;

use anyhow::Context;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams};
use serde::{Deserialize, Serialize};

use crate::cluster::{Cluster, objects, retry};

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Moving agents (a process is working on it, or was killed while it did).
    Running,
    /// `--canary` finished: the canaries passed; `--promote` continues.
    CanaryPassed,
    /// Stopped by Ctrl-C or SIGTERM; `--resume` or `--abort`.
    Interrupted,
    /// A gate failed and every touched agent went back.
    RolledBack,
    /// A gate failed; without automatic rollback (or with a failed one) agents stay as
    /// they are; `--abort` rolls back.
    Failed,
    /// Every agent moved and passed.
    Done,
    /// `--abort` rolled everything back.
    Aborted,
}

impl Phase {
    /// Whether a new rollout may start over this one.
    pub fn finished(self) -> bool {
        matches!(self, Phase::RolledBack | Phase::Done | Phase::Aborted)
    }

    /// The name the record and the JSON report use.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Running => "running",
            Phase::CanaryPassed => "canary-passed",
            Phase::Interrupted => "interrupted",
            Phase::RolledBack => "rolled-back",
            Phase::Failed => "failed",
            Phase::Done => "done",
            Phase::Aborted => "aborted",
        }
    }
}

/// The record.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// The image every agent moves to.
    pub target: String,
    pub phase: Phase,
    /// Canary first (when `canary`), then the waves.
    pub groups: Vec<Vec<String>>,
    /// Whether the first group is the canary.
    #[serde(default)]
    pub canary: bool,
    /// The group being worked on (index into `groups`).
    pub group: usize,
    /// Agents updated and passed.
    pub done: Vec<String>,
    /// Agents this rollout changed (done or not): what `--abort` and a failed gate roll back.
    pub touched: Vec<String>,
    /// Each touched agent's revision before the rollout (ControllerRevision name).
    pub previous: BTreeMap<String, String>,
    /// Agents the rollout skipped because they were suspended (`rollout::SUSPENDED`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspended: Vec<String>,
    /// Idle agents left out of the groups, whose templates move once every gate passed
    /// (`rollout::idle`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub idle: Vec<String>,
    /// Why it stopped, when it did.
    #[serde(default)]
    pub reason: Option<String>,
    /// Who wrote it last (the Lease holder identity).
    #[serde(default)]
    pub holder: String,
}

pub fn name(fleet: &str) -> String {
    format!("clawctl-rollout-{fleet}")
}

const KEY: &str = "state.json";

/// Reads the record, if there is one.
pub async fn load(
    cluster: &Cluster,
    namespace: &str,
    fleet: &str,
) -> anyhow::Result<Option<State>> {
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), namespace);
    let name = name(fleet);
    let found = retry::idempotent(|| api.get_opt(&name))
        .await
        .with_context(|| format!("cannot read the rollout record {namespace}/{name}"))?;
    let Some(text) = found.and_then(|cm| cm.data?.remove(KEY)) else {
        return Ok(None);
    };
    let state = serde_json::from_str(&text).with_context(|| {
        format!(
            "the rollout record {namespace}/{name} is not readable; `rollout --abort` starts over"
        )
    })?;
    Ok(Some(state))
}

/// Writes the record (server-side apply, field manager clawctl).
pub async fn save(
    cluster: &Cluster,
    namespace: &str,
    fleet: &str,
    state: &State,
) -> anyhow::Result<()> {
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), namespace);
    let name = name(fleet);
    let object = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(namespace.to_string()),
            // Not labelled with the fleet's inventory labels: prune must not delete it.
            labels: Some(BTreeMap::from([(
                "clawctl.io/rollout-of".to_string(),
                fleet.to_string(),
            )])),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(
            KEY.to_string(),
            serde_json::to_string_pretty(state)?,
        )])),
        ..ConfigMap::default()
    };
    let mut params = PatchParams::apply(objects::FIELD_MANAGER);
    params.force = true;
    let patch = Patch::Apply(&object);
    retry::idempotent(|| api.patch(&name, &params, &patch))
        .await
        .with_context(|| format!("cannot write the rollout record {namespace}/{name}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_round_trips_and_names_its_phase_in_kebab_case() {
        let state = State {
            target: "img:2".into(),
            phase: Phase::CanaryPassed,
            groups: vec![vec!["a".into()], vec!["b".into(), "c".into()]],
            canary: true,
            group: 1,
            done: vec!["a".into()],
            touched: vec!["a".into()],
            previous: BTreeMap::from([("a".into(), "agent-a-r1".into())]),
            suspended: vec!["d".into()],
            idle: Vec::new(),
            reason: None,
            holder: "me".into(),
        };
        let text = serde_json::to_string(&state).expect("json");
        assert!(text.contains("\"phase\":\"canary-passed\""), "{text}");
        assert_eq!(serde_json::from_str::<State>(&text).expect("back"), state);
        assert!(
            !Phase::Running.finished() && !Phase::Interrupted.finished() && Phase::Done.finished()
        );
        for phase in [
            Phase::Running,
            Phase::CanaryPassed,
            Phase::Interrupted,
            Phase::RolledBack,
            Phase::Failed,
            Phase::Done,
            Phase::Aborted,
        ] {
            assert_eq!(
                serde_json::to_value(phase).expect("json"),
                phase.as_str(),
                "{phase:?}"
            );
        }
    }
}
