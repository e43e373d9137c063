//! Self-service in the commands that plan against a cluster: the claims in the router's
//! namespace merged into the fleet (apply, diff, status, rollout), and the bundle apply
//! stores there for the router (the fleet file, the files it references and the template
//! overrides in use), from which the router renders an agent exactly as apply would.
//!
//! `provision` makes one agent on request, for the router.
//!
//! `validate` and `render` touch no cluster and so see no claims: they show the file's
//! own agents.

pub mod provision;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;

use crate::cluster::{self, Cluster};
use crate::fleet::self_service::{Claim, check_claims};
use crate::fleet::{self, Loaded, ResolvedFleet};
use crate::names::fleet_labels;
use crate::render::{Manifest, Templates};

/// The most a bundle may hold: a ConfigMap holds at most 1 MiB, with its metadata.
pub const MAX_BUNDLE_BYTES: usize = 900 * 1024;

/// The bundle's keys.
const FLEET_KEY: &str = "fleet.yaml";
const FILES_KEY: &str = "files.json";
const TEMPLATES_KEY: &str = "templates.json";

/// Claims that cannot be taken into the fleet: the command stops before any write
/// (dropping one would let `apply --prune` delete its agent).
#[derive(Debug, thiserror::Error)]
#[error(
    "self-service claims in namespace {namespace} are refused; nothing was changed:\n  {}",
    .problems.join("\n  ")
)]
pub struct ClaimsRefused {
    pub namespace: String,
    pub problems: Vec<String>,
}

/// Reads and checks the fleet's claims (in the router's namespace only) and returns them.
/// No router: no claims are looked for.
pub async fn claims(
    cluster: &Cluster,
    loaded: &Loaded,
    fleet: &ResolvedFleet,
) -> anyhow::Result<Vec<Claim>> {
    let Some(namespace) = fleet.router_namespace() else {
        return Ok(Vec::new());
    };
    let found = cluster::self_service::list(cluster, namespace, &fleet.name).await?;
    checked(namespace, loaded, &found).map_err(Into::into)
}

/// Each found claim parsed and checked against the file; every problem names its claim.
pub fn checked(
    namespace: &str,
    loaded: &Loaded,
    found: &[cluster::self_service::Found],
) -> Result<Vec<Claim>, ClaimsRefused> {
    let mut problems = Vec::new();
    let mut claims = Vec::new();
    for f in found {
        match Claim::from_data(&f.name, &f.data) {
            Ok(claim) => claims.push(claim),
            Err(why) => problems.push(format!("claim {}: {why}", f.name)),
        }
    }
    problems.extend(check_claims(&loaded.fleet.spec, &claims));
    if problems.is_empty() {
        Ok(claims)
    } else {
        Err(ClaimsRefused {
            namespace: namespace.to_string(),
            problems,
        })
    }
}

/// `fleet` with the claims' agents, resolved again only when there are claims.
pub async fn with_claims(
    cluster: &Cluster,
    loaded: &Loaded,
    fleet: ResolvedFleet,
) -> anyhow::Result<ResolvedFleet> {
    let claims = claims(cluster, loaded, &fleet).await?;
    if claims.is_empty() {
        return Ok(fleet);
    }
    Ok(fleet::resolve_with_claims(loaded, &claims)?)
}

/// What the router needs to resolve and render the fleet as clawctl does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The fleet file's text.
    pub text: String,
    /// Every file it references, by the path written in it.
    pub files: BTreeMap<String, String>,
    /// The template overrides in use, by file name.
    pub templates: BTreeMap<String, String>,
}

impl Bundle {
    /// The bundle of a fleet with self-service, `None` without.
    pub fn of(loaded: &Loaded, fleet: &ResolvedFleet, templates: &Templates) -> Option<Bundle> {
        let block = fleet.self_service.as_ref()?;
        Some(Bundle {
            text: loaded.text.to_string(),
            files: block
                .sources
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
            templates: templates.overrides(),
        })
    }

    /// The ConfigMap `<fleet>-self-service` in the router's namespace; refused over
    /// [`MAX_BUNDLE_BYTES`].
    pub fn manifest(&self, fleet: &ResolvedFleet) -> anyhow::Result<Manifest> {
        let namespace = fleet
            .router_namespace()
            .ok_or_else(|| anyhow::anyhow!("self-service needs routing.router"))?;
        let files = serde_json::to_string(&self.files)?;
        let templates = serde_json::to_string(&self.templates)?;
        let size = self.text.len() + files.len() + templates.len();
        if size > MAX_BUNDLE_BYTES {
            return Err(crate::error::InvalidInput(format!(
                "spec.routing.selfService: the fleet file and the files it references come to \
                 {} KiB, more than the {} KiB the self-service bundle (a ConfigMap the router \
                 reads) may hold; make souls and workspace files smaller or inline fewer",
                size.div_ceil(1024),
                MAX_BUNDLE_BYTES / 1024
            ))
            .into());
        }
        let name = crate::names::self_service_bundle(&fleet.name);
        let value = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": fleet_labels(&fleet.name),
            },
            "data": {FLEET_KEY: self.text, FILES_KEY: files, TEMPLATES_KEY: templates},
        });
        Ok(Manifest {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name,
            namespace: Some(namespace.to_string()),
            team: None,
            agent: None,
            value,
        })
    }

    /// Reads a bundle ConfigMap's data.
    pub fn from_data(data: &BTreeMap<String, String>) -> anyhow::Result<Bundle> {
        let text = data
            .get(FLEET_KEY)
            .ok_or_else(|| anyhow::anyhow!("the bundle has no {FLEET_KEY}"))?;
        let json = |key: &str| -> anyhow::Result<BTreeMap<String, String>> {
            match data.get(key) {
                Some(text) => serde_json::from_str(text)
                    .map_err(|e| anyhow::anyhow!("the bundle's {key} does not parse: {e}")),
                None => Ok(BTreeMap::new()),
            }
        };
        Ok(Bundle {
            text: text.clone(),
            files: json(FILES_KEY)?,
            templates: json(TEMPLATES_KEY)?,
        })
    }

    /// The fleet as the file says it, its files from the bundle; `label` names it in
    /// messages.
    pub fn load(&self, label: &str) -> anyhow::Result<Loaded> {
        let mut loaded = fleet::load_str(label, PathBuf::new(), &self.text)?;
        loaded.files = Some(Arc::new(
            self.files
                .iter()
                .map(|(k, v)| (k.clone(), Arc::from(v.as_str())))
                .collect(),
        ));
        Ok(loaded)
    }

    /// The templates the apply that wrote the bundle used.
    pub fn templates(&self) -> anyhow::Result<Templates> {
        Templates::with_sources(&self.templates)
    }
}

/// The bundle's manifest for a fleet with self-service (`None` without).
pub fn bundle_manifest(
    loaded: &Loaded,
    fleet: &ResolvedFleet,
    templates: &Templates,
) -> anyhow::Result<Option<Manifest>> {
    Bundle::of(loaded, fleet, templates)
        .map(|b| b.manifest(fleet))
        .transpose()
}
