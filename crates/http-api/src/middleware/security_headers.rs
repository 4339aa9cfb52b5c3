//! Headers that keep browsers from misusing the answers: no MIME sniffing, no referrer, no
//! framing, a content security policy (one that lets Swagger UI run on `/docs`, none for the
//! rest), `Cache-Control: no-store` on answers to signed-in requests, and HSTS in production.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

/// Whether to send `Strict-Transport-Security` (production, behind TLS).
#[derive(Debug, Clone, Copy)]
pub struct Hsts(pub bool);

/// The policy of Swagger UI's pages: its own scripts, its inline styles and data-URI icons.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/// The policy of every API answer: nothing to load, nothing to run.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The security-headers middleware (use with `actix_web::middleware::from_fn`).
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let docs = req.path() == "/docs" || req.path().starts_with("/docs/");
    let signed_in = req.headers().contains_key(header::AUTHORIZATION) || req.query_string().contains("token=");
    let hsts = req.app_data::<web::Data<Hsts>>().is_some_and(|h| h.0);
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::CONTENT_SECURITY_POLICY, if docs { DOCS_CSP } else { API_CSP });
    if signed_in {
        set(header::CACHE_CONTROL, "no-store");
    }
    if hsts {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    }
    Ok(res)
}
