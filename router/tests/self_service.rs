//! `/setup-agent` end to end in one process: the fleet applied by clawctl's own library
//! to the fake API server, the router (Slack door against the fake Slack, HTTP door,
//! routes.json and claims watched) making agents with clawctl's code, and a stand-in
//! gateway answering as the new agent. Self-service off makes nothing; on, an admitted
//! person gets a claim, the agent's objects and a "ready" reply, then their DMs reach
//! it; people not admitted (by id, domain or group) get nothing; a second request is
//! "you already have one"; `maxAgents` is the limit.

// Shared with tests/slack.rs, which uses the parts this file does not.
#[allow(dead_code)]
#[path = "support/fake_slack.rs"]
mod fake_slack;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use clawctl::cluster::Target;
use clawctl::ops::self_service::provision::Place;
use clawctl_router::claims::ClaimRoutes;
use clawctl_router::config::Cidr;
use clawctl_router::dispatch::{Notices, Router};
use clawctl_router::gateway::Gateway;
use clawctl_router::http::{HttpDoor, serve};
use clawctl_router::inbox::{Inbox, Limits};
use clawctl_router::message::Identity;
use clawctl_router::provision::{SelfService, SetupKind, SetupNotices};
use clawctl_router::routes::Routes;
use clawctl_router::slack::{self, Directory, SlackConfig, Token};
use clawctl_router::tokens::Tokens;
use fake_apiserver::{FakeApiServer, Options};
use fake_slack::{APP_TOKEN, BOT_TOKEN, FakeSlack, dm};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const FLEET_NS: &str = "clawctl-system";
const ROUTER_NS: &str = "demo-router";
const TEAM_NS: &str = "helpdesk";
const IMAGE: &str = "ghcr.io/openclaw/openclaw:2026.4.14";

fn fleet(self_service: bool) -> String {
    let block = if self_service {
        "    selfService:
      team: helpdesk
      maxAgents: 2
      allow: {slack: [U0DANA], slackGroups: [S0HELP], emails: [\"*@example.com\"]}
      defaults: {soulInline: \"You help.\"}
"
    } else {
        ""
    };
    format!(
        "apiVersion: clawctl.io/v1alpha1
kind: Fleet
metadata: {{name: demo}}
spec:
  image: {IMAGE}
  routing:
    router:
      image: ghcr.io/clawctl/clawctl-router:0.1.0
      http: {{proxy: [127.0.0.1]}}
{block}  defaults:
    model: {{primary: anthropic/claude-sonnet-4-20250514}}
  teams: [{{name: core}}, {{name: helpdesk}}]
  agents:
    - {{name: alice, team: core, user: {{slack: U0ALICE}}, soulInline: \"You are alice.\"}}
"
    )
}

/// A scratch folder holding the fleet file and the kubeconfig.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "clawctl-router-selfservice-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

struct Quiet;
impl clawctl::cluster::wait::Progress for Quiet {
    fn changed(
        &self,
        _: &clawctl::cluster::wait::Workload,
        _: &clawctl::cluster::readiness::Rollout,
    ) {
    }
}
impl clawctl::ops::apply::Reporter for Quiet {
    fn step(&self, _: &str, _: usize) {}
    fn object(&self, _: &clawctl::plan::Change, _: &clawctl::ops::apply::Outcome) {}
    fn step_done(&self, _: &str) {}
    fn waiting(&self, _: usize) {}
}

/// `clawctl apply` of `text`, through the library.
async fn apply(dir: &std::path::Path, kubeconfig: &std::path::Path, text: &str) {
    let file = dir.join("fleet.yaml");
    std::fs::write(&file, text).expect("fleet file");
    let request = clawctl::ops::planning::Request {
        fleet: &file,
        templates: None,
        target: Target {
            kubeconfig: Some(kubeconfig.to_path_buf()),
            context: None,
        },
        delete_volumes: false,
        concurrency: 4,
        hold_image_changes: false,
    };
    let planned = clawctl::ops::planning::plan_and_check(&request)
        .await
        .expect("planned");
    let options = clawctl::ops::apply::Options {
        force_conflicts: false,
        prune: false,
        concurrency: 4,
        wait: None,
        history_max: 10,
    };
    let report = clawctl::ops::apply::apply(planned, &options, &Quiet)
        .await
        .expect("applied");
    assert!(!report.failed(), "apply failed");
}

/// A stand-in OpenClaw chat endpoint answering "<agent> heard: <text>" to its token.
struct StandIn {
    addr: SocketAddr,
    token: Mutex<String>,
}

impl StandIn {
    async fn start() -> Arc<StandIn> {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let me = Arc::new(StandIn {
            addr: listener.local_addr().expect("addr"),
            token: Mutex::new(String::new()),
        });
        let server = me.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let server = server.clone();
                        async move {
                            let bearer = req
                                .headers()
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                .and_then(|v| v.strip_prefix("Bearer "))
                                .unwrap_or("")
                                .to_string();
                            let body = req.into_body().collect().await.expect("body").to_bytes();
                            let body: Value = serde_json::from_slice(&body).expect("json");
                            let text = body["messages"][0]["content"].as_str().unwrap_or("");
                            let ok = bearer == *server.token.lock().expect("lock");
                            let (status, body) = if ok {
                                (
                                    200,
                                    json!({"choices": [{"index": 0, "message": {"role": "assistant",
                                    "content": format!("helper heard: {text}")}, "finish_reason": "stop"}]}),
                                )
                            } else {
                                (401, json!({"error": {"message": "Unauthorized"}}))
                            };
                            Ok::<_, Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(body.to_string())))
                                    .expect("response"),
                            )
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
}

fn slack_config(fake: &FakeSlack) -> SlackConfig {
    let mut config = SlackConfig::new(
        Token::new(APP_TOKEN, "xapp-").expect("app token"),
        Token::new(BOT_TOKEN, "xoxb-").expect("bot token"),
    );
    config.api_url = fake.api_url.clone();
    config.request_timeout = Duration::from_secs(5);
    config
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

/// The router as `main` wires it, its gateways all at `gateway`.
async fn router(
    server: &FakeApiServer,
    fake: &FakeSlack,
    gateway: &StandIn,
    self_service: bool,
) -> Arc<Router> {
    // The router's own identity: its ServiceAccount, bound only by the Roles clawctl
    // rendered (the fake API server enforces RBAC), so what the router may do is tested.
    let kc = kube::config::Kubeconfig::from_yaml(
        &server.kubeconfig_for_service_account(ROUTER_NS, "demo-router"),
    )
    .expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    let client = kube::Client::try_from(cfg).expect("client");
    let routes = Routes::new();
    tokio::spawn(
        routes
            .clone()
            .watch(client.clone(), FLEET_NS.into(), "demo-routes".into()),
    );
    let url = format!("http://{}/v1/chat/completions", gateway.addr);
    let claim_routes = ClaimRoutes {
        namespace: TEAM_NS.into(),
        url_of: Arc::new(move |_| url.clone()),
    };
    tokio::spawn(claim_routes.watch(
        routes.clone(),
        client.clone(),
        ROUTER_NS.into(),
        "demo".into(),
    ));
    let mut router = Router::new(
        routes,
        Tokens::watching(client.clone(), Duration::from_secs(5)),
        Gateway::new(),
        Inbox::new(limits()),
        Notices::default(),
    );
    if self_service {
        let place = Place {
            fleet: "demo".into(),
            fleet_namespace: FLEET_NS.into(),
            router_namespace: ROUTER_NS.into(),
        };
        router = router.with_self_service(SelfService::new(
            client,
            place,
            Some(Arc::new(
                Directory::new(&slack_config(fake)).expect("directory"),
            )),
            Duration::from_secs(20),
            SetupNotices::default(),
        ));
    }
    Arc::new(router)
}

fn claims(server: &FakeApiServer) -> Vec<String> {
    server
        .list("v1", "ConfigMap", Some(ROUTER_NS))
        .iter()
        .filter_map(|c| c["metadata"]["name"].as_str().map(str::to_string))
        .filter(|n| n.starts_with("claim-"))
        .collect()
}

async fn post_setup(door: SocketAddr, email: &str) -> (u16, Value) {
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let request = hyper::Request::post(format!("http://{door}/setup-agent"))
        .header("x-forwarded-email", email)
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = client.request(request).await.expect("response");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, serde_json::from_slice(&body).expect("json body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_self_service_nothing_is_made() {
    let server = FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(50)),
        ..Options::default()
    });
    let dir = scratch("off");
    let kubeconfig = server.write_kubeconfig(&dir);
    apply(&dir, &kubeconfig, &fleet(false)).await;
    let fake = FakeSlack::start().await;
    let gateway = StandIn::start().await;
    // Configured for self-service, but the fleet offers none (no bundle was stored).
    for configured in [true, false] {
        let router = router(&server, &fake, &gateway, configured).await;
        let (kind, text) = router.setup_agent(&Identity::new("slack", "U0DANA")).await;
        assert_eq!(kind, SetupKind::Off, "{text}");
        assert!(text.contains("aren't offered"), "{text}");
    }
    assert!(claims(&server).is_empty());
    assert!(
        server
            .list("apps/v1", "Deployment", Some(TEAM_NS))
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admitted_people_get_an_agent_that_answers_them_and_nobody_else_does() {
    let server = FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(50)),
        ..Options::default()
    });
    let dir = scratch("on");
    let kubeconfig = server.write_kubeconfig(&dir);
    apply(&dir, &kubeconfig, &fleet(true)).await;
    let fake = FakeSlack::start().await;
    let gateway = StandIn::start().await;
    let router = router(&server, &fake, &gateway, true).await;
    let shutdown = CancellationToken::new();
    tokio::spawn(slack::run(
        slack_config(&fake),
        router.clone(),
        shutdown.clone(),
    ));
    fake.wait_for_connection(0).await;

    // Not admitted: not in allow.slack and not in S0HELP. Nothing is made.
    fake.send_command(0, "e1", "/setup-agent", "U0EVE", "D0EVE");
    let posts = fake.wait_for_posts(1).await;
    assert_eq!(posts[0].channel, "D0EVE");
    assert!(
        posts[0].text.contains("not among the people"),
        "{}",
        posts[0].text
    );
    assert!(claims(&server).is_empty());

    // Admitted by id: a claim, the agent's objects, a ready reply, named after the person.
    fake.send_command(0, "e2", "/setup-agent", "U0DANA", "D0DANA");
    let posts = fake.wait_for_posts(2).await;
    assert_eq!(posts[1].channel, "D0DANA");
    assert!(
        posts[1].text.contains("dana-scully is ready"),
        "{}",
        posts[1].text
    );
    assert_eq!(claims(&server), vec!["claim-dana-scully".to_string()]);
    assert!(
        server
            .get("apps/v1", "Deployment", Some(TEAM_NS), "agent-dana-scully")
            .is_some()
    );
    let token = server
        .get(
            "v1",
            "Secret",
            Some(TEAM_NS),
            "agent-dana-scully-gateway-token",
        )
        .expect("token Secret");
    let token = token["data"]["OPENCLAW_GATEWAY_TOKEN"]
        .as_str()
        .map(|b64| {
            use base64::Engine;
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .expect("base64"),
            )
            .expect("utf-8")
        })
        .expect("a generated token");
    *gateway.token.lock().expect("lock") = token;

    // The new agent answers its person at once.
    fake.send_event(0, "e3", "Ev3", dm("U0DANA", "D0DANA", "hello", "1.0"));
    let posts = fake.wait_for_posts(3).await;
    assert_eq!(posts[2].text, "helper heard: hello");

    // A second request makes nothing more.
    fake.send_command(0, "e4", "/setup-agent", "U0DANA", "D0DANA");
    let posts = fake.wait_for_posts(4).await;
    assert!(
        posts[3]
            .text
            .contains("already have an agent (dana-scully)"),
        "{}",
        posts[3].text
    );

    // Admitted by a Slack user group (asked of Slack): the second and last (maxAgents 2).
    fake.send_command(0, "e5", "/setup-agent", "U0GROUPIE", "D0GRU");
    let posts = fake.wait_for_posts(5).await;
    assert!(
        posts[4].text.contains("gru-pie is ready"),
        "{}",
        posts[4].text
    );

    // The HTTP door: a domain not allowed is refused; an allowed one meets the limit.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let door_addr = listener.local_addr().expect("addr");
    let door = Arc::new(HttpDoor::new(
        router.clone(),
        vec![Cidr::parse("127.0.0.1").expect("cidr")],
        http::HeaderName::from_static("x-forwarded-email"),
    ));
    tokio::spawn(serve(listener, door, std::future::pending()));
    let (status, body) = post_setup(door_addr, "mallory@elsewhere.org").await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (403, Some("not_admitted"))
    );
    let (status, body) = post_setup(door_addr, "erin@example.com").await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (409, Some("full")),
        "{body}"
    );
    assert!(body["notice"].as_str().unwrap_or("").contains("limit is 2"));
    assert_eq!(claims(&server).len(), 2);
    shutdown.cancel();

    // What the router's identity may do stops there (hostile): nothing in a team
    // namespace of the file, no RBAC in the self-service one, not the ApplySet parent.
    let router_client = {
        let kc = kube::config::Kubeconfig::from_yaml(
            &server.kubeconfig_for_service_account(ROUTER_NS, "demo-router"),
        )
        .expect("kubeconfig");
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .expect("config");
        kube::Client::try_from(cfg).expect("client")
    };
    let refused = |what: &str, result: Result<(), kube::Error>| match result {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("the router may {what}: {other:?}"),
    };
    use k8s_openapi::api::core::v1::{ConfigMap, Secret};
    use k8s_openapi::api::rbac::v1::Role;
    use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "planted"}})).expect("cm");
    refused(
        "create a ConfigMap in team core",
        Api::<ConfigMap>::namespaced(router_client.clone(), "core")
            .create(&PostParams::default(), &cm)
            .await
            .map(|_| ()),
    );
    refused(
        "list Secrets in team core",
        Api::<Secret>::namespaced(router_client.clone(), "core")
            .list(&ListParams::default())
            .await
            .map(|_| ()),
    );
    let role: Role = serde_json::from_value(json!({"metadata": {"name": "wider"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}))
    .expect("role");
    refused(
        "create a Role in the self-service namespace",
        Api::<Role>::namespaced(router_client.clone(), TEAM_NS)
            .create(&PostParams::default(), &role)
            .await
            .map(|_| ()),
    );
    let parent = clawctl::cluster::applyset::parent_name("demo");
    refused(
        "patch the ApplySet parent",
        Api::<ConfigMap>::namespaced(router_client, FLEET_NS)
            .patch(
                &parent,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"labels": {"planted": "yes"}}})),
            )
            .await
            .map(|_| ()),
    );
}
