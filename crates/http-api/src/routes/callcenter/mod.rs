//! The AI call-center operator frontend's back office under `/api` (`callcenter-*.md`):
//! bare JSON; errors `{"error","message","code","details"}`.

pub mod ai;
pub mod callers;
pub mod calls;
pub mod chats;
pub mod files;
pub mod knowledge;
pub mod reports;
pub mod twilio;

use crate::error::ApiError;
use crate::pagination::bounded_page_request;
use actix_web::{HttpResponse, web};
use kernel::{Page, PageRequest};
use serde::Serialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    knowledge::configure(cfg);
    callers::configure(cfg);
    calls::configure(cfg);
    chats::configure(cfg);
    reports::configure(cfg);
    files::configure(cfg);
    twilio::configure(cfg);
    ai::configure(cfg);
}

/// `page` (from 1) and `pageSize` (default and most: 1000) of the bare-array lists.
pub fn list_page(page: Option<u64>, page_size: Option<u64>) -> Result<PageRequest, ApiError> {
    bounded_page_request(page, page_size, 1000, 1000, "pageSize")
}

/// A bare JSON array of the page, with the full count in `X-Total-Count`.
pub fn array<T, D: Serialize>(page: Page<T>, to_dto: impl FnMut(T) -> D) -> HttpResponse {
    let total = page.total;
    HttpResponse::Ok()
        .insert_header(("X-Total-Count", total.to_string()))
        .json(page.items.into_iter().map(to_dto).collect::<Vec<_>>())
}
