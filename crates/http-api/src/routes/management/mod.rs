//! `management-update.md`: the CIMS frontends' routes (`/management`, `/crm`, `/auth`);
//! bare JSON bodies, errors as FastAPI's `{"detail": …}`.

pub mod audit;
pub mod auth;
pub mod catalog;
pub mod crm;
pub mod workspace;

use crate::error::{ApiError, ApiResult};
use actix_web::web;

/// A whole-number query parameter: absent is `None`; present, it must be a number (an empty
/// `page=` is refused like any other non-number, as the OpenAPI document says).
pub(crate) fn whole_number(field: &str, raw: Option<&str>) -> ApiResult<Option<u64>> {
    match raw.map(str::trim) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| ApiError::field(field, format!("{field} must be a whole number."))),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    auth::configure(cfg);
    catalog::configure(cfg);
    workspace::configure(cfg);
    audit::configure(cfg);
    crm::configure(cfg);
}
