//! Cross-cutting request handling: error envelopes, request ids, rate limits, input guard.

pub mod errors;
pub mod input;
pub mod rate_limit;
pub mod request_id;
