//! The built-in templates (embedded in the binary) and per-file overrides from a folder.

use std::path::Path;

use anyhow::{Context, bail};

/// Which part of the fleet a template renders once for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Fleet,
    /// clawctl-router's namespace, with `spec.routing.router`.
    Router,
    Team,
    Agent,
}

impl Scope {
    /// The kinds a template of this scope may produce; anything else is refused.
    pub fn allowed_kinds(self) -> &'static [(&'static str, &'static str)] {
        match self {
            // Nothing cluster-scoped but the fleet's Namespace (DESIGN §4.1).
            Scope::Fleet => &[
                ("v1", "Namespace"),
                ("v1", "ConfigMap"),
                ("v1", "ServiceAccount"),
                ("rbac.authorization.k8s.io/v1", "Role"),
                ("rbac.authorization.k8s.io/v1", "RoleBinding"),
                ("apps/v1", "Deployment"),
                ("v1", "Service"),
                ("networking.k8s.io/v1", "NetworkPolicy"),
            ],
            Scope::Router => &[
                ("v1", "Namespace"),
                ("v1", "ServiceAccount"),
                ("v1", "ConfigMap"),
                ("rbac.authorization.k8s.io/v1", "Role"),
                ("rbac.authorization.k8s.io/v1", "RoleBinding"),
                ("apps/v1", "Deployment"),
                ("v1", "Service"),
                ("networking.k8s.io/v1", "NetworkPolicy"),
            ],
            Scope::Team => &[
                ("v1", "Namespace"),
                ("networking.k8s.io/v1", "NetworkPolicy"),
                ("rbac.authorization.k8s.io/v1", "Role"),
                ("rbac.authorization.k8s.io/v1", "RoleBinding"),
                ("v1", "ResourceQuota"),
            ],
            Scope::Agent => &[
                ("v1", "ServiceAccount"),
                ("v1", "Secret"),
                ("rbac.authorization.k8s.io/v1", "Role"),
                ("rbac.authorization.k8s.io/v1", "RoleBinding"),
                ("v1", "ConfigMap"),
                ("v1", "PersistentVolumeClaim"),
                ("apps/v1", "Deployment"),
                ("v1", "Service"),
                ("networking.k8s.io/v1", "NetworkPolicy"),
                ("networking.k8s.io/v1", "Ingress"),
                ("gateway.networking.k8s.io/v1", "HTTPRoute"),
            ],
        }
    }
}

macro_rules! builtins {
    ($(($scope:ident, $name:literal)),* $(,)?) => {
        /// Every built-in template: its scope, file name and text.
        pub const BUILTIN: &[(Scope, &str, &str)] = &[
            $((Scope::$scope, $name, include_str!(concat!("../../templates/", $name)))),*
        ];
    };
}

builtins![
    (Fleet, "fleet-namespace.yaml.j2"),
    (Fleet, "fleet-routes.yaml.j2"),
    (Router, "router.yaml.j2"),
    (Router, "router-self-service.yaml.j2"),
    (Team, "team-namespace.yaml.j2"),
    (Team, "team-networkpolicy.yaml.j2"),
    (Team, "team-viewers.yaml.j2"),
    (Team, "team-quota.yaml.j2"),
    (Team, "team-orchestrator.yaml.j2"),
    (Team, "team-self-service.yaml.j2"),
    (Agent, "agent-serviceaccount.yaml.j2"),
    (Agent, "agent-rbac.yaml.j2"),
    (Agent, "agent-token.yaml.j2"),
    (Agent, "agent-configmap.yaml.j2"),
    (Agent, "agent-pvc.yaml.j2"),
    (Agent, "agent-workspaces.yaml.j2"),
    (Agent, "agent-deployment.yaml.j2"),
    (Agent, "agent-service.yaml.j2"),
    (Agent, "agent-httproute.yaml.j2"),
    (Agent, "agent-ingress.yaml.j2"),
    (Agent, "agent-networkpolicy.yaml.j2"),
];

/// The template set in use: built-ins, each possibly replaced by a file of the same name.
#[derive(Debug, Clone)]
pub struct Templates {
    pub entries: Vec<Template>,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub scope: Scope,
    pub name: &'static str,
    pub source: String,
    /// Where an override came from, for error messages; `None` for a built-in.
    pub origin: Option<String>,
}

impl Templates {
    pub fn builtin() -> Self {
        let entries = BUILTIN
            .iter()
            .map(|(scope, name, text)| Template {
                scope: *scope,
                name,
                source: (*text).to_string(),
                origin: None,
            })
            .collect();
        Templates { entries }
    }

    /// Built-ins overridden by the `*.yaml.j2` files of `dir`. A file that matches no
    /// built-in is an error, so a misspelled override cannot be silently ignored.
    pub fn with_overrides(dir: &Path) -> anyhow::Result<Self> {
        let mut templates = Self::builtin();
        let listing = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read templates folder {}", dir.display()))?;
        let mut names: Vec<_> = listing
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".yaml.j2"))
            .collect();
        names.sort();
        for path in names {
            let file_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let Some(entry) = templates.entries.iter_mut().find(|t| t.name == file_name) else {
                let known: Vec<&str> = BUILTIN.iter().map(|(_, n, _)| *n).collect();
                let hint = crate::diag::did_you_mean(&file_name, &known)
                    .map(|s| format!(" (did you mean {s}?)"))
                    .unwrap_or_default();
                bail!(
                    "{}: does not override any built-in template{hint}; built-in templates are: {}",
                    path.display(),
                    known.join(", ")
                );
            };
            entry.source = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            entry.origin = Some(path.display().to_string());
        }
        Ok(templates)
    }

    /// Built-ins overridden by templates given by file name (the self-service bundle's),
    /// refusing a name that overrides nothing, as [`Templates::with_overrides`] does.
    pub fn with_sources(
        sources: &std::collections::BTreeMap<String, String>,
    ) -> anyhow::Result<Self> {
        let mut templates = Self::builtin();
        for (file_name, source) in sources {
            let Some(entry) = templates.entries.iter_mut().find(|t| t.name == file_name) else {
                bail!("{file_name}: does not override any built-in template");
            };
            entry.source = source.clone();
            entry.origin = Some(format!("{file_name} (self-service bundle)"));
        }
        Ok(templates)
    }

    /// The overriding templates, by file name: what the self-service bundle carries.
    pub fn overrides(&self) -> std::collections::BTreeMap<String, String> {
        self.entries
            .iter()
            .filter(|t| t.origin.is_some())
            .map(|t| (t.name.to_string(), t.source.clone()))
            .collect()
    }
}
