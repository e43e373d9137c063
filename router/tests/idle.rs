//! Wake on message, sleep when idle, against the fake Kubernetes API server (whose
//! Deployment controller starts and stops pods, and makes them ready after its rollout
//! delay) and stand-in OpenClaw gateways; the Slack door against the fake Slack. Short
//! real durations (a few hundred milliseconds to sleep, a second to wake), no paused
//! time: the API server and the watches are real HTTP.

// Shared with tests/slack.rs, which uses all of it.
#[allow(dead_code)]
#[path = "support/fake_slack.rs"]
mod fake_slack;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clawctl_router::config::Cidr;
use clawctl_router::dispatch::{NoticeKind, Notices, Outcome, Router};
use clawctl_router::gateway::Gateway;
use clawctl_router::http::{HttpDoor, serve};
use clawctl_router::idle::{Idle, Settings};
use clawctl_router::inbox::{Inbox, Limits};
use clawctl_router::message::{Identity, Inbound, Interim};
use clawctl_router::routes::Routes;
use clawctl_router::slack::{self, SlackConfig, Token};
use clawctl_router::tokens::Tokens;
use fake_apiserver::{FakeApiServer, Options};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const FLEET_NS: &str = "clawctl-system";
const NS: &str = "research";
const ROUTES: &str = "acme-routes";
const TOKEN_KEY: &str = "OPENCLAW_GATEWAY_TOKEN";
/// How long the fake's pods take to start (and be Ready).
const POD_START: Duration = Duration::from_millis(300);
/// Longest wait for something the test expects to happen.
const WAIT: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------
// A stand-in gateway: answers "<agent> heard: <text>" and counts its calls.

struct StandIn {
    agent: String,
    addr: SocketAddr,
    calls: AtomicUsize,
}

impl StandIn {
    async fn start(agent: &str) -> Arc<StandIn> {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let me = Arc::new(StandIn {
            agent: agent.to_string(),
            addr: listener.local_addr().expect("addr"),
            calls: AtomicUsize::new(0),
        });
        let server = me.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let server = server.clone();
                        async move {
                            let body = req.into_body().collect().await.expect("body").to_bytes();
                            let body: Value = serde_json::from_slice(&body).expect("json");
                            server.calls.fetch_add(1, Ordering::SeqCst);
                            let text = body["messages"][0]["content"].as_str().unwrap_or("");
                            let answer = json!({"object": "chat.completion", "choices": [{"index": 0,
                                "message": {"role": "assistant",
                                            "content": format!("{} heard: {text}", server.agent)},
                                "finish_reason": "stop"}]});
                            Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(
                                answer.to_string(),
                            ))))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        me
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

// ---------------------------------------------------------------------------------
// The cluster side

fn apply(s: &FakeApiServer, manager: &str, object: Value, force: bool) {
    s.apply_as(manager, object, force).expect("applied");
}

/// An agent's Deployment as clawctl applies it (one replica, owned by `clawctl`), its
/// token Secret, and its route for each of `people` (Slack ids).
fn agent(s: &FakeApiServer, name: &str, image: &str, annotations: Value, replicas: i64) {
    apply(
        s,
        "clawctl",
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": format!("agent-{name}"), "namespace": NS,
                            "annotations": annotations},
               "spec": {"replicas": replicas,
                        "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": {"app": name}},
                                     "spec": {"containers": [{"name": "gateway", "image": image}]}}}}),
        true,
    );
    apply(
        s,
        "clawctl",
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": format!("agent-{name}-gateway-token"), "namespace": NS},
               "data": {TOKEN_KEY: "dG9r"}}),
        true,
    );
}

fn route(name: &str, gateway: &StandIn) -> Value {
    json!({
        "agent": name,
        "address": format!("agent-{name}.{NS}.svc.cluster.local:18789"),
        "url": format!("http://{}/v1/chat/completions", gateway.addr),
        "tokenSecret": {"namespace": NS, "name": format!("agent-{name}-gateway-token"), "key": TOKEN_KEY},
        "deployment": {"namespace": NS, "name": format!("agent-{name}")},
    })
}

fn deployment(s: &FakeApiServer, name: &str) -> Value {
    s.get("apps/v1", "Deployment", Some(NS), &format!("agent-{name}"))
        .expect("deployment")
}

fn replicas(s: &FakeApiServer, name: &str) -> i64 {
    deployment(s, name)["spec"]["replicas"]
        .as_i64()
        .unwrap_or(1)
}

fn ready(s: &FakeApiServer, name: &str) -> i64 {
    deployment(s, name)["status"]["readyReplicas"]
        .as_i64()
        .unwrap_or(0)
}

fn idle_mark(s: &FakeApiServer, name: &str) -> Option<String> {
    deployment(s, name)["metadata"]["annotations"]["clawctl.io/idle"]
        .as_str()
        .map(str::to_string)
}

/// The managers owning `spec.replicas`.
fn replicas_owners(s: &FakeApiServer, name: &str) -> Vec<String> {
    deployment(s, name)["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| !e["fieldsV1"]["f:spec"]["f:replicas"].is_null())
        .filter_map(|e| e["manager"].as_str().map(str::to_string))
        .collect()
}

/// PATCHes (the router's only writes) to an agent's Deployment so far.
fn patches(s: &FakeApiServer, name: &str) -> usize {
    let path = format!("/namespaces/{NS}/deployments/agent-{name}");
    s.requests()
        .iter()
        .filter(|r| r.verb == "patch" && r.path.ends_with(&path))
        .count()
}

async fn eventually(what: &str, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !ok() {
        assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------
// The harness

/// Agents: alice (her own Deployment), a multi-agent gateway `team` that carol and dave
/// share, `paused` suspended by `clawctl suspend`, `filed` suspended by the fleet file,
/// `stopped` scaled to zero by someone else, and `broken`, whose pods never get ready.
struct Harness {
    server: FakeApiServer,
    router: Arc<Router>,
    gateways: BTreeMap<&'static str, Arc<StandIn>>,
    started: Instant,
}

impl Harness {
    async fn start(idle_after: Duration, wake_timeout: Duration) -> Harness {
        let server = FakeApiServer::start_with(Options {
            rollout_delay: Some(POD_START),
            ..Options::default()
        });
        server.crash_images("broken");
        for ns in [FLEET_NS, NS] {
            apply(
                &server,
                "test",
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                true,
            );
        }
        let none = json!({});
        agent(&server, "alice", "openclaw:1", none.clone(), 1);
        agent(&server, "team", "openclaw:1", none.clone(), 1);
        agent(&server, "broken", "openclaw:broken", none.clone(), 1);
        agent(
            &server,
            "filed",
            "openclaw:1",
            json!({"clawctl.io/suspended-in-fleet": "true"}),
            0,
        );
        agent(&server, "stopped", "openclaw:1", none, 0);
        agent(&server, "paused", "openclaw:1", json!({}), 1);
        apply(
            &server,
            "clawctl-suspend",
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "agent-paused", "namespace": NS,
                                "annotations": {"clawctl.io/suspended": "true"}},
                   "spec": {"replicas": 0}}),
            true,
        );
        let mut gateways = BTreeMap::new();
        for name in ["alice", "team", "broken", "filed", "stopped", "paused"] {
            gateways.insert(name, StandIn::start(name).await);
        }
        let table = json!({
            "slack:UALICE": route("alice", &gateways["alice"]),
            "slack:UCAROL": route("team", &gateways["team"]),
            "slack:UDAVE": route("team", &gateways["team"]),
            "slack:UBROKEN": route("broken", &gateways["broken"]),
            "slack:UFILED": route("filed", &gateways["filed"]),
            "slack:USTOPPED": route("stopped", &gateways["stopped"]),
            "slack:UPAUSED": route("paused", &gateways["paused"]),
        });
        apply(
            &server,
            "clawctl",
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": ROUTES, "namespace": FLEET_NS},
                   "data": {"routes.json": table.to_string()}}),
            true,
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
        let mut rx = routes.subscribe();
        tokio::time::timeout(
            WAIT,
            rx.wait_for(|t| t.as_ref().is_some_and(|t| t.len() == 7)),
        )
        .await
        .expect("the routing table in time")
        .expect("routes alive");
        let idle = Idle::new(
            client.clone(),
            Settings {
                idle_after,
                wake_timeout,
            },
        );
        let router = Arc::new(
            Router::new(
                routes,
                Tokens::watching(client, Duration::from_secs(5)),
                Gateway::new(),
                Inbox::new(Limits {
                    timeout: Duration::from_secs(10),
                    burst: 100,
                    per_minute: 6000,
                    ..Limits::default()
                }),
                Notices::default(),
            )
            .with_idle(idle.clone()),
        );
        let started = Instant::now();
        tokio::spawn(router.clone().follow_routes());
        tokio::spawn(idle.sleep_idle());
        let h = Harness {
            server,
            router,
            gateways,
            started,
        };
        for name in ["alice", "team"] {
            eventually(&format!("{name} ready"), || ready(&h.server, name) == 1).await;
        }
        h
    }

    /// Sends `text` from Slack user `id`; the outcome and the notices given before it.
    async fn send(&self, id: &str, text: &str) -> (Outcome, Vec<String>) {
        static DELIVERY: AtomicUsize = AtomicUsize::new(0);
        let (interim, mut rx) = Interim::channel();
        let outcome = self
            .router
            .handle_with(
                Inbound {
                    from: Identity::new("slack", id),
                    conversation: "D1".into(),
                    text: text.into(),
                    delivery: format!("d{}", DELIVERY.fetch_add(1, Ordering::Relaxed)),
                },
                &interim,
            )
            .await;
        drop(interim);
        let mut notices = Vec::new();
        while let Ok(n) = rx.try_recv() {
            notices.push(n);
        }
        (outcome, notices)
    }

    async fn asleep(&self, name: &str) {
        eventually(&format!("{name} put to sleep"), || {
            replicas(&self.server, name) == 0 && idle_mark(&self.server, name).is_some()
        })
        .await;
    }
}

fn waking() -> String {
    Notices::default().waking
}

fn answer(o: Outcome) -> String {
    match o {
        Outcome::Answer(a) => a,
        other => panic!("expected an answer, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------
// Sleeping

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_idle_past_idle_after_is_scaled_to_zero_as_clawctl_router() {
    let idle_after = Duration::from_millis(500);
    let h = Harness::start(idle_after, Duration::from_secs(10)).await;
    h.asleep("alice").await;
    // The router's start counted as activity.
    assert!(h.started.elapsed() >= idle_after);
    // spec.replicas moved from clawctl to the router (forced), with the mark, a time.
    assert_eq!(replicas_owners(&h.server, "alice"), ["clawctl-router"]);
    let since = idle_mark(&h.server, "alice").expect("mark");
    let parsed: Result<k8s_openapi::jiff::Timestamp, _> = since.parse();
    assert!(parsed.is_ok(), "RFC 3339: {since}");
    let d = deployment(&h.server, "alice");
    let annotation_owner = d["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .find(|e| !e["fieldsV1"]["f:metadata"]["f:annotations"]["f:clawctl.io/idle"].is_null())
        .and_then(|e| e["manager"].as_str().map(str::to_string));
    assert_eq!(annotation_owner.as_deref(), Some("clawctl-router"));
    // Its pod goes; the gateway shared by carol and dave sleeps too (nobody wrote).
    eventually("alice's pod gone", || ready(&h.server, "alice") == 0).await;
    h.asleep("team").await;
    // Asleep, it is left alone: one sleep each, however long it stays idle.
    tokio::time::sleep(idle_after * 3).await;
    assert_eq!(patches(&h.server, "alice"), 1);
    assert!(h.gateways.values().all(|g| g.calls() == 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_keeps_its_agent_awake() {
    let idle_after = Duration::from_millis(800);
    let h = Harness::start(idle_after, Duration::from_secs(10)).await;
    // Messages more often than idle_after: alice never sleeps; team (no message) does.
    for i in 0..6 {
        answer(h.send("UALICE", &format!("m{i}")).await.0);
        tokio::time::sleep(idle_after / 3).await;
    }
    h.asleep("team").await;
    assert_eq!(replicas(&h.server, "alice"), 1);
    assert_eq!(patches(&h.server, "alice"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_or_stopped_agent_is_never_slept_nor_woken() {
    let idle_after = Duration::from_millis(300);
    let h = Harness::start(idle_after, Duration::from_secs(10)).await;
    h.asleep("alice").await;
    tokio::time::sleep(idle_after * 2).await;
    for (id, name) in [
        ("UPAUSED", "paused"),
        ("UFILED", "filed"),
        ("USTOPPED", "stopped"),
    ] {
        let (outcome, notices) = h.send(id, "are you there?").await;
        assert_eq!(
            outcome,
            Outcome::Notice(NoticeKind::Suspended, Notices::default().suspended),
            "{name}"
        );
        assert!(notices.is_empty(), "{name}: {notices:?}");
        assert_eq!(h.gateways[name].calls(), 0, "{name}");
        assert_eq!(patches(&h.server, name), 0, "{name}: never written");
        assert_eq!(replicas(&h.server, name), 0, "{name}");
        assert_eq!(idle_mark(&h.server, name), None, "{name}");
    }
    assert_eq!(
        replicas_owners(&h.server, "paused"),
        ["clawctl-suspend"],
        "suspend's field stays suspend's"
    );
}

// ---------------------------------------------------------------------------------
// Waking

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_to_a_sleeping_agent_gets_the_waking_notice_then_the_answer() {
    let h = Harness::start(Duration::from_millis(400), Duration::from_secs(10)).await;
    h.asleep("alice").await;
    eventually("alice's pod gone", || ready(&h.server, "alice") == 0).await;
    let before = patches(&h.server, "alice");

    let (interim, mut notices) = Interim::channel();
    let router = h.router.clone();
    let sent = Instant::now();
    let task = tokio::spawn(async move {
        let outcome = router
            .handle_with(
                Inbound {
                    from: Identity::new("slack", "UALICE"),
                    conversation: "D1".into(),
                    text: "good morning".into(),
                    delivery: "wake-1".into(),
                },
                &interim,
            )
            .await;
        (outcome, Instant::now())
    });
    // The notice comes at once, while the agent is still asleep.
    let notice = tokio::time::timeout(WAIT, notices.recv())
        .await
        .expect("a notice in time")
        .expect("a notice");
    let noticed = Instant::now();
    assert_eq!(notice, waking());
    assert!(!task.is_finished());
    let (outcome, answered) = task.await.expect("task");
    assert_eq!(answer(outcome), "alice heard: good morning");
    // The notice came before the wake, the answer after the pod started (the fake's
    // controller starts it POD_START after the scale up).
    assert!(
        answered - noticed >= POD_START / 2,
        "{:?}",
        answered - noticed
    );
    assert!(answered - sent >= POD_START, "{:?}", answered - sent);
    assert_eq!(replicas(&h.server, "alice"), 1);
    assert!(ready(&h.server, "alice") >= 1);
    assert_eq!(idle_mark(&h.server, "alice"), None);
    assert_eq!(patches(&h.server, "alice"), before + 1, "one wake");
    // Both of the router's fields went back: nobody owns the replicas (the default).
    assert!(replicas_owners(&h.server, "alice").is_empty());
    assert!(notices.recv().await.is_none(), "one notice");

    // Awake now: the next message is answered without a notice.
    let (outcome, notices) = h.send("UALICE", "again").await;
    assert_eq!(answer(outcome), "alice heard: again");
    assert!(notices.is_empty(), "{notices:?}");
    assert_eq!(h.gateways["alice"].calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_messages_for_one_sleeping_gateway_wake_it_once() {
    let h = Arc::new(Harness::start(Duration::from_millis(400), Duration::from_secs(10)).await);
    h.asleep("team").await;
    eventually("team's pod gone", || ready(&h.server, "team") == 0).await;
    let before = patches(&h.server, "team");

    // carol and dave at the same moment, then carol again (her second waits behind her
    // first, in her own queue).
    let mut tasks = Vec::new();
    for (id, text, pause) in [
        ("UCAROL", "c1", 0),
        ("UDAVE", "d1", 20),
        ("UCAROL", "c2", 0),
    ] {
        let h = h.clone();
        tasks.push(tokio::spawn(async move { h.send(id, text).await }));
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("task"));
    }
    let texts: Vec<String> = results.iter().map(|(o, _)| answer(o.clone())).collect();
    assert_eq!(
        texts,
        ["team heard: c1", "team heard: d1", "team heard: c2"]
    );
    assert_eq!(patches(&h.server, "team"), before + 1, "one wake for all");
    // Each person who waited for the wake was told; carol's second came after it.
    assert_eq!(results[0].1, [waking()]);
    assert_eq!(results[1].1, [waking()]);
    assert!(results[2].1.is_empty(), "{:?}", results[2].1);
    assert_eq!(h.gateways["team"].calls(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wake_past_the_wake_timeout_gets_its_notice() {
    let wake_timeout = Duration::from_secs(1);
    let h = Harness::start(Duration::from_millis(300), wake_timeout).await;
    h.asleep("broken").await;
    let sent = Instant::now();
    let (outcome, notices) = h.send("UBROKEN", "hello?").await;
    assert_eq!(
        outcome,
        Outcome::Notice(NoticeKind::WakeTimedOut, Notices::default().wake_timed_out)
    );
    assert_eq!(notices, [waking()]);
    let took = sent.elapsed();
    assert!(
        took >= wake_timeout && took < wake_timeout + Duration::from_secs(3),
        "{took:?}"
    );
    // The wake was asked for; the pod crash-loops, so nothing was forwarded.
    assert_eq!(replicas(&h.server, "broken"), 1);
    assert_eq!(h.gateways["broken"].calls(), 0);
}

// ---------------------------------------------------------------------------------
// The doors

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_slack_the_person_sees_the_waking_notice_then_the_answer_in_the_thread() {
    let h = Harness::start(Duration::from_millis(400), Duration::from_secs(10)).await;
    h.asleep("alice").await;
    let fake = fake_slack::FakeSlack::start().await;
    let mut config = SlackConfig::new(
        Token::new(fake_slack::APP_TOKEN, "xapp-").expect("app token"),
        Token::new(fake_slack::BOT_TOKEN, "xoxb-").expect("bot token"),
    );
    config.api_url = fake.api_url.clone();
    config.drain_timeout = Duration::from_secs(2);
    let shutdown = CancellationToken::new();
    let door = tokio::spawn(slack::run(config, h.router.clone(), shutdown.clone()));
    fake.wait_for_connection(0).await;

    let mut event = fake_slack::dm("UALICE", "D1", "wake up", "101.000002");
    event["thread_ts"] = "100.000001".into();
    fake.send_event(0, "env-1", "Ev1", event);
    let posts = fake.wait_for_posts(2).await;
    assert_eq!(posts[0].text, waking());
    assert_eq!(posts[1].text, "alice heard: wake up");
    assert!(
        posts
            .iter()
            .all(|p| p.channel == "D1" && p.thread_ts.as_deref() == Some("100.000001")),
        "{posts:#?}"
    );
    assert!(posts[1].at - posts[0].at >= POD_START / 2, "{posts:#?}");
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), door).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_door_hands_the_notices_back_with_the_reply_or_says_suspended() {
    let h = Harness::start(Duration::from_millis(400), Duration::from_secs(10)).await;
    h.asleep("alice").await;
    // The HTTP door keys people by email; alice's and paused's routes by their email too.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let door = Arc::new(HttpDoor::new(
        h.router.clone(),
        vec![Cidr::parse("127.0.0.1").expect("cidr")],
        http::HeaderName::from_static("x-forwarded-email"),
    ));
    tokio::spawn(serve(listener, door, std::future::pending()));
    let mut table: Value = serde_json::from_str(
        h.server
            .get("v1", "ConfigMap", Some(FLEET_NS), ROUTES)
            .expect("routes")["data"]["routes.json"]
            .as_str()
            .expect("json"),
    )
    .expect("json");
    table["email:alice@example.com"] = table["slack:UALICE"].clone();
    table["email:paused@example.com"] = table["slack:UPAUSED"].clone();
    apply(
        &h.server,
        "clawctl",
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": ROUTES, "namespace": FLEET_NS},
               "data": {"routes.json": table.to_string()}}),
        true,
    );
    let routes = h.router.routes().clone();
    eventually("the new routes", move || {
        routes
            .lookup(&Identity::new("email", "paused@example.com"))
            .is_some()
    })
    .await;

    let post = |email: &'static str| async move {
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .build_http::<Full<Bytes>>();
        let req = hyper::Request::post(format!("http://{addr}/v1/messages"))
            .header("x-forwarded-email", email)
            .body(Full::new(Bytes::from(
                r#"{"conversation": "web-1", "text": "hi"}"#,
            )))
            .expect("request");
        let resp = client.request(req).await.expect("response");
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        (
            status,
            serde_json::from_slice::<Value>(&body).expect("json"),
        )
    };
    let (status, body) = post("alice@example.com").await;
    assert_eq!(
        (status, &body),
        (
            200,
            &json!({"reply": "alice heard: hi", "notices": [waking()]})
        )
    );
    let (status, body) = post("paused@example.com").await;
    assert_eq!((status, body["reason"].as_str()), (503, Some("suspended")));
}
