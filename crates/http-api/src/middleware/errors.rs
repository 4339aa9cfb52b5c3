//! Renders every error answer in the envelope of the request's surface, so that unknown
//! routes, wrong methods and extractor failures never leave with an empty or foreign body.

use crate::error::ApiError;
use crate::surface::Surface;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

/// The error-rendering middleware (use with `actix_web::middleware::from_fn`).
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let surface = Surface::of_path(req.path());
    // Handlers and inner middleware turn their errors into responses; an `Err` here has
    // no request left to answer with, so actix renders it.
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    let is_error = status.is_client_error() || status.is_server_error();
    let has_own_json = res.response().error().is_none()
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
    // A handler may answer an error status with a body of its own (health's 503).
    if !is_error || has_own_json {
        return Ok(res);
    }
    let api_error = res.response().error().and_then(|e| e.as_error::<ApiError>().cloned()).unwrap_or_else(|| {
        let mut generic = ApiError::from_status(status);
        if let Some(e) = res.response().error() {
            if status.is_client_error() {
                generic.message = e.to_string();
            } else {
                tracing::error!(error = %e, "unhandled error");
            }
        }
        generic
    });
    let body = surface.error_body(&api_error);
    let (req, old) = res.into_parts();
    let mut new = HttpResponse::build(status).json(body);
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    if let Some(secs) = api_error.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        new.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Ok(ServiceResponse::new(req, new))
}
