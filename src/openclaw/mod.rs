//! What clawctl knows of OpenClaw itself, in one place: the gateway's port, paths and
//! command, the environment and pod settings it needs, which release an image runs
//! (`version`), the `openclaw.json` rendered for it (`config`), and what a user's
//! config fragment may not change (`policy`). Templates and `fleet::resolve` ask here;
//! they do not spell OpenClaw's keys themselves.
//!
//! Verified by the conformance suite (`conformance/`), which boots every example fleet's
//! rendered pods on the real gateway at each release in `conformance/versions.env`.

mod policy;
mod version;

pub use policy::policy_conflicts;
pub use version::{Dialect, Release, Version, image_tag, release, verified};

/// The gateway's port (OpenClaw's default).
pub const GATEWAY_PORT: u16 = 18789;
/// The node user's home in the image. Read-only: the root filesystem is.
pub const HOME: &str = "/home/node";
/// The node user's state directory: config, credentials, sessions, workspace. The volume.
pub const STATE_DIR: &str = "/home/node/.openclaw";
/// The gateway reads its auth token from this variable (put it in one of `secrets`).
pub const TOKEN_ENV: &str = "OPENCLAW_GATEWAY_TOKEN";
/// Where the pod's writable scratch space (an emptyDir) is mounted.
pub const TMP_DIR: &str = "/tmp";
/// Where the init container reads the agent's ConfigMap (see [`INIT_SCRIPT`]).
pub const CONFIG_MOUNT: &str = "/clawctl";

/// The pod's own volumes, as the Deployment template names them: the state volume,
/// the scratch space, the ConfigMap and (with `access`) the API token. A fleet's extra
/// volumes take other names.
pub const POD_VOLUMES: [&str; 4] = ["state", "tmp", "config", API_TOKEN_VOLUME];
/// The projected volume holding the Kubernetes API token of an agent with `access`,
/// mounted into the gateway container only (never the init container or sidecars).
pub const API_TOKEN_VOLUME: &str = "kube-api-access";
/// Where Kubernetes clients look for the API token, CA and namespace.
pub const API_TOKEN_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The pod's own containers: the gateway and the init container. Sidecars take other
/// names.
pub const POD_CONTAINERS: [&str; 2] = ["gateway", "workspace"];

/// Where a multi-agent gateway's agent `id` keeps its workspace: OpenClaw's own default
/// for agents other than the first (`<stateDir>/workspace-<agentId>`), here the mount
/// point of the agent's own volume.
pub fn workspace_dir(id: &str) -> String {
    format!("{STATE_DIR}/workspace-{id}")
}

/// Agent `id`'s own state (auth profiles, sessions), on the gateway's state volume:
/// OpenClaw's default layout, spelled out because two agents may never share it.
pub fn agent_dir(id: &str) -> String {
    format!("{STATE_DIR}/agents/{id}/agent")
}

/// The pod volume holding agent `id`'s workspace in a multi-agent gateway.
pub fn workspace_volume(id: &str) -> String {
    format!("workspace-{id}")
}

/// The name of the scratch space (`/tmp`, an emptyDir) a sidecar gets: its root
/// filesystem is read-only too.
pub fn sidecar_tmp_volume(sidecar: &str) -> String {
    format!("tmp-{sidecar}")
}

/// Why an extra volume may not be mounted at `path` in the gateway: at, above or under
/// the state directory (it would hide or split the agent's memory), the scratch space or
/// the init container's ConfigMap. `path` is absolute and normalised.
pub fn mount_conflict(path: &str) -> Option<String> {
    let nested = |a: &str, b: &str| {
        a == b
            || b.strip_prefix(a)
                .is_some_and(|rest| a == "/" || rest.starts_with('/'))
    };
    [
        (STATE_DIR, "OpenClaw's state directory (the agent's volume)"),
        (TMP_DIR, "the pod's scratch space"),
        (CONFIG_MOUNT, "clawctl's ConfigMap mount"),
        (API_TOKEN_DIR, "where the Kubernetes API token is mounted"),
    ]
    .into_iter()
    .find(|(own, _)| nested(path, own) || nested(own, path))
    .map(|(own, what)| {
        if path == own {
            format!("{path} is {what}")
        } else if nested(path, own) {
            format!("{path} would hide {own}, {what}")
        } else {
            format!("{path} is inside {own}, {what}")
        }
    })
}

/// Tools that run programs in the gateway's container: they see its whole environment,
/// every Secret loaded with envFrom included, and `fs.workspaceOnly` does not confine
/// them. OpenClaw's `group:runtime`.
pub const RUNTIME_TOOLS: &[&str] = &["exec", "process", "code_execution"];
/// The group name that denies every runtime tool at once.
pub const RUNTIME_GROUP: &str = "group:runtime";

/// The readiness probe's path on `dialect`. 2026.9 has `/startupz`, which OpenClaw's
/// Kubernetes guide (docs/install/kubernetes.md) names the better traffic-admission
/// probe: it ignores channel health, so one failing or not yet linked channel account
/// does not evict an otherwise healthy gateway and its Control UI from the Service.
/// 2026.4 has no `/startupz` (the Control UI answers unknown paths with a catch-all 200),
/// so it keeps `/readyz`, which reports a configured channel account that is not
/// running (an unlinked WhatsApp, say) as not ready.
pub fn readiness_path(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::V2026_4 => "/readyz",
        Dialect::V2026_9 => "/startupz",
    }
}

/// How long the gateway may take to stop: OpenClaw 2026.9 drains in-flight agent runs
/// for up to 315 s and exits by 330 s ("Gateway stop policy", gateway-shutdown-budget);
/// an idle gateway stops in under a second, so only a busy one waits this long.
pub const TERMINATION_GRACE_SECONDS: u32 = 330;

/// Whether every runtime tool is denied by `deny`.
pub fn runtime_tools_denied(deny: &[String]) -> bool {
    deny.iter().any(|d| d == RUNTIME_GROUP)
        || RUNTIME_TOOLS.iter().all(|t| deny.iter().any(|d| d == t))
}

/// Checks an environment variable name that openclaw.json refers to with a `SecretRef`
/// (OpenClaw's pattern for env ids: `^[A-Z][A-Z0-9_]{0,127}$`).
pub fn secret_env_id(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_uppercase());
    if !first_ok
        || name.len() > 128
        || !bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(format!(
            "{name:?}: OpenClaw reads secrets only from variables named in capitals, digits and '_', starting with a capital (like LITELLM_API_KEY)"
        ));
    }
    Ok(())
}

/// The gateway container's environment, before the fleet's own `env`.
pub fn gateway_env(memory_limit_mib: u128) -> Vec<(&'static str, String)> {
    // ~75% of the memory limit for the V8 heap, leaving room for native memory.
    let heap = (memory_limit_mib * 3 / 4).max(64);
    let values = [
        HOME.to_string(),
        format!("--max-old-space-size={heap}"),
        "1".to_string(),
        // HOME is read-only. 2026.9 stages SQLite snapshots and caches compiled plugins
        // under $XDG_CACHE_HOME (default ~/.cache) and exits 78 when it cannot; npm,
        // which it runs to find plugins, logs under its cache. Both go to the emptyDir.
        format!("{TMP_DIR}/.cache"),
        format!("{TMP_DIR}/.npm"),
        "false".to_string(),
    ];
    GATEWAY_ENV.into_iter().zip(values).collect()
}

/// The variables [`gateway_env`] sets, in its order.
const GATEWAY_ENV: [&str; 6] = [
    "HOME",
    "NODE_OPTIONS",
    "OPENCLAW_DISABLE_BONJOUR",
    "XDG_CACHE_HOME",
    "npm_config_cache",
    "npm_config_update_notifier",
];

/// Variables that would move OpenClaw's state off the volume.
const STATE_ENV: [&str; 2] = ["OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH"];

/// Whether the gateway's environment variable `name` is clawctl's to set: one
/// [`gateway_env`] sets, or one that would move OpenClaw's state.
pub fn is_reserved_env(name: &str) -> bool {
    GATEWAY_ENV.contains(&name) || STATE_ENV.contains(&name)
}

/// The gateway container's command (as OpenClaw's docker-compose runs it, from the
/// image's /app): the gateway on all interfaces (`lan`) so the Service and probes reach
/// it; it refuses that bind without auth, which openclaw.json sets to a token.
pub fn gateway_command() -> Vec<String> {
    [
        "node",
        "/app/dist/index.js",
        "gateway",
        "--bind",
        "lan",
        "--port",
        "18789",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The init container's script: openclaw.json readable by its owner only (the security
/// audit flags anything wider), managed files copied at every start, seed files only
/// when absent, tracked files when absent or when the fleet's version changed; a
/// multi-agent gateway's files go to each agent's workspace ([`workspace_dir`]) from
/// its own ConfigMap folder, `agents/<id>/`, its records under `.clawctl/agents/<id>/`.
/// Static text: file names and agent ids reach it only as ConfigMap item paths (the
/// folder tells the mode), never as shell words.
///
/// Tracked files: the SHA-256 of the fleet's version last written is recorded on the
/// volume (`.clawctl/digests/NAME.sha256` in the state directory, beside the workspace
/// so the agent's file tools, confined to the workspace, do not see it). At start the
/// file is written when it is absent or the fleet's digest differs from the recorded
/// one (the fleet changed it: the fleet wins), and left alone otherwise (the agent may
/// have refined it). An agent's edit that a fleet change replaces is kept as
/// `.clawctl/replaced/NAME`, so nothing the agent wrote is lost without a trace. A
/// volume without a record (a new agent, or a file that was `managed` or `seed`
/// before) gets the fleet's version. `sha256sum` is GNU coreutils' (the image is
/// Debian-based).
pub const INIT_SCRIPT: &str = r#"set -eu
state=/home/node/.openclaw
mkdir -p "$state"
# Never write through a link: what is written is removed first, and a folder written
# into that is a link (the agent's tools or an old restore could have left one) goes.
unlink_dir() {
  if [ -L "$1" ]; then rm -f "$1"; fi
  mkdir -p "$1"
}
rm -f "$state/openclaw.json"
cp -L /clawctl/openclaw.json "$state/openclaw.json"
chmod 600 "$state/openclaw.json"
# place FILES WORKSPACE RECORDS: one workspace's managed, seed and tracked files.
place() {
  ws="$2"
  digests="$3/digests"
  replaced="$3/replaced"
  unlink_dir "$3"
  unlink_dir "$ws"
  for f in "$1"/managed/*; do
    if [ -f "$f" ]; then rm -f "$ws/${f##*/}"; cp -L "$f" "$ws/"; fi
  done
  for f in "$1"/seed/*; do
    if [ -L "$ws/${f##*/}" ]; then rm -f "$ws/${f##*/}"; fi
    if [ -f "$f" ] && [ ! -e "$ws/${f##*/}" ]; then cp -L "$f" "$ws/"; fi
  done
  for f in "$1"/tracked/*; do
    if [ ! -f "$f" ]; then continue; fi
    name="${f##*/}"
    if [ -L "$ws/$name" ]; then rm -f "$ws/$name"; fi
    new="$(sha256sum < "$f")"
    new="${new%% *}"
    old=""
    if [ -f "$digests/$name.sha256" ] && [ ! -L "$digests/$name.sha256" ]; then old="$(cat "$digests/$name.sha256")"; fi
    if [ -e "$ws/$name" ] && [ "$new" = "$old" ]; then continue; fi
    if [ -f "$ws/$name" ]; then
      have="$(sha256sum < "$ws/$name")"
      have="${have%% *}"
      if [ "$have" != "$old" ] && [ "$have" != "$new" ]; then
        unlink_dir "$replaced"
        rm -f "$replaced/$name"
        cp "$ws/$name" "$replaced/$name"
      fi
    fi
    unlink_dir "$digests"
    rm -f "$ws/$name" "$digests/$name.sha256"
    cp -L "$f" "$ws/"
    printf '%s\n' "$new" > "$digests/$name.sha256"
  done
}
place /clawctl/ "$state/workspace" "$state/.clawctl"
for d in /clawctl/agents/*; do
  if [ -d "$d" ]; then
    place "$d" "$state/workspace-${d##*/}" "$state/.clawctl/agents/${d##*/}"
  fi
done
"#;

/// A channel that a release loads as a plugin rather than having it built in.
///
/// Plugins are part of the image, never installed when the pod starts (that would need
/// the npm registry reachable from every agent and fetch code at every restart): an
/// image built `FROM ghcr.io/openclaw/openclaw:<release>` with
/// `RUN npm install -g <package>@<release>` has it under [`ChannelPlugin::path`].
/// OpenClaw 2026.9 does not search npm's global root by itself, and loads a plugin found
/// through `plugins.load.paths` only when `plugins.entries.<id>.enabled` trusts it; a
/// trusted plugin that is missing stops the gateway from starting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelPlugin {
    /// The plugin's id in `plugins.entries`.
    pub id: &'static str,
    /// The npm package it comes from, installed at the image's OpenClaw release.
    pub package: &'static str,
}

impl ChannelPlugin {
    /// Where `npm install -g` puts the package in the image (node images' npm prefix is
    /// /usr/local).
    pub fn path(&self) -> String {
        format!("/usr/local/lib/node_modules/{}", self.package)
    }
}

/// The plugin `channel` needs on `dialect`, if it is not built in. Telegram stays built
/// in on 2026.9; Slack, Discord and WhatsApp moved to `@openclaw/<channel>`.
pub fn channel_plugin(dialect: Dialect, channel: &str) -> Option<ChannelPlugin> {
    const PLUGINS: [ChannelPlugin; 3] = [
        ChannelPlugin {
            id: "slack",
            package: "@openclaw/slack",
        },
        ChannelPlugin {
            id: "discord",
            package: "@openclaw/discord",
        },
        ChannelPlugin {
            id: "whatsapp",
            package: "@openclaw/whatsapp",
        },
    ];
    if dialect < Dialect::V2026_9 {
        return None;
    }
    PLUGINS.into_iter().find(|p| p.id == channel)
}

/// The plugin a model provider's models make `dialect` look for at every start, when the
/// stock image lacks it: OpenClaw 2026.9 resolves `openai/*` models through its Codex
/// runtime plugin and, when it is missing, tries to install it from npm before it
/// listens (~75 s where the registry is unreachable, measured by the conformance suite).
pub fn provider_plugin(dialect: Dialect, provider: &str) -> Option<&'static str> {
    match (dialect, provider) {
        (Dialect::V2026_9, "openai") => Some("@openclaw/codex"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_tools_are_denied_one_by_one_or_as_a_group() {
        let deny = |d: &[&str]| d.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(runtime_tools_denied(&deny(&[
            "exec",
            "process",
            "code_execution",
            "gateway"
        ])));
        assert!(runtime_tools_denied(&deny(&["group:runtime"])));
        assert!(!runtime_tools_denied(&deny(&["exec"])));
        assert!(!runtime_tools_denied(&deny(&[])));
    }

    #[test]
    fn extra_mounts_may_not_cover_the_state_directory() {
        for bad in [
            "/",
            "/home",
            "/home/node",
            STATE_DIR,
            "/home/node/.openclaw/x",
            "/tmp",
            "/tmp/a",
            "/clawctl",
        ] {
            assert!(mount_conflict(bad).is_some(), "{bad}");
        }
        for good in [
            "/mnt/gigs",
            "/home/node/.ssh",
            "/home/node/.openclawx",
            "/tmpx",
            "/data",
        ] {
            assert_eq!(mount_conflict(good), None, "{good}");
        }
    }

    /// Runs [`INIT_SCRIPT`] with `sh` as the init container would, its two fixed paths
    /// moved into temporary folders (the text is otherwise unchanged).
    struct Pod {
        dir: tempfile::TempDir,
    }

    impl Pod {
        fn new() -> Pod {
            let pod = Pod {
                dir: tempfile::tempdir().expect("temp dir"),
            };
            pod.config("openclaw.json", "{}");
            pod
        }

        fn path(&self, rel: &str) -> std::path::PathBuf {
            self.dir.path().join(rel)
        }

        /// Puts `content` at `rel` in the ConfigMap mount (`tracked/SOUL.md`).
        fn config(&self, rel: &str, content: &str) {
            let path = self.path("clawctl").join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, content).expect("write");
        }

        fn start(&self) {
            let root = self.dir.path().to_str().expect("utf-8 temp path");
            let script = INIT_SCRIPT
                .replace(STATE_DIR, &format!("{root}/state"))
                .replace(&format!("{CONFIG_MOUNT}/"), &format!("{root}/clawctl/"));
            // Every fixed path moved: none of the pod's own is left.
            assert!(!script.contains(HOME));
            assert_eq!(
                INIT_SCRIPT.matches("/clawctl/").count(),
                script.matches(&format!("{root}/clawctl/")).count()
            );
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(&script)
                .output()
                .expect("run sh");
            assert!(
                out.status.success(),
                "init script failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }

        fn workspace(&self, name: &str) -> Option<String> {
            std::fs::read_to_string(self.path("state/workspace").join(name)).ok()
        }

        fn edit(&self, name: &str, content: &str) {
            std::fs::write(self.path("state/workspace").join(name), content).expect("edit");
        }

        fn replaced(&self, name: &str) -> Option<String> {
            std::fs::read_to_string(self.path("state/.clawctl/replaced").join(name)).ok()
        }
    }

    #[test]
    fn a_multi_agent_gateways_files_go_to_each_agents_workspace() {
        let pod = Pod::new();
        pod.config("agents/work/managed/SOUL.md", "work\n");
        pod.config("agents/support/seed/USER.md", "user\n");
        pod.config("agents/support/tracked/AGENTS.md", "rules v1\n");
        pod.start();
        let read = |rel: &str| std::fs::read_to_string(pod.path(rel)).ok();
        assert_eq!(
            read("state/workspace-work/SOUL.md").as_deref(),
            Some("work\n")
        );
        assert_eq!(
            read("state/workspace-support/USER.md").as_deref(),
            Some("user\n")
        );
        assert_eq!(
            read("state/workspace-support/AGENTS.md").as_deref(),
            Some("rules v1\n")
        );
        assert!(
            pod.path("state/.clawctl/agents/support/digests/AGENTS.md.sha256")
                .is_file()
        );
        // Nothing of theirs lands in the default workspace.
        assert_eq!(pod.workspace("SOUL.md"), None);
        // The support agent's edit of its tracked file survives a restart.
        std::fs::write(pod.path("state/workspace-support/AGENTS.md"), "refined\n").expect("edit");
        pod.start();
        assert_eq!(
            read("state/workspace-support/AGENTS.md").as_deref(),
            Some("refined\n")
        );
    }

    #[test]
    fn the_init_script_never_writes_through_a_link() {
        let pod = Pod::new();
        pod.config("openclaw.json", "{\"rendered\": true}");
        pod.config("managed/AGENTS.md", "agents\n");
        pod.config("seed/USER.md", "user\n");
        pod.config("tracked/SOUL.md", "soul\n");
        let target = pod.path("state/workspace/notes");
        std::fs::create_dir_all(&target).expect("mkdir");
        let link = |name: &str, to: &std::path::Path| {
            let at = pod.path("state").join(name);
            std::fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
            std::os::unix::fs::symlink(to, at).expect("symlink");
        };
        // An old restore's (or the agent's) links to files its tools can edit.
        link("openclaw.json", &target.join("cfg.json"));
        link("workspace/AGENTS.md", &target.join("a.md"));
        link("workspace/USER.md", &target.join("u.md"));
        link("workspace/SOUL.md", &target.join("s.md"));
        link(".clawctl", &target.join("records"));
        pod.start();
        assert_eq!(
            std::fs::read_dir(&target).expect("read").count(),
            0,
            "something was written through a link"
        );
        let state = pod.path("state");
        for name in [
            "openclaw.json",
            "workspace/AGENTS.md",
            "workspace/USER.md",
            "workspace/SOUL.md",
            ".clawctl",
        ] {
            let meta = std::fs::symlink_metadata(state.join(name)).expect(name);
            assert!(!meta.file_type().is_symlink(), "{name} is still a link");
        }
        assert_eq!(
            std::fs::read_to_string(state.join("openclaw.json")).expect("config"),
            "{\"rendered\": true}"
        );
        assert_eq!(pod.workspace("USER.md").as_deref(), Some("user\n"));
        assert_eq!(pod.workspace("SOUL.md").as_deref(), Some("soul\n"));
    }

    #[test]
    fn the_init_script_names_no_file() {
        // File names reach the script only as ConfigMap item paths, never as shell words.
        for word in ["SOUL.md", "AGENTS.md", "USER.md"] {
            assert!(!INIT_SCRIPT.contains(word), "{word}");
        }
    }

    #[test]
    fn tracked_files_keep_the_agents_edits_until_the_fleet_changes_them() {
        let pod = Pod::new();
        pod.config("tracked/SOUL.md", "fleet v1\n");
        pod.config("managed/AGENTS.md", "agents v1\n");
        pod.config("seed/USER.md", "user v1\n");

        // First start: every file is written, the tracked one's digest recorded.
        pod.start();
        assert_eq!(pod.workspace("SOUL.md").as_deref(), Some("fleet v1\n"));
        assert_eq!(pod.workspace("AGENTS.md").as_deref(), Some("agents v1\n"));
        assert_eq!(pod.workspace("USER.md").as_deref(), Some("user v1\n"));
        let digest = std::fs::read_to_string(pod.path("state/.clawctl/digests/SOUL.md.sha256"))
            .expect("digest recorded");
        assert_eq!(digest.trim().len(), 64, "{digest:?}");

        // The agent edits its files; a restart keeps its tracked and seed edits, and
        // restores the managed file.
        pod.edit("SOUL.md", "agent's own\n");
        pod.edit("AGENTS.md", "agent's own\n");
        pod.edit("USER.md", "agent's own\n");
        pod.start();
        assert_eq!(pod.workspace("SOUL.md").as_deref(), Some("agent's own\n"));
        assert_eq!(pod.workspace("AGENTS.md").as_deref(), Some("agents v1\n"));
        assert_eq!(pod.workspace("USER.md").as_deref(), Some("agent's own\n"));
        assert_eq!(pod.replaced("SOUL.md"), None);

        // The fleet changes the file: the fleet wins, the agent's edit is kept aside.
        pod.config("tracked/SOUL.md", "fleet v2\n");
        pod.start();
        assert_eq!(pod.workspace("SOUL.md").as_deref(), Some("fleet v2\n"));
        assert_eq!(pod.replaced("SOUL.md").as_deref(), Some("agent's own\n"));

        // Edited again, restarted: kept.
        pod.edit("SOUL.md", "agent's second\n");
        pod.start();
        assert_eq!(
            pod.workspace("SOUL.md").as_deref(),
            Some("agent's second\n")
        );

        // The fleet goes back to v1: a change too, so written again.
        pod.config("tracked/SOUL.md", "fleet v1\n");
        pod.start();
        assert_eq!(pod.workspace("SOUL.md").as_deref(), Some("fleet v1\n"));
        assert_eq!(pod.replaced("SOUL.md").as_deref(), Some("agent's second\n"));

        // Deleted by the agent: written again at the next start.
        std::fs::remove_file(pod.path("state/workspace/SOUL.md")).expect("rm");
        pod.start();
        assert_eq!(pod.workspace("SOUL.md").as_deref(), Some("fleet v1\n"));
    }

    #[test]
    fn a_seed_file_turned_tracked_gets_the_fleets_version_and_keeps_the_agents_aside() {
        let pod = Pod::new();
        pod.config("seed/USER.md", "seed\n");
        pod.start();
        pod.edit("USER.md", "agent's own\n");
        std::fs::remove_dir_all(pod.path("clawctl/seed")).expect("rm");
        pod.config("tracked/USER.md", "seed\n");
        pod.start();
        assert_eq!(pod.workspace("USER.md").as_deref(), Some("seed\n"));
        assert_eq!(pod.replaced("USER.md").as_deref(), Some("agent's own\n"));
        // From then on the agent's edits are kept.
        pod.edit("USER.md", "agent's again\n");
        pod.start();
        assert_eq!(pod.workspace("USER.md").as_deref(), Some("agent's again\n"));
    }

    #[test]
    fn file_names_with_shell_characters_stay_names() {
        // Workspace names are letters, digits, '-', '_' and '.'; a name the shell would
        // treat specially (a glob, a space) still is only a path.
        let pod = Pod::new();
        pod.config("tracked/a b*.md", "x\n");
        pod.start();
        assert_eq!(pod.workspace("a b*.md").as_deref(), Some("x\n"));
        pod.start();
        assert_eq!(pod.workspace("a b*.md").as_deref(), Some("x\n"));
    }

    #[test]
    fn secret_env_ids_follow_openclaws_pattern() {
        assert!(secret_env_id("LITELLM_API_KEY").is_ok());
        assert!(secret_env_id("litellm_key").is_err());
        assert!(secret_env_id("1KEY").is_err());
        assert!(secret_env_id("").is_err());
    }
}
