//! Walks over objects with the schema of [`super::schema`]: field sets (`ToFieldSet`),
//! comparison (`Compare`), merging (`Merge`) and removal (`RemoveItems`), after
//! sigs.k8s.io/structured-merge-diff `typed/` (tofieldset.go, merge.go, compare.go,
//! remove.go).

use super::fieldpath::{FieldSet, Path, PathElement, path_string};
use super::schema::{ListType, item_element, list_type, map_is_atomic};
use serde_json::{Map, Value};

/// The path elements of a list's items (`listItemToPathElement` for each). `Err` with the
/// structured-merge-diff message (`element <i>: ...` / `duplicate entries for key ...`)
/// when an item cannot be identified; `Ok(None)` for an atomic list.
pub fn list_elements(
    path: &[PathElement],
    items: &[Value],
    reject_duplicates: bool,
) -> Result<Option<Vec<PathElement>>, String> {
    let lt = list_type(path);
    if lt == ListType::Atomic {
        return Ok(None);
    }
    let mut out: Vec<PathElement> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let pe = item_element(lt, i, item).map_err(|e| format!("element {i}: {}", e.0))?;
        if reject_duplicates && out.contains(&pe) {
            return Err(format!("duplicate entries for key {}", pe.display()));
        }
        out.push(pe);
    }
    Ok(Some(out))
}

fn prefixed(path: &[PathElement], msg: String) -> String {
    if path.is_empty() {
        msg
    } else {
        format!("{}: {msg}", path_string(path))
    }
}

/// `ToFieldSet`: every leaf, every associative/set list item, every atomic list or map and
/// every empty map (a leaf: the real server records `f:resources: {}` for an applied
/// `resources: {}`). With `strict`, unidentifiable or duplicate list items are errors (an
/// applied configuration); otherwise such a list counts as atomic (a live object).
pub fn to_field_set(v: &Value, strict: bool) -> Result<FieldSet, String> {
    let mut set = FieldSet::new();
    walk_set(v, &mut Vec::new(), &mut set, strict)?;
    Ok(set)
}

fn walk_set(v: &Value, path: &mut Path, set: &mut FieldSet, strict: bool) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            if !path.is_empty() && (m.is_empty() || map_is_atomic(path)) {
                set.insert(path);
                return Ok(());
            }
            for (k, child) in m {
                path.push(PathElement::Field(k.clone()));
                walk_set(child, path, set, strict)?;
                path.pop();
            }
        }
        Value::Array(items) => {
            let pes = match list_elements(path, items, strict) {
                Ok(Some(pes)) => pes,
                Ok(None) => {
                    set.insert(path);
                    return Ok(());
                }
                Err(e) if strict => return Err(prefixed(path, e)),
                Err(_) => {
                    set.insert(path);
                    return Ok(());
                }
            };
            for (pe, item) in pes.into_iter().zip(items) {
                path.push(pe);
                walk_set(item, path, set, strict)?;
                set.insert(path);
                path.pop();
            }
        }
        _ => set.insert(path),
    }
    Ok(())
}

/// The result of [`compare`] (`typed.Comparison`).
#[derive(Debug, Default, Clone)]
pub struct Comparison {
    pub added: FieldSet,
    pub modified: FieldSet,
    pub removed: FieldSet,
}

impl Comparison {
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }

    /// `ExcludeFields`: drops `fields` and everything below them from all three sets.
    pub fn exclude(mut self, fields: &FieldSet) -> Comparison {
        self.added = self.added.recursive_difference(fields);
        self.modified = self.modified.recursive_difference(fields);
        self.removed = self.removed.recursive_difference(fields);
        self
    }
}

/// `Compare(lhs, rhs)`: leaves added/modified/removed, plus maps, lists and list items that
/// appear or disappear as a whole (the merge walker's post-item hook: that is where the
/// `.` of an Update entry's `f:labels: {".": {}, ...}` or `k:{...}: {".": {}, ...}` comes from).
pub fn compare(lhs: &Value, rhs: &Value) -> Comparison {
    let mut c = Comparison::default();
    walk_compare(Some(lhs), Some(rhs), &mut Vec::new(), &mut c);
    c
}

fn leaf(l: Option<&Value>, r: Option<&Value>, path: &Path, c: &mut Comparison) {
    match (l, r) {
        (None, Some(_)) => c.added.insert(path),
        (Some(_), None) => c.removed.insert(path),
        (Some(a), Some(b)) if a != b => c.modified.insert(path),
        _ => {}
    }
}

fn post_item(l: Option<&Value>, r: Option<&Value>, path: &Path, c: &mut Comparison) {
    if l.is_none() {
        c.added.insert(path);
    } else if r.is_none() {
        c.removed.insert(path);
    }
}

fn walk_compare(l: Option<&Value>, r: Option<&Value>, path: &mut Path, c: &mut Comparison) {
    let is_obj = |v: Option<&Value>| matches!(v, Some(Value::Object(_)));
    let is_arr = |v: Option<&Value>| matches!(v, Some(Value::Array(_)));
    let nullish = |v: Option<&Value>| matches!(v, None | Some(Value::Null));
    if (is_obj(l) || is_obj(r)) && (is_obj(l) || nullish(l)) && (is_obj(r) || nullish(r)) {
        let lm = l.and_then(Value::as_object);
        let rm = r.and_then(Value::as_object);
        let empty = |m: Option<&Map<String, Value>>| m.is_none_or(Map::is_empty);
        if map_is_atomic(path) || (empty(lm) && empty(rm)) {
            return leaf(l, r, path, c);
        }
        let mut keys: Vec<&String> = lm.map(|m| m.keys().collect()).unwrap_or_default();
        if let Some(rm) = rm {
            keys.extend(
                rm.keys()
                    .filter(|k| !lm.is_some_and(|m| m.contains_key(*k))),
            );
        }
        for k in keys {
            path.push(PathElement::Field(k.clone()));
            walk_compare(
                lm.and_then(|m| m.get(k)),
                rm.and_then(|m| m.get(k)),
                path,
                c,
            );
            path.pop();
        }
        return post_item(l, r, path, c);
    }
    if (is_arr(l) || is_arr(r)) && (is_arr(l) || nullish(l)) && (is_arr(r) || nullish(r)) {
        let la: &[Value] = l.and_then(Value::as_array).map_or(&[], Vec::as_slice);
        let ra: &[Value] = r.and_then(Value::as_array).map_or(&[], Vec::as_slice);
        if la.is_empty() && ra.is_empty() {
            return leaf(l, r, path, c);
        }
        let (Ok(Some(lpes)), Ok(Some(rpes))) = (
            list_elements(path, la, false),
            list_elements(path, ra, false),
        ) else {
            return leaf(l, r, path, c);
        };
        let mut seen: Vec<&PathElement> = Vec::new();
        for pe in lpes.iter().chain(&rpes) {
            if seen.contains(&pe) {
                continue;
            }
            seen.push(pe);
            let li = lpes.iter().position(|p| p == pe).map(|i| &la[i]);
            let ri = rpes.iter().position(|p| p == pe).map(|i| &ra[i]);
            path.push(pe.clone());
            walk_compare(li, ri, path, c);
            path.pop();
        }
        return post_item(l, r, path, c);
    }
    leaf(l, r, path, c)
}

/// `Merge(lhs, rhs)` (rhs wins on leaves): maps merge key by key (lhs order, then rhs-only
/// keys in rhs order), atomic lists and maps are replaced, associative lists merge item by
/// item with structured-merge-diff's ordering (see [`merge_list`]).
pub fn merge(lhs: &Value, rhs: &Value) -> Result<Value, String> {
    merge_at(lhs, rhs, &mut Vec::new())
}

fn merge_at(l: &Value, r: &Value, path: &mut Path) -> Result<Value, String> {
    match (l, r) {
        (Value::Object(lm), Value::Object(rm)) => {
            if map_is_atomic(path) || (lm.is_empty() && rm.is_empty()) {
                return Ok(r.clone());
            }
            let mut out = Map::new();
            for (k, lv) in lm {
                let v = match rm.get(k) {
                    Some(rv) => {
                        path.push(PathElement::Field(k.clone()));
                        let v = merge_at(lv, rv, path)?;
                        path.pop();
                        v
                    }
                    None => lv.clone(),
                };
                out.insert(k.clone(), v);
            }
            for (k, rv) in rm {
                if !lm.contains_key(k) {
                    out.insert(k.clone(), rv.clone());
                }
            }
            Ok(Value::Object(out))
        }
        (Value::Array(la), Value::Array(ra)) => {
            if la.is_empty() && ra.is_empty() {
                return Ok(r.clone());
            }
            let rpes = match list_elements(path, ra, true) {
                Ok(Some(pes)) => pes,
                Ok(None) => return Ok(r.clone()),
                Err(e) => return Err(prefixed(path, e)),
            };
            let Ok(Some(lpes)) = list_elements(path, la, false) else {
                return Ok(r.clone());
            };
            merge_list(la, &lpes, ra, &rpes, path).map(Value::Array)
        }
        _ => Ok(r.clone()),
    }
}

/// Merges two associative lists the way `mergingWalker.visitListItems` does (newer
/// structured-merge-diff): the items both lists share come out in the rhs order; items only
/// the lhs (live) has stay where they were relative to the shared ones; items only the rhs
/// (applied) has come in the rhs position. So an applier's order wins for its own items and
/// a sidecar another manager added keeps its place.
fn merge_list(
    la: &[Value],
    lpes: &[PathElement],
    ra: &[Value],
    rpes: &[PathElement],
    path: &mut Path,
) -> Result<Vec<Value>, String> {
    let lfind = |pe: &PathElement| lpes.iter().position(|p| p == pe);
    let rfind = |pe: &PathElement| rpes.iter().position(|p| p == pe);
    let mut shared: std::collections::VecDeque<&PathElement> =
        rpes.iter().filter(|pe| lfind(pe).is_some()).collect();
    let mut next_shared = shared.pop_front();
    let mut merged_rhs: Vec<&PathElement> = Vec::new();
    let mut out = Vec::with_capacity(la.len().max(ra.len()));
    let (llen, rlen) = (lpes.len(), rpes.len());
    let (mut li, mut ri) = (0, 0);
    let item = |l: Option<usize>, r: Option<usize>, pe: &PathElement, path: &mut Path| {
        path.push(pe.clone());
        let v = match (l, r) {
            (Some(l), Some(r)) => merge_at(&la[l], &ra[r], path),
            (Some(l), None) => Ok(la[l].clone()),
            (None, Some(r)) => Ok(ra[r].clone()),
            (None, None) => Ok(Value::Null),
        };
        path.pop();
        v
    };
    while li < llen || ri < rlen {
        if li < llen && ri < rlen {
            let pe = &lpes[li];
            if *pe == rpes[ri] {
                merged_rhs.push(pe);
                out.push(item(Some(li), Some(ri), pe, path)?);
                li += 1;
                ri += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if rfind(pe).is_some() && next_shared.is_some_and(|n| n != pe) {
                // A shared item, but not the one to emit in this round.
                li += 1;
                continue;
            }
        }
        if li < llen {
            let pe = &lpes[li];
            if rfind(pe).is_none() {
                out.push(item(Some(li), None, pe, path)?);
                li += 1;
                continue;
            } else if merged_rhs.contains(&pe) {
                li += 1;
                continue;
            }
        }
        if ri < rlen {
            let pe = &rpes[ri];
            merged_rhs.push(pe);
            out.push(item(lfind(pe), Some(ri), pe, path)?);
            ri += 1;
            if next_shared.is_some_and(|n| n == pe) {
                next_shared = shared.pop_front();
            }
        }
    }
    Ok(out)
}

/// `RemoveItems(set)`: removes every field and list item that is a member of `set` (with
/// whatever is below it). A map or list left empty by the removal is dropped from its
/// parent (the real walker yields null there, which the typed object then omits).
pub fn remove_items(v: &Value, set: &FieldSet) -> Value {
    remove_at(v, set, &mut Vec::new()).unwrap_or_else(|| Value::Object(Map::new()))
}

fn remove_at(v: &Value, set: &FieldSet, path: &mut Path) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.is_empty() || map_is_atomic(path) {
                return Some(v.clone());
            }
            let mut out = Map::new();
            for (k, child) in m {
                let pe = PathElement::Field(k.clone());
                if set.members.contains(&pe) {
                    continue;
                }
                match set.child(&pe) {
                    Some(sub) => {
                        path.push(pe.clone());
                        let nv = remove_at(child, sub, path);
                        path.pop();
                        if let Some(nv) = nv {
                            out.insert(k.clone(), nv);
                        }
                    }
                    None => {
                        out.insert(k.clone(), child.clone());
                    }
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(items) => {
            let Ok(Some(pes)) = list_elements(path, items, false) else {
                return Some(v.clone());
            };
            if items.is_empty() {
                return Some(v.clone());
            }
            let mut out = Vec::new();
            for (pe, item) in pes.into_iter().zip(items) {
                if set.members.contains(&pe) {
                    continue;
                }
                match set.child(&pe) {
                    Some(sub) => {
                        path.push(pe.clone());
                        let nv = remove_at(item, sub, path);
                        path.pop();
                        out.extend(nv);
                    }
                    None => out.push(item.clone()),
                }
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        _ => Some(v.clone()),
    }
}
