//! What the router adds to a message: p50/p99 latency of a stand-in OpenClaw gateway
//! called directly, through the dispatcher, and through the HTTP door, over 1,000 routed
//! people; and the process's memory (VmRSS) with those 1,000 routes and their tokens,
//! before and after every person has sent a message.
//!
//! `cargo run --release -p clawctl-router --example bench_router [messages]`
//!
//! The routing table and tokens are fixed here (no API server in the process, so the
//! memory is the router's); the watches are exercised by the tests. The HTTP door's
//! figure includes the extra loopback hop from the client to the door.
//!
//! On the development machine (2 shared cores, release build, 5,000 messages):
//! gateway alone p50 35 µs / p99 64 µs; the dispatcher adds p50 10 µs / p99 16-21 µs;
//! the HTTP door adds p50 29 µs / p99 45 µs; VmRSS 3.2 MiB at start, 5.3 MiB with
//! 1,000 routes and tokens, 6.7 MiB after all 1,000 people sent a message.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clawctl_router::config::Cidr;
use clawctl_router::dispatch::{Notices, Outcome, Router};
use clawctl_router::gateway::Gateway;
use clawctl_router::http::{HttpDoor, serve};
use clawctl_router::inbox::{Inbox, Limits};
use clawctl_router::message::{Identity, Inbound};
use clawctl_router::routes::{Route, Routes, RoutingTable, SecretRef};
use clawctl_router::tokens::{Token, Tokens};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

const ROUTES: usize = 1000;
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
}
