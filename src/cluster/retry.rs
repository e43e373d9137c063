//! Bounded retries with backoff for idempotent requests (get, list, server-side apply,
//! delete) on transient failures: 429 (honouring the server's retry-after), 5xx, dropped
//! connections and timeouts. Anything else fails at once.

use std::future::Future;
use std::time::Duration;

/// How many times a request is tried in all.
const ATTEMPTS: u32 = 5;
/// The first pause; it doubles each time, up to `MAX_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_millis(200);
const MAX_PAUSE: Duration = Duration::from_secs(5);
/// The longest `Retry-After` honoured; a server asking for more gets this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// One attempt's time limit (watches are not retried through here).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether a failure is worth another try, and after how long at least.
fn transient(err: &kube::Error) -> Option<Duration> {
    match err {
        kube::Error::Api(status) => match status.code {
            429 => Some(
                status
                    .details
                    .as_ref()
                    .map(|d| Duration::from_secs(d.retry_after_seconds.into()))
                    .unwrap_or_default()
                    .min(MAX_RETRY_AFTER),
            ),
            500 | 502 | 503 | 504 => Some(Duration::ZERO),
            _ => None,
        },
        // Connection refused or reset, a dropped connection mid-request, a timeout.
        kube::Error::HyperError(_) | kube::Error::Service(_) => Some(Duration::ZERO),
        _ => None,
    }
}

/// Whether a failure passes by itself (a retry, or a watch started again, may succeed).
pub fn is_transient(err: &kube::Error) -> bool {
    transient(err).is_some()
}

/// Runs `request` until it succeeds, fails for good, or `ATTEMPTS` are used up: pauses
/// double from `FIRST_PAUSE` to `MAX_PAUSE`, never shorter than a 429's `Retry-After`.
/// Only for requests that may safely run twice.
pub async fn idempotent<T, F, Fut>(mut request: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    use backon::{ExponentialBuilder, Retryable};
    let backoff = ExponentialBuilder::default()
        .with_min_delay(FIRST_PAUSE)
        .with_max_delay(MAX_PAUSE)
        .with_factor(2.0)
        .with_max_times((ATTEMPTS - 1) as usize);
    let attempt = || {
        let answer = request();
        async move {
            match tokio::time::timeout(REQUEST_TIMEOUT, answer).await {
                Ok(result) => result,
                Err(_) => Err(kube::Error::Service(
                    format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()).into(),
                )),
            }
        }
    };
    attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(|err| transient(err).is_some())
        .adjust(|err, pause| Some(pause?.max(transient(err).unwrap_or_default())))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn status(code: u16) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure("x", "y")
                .with_code(code)
                .boxed(),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_and_others_are_not() {
        let calls = AtomicU32::new(0);
        let result = idempotent(|| async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(status(500)),
                1 => Err(status(429)),
                _ => Ok("done"),
            }
        })
        .await;
        assert_eq!(result.ok(), Some("done"));
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let result: Result<(), _> = idempotent(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(status(403))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let calls = AtomicU32::new(0);
        let result: Result<(), _> = idempotent(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(status(503))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), ATTEMPTS);
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_is_waited_for_at_least() {
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result = idempotent(|| async {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                let mut status =
                    kube::core::Status::failure("slow down", "TooManyRequests").with_code(429);
                status.details = Some(
                    serde_json::from_value(serde_json::json!({"retryAfterSeconds": 7}))
                        .expect("details"),
                );
                Err(kube::Error::Api(status.boxed()))
            } else {
                Ok(())
            }
        })
        .await;
        assert!(result.is_ok());
        assert!(
            started.elapsed() >= Duration::from_secs(7),
            "{:?}",
            started.elapsed()
        );
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
    }
}
