//! Route modules, one per surface area, and the table that mounts them.

pub mod auth;
pub mod health;
pub mod system_users;
pub mod v1_auth;

use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::json;

/// Mounts every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    v1_auth::configure(cfg);
    auth::configure(cfg);
    system_users::configure(cfg);
}

/// The answer for paths no route matches.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("No route matches this path"))
}

/// `{"success":true,"data":…}`: the CRM v1 success envelope.
pub fn v1_ok<T: Serialize>(data: T) -> HttpResponse {
    HttpResponse::Ok().json(json!({"success": true, "data": data}))
}

/// `{"success":true,"message":…}`: the CRM v1 answer for actions without data.
pub fn v1_message(message: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({"success": true, "message": message}))
}
