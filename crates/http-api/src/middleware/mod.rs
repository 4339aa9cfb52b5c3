//! Cross-cutting request handling: error envelopes, request ids, rate limits.

pub mod errors;
pub mod rate_limit;
pub mod request_id;
