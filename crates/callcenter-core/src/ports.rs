//! Ports: what the call-center use cases need from storage.

use crate::Result;
use crate::call::{Call, CallFilter, CallProgress, NewCall, VoipCall};
use crate::caller::{Caller, CallerFields};
use crate::chat::{Chat, ChatFilter, ChatStatus, Message, Role};
use crate::document::{Document, NewDocument};
use crate::knowledge::{Qa, Topic};
use crate::memory::{AiContext, MemoryChange};
use crate::report::{Bucket, CallTotals, ChatTotals, LabelCount, TopicCount};
use crate::responder::Analysis;
use crate::search::KnowledgeVersion;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{Page, PageRequest};
use std::sync::Arc;
use std::time::Duration;

/// One exchange of a chat: the caller's message and the assistant's reply.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatTurn {
    /// The chat to add to; `None` starts one.
    pub chat_id: Option<String>,
    pub caller_id: String,
    pub message: String,
    pub message_at: DateTime<Utc>,
    pub reply: String,
    pub reply_at: DateTime<Utc>,
}

/// A conversation for a language model.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub system: String,
    /// Earlier turns and the new message, oldest first (`user` or `ai`).
    pub messages: Vec<(Role, String)>,
    /// Give up after this long (the caller then gets the offline answer).
    pub budget: Option<Duration>,
}

/// Receives each piece of an answer as the model produces it.
pub type DeltaSink = Box<dyn FnMut(String) + Send>;

/// A language model that completes conversations (`Unavailable` when it cannot answer).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LanguageModel: Send + Sync {
    /// The whole answer; `deltas`, when given, gets the pieces as they arrive.
    async fn complete(&self, prompt: Prompt, deltas: Option<DeltaSink>) -> Result<String>;
}

/// Which language model answers now (an operator may switch it while the server runs).
pub trait ModelChoice: Send + Sync {
    /// The model, or `None` for the offline assistant.
    fn current(&self) -> Option<Arc<dyn LanguageModel>>;
}

/// A fixed choice.
impl ModelChoice for Option<Arc<dyn LanguageModel>> {
    fn current(&self) -> Option<Arc<dyn LanguageModel>> {
        self.clone()
    }
}

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
    /// Every entry, by id (what the assistant's index is built from).
    async fn all(&self) -> Result<Vec<Qa>>;
    /// The table's current state, cheap to read: it changes with any insert, change or delete.
    async fn version(&self) -> Result<KnowledgeVersion>;
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
    /// The topic with this name (compared case-insensitively), created when there is none.
    async fn find_or_create(&self, name: String) -> Result<Topic>;
}

/// Callers; phones are unique (`Conflict` otherwise). The adapter links a caller to the live
/// CRM customer with the same phone.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CallerRepository: Send + Sync {
    /// Newest first; `query` is a case-insensitive substring of name, phone or e-mail.
    async fn list(&self, query: Option<String>, page: PageRequest) -> Result<Page<Caller>>;
    async fn get(&self, id: &str) -> Result<Option<Caller>>;
    /// The caller with this E.164 phone.
    async fn find_by_phone(&self, phone: &str) -> Result<Option<Caller>>;
    /// Stores a caller with a new id: `u_<digits of the phone>` when it has a phone and that
    /// id is free, else a random `u_` id.
    async fn insert(&self, fields: CallerFields) -> Result<Caller>;
    async fn update(&self, id: &str, fields: CallerFields) -> Result<Option<Caller>>;
    /// The caller with id `id`, created with `fields` when there is none (without the phone
    /// when another caller has it).
    async fn ensure(&self, id: &str, fields: CallerFields) -> Result<Caller>;
    /// The caller with this E.164 phone, created with `name` (else the phone) when there is none.
    async fn find_or_create(&self, phone: &str, name: Option<String>) -> Result<Caller>;
    /// What the assistant remembers about the caller; `None` when there is no such caller.
    async fn context(&self, id: &str) -> Result<Option<AiContext>>;
    /// Replaces the caller's memory; `false` when there is no such caller.
    async fn set_context(&self, id: &str, context: AiContext) -> Result<bool>;
    /// Applies a change to the caller's memory in one transaction; `None` when there is no
    /// such caller.
    async fn change_context(&self, id: &str, change: MemoryChange) -> Result<Option<AiContext>>;
}

/// Call records.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CallRepository: Send + Sync {
    /// Newest first.
    async fn list(&self, filter: CallFilter, page: PageRequest) -> Result<Page<Call>>;
    async fn get(&self, id: &str) -> Result<Option<Call>>;
    /// Stores a new call, `processing`, started now, with a new `call_` id.
    async fn insert(&self, call: NewCall) -> Result<Call>;
    /// Applies a provider's progress to the call with id `id` (else the one with the
    /// progress's provider id); `None` when there is no such call. A final status is never
    /// replaced. When the call becomes final and its caller is a CRM customer, a `call`
    /// activity is added to that customer in the same transaction.
    async fn progress(&self, id: Option<String>, progress: CallProgress) -> Result<Option<Call>>;
    /// Deletes every call with this number (transcripts go with them); returns how many.
    async fn delete_by_number(&self, number: &str) -> Result<u64>;
    /// Appends lines to the transcript of a call still in progress (marking it escalated
    /// when `escalate`); `None` when there is no such call.
    async fn append_transcript(&self, id: &str, text: String, escalate: bool) -> Result<Option<Call>>;
}

/// Chats and their messages.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ChatRepository: Send + Sync {
    /// Most recently updated first, without messages.
    async fn list(&self, filter: ChatFilter, page: PageRequest) -> Result<Page<Chat>>;
    /// One chat with its messages, oldest first: all of them, or only the `last` ones.
    async fn get(&self, id: &str, last: Option<u64>) -> Result<Option<Chat>>;
    /// Stores the caller's message and the reply (in the chat `turn.chat_id`, else a new
    /// one), reopening a closed chat; returns the chat (without messages) and the reply.
    async fn append(&self, turn: ChatTurn) -> Result<(Chat, Message)>;
    /// Closes a chat with its analysis; `None` when there is no such chat.
    async fn close(&self, id: &str, status: ChatStatus, analysis: Analysis) -> Result<Option<Chat>>;
}

/// Aggregates over calls and chats, computed by the database.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ReportRepository: Send + Sync {
    /// Calls started since `since` (all when `None`).
    async fn call_totals(&self, since: Option<DateTime<Utc>>) -> Result<CallTotals>;
    /// Chats created since `since` (all when `None`).
    async fn chat_totals(&self, since: Option<DateTime<Utc>>) -> Result<ChatTotals>;
    /// Mean milliseconds from a caller's message to the reply, over replies since `since`.
    async fn avg_response_ms(&self, since: DateTime<Utc>) -> Result<Option<f64>>;
    /// Calls started per bucket since `since`; buckets without calls are left out.
    async fn calls_per(&self, bucket: Bucket, since: DateTime<Utc>) -> Result<Vec<LabelCount>>;
    /// Chats created per bucket since `since`.
    async fn chats_per(&self, bucket: Bucket, since: DateTime<Utc>) -> Result<Vec<LabelCount>>;
    /// The most frequent topics of calls (and chats, when `with_chats`) since `since`,
    /// most frequent first, then by name.
    async fn topics(&self, since: Option<DateTime<Utc>>, with_chats: bool, limit: u64) -> Result<Vec<TopicCount>>;
}

/// Uploaded knowledge documents.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DocumentRepository: Send + Sync {
    async fn insert(&self, document: NewDocument) -> Result<Document>;
    /// Newest first, without contents.
    async fn list(&self) -> Result<Vec<Document>>;
    /// The document and its bytes.
    async fn get(&self, id: i64) -> Result<Option<(Document, Vec<u8>)>>;
    async fn delete(&self, id: i64) -> Result<bool>;
    /// The names and texts of up to `limit` documents whose text contains any of `terms`.
    async fn matching(&self, terms: Vec<String>, limit: u64) -> Result<Vec<(String, String)>>;
}

/// Reads the text of binary documents (pdf, docx) for the assistant.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TextExtractor: Send + Sync {
    /// The text of a document of this content type; `None` when there is none to read.
    async fn text(&self, content_type: &str, data: Vec<u8>) -> Result<Option<String>>;
}

/// Places outbound calls and authenticates the provider's status callbacks
/// (`Unavailable` when telephony is not configured).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Telephony: Send + Sync {
    /// Fails with `Unavailable` naming the missing settings, before anything is stored.
    fn ensure_configured(&self) -> Result<()>;
    /// Places the call for our record `call_id`; returns the provider's id of the call.
    async fn place_call(&self, call_id: &str, call: &VoipCall) -> Result<String>;
    /// Checks a status callback: the path and query the provider requested (the adapter
    /// knows our public base URL), its form parameters and its signature header, empty when
    /// absent (`Forbidden` when it does not match).
    fn verify_callback(&self, path_and_query: &str, params: &[(String, String)], signature: &str) -> Result<()>;
}
