//! HTTP adapter: actix-web routes for every surface, authentication, error envelopes,
//! rate limiting, CORS, request ids, and the OpenAPI document with Swagger UI.

pub mod cors;
pub mod error;
pub mod extract;
pub mod files;
pub mod lenient;
pub mod links;
pub mod metrics;
pub mod middleware;
pub mod multipart;
pub mod openapi;
pub mod pagination;
pub mod projection;
pub mod routes;
pub mod shutdown;
pub mod state;
pub mod surface;
pub mod typed_body;

pub use cors::CorsPolicy;
pub use error::{ApiError, ApiResult};
pub use middleware::rate_limit::{QuotaCounters, RateLimiter, RateLimits};
pub use routes::callcenter::ai::StreamTimeouts;
pub use shutdown::{Shutdown, ShutdownTrigger};
pub use state::{AppState, HealthProbe};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, web};
use utoipa_swagger_ui::SwaggerUi;

/// ISO 8601 UTC with milliseconds, e.g. `2024-01-01T00:00:00.000Z`.
pub fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An exact amount as the JSON number the contracts show (two decimals stay exact well past
/// the largest amount accepted).
pub fn money(d: rust_decimal::Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or_default()
}

/// Settings of the HTTP layer itself.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub cors: CorsPolicy,
    /// Largest accepted JSON body, in bytes.
    pub json_limit: usize,
    /// Largest uploaded document, in bytes.
    pub upload_limit: usize,
    /// Largest imported CSV file, in bytes and in rows.
    pub import_limits: routes::rest::exchange::ImportLimits,
    /// Ping interval and idle timeout of the assistant's WebSocket streams.
    pub streams: StreamTimeouts,
    /// Whether to send `Strict-Transport-Security` (production).
    pub hsts: bool,
    /// The published OpenAPI document ([`openapi::document`]), built once.
    pub openapi: std::sync::Arc<serde_json::Value>,
    /// Count every request for `/metrics` (`METRICS_ENABLED`).
    pub metrics: bool,
}

/// Builds the application: routes, docs, and middleware (outermost first: request id,
/// security headers, error envelopes, CORS, rate limit, input guard).
pub fn app(
    state: AppState,
    settings: HttpSettings,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let openapi = settings.openapi.clone();
    App::new()
        .app_data(web::Data::new(state))
        .app_data(extract::json_config(settings.json_limit))
        .app_data(web::Data::new(extract::UploadLimit(settings.upload_limit)))
        .app_data(web::Data::new(settings.import_limits))
        .app_data(web::Data::new(middleware::input::BodyLimit(settings.json_limit)))
        .app_data(web::Data::new(middleware::security_headers::Hsts(settings.hsts)))
        .app_data(web::Data::new(settings.streams))
        .app_data(extract::query_config())
        .app_data(extract::path_config())
        .configure(routes::configure)
        .service(web::resource("/metrics").route(web::get().to(metrics::scrape)))
        .service(
            web::resource("/docs").route(
                web::get()
                    .to(|| async { HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish() }),
            ),
        )
        .service(SwaggerUi::new("/docs/{_:.*}").external_url_unchecked("/openapi.json", (*openapi).clone()))
        .default_service(web::to(routes::not_found))
        .wrap(from_fn(middleware::input::refuse_nul))
        .wrap(from_fn(middleware::rate_limit::rate_limit))
        .wrap(settings.cors.middleware())
        .wrap(from_fn(middleware::errors::render_errors))
        .wrap(from_fn(middleware::idempotency::idempotency))
        .wrap(from_fn(middleware::security_headers::security_headers))
        .wrap(actix_web::middleware::Condition::new(settings.metrics, from_fn(metrics::count_requests)))
        .wrap(from_fn(middleware::request_id::request_id))
        .wrap(from_fn(middleware::head::head_as_get))
}
