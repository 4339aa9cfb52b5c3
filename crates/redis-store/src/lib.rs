//! State that replicas share through Redis: fixed-window request counters (rate limits) and
//! failed sign-ins (throttles). Each operation is one atomic round trip. When Redis is out of
//! reach the callers decide: rate limits fail open, sign-in throttles fall back to the
//! database, and [`RedisLink::ping`] tells `/health`.

mod attempts;
mod link;

pub use attempts::RedisLoginAttempts;
pub use link::{Circuit, RedisLink};
