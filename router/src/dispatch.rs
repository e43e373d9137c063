//! The dispatcher every front door calls: a message's sender -> their route -> their
//! agent's token -> their inbox turn -> their agent's gateway, and the answer back.
//!
//! The one rule it exists for: a message is forwarded only to the agent the routing
//! table gives its sender's identity, with that agent's token, in a session derived from
//! that identity. The route is looked up again when the person's turn comes, so a
//! message that waited while the table changed goes where the table says now.
//!
//! With sleeping on (`idle`), the person's turn starts by waking their agent's
//! Deployment when it sleeps (the waking notice goes out at once through the front
//! door's [`Interim`]), outside the forward's timeout and within the wake timeout; a
//! suspended agent is not woken and the person gets the suspended notice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::gateway::{Gateway, GatewayError, session_key};
use crate::idle::{Activity, Gate, Idle};
use crate::inbox::{Inbox, Outcome as Turn};
use crate::message::{Dispatch, Inbound, Interim, Reply};
use crate::routes::{Route, Routes};
use crate::tokens::Tokens;
use crate::{debug, info, warn};

/// The texts the router itself answers with. Configurable (see `config`); never
/// internals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notices {
    /// The sender has no agent in the routing table.
    pub no_agent: String,
    pub too_long: String,
    pub rate_limited: String,
    /// The sender already has the most messages waiting that may wait.
    pub busy: String,
    pub timed_out: String,
    /// The agent could not be reached or failed (no token, gateway down or erring).
    pub unavailable: String,
    /// Sent at once, before the answer, when the agent sleeps and is being woken.
    pub waking: String,
    /// The agent is suspended (by the fleet file or `clawctl suspend`) or stopped by
    /// someone else: it is not woken.
    pub suspended: String,
    /// The agent did not wake within the wake timeout.
    pub wake_timed_out: String,
}

impl Default for Notices {
    fn default() -> Self {
        Notices {
            no_agent: "You don't have an agent yet. Ask your platform team to add you to the fleet.".into(),
            too_long: "That message is too long for your agent. Please send something shorter.".into(),
            rate_limited: "You're sending messages faster than your agent takes them. Please wait a moment and try again.".into(),
            busy: "Your agent is still working on your earlier messages. Please wait for those answers first.".into(),
            timed_out: "Your agent took too long to answer, so I stopped waiting. Please try again.".into(),
            unavailable: "Your agent can't be reached right now. Please try again in a few minutes.".into(),
            waking: "Waking your agent… your answer follows in a moment.".into(),
            suspended: "Your agent is paused by your platform team, so it can't answer right now. Ask them to resume it.".into(),
            wake_timed_out: "Your agent didn't wake up in time, so I stopped waiting. Please try again in a few minutes.".into(),
        }
    }
}

/// Which notice, for front doors that answer with a status (HTTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    NoAgent,
    TooLong,
    RateLimited,
    Busy,
    TimedOut,
    Unavailable,
    Suspended,
    WakeTimedOut,
}

impl NoticeKind {
    /// A short stable name (`no_agent`, ...), for logs and the HTTP door's body.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::NoAgent => "no_agent",
            NoticeKind::TooLong => "too_long",
            NoticeKind::RateLimited => "rate_limited",
            NoticeKind::Busy => "busy",
            NoticeKind::TimedOut => "timed_out",
            NoticeKind::Unavailable => "unavailable",
            NoticeKind::Suspended => "suspended",
            NoticeKind::WakeTimedOut => "wake_timed_out",
        }
    }
}

/// What became of a message, with the notice's kind kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Answer(String),
    Duplicate,
    Notice(NoticeKind, String),
}

impl From<Outcome> for Reply {
    fn from(o: Outcome) -> Reply {
        match o {
            Outcome::Answer(a) => Reply::Answer(a),
            Outcome::Duplicate => Reply::Duplicate,
            Outcome::Notice(_, text) => Reply::Notice(text),
        }
    }
}

/// After a wake, how often and how far apart a refused connection to the gateway is
/// tried again: a pod is Ready before its Service routes to it (the EndpointSlice
/// controller and kube-proxy follow readiness within a moment), so the first connection
/// after a wake may find no endpoint. Within the forward's timeout.
const AFTER_WAKE_RETRIES: u32 = 10;
const AFTER_WAKE_BACKOFF: Duration = Duration::from_millis(300);

/// What a person's turn has once the agent may take the message.
struct Admitted {
    route: Arc<Route>,
    /// Keeps the agent's Deployment from counting as idle until the answer is back.
    _activity: Activity,
    woke: bool,
}

/// The dispatcher: the routing table, the tokens, the inboxes and the gateway client.
pub struct Router {
    routes: Routes,
    tokens: Tokens,
    gateway: Gateway,
    inbox: Inbox,
    notices: Notices,
    idle: Idle,
    /// `/setup-agent`, when the fleet offers self-service.
    self_service: Option<Arc<crate::provision::SelfService>>,
}

impl Router {
    pub fn new(
        routes: Routes,
        tokens: Tokens,
        gateway: Gateway,
        inbox: Inbox,
        notices: Notices,
    ) -> Router {
        Router {
            routes,
            tokens,
            gateway,
            inbox,
            notices,
            idle: Idle::off(),
            self_service: None,
        }
    }

    /// Puts idle agents to sleep and wakes them on a message (see `idle`).
    pub fn with_idle(mut self, idle: Idle) -> Router {
        self.idle = idle;
        self
    }

    /// This router, making agents on request (`/setup-agent`).
    pub fn with_self_service(mut self, self_service: crate::provision::SelfService) -> Router {
        self.self_service = Some(Arc::new(self_service));
        self
    }

    /// `/setup-agent` from `who`: the outcome and the reply. Without self-service
    /// nothing is made.
    pub async fn setup_agent(
        &self,
        who: &crate::message::Identity,
    ) -> (crate::provision::SetupKind, String) {
        match &self.self_service {
            Some(s) => s.setup(who).await,
            None => {
                info!("{}: /setup-agent, but self-service is off", who.key());
                (
                    crate::provision::SetupKind::Off,
                    crate::provision::SetupNotices::default().off,
                )
            }
        }
    }

    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    pub fn notices(&self) -> &Notices {
        &self.notices
    }

    fn notice(&self, kind: NoticeKind) -> Outcome {
        let text = match kind {
            NoticeKind::NoAgent => &self.notices.no_agent,
            NoticeKind::TooLong => &self.notices.too_long,
            NoticeKind::RateLimited => &self.notices.rate_limited,
            NoticeKind::Busy => &self.notices.busy,
            NoticeKind::TimedOut => &self.notices.timed_out,
            NoticeKind::Unavailable => &self.notices.unavailable,
            NoticeKind::Suspended => &self.notices.suspended,
            NoticeKind::WakeTimedOut => &self.notices.wake_timed_out,
        };
        Outcome::Notice(kind, text.clone())
    }

    /// Routes one message and waits for what becomes of it.
    pub async fn handle(&self, m: Inbound) -> Outcome {
        self.handle_with(m, &Interim::none()).await
    }

    /// As [`Router::handle`], sending the notices that come before the outcome (waking)
    /// to `interim` as they happen.
    pub async fn handle_with(&self, m: Inbound, interim: &Interim) -> Outcome {
        let who = m.from.key();
        // A delivery seen before gets nothing, whatever the first one got: one reply
        // per delivery.
        if !self.inbox.first_delivery(&who, &m.delivery) {
            debug!(
                "{who}: delivery {:?} seen before, not answered again",
                m.delivery
            );
            return Outcome::Duplicate;
        }
        if self.inbox.too_long(&m.text) {
            info!(
                "{who}: message of {} bytes refused (too long)",
                m.text.len()
            );
            return self.notice(NoticeKind::TooLong);
        }
        // Unknown people hold no inbox state.
        if self.routes.lookup(&m.from).is_none() {
            info!("{who}: no route");
            return self.notice(NoticeKind::NoAgent);
        }
        let started = Instant::now();
        let turn = self
            .inbox
            .run_prepared(&who, self.admit(&m, interim), |a| self.forward(&m, a))
            .await;
        let outcome = match turn {
            Turn::Done(o) => o,
            Turn::RateLimited => self.notice(NoticeKind::RateLimited),
            Turn::Busy => self.notice(NoticeKind::Busy),
            Turn::TimedOut => self.notice(NoticeKind::TimedOut),
        };
        let what = match &outcome {
            Outcome::Answer(a) => format!("answered ({} bytes)", a.len()),
            Outcome::Duplicate => "duplicate".to_string(),
            Outcome::Notice(kind, _) => format!("notice {}", kind.as_str()),
        };
        info!("{who}: {what} in {} ms", started.elapsed().as_millis());
        outcome
    }

    /// The start of the person's turn: the route as it is now, and its agent awake
    /// (woken if it slept, within the wake timeout), or the notice that ends the turn.
    async fn admit(&self, m: &Inbound, interim: &Interim) -> Result<Admitted, Outcome> {
        let who = m.from.key();
        let Some(route) = self.routes.lookup(&m.from) else {
            info!("{who}: route removed while the message waited");
            return Err(self.notice(NoticeKind::NoAgent));
        };
        let (activity, gate) = self
            .idle
            .admit(route.deployment.as_ref(), || {
                info!("{who} -> agent {}: waking it", route.agent);
                interim.send(&self.notices.waking);
            })
            .await;
        let kind = match gate {
            Gate::Go { woke } => {
                return Ok(Admitted {
                    route,
                    _activity: activity,
                    woke,
                });
            }
            Gate::Suspended => NoticeKind::Suspended,
            Gate::WakeTimedOut => NoticeKind::WakeTimedOut,
            Gate::Unavailable => NoticeKind::Unavailable,
        };
        info!("{who} -> agent {}: {}", route.agent, kind.as_str());
        Err(self.notice(kind))
    }

    /// The rest of the turn: the agent's token, the gateway.
    async fn forward(&self, m: &Inbound, admitted: Admitted) -> Outcome {
        let who = m.from.key();
        let route = admitted.route;
        let token = match self.tokens.get(&route.token).await {
            Ok(t) => t,
            Err(e) => {
                warn!("{who} -> agent {}: no token: {e}", route.agent);
                return self.notice(NoticeKind::Unavailable);
            }
        };
        let session = session_key(&m.from, &m.conversation);
        debug!(
            "{who} -> agent {} session {session}: {:?}",
            route.agent, m.text
        );
        let mut retries = if admitted.woke { AFTER_WAKE_RETRIES } else { 0 };
        let answered = loop {
            match self
                .gateway
                .forward(&route.url, &token, &session, &m.text)
                .await
            {
                Err(GatewayError::Connect(e)) if retries > 0 => {
                    debug!(
                        "{who} -> agent {}: just woken, not reachable yet: {e}",
                        route.agent
                    );
                    retries -= 1;
                    tokio::time::sleep(AFTER_WAKE_BACKOFF).await;
                }
                other => break other,
            }
        };
        match answered {
            Ok(answer) => Outcome::Answer(answer),
            Err(e) => {
                warn!("{who} -> agent {}: {e}", route.agent);
                self.notice(NoticeKind::Unavailable)
            }
        }
    }

    /// Keeps the tokens and the sleeping Deployments in step with the routing table: a
    /// Secret or Deployment no route names any more is forgotten and no longer watched,
    /// a new Deployment counts as active from now. Starts with the table as it is, then
    /// follows it until the table's sender is gone.
    pub async fn follow_routes(self: Arc<Self>) {
        let mut rx = self.routes.subscribe();
        loop {
            let table = rx.borrow_and_update().clone();
            if let Some(table) = table {
                self.tokens.retain(&table.secrets());
                self.idle.follow(&table.deployments());
            }
            if rx.changed().await.is_err() {
                break;
            }
        }
    }
}

impl Dispatch for Router {
    async fn dispatch(&self, message: Inbound) -> Reply {
        self.handle(message).await.into()
    }

    async fn dispatch_with(&self, message: Inbound, interim: Interim) -> Reply {
        self.handle_with(message, &interim).await.into()
    }

    async fn setup_agent(&self, from: crate::message::Identity) -> Reply {
        Reply::Notice(Router::setup_agent(self, &from).await.1)
    }
}
