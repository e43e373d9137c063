//! Snapshots are their owner's: the knowledge example (`fleets/knowledge.yaml`) against
//! moto's S3 with IAM enforced, each agent with an IAM user holding the policy the
//! book recommends for its role (read from `docs/src/snapshots.md`, so the docs are what
//! is tested). The reader (support, `readOnly` from research) pulls the shared folder with
//! its rendered pull container, but cannot list or read research's snapshots, new or
//! taken before they moved out of the folder; research's rendered snapshot Jobs write,
//! list and restore its own.
//!
//! How moto enforces IAM on S3: after `INITIAL_NO_AUTH_ACTION_COUNT` requests every
//! request is signed by an access key whose user's policies must allow the action
//! (`s3:ListBucket`, `s3:GetObject`, ...) on the resource (the bucket's or the object's
//! ARN); an explicit Deny wins. Its condition evaluator, though, only knows
//! `sts:ExternalId` and `StringEquals` (moto/iam/policy_conditions.py), and treats an
//! `Allow` whose condition fails as a Deny; so a listing limited by `s3:prefix` would be
//! allowed for every prefix. [`SERVER`] starts moto with the three things AWS does
//! that it lacks: ListBucket's `s3:prefix` key from the request's `prefix`, `StringLike`,
//! and a failed condition making a statement not apply (a missing key fails it).

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clawctl::snapshot::Operation;
use clawctl::yaml::parse_documents;
use serde_json::Value;

use crate::harness::{Test, repo};
use crate::knowledge::{Keys, Moto, container, find_moto, on_path, rclone, try_rclone, write};
use crate::snapshot_bucket::{files, job_container, job_container_legacy, run};

/// moto's server with `s3:prefix` conditions evaluated as AWS does.
const SERVER: &str = r#"
import re, sys
from urllib.parse import urlparse, parse_qs
import moto.iam.access_control as ac
import moto.iam.policy_conditions as pc

def like(expected, actual):
    pats = [expected] if isinstance(expected, str) else expected
    return any(re.fullmatch(re.escape(p).replace(r"\*", ".*").replace(r"\?", "."), actual) for p in pats)
pc.CONDITION_OPERATIONS["StringLike"] = like

def verify(self, actual_values):
    if self._condition not in pc.CONDITION_OPERATIONS:
        raise ValueError("condition operator not modelled: " + self._condition)
    if not actual_values:
        return False
    op = pc.CONDITION_OPERATIONS[self._condition]
    return all(op(self._expected_value[i], v) for i, v in enumerate(actual_values))
pc.TrustCondition.verify_condition = verify

statement = ac.IAMPolicyStatement.is_action_permitted
def permitted(self, action, resource="*", principal=None, values=None):
    if self._statement.get("Condition") and not self._check_conditions(values):
        return ac.PermissionResult.NEUTRAL
    return statement(self, action, resource, principal, values)
ac.IAMPolicyStatement.is_action_permitted = permitted

def check(self, resource):
    query = parse_qs(urlparse(self._path).query, keep_blank_values=True)
    values = {"s3:prefix": query["prefix"][0]} if "prefix" in query else {}
    allowed = False
    for policy in self._access_key.collect_policies():
        result = ac.IAMPolicy(policy).is_action_permitted(self._action, resource, None, values)
        if result == ac.PermissionResult.DENIED:
            self._raise_access_denied()
        allowed = allowed or result == ac.PermissionResult.PERMITTED
    if not allowed:
        self._raise_access_denied()
ac.S3IAMRequest.check_action_permitted = check

from moto.server import main
sys.exit(main())
"#;

/// Creates the example's bucket and two users with the book's policies; prints keys.
/// 7 requests: the unauthenticated ones moto allows.
const SETUP: &str = r#"
import json, sys, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="eu-west-1",
          aws_access_key_id="setup", aws_secret_access_key="setup")
iam, s3 = boto3.client("iam", **kw), boto3.client("s3", **kw)
s3.create_bucket(Bucket="acme-agent-knowledge",
                 CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
keys = {}
for user, policy in [("writer", sys.argv[2]), ("reader", sys.argv[3])]:
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="knowledge", PolicyDocument=policy)
    k = iam.create_access_key(UserName=user)["AccessKey"]
    keys[user] = [k["AccessKeyId"], k["SecretAccessKey"]]
print(json.dumps(keys))
"#;

/// The JSON block after `<!-- iam:NAME -->` in the book's chapter on snapshots.
fn book_policy(name: &str) -> String {
    let chapter =
        std::fs::read_to_string(repo().join("docs/src/snapshots.md")).expect("snapshots.md");
    let marker = format!("<!-- iam:{name} -->");
    let after = &chapter[chapter.find(&marker).expect("policy marker") + marker.len()..];
    let body = after
        .split_once("```json\n")
        .expect("json block")
        .1
        .split_once("```")
        .expect("block end")
        .0;
    let _: Value = serde_json::from_str(body).expect("the book's policy is JSON");
    body.to_string()
}

fn python_beside(bin: &Path) -> std::path::PathBuf {
    let python = bin.with_file_name("python");
    if python.is_file() {
        python
    } else {
        "python3".into()
    }
}

fn start(bin: &Path) -> (Moto, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(python_beside(bin))
        .args(["-c", SERVER, "-H", "127.0.0.1", "-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", "7")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let moto = Moto(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    (moto, port)
}

/// The knowledge example, its bucket on moto and its keys in `kb-bucket-keys` (what
/// the tests' runner stands in for), rendered.
fn rendered_example(port: u16) -> Vec<Value> {
    let example = std::fs::read_to_string(repo().join("fleets/knowledge.yaml")).expect("example");
    let bucket = "s3: {bucket: acme-agent-knowledge, region: eu-west-1}";
    assert!(example.contains(bucket), "the example's bucket moved");
    let fleet = example.replace(
        bucket,
        &format!(
            "s3: {{bucket: acme-agent-knowledge, region: eu-west-1, endpoint: \"http://127.0.0.1:{port}\"}}\n      credentialsSecret: kb-bucket-keys"
        ),
    );
    let mut test = Test::new().file("fleet.yaml", &fleet);
    for soul in ["researcher.md", "support.md"] {
        let text = std::fs::read_to_string(repo().join("fleets/souls").join(soul)).expect("soul");
        test = test.file(&format!("souls/{soul}"), &text);
    }
    let out = test.args(&["render", "fleet.yaml"]).success();
    parse_documents(&out.stdout).expect("rendered output parses")
}

fn denied(result: Result<String, String>, what: &str) {
    match result {
        Ok(out) => panic!("{what}: allowed, got {out:?}"),
        Err(e) => assert!(
            e.contains("AccessDenied") || e.contains("403"),
            "{what}: failed, but not as denied: {e}"
        ),
    }
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn the_readers_policy_reaches_no_snapshot_and_the_writers_its_own() {
    if on_path("rclone").is_none() {
        panic!(
            "cannot run (snapshot IAM: rclone is not installed (.ci/run installs it)): install what .ci/run installs"
        )
    }
    let Some(moto_bin) = find_moto() else {
        panic!(
            "cannot run (snapshot IAM: moto_server is not installed (.ci/run installs it)): install what .ci/run installs"
        )
    };
    let (_moto, port) = start(&moto_bin);
    let out = Command::new(python_beside(&moto_bin))
        .args([
            "-c",
            SETUP,
            &format!("http://127.0.0.1:{port}"),
            &book_policy("writer"),
            &book_policy("reader"),
        ])
        .env_remove("AWS_CA_BUNDLE")
        .env_remove("REQUESTS_CA_BUNDLE")
        .output()
        .expect("run the setup");
    assert!(
        out.status.success(),
        "setup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys: Value = serde_json::from_slice(&out.stdout).expect("keys");
    let pair = |u: &str| {
        Keys(
            keys[u][0].as_str().expect("id").into(),
            keys[u][1].as_str().expect("secret").into(),
        )
    };
    let (writer, reader) = (pair("writer"), pair("reader"));

    let docs = rendered_example(port);
    let pull_w = container(&docs, "research", "knowledge-pull").expect("research's pull");
    let pull_r = container(&docs, "support", "knowledge-pull").expect("support's pull");
    assert_eq!(
        pull_r["env"]
            .as_array()
            .expect("env")
            .iter()
            .find(|e| e["name"] == "KNOWLEDGE_REMOTE")
            .expect("remote")["value"],
        "knowledge:acme-agent-knowledge/agents/research",
        "support reads research's folder"
    );
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("mkdir");

    // Research's brain: what it shares, and what it keeps to itself.
    let a = tmp.path().join("research");
    write(&a.join("workspace/knowledge/tea.md"), "tea is shared\n");
    write(&a.join("workspace/SOUL.md"), "research's own soul\n");
    write(&a.join("workspace/USER.md"), "research's user\n");
    rclone(
        &pull_w,
        &home,
        &writer,
        &[
            "copy",
            a.join("workspace/knowledge").to_str().expect("utf-8"),
            "knowledge:acme-agent-knowledge/agents/research/workspace/knowledge",
        ],
    );

    // Research's snapshot Job writes its snapshot and restores it; its role lists them.
    let id = "20261202-011503";
    let snapshots = "knowledge:acme-agent-knowledge/agents/.clawctl-snapshots/research";
    let remote = format!("{snapshots}/{id}");
    let backup = job_container(&docs, "research", Operation::Backup, &remote);
    let out = run(&backup, &a, &home, &writer);
    assert!(
        out.status.success(),
        "backup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = rclone(&backup, &home, &writer, &["lsf", "-R", &remote]);
    assert!(
        listing.lines().any(|l| l == "workspace/SOUL.md"),
        "{listing}"
    );
    assert_eq!(
        rclone(&backup, &home, &writer, &["lsf", snapshots]),
        format!("{id}/\n")
    );
    // One taken where earlier releases put them (inside the shared folder).
    let old_id = "20260101-000000";
    let old = format!(
        "knowledge:acme-agent-knowledge/agents/research/.clawctl-snapshots/research/{old_id}"
    );
    let out = run(
        &job_container(&docs, "research", Operation::Backup, &old),
        &a,
        &home,
        &writer,
    );
    assert!(
        out.status.success(),
        "old-place backup: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let b = tmp.path().join("research-restored");
    write(&b.join("workspace/SOUL.md"), "changed since\n");
    let restore = job_container_legacy(
        &docs,
        "research",
        Operation::Restore,
        &remote,
        Some(&format!(
            "knowledge:acme-agent-knowledge/agents/research/.clawctl-snapshots/research/{id}"
        )),
    );
    let out = run(&restore, &b, &home, &writer);
    assert!(
        out.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files(&b)["workspace/SOUL.md"], b"research's own soul\n");
    // And the old one, through the fallback.
    let c = tmp.path().join("research-from-old");
    std::fs::create_dir_all(&c).expect("mkdir");
    let restore_old = job_container_legacy(
        &docs,
        "research",
        Operation::Restore,
        &format!("{snapshots}/{old_id}"),
        Some(&old),
    );
    let out = run(&restore_old, &c, &home, &writer);
    assert!(
        out.status.success(),
        "old restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files(&c)["workspace/USER.md"], b"research's user\n");

    // Support: its rendered pull takes the shared knowledge, and only that.
    let s = tmp.path().join("support");
    std::fs::create_dir_all(&s).expect("mkdir");
    let out = crate::knowledge::command_for(&pull_r, &s, &home, &reader)
        .output()
        .expect("pull");
    assert!(
        out.status.success(),
        "support's pull: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pulled = files(&s);
    assert_eq!(pulled["workspace/knowledge/tea.md"], b"tea is shared\n");
    assert!(!pulled.contains_key("workspace/SOUL.md"), "{pulled:?}");

    // Support cannot list or read research's snapshots, new or old.
    let r = |args: &[&str]| try_rclone(&pull_r, &home, &reader, args);
    denied(r(&["lsf", snapshots]), "support lists research's snapshots");
    denied(
        r(&[
            "lsf",
            "knowledge:acme-agent-knowledge/agents/.clawctl-snapshots",
        ]),
        "support lists every agent's snapshots",
    );
    denied(
        r(&["lsf", "knowledge:acme-agent-knowledge/agents"]),
        "support lists the prefix",
    );
    denied(
        r(&["cat", &format!("{remote}/workspace/SOUL.md")]),
        "support reads a snapshot's SOUL.md",
    );
    denied(
        r(&[
            "lsf",
            "knowledge:acme-agent-knowledge/agents/research/.clawctl-snapshots/research",
        ]),
        "support lists the old snapshots",
    );
    denied(
        r(&["cat", &format!("{old}/workspace/SOUL.md")]),
        "support reads an old snapshot's SOUL.md",
    );
    write(&s.join("workspace/knowledge/coffee.md"), "support's note\n");
    denied(
        r(&[
            "copyto",
            s.join("workspace/knowledge/coffee.md")
                .to_str()
                .expect("utf-8"),
            "knowledge:acme-agent-knowledge/agents/research/workspace/knowledge/coffee.md",
        ]),
        "support writes the shared folder",
    );
    std::fs::remove_file(s.join("workspace/knowledge/coffee.md")).expect("rm");
    // A clone of research into support, with support's own identity, finds nothing.
    let clone = job_container_legacy(
        &docs,
        "support",
        Operation::Restore,
        &remote,
        Some(&format!(
            "knowledge:acme-agent-knowledge/agents/research/.clawctl-snapshots/research/{id}"
        )),
    );
    let before = files(&s);
    let out = run(&clone, &s, &home, &reader);
    assert!(
        !out.status.success(),
        "support restored research's snapshot"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no finished snapshot"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files(&s), before);
}
