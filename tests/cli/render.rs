//! `render`, `validate`, `init` and `schema`, end to end.

use clawctl::yaml::parse_documents;
use serde_json::Value;

use crate::harness::{Test, repo};

fn example(name: &str) -> String {
    repo()
        .join("fleets")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// The documents of rendered YAML: one per `---` line (a stream starts each object
/// with one; a file of one object has none), so a loop over them sees every object the
/// output holds.
fn docs(yaml: &str) -> Vec<Value> {
    let docs = parse_documents(yaml).expect("rendered output parses");
    let separators = yaml.lines().filter(|line| *line == "---").count();
    let unmarked_first = !yaml.starts_with("---\n") && !yaml.trim().is_empty();
    let written = separators + usize::from(unmarked_first);
    assert_eq!(
        docs.len(),
        written,
        "parsed {} documents from YAML that holds {written}",
        docs.len()
    );
    docs
}

/// Objects each example renders (the golden files hold them): loops over them assert
/// these counts, so a loop that saw fewer fails instead of passing.
const SWARM_OBJECTS: usize = 34;
const TEAMS_OBJECTS: usize = 24;
const HOMELAB_OBJECTS: usize = 13;

fn kinds(docs: &[Value]) -> Vec<String> {
    docs.iter()
        .map(|d| d["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn output_is_byte_identical_across_runs() {
    let first = Test::new()
        .args(&["render", &example("swarm.yaml")])
        .success()
        .stdout;
    let second = Test::new()
        .args(&["render", &example("swarm.yaml")])
        .success()
        .stdout;
    assert_eq!(first, second);
}

#[test]
fn objects_come_in_apply_order() {
    let out = Test::new()
        .args(&["render", &example("teams.yaml")])
        .success()
        .stdout;
    let order = [
        "Namespace",
        "ResourceQuota",
        "NetworkPolicy",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "PersistentVolumeClaim",
        "Deployment",
        "Service",
    ];
    let ranks: Vec<usize> = kinds(&docs(&out))
        .iter()
        .map(|k| {
            order
                .iter()
                .position(|o| o == k)
                .unwrap_or_else(|| panic!("unexpected kind {k}"))
        })
        .collect();
    assert!(
        ranks.windows(2).all(|w| w[0] <= w[1]),
        "not in apply order: {ranks:?}"
    );
    // Every kind of DESIGN §3 is there for this fleet.
    for kind in order {
        assert!(
            kinds(&docs(&out)).iter().any(|k| k == kind),
            "{kind} missing"
        );
    }
    // Nothing cluster-wide but Namespaces: no ClusterRole, no ClusterRoleBinding
    // (DESIGN §4.1: clawctl never widens a role cluster-wide).
    let documents = docs(&out);
    assert_eq!(
        documents.len(),
        TEAMS_OBJECTS,
        "{}",
        kinds(&documents).join(",")
    );
    assert_eq!(ranks.len(), TEAMS_OBJECTS);
    for doc in &documents {
        assert!(
            doc["kind"] == "Namespace" || doc["metadata"]["namespace"].is_string(),
            "cluster-scoped: {doc}"
        );
    }
}

#[test]
fn every_object_carries_the_managed_labels() {
    let out = Test::new()
        .args(&["render", &example("swarm.yaml")])
        .success()
        .stdout;
    let documents = docs(&out);
    assert_eq!(
        documents.len(),
        SWARM_OBJECTS,
        "{}",
        kinds(&documents).join(",")
    );
    for doc in documents {
        let labels = &doc["metadata"]["labels"];
        assert_eq!(labels["app.kubernetes.io/managed-by"], "clawctl", "{doc}");
        assert_eq!(labels["app.kubernetes.io/part-of"], "swarm", "{doc}");
        assert_eq!(labels["clawctl.io/fleet"], "swarm", "{doc}");
    }
}

#[test]
fn agent_and_team_filters_select_their_objects() {
    let out = Test::new()
        .args(&["render", &example("swarm.yaml"), "--agent", "bob"])
        .success()
        .stdout;
    let all = docs(&out);
    assert_eq!(all.len(), 7, "{}", kinds(&all).join(","));
    assert!(
        all.iter()
            .all(|d| d["metadata"]["labels"]["clawctl.io/agent"] == "bob")
    );

    let out = Test::new()
        .args(&["render", &example("teams.yaml"), "--team", "support"])
        .success()
        .stdout;
    let all = docs(&out);
    assert_eq!(all.len(), 11, "{}", kinds(&all).join(","));
    assert!(
        all.iter()
            .all(|d| d["metadata"]["labels"]["clawctl.io/team"] == "support")
    );
    assert!(kinds(&all).contains(&"Namespace".to_string()));
    assert!(kinds(&all).contains(&"Deployment".to_string()));

    let err = Test::new()
        .args(&["render", &example("swarm.yaml"), "--agent", "bobb"])
        .fails(2)
        .stderr;
    assert!(
        err.contains("no agent named \"bobb\" (did you mean \"bob\"?)"),
        "{err}"
    );
}

#[test]
fn output_dir_gets_one_file_per_object_in_a_stable_layout() {
    let t = Test::new().args(&["render", &example("homelab.yaml"), "-o", "out"]);
    t.success();
    let stream = Test::new()
        .args(&["render", &example("homelab.yaml")])
        .success()
        .stdout;
    let expected = docs(&stream);
    assert_eq!(
        expected.len(),
        HOMELAB_OBJECTS,
        "{}",
        kinds(&expected).join(",")
    );
    let mut files = Vec::new();
    for ns in std::fs::read_dir(t.path().join("out")).expect("out exists") {
        let ns = ns.expect("entry").path();
        for f in std::fs::read_dir(&ns).expect("namespace folder") {
            files.push(f.expect("entry").path());
        }
    }
    files.sort();
    assert_eq!(files.len(), expected.len());
    let names: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(t.path().join("out"))
                .expect("inside")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(
        names.contains(&"_cluster/00-namespace-ops.yaml".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"ops/08-deployment-agent-ops.yaml".to_string()),
        "{names:?}"
    );
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        let doc = docs(&text);
        assert_eq!(doc.len(), 1, "{}", f.display());
        assert!(
            expected.contains(&doc[0]),
            "{} is not one of the rendered objects",
            f.display()
        );
    }
}

const SMALL_FLEET: &str = r##"apiVersion: clawctl.io/v1alpha1
kind: Fleet
metadata: {name: small}
spec:
  image: ghcr.io/openclaw/openclaw:2026.4.14
  defaults: {model: {primary: anthropic/claude-sonnet-4-20250514}}
  teams: [{name: crew}]
  agents:
    - {name: ann, soulInline: "# Ann\n"}
    - {name: ben, soulInline: "# Ben\n"}
"##;

fn config_hashes(yaml: &str) -> Vec<(String, String)> {
    docs(yaml)
        .into_iter()
        .filter(|d| d["kind"] == "Deployment")
        .map(|d| {
            let name = d["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let hash = d["spec"]["template"]["metadata"]["annotations"]["clawctl.io/config-hash"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (name, hash)
        })
        .collect()
}

#[test]
fn a_soul_edit_changes_only_that_agents_pod_template() {
    let before = Test::new()
        .file("f.yaml", SMALL_FLEET)
        .args(&["render", "f.yaml"])
        .success()
        .stdout;
    let edited = SMALL_FLEET.replace("# Ann\\n", "# Ann, now kinder\\n");
    let after = Test::new()
        .file("f.yaml", &edited)
        .args(&["render", "f.yaml"])
        .success()
        .stdout;
    let (b, a) = (config_hashes(&before), config_hashes(&after));
    assert_eq!(b.len(), 2);
    assert_ne!(b[0], a[0], "ann's pod template must change");
    assert_eq!(b[1], a[1], "ben's pod template must not change");
    let (before, after) = (docs(&before), docs(&after));
    assert_eq!(before.len(), after.len(), "an edit adds or drops no object");
    assert_eq!(before.len(), 16, "{}", kinds(&before).join(","));
    let changed: Vec<_> = before
        .into_iter()
        .zip(after)
        .filter(|(x, y)| x != y)
        .collect();
    let changed_kinds: Vec<_> = changed
        .iter()
        .map(|(x, _)| x["kind"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        changed_kinds,
        vec!["ConfigMap", "Deployment"],
        "only ann's ConfigMap and Deployment change"
    );
}

const LAYERED_POD: &str = r##"apiVersion: clawctl.io/v1alpha1
kind: Fleet
metadata: {name: pods}
spec:
  image: ghcr.io/openclaw/openclaw:2026.4.14
  defaults:
    model: {primary: anthropic/claude-sonnet-4-20250514}
    scheduling:
      nodeSelector: {kubernetes.io/arch: amd64}
      tolerations: [{key: dedicated, operator: Equal, value: agents, effect: NoSchedule}]
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 10
              podAffinityTerm: {topologyKey: kubernetes.io/hostname}
  teams:
    - name: crew
      defaults:
        sidecars:
          chrome: {image: "docker.io/chromedp/headless-shell:131.0.6778.85", ports: [{name: cdp, containerPort: 9222}]}
          proxy: {image: "docker.io/library/nginx:1.27.3"}
        volumes:
          gigs: {persistentVolumeClaim: {claimName: gigs-pvc}, mountPath: /mnt/gigs, readOnly: true}
        scheduling: {runtimeClassName: gvisor}
  agents:
    - name: ann
      soulInline: "# Ann\n"
      sidecars:
        chrome:
          image: "docker.io/chromedp/headless-shell:132.0.6834.83"
          readOnlyRootFilesystem: false
          writableRootReason: "the browser keeps its profile next to its binary"
          volumeMounts: [{name: key, mountPath: /keys}]
      volumes:
        key: {secret: {secretName: ann-key}, mountPath: /home/node/.ssh}
      scheduling:
        nodeSelector: {node-availability: 24x7}
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms: [{matchExpressions: [{key: node-availability, operator: In, values: [24x7]}]}]
    - {name: ben, soulInline: "# Ben\n"}
    - {name: cy, soulInline: "# Cy\n", sidecars: {proxy: null}, volumes: {gigs: null}}
"##;

fn pod_spec(docs: &[Value], agent: &str) -> Value {
    docs.iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == format!("agent-{agent}"))
        .map(|d| d["spec"]["template"]["spec"].clone())
        .expect("the agent's Deployment")
}

#[test]
fn pod_shape_settings_layer_by_name_and_key() {
    let out = Test::new()
        .file("f.yaml", LAYERED_POD)
        .args(&["render", "f.yaml"])
        .success()
        .stdout;
    let docs = docs(&out);
    let ann = pod_spec(&docs, "ann");
    let names: Vec<&str> = ann["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        ["gateway", "chrome", "proxy"],
        "the gateway stays first"
    );
    let chrome = &ann["containers"][1];
    assert_eq!(
        chrome["image"],
        "docker.io/chromedp/headless-shell:132.0.6834.83"
    );
    assert!(
        chrome.get("ports").is_none(),
        "the agent's entry replaced the team's whole"
    );
    assert_eq!(chrome["securityContext"]["readOnlyRootFilesystem"], false);
    let containers = ann["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 3, "gateway, chrome and the proxy");
    for c in containers {
        let sc = &c["securityContext"];
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{c}");
        assert_eq!(sc["runAsNonRoot"], true, "{c}");
        assert_eq!(sc["capabilities"]["drop"][0], "ALL", "{c}");
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{c}");
        assert!(c["resources"]["limits"]["memory"].is_string(), "{c}");
    }
    let proxy = &ann["containers"][2];
    assert_eq!(proxy["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(proxy["volumeMounts"][0]["mountPath"], "/tmp");
    assert_eq!(
        chrome["volumeMounts"][1],
        serde_json::json!({"name": "key", "mountPath": "/keys", "readOnly": true})
    );
    let gateway_mounts: Vec<&str> = ann["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .map(|m| m["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(gateway_mounts, ["state", "tmp", "gigs", "key"]);
    let key = ann["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "key")
        .expect("the key volume");
    assert_eq!(key["secret"]["defaultMode"], 0o400);
    assert_eq!(
        ann["nodeSelector"],
        serde_json::json!({"kubernetes.io/arch": "amd64", "node-availability": "24x7"})
    );
    assert_eq!(ann["tolerations"][0]["key"], "dedicated");
    assert!(
        ann["affinity"].get("podAntiAffinity").is_none(),
        "affinity replaces whole"
    );
    assert!(ann["affinity"]["nodeAffinity"].is_object());
    assert_eq!(ann["runtimeClassName"], "gvisor");

    let cy = pod_spec(&docs, "cy");
    let names: Vec<&str> = cy["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        ["gateway", "chrome"],
        "`proxy: null` removes the team's proxy"
    );
    assert_eq!(
        cy["containers"][0]["volumeMounts"].as_array().map(Vec::len),
        Some(2)
    );

    let ben = pod_spec(&docs, "ben");
    assert_eq!(ben["containers"][1]["ports"][0]["containerPort"], 9222);
    assert_eq!(
        ben["nodeSelector"],
        serde_json::json!({"kubernetes.io/arch": "amd64"})
    );
    assert_eq!(
        ben["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"],
        10
    );
}

#[test]
fn a_fleet_without_pod_settings_renders_no_extra_pod_fields() {
    let out = Test::new()
        .file("f.yaml", SMALL_FLEET)
        .args(&["render", "f.yaml"])
        .success()
        .stdout;
    let ann = pod_spec(&docs(&out), "ann");
    assert_eq!(ann["containers"].as_array().map(Vec::len), Some(1));
    for field in [
        "nodeSelector",
        "tolerations",
        "affinity",
        "priorityClassName",
        "runtimeClassName",
    ] {
        assert!(ann.get(field).is_none(), "{field}");
    }
}

#[test]
fn template_overrides_replace_one_file_and_are_checked() {
    let service =
        std::fs::read_to_string(repo().join("templates/agent-service.yaml.j2")).expect("built-in");
    let t = Test::new()
        .file("f.yaml", SMALL_FLEET)
        .file(
            "tpl/agent-service.yaml.j2",
            &service.replace(
                "type: ClusterIP",
                "type: ClusterIP\n  sessionAffinity: ClientIP",
            ),
        )
        .args(&["render", "f.yaml", "--templates", "tpl"]);
    let out = t.success().stdout;
    let services: Vec<_> = docs(&out)
        .into_iter()
        .filter(|d| d["kind"] == "Service")
        .collect();
    assert_eq!(services.len(), 2);
    assert!(
        services
            .iter()
            .all(|s| s["spec"]["sessionAffinity"] == "ClientIP")
    );

    let err = Test::new()
        .file("f.yaml", SMALL_FLEET)
        .file("tpl/agent-servce.yaml.j2", &service)
        .args(&["render", "f.yaml", "--templates", "tpl"])
        .fails(2)
        .stderr;
    assert!(
        err.contains(
            "does not override any built-in template (did you mean agent-service.yaml.j2?)"
        ),
        "{err}"
    );

    let crb =
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: x}\n";
    let err = Test::new()
        .file("f.yaml", SMALL_FLEET)
        .file("tpl/agent-service.yaml.j2", crb)
        .args(&["render", "f.yaml", "--templates", "tpl"])
        .fails(2)
        .stderr;
    assert!(
        err.contains("ClusterRoleBinding is not allowed here"),
        "{err}"
    );

    let err = Test::new()
        .file("f.yaml", SMALL_FLEET)
        .file(
            "tpl/agent-service.yaml.j2",
            &service.replace("agent.port", "agent.prot"),
        )
        .args(&["render", "f.yaml", "--templates", "tpl"])
        .fails(2)
        .stderr;
    assert!(
        err.contains("agent-service.yaml.j2") && err.contains("undefined"),
        "{err}"
    );
}

/// A Deployment template override that drops the knowledge containers would stop an
/// agent's sync without a word: refused, naming what is missing.
#[test]
fn a_deployment_override_must_keep_the_knowledge_sync() {
    let fleet = SMALL_FLEET.replace(
        "defaults: {model: {primary: anthropic/claude-sonnet-4-20250514}}",
        "defaults: {model: {primary: anthropic/claude-sonnet-4-20250514}, knowledge: {s3: {bucket: kb-1, region: us-east-1}}}",
    );
    assert_ne!(fleet, SMALL_FLEET);
    let deployment = std::fs::read_to_string(repo().join("templates/agent-deployment.yaml.j2"))
        .expect("built-in");
    Test::new()
        .file("f.yaml", &fleet)
        .file("tpl/agent-deployment.yaml.j2", &deployment)
        .args(&["render", "f.yaml", "--templates", "tpl"])
        .success();
    let stripped = deployment.replace("agent.knowledgePush", "[]");
    assert_ne!(stripped, deployment);
    let err = Test::new()
        .file("f.yaml", &fleet)
        .file("tpl/agent-deployment.yaml.j2", &stripped)
        .args(&["render", "f.yaml", "--templates", "tpl"])
        .fails(2)
        .stderr;
    assert!(
        err.contains("no init container \"knowledge-push\"")
            && err.contains("agent-deployment.yaml.j2"),
        "{err}"
    );
}

#[test]
fn validate_reports_success_and_json() {
    let out = Test::new()
        .args(&["validate", &example("teams.yaml")])
        .success()
        .stdout;
    assert!(
        out.contains("is valid: 2 agents in 2 teams, 24 objects"),
        "{out}"
    );
    let out = Test::new()
        .args(&["validate", &example("teams.yaml"), "-o", "json"])
        .success()
        .stdout;
    assert_eq!(out.trim(), "[]");
}

#[test]
fn validate_names_a_missing_file() {
    let err = Test::new().args(&["validate", "nope.yaml"]).fails(2).stderr;
    assert!(err.contains("nope.yaml: cannot read nope.yaml"), "{err}");
}

#[test]
fn init_writes_a_fleet_that_validates_and_never_overwrites() {
    let t = Test::new().args(&["init", "demo", "--name", "demo"]);
    t.success();
    let fleet = t.path().join("demo/fleet.yaml");
    Test::new()
        .args(&["validate", fleet.to_str().expect("utf-8")])
        .success();
    let again = t.run();
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
}

#[test]
fn schema_describes_the_fleet_file() {
    let out = Test::new().args(&["schema"]).success().stdout;
    let schema: Value = serde_json::from_str(&out).expect("schema is JSON");
    assert_eq!(schema["title"], "clawctl Fleet");
    assert!(schema["properties"]["spec"].is_object(), "{schema}");
    let text = out.as_str();
    for field in [
        "maxResources",
        "allowFloatingTags",
        "soulInline",
        "fsWorkspaceOnly",
        "storageClassName",
    ] {
        assert!(text.contains(field), "{field} missing from the schema");
    }
}

#[test]
fn help_lists_every_command() {
    let out = Test::new().args(&["--help"]).success().stdout;
    for cmd in [
        "validate",
        "render",
        "diff",
        "apply",
        "status",
        "rollout",
        "rollback",
        "history",
        "completions",
    ] {
        assert!(out.contains(cmd), "{cmd} missing from --help");
    }
}

#[test]
fn validate_warns_when_runtime_tools_can_read_loaded_secrets() {
    let fleet = |deny: &str| {
        format!(
            "apiVersion: clawctl.io/v1alpha1\nkind: Fleet\nmetadata: {{name: w}}\nspec:\n  image: ghcr.io/openclaw/openclaw:2026.4.14\n  policy: {{tools: {{deny: {deny}}}}}\n  defaults:\n    model: {{primary: anthropic/claude-sonnet-4-20250514}}\n    secrets: [keys]\n  teams: [{{name: core}}]\n  agents: [{{name: ann}}, {{name: ben, secrets: []}}]\n"
        )
    };
    let out = Test::new()
        .file("f.yaml", &fleet("[gateway]"))
        .args(&["validate", "f.yaml"])
        .success();
    assert!(
        out.stderr.contains(
            "warning: f.yaml:6:26: spec.policy.tools.deny: runtime tools (exec, process, code_execution) are allowed for agent \"ann\" while Secrets"
        ),
        "{}",
        out.stderr
    );
    for denied in ["[\"group:runtime\"]", "[exec, process, code_execution]"] {
        let out = Test::new()
            .file("f.yaml", &fleet(denied))
            .args(&["validate", "f.yaml"])
            .success();
        assert!(!out.stderr.contains("warning"), "{denied}: {}", out.stderr);
    }
}

#[test]
fn the_newest_release_renders_its_own_dialect_and_says_what_the_image_needs() {
    let text = std::fs::read_to_string(example("swarm.yaml"))
        .unwrap_or_default()
        .replace("openclaw:2026.4.14", "openclaw:2026.9.6")
        .replace(
            "    storage: {size: 2Gi}\n",
            "    storage: {size: 2Gi}\n    channels: [{channel: slack}]\n",
        );
    assert!(text.contains("channel: slack"), "{text}");
    let mut t = Test::new().file("swarm.yaml", &text);
    for soul in ["alice", "bob", "carol"] {
        let path = format!("souls/{soul}.md");
        t = t.file(
            &path,
            &std::fs::read_to_string(example(&path)).unwrap_or_default(),
        );
    }
    let out = t.args(&["render", "swarm.yaml"]).success();
    assert!(
        out.stdout
            .contains("/usr/local/lib/node_modules/@openclaw/slack")
    );
    assert!(
        out.stderr
            .contains("RUN npm install -g @openclaw/slack@2026.9.6"),
        "{}",
        out.stderr
    );
}

/// Hostile: with `access`, the API token reaches the gateway container only (never the
/// init container, a sidecar or the knowledge sync), and the pod never automounts it.
#[test]
fn the_api_token_is_mounted_into_the_gateway_only() {
    let out = Test::new()
        .args(&["render", &example("homelab.yaml")])
        .success()
        .stdout;
    let docs = docs(&out);
    let pod = pod_spec(&docs, "ops");
    assert_eq!(pod["automountServiceAccountToken"], false);
    let sa = docs
        .iter()
        .find(|d| d["kind"] == "ServiceAccount" && d["metadata"]["name"] == "agent-ops")
        .expect("the agent's ServiceAccount");
    assert_eq!(sa["automountServiceAccountToken"], false);
    let mounts_token = |c: &Value| {
        c["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["name"] == "kube-api-access")
    };
    let containers: Vec<&Value> = pod["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(pod["containers"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(containers.len(), 3, "init, gateway and the chrome sidecar");
    for c in containers {
        assert_eq!(mounts_token(c), c["name"] == "gateway", "{}", c["name"]);
    }
    let volume = pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == "kube-api-access")
        .expect("the projected token volume");
    let sources = volume["projected"]["sources"].as_array().expect("sources");
    assert_eq!(sources[0]["serviceAccountToken"]["expirationSeconds"], 3607);
    assert_eq!(sources[1]["configMap"]["name"], "kube-root-ca.crt");
    assert_eq!(
        sources[2]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );

    // Without `access`, no token anywhere.
    let out = Test::new()
        .args(&["render", &example("teams.yaml")])
        .success()
        .stdout;
    assert!(!out.contains("kube-api-access"));
}

/// Hostile: the team policy admits nothing by itself (NetworkPolicies add up: an
/// `ingress` rule here would open every gateway to every pod of the namespace).
#[test]
fn the_team_network_policy_admits_no_ingress() {
    let out = Test::new()
        .args(&["render", &example("swarm.yaml")])
        .success()
        .stdout;
    let docs = docs(&out);
    let team = docs
        .iter()
        .find(|d| {
            d["kind"] == "NetworkPolicy" && d["metadata"]["name"] == "clawctl-deny-other-namespaces"
        })
        .expect("the team's NetworkPolicy");
    assert_eq!(team["spec"]["podSelector"], serde_json::json!({}));
    assert_eq!(team["spec"]["policyTypes"], serde_json::json!(["Ingress"]));
    assert!(team["spec"]["ingress"].is_null(), "{}", team["spec"]);
}

/// `access` in a namespace holding only its agent is a warning, not an error: the
/// homelab example validates, and says what its Job rule grants.
#[test]
fn access_in_an_agent_only_namespace_warns() {
    let run = Test::new()
        .args(&["validate", &example("homelab.yaml")])
        .success();
    assert!(
        run.stderr
            .contains("\"jobs\" grants creating or changing Jobs")
            && run.stderr.contains("holds only this agent"),
        "{}",
        run.stderr
    );
}

/// `routing.router` renders clawctl-router in a namespace of its own (enforcing the
/// restricted Pod Security level) with only what it needs: the routing table by name, the routed agents' token Secrets by name (through
/// each team's orchestrator Role), egress to the agents' gateways, DNS and HTTPS, and
/// ingress only from the authenticating proxy; the agents admit only the router's pods.
#[test]
fn the_router_gets_only_what_it_needs() {
    let out = Test::new()
        .args(&["render", &example("swarm.yaml")])
        .success()
        .stdout;
    let documents = docs(&out);
    let find = |kind: &str, ns: &str, name: &str| {
        documents
            .iter()
            .find(|d| {
                d["kind"] == kind
                    && d["metadata"]["namespace"] == ns
                    && d["metadata"]["name"] == name
            })
            .unwrap_or_else(|| panic!("{kind} {ns}/{name} missing"))
            .clone()
    };
    let role = find("Role", "clawctl-system", "swarm-router");
    assert_eq!(
        role["rules"],
        serde_json::json!([{"apiGroups": [""], "resources": ["configmaps"],
                            "resourceNames": ["swarm-routes"], "verbs": ["get", "list", "watch"]}])
    );
    let tokens = find("Role", "swarm", "clawctl-orchestrator");
    assert_eq!(
        tokens["rules"][0]["resourceNames"],
        serde_json::json!([
            "agent-alice-gateway-token",
            "agent-bob-gateway-token",
            "agent-carol-gateway-token"
        ])
    );
    let router = serde_json::json!([{"kind": "ServiceAccount", "name": "swarm-router", "namespace": "swarm-router"}]);
    let binding = find("RoleBinding", "swarm", "clawctl-orchestrator");
    assert_eq!(binding["subjects"], router);
    let binding = find("RoleBinding", "clawctl-system", "swarm-router");
    assert_eq!(binding["subjects"], router);
    let namespace = documents
        .iter()
        .find(|d| d["kind"] == "Namespace" && d["metadata"]["name"] == "swarm-router")
        .expect("the router's namespace");
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    // Nothing but the router's own objects in its namespace (and they are there).
    let in_namespace: Vec<&Value> = documents
        .iter()
        .filter(|d| d["metadata"]["namespace"] == "swarm-router")
        .collect();
    assert_eq!(in_namespace.len(), 4, "{in_namespace:?}");
    let beside: Vec<String> = documents
        .iter()
        .filter(|d| d["metadata"]["namespace"] == "swarm-router")
        .filter(|d| d["metadata"]["labels"]["app.kubernetes.io/name"] != "clawctl-router")
        .map(|d| format!("{} {}", d["kind"], d["metadata"]["name"]))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
    let deployment = find("Deployment", "swarm-router", "swarm-router");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "swarm-router");
    assert_eq!(
        pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"],
        true
    );
    assert_eq!(
        pod["containers"][0]["envFrom"][0]["secretRef"]["name"],
        "swarm-slack"
    );
    let policy = find("NetworkPolicy", "swarm-router", "swarm-router");
    assert_eq!(
        policy["spec"]["ingress"][0]["from"],
        serde_json::json!([{"ipBlock": {"cidr": "10.0.3.0/24"}}])
    );
    assert_eq!(policy["spec"]["egress"].as_array().map(Vec::len), Some(3));
    // Each agent admits the router's pods, and only them.
    let agent = find("NetworkPolicy", "swarm", "agent-alice");
    let from = &agent["spec"]["ingress"][0]["from"][0];
    assert_eq!(
        from["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "clawctl-router"
    );
    assert_eq!(
        from["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "swarm-router"
    );
}

/// Issue 19: a template override that renders a pod the namespace's Pod Security level
/// (`restricted`, which clawctl labels every team namespace with) would refuse is refused
/// at render, naming the checks as the admission plugin names them, before anything is
/// written (the ReplicaSet controller would otherwise fail every pod create, minutes later).
#[test]
fn a_pod_the_restricted_level_refuses_is_refused_at_render() {
    let deployment = std::fs::read_to_string(repo().join("templates/agent-deployment.yaml.j2"))
        .expect("built-in");
    let sa = "      serviceAccountName: {{ agent.resourceName }}";
    let gateway = "        - name: gateway\n          image: {{ agent.image }}";
    let volumes = "      volumes:\n        - name: state";
    // (what replaces, with what, the check as Pod Security admission words it)
    let shapes: [(&str, String, &str); 8] = [
        (
            sa,
            format!("      hostNetwork: true\n{sa}"),
            "host namespaces (hostNetwork=true)",
        ),
        (
            sa,
            format!("      hostPID: true\n{sa}"),
            "host namespaces (hostPID=true)",
        ),
        (
            volumes,
            format!("{volumes}\n          hostPath: {{path: /}}\n        - name: root"),
            "restricted volume types (volume \"state\" uses restricted volume type \"hostPath\")",
        ),
        (
            "              containerPort: {{ agent.port }}",
            "              containerPort: {{ agent.port }}\n              hostPort: 8080".into(),
            "hostPort (container \"gateway\")",
        ),
        (
            gateway,
            format!(
                "        - name: sneaky\n          image: {{{{ agent.image }}}}\n          \
                 securityContext: {{privileged: true, allowPrivilegeEscalation: false, \
                 capabilities: {{drop: [ALL]}}, runAsNonRoot: true, \
                 seccompProfile: {{type: RuntimeDefault}}}}\n{gateway}"
            ),
            "privileged (container \"sneaky\")",
        ),
        (
            gateway,
            format!(
                "        - name: sneaky\n          image: {{{{ agent.image }}}}\n          \
                 securityContext: {{allowPrivilegeEscalation: false, \
                 capabilities: {{drop: [ALL], add: [NET_ADMIN]}}, runAsNonRoot: true, \
                 seccompProfile: {{type: RuntimeDefault}}}}\n{gateway}"
            ),
            "unrestricted capabilities (must drop ALL; only NET_BIND_SERVICE may be added) (container \"sneaky\")",
        ),
        (
            gateway,
            format!(
                "        - name: sneaky\n          image: {{{{ agent.image }}}}\n          \
                 securityContext: {{capabilities: {{drop: [ALL]}}, runAsNonRoot: true, \
                 seccompProfile: {{type: RuntimeDefault}}}}\n{gateway}"
            ),
            "allowPrivilegeEscalation != false (container \"sneaky\"",
        ),
        (
            "          type: RuntimeDefault",
            "          type: Unconfined".into(),
            "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")",
        ),
    ];
    for (from, to, check) in shapes {
        let changed = deployment.replacen(from, &to, 1);
        assert_ne!(changed, deployment, "{from} is in the built-in template");
        let err = Test::new()
            .file("f.yaml", SMALL_FLEET)
            .file("tpl/agent-deployment.yaml.j2", &changed)
            .args(&["validate", "f.yaml", "--templates", "tpl"])
            .fails(2)
            .stderr;
        assert!(
            err.contains(
                "its pods would be refused by the Pod Security level \"restricted\" that \
                 clawctl's namespaces enforce: "
            ) && err.contains(check),
            "{check}: {err}"
        );
    }
}
