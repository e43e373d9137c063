//! Revision history per agent: one Secret per revision in the agent's own namespace
//! (type `clawctl.io/revision.v1`), holding its rendered manifests (gzip; never its
//! volume) and image, labelled by fleet and agent, annotated with cause, health gate and
//! a change summary, and capped at a number of revisions per agent.
//!
//! Why Secrets, as Helm keeps its releases: the built-in `admin` role of a namespace
//! writes Secrets but only reads ControllerRevisions, so a team bound to its own
//! namespaces records history without any role widened cluster-wide; and `view` (the
//! viewers of a team) cannot read Secrets, while revisions hold the agent's env.
//!
//! History is read only from the namespaces the caller names (the fleet's own, never a
//! cluster-wide list), and every revision is checked before anyone may apply it: it
//! must hold only that agent's own objects ([`check`]). Revisions recorded as
//! ControllerRevisions by clawctl before 0.2 are still read, under the same rules.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use anyhow::{Context, anyhow};
use base64::Engine;
use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::errors::{self, Request};
use super::{Cluster, retry};
pub use crate::names::HISTORY_LABEL;
use crate::names::{AGENT_LABEL, FLEET_LABEL, MANAGED_BY, TEAM_LABEL};

/// The Secret type of a revision.
pub const SECRET_TYPE: &str = "clawctl.io/revision.v1";
/// Label holding a revision's number (so one agent's revisions sort without reading them).
pub const NUMBER: &str = "clawctl.io/revision";
pub const CAUSE: &str = "clawctl.io/cause";
pub const GATE: &str = "clawctl.io/gate";
pub const IMAGE: &str = "clawctl.io/image";
pub const SUMMARY: &str = "clawctl.io/summary";
pub const DIGEST: &str = "clawctl.io/digest";
/// HMAC-SHA256 of a revision's place and manifests under the fleet's history key.
pub const SEAL: &str = "clawctl.io/seal";
/// The key's data key in its Secret.
const KEY: &str = "key";

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
    /// Why clawctl will never apply this revision ([`check`]); `None` when it may.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// What kind of object holds it.
    #[serde(skip)]
    pub stored: Stored,
    /// Its seal matched the fleet's history key: clawctl recorded exactly this. Pre-0.2
    /// ControllerRevisions have none; they are never a default rollback target.
    pub sealed: bool,
}

/// The object a revision is kept in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stored {
    #[default]
    Secret,
    /// Recorded by clawctl before 0.2; read, gated and trimmed, never written anew.
    ControllerRevision,
}

/// What is recorded: the agent's objects as rendered.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub fleet: &'a str,
    /// Where the fleet's history key lives.
    pub fleet_namespace: &'a str,
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

/// The manifests as stored in a revision Secret: their JSON list, gzipped.
pub fn compress(manifests: &[Value]) -> anyhow::Result<Vec<u8>> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(Value::Array(manifests.to_vec()).to_string().as_bytes())?;
    Ok(gz.finish()?)
}

/// Reads [`compress`]ed manifests back, at most 8 MiB of JSON (a revision Secret is at
/// most 1 MiB; a gzip bomb planted as one must not exhaust memory).
pub fn decompress(bytes: &[u8]) -> anyhow::Result<Vec<Value>> {
    const MAX: u64 = 8 << 20;
    let mut json = String::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX + 1)
        .read_to_string(&mut json)
        .context("revision data is not gzip")?;
    if json.len() as u64 > MAX {
        anyhow::bail!("revision data is larger than 8 MiB unpacked");
    }
    match serde_json::from_str(&json)? {
        Value::Array(items) => Ok(items),
        _ => Err(anyhow!("revision data is not a list of objects")),
    }
}

/// The base64 text of [`compress`] (the data of a pre-0.2 ControllerRevision).
pub fn encode(manifests: &[Value]) -> anyhow::Result<String> {
    Ok(base64::engine::general_purpose::STANDARD.encode(compress(manifests)?))
}

pub fn decode(text: &str) -> anyhow::Result<Vec<Value>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .context("revision data is not base64")?;
    decompress(&bytes)
}

/// The seal of a revision: HMAC-SHA256, under the fleet's history key, of where it is
/// (namespace, agent, number) and of its manifests. A revision is a Secret in a team
/// namespace, which that namespace's editors may write; the key is a Secret in the fleet
/// namespace, which they cannot read, so they cannot make a revision that clawctl will
/// apply, nor move one from one agent or number to another.
pub fn seal(key: &[u8], namespace: &str, agent: &str, number: i64, manifests: &[Value]) -> String {
    use hmac::Mac;
    mac(key, namespace, agent, number, manifests)
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The HMAC of a revision's place and manifests, before it is finished.
fn mac(
    key: &[u8],
    namespace: &str,
    agent: &str,
    number: i64,
    manifests: &[Value],
) -> hmac::Hmac<Sha256> {
    use hmac::Mac;
    let mut mac =
        <hmac::Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    for part in [namespace, agent, &number.to_string()] {
        mac.update(part.as_bytes());
        mac.update(&[0]);
    }
    mac.update(Value::Array(manifests.to_vec()).to_string().as_bytes());
    mac
}

/// Whether `seal_text` is the revision's seal under `key` (compared in constant time).
fn seal_matches(key: &[u8], revision: &Revision, seal_text: &str) -> bool {
    use hmac::Mac;
    let Some(bytes) = (0..seal_text.len())
        .step_by(2)
        .map(|i| {
            seal_text
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    mac(
        key,
        &revision.namespace,
        &revision.agent,
        revision.number,
        &revision.manifests,
    )
    .verify_slice(&bytes)
    .is_ok()
}

/// The fleet's history key: a Secret `clawctl-<fleet>-history-key` in the fleet
/// namespace holding 32 random bytes, made by the first revision recorded (`create`).
/// `None`: there is none (yet), or these credentials may not read it.
pub async fn key(
    cluster: &Cluster,
    fleet: &str,
    fleet_namespace: &str,
    create: bool,
) -> anyhow::Result<Option<Vec<u8>>> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), fleet_namespace);
    let name = crate::names::history_key(fleet);
    let read = |secret: Option<Secret>| {
        secret
            .and_then(|s| s.data)
            .and_then(|mut d| d.remove(KEY))
            .map(|b| b.0)
            .filter(|k| k.len() >= 32)
    };
    match retry::idempotent(|| api.get_opt(&name)).await {
        Ok(found) => {
            if let Some(key) = read(found) {
                return Ok(Some(key));
            }
        }
        Err(kube::Error::Api(status)) if status.code == 403 && !create => return Ok(None),
        Err(err) => {
            return Err(anyhow!(errors::describe(
                &err,
                &Request {
                    verb: "get",
                    resource: "secrets",
                    namespace: Some(fleet_namespace),
                    name: Some(&name),
                }
            )));
        }
    }
    if !create {
        return Ok(None);
    }
    let mut bytes = vec![0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow!("no random source: {e}"))?;
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(fleet_namespace.to_string()),
            // The fleet's label only: not one of its rendered objects, never pruned.
            labels: Some(BTreeMap::from([(
                FLEET_LABEL.to_string(),
                fleet.to_string(),
            )])),
            ..ObjectMeta::default()
        },
        type_: Some("clawctl.io/history-key.v1".to_string()),
        immutable: Some(true),
        data: Some(BTreeMap::from([(
            KEY.to_string(),
            ByteString(bytes.clone()),
        )])),
        ..Secret::default()
    };
    match api.create(&PostParams::default(), &secret).await {
        Ok(_) => Ok(Some(bytes)),
        // Another run made it first: use theirs.
        Err(kube::Error::Api(status)) if status.code == 409 => {
            let found = retry::idempotent(|| api.get_opt(&name))
                .await
                .map_err(|e| {
                    anyhow!("cannot read the history key {fleet_namespace}/{name}: {e}")
                })?;
            read(found)
                .map(Some)
                .ok_or_else(|| anyhow!("the history key {fleet_namespace}/{name} holds no key"))
        }
        Err(err) => Err(anyhow!(errors::describe(
            &err,
            &Request {
                verb: "create",
                resource: "secrets",
                namespace: Some(fleet_namespace),
                name: Some(&name),
            }
        ))),
    }
}

/// Why a revision of `fleet` must not be applied, if it must not: it may hold only its
/// agent's own objects (kind and name from `names::agent_objects`, a kind clawctl
/// manages, namespaced in the revision's own namespace, labelled with that fleet and
/// agent). Anyone who can write a Secret in a namespace can plant a "revision" there;
/// this is what keeps one from carrying, say, a RoleBinding in kube-system to
/// cluster-admin into a rollback run with the operator's credentials.
pub fn check(revision: &Revision, fleet: &str) -> Option<String> {
    if revision.manifests.is_empty() {
        return Some("it holds no objects (or its data cannot be read)".into());
    }
    let allowed = crate::names::agent_objects(&revision.agent);
    for manifest in &revision.manifests {
        let text = |path: &str| manifest.pointer(path).and_then(Value::as_str);
        let (Some(api_version), Some(kind), Some(name)) =
            (text("/apiVersion"), text("/kind"), text("/metadata/name"))
        else {
            return Some("it holds an object without apiVersion, kind or name".into());
        };
        let namespace = text("/metadata/namespace").unwrap_or("");
        let what = if namespace.is_empty() {
            format!("{kind} {name}")
        } else {
            format!("{kind} {namespace}/{name}")
        };
        let known = super::kinds::find(api_version, kind).is_some_and(|k| k.namespaced);
        let own = allowed.iter().any(|(k, n)| *k == kind && n == name);
        if !known || !own || namespace != revision.namespace {
            return Some(format!(
                "it holds {what}, which is not one of agent {:?}'s objects in namespace {:?}",
                revision.agent, revision.namespace
            ));
        }
        let label = |key: &str| text(&format!("/metadata/labels/{}", key.replace('/', "~1")));
        if label(FLEET_LABEL) != Some(fleet) || label(AGENT_LABEL) != Some(&revision.agent) {
            return Some(format!(
                "its {what} is not labelled as agent {:?} of fleet {fleet:?}",
                revision.agent
            ));
        }
    }
    None
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

fn from_meta(
    meta: &ObjectMeta,
    number: i64,
    manifests: Vec<Value>,
    stored: Stored,
) -> Option<Revision> {
    let labels = meta.labels.as_ref()?;
    let annotations = meta.annotations.clone().unwrap_or_default();
    let note = |k: &str| annotations.get(k).cloned().unwrap_or_default();
    Some(Revision {
        agent: labels.get(AGENT_LABEL)?.clone(),
        team: labels.get(TEAM_LABEL).cloned(),
        namespace: meta.namespace.clone()?,
        name: meta.name.clone()?,
        number,
        image: note(IMAGE),
        cause: Cause::parse(&note(CAUSE)),
        gate: Gate::parse(&note(GATE)),
        created: meta.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        summary: note(SUMMARY),
        digest: note(DIGEST),
        manifests,
        refused: None,
        stored,
        sealed: false,
    })
}

fn from_secret(secret: &Secret) -> Option<Revision> {
    if secret.type_.as_deref() != Some(SECRET_TYPE) {
        return None;
    }
    let number = secret.metadata.labels.as_ref()?.get(NUMBER)?.parse().ok()?;
    let manifests = secret
        .data
        .as_ref()
        .and_then(|d| d.get("manifests"))
        .and_then(|b| decompress(&b.0).ok())
        .unwrap_or_default();
    from_meta(&secret.metadata, number, manifests, Stored::Secret)
}

fn from_controller_revision(cr: &ControllerRevision) -> Option<Revision> {
    let manifests = cr
        .data
        .as_ref()
        .and_then(|d| d.0.get("manifests"))
        .and_then(Value::as_str)
        .and_then(|t| decode(t).ok())
        .unwrap_or_default();
    from_meta(
        &cr.metadata,
        cr.revision,
        manifests,
        Stored::ControllerRevision,
    )
}

fn selector(fleet: &str, agent: Option<&str>) -> String {
    let mut selector = format!("{MANAGED_BY}=clawctl,{FLEET_LABEL}={fleet},{HISTORY_LABEL}=true");
    if let Some(agent) = agent {
        selector.push_str(&format!(",{AGENT_LABEL}={agent}"));
    }
    selector
}

/// Every revision of the fleet (or of one agent) in `namespaces` (the fleet's own: never
/// a list across the cluster, where anyone's objects can carry any label), oldest first
/// per agent, each checked ([`check`]: `refused` says why one must not be applied).
pub async fn list(
    cluster: &Cluster,
    fleet: &str,
    fleet_namespace: &str,
    namespaces: &[String],
    agent: Option<&str>,
) -> anyhow::Result<Vec<Revision>> {
    let key = key(cluster, fleet, fleet_namespace, false).await?;
    let params = ListParams::default().labels(&selector(fleet, agent));
    let mut namespaces = namespaces.to_vec();
    namespaces.sort();
    namespaces.dedup();
    let mut revisions: Vec<(Revision, Option<String>)> = Vec::new();
    for namespace in &namespaces {
        let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
        match retry::idempotent(|| secrets.list(&params)).await {
            Ok(list) => revisions.extend(list.items.iter().filter_map(|s| {
                let seal = s.metadata.annotations.as_ref()?.get(SEAL).cloned();
                Some((from_secret(s)?, seal))
            })),
            // A namespace that does not exist (yet) holds no history.
            Err(kube::Error::Api(status)) if status.code == 404 => continue,
            Err(err) => {
                return Err(anyhow!(errors::describe(
                    &err,
                    &Request {
                        verb: "list",
                        resource: "secrets",
                        namespace: Some(namespace),
                        name: None,
                    }
                )))
                .context("cannot read the fleet's revision history");
            }
        }
        // History recorded before 0.2; credentials that cannot read it have none to use.
        let legacy: Api<ControllerRevision> = Api::namespaced(cluster.client.clone(), namespace);
        if let Ok(list) = retry::idempotent(|| legacy.list(&params)).await {
            revisions.extend(
                list.items
                    .iter()
                    .filter_map(from_controller_revision)
                    .map(|r| (r, None)),
            );
        }
    }
    for (revision, seal_text) in &mut revisions {
        revision.refused = check(revision, fleet);
        if revision.stored == Stored::Secret && revision.refused.is_none() {
            match (&key, seal_text.as_deref()) {
                (Some(key), Some(text)) if seal_matches(key, revision, text) => {
                    revision.sealed = true;
                }
                (None, _) => {
                    revision.refused = Some(format!(
                        "its seal cannot be checked: the fleet's history key \
                         ({fleet_namespace}/{}) is missing or unreadable with these credentials",
                        crate::names::history_key(fleet)
                    ));
                }
                _ => {
                    revision.refused = Some(
                        "its seal does not match: clawctl did not record it for this fleet, or it \
                         was changed since"
                            .into(),
                    );
                }
            }
        }
    }
    let mut revisions: Vec<Revision> = revisions.into_iter().map(|(r, _)| r).collect();
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
    let all: Vec<&Revision> = existing
        .iter()
        .filter(|r| r.agent == record.agent && r.namespace == record.namespace)
        .collect();
    // Only revisions clawctl may apply count as history: a planted one neither becomes
    // "the newest" nor pushes real ones out of the cap. Numbers go past every one, so the
    // new name is free.
    let mine: Vec<&Revision> = all
        .iter()
        .copied()
        .filter(|r| r.refused.is_none())
        .collect();
    let newest = mine.iter().max_by_key(|r| r.number).copied();
    let digest = digest(&record.manifests);
    if let Some(newest) = newest
        && newest.digest == digest
        && newest.cause == record.cause
        && newest.sealed
    {
        if record.gate != Gate::Unknown && newest.gate != record.gate {
            return set_gate(cluster, newest, record.gate).await;
        }
        return Ok(newest.clone());
    }
    let key = key(cluster, record.fleet, record.fleet_namespace, true)
        .await?
        .ok_or_else(|| anyhow!("the fleet's history key could not be made"))?;
    let mut number = all.iter().map(|r| r.number).max().unwrap_or(0) + 1;
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
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), record.namespace);
    // A name taken (by a planted Secret, or a racing run) moves the number on, a few times.
    let mut attempts = 0;
    let created = loop {
        let name = crate::names::revision(record.fleet, record.agent, number);
        let mut labels = labels.clone();
        labels.insert(NUMBER.to_string(), number.to_string());
        let mut annotations = annotations.clone();
        annotations.insert(
            SEAL.to_string(),
            seal(
                &key,
                record.namespace,
                record.agent,
                number,
                &record.manifests,
            ),
        );
        let object = Secret {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(record.namespace.to_string()),
                labels: Some(labels),
                annotations: Some(annotations),
                ..ObjectMeta::default()
            },
            type_: Some(SECRET_TYPE.to_string()),
            // A revision never changes once written; only its gate annotation does.
            immutable: Some(true),
            data: Some(BTreeMap::from([(
                "manifests".to_string(),
                ByteString(compress(&record.manifests)?),
            )])),
            ..Secret::default()
        };
        match api.create(&PostParams::default(), &object).await {
            Ok(created) => break created,
            Err(kube::Error::Api(status)) if status.code == 409 && attempts < 3 => {
                attempts += 1;
                number += 1;
            }
            Err(err) => {
                return Err(anyhow!(errors::describe(
                    &err,
                    &Request {
                        verb: "create",
                        resource: "secrets",
                        namespace: Some(record.namespace),
                        name: Some(&name),
                    }
                ))
                .context(format!(
                    "cannot record revision {number} of agent {:?}",
                    record.agent
                )));
            }
        }
    };
    let name = crate::names::revision(record.fleet, record.agent, number);
    // Trim: the oldest beyond `max` go (the new one counts).
    let mut numbers: Vec<&Revision> = mine.clone();
    numbers.sort_by_key(|r| r.number);
    let excess = (numbers.len() + 1).saturating_sub(max.max(1));
    for old in numbers.into_iter().take(excess) {
        let params = DeleteParams::default();
        // A revision that cannot be deleted (a pre-0.2 one, with credentials that only
        // read ControllerRevisions) stays; the cap is kept on the next try.
        let _ = match old.stored {
            Stored::Secret => retry::idempotent(|| api.delete(&old.name, &params))
                .await
                .map(|_| ()),
            Stored::ControllerRevision => {
                let legacy: Api<ControllerRevision> =
                    Api::namespaced(cluster.client.clone(), &old.namespace);
                retry::idempotent(|| legacy.delete(&old.name, &params))
                    .await
                    .map(|_| ())
            }
        };
    }
    let mut revision = from_meta(&created.metadata, number, Vec::new(), Stored::Secret)
        .ok_or_else(|| anyhow!("the recorded revision {name} cannot be read back"))?;
    revision.manifests = record.manifests;
    revision.sealed = true;
    Ok(revision)
}

/// Sets a revision's health gate.
pub async fn set_gate(
    cluster: &Cluster,
    revision: &Revision,
    gate: Gate,
) -> anyhow::Result<Revision> {
    let patch = json!({"metadata": {"annotations": {GATE: gate.as_str()}}});
    let params = PatchParams {
        field_manager: Some(super::objects::FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    let patch = Patch::Merge(&patch);
    let done = match revision.stored {
        Stored::Secret => {
            let api: Api<Secret> = Api::namespaced(cluster.client.clone(), &revision.namespace);
            retry::idempotent(|| api.patch(&revision.name, &params, &patch))
                .await
                .map(|_| ())
        }
        Stored::ControllerRevision => {
            let api: Api<ControllerRevision> =
                Api::namespaced(cluster.client.clone(), &revision.namespace);
            retry::idempotent(|| api.patch(&revision.name, &params, &patch))
                .await
                .map(|_| ())
        }
    };
    done.map_err(|err| {
        anyhow!(errors::describe(
            &err,
            &Request {
                verb: "patch",
                resource: "secrets",
                namespace: Some(&revision.namespace),
                name: Some(&revision.name),
            }
        ))
        .context(format!(
            "cannot record the health gate of revision {} of agent {:?}",
            revision.number, revision.agent
        ))
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
            refused: None,
            stored: Stored::Secret,
            sealed: true,
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

    fn own(kind: &str, api_version: &str, name: &str, namespace: &str) -> Value {
        json!({"apiVersion": api_version, "kind": kind,
               "metadata": {"name": name, "namespace": namespace,
                            "labels": {FLEET_LABEL: "acme", AGENT_LABEL: "a"}}})
    }

    #[test]
    fn a_revision_may_hold_only_its_agents_own_objects() {
        let mut r = revision(vec![
            own("ConfigMap", "v1", "agent-a", "ns"),
            own("Deployment", "apps/v1", "agent-a", "ns"),
            own("Secret", "v1", "agent-a-gateway-token", "ns"),
        ]);
        assert_eq!(check(&r, "acme"), None);
        // The forged revision of issue 17: cluster-admin for whoever the binding names.
        r.manifests.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "agent-a", "labels": {FLEET_LABEL: "acme", AGENT_LABEL: "a"}},
            "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}}));
        assert_eq!(
            check(&r, "acme").as_deref(),
            Some(
                "it holds ClusterRoleBinding agent-a, which is not one of agent \"a\"'s objects in namespace \"ns\""
            )
        );
        r.manifests.pop();
        for (bad, why) in [
            (
                own(
                    "RoleBinding",
                    "rbac.authorization.k8s.io/v1",
                    "agent-a",
                    "kube-system",
                ),
                "RoleBinding kube-system/agent-a",
            ),
            (
                own("ConfigMap", "v1", "agent-b", "ns"),
                "ConfigMap ns/agent-b",
            ),
            (
                own("Secret", "v1", "agent-b-gateway-token", "ns"),
                "Secret ns/agent-b-gateway-token",
            ),
            (own("Pod", "v1", "agent-a", "ns"), "Pod ns/agent-a"),
        ] {
            let mut forged = r.clone();
            forged.manifests.push(bad);
            let refused = check(&forged, "acme").expect("refused");
            assert!(refused.contains(why), "{refused}");
        }
        // Right names, but labelled for another fleet.
        assert!(
            check(&r, "other")
                .expect("refused")
                .contains("not labelled as agent")
        );
        assert!(check(&revision(Vec::new()), "acme").is_some());
    }

    #[test]
    fn gzip_bombs_are_refused() {
        let big = vec![json!({"pad": "x".repeat(9 << 20)})];
        let packed = compress(&big).expect("compress");
        assert!(packed.len() < 1 << 20, "{}", packed.len());
        let err = decompress(&packed).expect_err("too big");
        assert!(err.to_string().contains("8 MiB"), "{err}");
    }

    #[test]
    fn a_seal_binds_the_manifests_to_their_place() {
        let key = [7u8; 32];
        let r = revision(vec![own("ConfigMap", "v1", "agent-a", "ns")]);
        let text = seal(&key, &r.namespace, &r.agent, r.number, &r.manifests);
        assert!(seal_matches(&key, &r, &text));
        // Another key, another number, other content: no match.
        assert!(!seal_matches(&[8u8; 32], &r, &text));
        let moved = Revision {
            number: 2,
            ..r.clone()
        };
        assert!(!seal_matches(&key, &moved, &text));
        let mut changed = r.clone();
        changed.manifests[0]["data"] = json!({"SOUL.md": "obey"});
        assert!(!seal_matches(&key, &changed, &text));
        assert!(!seal_matches(&key, &r, "not hex"));
    }
}
