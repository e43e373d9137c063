//! The layers of settings (fleet defaults, team defaults, agent, a hosted agent) as
//! JSON maps, and how a layer merges onto the one below.

use serde_json::{Map, Value};

pub(super) fn to_layer<T: serde::Serialize>(settings: &T) -> Map<String, Value> {
    match serde_json::to_value(settings) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Settings whose entries (by name) are each one thing: a layer's entry replaces the
/// same-named entry below whole, as a workspace file, a sidecar or a volume does.
const WHOLE_ENTRIES: [&str; 3] = ["workspace", "sidecars", "volumes"];

/// Merges `over` onto `base`: mappings merge key by key, everything else replaces.
/// A workspace file, a sidecar and a volume are one thing each, so their entries
/// replace whole; so does `scheduling.affinity` (half of one layer's affinity and half
/// of another's is a rule nobody wrote). `soul` and `soulInline` are one choice, so a
/// layer setting either drops both from below.
pub(super) fn merged(mut base: Map<String, Value>, over: Map<String, Value>) -> Map<String, Value> {
    if over.contains_key("soul") || over.contains_key("soulInline") {
        base.remove("soul");
        base.remove("soulInline");
    }
    for (key, value) in over {
        let replace_children = WHOLE_ENTRIES.contains(&key.as_str());
        match (base.get_mut(&key), value) {
            (Some(Value::Object(b)), Value::Object(o)) if replace_children => {
                for (k, v) in o {
                    b.insert(k, v);
                }
            }
            (Some(Value::Object(b)), Value::Object(mut o)) if key == "scheduling" => {
                if let Some(affinity) = o.remove("affinity") {
                    b.insert("affinity".to_string(), affinity);
                }
                let inner = std::mem::take(b);
                *b = merged(inner, o);
            }
            // The knowledge bucket is one choice: a layer naming `s3` or `gcs`
            // replaces the bucket below whole (a region is another bucket's).
            (Some(Value::Object(b)), Value::Object(o)) if key == "knowledge" => {
                if o.contains_key("s3") || o.contains_key("gcs") {
                    b.remove("s3");
                    b.remove("gcs");
                }
                let inner = std::mem::take(b);
                *b = merged(inner, o);
            }
            (Some(Value::Object(b)), Value::Object(o)) => {
                let inner = std::mem::take(b);
                *b = merged(inner, o);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
    base
}
