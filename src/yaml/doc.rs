//! A parsed manifest document that borrows its strings from the text it was read from,
//! with mappings kept in document order as plain lists: cheap to build, read, emit and
//! drop, where a `serde_json::Value` costs a hash table and an owned string per key.
//!
//! It converts to and from `serde_json::Value` losslessly, and deserializes as that
//! `Value` does (same visitor calls), so a typed read of a [`Doc`] succeeds exactly when
//! the typed read of its `Value` does.

use std::borrow::Cow;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// One YAML document, resolved with the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc<'a> {
    Null,
    Bool(bool),
    /// Any integer that fits an `i64`.
    Int(i64),
    /// Integers above `i64::MAX`.
    UInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
    Seq(Vec<Doc<'a>>),
    /// Entries in document order; keys are unique.
    Map(Vec<(Cow<'a, str>, Doc<'a>)>),
}

impl<'a> Doc<'a> {
    /// The value under `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Doc<'a>> {
        match self {
            Doc::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Doc::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The same document as a JSON value.
    pub fn to_value(&self) -> Value {
        match self {
            Doc::Null => Value::Null,
            Doc::Bool(b) => Value::Bool(*b),
            Doc::Int(i) => Value::from(*i),
            Doc::UInt(u) => Value::from(*u),
            Doc::Float(f) => Value::from(*f),
            Doc::Str(s) => Value::String(s.to_string()),
            Doc::Seq(items) => Value::Array(items.iter().map(Doc::to_value).collect()),
            Doc::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// A JSON value as a document, taking its strings.
    pub fn from_value(value: Value) -> Doc<'static> {
        match value {
            Value::Null => Doc::Null,
            Value::Bool(b) => Doc::Bool(b),
            Value::Number(n) => number(&n),
            Value::String(s) => Doc::Str(Cow::Owned(s)),
            Value::Array(items) => Doc::Seq(items.into_iter().map(Doc::from_value).collect()),
            Value::Object(map) => Doc::Map(
                map.into_iter()
                    .map(|(k, v)| (Cow::Owned(k), Doc::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// A JSON value as a document borrowing its strings.
    pub fn borrow_value(value: &'a Value) -> Doc<'a> {
        match value {
            Value::Null => Doc::Null,
            Value::Bool(b) => Doc::Bool(*b),
            Value::Number(n) => number(n),
            Value::String(s) => Doc::Str(Cow::Borrowed(s)),
            Value::Array(items) => Doc::Seq(items.iter().map(Doc::borrow_value).collect()),
            Value::Object(map) => Doc::Map(
                map.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Doc::borrow_value(v)))
                    .collect(),
            ),
        }
    }
}

fn number(n: &serde_json::Number) -> Doc<'static> {
    if let Some(i) = n.as_i64() {
        Doc::Int(i)
    } else if let Some(u) = n.as_u64() {
        Doc::UInt(u)
    } else {
        Doc::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

type Error = serde_json::Error;

fn unexpected<'b>(doc: &'b Doc<'_>) -> de::Unexpected<'b> {
    match doc {
        Doc::Null => de::Unexpected::Unit,
        Doc::Bool(b) => de::Unexpected::Bool(*b),
        Doc::Int(i) if *i >= 0 => de::Unexpected::Unsigned(*i as u64),
        Doc::Int(i) => de::Unexpected::Signed(*i),
        Doc::UInt(u) => de::Unexpected::Unsigned(*u),
        Doc::Float(f) => de::Unexpected::Float(*f),
        Doc::Str(s) => de::Unexpected::Str(s),
        Doc::Seq(_) => de::Unexpected::Seq,
        Doc::Map(_) => de::Unexpected::Map,
    }
}

impl<'de, 'a: 'de> Doc<'a> {
    fn invalid_type(&'de self, exp: &dyn de::Expected) -> Error {
        de::Error::invalid_type(unexpected(self), exp)
    }

    /// As `serde_json::Number::deserialize_any`: non-negative integers are `u64`.
    fn visit_number<V: Visitor<'de>>(&'de self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Doc::Int(i) if *i >= 0 => visitor.visit_u64(*i as u64),
            Doc::Int(i) => visitor.visit_i64(*i),
            Doc::UInt(u) => visitor.visit_u64(*u),
            Doc::Float(f) => visitor.visit_f64(*f),
            _ => Err(self.invalid_type(&visitor)),
        }
    }
}

fn visit_seq<'de, 'a: 'de, V: Visitor<'de>>(
    items: &'de [Doc<'a>],
    visitor: V,
) -> Result<V::Value, Error> {
    let len = items.len();
    let mut access = SeqDe { iter: items.iter() };
    let value = visitor.visit_seq(&mut access)?;
    if access.iter.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in array"))
    }
}

fn visit_map<'de, 'a: 'de, V: Visitor<'de>>(
    entries: &'de [(Cow<'a, str>, Doc<'a>)],
    visitor: V,
) -> Result<V::Value, Error> {
    let len = entries.len();
    let mut access = MapDe {
        iter: entries.iter(),
        value: None,
    };
    let value = visitor.visit_map(&mut access)?;
    if access.iter.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in map"))
    }
}

struct SeqDe<'de, 'a> {
    iter: std::slice::Iter<'de, Doc<'a>>,
}

impl<'de, 'a: 'de> SeqAccess<'de> for &mut SeqDe<'de, 'a> {
    type Error = Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.iter.next().map(|d| seed.deserialize(d)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDe<'de, 'a> {
    iter: std::slice::Iter<'de, (Cow<'a, str>, Doc<'a>)>,
    value: Option<&'de Doc<'a>>,
}

impl<'de, 'a: 'de> MapAccess<'de> for &mut MapDe<'de, 'a> {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        // Keys only ever take strings here: a key read as anything else (a number, an
        // option) fails, and the caller then asks serde_json, which decides.
        seed.deserialize(BorrowedStrDeserializer::<Error>::new(key))
            .map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Mirrors `impl Deserializer for &serde_json::Value`; what it does not support
/// (enums, bytes, 128-bit numbers) it refuses, never accepts more.
impl<'de, 'a: 'de> Deserializer<'de> for &'de Doc<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Doc::Null => visitor.visit_unit(),
            Doc::Bool(b) => visitor.visit_bool(*b),
            Doc::Int(_) | Doc::UInt(_) | Doc::Float(_) => self.visit_number(visitor),
            Doc::Str(s) => visitor.visit_borrowed_str(s),
            Doc::Seq(items) => visit_seq(items, visitor),
            Doc::Map(entries) => visit_map(entries, visitor),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.visit_number(visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.visit_number(visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.visit_number(visitor)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.visit_number(visitor)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.visit_number(visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.visit_number(visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.visit_number(visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.visit_number(visitor)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.visit_number(visitor)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.visit_number(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Doc::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Doc::Bool(b) => visitor.visit_bool(*b),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Doc::Str(s) => visitor.visit_borrowed_str(s),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Doc::Null => visitor.visit_unit(),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Doc::Seq(items) => visit_seq(items, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Doc::Map(entries) => visit_map(entries, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Doc::Seq(items) => visit_seq(items, visitor),
            Doc::Map(entries) => visit_map(entries, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Error> {
        Err(de::Error::custom("enums are left to serde_json"))
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(de::Error::custom("bytes are left to serde_json"))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(de::Error::custom("bytes are left to serde_json"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[test]
    fn converts_to_and_from_json_values() {
        let value =
            json!({"b": [1, -2, 1.5, 18446744073709551615u64, null, true], "a": {"x": "y"}});
        let doc = Doc::borrow_value(&value);
        assert_eq!(doc.to_value(), value);
        assert_eq!(Doc::from_value(value.clone()), doc);
        assert_eq!(
            doc.get("a").and_then(|a| a.get("x")).and_then(Doc::as_str),
            Some("y")
        );
    }

    #[test]
    fn typed_reads_agree_with_serde_json() {
        use std::collections::BTreeMap;
        #[derive(serde::Deserialize, Debug, PartialEq)]
        #[serde(rename_all = "camelCase")]
        struct T {
            port: i32,
            ratio: Option<f64>,
            labels: BTreeMap<String, String>,
            items: Vec<u8>,
        }
        let cases = [
            json!({"port": 1, "ratio": 2, "labels": {"a": "b"}, "items": [1, 2]}),
            json!({"port": -1, "labels": {}, "items": []}),
            json!({"port": 5_000_000_000u64, "labels": {}, "items": []}),
            json!({"port": 1.5, "labels": {}, "items": []}),
            json!({"port": "1", "labels": {}, "items": []}),
            json!({"port": 1, "labels": {"a": 1}, "items": []}),
            json!({"port": 1, "labels": [], "items": [300]}),
            json!({"labels": {}, "items": []}),
            json!([1, null, {}, [1]]),
            json!("x"),
        ];
        for value in cases {
            let ours = T::deserialize(&Doc::borrow_value(&value)).map_err(|e| e.to_string());
            let theirs = T::deserialize(&value).map_err(|e| e.to_string());
            assert_eq!(ours, theirs, "{value}");
        }
    }
}
