//! Warnings about a valid fleet: what will work but deserves a second look (runtime
//! tools next to Secrets, plugins the image must hold for its OpenClaw release).

use super::cx::Cx;
use super::types::ResolvedAgent;
use crate::diag::FieldPath;
use crate::openclaw::Release;

/// Runtime tools run programs that see the container's environment and files, and so
/// every Secret loaded with envFrom or mounted as a volume: worth a warning (once,
/// naming the agents) unless they are denied.
pub(super) fn runtime_tools(cx: &mut Cx, agents: &[ResolvedAgent]) {
    let has_secrets = |a: &ResolvedAgent| {
        !a.secrets.is_empty() || a.pod.volumes.values().any(|v| v.secret.is_some())
    };
    let exposed: Vec<&str> = agents
        .iter()
        .filter(|a| has_secrets(a) && !crate::openclaw::runtime_tools_denied(&a.tools.deny))
        .map(|a| a.name.as_str())
        .collect();
    if exposed.is_empty() {
        return;
    }
    let path = FieldPath::parse("spec.policy.tools.deny");
    cx.warn(
        &path,
        format!(
            "runtime tools ({}) are allowed for {} while Secrets are loaded into their environment or mounted in their files: an agent can read every Secret value with them; deny {:?} here or in the agents' tools.deny unless they need them",
            crate::openclaw::RUNTIME_TOOLS.join(", "),
            crate::diag::agents_phrase(&exposed),
            crate::openclaw::RUNTIME_GROUP,
        ),
    );
}

/// Plugins the image's release needs (channels no longer built in, providers it looks for)
/// must be in the image: say which.
pub(super) fn plugins(cx: &mut Cx, release: &Release, agents: &[ResolvedAgent]) {
    let providers: std::collections::BTreeSet<&str> = agents
        .iter()
        .flat_map(ResolvedAgent::models)
        .filter_map(|m| m.split_once('/').map(|(p, _)| p))
        .filter_map(|p| crate::openclaw::provider_plugin(release.dialect, p))
        .collect();
    for package in providers {
        cx.warn(
            &FieldPath::parse("spec.image"),
            format!(
                "OpenClaw {} looks for the plugin {package} for this fleet's openai models and, when the image lacks it, tries to install it from npm at every start (over a minute without registry access): add it to the image or use other models",
                release.version
            ),
        );
    }
    let plugins: std::collections::BTreeSet<&str> = agents
        .iter()
        .flat_map(|a| &a.channels)
        .filter_map(|c| crate::openclaw::channel_plugin(release.dialect, &c.channel))
        .map(|p| p.package)
        .collect();
    if release.dialect >= crate::openclaw::Dialect::V2026_9
        && agents
            .iter()
            .any(|a| a.channels.iter().any(|c| c.channel == "discord"))
    {
        // Measured by the conformance suite on 2026.9.6: PluginTrustRefusalError,
        // "openKeyedStore is only available for trusted plugins" (no install record in
        // the state database for a plugin found through plugins.load.paths).
        cx.warn(
            &FieldPath::parse("spec.image"),
            format!(
                "OpenClaw {} refuses to register the Discord plugin from the image (it needs an install record that only `openclaw plugins install` writes): the gateway starts without Discord",
                release.version
            ),
        );
    }
    for package in plugins {
        let v = release.version;
        cx.warn(
            &FieldPath::parse("spec.image"),
            format!(
                "OpenClaw {v} has this fleet's channel in the plugin {package}, which the image must contain (FROM the OpenClaw image, RUN npm install -g {package}@{v}); a gateway without it does not start"
            ),
        );
    }
}

/// A WhatsApp account is linked by a person scanning a QR code, after the pod starts; on
/// a release whose readiness probe is channel-aware, the pod is not Ready until then.
pub(super) fn unlinked_channels(cx: &mut Cx, release: &Release, agents: &[ResolvedAgent]) {
    if crate::openclaw::readiness_path(release.dialect) != "/readyz" {
        return;
    }
    for (i, agent) in agents.iter().enumerate() {
        if agent.channels.iter().any(|c| c.channel == "whatsapp") {
            cx.warn(
                &FieldPath::parse("spec.agents").index(i),
                format!(
                    "OpenClaw {} reports the gateway not ready while its WhatsApp account is not linked, so agent {:?} stays not Ready (and `apply` waits for it) until someone links it: kubectl exec -n {} deploy/agent-{} -c gateway -- node /app/dist/index.js channels login --channel whatsapp. From 2026.8.1 clawctl probes /startupz, which does not wait for channels",
                    release.version, agent.name, agent.namespace, agent.name
                ),
            );
        }
    }
}
