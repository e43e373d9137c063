//! The routing table: `routes.json` of the fleet's `<fleet>-routes` ConfigMap (written
//! by clawctl's `fleet_context`), parsed into identity -> [`Route`], and kept live by a
//! watch on that one ConfigMap so a new, changed or removed route takes effect without
//! a restart.
//!
//! The shape, one entry per identity (keys are unique, so a table cannot map one
//! identity to two agents):
//!
//! ```json
//! "slack:U012ABC": {
//!   "agent": "alice",
//!   "address": "agent-alice.research.svc.cluster.local:18789",
//!   "url": "http://agent-alice.research.svc.cluster.local:18789/v1/chat/completions",
//!   "tokenSecret": {"namespace": "research", "name": "agent-alice-gateway-token",
//!                   "key": "OPENCLAW_GATEWAY_TOKEN"},
//!   "deployment": {"namespace": "research", "name": "agent-alice"}
//! }
//! ```
//!
//! Only routed agents carry `url` and `tokenSecret`; an entry without them belongs to an
//! agent that talks to its chat app itself and is not the router's to answer.
//! `deployment` is there when the fleet's router puts idle agents to sleep
//! (`routing.router.idleAfter`): the Deployment it scales to zero and wakes (the agents
//! of a multi-agent gateway name the same one). An entry that does not parse is skipped
//! with a log line; the rest of the table still works.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde::Deserialize;
use tokio::sync::watch;

use crate::message::Identity;
use crate::{debug, info, warn};

/// The key of the routing table in the ConfigMap's data.
pub const ROUTES_KEY: &str = "routes.json";

/// Where an agent's gateway token is: a key of a Secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    pub namespace: String,
    pub name: String,
    pub key: String,
}

/// The Deployment that runs an agent's gateway. Unknown fields are tolerated, as for
/// the entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
pub struct DeploymentRef {
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for DeploymentRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Where one identity's messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The agent's name in the fleet (for logs and tests).
    pub agent: String,
    /// The gateway's chat endpoint, `http://<service>:18789/v1/chat/completions`.
    pub url: http::Uri,
    pub token: SecretRef,
    /// Its Deployment, when the router may put it to sleep and wake it.
    pub deployment: Option<DeploymentRef>,
}

/// The entry as `routes.json` holds it; unknown fields are tolerated so a newer clawctl
/// can add some without breaking an older router.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoute {
    agent: String,
    url: Option<String>,
    token_secret: Option<SecretRef>,
    deployment: Option<DeploymentRef>,
}

/// Identity key (`slack:U012`) -> route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutingTable {
    routes: HashMap<String, Arc<Route>>,
}

impl RoutingTable {
    pub fn from_routes(routes: impl IntoIterator<Item = (String, Route)>) -> RoutingTable {
        RoutingTable {
            routes: routes.into_iter().map(|(k, r)| (k, Arc::new(r))).collect(),
        }
    }

    /// Parses `routes.json`. Entries that are not routes of a routed agent are left out,
    /// each with a reason in the returned list; a document that is not a JSON object is
    /// an error (the caller keeps no table rather than a wrong one).
    pub fn parse(json: &str) -> Result<(RoutingTable, Vec<String>), serde_json::Error> {
        let raw: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json)?;
        let mut routes = HashMap::new();
        let mut skipped = Vec::new();
        for (key, value) in raw {
            match parse_entry(&key, value) {
                Ok(Some(route)) => {
                    routes.insert(key, Arc::new(route));
                }
                Ok(None) => debug!("route {key}: agent not routed (no url), left out"),
                Err(why) => skipped.push(format!("route {key:?} skipped: {why}")),
            }
        }
        Ok((RoutingTable { routes }, skipped))
    }

    pub fn get(&self, identity: &Identity) -> Option<Arc<Route>> {
        self.routes.get(&identity.key()).cloned()
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// This table with `under`'s entries added where this one has none: the routing
    /// table over the routes of agents made on request (the file's wins).
    pub fn over(&self, under: &RoutingTable) -> RoutingTable {
        let mut routes = under.routes.clone();
        routes.extend(self.routes.iter().map(|(k, v)| (k.clone(), v.clone())));
        RoutingTable { routes }
    }

    /// Every Secret the table's routes read a token from.
    pub fn secrets(&self) -> BTreeSet<SecretRef> {
        self.routes.values().map(|r| r.token.clone()).collect()
    }

    /// Every Deployment the table's routes name (once each, however many people and
    /// agents share it).
    pub fn deployments(&self) -> BTreeSet<DeploymentRef> {
        self.routes
            .values()
            .filter_map(|r| r.deployment.clone())
            .collect()
    }
}

fn parse_entry(key: &str, value: serde_json::Value) -> Result<Option<Route>, String> {
    let (channel, id) = key.split_once(':').ok_or("the key is not <channel>:<id>")?;
    if channel.is_empty() || id.is_empty() {
        return Err("the key is not <channel>:<id>".into());
    }
    let raw: RawRoute = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let (url, token) = match (raw.url, raw.token_secret) {
        (None, None) => return Ok(None),
        (Some(url), Some(token)) => (url, token),
        (Some(_), None) => return Err("url without tokenSecret".into()),
        (None, Some(_)) => return Err("tokenSecret without url".into()),
    };
    let url: http::Uri = url.parse().map_err(|e| format!("url: {e}"))?;
    // Plain HTTP inside the cluster; the NetworkPolicy admits the router to port 18789.
    if url.scheme_str() != Some("http") || url.host().is_none() {
        return Err("url is not http://<host>[:port]/...".into());
    }
    for (field, v) in [
        ("namespace", &token.namespace),
        ("name", &token.name),
        ("key", &token.key),
    ] {
        if v.is_empty() {
            return Err(format!("tokenSecret.{field} is empty"));
        }
    }
    if let Some(d) = &raw.deployment
        && (d.namespace.is_empty() || d.name.is_empty())
    {
        return Err("deployment needs a namespace and a name".into());
    }
    Ok(Some(Route {
        agent: raw.agent,
        url,
        token,
        deployment: raw.deployment,
    }))
}

/// The live routing table, shared by every front door. Cheap to clone.
#[derive(Clone)]
pub struct Routes {
    /// `None` until the table was read once (the router is not ready before).
    tx: Arc<watch::Sender<Option<Arc<RoutingTable>>>>,
    /// The two sources: `routes.json` (once read) and the claims of agents made on
    /// request (self-service). What `tx` publishes is the first over the second.
    parts: Arc<std::sync::Mutex<(Option<RoutingTable>, RoutingTable)>>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

impl Routes {
    /// A table not read yet: every lookup misses and [`Routes::ready`] is false.
    pub fn new() -> Routes {
        Routes {
            tx: Arc::new(watch::channel(None).0),
            parts: Arc::default(),
        }
    }

    /// A table that never changes (tests, the benchmark).
    pub fn fixed(table: RoutingTable) -> Routes {
        let routes = Routes::new();
        routes.set(table);
        routes
    }

    /// Replaces the table read from `routes.json`.
    pub fn set(&self, table: RoutingTable) {
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        parts.0 = Some(table);
        self.publish(&parts);
    }

    /// Replaces the routes of agents made on request (from their claims).
    pub fn set_claimed(&self, table: RoutingTable) {
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        parts.1 = table;
        self.publish(&parts);
    }

    /// Nothing is published before `routes.json` was read: the router is not ready.
    fn publish(&self, parts: &(Option<RoutingTable>, RoutingTable)) {
        if let Some(file) = &parts.0 {
            self.tx.send_replace(Some(Arc::new(file.over(&parts.1))));
        }
    }

    /// Whether the table was read at least once.
    pub fn ready(&self) -> bool {
        self.tx.borrow().is_some()
    }

    pub fn lookup(&self, identity: &Identity) -> Option<Arc<Route>> {
        self.tx.borrow().as_ref().and_then(|t| t.get(identity))
    }

    /// The current table (empty before the first read).
    pub fn table(&self) -> Arc<RoutingTable> {
        self.tx.borrow().clone().unwrap_or_default()
    }

    /// Follows table changes.
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<RoutingTable>>> {
        self.tx.subscribe()
    }

    /// Applies what the ConfigMap holds now (`None`: it does not exist: no routes).
    fn apply(&self, cm: Option<&ConfigMap>, name: &str) {
        let Some(cm) = cm else {
            warn!("ConfigMap {name} not found: no routes");
            self.set(RoutingTable::default());
            return;
        };
        let json = cm.data.as_ref().and_then(|d| d.get(ROUTES_KEY));
        let Some(json) = json else {
            warn!("ConfigMap {name} has no {ROUTES_KEY}: no routes");
            self.set(RoutingTable::default());
            return;
        };
        match RoutingTable::parse(json) {
            Ok((table, skipped)) => {
                for line in &skipped {
                    warn!("{line}");
                }
                info!("routing table: {} routes", table.len());
                self.set(table);
            }
            // Keep the last good table: a broken edit should not unroute everyone.
            Err(e) => warn!(
                "ConfigMap {name}: {ROUTES_KEY} is not a JSON object ({e}); keeping the previous table"
            ),
        }
    }

    /// Watches the ConfigMap `namespace/name` (that one object, by a field selector, so
    /// RBAC can grant it by `resourceNames`) and applies every change; runs until
    /// dropped. Watch errors are logged and retried with backoff.
    pub async fn watch(self, client: Client, namespace: String, name: String) {
        let api: Api<ConfigMap> = Api::namespaced(client, &namespace);
        let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
        let mut events = watcher(api, config).default_backoff().boxed();
        // Between Init and InitDone the watcher lists again; only InitDone says whether
        // the object still exists.
        let mut listed: Option<ConfigMap> = None;
        while let Some(event) = events.next().await {
            match event {
                Ok(watcher::Event::Init) => listed = None,
                Ok(watcher::Event::InitApply(cm)) => listed = Some(cm),
                Ok(watcher::Event::InitDone) => self.apply(listed.take().as_ref(), &name),
                Ok(watcher::Event::Apply(cm)) => self.apply(Some(&cm), &name),
                Ok(watcher::Event::Delete(_)) => self.apply(None, &name),
                Err(e) => warn!("watching ConfigMap {namespace}/{name}: {e}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = r#"{
      "slack:U012": {
        "agent": "alice",
        "address": "agent-alice.research.svc.cluster.local:18789",
        "url": "http://agent-alice.research.svc.cluster.local:18789/v1/chat/completions",
        "tokenSecret": {"namespace": "research", "name": "agent-alice-gateway-token", "key": "OPENCLAW_GATEWAY_TOKEN"}
      },
      "email:bob@example.com": {
        "agent": "bob",
        "address": "agent-bob.ops.svc.cluster.local:18789"
      },
      "nocolon": {"agent": "x", "url": "http://x/", "tokenSecret": {"namespace": "a", "name": "b", "key": "c"}},
      "slack:U999": {"agent": "y", "url": "https://y/", "tokenSecret": {"namespace": "a", "name": "b", "key": "c"}},
      "slack:U998": {"agent": "z", "url": "http://z/"},
      "slack:U997": "not an object"
    }"#;

    #[test]
    fn parses_routed_entries_and_skips_the_rest() {
        let (table, skipped) = RoutingTable::parse(TABLE).expect("parses");
        assert_eq!(table.len(), 1, "{table:?}");
        let alice = table.get(&Identity::new("slack", "U012")).expect("alice");
        assert_eq!(alice.agent, "alice");
        assert_eq!(
            alice.url.host(),
            Some("agent-alice.research.svc.cluster.local")
        );
        assert_eq!(alice.token.name, "agent-alice-gateway-token");
        // Bob's agent is not routed: not the router's, and not an error either.
        assert!(
            table
                .get(&Identity::new("email", "bob@example.com"))
                .is_none()
        );
        assert_eq!(skipped.len(), 4, "{skipped:#?}");
        assert!(skipped.iter().any(|s| s.contains("nocolon")));
        assert!(
            skipped
                .iter()
                .any(|s| s.contains("U999") && s.contains("http://"))
        );
        assert!(
            skipped
                .iter()
                .any(|s| s.contains("U998") && s.contains("without tokenSecret"))
        );
    }

    #[test]
    fn the_deployment_is_read_and_unknown_fields_are_tolerated() {
        let json = r#"{
          "slack:U1": {"agent": "a", "url": "http://a:18789/v1/chat/completions",
                       "tokenSecret": {"namespace": "t", "name": "s", "key": "K"},
                       "deployment": {"namespace": "t", "name": "agent-a", "later": 1},
                       "addedByANewerClawctl": {"x": true}},
          "slack:U2": {"agent": "b", "url": "http://b:18789/v1/chat/completions",
                       "tokenSecret": {"namespace": "t", "name": "s2", "key": "K"},
                       "deployment": {"namespace": "t", "name": "agent-a"}},
          "slack:U3": {"agent": "c", "url": "http://c:18789/v1/chat/completions",
                       "tokenSecret": {"namespace": "t", "name": "s3", "key": "K"}},
          "slack:U4": {"agent": "d", "url": "http://d:18789/v1/chat/completions",
                       "tokenSecret": {"namespace": "t", "name": "s4", "key": "K"},
                       "deployment": {"namespace": "", "name": "agent-d"}}
        }"#;
        let (table, skipped) = RoutingTable::parse(json).expect("parses");
        assert_eq!(table.len(), 3, "{skipped:?}");
        let a = DeploymentRef {
            namespace: "t".into(),
            name: "agent-a".into(),
        };
        let u1 = table.get(&Identity::new("slack", "U1")).expect("U1");
        assert_eq!(u1.deployment.as_ref(), Some(&a));
        // Without it (an older clawctl, or no idleAfter): never slept.
        let u3 = table.get(&Identity::new("slack", "U3")).expect("U3");
        assert_eq!(u3.deployment, None);
        // Two routes to one Deployment: it is one.
        assert_eq!(table.deployments().into_iter().collect::<Vec<_>>(), [a]);
        assert!(skipped[0].contains("U4") && skipped[0].contains("deployment"));
    }

    #[test]
    fn a_document_that_is_not_an_object_is_refused() {
        assert!(RoutingTable::parse("[]").is_err());
        assert!(RoutingTable::parse("{").is_err());
    }

    #[test]
    fn lookups_miss_until_the_table_is_read() {
        let routes = Routes::new();
        assert!(!routes.ready());
        let (table, _) = RoutingTable::parse(TABLE).expect("parses");
        routes.set(table);
        assert!(routes.ready());
        assert!(routes.lookup(&Identity::new("slack", "U012")).is_some());
        // The identity's channel is part of the key: an email cannot borrow a Slack route.
        assert!(routes.lookup(&Identity::new("email", "U012")).is_none());
    }
}
