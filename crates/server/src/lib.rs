//! `crm-server`: configuration, database, migrations, wiring and the HTTP server.

pub mod loadgen;
pub mod probe;
pub mod progress;
pub mod settings;
pub mod startup;
pub mod telemetry;

pub use settings::Settings;
pub use startup::{Running, spawn};
