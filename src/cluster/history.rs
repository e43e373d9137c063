//! Revision history per agent: one ControllerRevision per revision, in the agent's
//! namespace, holding its rendered manifests (gzip + base64; never its volume) and image,
//! labelled by fleet and agent, annotated with cause, health gate and a change summary,
//! and capped at a number of revisions per agent.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use anyhow::{Context, anyhow};
use base64::Engine;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Cluster, retry};
use crate::render::context::{AGENT_LABEL, FLEET_LABEL, MANAGED_BY, TEAM_LABEL};

/// Marks a ControllerRevision as clawctl history (other controllers make them too).
pub const HISTORY_LABEL: &str = "clawctl.io/history";
pub const CAUSE: &str = "clawctl.io/cause";
pub const GATE: &str = "clawctl.io/gate";
pub const IMAGE: &str = "clawctl.io/image";
pub const SUMMARY: &str = "clawctl.io/summary";
pub const DIGEST: &str = "clawctl.io/digest";

/// Revisions kept per agent unless `--history-max` says otherwise.
pub const DEFAULT_MAX: usize = 10;

/// Why a revision was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cause {
    Apply,
    Rollout,
    Rollback,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Apply => "apply",
            Cause::Rollout => "rollout",
            Cause::Rollback => "rollback",
        }
    }

    fn parse(text: &str) -> Cause {
        match text {
            "rollout" => Cause::Rollout,
            "rollback" => Cause::Rollback,
            _ => Cause::Apply,
        }
    }
}

/// How the revision fared when it went live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    /// Ready (and, in a rollout, stayed healthy through the soak).
    Passed,
    /// Failed its health gate; never a default rollback target.
    Failed,
    /// Not checked (`--no-wait`) or not finished yet.
    Unknown,
}

impl Gate {
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::Passed => "passed",
            Gate::Failed => "failed",
            Gate::Unknown => "unknown",
        }
    }

    fn parse(text: &str) -> Gate {
        match text {
            "passed" => Gate::Passed,
            "failed" => Gate::Failed,
            _ => Gate::Unknown,
        }
    }
}

/// One recorded revision of one agent.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub agent: String,
    pub team: Option<String>,
    pub namespace: String,
    /// The ControllerRevision's name.
    pub name: String,
    /// 1, 2, 3... per agent.
    pub number: i64,
    pub image: String,
    pub cause: Cause,
    pub gate: Gate,
    pub created: Option<String>,
    /// What changed since the revision before it.
    pub summary: String,
    /// A hash of the manifests: equal digests, equal configuration.
    pub digest: String,
    /// The agent's rendered objects (no PersistentVolumeClaim: rollback never touches volumes).
    #[serde(skip)]
    pub manifests: Vec<Value>,
}

/// What is recorded: the agent's objects as rendered.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub fleet: &'a str,
    pub agent: &'a str,
    pub team: Option<&'a str>,
    pub namespace: &'a str,
    pub manifests: Vec<Value>,
    pub cause: Cause,
    pub gate: Gate,
}

/// The gateway image of an agent's manifests (its Deployment's first container).
pub fn image_of(manifests: &[Value]) -> String {
    manifests
        .iter()
        .find(|m| m["kind"] == "Deployment")
        .and_then(|d| d.pointer("/spec/template/spec/containers/0/image"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A stable hash of manifests (their JSON, in order).
pub fn digest(manifests: &[Value]) -> String {
    let digest = Sha256::digest(Value::Array(manifests.to_vec()).to_string().as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

pub fn encode(manifests: &[Value]) -> anyhow::Result<String> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(Value::Array(manifests.to_vec()).to_string().as_bytes())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(gz.finish()?))
}

pub fn decode(text: &str) -> anyhow::Result<Vec<Value>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .context("revision data is not base64")?;
    let mut json = String::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_string(&mut json)
        .context("revision data is not gzip")?;
    match serde_json::from_str(&json)? {
        Value::Array(items) => Ok(items),
        _ => Err(anyhow!("revision data is not a list of objects")),
    }
}

/// "image 2026.4.14 → 2026.5.1; ConfigMap agent-alice: SOUL.md" — what differs from
/// the previous revision, for `history`.
pub fn summarize(previous: Option<&Revision>, manifests: &[Value]) -> String {
    let Some(previous) = previous else {
        return "first revision".into();
    };
    let mut parts = Vec::new();
    let (old, new) = (&previous.image, image_of(manifests));
    if *old != new {
        parts.push(format!("image {} → {}", tag(old), tag(&new)));
    }
    let key = |m: &Value| {
        format!(
            "{} {}",
            m["kind"].as_str().unwrap_or("?"),
            m["metadata"]["name"].as_str().unwrap_or("?")
        )
    };
    let before: BTreeMap<String, &Value> = previous.manifests.iter().map(|m| (key(m), m)).collect();
    let after: BTreeMap<String, &Value> = manifests.iter().map(|m| (key(m), m)).collect();
    for (name, new) in &after {
        match before.get(name) {
            None => parts.push(format!("{name} added")),
            Some(old) if old != new => {
                if new["kind"] == "ConfigMap" {
                    let keys: Vec<String> = new["data"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(k, v)| old["data"].get(k.as_str()) != Some(v))
                        .map(|(k, _)| k.clone())
                        .chain(
                            old["data"]
                                .as_object()
                                .into_iter()
                                .flatten()
                                .filter(|(k, _)| new["data"].get(k.as_str()).is_none())
                                .map(|(k, _)| format!("-{k}")),
                        )
                        .collect();
                    parts.push(format!("{name}: {}", keys.join(", ")));
                } else {
                    // The image is said above, the config hash follows the ConfigMap,
                    // and the applied-hash follows everything.
                    let strip = |v: &Value| {
                        let mut v = v.clone();
                        for path in [
                            "/spec/template/spec/containers/0/image",
                            "/spec/template/spec/initContainers/0/image",
                            "/spec/template/metadata/annotations",
                            "/metadata/annotations/clawctl.io~1applied-hash",
                        ] {
                            if let Some(field) = v.pointer_mut(path) {
                                *field = Value::Null;
                            }
                        }
                        v
                    };
                    if strip(old) != strip(new) {
                        parts.push(format!("{name} changed"));
                    }
                }
            }
            Some(_) => {}
        }
    }
    for name in before.keys().filter(|k| !after.contains_key(*k)) {
        parts.push(format!("{name} removed"));
    }
    if parts.is_empty() {
        "no change".into()
    } else {
        parts.join("; ")
    }
}

fn tag(image: &str) -> &str {
    match image.rsplit_once(':') {
        Some((_, t)) if !t.contains('/') => t,
        _ => image,
    }
}

fn from_object(cr: &ControllerRevision) -> Option<Revision> {
    let meta = &cr.metadata;
    let labels = meta.labels.as_ref()?;
    let annotations = meta.annotations.clone().unwrap_or_default();
    let note = |k: &str| annotations.get(k).cloned().unwrap_or_default();
    let manifests = cr
        .data
        .as_ref()
        .and_then(|d| d.0.get("manifests"))
        .and_then(Value::as_str)
        .and_then(|t| decode(t).ok())
        .unwrap_or_default();
    Some(Revision {
        agent: labels.get(AGENT_LABEL)?.clone(),
        team: labels.get(TEAM_LABEL).cloned(),
        namespace: meta.namespace.clone()?,
        name: meta.name.clone()?,
        number: cr.revision,
        image: note(IMAGE),
        cause: Cause::parse(&note(CAUSE)),
        gate: Gate::parse(&note(GATE)),
        created: meta.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        summary: note(SUMMARY),
        digest: note(DIGEST),
        manifests,
    })
}

fn selector(fleet: &str, agent: Option<&str>) -> String {
    let mut selector = format!("{MANAGED_BY}=clawctl,{FLEET_LABEL}={fleet},{HISTORY_LABEL}=true");
    if let Some(agent) = agent {
        selector.push_str(&format!(",{AGENT_LABEL}={agent}"));
    }
    selector
}

/// Every revision of the fleet (or of one agent), oldest first per agent: one list across
/// namespaces, or, where RBAC allows only the fleet's namespaces, one per namespace the
/// fleet's ApplySet parent in `fleet_namespace` names (known only with a fleet file, or
/// once found by name).
pub async fn list(
    cluster: &Cluster,
    fleet: &str,
    fleet_namespace: Option<&str>,
    agent: Option<&str>,
) -> anyhow::Result<Vec<Revision>> {
    let items: Vec<ControllerRevision> =
        super::scoped::list_members(cluster, &selector(fleet, agent), fleet, fleet_namespace)
            .await
            .context("cannot list the fleet's revision history (ControllerRevisions)")?;
    let mut revisions: Vec<Revision> = items.iter().filter_map(from_object).collect();
    revisions.sort_by(|a, b| (&a.agent, a.number).cmp(&(&b.agent, b.number)));
    Ok(revisions)
}

/// Records a revision as the agent's newest, unless the newest already holds exactly
/// these manifests (then that one is returned, with its gate updated when `record`
/// knows better). Keeps at most `max` revisions per agent, dropping the oldest.
pub async fn record(
    cluster: &Cluster,
    record: Record<'_>,
    existing: &[Revision],
    max: usize,
) -> anyhow::Result<Revision> {
    let mine: Vec<&Revision> = existing
        .iter()
        .filter(|r| r.agent == record.agent && r.namespace == record.namespace)
        .collect();
    let newest = mine.iter().max_by_key(|r| r.number).copied();
    let digest = digest(&record.manifests);
    if let Some(newest) = newest
        && newest.digest == digest
        && newest.cause == record.cause
    {
        if record.gate != Gate::Unknown && newest.gate != record.gate {
            return set_gate(cluster, newest, record.gate).await;
        }
        return Ok(newest.clone());
    }
    let number = newest.map(|r| r.number).unwrap_or(0) + 1;
    let name = format!(
        "{}-r{number}",
        crate::render::context::resource_name(record.agent)
    );
    let summary = summarize(newest, &record.manifests);
    let image = image_of(&record.manifests);
    let mut labels = BTreeMap::from([
        (MANAGED_BY.to_string(), "clawctl".to_string()),
        (FLEET_LABEL.to_string(), record.fleet.to_string()),
        (AGENT_LABEL.to_string(), record.agent.to_string()),
        (HISTORY_LABEL.to_string(), "true".to_string()),
    ]);
    if let Some(team) = record.team {
        labels.insert(TEAM_LABEL.to_string(), team.to_string());
    }
    let annotations = BTreeMap::from([
        (CAUSE.to_string(), record.cause.as_str().to_string()),
        (GATE.to_string(), record.gate.as_str().to_string()),
        (IMAGE.to_string(), image.clone()),
        (SUMMARY.to_string(), summary.clone()),
        (DIGEST.to_string(), digest.clone()),
    ]);
    let object = ControllerRevision {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(record.namespace.to_string()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        revision: number,
        data: Some(RawExtension(json!({
            "encoding": "gzip+base64",
            "manifests": encode(&record.manifests)?,
        }))),
    };
    let api: Api<ControllerRevision> = Api::namespaced(cluster.client.clone(), record.namespace);
    let created = api
        .create(&PostParams::default(), &object)
        .await
        .with_context(|| {
            format!(
                "cannot record revision {name} in namespace {}",
                record.namespace
            )
        })?;
    // Trim: the oldest beyond `max` go (the new one counts).
    let mut numbers: Vec<&Revision> = mine.clone();
    numbers.sort_by_key(|r| r.number);
    let excess = (numbers.len() + 1).saturating_sub(max.max(1));
    for old in numbers.into_iter().take(excess) {
        let params = DeleteParams::default();
        let _ = retry::idempotent(|| api.delete(&old.name, &params)).await;
    }
    let mut revision = from_object(&created)
        .ok_or_else(|| anyhow!("the recorded revision {name} cannot be read back"))?;
    revision.manifests = record.manifests;
    Ok(revision)
}

/// Sets a revision's health gate.
pub async fn set_gate(
    cluster: &Cluster,
    revision: &Revision,
    gate: Gate,
) -> anyhow::Result<Revision> {
    let api: Api<ControllerRevision> = Api::namespaced(cluster.client.clone(), &revision.namespace);
    let patch = json!({"metadata": {"annotations": {GATE: gate.as_str()}}});
    let params = PatchParams {
        field_manager: Some(super::objects::FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    let patch = Patch::Merge(&patch);
    retry::idempotent(|| api.patch(&revision.name, &params, &patch))
        .await
        .with_context(|| {
            format!(
                "cannot record the health gate of revision {}",
                revision.name
            )
        })?;
    Ok(Revision {
        gate,
        ..revision.clone()
    })
}

/// Seconds since the revision was recorded (for tables).
pub fn age_seconds(revision: &Revision, now: Timestamp) -> Option<i64> {
    let created: Timestamp = revision.created.as_deref()?.parse().ok()?;
    Some(now.as_second() - created.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "agent-a"},
               "spec": {"template": {"metadata": {"annotations": {"clawctl.io/config-hash": image}},
                                     "spec": {"containers": [{"name": "gateway", "image": image}]}}}})
    }

    fn config(soul: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "agent-a"},
               "data": {"SOUL.md": soul, "openclaw.json": "{}"}})
    }

    fn revision(manifests: Vec<Value>) -> Revision {
        Revision {
            agent: "a".into(),
            team: None,
            namespace: "ns".into(),
            name: "agent-a-r1".into(),
            number: 1,
            image: image_of(&manifests),
            cause: Cause::Apply,
            gate: Gate::Passed,
            created: None,
            summary: String::new(),
            digest: digest(&manifests),
            manifests,
        }
    }

    #[test]
    fn manifests_round_trip_compressed() {
        let manifests = vec![
            config(&"You are helpful. ".repeat(200)),
            deployment("img:1"),
        ];
        let text = encode(&manifests).expect("encode");
        assert_eq!(decode(&text).expect("decode"), manifests);
        assert!(
            text.len() * 4 < Value::Array(manifests).to_string().len(),
            "not compressed"
        );
        assert!(decode("not base64!").is_err());
    }

    #[test]
    fn summaries_name_the_image_and_the_files_that_changed() {
        let old = revision(vec![config("one"), deployment("ghcr.io/x/y:2026.4.14")]);
        let new = vec![config("two"), deployment("ghcr.io/x/y:2026.5.1")];
        assert_eq!(
            summarize(Some(&old), &new),
            "image 2026.4.14 → 2026.5.1; ConfigMap agent-a: SOUL.md"
        );
        assert_eq!(summarize(Some(&old), &old.manifests), "no change");
        assert_eq!(summarize(None, &new), "first revision");
        assert_eq!(image_of(&new), "ghcr.io/x/y:2026.5.1");
        assert_ne!(digest(&new), old.digest);
    }

    #[test]
    fn an_image_change_alone_is_said_once_despite_the_applied_hash() {
        // Recorded manifests are the applied ones: their applied-hash follows the image.
        let applied = |image: &str| {
            let mut d = deployment(image);
            d["metadata"]["annotations"] = json!({"clawctl.io/applied-hash": image});
            d
        };
        let old = revision(vec![config("one"), applied("x/y:1")]);
        assert_eq!(
            summarize(Some(&old), &[config("one"), applied("x/y:2")]),
            "image 1 → 2"
        );
    }
}
