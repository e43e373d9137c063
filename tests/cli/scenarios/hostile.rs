//! Issue 17's hostile tenants (DESIGN §4.1) on a cluster with real RBAC: `hostile.rs`
//! runs them on the fake, `e2e_hostile.rs` on a cluster. What each one plants is what anyone who may write Secrets, ConfigMaps or Namespaces
//! could plant; what each asserts is read back with the admin's client, so a test fails
//! if clawctl crossed the line, not only if it printed the wrong words:
//!
//! - a forged revision in a namespace that is not the fleet's is never read;
//! - a forged revision in the agent's own namespace holding anything but that agent's
//!   objects is shown REFUSED and never applied, and does not steer rollback's choice;
//! - a second fleet with an agent of the same name in the same namespace writes nothing;
//! - a namespace clawctl did not create is adopted only when the fleet says so, and an
//!   adopted namespace is never deleted, not even by `--prune --delete-volumes`;
//! - a ServiceAccount holding only `admin` in the fleet's namespaces runs every command,
//!   its first apply included, with nothing granted cluster-wide.
//!
//! Where the fake can also count requests, a scenario checks there that nothing was
//! written or read where it must not be.
//!
//! Two of them failed when written (also against `cargo run --example fake_server`), each
//! naming a flaw it showed: `a_planted_newer_revision_does_not_block_the_default_rollback`
//! and `a_revision_with_the_agents_names_but_foreign_content_is_refused` (a rollback really
//! created the forged RoleBinding). Both flaws are fixed: refused revisions take no part in
//! the stale-plan check, and revisions carry a seal under the fleet's history key.
//!
//! The forged RoleBindings bind `cluster-admin` to a ServiceAccount that does not exist,
//! so even a failing run grants nobody anything; a guard deletes the one aimed at
//! kube-system should clawctl ever create it.

use std::io::Write;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::api::rbac::v1::RoleBinding;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;
use kube::api::{DeleteParams, PostParams};
use serde_json::{Value, json};

use crate::harness::backend::{Backend, FLEET_LABEL};
use crate::harness::fake::{writes, writes_but_lease};
use crate::harness::objects::REVISION_TYPE;
use crate::harness::report::{json_of, pairs, phases};
use crate::harness::rollout::rollout_args;
use crate::harness::{Output, Test};

const AGENT_LABEL: &str = "clawctl.io/agent";

/// `history -o json` rows as (namespace, name, number, refused).
fn history_rows(out: &Output) -> Vec<(String, String, i64, Option<String>)> {
    let Value::Array(rows) = json_of(out) else {
        panic!("history is not a list: {}", out.stdout)
    };
    rows.iter()
        .map(|r| {
            (
                r["namespace"].as_str().unwrap_or_default().to_string(),
                r["name"].as_str().unwrap_or_default().to_string(),
                r["number"].as_i64().unwrap_or_default(),
                r["refused"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// The manifests of a revision clawctl recorded (`clawctl.<fleet>.<agent>.r<n>`).
fn recorded(b: &Backend, ns: &str, agent: &str, number: i64) -> Vec<Value> {
    let name = format!("clawctl.{}.{agent}.r{number}", b.fleet);
    let secret: Secret = b
        .get(ns, &name)
        .unwrap_or_else(|| panic!("revision {ns}/{name} missing"));
    let bytes = secret
        .data
        .and_then(|d| d.get("manifests").cloned())
        .expect("manifests")
        .0;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
        .expect("gzip");
    match serde_json::from_str(&text).expect("json") {
        Value::Array(items) => items,
        other => panic!("not a list: {other}"),
    }
}

/// Plants a revision Secret exactly as clawctl writes one (type, labels, annotations,
/// gzipped JSON list), as anyone allowed to create Secrets in `ns` could; a passed gate
/// makes it a rollback target. Returns its name.
fn plant(b: &Backend, ns: &str, agent: &str, number: i64, manifests: &[Value]) -> String {
    let name = format!("clawctl.{}.{agent}.r{number}", b.fleet);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(Value::Array(manifests.to_vec()).to_string().as_bytes())
        .expect("gzip");
    let labels = [
        ("app.kubernetes.io/managed-by", "clawctl"),
        (FLEET_LABEL, b.fleet.as_str()),
        (AGENT_LABEL, agent),
        ("clawctl.io/history", "true"),
        ("clawctl.io/revision", &number.to_string()),
        ("clawctl.io/team", "core"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let annotations = [
        ("clawctl.io/cause", "apply"),
        ("clawctl.io/gate", "passed"),
        ("clawctl.io/image", b.image().as_str()),
        ("clawctl.io/summary", "first revision"),
        ("clawctl.io/digest", "0123456789abcdef"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(ns.to_string()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        type_: Some(REVISION_TYPE.to_string()),
        data: Some(
            [(
                "manifests".to_string(),
                ByteString(gz.finish().expect("gzip")),
            )]
            .into(),
        ),
        ..Secret::default()
    };
    let params = PostParams {
        field_manager: Some("intruder".into()),
        ..PostParams::default()
    };
    b.block_on(b.api::<Secret>(ns).create(&params, &secret))
        .unwrap_or_else(|e| panic!("plant {ns}/{name}: {e}"));
    name
}

/// A RoleBinding `ns/name` granting `cluster-admin` to the ServiceAccount
/// `intruder` of `subject_ns` (which does not exist), labelled as agent `agent`'s.
fn admin_binding(b: &Backend, ns: &str, name: &str, agent: &str, subject_ns: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
           "metadata": {"name": name, "namespace": ns,
                        "labels": {"app.kubernetes.io/managed-by": "clawctl",
                                   FLEET_LABEL: b.fleet, AGENT_LABEL: agent}},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                       "name": "cluster-admin"},
           "subjects": [{"kind": "ServiceAccount", "name": "intruder", "namespace": subject_ns}]})
}

/// `manifests` with every object moved to namespace `ns` and every ConfigMap's soul
/// replaced by `soul`.
fn moved(manifests: &[Value], ns: &str, soul: &str) -> Vec<Value> {
    manifests
        .iter()
        .cloned()
        .map(|mut m| {
            m["metadata"]["namespace"] = json!(ns);
            if m["kind"] == "ConfigMap" && m["data"].get("SOUL.md").is_some() {
                m["data"]["SOUL.md"] = json!(soul);
            }
            m
        })
        .collect()
}

fn binding(b: &Backend, ns: &str, name: &str) -> Option<RoleBinding> {
    b.get(ns, name)
}

/// Deletes `kube-system/<name>` when the test ends if it is this fleet's (clawctl
/// applied a forged revision): a failed run must not leave it behind.
struct KubeSystemBinding<'a> {
    b: &'a Backend,
    name: String,
}

impl Drop for KubeSystemBinding<'_> {
    fn drop(&mut self) {
        let api = self.b.api::<RoleBinding>("kube-system");
        let ours = self
            .b
            .block_on(api.get_opt(&self.name))
            .ok()
            .flatten()
            .is_some_and(|binding| binding.labels().get(FLEET_LABEL) == Some(&self.b.fleet));
        if ours {
            let _ = self
                .b
                .block_on(api.delete(&self.name, &DeleteParams::default()));
        }
    }
}

/// `rollback fleet.yaml --agent alpha ARGS --yes --timeout <ready>` with `fleet_text`.
fn rollback_alpha(b: &Backend, fleet_text: &str, args: &[&str]) -> Test {
    let mut all = vec!["rollback", "fleet.yaml", "--agent", "alpha"];
    all.extend_from_slice(args);
    all.extend(["--yes", "--timeout", b.pace.ready]);
    b.clawctl(fleet_text, &all)
}

/// One agent, two recorded revisions (r1 "You are alpha.", r2 "You are alpha, v2."),
/// both gated ready: the text of r1 and of r2.
fn two_revisions(b: &Backend, agents: &[&str]) -> (String, String) {
    let text = b.fleet(agents, &b.image());
    b.apply(&text, &["--timeout", b.pace.ready]).success();
    let edited = text.replace("You are alpha.", "You are alpha, v2.");
    b.apply(&edited, &["--timeout", b.pace.ready]).success();
    let ns = b.ns("core");
    let names: Vec<String> = b.revisions(&ns).into_keys().collect();
    let r2 = format!("clawctl.{}.alpha.r2", b.fleet);
    assert!(names.contains(&r2), "{names:?}");
    (text, edited)
}

/// (a) A revision planted in a namespace that is not the fleet's, whose objects would
/// all pass the content check there (alpha's own kinds and names, in that namespace,
/// labelled as alpha of this fleet; among them a RoleBinding to cluster-admin), is not
/// read: `history` (by file and by fleet name) does not list it, and `rollback` neither
/// counts it as alpha's current revision nor can be made to apply it.
pub(crate) fn a_revision_planted_outside_the_fleets_namespaces_is_never_read(b: &Backend) {
    let ns = b.ns("core");
    let elsewhere = b.ns("elsewhere");
    let (_, edited) = two_revisions(b, &["alpha"]);

    // Someone else's namespace, not one of the fleet's.
    b.make_namespace(&elsewhere, &[]);
    let mut forged = moved(&recorded(b, &ns, "alpha", 2), &elsewhere, "You are pwned.");
    forged.push(admin_binding(
        b,
        &elsewhere,
        "agent-alpha",
        "alpha",
        &elsewhere,
    ));
    let planted = plant(b, &elsewhere, "alpha", 9, &forged);
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }

    let by_name = ["--fleet", b.fleet.as_str()];
    for source in [&["fleet.yaml"][..], &by_name[..]] {
        let mut args = vec!["history"];
        args.extend_from_slice(source);
        args.extend(["-o", "json"]);
        let out = b.clawctl(&edited, &args).success();
        let rows = history_rows(&out);
        assert_eq!(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            [1, 2],
            "{args:?}: {rows:?}"
        );
        assert!(rows.iter().all(|r| r.0 == ns && r.3.is_none()), "{rows:?}");
        let mut args = vec!["history"];
        args.extend_from_slice(source);
        let out = b.clawctl(&edited, &args).success();
        assert!(!out.stdout.contains(&planted), "{}", out.stdout);
    }

    // By fleet name, revision 9 is not there to be asked for.
    let out = b
        .clawctl(
            &edited,
            &[
                "rollback",
                "--fleet",
                &b.fleet,
                "--agent",
                "alpha",
                "--to-revision",
                "9",
                "--yes",
                "--timeout",
                b.pace.ready,
            ],
        )
        .fails(1);
    assert!(out.stdout.contains("no revision 9") || out.stderr.contains("no revision 9"));

    // The ordinary rollback goes from r2 to r1: the planted r9 is not the current one.
    let out = rollback_alpha(b, &edited, &["-o", "json"]).success();
    let report = json_of(&out);
    let alpha = &report["agents"][0];
    assert_eq!(alpha["from"]["revision"], 2, "{report:#}");
    assert_eq!(alpha["to"]["revision"], 1, "{report:#}");
    assert_eq!(alpha["recorded"], 3, "{report:#}");
    // Not one request went to the planted namespace.
    if let Some(fake) = b.fake() {
        let requests = fake.requests();
        assert!(!requests.is_empty());
        let there = format!("/namespaces/{elsewhere}/");
        assert!(
            requests.iter().all(|r| !r.path.contains(&there)),
            "read the tenant's namespace"
        );
    }
    assert_eq!(b.soul(&ns, "alpha"), "You are alpha.");

    // Nothing of the planted revision exists.
    assert!(binding(b, &elsewhere, "agent-alpha").is_none());
    assert!(b.get::<ConfigMap>(&elsewhere, "agent-alpha").is_none());
    assert!(b.get::<Deployment>(&elsewhere, "agent-alpha").is_none());
}

/// (b) Revisions planted in the agent's own namespace with higher numbers than any
/// recorded one, each otherwise a copy of alpha's current revision: r7 also holds beta's
/// ConfigMap (another agent's persona), r8 a RoleBinding in kube-system to cluster-admin.
/// `history` shows both REFUSED with the reason; `rollback --to-revision` naming either
/// fails with nothing applied; the default rollback still goes r2 → r1.
pub(crate) fn a_revision_holding_foreign_objects_is_refused_and_never_applied(b: &Backend) {
    let ns = b.ns("core");
    let (_, edited) = two_revisions(b, &["alpha", "beta"]);
    let _guard = KubeSystemBinding {
        b,
        name: "agent-alpha".into(),
    };
    let preexisting = binding(b, "kube-system", "agent-alpha");
    assert!(
        preexisting.is_none(),
        "kube-system/agent-alpha exists already: {preexisting:?}"
    );

    let current = recorded(b, &ns, "alpha", 2);
    let mut with_beta = current.clone();
    with_beta.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "agent-beta", "namespace": ns,
                     "labels": {"app.kubernetes.io/managed-by": "clawctl",
                                FLEET_LABEL: b.fleet, AGENT_LABEL: "alpha"}},
        "data": {"SOUL.md": "You are pwned."}}));
    let r7 = plant(b, &ns, "alpha", 7, &with_beta);
    let mut with_binding = current.clone();
    with_binding.push(admin_binding(
        b,
        "kube-system",
        "agent-alpha",
        "alpha",
        &b.fleet_ns,
    ));
    let r8 = plant(b, &ns, "alpha", 8, &with_binding);

    let out = b.clawctl(&edited, &["history", "fleet.yaml"]).success();
    for name in [&r7, &r8] {
        assert!(
            out.stdout.contains(&format!("REFUSED ({name})")),
            "{}",
            out.stdout
        );
    }
    let listed = format!("REFUSED ({r8}): it holds RoleBinding kube-system/agent-alpha");
    assert!(out.stdout.contains(&listed), "{listed}\n{}", out.stdout);
    let rows = history_rows(
        &b.clawctl(
            &edited,
            &["history", "fleet.yaml", "--agent", "alpha", "-o", "json"],
        )
        .success(),
    );
    let refused = |n: i64| {
        rows.iter()
            .find(|r| r.2 == n)
            .unwrap_or_else(|| panic!("no revision {n}: {rows:?}"))
            .3
            .clone()
    };
    assert_eq!((refused(1), refused(2)), (None, None), "{rows:?}");
    assert!(
        refused(7).is_some_and(|why| why.contains("agent-beta")),
        "{rows:?}"
    );
    assert!(
        refused(8).is_some_and(|why| why.contains("kube-system")),
        "{rows:?}"
    );

    let before = b.written(&["core"]);
    for (number, what) in [("7", "agent-beta"), ("8", "kube-system")] {
        if let Some(fake) = b.fake() {
            fake.clear_requests();
        }
        let out = rollback_alpha(b, &edited, &["--to-revision", number]).fails(1);
        let said = format!("{}{}", out.stdout, out.stderr);
        assert!(
            said.contains("refused") && said.contains(what),
            "--to-revision {number}:\n{said}"
        );
        assert!(
            out.stderr
                .contains(&format!("revision {number} of agent \"alpha\""))
                && out.stderr.contains("is refused and is never applied"),
            "{}",
            out.stderr
        );
        if let Some(fake) = b.fake() {
            assert_eq!(writes_but_lease(fake), Vec::<String>::new());
        }
        assert!(binding(b, "kube-system", "agent-alpha").is_none());
        assert_eq!(b.soul(&ns, "beta"), "You are beta.");
        assert_eq!(b.soul(&ns, "alpha"), "You are alpha, v2.");
        let mut after = b.written(&["core"]);
        after.retain(|k, _| !k.starts_with("Lock "));
        let mut expected = before.clone();
        expected.retain(|k, _| !k.starts_with("Lock "));
        assert_eq!(after, expected, "--to-revision {number} wrote something");
    }
}

/// (b, continued) A refused revision with a higher number than any recorded one neither
/// steers nor blocks the default rollback: r2 is current, r1 the target, and it goes.
/// Fails on main at the time of writing (also against the fake server): `execute`'s check
/// under the lock takes the newest revision of the agent *including refused ones* and
/// stops with "has a new revision since the plan was made", so anyone who may write a
/// Secret in the namespace can stop every rollback of that agent.
pub(crate) fn a_planted_newer_revision_does_not_block_the_default_rollback(b: &Backend) {
    let ns = b.ns("core");
    let (_, edited) = two_revisions(b, &["alpha", "beta"]);
    let mut with_beta = recorded(b, &ns, "alpha", 2);
    with_beta.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "agent-beta", "namespace": ns,
                     "labels": {"app.kubernetes.io/managed-by": "clawctl",
                                FLEET_LABEL: b.fleet, AGENT_LABEL: "alpha"}},
        "data": {"SOUL.md": "You are pwned."}}));
    plant(b, &ns, "alpha", 7, &with_beta);

    let out = rollback_alpha(b, &edited, &["-o", "json"]).success();
    let report = json_of(&out);
    assert_eq!(report["agents"][0]["from"]["revision"], 2, "{report:#}");
    assert_eq!(report["agents"][0]["to"]["revision"], 1, "{report:#}");
    assert_eq!(b.soul(&ns, "alpha"), "You are alpha.");
    assert_eq!(b.soul(&ns, "beta"), "You are beta.");
}

/// (c) Two fleets with an agent `alpha` in one namespace (issue 17's knowledge/teams
/// case). The second fleet names the namespace in `adoptNamespaces` too: it belongs to
/// the first fleet, so that changes nothing. Its diff prints a conflict line per object
/// and exits 1; its apply exits 1 and writes nothing, not even its own fleet namespace;
/// the first fleet's ConfigMap keeps its content, labels and resourceVersion.
pub(crate) fn a_second_fleet_with_the_same_agent_writes_nothing(b: &Backend) {
    let ns = b.ns("core");
    let first = b.fleet(&["alpha"], &b.image());
    b.apply(&first, &["--no-wait"]).success();
    let theirs: ConfigMap = b
        .get(&ns, "agent-alpha")
        .expect("the first fleet's ConfigMap");

    let name = format!("{}-two", b.fleet);
    let second_ns = format!("{}-two-sys", b.fleet);
    b.made(&second_ns);
    let second = b
        .fleet_named(
            &name,
            &second_ns,
            &b.image(),
            &[("core".to_string(), ns.clone())],
            &[("alpha", "core")],
        )
        .replace("You are alpha.", "You are the other fleet's alpha.");
    let before = b.written(&["core"]);
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }

    let out = b.clawctl(&second, &["diff", "fleet.yaml"]).fails(1);
    assert!(
        out.stderr
            .contains("are not this fleet's; nothing was changed"),
        "{}",
        out.stderr
    );
    let said = format!("{}{}", out.stdout, out.stderr);
    for object in [
        format!("ConfigMap {ns}/agent-alpha"),
        format!("Deployment {ns}/agent-alpha"),
        format!("ServiceAccount {ns}/agent-alpha"),
        format!("Namespace {ns}"),
    ] {
        assert!(
            said.lines()
                .any(|l| l.contains(&format!("conflict {object}:"))),
            "no conflict line for {object}:\n{said}"
        );
    }
    assert!(
        said.contains(&format!("belongs to clawctl fleet {:?}", b.fleet)),
        "{said}"
    );
    assert!(
        !said
            .lines()
            .any(|l| l.contains("create ") && l.contains(&format!("{ns}/"))),
        "{said}"
    );

    let out = b
        .clawctl(&second, &["apply", "fleet.yaml", "--yes", "--no-wait"])
        .fails(1);
    assert!(
        out.stderr
            .contains("already exist and are not this fleet's; nothing was changed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "ConfigMap {ns}/agent-alpha: belongs to clawctl fleet {:?}",
            b.fleet
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("Status {"), "{}", out.stderr);

    if let Some(fake) = b.fake() {
        assert_eq!(writes(fake), Vec::<String>::new());
    }
    assert_eq!(b.written(&["core"]), before, "the second fleet wrote");
    let after: ConfigMap = b.get(&ns, "agent-alpha").expect("ConfigMap");
    assert_eq!(after.data, theirs.data);
    assert_eq!(after.metadata.labels, theirs.metadata.labels);
    assert_eq!(after.resource_version(), theirs.resource_version());
    assert!(b.namespace(&second_ns).is_none(), "{second_ns} was created");
    let namespace = b.namespace(&ns).expect("namespace");
    assert_eq!(
        namespace.labels().get(FLEET_LABEL),
        Some(&b.fleet),
        "the namespace changed hands"
    );
    let secrets = b.list::<Secret>(&ns, &format!("{FLEET_LABEL}={name}"));
    assert!(secrets.is_empty(), "revisions of the second fleet");
    b.clawctl(&first, &["diff", "fleet.yaml", "--exit-code"])
        .success();
}

/// (d) A namespace someone made, holding their ConfigMap, is a conflict until the fleet
/// names it in `adoptNamespaces` (apply refuses, nothing written); adopted, it is
/// annotated; and once its team is removed, `apply --prune --delete-volumes` deletes the
/// agent in it but never the namespace or what was there before.
pub(crate) fn a_namespace_clawctl_did_not_create_is_adopted_only_when_named_and_never_deleted(
    b: &Backend,
) {
    let (core, extra) = (b.ns("core"), b.ns("extra"));
    let adopting = b.fleet_with(
        &b.image(),
        &["core", "extra"],
        &[("alpha", "core"), ("omega", "extra")],
    );
    let notes = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "someones-notes", "namespace": extra},
        "data": {"notes.md": "mine"}});
    b.apply_as::<ConfigMap>("kubectl-client-side-apply", &notes);
    let notes_version = || {
        b.get::<ConfigMap>(&extra, "someones-notes")
            .expect("someone's ConfigMap is still there")
            .resource_version()
    };
    let version = notes_version();
    let not_adopting = adopting.replace(
        &format!("adoptNamespaces: [{core}, {extra}]"),
        &format!("adoptNamespaces: [{core}]"),
    );
    assert_ne!(not_adopting, adopting);

    let out = b.clawctl(&not_adopting, &["diff", "fleet.yaml"]).fails(1);
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(
        said.contains(&format!("conflict Namespace {extra}:")),
        "{said}"
    );
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }
    let out = b.apply(&not_adopting, &["--no-wait"]).fails(1);
    assert!(
        out.stderr.contains(&format!(
            "Namespace {extra}: exists and was not created by clawctl"
        )) && out
            .stderr
            .contains("if the fleet should take it over, name it in spec.adoptNamespaces"),
        "{}",
        out.stderr
    );
    if let Some(fake) = b.fake() {
        assert_eq!(writes(fake), Vec::<String>::new());
    }
    b.assert_untouched("core");
    b.assert_untouched("extra");

    b.apply(&adopting, &["--no-wait"]).success();
    let namespace = b.namespace(&extra).expect("namespace");
    assert_eq!(
        namespace
            .annotations()
            .get("clawctl.io/adopted")
            .map(String::as_str),
        Some("true")
    );
    assert!(b.get::<Deployment>(&extra, "agent-omega").is_some());
    assert_eq!(notes_version(), version);

    let out = b
        .apply(
            &b.fleet(&["alpha"], &b.image()),
            &["--no-wait", "--prune", "--delete-volumes"],
        )
        .success();
    assert!(
        b.get::<Deployment>(&extra, "agent-omega").is_none(),
        "{}",
        out.stderr
    );
    assert!(
        b.namespace(&extra).is_some(),
        "the adopted namespace was deleted:\n{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("keep Namespace {extra}: adopted by the fleet")),
        "{}",
        out.stderr
    );
    assert_eq!(notes_version(), version);
    assert!(b.get::<Deployment>(&core, "agent-alpha").is_some());
}

/// (e) The platform team makes the namespaces (fleet and team), the gateway Secret, a
/// ServiceAccount and RoleBindings to the built-in `admin` ClusterRole in exactly those
/// two namespaces, and nothing else: no ClusterRole, no cluster-wide binding. That account
/// then runs apply (the first and a re-apply that writes nothing), status, diff, rollout
/// to a new image, history, rollback, suspend and resume.
pub(crate) fn a_team_with_only_admin_in_its_namespaces_runs_every_command_from_the_first_apply(
    b: &Backend,
) {
    let agents = ["alpha", "beta"];
    b.platform_namespace(&b.fleet_ns);
    let adopt_fleet_ns = |text: String| {
        let adopted = text.replace(
            "adoptNamespaces: [",
            &format!("adoptNamespaces: [{}, ", b.fleet_ns),
        );
        assert_ne!(adopted, text);
        adopted
    };
    let text = adopt_fleet_ns(b.fleet(&agents, &b.image()));
    let team = b.team_scoped_kubeconfig(&[&b.ns("core"), &b.fleet_ns]);
    let run = |fleet_text: &str, args: &[&str]| b.clawctl_as(&team, fleet_text, args);
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }

    let out = run(
        &text,
        &["apply", "fleet.yaml", "--yes", "--timeout", b.pace.ready],
    )
    .success();
    assert!(out.stderr.contains("2/2 agents ready"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("cannot read Namespace objects with these credentials"),
        "{}",
        out.stderr
    );
    // History and the lock where `admin` may write them.
    let revisions = b.revisions(&b.ns("core"));
    assert_eq!(revisions.len(), 2, "{:?}", revisions.keys());
    for agent in agents {
        let name = format!("clawctl.{}.{agent}.r1", b.fleet);
        assert!(revisions.contains_key(&name), "{:?}", revisions.keys());
    }
    assert!(b.get::<ConfigMap>(&b.fleet_ns, &b.lock_name()).is_some());
    assert_eq!(b.lock_holder(), None);

    let before = b.written(&["core"]);
    let out = run(
        &text,
        &["apply", "fleet.yaml", "--yes", "--timeout", b.pace.ready],
    )
    .success();
    assert!(out.stderr.contains("nothing to change"), "{}", out.stderr);
    assert_eq!(b.written(&["core"]), before);

    let out = run(&text, &["status", "fleet.yaml", "-o", "json"]).success();
    assert_eq!(
        phases(&json_of(&out)),
        pairs(&[("alpha", "Ready"), ("beta", "Ready")])
    );
    run(&text, &["diff", "fleet.yaml", "--exit-code"]).success();

    let next = b.next_image();
    let target = adopt_fleet_ns(b.fleet(&agents, &next));
    run(&target, &rollout_args(b, &["--soak", "1s"])).success();
    assert_eq!(b.images(&agents), vec![next.clone(); 2]);

    let out = run(&target, &["history", "fleet.yaml", "-o", "json"]).success();
    let rows = history_rows(&out);
    // Each agent's first apply and its rollout, none refused.
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.iter().all(|r| r.3.is_none()), "{rows:?}");
    assert!(
        json_of(&out)
            .as_array()
            .expect("rows")
            .iter()
            .any(|r| r["agent"] == "alpha" && r["cause"] == "rollout"),
        "{}",
        out.stdout
    );

    run(
        &target,
        &[
            "rollback",
            "fleet.yaml",
            "--all",
            "--yes",
            "--timeout",
            b.pace.ready,
        ],
    )
    .success();
    assert_eq!(b.images(&agents), vec![b.image(); 2]);

    run(
        &text,
        &[
            "suspend",
            "fleet.yaml",
            "alpha",
            "--yes",
            "--timeout",
            b.pace.ready,
        ],
    )
    .success();
    assert_eq!(b.replicas("alpha"), Some(0));
    run(
        &text,
        &[
            "resume",
            "fleet.yaml",
            "alpha",
            "--yes",
            "--timeout",
            b.pace.ready,
        ],
    )
    .success();
    assert_eq!(b.replicas("alpha"), Some(1));
    assert_eq!(b.lock_holder(), None);

    // Nothing cluster-wide was written, and every refusal was a read the tool then did
    // namespace by namespace.
    if let Some(fake) = b.fake() {
        let refused: Vec<String> = fake
            .requests()
            .into_iter()
            .filter(|r| r.status == 403)
            .map(|r| format!("{} {} {}", r.verb, r.method, r.path))
            .collect();
        assert!(!refused.is_empty(), "nothing was refused");
        assert!(
            refused.iter().all(|r| r.starts_with("list ")
                || r.starts_with("watch ")
                || r.starts_with("get ")),
            "{refused:?}"
        );
        let roles = fake.list("rbac.authorization.k8s.io/v1", "ClusterRole", None);
        assert!(!roles.is_empty());
        assert!(
            roles.iter().all(|r| !r["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .starts_with("clawctl")),
            "a ClusterRole was made"
        );
    }
}

/// (b, continued) A revision planted in the agent's own namespace that holds only names
/// the agent may have (`names::agent_objects`), but one of them is a RoleBinding
/// `agent-alpha` granting cluster-admin in that namespace to someone else: clawctl never
/// renders such a binding (its RoleBinding binds the agent's own Role to the agent's own
/// ServiceAccount). Anyone who may create Secrets there (the built-in `edit` role, which
/// cannot create RoleBindings) would otherwise get it applied by the operator's rollback.
/// Fails on main at the time of writing: `history::check` compares kinds, names,
/// namespaces and labels, not what the objects grant.
pub(crate) fn a_revision_with_the_agents_names_but_foreign_content_is_refused(b: &Backend) {
    let ns = b.ns("core");
    let (_, edited) = two_revisions(b, &["alpha"]);
    let mut forged = recorded(b, &ns, "alpha", 2);
    forged.push(admin_binding(b, &ns, "agent-alpha", "alpha", &b.fleet_ns));
    let planted = plant(b, &ns, "alpha", 7, &forged);

    let out = b.clawctl(&edited, &["history", "fleet.yaml"]).success();
    let listed = format!("REFUSED ({planted}): its seal does not match");
    assert!(out.stdout.contains(&listed), "{listed}\n{}", out.stdout);
    if let Some(fake) = b.fake() {
        fake.clear_requests();
    }
    let out = rollback_alpha(b, &edited, &["--to-revision", "7"]).fails(1);
    assert!(
        out.stderr.contains("revision 7 of agent \"alpha\"")
            && out.stderr.contains("is refused and is never applied"),
        "{}",
        out.stderr
    );
    if let Some(fake) = b.fake() {
        assert_eq!(writes_but_lease(fake), Vec::<String>::new());
    }
    assert!(binding(b, &ns, "agent-alpha").is_none());
    // The key lives in the fleet namespace, where the team's editors cannot read it.
    let key = format!("clawctl-{}-history-key", b.fleet);
    assert!(b.get::<Secret>(&b.fleet_ns, &key).is_some(), "no {key}");
}
