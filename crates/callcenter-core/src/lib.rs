//! Call-center domain: callers (the people who call or chat), their calls and chats, the
//! knowledge base (Q&A, topics, documents) that operators and the assistant answer from,
//! reports, and their use cases.
//!
//! Pure domain code: entities, validation, use cases and port traits.

pub mod assistant;
pub mod call;
pub mod caller;
pub mod chat;
pub mod document;
pub mod error;
pub mod knowledge;
pub mod memory;
pub mod ports;
pub mod report;
pub mod responder;
pub mod search;
pub mod service;

pub use error::{CallcenterError, Result};
pub use ports::VoiceToken;
pub use service::{CallcenterPorts, CallcenterService};
