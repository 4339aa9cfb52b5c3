//! `management-update.md`: the CIMS frontends' routes (`/management`, `/crm`, `/auth`);
//! bare JSON bodies, errors as FastAPI's `{"detail": …}`.

pub mod audit;
pub mod auth;
pub mod catalog;
pub mod crm;
pub mod workspace;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    auth::configure(cfg);
    catalog::configure(cfg);
    workspace::configure(cfg);
    audit::configure(cfg);
    crm::configure(cfg);
}
