//! Prometheus metrics: one process-wide recorder (`metrics` + `metrics-exporter-prometheus`),
//! the middleware that counts every request by route template, and `GET /metrics`.
//!
//! Families (all prefixed `crm_`): `http_requests_total{route,method,status}`,
//! `http_request_duration_seconds{route,method}`, `http_statements_per_request{route}`,
//! `db_statement_duration_seconds`, `db_pool_*`, `cache_{hits,misses,invalidations}_total{cache}`,
//! `rate_limit_refusals_total{scope}`, `signin_throttle_refusals_total`, `websockets_open`,
//! `assistant_replies_total{backend}`, `assistant_model_duration_seconds{outcome}`,
//! `redis_errors_total`, `redis_up`, `build_info{version}`.

use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, web};
pub use metrics_exporter_prometheus::PrometheusHandle;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Latency buckets in seconds: 0.5 ms to 10 s.
const SECONDS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Statements-per-request buckets.
const STATEMENTS: [f64; 9] = [0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 50.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls answer the same handle), `None` when
/// another recorder was installed first.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)
                .ok()?
                .set_buckets_for_metric(Matcher::Full("crm_http_statements_per_request".into()), &STATEMENTS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            metrics::gauge!("crm_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            // Families that exist before their first event, so dashboards and alerts see zeros.
            metrics::gauge!("crm_websockets_open").set(0.0);
            metrics::counter!("crm_signin_throttle_refusals_total").absolute(0);
            for backend in ["offline", "model", "fallback"] {
                metrics::counter!("crm_assistant_replies_total", "backend" => backend).absolute(0);
            }
            Some(handle)
        })
        .clone()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!("crm_http_requests_total", "HTTP requests answered, by route template, method and status.");
    describe_histogram!("crm_http_request_duration_seconds", Unit::Seconds, "HTTP request latency by route template.");
    describe_histogram!("crm_http_statements_per_request", "SQL statements one request ran, by route template.");
    describe_histogram!("crm_db_statement_duration_seconds", Unit::Seconds, "Time one SQL statement took.");
    describe_gauge!("crm_db_pool_connections", "Pooled database connections open now.");
    describe_gauge!("crm_db_pool_idle", "Open pooled connections no request holds.");
    describe_gauge!("crm_db_pool_in_use", "Pooled connections held by requests now.");
    describe_gauge!("crm_db_pool_max", "The most connections the pool may open (DATABASE_MAX_CONNECTIONS).");
    describe_gauge!(
        "crm_db_pool_acquire_seconds",
        Unit::Seconds,
        "How long taking a connection took at the last scrape (requests wait this long when the pool is saturated)."
    );
    describe_counter!("crm_cache_hits_total", "Caller-cache reads answered from memory, by cache.");
    describe_counter!("crm_cache_misses_total", "Caller-cache reads that went to the database, by cache.");
    describe_counter!("crm_cache_invalidations_total", "Caller-cache invalidations, by cache.");
    describe_counter!("crm_rate_limit_refusals_total", "Requests refused by the rate limit (429), by client kind.");
    describe_counter!("crm_signin_throttle_refusals_total", "Sign-ins refused by the failed-sign-in throttle (429).");
    describe_gauge!("crm_websockets_open", "Assistant WebSocket streams open now.");
    describe_counter!("crm_assistant_replies_total", "Assistant replies, by backend (offline, model, fallback).");
    describe_histogram!(
        "crm_assistant_model_duration_seconds",
        Unit::Seconds,
        "Time the language model took per request, by outcome."
    );
    describe_counter!("crm_redis_errors_total", "Redis commands that failed or timed out.");
    describe_gauge!("crm_redis_up", "1 while Redis answers (circuit closed), 0 while it is skipped.");
    describe_gauge!("crm_build_info", "The running build (its version as a label).");
}

/// Counts an assistant reply by the backend that wrote it.
pub fn assistant_reply(backend: callcenter_core::service::ReplyBackend) {
    metrics::counter!("crm_assistant_replies_total", "backend" => backend.as_str()).increment(1);
}

/// Who may read `/metrics`, and what to refresh before answering.
pub struct Exporter {
    pub handle: PrometheusHandle,
    /// The bearer token a scrape must present (`METRICS_TOKEN`); `None` = no token.
    pub token: Option<String>,
    /// Refuse scrapes without a configured token (production).
    pub token_required: bool,
    /// Sets the gauges read at scrape time (the database pool).
    pub refresh: Refresh,
}

/// Work run before each scrape.
pub type Refresh = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Counts every request by its route template (`/api/v1/customers/{id}`, never the raw path),
/// method and status, with its latency and its SQL statements.
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let res = next.call(req).await?;
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
    let status = res.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    let statements = kernel::context::current().map_or(0, |c| c.statements());
    SERIES.with_borrow_mut(|series| {
        if series.len() > MAX_SERIES {
            series.clear();
        }
        let (requests, latency, ran) = series.entry((route, method, status)).or_insert_with_key(|(route, method, status)| {
            let (route, method) = (route.clone(), method.as_str().to_owned());
            (
                metrics::counter!("crm_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status.to_string()),
                metrics::histogram!("crm_http_request_duration_seconds", "route" => route.clone(), "method" => method),
                metrics::histogram!("crm_http_statements_per_request", "route" => route),
            )
        });
        requests.increment(1);
        latency.record(seconds);
        ran.record(f64::from(statements));
    });
    Ok(res)
}

/// Handles kept per worker thread for each (route template, method, status), so a request
/// costs three atomic updates rather than three registry look-ups.
type Series = HashMap<(String, Method, u16), (metrics::Counter, metrics::Histogram, metrics::Histogram)>;

/// More series than any route table yields: past it the handles are looked up again.
const MAX_SERIES: usize = 10_000;

thread_local! {
    static SERIES: RefCell<Series> = RefCell::new(HashMap::new());
}

/// Folds the samples recorded since the last time into the histograms, every few seconds,
/// so their memory stays bounded between scrapes (once per process).
pub fn keep_up(handle: PrometheusHandle) {
    static STARTED: OnceLock<()> = OnceLock::new();
    if STARTED.set(()).is_ok() {
        let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(5));
                handle.run_upkeep();
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "metrics upkeep thread not started: histograms fold only at scrapes");
        }
    }
}

/// `GET /metrics`: the Prometheus text format, behind `METRICS_TOKEN` when one is set.
#[utoipa::path(operation_id = "health_metrics", get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", content_type = "text/plain", body = String),
        (status = 401, description = "METRICS_TOKEN is set and the request does not carry it as a bearer"),
        (status = 403, description = "Production without METRICS_TOKEN: scrapes are refused on the main listener"),
        (status = 404, description = "Served on the separate METRICS_ADDR listener instead"),
    ))]
pub async fn scrape(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, crate::ApiError> {
    let Some(exporter) = state.metrics.as_ref() else { return crate::routes::not_found().await };
    Ok(serve(&req, exporter).await)
}

/// Answers a scrape from `exporter` (also the handler of the `METRICS_ADDR` listener).
pub async fn serve(req: &HttpRequest, exporter: &Exporter) -> HttpResponse {
    match &exporter.token {
        Some(token) => {
            let given = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            if !constant_time_eq(given.trim().as_bytes(), token.as_bytes()) {
                return HttpResponse::Unauthorized()
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                    .json(serde_json::json!({"detail": "A valid METRICS_TOKEN bearer is required."}));
            }
        }
        None if exporter.token_required => {
            return HttpResponse::Forbidden().json(serde_json::json!({
                "detail": "Metrics are not served without METRICS_TOKEN in production; set it, or METRICS_ADDR for a separate listener."
            }));
        }
        None => {}
    }
    (exporter.refresh)().await;
    exporter.handle.run_upkeep();
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(exporter.handle.render())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
