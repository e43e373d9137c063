//! The book's list of template values (docs/src/templates.md), generated from the typed
//! contexts' schemas: a test fails when the page and the types differ.

use serde_json::Value;

use super::context::template_context_schemas;

const BEGIN: &str = "<!-- template values: generated from src/render/context/, do not edit -->";
const END: &str = "<!-- end of template values -->";

/// Every context as a Markdown section: one table row per key, in declaration order.
pub fn markdown() -> String {
    let mut out = String::new();
    for (name, schema) in template_context_schemas() {
        let schema = schema.to_value();
        out.push_str(&format!(
            "\n### `{name}`\n\n| key | type | what it holds |\n|---|---|---|\n"
        ));
        let properties = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (key, property) in &properties {
            let what = property["description"].as_str().unwrap_or("");
            out.push_str(&format!(
                "| `{key}` | {} | {} |\n",
                type_of(property),
                what.replace('\n', " ").replace('|', "\\|")
            ));
        }
    }
    out
}

/// A short type: `string`, `list`, `map`, `bool`, `integer`, `... or null`, or
/// `fragment` (a Kubernetes fragment placed whole).
fn type_of(property: &Value) -> String {
    let one = |t: &str| {
        match t {
            "array" => "list",
            "object" => "map",
            "boolean" => "bool",
            other => other,
        }
        .to_string()
    };
    match &property["type"] {
        Value::String(t) => one(t),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" or "),
        _ if property.get("$ref").is_some() => "map".to_string(),
        _ if property.get("anyOf").is_some() => "map or null".to_string(),
        _ => "fragment".to_string(),
    }
}

/// `page` with the generated part replaced by `generated`, or None without markers.
pub fn splice(page: &str, generated: &str) -> Option<String> {
    let start = page.find(BEGIN)? + BEGIN.len();
    let end = page.find(END)?;
    (start <= end).then(|| format!("{}\n{generated}\n{}", &page[..start], &page[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `CLAWCTL_UPDATE_GOLDEN=1 cargo test --lib templates_page` rewrites the page.
    #[test]
    fn the_templates_page_lists_every_value_the_templates_see() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/src/templates.md");
        let page = std::fs::read_to_string(path).expect("docs/src/templates.md");
        let generated = markdown();
        let want = splice(&page, &generated).expect("the page has the generated-part markers");
        if std::env::var_os("CLAWCTL_UPDATE_GOLDEN").is_some() {
            std::fs::write(path, &want).expect("write the page");
            return;
        }
        if want != page {
            let diff = similar::TextDiff::from_lines(&page, &want);
            panic!(
                "docs/src/templates.md is stale; regenerate with \
                 CLAWCTL_UPDATE_GOLDEN=1 cargo test --lib templates_page\n{}",
                diff.unified_diff()
                    .header("docs/src/templates.md", "generated")
            );
        }
        // Every key of every context is on the page: 60 and more rows.
        let rows = generated.lines().filter(|l| l.starts_with("| `")).count();
        assert!(rows >= 60, "{rows} rows:\n{generated}");
        for key in [
            "configHash",
            "knowledgePush",
            "routesJson",
            "servicePorts",
            "teamRules",
        ] {
            assert!(generated.contains(&format!("| `{key}` |")), "{key} missing");
        }
    }
}
