//! An agent's objects in a team namespace as the cluster holds them: its Deployment
//! (replicas, image, annotations, who owns `spec.replicas`), its pods, its volume.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::ResourceExt;
use serde_json::Value;

use crate::harness::backend::Backend;

impl Backend {
    /// Agent `agent`'s Deployment in `team`'s namespace, as JSON.
    pub(crate) fn deployment_in(&self, team: &str, agent: &str) -> Option<Value> {
        self.json::<Deployment>(&self.ns(team), &format!("agent-{agent}"))
    }

    /// Agent `agent`'s Deployment in team "core", as JSON.
    pub(crate) fn deployment(&self, agent: &str) -> Value {
        self.deployment_in("core", agent)
            .unwrap_or_else(|| panic!("no Deployment agent-{agent}"))
    }

    /// `spec.replicas` of `agent`'s Deployment (team "core").
    pub(crate) fn replicas(&self, agent: &str) -> Option<i64> {
        self.deployment(agent)["spec"]["replicas"].as_i64()
    }

    /// The image `agent`'s Deployment runs (team "core"), or "" without one.
    pub(crate) fn image_of(&self, agent: &str) -> String {
        self.deployment_in("core", agent)
            .and_then(|d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"]
                    .as_str()
                    .map(str::to_string)
            })
            .unwrap_or_default()
    }

    /// [`Backend::image_of`] each of `agents`.
    pub(crate) fn images(&self, agents: &[&str]) -> Vec<String> {
        agents.iter().map(|a| self.image_of(a)).collect()
    }

    /// Annotation `key` of `agent`'s Deployment (team "core").
    pub(crate) fn annotation(&self, agent: &str, key: &str) -> Option<String> {
        self.deployment(agent)["metadata"]["annotations"][key]
            .as_str()
            .map(str::to_string)
    }

    /// The field managers that own `spec.replicas` of `agent`'s Deployment, sorted.
    pub(crate) fn replicas_owners(&self, agent: &str) -> Vec<String> {
        let d = self.deployment(agent);
        let mut owners: Vec<String> = d["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| !e["fieldsV1"]["f:spec"]["f:replicas"].is_null())
            .filter_map(|e| e["manager"].as_str().map(str::to_string))
            .collect();
        owners.sort();
        owners
    }

    /// How many of `agent`'s pods (team "core") run, not counting terminating ones.
    pub(crate) fn pods(&self, agent: &str) -> usize {
        self.running_pods(&self.ns("core"), &format!("clawctl.io/agent={agent}"))
            .len()
    }

    /// Waits (bounded) until `agent` has `n` pods: the controllers settled.
    pub(crate) fn settle(&self, agent: &str, n: usize) {
        let deadline = std::time::Instant::now() + self.pace.progress;
        while self.pods(agent) != n {
            assert!(
                std::time::Instant::now() < deadline,
                "{agent} never got to {n} pod(s)"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// The uid of each of `agents`' volume claims (team "core"), "" for a missing one.
    pub(crate) fn claim_uids(&self, agents: &[&str]) -> Vec<String> {
        agents
            .iter()
            .map(|agent| {
                self.get::<PersistentVolumeClaim>(&self.ns("core"), &format!("agent-{agent}"))
                    .and_then(|c| c.uid())
                    .unwrap_or_default()
            })
            .collect()
    }
}
