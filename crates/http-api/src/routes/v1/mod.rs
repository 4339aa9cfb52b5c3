//! `/api/v1`: the CRM v1 surface (`crm-api-v1.md`) in its `{success,data}` envelope.

pub mod activities;
pub mod analytics;
pub mod auth;
pub mod customers;
pub mod deals;

use crate::error::ApiError;
use crate::iso;
use actix_web::{HttpResponse, web};
use kernel::{Page, PageRequest};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

pub fn configure(cfg: &mut web::ServiceConfig) {
    auth::configure(cfg);
    customers::configure(cfg);
    deals::configure(cfg);
    activities::configure(cfg);
    analytics::configure(cfg);
}

/// `{"success":true,"data":…}`.
pub fn v1_ok<T: Serialize>(data: T) -> HttpResponse {
    HttpResponse::Ok().json(json!({"success": true, "data": data}))
}

/// `{"success":true,"data":…}` with 201 Created.
pub fn v1_created<T: Serialize>(data: T) -> HttpResponse {
    HttpResponse::Created().json(json!({"success": true, "data": data}))
}

/// `{"success":true,"message":…}`: actions without data (logout, delete).
pub fn v1_message(message: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({"success": true, "message": message}))
}

/// The pagination object of every v1 list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub current_page: u64,
    pub total_pages: u64,
    pub total_items: u64,
    pub items_per_page: u64,
}

impl Pagination {
    pub fn of<T>(page: &Page<T>) -> Self {
        Pagination {
            current_page: page.request.page,
            total_pages: page.total_pages(),
            total_items: page.total,
            items_per_page: page.request.per_page,
        }
    }
}

/// `page` (default 1) and `limit` (default 10, at most 100).
pub fn page_request(page: Option<u64>, limit: Option<u64>) -> Result<PageRequest, ApiError> {
    crate::pagination::page_request(page, limit, 10, "limit")
}

/// An enumerated list filter as the v1 UI uses it: blank is no filter, a known value
/// filters, any other value matches nothing (`(None, true)`), as the backend it was written for does.
pub fn enum_filter<T>(raw: Option<&str>, parse: impl Fn(&str) -> Option<T>) -> (Option<T>, bool) {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => (None, false),
        Some(value) => match parse(value) {
            Some(v) => (Some(v), false),
            None => (None, true),
        },
    }
}

/// Optional timestamps as ISO 8601 UTC.
pub fn iso_opt(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(iso)
}
