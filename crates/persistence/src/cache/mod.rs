//! In-process caches kept true by change signals.

pub mod callers;
mod fresh;
pub mod signal;
mod statuses;

pub use callers::{CacheSettings, CachedRoles, CachedSessions, CachedUsers, Change, ProcessCache};
pub use statuses::CachedStatuses;
