//! The fleet files scenarios apply: teams in namespaces a platform team made beforehand
//! (adopted through `adoptNamespaces`), every agent's gateway token from the Secret
//! [`GATEWAY_SECRET`] there (validate refuses a token in `env`), each agent its own soul.

use crate::harness::backend::Backend;

/// `fleet_text` with a router (`spec.routing.router`) of `router`, the inside of a flow
/// mapping (`image: ..., http: {...}`), before its `defaults`.
pub(crate) fn with_router(fleet_text: &str, router: &str) -> String {
    let routed = fleet_text.replacen(
        "  defaults:",
        &format!("  routing:\n    router: {{{router}}}\n  defaults:"),
        1,
    );
    assert_ne!(routed, fleet_text, "no defaults to put the router before");
    routed
}

/// The Secret a platform team puts in each team namespace before the first apply; every
/// agent loads its gateway token from it (`secrets`).
pub(crate) const GATEWAY_SECRET: &str = "gateway";
/// The gateway token in it: distinctive, so a test can look for it in clawctl's output.
pub(crate) const GATEWAY_TOKEN: &str = "e2e-gateway-token-never-printed";

impl Backend {
    /// A fleet of one team ("core") with these agents.
    pub(crate) fn fleet(&self, agents: &[&str], image: &str) -> String {
        let agents: Vec<(&str, &str)> = agents.iter().map(|a| (*a, "core")).collect();
        self.fleet_with(image, &["core"], &agents)
    }

    /// A fleet with `teams`, and `agents` as (name, team). Each team namespace is made
    /// beforehand by the platform team ([`Backend::platform_namespace`]) and adopted by
    /// the fleet.
    pub(crate) fn fleet_with(
        &self,
        image: &str,
        teams: &[&str],
        agents: &[(&str, &str)],
    ) -> String {
        let teams: Vec<(String, String)> =
            teams.iter().map(|t| (t.to_string(), self.ns(t))).collect();
        self.fleet_named(&self.fleet, &self.fleet_ns, image, &teams, agents)
    }

    /// [`Backend::fleet_with`] for any fleet name and fleet namespace, `teams` as (name,
    /// namespace). A second fleet of the same test names itself after [`Backend::fleet`]
    /// and registers its namespaces with [`Backend::made`] so they are deleted too.
    pub(crate) fn fleet_named(
        &self,
        name: &str,
        fleet_ns: &str,
        image: &str,
        teams: &[(String, String)],
        agents: &[(&str, &str)],
    ) -> String {
        for (_, ns) in teams {
            self.platform_namespace(ns);
        }
        let adopt: Vec<&str> = teams.iter().map(|(_, ns)| ns.as_str()).collect();
        let teams: Vec<String> = teams
            .iter()
            .map(|(t, ns)| format!("{{name: {t}, namespace: {ns}}}"))
            .collect();
        // An image whose tag does not name an OpenClaw release (a digest, a test image)
        // says which release's config to render, as a user would.
        let version = clawctl::openclaw::image_tag(image)
            .and_then(clawctl::openclaw::Version::parse)
            .map_or_else(
                || "\n  openclawVersion: 2026.4.14".to_string(),
                |_| String::new(),
            );
        let mut text = format!(
            "apiVersion: clawctl.io/v1alpha1\nkind: Fleet\nmetadata: {{name: {name}, namespace: {fleet_ns}}}\nspec:\n  \
             image: {image}{version}\n  adoptNamespaces: [{}]\n  defaults:\n    \
             model: {{primary: anthropic/claude-sonnet-4-20250514}}\n    secrets: [{GATEWAY_SECRET}]\n  \
             teams: [{}]\n  agents:\n",
            adopt.join(", "),
            teams.join(", ")
        );
        for (agent, team) in agents {
            text.push_str(&format!(
                "    - {{name: {agent}, team: {team}, soulInline: \"You are {agent}.\"}}\n"
            ));
        }
        text
    }
}
