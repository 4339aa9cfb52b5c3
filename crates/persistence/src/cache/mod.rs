//! In-process caches kept true by change signals.

pub mod callers;
mod fresh;
pub mod signal;

pub use callers::{CacheSettings, CachedRoles, CachedSessions, CachedUsers, CallerCache, Change};
