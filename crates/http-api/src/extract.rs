//! Request extractors: the authenticated caller, the client address, and the JSON, query
//! and path configurations that turn malformed input into clear 400/415 errors.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use management_core::Principal;

/// The bearer token of the `Authorization` header, if any.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// The client's address: the peer, or the first `X-Forwarded-For` hop when the proxy is trusted.
pub fn client_ip(req: &HttpRequest) -> String {
    let trust = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.trust_forwarded_for);
    if trust && let Some(ip) = req.connection_info().realip_remote_addr() {
        return ip.to_string();
    }
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// The authenticated caller; refuses with 401 when the token is missing, bad, expired or
/// revoked, or the user is deactivated.
pub struct Auth(pub Principal);

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token = token.ok_or_else(|| {
                ApiError::unauthorized("Authentication required: send 'Authorization: Bearer <token>'")
            })?;
            let principal = state.auth.authenticate(&token).await.map_err(ApiError::from)?;
            if let Some(context) = kernel::context::current() {
                context.set_actor(principal.user_id, kernel::context::ActorType::User);
            }
            Ok(Auth(principal))
        })
    }
}

/// JSON bodies: size limit, and clear errors for bad syntax or a wrong content type.
/// Largest uploaded document in bytes.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimit(pub usize);

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(|err, _| {
        let api = match &err {
            JsonPayloadError::ContentType => ApiError::new(
                actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "Content-Type must be application/json",
            ),
            JsonPayloadError::Overflow { limit } | JsonPayloadError::OverflowKnownLength { limit, .. } => {
                ApiError::new(
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "PAYLOAD_TOO_LARGE",
                    format!("Request body is larger than {limit} bytes"),
                )
            }
            JsonPayloadError::Deserialize(e) if e.is_data() => {
                ApiError::validation(format!("Invalid request body: {e}"))
            }
            other => ApiError::validation(format!("Malformed JSON body: {other}")),
        };
        api.into()
    })
}

/// Query strings: a wrong type or value is a 400 naming the problem.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        let message = match &err {
            QueryPayloadError::Deserialize(e) => format!("Invalid query parameter: {e}"),
            other => format!("Invalid query string: {other}"),
        };
        ApiError::validation(message).into()
    })
}

/// Path parameters: a non-numeric id is a 400, not a 404 or a 500.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _| {
        let message = match &err {
            PathError::Deserialize(e) => format!("Invalid path parameter: {e}"),
            other => format!("Invalid path: {other}"),
        };
        ApiError::validation(message).into()
    })
}

/// Reads a body sent as JSON or as a form (`application/x-www-form-urlencoded`): its bytes and
/// whether it is a form. Other content types are a 415, bodies over the limit a 413.
pub fn json_or_form_bytes(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<(web::Bytes, bool), ApiError>> {
    let content_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let limit = req.app_data::<web::Data<crate::middleware::input::BodyLimit>>().map_or(1 << 20, |l| l.0);
    let bytes = web::Bytes::from_request(req, payload);
    Box::pin(async move {
        let form = content_type.starts_with("application/x-www-form-urlencoded");
        let json = content_type.starts_with("application/json") || content_type.contains("+json");
        if !form && !json {
            return Err(ApiError::unsupported("Send application/json or application/x-www-form-urlencoded."));
        }
        let bytes = bytes.await.map_err(|e| ApiError::validation(format!("Unreadable body: {e}")))?;
        if bytes.len() > limit {
            return Err(ApiError::too_large(format!("Request body is larger than {limit} bytes")));
        }
        Ok((bytes, form))
    })
}

/// A typed body sent as JSON or as a form, as Django REST framework accepts both (the
/// document's Python example signs in with a form).
pub struct JsonOrForm<T>(pub T);

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for JsonOrForm<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = json_or_form_bytes(req, payload);
        Box::pin(async move {
            let (bytes, form) = body.await?;
            let value = if form {
                serde_urlencoded::from_bytes(&bytes).map_err(|e| ApiError::validation(format!("Invalid form: {e}")))
            } else {
                serde_json::from_slice(&bytes).map_err(|e| ApiError::validation(format!("Invalid JSON body: {e}")))
            };
            value.map(JsonOrForm)
        })
    }
}
