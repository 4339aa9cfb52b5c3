//! One error type for every handler; the error middleware renders it in the envelope of
//! the surface the request belongs to.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use kernel::DomainError;
use serde_json::{Value, json};
use std::fmt;

/// Seconds a client is asked to wait after a 503.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

/// An error answer: status, stable code, human message and optional details.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    /// Machine-readable code (`VALIDATION_ERROR`, `NOT_FOUND`, ...).
    pub code: &'static str,
    pub message: String,
    /// Per-field messages or other structured context.
    pub details: Option<Value>,
    /// Seconds to wait, sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), details: None, retry_after: None }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::validation(message.clone()).with_details(json!({ field: [message] }))
    }

    /// A 400 naming every problem by field; its message is the first problem's.
    pub fn fields(errors: kernel::FieldErrors) -> Self {
        let message = errors.values().flatten().next().cloned().unwrap_or_else(|| "Invalid body.".into());
        ApiError::validation(message).with_details(serde_json::to_value(errors).unwrap_or(Value::Null))
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, "CONFLICT", message)
    }

    pub fn rate_limited(message: impl Into<String>, retry_after: u64) -> Self {
        let mut err = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", message);
        err.retry_after = Some(retry_after);
        err
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", message)
    }

    /// A 503: a dependency is down or not configured; `Retry-After` suggests when to retry.
    pub fn unavailable(message: impl Into<String>) -> Self {
        let mut err = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", message);
        err.retry_after = Some(UNAVAILABLE_RETRY_SECS);
        err
    }

    /// A 500 whose cause is logged, never sent.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "Internal server error")
    }

    /// The generic error for a bare status code (unknown route, wrong method, ...).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            400 => ("VALIDATION_ERROR", "Bad request"),
            401 => ("UNAUTHORIZED", "Authentication required"),
            403 => ("FORBIDDEN", "Forbidden"),
            404 => ("NOT_FOUND", "Resource not found"),
            405 => ("METHOD_NOT_ALLOWED", "Method not allowed"),
            413 => ("PAYLOAD_TOO_LARGE", "Request body is too large"),
            415 => ("UNSUPPORTED_MEDIA_TYPE", "Unsupported content type"),
            429 => ("RATE_LIMITED", "Too many requests"),
            503 => ("SERVICE_UNAVAILABLE", "Service unavailable"),
            s if s >= 500 => ("INTERNAL_ERROR", "Internal server error"),
            _ => ("ERROR", "Request failed"),
        };
        ApiError::new(status, code, message)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    /// A neutral body; [`crate::middleware::errors`] re-renders it for the request's surface.
    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            res.insert_header(("Retry-After", secs.to_string()));
        }
        res.json(crate::surface::Surface::CallCenter.error_body(self))
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Validation { message, fields } => {
                let details = serde_json::to_value(fields).unwrap_or(Value::Null);
                ApiError::validation(message).with_details(details)
            }
            DomainError::Unauthorized(m) => ApiError::unauthorized(m),
            DomainError::Forbidden(m) => ApiError::forbidden(m),
            DomainError::NotFound(m) => ApiError::not_found(m),
            DomainError::Conflict(m) => ApiError::conflict(m),
            DomainError::Duplicate { message, candidates } => {
                let candidates: Vec<Value> =
                    candidates.iter().map(|c| json!({"type": c.kind, "id": c.id, "name": c.name})).collect();
                ApiError::conflict(message).with_details(json!({ "candidates": candidates }))
            }
            DomainError::InUse { message, field, count } => {
                ApiError::conflict(message).with_details(json!({ field: count }))
            }
            e @ DomainError::Throttled { retry_after_secs } => {
                metrics::counter!("crm_signin_throttle_refusals_total").increment(1);
                ApiError::rate_limited(e.to_string(), retry_after_secs)
            }
            DomainError::Unsupported(m) => ApiError::unsupported(m),
            DomainError::Unavailable(m) => ApiError::unavailable(m),
            DomainError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

/// What every handler returns.
pub type ApiResult<T> = Result<T, ApiError>;
