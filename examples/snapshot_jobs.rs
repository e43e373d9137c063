//! Prints, as one YAML stream, what `clawctl backup` and `clawctl restore` would create
//! for each agent of a fleet: the Jobs for an agent with a knowledge bucket, and the
//! helper pods of local archives (`--to`, `--from-file`) for every agent, built from its
//! rendered Deployment (the commands build them from the live one, which has the same
//! shape), so the manifest validator can check them beside the rendered fleet
//! (`.ci/run`):
//!
//!     cargo run --example snapshot_jobs -- fleets/knowledge.yaml > jobs.yaml

use clawctl::render::{self, Filter};
use clawctl::snapshot::{self, JobSpec, Operation};

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: snapshot_jobs FLEET"))?;
    let (_, fleet) = clawctl::ops::load(std::path::Path::new(&path))
        .map_err(|d| anyhow::anyhow!("{path}: {} problem(s)", d.0.len()))?;
    let templates = clawctl::ops::templates(None, &fleet)?;
    let manifests = render::render(&fleet, &templates, &Filter::default())?;
    let mut out = String::new();
    // Agents' Deployments only: the router's (routing.router) holds no brain.
    for m in manifests.iter().filter(|m| m.kind == "Deployment") {
        let Some(agent) = m.agent.as_deref() else {
            continue;
        };
        for (read_only, beside_gateway) in [(true, true), (false, false)] {
            let name = format!("{}-brain-{}", m.name, if read_only { "out" } else { "in" });
            let pod = snapshot::archive::helper_pod(
                &m.value,
                agent,
                &name,
                read_only,
                beside_gateway,
                1800,
            )?;
            out.push_str("---\n");
            out.push_str(&clawctl::yaml::to_yaml(&pod)?);
        }
        let Some(bucket) = snapshot::bucket(&m.value) else {
            continue;
        };
        for (operation, beside_gateway) in [(Operation::Backup, true), (Operation::Restore, false)]
        {
            let id = "20261202-011503";
            let spec = JobSpec {
                operation,
                agent,
                remote: snapshot::remote(&bucket, agent, id),
                legacy_remote: (operation == Operation::Restore)
                    .then(|| snapshot::legacy_remote(&bucket, agent, id)),
                marker: (operation == Operation::Backup)
                    .then(|| serde_json::json!({"agent": agent, "id": id})),
                name: snapshot::job_name(&m.name, operation, id),
                deadline_seconds: 1800,
                beside_gateway,
            };
            out.push_str("---\n");
            out.push_str(&clawctl::yaml::to_yaml(&snapshot::job(&m.value, &spec)?)?);
        }
    }
    print!("{out}");
    Ok(())
}
