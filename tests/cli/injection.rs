//! Hostile text in a fleet file stays text: it can neither add, split nor reshape a
//! rendered document, and comes out byte for byte as written.

use clawctl::yaml::parse_documents;
use serde_json::Value;

use crate::harness::Test;

/// Every trick that breaks naive YAML templating, in one string.
fn evil() -> String {
    let long = "x".repeat(5000);
    format!(
        "---\nkind: ClusterRoleBinding\nmetadata: {{name: pwned}}\n...\n{{{{ agent.name }}}} {{% if true %}}\n\
         \"double\" 'single' \\backslash\\ \ttab\there\n: colon-led\n- dash-led\n# hash\n  leading spaces\n\
         unicode: héllo ✓ 日本語 \u{200b}zero-width\n{long}\ntrailing spaces   \n\n"
    )
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("json string")
}

fn fleet(text: &str) -> String {
    let q = quoted(text);
    format!(
        r#"apiVersion: clawctl.io/v1alpha1
kind: Fleet
metadata: {{name: inj}}
spec:
  image: ghcr.io/openclaw/openclaw:2026.4.14
  defaults: {{model: {{primary: anthropic/claude-sonnet-4-20250514}}}}
  teams: [{{name: crew}}]
  agents:
    - name: eve
      user: {{slack: {q}}}
      soulInline: {q}
      env: {{NOTE: {q}}}
      workspace:
        USER.md: {{inline: {q}, mode: seed}}
      config: {{ui: {{banner: {q}}}}}
"#
    )
}

#[test]
fn hostile_text_renders_into_exactly_the_expected_objects() {
    let text = evil();
    let out = Test::new()
        .file("f.yaml", &fleet(&text))
        .args(&["render", "f.yaml"])
        .success()
        .stdout;
    let plain = Test::new()
        .file("f.yaml", &fleet("plain"))
        .args(&["render", "f.yaml"])
        .success()
        .stdout;
    let docs = parse_documents(&out).expect("parses");
    let plain_docs = parse_documents(&plain).expect("parses");
    let ids = |d: &[Value]| -> Vec<(String, String)> {
        d.iter()
            .map(|d| {
                (
                    d["kind"].as_str().unwrap_or("").to_string(),
                    d["metadata"]["name"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        ids(&docs),
        ids(&plain_docs),
        "the same objects, no more, no fewer"
    );
    assert!(
        !out.contains("\nkind: ClusterRoleBinding"),
        "no document may start with the injected kind"
    );

    let cm = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "agent-eve")
        .expect("configmap");
    assert_eq!(
        cm["data"]["SOUL.md"].as_str(),
        Some(text.as_str()),
        "soul intact"
    );
    assert_eq!(
        cm["data"]["USER.md"].as_str(),
        Some(text.as_str()),
        "workspace file intact"
    );
    let config: Value = serde_json::from_str(cm["data"]["openclaw.json"].as_str().expect("json"))
        .expect("openclaw.json");
    assert_eq!(
        config["ui"]["banner"].as_str(),
        Some(text.as_str()),
        "config value intact"
    );

    let deploy = docs
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("deployment");
    let env = deploy["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env");
    let note = env.iter().find(|e| e["name"] == "NOTE").expect("NOTE");
    assert_eq!(
        note["value"].as_str(),
        Some(text.as_str()),
        "env value intact"
    );

    let routes = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "inj-routes")
        .expect("routes");
    let table: Value = serde_json::from_str(routes["data"]["routes.json"].as_str().expect("json"))
        .expect("routes.json");
    let key = format!("slack:{text}");
    assert_eq!(
        table[key.as_str()]["address"],
        "agent-eve.crew.svc.cluster.local:18789",
        "user id intact as a routing key"
    );
}

#[test]
fn template_syntax_in_values_is_never_evaluated() {
    let out = Test::new()
        .file(
            "f.yaml",
            &fleet("{{ fleet.image }}{% for x in [1] %}loop{% endfor %}"),
        )
        .args(&["render", "f.yaml"])
        .success()
        .stdout;
    let docs = parse_documents(&out).expect("parses");
    let cm = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "agent-eve" && d["kind"] == "ConfigMap")
        .expect("cm");
    assert_eq!(
        cm["data"]["SOUL.md"],
        "{{ fleet.image }}{% for x in [1] %}loop{% endfor %}"
    );
}
