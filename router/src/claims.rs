//! The routes of agents made on request (self-service): one per claim ConfigMap in the
//! router's namespace (`clawctl.io/claim=true` and the fleet's label), watched so that a
//! new claim is routed without a restart and a deleted one stops being routed. These
//! agents are not in `routes.json` (clawctl leaves them out so that making one changes
//! nothing clawctl renders); the router's table is `routes.json` over these.
//!
//! A claim that does not parse is left out with a log line (clawctl refuses it at the
//! next apply, naming it).

use std::collections::BTreeMap;
use std::sync::Arc;

use clawctl::fleet::self_service::Claim;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};

use crate::routes::{DeploymentRef, Route, Routes, RoutingTable, SecretRef};
use crate::{info, warn};

/// Where an agent made on request answers: its gateway's chat URL from its name.
pub type UrlOf = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// How claims become routes.
#[derive(Clone)]
pub struct ClaimRoutes {
    /// The self-service team's namespace, where the agents and their tokens are.
    pub namespace: String,
    pub url_of: UrlOf,
}

impl ClaimRoutes {
    /// The cluster's own addresses: `agent-<name>.<namespace>.svc.cluster.local`.
    pub fn in_cluster(namespace: &str) -> ClaimRoutes {
        let ns = namespace.to_string();
        ClaimRoutes {
            namespace: namespace.to_string(),
            url_of: Arc::new(move |agent| {
                format!(
                    "http://{}.{ns}.svc.cluster.local:{}/v1/chat/completions",
                    clawctl::names::resource_name(agent),
                    clawctl::openclaw::GATEWAY_PORT
                )
            }),
        }
    }

    /// The route of one claim.
    pub fn route(&self, claim: &Claim) -> Option<(String, Route)> {
        let url = (self.url_of)(&claim.agent).parse().ok()?;
        Some((
            claim.identity.key(),
            Route {
                agent: claim.agent.clone(),
                url,
                token: SecretRef {
                    namespace: self.namespace.clone(),
                    name: clawctl::names::token_secret(&claim.agent),
                    key: clawctl::openclaw::TOKEN_ENV.to_string(),
                },
                // Slept and woken like every routed agent when the router has idleAfter
                // (its self-service Role may read and patch the team's Deployments).
                deployment: Some(DeploymentRef {
                    namespace: self.namespace.clone(),
                    name: clawctl::names::resource_name(&claim.agent),
                }),
            },
        ))
    }

    /// The routes of these claim ConfigMaps (name -> data).
    pub fn table(&self, claims: &BTreeMap<String, BTreeMap<String, String>>) -> RoutingTable {
        RoutingTable::from_routes(claims.iter().filter_map(|(name, data)| {
            match Claim::from_data(name, data) {
                Ok(claim) => self.route(&claim),
                Err(why) => {
                    warn!("claim {name} not routed: {why}");
                    None
                }
            }
        }))
    }

    /// Watches the fleet's claims in `namespace` (the router's) and keeps `routes`'
    /// claimed part in step; runs until dropped. Errors are logged and retried.
    pub async fn watch(self, routes: Routes, client: Client, namespace: String, fleet: String) {
        let api: Api<ConfigMap> = Api::namespaced(client, &namespace);
        let config =
            watcher::Config::default().labels(&clawctl::cluster::self_service::selector(&fleet));
        let mut events = watcher(api, config).default_backoff().boxed();
        let mut current: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut listing: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let entry = |cm: ConfigMap| {
            (
                cm.metadata.name.unwrap_or_default(),
                cm.data.unwrap_or_default(),
            )
        };
        while let Some(event) = events.next().await {
            match event {
                Ok(watcher::Event::Init) => listing.clear(),
                Ok(watcher::Event::InitApply(cm)) => {
                    let (k, v) = entry(cm);
                    listing.insert(k, v);
                }
                Ok(watcher::Event::InitDone) => current = std::mem::take(&mut listing),
                Ok(watcher::Event::Apply(cm)) => {
                    let (k, v) = entry(cm);
                    current.insert(k, v);
                }
                Ok(watcher::Event::Delete(cm)) => {
                    current.remove(&cm.metadata.name.unwrap_or_default());
                }
                Err(e) => {
                    warn!("watching claims in {namespace}: {e}");
                    continue;
                }
            }
            let table = self.table(&current);
            info!(
                "self-service: {} agents made on request routed",
                table.len()
            );
            routes.set_claimed(table);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_routed_to_its_agent_and_names_its_deployment() {
        let claims = BTreeMap::from([(
            "claim-dana".to_string(),
            BTreeMap::from([
                ("agent".to_string(), "dana".to_string()),
                ("identity".to_string(), "slack:U0DANA".to_string()),
            ]),
        )]);
        let table = ClaimRoutes::in_cluster("helpdesk").table(&claims);
        let route = table
            .get(&crate::message::Identity::new("slack", "U0DANA"))
            .expect("routed");
        assert_eq!(route.agent, "dana");
        assert_eq!(route.token.name, "agent-dana-gateway-token");
        // Slept and woken like a file's agent when the router has idleAfter.
        assert_eq!(
            route.deployment,
            Some(DeploymentRef {
                namespace: "helpdesk".into(),
                name: "agent-dana".into(),
            })
        );
    }
}
