//! The router against the fake Kubernetes API server (routes ConfigMap, token Secrets,
//! both watched) and stand-in OpenClaw gateways (an OpenAI-compatible endpoint per agent
//! that checks the bearer token and records the session and the messages).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use clawctl_router::config::Cidr;
use clawctl_router::dispatch::{NoticeKind, Notices, Outcome, Router};
use clawctl_router::gateway::Gateway;
use clawctl_router::http::{HttpDoor, serve};
use clawctl_router::inbox::{Inbox, Limits};
use clawctl_router::message::{Dispatch, Identity, Inbound, Reply};
use clawctl_router::routes::{Routes, SecretRef};
use clawctl_router::tokens::{Token, Tokens};
use fake_apiserver::FakeApiServer;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use serde_json::{Value, json};
use tokio::net::TcpListener;

const FLEET_NS: &str = "clawctl-system";
const ROUTES: &str = "acme-routes";
const TOKEN_KEY: &str = "OPENCLAW_GATEWAY_TOKEN";
const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------
// The stand-in gateway

/// One request the stand-in received.
#[derive(Debug, Clone)]
struct Call {
    bearer: String,
    user: Option<String>,
    model: String,
    text: String,
}

/// An OpenAI-compatible chat endpoint for one agent, as OpenClaw serves it.
struct StandIn {
    agent: String,
    addr: SocketAddr,
    token: Mutex<String>,
    delay: Mutex<Duration>,
    calls: Mutex<Vec<Call>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl StandIn {
    async fn start(agent: &str, token: &str) -> Arc<StandIn> {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let me = Arc::new(StandIn {
            agent: agent.to_string(),
            addr: listener.local_addr().expect("addr"),
            token: Mutex::new(token.to_string()),
            delay: Mutex::new(Duration::ZERO),
            calls: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let server = me.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let server = server.clone();
                        async move { Ok::<_, Infallible>(server.answer(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        me
    }

    fn url(&self) -> String {
        format!("http://{}/v1/chat/completions", self.addr)
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("lock").clone()
    }

    fn set_delay(&self, d: Duration) {
        *self.delay.lock().expect("lock") = d;
    }

    async fn answer(&self, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
        let reply = |status: u16, body: Value| {
            hyper::Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body.to_string())))
                .expect("response")
        };
        if req.method() != hyper::Method::POST || req.uri().path() != "/v1/chat/completions" {
            return reply(404, json!({"error": {"message": "not found"}}));
        }
        let bearer = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("")
            .to_string();
        let body = req.into_body().collect().await.expect("body").to_bytes();
        let body: Value = serde_json::from_slice(&body).expect("json body");
        let text = body["messages"][0]["content"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let call = Call {
            bearer: bearer.clone(),
            user: body["user"].as_str().map(str::to_string),
            model: body["model"].as_str().unwrap_or("").to_string(),
            text: text.clone(),
        };
        self.calls.lock().expect("lock").push(call);
        if bearer != *self.token.lock().expect("lock") {
            return reply(
                401,
                json!({"error": {"message": "Unauthorized", "type": "unauthorized"}}),
            );
        }
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let delay = *self.delay.lock().expect("lock");
        tokio::time::sleep(delay).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        reply(
            200,
            json!({
                "id": "chatcmpl_1",
                "object": "chat.completion",
                "created": 0,
                "model": "openclaw/default",
                "choices": [{"index": 0, "message": {"role": "assistant",
                    "content": format!("{} heard: {text}", self.agent)}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
            }),
        )
    }
}

// ---------------------------------------------------------------------------------
// The cluster side

fn namespace(s: &FakeApiServer, name: &str) {
    s.apply_as(
        "test",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        true,
    )
    .expect("namespace");
}

fn secret_name(agent: &str) -> String {
    format!("agent-{agent}-gateway-token")
}

fn put_token(s: &FakeApiServer, ns: &str, agent: &str, token: &str) {
    let secret = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(secret_name(agent)),
            namespace: Some(ns.to_string()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            TOKEN_KEY.to_string(),
            ByteString(token.as_bytes().to_vec()),
        )])),
        ..Default::default()
    };
    let mut v = serde_json::to_value(&secret).expect("secret json");
    v["apiVersion"] = json!("v1");
    v["kind"] = json!("Secret");
    s.apply_as("clawctl", v, true).expect("secret");
}

/// One routes.json entry, as clawctl's fleet_context writes it.
fn route(agent: &str, ns: &str, gateway: &StandIn) -> Value {
    json!({
        "agent": agent,
        "address": format!("agent-{agent}.{ns}.svc.cluster.local:18789"),
        "url": gateway.url(),
        "tokenSecret": {"namespace": ns, "name": secret_name(agent), "key": TOKEN_KEY},
    })
}

fn put_routes(s: &FakeApiServer, routes: Value) {
    let json = serde_json::to_string_pretty(&routes).expect("routes json");
    s.apply_as(
        "clawctl",
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": ROUTES, "namespace": FLEET_NS},
               "data": {"routes.json": json}}),
        true,
    )
    .expect("routes");
}

// ---------------------------------------------------------------------------------
// The harness

struct Harness {
    server: FakeApiServer,
    router: Arc<Router>,
    routes: Routes,
    tokens: Tokens,
    alice: Arc<StandIn>,
    bob: Arc<StandIn>,
    carol: Arc<StandIn>,
}

fn limits() -> Limits {
    Limits {
        max_message_bytes: 1000,
        burst: 100,
        per_minute: 6000,
        queue_depth: 10,
        timeout: Duration::from_secs(10),
        dedup_window: Duration::from_secs(60),
        dedup_capacity: 1000,
    }
}

fn alice_id() -> Identity {
    Identity::new("slack", "U0ALICE")
}

fn bob_id() -> Identity {
    Identity::new("slack", "U0BOB")
}

impl Harness {
    /// alice (slack:U0ALICE, research) and bob (slack:U0BOB and email:bob@example.com,
    /// ops) routed; carol's gateway runs but no one is routed to it; dave's agent is in
    /// the table unrouted.
    async fn start(limits: Limits) -> Harness {
        let server = FakeApiServer::start();
        for ns in [FLEET_NS, "research", "ops"] {
            namespace(&server, ns);
        }
        let alice = StandIn::start("alice", "tok-alice").await;
        let bob = StandIn::start("bob", "tok-bob").await;
        let carol = StandIn::start("carol", "tok-carol").await;
        put_token(&server, "research", "alice", "tok-alice");
        put_token(&server, "ops", "bob", "tok-bob");
        put_token(&server, "research", "carol", "tok-carol");
        put_routes(
            &server,
            json!({
                "slack:U0ALICE": route("alice", "research", &alice),
                "slack:U0BOB": route("bob", "ops", &bob),
                "email:bob@example.com": route("bob", "ops", &bob),
                "slack:U0DAVE": {"agent": "dave", "address": "agent-dave.ops.svc.cluster.local:18789"},
            }),
        );

        let kc = kube::config::Kubeconfig::from_yaml(&server.kubeconfig()).expect("kubeconfig");
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .expect("config");
        let client = kube::Client::try_from(cfg).expect("client");
        let routes = Routes::new();
        tokio::spawn(routes.clone().watch(
            client.clone(),
            FLEET_NS.to_string(),
            ROUTES.to_string(),
        ));
        let tokens = Tokens::watching(client, Duration::from_secs(5));
        let router = Arc::new(Router::new(
            routes.clone(),
            tokens.clone(),
            Gateway::new(),
            Inbox::new(limits),
            Notices::default(),
        ));
        tokio::spawn(router.clone().follow_routes());
        let h = Harness {
            server,
            router,
            routes,
            tokens,
            alice,
            bob,
            carol,
        };
        h.wait_routes(|r| r.ready()).await;
        h
    }

    async fn wait_routes(&self, ok: impl Fn(&Routes) -> bool) {
        let mut rx = self.routes.subscribe();
        let routes = self.routes.clone();
        tokio::time::timeout(WAIT, rx.wait_for(|_| ok(&routes)))
            .await
            .expect("the routing table changed in time")
            .expect("routes alive");
    }

    async fn send(&self, from: &Identity, conversation: &str, text: &str) -> Outcome {
        static DELIVERY: AtomicUsize = AtomicUsize::new(0);
        let delivery = format!("d{}", DELIVERY.fetch_add(1, Ordering::Relaxed));
        self.send_delivery(from, conversation, text, &delivery)
            .await
    }

    async fn send_delivery(
        &self,
        from: &Identity,
        conversation: &str,
        text: &str,
        delivery: &str,
    ) -> Outcome {
        self.router
            .handle(Inbound {
                from: from.clone(),
                conversation: conversation.to_string(),
                text: text.to_string(),
                delivery: delivery.to_string(),
            })
            .await
    }
}

fn answer(o: Outcome) -> String {
    match o {
        Outcome::Answer(a) => a,
        other => panic!("expected an answer, got {other:?}"),
    }
}

fn notice_kind(o: &Outcome) -> Option<NoticeKind> {
    match o {
        Outcome::Notice(k, _) => Some(*k),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------
// Routing

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_person_reaches_their_own_agent_in_their_own_session() {
    let h = Harness::start(limits()).await;
    let a1 = answer(h.send(&alice_id(), "D1/100.1", "hello from alice").await);
    let b1 = answer(h.send(&bob_id(), "D1/100.1", "hello from bob").await);
    assert_eq!(a1, "alice heard: hello from alice");
    assert_eq!(b1, "bob heard: hello from bob");
    let a2 = answer(h.send(&alice_id(), "D1/100.1", "second").await);
    assert_eq!(a2, "alice heard: second");
    answer(h.send(&alice_id(), "D2/200.1", "another thread").await);

    let alice = h.alice.calls();
    let bob = h.bob.calls();
    // Never another person's message, always the agent's own token.
    assert_eq!(
        alice.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
        ["hello from alice", "second", "another thread"]
    );
    assert_eq!(
        bob.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
        ["hello from bob"]
    );
    assert!(alice.iter().all(|c| c.bearer == "tok-alice"));
    assert!(bob.iter().all(|c| c.bearer == "tok-bob"));
    assert!(h.carol.calls().is_empty());
    assert!(
        alice
            .iter()
            .chain(&bob)
            .all(|c| c.model == "openclaw/default")
    );
    // Sessions: the same conversation continues, another one is new, two people never
    // share, and no Slack id reaches the gateway.
    let user = |c: &Call| c.user.clone().expect("user field set");
    assert_eq!(user(&alice[0]), user(&alice[1]));
    assert_ne!(user(&alice[0]), user(&alice[2]));
    assert_ne!(user(&alice[0]), user(&bob[0]));
    assert!(alice.iter().chain(&bob).all(|c| !user(c).contains("U0")));

    // Through the Dispatch trait, as the Slack door calls it.
    let reply = h
        .router
        .dispatch(Inbound {
            from: bob_id(),
            conversation: "D9".into(),
            text: "via the trait".into(),
            delivery: "trait-1".into(),
        })
        .await;
    assert_eq!(reply, Reply::Answer("bob heard: via the trait".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_without_a_routed_agent_gets_the_notice() {
    let h = Harness::start(limits()).await;
    for who in [
        Identity::new("slack", "U0NOBODY"),
        // In the table, but an agent that talks to Slack itself.
        Identity::new("slack", "U0DAVE"),
        // Alice's Slack id as another kind of identity is not alice.
        Identity::new("email", "U0ALICE"),
    ] {
        let o = h.send(&who, "D1", "hi").await;
        assert_eq!(
            o,
            Outcome::Notice(NoticeKind::NoAgent, Notices::default().no_agent),
            "{who:?}"
        );
    }
    for g in [&h.alice, &h.bob, &h.carol] {
        assert!(g.calls().is_empty(), "{} was called", g.agent);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routing_change_takes_effect_without_a_restart() {
    let h = Harness::start(limits()).await;
    answer(h.send(&alice_id(), "D1", "before").await);
    answer(h.send(&bob_id(), "D1", "before").await);

    // alice moves to carol's agent.
    put_routes(
        &h.server,
        json!({
            "slack:U0ALICE": route("carol", "research", &h.carol),
            "slack:U0BOB": route("bob", "ops", &h.bob),
        }),
    );
    h.wait_routes(|r| r.lookup(&alice_id()).is_some_and(|r| r.agent == "carol"))
        .await;
    assert_eq!(
        answer(h.send(&alice_id(), "D1", "after").await),
        "carol heard: after"
    );
    assert_eq!(h.carol.calls()[0].bearer, "tok-carol");
    assert_eq!(h.alice.calls().len(), 1);

    // A new person appears.
    let erin = Identity::new("email", "erin@example.com");
    assert_eq!(
        notice_kind(&h.send(&erin, "c", "hi").await),
        Some(NoticeKind::NoAgent)
    );
    put_routes(
        &h.server,
        json!({
            "slack:U0ALICE": route("carol", "research", &h.carol),
            "slack:U0BOB": route("bob", "ops", &h.bob),
            "email:erin@example.com": route("alice", "research", &h.alice),
        }),
    );
    h.wait_routes(|r| r.lookup(&erin).is_some()).await;
    assert_eq!(answer(h.send(&erin, "c", "hi").await), "alice heard: hi");

    // alice's route is removed: a notice, and nothing forwarded.
    put_routes(
        &h.server,
        json!({"slack:U0BOB": route("bob", "ops", &h.bob)}),
    );
    h.wait_routes(|r| r.lookup(&alice_id()).is_none()).await;
    let o = h.send(&alice_id(), "D1", "gone?").await;
    assert_eq!(notice_kind(&o), Some(NoticeKind::NoAgent));
    assert_eq!(h.carol.calls().len(), 1);
    // Tokens are read on first use and kept while a route names their Secret: carol's
    // and alice's are forgotten, bob's is kept (the follower runs beside the watch).
    tokio::time::timeout(WAIT, async {
        while h.tokens.len() != 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("only bob's token is kept");

    // The ConfigMap deleted: nobody is routed, and the router stays ready.
    h.server.delete("v1", "ConfigMap", Some(FLEET_NS), ROUTES);
    h.wait_routes(|r| r.lookup(&bob_id()).is_none()).await;
    assert_eq!(
        notice_kind(&h.send(&bob_id(), "D1", "x").await),
        Some(NoticeKind::NoAgent)
    );
    assert!(h.routes.ready());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_token_is_used_from_the_next_message() {
    let h = Harness::start(limits()).await;
    answer(h.send(&alice_id(), "D1", "one").await);

    *h.alice.token.lock().expect("lock") = "tok-alice-2".into();
    put_token(&h.server, "research", "alice", "tok-alice-2");
    let r = SecretRef {
        namespace: "research".into(),
        name: secret_name("alice"),
        key: TOKEN_KEY.into(),
    };
    tokio::time::timeout(WAIT, async {
        while h.tokens.get(&r).await != Ok(Token::new("tok-alice-2")) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the new token arrived");
    assert_eq!(
        answer(h.send(&alice_id(), "D1", "two").await),
        "alice heard: two"
    );
    let bearers: Vec<String> = h.alice.calls().into_iter().map(|c| c.bearer).collect();
    assert_eq!(bearers, ["tok-alice", "tok-alice-2"]);

    // A token Secret that goes away: a notice, not a forward without a token.
    h.server
        .delete("v1", "Secret", Some("research"), &secret_name("alice"));
    tokio::time::timeout(WAIT, async {
        while h.tokens.get(&r).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the Secret's deletion arrived");
    let o = h.send(&alice_id(), "D1", "three").await;
    assert_eq!(notice_kind(&o), Some(NoticeKind::Unavailable));
    assert_eq!(h.alice.calls().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_refuses_the_token_gives_a_notice() {
    let h = Harness::start(limits()).await;
    *h.alice.token.lock().expect("lock") = "something else".into();
    let o = h.send(&alice_id(), "D1", "hi").await;
    assert_eq!(
        o,
        Outcome::Notice(NoticeKind::Unavailable, Notices::default().unavailable)
    );
}

// ---------------------------------------------------------------------------------
// Safety

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_message_in_flight_per_person_and_the_rest_in_order() {
    let h = Arc::new(Harness::start(limits()).await);
    h.alice.set_delay(Duration::from_millis(200));
    h.bob.set_delay(Duration::from_millis(200));
    let mut tasks = Vec::new();
    for i in 0..4 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            h.send(&alice_id(), "D1", &format!("m{i}")).await
        }));
        // Arrival order is the spawn order.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = std::time::Instant::now();
    let bob = answer(h.send(&bob_id(), "D1", "meanwhile").await);
    // Bob did not wait for alice's queue.
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(bob, "bob heard: meanwhile");
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(answer(t.await.expect("task")), format!("alice heard: m{i}"));
    }
    assert_eq!(h.alice.max_in_flight.load(Ordering::SeqCst), 1);
    let texts: Vec<String> = h.alice.calls().into_iter().map(|c| c.text).collect();
    assert_eq!(texts, ["m0", "m1", "m2", "m3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_rate_a_person_gets_the_notice() {
    let h = Harness::start(Limits {
        burst: 2,
        per_minute: 1,
        ..limits()
    })
    .await;
    answer(h.send(&alice_id(), "D1", "1").await);
    answer(h.send(&alice_id(), "D1", "2").await);
    let o = h.send(&alice_id(), "D1", "3").await;
    assert_eq!(
        o,
        Outcome::Notice(NoticeKind::RateLimited, Notices::default().rate_limited)
    );
    assert_eq!(h.alice.calls().len(), 2);
    // Bob's bucket is his own.
    answer(h.send(&bob_id(), "D1", "1").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_gets_the_notice() {
    let h = Harness::start(limits()).await;
    let o = h.send(&alice_id(), "D1", &"x".repeat(1001)).await;
    assert_eq!(
        o,
        Outcome::Notice(NoticeKind::TooLong, Notices::default().too_long)
    );
    answer(h.send(&alice_id(), "D1", &"x".repeat(1000)).await);
    assert_eq!(h.alice.calls().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_agent_gets_the_timeout_notice_and_the_next_message_goes() {
    let h = Harness::start(Limits {
        timeout: Duration::from_millis(300),
        ..limits()
    })
    .await;
    h.alice.set_delay(Duration::from_secs(5));
    let started = std::time::Instant::now();
    let o = h.send(&alice_id(), "D1", "slow").await;
    assert_eq!(
        o,
        Outcome::Notice(NoticeKind::TimedOut, Notices::default().timed_out)
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    h.alice.set_delay(Duration::ZERO);
    assert_eq!(
        answer(h.send(&alice_id(), "D1", "quick").await),
        "alice heard: quick"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_delivery_is_answered_once() {
    let h = Arc::new(Harness::start(limits()).await);
    h.alice.set_delay(Duration::from_millis(200));
    let first = tokio::spawn({
        let h = h.clone();
        async move { h.send_delivery(&alice_id(), "D1", "once", "Ev1").await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Slack's retry while the first is in flight, and again after it was answered.
    let retry = h.send_delivery(&alice_id(), "D1", "once", "Ev1").await;
    assert_eq!(retry, Outcome::Duplicate);
    assert_eq!(answer(first.await.expect("task")), "alice heard: once");
    assert_eq!(
        h.send_delivery(&alice_id(), "D1", "once", "Ev1").await,
        Outcome::Duplicate
    );
    assert_eq!(h.alice.calls().len(), 1);
    // Another person's delivery with the same id is theirs.
    answer(h.send_delivery(&bob_id(), "D1", "mine", "Ev1").await);
}

// ---------------------------------------------------------------------------------
// The HTTP door

struct Door {
    addr: SocketAddr,
}

async fn start_door(h: &Harness, trusted: &[&str]) -> Door {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let door = Arc::new(HttpDoor::new(
        h.router.clone(),
        trusted
            .iter()
            .map(|c| Cidr::parse(c).expect("cidr"))
            .collect(),
        http::HeaderName::from_static("x-forwarded-email"),
    ));
    tokio::spawn(serve(listener, door, std::future::pending()));
    Door { addr }
}

async fn call(
    door: &Door,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{}{path}", door.addr));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let resp = client.request(req).await.expect("response");
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    (status, value)
}

const MSG: &str = r#"{"conversation": "web-1", "text": "hi from the web"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_door_takes_the_identity_from_the_pinned_proxy_only() {
    let h = Harness::start(limits()).await;
    let door = start_door(&h, &["10.0.0.0/8", "127.0.0.1"]).await;
    let bob = [("x-forwarded-email", "bob@example.com")];

    let (status, body) = call(&door, "POST", "/v1/messages", &bob, MSG).await;
    assert_eq!(
        (status, &body),
        (200, &json!({"reply": "bob heard: hi from the web"}))
    );
    assert_eq!(h.bob.calls()[0].bearer, "tok-bob");

    // The proxy names nobody, or two people: refused.
    let (status, _) = call(&door, "POST", "/v1/messages", &[], MSG).await;
    assert_eq!(status, 403);
    let two = [
        ("x-forwarded-email", "bob@example.com"),
        ("x-forwarded-email", "alice@example.com"),
    ];
    assert_eq!(call(&door, "POST", "/v1/messages", &two, MSG).await.0, 403);

    // Someone without a route.
    let (status, body) = call(
        &door,
        "POST",
        "/v1/messages",
        &[("x-forwarded-email", "eve@example.com")],
        MSG,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["reason"], "no_agent");

    // Bad bodies.
    for bad in [
        "not json",
        r#"{"text": "x"}"#,
        r#"{"conversation": "c", "text": "x", "as": "alice"}"#,
    ] {
        assert_eq!(
            call(&door, "POST", "/v1/messages", &bob, bad).await.0,
            400,
            "{bad}"
        );
    }
    let long = json!({"conversation": "c", "text": "x".repeat(1001)}).to_string();
    let (status, body) = call(&door, "POST", "/v1/messages", &bob, &long).await;
    assert_eq!((status, body["reason"].as_str()), (413, Some("too_long")));
    // A body far over any allowed message is cut off while it is read.
    let huge = json!({"conversation": "c", "text": "x".repeat(100_000)}).to_string();
    let (status, body) = call(&door, "POST", "/v1/messages", &bob, &huge).await;
    assert_eq!((status, body["reason"].as_str()), (413, Some("too_long")));

    // A retried POST with the same Idempotency-Key is answered once.
    let keyed = [
        ("x-forwarded-email", "bob@example.com"),
        ("idempotency-key", "k1"),
    ];
    assert_eq!(
        call(&door, "POST", "/v1/messages", &keyed, MSG).await.0,
        200
    );
    let (status, body) = call(&door, "POST", "/v1/messages", &keyed, MSG).await;
    assert_eq!((status, body["reason"].as_str()), (409, Some("duplicate")));
    assert_eq!(h.bob.calls().len(), 2);

    assert_eq!(call(&door, "GET", "/healthz", &[], "").await.0, 200);
    assert_eq!(call(&door, "GET", "/readyz", &[], "").await.0, 200);
    assert_eq!(call(&door, "GET", "/v1/messages", &bob, "").await.0, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_is_not_the_pinned_proxy_cannot_pick_an_identity() {
    let h = Harness::start(limits()).await;
    // The proxy is pinned elsewhere; this test's client (127.0.0.1) is anyone else.
    let door = start_door(&h, &["10.20.30.40"]).await;
    for header in [
        "x-forwarded-email",
        "x-auth-request-email",
        "x-forwarded-user",
    ] {
        let (status, body) = call(
            &door,
            "POST",
            "/v1/messages",
            &[
                (header, "bob@example.com"),
                ("x-forwarded-for", "10.20.30.40"),
            ],
            MSG,
        )
        .await;
        assert_eq!(status, 403, "{header}: {body}");
    }
    // No pinned proxy at all: everyone is refused.
    let closed = start_door(&h, &[]).await;
    let bob = [("x-forwarded-email", "bob@example.com")];
    assert_eq!(
        call(&closed, "POST", "/v1/messages", &bob, MSG).await.0,
        403
    );
    assert!(h.bob.calls().is_empty());
    // Probes stay open to anyone.
    assert_eq!(call(&door, "GET", "/healthz", &[], "").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_waits_for_the_routing_table() {
    let routes = Routes::new();
    let router = Arc::new(Router::new(
        routes.clone(),
        Tokens::fixed([]),
        Gateway::new(),
        Inbox::new(limits()),
        Notices::default(),
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let door = Door {
        addr: listener.local_addr().expect("addr"),
    };
    let http_door = Arc::new(HttpDoor::new(
        router,
        vec![],
        http::HeaderName::from_static("x-forwarded-email"),
    ));
    tokio::spawn(serve(listener, http_door, std::future::pending()));
    assert_eq!(call(&door, "GET", "/readyz", &[], "").await.0, 503);
    assert_eq!(call(&door, "GET", "/healthz", &[], "").await.0, 200);
    routes.set(Default::default());
    assert_eq!(call(&door, "GET", "/readyz", &[], "").await.0, 200);
}
