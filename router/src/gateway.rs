//! Forwarding one message into an agent's OpenClaw gateway, the way OpenClaw documents
//! its OpenAI-compatible endpoint (`docs/gateway/openai-http-api.md`, identical on this
//! point in 2026.4.14 and 2026.9.6):
//!
//! - `POST /v1/chat/completions` (the route's `url`), `Authorization: Bearer <token>`
//!   with the agent's own gateway token (`gateway.auth.mode="token"`);
//! - `model: "openclaw/default"`: the pod's one agent ("stable alias; safe to hardcode
//!   even if the real default agent id changes");
//! - the session: "If the request includes an OpenAI `user` string, the Gateway derives a
//!   stable session key from it" (both releases; 2026.9.6 adds "reuse the same `user`
//!   value per conversation thread", with `"user": "conv:..."` as its example). Both
//!   releases' dist build it as `agent:<agentId>:openai-user:<user>`. The router sends
//!   [`session_key`]: a hash of identity and conversation, so one person's conversations
//!   are separate sessions, two people never share one, and no Slack id or email
//!   reaches the gateway. `x-openclaw-session-key` is not used: it bypasses that
//!   derivation ("fully controls session routing"), and 2026.9.6 reserves some
//!   namespaces in it and asks for it "only when you need explicit routing control";
//! - the answer: a `chat.completion` object, text in `choices[0].message.content`.
//!
//! Non-streaming: the person gets one answer. Dropping a request (the inbox's timeout)
//! closes the connection, which the 2026.9.6 docs say cancels the agent run.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::message::Identity;
use crate::tokens::Token;

/// The agent target every routed pod answers to (its default agent).
pub const MODEL: &str = "openclaw/default";

/// The largest answer read from a gateway; a longer one is an error, not a truncation.
pub const MAX_ANSWER_BYTES: usize = 4 << 20;

/// The `user` field for `identity`'s `conversation`: `conv:` and 32 hex digits of
/// SHA-256 over both (with a version tag, so a future scheme cannot collide). Stable
/// across restarts and router replicas; the same for every agent the person is routed
/// to, which is harmless since each agent keeps its own sessions.
pub fn session_key(identity: &Identity, conversation: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"clawctl-router/session/v1\0");
    h.update(identity.key().as_bytes());
    h.update(b"\0");
    h.update(conversation.as_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(5 + 32);
    out.push_str("conv:");
    for b in &digest[..16] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Why a forward failed. Says nothing of the token or the text.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("request to the gateway failed: {0}")]
    Connect(String),
    #[error("the gateway answered {0}")]
    Status(StatusCode),
    #[error("the gateway's answer is not a chat completion: {0}")]
    Shape(String),
}

/// The HTTP client for every agent's gateway (keeps connections per host).
#[derive(Clone)]
pub struct Gateway {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway::new()
    }
}

impl Gateway {
    pub fn new() -> Gateway {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        Gateway { client }
    }

    /// Sends `text` as the user's next message in `session` and returns the answer.
    pub async fn forward(
        &self,
        url: &Uri,
        token: &Token,
        session: &str,
        text: &str,
    ) -> Result<String, GatewayError> {
        let body = json!({
            "model": MODEL,
            "user": session,
            "messages": [{"role": "user", "content": text}],
        });
        let body = serde_json::to_vec(&body).map_err(|e| GatewayError::Shape(e.to_string()))?;
        let mut auth = header::HeaderValue::try_from(format!("Bearer {}", token.expose()))
            // The message must not echo the value.
            .map_err(|_| GatewayError::Connect("the token is not a valid header value".into()))?;
        auth.set_sensitive(true);
        let request = Request::post(url.clone())
            .header(header::AUTHORIZATION, auth)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| GatewayError::Connect(e.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| GatewayError::Connect(error_chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(GatewayError::Status(status));
        }
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| GatewayError::Shape(format!("reading the answer: {e}")))?
            .to_bytes();
        answer_of(&body)
    }
}

/// The text of a non-streaming chat completion.
pub fn answer_of(body: &[u8]) -> Result<String, GatewayError> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| GatewayError::Shape(e.to_string()))?;
    let content = &v["choices"][0]["message"]["content"];
    match content {
        serde_json::Value::String(s) => Ok(s.clone()),
        // OpenAI's content-part form, should a release answer with it.
        serde_json::Value::Array(parts) => Ok(parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("")),
        _ => Err(GatewayError::Shape(
            "no choices[0].message.content".to_string(),
        )),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_keys_are_stable_per_person_and_conversation() {
        let alice = Identity::new("slack", "U012");
        let bob = Identity::new("slack", "U013");
        let k = session_key(&alice, "D1/1.2");
        assert_eq!(k, session_key(&alice, "D1/1.2"));
        assert_ne!(k, session_key(&alice, "D1/1.3"));
        assert_ne!(k, session_key(&bob, "D1/1.2"));
        // An email identity that spells the same id is another person.
        assert_ne!(k, session_key(&Identity::new("email", "U012"), "D1/1.2"));
        assert!(k.starts_with("conv:") && k.len() == 37, "{k}");
        assert!(!k.contains("U012"));
    }

    #[test]
    fn the_answer_is_the_first_choice() {
        let body = br#"{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"#;
        assert_eq!(answer_of(body).expect("answer"), "hi");
        let parts = br#"{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}]}"#;
        assert_eq!(answer_of(parts).expect("answer"), "ab");
        assert!(answer_of(br#"{"error":{"message":"x"}}"#).is_err());
        assert!(answer_of(b"<html>").is_err());
    }
}
