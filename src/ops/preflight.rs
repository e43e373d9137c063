//! Preflight: what the cluster must hold before an apply can start agents that work.
//! Each agent's Secrets must exist in its namespace and hold the keys the gateway reads
//! (OPENCLAW_GATEWAY_TOKEN, every `model.endpoint.apiKeyEnv`), unless the fleet's `env`
//! sets them; every Secret mounted as a volume (unless `optional`) must exist and hold
//! the keys its `items` name; every StorageClass a new volume names must exist. A
//! missing one would surface minutes later as CreateContainerConfigError, a pod stuck
//! in ContainerCreating, a crash loop or a Pending volume; here it is named before
//! anything is written. Secret values are never kept: only key names leave
//! `cluster::secrets`.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, stream};
use serde_json::Value;

use crate::cluster::Cluster;
use crate::cluster::kinds::Kind;
use crate::cluster::secrets::{self, SecretKeys};
use crate::cluster::storage::{self, Lookup};
use crate::diag::agents_phrase;
use crate::fleet::ResolvedFleet;
use crate::openclaw::TOKEN_ENV;
use crate::plan::{Action, Plan};

/// One agent's requirement: `keys` must be found in one of `secrets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub agent: String,
    pub namespace: String,
    pub secrets: Vec<String>,
    pub keys: Vec<String>,
}

/// What each agent needs from its Secrets: its environment's keys from the `secrets`
/// it loads, then each mounted Secret (its `items` keys, or only that it exists). Pure.
pub fn needs(fleet: &ResolvedFleet) -> Vec<Need> {
    let mounted = fleet.agents.iter().flat_map(|agent| {
        agent
            .pod
            .volumes
            .values()
            .filter_map(|v| v.secret.as_ref())
            .filter(|s| s.optional != Some(true))
            .map(|s| Need {
                agent: agent.name.clone(),
                namespace: agent.namespace.clone(),
                secrets: vec![s.secret_name.clone()],
                keys: s.items.iter().flatten().map(|i| i.key.clone()).collect(),
            })
    });
    let env = fleet
        .agents
        .iter()
        .map(|agent| {
            // A routed agent's token is its own, in a Secret apply generates.
            let mut keys = if agent.routed {
                Vec::new()
            } else {
                vec![TOKEN_ENV.to_string()]
            };
            if let Some(var) = agent
                .model_endpoint
                .as_ref()
                .and_then(|e| e.api_key_env.clone())
            {
                keys.push(var);
            }
            keys.retain(|k| !agent.env.contains_key(k));
            keys.dedup();
            Need {
                agent: agent.name.clone(),
                namespace: agent.namespace.clone(),
                secrets: agent.secrets.clone(),
                keys,
            }
        })
        .filter(|n| !n.keys.is_empty());
    env.chain(mounted).collect()
}

/// What the preflight found that does not stop the apply.
#[derive(Debug, Default)]
pub struct Findings {
    pub warnings: Vec<String>,
}

/// A preflight that failed: every problem, each naming agent, Secret and key.
#[derive(Debug, thiserror::Error)]
#[error("preflight: the cluster is missing what the agents need; nothing was changed\n  {}", .0.join("\n  "))]
pub struct Missing(pub Vec<String>);

/// The StorageClasses the plan's new PersistentVolumeClaims name, each with the agents
/// whose volume it would provision. Claims that exist are left out: they are bound
/// already, and their class cannot change. Pure.
pub fn storage_classes(plan: &Plan) -> BTreeMap<String, Vec<String>> {
    let mut classes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for change in &plan.changes {
        if change.action != Action::Create || change.object.kind != "PersistentVolumeClaim" {
            continue;
        }
        let class = change
            .desired
            .as_ref()
            .and_then(|d| d.pointer("/spec/storageClassName"))
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty());
        if let Some(class) = class {
            let agent = change
                .agent
                .clone()
                .unwrap_or_else(|| change.object.name.clone());
            classes.entry(class.to_string()).or_default().push(agent);
        }
    }
    classes
}

/// One problem per kind the plan would write whose CRD the cluster lacks (its list
/// answered 404), naming the CRD and the objects that need it. Pure.
pub fn missing_crds(plan: &Plan, absent: &[&Kind]) -> Vec<String> {
    let mut problems = Vec::new();
    for kind in absent {
        let objects: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| matches!(c.action, Action::Create | Action::Update))
            .filter(|c| {
                c.object.kind == kind.resource.kind
                    && c.object.api_version == kind.resource.api_version
            })
            .map(|c| {
                let ns = c.object.namespace.as_deref().unwrap_or_default();
                format!("{ns}/{}", c.object.name)
            })
            .collect();
        if objects.is_empty() {
            continue;
        }
        let crd = kind.crd.unwrap_or_default();
        problems.push(format!(
            "the cluster does not serve {} ({}): CustomResourceDefinition {crd} is not \
             installed, and the fleet renders {} {}: {} (install the CRD, e.g. with Gateway \
             API's standard channel, or remove exposure.httpRoute)",
            kind.resource.kind,
            kind.resource.api_version,
            objects.len(),
            kind.resource.kind,
            objects.join(", ")
        ));
    }
    problems
}

/// Writes the credentials in use may not make: apply refuses before any write, naming
/// each and the one command a cluster admin runs.
#[derive(Debug, thiserror::Error)]
#[error(
    "these credentials may not make every write the fleet needs; nothing was changed\n  {}\n\
     a cluster admin runs, once: clawctl apply {command} --yes\n\
     (it makes these writes; runs with these credentials afterwards leave those objects as they are)",
    .denied.join("\n  ")
)]
pub struct NeedsClusterAdmin {
    pub denied: Vec<String>,
    pub command: String,
}

/// Asks the API server (SelfSubjectAccessReview) whether these credentials may make
/// every write of the plan: first whether they may do anything (a cluster admin: one
/// request), else once per verb, kind and namespace. A server that cannot answer is
/// not held against the apply; the writes themselves are then refused or not.
pub async fn permissions(
    cluster: &Cluster,
    plan: &Plan,
    prune: bool,
    fleet_file: &std::path::Path,
    concurrency: usize,
) -> anyhow::Result<()> {
    use crate::cluster::access::{self, Ask};
    let everything = Ask {
        verb: "*".into(),
        group: "*".into(),
        resource: "*".into(),
        namespace: None,
    };
    match access::allowed(cluster, &everything).await {
        Ok(true) | Err(_) => return Ok(()),
        Ok(false) => {}
    }
    let mut asks: BTreeMap<Ask, Vec<String>> = BTreeMap::new();
    for change in &plan.changes {
        let verb = match change.action {
            Action::Create => "create",
            Action::Update => "patch",
            Action::Prune if prune => "delete",
            _ => continue,
        };
        let Some(kind) =
            crate::cluster::kinds::find(&change.object.api_version, &change.object.kind)
        else {
            continue;
        };
        let ask = Ask {
            verb: verb.into(),
            group: kind.resource.group.clone(),
            resource: kind.resource.plural.clone(),
            namespace: change.object.namespace.clone().filter(|_| kind.namespaced),
        };
        asks.entry(ask).or_default().push(change.object.to_string());
    }
    let answers: Vec<(Ask, Vec<String>, bool)> = stream::iter(asks)
        .map(|(ask, objects)| async move {
            let allowed = access::allowed(cluster, &ask).await.unwrap_or(true);
            (ask, objects, allowed)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut denied: Vec<String> = answers
        .into_iter()
        .filter(|(_, _, allowed)| !allowed)
        .map(|(ask, objects, _)| {
            let resource = if ask.group.is_empty() {
                ask.resource.clone()
            } else {
                format!("{}.{}", ask.resource, ask.group)
            };
            let place = ask
                .namespace
                .as_deref()
                .map(|ns| format!(" in namespace {ns:?}"))
                .unwrap_or_else(|| " (cluster-wide)".into());
            format!("{} {resource}{place}: {}", ask.verb, objects.join(", "))
        })
        .collect();
    denied.sort();
    if denied.is_empty() {
        return Ok(());
    }
    Err(NeedsClusterAdmin {
        denied,
        command: fleet_file.display().to_string(),
    }
    .into())
}

/// The existing claims agents mount as extra volumes, by (namespace, claim), each with
/// the agents that mount it. Pure.
pub fn claims(fleet: &ResolvedFleet) -> BTreeMap<(String, String), Vec<String>> {
    let mut claims: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for agent in &fleet.agents {
        for volume in agent.pod.volumes.values() {
            if let Some(claim) = &volume.persistent_volume_claim {
                let key = (agent.namespace.clone(), claim.claim_name.clone());
                claims.entry(key).or_default().push(agent.name.clone());
            }
        }
    }
    claims
}

/// Reads each (namespace, Secret), each StorageClass and each mounted claim once; checks
/// every agent's keys, that every new volume's class exists and that every claim an
/// agent mounts exists.
pub async fn check(
    cluster: &Cluster,
    needs: &[Need],
    classes: &BTreeMap<String, Vec<String>>,
    claims: &BTreeMap<(String, String), Vec<String>>,
    concurrency: usize,
) -> anyhow::Result<Findings> {
    let wanted: BTreeSet<(String, String)> = needs
        .iter()
        .flat_map(|n| n.secrets.iter().map(|s| (n.namespace.clone(), s.clone())))
        .collect();
    let found: Vec<((String, String), anyhow::Result<SecretKeys>)> =
        stream::iter(wanted.into_iter().map(|(ns, name)| async move {
            let keys = secrets::keys(cluster, &ns, &name).await;
            ((ns, name), keys)
        }))
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut lookup = BTreeMap::new();
    for (key, result) in found {
        lookup.insert(key, result?);
    }
    let (mut problems, mut warnings) = judge(needs, &lookup);
    for (class, agents) in classes {
        match storage::class(cluster, class).await? {
            Lookup::Found => {}
            Lookup::Missing => problems.push(format!(
                "{}: StorageClass {class:?} does not exist, so the volume would stay Pending \
                 and the agent would never start (`kubectl get storageclass` lists the \
                 cluster's classes; set storage.storageClassName to one of them)",
                agents_phrase(agents)
            )),
            Lookup::Forbidden(message) => warnings.push(format!(
                "cannot check that StorageClass {class:?} exists: {message}"
            )),
        }
    }
    let found: Vec<(&(String, String), anyhow::Result<Lookup>)> = stream::iter(
        claims
            .keys()
            .map(|key| async move { (key, storage::claim(cluster, &key.0, &key.1).await) }),
    )
    .buffer_unordered(concurrency.max(1))
    .collect()
    .await;
    let mut found: Vec<_> = found
        .into_iter()
        .map(|(key, result)| result.map(|lookup| (key, lookup)))
        .collect::<anyhow::Result<_>>()?;
    found.sort_by(|a, b| a.0.cmp(b.0));
    for ((namespace, claim), lookup) in found {
        let agents = claims.get(&(namespace.clone(), claim.clone()));
        let agents = agents.map(|a| agents_phrase(a)).unwrap_or_default();
        match lookup {
            Lookup::Found => {}
            Lookup::Missing => problems.push(format!(
                "{agents}: PersistentVolumeClaim {claim:?} does not exist in namespace \
                 {namespace:?}, so the pod would stay Pending (create the claim, or correct \
                 volumes.NAME.persistentVolumeClaim.claimName)"
            )),
            Lookup::Forbidden(message) => warnings.push(format!(
                "cannot check that PersistentVolumeClaim {namespace}/{claim} exists: {message}"
            )),
        }
    }
    if problems.is_empty() {
        Ok(Findings { warnings })
    } else {
        Err(Missing(problems).into())
    }
}

/// The problems (errors) and warnings of `needs` given what was found. Agents with the
/// same problem are named together, so a Secret missing from a team's namespace is one
/// line, not one per agent.
fn judge(
    needs: &[Need],
    lookup: &BTreeMap<(String, String), SecretKeys>,
) -> (Vec<String>, Vec<String>) {
    let mut problems: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut warnings: BTreeSet<String> = BTreeSet::new();
    for need in needs {
        let mut held: BTreeSet<&str> = BTreeSet::new();
        let mut unknown = false;
        for secret in &need.secrets {
            match lookup.get(&(need.namespace.clone(), secret.clone())) {
                Some(SecretKeys::Found(keys)) => held.extend(keys.iter().map(String::as_str)),
                Some(SecretKeys::Missing) | None => {
                    let problem = format!(
                        "Secret {secret:?} does not exist in namespace {:?}",
                        need.namespace
                    );
                    problems.entry(problem).or_default().push(&need.agent);
                    unknown = true;
                }
                Some(SecretKeys::Forbidden(message)) if need.keys.is_empty() => {
                    warnings.insert(format!(
                        "cannot check that Secret {secret:?} exists: {message}"
                    ));
                    unknown = true;
                }
                Some(SecretKeys::Forbidden(message)) => {
                    warnings.insert(format!(
                        "cannot check that Secret {secret:?} holds {}: {message}",
                        need.keys.join(", ")
                    ));
                    unknown = true;
                }
            }
        }
        if unknown {
            continue;
        }
        for key in &need.keys {
            if held.contains(key.as_str()) {
                continue;
            }
            let problem = if need.secrets.is_empty() {
                format!(
                    "no Secret provides {key}: the agent has no `secrets`; add one holding {key}"
                )
            } else {
                format!(
                    "no key {key} in Secret{} {} (namespace {:?})",
                    if need.secrets.len() == 1 { "" } else { "s" },
                    need.secrets
                        .iter()
                        .map(|s| format!("{s:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    need.namespace
                )
            };
            problems.entry(problem).or_default().push(&need.agent);
        }
    }
    let problems = problems
        .into_iter()
        .map(|(problem, mut agents)| {
            // An agent may need one Secret twice (loaded and mounted): name it once.
            let mut seen = BTreeSet::new();
            agents.retain(|a| seen.insert(*a));
            format!("{}: {problem}", agents_phrase(&agents))
        })
        .collect();
    (problems, warnings.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(agent: &str, secrets: &[&str], keys: &[&str]) -> Need {
        Need {
            agent: agent.into(),
            namespace: "team".into(),
            secrets: secrets.iter().map(|s| s.to_string()).collect(),
            keys: keys.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn found(keys: &[&str]) -> SecretKeys {
        SecretKeys::Found(keys.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn a_key_may_come_from_any_of_the_agents_secrets() {
        let lookup = BTreeMap::from([
            (
                ("team".into(), "a".into()),
                found(&["OPENCLAW_GATEWAY_TOKEN"]),
            ),
            (("team".into(), "b".into()), found(&["LITELLM_API_KEY"])),
        ]);
        let needs = [need(
            "ops",
            &["a", "b"],
            &["OPENCLAW_GATEWAY_TOKEN", "LITELLM_API_KEY"],
        )];
        assert_eq!(judge(&needs, &lookup), (vec![], vec![]));
    }

    #[test]
    fn missing_secrets_and_keys_name_agent_secret_and_key_once_per_problem() {
        let lookup = BTreeMap::from([
            (
                ("team".into(), "shared".into()),
                found(&["OPENCLAW_GATEWAY_TOKEN"]),
            ),
            (("team".into(), "gone".into()), SecretKeys::Missing),
        ]);
        let needs = [
            need(
                "a",
                &["shared"],
                &["OPENCLAW_GATEWAY_TOKEN", "LITELLM_API_KEY"],
            ),
            need(
                "b",
                &["shared"],
                &["OPENCLAW_GATEWAY_TOKEN", "LITELLM_API_KEY"],
            ),
            need("c", &["gone"], &["OPENCLAW_GATEWAY_TOKEN"]),
            need("d", &[], &["OPENCLAW_GATEWAY_TOKEN"]),
        ];
        let (problems, warnings) = judge(&needs, &lookup);
        assert_eq!(
            problems,
            vec![
                "agent \"c\": Secret \"gone\" does not exist in namespace \"team\"",
                "agent \"d\": no Secret provides OPENCLAW_GATEWAY_TOKEN: the agent has no `secrets`; add one holding OPENCLAW_GATEWAY_TOKEN",
                "agents \"a\", \"b\": no key LITELLM_API_KEY in Secret \"shared\" (namespace \"team\")",
            ]
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn mounted_secrets_must_exist_and_hold_their_items() {
        let lookup = BTreeMap::from([
            (("team".into(), "ssh".into()), found(&["id_rsa"])),
            (("team".into(), "cookies".into()), SecretKeys::Missing),
        ]);
        let needs = [
            need("a", &["ssh"], &["id_ed25519"]),
            need("a", &["cookies"], &[]),
            need("a", &["cookies"], &[]),
        ];
        let (problems, _) = judge(&needs, &lookup);
        assert_eq!(
            problems,
            vec![
                "agent \"a\": Secret \"cookies\" does not exist in namespace \"team\"",
                "agent \"a\": no key id_ed25519 in Secret \"ssh\" (namespace \"team\")",
            ]
        );
    }

    #[test]
    fn needs_cover_mounted_secrets_unless_optional() {
        let text = r#"apiVersion: clawctl.io/v1alpha1
kind: Fleet
metadata: {name: f}
spec:
  image: ghcr.io/openclaw/openclaw:2026.4.14
  defaults: {model: {primary: anthropic/claude-sonnet-4-20250514}, secrets: [env]}
  teams: [{name: t}]
  agents:
    - name: a
      volumes:
        key: {secret: {secretName: ssh, items: [{key: id_ed25519, path: id}]}, mountPath: /k}
        cookies: {secret: {secretName: cookies}, mountPath: /c}
        maybe: {secret: {secretName: maybe, optional: true}, mountPath: /m}
"#;
        let loaded = crate::fleet::load_str("f.yaml", std::env::temp_dir(), text).expect("loads");
        let fleet = crate::fleet::resolve(&loaded).expect("valid");
        let got: Vec<(Vec<String>, Vec<String>)> = needs(&fleet)
            .into_iter()
            .map(|n| (n.secrets, n.keys))
            .collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            got,
            vec![
                (s(&["env"]), s(&["OPENCLAW_GATEWAY_TOKEN"])),
                (s(&["cookies"]), s(&[])),
                (s(&["ssh"]), s(&["id_ed25519"])),
            ]
        );
    }

    #[test]
    fn a_secret_rbac_forbids_reading_is_a_warning_not_an_error() {
        let lookup = BTreeMap::from([(
            ("team".into(), "s".into()),
            SecretKeys::Forbidden("forbidden: ask for get secrets".into()),
        )]);
        let (problems, warnings) =
            judge(&[need("a", &["s"], &["OPENCLAW_GATEWAY_TOKEN"])], &lookup);
        assert!(problems.is_empty());
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("cannot check that Secret \"s\" holds OPENCLAW_GATEWAY_TOKEN")
        );
    }
}
