//! Idempotent `POST`s on every surface: a request carrying `Idempotency-Key` (1-255 printable
//! characters) has its first answer (status and body) kept 24 h per caller (the signed-in user,
//! else the client address) and key. A repeat with the same method, path and body gets that
//! answer again (`Idempotent-Replayed: true`) and changes nothing; a repeat with another body is
//! a 422; a repeat while the first is still running is a 409. Answers of 500 and above are not
//! kept, so the request can be tried again. Multipart bodies (uploads, imports) are not covered.

use crate::error::ApiError;
use crate::extract::{bearer_token, client_ip};
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{Error, HttpMessage, HttpResponse, web};
use async_trait::async_trait;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

const KEY: &str = "idempotency-key";
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// A kept answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// What taking a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: this request runs.
    Fresh,
    /// The first request with this key is still running.
    Running,
    /// The key was used for another request.
    Mismatch,
    /// The first request's answer.
    Done(Kept),
}

/// Where keys and answers are kept (shared by every replica).
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Takes `key` for `scope` with the request's hash (an expired entry counts as absent).
    async fn claim(&self, scope: &str, key: &str, request_hash: &str) -> Result<Claim, String>;
    /// Keeps the answer of a request that ran.
    async fn complete(&self, scope: &str, key: &str, kept: &Kept) -> Result<(), String>;
    /// Lets the key go (the request failed on the server's side).
    async fn release(&self, scope: &str, key: &str) -> Result<(), String>;
}

fn acceptable(key: &str) -> bool {
    !key.is_empty() && key.len() <= 255 && key.chars().all(|c| c.is_ascii_graphic() || c == ' ')
}

/// An error answered here, outside the error-rendering middleware: in the surface's envelope.
fn refuse(req: ServiceRequest, err: ApiError) -> ServiceResponse<BoxBody> {
    let body = crate::surface::Surface::of_path(req.path()).error_body(&err);
    let status = err.status;
    req.into_response(HttpResponse::build(status).json(body))
}

fn replay(req: ServiceRequest, kept: Kept) -> ServiceResponse<BoxBody> {
    let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    if let Some(ct) = kept.content_type {
        res.insert_header((CONTENT_TYPE, ct));
    }
    res.insert_header((REPLAYED, HeaderValue::from_static("true")));
    req.into_response(res.body(kept.body))
}

/// The middleware (use with `actix_web::middleware::from_fn`).
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let key = req.headers().get(KEY).map(|v| v.to_str().map(str::to_string));
    let Some(key) = key.filter(|_| req.method() == Method::POST) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/"));
    let store = req.app_data::<web::Data<AppState>>().and_then(|s| s.idempotency.clone());
    let (Some(store), false) = (store, multipart) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match key {
        Ok(k) if acceptable(k.trim()) => k.trim().to_string(),
        _ => {
            let err = ApiError::field("Idempotency-Key", "Idempotency-Key must be 1 to 255 printable characters.");
            return Ok(refuse(req, err));
        }
    };
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let scope = match (state.as_ref(), bearer_token(req.request())) {
        (Some(state), Some(token)) => match state.auth.peek_subject(&token) {
            Some(user) => format!("user:{user}"),
            None => format!("ip:{}", client_ip(req.request())),
        },
        _ => format!("ip:{}", client_ip(req.request())),
    };
    // The body, read once and handed on.
    let limit = req.app_data::<web::Data<super::input::BodyLimit>>().map_or(1 << 20, |l| l.0);
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            return Ok(refuse(req, ApiError::too_large(format!("Request body is larger than {limit} bytes"))));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let mut hash = Sha256::new();
    hash.update(req.path().as_bytes());
    hash.update(b"\n");
    hash.update(req.query_string().as_bytes());
    hash.update(b"\n");
    hash.update(&body);
    let request_hash = hex::encode(hash.finalize());
    req.set_payload(Payload::from(body));
    match store.claim(&scope, &key, &request_hash).await {
        Ok(Claim::Fresh) => {}
        Ok(Claim::Done(kept)) => return Ok(replay(req, kept)),
        Ok(Claim::Running) => {
            let err =
                ApiError::conflict("A request with this Idempotency-Key is still being processed; retry shortly.");
            return Ok(refuse(req, err));
        }
        Ok(Claim::Mismatch) => {
            let mut err = ApiError::validation("This Idempotency-Key was used for a different request.");
            err.status = StatusCode::UNPROCESSABLE_ENTITY;
            err.code = "IDEMPOTENCY_KEY_REUSED";
            return Ok(refuse(req, err));
        }
        // Keys are a convenience: when their store is out of reach the request runs as sent.
        Err(e) => {
            tracing::warn!(error = %e, "idempotency keys unavailable; running the request without one");
            return Ok(next.call(req).await?.map_into_boxed_body());
        }
    }
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    if status.is_server_error() {
        if let Err(e) = store.release(&scope, &key).await {
            tracing::warn!(error = %e, "idempotency key not released");
        }
        return Ok(res);
    }
    let (req, response) = res.into_parts();
    let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let headers = response.headers().clone();
    let bytes: Bytes = actix_web::body::to_bytes(response.into_body()).await.unwrap_or_default();
    let kept = Kept { status: status.as_u16(), content_type, body: bytes.to_vec() };
    if let Err(e) = store.complete(&scope, &key, &kept).await {
        tracing::warn!(error = %e, "idempotent answer not kept");
    }
    let mut rebuilt = HttpResponse::build(status).body(bytes);
    for (name, value) in &headers {
        rebuilt.headers_mut().insert(name.clone(), value.clone());
    }
    Ok(ServiceResponse::new(req, rebuilt))
}
