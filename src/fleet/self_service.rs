//! Self-service agents (`spec.routing.selfService`), the rules both sides share: who is
//! admitted, what a claim is and when one is acceptable, how a new agent is named.
//!
//! A **claim** is one ConfigMap `claim-<agent>` in the router's namespace, labelled with
//! the fleet and `clawctl.io/claim: "true"` but not with the ApplySet membership label (so
//! prune never deletes it), holding `agent`, `identity` (`slack:U0ABC` or
//! `email:dana@example.com`) and `requestedAt`. The router writes one when it makes an
//! agent; `clawctl apply`, `diff`, `status` and `rollout` read them back and add each as
//! an agent of `selfService.team`. Deleting a claim gives the agent back: the next
//! `apply --prune` removes it (its volume kept, as for any agent).
//!
//! Pure: the cluster side lives in `cluster::self_service`, the router's in
//! `clawctl-router`.

use std::collections::BTreeMap;

use super::model::{FleetSpec, SelfService, SelfServiceAllow};

/// The label every claim carries (with the fleet label), value `"true"`.
pub use crate::names::CLAIM_LABEL;

/// `maxAgents` when the file does not say.
pub const DEFAULT_MAX_AGENTS: u32 = 100;

/// Objects are named `agent-<name>`; a Service name is a 63-character DNS label.
pub const MAX_AGENT_NAME: usize = 57;

/// A person as claims and the routing table name them: `slack:U0ABC`, `email:a@b.c`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    /// `slack` or `email`.
    pub channel: String,
    pub id: String,
}

impl Identity {
    /// Parses `slack:<user id>` or `email:<address>`, refusing anything else.
    pub fn parse(text: &str) -> Result<Identity, String> {
        let (channel, id) = text.split_once(':').ok_or_else(|| {
            format!("identity {text:?} is not slack:<user id> or email:<address>")
        })?;
        let identity = Identity {
            channel: channel.to_string(),
            id: id.to_string(),
        };
        identity.check()?;
        Ok(identity)
    }

    /// Whether the id is well-formed for its channel.
    pub fn check(&self) -> Result<(), String> {
        match self.channel.as_str() {
            "slack" if slack_id(&self.id, &['U', 'W']) => Ok(()),
            "slack" => Err(format!(
                "{:?} is not a Slack user id (U or W, then capitals and digits)",
                self.id
            )),
            "email" if email(&self.id) => Ok(()),
            "email" => Err(format!("{:?} is not an email address", self.id)),
            other => Err(format!("identity channel {other:?} is not slack or email")),
        }
    }

    /// `slack:U0ABC`: the key of the routing table.
    pub fn key(&self) -> String {
        format!("{}:{}", self.channel, self.id)
    }
}

/// A Slack id: `first` letter, then 2 to 20 capitals and digits.
fn slack_id(id: &str, first: &[char]) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| first.contains(&c))
        && (3..=21).contains(&id.len())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// `local@domain`, one `@`, no spaces or control characters, at most 254 bytes.
fn email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && text.len() <= 254
        && text.chars().all(|c| c.is_ascii_graphic())
}

/// Checks the entries of `allow`: each one's problem, with its field (`slack[0]`).
pub fn allow_problems(allow: &SelfServiceAllow) -> Vec<(String, usize, String)> {
    let mut problems = Vec::new();
    for (i, id) in allow.slack.iter().enumerate() {
        if !slack_id(id, &['U', 'W']) {
            problems.push((
                "slack".to_string(),
                i,
                format!("{id:?} is not a Slack user id (U or W, then capitals and digits)"),
            ));
        }
    }
    for (i, id) in allow.slack_groups.iter().enumerate() {
        if !slack_id(id, &['S']) {
            problems.push((
                "slackGroups".to_string(),
                i,
                format!("{id:?} is not a Slack user group id (S, then capitals and digits)"),
            ));
        }
    }
    for (i, entry) in allow.emails.iter().enumerate() {
        let ok = match entry.strip_prefix("*@") {
            Some(domain) => email(&format!("x@{domain}")),
            None => email(entry),
        };
        if !ok {
            problems.push((
                "emails".to_string(),
                i,
                format!("{entry:?} is not an email address or *@domain"),
            ));
        }
    }
    problems
}

/// Whether `allow` lets a person ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    /// Only if Slack says the person is in one of these user groups.
    IfInGroups(Vec<String>),
    Refused,
}

/// What `allow` says of `identity`, as far as it can be told without asking Slack.
/// Emails compare without regard to case; `*@example.com` admits that domain exactly.
pub fn admission(allow: &SelfServiceAllow, identity: &Identity) -> Admission {
    match identity.channel.as_str() {
        "slack" if allow.slack.contains(&identity.id) => Admission::Admitted,
        "slack" if !allow.slack_groups.is_empty() => {
            Admission::IfInGroups(allow.slack_groups.clone())
        }
        "email" => {
            let address = identity.id.to_ascii_lowercase();
            let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
            let admitted = allow.emails.iter().any(|entry| {
                let entry = entry.to_ascii_lowercase();
                match entry.strip_prefix("*@") {
                    Some(d) => d == domain,
                    None => entry == address,
                }
            });
            if admitted {
                Admission::Admitted
            } else {
                Admission::Refused
            }
        }
        _ => Admission::Refused,
    }
}

/// One claim as read from its ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The ConfigMap's name (`claim-<agent>`), for messages.
    pub configmap: String,
    pub agent: String,
    pub identity: Identity,
    pub requested_at: Option<String>,
}

/// The ConfigMap name of the claim of `agent`.
pub fn claim_name(agent: &str) -> String {
    format!("claim-{agent}")
}

impl Claim {
    /// Reads a claim ConfigMap's name and data, refusing malformed ones.
    pub fn from_data(configmap: &str, data: &BTreeMap<String, String>) -> Result<Claim, String> {
        let agent = data.get("agent").ok_or("it has no `agent`")?;
        check_agent_name(agent)?;
        if configmap != claim_name(agent) {
            return Err(format!(
                "it names agent {agent:?} but is not called {:?}",
                claim_name(agent)
            ));
        }
        let identity = Identity::parse(data.get("identity").ok_or("it has no `identity`")?)?;
        Ok(Claim {
            configmap: configmap.to_string(),
            agent: agent.clone(),
            identity,
            requested_at: data.get("requestedAt").cloned(),
        })
    }

    /// The ConfigMap's data.
    pub fn data(&self) -> BTreeMap<String, String> {
        let mut data = BTreeMap::from([
            ("agent".to_string(), self.agent.clone()),
            ("identity".to_string(), self.identity.key()),
        ]);
        if let Some(at) = &self.requested_at {
            data.insert("requestedAt".to_string(), at.clone());
        }
        data
    }
}

/// An agent name: a DNS-1123 label of at most [`MAX_AGENT_NAME`] characters.
pub fn check_agent_name(name: &str) -> Result<(), String> {
    super::rules::dns_label(name, MAX_AGENT_NAME)
}

/// Checks claims against the fleet file: each problem names the claim's ConfigMap.
/// A claim that fails is never silently dropped (`apply --prune` would then delete its
/// agent): the caller refuses the whole command.
pub fn check_claims(spec: &FleetSpec, claims: &[Claim]) -> Vec<String> {
    let Some(self_service) = &spec.routing.self_service else {
        if claims.is_empty() {
            return Vec::new();
        }
        let names: Vec<&str> = claims.iter().map(|c| c.configmap.as_str()).collect();
        return vec![format!(
            "claim(s) {} exist but the fleet file has no spec.routing.selfService: delete the \
             claims (their agents are then pruned) or restore selfService",
            names.join(", ")
        )];
    };
    let mut problems = Vec::new();
    let mut routed: BTreeMap<String, String> = BTreeMap::new();
    for agent in &spec.agents {
        for (channel, id) in &agent.user {
            routed.insert(format!("{channel}:{id}"), agent.name.clone());
        }
    }
    let max = self_service.max_agents.unwrap_or(DEFAULT_MAX_AGENTS) as usize;
    if claims.len() > max {
        problems.push(format!(
            "{} claims, more than selfService.maxAgents ({max}): delete some or raise maxAgents",
            claims.len()
        ));
    }
    for claim in claims {
        let name = &claim.configmap;
        if spec.agents.iter().any(|a| a.name == claim.agent) {
            problems.push(format!(
                "claim {name}: agent {:?} is an agent of the fleet file",
                claim.agent
            ));
        }
        match routed.insert(claim.identity.key(), claim.agent.clone()) {
            Some(other) if other != claim.agent => problems.push(format!(
                "claim {name}: {} is already routed to agent {other:?}",
                claim.identity.key()
            )),
            _ => {}
        }
        if admission(&self_service.allow, &claim.identity) == Admission::Refused {
            problems.push(format!(
                "claim {name}: {} is not admitted by selfService.allow",
                claim.identity.key()
            ));
        }
    }
    problems
}

/// The self-service block, when the fleet has one.
pub fn of(spec: &FleetSpec) -> Option<&SelfService> {
    spec.routing.self_service.as_ref()
}

/// A name for a new agent from a person's name (a Slack display or real name, an
/// email's local part): lower-cased, runs of anything else than letters and digits made
/// one `-`, at most 50 characters (room for `-NN`); `agent` if nothing is left. Then
/// `-2`, `-3`... while `taken` says the name is in use.
pub fn agent_name(person: &str, taken: impl Fn(&str) -> bool) -> String {
    candidates(person)
        .find(|name| !taken(name))
        .unwrap_or_else(|| "agent".to_string())
}

/// The names [`agent_name`] tries, in order: the base, then `-2`, `-3`...
pub fn candidates(person: &str) -> impl Iterator<Item = String> {
    let mut base = String::new();
    for c in person.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            base.push(c);
        } else if !base.is_empty() && !base.ends_with('-') {
            base.push('-');
        }
    }
    base.truncate(50);
    let base = base.trim_end_matches('-').to_string();
    let base = if base.is_empty() {
        "agent".to_string()
    } else {
        base
    };
    std::iter::once(base.clone()).chain((2u32..).map(move |n| format!("{base}-{n}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow() -> SelfServiceAllow {
        SelfServiceAllow {
            slack: vec!["U0ABC".into()],
            slack_groups: vec![],
            emails: vec!["dana@example.com".into(), "*@corp.example".into()],
        }
    }

    fn id(text: &str) -> Identity {
        Identity::parse(text).expect("identity")
    }

    #[test]
    fn identities_parse_only_when_well_formed() {
        assert_eq!(id("slack:U0ABC").key(), "slack:U0ABC");
        assert_eq!(id("email:a@b.io").channel, "email");
        for bad in [
            "U0ABC",
            "slack:u0abc",
            "slack:S0ABC",
            "email:nobody",
            "email:a b@c.d",
            "irc:nick",
        ] {
            assert!(Identity::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn admission_follows_allow() {
        assert_eq!(admission(&allow(), &id("slack:U0ABC")), Admission::Admitted);
        assert_eq!(
            admission(&allow(), &id("slack:U0OTHER")),
            Admission::Refused
        );
        assert_eq!(
            admission(&allow(), &id("email:Dana@Example.com")),
            Admission::Admitted
        );
        assert_eq!(
            admission(&allow(), &id("email:eve@corp.example")),
            Admission::Admitted
        );
        // A domain admits itself, not its look-alikes or subdomains.
        assert_eq!(
            admission(&allow(), &id("email:eve@evilcorp.example")),
            Admission::Refused
        );
        assert_eq!(
            admission(&allow(), &id("email:eve@x.corp.example")),
            Admission::Refused
        );
        let mut groups = allow();
        groups.slack_groups = vec!["S0XYZ".into()];
        assert_eq!(
            admission(&groups, &id("slack:U0OTHER")),
            Admission::IfInGroups(vec!["S0XYZ".into()])
        );
    }

    #[test]
    fn claims_read_back_only_when_consistent() {
        let data = |agent: &str, identity: &str| {
            BTreeMap::from([
                ("agent".to_string(), agent.to_string()),
                ("identity".to_string(), identity.to_string()),
            ])
        };
        let claim =
            Claim::from_data("claim-dana", &data("dana", "email:dana@example.com")).expect("claim");
        assert_eq!(
            Claim::from_data("claim-dana", &claim.data()),
            Ok(claim.clone())
        );
        assert!(Claim::from_data("claim-eve", &data("dana", "slack:U1AB")).is_err());
        assert!(Claim::from_data("claim-Dana", &data("Dana", "slack:U1AB")).is_err());
        assert!(Claim::from_data("claim-dana", &data("dana", "dana")).is_err());
        assert!(Claim::from_data("claim-dana", &BTreeMap::new()).is_err());
    }

    #[test]
    fn names_are_dns_labels_and_never_collide() {
        assert_eq!(agent_name("Dana Scully", |_| false), "dana-scully");
        assert_eq!(
            agent_name("  ÉLodie__O'Brien! ", |_| false),
            "lodie-o-brien"
        );
        assert_eq!(agent_name("???", |_| false), "agent");
        let taken = ["dana", "dana-2"];
        assert_eq!(agent_name("dana", |n| taken.contains(&n)), "dana-3");
        let long = "x".repeat(80);
        let name = agent_name(&long, |n| n.len() == 50);
        assert_eq!(name.len(), 52);
        assert!(check_agent_name(&name).is_ok());
    }
}
