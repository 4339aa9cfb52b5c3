//! One lazily opened, self-reconnecting connection to Redis.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError, RedisResult};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::OnceCell;

/// How long one command may take before Redis counts as unreachable for that request.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(250);
/// How long a failed connection attempt blocks the next one (requests meanwhile fail fast).
const RETRY_AFTER_MS: u64 = 1_000;
/// Seconds between two warnings about Redis being unreachable.
const WARN_EVERY_SECS: u64 = 30;

/// A Redis server: connected on first use, reconnected by itself after failures, and
/// failing fast (never hanging a request) while it is out of reach.
pub struct RedisLink {
    client: Client,
    /// Prepended to every key, so deployments can share one Redis.
    prefix: String,
    manager: OnceCell<ConnectionManager>,
    /// Unix millisecond before which no new connection is attempted.
    retry_at: AtomicU64,
    /// Unix second of the last warning.
    warned_at: AtomicU64,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl RedisLink {
    /// A link to `url` (`redis://host:port/db`) whose keys start with `prefix`; nothing is
    /// connected yet.
    pub fn open(url: &str, prefix: &str) -> RedisResult<RedisLink> {
        Ok(RedisLink {
            client: Client::open(url)?,
            prefix: prefix.to_string(),
            manager: OnceCell::new(),
            retry_at: AtomicU64::new(0),
            warned_at: AtomicU64::new(0),
        })
    }

    /// The key of `name` in the `kind` family (`quota`, `login`).
    pub fn key(&self, kind: &str, name: &str) -> String {
        format!("{}:{kind}:{name}", self.prefix)
    }

    async fn connection(&self) -> RedisResult<ConnectionManager> {
        if let Some(manager) = self.manager.get() {
            return Ok(manager.clone());
        }
        if now_ms() < self.retry_at.load(Ordering::Relaxed) {
            return Err(RedisError::from((redis::ErrorKind::Io, "Redis was unreachable a moment ago")));
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(RESPONSE_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let client = self.client.clone();
        match self.manager.get_or_try_init(|| ConnectionManager::new_with_config(client, config)).await {
            Ok(manager) => Ok(manager.clone()),
            Err(e) => {
                self.retry_at.store(now_ms() + RETRY_AFTER_MS, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Runs an atomic pipeline in one round trip.
    pub async fn query<T: redis::FromRedisValue>(&self, pipe: &redis::Pipeline) -> RedisResult<T> {
        let mut conn = self.connection().await?;
        let result = pipe.query_async(&mut conn).await;
        if let Err(e) = &result {
            self.warn(e);
        }
        result
    }

    /// Logs that Redis is out of reach, at most every 30 seconds.
    pub fn warn(&self, error: &RedisError) {
        let now = now_ms() / 1000;
        let last = self.warned_at.load(Ordering::Relaxed);
        if now >= last + WARN_EVERY_SECS
            && self.warned_at.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            tracing::warn!(error = %error, "Redis is unreachable: rate limits are not enforced and sign-in throttles use the database until it is back");
        }
    }

    /// Whether Redis answers `PING`.
    pub async fn ping(&self) -> bool {
        self.query::<()>(redis::pipe().cmd("PING").ignore()).await.is_ok()
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
