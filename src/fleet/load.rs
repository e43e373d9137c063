//! Reading and decoding one fleet file, keeping the tree it came from so later
//! problems can name file, line, column and field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::model::FleetFile;
use super::{decode, rules};
use crate::diag::{Diagnostic, Diagnostics, FieldPath};
use crate::yaml::{self, Loc, Node};

/// A decoded fleet file, with the tree it came from (for locating later errors).
#[derive(Debug)]
pub struct Loaded {
    /// The path as the user gave it; diagnostics name the file this way.
    pub label: String,
    /// The folder referenced files are resolved against.
    pub dir: PathBuf,
    pub root: Node,
    pub fleet: FleetFile,
    /// Unknown fields found while decoding. The fleet is complete without them, so
    /// `resolve` reports them together with every other problem.
    pub unknown_fields: Diagnostics,
    /// The file's text, as read (the self-service bundle carries it to the router).
    pub text: Arc<str>,
    /// The files the fleet references, given in memory instead of read below `dir`:
    /// the router resolves the fleet from its self-service bundle this way.
    pub files: Option<Arc<BTreeMap<String, Arc<str>>>>,
}

impl Loaded {
    /// The location of `path`, or of its nearest ancestor present in the file.
    pub fn locate(&self, path: &FieldPath) -> Loc {
        locate(&self.root, path)
    }

    /// Whether `path` is written in the file.
    pub fn has(&self, path: &FieldPath) -> bool {
        find(&self.root, path).is_some()
    }

    pub fn diag(&self, path: &FieldPath, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.label, Some(self.locate(path)), path, message)
    }
}

/// Reads and decodes a fleet file. Every problem found is returned together.
pub fn load(path: &Path) -> Result<Loaded, Diagnostics> {
    let label = path.display().to_string();
    let fail = |message: String| {
        Diagnostics(vec![Diagnostic::new(
            &label,
            None,
            &FieldPath::root(),
            message,
        )])
    };
    let bytes = read_limited(path, yaml::MAX_INPUT_BYTES).map_err(fail)?;
    let text = String::from_utf8(bytes).map_err(|e| fail(format!("not UTF-8 text: {e}")))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    load_str(&label, dir, &text)
}

/// Decodes fleet text; `label` names it in diagnostics, `dir` resolves its file references.
pub fn load_str(label: &str, dir: PathBuf, text: &str) -> Result<Loaded, Diagnostics> {
    let root = match yaml::parse_located(text) {
        Ok(Some(root)) => root,
        Ok(None) => {
            return Err(Diagnostics(vec![Diagnostic::new(
                label,
                None,
                &FieldPath::root(),
                "the file is empty: expected a Fleet (apiVersion: clawctl.io/v1alpha1, kind: Fleet)",
            )]));
        }
        Err(e) => {
            let d = Diagnostic::new(
                label,
                e.loc,
                &FieldPath::root(),
                format!("invalid YAML: {}", e.message),
            );
            return Err(Diagnostics(vec![d]));
        }
    };
    let mut diags = Diagnostics::default();
    rules::check_header(label, &root, &mut diags);
    if !diags.is_empty() {
        return Err(diags.finish());
    }
    let decoded = decode::decode::<FleetFile>(label, &root);
    match decoded.value {
        Some(fleet) if decoded.complete => Ok(Loaded {
            label: label.to_string(),
            dir,
            root,
            fleet,
            unknown_fields: decoded.diags,
            text: Arc::from(text),
            files: None,
        }),
        _ => Err(decoded.diags),
    }
}

/// Reads at most `limit` bytes, refusing larger files rather than truncating them.
pub(crate) fn read_limited(path: &Path, limit: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() > limit {
        let size = if limit >= 1 << 20 {
            format!("{} MiB", limit >> 20)
        } else {
            format!("{} KiB", limit >> 10)
        };
        return Err(format!(
            "the file is larger than {size}, more than clawctl reads"
        ));
    }
    Ok(bytes)
}

fn find<'a>(root: &'a Node, path: &FieldPath) -> Option<&'a Node> {
    let mut node = root;
    for seg in &path.0 {
        node = match seg {
            crate::diag::Seg::Key(k) => node.get(k)?,
            crate::diag::Seg::Index(i) => node.index(*i)?,
        };
    }
    Some(node)
}

fn locate(root: &Node, path: &FieldPath) -> Loc {
    let mut node = root;
    for seg in &path.0 {
        let next = match seg {
            crate::diag::Seg::Key(k) => node.get(k),
            crate::diag::Seg::Index(i) => node.index(*i),
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node.loc
}
