//! How the real API server stores what it is sent: empty lists and maps dropped, resource
//! quantities in canonical form. Applied to every created or updated object (and to dry
//! runs, which answer with the object as it would be stored).
//!
//! Why the real server does this:
//! - Built-in kinds are decoded into Go structs and stored in etcd as protobuf. A list or
//!   map field is a `repeated`/`map` protobuf field, which cannot tell empty from absent,
//!   and the JSON encoder then leaves a nil slice or map out under `omitempty` (every
//!   optional list and map of k8s.io/api). So `ingress: []` on a NetworkPolicy or
//!   `envFrom: []` on a container comes back without the field (measured on
//!   kube-apiserver v1.32.13, issue 11). Empty *structs* stay: `emptyDir: {}`,
//!   `securityContext: {}`, `podSelector: {}` (pointers or required fields).
//! - `resource.Quantity` is kept as a number and a format, and printed by
//!   `Quantity.CanonicalizeBytes` (k8s.io/apimachinery/pkg/api/resource/quantity.go):
//!   decimal values with the largest SI suffix that keeps an integer mantissa (`0.5` →
//!   `500m`, `2000` → `2k`), binary values as an integer times the largest power of 1024
//!   (`2048Mi` → `2Gi`, `0.5Gi` → `512Mi`), binary values under 1024 or with a fraction
//!   as decimal (`1.1Ki` → `1126400m`), decimal exponents as `e` + a multiple of 3.
//!
//! - `readOnly: false` is dropped too: a plain `bool` with `omitempty` on volume mounts
//!   and volume sources.
//! - A Secret's `stringData` is write-only: the v1 to internal conversion copies each
//!   entry into `data`, over a `data` entry of the same key, and the internal type has no
//!   `stringData` (`Convert_v1_Secret_To_core_Secret`, pkg/apis/core/v1/conversion.go).
//!
//! Simplifications: list and map fields are told apart by name (the map fields below);
//! a required list that is empty (`rules: []` of a Role) is dropped, where the real server
//! answers `null`; quantities finer than a nano-unit are not rounded.

use serde_json::Value;

/// Fields whose type is a Go map (`map[string]string`, `ResourceList`): dropped when empty.
/// `selector` is a map only on a Service (elsewhere it is a `LabelSelector` struct).
const MAP_FIELDS: &[&str] = &[
    "labels",
    "annotations",
    "data",
    "binaryData",
    "stringData",
    "nodeSelector",
    "matchLabels",
    "requests",
    "limits",
    "hard",
    "used",
    "capacity",
    "allocatable",
    "parameters",
    "default",
    "defaultRequest",
    "max",
    "min",
    "maxLimitRequestRatio",
];

/// Maps whose values are quantities (`ResourceList` and LimitRange's lists).
const QUANTITY_MAPS: &[&str] = &[
    "requests",
    "limits",
    "hard",
    "used",
    "capacity",
    "allocatable",
    "default",
    "defaultRequest",
    "max",
    "min",
    "maxLimitRequestRatio",
];

/// Puts a built-in object of `kind` into the form the real server stores.
pub fn stored_form(kind: &str, obj: &mut Value) {
    if kind == "Secret" {
        merge_string_data(obj);
    }
    walk(kind, obj, &mut Vec::new());
}

/// `stringData` into `data`, base64-encoded, the string winning over the same key.
fn merge_string_data(secret: &mut Value) {
    use base64::Engine as _;
    let Some(map) = secret.as_object_mut() else {
        return;
    };
    let Some(Value::Object(strings)) = map.remove("stringData") else {
        return;
    };
    let data = map
        .entry("data")
        .or_insert_with(|| Value::Object(Default::default()));
    if !data.is_object() {
        *data = Value::Object(Default::default());
    }
    if let Some(data) = data.as_object_mut() {
        for (key, value) in strings {
            let text = value.as_str().unwrap_or_default();
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            data.insert(key, Value::String(encoded));
        }
    }
}

fn walk(kind: &str, value: &mut Value, path: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let quantities = path
                .last()
                .is_some_and(|k| QUANTITY_MAPS.contains(&k.as_str()));
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let Some(child) = map.get_mut(&key) else {
                    continue;
                };
                if quantities || key == "sizeLimit" {
                    canonicalize_quantity(child);
                }
                path.push(key.clone());
                walk(kind, child, path);
                path.pop();
                if dropped_when_empty(kind, path, &key, &map[&key]) {
                    map.remove(&key);
                }
            }
        }
        Value::Array(items) => {
            path.push(String::new());
            for item in items {
                walk(kind, item, path);
            }
            path.pop();
        }
        _ => {}
    }
}

fn dropped_when_empty(kind: &str, path: &[String], key: &str, value: &Value) -> bool {
    match value {
        // `readOnly` of volume mounts and of most volume sources is a plain `bool` with
        // `omitempty` (VolumeMount, NFSVolumeSource, PersistentVolumeClaimVolumeSource):
        // `false` is not stored.
        Value::Bool(false) => key == "readOnly",
        Value::Array(items) => items.is_empty(),
        Value::Object(map) if map.is_empty() => {
            MAP_FIELDS.contains(&key)
                || (key == "selector" && kind == "Service" && path == ["spec"])
        }
        _ => false,
    }
}

fn canonicalize_quantity(value: &mut Value) {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return,
    };
    if let Some(canonical) = canonical_quantity(&text) {
        *value = Value::String(canonical);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    DecimalSi,
    BinarySi,
    DecimalExponent,
}

/// The canonical text of a quantity, or `None` when `text` is not one (left as sent; the
/// real server would refuse it, which this fake does not check).
pub fn canonical_quantity(text: &str) -> Option<String> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let split = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(split);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty() || int_part.len() + frac_part.len() > 30 {
        return None;
    }
    // value = mantissa × 10^exp, exactly.
    let mut mantissa: i128 = format!("{int_part}{frac_part}").parse().ok()?;
    let mut exp = -(frac_part.len() as i32);
    let mut format = Format::DecimalSi;
    match suffix {
        "" => {}
        "n" => exp -= 9,
        "u" => exp -= 6,
        "m" => exp -= 3,
        "k" => exp += 3,
        "M" => exp += 6,
        "G" => exp += 9,
        "T" => exp += 12,
        "P" => exp += 15,
        "E" => exp += 18,
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
            let power = "KMGTPE".find(&suffix[..1])? as u32 + 1;
            mantissa = mantissa.checked_mul(1024i128.checked_pow(power)?)?;
            format = Format::BinarySi;
        }
        s if s.starts_with(['e', 'E']) => {
            exp += s[1..].parse::<i32>().ok()?;
            format = Format::DecimalExponent;
        }
        _ => return None,
    }
    if mantissa == 0 {
        return Some("0".into());
    }
    while mantissa % 10 == 0 {
        mantissa /= 10;
        exp += 1;
    }
    let sign = if negative { "-" } else { "" };
    if format == Format::BinarySi {
        // Under 1024, or with a fraction: shown as DecimalSI, to avoid rounding.
        let integer = if exp >= 0 {
            10i128
                .checked_pow(exp as u32)
                .and_then(|p| mantissa.checked_mul(p))
        } else {
            None
        };
        match integer {
            Some(mut bytes) if bytes >= 1024 => {
                let mut power = 0;
                while bytes % 1024 == 0 && power < 6 {
                    bytes /= 1024;
                    power += 1;
                }
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
                return Some(format!("{sign}{bytes}{suffix}"));
            }
            _ => format = Format::DecimalSi,
        }
    }
    // An exponent that is a multiple of 3, rounding down (AsCanonicalBytes).
    let down = exp.rem_euclid(3);
    mantissa = mantissa.checked_mul(10i128.pow(down as u32))?;
    exp -= down;
    let suffix = match format {
        Format::DecimalExponent if exp == 0 => String::new(),
        Format::DecimalExponent => format!("e{exp}"),
        _ => match exp {
            -9 => "n".into(),
            -6 => "u".into(),
            -3 => "m".into(),
            0 => String::new(),
            3 => "k".into(),
            6 => "M".into(),
            9 => "G".into(),
            12 => "T".into(),
            15 => "P".into(),
            18 => "E".into(),
            _ => return None,
        },
    };
    Some(format!("{sign}{mantissa}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_take_the_apimachinery_canonical_form() {
        for (sent, stored) in [
            ("0.5", "500m"),
            ("500m", "500m"),
            ("1000m", "1"),
            ("1.5", "1500m"),
            ("2000", "2k"),
            ("1", "1"),
            ("0", "0"),
            ("0Gi", "0"),
            ("1536Mi", "1536Mi"),
            ("2048Mi", "2Gi"),
            ("0.5Gi", "512Mi"),
            ("1.5Gi", "1536Mi"),
            ("1Gi", "1Gi"),
            ("1024", "1024"),
            ("512Ki", "512Ki"),
            ("0.5Ki", "512"),
            ("1.1Ki", "1126400m"),
            ("1000M", "1G"),
            ("1e3", "1e3"),
            ("1000e0", "1e3"),
            ("12e1", "120"),
            ("100m", "100m"),
            ("0.1", "100m"),
            ("-1.5", "-1500m"),
        ] {
            assert_eq!(canonical_quantity(sent).as_deref(), Some(stored), "{sent}");
        }
        assert_eq!(canonical_quantity("lots"), None);
        assert_eq!(canonical_quantity("1Zi"), None);
    }

    #[test]
    fn empty_lists_and_maps_are_dropped_and_empty_structs_kept() {
        let mut obj = json!({
            "metadata": {"name": "x", "labels": {}, "annotations": {"a": "1"}},
            "spec": {
                "podSelector": {},
                "ingress": [],
                "policyTypes": ["Ingress"],
                "template": {"spec": {
                    "securityContext": {},
                    "nodeSelector": {},
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                    "containers": [{"name": "c", "envFrom": [], "env": [],
                                    "resources": {"limits": {}, "requests": {"cpu": 0.5, "memory": "2048Mi"}}}]
                }}
            }
        });
        stored_form("Deployment", &mut obj);
        assert_eq!(
            obj,
            json!({
                "metadata": {"name": "x", "annotations": {"a": "1"}},
                "spec": {
                    "podSelector": {},
                    "policyTypes": ["Ingress"],
                    "template": {"spec": {
                        "securityContext": {},
                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                        "containers": [{"name": "c",
                                        "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}}}]
                    }}
                }
            })
        );
    }

    #[test]
    fn read_only_false_is_not_stored_and_true_is() {
        let mut pod = json!({"volumeMounts": [{"name": "a", "mountPath": "/a", "readOnly": false},
                                              {"name": "b", "mountPath": "/b", "readOnly": true}],
                             "securityContext": {"readOnlyRootFilesystem": false}});
        stored_form("Pod", &mut pod);
        assert_eq!(
            pod,
            json!({"volumeMounts": [{"name": "a", "mountPath": "/a"},
                                    {"name": "b", "mountPath": "/b", "readOnly": true}],
                   "securityContext": {"readOnlyRootFilesystem": false}})
        );
    }

    #[test]
    fn a_service_selector_is_a_map_and_a_deployment_selector_a_struct() {
        let mut svc = json!({"spec": {"selector": {}, "ports": []}});
        stored_form("Service", &mut svc);
        assert_eq!(svc, json!({"spec": {}}));
        let mut dep = json!({"spec": {"selector": {}}});
        stored_form("Deployment", &mut dep);
        assert_eq!(dep, json!({"spec": {"selector": {}}}));
    }

    #[test]
    fn a_secrets_string_data_is_stored_in_data_and_wins() {
        let mut secret = json!({"kind": "Secret", "data": {"a": "b2xk", "c": "Yw=="},
                                "stringData": {"a": "new", "d": "dee"}});
        stored_form("Secret", &mut secret);
        assert_eq!(
            secret,
            json!({"kind": "Secret", "data": {"a": "bmV3", "c": "Yw==", "d": "ZGVl"}})
        );
    }

    #[test]
    fn quota_hard_and_size_limits_are_quantities() {
        let mut quota = json!({"spec": {"hard": {"requests.cpu": "4000m", "pods": 10, "requests.storage": "0.5Ti"}}});
        stored_form("ResourceQuota", &mut quota);
        assert_eq!(
            quota,
            json!({"spec": {"hard": {"requests.cpu": "4", "pods": "10", "requests.storage": "512Gi"}}})
        );
        let mut vol = json!({"emptyDir": {"sizeLimit": "1024Mi"}});
        stored_form("Pod", &mut vol);
        assert_eq!(vol, json!({"emptyDir": {"sizeLimit": "1Gi"}}));
    }
}
