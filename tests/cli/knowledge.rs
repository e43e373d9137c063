//! Knowledge sync round trip: the rendered pull and push scripts, run with `sh` and a
//! real rclone against a real S3-compatible server on loopback (moto's server mode),
//! with temp folders standing in for the agent's volume. Skipped, saying why, when
//! rclone or moto is not installed (.ci/run installs both).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clawctl::yaml::parse_documents;
use serde_json::Value;

use crate::harness::{Test, repo};

pub(crate) const FLEET: &str = r#"apiVersion: clawctl.io/v1alpha1
kind: Fleet
metadata:
  name: kb
spec:
  image: ghcr.io/openclaw/openclaw:2026.4.14
  defaults:
    model: {primary: anthropic/claude-sonnet-4-20250514}
    knowledge:
      s3: {bucket: kb-test, region: us-east-1, endpoint: "ENDPOINT"}
      prefix: fleets/kb
      credentialsSecret: kb-bucket-keys
  teams:
    - name: lab
  agents:
    - name: writer
      # Everything, to show the hard excludes hold whatever `include` says.
      knowledge: {include: ["**"]}
    - name: reader
      knowledge: {from: writer, mode: readOnly}
"#;

/// moto's server, stopped when dropped.
pub(crate) struct Moto(pub(crate) Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn find_moto() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CLAWCTL_MOTO_SERVER") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    for venv in ["target/ci-venv", "target/s3-venv"] {
        let p = repo().join(venv).join("bin/moto_server");
        if p.is_file() {
            return Some(p);
        }
    }
    on_path("moto_server")
}

pub(crate) fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Creates the bucket and two IAM users, `writer` (s3:*) and `reader` (get and list
/// only), and prints their keys. moto enforces IAM after its first
/// [`SETUP_ACTIONS`] requests (`INITIAL_NO_AUTH_ACTION_COUNT`), which are these.
const SETUP: &str = r#"
import json, sys, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1",
          aws_access_key_id="setup", aws_secret_access_key="setup")
iam, s3 = boto3.client("iam", **kw), boto3.client("s3", **kw)
s3.create_bucket(Bucket="kb-test")
keys = {}
for user, actions in [("writer", ["s3:*"]), ("reader", ["s3:GetObject", "s3:ListBucket"])]:
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="knowledge", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    k = iam.create_access_key(UserName=user)["AccessKey"]
    keys[user] = [k["AccessKeyId"], k["SecretAccessKey"]]
print(json.dumps(keys))
"#;
const SETUP_ACTIONS: &str = "7";

/// An access key pair.
pub(crate) struct Keys(pub String, pub String);

pub(crate) fn setup_bucket(moto_bin: &Path, port: u16) -> (Keys, Keys) {
    let python = moto_bin.with_file_name("python");
    let python = if python.is_file() {
        python
    } else {
        PathBuf::from("python3")
    };
    let out = Command::new(python)
        .args(["-c", SETUP, &format!("http://127.0.0.1:{port}")])
        .env_remove("AWS_CA_BUNDLE")
        .env_remove("REQUESTS_CA_BUNDLE")
        .output()
        .expect("run the bucket setup");
    assert!(
        out.status.success(),
        "bucket setup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys: Value = serde_json::from_slice(&out.stdout).expect("keys");
    let pair = |user: &str| {
        Keys(
            keys[user][0].as_str().expect("id").to_string(),
            keys[user][1].as_str().expect("secret").to_string(),
        )
    };
    (pair("writer"), pair("reader"))
}

pub(crate) fn start_moto(bin: &Path) -> (Moto, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", SETUP_ACTIONS)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let moto = Moto(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    (moto, port)
}

/// A container of the agent's Deployment by name (init containers included).
pub(crate) fn container(docs: &[Value], agent: &str, name: &str) -> Option<Value> {
    let deployment = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == format!("agent-{agent}"))?;
    let spec = &deployment["spec"]["template"]["spec"];
    spec["initContainers"]
        .as_array()
        .into_iter()
        .chain(spec["containers"].as_array())
        .flatten()
        .find(|c| c["name"] == name)
        .cloned()
}

/// The container's script and environment, with the volume and $HOME moved to temp
/// folders and the Secret's keys (moto accepts any) standing in for `envFrom`.
pub(crate) fn command_for(c: &Value, state: &Path, home: &Path, keys: &Keys) -> Command {
    let script = c["command"][2].as_str().expect("script");
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script).env_clear();
    cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for e in c["env"].as_array().expect("env") {
        cmd.env(
            e["name"].as_str().expect("name"),
            e["value"].as_str().expect("value"),
        );
    }
    assert_eq!(c["envFrom"][0]["secretRef"]["name"], "kb-bucket-keys");
    cmd.env("HOME", home)
        .env("RCLONE_CONFIG", home.join("rclone.conf"))
        .env("KNOWLEDGE_LOCAL", state)
        .env("AWS_ACCESS_KEY_ID", &keys.0)
        .env("AWS_SECRET_ACCESS_KEY", &keys.1);
    cmd
}

/// rclone with the rendered remote, for setting up and inspecting the bucket.
pub(crate) fn rclone(c: &Value, home: &Path, keys: &Keys, args: &[&str]) -> String {
    try_rclone(c, home, keys, args).unwrap_or_else(|e| panic!("rclone {args:?}: {e}"))
}

pub(crate) fn try_rclone(
    c: &Value,
    home: &Path,
    keys: &Keys,
    args: &[&str],
) -> Result<String, String> {
    let sh = command_for(c, Path::new("/nonexistent"), home, keys);
    let mut rc = Command::new("rclone");
    rc.args(args).env_clear();
    for (k, v) in sh.get_envs() {
        if let Some(v) = v {
            rc.env(k, v);
        }
    }
    let out = rc.output().expect("run rclone");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn knowledge_round_trips_through_a_real_s3_server() {
    if on_path("rclone").is_none() {
        panic!(
            "cannot run (knowledge round trip: rclone is not installed (apt-get install rclone; .ci/run installs it)): install what .ci/run installs"
        )
    }
    let Some(moto_bin) = find_moto() else {
        panic!(
            "cannot run (knowledge round trip: moto_server is not installed (pip install 'moto[server]' into target/ci-venv; .ci/run installs it)): install what .ci/run installs"
        )
    };
    let started = Instant::now();
    let (_moto, port) = start_moto(&moto_bin);
    let (writer, reader) = setup_bucket(&moto_bin, port);
    let fleet = FLEET.replace("ENDPOINT", &format!("http://127.0.0.1:{port}"));
    let out = Test::new()
        .file("fleet.yaml", &fleet)
        .args(&["render", "fleet.yaml"])
        .success();
    let docs = parse_documents(&out.stdout).expect("rendered output parses");
    let pull = container(&docs, "writer", "knowledge-pull").expect("writer pulls");
    let push = container(&docs, "writer", "knowledge-push").expect("writer pushes");
    assert_eq!(push["restartPolicy"], "Always", "push is a native sidecar");

    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("home");
    let state = tmp.path().join("state");
    std::fs::create_dir_all(&home).expect("mkdir");
    let remote = "kb-test/fleets/kb/writer";

    // The bucket before the pod starts: knowledge from an earlier life, an old
    // openclaw.json and (never to be pulled) something under credentials/.
    let seed = tmp.path().join("seed");
    write(
        &seed.join("workspace/memory/2026-11-30.md"),
        "learned before\n",
    );
    write(&seed.join("openclaw.json"), "{\"old\": true}\n");
    write(&seed.join("credentials/leak.json"), "{}\n");
    rclone(
        &pull,
        &home,
        &writer,
        &[
            "copy",
            seed.to_str().expect("utf-8"),
            &format!("knowledge:{remote}"),
        ],
    );

    // The volume: state that must never leave it, and a rendered openclaw.json.
    write(
        &state.join("credentials/slack.json"),
        "{\"token\": \"xoxb\"}\n",
    );
    write(&state.join("agents/main/sessions/today.jsonl"), "{}\n");
    write(
        &state.join("agents/main/agent/auth-profiles.json"),
        "{\"anthropic\": \"sk-ant\"}\n",
    );
    write(&state.join("openclaw.json"), "{\"rendered\": true}\n");

    // Pull on start.
    let status = command_for(&pull, &state, &home, &writer)
        .status()
        .expect("pull");
    assert!(status.success(), "pull failed");
    assert_eq!(
        std::fs::read_to_string(state.join("workspace/memory/2026-11-30.md")).expect("pulled"),
        "learned before\n"
    );
    assert_eq!(
        std::fs::read_to_string(state.join("openclaw.json")).expect("config"),
        "{\"rendered\": true}\n",
        "a pull never replaces the rendered openclaw.json"
    );
    assert!(!state.join("credentials/leak.json").exists());

    // A change, pushed by the periodic push (interval shortened for the test), then
    // one more, pushed by the final push on SIGTERM.
    write(
        &state.join("workspace/memory/2026-12-01.md"),
        "learned today\n",
    );
    std::fs::remove_file(state.join("workspace/memory/2026-11-30.md")).expect("rm");
    let mut sidecar = command_for(&push, &state, &home, &writer)
        .env("KNOWLEDGE_INTERVAL", "1")
        .spawn()
        .expect("push");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listing = rclone(
            &pull,
            &home,
            &writer,
            &["lsf", "-R", &format!("knowledge:{remote}")],
        );
        if listing.contains("workspace/memory/2026-12-01.md") {
            break;
        }
        assert!(Instant::now() < deadline, "no periodic push: {listing}");
        std::thread::sleep(Duration::from_millis(250));
    }
    write(&state.join("workspace/MEMORY.md"), "# Memory\nlast words\n");
    let killed = Command::new("kill")
        .args(["-TERM", &sidecar.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = sidecar.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "push did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(exit.success(), "push exits 0 after its final push");

    let listing = rclone(
        &pull,
        &home,
        &writer,
        &["lsf", "-R", &format!("knowledge:{remote}")],
    );
    let files: Vec<&str> = listing.lines().filter(|l| !l.ends_with('/')).collect();
    assert!(
        files.contains(&"workspace/MEMORY.md"),
        "final push: {listing}"
    );
    assert!(
        files.contains(&"workspace/memory/2026-11-30.md"),
        "a push never deletes remote history: {listing}"
    );
    let ours = rclone(
        &pull,
        &home,
        &writer,
        &["cat", &format!("knowledge:{remote}/openclaw.json")],
    );
    assert_eq!(
        ours, "{\"rendered\": true}\n",
        "openclaw.json pushed for the record"
    );
    // Nothing of the volume's credentials/ or sessions/ (the seeded leak.json was put
    // there by the test, not pushed).
    for f in &files {
        assert!(
            !f.contains("sessions/")
                && !f.contains("auth-profiles")
                && *f != "credentials/slack.json",
            "{f} must never reach the bucket: {listing}"
        );
    }

    // The read-only agent pulls the writer's folder and has no way to write it: no
    // push container, and no container of its pod runs a push.
    let reader_pull = container(&docs, "reader", "knowledge-pull").expect("reader pulls");
    assert_eq!(
        reader_pull["env"]
            .as_array()
            .expect("env")
            .iter()
            .find(|e| e["name"] == "KNOWLEDGE_REMOTE")
            .map(|e| e["value"].clone()),
        Some(Value::from(format!("knowledge:{remote}")))
    );
    assert!(container(&docs, "reader", "knowledge-push").is_none());
    let reader_state = tmp.path().join("reader");
    let status = command_for(&reader_pull, &reader_state, &home, &reader)
        .status()
        .expect("reader pull");
    assert!(status.success());
    assert!(reader_state.join("workspace/MEMORY.md").is_file());
    // And its credentials cannot write: the server refuses (moto enforcing the IAM
    // policy of the `reader` user), whatever runs in its pod.
    write(
        &reader_state.join("workspace/forged.md"),
        "not mine to write\n",
    );
    let refused = try_rclone(
        &reader_pull,
        &home,
        &reader,
        &[
            "copy",
            reader_state.join("workspace").to_str().expect("utf-8"),
            &format!("knowledge:{remote}/workspace"),
        ],
    );
    let err = refused.expect_err("the read-only credentials wrote to the bucket");
    assert!(err.contains("AccessDenied"), "{err}");
    let listing = rclone(
        &pull,
        &home,
        &writer,
        &["lsf", "-R", &format!("knowledge:{remote}")],
    );
    assert!(!listing.contains("forged.md"), "{listing}");
    let deployment = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "agent-reader")
        .expect("reader deployment");
    let text = serde_json::to_string(deployment).expect("json");
    assert!(
        !text.contains("rclone copy \\\"$KNOWLEDGE_LOCAL\\\""),
        "the read-only agent's pod has no push path"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

/// What `knowledge` and `identity` put into the manifests, without rclone or a server.
#[test]
fn knowledge_and_identity_render_into_the_pod_and_service_account() {
    let fleet = r#"apiVersion: clawctl.io/v1alpha1
kind: Fleet
metadata:
  name: kb
spec:
  image: ghcr.io/openclaw/openclaw:2026.9.6
  defaults:
    model: {primary: anthropic/claude-sonnet-4-20250514}
    egress: [{ports: [443]}]
    knowledge:
      s3: {bucket: kb-1, endpoint: "http://minio.data.svc:9000"}
      credentialsSecret: kb-keys
  teams:
    - name: lab
  agents:
    - name: writer
      identity:
        gcp: {serviceAccount: writer@acme.iam.gserviceaccount.com}
        aws: {roleArn: "arn:aws:iam::123456789012:role/kb-writer"}
        azure: {clientId: 3f2504e0-4f89-11d3-9a0c-0305e82c3301}
    - name: reader
      knowledge: {from: writer, mode: readOnly, s3: {bucket: kb-1}}
      identity:
        aws: {roleArn: "arn:aws:iam::123456789012:role/kb-writer"}
    - name: plain
      knowledge: {gcs: {bucket: kb-1}}
    - name: browsing
      knowledge: {s3: {bucket: kb-1, region: eu-west-1}}
      identity:
        azure: {clientId: 3f2504e0-4f89-11d3-9a0c-0305e82c3301}
      sidecars:
        chrome: {image: "docker.io/chromedp/headless-shell:131.0.6778.85"}
"#;
    let out = Test::new()
        .file("fleet.yaml", fleet)
        .args(&["render", "fleet.yaml"])
        .success();
    let docs = parse_documents(&out.stdout).expect("parses");
    let find = |kind: &str, name: &str| {
        docs.iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("{kind} {name}"))
    };
    let pod = |agent: &str| &find("Deployment", &format!("agent-{agent}"))["spec"]["template"];
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .into_iter()
            .flatten()
            .map(|c| c["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };

    // The writer: pull before clawctl's workspace init container, push after it as a
    // native sidecar, the gateway alone in `containers`, the grace period grown.
    let w = pod("writer");
    assert_eq!(
        names(&w["spec"]["initContainers"]),
        ["knowledge-pull", "workspace", "knowledge-push"]
    );
    assert_eq!(names(&w["spec"]["containers"]), ["gateway"]);
    assert_eq!(w["spec"]["terminationGracePeriodSeconds"], 390);
    let push = &w["spec"]["initContainers"][2];
    assert_eq!(push["restartPolicy"], "Always");
    for c in [&w["spec"]["initContainers"][0], push] {
        assert_eq!(c["image"], "docker.io/rclone/rclone:1.68.2");
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
        assert_eq!(c["envFrom"][0]["secretRef"]["name"], "kb-keys");
    }
    // The bucket's keys never reach the gateway.
    assert!(
        w["spec"]["containers"][0]["envFrom"]
            .to_string()
            .find("kb-keys")
            .is_none()
    );
    assert_eq!(
        w["metadata"]["labels"]["azure.workload.identity/use"],
        "true"
    );
    assert!(
        find("Deployment", "agent-writer")["metadata"]["labels"]
            .get("azure.workload.identity/use")
            .is_none(),
        "the label is the pod's"
    );
    let sa = find("ServiceAccount", "agent-writer");
    let a = &sa["metadata"]["annotations"];
    assert_eq!(
        a["iam.gke.io/gcp-service-account"],
        "writer@acme.iam.gserviceaccount.com"
    );
    assert_eq!(
        a["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/kb-writer"
    );
    assert_eq!(
        a["azure.workload.identity/client-id"],
        "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    );
    assert_eq!(sa["automountServiceAccountToken"], false);
    // Only the knowledge containers get the cloud identity: the webhooks skip the rest
    // (EKS: comma-separated, Azure: semicolon-separated, both on the pod).
    let annotations = &w["metadata"]["annotations"];
    assert_eq!(
        annotations["eks.amazonaws.com/skip-containers"],
        "workspace,gateway"
    );
    assert_eq!(
        annotations["azure.workload.identity/skip-containers"],
        "workspace;gateway"
    );
    // The endpoint's port is let out; 443 was already.
    let egress = find("NetworkPolicy", "agent-writer")["spec"]["egress"].to_string();
    assert!(egress.contains("9000"), "{egress}");

    // The reader: a pull, no push, the default grace period, the writer's folder.
    let r = pod("reader");
    assert_eq!(
        names(&r["spec"]["initContainers"]),
        ["knowledge-pull", "workspace"]
    );
    assert_eq!(r["spec"]["terminationGracePeriodSeconds"], 330);
    assert_eq!(
        r["metadata"]["annotations"]["eks.amazonaws.com/skip-containers"],
        "workspace,gateway"
    );
    assert!(
        r["metadata"]["annotations"]
            .get("azure.workload.identity/skip-containers")
            .is_none()
    );
    let env = r["spec"]["initContainers"][0]["env"].to_string();
    assert!(env.contains("knowledge:kb-1/writer"), "{env}");
    // It shares the writer's IAM role: validate says the bucket cannot refuse its writes.
    let v = Test::new()
        .file("fleet.yaml", fleet)
        .args(&["validate", "fleet.yaml"])
        .success();
    assert!(
        v.stderr.contains("same cloud identity as agent \"writer\""),
        "{}",
        v.stderr
    );

    // GCS: its own rclone backend, HTTPS let out.
    let p = pod("plain");
    let env = p["spec"]["initContainers"][0]["env"].to_string();
    assert!(env.contains("google cloud storage"), "{env}");
    let egress = find("NetworkPolicy", "agent-plain")["spec"]["egress"].to_string();
    assert!(egress.contains("443"), "{egress}");
    assert!(
        find("ServiceAccount", "agent-plain")["metadata"]
            .get("annotations")
            .is_none()
    );
    // GKE's metadata server answers the whole pod: nothing to skip with (docs/src/knowledge.md).
    let annotations = p["metadata"]["annotations"]
        .as_object()
        .expect("annotations");
    assert!(
        annotations.keys().all(|k| !k.contains("skip-containers")),
        "{annotations:?}"
    );

    // A fleet's sidecars are skipped too.
    let b = pod("browsing");
    assert!(
        b["metadata"]["annotations"]
            .get("eks.amazonaws.com/skip-containers")
            .is_none(),
        "keys from a Secret and no AWS role: EKS injects nothing"
    );
    assert_eq!(
        b["metadata"]["annotations"]["azure.workload.identity/skip-containers"],
        "workspace;gateway;chrome"
    );
}

/// A multi-agent gateway syncs every hosted agent's workspace volume: the sync
/// containers mount them where the gateway does.
#[test]
fn a_multi_agent_gateway_syncs_every_workspace_volume() {
    let out = Test::new()
        .file(
            "fleet.yaml",
            r#"apiVersion: clawctl.io/v1alpha1
kind: Fleet
metadata:
  name: kb
spec:
  image: ghcr.io/openclaw/openclaw:2026.9.6
  defaults:
    model: {primary: anthropic/claude-sonnet-4-20250514}
  teams:
    - name: home
  agents:
    - name: house
      channels: [{channel: telegram}]
      knowledge: {gcs: {bucket: kb-1}}
      agents:
        - name: work
          bindings: [{channel: telegram}]
        - name: personal
"#,
        )
        .args(&["render", "fleet.yaml"])
        .success();
    let docs = parse_documents(&out.stdout).expect("parses");
    let spec = &docs
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("deployment")["spec"]["template"]["spec"];
    let mut checked = 0;
    for c in spec["initContainers"].as_array().expect("inits") {
        if c["name"] == "workspace" {
            continue;
        }
        let mounts = c["volumeMounts"].to_string();
        for dir in ["workspace-work", "workspace-personal"] {
            assert!(mounts.contains(dir), "{} lacks {dir}: {mounts}", c["name"]);
        }
        checked += 1;
    }
    assert!(checked > 0, "no knowledge init container: {spec}");
}

/// The sync containers stay within the policy, and a second writer to another agent's
/// folder is pointed out.
#[test]
fn sync_containers_obey_the_policy_and_second_writers_are_warned_about() {
    let fleet = |max: &str, mode: &str| {
        format!(
            r#"apiVersion: clawctl.io/v1alpha1
kind: Fleet
metadata:
  name: kb
spec:
  image: ghcr.io/openclaw/openclaw:2026.9.6
  policy: {{maxResources: {{cpu: "{max}", memory: 4Gi}}}}
  defaults:
    model: {{primary: anthropic/claude-sonnet-4-20250514}}
    resources: {{requests: {{cpu: 100m, memory: 1Gi}}, limits: {{cpu: 250m, memory: 2Gi}}}}
    knowledge: {{gcs: {{bucket: kb-1}}}}
  teams:
    - name: lab
  agents:
    - name: writer
    - name: second
      knowledge: {{from: writer, mode: {mode}}}
"#
        )
    };
    let out = Test::new()
        .file("fleet.yaml", &fleet("250m", "readOnly"))
        .args(&["validate", "fleet.yaml"])
        .fails(2);
    assert!(
        out.stderr
            .contains("spec.defaults.knowledge: the sync containers' limits (500m CPU, 256Mi memory) exceed spec.policy.maxResources"),
        "{}",
        out.stderr
    );
    let out = Test::new()
        .file("fleet.yaml", &fleet("2", "readWrite"))
        .args(&["validate", "fleet.yaml"])
        .success();
    assert!(
        out.stderr
            .contains("agent \"second\" writes knowledge to kb-1/writer, another agent's folder"),
        "{}",
        out.stderr
    );
}
