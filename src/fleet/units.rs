//! Kubernetes resource quantities (`250m`, `512Mi`, `2`), durations (`60s`, `10m`) and
//! object names, parsed while decoding so a bad value is reported where it is written.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A resource quantity, kept as written and as an exact value in milli-units.
///
/// Grammar from the Kubernetes API (`resource.Quantity`): a signed decimal number
/// followed by a binary suffix (Ki..Ei), a decimal suffix (n, u, m, "", k, M, G, T, P, E)
/// or a decimal exponent (e3). Requests and limits here are never negative, so a
/// sign is refused. Milli-units are the finest unit a CPU or memory value can carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity {
    text: String,
    millis: u128,
}

impl Quantity {
    pub fn parse(text: &str) -> Result<Self, String> {
        let err = || {
            format!(
                "invalid quantity {text:?}: expected a number with an optional unit, like 250m, 2, 512Mi or 4Gi"
            )
        };
        if text.starts_with('-') {
            return Err(format!("invalid quantity {text:?}: must not be negative"));
        }
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(split);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(err());
        }
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        if int_part.len() > 18 || frac_part.len() > 9 {
            return Err(err());
        }
        // Exact arithmetic: value = digits / 10^frac_len, scaled by the suffix.
        let digits: u128 = format!("{int_part}{frac_part}")
            .parse()
            .map_err(|_| err())?;
        let frac_scale = 10u128.pow(frac_part.len() as u32);
        let (mul, div): (u128, u128) = match suffix {
            "" => (1000, 1),
            "n" => (1, 1_000_000),
            "u" => (1, 1000),
            "m" => (1, 1),
            "k" => (1000u128.pow(2), 1),
            "M" => (1000u128.pow(3), 1),
            "G" => (1000u128.pow(4), 1),
            "T" => (1000u128.pow(5), 1),
            "P" => (1000u128.pow(6), 1),
            "E" => (1000u128.pow(7), 1),
            "Ki" => (1000 * 1024, 1),
            "Mi" => (1000 * 1024u128.pow(2), 1),
            "Gi" => (1000 * 1024u128.pow(3), 1),
            "Ti" => (1000 * 1024u128.pow(4), 1),
            "Pi" => (1000 * 1024u128.pow(5), 1),
            "Ei" => (1000 * 1024u128.pow(6), 1),
            s if s.starts_with(['e', 'E']) => {
                let exp: u32 = s[1..].parse().map_err(|_| err())?;
                if exp > 18 {
                    return Err(err());
                }
                (1000 * 10u128.pow(exp), 1)
            }
            _ => return Err(err()),
        };
        let millis = digits.checked_mul(mul).ok_or_else(err)? / (div * frac_scale);
        Ok(Quantity {
            text: text.to_string(),
            millis,
        })
    }

    /// The value in thousandths of the base unit (millicores, or milli-bytes).
    pub fn millis(&self) -> u128 {
        self.millis
    }

    /// The value in whole base units, rounded down (bytes for memory).
    pub fn units(&self) -> u128 {
        self.millis / 1000
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity such as 250m, 2 or 512Mi")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Quantity::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A Kubernetes quantity: 250m, 0.5, 2, 512Mi, 4Gi.",
            "anyOf": [
                {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][0-9]+)?$"},
                {"type": "number", "minimum": 0}
            ]
        })
    }
}

/// A duration written as a sequence of number-unit pairs (`90s`, `10m`, `1h30m`, `500ms`),
/// as Go's `time.ParseDuration` and kubectl's `--timeout` read it (no sign, no bare number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duration {
    text: String,
    value: std::time::Duration,
}

impl Duration {
    pub fn parse(text: &str) -> Result<Self, String> {
        let err = || {
            format!(
                "invalid duration {text:?}: expected a number and a unit (ms, s, m, h), like 60s, 10m or 1h30m"
            )
        };
        if text.is_empty() {
            return Err(err());
        }
        let mut total = std::time::Duration::ZERO;
        let mut rest = text;
        while !rest.is_empty() {
            let n = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
            if n == 0 {
                return Err(err());
            }
            let amount: u64 = rest[..n].parse().map_err(|_| err())?;
            rest = &rest[n..];
            let u = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let part = match &rest[..u] {
                "ms" => std::time::Duration::from_millis(amount),
                "s" => std::time::Duration::from_secs(amount),
                "m" => std::time::Duration::from_secs(amount.checked_mul(60).ok_or_else(err)?),
                "h" => std::time::Duration::from_secs(amount.checked_mul(3600).ok_or_else(err)?),
                _ => return Err(err()),
            };
            total = total.checked_add(part).ok_or_else(err)?;
            rest = &rest[u..];
        }
        Ok(Duration {
            text: text.to_string(),
            value: total,
        })
    }

    pub fn get(&self) -> std::time::Duration {
        self.value
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 60s or 10m")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: 500ms, 60s, 10m, 1h30m.",
            "type": "string",
            "pattern": "^([0-9]+(ms|s|m|h))+$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_exactly() {
        let q = |s: &str| Quantity::parse(s).expect(s).millis();
        assert_eq!(q("250m"), 250);
        assert_eq!(q("2"), 2000);
        assert_eq!(q("0.5"), 500);
        assert_eq!(q("1.5Gi"), 1_610_612_736_000);
        assert_eq!(q("512Mi"), 512 * 1024 * 1024 * 1000);
        assert_eq!(q("1k"), 1_000_000);
        assert_eq!(q("1e3"), 1_000_000);
        assert_eq!(Quantity::parse("4Gi").expect("4Gi").units(), 4 << 30);
    }

    #[test]
    fn bad_quantities_are_refused() {
        for bad in [
            "",
            "Mi",
            "12Qi",
            "-1",
            "1.2.3",
            "1 Gi",
            "1gi",
            "99999999999999999999Ei",
            ".",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn durations_parse_like_go() {
        let d = |s: &str| Duration::parse(s).expect(s).get().as_millis();
        assert_eq!(d("60s"), 60_000);
        assert_eq!(d("10m"), 600_000);
        assert_eq!(d("1h30m"), 5_400_000);
        assert_eq!(d("500ms"), 500);
        for bad in ["", "10", "s", "1d", "-5s", "1.5h"] {
            assert!(Duration::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}

/// The name of an object in the agent's namespace (a DNS-1123 subdomain: a Secret, a
/// ConfigMap), checked while decoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct ObjectName(
    #[schemars(regex(
        pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
    ))]
    String,
);

impl ObjectName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ObjectName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        crate::names::dns_subdomain(&name).map_err(de::Error::custom)?;
        Ok(ObjectName(name))
    }
}
