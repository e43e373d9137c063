//! Typed decoding of a located YAML tree with every error placed (file, line, column,
//! field path), unknown fields reported with "did you mean", and several errors
//! collected in one run.
//!
//! The typed model uses plain serde derives; this module is the `Deserializer` they
//! read from. Unknown fields are found through the field list serde passes to
//! `deserialize_struct`, and reported without stopping. A type error stops serde, so
//! the node that caused it is set aside and decoding runs again, until it succeeds or
//! nothing new is learned; each run is linear, and runs are capped.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::value::StrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};

use crate::diag::{Diagnostic, Diagnostics, FieldPath, Seg, did_you_mean};
use crate::yaml::{Loc, Node, NodeValue};

/// How many decode runs are tried before giving up on finding more errors.
const MAX_RUNS: usize = 30;

/// Decodes `root` into `T`, collecting every problem found. The value may be partial
/// (bad nodes set aside) whenever diagnostics are returned: use it only when there are none.
/// The value is complete (nothing was set aside) when only unknown fields were found;
/// `Decoded::complete` says so, and such a value may be validated further.
pub fn decode<T: DeserializeOwned>(file: &str, root: &Node) -> Decoded<T> {
    let state = State::default();
    let mut diags = Diagnostics::default();
    let mut seen = HashSet::new();
    let mut value = None;
    for _ in 0..MAX_RUNS {
        state.unknown.borrow_mut().clear();
        let result = T::deserialize(Decoder {
            node: root,
            path: &Path::Root,
            state: &state,
        });
        let err = match result {
            Ok(v) => {
                value = Some(v);
                break;
            }
            Err(e) => e,
        };
        let Some(place) = err.place.clone() else {
            break;
        };
        if !seen.insert(place.node) || std::ptr::eq(place.node, root) && err.cascade {
            break;
        }
        if err.cascade {
            // The struct lacks a field only because that field's error was reported;
            // set the struct aside too, silently, and look for more.
            state.poisoned.borrow_mut().insert(place.node);
            continue;
        }
        diags.push(Diagnostic::new(
            file,
            Some(place.loc),
            &place.path,
            err.message,
        ));
        if std::ptr::eq(place.node, root) {
            break;
        }
        state.poisoned.borrow_mut().insert(place.node);
    }
    for (loc, path, message) in state.unknown.take() {
        diags.push(Diagnostic::new(file, Some(loc), &path, message));
    }
    if value.is_none() && diags.is_empty() {
        // Only reachable if the cap was hit on the very first run, which cannot happen;
        // kept so that a failure is never silent.
        diags.push(Diagnostic::new(
            file,
            Some(root.loc),
            &FieldPath::root(),
            "could not decode the file",
        ));
    }
    let complete = state.poisoned.borrow().is_empty();
    Decoded {
        value,
        diags: diags.finish(),
        complete,
    }
}

/// What [`decode`] found.
pub struct Decoded<T> {
    pub value: Option<T>,
    pub diags: Diagnostics,
    pub complete: bool,
}

#[derive(Default)]
struct State {
    /// Nodes whose value failed to decode; their keys are skipped on later runs.
    poisoned: RefCell<HashSet<*const Node>>,
    unknown: RefCell<Vec<(Loc, FieldPath, String)>>,
}

impl State {
    fn is_poisoned(&self, node: &Node) -> bool {
        self.poisoned.borrow().contains(&(node as *const Node))
    }
}

/// The path to the node being decoded, as a chain of borrowed parents (no allocation
/// unless an error needs it).
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn to_field_path(&self) -> FieldPath {
        let mut segs = Vec::new();
        let mut cur = self;
        loop {
            match cur {
                Path::Root => break,
                Path::Key(parent, k) => {
                    segs.push(Seg::Key((*k).to_string()));
                    cur = parent;
                }
                Path::Index(parent, i) => {
                    segs.push(Seg::Index(*i));
                    cur = parent;
                }
            }
        }
        segs.reverse();
        FieldPath(segs)
    }
}

#[derive(Clone)]
struct Place {
    node: *const Node,
    loc: Loc,
    path: FieldPath,
}

/// A decode error; `place` is set by the innermost node that saw it.
#[derive(Debug)]
pub struct Error {
    message: String,
    place: Option<Place>,
    /// The name of a missing field, while the error travels to its struct.
    missing: Option<&'static str>,
    /// A "missing field" that only follows from an earlier error's node being set aside.
    cascade: bool,
}

impl fmt::Debug for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} {}", self.loc.line, self.loc.column, self.path)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            message: msg.to_string(),
            place: None,
            missing: None,
            cascade: false,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Error {
            message: format!("missing required field `{field}`"),
            place: None,
            missing: Some(field),
            cascade: false,
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Error::custom(format_args!("expected {exp}, found {}", describe(unexp)))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let hint = did_you_mean(variant, expected)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        Error::custom(format_args!(
            "unknown value `{variant}`{hint}, expected one of {}",
            list(expected)
        ))
    }
}

fn describe(unexp: de::Unexpected<'_>) -> String {
    use de::Unexpected::*;
    match unexp {
        Bool(b) => format!("boolean `{b}`"),
        Unsigned(n) => format!("integer `{n}`"),
        Signed(n) => format!("integer `{n}`"),
        Float(n) => format!("number `{n}`"),
        Str(s) => format!("string {s:?}"),
        Unit => "null".to_string(),
        Seq => "a list".to_string(),
        Map => "a mapping".to_string(),
        other => other.to_string(),
    }
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Decoder<'a> {
    node: &'a Node,
    path: &'a Path<'a>,
    state: &'a State,
}

impl<'a> Decoder<'a> {
    /// Gives an unplaced error this node's place.
    fn place(&self, mut err: Error) -> Error {
        if err.place.is_none() {
            if let Some(field) = err.missing.take() {
                // serde reports a missing field from inside the struct; when the field
                // is present but was set aside, the real error was already reported.
                if self
                    .node
                    .get(field)
                    .is_some_and(|n| self.state.is_poisoned(n))
                {
                    err.cascade = true;
                }
            }
            err.place = Some(Place {
                node: self.node as *const Node,
                loc: self.node.loc,
                path: self.path.to_field_path(),
            });
        }
        err
    }

    fn type_error(&self, expected: &str) -> Error {
        self.place(de::Error::custom(format_args!(
            "expected {expected}, found {}",
            self.node.value.kind()
        )))
    }
}

macro_rules! forward_to_any {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.deserialize_any(visitor)
        })*
    };
}

impl<'de, 'a> de::Deserializer<'de> for Decoder<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match &self.node.value {
            NodeValue::Null => visitor.visit_unit(),
            NodeValue::Bool(b) => visitor.visit_bool(*b),
            NodeValue::Int(i) => visitor.visit_i64(*i),
            NodeValue::UInt(u) => visitor.visit_u64(*u),
            NodeValue::Float(f) => visitor.visit_f64(*f),
            NodeValue::Str(s) => visitor.visit_str(s),
            NodeValue::Seq(items) => {
                visitor.visit_seq(SeqDecoder::new(items, self.path, self.state))
            }
            NodeValue::Map(entries) => {
                visitor.visit_map(MapDecoder::new(entries, None, self.path, self.state))
            }
        };
        result.map_err(|e| self.place(e))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.node.value {
            NodeValue::Null => visitor.visit_none().map_err(|e| self.place(e)),
            _ => visitor.visit_some(Decoder { ..self }),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match &self.node.value {
            NodeValue::Map(entries) => visitor
                .visit_map(MapDecoder::new(
                    entries,
                    Some(fields),
                    self.path,
                    self.state,
                ))
                .map_err(|e| self.place(e)),
            _ => Err(self.type_error("a mapping")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            NodeValue::Map(_) => self.deserialize_any(visitor),
            _ => Err(self.type_error("a mapping")),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            NodeValue::Seq(_) => self.deserialize_any(visitor),
            _ => Err(self.type_error("a list")),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match &self.node.value {
            NodeValue::Str(s) => {
                let de: StrDeserializer<'_, Error> = s.as_str().into_deserializer();
                visitor.visit_enum(de).map_err(|e| self.place(e))
            }
            _ => Err(self.type_error("a string")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// Integers and booleans are taken as their text where a string is expected
    /// (`PORT: 8080`); a float is not, since `1.10` would silently become "1.1".
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match &self.node.value {
            NodeValue::Int(i) => visitor.visit_string(i.to_string()),
            NodeValue::UInt(u) => visitor.visit_string(u.to_string()),
            NodeValue::Bool(b) => visitor.visit_string(b.to_string()),
            NodeValue::Float(_) => {
                return Err(self.place(de::Error::custom(
                    "expected a string, found a number: quote it to keep it as written",
                )));
            }
            _ => return self.deserialize_any(visitor),
        };
        result.map_err(|e| self.place(e))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    forward_to_any! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32
        deserialize_f64 deserialize_char deserialize_bytes
        deserialize_byte_buf deserialize_unit deserialize_identifier deserialize_i128
        deserialize_u128
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_any(v)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }
}

struct SeqDecoder<'a> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
    path: &'a Path<'a>,
    state: &'a State,
}

impl<'a> SeqDecoder<'a> {
    fn new(items: &'a [Node], path: &'a Path<'a>, state: &'a State) -> Self {
        SeqDecoder {
            items: items.iter().enumerate(),
            path,
            state,
        }
    }
}

impl<'de, 'a> SeqAccess<'de> for SeqDecoder<'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        // A set-aside element is skipped; indexes stay those of the file.
        for (index, node) in self.items.by_ref() {
            if self.state.is_poisoned(node) {
                continue;
            }
            let path = Path::Index(self.path, index);
            let decoder = Decoder {
                node,
                path: &path,
                state: self.state,
            };
            return seed.deserialize(decoder).map(Some);
        }
        Ok(None)
    }
}

struct MapDecoder<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    fields: Option<&'static [&'static str]>,
    path: &'a Path<'a>,
    state: &'a State,
    value: Option<(&'a str, &'a Node)>,
}

impl<'a> MapDecoder<'a> {
    fn new(
        entries: &'a [(Node, Node)],
        fields: Option<&'static [&'static str]>,
        path: &'a Path<'a>,
        state: &'a State,
    ) -> Self {
        MapDecoder {
            entries: entries.iter(),
            fields,
            path,
            state,
            value: None,
        }
    }
}

impl<'de, 'a> MapAccess<'de> for MapDecoder<'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        for (key, value) in self.entries.by_ref() {
            let NodeValue::Str(name) = &key.value else {
                let path = self.path.to_field_path();
                let message = format!("keys must be strings, found {}", key.value.kind());
                self.state
                    .unknown
                    .borrow_mut()
                    .push((key.loc, path, message));
                continue;
            };
            if self.state.is_poisoned(value) {
                continue;
            }
            if let Some(fields) = self.fields
                && !fields.contains(&name.as_str())
            {
                let path = Path::Key(self.path, name);
                let hint = match did_you_mean(name, fields) {
                    Some(s) => format!(" (did you mean `{s}`?)"),
                    None => format!("; expected one of {}", list(fields)),
                };
                let message = format!("unknown field `{name}`{hint}");
                self.state
                    .unknown
                    .borrow_mut()
                    .push((key.loc, path.to_field_path(), message));
                continue;
            }
            self.value = Some((name.as_str(), value));
            let de: StrDeserializer<'_, Error> = name.as_str().into_deserializer();
            return seed.deserialize(de).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some((name, node)) = self.value.take() else {
            return Err(de::Error::custom("value requested before key"));
        };
        let path = Path::Key(self.path, name);
        let decoder = Decoder {
            node,
            path: &path,
            state: self.state,
        };
        seed.deserialize(decoder).map_err(|mut e| {
            // serde's own "duplicate field" and similar errors arrive unplaced.
            if e.place.is_none() {
                e.place = Some(Place {
                    node: node as *const Node,
                    loc: node.loc,
                    path: path.to_field_path(),
                });
            }
            e
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;
    use crate::yaml::parse_located;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Doc {
        name: String,
        #[serde(default)]
        count: Option<u32>,
        #[serde(default)]
        items: Vec<Item>,
        #[serde(default)]
        labels: BTreeMap<String, String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Item {
        size: u32,
        #[serde(default)]
        mode: Mode,
    }

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        #[default]
        Managed,
        Seed,
    }

    fn run(text: &str) -> (Option<Doc>, Vec<String>) {
        let root = parse_located(text).expect("yaml").expect("non-empty");
        let decoded = decode::<Doc>("f.yaml", &root);
        (
            decoded.value,
            decoded.diags.0.iter().map(ToString::to_string).collect(),
        )
    }

    #[test]
    fn decodes_a_sound_document() {
        let (doc, errs) =
            run("name: a\ncount: 2\nitems: [{size: 1, mode: seed}]\nlabels: {x: y}\n");
        assert!(errs.is_empty(), "{errs:?}");
        let doc = doc.expect("decoded");
        assert_eq!(
            doc.items,
            vec![Item {
                size: 1,
                mode: Mode::Seed
            }]
        );
    }

    #[test]
    fn reports_unknown_fields_with_suggestions_and_keeps_going() {
        let (doc, errs) = run("name: a\ncont: 2\nitems:\n  - size: 1\n    mdoe: seed\n");
        assert!(doc.is_some());
        assert_eq!(
            errs,
            vec![
                "f.yaml:2:1: cont: unknown field `cont` (did you mean `count`?)",
                "f.yaml:5:5: items[0].mdoe: unknown field `mdoe` (did you mean `mode`?)",
            ]
        );
    }

    #[test]
    fn collects_several_type_errors() {
        let (_, errs) =
            run("name: a\ncount: many\nitems:\n  - size: big\n  - size: 2\n    mode: sede\n");
        assert_eq!(
            errs,
            vec![
                "f.yaml:2:8: count: expected u32, found string \"many\"",
                "f.yaml:4:11: items[0].size: expected u32, found string \"big\"",
                "f.yaml:6:11: items[1].mode: unknown value `sede` (did you mean `seed`?), expected one of `managed`, `seed`",
            ]
        );
    }

    #[test]
    fn reports_missing_fields_at_their_mapping() {
        let (_, errs) = run("count: 1\nitems: [{}]\n");
        assert_eq!(
            errs,
            vec![
                "f.yaml:1:1: missing required field `name`",
                "f.yaml:2:9: items[0]: missing required field `size`",
            ]
        );
    }

    #[test]
    fn wrong_shape_is_a_type_error() {
        let (_, errs) = run("name: [a]\nitems: {size: 1}\n");
        assert_eq!(
            errs,
            vec![
                "f.yaml:1:7: name: expected a string, found a list",
                "f.yaml:2:8: items: expected a list, found a mapping",
            ]
        );
    }
}
