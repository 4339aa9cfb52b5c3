//! Cross-cutting request handling: error envelopes, request ids, security headers, rate
//! limits, input guard, `HEAD` as `GET`.

pub mod errors;
pub mod head;
pub mod idempotency;
pub mod input;
pub mod rate_limit;
pub mod request_id;
pub mod security_headers;
