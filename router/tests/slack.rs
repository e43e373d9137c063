//! The Slack front door against the fake Slack (tests/support/fake_slack.rs), with stub
//! dispatchers: acknowledgement before the answer, where answers go, redeliveries,
//! splitting, notices, reconnection, the bot's own messages, rate limits, shutdown.

#[path = "support/fake_slack.rs"]
mod fake_slack;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clawctl_router::message::{Dispatch, Identity, Inbound, Reply};
use clawctl_router::slack::{self, MESSAGE_LIMIT, SlackConfig, Token, split_message};
use fake_slack::{APP_TOKEN, BOT_TOKEN, FakeSlack, Record, dm, mention};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A dispatcher that records what it was given and answers with `reply`, optionally
/// waiting for the test to release each answer.
struct Stub {
    seen: Mutex<Vec<Inbound>>,
    reply: fn(&Inbound) -> Reply,
    gate: Option<Arc<Semaphore>>,
}

impl Stub {
    fn new(reply: fn(&Inbound) -> Reply) -> Arc<Stub> {
        Arc::new(Stub {
            seen: Mutex::new(Vec::new()),
            reply,
            gate: None,
        })
    }

    /// Answers only as the returned semaphore is given permits.
    fn gated(reply: fn(&Inbound) -> Reply) -> (Arc<Stub>, Arc<Semaphore>) {
        let gate = Arc::new(Semaphore::new(0));
        let stub = Arc::new(Stub {
            seen: Mutex::new(Vec::new()),
            reply,
            gate: Some(gate.clone()),
        });
        (stub, gate)
    }

    fn seen(&self) -> Vec<Inbound> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Dispatch for Stub {
    fn dispatch(&self, message: Inbound) -> impl Future<Output = Reply> + Send {
        let reply = (self.reply)(&message);
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(message);
        }
        let gate = self.gate.clone();
        async move {
            if let Some(gate) = gate
                && let Ok(permit) = gate.acquire().await
            {
                permit.forget();
            }
            reply
        }
    }
}

fn echo(message: &Inbound) -> Reply {
    Reply::Answer(format!("echo: {}", message.text))
}

/// The door running against a fresh fake.
struct Door {
    fake: FakeSlack,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

fn config(fake: &FakeSlack, app_token: &str) -> SlackConfig {
    let mut config = SlackConfig::new(
        Token::new(app_token, "xapp-").expect("app token"),
        Token::new(BOT_TOKEN, "xoxb-").expect("bot token"),
    );
    config.api_url = fake.api_url.clone();
    config.min_backoff = Duration::from_millis(50);
    config.max_backoff = Duration::from_millis(200);
    config.request_timeout = Duration::from_secs(5);
    config.drain_timeout = Duration::from_secs(2);
    config
}

impl Door {
    async fn start(dispatch: Arc<Stub>) -> Door {
        Door::start_with(FakeSlack::start().await, dispatch).await
    }

    async fn start_with(fake: FakeSlack, dispatch: Arc<Stub>) -> Door {
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(slack::run(
            config(&fake, APP_TOKEN),
            dispatch,
            shutdown.clone(),
        ));
        fake.wait_for_connection(0).await;
        Door {
            fake,
            shutdown,
            task,
        }
    }

    async fn stop(self) -> Vec<Record> {
        self.shutdown.cancel();
        let outcome = tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the door stops within 5 s")
            .expect("the door's task did not panic");
        assert!(outcome.is_ok(), "{outcome:?}");
        self.fake.log()
    }
}

fn position(log: &[Record], wanted: impl Fn(&Record) -> bool) -> usize {
    log.iter()
        .position(wanted)
        .unwrap_or_else(|| panic!("not in the log: {log:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dm_is_acknowledged_before_it_is_answered_in_the_dm() {
    let (stub, gate) = Stub::gated(echo);
    let door = Door::start(stub.clone()).await;

    door.fake.send_event(
        0,
        "env-1",
        "Ev1",
        dm("U1", "D1", "hello &amp; hi", "100.000001"),
    );
    door.fake.wait_for_ack("env-1").await;
    assert!(
        door.fake.posts().is_empty(),
        "acknowledged while the answer is still being prepared"
    );

    gate.add_permits(1);
    let posts = door.fake.wait_for_posts(1).await;
    assert_eq!(posts[0].channel, "D1");
    assert_eq!(
        posts[0].thread_ts, None,
        "a top-level DM is answered at the top level"
    );
    assert_eq!(
        posts[0].text, "echo: hello &amp; hi",
        "unescaped in, escaped out"
    );
    assert_eq!(
        stub.seen(),
        vec![Inbound {
            from: Identity::new("slack", "U1"),
            conversation: "D1".to_string(),
            text: "hello & hi".to_string(),
            delivery: "Ev1".to_string(),
        }]
    );

    let log = door.stop().await;
    let ack = position(
        &log,
        |r| matches!(r, Record::Ack { envelope_id, .. } if envelope_id == "env-1"),
    );
    let post = position(&log, |r| matches!(r, Record::Post(_)));
    assert!(ack < post);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dm_in_a_thread_is_answered_in_that_thread() {
    let stub = Stub::new(echo);
    let door = Door::start(stub.clone()).await;

    let mut event = dm("U1", "D1", "and then?", "101.000002");
    event["thread_ts"] = "100.000001".into();
    door.fake.send_event(0, "env-1", "Ev1", event);

    let posts = door.fake.wait_for_posts(1).await;
    assert_eq!(posts[0].channel, "D1");
    assert_eq!(posts[0].thread_ts.as_deref(), Some("100.000001"));
    assert_eq!(stub.seen()[0].conversation, "D1/100.000001");
    door.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_is_answered_in_a_thread_on_it() {
    let stub = Stub::new(echo);
    let door = Door::start(stub.clone()).await;

    door.fake.send_event(
        0,
        "env-1",
        "Ev1",
        mention("U2", "C1", "what is up?", "200.000001"),
    );

    let posts = door.fake.wait_for_posts(1).await;
    assert_eq!(posts[0].channel, "C1");
    assert_eq!(posts[0].thread_ts.as_deref(), Some("200.000001"));
    assert_eq!(posts[0].text, "echo: what is up?");
    let seen = stub.seen();
    assert_eq!(seen[0].from, Identity::new("slack", "U2"));
    assert_eq!(seen[0].conversation, "C1/200.000001");
    door.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_event_is_answered_once_even_on_another_connection() {
    let stub = Stub::new(echo);
    let door = Door::start(stub.clone()).await;
    let event = || dm("U1", "D1", "once please", "100.000001");

    door.fake.send_event(0, "env-1", "Ev1", event());
    door.fake.resend_event(0, "env-2", "Ev1", event(), 1);
    door.fake.disconnect(0);
    door.fake.wait_for_connection(1).await;
    door.fake.resend_event(1, "env-3", "Ev1", event(), 2);
    // A later, different event on the same connection: once it is answered, the
    // redeliveries before it have been handled.
    door.fake
        .send_event(1, "env-4", "Ev2", dm("U1", "D1", "next", "100.000002"));

    let posts = door.fake.wait_for_posts(2).await;
    // Acknowledgements travel on the sockets, posts over HTTP: wait for both.
    for envelope in ["env-1", "env-2", "env-3", "env-4"] {
        door.fake.wait_for_ack(envelope).await;
    }
    let mut door_acks = door.fake.acks();
    door_acks.sort();
    let log = door.stop().await;
    assert_eq!(fake_slack::posts(&log).len(), 2, "{posts:#?}");
    let deliveries: Vec<String> = stub.seen().into_iter().map(|m| m.delivery).collect();
    assert_eq!(deliveries, vec!["Ev1", "Ev2"]);
    assert_eq!(
        door_acks,
        vec!["env-1", "env-2", "env-3", "env-4"],
        "every delivery acknowledged (or Slack would retry it again)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_answer_is_split_into_ordered_posts_under_the_limit() {
    fn long(_: &Inbound) -> Reply {
        let paragraphs: Vec<String> = (0..60)
            .map(|i| format!("Paragraph {i}: {}", "lorem ipsum ".repeat(25)))
            .collect();
        let code = (0..400)
            .map(|i| format!("    step_{i}();"))
            .collect::<Vec<_>>()
            .join("\n");
        Reply::Answer(format!(
            "{}\n\n```rust\n{code}\n```\n\nThe end.",
            paragraphs.join("\n\n")
        ))
    }
    let stub = Stub::new(long);
    let door = Door::start(stub).await;
    let Reply::Answer(answer) = long(&Inbound {
        from: Identity::new("slack", "U1"),
        conversation: String::new(),
        text: String::new(),
        delivery: String::new(),
    }) else {
        unreachable!("long() answers")
    };
    let expected = split_message(&answer, MESSAGE_LIMIT);
    assert!(expected.len() >= 4, "the answer needs several messages");

    door.fake.send_event(
        0,
        "env-1",
        "Ev1",
        mention("U1", "C1", "tell me everything", "300.1"),
    );
    let posts = door.fake.wait_for_posts(expected.len()).await;
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, expected, "all parts, in order");
    for post in &posts {
        assert!(post.text.chars().count() <= MESSAGE_LIMIT);
        assert_eq!(post.channel, "C1");
        assert_eq!(post.thread_ts.as_deref(), Some("300.1"));
    }
    assert!(posts[0].text.starts_with("Paragraph 0:"));
    assert!(posts[posts.len() - 1].text.ends_with("The end."));
    door.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_is_posted_and_a_duplicate_reply_posts_nothing() {
    fn by_text(message: &Inbound) -> Reply {
        match message.text.as_str() {
            "dup" => Reply::Duplicate,
            "who" => Reply::Notice("You have no agent yet.".to_string()),
            _ => Reply::Answer("<!channel> look".to_string()),
        }
    }
    let stub = Stub::new(by_text);
    let door = Door::start(stub.clone()).await;

    door.fake
        .send_event(0, "env-1", "Ev1", dm("U1", "D1", "dup", "1.1"));
    door.fake
        .send_event(0, "env-2", "Ev2", dm("U1", "D1", "who", "1.2"));
    let posts = door.fake.wait_for_posts(1).await;
    assert_eq!(posts[0].text, "You have no agent yet.");

    door.fake
        .send_event(0, "env-3", "Ev3", dm("U1", "D1", "last", "1.3"));
    let posts = door.fake.wait_for_posts(2).await;
    assert_eq!(posts.len(), 2, "nothing for the duplicate: {posts:#?}");
    assert_eq!(stub.seen().len(), 3);
    assert_eq!(
        posts[1].text, "&lt;!channel&gt; look",
        "an agent cannot notify a whole channel"
    );
    door.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_opens_a_new_connection_first_and_loses_no_event() {
    let stub = Stub::new(echo);
    let door = Door::start(stub.clone()).await;

    door.fake.disconnect(0);
    door.fake.wait_for_connection(1).await;
    let log = door.fake.log();
    assert!(
        !log.iter().any(|r| matches!(r, Record::Closed { conn: 0 })),
        "the old connection is still open when the new one is up: {log:#?}"
    );

    // Slack may still deliver on the old connection until it closes it.
    door.fake
        .send_event(0, "env-1", "Ev1", dm("U1", "D1", "on the old one", "1.1"));
    door.fake
        .send_event(1, "env-2", "Ev2", dm("U2", "D2", "on the new one", "1.2"));
    door.fake.wait_for_posts(2).await;
    door.fake.wait_for_ack("env-1").await;

    // Slack closes the old connection; the door does not open another for it.
    door.fake.close(0);
    door.fake
        .wait_for("connection 0 closed", |log| {
            log.iter().any(|r| matches!(r, Record::Closed { conn: 0 }))
        })
        .await;
    door.fake
        .send_event(1, "env-3", "Ev3", dm("U1", "D1", "still here", "1.3"));
    door.fake.wait_for_posts(3).await;
    door.fake.wait_for_ack("env-3").await;

    let log = door.stop().await;
    let acked_on = |envelope: &str| {
        log.iter().find_map(|r| match r {
            Record::Ack { conn, envelope_id } if envelope_id == envelope => Some(*conn),
            _ => None,
        })
    };
    assert_eq!(
        acked_on("env-1"),
        Some(0),
        "acknowledged on the socket it came on"
    );
    assert_eq!(acked_on("env-2"), Some(1));
    let opens = log
        .iter()
        .filter(|r| matches!(r, Record::Open { .. }))
        .count();
    assert_eq!(opens, 2, "{log:#?}");
    assert_eq!(stub.seen().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_is_replaced() {
    let stub = Stub::new(echo);
    let door = Door::start(stub).await;

    door.fake.close(0);
    door.fake.wait_for_connection(1).await;
    door.fake
        .send_event(1, "env-1", "Ev1", dm("U1", "D1", "are you back?", "1.1"));
    let posts = door.fake.wait_for_posts(1).await;
    assert_eq!(posts[0].text, "echo: are you back?");
    door.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bots_own_messages_edits_and_channel_chatter_are_not_answered() {
    let stub = Stub::new(echo);
    let door = Door::start(stub.clone()).await;

    let with = |fields: serde_json::Value| {
        let mut event = dm("U1", "D1", "hi", "1.0");
        if let (Some(event), Some(fields)) = (event.as_object_mut(), fields.as_object()) {
            event.extend(fields.clone());
        }
        event
    };
    let ignored = [
        with(serde_json::json!({"bot_id": "B0BOT", "user": "UBOT"})),
        with(serde_json::json!({"subtype": "bot_message", "bot_id": "B0BOT"})),
        with(serde_json::json!({"subtype": "message_changed"})),
        with(serde_json::json!({"user": fake_slack::BOT_USER})),
        with(serde_json::json!({"channel_type": "channel", "channel": "C1"})),
    ];
    for (i, event) in ignored.into_iter().enumerate() {
        door.fake
            .send_event(0, &format!("env-{i}"), &format!("Ev{i}"), event);
    }
    door.fake
        .send_event(0, "env-last", "EvLast", dm("U1", "D1", "a person", "2.0"));

    let posts = door.fake.wait_for_posts(1).await;
    assert_eq!(posts[0].text, "echo: a person");
    door.fake.wait_for_ack("env-last").await;
    let log = door.stop().await;
    assert_eq!(
        stub.seen().len(),
        1,
        "only the person's message was dispatched"
    );
    assert_eq!(fake_slack::posts(&log).len(), 1);
    let acks = log
        .iter()
        .filter(|r| matches!(r, Record::Ack { .. }))
        .count();
    assert_eq!(acks, 6, "ignored events are acknowledged all the same");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_post_is_retried_after_retry_after() {
    let stub = Stub::new(echo);
    let door = Door::start(stub).await;
    door.fake.rate_limit_posts(1, 1);

    door.fake
        .send_event(0, "env-1", "Ev1", dm("U1", "D1", "busy?", "1.1"));
    let posts = door.fake.wait_for_posts(1).await;
    let log = door.stop().await;

    let limited = log
        .iter()
        .find_map(|r| match r {
            Record::RateLimited { at } => Some(*at),
            _ => None,
        })
        .expect("the first attempt was rate limited");
    assert_eq!(posts.len(), 1, "posted once, after the wait");
    assert!(
        posts[0].at.duration_since(limited) >= Duration::from_millis(950),
        "waited {:?}, Retry-After said 1 s",
        posts[0].at.duration_since(limited)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_connection_open_waits_retry_after() {
    let fake = FakeSlack::start().await;
    fake.rate_limit_opens(1, 1);
    let door = Door::start_with(fake, Stub::new(echo)).await;
    let log = door.stop().await;

    let limited = position(&log, |r| matches!(r, Record::RateLimited { .. }));
    let opened = position(&log, |r| matches!(r, Record::Open { .. }));
    assert!(limited < opened);
    let (Record::RateLimited { at: limited_at }, Record::Open { at: opened_at }) =
        (&log[limited], &log[opened])
    else {
        unreachable!("found by position")
    };
    let waited = opened_at.duration_since(*limited_at);
    assert!(
        waited >= Duration::from_millis(950),
        "reconnected after {waited:?}, not the 1 s Retry-After (backoff is 50 ms here)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_app_token_stops_the_door_with_the_reason() {
    let fake = FakeSlack::start().await;
    let outcome = tokio::time::timeout(
        Duration::from_secs(5),
        slack::run(
            config(&fake, "xapp-1-A0FAKE-1-wrongtoken"),
            Stub::new(echo),
            CancellationToken::new(),
        ),
    )
    .await
    .expect("a refused token ends the door");
    let message = outcome.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(message.contains("invalid_auth"), "{message}");
    assert!(!message.contains("wrongtoken"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_the_socket_and_lets_an_answer_under_way_finish() {
    let (stub, gate) = Stub::gated(echo);
    let door = Door::start(stub).await;
    door.fake
        .send_event(0, "env-1", "Ev1", dm("U1", "D1", "quick", "1.1"));
    door.fake.wait_for_ack("env-1").await;

    door.shutdown.cancel();
    door.fake
        .wait_for("the socket closed", |log| {
            log.iter().any(|r| matches!(r, Record::Closed { conn: 0 }))
        })
        .await;
    gate.add_permits(1);
    let posts = door.fake.wait_for_posts(1).await;
    assert_eq!(posts[0].text, "echo: quick");
    let outcome = tokio::time::timeout(Duration::from_secs(5), door.task)
        .await
        .expect("stops")
        .expect("no panic");
    assert!(outcome.is_ok(), "{outcome:?}");
}
