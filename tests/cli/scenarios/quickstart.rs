//! The README's quick start, step by step: the `kubectl` lines of step 2 played as a
//! platform team's writes (checked to still be the two it plays), the fleet of step 3,
//! and every `clawctl` line of step 4, which must exit 0. On a real cluster the fleet,
//! its namespace and the team's namespace get this run's names and the image may be a
//! mirror; everything else is the README's text. Only step 1 (`kind create cluster`) is
//! not run: the cluster is the backend's.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use serde_json::json;

use crate::docs::{anchored, code_blocks, command, read};
use crate::harness::backend::{Backend, IMAGE};

pub(crate) fn the_readme_quick_start_reaches_a_first_apply(b: &Backend) {
    let readme = read("README.md");
    let blocks = code_blocks(anchored(&readme, "quickstart"));
    assert_eq!(blocks.len(), 4, "four steps: {blocks:#?}");
    assert_eq!(blocks[0], "kind create cluster --name clawctl\n");
    assert_eq!(
        blocks[1],
        "kubectl create namespace assistants\n\
         kubectl -n assistants create secret generic openclaw-secrets \\\n  \
         --from-literal=OPENCLAW_GATEWAY_TOKEN=\"$(openssl rand -hex 32)\" \\\n  \
         --from-literal=ANTHROPIC_API_KEY=\"$ANTHROPIC_API_KEY\"\n",
        "step 2 changed: play the new commands in this scenario"
    );
    let written = blocks[2]
        .strip_prefix("cat > fleet.yaml <<'EOF'\n")
        .and_then(|rest| rest.strip_suffix("EOF\n"))
        .expect("step 3 writes fleet.yaml with a heredoc");
    assert!(
        (15..=25).contains(&written.lines().count()),
        "a fleet of about 20 lines"
    );
    assert!(written.contains("name: quickstart") && written.contains(IMAGE));

    // This run's names: the README's on the fake, unique ones on a shared cluster.
    let ns = b.ns("assistants");
    let fleet = match b.fake() {
        Some(_) => written.to_string(),
        None => written
            .replace(
                "name: quickstart",
                &format!("name: {}\n  namespace: {}", b.fleet, b.fleet_ns),
            )
            .replace("assistants", &ns)
            .replace(IMAGE, &b.image()),
    };

    // Step 2, as `kubectl create namespace` and `kubectl create secret` write them.
    b.make_namespace(&ns, &[]);
    b.apply_as::<Secret>(
        "kubectl-create",
        &json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "openclaw-secrets", "namespace": ns},
                "stringData": {"OPENCLAW_GATEWAY_TOKEN": "0123456789abcdef0123456789abcdef",
                               "ANTHROPIC_API_KEY": "sk-test"}}),
    );

    // Step 4: each line as written, against this backend.
    let lines: Vec<&str> = blocks[3].lines().map(command).collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    for line in lines {
        let args: Vec<&str> = line
            .strip_prefix("clawctl ")
            .expect("step 4 runs clawctl")
            .split_whitespace()
            .collect();
        let out = b.clawctl(&fleet, &args).success();
        if args[0] == "status" {
            assert!(
                out.stdout.contains("assistant") && out.stdout.contains("Ready"),
                "{}",
                out.stdout
            );
        }
    }
    let deployment = b
        .get::<Deployment>(&ns, "agent-assistant")
        .expect("the first apply made the agent");
    assert_eq!(deployment.spec.and_then(|s| s.replicas), Some(1));
}
