//! Call-center domain: callers (the people who call or chat), the knowledge base (Q&A and
//! topics) that operators and the assistant answer from, and their use cases.
//!
//! Pure domain code: entities, validation, use cases and port traits.

pub mod caller;
pub mod error;
pub mod knowledge;
pub mod ports;
pub mod service;

pub use error::{CallcenterError, Result};
pub use ports::VoiceToken;
pub use service::{CallcenterPorts, CallcenterService};
