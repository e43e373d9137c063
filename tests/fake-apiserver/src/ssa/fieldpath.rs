//! Field paths, field sets and their FieldsV1 serialization, as in
//! sigs.k8s.io/structured-merge-diff `fieldpath` (element.go, set.go, serialize.go,
//! serialize-pe.go).
//!
//! * A [`PathElement`] is `f:<name>` (a field of a map/struct), `k:{...}` (an item of an
//!   associative list, identified by its key fields, **sorted by name** as
//!   `keyedAssociativeListItemToPathElement` does with `keyMap.Sort()`), `v:<json>` (an item
//!   of a set list) or `i:<n>` (an index; only for atomic lists, never owned in practice).
//! * A [`FieldSet`] is the trie of structured-merge-diff's `Set`: `members` are paths that
//!   end at this level, `children` are sub-sets. FieldsV1 writes a member as `"<pe>": {}`,
//!   a child as `"<pe>": {...}`, and a path that is both as `"<pe>": {".": {}, ...}`
//!   (`emitContentsV1`), everything in `PathElement.Compare` order: fields (by name), then
//!   keys, then values, then indexes.

use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// One step in a path through an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathElement {
    /// `f:<name>`: a field of a map or struct.
    Field(String),
    /// `k:{...}`: an item of an associative list; key fields sorted by name.
    Key(Vec<(String, Value)>),
    /// `v:<json>`: an item of a set (a list of scalars with `listType=set`).
    Value(Value),
    /// `i:<n>`: an index in an atomic list.
    Index(usize),
}

impl PathElement {
    /// A field element.
    pub fn field(name: &str) -> PathElement {
        PathElement::Field(name.to_string())
    }

    /// A key element; sorts the fields by name as structured-merge-diff does.
    pub fn key(mut fields: Vec<(String, Value)>) -> PathElement {
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        PathElement::Key(fields)
    }

    /// The FieldsV1 form: `f:name`, `k:{"name":"x"}`, `v:"x"`, `i:0`.
    pub fn serialize(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let mut m = Map::new();
                for (k, v) in fields {
                    m.insert(k.clone(), v.clone());
                }
                format!("k:{}", Value::Object(m))
            }
            PathElement::Value(v) => format!("v:{v}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parses the FieldsV1 form. `None` for an unknown prefix (the real decoder skips those)
    /// or a malformed element.
    pub fn deserialize(s: &str) -> Option<PathElement> {
        let (kind, rest) = s.split_at_checked(2)?;
        match kind {
            "f:" => Some(PathElement::Field(rest.to_string())),
            "v:" => serde_json::from_str(rest).ok().map(PathElement::Value),
            "k:" => {
                let m: Map<String, Value> = serde_json::from_str(rest).ok()?;
                Some(PathElement::key(m.into_iter().collect()))
            }
            "i:" => rest.parse().ok().map(PathElement::Index),
            _ => None,
        }
    }

    /// The human-readable form used in conflict messages (`PathElement.String()`):
    /// `.name`, `[name="x",port=80]`, `[="x"]`, `[0]`.
    pub fn display(&self) -> String {
        match self {
            PathElement::Field(name) => format!(".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}={}", value_to_string(v)))
                    .collect();
                format!("[{}]", parts.join(","))
            }
            PathElement::Value(v) => format!("[={}]", value_to_string(v)),
            PathElement::Index(i) => format!("[{i}]"),
        }
    }
}

/// `value.ToString`: strings quoted (Go `%q`; JSON quoting is the same for the printable
/// ASCII that object keys use), numbers and booleans bare, `null`.
fn value_to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(value_to_string).collect();
            format!("[{}]", parts.join(","))
        }
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", value_to_string(v)))
                .collect();
            format!("{{{}}}", parts.join(";"))
        }
        other => other.to_string(),
    }
}

/// `value.Compare`: numbers < strings < booleans < lists < maps < null.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => {
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let c = compare_values(p, q);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<_> = x.iter().collect();
            let mut ys: Vec<_> = y.iter().collect();
            xs.sort_by(|p, q| p.0.cmp(q.0));
            ys.sort_by(|p, q| p.0.cmp(q.0));
            for ((kp, vp), (kq, vq)) in xs.iter().zip(&ys) {
                let c = kp.cmp(kq).then_with(|| compare_values(vp, vq));
                if c != Ordering::Equal {
                    return c;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

impl Ord for PathElement {
    /// `PathElement.Compare`: fields < keys < values < indexes; keys compare field by field
    /// (name, then value), a shorter key list first.
    fn cmp(&self, other: &Self) -> Ordering {
        use PathElement::*;
        fn rank(pe: &PathElement) -> u8 {
            match pe {
                Field(_) => 0,
                Key(_) => 1,
                Value(_) => 2,
                Index(_) => 3,
            }
        }
        match (self, other) {
            (Field(a), Field(b)) => a.cmp(b),
            (Key(a), Key(b)) => {
                for ((na, va), (nb, vb)) in a.iter().zip(b) {
                    let c = na.cmp(nb).then_with(|| compare_values(va, vb));
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Value(a), Value(b)) => compare_values(a, b),
            (Index(a), Index(b)) => a.cmp(b),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A path: the elements from the object root.
pub type Path = Vec<PathElement>;

/// `Path.String()`: the concatenated display forms, e.g.
/// `.spec.template.spec.containers[name="gateway"].image`.
pub fn path_string(path: &[PathElement]) -> String {
    path.iter().map(PathElement::display).collect()
}

/// A set of paths (structured-merge-diff's `fieldpath.Set`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    /// Paths that end here.
    pub members: BTreeSet<PathElement>,
    /// Paths that continue below these elements.
    pub children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.values().all(FieldSet::is_empty)
    }

    /// Adds a path (the empty path is ignored: the root is never a member).
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.has(rest)),
        }
    }

    /// The sub-set below `pe` (`WithPrefix`).
    pub fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children.get(pe).filter(|c| !c.is_empty())
    }

    fn pruned(mut self) -> FieldSet {
        self.children.retain(|_, c| !c.is_empty());
        self
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, c) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(c),
                None => c.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out.pruned()
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.intersection(&other.members).cloned().collect();
        for (pe, c) in &self.children {
            if let Some(o) = other.children.get(pe) {
                out.children.insert(pe.clone(), c.intersection(o));
            }
        }
        out.pruned()
    }

    /// Paths in `self` and not in `other` (exact paths: a member of `other` does not
    /// remove `self`'s paths below it).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.difference(&other.members).cloned().collect();
        for (pe, c) in &self.children {
            let d = match other.children.get(pe) {
                Some(o) => c.difference(o),
                None => c.clone(),
            };
            out.children.insert(pe.clone(), d);
        }
        out.pruned()
    }

    /// Like [`difference`](Self::difference), but a member of `other` also removes every
    /// path of `self` below it (`RecursiveDifference`).
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.difference(&other.members).cloned().collect();
        for (pe, c) in &self.children {
            if other.members.contains(pe) {
                continue;
            }
            let d = match other.children.get(pe) {
                Some(o) => c.recursive_difference(o),
                None => c.clone(),
            };
            out.children.insert(pe.clone(), d);
        }
        out.pruned()
    }

    /// `EnsureNamedFieldsAreMembers`: every field element that has children also becomes a
    /// member. (The real function does this only for fields declared by a struct schema,
    /// not for the keys of a map; without a schema every field counts — the difference
    /// shows only for maps whose values are objects, which the kinds clawctl applies do
    /// not have.)
    pub fn ensure_named_fields_are_members(&self) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.clone();
        for (pe, c) in &self.children {
            if c.is_empty() {
                continue;
            }
            if matches!(pe, PathElement::Field(_)) {
                out.members.insert(pe.clone());
            }
            out.children
                .insert(pe.clone(), c.ensure_named_fields_are_members());
        }
        out
    }

    /// Every path in the set, in order (depth first; a node before its children).
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        let mut keys: BTreeSet<&PathElement> = self.members.iter().collect();
        keys.extend(self.children.keys());
        for pe in keys {
            prefix.push(pe.clone());
            if self.members.contains(pe) {
                out.push(prefix.clone());
            }
            if let Some(c) = self.children.get(pe) {
                c.collect_paths(prefix, out);
            }
            prefix.pop();
        }
    }

    /// FieldsV1 JSON (`Set.ToJSON`), keys in structured-merge-diff's order.
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.emit(false))
    }

    fn emit(&self, include_self: bool) -> Map<String, Value> {
        let mut out = Map::new();
        if include_self {
            out.insert(".".to_string(), Value::Object(Map::new()));
        }
        let mut keys: BTreeSet<&PathElement> = self.members.iter().collect();
        keys.extend(
            self.children
                .iter()
                .filter(|(_, c)| !c.is_empty())
                .map(|(pe, _)| pe),
        );
        for pe in keys {
            let member = self.members.contains(pe);
            let body = match self.children.get(pe).filter(|c| !c.is_empty()) {
                Some(c) => c.emit(member),
                None => Map::new(),
            };
            out.insert(pe.serialize(), Value::Object(body));
        }
        out
    }

    /// Parses FieldsV1 (`Set.FromJSON` / `readIterV1`). Unknown element kinds are skipped,
    /// as the real decoder does.
    pub fn from_fields_v1(v: &Value) -> FieldSet {
        Self::read(v).0
    }

    /// Returns (the set below this node, whether this node is itself a member).
    fn read(v: &Value) -> (FieldSet, bool) {
        let mut set = FieldSet::new();
        let mut is_member = false;
        let mut any_child = false;
        if let Value::Object(m) = v {
            for (key, sub) in m {
                if key == "." {
                    is_member = true;
                    continue;
                }
                let Some(pe) = PathElement::deserialize(key) else {
                    continue;
                };
                any_child = true;
                let (grand, child_is_member) = Self::read(sub);
                if child_is_member {
                    set.members.insert(pe.clone());
                }
                if !grand.is_empty() {
                    set.children.insert(pe, grand);
                }
            }
        }
        if !any_child {
            is_member = true;
        }
        (set, is_member)
    }
}
