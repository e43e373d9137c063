//! What every part of resolving shares: the context that collects problems and reads
//! referenced files ([`Cx`]), where an agent's merged settings were written ([`At`],
//! [`source`]), and the selector check. A leaf: every concern module depends on it, it
//! depends on none of them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::diag::{Diagnostic, Diagnostics, FieldPath};
use crate::fleet::{Loaded, rules};

/// Largest workspace or soul file: a ConfigMap holds at most 1 MiB in all.
const MAX_FILE_BYTES: usize = 512 * 1024;

pub(super) struct Cx<'a> {
    pub loaded: &'a Loaded,
    pub diags: Diagnostics,
    pub warnings: Vec<Diagnostic>,
    /// Referenced files, read once however many agents share them.
    pub files: HashMap<String, Result<Arc<str>, String>>,
    /// Every object name clawctl gives the file's agents, with its owner
    /// ([`crate::fleet::guardrails::agent_objects`]): built once, looked up per volume.
    pub agent_objects: Arc<BTreeMap<String, (String, &'static str)>>,
}

impl Cx<'_> {
    pub fn error(&mut self, path: &FieldPath, message: impl Into<String>) {
        let d = self.loaded.diag(path, message);
        self.diags.push(d);
    }

    pub fn warn(&mut self, path: &FieldPath, message: impl Into<String>) {
        let d = self.loaded.diag(path, message);
        self.warnings.push(d);
    }

    pub fn check(&mut self, path: &FieldPath, result: Result<(), String>) {
        if let Err(message) = result {
            self.error(path, message);
        }
    }

    /// [`Cx::check`] with the path found only for an error: finding where a merged
    /// setting was written walks the file, which adds up over thousands of agents.
    pub fn check_at(&mut self, at: impl FnOnce(&Self) -> FieldPath, result: Result<(), String>) {
        if let Err(message) = result {
            let path = at(self);
            self.error(&path, message);
        }
    }

    /// Reads a file referenced at the path `at` finds (only needed for an error),
    /// relative to the fleet file's folder.
    pub fn read(&mut self, at: impl FnOnce(&Self) -> FieldPath, rel: &str) -> Option<Arc<str>> {
        let dir = self.loaded.dir.clone();
        let memory = self.loaded.files.clone();
        let result =
            self.files
                .entry(rel.to_string())
                .or_insert_with(|| match memory {
                    Some(files) => files.get(rel).cloned().ok_or_else(|| {
                        format!("cannot read {rel:?}: not in the self-service bundle")
                    }),
                    None => read_text(&dir, rel),
                })
                .clone();
        match result {
            Ok(text) => Some(text),
            Err(message) => {
                let path = at(self);
                self.error(&path, message);
                None
            }
        }
    }
}

/// Resolves `rel` inside `dir`, refusing absolute paths, `..` and symlinks leading out.
pub(super) fn safe_path(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    if rel.is_empty() {
        return Err("the path is empty".to_string());
    }
    if p.components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "{rel:?} escapes the fleet file's folder: use a path inside it"
        ));
    }
    let base = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let full = base.join(p);
    let canonical = full
        .canonicalize()
        .map_err(|e| format!("cannot read {rel:?}: {}", io_reason(&e)))?;
    let canonical_base = base
        .canonicalize()
        .map_err(|e| format!("cannot read the fleet's folder: {e}"))?;
    if !canonical.starts_with(&canonical_base) {
        return Err(format!(
            "{rel:?} escapes the fleet file's folder through a symbolic link"
        ));
    }
    Ok(canonical)
}

fn read_text(dir: &Path, rel: &str) -> Result<Arc<str>, String> {
    let path = safe_path(dir, rel)?;
    if path.is_dir() {
        return Err(format!("cannot read {rel:?}: it is a folder"));
    }
    let bytes = crate::fleet::read_limited(&path, MAX_FILE_BYTES).map_err(|_| {
        format!(
            "{rel:?} is larger than {} KiB, more than an agent's ConfigMap can hold",
            MAX_FILE_BYTES / 1024
        )
    })?;
    String::from_utf8(bytes)
        .map(Arc::from)
        .map_err(|_| format!("{rel:?} is not UTF-8 text"))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Where an agent's merged settings are written: its index, its team's, and for an
/// agent hosted in a multi-agent gateway, its index in the gateway's `agents`.
#[derive(Clone, Copy)]
pub(super) struct At {
    pub agent: usize,
    pub team: Option<usize>,
    pub hosted: Option<usize>,
    /// Made on request: its own layer is `spec.routing.selfService.defaults`.
    pub self_service: bool,
}

impl At {
    /// The agent's own entry, `spec.agents[i]` (or `spec.agents[i].agents[j]`).
    pub fn path(&self) -> FieldPath {
        if self.self_service {
            return self_service_defaults();
        }
        let gateway = FieldPath::root()
            .key("spec")
            .key("agents")
            .index(self.agent);
        match self.hosted {
            Some(j) => gateway.key("agents").index(j),
            None => gateway,
        }
    }

    /// Where the setting at `rel` (dotted, `model.endpoint.baseUrl`) was written.
    pub fn src(&self, cx: &Cx, rel: &str) -> FieldPath {
        self.src_path(cx, &FieldPath::parse(rel))
    }

    /// [`At::src`] for a path whose keys may hold dots.
    pub fn src_path(&self, cx: &Cx, rel: &FieldPath) -> FieldPath {
        source(cx, *self, rel)
    }
}

/// Where a merged setting was written: the most specific layer that has it.
pub(super) fn source(cx: &Cx, at: At, rel: &FieldPath) -> FieldPath {
    let spec = FieldPath::root().key("spec");
    let gateway_path = match at.self_service {
        true => self_service_defaults().join(rel),
        false => spec.key("agents").index(at.agent).join(rel),
    };
    let mut candidates = Vec::with_capacity(4);
    if let Some(j) = at.hosted {
        candidates.push(
            spec.key("agents")
                .index(at.agent)
                .key("agents")
                .index(j)
                .join(rel),
        );
    }
    candidates.push(gateway_path.clone());
    if let Some(t) = at.team {
        candidates.push(spec.key("teams").index(t).key("defaults").join(rel));
    }
    candidates.push(spec.key("defaults").join(rel));
    let first = candidates[0].clone();
    candidates
        .into_iter()
        .find(|p| cx.loaded.has(p))
        .unwrap_or(first)
}

/// Checks the labels of a selector written at the path `at` finds.
pub(super) fn check_selector(
    cx: &mut Cx,
    selector: &BTreeMap<String, String>,
    at: &dyn Fn(&Cx) -> FieldPath,
) {
    for (k, v) in selector {
        cx.check_at(
            |cx| at(cx).key(k.as_str()),
            rules::label_key(k).and(rules::label_value(v)),
        );
    }
}

/// Where the settings of agents made on request are written.
pub(super) fn self_service_defaults() -> FieldPath {
    FieldPath::root()
        .key("spec")
        .key("routing")
        .key("selfService")
        .key("defaults")
}
