//! Differential tests: the fast parser against serde-saphyr, and the emitter's output
//! read back by both, on fixed inputs and on random ones (proptest, which shrinks a
//! failing input before reporting it).

use std::cell::Cell;
use std::path::{Path, PathBuf};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use serde_json::{Value, json};

use super::{emit, fast, parse_documents_saphyr, tests::SEEN, to_yaml};

/// Checks that the fast parser, when it handles `text`, gives serde-saphyr's result.
/// Returns whether it handled it.
fn agree(text: &str) -> bool {
    match fast::parse_documents(text) {
        Some(docs) => {
            assert_eq!(
                Ok(docs),
                parse_documents_saphyr(text),
                "fast parse differs from serde-saphyr for {text:?}"
            );
            true
        }
        None => false,
    }
}

/// Emits `value` and reads it back with both parsers. The fast parser may decline what
/// is not a mapping with entries (it reads block collections only), but must read back
/// every such mapping our emitter writes: rendered documents are those.
fn round_trip(value: &Value) {
    let text = to_yaml(value).expect("emits");
    assert_eq!(
        parse_documents_saphyr(&text).expect("serde-saphyr reads emitted YAML"),
        vec![value.clone()],
        "serde-saphyr read back something else from {text:?}"
    );
    let fast = fast::parse_documents(&text);
    let must_read =
        emit::to_yaml(value).is_some() && value.as_object().is_some_and(|m| !m.is_empty());
    if fast.is_some() || must_read {
        assert_eq!(
            fast,
            Some(vec![value.clone()]),
            "the fast parser read back something else from {text:?}"
        );
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The golden renders (`tests/golden/*.snap`, insta snapshots): each file's text after
/// insta's header.
fn golden_files() -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(root().join("tests/golden"))
        .expect("tests/golden")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "snap"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("golden file");
            let body = text
                .strip_prefix("---\n")
                .and_then(|t| t.split_once("\n---\n"))
                .map(|(_header, body)| body.to_string())
                .unwrap_or_else(|| panic!("{} has no insta header", p.display()));
            (p, body)
        })
        .collect();
    files.sort();
    assert!(files.len() >= 5, "only {} golden files", files.len());
    files
}

/// The documents of a stream as separate texts.
fn split_documents(text: &str) -> Vec<String> {
    text.split("\n---\n")
        .map(|d| format!("{}\n", d.trim_start_matches("---\n").trim_end_matches('\n')))
        .filter(|d| !d.trim().is_empty())
        .collect()
}

#[test]
fn golden_documents_take_the_fast_path_and_round_trip() {
    for (path, text) in golden_files() {
        let docs = fast::parse_documents(&text)
            .unwrap_or_else(|| panic!("the fast parser falls back on {}", path.display()));
        assert_eq!(Ok(docs.clone()), parse_documents_saphyr(&text), "{path:?}");
        assert!(docs.len() > 5, "{path:?}");
        for doc in split_documents(&text) {
            assert!(agree(&doc), "the fast parser falls back on {doc}");
        }
        for value in &docs {
            round_trip(value);
        }
    }
}

#[test]
fn rendered_templates_take_the_fast_path() {
    SEEN.with(|s| s.borrow_mut().clear());
    let fleets = root().join("fleets");
    let mut paths = vec![fleets.join("starter/fleet.yaml")];
    for entry in std::fs::read_dir(&fleets).expect("fleets") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            paths.push(path);
        }
    }
    let mut rendered = 0;
    for path in paths.iter().filter(|p| p.exists()) {
        let (_, fleet) = crate::ops::load(path).unwrap_or_else(|e| panic!("{path:?}: {e:?}"));
        let manifests = crate::render::render(
            &fleet,
            &crate::render::Templates::builtin(),
            &crate::render::Filter::default(),
        )
        .unwrap_or_else(|e| panic!("{path:?}: {e:#}"));
        rendered += manifests.len();
        for m in &manifests {
            round_trip(&m.value);
        }
    }
    assert!(rendered > 20, "rendered only {rendered} objects");
    let seen = SEEN.with(|s| s.take());
    assert!(!seen.is_empty());
    for (text, handled) in &seen {
        assert!(handled, "the fast parser falls back on rendered {text}");
        assert!(agree(text));
    }
}

/// Documents shaped like rendered templates: the fast parser must handle them.
const TEMPLATE_SHAPED: &[&str] = &[
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"a\"\n  labels: {\"a.io/b\":\"c\",\"d\":\"e\"}\ndata: {\"x.md\":\"# X\\n\\nline\\n\",\"j\":\"{\\\"a\\\": [1, 2]}\\n\"}",
    "\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nrules: [{\"apiGroups\":[\"\"],\"resources\":[\"pods\",\"pods/log\"],\"verbs\":[\"get\"]}]\n---\nkind: RoleBinding\nsubjects:\n  - kind: ServiceAccount\n    name: \"a\"\n",
    "spec:\n  template:\n    spec:\n      initContainers:\n        - name: workspace\n          command: [\"/bin/sh\", \"-c\", \"set -eu\\nx=\\\"$y\\\"\\n\"]\n          resources:\n            requests: {cpu: 10m, memory: 32Mi}\n          volumeMounts:\n            - {name: state, mountPath: \"/home/node\"}\n            - {name: config, mountPath: /clawctl, readOnly: true}\n      volumes:\n        - name: tmp\n          emptyDir: {}\n        - name: config\n          configMap:\n            items: [{\"key\":\"a\",\"path\":\"b\"}]\n",
    "spec:\n  ports:\n    - name: gateway\n      port: 18789\n      targetPort: gateway\n      protocol: TCP\n  ingress: []\n  egress: [{\"ports\":[{\"port\":53,\"protocol\":\"UDP\"}],\"to\":[]}]\n  storageClassName: \"local-path\"",
    "a:\n- x\n- z\nb: 1\n",
    "- a: 1\n  b:\n  - x\n  - {c: d}\n- - e\n  - f\n- g\n",
    "a: |\n  x\n\n  y\nb: |-\n  z\nc: |+\n  w\n\n\nd:\n- |2\n   lead\n  x\n",
    "k: [1, -2, 0, 3.5, -0.25, 1e3, 2.5E-3, true, false, null, ~, \"s\"]\nl: \nm:\n",
    "a: \"\\u00e9\\u0000\\/\\b\\f\\r\\t\\\"\\\\\"\nb: \"日本語 😀\"\n",
    "---\n---\na: 1\n---\n\n---\nb: 2\n",
    "",
    "\n  \n",
];

/// Anything: the fast parser may decline, but must agree with serde-saphyr when it
/// does not.
const TRICKY: &[&str] = &[
    "a: yes\nb: Yes\nc: no\nd: on\ne: off\nf: y\ng: n\nh: Y\n",
    "a: TRUE\nb: True\nc: False\nd: NULL\ne: Null\nf: ~\ng:\n",
    "a: 0x1f\nb: 0o17\nc: 0b11\nd: 1_000\ne: 007\nf: -0\ng: +1\nh: 1:20\n",
    "a: .inf\nb: -.inf\nc: .nan\nd: inf\ne: nan\nf: Infinity\ng: .5\nh: 1.\n",
    "a: 9223372036854775807\nb: 9223372036854775808\nc: -9223372036854775808\nd: -9223372036854775809\n",
    "a: 18446744073709551616\nb: 1e999\nc: 1e-999\nd: 00.5\n",
    "a: 10m\nb: 1Gi\nc: 1e\nd: 1E3\ne: 1d\nf: 2026.4.14\ng: 1.5Gi\n",
    "a: a:b\na:b: c\nc: http://x.y/z:1\nd: ghcr.io/o/o:2026.4.14\ne: a::b\n",
    "a: 'single'\nb: \"x\" # comment\nc: x #c\nd: x#c\ne: x y\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\nb: !foo x\n",
    "a: >\n  folded\n  text\n",
    "? a\n: b\n",
    "a: 1\na: 2\n",
    "a: {x: 1, x: 2}\n",
    "a:\n\tb: 1\n",
    "a: \"tab\there\"\n",
    "a: |\n  tab\there\n  \tlead\n",
    "--- a: 1\n",
    "---\na: 1\n...\n---\nb: 2\n",
    "%YAML 1.2\n---\na: 1\n",
    "a: b\n  c\n",
    "a:\n  b: 1\n c: 2\n",
    "a:\n    b: 1\n  c: 2\n",
    "-\n  a: 1\n-\n- b\n",
    "a: [x, y, ]\nb: {x: 1,}\n",
    "a: {x}\n",
    "a: {x: }\n",
    "a: {\"x\":1, \"y\" : 2}\n",
    "a: {x:1}\n",
    "a: [a: b]\n",
    "a: [\"a\": b]\n",
    "{a: 1}\n",
    "[a, b]\n",
    "- a\n- b\n",
    "plain\n",
    "\"quoted\"\n",
    "a: |2\n   x\n",
    "- |2\n   x\n",
    "- k: |2\n     x\n",
    "a:\n- |1\n  x\n",
    "a: |\n\n  x\n",
    "a: |\n    \n  x\n",
    "a: |\n  x\n   \n  y\n",
    "a: |\n  x\n  \n",
    "a: |\n  x",
    "a: |\n  x\n  ",
    "a: |\n  x\n\ty\n",
    "a: |\nb: 1\n",
    "a: |-2\n   x\n",
    "a: |+\n  x\n",
    "a: |+\n  x\n\n  \n",
    "a: | # c\n  x\n",
    "a: \"\\x41\"\n",
    "a: \"\\ud83d\\ude00\"\n",
    "a: \"\\q\"\n",
    "a: \"x\n",
    "a: [1, 2\n",
    "a: \"\u{85}\"\nb: \"\u{2028}\"\n",
    "\u{FEFF}a: 1\n",
    "a: 1\r\nb: 2\r\n",
    "a: -\n",
    "a: - b\n",
    "- - - a\n",
    "a: --x\nb: /x\nc: _x\nd: .x\ne: -x\n",
    "true: 1\n",
    "1: a\n",
    "null: a\n",
    "y: 1\n",
    "\"a\": 1\n\"b\" : 2\n",
    "a : 1\n",
    "a:  1   \nb:   \"x\"  \n",
    "a: {b: {c: [{d: e}, [f, [g]]]}}\n",
    "a: [\"\", {}, [], {\"\":\"\"}]\n",
    "a:b\n",
    "a: \"x\": y\n",
    "a: {\"b\":c}\n",
    "a: {b: c d}\n",
    "a: {b: \"c\" d}\n",
    "a: [b c]\n",
    "a: {b: c}, d\n",
    "a: \"x\"\"y\"\n",
    "a:\n  - b\n  c: d\n",
    "- a\nb: c\n",
    "a: 1\n b: 2\n",
    "    a: 1\n",
    "a:\n  - x\n - y\n",
];

#[test]
fn template_shaped_documents_take_the_fast_path() {
    for text in TEMPLATE_SHAPED {
        assert!(agree(text), "the fast parser falls back on {text:?}");
    }
}

#[test]
fn tricky_documents_agree() {
    for text in TRICKY {
        agree(text);
        for line in text.lines() {
            agree(&format!("{line}\n"));
        }
    }
    // Nesting around the depth limits.
    for depth in [20, 30, 40] {
        agree(&format!("a: {}1{}\n", "[".repeat(depth), "]".repeat(depth)));
        let mut block = String::new();
        for i in 0..depth {
            block.push_str(&" ".repeat(2 * i));
            block.push_str("k:\n");
        }
        agree(&block);
    }
    // Keys around the implicit-key length limit.
    for len in [500, 1100] {
        let key = "k".repeat(len);
        agree(&format!("{key}: 1\n\"{key}\": 2\nm: {{\"{key}\": 3}}\n"));
    }
}

/// Characters of plain scalars that resolve to something else (booleans, numbers,
/// null, quantities, tags) or end a scalar early.
const SCALAR_CHARS: &[char] = &[
    'a', 'e', 'E', 'y', 'n', 'o', 'N', 'u', 'l', 'i', 'f', 'M', 'G', 'm', '0', '1', '9', '-', '.',
    '_', '/', ':', '~', ' ', '+', 'x', '#',
];

/// YAML indicators a plain scalar may not start with, or that end it inside flow
/// collections.
const INDICATOR_CHARS: &[char] = &[
    ',', '[', ']', '{', '}', '&', '*', '!', '%', '@', '`', '|', '>', '?', '\'', '"', '\t', '=',
];

/// Runs `test` on `cases` inputs drawn from `strategy`. A failing input is shrunk to a
/// small one and reported; its seed is kept in `differential.regressions` next to this
/// file (commit it), which later runs replay first.
fn check<S>(cases: u32, strategy: S, test: impl Fn(S::Value))
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    };
    let result = TestRunner::new(config).run(&strategy, |value| {
        test(value);
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Strings of 1 to `max` characters from `chars`, mostly, else from `chars` and
/// [`INDICATOR_CHARS`].
fn token(chars: &'static [char], max: usize) -> impl Strategy<Value = String> {
    let wide: Vec<char> = chars.iter().chain(INDICATOR_CHARS).copied().collect();
    prop_oneof![
        4 => vec(select(chars), 1..=max),
        1 => vec(select(wide), 1..=max),
    ]
    .prop_map(|chars| chars.into_iter().collect())
}

#[test]
fn random_plain_scalars_agree() {
    let handled = Cell::new(0usize);
    let texts = Cell::new(0usize);
    check(2500, token(SCALAR_CHARS, 6), |token| {
        for text in [
            format!("k: {token}\n"),
            format!("k: [{token}, {token}]\n"),
            format!("k: {{a: {token}}}\n"),
            format!("{token}: v\n"),
            format!("- {token}\n"),
            format!("k:\n  - {token}\n  - x\n"),
            format!("k:\n  {token}: v\n"),
        ] {
            handled.set(handled.get() + usize::from(agree(&text)));
            texts.set(texts.get() + 1);
        }
    });
    // The fast path must be exercised, not only the fallback.
    assert!(
        handled.get() > texts.get() / 10,
        "only {} of {} handled",
        handled.get(),
        texts.get()
    );
}

/// Strings that are hard to write as YAML.
const HOSTILE: &[&str] = &[
    "",
    " ",
    "---",
    "--- a",
    "...",
    "a: b",
    "a:b",
    "a #b",
    "#",
    "- a",
    "-",
    "?",
    "'",
    "\"",
    "\\",
    "|",
    ">",
    "&a",
    "*a",
    "!a",
    "%a",
    "@a",
    "`a",
    "{a}",
    "[a]",
    ",",
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "N",
    "true",
    "False",
    "null",
    "~",
    "1",
    "-1",
    "1.5",
    "1e3",
    "0x1f",
    "0o17",
    "017",
    ".inf",
    "-.Inf",
    ".NaN",
    "1_000",
    "1:20",
    "2001-12-14",
    "10m",
    "512Mi",
    "+1",
    "=",
    "<<",
    "tab\there",
    "\ttab first",
    "unicode: é 日本 😀",
    "\u{85}nel",
    "line\u{2028}sep",
    "\u{FEFF}bom",
    "\u{7f}del\u{1}",
    "cr\r\nlf",
    "trailing ",
    " leading",
    "a\nb",
    "a\nb\n",
    "a\nb\n\n",
    "a\nb\n\n\n",
    "\na",
    "\n\na\n",
    "\n",
    "\n\n",
    "  indented\nnext\n",
    "a\n  indented\n",
    "a\n\n\nb",
    "a\n   \nb\n",
    "a\n \n",
    "a\n\t\n",
    "a\n---\nkind: X\n",
    "a\n...\n",
    "# Soul\n\n---\nkind: ClusterRoleBinding\n  indented\ttab\n",
    "a\n#comment\n",
    "ends with spaces  \n  ",
    "x\n\u{85}y\n",
];

#[test]
fn hostile_strings_round_trip() {
    let mut values = Vec::new();
    let long_line = "word ".repeat(300);
    let mut strings: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    strings.push(long_line.clone());
    strings.push(format!("{long_line}\n{long_line}\n"));
    strings.push("k".repeat(600));
    for s in &strings {
        values.push(json!({
            "value": s,
            "list": [s, {"inner": s}, [s]],
            s.as_str(): {"k": s},
        }));
    }
    values.push(json!({
        "numbers": [0, -1, 1.5, -0.0, 1e300, 5e-324, i64::MIN, u64::MAX, 0.1],
        "empty": {"map": {}, "list": [], "string": "", "null": null},
        "nested": [[["deep"]], [[]], [{}], [{"a": [{"b": {"c": []}}]}]],
        "bools": [true, false],
    }));
    for value in &values {
        round_trip(value);
    }
}

/// Characters that are hard to write in a YAML string: indicators, line breaks and
/// other whitespace, quotes, escapes, non-ASCII.
const STRING_CHARS: &[char] = &[
    'a', 'y', 'e', '0', '1', '.', ' ', ' ', '\n', '\n', ':', '#', '-', '"', '\'', '\t', 'é', '|',
    '{', '\\', '\r', '😀', '\u{2028}', '\u{85}', '\u{7f}', '~', '/', '!', '&',
];

/// Any string: mostly short ones from [`STRING_CHARS`], else any characters.
fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => vec(select(STRING_CHARS), 0..12).prop_map(|c| c.into_iter().collect()),
        1 => vec(any::<char>(), 0..12).prop_map(|c| c.into_iter().collect()),
    ]
}

/// Any JSON value, nested up to four levels.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        any_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((any_string(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

#[test]
fn random_strings_round_trip() {
    check(2000, any_string(), |s| {
        round_trip(&json!({"k": s, "l": [s, {"m": s}], s.as_str(): 1}));
    });
}

#[test]
fn random_documents_round_trip() {
    // A document is a mapping (serde-saphyr reads a null document as none at all).
    let document = vec((any_string(), any_value()), 0..6)
        .prop_map(|entries| Value::Object(entries.into_iter().collect()));
    check(600, document, |value| round_trip(&value));
}

/// Text to insert into a document, or to put in place of one of its characters.
const PIECES: &[&str] = &[
    " ", "  ", "\n", "\n  ", "-", "- ", ":", ": ", "#", "\"", "'", "\t", "|", "|-", "|2", ">", "{",
    "}", "[", "]", ",", "&a ", "*a", "!", "?", "~", "0", "1.5", "yes", "null", "---\n", "\\",
    "\\u", "é", "\u{2028}",
];

/// One edit of a document, at a place given as a fraction of its length.
#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, &'static str),
    Delete(Index, usize),
    Replace(Index, &'static str),
}

impl Edit {
    fn any() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<Index>(), select(PIECES)).prop_map(|(at, piece)| Edit::Insert(at, piece)),
            (any::<Index>(), 1..=3usize).prop_map(|(at, len)| Edit::Delete(at, len)),
            (any::<Index>(), select(PIECES)).prop_map(|(at, piece)| Edit::Replace(at, piece)),
        ]
    }

    fn apply(&self, text: &mut String) {
        let (at, len, piece) = match self {
            Edit::Insert(at, piece) => (at, 0, *piece),
            Edit::Delete(at, len) => (at, *len, ""),
            Edit::Replace(at, piece) => (at, 1, *piece),
        };
        let mut start = at.index(text.len() + 1);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + len).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        text.replace_range(start..end, piece);
    }
}

#[test]
fn mutated_documents_agree() {
    let mut docs: Vec<String> = golden_files()
        .iter()
        .flat_map(|(_, text)| split_documents(text))
        .collect();
    docs.extend(TEMPLATE_SHAPED.iter().map(|s| s.to_string()));
    let handled = Cell::new(0usize);
    let cases = 1500;
    let mutated = (select(docs), vec(Edit::any(), 1..=3)).prop_map(|(mut text, edits)| {
        for edit in &edits {
            edit.apply(&mut text);
        }
        text
    });
    check(cases, mutated, |text| {
        handled.set(handled.get() + usize::from(agree(&text)));
    });
    // Most single edits leave a document the fast parser still reads (or declines
    // for a reason it must agree with serde-saphyr on).
    assert!(
        handled.get() > cases as usize / 10,
        "only {} of {cases} mutations handled",
        handled.get()
    );
}
