//! Making one agent on request (`/setup-agent`), as `clawctl apply` would make it: the
//! router calls this with its own credentials, which reach only what
//! `render::self_service` grants.
//!
//! The fleet comes from the bundle apply stored in the router's namespace, never from
//! anything the person says; the claims from that namespace alone. Under the fleet lock
//! (so no apply, rollout or other request runs meanwhile): choose a free name, render
//! the fleet with the new claim, refuse unless the ApplySet parent already covers what
//! the agent needs (the router never writes the parent: "run clawctl apply"), refuse any
//! object of that name that is not the fleet's, write the claim, server-side apply the
//! agent's objects exactly as apply prepares them (field manager `clawctl`, the ApplySet
//! label), generate its token as apply does, and wait (bounded) until it is ready.
//!
//! A failure after the claim is written leaves the claim: the next `clawctl apply`
//! finishes that agent (or, with the claim deleted, `apply --prune` removes it).

use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use super::Bundle;
use crate::cluster::{self, Cluster, applyset, lease, objects, tokens, wait};
use crate::fleet::self_service::{Admission, Claim, Identity, admission, candidates, claim_name};
use crate::ownership::{self, Owner};
use crate::plan::{ObjectRef, prepare};
use crate::render::{self, Filter, Manifest};

/// Where the fleet lives.
#[derive(Debug, Clone)]
pub struct Place {
    pub fleet: String,
    pub fleet_namespace: String,
    /// The router's namespace: the bundle and the claims.
    pub router_namespace: String,
}

/// One person's request.
#[derive(Debug, Clone)]
pub struct Ask {
    pub identity: Identity,
    /// What the agent's name is made from: a display name, an email's local part.
    pub person: String,
    /// Whether Slack says the person is in one of `allow.slackGroups` (asked by the
    /// caller, which holds the Slack client).
    pub in_slack_group: bool,
    /// How long to wait for the agent to become ready.
    pub timeout: Duration,
    /// RFC 3339 time of the request, recorded in the claim.
    pub requested_at: String,
}

/// What became of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provisioned {
    /// Made and ready.
    Ready { agent: String },
    /// Made, but not ready within the timeout (or its pod failed): the text says why.
    NotReady { agent: String, why: String },
    /// The person has an agent already (of the file, or made on request).
    AlreadyHas { agent: String },
    /// The fleet offers no self-service (no bundle, or no `selfService` in it).
    NotOffered,
    /// `allow` does not admit the person.
    NotAdmitted,
    /// `maxAgents` agents were made on request already.
    Full { max: u32 },
    /// Something only `clawctl apply` may do comes first (the fleet lock does not exist,
    /// or the ApplySet parent does not cover the new agent's namespace or kinds).
    NeedsApply { why: String },
}

/// A wait that shows nothing (the router logs the outcome).
struct Quiet;

impl wait::Progress for Quiet {
    fn changed(&self, _: &wait::Workload, _: &cluster::readiness::Rollout) {}
}

/// The fleet's self-service offer, from the bundle in the router's namespace: what a
/// request is checked against and rendered from.
pub struct Offer {
    bundle: Bundle,
    loaded: crate::fleet::Loaded,
    allow: crate::fleet::model::SelfServiceAllow,
}

impl Offer {
    /// Reads the bundle. `None`: the fleet offers no self-service (no bundle, or no
    /// `selfService` in it).
    pub async fn read(cluster: &Cluster, place: &Place) -> anyhow::Result<Option<Offer>> {
        let bundle_name = crate::names::self_service_bundle(&place.fleet);
        let Some(bundle) =
            cluster::self_service::read_bundle(cluster, &place.router_namespace, &bundle_name)
                .await?
        else {
            return Ok(None);
        };
        let bundle = Bundle::from_data(&bundle.data.unwrap_or_default())?;
        let label = format!("{}/{bundle_name}", place.router_namespace);
        let loaded = bundle.load(&label)?;
        let fleet = crate::fleet::resolve(&loaded).map_err(|d| {
            anyhow::anyhow!("the self-service bundle {label} is not a valid fleet: {d}")
        })?;
        let Some(block) = fleet.self_service else {
            return Ok(None);
        };
        Ok(Some(Offer {
            bundle,
            loaded,
            allow: block.allow,
        }))
    }

    /// Who may ask.
    pub fn allow(&self) -> &crate::fleet::model::SelfServiceAllow {
        &self.allow
    }

    /// Makes an agent for `ask`, or says why not. Errors are API failures and a broken
    /// bundle or claim, each one readable line.
    pub async fn provision(
        &self,
        cluster: &Cluster,
        place: &Place,
        ask: &Ask,
    ) -> anyhow::Result<Provisioned> {
        match admission(&self.allow, &ask.identity) {
            Admission::Admitted => {}
            Admission::IfInGroups(_) if ask.in_slack_group => {}
            _ => return Ok(Provisioned::NotAdmitted),
        }
        let lock_name = lease::name(&place.fleet);
        if cluster::self_service::read_configmap(cluster, &place.fleet_namespace, &lock_name)
            .await?
            .is_none()
        {
            return Ok(Provisioned::NeedsApply {
                why: format!(
                    "the fleet lock {}/{lock_name} does not exist yet",
                    place.fleet_namespace
                ),
            });
        }
        let lock = lease::acquire(
            cluster,
            &place.fleet_namespace,
            &place.fleet,
            "router setup-agent",
            &Quiet,
        )
        .await?;
        let result = locked(cluster, place, ask, &self.loaded, &self.bundle).await;
        lock.release().await;
        result
    }
}

/// [`Offer::read`], then [`Offer::provision`].
pub async fn provision(cluster: &Cluster, place: &Place, ask: &Ask) -> anyhow::Result<Provisioned> {
    match Offer::read(cluster, place).await? {
        Some(offer) => offer.provision(cluster, place, ask).await,
        None => Ok(Provisioned::NotOffered),
    }
}

/// Everything done under the fleet lock.
async fn locked(
    cluster: &Cluster,
    place: &Place,
    ask: &Ask,
    loaded: &crate::fleet::Loaded,
    bundle: &Bundle,
) -> anyhow::Result<Provisioned> {
    let found = cluster::self_service::list(cluster, &place.router_namespace, &place.fleet).await?;
    let mut claims = super::checked(&place.router_namespace, loaded, &found)?;
    let spec = &loaded.fleet.spec;
    let key = ask.identity.key();
    let owner = spec
        .agents
        .iter()
        .find(|a| a.user.iter().any(|(c, id)| format!("{c}:{id}") == key))
        .map(|a| a.name.clone())
        .or_else(|| {
            claims
                .iter()
                .find(|c| c.identity == ask.identity)
                .map(|c| c.agent.clone())
        });
    if let Some(agent) = owner {
        return Ok(Provisioned::AlreadyHas { agent });
    }
    let block = crate::fleet::self_service::of(spec).context("the bundle lost selfService")?;
    let max = block
        .max_agents
        .unwrap_or(crate::fleet::self_service::DEFAULT_MAX_AGENTS);
    if claims.len() >= max as usize {
        return Ok(Provisioned::Full { max });
    }
    let team_namespace = crate::fleet::resolve(loaded)
        .ok()
        .and_then(|f| f.self_service.map(|s| s.namespace))
        .context("the bundle's selfService has no team namespace")?;

    // A name nobody uses: no agent of the file, no claim, and no volume left behind by an
    // agent whose claim was deleted but not yet pruned (its memory is not a stranger's).
    let mut chosen = None;
    for name in candidates(&ask.person).take(100) {
        let in_use = spec.agents.iter().any(|a| a.name == name)
            || claims.iter().any(|c| c.agent == name)
            || volume_exists(cluster, &team_namespace, &name).await?;
        if !in_use {
            chosen = Some(name);
            break;
        }
    }
    let agent = chosen.context("no free agent name")?;
    let claim = Claim {
        configmap: claim_name(&agent),
        agent: agent.clone(),
        identity: ask.identity.clone(),
        requested_at: Some(ask.requested_at.clone()),
    };
    claims.push(claim.clone());

    // Rendered before anything is written, so a refusal leaves nothing behind.
    let fleet = crate::fleet::resolve_with_claims(loaded, &claims)
        .map_err(|d| anyhow::anyhow!("agent {agent:?} does not resolve: {d}"))?;
    let templates = bundle.templates()?;
    let manifests = render::render(
        &fleet,
        &templates,
        &Filter {
            agents: vec![agent.clone()],
            teams: Vec::new(),
        },
    )?;
    let applyset_id = applyset::id(&place.fleet, &place.fleet_namespace);
    if let Some(why) = parent_lacks(cluster, place, &manifests).await? {
        return Ok(Provisioned::NeedsApply { why });
    }
    for m in &manifests {
        let object = object_ref(m);
        let kind = cluster::kinds::find(&m.api_version, &m.kind)
            .with_context(|| format!("{} is not a kind clawctl manages", m.kind))?;
        if let Some(live) = objects::get(cluster, kind, m.namespace.as_deref(), &m.name)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?
        {
            let owner = ownership::of(&live, &place.fleet, &applyset_id);
            if owner != Owner::Fleet {
                anyhow::bail!(
                    "{object} exists and is not this fleet's ({owner}): nothing was made"
                );
            }
        }
    }

    if !cluster::self_service::create(cluster, &place.router_namespace, &place.fleet, &claim)
        .await?
    {
        anyhow::bail!(
            "claim {}/{} appeared meanwhile: nothing was made",
            place.router_namespace,
            claim.configmap
        );
    }
    let mut deployment = None;
    for m in &manifests {
        let object = object_ref(m);
        let desired = prepare(m.value.clone(), &applyset_id);
        objects::apply(cluster, &object, &desired, false, false)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        if m.kind == "Secret"
            && let Some(key) = generated_key(&desired)
        {
            let namespace = m.namespace.as_deref().unwrap_or_default();
            tokens::fill(cluster, namespace, &m.name, key).await?;
        }
        if m.kind == "Deployment" {
            deployment = Some(wait::Workload {
                namespace: m.namespace.clone().unwrap_or_default(),
                name: m.name.clone(),
                agent: Some(agent.clone()),
            });
        }
    }
    let Some(workload) = deployment else {
        return Ok(Provisioned::Ready { agent });
    };
    let selector = super::super::planning::selector(&place.fleet);
    let waited = wait::deployments(
        cluster,
        &selector,
        std::slice::from_ref(&workload),
        ask.timeout,
        &Quiet,
    )
    .await?;
    Ok(match waited.get(&workload) {
        Some(wait::Outcome::Ready) => Provisioned::Ready { agent },
        Some(wait::Outcome::Failed(why) | wait::Outcome::Unfinished(why)) => {
            Provisioned::NotReady {
                agent,
                why: why.clone(),
            }
        }
        None => Provisioned::NotReady {
            agent,
            why: "no status".into(),
        },
    })
}

fn object_ref(m: &Manifest) -> ObjectRef {
    ObjectRef {
        api_version: m.api_version.clone(),
        kind: m.kind.clone(),
        namespace: m.namespace.clone(),
        name: m.name.clone(),
    }
}

/// The key apply fills with a random value (the `clawctl.io/generated-key` annotation).
fn generated_key(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/annotations")?
        .get(crate::names::GENERATED_KEY)?
        .as_str()
}

/// Whether `agent-<name>`'s volume exists in `namespace`.
async fn volume_exists(cluster: &Cluster, namespace: &str, name: &str) -> anyhow::Result<bool> {
    let kind = cluster::kinds::find("v1", "PersistentVolumeClaim")
        .context("PersistentVolumeClaim is not a managed kind")?;
    let found = objects::get(
        cluster,
        kind,
        Some(namespace),
        &crate::names::resource_name(name),
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?;
    Ok(found.is_some())
}

/// Why the ApplySet parent does not cover `manifests` (a namespace or group-kind it does
/// not list), or `None` when it does. Only `clawctl apply` writes the parent.
async fn parent_lacks(
    cluster: &Cluster,
    place: &Place,
    manifests: &[Manifest],
) -> anyhow::Result<Option<String>> {
    let name = applyset::parent_name(&place.fleet);
    let Some(parent) =
        cluster::self_service::read_configmap(cluster, &place.fleet_namespace, &name).await?
    else {
        return Ok(Some(format!(
            "the fleet's ApplySet parent {}/{name} does not exist",
            place.fleet_namespace
        )));
    };
    let annotations = parent.metadata.annotations.unwrap_or_default();
    let listed = |key: &str| -> Vec<String> {
        annotations
            .get(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let kinds = listed(applyset::CONTAINS_GROUP_KINDS);
    let mut namespaces = listed(applyset::ADDITIONAL_NAMESPACES);
    namespaces.push(place.fleet_namespace.clone());
    for m in manifests {
        if let Some(ns) = &m.namespace
            && !namespaces.contains(ns)
        {
            return Ok(Some(format!("the fleet does not yet hold namespace {ns}")));
        }
        if let Some(kind) = cluster::kinds::find(&m.api_version, &m.kind)
            && !kinds.contains(&kind.group_kind())
        {
            return Ok(Some(format!(
                "the fleet does not yet hold objects of kind {}",
                kind.group_kind()
            )));
        }
    }
    Ok(None)
}
