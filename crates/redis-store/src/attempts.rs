//! Failed sign-ins in Redis: one sorted set of attempt times per key, trimmed to the window.

use crate::link::RedisLink;
use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use management_core::Result;
use management_core::ports::{Failures, LoginAttemptRepository};
use std::sync::Arc;

/// [`LoginAttemptRepository`] in Redis, so every replica sees the same failures; while Redis
/// is out of reach it asks `fallback` (the database) instead, so sign-ins stay throttled.
pub struct RedisLoginAttempts {
    link: Arc<RedisLink>,
    /// How long failures are kept (the throttle's window).
    window: Duration,
    fallback: Arc<dyn LoginAttemptRepository>,
}

impl RedisLoginAttempts {
    pub fn new(link: Arc<RedisLink>, window: Duration, fallback: Arc<dyn LoginAttemptRepository>) -> Self {
        RedisLoginAttempts { link, window, fallback }
    }
}

fn at_ms(ms: f64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms as i64).single()
}

#[async_trait]
impl LoginAttemptRepository for RedisLoginAttempts {
    async fn failures_since(&self, scope: &str, since: DateTime<Utc>) -> Result<Failures> {
        let key = self.link.key("login", scope);
        let answer: redis::RedisResult<(u64, Vec<(String, f64)>, Vec<(String, f64)>)> = self
            .link
            .query(
                redis::pipe()
                    .atomic()
                    .zrembyscore(&key, "-inf", since.timestamp_millis())
                    .ignore()
                    .zcard(&key)
                    .zrange_withscores(&key, 0, 0)
                    .zrange_withscores(&key, -1, -1),
            )
            .await;
        match answer {
            Ok((count, oldest, newest)) => Ok(Failures {
                count,
                oldest: oldest.first().and_then(|(_, ms)| at_ms(*ms)),
                newest: newest.first().and_then(|(_, ms)| at_ms(*ms)),
            }),
            Err(_) => self.fallback.failures_since(scope, since).await,
        }
    }

    async fn record_failure(&self, scope: &str, at: DateTime<Utc>) -> Result<()> {
        let key = self.link.key("login", scope);
        let ms = at.timestamp_millis();
        let member = format!("{ms}-{:08x}", rand::random::<u32>());
        let stored: redis::RedisResult<()> = self
            .link
            .query(
                redis::pipe()
                    .atomic()
                    .zadd(&key, member, ms)
                    .ignore()
                    .pexpire(&key, self.window.num_milliseconds().max(1))
                    .ignore(),
            )
            .await;
        match stored {
            Ok(()) => Ok(()),
            Err(_) => self.fallback.record_failure(scope, at).await,
        }
    }

    async fn clear(&self, scope: &str) -> Result<()> {
        let cleared: redis::RedisResult<()> =
            self.link.query(redis::pipe().del(self.link.key("login", scope)).ignore()).await;
        // The database may hold failures recorded while Redis was away.
        self.fallback.clear(scope).await?;
        cleared.or(Ok(()))
    }
}
