//! The two Web API methods the door calls, over HTTPS: `apps.connections.open` (app
//! token) for a Socket Mode URL, and `chat.postMessage` (bot token) for answers. Also
//! the TLS configuration shared with the WebSocket.
//!
//! TLS: rustls with the `ring` provider and the platform verifier, the same stack
//! kube-client already puts in the tree (no OpenSSL, no second TLS library, no
//! compiled-in root list that goes stale; a cluster's own CA bundle via
//! `SSL_CERT_FILE` works). One `ClientConfig` serves both the HTTPS client and the
//! `wss://` connection (tokio-tungstenite's `Connector::Rustls`).
//!
//! Rate limits: past a method's limit "Slack will start returning a HTTP 429 Too Many
//! Requests error ... and a Retry-After header containing the number of seconds until
//! you can retry", and `chat.postMessage` "generally allows posting one message per
//! second per channel" (https://api.slack.com/docs/rate-limits).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_platform_verifier::BuilderVerifierExt;
use serde::Deserialize;

use super::config::{SlackConfig, Token};
use super::protocol::Target;

/// Web API answers are small; anything larger is not Slack.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// `ok: false` errors that no retry will fix: the token is wrong, revoked, of the
/// wrong kind or missing a scope. `run` stops on them so the pod's restarts show it.
const FATAL_ERRORS: &[&str] = &[
    "not_authed",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
    "missing_scope",
    "no_permission",
    "forbidden_team",
];

/// A failed Web API call.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The token or the app's setup is wrong; retrying will not help.
    #[error("slack refused the token or the app's setup: {0}")]
    Fatal(String),
    /// `429 Too Many Requests` with the wait Slack asked for.
    #[error("rate limited by slack for {0:?}")]
    RateLimited(Duration),
    /// Anything else (network, timeout, 5xx, an `ok: false` error).
    #[error("{0:#}")]
    Other(anyhow::Error),
}

/// The TLS client configuration for Slack's HTTPS and WSS endpoints.
pub fn tls_config() -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("rustls protocol versions")?
        .with_platform_verifier()
        .context("loading the system's trusted certificates")?
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[derive(Debug, Deserialize)]
struct ApiResponse {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    url: Option<String>,
    /// `usergroups.users.list`: the group's members.
    #[serde(default)]
    users: Option<Vec<String>>,
    /// `users.info`: the user.
    #[serde(default)]
    user: Option<UserInfo>,
}

#[derive(Debug, Deserialize)]
struct UserInfo {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    real_name: Option<String>,
    #[serde(default)]
    profile: Option<Profile>,
}

#[derive(Debug, Deserialize)]
struct Profile {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    real_name: Option<String>,
}

/// The Web API client. Cheap to share behind an `Arc`.
pub struct WebApi {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    base: String,
    app_token: Token,
    bot_token: Token,
    timeout: Duration,
    max_rate_limit_retries: u32,
    max_retry_after: Duration,
}

impl WebApi {
    pub fn new(config: &SlackConfig, tls: Arc<rustls::ClientConfig>) -> anyhow::Result<WebApi> {
        let base = super::config::normalize_api_url(&config.api_url)?;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*tls).clone())
            // https or loopback http only: normalize_api_url checked the base.
            .https_or_http()
            .enable_http1()
            .build();
        Ok(WebApi {
            client: Client::builder(TokioExecutor::new()).build(https),
            base,
            app_token: config.app_token.clone(),
            bot_token: config.bot_token.clone(),
            timeout: config.request_timeout,
            max_rate_limit_retries: config.max_rate_limit_retries,
            max_retry_after: config.max_retry_after,
        })
    }

    /// `apps.connections.open`: a fresh Socket Mode URL. "Remember to send the token in
    /// the Authorization header, not as a parameter"
    /// (https://docs.slack.dev/apis/events-api/using-socket-mode#call).
    pub async fn open_connection(&self) -> Result<String, WebError> {
        let response = self
            .call(
                "apps.connections.open",
                &self.app_token,
                "application/x-www-form-urlencoded",
                Bytes::new(),
            )
            .await?;
        response
            .url
            .ok_or_else(|| WebError::Other(anyhow::anyhow!("apps.connections.open gave no url")))
    }

    /// `chat.postMessage` of one message, waiting out `429`s as Slack asks, up to the
    /// configured number of retries.
    pub async fn post_message(&self, target: &Target, text: &str) -> Result<(), WebError> {
        let mut body = serde_json::json!({ "channel": target.channel, "text": text });
        if let (Some(thread), Some(object)) = (&target.thread_ts, body.as_object_mut()) {
            object.insert("thread_ts".to_string(), thread.clone().into());
        }
        let body = Bytes::from(body.to_string());
        let mut retries = 0;
        loop {
            match self
                .call(
                    "chat.postMessage",
                    &self.bot_token,
                    "application/json; charset=utf-8",
                    body.clone(),
                )
                .await
            {
                Err(WebError::RateLimited(wait)) if retries < self.max_rate_limit_retries => {
                    if wait > self.max_retry_after {
                        return Err(WebError::RateLimited(wait));
                    }
                    retries += 1;
                    tracing::info!(
                        channel = %target.channel,
                        wait_secs = wait.as_secs(),
                        "slack: chat.postMessage rate limited; waiting as Retry-After asks"
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(error) => return Err(error),
                Ok(_) => return Ok(()),
            }
        }
    }

    /// `users.info`: the person's display name (else real name, else handle), for
    /// naming the agent made for them (scope `users:read`).
    pub async fn user_name(&self, user: &str) -> Result<Option<String>, WebError> {
        let response = self.form("users.info", &[("user", user)]).await?;
        let Some(info) = response.user else {
            return Ok(None);
        };
        let profile = info.profile.unwrap_or(Profile {
            display_name: None,
            real_name: None,
        });
        Ok([
            profile.display_name,
            profile.real_name,
            info.real_name,
            info.name,
        ]
        .into_iter()
        .flatten()
        .find(|n| !n.trim().is_empty()))
    }

    /// `usergroups.users.list`: the members of a user group (scope `usergroups:read`).
    pub async fn group_members(&self, group: &str) -> Result<Vec<String>, WebError> {
        let response = self
            .form("usergroups.users.list", &[("usergroup", group)])
            .await?;
        Ok(response.users.unwrap_or_default())
    }

    /// A bot-token call with form parameters (ids only: letters and digits).
    async fn form(&self, method: &str, params: &[(&str, &str)]) -> Result<ApiResponse, WebError> {
        let body: Vec<String> = params
            .iter()
            .filter(|(_, v)| v.chars().all(|c| c.is_ascii_alphanumeric()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        self.call(
            method,
            &self.bot_token,
            "application/x-www-form-urlencoded",
            Bytes::from(body.join("&")),
        )
        .await
    }

    async fn call(
        &self,
        method: &str,
        token: &Token,
        content_type: &'static str,
        body: Bytes,
    ) -> Result<ApiResponse, WebError> {
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .map_err(|_| WebError::Fatal("the token is not a valid header value".to_string()))?;
        authorization.set_sensitive(true);
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}{method}", self.base))
            .header(CONTENT_TYPE, content_type)
            .header(AUTHORIZATION, authorization)
            .body(Full::new(body))
            .map_err(|e| {
                WebError::Other(anyhow::Error::new(e).context(format!("building {method}")))
            })?;

        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .with_context(|| format!("calling {method}"))?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| anyhow::anyhow!("reading the {method} response: {e}"))?
                .to_bytes();
            anyhow::Ok((status, retry_after, body))
        };
        let (status, retry_after, body) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| WebError::Other(anyhow::anyhow!("{method} timed out")))?
            .map_err(WebError::Other)?;

        if status == StatusCode::TOO_MANY_REQUESTS {
            // No (or an unreadable) Retry-After: one second, Slack's per-channel pace.
            return Err(WebError::RateLimited(Duration::from_secs(
                retry_after.unwrap_or(1).max(1),
            )));
        }
        if !status.is_success() {
            return Err(WebError::Other(anyhow::anyhow!(
                "{method} answered HTTP {status}"
            )));
        }
        let parsed: ApiResponse = serde_json::from_slice(&body)
            .map_err(|e| WebError::Other(anyhow::anyhow!("{method} answered no JSON: {e}")))?;
        if !parsed.ok {
            let error = parsed.error.unwrap_or_else(|| "unknown_error".to_string());
            if FATAL_ERRORS.contains(&error.as_str()) {
                return Err(WebError::Fatal(format!("{method}: {error}")));
            }
            return Err(WebError::Other(anyhow::anyhow!("{method}: {error}")));
        }
        Ok(parsed)
    }
}
