//! Socket Mode frames and the Events API payloads inside them, and the pure decision of
//! which events the door answers and where. No I/O here.
//!
//! Sources, quoted where a choice depends on them:
//! - Socket Mode: https://docs.slack.dev/apis/events-api/using-socket-mode (frames
//!   `hello`, `disconnect` with `reason` `warning` / `refresh_requested` /
//!   `link_disabled`, and envelopes `{payload, envelope_id, type,
//!   accepts_response_payload}` acknowledged with `{"envelope_id": ...}`).
//! - Redeliveries carry `retry_attempt` and `retry_reason` on the envelope (the
//!   official Java SDK's `EventsApiEnvelope`:
//!   https://github.com/slackapi/java-slack-sdk, `slack-api-client/.../socket_mode/request/`).
//! - The event wrapper's `event_id` is "a unique identifier for this specific event,
//!   globally unique across all workspaces" (https://docs.slack.dev/apis/events-api#callback-field).
//! - `message.im` events carry `channel_type: "im"`; messages posted by bots (ours
//!   included) carry `bot_id` and edits, deletions and joins carry a `subtype`
//!   (https://docs.slack.dev/reference/events/message). `app_mention` carries `user`,
//!   `text`, `ts`, `channel` and `thread_ts` when the mention is in a thread
//!   (https://docs.slack.dev/reference/events/app_mention).
//! - Text arrives with `&`, `<` and `>` escaped as `&amp;`, `&lt;`, `&gt;`, and must be
//!   sent that way, or `<!channel>` in an answer would notify a whole channel
//!   (https://docs.slack.dev/messaging/formatting-message-text#escaping).

use serde::Deserialize;
use serde_json::Value;

use crate::message::{Identity, Inbound};

/// One frame from Slack on the socket. Unknown fields are ignored, so new ones Slack
/// adds do not break the door.
#[derive(Debug, Deserialize)]
pub struct Frame {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub envelope_id: Option<String>,
    #[serde(default)]
    pub payload: Option<Value>,
    /// On `disconnect`: why.
    #[serde(default)]
    pub reason: Option<String>,
    /// On a redelivered envelope: which attempt this is (0 the first).
    #[serde(default)]
    pub retry_attempt: Option<u64>,
    #[serde(default)]
    pub retry_reason: Option<String>,
    #[serde(default)]
    pub debug_info: Option<DebugInfo>,
}

#[derive(Debug, Deserialize)]
pub struct DebugInfo {
    /// On `hello`: seconds until Slack expects to refresh this connection.
    #[serde(default)]
    pub approximate_connection_time: Option<u64>,
}

/// The acknowledgement of an envelope, sent back on the socket it came from.
pub fn ack(envelope_id: &str) -> String {
    serde_json::json!({ "envelope_id": envelope_id }).to_string()
}

/// Where an answer is posted: a channel and, for a thread, its parent's `ts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub channel: String,
    pub thread_ts: Option<String>,
}

/// An event the door answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub inbound: Inbound,
    pub target: Target,
}

/// Why an event is not answered (for debug logs; never the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    NotAnEventCallback,
    NoEventId,
    UnsupportedEvent,
    FromABot,
    HasSubtype,
    NotADirectMessage,
    Incomplete,
    Empty,
}

#[derive(Debug, Deserialize)]
struct Callback {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    event: Option<Event>,
    #[serde(default)]
    authorizations: Vec<Authorization>,
}

#[derive(Debug, Deserialize)]
struct Authorization {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    is_bot: bool,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    channel_type: Option<String>,
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    thread_ts: Option<String>,
    #[serde(default)]
    bot_id: Option<String>,
    #[serde(default)]
    subtype: Option<String>,
}

/// Decides whether an `events_api` payload is a message for an agent and, if so, who
/// sent it, in which conversation, and where the answer goes:
///
/// - a direct message (`message` with `channel_type: "im"`, no `bot_id`, no `subtype`)
///   is answered in the DM, in its thread if it was posted in one;
/// - a mention (`app_mention`) is answered in a thread: its own, or one started on the
///   mentioning message (`thread_ts` = its `ts`), so a channel is not flooded.
///
/// The conversation (the agent's session key) is the channel, plus `/<thread_ts>` in a
/// thread: a DM's top level is one long conversation, each thread its own.
pub fn classify(payload: &Value) -> Result<Incoming, Skip> {
    let callback = Callback::deserialize(payload).map_err(|_| Skip::NotAnEventCallback)?;
    if callback.kind != "event_callback" {
        return Err(Skip::NotAnEventCallback);
    }
    let event_id = callback.event_id.ok_or(Skip::NoEventId)?;
    let event = callback.event.ok_or(Skip::UnsupportedEvent)?;
    if event.bot_id.is_some() {
        return Err(Skip::FromABot);
    }
    let user = event.user.ok_or(Skip::Incomplete)?;
    // Our own bot user, should an event about it ever lack `bot_id`.
    let ours = callback
        .authorizations
        .iter()
        .any(|a| a.is_bot && a.user_id.as_deref() == Some(user.as_str()));
    if ours {
        return Err(Skip::FromABot);
    }
    let channel = event.channel.ok_or(Skip::Incomplete)?;
    let raw = event.text.unwrap_or_default();
    let (text, thread_ts) = match event.kind.as_str() {
        "message" => {
            if event.subtype.is_some() {
                return Err(Skip::HasSubtype);
            }
            if event.channel_type.as_deref() != Some("im") {
                return Err(Skip::NotADirectMessage);
            }
            (raw.trim().to_string(), event.thread_ts)
        }
        "app_mention" => {
            let thread = event.thread_ts.or(event.ts).ok_or(Skip::Incomplete)?;
            (strip_leading_mention(&raw).to_string(), Some(thread))
        }
        _ => return Err(Skip::UnsupportedEvent),
    };
    if text.is_empty() {
        return Err(Skip::Empty);
    }
    let conversation = match &thread_ts {
        Some(thread) => format!("{channel}/{thread}"),
        None => channel.clone(),
    };
    Ok(Incoming {
        inbound: Inbound {
            from: Identity::new("slack", &user),
            conversation,
            text: unescape(&text),
            delivery: event_id,
        },
        target: Target { channel, thread_ts },
    })
}

/// A `slash_commands` payload asking for an agent (`/setup-agent`): who asked, and the
/// conversation the answer goes to. Other commands are not the router's.
/// (https://docs.slack.dev/interactivity/implementing-slash-commands: `command`,
/// `user_id`, `channel_id`.)
pub fn setup_command(payload: &Value) -> Option<(Identity, Target)> {
    let field = |name: &str| payload.get(name).and_then(Value::as_str);
    if field("command")? != "/setup-agent" {
        return None;
    }
    let user = field("user_id").filter(|u| !u.is_empty())?;
    let channel = field("channel_id").filter(|c| !c.is_empty())?;
    Some((
        Identity::new("slack", user),
        Target {
            channel: channel.to_string(),
            thread_ts: None,
        },
    ))
}

/// `<@U0BOT> what is...` -> `what is...`: the mention that summoned the bot is not part
/// of the question. Only a leading one; mentions of other people stay.
fn strip_leading_mention(text: &str) -> &str {
    let trimmed = text.trim_start();
    if let Some(rest) = trimmed.strip_prefix("<@")
        && let Some(end) = rest.find('>')
    {
        return rest[end + 1..].trim();
    }
    trimmed.trim()
}

/// Slack's three escapes undone, for the agent.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Slack's three escapes applied to an answer, so an agent's `<!channel>` or `<@U...>`
/// is shown, not acted on.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn callback(event: Value) -> Value {
        json!({
            "type": "event_callback",
            "event_id": "Ev1",
            "event": event,
            "authorizations": [{"user_id": "UBOT", "is_bot": true}]
        })
    }

    #[test]
    fn a_dm_is_answered_in_the_dm() {
        let incoming = classify(&callback(json!({
            "type": "message", "channel_type": "im", "channel": "D1",
            "user": "U1", "text": " a &lt;b&gt; &amp; c ", "ts": "1.000100"
        })));
        assert_eq!(
            incoming,
            Ok(Incoming {
                inbound: Inbound {
                    from: Identity::new("slack", "U1"),
                    conversation: "D1".to_string(),
                    text: "a <b> & c".to_string(),
                    delivery: "Ev1".to_string(),
                },
                target: Target {
                    channel: "D1".to_string(),
                    thread_ts: None
                },
            })
        );
    }

    #[test]
    fn a_dm_in_a_thread_stays_in_the_thread() -> Result<(), Skip> {
        let incoming = classify(&callback(json!({
            "type": "message", "channel_type": "im", "channel": "D1",
            "user": "U1", "text": "more", "ts": "2.0", "thread_ts": "1.0"
        })))?;
        assert_eq!(incoming.inbound.conversation, "D1/1.0");
        assert_eq!(incoming.target.thread_ts.as_deref(), Some("1.0"));
        Ok(())
    }

    #[test]
    fn a_mention_is_answered_in_a_thread_on_it() -> Result<(), Skip> {
        let incoming = classify(&callback(json!({
            "type": "app_mention", "channel": "C1", "user": "U2",
            "text": "<@UBOT> what is up?", "ts": "5.5"
        })))?;
        assert_eq!(incoming.inbound.text, "what is up?");
        assert_eq!(incoming.inbound.conversation, "C1/5.5");
        assert_eq!(incoming.target.thread_ts.as_deref(), Some("5.5"));

        let in_thread = classify(&callback(json!({
            "type": "app_mention", "channel": "C1", "user": "U2",
            "text": "<@UBOT|bot> and <@U3>?", "ts": "6.0", "thread_ts": "5.5"
        })))?;
        assert_eq!(in_thread.inbound.text, "and <@U3>?");
        assert_eq!(in_thread.target.thread_ts.as_deref(), Some("5.5"));
        Ok(())
    }

    #[test]
    fn bots_edits_channels_and_empty_messages_are_not_answered() {
        let message = |extra: Value| {
            let mut event = json!({
                "type": "message", "channel_type": "im", "channel": "D1",
                "user": "U1", "text": "hi", "ts": "1.0"
            });
            if let (Some(event), Some(extra)) = (event.as_object_mut(), extra.as_object()) {
                event.extend(extra.clone());
            }
            classify(&callback(event))
        };
        assert_eq!(message(json!({"bot_id": "B1"})), Err(Skip::FromABot));
        assert_eq!(message(json!({"user": "UBOT"})), Err(Skip::FromABot));
        assert_eq!(
            message(json!({"subtype": "message_changed"})),
            Err(Skip::HasSubtype)
        );
        assert_eq!(
            message(json!({"channel_type": "channel"})),
            Err(Skip::NotADirectMessage)
        );
        assert_eq!(message(json!({"text": "  "})), Err(Skip::Empty));
        assert_eq!(
            classify(&json!({"type": "block_actions"})),
            Err(Skip::NotAnEventCallback)
        );
        assert_eq!(
            classify(&callback(
                json!({"type": "reaction_added", "user": "U1", "channel": "C1"})
            )),
            Err(Skip::UnsupportedEvent)
        );
    }

    #[test]
    fn frames_parse_with_unknown_fields() -> serde_json::Result<()> {
        let hello: Frame = serde_json::from_str(
            r#"{"type":"hello","num_connections":1,"connection_info":{"app_id":"A1"},
                "debug_info":{"host":"h","approximate_connection_time":18060}}"#,
        )?;
        assert_eq!(hello.kind, "hello");
        assert_eq!(
            hello.debug_info.and_then(|d| d.approximate_connection_time),
            Some(18060)
        );
        let retry: Frame = serde_json::from_str(
            r#"{"type":"events_api","envelope_id":"e1","payload":{},"accepts_response_payload":false,
                "retry_attempt":1,"retry_reason":"timeout"}"#,
        )?;
        assert_eq!(retry.retry_attempt, Some(1));
        assert_eq!(ack("e1"), r#"{"envelope_id":"e1"}"#);
        Ok(())
    }

    #[test]
    fn escaping_round_trips() {
        let text = "<!channel> a & b <@U1>";
        assert_eq!(escape(text), "&lt;!channel&gt; a &amp; b &lt;@U1&gt;");
        assert_eq!(unescape(&escape(text)), text);
    }
}
