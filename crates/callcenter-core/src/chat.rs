//! Chats: text conversations between a caller and the assistant (or an operator).

use crate::call::Sentiment;
use crate::error::{CallcenterError, Result};
use chrono::{DateTime, Utc};

/// `open` while the conversation goes on; `resolved` or `escalated` (to a human) when closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatStatus {
    Open,
    Resolved,
    Escalated,
}

impl ChatStatus {
    pub const ALL: [ChatStatus; 3] = [ChatStatus::Open, ChatStatus::Resolved, ChatStatus::Escalated];

    pub fn as_str(self) -> &'static str {
        match self {
            ChatStatus::Open => "open",
            ChatStatus::Resolved => "resolved",
            ChatStatus::Escalated => "escalated",
        }
    }

    pub fn parse(s: &str) -> Option<ChatStatus> {
        ChatStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Ai,
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Ai => "ai",
            Role::System => "system",
        }
    }

    /// Unknown values read as `system`.
    pub fn parse(s: &str) -> Role {
        match s {
            "user" => Role::User,
            "ai" => Role::Ai,
            _ => Role::System,
        }
    }
}

/// One message of a chat. Ids have the `msg_` prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub role: Role,
    pub text: String,
    pub timestamp: DateTime<Utc>,
}

/// A chat. Ids have the `chat_` prefix; `messages` is filled only when one chat is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Chat {
    pub id: String,
    pub caller_id: String,
    pub status: ChatStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub topic: Option<String>,
    pub tags: Vec<String>,
    pub sentiment: Sentiment,
    pub ai_summary: String,
    pub messages: Vec<Message>,
}

/// What a chat list is narrowed to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatFilter {
    /// Case-insensitive substring of caller name or phone, topic, summary or tags.
    pub query: Option<String>,
    pub status: Option<ChatStatus>,
}

/// `all`, empty or absent mean any status; otherwise one of [`ChatStatus`].
pub fn chat_status_filter(status: Option<&str>) -> Result<Option<ChatStatus>> {
    match status.map(str::trim) {
        None | Some("") | Some("all") => Ok(None),
        Some(s) => ChatStatus::parse(s).map(Some).ok_or_else(|| {
            CallcenterError::field("status", format!("status must be open, resolved, escalated or all, not '{s}'."))
        }),
    }
}
