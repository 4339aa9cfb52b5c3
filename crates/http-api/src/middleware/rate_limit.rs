//! Per-client request quotas over fixed one-hour windows, with `X-RateLimit-*` headers.

use crate::error::ApiError;
use crate::extract::{bearer_token, client_ip};
use crate::state::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Requests allowed per window for each class of client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub anonymous: u32,
    pub authenticated: u32,
    /// Requests to administration endpoints (`/api/system-config/`).
    pub admin: u32,
    pub window: Duration,
}

/// Where the fixed-window counters live: this process, or a store every replica shares.
#[async_trait]
pub trait QuotaCounters: Send + Sync {
    /// Counts one request of `key` at unix second `now` in its window of `window`, answering
    /// the requests counted in that window so far and the unix second it resets; an error
    /// when the store is out of reach (the limiter then lets the request through).
    async fn hit(&self, key: &str, window: Duration, now: u64) -> Result<(u64, u64), String>;
}

/// Counters held by this process (one replica, or limits per replica).
#[derive(Default)]
pub struct LocalCounters {
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    /// Unix second at which the window resets.
    resets_at: u64,
    used: u64,
}

#[async_trait]
impl QuotaCounters for LocalCounters {
    async fn hit(&self, key: &str, window: Duration, now: u64) -> Result<(u64, u64), String> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, w| w.resets_at > now);
        }
        let fresh = Window { resets_at: now + window.as_secs(), used: 0 };
        let w = windows.entry(key.to_string()).or_insert(fresh);
        if w.resets_at <= now {
            *w = fresh;
        }
        w.used += 1;
        Ok((w.used, w.resets_at))
    }
}

/// Per-client request quotas over fixed windows.
pub struct RateLimiter {
    /// The configured quotas.
    pub limits: RateLimits,
    counters: Arc<dyn QuotaCounters>,
    /// Quotas an operator set at run time (`rate_limit.*` settings).
    overrides: Arc<dyn kernel::runtime::Overrides>,
}

/// What one request may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    pub resets_at: u64,
    pub retry_after: u64,
}

impl RateLimiter {
    /// A limiter counting in this process.
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter::with_counters(limits, Arc::new(LocalCounters::default()))
    }

    /// A limiter counting in `counters` (shared by replicas).
    pub fn with_counters(limits: RateLimits, counters: Arc<dyn QuotaCounters>) -> Self {
        RateLimiter { limits, counters, overrides: Arc::new(kernel::runtime::NoOverrides) }
    }

    /// Takes run-time overrides of the quotas into account.
    pub fn with_overrides(mut self, overrides: Arc<dyn kernel::runtime::Overrides>) -> Self {
        self.overrides = overrides;
        self
    }

    /// The quotas in force: the `rate_limit.*` settings over the configured ones.
    pub fn current(&self) -> RateLimits {
        let quota = |key: &str, configured: u32| {
            self.overrides.int(key).and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0).unwrap_or(configured)
        };
        RateLimits {
            anonymous: quota("rate_limit.anonymous_per_hour", self.limits.anonymous),
            authenticated: quota("rate_limit.authenticated_per_hour", self.limits.authenticated),
            admin: quota("rate_limit.admin_per_hour", self.limits.admin),
            window: self.limits.window,
        }
    }

    /// Counts one request of `key` against `limit` at unix second `now`. When the counters
    /// are out of reach the request is allowed (fail open) and the store logs why.
    pub async fn check(&self, key: &str, limit: u32, now: u64) -> Decision {
        let window = self.limits.window;
        let (used, resets_at) = self.counters.hit(key, window, now).await.unwrap_or((0, now + window.as_secs()));
        Decision {
            allowed: used <= u64::from(limit),
            limit,
            remaining: u64::from(limit).saturating_sub(used) as u32,
            resets_at,
            retry_after: resets_at.saturating_sub(now).max(1),
        }
    }
}

/// Paths that load balancers and browsers fetch freely.
fn exempt(path: &str) -> bool {
    matches!(path, "/health" | "/health/live" | "/health/ready" | "/metrics" | "/api/core/health/" | "/openapi.json")
        || path == "/docs"
        || path.starts_with("/docs/")
}

const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// The rate-limiting middleware; a 429 carries `Retry-After`.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if req.method() == actix_web::http::Method::OPTIONS || exempt(req.path()) {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    let limits = state.rate_limiter.current();
    let client = bearer_token(req.request()).and_then(|t| state.auth.peek_subject(&t)).map(|id| format!("user:{id}"));
    let is_admin = req.path().starts_with("/api/system-config/");
    let (key, limit) = match (&client, is_admin) {
        (Some(user), true) => (format!("admin:{user}"), limits.admin),
        (Some(user), false) => (user.clone(), limits.authenticated),
        (None, _) => (format!("ip:{}", client_ip(req.request())), limits.anonymous),
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let decision = state.rate_limiter.check(&key, limit, now).await;
    let headers = [
        (LIMIT, decision.limit.to_string()),
        (REMAINING, decision.remaining.to_string()),
        (RESET, decision.resets_at.to_string()),
    ];
    let mut res = if decision.allowed {
        next.call(req).await?.map_into_left_body()
    } else {
        let scope = if client.is_none() {
            "anonymous"
        } else if is_admin {
            "admin"
        } else {
            "user"
        };
        metrics::counter!("crm_rate_limit_refusals_total", "scope" => scope).increment(1);
        let err = ApiError::rate_limited(
            format!(
                "Rate limit of {} requests per hour exceeded; retry in {} seconds.",
                decision.limit, decision.retry_after
            ),
            decision.retry_after,
        );
        req.error_response(err).map_into_right_body()
    };
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            res.headers_mut().insert(name, v);
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Unreachable;

    #[async_trait]
    impl QuotaCounters for Unreachable {
        async fn hit(&self, _: &str, _: Duration, _: u64) -> Result<(u64, u64), String> {
            Err("down".into())
        }
    }

    const LIMITS: RateLimits =
        RateLimits { anonymous: 2, authenticated: 5, admin: 3, window: Duration::from_secs(3600) };

    #[tokio::test]
    async fn windows_count_and_reset() {
        let limiter = RateLimiter::new(LIMITS);
        let a = limiter.check("ip:1", 2, 1000).await;
        assert!(a.allowed);
        assert_eq!((a.remaining, a.resets_at), (1, 4600));
        assert!(limiter.check("ip:1", 2, 1001).await.allowed);
        let refused = limiter.check("ip:1", 2, 1002).await;
        assert!(!refused.allowed);
        assert_eq!((refused.remaining, refused.retry_after), (0, 3598));
        assert!(limiter.check("ip:2", 2, 1002).await.allowed, "keys are independent");
        assert!(limiter.check("ip:1", 2, 4600).await.allowed, "a new window starts at reset");
    }

    #[tokio::test]
    async fn unreachable_counters_let_requests_through() {
        let limiter = RateLimiter::with_counters(LIMITS, Arc::new(Unreachable));
        for _ in 0..5 {
            let d = limiter.check("ip:1", 2, 1000).await;
            assert!(d.allowed);
            assert_eq!(d.remaining, 2);
        }
    }
}
