//! From a fleet file to a plan against a live cluster: load and render (bad input fails
//! here, before any request), connect, list the fleet's live objects by label, compare.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde_json::Value;

use crate::cluster::{self, Cluster, Target, applyset, objects};
use crate::names::{FLEET_LABEL, MANAGED_BY, fleet_labels};
use crate::ownership::{self, Owner};
use crate::plan::{self, Draft, Plan};
use crate::render::{self, Filter, Manifest};

/// Default for `--concurrency`: requests in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// What every cluster command starts from.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub fleet: &'a Path,
    pub templates: Option<&'a Path>,
    pub target: Target,
    pub delete_volumes: bool,
    pub concurrency: usize,
    /// Leave the agents whose image changes out of the plan (`Planned::held`): `apply`
    /// moves them afterwards by the rollout strategy (`ops::deploy`).
    pub hold_image_changes: bool,
}

/// A plan with what it needs to be carried out.
pub struct Planned {
    pub cluster: Cluster,
    pub fleet: String,
    pub fleet_namespace: String,
    /// Label selector for everything clawctl manages in this fleet.
    pub selector: String,
    pub plan: Plan,
    /// Agents whose image changes, left out of the plan for the rollout strategy (with
    /// `Request::hold_image_changes`; sorted).
    pub held: Vec<String>,
    /// What each agent needs from its Secrets, checked by [`plan_and_check`].
    pub needs: Vec<super::preflight::Need>,
    /// The existing claims agents mount, by (namespace, claim), with their agents.
    pub claims: std::collections::BTreeMap<(String, String), Vec<String>>,
    /// Problems that do not stop the command: the fleet's own and the preflight's.
    pub warnings: Vec<String>,
    /// Kinds whose CRD the cluster lacks (see `cluster::kinds::Kind::crd`).
    pub absent: Vec<&'static cluster::kinds::Kind>,
    /// The fleet planned: the file's agents and those made on request (self-service).
    pub resolved: crate::fleet::ResolvedFleet,
}

/// The selector of a fleet's objects: managed by clawctl and labelled with the fleet,
/// without its revision history (Secrets the plan must neither show nor prune). Labels
/// are only a first sieve: anyone can put them on an object, so what is listed is then
/// kept only if it is a member of the fleet's ApplySet (`ownership`).
pub fn selector(fleet: &str) -> String {
    format!(
        "{MANAGED_BY}=clawctl,{FLEET_LABEL}={fleet},!{}",
        crate::names::HISTORY_LABEL
    )
}

/// Loads, renders, connects and plans. Invalid input is reported before connecting.
/// The self-service claims in the router's namespace join the fleet here (and the
/// fleet renders again with their agents).
pub async fn plan(request: &Request<'_>) -> anyhow::Result<Planned> {
    let (loaded, fleet) = super::load(request.fleet)?;
    let templates = super::templates(request.templates, &fleet)?;
    let mut manifests = render::render(&fleet, &templates, &Filter::default())?;
    let bundle = super::self_service::bundle_manifest(&loaded, &fleet, &templates)?;

    let cluster = Cluster::connect(&request.target).await?;
    let claims = super::self_service::claims(&cluster, &loaded, &fleet).await?;
    let fleet = if claims.is_empty() {
        fleet
    } else {
        let fleet = crate::fleet::resolve_with_claims(&loaded, &claims)?;
        manifests = render::render(&fleet, &templates, &Filter::default())?;
        fleet
    };
    manifests.extend(bundle);
    let parent = applyset_parent(
        &fleet.name,
        &fleet.namespace,
        &fleet_labels(&fleet.name),
        &manifests,
    );
    manifests.push(parent);

    let selector = selector(&fleet.name);
    let mut namespaces: Vec<String> = manifests
        .iter()
        .filter_map(|m| m.namespace.clone())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    let mut live = objects::list_fleet(&cluster, &selector, &namespaces, request.concurrency)
        .await
        .context("cannot read the fleet's objects from the cluster")?;
    let options = plan::Options {
        applyset_id: applyset::id(&fleet.name, &fleet.namespace),
        delete_volumes: request.delete_volumes,
    };
    live.objects
        .retain(|o| ownership::of(o, &fleet.name, &options.applyset_id) == Owner::Fleet);
    let draft = Draft::new(manifests, live.objects, &options);
    // What finishing the plan needs from the cluster besides the fleet's own objects.
    let existing = super::claims::existing(
        &cluster,
        &draft.lookups(&live.unreadable),
        request.concurrency,
    )
    .await
    .context("cannot check who owns the objects the fleet would create")?;
    let mut claims = BTreeMap::new();
    for namespace in draft.namespaces_to_prune() {
        let names = objects::claims_in(&cluster, &namespace).await?;
        claims.insert(namespace, names);
    }
    let (plan, settled) = draft.finish(&plan::Facts {
        fleet: &fleet.name,
        adopt: &fleet.adopt_namespaces,
        unreadable: &live.unreadable,
        existing: &existing,
        claims: &claims,
        hold_image_changes: request.hold_image_changes,
    });
    let mut warnings: Vec<String> = fleet.warnings.iter().map(ToString::to_string).collect();
    warnings.extend(settled_warnings(&settled, &fleet));
    Ok(Planned {
        cluster,
        fleet: fleet.name.clone(),
        fleet_namespace: fleet.namespace.clone(),
        selector,
        plan,
        held: settled.held,
        needs: super::preflight::needs(&fleet),
        claims: super::preflight::claims(&fleet),
        warnings,
        absent: live.absent,
        resolved: fleet,
    })
}

/// What the user should know about how the plan was settled: agents left at zero
/// replicas, and kinds these credentials cannot read.
fn settled_warnings(settled: &plan::Settled, fleet: &crate::fleet::ResolvedFleet) -> Vec<String> {
    let mut warnings = Vec::new();
    let kept = &settled.scaled_down;
    if !kept.suspended.is_empty() {
        warnings.push(format!(
            "{} suspended by `clawctl suspend`: kept at 0 replicas (`clawctl resume` starts them)",
            crate::diag::agents_phrase(&kept.suspended)
        ));
    }
    if !kept.idle.is_empty() {
        let sleeps = fleet
            .routing
            .router
            .as_ref()
            .is_some_and(|r| r.idle_after.is_some());
        warnings.push(if sleeps {
            format!(
                "{} idle: kept at 0 replicas (the router wakes them at their next message)",
                crate::diag::agents_phrase(&kept.idle)
            )
        } else {
            // Without idleAfter the router may not read or scale Deployments any more.
            format!(
                "{} idle, but the fleet's router no longer sleeps agents (no \
                 routing.router.idleAfter), so no message wakes them: `clawctl resume` them",
                crate::diag::agents_phrase(&kept.idle)
            )
        });
    }
    for (kind, assumed) in &settled.assumed {
        warnings.push(format!(
            "cannot read {kind} objects with these credentials (RBAC): the fleet's {assumed} \
             {kind}(s) are left as they are; a cluster admin applies them (clawctl apply \
             with cluster-wide rights), and this apply writes only inside them"
        ));
    }
    warnings
}

/// Objects the fleet renders that someone else owns: apply refuses the whole plan
/// before any write, naming each object and its owner.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} object(s) the fleet renders already exist and are not this fleet's; nothing was \
     changed (clawctl never takes over another fleet's or anyone else's objects)\n  {}",
    .0.len(),
    .0.join("\n  ")
)]
pub struct Conflicts(pub Vec<String>);

impl Conflicts {
    /// The plan's conflicts, if it has any.
    pub fn of(plan: &Plan) -> Option<Conflicts> {
        let lines: Vec<String> = plan
            .conflicts()
            .iter()
            .map(|c| {
                format!(
                    "{}: {}",
                    c.object,
                    c.note().as_deref().unwrap_or("not this fleet's")
                )
            })
            .collect();
        (!lines.is_empty()).then_some(Conflicts(lines))
    }
}

/// [`plan`], then the preflight (`ops::preflight`): what diff and apply start from.
/// Fails before anything is written when a kind the fleet renders is not served (its
/// CRD is not installed), or an agent's Secret or key, or a new volume's StorageClass, is
/// missing.
pub async fn plan_and_check(request: &Request<'_>) -> anyhow::Result<Planned> {
    let mut planned = plan(request).await?;
    let crds = super::preflight::missing_crds(&planned.plan, &planned.absent);
    if !crds.is_empty() {
        return Err(super::preflight::Missing(crds).into());
    }
    let classes = super::preflight::storage_classes(&planned.plan);
    let findings = super::preflight::check(
        &planned.cluster,
        &planned.needs,
        &classes,
        &planned.claims,
        request.concurrency,
    )
    .await?;
    planned.warnings.extend(findings.warnings);
    Ok(planned)
}

/// The ApplySet parent as one more manifest of the fleet namespace.
fn applyset_parent(
    fleet: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    manifests: &[Manifest],
) -> Manifest {
    let group_kinds: Vec<String> = manifests
        .iter()
        .filter_map(|m| cluster::kinds::find(&m.api_version, &m.kind))
        .map(|k| k.group_kind())
        .collect();
    let namespaces: Vec<String> = manifests
        .iter()
        .filter_map(|m| m.namespace.clone())
        .collect();
    let labels = serde_json::to_value(labels).unwrap_or(Value::Null);
    let value = applyset::parent(fleet, namespace, &labels, &group_kinds, &namespaces);
    Manifest {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: applyset::parent_name(fleet),
        namespace: Some(namespace.to_string()),
        team: None,
        agent: None,
        value,
    }
}
