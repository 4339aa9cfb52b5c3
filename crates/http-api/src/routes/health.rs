//! Liveness and database health.

use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

/// Health of the server and its dependencies.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `healthy`; `degraded` when Redis does not answer (the server still serves, rate limits
    /// are not enforced); `unhealthy` (503) when the database does not answer.
    #[schema(example = "healthy")]
    pub status: &'static str,
    pub timestamp: String,
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// `ok` or `unreachable`.
    #[schema(example = "ok")]
    pub database: &'static str,
    /// `ok` or `unreachable`; absent when no Redis is configured (`REDIS_URL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "ok")]
    pub redis: Option<&'static str>,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").route(web::get().to(health)))
        .service(web::resource("/api/core/health/").route(web::get().to(core_health)));
}

#[utoipa::path(operation_id = "health_health", get, path = "/health", tag = "health",
    responses((status = 200, description = "Success", body = Health), (status = 503, description = "Database unreachable", body = Health)))]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let (db_ok, redis_ok) = tokio::join!(state.health.database_ok(), state.health.redis_ok());
    let reach = |ok: bool| if ok { "ok" } else { "unreachable" };
    let body = Health {
        status: match (db_ok, redis_ok) {
            (false, _) => "unhealthy",
            (true, Some(false)) => "degraded",
            (true, _) => "healthy",
        },
        timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        version: env!("CARGO_PKG_VERSION"),
        database: reach(db_ok),
        redis: redis_ok.map(reach),
    };
    if db_ok { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

/// The same check under the REST surface's path.
#[utoipa::path(operation_id = "health_core_health", get, path = "/api/core/health/", tag = "crm-rest",
    responses((status = 200, description = "Success", body = Health), (status = 503, description = "Database unreachable", body = Health)))]
pub async fn core_health(state: web::Data<AppState>) -> HttpResponse {
    health(state).await
}
