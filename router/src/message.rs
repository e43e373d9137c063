//! What every front door hands the dispatcher and gets back: who sent what in which
//! conversation, and the reply to post. A leaf.

use std::future::Future;

/// A sender as the routing table keys them: `<channel>:<id>` (`slack:U012ABC`,
/// `email:alice@example.com`), the keys of `routes.json`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity {
    /// The identity's kind: `slack` (a Slack user id) or `email` (from the proxy).
    pub channel: String,
    pub id: String,
}

impl Identity {
    pub fn new(channel: &str, id: &str) -> Identity {
        Identity {
            channel: channel.to_string(),
            id: id.to_string(),
        }
    }

    /// The key of this identity in `routes.json`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.channel, self.id)
    }
}

/// One message from a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub from: Identity,
    /// Where the answer goes and what the agent's session is keyed by: a Slack channel
    /// and thread (`D123/1700000000.000100`), or the HTTP client's conversation id.
    pub conversation: String,
    pub text: String,
    /// The front door's id of this delivery (Slack's event id): a delivery seen before
    /// is never answered twice.
    pub delivery: String,
}

/// What the person gets back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The agent's answer.
    Answer(String),
    /// Nothing to post: this delivery was answered already (a retry or a duplicate).
    Duplicate,
    /// A message for the person from the router itself (no agent, too long, rate
    /// limited, timed out, the agent failed): configurable texts, never internals.
    Notice(String),
}

/// Where the router's notices before the reply go ("Waking your agent…"): a front door
/// posts them at once (Slack) or hands them back with the reply (HTTP). Empty: nowhere.
#[derive(Debug, Clone, Default)]
pub struct Interim(Option<tokio::sync::mpsc::UnboundedSender<String>>);

impl Interim {
    /// Notices go nowhere.
    pub fn none() -> Interim {
        Interim(None)
    }

    /// Notices go to the receiver, which ends when every sender is gone (the dispatch
    /// finished).
    pub fn channel() -> (Interim, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (Interim(Some(tx)), rx)
    }

    pub fn send(&self, text: &str) {
        if let Some(tx) = &self.0 {
            // A front door that stopped listening just misses it.
            let _ = tx.send(text.to_string());
        }
    }
}

/// The default reply to `/setup-agent` where the fleet offers no self-service.
pub const SETUP_OFF: &str =
    "Agents on request aren't offered here. Ask your platform team for one.";

/// The dispatcher, as a front door sees it.
pub trait Dispatch: Send + Sync + 'static {
    /// Routes one message and waits for its reply. A person's messages are answered one
    /// at a time, in order.
    fn dispatch(&self, message: Inbound) -> impl Future<Output = Reply> + Send;

    /// As [`Dispatch::dispatch`], with notices that come before the reply sent to
    /// `interim` as they happen (a dispatcher without any drops it).
    fn dispatch_with(
        &self,
        message: Inbound,
        interim: Interim,
    ) -> impl Future<Output = Reply> + Send {
        drop(interim);
        self.dispatch(message)
    }

    /// A person asks for an agent of their own (`/setup-agent`); the reply is a notice.
    /// Without self-service nothing is made and the reply says so.
    fn setup_agent(&self, from: Identity) -> impl Future<Output = Reply> + Send {
        let _ = from;
        async { Reply::Notice(SETUP_OFF.to_string()) }
    }
}
