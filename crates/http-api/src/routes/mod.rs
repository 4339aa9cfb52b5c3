//! Route modules, one per surface area, and the table that mounts them.

pub mod auth;
pub mod callcenter;
pub mod health;
pub mod management;
pub mod rest;
pub mod system_users;
pub mod v1;

use crate::error::ApiError;
use actix_web::{HttpResponse, web};

/// Mounts every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    v1::configure(cfg);
    auth::configure(cfg);
    system_users::configure(cfg);
    management::configure(cfg);
    callcenter::configure(cfg);
    rest::configure(cfg);
}

/// The answer for paths no route matches.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("No route matches this path"))
}
