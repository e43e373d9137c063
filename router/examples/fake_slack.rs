//! The tests' fake Slack (tests/support/fake_slack.rs) as a process, for the conformance
//! suite (conformance/harness.py): fake Slack -> clawctl-router -> the real OpenClaw
//! gateway -> the answer posted back here.
//!
//!     cargo run -p clawctl-router --example fake_slack
//!
//! It speaks JSON lines. On stdout: first `{"api_url": ..., "app_token": ..., "bot_token":
//! ...}` (what to give the router as `SLACK_API_URL`, `SLACK_APP_TOKEN` and
//! `SLACK_BOT_TOKEN`), then one line per thing the fake saw or did, in order
//! (`{"record": "connected", "conn": 0}`, `"ack"`, `"post"` with channel, thread_ts and
//! text, `"open"`, `"closed"`, `"rate_limited"`). On stdin, one command per line:
//!
//! - `{"dm": {"user": "U012ABC", "channel": "D1", "text": "hi", "ts": "1.0"}, "envelope_id": "e1", "event_id": "Ev1"}`
//! - `{"mention": {...same fields...}, "envelope_id": ..., "event_id": ...}`
//!
//! Each is sent as an `events_api` envelope on the newest open Socket Mode connection.
//! It serves until stdin closes or it is killed.

#[path = "../tests/support/fake_slack.rs"]
#[allow(dead_code)]
mod fake_slack;

use std::io::Write;
use std::time::Duration;

use fake_slack::{APP_TOKEN, BOT_TOKEN, FakeSlack, Record, dm, mention};
use serde_json::{Value, json};

fn record_json(record: &Record) -> Value {
    match record {
        Record::Open { .. } => json!({"record": "open"}),
        Record::Connected { conn } => json!({"record": "connected", "conn": conn}),
        Record::Ack { conn, envelope_id } => {
            json!({"record": "ack", "conn": conn, "envelope_id": envelope_id})
        }
        Record::RateLimited { .. } => json!({"record": "rate_limited"}),
        Record::Post(post) => json!({"record": "post", "channel": post.channel,
                                     "thread_ts": post.thread_ts, "text": post.text}),
        Record::Closed { conn } => json!({"record": "closed", "conn": conn}),
    }
}

fn print_line(v: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}

/// The newest connection greeted and not closed since.
fn open_connection(log: &[Record]) -> Option<usize> {
    let mut open = None;
    for r in log {
        match r {
            Record::Connected { conn } => open = Some(*conn),
            Record::Closed { conn } if open == Some(*conn) => open = None,
            _ => {}
        }
    }
    open
}

fn command(slack: &FakeSlack, line: &str) -> Result<(), String> {
    let cmd: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let field = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("missing {k}"))
    };
    let envelope_id = field(&cmd, "envelope_id")?;
    let event_id = field(&cmd, "event_id")?;
    let (kind, spec) = if let Some(spec) = cmd.get("dm") {
        ("dm", spec)
    } else if let Some(spec) = cmd.get("mention") {
        ("mention", spec)
    } else {
        return Err("expected dm or mention".into());
    };
    let (user, channel, text, ts) = (
        field(spec, "user")?,
        field(spec, "channel")?,
        field(spec, "text")?,
        field(spec, "ts")?,
    );
    let event = if kind == "dm" {
        dm(&user, &channel, &text, &ts)
    } else {
        mention(&user, &channel, &text, &ts)
    };
    let conn = open_connection(&slack.log()).ok_or("no open Socket Mode connection")?;
    slack.send_event(conn, &envelope_id, &event_id, event);
    Ok(())
}

#[tokio::main]
async fn main() {
    let slack = FakeSlack::start().await;
    print_line(&json!({"api_url": slack.api_url, "app_token": APP_TOKEN, "bot_token": BOT_TOKEN}));

    // The log, streamed as it grows (polled: the fake's change signal is private).
    let slack: &'static FakeSlack = Box::leak(Box::new(slack));
    tokio::spawn(async move {
        let mut printed = 0;
        loop {
            let records = slack.log();
            for r in &records[printed..] {
                print_line(&record_json(r));
            }
            printed = records.len();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });

    // Commands from stdin, read on a thread of their own (sending an event needs no
    // runtime); the process ends when stdin closes.
    tokio::task::spawn_blocking(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            if let Err(why) = command(slack, &line) {
                print_line(&json!({"error": why, "command": line}));
            }
        }
    })
    .await
    .ok();
}
