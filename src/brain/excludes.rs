//! The one list of paths on an agent's volume that never leave it for a bucket or an
//! archive and that no restore replaces, and the forms every consumer needs: rclone
//! filter rules (knowledge sync, bucket snapshots), GNU tar arguments (local archives)
//! and a `find` expression (the restore scripts' pruning).
//!
//! Every entry is anchored at OpenClaw's state directory (the volume's root) and
//! excludes the path itself and everything under it; `*` matches within one name,
//! never across a `/`. So `credentials` is `~/.openclaw/credentials/`, not
//! `workspace/skills/credentials/`.
//!
//! Where OpenClaw keeps secrets is cited from the releases' own docs (the npm package's
//! `docs/`, installed by `conformance/install.sh`): 2026.4.14's
//! `gateway/security/index.md` ("0.7 Secrets on disk") and 2026.9.6's
//! `gateway/security/secrets-and-storage.md` ("Secrets on disk").

/// One excluded path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exclude {
    /// Relative to the state directory, no leading `/` or `./`; `*` within one name.
    pub path: &'static str,
    /// What OpenClaw (or clawctl) keeps there.
    pub what: &'static str,
}

/// The list. Order does not matter; every consumer takes all of it.
pub const EXCLUDES: [Exclude; 18] = [
    // --- Secrets, per the releases' docs ---
    Exclude {
        path: ".env",
        // 2026.4 gateway/configuration.md "Environment variables"; 2026.9
        // gateway/configuration/environment-variables.md: `~/.openclaw/.env`, the
        // global fallback the gateway reads API keys from.
        what: "the gateway's global .env (API keys)",
    },
    Exclude {
        path: "credentials",
        // Both releases: "credentials/**: channel credentials (example: WhatsApp creds),
        // pairing allowlists, legacy OAuth imports".
        what: "channel credentials, pairing allowlists, OAuth imports",
    },
    Exclude {
        path: "secrets.json",
        // Both releases: "file-backed secret payload used by `file` SecretRef providers".
        what: "file-backed SecretRef payload",
    },
    Exclude {
        path: "identity",
        // 2026.4: the gateway's signed device identity (Ed25519 keypair) is
        // `identity/device.json` (src/infra/device-identity.ts), paired auth
        // `identity/device-auth.json`; 2026.9 cli/node.md names both as what "older
        // OpenClaw releases" stored before moving them into state/openclaw.sqlite.
        what: "device identity keypair and device auth (2026.4)",
    },
    Exclude {
        path: "devices",
        // 2026.4 channels/pairing.md: "Stored under ~/.openclaw/devices/: paired.json
        // (paired devices + tokens)".
        what: "paired devices and their tokens (2026.4)",
    },
    Exclude {
        path: "nodes",
        // 2026.4 gateway/pairing.md: `~/.openclaw/nodes/paired.json`, "Tokens are
        // secrets; treat paired.json as sensitive".
        what: "paired nodes and their tokens (2026.4)",
    },
    Exclude {
        path: "state/openclaw.sqlite*",
        // 2026.9 secrets-and-storage.md: "native MCP OAuth access/refresh tokens,
        // dynamic client registration secrets"; cli/node.md: `device_identities`
        // (signed Ed25519 keypair), `device_auth_tokens`; gateway/pairing.md: paired
        // devices with device auth and bootstrap tokens. With its -wal and -shm.
        what: "device identity keys, device and MCP OAuth tokens (2026.9)",
    },
    Exclude {
        path: "agents/*/agent/auth-profiles.json",
        // Both releases: "API keys, token profiles, OAuth tokens" (2026.9: the legacy
        // migration source of the same).
        what: "model auth profiles (API keys, OAuth tokens)",
    },
    Exclude {
        path: "agents/*/agent/auth.json",
        // Both releases: "legacy compatibility file. Static api_key entries are
        // scrubbed when discovered" (until then they are in it).
        what: "legacy model auth file",
    },
    Exclude {
        path: "agents/*/agent/openclaw-agent.sqlite*",
        // 2026.9 concepts/agent-workspace.md "What is NOT in the workspace": "model
        // auth profiles, routing state, standing intents, session rows, transcripts".
        what: "model auth profiles and transcripts (2026.9)",
    },
    Exclude {
        path: "agents/*/agent/codex-home",
        // 2026.9 agent-workspace.md: "per-agent Codex runtime account, config, skills,
        // plugins, and native thread state".
        what: "the agent's Codex account (2026.9)",
    },
    Exclude {
        path: "agents/*/sessions",
        // Both releases: session transcripts and routing metadata "that can contain
        // private messages and tool output" (already distilled into memory/).
        what: "session transcripts",
    },
    // --- The filesystems' own ---
    Exclude {
        path: "lost+found",
        // ext4's, root-owned and unreadable to the pod's user; fsck's, not the agent's.
        what: "the state volume's lost+found",
    },
    Exclude {
        path: "workspace-*/lost+found",
        // A multi-agent gateway's workspace volumes are filesystems of their own.
        what: "a workspace volume's lost+found",
    },
    // --- clawctl's own bookkeeping ---
    Exclude {
        path: SNAPSHOTS_DIR,
        // In the bucket: snapshots live beside the knowledge folders
        // (`<prefix>/.clawctl-snapshots/`, crate::snapshot), earlier releases' inside
        // them. Never pulled or pushed, so an agent cannot write into its own
        // snapshots through the sync.
        what: "clawctl's snapshots (in a bucket)",
    },
    Exclude {
        path: SNAPSHOT_MARKER,
        what: "the marker of a finished snapshot",
    },
    Exclude {
        path: RESTORE_STAGE,
        what: "a restore's staging folder",
    },
    Exclude {
        path: RESTORED_MARKER,
        what: "the mark a restore leaves for the next knowledge pull",
    },
];

/// The folder of snapshots in a bucket.
pub const SNAPSHOTS_DIR: &str = ".clawctl-snapshots";
/// The file a finished snapshot holds at its root.
pub const SNAPSHOT_MARKER: &str = ".clawctl-snapshot.json";
/// A restore's staging folder on the state volume.
pub const RESTORE_STAGE: &str = ".clawctl-restore";
/// Left on the state volume by a restore: the next knowledge pull makes the bucket
/// equal to the restored brain instead of pulling over it (see `crate::knowledge`).
pub const RESTORED_MARKER: &str = ".clawctl-restored";
/// The rendered config: clawctl writes it at every start, so a restore or a pull
/// never replaces it (a backup and a push keep it).
pub const CONFIG: &str = "openclaw.json";

/// rclone filter rules excluding every entry (and, with `config`, openclaw.json):
/// `- /PATH` and `- /PATH/**`.
pub fn rclone_rules(config: bool) -> String {
    let mut out = String::new();
    for path in paths(config) {
        out.push_str(&format!("- /{path}\n- /{path}/**\n"));
    }
    out
}

/// rclone filter rules for a copy from a bucket onto a volume: objects whose key has a
/// `.` or `..` name, which no folder can hold. rclone shows such names fullwidth (`．`,
/// `．．`) and, asked to copy one, fails the whole run: its S3 client resolves the dot
/// names in the request's path and reads another key, or none. Keys with an empty name
/// (`/abs`, `a//b`) rclone skips itself, saying so on stderr.
pub const RCLONE_DOT_NAMES: &str =
    "- \u{ff0e}\n- \u{ff0e}/**\n- \u{ff0e}\u{ff0e}\n- \u{ff0e}\u{ff0e}/**\n";

/// GNU tar options excluding every entry from an archive's creation or extraction,
/// member names with and without `./`: anchored, `*` not matching `/` (a pattern also
/// excludes what is under it: tar's default).
pub fn tar_args(config: bool) -> Vec<String> {
    let mut out = vec![
        "--anchored".to_string(),
        "--no-wildcards-match-slash".to_string(),
    ];
    for path in paths(config) {
        out.push(format!("--exclude={path}"));
        out.push(format!("--exclude=./{path}"));
    }
    out
}

/// A `find` test (shell text, run from the state directory) true for every excluded
/// path itself, meant for `-prune`: `\( -path './P' ! -path './P*' -o ... \)`. find's
/// `-path` lets `*` match `/`; each `*` name is also tried as two names and refused,
/// so it matches one name only (a `*` at a name's end crossing a `/` matches below an
/// ancestor that is pruned already).
pub fn find_test(config: bool) -> String {
    let tests: Vec<String> = paths(config)
        .map(|path| {
            let segments: Vec<&str> = path.split('/').collect();
            let mut test = format!("-path './{path}'");
            for (i, s) in segments.iter().enumerate() {
                if s.contains('*') && i + 1 < segments.len() {
                    let mut wider = segments.clone();
                    let two = format!("{s}/*");
                    wider[i] = &two;
                    test.push_str(&format!(" ! -path './{}'", wider.join("/")));
                }
            }
            test
        })
        .collect();
    format!("\\( {} \\)", tests.join(" -o "))
}

/// Whether `path` (relative, `/`-separated, no `./`) is excluded: it or one of its
/// ancestors matches an entry. The meaning every consumer above implements.
pub fn is_excluded(path: &str, config: bool) -> bool {
    let names: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    paths(config).any(|entry| {
        let pattern: Vec<&str> = entry.split('/').collect();
        names.len() >= pattern.len() && pattern.iter().zip(&names).all(|(p, n)| name_matches(p, n))
    })
}

/// Whether the name `n` matches the one-name glob `p` (`*` and `?`).
pub fn name_matches(p: &str, n: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(p.as_bytes(), n.as_bytes())
}

fn paths(config: bool) -> impl Iterator<Item = &'static str> {
    EXCLUDES
        .iter()
        .map(|e| e.path)
        .chain(config.then_some(CONFIG))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_anchored_relative_paths_without_shell_or_filter_syntax() {
        for e in EXCLUDES {
            assert!(
                !e.path.starts_with('/') && !e.path.starts_with("./"),
                "{e:?}"
            );
            assert!(!e.path.ends_with('/') && !e.path.contains("//"), "{e:?}");
            // Embedded in single-quoted shell words and in rclone and tar patterns.
            assert!(
                e.path
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-+*/".contains(c)),
                "{e:?}"
            );
            assert!(!e.what.is_empty());
        }
    }

    #[test]
    fn excludes_are_anchored_and_cover_what_is_under_them() {
        for (path, excluded) in [
            ("credentials", true),
            ("credentials/whatsapp/creds.json", true),
            ("workspace/skills/credentials/SKILL.md", false),
            ("agents/main/sessions/s.jsonl", true),
            ("agents/main/sub/sessions/s.jsonl", false),
            ("x/agents/main/sessions/s.jsonl", false),
            ("agents/main/agent/openclaw-agent.sqlite-wal", true),
            ("agents/main/agent/models.json", false),
            ("workspace/memory/auth-profiles.json", false),
            ("lost+found/#12", true),
            ("workspace/lost+found/notes.md", false),
            ("workspace-work/lost+found/x", true),
            (".env", true),
            ("workspace/.env", false),
            ("identity/device.json", true),
            ("state/openclaw.sqlite-shm", true),
            ("state/other.sqlite", false),
            ("openclaw.json", false),
        ] {
            assert_eq!(is_excluded(path, false), excluded, "{path}");
        }
        assert!(is_excluded("openclaw.json", true));
    }

    #[test]
    fn every_form_names_every_entry() {
        let rules = rclone_rules(true);
        let tar = tar_args(true);
        let find = find_test(true);
        for path in paths(true) {
            assert!(
                rules.contains(&format!("- /{path}\n- /{path}/**\n")),
                "{path}"
            );
            assert!(tar.contains(&format!("--exclude={path}")), "{path}");
            assert!(tar.contains(&format!("--exclude=./{path}")), "{path}");
            assert!(find.contains(&format!("-path './{path}'")), "{path}");
        }
        assert!(find.contains("-path './agents/*/sessions' ! -path './agents/*/*/sessions'"));
        assert!(!rclone_rules(false).contains("openclaw.json"));
    }
}
