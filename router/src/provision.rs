//! `/setup-agent`: a person without an agent asks for one (the Slack slash command, or
//! `POST /setup-agent` on the HTTP door). Where the fleet offers self-service
//! (`spec.routing.selfService`), the router checks that `allow` admits the person
//! (Slack user groups asked of Slack), names the agent after them, and makes it with
//! clawctl's own code (`clawctl::ops::self_service::provision`: claim, render, apply,
//! wait, under the fleet lock). Without self-service, or for a person not admitted,
//! nothing is made and the reply says so. Replies are configurable notices.
//!
//! Requests are handled one at a time (the fleet lock would serialize them anyway);
//! the agent is routed from its claim by `claims`.

use std::sync::Arc;
use std::time::Duration;

use clawctl::cluster::Cluster;
use clawctl::fleet::self_service::{Admission, Identity as ClaimIdentity, admission};
use clawctl::ops::self_service::provision::{Ask, Offer, Place, Provisioned};
use tokio::sync::Mutex;

use crate::message::Identity;
use crate::slack::Directory;
use crate::{info, warn};

/// What the router answers a `/setup-agent` with. `{agent}` and `{max}` are replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupNotices {
    /// The fleet offers no self-service.
    pub off: String,
    pub not_admitted: String,
    pub already: String,
    pub ready: String,
    /// Made, not ready within the wait.
    pub not_ready: String,
    pub full: String,
    /// `clawctl apply` must run first (no lock yet, or the fleet does not cover it).
    pub needs_apply: String,
    pub failed: String,
}

impl Default for SetupNotices {
    fn default() -> Self {
        SetupNotices {
            off: crate::message::SETUP_OFF.into(),
            not_admitted: "You're not among the people who may ask for an agent here. Ask your platform team.".into(),
            already: "You already have an agent ({agent}). Just send me a message.".into(),
            ready: "Your agent {agent} is ready. Send me a message and it answers.".into(),
            not_ready: "Your agent {agent} was made but isn't ready yet. Try a message in a few minutes; your platform team can see why if it stays that way.".into(),
            full: "No more agents can be made on request here (the limit is {max}). Ask your platform team.".into(),
            needs_apply: "Agents on request can't be made until your platform team runs `clawctl apply` for this fleet.".into(),
            failed: "Your agent couldn't be made. Your platform team can see why in the router's log.".into(),
        }
    }
}

/// How a request ended, for front doors that answer with a status (HTTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupKind {
    Ready,
    NotReady,
    Already,
    Off,
    NotAdmitted,
    Full,
    NeedsApply,
    Failed,
}

impl SetupKind {
    /// A short stable name, for logs and the HTTP door's body.
    pub fn as_str(self) -> &'static str {
        match self {
            SetupKind::Ready => "ready",
            SetupKind::NotReady => "not_ready",
            SetupKind::Already => "already",
            SetupKind::Off => "off",
            SetupKind::NotAdmitted => "not_admitted",
            SetupKind::Full => "full",
            SetupKind::NeedsApply => "needs_apply",
            SetupKind::Failed => "failed",
        }
    }
}

/// The self-service side of the router.
pub struct SelfService {
    cluster: Cluster,
    place: Place,
    /// Slack's directory (user groups, names), when the Slack door is on.
    directory: Option<Arc<Directory>>,
    timeout: Duration,
    notices: SetupNotices,
    one_at_a_time: Mutex<()>,
}

impl SelfService {
    pub fn new(
        client: kube::Client,
        place: Place,
        directory: Option<Arc<Directory>>,
        timeout: Duration,
        notices: SetupNotices,
    ) -> SelfService {
        SelfService {
            cluster: Cluster {
                client,
                source: "the router's ServiceAccount".into(),
                url: String::new(),
                warnings: Default::default(),
            },
            place,
            directory,
            timeout,
            notices,
            one_at_a_time: Mutex::new(()),
        }
    }

    pub fn notices(&self) -> &SetupNotices {
        &self.notices
    }

    /// Handles one request; never fails (a failure is logged and answered).
    pub async fn setup(&self, who: &Identity) -> (SetupKind, String) {
        let _turn = self.one_at_a_time.lock().await;
        let (kind, agent, max) = match self.run(who).await {
            Ok(outcome) => outcome,
            Err(e) => {
                warn!("{}: /setup-agent failed: {e:#}", who.key());
                (SetupKind::Failed, String::new(), 0)
            }
        };
        info!("{}: /setup-agent {} {agent}", who.key(), kind.as_str());
        let n = &self.notices;
        let text = match kind {
            SetupKind::Ready => &n.ready,
            SetupKind::NotReady => &n.not_ready,
            SetupKind::Already => &n.already,
            SetupKind::Off => &n.off,
            SetupKind::NotAdmitted => &n.not_admitted,
            SetupKind::Full => &n.full,
            SetupKind::NeedsApply => &n.needs_apply,
            SetupKind::Failed => &n.failed,
        };
        let text = text
            .replace("{agent}", &agent)
            .replace("{max}", &max.to_string());
        (kind, text)
    }

    async fn run(&self, who: &Identity) -> anyhow::Result<(SetupKind, String, u32)> {
        let Ok(identity) = ClaimIdentity::parse(&who.key()) else {
            return Ok((SetupKind::NotAdmitted, String::new(), 0));
        };
        let Some(offer) = Offer::read(&self.cluster, &self.place).await? else {
            return Ok((SetupKind::Off, String::new(), 0));
        };
        let in_slack_group = match admission(offer.allow(), &identity) {
            Admission::Admitted => false,
            Admission::Refused => return Ok((SetupKind::NotAdmitted, String::new(), 0)),
            Admission::IfInGroups(groups) => {
                let member = match &self.directory {
                    Some(d) => d.in_any_group(&identity.id, &groups).await?,
                    None => false,
                };
                if !member {
                    return Ok((SetupKind::NotAdmitted, String::new(), 0));
                }
                true
            }
        };
        let person = match identity.channel.as_str() {
            "slack" => match &self.directory {
                Some(d) => d.user_name(&identity.id).await.ok().flatten(),
                None => None,
            }
            .unwrap_or_else(|| identity.id.to_ascii_lowercase()),
            _ => identity
                .id
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string(),
        };
        let ask = Ask {
            identity,
            person,
            in_slack_group,
            timeout: self.timeout,
            requested_at: clawctl_now(),
        };
        Ok(
            match offer.provision(&self.cluster, &self.place, &ask).await? {
                Provisioned::Ready { agent } => (SetupKind::Ready, agent, 0),
                Provisioned::NotReady { agent, why } => {
                    warn!("agent {agent} made on request is not ready: {why}");
                    (SetupKind::NotReady, agent, 0)
                }
                Provisioned::AlreadyHas { agent } => (SetupKind::Already, agent, 0),
                Provisioned::NotOffered => (SetupKind::Off, String::new(), 0),
                Provisioned::NotAdmitted => (SetupKind::NotAdmitted, String::new(), 0),
                Provisioned::Full { max } => (SetupKind::Full, String::new(), max),
                Provisioned::NeedsApply { why } => {
                    warn!("/setup-agent needs clawctl apply first: {why}");
                    (SetupKind::NeedsApply, String::new(), 0)
                }
            },
        )
    }
}

/// Now, as RFC 3339 (recorded in the claim).
fn clawctl_now() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}
