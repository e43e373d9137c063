//! How one layer of settings merges onto the layer below (fleet defaults, team defaults,
//! the agent, a hosted agent): the strategies the fleet model's fields name where they
//! are declared, `#[merge(strategy = layering::...)]`. A field that names none does not
//! compile, so a new setting cannot merge by accident, and renaming one keeps its rule.

use std::collections::BTreeMap;

pub use merge::Merge;

/// The layer above's value, when it gives one, replaces the value below whole: scalars,
/// lists, and things that are one choice (an affinity, a toleration list).
pub fn over<T>(below: &mut Option<T>, above: Option<T>) {
    if above.is_some() {
        *below = above;
    }
}

/// A required field of a value both layers give: the layer above's.
pub fn replace<T>(below: &mut T, above: T) {
    *below = above;
}

/// A mapping of settings: both layers' values merge field by field (each field by its
/// own rule); given by one layer only, that layer's.
pub fn deep<T: Merge>(below: &mut Option<T>, above: Option<T>) {
    match (below.as_mut(), above) {
        (Some(b), Some(a)) => b.merge(a),
        (_, Some(a)) => *below = Some(a),
        (_, None) => {}
    }
}

/// Entries by name (environment variables, workspace files, sidecars, volumes, labels):
/// the layer above's entry replaces the same-named entry below whole; the others stay.
pub fn by_name<V>(below: &mut Option<BTreeMap<String, V>>, above: Option<BTreeMap<String, V>>) {
    match (below.as_mut(), above) {
        (Some(b), Some(a)) => b.extend(a),
        (_, Some(a)) => *below = Some(a),
        (_, None) => {}
    }
}

/// [`by_name`] for a mapping every layer has (empty when not written).
pub fn by_name_always<V>(below: &mut BTreeMap<String, V>, above: BTreeMap<String, V>) {
    below.extend(above);
}

/// [`by_name_always`] whose same-named entries merge field by field.
pub fn by_name_deep<V: Merge>(below: &mut BTreeMap<String, V>, above: BTreeMap<String, V>) {
    for (name, value) in above {
        match below.get_mut(&name) {
            Some(b) => b.merge(value),
            None => {
                below.insert(name, value);
            }
        }
    }
}

/// Free-form JSON (an openclaw.json fragment): objects merge key by key at every depth,
/// anything else (a list, a scalar, null) replaces.
pub fn json(below: &mut Option<serde_json::Value>, above: Option<serde_json::Value>) {
    match (below.as_mut(), above) {
        (Some(b), Some(a)) => json_value(b, a),
        (_, Some(a)) => *below = Some(a),
        (_, None) => {}
    }
}

fn json_value(below: &mut serde_json::Value, above: serde_json::Value) {
    use serde_json::Value;
    match (below, above) {
        (Value::Object(b), Value::Object(a)) => {
            for (key, value) in a {
                match b.get_mut(&key) {
                    Some(existing) => json_value(existing, value),
                    None => {
                        b.insert(key, value);
                    }
                }
            }
        }
        (below, above) => *below = above,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_objects_merge_at_every_depth_and_everything_else_replaces() {
        let mut below = Some(json!({"a": {"b": 1, "c": [1, 2]}, "d": "x", "workspace": {"k": 1}}));
        let above = Some(json!({"a": {"c": [3]}, "d": null, "workspace": {"j": 2}}));
        json(&mut below, above);
        // A key that names a setting elsewhere (`workspace`) merges like any other key:
        // inside openclaw.json it is OpenClaw's, not clawctl's.
        assert_eq!(
            below,
            Some(json!({"a": {"b": 1, "c": [3]}, "d": null, "workspace": {"k": 1, "j": 2}}))
        );
    }

    #[test]
    fn a_layer_that_gives_nothing_keeps_the_layer_below() {
        let mut below = Some(BTreeMap::from([("A".to_string(), 1)]));
        by_name(&mut below, None);
        over(&mut below, None);
        assert_eq!(below, Some(BTreeMap::from([("A".to_string(), 1)])));
        by_name(&mut below, Some(BTreeMap::from([("B".to_string(), 2)])));
        assert_eq!(
            below,
            Some(BTreeMap::from([("A".to_string(), 1), ("B".to_string(), 2)]))
        );
    }
}
