//! The agent's workspace files: SOUL.md from `soul`/`soulInline` and the `workspace`
//! entries, read from the fleet's folder, within what one ConfigMap can hold.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::cx::At;
use super::cx::Cx;
use crate::diag::FieldPath;
use crate::fleet::model::{FileMode, Settings};
use crate::fleet::rules;

/// Budget for an agent's files together, leaving room for openclaw.json in the
/// ConfigMap's 1 MiB (Kubernetes `MaxSecretSize`, which ConfigMaps share).
pub(super) const MAX_FILES_TOTAL: usize = 1024 * 1024 - 64 * 1024;

pub(super) fn resolve(
    cx: &mut Cx,
    at: At,
    settings: &Settings,
) -> BTreeMap<String, WorkspaceEntry> {
    let mut files = BTreeMap::new();
    let mut total = 0usize;
    let soul = match (&settings.soul, &settings.soul_inline) {
        (Some(file), _) => cx.read(|cx| at.src(cx, "soul"), file),
        (None, Some(text)) => Some(Arc::from(text.as_str())),
        (None, None) => None,
    };
    if let Some(soul) = soul {
        total += soul.len();
        files.insert(
            "SOUL.md".to_string(),
            WorkspaceEntry {
                content: soul,
                mode: FileMode::Managed,
            },
        );
    }
    for (name, file) in settings.workspace.iter().flatten() {
        let path =
            |cx: &Cx| at.src_path(cx, &FieldPath::root().key("workspace").key(name.as_str()));
        if let Err(e) = rules::file_name(name) {
            cx.error(&path(cx), e);
            continue;
        }
        if name == "SOUL.md" && files.contains_key("SOUL.md") {
            cx.error(
                &path(cx),
                "SOUL.md comes from `soul`/`soulInline`; remove it from `workspace`",
            );
            continue;
        }
        let content = match (&file.file, &file.inline) {
            (Some(rel), None) => cx.read(|cx| path(cx).key("file"), rel),
            (None, Some(text)) => Some(Arc::from(text.as_str())),
            _ => {
                cx.error(&path(cx), "set exactly one of `file` and `inline`");
                None
            }
        };
        if let Some(content) = content {
            total += content.len();
            files.insert(
                name.clone(),
                WorkspaceEntry {
                    content,
                    mode: file.mode,
                },
            );
        }
    }
    if total > MAX_FILES_TOTAL {
        cx.error(
            &at.path(),
            format!(
                "the agent's workspace files add up to {} KiB; a ConfigMap holds at most 1 MiB (keep them under {} KiB)",
                total / 1024,
                MAX_FILES_TOTAL / 1024
            ),
        );
    }
    files
}

/// One workspace file as it is rendered: its text and how it is kept.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkspaceEntry {
    pub content: Arc<str>,
    pub mode: FileMode,
}
