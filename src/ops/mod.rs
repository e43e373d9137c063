//! Use cases, one function each. They never print and know nothing of the terminal;
//! commands call them and output shows what they return.

pub mod agents;
pub mod apply;
pub mod claims;
pub mod deploy;
pub mod diff;
pub mod history;
pub mod planning;
pub mod preflight;
pub mod restore;
pub mod rollback;
pub mod rollout;
pub mod self_service;
pub mod snapshot;
pub mod status;
pub mod suspend;

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::diag::Diagnostics;
use crate::fleet::{self, Loaded, ResolvedFleet};
use crate::render::{self, Filter, ObjectKey, Templates};

/// Loads, validates and resolves a fleet file. `Err` carries every problem found.
pub fn load(path: &Path) -> Result<(Loaded, ResolvedFleet), Diagnostics> {
    let loaded = fleet::load(path)?;
    let resolved = fleet::resolve(&loaded)?;
    Ok((loaded, resolved))
}

/// [`load`] for fleet text already read: `label` names it in diagnostics and `dir`
/// resolves its file references.
pub fn load_str(
    label: &str,
    dir: PathBuf,
    text: &str,
) -> Result<(Loaded, ResolvedFleet), Diagnostics> {
    let loaded = fleet::load_str(label, dir, text)?;
    let resolved = fleet::resolve(&loaded)?;
    Ok((loaded, resolved))
}

/// The templates for a fleet: built-ins, overridden by `--templates` (which wins) or
/// else by the fleet's `spec.templates`.
pub fn templates(cli_dir: Option<&Path>, fleet: &ResolvedFleet) -> anyhow::Result<Templates> {
    let dir: Option<PathBuf> = cli_dir
        .map(Path::to_path_buf)
        .or_else(|| fleet.templates.clone());
    match dir {
        Some(dir) => Templates::with_overrides(&dir)
            .map_err(|e| crate::error::InvalidInput(format!("{e:#}")).into()),
        None => Ok(Templates::builtin()),
    }
}

/// What `validate` found: the fleet's size when it is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    /// Entries of `spec.agents`: gateways, one pod each.
    pub agents: usize,
    /// OpenClaw agents in all: a multi-agent gateway counts each of its agents.
    pub openclaw_agents: usize,
    pub teams: usize,
    pub objects: usize,
    /// Problems that do not make the fleet invalid.
    pub warnings: Vec<String>,
}

/// Validates the fleet file and renders it (without output), so template errors and
/// parse-back checks are caught as well.
pub fn validate(path: &Path, templates_dir: Option<&Path>) -> anyhow::Result<Validated> {
    let (_, fleet) = load(path)?;
    validate_resolved(&fleet, templates_dir)
}

/// [`validate`] for a fleet already loaded and resolved.
pub fn validate_resolved(
    fleet: &ResolvedFleet,
    templates_dir: Option<&Path>,
) -> anyhow::Result<Validated> {
    let templates = templates(templates_dir, fleet)?;
    let manifests = render::render(fleet, &templates, &Filter::default())?;
    Ok(Validated {
        agents: fleet.agents.len(),
        openclaw_agents: fleet.agents.iter().map(|a| a.hosted.len().max(1)).sum(),
        teams: fleet.teams.len(),
        objects: manifests.len(),
        warnings: fleet.warnings.iter().map(ToString::to_string).collect(),
    })
}

/// The fleet's objects as YAML text, in apply order, with the fleet's warnings.
pub struct Rendered {
    pub objects: Vec<(ObjectKey, String)>,
    pub warnings: Vec<String>,
}

/// Renders the fleet's objects as YAML text, in apply order.
pub fn render_fleet(
    path: &Path,
    templates_dir: Option<&Path>,
    filter: &Filter,
) -> anyhow::Result<Rendered> {
    let (_, fleet) = load(path)?;
    render_resolved(&fleet, templates_dir, filter)
}

/// [`render_fleet`] for a fleet already loaded and resolved.
pub fn render_resolved(
    fleet: &ResolvedFleet,
    templates_dir: Option<&Path>,
    filter: &Filter,
) -> anyhow::Result<Rendered> {
    let templates = templates(templates_dir, fleet)?;
    Ok(Rendered {
        objects: render::render_yaml(fleet, &templates, filter)?,
        warnings: fleet.warnings.iter().map(ToString::to_string).collect(),
    })
}

/// Writes one file per object under `dir`; returns the files written, relative to it.
pub fn write_manifests(dir: &Path, objects: &[(ObjectKey, String)]) -> anyhow::Result<Vec<String>> {
    let mut written = Vec::with_capacity(objects.len());
    for (key, text) in objects {
        let rel = key.file_name();
        write_file(&dir.join(&rel), text)?;
        written.push(rel);
    }
    Ok(written)
}

/// Writes `text` to `path`, creating its folder.
fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The starter fleet `init` writes: (relative path, contents).
pub fn starter_files(
    name: &str,
) -> Result<Vec<(&'static str, String)>, crate::error::InvalidInput> {
    fleet::check_object_name(name)
        .and_then(|_| {
            if name.contains('.') {
                Err(format!("{name:?} contains '.'"))
            } else {
                Ok(())
            }
        })
        .map_err(|e| crate::error::InvalidInput(format!("--name: {e}")))?;
    let fleet = include_str!("../../fleets/starter/fleet.yaml").replace("my-fleet", name);
    let soul = include_str!("../../fleets/starter/souls/assistant.md").to_string();
    Ok(vec![("fleet.yaml", fleet), ("souls/assistant.md", soul)])
}

/// Writes the starter fleet into `dir`, refusing to overwrite anything.
pub fn init(dir: &Path, name: &str) -> anyhow::Result<Vec<PathBuf>> {
    let files = starter_files(name)?;
    for (rel, _) in &files {
        let path = dir.join(rel);
        if path.exists() {
            return Err(crate::error::InvalidInput(format!(
                "{} already exists; not overwriting it",
                path.display()
            ))
            .into());
        }
    }
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(rel);
        write_file(&path, &text)?;
        written.push(path);
    }
    Ok(written)
}
