//! One lazily opened, self-reconnecting connection to Redis behind a circuit breaker.
//!
//! While Redis answers, every command goes to it (at most [`RESPONSE_TIMEOUT`] each). The
//! first command that fails or times out opens the circuit: from then on no request waits
//! on Redis at all (commands fail at once and the callers fall back), while one background
//! probe pings it with a growing back-off and closes the circuit when it answers again. A
//! Redis that refuses connections and one that accepts them and never answers cost requests
//! the same: nothing, after the one command that found out.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError, RedisResult};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::OnceCell;

/// How long one command (or a connection attempt) may take before the circuit opens.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(250);
/// The first wait of the probe after the circuit opens; it doubles up to [`PROBE_MAX`].
const PROBE_FIRST: Duration = Duration::from_millis(500);
const PROBE_MAX: Duration = Duration::from_secs(5);

/// Whether commands go to Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Circuit {
    /// Redis answers: commands go to it.
    Closed,
    /// Redis failed: commands fail at once until the probe finds it back.
    Open,
}

/// A Redis server: connected on first use, reconnected by itself after failures, and
/// skipped entirely (never hanging a request) while it is out of reach.
pub struct RedisLink {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    /// Prepended to every key, so deployments can share one Redis.
    prefix: String,
    manager: OnceCell<ConnectionManager>,
    /// The circuit is open (Redis skipped).
    open: AtomicBool,
    /// `crm_redis_up`: 1 while the circuit is closed.
    up: metrics::Gauge,
    /// `crm_redis_errors_total`.
    errors: metrics::Counter,
}

fn unreachable() -> RedisError {
    RedisError::from((redis::ErrorKind::Io, "Redis is out of reach (circuit open)"))
}

fn timed_out() -> RedisError {
    RedisError::from((redis::ErrorKind::Io, "Redis did not answer in time"))
}

impl RedisLink {
    /// A link to `url` (`redis://host:port/db`) whose keys start with `prefix`; nothing is
    /// connected yet.
    pub fn open(url: &str, prefix: &str) -> RedisResult<RedisLink> {
        let up = metrics::gauge!("crm_redis_up");
        up.set(1.0);
        Ok(RedisLink {
            inner: Arc::new(Inner {
                client: Client::open(url)?,
                prefix: prefix.to_string(),
                manager: OnceCell::new(),
                open: AtomicBool::new(false),
                up,
                errors: metrics::counter!("crm_redis_errors_total"),
            }),
        })
    }

    /// The key of `name` in the `kind` family (`quota`, `login`).
    pub fn key(&self, kind: &str, name: &str) -> String {
        format!("{}:{kind}:{name}", self.inner.prefix)
    }

    /// Whether commands go to Redis now.
    pub fn circuit(&self) -> Circuit {
        if self.inner.open.load(Ordering::Acquire) { Circuit::Open } else { Circuit::Closed }
    }

    /// Runs an atomic pipeline in one round trip; fails at once while the circuit is open.
    pub async fn query<T: redis::FromRedisValue>(&self, pipe: &redis::Pipeline) -> RedisResult<T> {
        if self.inner.open.load(Ordering::Acquire) {
            return Err(unreachable());
        }
        match self.inner.run(pipe).await {
            Ok(value) => Ok(value),
            Err(e) => {
                self.inner.errors.increment(1);
                self.trip(&e);
                Err(e)
            }
        }
    }

    /// Whether Redis answers `PING` (at once `false` while the circuit is open).
    pub async fn ping(&self) -> bool {
        self.query::<()>(redis::pipe().cmd("PING").ignore()).await.is_ok()
    }

    /// Pings Redis once at start-up, logging a warning (and opening the circuit) when it is
    /// out of reach.
    pub async fn check(&self) -> bool {
        let ok = self.ping().await;
        if ok {
            tracing::info!("Redis reachable: rate limits and sign-in throttles are shared by the replicas");
        }
        ok
    }

    /// Opens the circuit after `error` and starts the probe that will close it.
    fn trip(&self, error: &RedisError) {
        if self.inner.open.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::warn!(error = %error, "Redis unreachable: circuit open, rate limits are not enforced and sign-in throttles use the database until it is back");
        self.inner.up.set(0.0);
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let mut wait = PROBE_FIRST;
            loop {
                tokio::time::sleep(wait).await;
                if inner.run::<()>(redis::pipe().cmd("PING").ignore()).await.is_ok() {
                    inner.open.store(false, Ordering::Release);
                    tracing::info!("Redis reachable again: circuit closed");
                    inner.up.set(1.0);
                    return;
                }
                wait = (wait * 2).min(PROBE_MAX);
            }
        });
    }

    /// Counts one hit of `key` in its fixed window of `window` (the window opens at the
    /// first hit); answers the hits so far and the seconds until the window resets.
    pub async fn hit(&self, key: &str, window: Duration) -> RedisResult<(u64, u64)> {
        let key = self.key("quota", key);
        let secs = window.as_secs().max(1);
        let (count, ttl): (u64, i64) = self
            .query(
                redis::pipe()
                    .atomic()
                    .cmd("SET")
                    .arg(&key)
                    .arg(0)
                    .arg("EX")
                    .arg(secs)
                    .arg("NX")
                    .ignore()
                    .incr(&key, 1)
                    .ttl(&key),
            )
            .await?;
        Ok((count, ttl.clamp(1, secs as i64) as u64))
    }
}

impl Inner {
    async fn connection(&self) -> RedisResult<ConnectionManager> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(RESPONSE_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let client = self.client.clone();
        let manager = self.manager.get_or_try_init(|| ConnectionManager::new_with_config(client, config)).await?;
        Ok(manager.clone())
    }

    /// One pipeline, connection included, within [`RESPONSE_TIMEOUT`].
    async fn run<T: redis::FromRedisValue>(&self, pipe: &redis::Pipeline) -> RedisResult<T> {
        let attempt = async {
            let mut conn = self.connection().await?;
            pipe.query_async(&mut conn).await
        };
        tokio::time::timeout(RESPONSE_TIMEOUT, attempt).await.unwrap_or_else(|_| Err(timed_out()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refusing_redis_opens_the_circuit_once_and_then_costs_nothing() {
        // Nothing listens on port 9 (discard) here.
        let link = RedisLink::open("redis://127.0.0.1:9/0", "t").unwrap();
        assert!(!link.ping().await);
        assert_eq!(link.circuit(), Circuit::Open);
        let started = std::time::Instant::now();
        for _ in 0..1000 {
            assert!(link.hit("k", Duration::from_secs(60)).await.is_err());
        }
        assert!(started.elapsed() < Duration::from_millis(100), "open circuit: {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_black_holed_redis_is_given_up_after_one_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // Accepts connections and never answers.
        let held = tokio::spawn(async move {
            let mut kept = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                kept.push(socket);
            }
        });
        let link = RedisLink::open(&format!("redis://127.0.0.1:{port}/0"), "t").unwrap();
        let started = std::time::Instant::now();
        assert!(!link.ping().await);
        assert!(started.elapsed() < Duration::from_secs(2), "one timeout, not a hang: {:?}", started.elapsed());
        assert_eq!(link.circuit(), Circuit::Open);
        let started = std::time::Instant::now();
        assert!(link.hit("k", Duration::from_secs(60)).await.is_err());
        assert!(started.elapsed() < Duration::from_millis(20), "{:?}", started.elapsed());
        held.abort();
    }
}
