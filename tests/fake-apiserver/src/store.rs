//! Storage: objects indexed by (resource, namespace, name), the global resourceVersion
//! counter, the watch-event history, and the ownerReference index the garbage collector
//! and the controllers use.
//!
//! Simplifications (vs etcd + the watch cache):
//! - one global counter, bumped once per stored change; no per-kind caches;
//! - the event history is a bounded in-memory ring (`HISTORY_CAP` events); a watch from
//!   a resourceVersion older than the ring (or older than the last [`Store::compact`])
//!   gets 410 Expired, like a compacted etcd;
//! - list continue tokens are not snapshots: a later page reads the current state after
//!   the last returned key (the list still reports the first page's resourceVersion).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::resources::{RESOURCES, ResIdx};

/// How many watch events are kept for watches that resume from a resourceVersion.
pub const HISTORY_CAP: usize = 1_000_000;

/// (resource, namespace or "", name)
pub type ObjKey = (ResIdx, String, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One stored change.
#[derive(Debug)]
pub struct Event {
    pub rv: u64,
    pub res: ResIdx,
    pub ns: String,
    pub kind: EventType,
    pub object: Arc<Value>,
    /// The object before a MODIFIED change (watches with selectors turn a change that
    /// leaves/enters the selection into DELETED/ADDED, as the real watch cache does).
    pub old: Option<Arc<Value>>,
}

/// All objects and their history.
pub struct Store {
    rv: u64,
    objects: Vec<BTreeMap<String, BTreeMap<String, Arc<Value>>>>,
    /// owner uid -> dependents
    dependents: HashMap<String, BTreeSet<ObjKey>>,
    history: VecDeque<Arc<Event>>,
    /// Watches from a resourceVersion below this get 410.
    compacted: u64,
    notify: tokio::sync::watch::Sender<u64>,
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj["metadata"][field].as_str().unwrap_or("")
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r["uid"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Store {
    pub fn new(notify: tokio::sync::watch::Sender<u64>) -> Self {
        Self {
            rv: 0,
            objects: vec![BTreeMap::new(); RESOURCES.len()],
            dependents: HashMap::new(),
            history: VecDeque::new(),
            compacted: 0,
            notify,
        }
    }

    /// The current (latest) resourceVersion.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    pub fn get(&self, res: ResIdx, ns: &str, name: &str) -> Option<&Arc<Value>> {
        self.objects[res].get(ns)?.get(name)
    }

    /// Objects of a resource in one namespace (`Some`) or all (`None`), in key order,
    /// starting strictly after `after` (ns, name) when given.
    pub fn iter<'a>(
        &'a self,
        res: ResIdx,
        ns: Option<&'a str>,
        after: Option<(&'a str, &'a str)>,
    ) -> Box<dyn Iterator<Item = &'a Arc<Value>> + 'a> {
        use std::ops::Bound::{Excluded, Unbounded};
        let by_ns = &self.objects[res];
        match ns {
            Some(ns) => {
                let Some(names) = by_ns.get(ns) else {
                    return Box::new(std::iter::empty());
                };
                match after {
                    Some((_, name)) => Box::new(
                        names
                            .range::<str, _>((Excluded(name), Unbounded))
                            .map(|(_, v)| v),
                    ),
                    None => Box::new(names.values()),
                }
            }
            None => match after {
                Some((ans, aname)) => Box::new(
                    by_ns
                        .range::<str, _>((std::ops::Bound::Included(ans), Unbounded))
                        .flat_map(move |(n, names)| {
                            let it: Box<dyn Iterator<Item = &Arc<Value>>> = if n == ans {
                                Box::new(
                                    names
                                        .range::<str, _>((Excluded(aname), Unbounded))
                                        .map(|(_, v)| v),
                                )
                            } else {
                                Box::new(names.values())
                            };
                            it
                        }),
                ),
                None => Box::new(by_ns.values().flat_map(|names| names.values())),
            },
        }
    }

    /// Number of objects of a resource in a namespace (or all).
    pub fn count(&self, res: ResIdx, ns: Option<&str>) -> usize {
        match ns {
            Some(ns) => self.objects[res].get(ns).map_or(0, BTreeMap::len),
            None => self.objects[res].values().map(BTreeMap::len).sum(),
        }
    }

    /// Namespaces that hold at least one object of `res`.
    pub fn namespaces_with(&self, res: ResIdx) -> Vec<String> {
        self.objects[res]
            .iter()
            .filter(|(_, m)| !m.is_empty())
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Dependents (by ownerReferences uid) of an owner.
    pub fn dependents_of(&self, uid: &str) -> Vec<ObjKey> {
        self.dependents
            .get(uid)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn index_owners(&mut self, key: &ObjKey, old: Option<&Value>, new: Option<&Value>) {
        if let Some(old) = old {
            for uid in owner_uids(old) {
                if let Some(set) = self.dependents.get_mut(&uid) {
                    set.remove(key);
                    if set.is_empty() {
                        self.dependents.remove(&uid);
                    }
                }
            }
        }
        if let Some(new) = new {
            for uid in owner_uids(new) {
                self.dependents.entry(uid).or_default().insert(key.clone());
            }
        }
    }

    fn record(&mut self, ev: Event) {
        if self.history.len() >= HISTORY_CAP
            && let Some(dropped) = self.history.pop_front()
        {
            self.compacted = self.compacted.max(dropped.rv);
        }
        self.history.push_back(Arc::new(ev));
        self.notify.send_replace(self.rv);
    }

    /// Stores `obj` (a create when absent, else an update), assigning the next
    /// resourceVersion; returns the stored object.
    pub fn put(&mut self, res: ResIdx, mut obj: Value) -> Arc<Value> {
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let ns = meta_str(&obj, "namespace").to_string();
        let name = meta_str(&obj, "name").to_string();
        let key = (res, ns.clone(), name.clone());
        let obj = Arc::new(obj);
        let old = self.objects[res]
            .entry(ns.clone())
            .or_default()
            .insert(name, obj.clone());
        self.index_owners(&key, old.as_deref(), Some(&obj));
        let kind = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.record(Event {
            rv: self.rv,
            res,
            ns,
            kind,
            object: obj.clone(),
            old,
        });
        obj
    }

    /// Removes an object (no cascading; see [`Store::delete_cascading`]); the DELETED
    /// event carries the object with the deletion's resourceVersion.
    pub fn remove(&mut self, res: ResIdx, ns: &str, name: &str) -> Option<Arc<Value>> {
        let names = self.objects[res].get_mut(ns)?;
        let old = names.remove(name)?;
        if names.is_empty() {
            self.objects[res].remove(ns);
        }
        let key = (res, ns.to_string(), name.to_string());
        self.index_owners(&key, Some(&old), None);
        self.rv += 1;
        let mut gone = (*old).clone();
        gone["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let gone = Arc::new(gone);
        self.record(Event {
            rv: self.rv,
            res,
            ns: ns.to_string(),
            kind: EventType::Deleted,
            object: gone.clone(),
            old: None,
        });
        Some(gone)
    }

    /// Removes an object and, as the garbage collector does with background propagation,
    /// every object that lists it in ownerReferences (transitively). `orphan`: dependents
    /// lose the ownerReference instead.
    pub fn delete_cascading(
        &mut self,
        res: ResIdx,
        ns: &str,
        name: &str,
        orphan: bool,
    ) -> Option<Arc<Value>> {
        let gone = self.remove(res, ns, name)?;
        let uid = meta_str(&gone, "uid").to_string();
        for (dres, dns, dname) in self.dependents_of(&uid) {
            if orphan {
                if let Some(dep) = self.get(dres, &dns, &dname) {
                    let mut dep = (**dep).clone();
                    if let Some(refs) = dep["metadata"]["ownerReferences"].as_array_mut() {
                        refs.retain(|r| r["uid"].as_str() != Some(uid.as_str()));
                        if refs.is_empty() {
                            dep["metadata"]
                                .as_object_mut()
                                .map(|m| m.remove("ownerReferences"));
                        }
                    }
                    self.put(dres, dep);
                }
            } else {
                self.delete_cascading(dres, &dns, &dname, false);
            }
        }
        Some(gone)
    }

    /// Every namespaced object in `ns` (the namespace controller's content deletion).
    pub fn delete_namespace_content(&mut self, ns: &str) {
        for (res, rt) in RESOURCES.iter().enumerate() {
            if !rt.namespaced {
                continue;
            }
            let names: Vec<String> = self.objects[res]
                .get(ns)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            for name in names {
                self.delete_cascading(res, ns, &name, false);
            }
        }
    }

    /// Events after `rv` (exclusive), or `Err(oldest)` when `rv` is older than the kept
    /// history.
    pub fn events_since(&self, rv: u64) -> Result<Vec<Arc<Event>>, u64> {
        if rv < self.compacted {
            return Err(self.compacted + 1);
        }
        let start = self.history.partition_point(|e| e.rv <= rv);
        Ok(self.history.range(start..).cloned().collect())
    }

    /// Events after `rv` for one resource (the watch path; avoids cloning others).
    pub fn events_since_for(&self, rv: u64, res: ResIdx) -> Result<Vec<Arc<Event>>, u64> {
        if rv < self.compacted {
            return Err(self.compacted + 1);
        }
        let start = self.history.partition_point(|e| e.rv <= rv);
        Ok(self
            .history
            .range(start..)
            .filter(|e| e.res == res)
            .cloned()
            .collect())
    }

    /// Drops the whole event history, like an etcd compaction: watches from any older
    /// resourceVersion get 410 Expired afterwards.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted = self.rv;
    }

    /// A receiver that sees every new resourceVersion.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.notify.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "n", "uid": format!("uid-{name}")}})
    }

    #[test]
    fn events_history_compaction_and_garbage_collection() {
        let (tx, _) = tokio::sync::watch::channel(0);
        let mut s = Store::new(tx);
        let res = crate::resources::idx("configmaps");
        s.put(res, cm("owner"));
        let mut dep = cm("dep");
        dep["metadata"]["ownerReferences"] =
            json!([{"uid": "uid-owner", "kind": "ConfigMap", "name": "owner"}]);
        s.put(res, dep);
        assert_eq!(s.rv(), 2);
        assert_eq!(s.events_since(1).map(|e| e.len()), Ok(1));
        assert_eq!(s.dependents_of("uid-owner").len(), 1);
        s.delete_cascading(res, "n", "owner", false);
        assert!(s.get(res, "n", "dep").is_none());
        let evs = s.events_since(2).expect("kept");
        assert_eq!(evs.len(), 2);
        assert!(evs.iter().all(|e| e.kind == EventType::Deleted));
        assert_eq!(meta_str(&evs[1].object, "resourceVersion"), "4");
        s.compact();
        assert!(s.events_since(2).is_err());
        assert_eq!(s.events_since(4).map(|e| e.len()), Ok(0));
    }

    #[test]
    fn paging_iterates_after_a_key_across_namespaces() {
        let (tx, _) = tokio::sync::watch::channel(0);
        let mut s = Store::new(tx);
        let res = crate::resources::idx("configmaps");
        for (ns, name) in [("a", "x"), ("a", "y"), ("b", "w"), ("c", "z")] {
            let mut o = cm(name);
            o["metadata"]["namespace"] = json!(ns);
            s.put(res, o);
        }
        let after: Vec<String> = s
            .iter(res, None, Some(("a", "x")))
            .map(|o| format!("{}/{}", meta_str(o, "namespace"), meta_str(o, "name")))
            .collect();
        assert_eq!(after, vec!["a/y", "b/w", "c/z"]);
        assert_eq!(s.count(res, Some("a")), 2);
    }
}
