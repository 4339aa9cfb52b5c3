//! Logging with `tracing`: readable in development, JSON in production.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; `RUST_LOG` overrides `level` when set.
pub fn init(level: &str, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = if json { builder.json().flatten_event(true).try_init() } else { builder.try_init() };
}
