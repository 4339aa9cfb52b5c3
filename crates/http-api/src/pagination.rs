//! The REST surface's `{count, next, previous, results}` pages.

use crate::error::ApiError;
use actix_web::HttpRequest;
use kernel::{Page, PageRequest};
use serde::Serialize;
use utoipa::ToSchema;

/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;
/// Highest page number accepted (keeps every offset within the database's integers).
pub use kernel::listing::MAX_PAGE;

/// Checks `page` (from 1) and `size` (1 to [`MAX_PAGE_SIZE`]) and builds the request.
pub fn page_request(
    page: Option<u64>,
    size: Option<u64>,
    default_size: u64,
    size_field: &str,
) -> Result<PageRequest, ApiError> {
    bounded_page_request(page, size, default_size, MAX_PAGE_SIZE, size_field)
}

/// Like [`page_request`] with another largest page size.
pub fn bounded_page_request(
    page: Option<u64>,
    size: Option<u64>,
    default_size: u64,
    max_size: u64,
    size_field: &str,
) -> Result<PageRequest, ApiError> {
    let page = page.unwrap_or(1);
    if page == 0 || page > MAX_PAGE {
        return Err(ApiError::field("page", format!("page must be between 1 and {MAX_PAGE}.")));
    }
    let size = size.unwrap_or(default_size);
    if size == 0 || size > max_size {
        return Err(ApiError::field(size_field, format!("{size_field} must be between 1 and {max_size}.")));
    }
    Ok(PageRequest::new(page, size))
}

/// A page in the REST contract's shape, with absolute `next`/`previous` links.
#[derive(Serialize, ToSchema)]
pub struct RestPage<T> {
    pub count: u64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

impl<T> RestPage<T> {
    pub fn new(req: &HttpRequest, page: Page<T>) -> Self {
        let link = |n: u64| {
            let info = req.connection_info();
            let mut pairs: Vec<(String, String)> =
                url_pairs(req.query_string()).into_iter().filter(|(k, _)| k != "page").collect();
            pairs.push(("page".into(), n.to_string()));
            let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{}://{}{}?{}", info.scheme(), info.host(), req.path(), query.join("&"))
        };
        let current = page.request.page;
        RestPage {
            count: page.total,
            next: page.has_next().then(|| link(current + 1)),
            previous: (current > 1).then(|| link(current - 1)),
            results: page.items,
        }
    }
}

/// Splits a raw query string into raw (still encoded) key/value pairs.
fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect()
}
