//! What the router adds to a message: p50/p99 latency of a stand-in OpenClaw gateway
//! called directly, through the dispatcher, and through the HTTP door, over 1,000 routed
//! people; the process's memory (VmRSS) with those 1,000 routes and their tokens,
//! before and after every person has sent a message; and the time from a message to a
//! sleeping agent's answer, against the fake API server (tests/fake-apiserver, in this
//! process, measured after the memory), whose Deployment controller starts the woken
//! pod after its rollout delay.
//!
//! `cargo run --release -p clawctl-router --example bench_router [messages]`
//!
//! The routing table and tokens are fixed here (no API server in the process, so the
//! memory is the router's); the watches are exercised by the tests. The HTTP door's
//! figure includes the extra loopback hop from the client to the door.
//!
//! On the development machine (2 shared cores, release build, 5,000 messages):
//! gateway alone p50 35 µs / p99 61-64 µs; the dispatcher adds p50 10-11 µs / p99
//! 16-21 µs; the HTTP door adds p50 29-31 µs / p99 45-55 µs; VmRSS 3.9 MiB at start,
//! 6.7-6.8 MiB with 1,000 routes and tokens, 8.9-9.2 MiB after all 1,000 people sent a
//! message (this binary links the fake API server for the wake figure; without it 3.2,
//! 5.6-5.8 and 7.3 MiB). A sleeping agent's answer: p50 305 ms, max 305-308 ms over 10
//! wakes against the fake's 300 ms pod start; the waking notice after about 50 µs.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clawctl_router::config::Cidr;
use clawctl_router::dispatch::{Notices, Outcome, Router};
use clawctl_router::gateway::Gateway;
use clawctl_router::http::{HttpDoor, serve};
use clawctl_router::idle::{Idle, Settings};
use clawctl_router::inbox::{Inbox, Limits};
use clawctl_router::message::{Identity, Inbound, Interim};
use clawctl_router::routes::{DeploymentRef, Route, Routes, RoutingTable, SecretRef};
use clawctl_router::tokens::{Token, Tokens};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

const ROUTES: usize = 1000;
/// Wakes measured.
const WAKES: usize = 10;
/// How long the fake's pods take to start (its rollout delay).
const POD_START: Duration = Duration::from_millis(300);
const ANSWER: &str = r#"{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The stand-in gateway: reads the request, answers a fixed completion at once.
async fn stand_in() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let svc = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let _ = req.into_body().collect().await;
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                        ANSWER.as_bytes(),
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

fn percentiles(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
    (at(0.50), at(0.99))
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let messages: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5000);
    // One line per message at info is the router's default; here it would time the
    // terminal.
    clawctl_router::log::set_level(clawctl_router::log::Level::Warn);
    let rss_start = rss_kib();
    let addr = stand_in().await;
    let url: http::Uri = format!("http://{addr}/v1/chat/completions")
        .parse()
        .expect("url");

    // 1,000 people, each routed to an agent of their own with its own token Secret.
    let secret = |i: usize| SecretRef {
        namespace: format!("team-{}", i % 10),
        name: format!("agent-p{i}-gateway-token"),
        key: "OPENCLAW_GATEWAY_TOKEN".into(),
    };
    let table = RoutingTable::from_routes((0..ROUTES).map(|i| {
        (
            format!("slack:U{i:08}"),
            Route {
                agent: format!("p{i}"),
                url: url.clone(),
                token: secret(i),
                deployment: None,
            },
        )
    }));
    let tokens = Tokens::fixed((0..ROUTES).map(|i| (secret(i), Token::new(&format!("{i:064}")))));
    let router = Arc::new(Router::new(
        Routes::fixed(table),
        tokens,
        Gateway::new(),
        Inbox::new(Limits {
            burst: u32::MAX,
            per_minute: 0,
            ..Limits::default()
        }),
        Notices::default(),
    ));
    let rss_routes = rss_kib();

    // The gateway on its own, with the same kind of client the router uses.
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let body = r#"{"model":"openclaw/default","user":"conv:0","messages":[{"role":"user","content":"hello"}]}"#;
    let direct = |client: Client<_, Full<Bytes>>, uri: http::Uri| async move {
        let req = hyper::Request::post(uri)
            .header("authorization", "Bearer x")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .expect("request");
        let resp = client.request(req).await.expect("gateway answers");
        let _ = resp.into_body().collect().await.expect("body");
    };
    for _ in 0..200 {
        direct(client.clone(), url.clone()).await;
    }
    let mut gateway_only = Vec::with_capacity(messages);
    for _ in 0..messages {
        let t = Instant::now();
        direct(client.clone(), url.clone()).await;
        gateway_only.push(t.elapsed());
    }

    // Through the dispatcher (what every front door calls), people taking turns.
    let send = |i: usize| {
        let router = router.clone();
        async move {
            let o = router
                .handle(Inbound {
                    from: Identity::new("slack", &format!("U{:08}", i % ROUTES)),
                    conversation: format!("D{i}"),
                    text: "hello".into(),
                    delivery: format!("ev{i}"),
                })
                .await;
            assert!(matches!(o, Outcome::Answer(_)), "{o:?}");
        }
    };
    for i in 0..ROUTES {
        send(i).await;
    }
    let rss_people = rss_kib();
    let mut dispatched = Vec::with_capacity(messages);
    for i in 0..messages {
        let t = Instant::now();
        send(ROUTES + i).await;
        dispatched.push(t.elapsed());
    }

    // Through the HTTP door (the identity from a pinned proxy on 127.0.0.1).
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let door_addr = listener.local_addr().expect("addr");
    let door = Arc::new(HttpDoor::new(
        router.clone(),
        vec![Cidr::parse("127.0.0.1").expect("cidr")],
        http::HeaderName::from_static("x-forwarded-email"),
    ));
    let mut emails = Vec::new();
    for i in 0..ROUTES {
        emails.push(format!("p{i}@example.com"));
    }
    // The door's people are email identities: route them too.
    let table = RoutingTable::from_routes(
        (0..ROUTES)
            .map(|i| {
                (
                    format!("slack:U{i:08}"),
                    Route {
                        agent: format!("p{i}"),
                        url: url.clone(),
                        token: secret(i),
                        deployment: None,
                    },
                )
            })
            .chain((0..ROUTES).map(|i| {
                (
                    format!("email:{}", emails[i]),
                    Route {
                        agent: format!("p{i}"),
                        url: url.clone(),
                        token: secret(i),
                        deployment: None,
                    },
                )
            })),
    );
    router.routes().set(table);
    tokio::spawn(serve(listener, door, std::future::pending()));
    let door_uri: http::Uri = format!("http://{door_addr}/v1/messages")
        .parse()
        .expect("uri");
    let mut via_http = Vec::with_capacity(messages);
    for i in 0..messages + 200 {
        let req = hyper::Request::post(door_uri.clone())
            .header("x-forwarded-email", &emails[i % ROUTES])
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(
                br#"{"conversation":"web","text":"hello"}"#,
            )))
            .expect("request");
        let t = Instant::now();
        let resp = client.request(req).await.expect("door answers");
        assert_eq!(resp.status(), 200);
        let _ = resp.into_body().collect().await.expect("body");
        if i >= 200 {
            via_http.push(t.elapsed());
        }
    }

    let (g50, g99) = percentiles(gateway_only);
    let (d50, d99) = percentiles(dispatched);
    let (h50, h99) = percentiles(via_http);
    println!("clawctl-router benchmark: {messages} messages per path, {ROUTES} routed people");
    println!(
        "  gateway alone           p50 {:>8}  p99 {:>8}",
        us(g50),
        us(g99)
    );
    println!(
        "  through the dispatcher  p50 {:>8}  p99 {:>8}   added p50 {}  p99 {}",
        us(d50),
        us(d99),
        us(d50.saturating_sub(g50)),
        us(d99.saturating_sub(g99))
    );
    println!(
        "  through the HTTP door   p50 {:>8}  p99 {:>8}   added p50 {}  p99 {}",
        us(h50),
        us(h99),
        us(h50.saturating_sub(g50)),
        us(h99.saturating_sub(g99))
    );
    println!(
        "  memory (VmRSS): {} KiB at start, {} KiB with {ROUTES} routes and tokens (+{} KiB), {} KiB after all {ROUTES} people sent a message, {} KiB at the end",
        rss_start,
        rss_routes,
        rss_routes.saturating_sub(rss_start),
        rss_people,
        rss_kib()
    );

    let (w50, wmax, notice) = wakes(url).await;
    println!(
        "  message to a sleeping agent's answer ({WAKES} wakes): p50 {:.0} ms, max {:.0} ms; waking notice after p50 {}",
        w50.as_secs_f64() * 1e3,
        wmax.as_secs_f64() * 1e3,
        us(notice)
    );
    println!(
        "    (includes the wake's server-side apply, the fake controller starting the pod after \
         its {} ms rollout delay, the watch event of a ready replica, and the stand-in's answer; \
         a real OpenClaw pod takes seconds to start, up to its 5-minute startup probe)",
        POD_START.as_millis()
    );
}

/// A sleeping agent woken by a message, `WAKES` times: the router puts it to sleep after
/// 200 ms without a message; each round waits until its pod is gone, then sends one
/// message and times the answer and the waking notice.
async fn wakes(url: http::Uri) -> (Duration, Duration, Duration) {
    use fake_apiserver::{FakeApiServer, Options};
    let server = FakeApiServer::start_with(Options {
        rollout_delay: Some(POD_START),
        ..Options::default()
    });
    let apply = |o: serde_json::Value| server.apply_as("clawctl", o, true).expect("applied");
    apply(
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}),
    );
    apply(
        serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "agent-w", "namespace": "team"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "w"}},
                 "template": {"metadata": {"labels": {"app": "w"}},
                              "spec": {"containers": [{"name": "gateway", "image": "openclaw:1"}]}}}}),
    );
    let kc = kube::config::Kubeconfig::from_yaml(&server.kubeconfig()).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    let client = kube::Client::try_from(cfg).expect("client");
    let secret = SecretRef {
        namespace: "team".into(),
        name: "agent-w-gateway-token".into(),
        key: "OPENCLAW_GATEWAY_TOKEN".into(),
    };
    let table = RoutingTable::from_routes([(
        "slack:UW".to_string(),
        Route {
            agent: "w".into(),
            url,
            token: secret.clone(),
            deployment: Some(DeploymentRef {
                namespace: "team".into(),
                name: "agent-w".into(),
            }),
        },
    )]);
    let idle = Idle::new(
        client,
        Settings {
            idle_after: Duration::from_millis(200),
            wake_timeout: Duration::from_secs(30),
        },
    );
    let router = Arc::new(
        Router::new(
            Routes::fixed(table),
            Tokens::fixed([(secret, Token::new("tok"))]),
            Gateway::new(),
            Inbox::new(Limits {
                burst: u32::MAX,
                per_minute: 0,
                ..Limits::default()
            }),
            Notices::default(),
        )
        .with_idle(idle.clone()),
    );
    let follow = tokio::spawn(router.clone().follow_routes());
    let sleeper = tokio::spawn(idle.sleep_idle());
    let asleep = || {
        let d = server
            .get("apps/v1", "Deployment", Some("team"), "agent-w")
            .expect("deployment");
        let pods = server.list("v1", "Pod", Some("team")).len();
        d["spec"]["replicas"] == 0 && pods == 0
    };
    let mut took = Vec::with_capacity(WAKES);
    let mut notices = Vec::with_capacity(WAKES);
    for round in 0..WAKES {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !asleep() {
            assert!(Instant::now() < deadline, "the agent never went to sleep");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (interim, mut rx) = Interim::channel();
        let t = Instant::now();
        let notice = tokio::spawn(async move {
            rx.recv().await.expect("the waking notice");
            t.elapsed()
        });
        let o = router
            .handle_with(
                Inbound {
                    from: Identity::new("slack", "UW"),
                    conversation: "D1".into(),
                    text: "wake up".into(),
                    delivery: format!("wake{round}"),
                },
                &interim,
            )
            .await;
        took.push(t.elapsed());
        assert!(matches!(o, Outcome::Answer(_)), "{o:?}");
        drop(interim);
        notices.push(notice.await.expect("notice task"));
    }
    // Stop watching before the fake API server goes away.
    follow.abort();
    sleeper.abort();
    let _ = (follow.await, sleeper.await);
    drop(router);
    let (p50, _) = percentiles(took.clone());
    let max = took.into_iter().max().unwrap_or_default();
    let (n50, _) = percentiles(notices);
    (p50, max, n50)
}
