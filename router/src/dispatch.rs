//! The dispatcher every front door calls: a message's sender -> their route -> their
//! agent's token -> their inbox turn -> their agent's gateway, and the answer back.
//!
//! The one rule it exists for: a message is forwarded only to the agent the routing
//! table gives its sender's identity, with that agent's token, in a session derived from
//! that identity. The route is looked up again when the person's turn comes, so a
//! message that waited while the table changed goes where the table says now.

use std::sync::Arc;
use std::time::Instant;

use crate::gateway::{Gateway, session_key};
use crate::inbox::{Inbox, Outcome as Turn};
use crate::message::{Dispatch, Inbound, Reply};
use crate::routes::Routes;
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

/// The dispatcher: the routing table, the tokens, the inboxes and the gateway client.
pub struct Router {
    routes: Routes,
    tokens: Tokens,
    gateway: Gateway,
    inbox: Inbox,
    notices: Notices,
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
            self_service: None,
        }
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
        };
        Outcome::Notice(kind, text.clone())
    }

    /// Routes one message and waits for what becomes of it.
    pub async fn handle(&self, m: Inbound) -> Outcome {
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
        let turn = self.inbox.run(&who, || self.forward(&m)).await;
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

    /// The person's turn: the route as it is now, its token, the gateway.
    async fn forward(&self, m: &Inbound) -> Outcome {
        let who = m.from.key();
        let Some(route) = self.routes.lookup(&m.from) else {
            info!("{who}: route removed while the message waited");
            return self.notice(NoticeKind::NoAgent);
        };
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
        match self
            .gateway
            .forward(&route.url, &token, &session, &m.text)
            .await
        {
            Ok(answer) => Outcome::Answer(answer),
            Err(e) => {
                warn!("{who} -> agent {}: {e}", route.agent);
                self.notice(NoticeKind::Unavailable)
            }
        }
    }

    /// Keeps the tokens in step with the routing table: a Secret no route names any
    /// more is forgotten and no longer watched. Runs until the table's sender is gone.
    pub async fn follow_routes(self: Arc<Self>) {
        let mut rx = self.routes.subscribe();
        while rx.changed().await.is_ok() {
            let table = rx.borrow_and_update().clone();
            if let Some(table) = table {
                self.tokens.retain(&table.secrets());
            }
        }
    }
}

impl Dispatch for Router {
    async fn dispatch(&self, message: Inbound) -> Reply {
        self.handle(message).await.into()
    }

    async fn setup_agent(&self, from: crate::message::Identity) -> Reply {
        Reply::Notice(Router::setup_agent(self, &from).await.1)
    }
}
