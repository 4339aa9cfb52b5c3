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

/// Whether this replica should get traffic.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `not_ready` (503).
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `ok` or `unreachable`.
    #[schema(example = "ok")]
    pub database: &'static str,
    /// `applied`; `pending` when the database lacks a migration this binary needs; `unknown`
    /// while the database is out of reach.
    #[schema(example = "applied")]
    pub migrations: &'static str,
    /// Whether the server is stopping (it drains: not ready, still serving).
    pub stopping: bool,
}

/// The process answers.
#[derive(Serialize, ToSchema)]
pub struct Liveness {
    #[schema(example = "alive")]
    pub status: &'static str,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").route(web::get().to(health)))
        .service(web::resource("/health/live").route(web::get().to(live)))
        .service(web::resource("/health/ready").route(web::get().to(ready)))
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

/// Liveness for orchestrators: the process answers; the database is never asked, so an
/// outage of it does not get healthy replicas restarted.
#[utoipa::path(operation_id = "health_live", get, path = "/health/live", tag = "health",
    responses((status = 200, description = "The process answers", body = Liveness)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Liveness { status: "alive" })
}

/// Readiness for load balancers: 503 while the database is out of reach, a migration is
/// missing, or the server is stopping.
#[utoipa::path(operation_id = "health_ready", get, path = "/health/ready", tag = "health",
    responses((status = 200, description = "Ready for traffic", body = Readiness), (status = 503, description = "Not ready: database unreachable, migrations pending or stopping", body = Readiness)))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let stopping = state.shutdown.is_stopping();
    let db_ok = state.health.database_ok().await;
    let schema_ok = db_ok && state.health.schema_current().await;
    let ok = schema_ok && !stopping;
    let body = Readiness {
        status: if ok { "ready" } else { "not_ready" },
        database: if db_ok { "ok" } else { "unreachable" },
        migrations: match (db_ok, schema_ok) {
            (false, _) => "unknown",
            (true, true) => "applied",
            (true, false) => "pending",
        },
        stopping,
    };
    if ok { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}
