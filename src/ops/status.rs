//! `status`: one row per agent (team, image tag, ready, phase, restarts, volume, age),
//! from the fleet's labels alone or compared with a fleet file.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::planning;
use crate::cluster::readiness::{self, Rollout};
use crate::cluster::suspend::SuspendedBy;
use crate::cluster::{Cluster, Target, scoped};
use crate::names::{AGENT_LABEL, AGENTS_ANNOTATION, HOSTED_AGENT_LABEL, TEAM_LABEL, resource_name};
use crate::plan::Action;

/// An agent's state in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Phase {
    /// Rolled out, ready, matching the fleet file (when one was given).
    Ready,
    /// Rolling out: the controller has not caught up yet.
    Progressing,
    /// A pod fails (image pull, crash loop, bad config) or the rollout missed its deadline.
    Degraded,
    /// In the fleet file, but not on the cluster.
    Missing,
    /// On the cluster, but not as the fleet file says (edited, not applied yet, or removed
    /// from the file).
    Drifted,
    /// Scaled to zero by the fleet file's `suspended: true` or `clawctl suspend`: no pod,
    /// its volume and Service kept.
    Suspended,
    /// Asleep: the router scaled it to zero after `idleAfter` without a message, and
    /// wakes it at the next one (volume and Service kept).
    Idle,
}

/// One row of `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentStatus {
    pub agent: String,
    pub team: String,
    pub namespace: String,
    /// The gateway image's tag (or digest).
    pub image: String,
    /// Ready replicas / desired replicas.
    pub ready: String,
    pub phase: Phase,
    pub restarts: i32,
    /// Bound, Pending, Lost or Missing: the state volume's phase, or the first of a
    /// multi-agent gateway's workspace volumes that is not Bound (`Pending (work)`).
    pub volume: String,
    /// A multi-agent gateway's agents, the default first (empty for one agent).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<String>,
    /// Seconds since the Deployment was created.
    pub age_seconds: Option<i64>,
    /// Why the phase is not Ready, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the router put it to sleep (RFC 3339), for an `Idle` agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_since: Option<String>,
}

/// The whole fleet.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetStatus {
    pub fleet: String,
    pub agents: Vec<AgentStatus>,
    /// clawctl-router (`spec.routing.router`), when the fleet runs one or the file asks
    /// for one.
    pub router: Option<RouterStatus>,
}

/// The router's line: its Deployment, read like an agent's.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouterStatus {
    pub name: String,
    pub namespace: String,
    /// The router image's tag (or digest).
    pub image: String,
    pub ready: String,
    /// Ready, Progressing, Degraded, Missing or Drifted.
    pub phase: Phase,
    pub restarts: i32,
    pub reason: Option<String>,
}

/// What the fleet file expects of the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedRouter {
    pub name: String,
    pub namespace: String,
    /// A planned create or update of one of the router's objects, if any.
    pub drift: Option<String>,
}

impl FleetStatus {
    /// "3 agents: 2 Ready, 1 Degraded".
    pub fn summary(&self) -> String {
        let mut counts: BTreeMap<Phase, usize> = BTreeMap::new();
        for agent in &self.agents {
            *counts.entry(agent.phase).or_default() += 1;
        }
        let parts: Vec<String> = counts.iter().map(|(p, n)| format!("{n} {p:?}")).collect();
        format!(
            "fleet {}: {} agents{}{}",
            self.fleet,
            self.agents.len(),
            if parts.is_empty() { "" } else { ": " },
            parts.join(", ")
        )
    }
}

/// What the fleet file expects of one agent (when a file was given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub agent: String,
    pub team: String,
    pub namespace: String,
    /// A planned create or update of one of its objects, if any: the agent is not as the
    /// file says.
    pub drift: Option<String>,
    /// A multi-agent gateway's agents, the default first.
    pub agents: Vec<String>,
}

/// The live objects status is computed from.
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub deployments: Vec<Deployment>,
    pub pods: Vec<Pod>,
    pub claims: Vec<PersistentVolumeClaim>,
}

fn label<'a>(
    meta: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    key: &str,
) -> Option<&'a str> {
    meta.labels.as_ref()?.get(key).map(String::as_str)
}

fn tag(image: &str) -> String {
    if let Some((_, digest)) = image.split_once('@') {
        return digest.chars().take(19).collect();
    }
    match image.rsplit_once(':') {
        Some((_, tag)) if !tag.contains('/') => tag.to_string(),
        _ => "latest".to_string(),
    }
}

/// Computes every agent's row. Pure: the same objects give the same table.
pub fn compute(
    fleet: &str,
    live: &Live,
    expected: Option<&[Expected]>,
    now: Timestamp,
) -> FleetStatus {
    // (namespace, agent) -> row inputs
    let mut agents: BTreeSet<(String, String)> = BTreeSet::new();
    let key = |meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        Some((
            meta.namespace.clone()?,
            label(meta, AGENT_LABEL)?.to_string(),
        ))
    };
    agents.extend(live.deployments.iter().filter_map(|d| key(&d.metadata)));
    if let Some(expected) = expected {
        agents.extend(
            expected
                .iter()
                .map(|e| (e.namespace.clone(), e.agent.clone())),
        );
    }
    let rows = agents
        .into_iter()
        .map(|(namespace, agent)| {
            let mine = |meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
                key(meta).as_ref() == Some(&(namespace.clone(), agent.clone()))
            };
            let deployment = live.deployments.iter().find(|d| mine(&d.metadata));
            let pods: Vec<&Pod> = live
                .pods
                .iter()
                .filter(|p| mine(&p.metadata) && p.metadata.deletion_timestamp.is_none())
                .collect();
            let claims: Vec<&PersistentVolumeClaim> =
                live.claims.iter().filter(|c| mine(&c.metadata)).collect();
            let wanted = expected.and_then(|e| {
                e.iter()
                    .find(|e| e.agent == agent && e.namespace == namespace)
            });
            let team = wanted
                .map(|w| w.team.clone())
                .or_else(|| {
                    deployment
                        .and_then(|d| label(&d.metadata, TEAM_LABEL))
                        .map(str::to_string)
                })
                .unwrap_or_default();
            let image = deployment
                .and_then(|d| d.spec.as_ref()?.template.spec.as_ref()?.containers.first())
                .and_then(|c| c.image.as_deref())
                .map(tag)
                .unwrap_or_default();
            let ready = deployment
                .map(|d| {
                    let status = d.status.as_ref();
                    format!(
                        "{}/{}",
                        status.and_then(|s| s.ready_replicas).unwrap_or(0),
                        d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
                    )
                })
                .unwrap_or_else(|| "-".into());
            let pod_failure = pods.iter().find_map(|p| readiness::pod_failure(p));
            let stopping = match pods.len() {
                0 => String::new(),
                n => format!("; stopping ({n} pod{} left)", if n == 1 { "" } else { "s" }),
            };
            let idle_since = deployment.and_then(crate::cluster::idle::idle_since);
            let (phase, reason) = match (deployment, expected.is_some(), wanted) {
                (None, _, _) => (
                    Phase::Missing,
                    Some("no Deployment on the cluster".to_string()),
                ),
                (Some(_), true, None) => (
                    Phase::Drifted,
                    Some("not in the fleet file (apply --prune removes it)".into()),
                ),
                (Some(_), _, wanted) if idle_since.is_some() => {
                    let why = idle(idle_since.flatten(), now);
                    let drift = match wanted.and_then(|w| w.drift.as_deref()) {
                        Some(drift) => format!(" ({drift})"),
                        None => String::new(),
                    };
                    (Phase::Idle, Some(format!("{why}{drift}{stopping}")))
                }
                (Some(d), _, wanted) if suspended(d, wanted).is_some() => {
                    let why = suspended(d, wanted).unwrap_or_default();
                    (Phase::Suspended, Some(format!("{why}{stopping}")))
                }
                (Some(d), _, wanted) => match (readiness::deployment(d), pod_failure) {
                    (Rollout::Failed(why), _) => (Phase::Degraded, Some(why)),
                    (Rollout::Waiting(_), Some(why)) => (Phase::Degraded, Some(why)),
                    (Rollout::Waiting(why), None) => (Phase::Progressing, Some(why)),
                    (Rollout::Done, _) => match wanted.and_then(|w| w.drift.clone()) {
                        Some(drift) => (Phase::Drifted, Some(drift)),
                        None => (Phase::Ready, None),
                    },
                },
            };
            let volume = volume(&agent, &claims);
            let age_seconds = deployment
                .and_then(|d| d.metadata.creation_timestamp.as_ref())
                .map(|t| now.as_second() - t.0.as_second());
            AgentStatus {
                agent,
                team,
                namespace,
                image,
                ready,
                phase,
                restarts: pods.iter().map(|p| readiness::restarts(p)).sum(),
                volume,
                agents: hosted_agents(deployment, wanted),
                age_seconds,
                reason,
                idle_since: idle_since.flatten().map(|t| t.to_string()),
            }
        })
        .collect();
    FleetStatus {
        fleet: fleet.to_string(),
        agents: rows,
        router: None,
    }
}

/// Whether `meta` is one of clawctl-router's objects (or pods).
fn is_router(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> bool {
    label(meta, "app.kubernetes.io/name") == Some(crate::names::ROUTER_APP)
        && label(meta, AGENT_LABEL).is_none()
}

/// The router's line, from its live Deployment and pods and what the file expects
/// (`None`: no file). Without a router on either side, none. Pure.
pub fn router(live: &Live, expected: Option<Option<&ExpectedRouter>>) -> Option<RouterStatus> {
    let deployment = live.deployments.iter().find(|d| {
        is_router(&d.metadata)
            && expected.flatten().is_none_or(|e| {
                d.metadata.namespace.as_deref() == Some(e.namespace.as_str())
                    && d.metadata.name.as_deref() == Some(e.name.as_str())
            })
    });
    let wanted = expected.flatten();
    let (name, namespace) = match (deployment, wanted) {
        (_, Some(w)) => (w.name.clone(), w.namespace.clone()),
        (Some(d), None) => (
            d.metadata.name.clone().unwrap_or_default(),
            d.metadata.namespace.clone().unwrap_or_default(),
        ),
        (None, None) => return None,
    };
    let pods: Vec<&Pod> = live
        .pods
        .iter()
        .filter(|p| {
            is_router(&p.metadata)
                && p.metadata.namespace.as_deref() == Some(namespace.as_str())
                && p.metadata.deletion_timestamp.is_none()
        })
        .collect();
    let image = deployment
        .and_then(|d| d.spec.as_ref()?.template.spec.as_ref()?.containers.first())
        .and_then(|c| c.image.as_deref())
        .map(tag)
        .unwrap_or_default();
    let ready = deployment.map_or_else(
        || "-".to_string(),
        |d| {
            format!(
                "{}/{}",
                d.status
                    .as_ref()
                    .and_then(|s| s.ready_replicas)
                    .unwrap_or(0),
                d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
            )
        },
    );
    let pod_failure = pods.iter().find_map(|p| readiness::pod_failure(p));
    let (phase, reason) = match (deployment, expected) {
        (None, _) => (
            Phase::Missing,
            Some("no Deployment on the cluster".to_string()),
        ),
        (Some(_), Some(None)) => (
            Phase::Drifted,
            Some("the fleet file has no router (apply --prune removes it)".to_string()),
        ),
        (Some(d), _) => match (readiness::deployment(d), pod_failure) {
            (Rollout::Failed(why), _) | (Rollout::Waiting(_), Some(why)) => {
                (Phase::Degraded, Some(why))
            }
            (Rollout::Waiting(why), None) => (Phase::Progressing, Some(why)),
            (Rollout::Done, _) => match wanted.and_then(|w| w.drift.clone()) {
                Some(drift) => (Phase::Drifted, Some(drift)),
                None => (Phase::Ready, None),
            },
        },
    };
    Some(RouterStatus {
        name,
        namespace,
        image,
        ready,
        phase,
        restarts: pods.iter().map(|p| readiness::restarts(p)).sum(),
        reason,
    })
}

/// The state volume's phase, unless a workspace volume of a multi-agent gateway is not
/// Bound: then that one's, naming its agent.
fn volume(agent: &str, claims: &[&PersistentVolumeClaim]) -> String {
    let state_name = resource_name(agent);
    let state = claims
        .iter()
        .find(|c| c.metadata.name.as_deref() == Some(state_name.as_str()));
    let phase = readiness::volume(state.copied());
    if phase != "Bound" {
        return phase.to_string();
    }
    claims
        .iter()
        .filter_map(|c| Some((label(&c.metadata, HOSTED_AGENT_LABEL)?, c)))
        .find(|(_, c)| readiness::volume(Some(c)) != "Bound")
        .map_or_else(
            || phase.to_string(),
            |(id, c)| format!("{} ({id})", readiness::volume(Some(c))),
        )
}

/// A multi-agent gateway's agents: from its Deployment's annotation, else the file.
fn hosted_agents(deployment: Option<&Deployment>, wanted: Option<&Expected>) -> Vec<String> {
    let annotated = deployment
        .and_then(|d| d.metadata.annotations.as_ref()?.get(AGENTS_ANNOTATION))
        .map(|list| list.split(',').map(str::to_string).collect());
    annotated
        .or_else(|| wanted.map(|w| w.agents.clone()))
        .unwrap_or_default()
}

/// What an idle agent's row says: since when (when the router's mark reads as a time)
/// and what wakes it.
fn idle(since: Option<Timestamp>, now: Timestamp) -> String {
    let wakes = "the router wakes it at its next message";
    match since {
        Some(t) => {
            let minutes = (now.as_second() - t.as_second()).max(0) / 60;
            let ago = match minutes {
                0 => "less than a minute ago".to_string(),
                m if m < 120 => format!("{m}m ago"),
                m => format!("{}h{}m ago", m / 60, m % 60),
            };
            format!("idle since {t} ({ago}): {wakes}")
        }
        None => format!("idle: {wakes}"),
    }
}

/// Why a Deployment is suspended, if it is. Zero replicas not asked for by the fleet file
/// (which then plans to change them: drift) are not a suspension but a drift.
fn suspended(d: &Deployment, wanted: Option<&Expected>) -> Option<String> {
    let drift = wanted.and_then(|w| w.drift.as_deref());
    match crate::cluster::suspend::suspended(d)? {
        SuspendedBy::Command => Some(match drift {
            Some(drift) => format!("suspended by `clawctl suspend` ({drift})"),
            None => "suspended by `clawctl suspend`".into(),
        }),
        SuspendedBy::Fleet if drift.is_none() => Some("suspended by the fleet file".into()),
        SuspendedBy::Replicas if drift.is_none() => Some(match wanted {
            Some(_) => "suspended by the fleet file".into(),
            None => "scaled to 0 replicas".into(),
        }),
        SuspendedBy::Fleet | SuspendedBy::Replicas => None,
    }
}

/// Where status gets its fleet: a file (rendered and compared) or a name (labels only).
pub enum Source<'a> {
    File(planning::Request<'a>),
    Name { name: String, target: Target },
}

/// What status needs between refreshes.
pub struct Prepared {
    pub cluster: Cluster,
    pub fleet: String,
    pub selector: String,
    pub expected: Option<Vec<Expected>>,
    /// With a fleet file: the router it asks for, if any.
    pub expected_router: Option<Option<ExpectedRouter>>,
    /// Where to look when RBAC forbids looking everywhere at once (a fleet file's
    /// namespaces; none for a fleet known by name).
    pub namespaces: Vec<String>,
    /// The fleet's ApplySet id, when known: only its members are the fleet's (another
    /// fleet of the same name, elsewhere, labels its objects alike).
    pub applyset_id: Option<String>,
}

/// Connects and, with a fleet file, plans, to know which agents should exist and which
/// drifted.
pub async fn prepare(source: Source<'_>) -> anyhow::Result<Prepared> {
    match source {
        Source::Name { name, target } => {
            let cluster = Cluster::connect(&target).await?;
            // Where the parent cannot be found (or looked for), labels alone decide.
            let applyset_id = crate::cluster::applyset::find_namespace(&cluster, &name)
                .await
                .ok()
                .flatten()
                .map(|ns| crate::cluster::applyset::id(&name, &ns));
            Ok(Prepared {
                cluster,
                selector: planning::selector(&name),
                fleet: name,
                expected: None,
                expected_router: None,
                namespaces: Vec::new(),
                applyset_id,
            })
        }
        Source::File(request) => {
            let mut planned = planning::plan(&request).await?;
            // The file's agents and those made on request (self-service claims).
            let resolved = std::mem::replace(&mut planned.resolved, empty_fleet());
            let expected: Vec<Expected> = resolved
                .agents
                .iter()
                .map(|a| {
                    let drift = planned
                        .plan
                        .changes
                        .iter()
                        .find(|c| {
                            c.agent.as_deref() == Some(a.name.as_str())
                                && matches!(c.action, Action::Create | Action::Update)
                        })
                        .map(|c| format!("{} differs from the fleet file", c.object));
                    let namespace = resolved
                        .teams
                        .iter()
                        .find(|t| t.name == a.team)
                        .map(|t| t.namespace.clone())
                        .unwrap_or_default();
                    Expected {
                        agent: a.name.clone(),
                        team: a.team.clone(),
                        namespace,
                        drift,
                        agents: a.hosted.iter().map(|h| h.name.clone()).collect(),
                    }
                })
                .collect();
            let mut namespaces: Vec<String> =
                expected.iter().map(|e| e.namespace.clone()).collect();
            namespaces.push(planned.fleet_namespace.clone());
            let expected_router = resolved.router_namespace().map(|ns| {
                let name = crate::names::router(&resolved.name);
                let drift = planned
                    .plan
                    .changes
                    .iter()
                    .find(|c| {
                        c.agent.is_none()
                            && c.object.namespace.as_deref() == Some(ns)
                            && matches!(c.action, Action::Create | Action::Update)
                    })
                    .map(|c| format!("{} differs from the fleet file", c.object));
                namespaces.push(ns.to_string());
                ExpectedRouter {
                    name,
                    namespace: ns.to_string(),
                    drift,
                }
            });
            Ok(Prepared {
                applyset_id: Some(crate::cluster::applyset::id(
                    &planned.fleet,
                    &planned.fleet_namespace,
                )),
                cluster: planned.cluster,
                fleet: planned.fleet,
                selector: planned.selector,
                expected: Some(expected),
                expected_router: Some(expected_router),
                namespaces,
            })
        }
    }
}

/// A stand-in left where the planned fleet was taken out.
fn empty_fleet() -> crate::fleet::ResolvedFleet {
    crate::fleet::ResolvedFleet {
        name: String::new(),
        namespace: String::new(),
        image: String::new(),
        openclaw_version: None,
        policy: Default::default(),
        rollout: Default::default(),
        routing: Default::default(),
        templates: None,
        teams: Vec::new(),
        agents: Vec::new(),
        adopt_namespaces: Vec::new(),
        warnings: Vec::new(),
        self_service: None,
    }
}

/// One snapshot: three lists (Deployments, Pods, PersistentVolumeClaims) by label,
/// across namespaces where allowed, else in each of the fleet's.
pub async fn status(prepared: &Prepared) -> anyhow::Result<FleetStatus> {
    let (cluster, selector, namespaces) = (
        &prepared.cluster,
        prepared.selector.as_str(),
        prepared.namespaces.as_slice(),
    );
    let mut live = Live {
        deployments: scoped::list(cluster, selector, namespaces).await?,
        pods: scoped::list(cluster, selector, namespaces).await?,
        claims: scoped::list(cluster, selector, namespaces).await?,
    };
    if let Some(id) = &prepared.applyset_id {
        let fleet = prepared.fleet.as_str();
        live.deployments
            .retain(|d| crate::ownership::is_ours(d.metadata.labels.as_ref(), fleet, id));
        live.claims
            .retain(|c| crate::ownership::is_ours(c.metadata.labels.as_ref(), fleet, id));
        // Pods carry their template's labels, not the ApplySet's: they count where a
        // Deployment of the fleet does.
        let places: Vec<(Option<&str>, Option<&str>)> = live
            .deployments
            .iter()
            .map(|d| {
                (
                    d.metadata.namespace.as_deref(),
                    label(&d.metadata, AGENT_LABEL),
                )
            })
            .collect();
        live.pods.retain(|p| {
            places.contains(&(
                p.metadata.namespace.as_deref(),
                label(&p.metadata, AGENT_LABEL),
            ))
        });
    }
    let mut status = compute(
        &prepared.fleet,
        &live,
        prepared.expected.as_deref(),
        Timestamp::now(),
    );
    status.router = router(&live, prepared.expected_router.as_ref().map(Option::as_ref));
    Ok(status)
}

/// Calls `show` with a fresh snapshot whenever a Deployment, Pod or claim of the fleet
/// changes (watches, not polling), until `show` returns false or the watches end.
pub async fn watch(
    prepared: &Prepared,
    mut show: impl FnMut(&FleetStatus) -> bool,
) -> anyhow::Result<()> {
    let (cluster, selector, namespaces) = (
        &prepared.cluster,
        prepared.selector.as_str(),
        prepared.namespaces.as_slice(),
    );
    let deployments = scoped::watch::<Deployment>(cluster, selector, namespaces)
        .await?
        .map(|_| ());
    let pods = scoped::watch::<Pod>(cluster, selector, namespaces)
        .await?
        .map(|_| ());
    let claims = scoped::watch::<PersistentVolumeClaim>(cluster, selector, namespaces)
        .await?
        .map(|_| ());
    let mut changes = futures::stream::select(futures::stream::select(deployments, pods), claims);
    let mut last: Option<FleetStatus> = None;
    while changes.next().await.is_some() {
        // Let a burst of events settle into one refresh.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let snapshot = status(prepared).await?;
        if last
            .as_ref()
            .is_some_and(|l| l.agents == snapshot.agents && l.router == snapshot.router)
        {
            continue;
        }
        if !show(&snapshot) {
            return Ok(());
        }
        last = Some(snapshot);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
        let docs = crate::yaml::parse_documents(yaml).expect("yaml");
        serde_json::from_value(docs.into_iter().next().expect("one document")).expect("typed")
    }

    fn deployment(agent: &str, ready: i32, image: &str) -> Deployment {
        parse(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: agent-{agent}, namespace: core, generation: 1,\n  \
             creationTimestamp: '2026-11-21T00:00:00Z', labels: {{clawctl.io/agent: {agent}, clawctl.io/team: core}}}}\n\
             spec:\n  replicas: 1\n  selector: {{matchLabels: {{a: b}}}}\n  template:\n    metadata: {{labels: {{a: b}}}}\n    \
             spec: {{containers: [{{name: gateway, image: '{image}'}}]}}\n\
             status: {{observedGeneration: 1, replicas: 1, updatedReplicas: {ready}, readyReplicas: {ready}, availableReplicas: {ready}}}\n"
        ))
    }

    fn pod(agent: &str, waiting: Option<&str>, restarts: i32) -> Pod {
        let state = match waiting {
            Some(reason) => format!("{{waiting: {{reason: {reason}}}}}"),
            None => "{running: {}}".into(),
        };
        parse(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p-{agent}, namespace: core, labels: {{clawctl.io/agent: {agent}}}}}\n\
             status: {{containerStatuses: [{{name: gateway, image: x, imageID: '', ready: false, restartCount: {restarts}, state: {state}}}]}}\n"
        ))
    }

    fn claim(agent: &str, phase: &str) -> PersistentVolumeClaim {
        parse(&format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: agent-{agent}, namespace: core, labels: {{clawctl.io/agent: {agent}}}}}\n\
             status: {{phase: {phase}}}\n"
        ))
    }

    #[test]
    fn phases_from_labels_alone() {
        let live = Live {
            deployments: vec![
                deployment("alpha", 1, "ghcr.io/openclaw/openclaw:2026.4.14"),
                deployment("beta", 0, "ghcr.io/openclaw/openclaw:2026.5.1"),
                deployment("gamma", 0, "ghcr.io/openclaw/openclaw:bad"),
            ],
            pods: vec![
                pod("alpha", None, 0),
                pod("beta", None, 1),
                pod("gamma", Some("CrashLoopBackOff"), 4),
            ],
            claims: vec![claim("alpha", "Bound"), claim("beta", "Pending")],
        };
        let now = Timestamp::from_second(Timestamp::now().as_second()).expect("now");
        let status = compute("demo", &live, None, now);
        let rows: Vec<(&str, Phase, &str, &str, i32, &str)> = status
            .agents
            .iter()
            .map(|a| {
                (
                    a.agent.as_str(),
                    a.phase,
                    a.image.as_str(),
                    a.ready.as_str(),
                    a.restarts,
                    a.volume.as_str(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("alpha", Phase::Ready, "2026.4.14", "1/1", 0, "Bound"),
                ("beta", Phase::Progressing, "2026.5.1", "0/1", 1, "Pending"),
                ("gamma", Phase::Degraded, "bad", "0/1", 4, "Missing"),
            ]
        );
        assert!(
            status.agents[2]
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("CrashLoopBackOff"))
        );
        assert_eq!(
            status.summary(),
            "fleet demo: 3 agents: 1 Ready, 1 Progressing, 1 Degraded"
        );
    }

    #[test]
    fn a_multi_agent_gateway_is_one_row_with_its_agents_and_their_volumes() {
        let mut gateway = deployment("home", 1, "img:1");
        gateway.metadata.annotations = Some(
            [(AGENTS_ANNOTATION.to_string(), "work,personal".to_string())]
                .into_iter()
                .collect(),
        );
        let workspace = |id: &str, phase: &str| -> PersistentVolumeClaim {
            parse(&format!(
                "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: agent-home-{id}, namespace: core, \
                 labels: {{clawctl.io/agent: home, clawctl.io/hosted-agent: {id}}}}}\nstatus: {{phase: {phase}}}\n"
            ))
        };
        let mut live = Live {
            deployments: vec![gateway],
            pods: vec![pod("home", None, 0)],
            // A workspace claim listed first must not stand in for the state volume.
            claims: vec![
                workspace("personal", "Bound"),
                claim("home", "Bound"),
                workspace("work", "Bound"),
            ],
        };
        let status = compute("demo", &live, None, Timestamp::now());
        assert_eq!(status.agents.len(), 1);
        assert_eq!(status.agents[0].agents, ["work", "personal"]);
        assert_eq!(status.agents[0].volume, "Bound");
        let table = crate::output::status::table(&status);
        assert!(table.contains("work, personal"), "{table}");

        live.claims[2] = workspace("work", "Pending");
        let status = compute("demo", &live, None, Timestamp::now());
        assert_eq!(status.agents[0].volume, "Pending (work)");
        live.claims.remove(1);
        let status = compute("demo", &live, None, Timestamp::now());
        assert_eq!(status.agents[0].volume, "Missing");
    }

    #[test]
    fn a_fleet_file_adds_missing_and_drifted() {
        let live = Live {
            deployments: vec![
                deployment("alpha", 1, "img:1"),
                deployment("old", 1, "img:1"),
            ],
            ..Live::default()
        };
        let expected = [
            Expected {
                agent: "alpha".into(),
                team: "core".into(),
                namespace: "core".into(),
                drift: Some("ConfigMap core/agent-alpha differs".into()),
                agents: Vec::new(),
            },
            Expected {
                agent: "new".into(),
                team: "core".into(),
                namespace: "core".into(),
                drift: None,
                agents: Vec::new(),
            },
        ];
        let status = compute("demo", &live, Some(&expected), Timestamp::now());
        let phases: Vec<(&str, Phase)> = status
            .agents
            .iter()
            .map(|a| (a.agent.as_str(), a.phase))
            .collect();
        assert_eq!(
            phases,
            [
                ("alpha", Phase::Drifted),
                ("new", Phase::Missing),
                ("old", Phase::Drifted)
            ]
        );
    }

    #[test]
    fn image_tags() {
        assert_eq!(tag("ghcr.io/openclaw/openclaw:2026.4.14"), "2026.4.14");
        assert_eq!(tag("localhost:5000/openclaw"), "latest");
        assert_eq!(
            tag("img@sha256:0123456789abcdef0123"),
            "sha256:0123456789ab"
        );
    }
}
