//! The Slack front door's configuration: the two tokens, where the Web API lives, and
//! the knobs with defaults. Tokens are wrapped so no `Debug`, log line or error ever
//! shows them.

use std::fmt;
use std::time::Duration;

use anyhow::{Context, bail};

/// The app-level token's variable: `xapp-...`, scope `connections:write`, used only for
/// `apps.connections.open` (Socket Mode).
pub const APP_TOKEN_VAR: &str = "SLACK_APP_TOKEN";
/// The bot token's variable: `xoxb-...`, scope `chat:write` (plus `im:history` and
/// `app_mentions:read` for the events), used for `chat.postMessage`.
pub const BOT_TOKEN_VAR: &str = "SLACK_BOT_TOKEN";
/// The Web API's base URL; the tests point it at the fake Slack.
pub const API_URL_VAR: &str = "SLACK_API_URL";
/// Slack's Web API, as its methods are documented (`https://slack.com/api/<method>`).
pub const DEFAULT_API_URL: &str = "https://slack.com/api/";

/// A token that never shows itself: `Debug` prints only its kind (`xapp-***`).
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token, checking its kind by its documented prefix (`xapp-` or `xoxb-`), so
    /// swapped variables fail at start-up instead of as `not_allowed_token_type` later.
    pub fn new(value: &str, prefix: &str) -> anyhow::Result<Token> {
        let value = value.trim();
        if !value.starts_with(prefix) || value.len() == prefix.len() {
            bail!("expected a token starting with {prefix}");
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            bail!("the token contains whitespace");
        }
        Ok(Token(value.to_string()))
    }

    /// The token itself, for the one place that sends it: the `Authorization` header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.0.split('-').next().unwrap_or("");
        write!(f, "{kind}-***")
    }
}

/// Everything [`run`](super::run) needs. Build it with [`SlackConfig::from_env`]; the
/// fields after the tokens have defaults suited to production and are public so tests
/// can shorten them.
#[derive(Debug, Clone)]
pub struct SlackConfig {
    /// The app-level token (`xapp-...`), for `apps.connections.open`.
    pub app_token: Token,
    /// The bot token (`xoxb-...`), for `chat.postMessage`.
    pub bot_token: Token,
    /// The Web API's base URL, ending in `/`. Plain `http://` only to a loopback address.
    pub api_url: String,
    /// How long an event id is remembered to drop redeliveries. Slack retries an
    /// unacknowledged event up to three times over several minutes; an hour covers them.
    pub dedupe_window: Duration,
    /// At most this many event ids are remembered (oldest forgotten first).
    pub dedupe_capacity: usize,
    /// Messages dispatched and answered at the same time; later ones wait for a slot,
    /// while the socket keeps acknowledging.
    pub max_in_flight: usize,
    /// Each Web API call and each WebSocket handshake gives up after this long.
    pub request_timeout: Duration,
    /// A ping is sent when the socket has been quiet this long; no frame for twice this
    /// long and the connection is taken for dead and replaced.
    pub ping_interval: Duration,
    /// First wait before reconnecting after a failure; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest wait between reconnection attempts.
    pub max_backoff: Duration,
    /// How many times one post is retried after `429 Too Many Requests`.
    pub max_rate_limit_retries: u32,
    /// The longest `Retry-After` honoured; longer ones give the post up.
    pub max_retry_after: Duration,
    /// On shutdown, how long answers already being prepared may still be posted.
    pub drain_timeout: Duration,
}

impl SlackConfig {
    /// A configuration with the given tokens and every default.
    pub fn new(app_token: Token, bot_token: Token) -> SlackConfig {
        SlackConfig {
            app_token,
            bot_token,
            api_url: DEFAULT_API_URL.to_string(),
            dedupe_window: Duration::from_secs(3600),
            dedupe_capacity: 100_000,
            max_in_flight: 256,
            request_timeout: Duration::from_secs(30),
            ping_interval: Duration::from_secs(30),
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            max_rate_limit_retries: 5,
            max_retry_after: Duration::from_secs(120),
            drain_timeout: Duration::from_secs(20),
        }
    }

    /// Reads the configuration from the environment:
    ///
    /// - `SLACK_APP_TOKEN` (required): the app-level token, `xapp-...`;
    /// - `SLACK_BOT_TOKEN` (required): the bot token, `xoxb-...`;
    /// - `SLACK_API_URL` (optional): the Web API base, default `https://slack.com/api/`.
    ///
    /// In the cluster both tokens come from a Secret through `env[].valueFrom.secretKeyRef`.
    pub fn from_env() -> anyhow::Result<SlackConfig> {
        SlackConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any lookup, so it is tested without touching
    /// the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<SlackConfig> {
        let required = |name: &str, prefix: &str| -> anyhow::Result<Token> {
            let value = lookup(name)
                .filter(|v| !v.trim().is_empty())
                .with_context(|| format!("{name} is not set"))?;
            Token::new(&value, prefix).with_context(|| format!("{name} is not a valid token"))
        };
        let mut config = SlackConfig::new(
            required(APP_TOKEN_VAR, "xapp-")?,
            required(BOT_TOKEN_VAR, "xoxb-")?,
        );
        if let Some(url) = lookup(API_URL_VAR).filter(|v| !v.trim().is_empty()) {
            config.api_url = url.trim().to_string();
        }
        config.api_url = normalize_api_url(&config.api_url)
            .with_context(|| format!("{API_URL_VAR} is not usable"))?;
        Ok(config)
    }
}

/// Checks the Web API base and makes it end in `/`. The tokens travel in its requests,
/// so plain `http://` is refused unless the host is a loopback address (the tests' fake).
pub(crate) fn normalize_api_url(url: &str) -> anyhow::Result<String> {
    let uri: http::Uri = url.parse().context("not a URL")?;
    check_transport(&uri, "https")?;
    let mut url = url.to_string();
    if !url.ends_with('/') {
        url.push('/');
    }
    Ok(url)
}

/// `secure` (`https` or `wss`) anywhere; its plain twin only to loopback.
pub(crate) fn check_transport(uri: &http::Uri, secure: &str) -> anyhow::Result<()> {
    let plain = if secure == "wss" { "ws" } else { "http" };
    let host = uri.host().context("the URL has no host")?;
    match uri.scheme_str() {
        Some(s) if s == secure => Ok(()),
        Some(s) if s == plain && is_loopback(host) => Ok(()),
        Some(s) if s == plain => bail!("{plain}:// is allowed only to a loopback address"),
        _ => bail!("the URL must use {secure}://"),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn reads_tokens_and_defaults_the_api_url() -> anyhow::Result<()> {
        let config = SlackConfig::from_lookup(lookup(&[
            (APP_TOKEN_VAR, "xapp-1-A1-secret"),
            (BOT_TOKEN_VAR, "xoxb-2-secret"),
        ]))?;
        assert_eq!(config.api_url, "https://slack.com/api/");
        assert_eq!(config.app_token.expose(), "xapp-1-A1-secret");
        Ok(())
    }

    #[test]
    fn debug_never_shows_a_token() -> anyhow::Result<()> {
        let config = SlackConfig::from_lookup(lookup(&[
            (APP_TOKEN_VAR, "xapp-1-A1-secretvalue"),
            (BOT_TOKEN_VAR, "xoxb-2-othersecret"),
        ]))?;
        let shown = format!("{config:?}");
        assert!(!shown.contains("secretvalue"), "{shown}");
        assert!(!shown.contains("othersecret"), "{shown}");
        assert!(
            shown.contains("xapp-***") && shown.contains("xoxb-***"),
            "{shown}"
        );
        Ok(())
    }

    #[test]
    fn missing_or_swapped_tokens_are_refused_without_echoing_them() {
        let missing = SlackConfig::from_lookup(lookup(&[(BOT_TOKEN_VAR, "xoxb-2")]));
        let message = format!(
            "{:#}",
            missing.err().map(|e| e.to_string()).unwrap_or_default()
        );
        assert!(message.contains("SLACK_APP_TOKEN is not set"), "{message}");

        let swapped = SlackConfig::from_lookup(lookup(&[
            (APP_TOKEN_VAR, "xoxb-2-secretvalue"),
            (BOT_TOKEN_VAR, "xapp-1-secretvalue"),
        ]));
        let message = swapped.err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(message.contains("xapp-"), "{message}");
        assert!(!message.contains("secretvalue"), "{message}");
    }

    #[test]
    fn plain_http_only_to_loopback() -> anyhow::Result<()> {
        assert_eq!(
            normalize_api_url("http://127.0.0.1:8080/api")?,
            "http://127.0.0.1:8080/api/"
        );
        assert!(normalize_api_url("http://localhost/api/").is_ok());
        assert!(normalize_api_url("https://slack.example/api/").is_ok());
        assert!(normalize_api_url("http://slack.com/api/").is_err());
        assert!(normalize_api_url("ftp://slack.com/api/").is_err());

        let ws: http::Uri = "ws://slack.com/link".parse()?;
        assert!(check_transport(&ws, "wss").is_err());
        let local: http::Uri = "ws://[::1]:9/link".parse()?;
        assert!(check_transport(&local, "wss").is_ok());
        Ok(())
    }
}
