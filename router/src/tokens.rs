//! Each routed agent's gateway token, read from the Secret its route names and kept in
//! memory only. A Secret is watched (that one object, by a field selector, so RBAC can
//! grant it by `resourceNames`) from the first message that needs it until no route
//! names it any more, so a rotated token is used from the next message on and the
//! router holds watches only for agents people actually talk to.
//!
//! A [`Token`] never prints: its `Debug` is redacted and it has no `Display`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::routes::SecretRef;
use crate::{debug, warn};

/// A gateway token. Only [`Token::expose`] gives its value, for the Authorization header.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(Arc<str>);

impl Token {
    pub fn new(value: &str) -> Token {
        Token(Arc::from(value))
    }

    /// The secret value; for the request header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Why no token could be had. Never holds a value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("Secret {0} not found")]
    NoSecret(String),
    #[error("Secret {0} has no usable key {1}")]
    NoKey(String, String),
    #[error("Secret {0} could not be read in time")]
    NotLoaded(String),
}

/// What a Secret's watch knows.
#[derive(Clone)]
enum State {
    Loading,
    Missing,
    /// The Secret's keys whose values are non-empty UTF-8, trimmed.
    Present(Arc<BTreeMap<String, Token>>),
}

struct Watched {
    rx: watch::Receiver<State>,
    task: Option<JoinHandle<()>>,
}

/// Every token the router knows. Cheap to clone.
#[derive(Clone)]
pub struct Tokens {
    inner: Arc<Inner>,
}

struct Inner {
    client: Option<Client>,
    /// How long a first read of a Secret may take before the message gets a notice.
    load_timeout: Duration,
    secrets: Mutex<HashMap<(String, String), Watched>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let secrets = self.secrets.get_mut().unwrap_or_else(|e| e.into_inner());
        for w in secrets.values_mut() {
            if let Some(task) = w.task.take() {
                task.abort();
            }
        }
    }
}

fn secret_name(ns: &str, name: &str) -> String {
    format!("{ns}/{name}")
}

impl Tokens {
    /// Tokens read from the cluster through `client`.
    pub fn watching(client: Client, load_timeout: Duration) -> Tokens {
        Tokens::with(Some(client), load_timeout)
    }

    /// Tokens that never change and need no cluster (tests, the benchmark).
    pub fn fixed(tokens: impl IntoIterator<Item = (SecretRef, Token)>) -> Tokens {
        let t = Tokens::with(None, Duration::ZERO);
        let mut by_secret: HashMap<(String, String), BTreeMap<String, Token>> = HashMap::new();
        for (r, token) in tokens {
            by_secret
                .entry((r.namespace, r.name))
                .or_default()
                .insert(r.key, token);
        }
        let mut secrets = t.lock();
        for (k, keys) in by_secret {
            let (_, rx) = watch::channel(State::Present(Arc::new(keys)));
            secrets.insert(k, Watched { rx, task: None });
        }
        drop(secrets);
        t
    }

    fn with(client: Option<Client>, load_timeout: Duration) -> Tokens {
        Tokens {
            inner: Arc::new(Inner {
                client,
                load_timeout,
                secrets: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Watched>> {
        // A panic elsewhere while holding the lock leaves a usable map.
        self.inner.secrets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token `r` names, starting that Secret's watch if this is its first use.
    pub async fn get(&self, r: &SecretRef) -> Result<Token, TokenError> {
        let shown = secret_name(&r.namespace, &r.name);
        let mut rx = {
            let mut secrets = self.lock();
            let key = (r.namespace.clone(), r.name.clone());
            match secrets.get(&key) {
                Some(w) => w.rx.clone(),
                None => {
                    let Some(client) = self.inner.client.clone() else {
                        return Err(TokenError::NoSecret(shown));
                    };
                    let (tx, rx) = watch::channel(State::Loading);
                    let task = tokio::spawn(watch_secret(client, key.0.clone(), key.1.clone(), tx));
                    secrets.insert(
                        key,
                        Watched {
                            rx: rx.clone(),
                            task: Some(task),
                        },
                    );
                    rx
                }
            }
        };
        let loaded = tokio::time::timeout(
            self.inner.load_timeout,
            rx.wait_for(|s| !matches!(s, State::Loading)),
        )
        .await;
        let state = match loaded {
            Ok(Ok(state)) => state.clone(),
            _ => return Err(TokenError::NotLoaded(shown)),
        };
        match state {
            State::Present(keys) => keys
                .get(&r.key)
                .cloned()
                .ok_or_else(|| TokenError::NoKey(shown, r.key.clone())),
            State::Missing => Err(TokenError::NoSecret(shown)),
            State::Loading => Err(TokenError::NotLoaded(shown)),
        }
    }

    /// Stops watching (and forgets the tokens of) every Secret not in `keep`: a route
    /// that went away takes its token with it.
    pub fn retain(&self, keep: &BTreeSet<SecretRef>) {
        let keep: BTreeSet<(&str, &str)> = keep
            .iter()
            .map(|r| (r.namespace.as_str(), r.name.as_str()))
            .collect();
        let mut secrets = self.lock();
        secrets.retain(|(ns, name), w| {
            let kept = keep.contains(&(ns.as_str(), name.as_str())) || w.task.is_none();
            if !kept {
                debug!("token Secret {ns}/{name}: no route names it, forgotten");
                if let Some(task) = w.task.take() {
                    task.abort();
                }
            }
            kept
        });
    }

    /// How many Secrets are held (watched or fixed).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A Secret's values as tokens: non-empty UTF-8, surrounding whitespace trimmed (a
/// token file written with a final newline must not become a broken header).
fn tokens_of(secret: &Secret) -> BTreeMap<String, Token> {
    secret
        .data
        .iter()
        .flatten()
        .filter_map(|(k, v)| {
            let value = std::str::from_utf8(&v.0).ok()?.trim();
            (!value.is_empty()).then(|| (k.clone(), Token::new(value)))
        })
        .collect()
}

async fn watch_secret(client: Client, namespace: String, name: String, tx: watch::Sender<State>) {
    let api: Api<Secret> = Api::namespaced(client, &namespace);
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut events = watcher(api, config).default_backoff().boxed();
    let mut listed: Option<Secret> = None;
    while let Some(event) = events.next().await {
        let state = match event {
            Ok(watcher::Event::Init) => {
                listed = None;
                continue;
            }
            Ok(watcher::Event::InitApply(s)) => {
                listed = Some(s);
                continue;
            }
            Ok(watcher::Event::InitDone) => match listed.take() {
                Some(s) => State::Present(Arc::new(tokens_of(&s))),
                None => State::Missing,
            },
            Ok(watcher::Event::Apply(s)) => State::Present(Arc::new(tokens_of(&s))),
            Ok(watcher::Event::Delete(_)) => State::Missing,
            Err(e) => {
                warn!("watching Secret {namespace}/{name}: {e}");
                continue;
            }
        };
        debug!("token Secret {namespace}/{name} updated");
        tx.send_replace(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(ns: &str, name: &str, key: &str) -> SecretRef {
        SecretRef {
            namespace: ns.into(),
            name: name.into(),
            key: key.into(),
        }
    }

    #[test]
    fn a_token_never_prints() {
        let t = Token::new("s3cr3t-value");
        let shown = format!("{t:?} {:?}", Some(&t));
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert_eq!(t.expose(), "s3cr3t-value");
    }

    #[tokio::test]
    async fn fixed_tokens_answer_by_secret_and_key() {
        let tokens = Tokens::fixed([(r("a", "s", "K"), Token::new("t1"))]);
        assert_eq!(tokens.get(&r("a", "s", "K")).await, Ok(Token::new("t1")));
        assert!(matches!(
            tokens.get(&r("a", "s", "other")).await,
            Err(TokenError::NoKey(..))
        ));
        assert!(matches!(
            tokens.get(&r("b", "s", "K")).await,
            Err(TokenError::NoSecret(..))
        ));
        // Errors name the Secret, never a value.
        let e = tokens.get(&r("a", "s", "other")).await.expect_err("no key");
        assert!(!e.to_string().contains("t1"));
    }

    #[test]
    fn secret_values_are_trimmed_and_empty_ones_dropped() {
        let s: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "s"},
            "data": {"A": "dG9rCg==", "B": "", "C": "/w=="}
        }))
        .expect("secret");
        let t = tokens_of(&s);
        assert_eq!(t.get("A").map(Token::expose), Some("tok"));
        assert!(!t.contains_key("B") && !t.contains_key("C"));
    }
}
