//! What exists already where the plan would create: read by name, not by the fleet's
//! labels (anyone can put those on an object, or leave them off), so that finishing the
//! plan (`plan::Draft::finish`) can tell this fleet's objects from another fleet's and
//! from objects clawctl never made. One read per Namespace the plan creates, and one list
//! per kind per existing namespace that the plan creates objects of that kind in: a
//! re-apply that creates nothing reads nothing more.

use std::collections::{BTreeMap, HashMap};

use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use crate::cluster::{Cluster, kinds, objects};
use crate::plan::ObjectRef;

/// The objects that exist under the names of the plan's creates (`Draft::lookups`).
pub async fn existing(
    cluster: &Cluster,
    creates: &[&ObjectRef],
    concurrency: usize,
) -> anyhow::Result<HashMap<ObjectRef, Value>> {
    let mut found = HashMap::new();
    // Namespaces first: objects in a namespace that does not exist cannot exist either.
    let namespaces: Vec<&ObjectRef> = creates
        .iter()
        .copied()
        .filter(|o| o.kind == "Namespace")
        .collect();
    let namespace_kind = kinds::find("v1", "Namespace")
        .ok_or_else(|| anyhow::anyhow!("Namespace is not a managed kind"))?;
    let looked: Vec<(&ObjectRef, Option<Value>)> = futures::stream::iter(namespaces)
        .map(|object| async move {
            match objects::get(cluster, namespace_kind, None, &object.name).await {
                Ok(live) => Ok((object, live)),
                // Credentials bound to namespaces cannot read Namespaces: nothing to
                // settle, and those credentials cannot create one either.
                Err(e) if e.forbidden => Ok((object, None)),
                Err(e) => Err(e),
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut absent_namespaces = Vec::new();
    for (object, live) in looked {
        match live {
            Some(live) => {
                found.insert(object.clone(), live);
            }
            None => absent_namespaces.push(object.name.clone()),
        }
    }
    let mut groups: BTreeMap<(&str, &str, &str), Vec<&ObjectRef>> = BTreeMap::new();
    for object in creates.iter().copied() {
        let Some(namespace) = object.namespace.as_deref() else {
            continue;
        };
        if object.kind == "Namespace" || absent_namespaces.iter().any(|n| n == namespace) {
            continue;
        }
        groups
            .entry((&object.api_version, &object.kind, namespace))
            .or_default()
            .push(object);
    }
    let lists: Vec<Vec<(ObjectRef, Value)>> = futures::stream::iter(groups)
        .map(|((api_version, kind, namespace), wanted)| async move {
            let Some(kind) = kinds::find(api_version, kind) else {
                return Ok(Vec::new());
            };
            let items = match objects::list(cluster, kind, Some(namespace), "").await {
                Ok(items) => items,
                // Nothing there to own, or nothing these credentials may see: the
                // create itself is then refused or answered by the server.
                Err(e) if e.not_found || e.forbidden => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            Ok(items
                .into_iter()
                .filter_map(|item| {
                    let reference = ObjectRef::of(&item)?;
                    wanted.contains(&&reference).then_some((reference, item))
                })
                .collect())
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    found.extend(lists.into_iter().flatten());
    Ok(found)
}
