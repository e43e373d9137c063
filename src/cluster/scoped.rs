//! Lists and watches across the fleet's namespaces with whatever the credentials allow:
//! one cluster-wide request where RBAC permits it, otherwise one per namespace (a person
//! or CI job bound only to the fleet's namespaces, e.g. the `admin` ClusterRole through a
//! RoleBinding in each). Per-namespace watches are merged into one stream with the
//! semantics of a single `kube::runtime::watcher`: one `Init`, every namespace's objects,
//! one `InitDone`; a later re-list of one namespace becomes `Apply` and `Delete` events,
//! so a consumer's view of the other namespaces is never cleared.

use std::collections::HashMap;
use std::fmt::Debug;

use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, ListParams};
use kube::runtime::watcher::{self, Event};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;

use super::Cluster;
use super::errors::{self, Request};
use super::retry;

/// A namespaced kind clawctl lists or watches.
pub trait Kind:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + Debug
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
}

impl<K> Kind for K where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + Debug
        + DeserializeOwned
        + Send
        + Sync
        + 'static
{
}

/// Where to look: every namespace at once, or these.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Cluster,
    Namespaces(Vec<String>),
}

/// Whether a cluster-wide list of `K` with `selector` is allowed; if not, the namespaces
/// to look in instead. Without namespaces to fall back on, the refusal is the error.
async fn scope<K: Kind>(
    cluster: &Cluster,
    selector: &str,
    namespaces: &[String],
) -> anyhow::Result<Scope> {
    let api: Api<K> = Api::all(cluster.client.clone());
    let probe = ListParams::default().labels(selector).limit(1);
    match retry::idempotent(|| api.list(&probe)).await {
        Ok(_) => Ok(Scope::Cluster),
        Err(err) if forbidden(&err) && !namespaces.is_empty() => {
            let mut namespaces = namespaces.to_vec();
            namespaces.sort();
            namespaces.dedup();
            Ok(Scope::Namespaces(namespaces))
        }
        Err(err) => Err(described::<K>(&err, namespaces.is_empty())),
    }
}

/// Every `K` matching `selector` in `namespaces`: one cluster-wide list where allowed,
/// else one list per namespace.
pub async fn list<K: Kind>(
    cluster: &Cluster,
    selector: &str,
    namespaces: &[String],
) -> anyhow::Result<Vec<K>> {
    match list_all::<K>(cluster, selector).await {
        Ok(items) => Ok(items),
        Err(err) if forbidden(&err) && !namespaces.is_empty() => {
            list_in(cluster, selector, namespaces).await
        }
        Err(err) => Err(described::<K>(&err, namespaces.is_empty())),
    }
}

/// Every `K` of a fleet matching `selector`: one cluster-wide list where allowed, else one
/// list per namespace the fleet's ApplySet parent in `fleet_namespace` names (known with
/// a fleet file, or once the fleet was found by name).
pub async fn list_members<K: Kind>(
    cluster: &Cluster,
    selector: &str,
    fleet: &str,
    fleet_namespace: Option<&str>,
) -> anyhow::Result<Vec<K>> {
    match (list_all::<K>(cluster, selector).await, fleet_namespace) {
        (Ok(items), _) => Ok(items),
        (Err(err), Some(namespace)) if forbidden(&err) => {
            let namespaces = super::applyset::member_namespaces(cluster, fleet, namespace).await?;
            list_in(cluster, selector, &namespaces).await
        }
        (Err(err), namespace) => Err(described::<K>(&err, namespace.is_none())),
    }
}

/// Every `K` matching `selector` in all namespaces, in one list request.
pub async fn list_all<K: Kind>(cluster: &Cluster, selector: &str) -> Result<Vec<K>, kube::Error> {
    let api: Api<K> = Api::all(cluster.client.clone());
    let params = ListParams::default().labels(selector);
    Ok(retry::idempotent(|| api.list(&params)).await?.items)
}

/// Every `K` matching `selector` in each of `namespaces`. A namespace that does not
/// exist holds nothing.
pub async fn list_in<K: Kind>(
    cluster: &Cluster,
    selector: &str,
    namespaces: &[String],
) -> anyhow::Result<Vec<K>> {
    let params = ListParams::default().labels(selector);
    let mut namespaces = namespaces.to_vec();
    namespaces.sort();
    namespaces.dedup();
    let mut items = Vec::new();
    for ns in &namespaces {
        let api: Api<K> = Api::namespaced(cluster.client.clone(), ns);
        match retry::idempotent(|| api.list(&params)).await {
            Ok(list) => items.extend(list.items),
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(err) => {
                let resource = K::plural(&()).to_string();
                return Err(anyhow::anyhow!(errors::describe(
                    &err,
                    &Request {
                        verb: "list",
                        resource: &resource,
                        namespace: Some(ns),
                        name: None,
                    },
                )));
            }
        }
    }
    Ok(items)
}

/// Whether the server refused a request for want of permission.
pub fn forbidden(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 403)
}

/// A refused cluster-wide list of `K`, said for the user.
fn described<K: Kind>(err: &kube::Error, no_namespaces: bool) -> anyhow::Error {
    let resource = K::plural(&()).to_string();
    let described = errors::describe(
        err,
        &Request {
            verb: "list",
            resource: &resource,
            namespace: None,
            name: None,
        },
    );
    anyhow::anyhow!(if no_namespaces && forbidden(err) {
        format!(
            "{described}; with credentials bound to single namespaces, give the fleet file so \
             clawctl knows which namespaces to look in"
        )
    } else {
        described
    })
}

/// A watcher of `K` matching `selector` in `namespaces` (all of them where allowed).
pub async fn watch<K: Kind>(
    cluster: &Cluster,
    selector: &str,
    namespaces: &[String],
) -> anyhow::Result<BoxStream<'static, Result<Event<K>, watcher::Error>>> {
    let config = watcher::Config::default().labels(selector);
    Ok(match scope::<K>(cluster, selector, namespaces).await? {
        Scope::Cluster => watcher::watcher(Api::<K>::all(cluster.client.clone()), config).boxed(),
        Scope::Namespaces(namespaces) => {
            let streams = namespaces.iter().enumerate().map(|(i, ns)| {
                watcher::watcher(
                    Api::<K>::namespaced(cluster.client.clone(), ns),
                    config.clone(),
                )
                .map_ok(move |event| (i, event))
                .boxed()
            });
            let mut merged = Merged::new(namespaces.len());
            stream::select_all(streams)
                .map(move |item| match item {
                    Ok((i, event)) => merged.push(i, event).into_iter().map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                })
                .flat_map(stream::iter)
                .boxed()
        }
    })
}

/// The state that turns several watchers' events into one watcher's.
struct Merged<K> {
    started: bool,
    /// Per stream: its first listing is complete.
    listed: Vec<bool>,
    /// Per stream: the objects it has reported, by name.
    known: Vec<HashMap<String, K>>,
    /// Per stream: the names seen during a re-list in progress.
    relisting: Vec<Option<Vec<String>>>,
}

impl<K: Resource + Clone> Merged<K> {
    fn new(streams: usize) -> Self {
        Merged {
            started: false,
            listed: vec![false; streams],
            known: (0..streams).map(|_| HashMap::new()).collect(),
            relisting: vec![None; streams],
        }
    }

    /// The merged events for event `event` of stream `i`.
    fn push(&mut self, i: usize, event: Event<K>) -> Vec<Event<K>> {
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            out.push(Event::Init);
        }
        let first = !self.listed[i];
        match event {
            Event::Init if first => {}
            Event::Init => self.relisting[i] = Some(Vec::new()),
            Event::InitApply(object) => {
                self.known[i].insert(object.name_any(), object.clone());
                if first {
                    out.push(Event::InitApply(object));
                } else {
                    if let Some(seen) = self.relisting[i].as_mut() {
                        seen.push(object.name_any());
                    }
                    out.push(Event::Apply(object));
                }
            }
            Event::InitDone if first => {
                self.listed[i] = true;
                if self.listed.iter().all(|l| *l) {
                    out.push(Event::InitDone);
                }
            }
            Event::InitDone => {
                let seen = self.relisting[i].take().unwrap_or_default();
                let gone: Vec<String> = self.known[i]
                    .keys()
                    .filter(|name| !seen.contains(name))
                    .cloned()
                    .collect();
                for name in gone {
                    if let Some(object) = self.known[i].remove(&name) {
                        out.push(Event::Delete(object));
                    }
                }
            }
            Event::Apply(object) => {
                self.known[i].insert(object.name_any(), object.clone());
                out.push(Event::Apply(object));
            }
            Event::Delete(object) => {
                self.known[i].remove(&object.name_any());
                out.push(Event::Delete(object));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::ObjectMeta;

    fn cm(ns: &str, name: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(ns.into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        }
    }

    fn names(events: &[Event<ConfigMap>]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                Event::Init => "init".to_string(),
                Event::InitApply(o) => format!("init-apply {}", o.name_any()),
                Event::InitDone => "init-done".to_string(),
                Event::Apply(o) => format!("apply {}", o.name_any()),
                Event::Delete(o) => format!("delete {}", o.name_any()),
            })
            .collect()
    }

    #[test]
    fn several_watchers_read_as_one() {
        let mut merged = Merged::new(2);
        let mut out = Vec::new();
        out.extend(merged.push(0, Event::Init));
        out.extend(merged.push(0, Event::InitApply(cm("a", "x"))));
        out.extend(merged.push(1, Event::Init));
        out.extend(merged.push(0, Event::InitDone));
        out.extend(merged.push(1, Event::InitApply(cm("b", "y"))));
        out.extend(merged.push(1, Event::InitDone));
        out.extend(merged.push(1, Event::Apply(cm("b", "z"))));
        // One Init, and one InitDone once both first listings are done.
        assert_eq!(
            names(&out),
            [
                "init",
                "init-apply x",
                "init-apply y",
                "init-done",
                "apply z"
            ]
        );

        // A re-list of one namespace keeps the other's objects and reports what went.
        let mut out = Vec::new();
        out.extend(merged.push(1, Event::Init));
        out.extend(merged.push(1, Event::InitApply(cm("b", "y"))));
        out.extend(merged.push(1, Event::InitDone));
        assert_eq!(names(&out), ["apply y", "delete z"]);
        assert!(merged.known[0].contains_key("x"));
    }
}
