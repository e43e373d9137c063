//! The fleet file reference in the book (`docs/src/reference.md`) is generated here from
//! the JSON Schema that `clawctl schema` prints, so field docs have one source: the `///`
//! comments of `src/fleet/model.rs`. The test regenerates the page and fails with a
//! unified diff when the checked-in one differs; `CLAWCTL_UPDATE_GOLDEN=1` rewrites it.
//! It stays a plain file rather than an insta snapshot (as tests/golden/ are): mdBook
//! includes it as it is, and a snapshot's header would show in the book.

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;

use crate::harness::{Test, golden_file};

#[test]
fn the_book_s_fleet_reference_is_the_schema() {
    let out = Test::new().args(&["schema"]).success();
    let schema: Value = serde_json::from_str(&out.stdout).expect("clawctl schema prints JSON");
    let page = reference(&schema);
    // Every type of the schema has its section, and every property its row: a type the
    // walk below missed would leave fields undocumented.
    let defs = schema["$defs"].as_object().expect("$defs");
    assert!(defs.len() > 50, "only {} types in the schema", defs.len());
    for name in defs.keys() {
        assert!(
            page.contains(&format!("\n## {name}\n")),
            "{name} has no section"
        );
    }
    let rows = page.lines().filter(|l| l.starts_with("| `")).count();
    let properties: usize = std::iter::once(&schema)
        .chain(defs.values())
        .map(|d| d["properties"].as_object().map_or(0, |p| p.len()))
        .sum();
    assert_eq!(rows, properties, "one table row per property");
    golden_file("docs/src/reference.md", &page);
}

/// Where settings are written: paths below these are shown under `<layer>`.
const LAYERS: [&str; 4] = [
    "spec.defaults",
    "spec.teams[].defaults",
    "spec.agents[]",
    "spec.agents[].agents[]",
];

/// The reference page: the fleet, then every type in the order a reader meets it.
fn reference(schema: &Value) -> String {
    let defs = schema["$defs"].as_object().expect("$defs");
    let mut out = String::from(
        "# Fleet file reference\n\n\
         <!-- Generated from `clawctl schema` by tests/cli/reference.rs; do not edit. Rewrite it \
         with: CLAWCTL_UPDATE_GOLDEN=1 cargo test --test cli reference -->\n\n\
         Every field of the fleet file, generated from the JSON Schema that `clawctl schema` \
         prints (the same text editors show through yaml-language-server). Each section is one \
         type: where it appears, then its fields. `[]` in a path is any item of a list, \
         `<name>` any key of a map. `<layer>` stands for each place settings are written, \
         which merge in this order: `spec.defaults`, `spec.teams[].defaults`, then \
         `spec.agents[]` (an agent's own settings) and, for the fields a hosted agent has, \
         `spec.agents[].agents[]`. Rules that span fields (limits within \
         `policy.maxResources`, names that must exist) are checked by `clawctl validate`; \
         [The fleet file](fleet-file.md) explains them.\n",
    );
    let paths = paths(schema, defs);
    out.push_str("\n## Fleet\n\n");
    out.push_str(&text(schema["description"].as_str().unwrap_or_default()));
    out.push_str("\n\nAt: the top of the file.\n\n");
    out.push_str(&fields(schema));
    for name in order(schema, defs) {
        let def = &defs[&name];
        out.push_str(&format!("\n## {name}\n\n"));
        if let Some(description) = def["description"].as_str() {
            out.push_str(&text(description));
            out.push_str("\n\n");
        }
        let at = paths.get(&name).map(|p| {
            p.iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        });
        out.push_str(&format!("At: {}.\n\n", at.expect("every type is reached")));
        if def.get("properties").is_some() {
            out.push_str(&fields(def));
        } else if let Some(values) = def["oneOf"].as_array() {
            for value in values {
                out.push_str(&format!(
                    "- `{}`: {}\n",
                    value["const"].as_str().expect("a oneOf of constants"),
                    text(value["description"].as_str().unwrap_or_default())
                ));
            }
        } else {
            out.push_str(&format!("Type: {}.\n", type_of(def)));
        }
    }
    out
}

/// A type's fields as a table.
fn fields(def: &Value) -> String {
    let required: Vec<&str> = def["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = String::from("| field | type | default | description |\n|---|---|---|---|\n");
    for (name, property) in def["properties"].as_object().expect("properties") {
        let name = if required.contains(&name.as_str()) {
            format!("`{name}` (required)")
        } else {
            format!("`{name}`")
        };
        let default = property
            .get("default")
            .map(|d| format!("`{d}`"))
            .unwrap_or_default();
        let description = text(property["description"].as_str().unwrap_or_default());
        out.push_str(&format!(
            "| {name} | {} | {} | {description} |\n",
            cell(&type_of(property)),
            cell(&default)
        ));
    }
    out
}

/// A schema node's type in words, with links to the sections of named types.
fn type_of(node: &Value) -> String {
    if let Some(reference) = node["$ref"].as_str() {
        let name = reference.rsplit('/').next().expect("a name");
        return format!("[{name}](#{})", name.to_lowercase());
    }
    if let Some(options) = node["anyOf"].as_array() {
        return options
            .iter()
            .filter(|o| o["type"] != "null")
            .map(type_of)
            .collect::<Vec<_>>()
            .join(" or ");
    }
    if let Some(values) = node["enum"].as_array() {
        return values
            .iter()
            .map(|v| format!("`{}`", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(" | ");
    }
    let types: Vec<&str> = match &node["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    };
    let mut words = Vec::new();
    for t in types {
        words.push(match t {
            "array" => format!("list of {}", type_of(&node["items"])),
            "object" => match &node["additionalProperties"] {
                Value::Object(_) => format!("map of {}", type_of(&node["additionalProperties"])),
                _ => "object".to_string(),
            },
            "string" => match node["pattern"].as_str() {
                Some(pattern) => format!("string matching `{pattern}`"),
                None => "string".to_string(),
            },
            other => other.to_string(),
        });
    }
    if words.is_empty() {
        "any".to_string()
    } else {
        words.join(" or ")
    }
}

/// Named types a node refers to, with the path step to each (`[]` an item, `.<name>` a
/// map entry).
fn refs<'a>(node: &'a Value, step: &str, out: &mut Vec<(String, &'a str)>) {
    if let Some(reference) = node["$ref"].as_str() {
        out.push((
            step.to_string(),
            reference.rsplit('/').next().expect("a name"),
        ));
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for option in node[key].as_array().into_iter().flatten() {
            refs(option, step, out);
        }
    }
    if node["items"].is_object() {
        refs(&node["items"], &format!("{step}[]"), out);
    }
    if node["additionalProperties"].is_object() {
        refs(
            &node["additionalProperties"],
            &format!("{step}.<name>"),
            out,
        );
    }
}

/// Every path at which each named type appears (settings' below `<layer>`), in the order
/// of the schema's properties.
fn paths(schema: &Value, defs: &serde_json::Map<String, Value>) -> BTreeMap<String, Vec<String>> {
    fn walk(
        node: &Value,
        path: &str,
        stack: &mut Vec<String>,
        defs: &serde_json::Map<String, Value>,
        out: &mut BTreeMap<String, Vec<String>>,
    ) {
        for (field, property) in node["properties"].as_object().into_iter().flatten() {
            let here = if path.is_empty() {
                field.clone()
            } else {
                format!("{path}.{field}")
            };
            let mut found = Vec::new();
            refs(property, "", &mut found);
            for (step, name) in found {
                if stack.iter().any(|s| s == name) {
                    continue;
                }
                let at = format!("{here}{step}");
                let shown = LAYERS
                    .iter()
                    .filter_map(|layer| {
                        at.strip_prefix(layer)
                            .filter(|rest| rest.starts_with('.'))
                            .map(|rest| format!("<layer>{rest}"))
                    })
                    .next_back()
                    .unwrap_or_else(|| at.clone());
                let list = out.entry(name.to_string()).or_default();
                if !list.contains(&shown) {
                    list.push(shown);
                }
                stack.push(name.to_string());
                walk(&defs[name], &at, stack, defs, out);
                stack.pop();
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(schema, "", &mut Vec::new(), defs, &mut out);
    out
}

/// Named types breadth first from the top of the file, each once.
fn order(schema: &Value, defs: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut queue: VecDeque<&Value> = VecDeque::from([schema]);
    while let Some(node) = queue.pop_front() {
        let mut found = Vec::new();
        for property in node["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, p)| p)
        {
            refs(property, "", &mut found);
        }
        refs(node, "", &mut found);
        for (_, name) in found {
            if !seen.iter().any(|s| s == name) {
                seen.push(name.to_string());
                queue.push_back(&defs[name]);
            }
        }
    }
    seen
}

/// Doc text on one line, safe in a table cell and outside code spans (`<x>` would be HTML).
fn text(doc: &str) -> String {
    cell(&doc.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn cell(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            let part = part.replace('|', "\\|");
            if i % 2 == 0 {
                part.replace('<', "&lt;")
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}
