//! `management-update.md`: the CIMS frontends' routes (`/management`, `/crm`, `/auth`);
//! bare JSON bodies, errors as FastAPI's `{"detail": …}`.

pub mod auth;
pub mod catalog;
pub mod crm;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    auth::configure(cfg);
    catalog::configure(cfg);
    crm::configure(cfg);
}
