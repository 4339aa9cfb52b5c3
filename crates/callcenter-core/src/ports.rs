//! Ports: what the call-center use cases need from storage.

use crate::Result;
use crate::caller::{Caller, CallerFields};
use crate::knowledge::{Qa, Topic};
use async_trait::async_trait;
use kernel::{Page, PageRequest};

/// A short-lived token for the browser's telephony SDK.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceToken {
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// Issues telephony SDK tokens for operators (`Unavailable` when telephony is not configured).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait VoiceTokenIssuer: Send + Sync {
    /// A token for the operator `identity` (letters, digits and `_`).
    fn issue(&self, identity: &str) -> Result<VoiceToken>;
}

/// Q&A entries of the knowledge base.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait QaRepository: Send + Sync {
    /// Newest first; `search` is a case-insensitive substring of title or answer.
    async fn list(&self, search: Option<String>, page: PageRequest) -> Result<Page<Qa>>;
    async fn get(&self, id: i64) -> Result<Option<Qa>>;
    async fn insert(&self, title: String, answer: String) -> Result<Qa>;
    async fn update(&self, id: i64, title: Option<String>, answer: Option<String>) -> Result<Option<Qa>>;
    async fn delete(&self, id: i64) -> Result<bool>;
}

/// Topics; names are unique case-insensitively (`Conflict` otherwise).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TopicRepository: Send + Sync {
    /// By name.
    async fn list(&self) -> Result<Vec<Topic>>;
    async fn get(&self, id: i64) -> Result<Option<Topic>>;
    async fn insert(&self, name: String) -> Result<Topic>;
    async fn delete(&self, id: i64) -> Result<bool>;
}

/// Callers; phones are unique (`Conflict` otherwise). The adapter links a caller to the live
/// CRM customer with the same phone.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CallerRepository: Send + Sync {
    /// Newest first; `query` is a case-insensitive substring of name, phone or e-mail.
    async fn list(&self, query: Option<String>, page: PageRequest) -> Result<Page<Caller>>;
    async fn get(&self, id: &str) -> Result<Option<Caller>>;
    /// Stores a caller with a new `u_` id; `fields` has name and phone.
    async fn insert(&self, fields: CallerFields) -> Result<Caller>;
    async fn update(&self, id: &str, fields: CallerFields) -> Result<Option<Caller>>;
}
