//! Differential tests: the fast parser against serde-saphyr, and the emitter's output
//! read back by both.

use std::path::{Path, PathBuf};

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

/// Emits `value` and reads it back with both parsers.
fn round_trip(value: &Value) {
    let text = to_yaml(value).expect("emits");
    assert_eq!(
        parse_documents_saphyr(&text).expect("serde-saphyr reads emitted YAML"),
        vec![value.clone()],
        "serde-saphyr read back something else from {text:?}"
    );
    if emit::to_yaml(value).is_some() {
        assert_eq!(
            fast::parse_documents(&text),
            Some(vec![value.clone()]),
            "the fast parser read back something else from {text:?}"
        );
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn golden_files() -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(root().join("tests/golden"))
        .expect("tests/golden")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("golden file");
            (p, text)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no golden files");
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

/// A small deterministic pseudo-random generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

#[test]
fn random_plain_scalars_agree() {
    let alphabet = [
        'a', 'e', 'E', 'y', 'n', 'o', 'N', 'u', 'l', 'i', 'f', 'M', 'G', 'm', '0', '1', '9', '-',
        '.', '_', '/', ':', '~', ' ', '+', 'x', '#',
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut handled = 0;
    for _ in 0..4000 {
        let len = 1 + rng.below(6);
        let token: String = (0..len).map(|_| rng.pick(&alphabet)).collect();
        for text in [
            format!("k: {token}\n"),
            format!("k: [{token}, {token}]\n"),
            format!("k: {{a: {token}}}\n"),
            format!("{token}: v\n"),
            format!("- {token}\n"),
        ] {
            handled += usize::from(agree(&text));
        }
    }
    assert!(handled > 1000, "only {handled} handled");
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

#[test]
fn random_strings_round_trip() {
    let alphabet = [
        'a', 'y', 'e', '0', '1', '.', ' ', ' ', '\n', '\n', ':', '#', '-', '"', '\'', '\t', 'é',
        '|', '{', '\\', '\r', '😀', '\u{2028}', '\u{85}', '\u{7f}', '~', '/', '!', '&',
    ];
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for _ in 0..3000 {
        let len = rng.below(12);
        let s: String = (0..len).map(|_| rng.pick(&alphabet)).collect();
        round_trip(&json!({"k": s, "l": [s, {"m": s}], s.as_str(): 1}));
    }
}

#[test]
fn mutated_documents_agree() {
    let mut docs: Vec<String> = golden_files()
        .iter()
        .flat_map(|(_, text)| split_documents(text))
        .collect();
    docs.extend(TEMPLATE_SHAPED.iter().map(|s| s.to_string()));
    let pieces = [
        " ", "  ", "\n", "\n  ", "-", "- ", ":", ": ", "#", "\"", "'", "\t", "|", "|-", "|2", ">",
        "{", "}", "[", "]", ",", "&a ", "*a", "!", "?", "~", "0", "1.5", "yes", "null", "---\n",
        "\\", "\\u", "é", "\u{2028}",
    ];
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut handled = 0;
    for doc in &docs {
        for _ in 0..6 {
            let mut text = doc.clone();
            for _ in 0..1 + rng.below(2) {
                let mut at = rng.below(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                match rng.below(3) {
                    0 => text.insert_str(at, rng.pick(&pieces)),
                    1 => {
                        let mut end = (at + 1 + rng.below(3)).min(text.len());
                        while !text.is_char_boundary(end) {
                            end += 1;
                        }
                        text.replace_range(at..end, "");
                    }
                    _ => {
                        let mut end = (at + 1).min(text.len());
                        while !text.is_char_boundary(end) {
                            end += 1;
                        }
                        text.replace_range(at..end, rng.pick(&pieces));
                    }
                }
            }
            handled += usize::from(agree(&text));
        }
    }
    assert!(handled > 100, "only {handled} mutations handled");
}
