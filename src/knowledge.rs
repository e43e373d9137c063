//! What clawctl knows about keeping an agent's knowledge in a bucket with rclone: the
//! image, the remote, what never syncs, the filter rules, and the static pull and push
//! scripts with the environment they read. `fleet::resolve` checks the fleet's
//! `knowledge` into a [`Knowledge`]; `render` asks here for the containers' parts.
//!
//! Layout: the bucket mirrors OpenClaw's state directory under
//! `<bucket>/<prefix>/<agent>/`: `workspace/...`, a multi-agent gateway's
//! `workspace-<id>/...`, and `openclaw.json`. Pushes are `rclone copy --update`: they
//! never delete or roll back anything in the bucket (a file deleted locally stays
//! remote), and an overwritten object survives only in a versioned bucket, which is
//! what the fleet is expected to use.

use crate::brain::excludes;
use crate::fleet::model::KnowledgeMode;
use crate::openclaw::STATE_DIR;

/// The rclone image the sync containers run, pinned by tag: 1.68.2 is a patch release
/// of a line whose S3 and GCS backends, `copy --update` and environment-configured
/// remotes behave as the tests check them with Debian's rclone 1.60 (the flags used
/// here are older than both). Override with `knowledge.image`.
pub const RCLONE_IMAGE: &str = "docker.io/rclone/rclone:1.68.2";

/// The name of the rclone remote, configured through `RCLONE_CONFIG_KNOWLEDGE_*`.
pub const REMOTE: &str = "knowledge";

/// What syncs when the fleet does not say: every agent's workspace and openclaw.json.
pub const DEFAULT_INCLUDE: [&str; 3] = ["workspace/**", "workspace-*/**", "openclaw.json"];

/// What never syncs, whatever `include` says, is [`crate::brain::excludes`]: one list
/// for sync, snapshots, archives and restores, its rules first so they win (rclone's
/// first matching rule decides).
/// The pod's container names and the sync containers' scratch volume.
pub const PULL_CONTAINER: &str = "knowledge-pull";
pub const PUSH_CONTAINER: &str = "knowledge-push";
pub const TMP_VOLUME: &str = "knowledge-tmp";

/// The sync containers an agent's pod has for its knowledge, if any: a pull, and a push
/// when it writes.
pub fn containers(knowledge: Option<&Knowledge>) -> &'static [&'static str] {
    match knowledge.map(|k| k.mode) {
        None => &[],
        Some(KnowledgeMode::ReadOnly) => &[PULL_CONTAINER],
        Some(KnowledgeMode::ReadWrite) => &[PULL_CONTAINER, PUSH_CONTAINER],
    }
}

/// The sync containers' resources: requests, then limits, as (CPU, memory).
pub const REQUESTS: (&str, &str) = ("10m", "64Mi");
pub const LIMITS: (&str, &str) = ("500m", "256Mi");
/// [`LIMITS`] in millicores and bytes, to hold against `policy.maxResources`.
pub const LIMIT_MILLICORES: u128 = 500;
pub const LIMIT_BYTES: u128 = 256 * 1024 * 1024;

/// Default push interval.
pub const DEFAULT_INTERVAL_SECONDS: u64 = 15 * 60;
/// Shortest push interval: every push lists the bucket prefix.
pub const MIN_INTERVAL_SECONDS: u64 = 60;

/// Time added to the pod's grace period for the final push. The push container is a
/// native sidecar (an init container with `restartPolicy: Always`), which Kubernetes
/// stops only after the gateway has exited, so the final push sees the gateway's last
/// writes; it must still fit in the grace period the gateway's drain shares.
/// <https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/>
pub const FINAL_PUSH_SECONDS: u32 = 60;

/// A checked `knowledge` setting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Knowledge {
    pub backend: Backend,
    /// `<bucket>/<prefix>/<from>`, without a trailing '/'.
    pub path: String,
    pub mode: KnowledgeMode,
    pub interval_seconds: u64,
    /// Patterns relative to the state directory.
    pub include: Vec<String>,
    pub credentials_secret: Option<String>,
    pub image: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Backend {
    S3 {
        region: Option<String>,
        endpoint: Option<String>,
    },
    Gcs,
}

/// Which way a sync goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Pull,
    Push,
}

/// rclone filter rules (`--filter-from`): the excludes ([`excludes::rclone_rules`],
/// the agent's snapshots among them), on a pull also openclaw.json (clawctl renders it;
/// a pulled copy would only be overwritten, and an old one must never win) and the keys
/// no volume can hold ([`excludes::RCLONE_DOT_NAMES`]: one such key, written by anyone
/// who can write the folder, would fail every pull and so every start), then the
/// includes, then nothing else.
pub fn filter(include: &[String], direction: Direction) -> String {
    let pull = direction == Direction::Pull;
    let mut out = excludes::rclone_rules(pull);
    if pull {
        out.push_str(excludes::RCLONE_DOT_NAMES);
    }
    for pattern in include {
        out.push_str(&format!("+ /{pattern}\n"));
    }
    out.push_str("- **\n");
    out
}

/// Why `pattern` cannot be an include pattern, if it cannot: it is not a path inside
/// the state directory, rclone would never match it against a file (a `./` prefix, an
/// empty or `.` name, a trailing `/`), or it names an excluded path
/// ([`excludes::EXCLUDES`]): it matches one and spells the excluded name, as
/// `**/credentials/**` or `.env` do (`**` alone matches excluded paths too, but names
/// none of them: it means "everything else").
pub fn include_problem(pattern: &str) -> Option<String> {
    if pattern.trim().is_empty() {
        return Some("the pattern is empty".to_string());
    }
    if pattern.chars().any(char::is_control) {
        return Some(format!("{pattern:?} holds a control character"));
    }
    if pattern.starts_with('/') || pattern.split('/').any(|s| s == "..") {
        return Some(format!(
            "{pattern:?} must be relative to OpenClaw's state directory, without '..'"
        ));
    }
    if pattern.starts_with("./") || pattern.split('/').any(|s| s.is_empty() || s == ".") {
        let fixed: Vec<&str> = pattern
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        return Some(format!(
            "{pattern:?} never matches a file (rclone takes it literally, with its empty or \
             '.' names{}): write {:?}",
            if pattern.ends_with('/') {
                ", and a trailing '/' matches only folders"
            } else {
                ""
            },
            fixed.join("/") + if pattern.ends_with('/') { "/**" } else { "" }
        ));
    }
    let segments: Vec<&str> = pattern.split('/').collect();
    for e in excludes::EXCLUDES {
        let entry: Vec<&str> = e.path.split('/').collect();
        // The entry as a path (`*` as a name), and something under it.
        let names: Vec<String> = entry
            .iter()
            .map(|s| {
                if *s == "*" {
                    "main".into()
                } else {
                    s.replace('*', "")
                }
            })
            .collect();
        let mut example: Vec<&str> = names.iter().map(String::as_str).collect();
        let exact = glob_matches(&segments, &example);
        example.push("x");
        let under = glob_matches(&segments, &example);
        let name = entry.last().copied().unwrap_or_default().replace('*', "");
        if (exact || under) && segments.iter().any(|s| s.contains(name.as_str())) {
            return Some(format!(
                "{pattern:?} names {}/ ({}), which never syncs{}",
                e.path.trim_end_matches('*'),
                e.what,
                if segments.first() == Some(&"**") {
                    format!(
                        "; for folders of that name deeper down, start the pattern with \
                         the folder they are in (workspace/{pattern})"
                    )
                } else {
                    String::new()
                }
            ));
        }
    }
    None
}

/// Whether the rclone pattern `pattern` (split at `/`; `**` for any number of names)
/// matches the path `names`.
fn glob_matches(pattern: &[&str], names: &[&str]) -> bool {
    match pattern.first() {
        None => names.is_empty(),
        Some(&"**") => (0..=names.len()).any(|skip| glob_matches(&pattern[1..], &names[skip..])),
        Some(p) => {
            !names.is_empty()
                && excludes::name_matches(p, names[0])
                && glob_matches(&pattern[1..], &names[1..])
        }
    }
}

/// The pull script (an init container before clawctl's `workspace` one, so the fleet's
/// managed files overwrite pulled copies and seed files fill only what the bucket did
/// not have). `--update` keeps files newer on the volume than in the bucket (a pod that
/// stopped before it could push). Static text: every value comes from the environment.
///
/// A restore that lasts: a restore marks the volume ([`excludes::RESTORED_MARKER`]).
/// The next pull of an agent that writes its folder (`KNOWLEDGE_WRITES`) then does not
/// pull: it makes the folder equal to the restored brain (`rclone sync` to the bucket,
/// for the synced paths only: newer versions are overwritten and files the restore
/// removed deleted, kept as older versions in a versioned bucket), then removes the
/// mark; if that fails the init container fails and the pod retries, never pulling
/// over the restore. A `readOnly` agent's synced paths are its writer's: it pulls as
/// usual.
///
/// A bucket that does not exist fails the pull: rclone answers a listing of it with
/// "directory not found" (exit 3), and a folder that is only empty with nothing (exit
/// 0). Any other failure (an identity that cannot read) fails it with rclone's reason.
pub const PULL_SCRIPT: &str = r#"set -eu
printf '%s\n' "$KNOWLEDGE_FILTER" > "$HOME/knowledge.filter"
restored="$KNOWLEDGE_LOCAL/.clawctl-restored"
if [ -e "$restored" ] || [ -L "$restored" ]; then
  if [ "${KNOWLEDGE_WRITES:-false}" = true ]; then
    echo "clawctl: the brain was restored: making $KNOWLEDGE_REMOTE equal to it instead of pulling"
    rc=0
    rclone sync "$KNOWLEDGE_LOCAL" "$KNOWLEDGE_REMOTE" --filter-from "$HOME/knowledge.filter" --skip-links --log-level NOTICE || rc=$?
    if [ "$rc" -ne 0 ]; then
      echo "clawctl: making $KNOWLEDGE_REMOTE equal to the restored brain failed (rclone exit $rc); the next start tries again" >&2
      exit "$rc"
    fi
    rm -f "$restored"
    exit 0
  fi
  echo "clawctl: the brain was restored; $KNOWLEDGE_REMOTE is read-only here, so its files win"
  rm -f "$restored"
fi
rc=0
rclone copy "$KNOWLEDGE_REMOTE" "$KNOWLEDGE_LOCAL" --filter-from "$HOME/knowledge.filter" --update --skip-links --log-level NOTICE || rc=$?
if [ "$rc" -eq 3 ]; then
  echo "clawctl: the bucket of $KNOWLEDGE_REMOTE does not exist (rclone: directory not found); check knowledge.s3.bucket or knowledge.gcs.bucket" >&2
  exit 3
elif [ "$rc" -ne 0 ]; then
  echo "clawctl: pulling $KNOWLEDGE_REMOTE failed (rclone exit $rc)" >&2
  exit "$rc"
fi
"#;

/// The push script (a native sidecar): a push every `$KNOWLEDGE_INTERVAL` seconds and a
/// final one on SIGTERM, which Kubernetes sends it after the gateway has exited. A
/// failed push is logged and retried at the next interval. `copy`, never `sync`: no
/// remote object is ever deleted.
pub const PUSH_SCRIPT: &str = r#"set -u
printf '%s\n' "$KNOWLEDGE_FILTER" > "$HOME/knowledge.filter"
push() {
  rclone copy "$KNOWLEDGE_LOCAL" "$KNOWLEDGE_REMOTE" --filter-from "$HOME/knowledge.filter" --update --skip-links --log-level NOTICE \
    || echo "clawctl: pushing to $KNOWLEDGE_REMOTE failed (rclone exit $?)" >&2
}
sleeper=
trap 'if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null; fi; push; exit 0' TERM INT
while true; do
  sleep "$KNOWLEDGE_INTERVAL" &
  sleeper=$!
  wait "$sleeper" || true
  sleeper=
  push
done
"#;

/// The sync containers' environment: rclone's remote configured by variables
/// (`RCLONE_CONFIG_<REMOTE>_<OPTION>`, rclone's documented way), credentials from the
/// environment (`env_auth`: the Secret's `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, an
/// IRSA web identity token, or GCP application default credentials such as GKE's
/// metadata server), and what the scripts read.
pub fn env(k: &Knowledge, direction: Direction) -> Vec<(String, String)> {
    let var = |option: &str| format!("RCLONE_CONFIG_{}_{option}", REMOTE.to_uppercase());
    let mut env: Vec<(String, String)> = vec![
        ("HOME".into(), "/tmp".into()),
        ("RCLONE_CONFIG".into(), "/tmp/rclone.conf".into()),
        ("RCLONE_CACHE_DIR".into(), "/tmp/rclone".into()),
    ];
    match &k.backend {
        Backend::S3 { region, endpoint } => {
            env.push((var("TYPE"), "s3".into()));
            let provider = if endpoint.is_some() { "Other" } else { "AWS" };
            env.push((var("PROVIDER"), provider.into()));
            env.push((var("ENV_AUTH"), "true".into()));
            if let Some(region) = region {
                env.push((var("REGION"), region.clone()));
            }
            if let Some(endpoint) = endpoint {
                env.push((var("ENDPOINT"), endpoint.clone()));
            }
            // The agent may write objects, not create buckets.
            env.push((var("NO_CHECK_BUCKET"), "true".into()));
        }
        Backend::Gcs => {
            env.push((var("TYPE"), "google cloud storage".into()));
            env.push((var("ENV_AUTH"), "true".into()));
            env.push((var("BUCKET_POLICY_ONLY"), "true".into()));
        }
    }
    env.push(("KNOWLEDGE_REMOTE".into(), format!("{REMOTE}:{}", k.path)));
    env.push(("KNOWLEDGE_LOCAL".into(), STATE_DIR.into()));
    env.push(("KNOWLEDGE_FILTER".into(), filter(&k.include, direction)));
    if direction == Direction::Pull && k.mode == KnowledgeMode::ReadWrite {
        env.push(("KNOWLEDGE_WRITES".into(), "true".into()));
    }
    if direction == Direction::Push {
        env.push(("KNOWLEDGE_INTERVAL".into(), k.interval_seconds.to_string()));
    }
    env
}

/// The TCP port the bucket is reached on: the endpoint's, or HTTPS.
pub fn port(k: &Knowledge) -> u16 {
    let Backend::S3 {
        endpoint: Some(endpoint),
        ..
    } = &k.backend
    else {
        return 443;
    };
    endpoint_port(endpoint).unwrap_or(443)
}

/// The port of an `http(s)://host[:port][/path]` endpoint, or `None` when it is not one.
pub fn endpoint_port(endpoint: &str) -> Option<u16> {
    let (scheme, rest) = endpoint.split_once("://")?;
    let default = match scheme {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            match after {
                "" => (host, None),
                _ => (host, Some(after.strip_prefix(':')?)),
            }
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return None;
    }
    match port {
        None => Some(default),
        Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excludes_come_first_and_pulls_never_take_openclaw_json() {
        let include = vec!["workspace/**".to_string()];
        let pull = filter(&include, Direction::Pull);
        assert_eq!(
            pull,
            format!(
                "{}{}+ /workspace/**\n- **\n",
                excludes::rclone_rules(true),
                excludes::RCLONE_DOT_NAMES
            )
        );
        assert!(pull.contains("- /openclaw.json\n- /openclaw.json/**\n"));
        let push = filter(&include, Direction::Push);
        assert!(!push.contains("openclaw.json"));
        assert!(push.starts_with(&excludes::rclone_rules(false)));
        assert!(
            !push.contains(excludes::RCLONE_DOT_NAMES),
            "a volume holds no dot names"
        );
    }

    #[test]
    fn the_pull_script_reads_the_restores_mark() {
        assert!(PULL_SCRIPT.contains(&format!(
            "\"$KNOWLEDGE_LOCAL/{}\"",
            excludes::RESTORED_MARKER
        )));
    }

    #[test]
    fn include_patterns_stay_inside_and_away_from_secrets() {
        for good in [
            "workspace/memory/**",
            "**",
            "agents/**",
            "workspace/skills/credentials/**",
            "workspace/**/.env",
            "workspace-*/**",
            "openclaw.json",
        ] {
            assert_eq!(include_problem(good), None, "{good:?}");
        }
        for bad in [
            "",
            "/etc/**",
            "../x",
            "./workspace/**",
            "workspace//notes/**",
            "workspace/./notes/**",
            "workspace/",
            "credentials/**",
            "**/credentials/**",
            ".env",
            "**/.env",
            "identity/**",
            "agents/main/sessions/**",
            "agents/*/sessions/**",
            "agents/main/agent/openclaw-agent.sqlite",
            "agents/*/agent/codex-home/**",
            "state/openclaw.sqlite",
            "a\nb",
        ] {
            assert!(include_problem(bad).is_some(), "{bad:?}");
        }
        assert!(
            include_problem("./workspace/**").is_some_and(|p| p.contains("write \"workspace/**\""))
        );
    }

    #[test]
    fn endpoint_ports() {
        assert_eq!(endpoint_port("https://s3.example.com"), Some(443));
        assert_eq!(endpoint_port("http://minio.data.svc:9000"), Some(9000));
        assert_eq!(endpoint_port("http://minio/"), Some(80));
        assert_eq!(endpoint_port("http://[::1]:9000"), Some(9000));
        assert_eq!(endpoint_port("ftp://x"), None);
        assert_eq!(endpoint_port("https://"), None);
        assert_eq!(endpoint_port("https://x:0"), None);
        assert_eq!(endpoint_port("https://x:abc"), None);
        assert_eq!(endpoint_port("minio:9000"), None);
    }
}
