//! All YAML parsing and emitting: a located node tree for fleet files, multi-document
//! parsing for rendered manifests, and deterministic YAML output.
//!
//! Fleet files go through serde-saphyr, with budgets that bound what hostile input
//! (alias bombs, deep nesting, huge documents) can cost before it is refused. Rendered
//! manifests first try [`fast`], a parser for the regular subset the templates produce,
//! and fall back to serde-saphyr for anything else (including every invalid input, so
//! errors and their locations are serde-saphyr's). Output goes through [`emit`].

mod doc;
mod emit;
mod fast;

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Budget, Options, Spanned};

pub use doc::Doc;

/// Largest fleet file or manifest stream clawctl reads. A 10,000-agent fleet is about 3 MiB.
pub const MAX_INPUT_BYTES: usize = 32 * 1024 * 1024;
/// Deepest nesting accepted. A fleet file needs about 10 levels and a manifest about
/// 12. Parsing recurses per level (about 32 KiB of stack each in a debug build), so
/// the cap also keeps hostile input far from any thread's stack limit.
const MAX_DEPTH: usize = 32;

/// A line and column in a source file, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Loc {
    pub line: u32,
    pub column: u32,
}

/// A YAML node with the place it was written. Mapping keys keep their own place, so an
/// unknown field can be reported where its key stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub loc: Loc,
    pub value: NodeValue,
}

/// The value of a [`Node`], resolved with the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl NodeValue {
    /// What this value is, in the words an error message uses.
    pub fn kind(&self) -> &'static str {
        match self {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) | NodeValue::UInt(_) => "an integer",
            NodeValue::Float(_) => "a number",
            NodeValue::Str(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The value under `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            NodeValue::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.value, NodeValue::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The `index`th element when this node is a sequence.
    pub fn index(&self, index: usize) -> Option<&Node> {
        match &self.value {
            NodeValue::Seq(items) => items.get(index),
            _ => None,
        }
    }
}

/// A YAML syntax or budget error, with the place it was found when the parser knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub loc: Option<Loc>,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<serde_saphyr::Error> for SyntaxError {
    fn from(err: serde_saphyr::Error) -> Self {
        let loc = err.location().filter(|l| l.line() > 0).map(|l| Loc {
            line: l.line() as u32,
            column: l.column() as u32,
        });
        // The default rendering repeats the location and adds a source snippet; the
        // caller prints its own, so keep the first line of the bare message only.
        let text = err.without_snippet().to_string();
        let message = text
            .lines()
            .next()
            .unwrap_or("invalid YAML")
            .trim()
            .trim_end_matches(['.', ':'])
            .to_string();
        SyntaxError {
            loc,
            message: humane(&strip_location_suffix(&message)),
        }
    }
}

/// Says what a budget breach means for the person who wrote the file.
fn humane(message: &str) -> String {
    if message.contains("recursion limit") {
        return format!("nested deeper than {MAX_DEPTH} levels");
    }
    if message.starts_with("alias replay limit exceeded") {
        return "aliases expand to more than clawctl reads (an alias bomb?)".to_string();
    }
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        // serde-saphyr adds advice for its own users ("set DuplicateKeyPolicy ...").
        let key = rest.split(", set ").next().unwrap_or(rest);
        return format!("duplicate key `{key}`");
    }
    let Some(what) = message.strip_prefix("budget breached: ") else {
        return message.to_string();
    };
    if what.starts_with("Depth") {
        format!("nested deeper than {MAX_DEPTH} levels")
    } else if what.starts_with("Documents") {
        "a fleet file holds one YAML document; found another after `---`".to_string()
    } else if ["Alias", "Replay", "Anchor"]
        .iter()
        .any(|w| what.contains(w))
    {
        "aliases expand to more than clawctl reads (an alias bomb?)".to_string()
    } else {
        format!("the document is larger than clawctl reads ({what})")
    }
}

/// serde-saphyr appends " at line L column C" to some messages; the location is kept
/// separately, so drop the duplicate.
fn strip_location_suffix(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn options(max_documents: Option<usize>) -> Options {
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    // Room for everything a 32 MiB file can legitimately hold (a 10,000-agent fleet
    // has a few hundred thousand nodes), while aliases, which a fleet file has little
    // use for, may replay only a bounded amount: that is what stops an alias bomb early.
    budget.max_events = 20_000_000;
    budget.max_nodes = 10_000_000;
    if let Some(n) = max_documents {
        budget.max_documents = n;
    }
    let mut options = Options::default();
    options.budget = Some(budget);
    // YAML 1.2 core schema: only `true` and `false` are booleans, so a label value
    // `y` or a name `no` stays the string it looks like.
    options.strict_booleans = true;
    options.alias_limits.max_total_replayed_events = 100_000;
    options
}

/// Parses one YAML document into a located node tree. An empty document is `Ok(None)`.
pub fn parse_located(text: &str) -> Result<Option<Node>, SyntaxError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(SyntaxError {
            loc: None,
            message: format!(
                "file is larger than {} MiB",
                MAX_INPUT_BYTES / (1024 * 1024)
            ),
        });
    }
    if text.trim().is_empty() {
        return Ok(None);
    }
    let node: Option<Node> = serde_saphyr::from_str_with_options(text, options(Some(1)))?;
    Ok(node.filter(|n| n.value != NodeValue::Null))
}

/// Parses a stream of YAML documents (rendered manifests) into JSON values, skipping
/// empty documents.
pub fn parse_documents(text: &str) -> Result<Vec<serde_json::Value>, SyntaxError> {
    Ok(parse_docs(text)?.iter().map(Doc::to_value).collect())
}

/// [`parse_documents`] into documents that borrow from `text` where they can.
pub fn parse_docs(text: &str) -> Result<Vec<Doc<'_>>, SyntaxError> {
    let fast = fast::parse_docs(text);
    #[cfg(test)]
    tests::observe(text, fast.is_some());
    match fast {
        Some(docs) => Ok(docs),
        None => Ok(parse_documents_saphyr(text)?
            .into_iter()
            .map(Doc::from_value)
            .collect()),
    }
}

/// [`parse_documents`] through serde-saphyr, for everything the fast parser leaves.
fn parse_documents_saphyr(text: &str) -> Result<Vec<serde_json::Value>, SyntaxError> {
    let docs: Vec<Option<serde_json::Value>> =
        serde_saphyr::from_str_multiple_with_options(text, options(None))?;
    Ok(docs
        .into_iter()
        .flatten()
        .filter(|v| !v.is_null())
        .collect())
}

/// The promises of the fast parser and the emitter, checked on any `text`, for the
/// `yaml` fuzz target (built with `--cfg fuzzing`). Panics when one is broken: the fast
/// parser, when it reads `text`, reads what serde-saphyr reads; and every document
/// serde-saphyr reads is emitted as YAML that serde-saphyr reads back unchanged, and so
/// does the fast parser when it reads it (always, for a mapping).
#[cfg(fuzzing)]
pub fn check_parsers(text: &str) {
    let saphyr = parse_documents_saphyr(text);
    if let Some(docs) = fast::parse_docs(text) {
        let docs: Vec<serde_json::Value> = docs.iter().map(Doc::to_value).collect();
        assert_eq!(
            Ok(docs),
            saphyr,
            "the fast parser differs from serde-saphyr"
        );
    }
    for value in saphyr.iter().flatten() {
        let emitted = emit::doc_to_yaml(&Doc::borrow_value(value), 1024);
        let text = match &emitted {
            Some(text) => text.clone(),
            None => to_yaml_saphyr(value).expect("serde-saphyr emits what it read"),
        };
        assert_eq!(
            parse_documents_saphyr(&text),
            Ok(vec![value.clone()]),
            "serde-saphyr reads back something else from {text:?}"
        );
        let docs: Option<Vec<serde_json::Value>> =
            fast::parse_docs(&text).map(|d| d.iter().map(Doc::to_value).collect());
        // The fast parser may decline (it reads block collections only), but not the
        // emitter's mappings: rendered documents are those.
        let must_read = emitted.is_some() && value.as_object().is_some_and(|m| !m.is_empty());
        if docs.is_some() || must_read {
            assert_eq!(
                docs,
                Some(vec![value.clone()]),
                "the fast parser reads back something else from {text:?}"
            );
        }
    }
}

/// Writes `value` as one YAML document, block style, multi-line strings as literal
/// blocks, deterministic for equal input.
pub fn to_yaml(value: &serde_json::Value) -> anyhow::Result<String> {
    doc_to_yaml(&Doc::borrow_value(value), 1024)
}

/// [`to_yaml`] for a parsed document; `capacity` is the size to expect.
pub fn doc_to_yaml(doc: &Doc, capacity: usize) -> anyhow::Result<String> {
    match emit::doc_to_yaml(doc, capacity) {
        Some(text) => Ok(text),
        None => to_yaml_saphyr(&doc.to_value()),
    }
}

/// [`to_yaml`] through serde-saphyr, for values with keys too long for the emitter.
fn to_yaml_saphyr(value: &serde_json::Value) -> anyhow::Result<String> {
    let mut options = serde_saphyr::SerializerOptions::default();
    // Long lines stay on one line: folding them would only make the output harder to read.
    options.folded_wrap_chars = usize::MAX / 2;
    Ok(serde_saphyr::to_string_with_options(value, options)?)
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<NodeValue>::deserialize(deserializer)?;
        let at = spanned.referenced;
        Ok(Node {
            loc: Loc {
                line: at.line() as u32,
                column: at.column() as u32,
            },
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for NodeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = NodeValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<NodeValue, E> {
        Ok(NodeValue::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<NodeValue, E> {
        Ok(NodeValue::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NodeValue, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => NodeValue::Int(i),
            Err(_) => NodeValue::UInt(v),
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<NodeValue, E> {
        Ok(NodeValue::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<NodeValue, E> {
        Ok(NodeValue::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<NodeValue, E> {
        Ok(NodeValue::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<NodeValue, D::Error> {
        NodeValue::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(NodeValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(NodeValue::Map(entries))
    }
}

#[cfg(test)]
mod differential;

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// Every text [`parse_documents`] saw on this thread, and whether the fast
        /// parser handled it.
        pub(super) static SEEN: std::cell::RefCell<Vec<(String, bool)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }

    pub(super) fn observe(text: &str, fast: bool) {
        SEEN.with(|seen| seen.borrow_mut().push((text.to_string(), fast)));
    }

    fn parse(text: &str) -> Node {
        parse_located(text).expect("parses").expect("not empty")
    }

    #[test]
    fn keeps_locations_of_keys_and_values() {
        let root = parse("a: 1\nb:\n  c: [x, y]\n");
        assert_eq!(
            match &root.value {
                NodeValue::Map(entries) => entries.get(1).map(|(k, _)| k.loc),
                _ => None,
            },
            Some(Loc { line: 2, column: 1 })
        );
        let c = root.get("b").and_then(|b| b.get("c")).expect("c");
        assert_eq!(
            c.index(1).map(|n| n.loc),
            Some(Loc {
                line: 3,
                column: 10
            })
        );
        assert_eq!(root.get("a").map(|n| &n.value), Some(&NodeValue::Int(1)));
    }

    #[test]
    fn resolves_scalars_with_the_core_schema() {
        let root = parse("a: true\nb: yes\nc: '1'\nd: 1.5\ne: ~\nf: 0x10\n");
        assert_eq!(
            root.get("a").map(|n| &n.value),
            Some(&NodeValue::Bool(true))
        );
        assert_eq!(
            root.get("c").map(|n| &n.value),
            Some(&NodeValue::Str("1".into()))
        );
        assert_eq!(
            root.get("d").map(|n| &n.value),
            Some(&NodeValue::Float(1.5))
        );
        assert_eq!(root.get("e").map(|n| &n.value), Some(&NodeValue::Null));
        assert!(matches!(
            root.get("b").map(|n| &n.value),
            Some(NodeValue::Str(_) | NodeValue::Bool(_))
        ));
    }

    #[test]
    fn empty_input_is_none() {
        assert_eq!(parse_located("").expect("ok"), None);
        assert_eq!(parse_located("# only a comment\n").expect("ok"), None);
    }

    #[test]
    fn syntax_errors_carry_a_location() {
        let err = parse_located("a: [1, 2\nb: 3\n").expect_err("unclosed flow sequence");
        assert!(err.loc.is_some(), "{err:?}");
        let err = parse_located("a:\n\tb: 1\n").expect_err("tab indentation");
        assert!(err.loc.is_some(), "{err:?}");
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = (b'a' + i - 1) as char;
            let cur = (b'a' + i) as char;
            bomb.push_str(&format!(
                "{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        assert!(parse_located(&bomb).is_err());
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(parse_located(&deep).is_err());
    }

    #[test]
    fn emitted_yaml_round_trips() {
        let value = serde_json::json!({
            "kind": "ConfigMap",
            "data": {
                "SOUL.md": "# Soul\n\n---\nkind: ClusterRoleBinding\n  indented\ttab\n",
                "no-newline": "line one\nline two",
                "quoted": "yes",
                "leading": "  spaced\nnext\n\n\n",
                "long": "x ".repeat(200),
            }
        });
        let text = to_yaml(&value).expect("emits");
        let back = parse_documents(&text).expect("parses back");
        assert_eq!(back, vec![value], "{text}");
    }
}
