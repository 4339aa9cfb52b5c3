//! The assistant's use cases: chatting with callers (with memory), supporting a live AI call
//! (start, transcript chunks, end), and closing chats with a summary and a topic.
//!
//! Answers come from the language model when one is configured, and from the offline
//! assistant otherwise, or when the model fails or misses its budget: a caller always gets
//! an answer.

use super::{CallcenterService, check_caller_id, not_found};
use crate::assistant::{Intent, intent_of, language_of, stated_name};
use crate::call::{Call, CallProgress, CallStatus, Direction, NewCall, Sentiment, transcript_turns};
use crate::caller::{Caller, CallerFields, LANGUAGES};
use crate::chat::{Chat, ChatStatus, Role};
use crate::error::{CallcenterError, Result};
use crate::memory::{AiContext, MAX_NAME, MemoryChange};
use crate::ports::{ChatTurn, DeltaSink, Prompt};
use crate::responder::{
    Analysis, Ask, PASSAGES_IN_PROMPT, Passage, Reply, analyse, best_passages, call_history_line, conversation_text,
    greeting, history_line, merge_model_analysis, offline_reply, passages_of, search_terms, summary_prompt,
    system_prompt,
};
use crate::search::KnowledgeIndex;
use chrono::{DateTime, Utc};
use kernel::{FieldErrors, normalize_phone, push_error};
use management_core::{Permission, Principal};
use std::sync::Arc;
use std::time::Duration;

/// The longest chat message or transcript chunk accepted.
pub const MAX_MESSAGE: usize = 4000;
const MAX_CHUNK: usize = 20_000;
/// Q&A entries and documents considered per message.
const QA_CANDIDATES: usize = 20;
const DOCUMENT_CANDIDATES: u64 = 10;
/// Earlier messages a model sees.
const HISTORY_IN_PROMPT: usize = 10;

/// What the client says about the caller (merged into the caller's record and memory).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserContextInput {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
}

/// A caller's chat message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AiChatInput {
    pub chat_id: Option<String>,
    pub user_id: Option<String>,
    pub message: Option<String>,
    pub user_context: Option<UserContextInput>,
}

/// Who wrote a reply of the assistant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyBackend {
    /// No model is configured (or the caller asked for an operator): the offline assistant.
    Offline,
    /// The configured model.
    Model,
    /// The model failed or was too slow: the offline assistant covered for it.
    Fallback,
}

impl ReplyBackend {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyBackend::Offline => "offline",
            ReplyBackend::Model => "model",
            ReplyBackend::Fallback => "fallback",
        }
    }
}

/// The assistant's reply to a chat message.
#[derive(Debug, Clone, PartialEq)]
pub struct AiChatReply {
    pub message_id: String,
    pub chat_id: String,
    pub response: String,
    pub backend: ReplyBackend,
    /// Whether the assistant learned (or changed) the caller's name.
    pub context_updated: bool,
    pub suggested_actions: Vec<String>,
}

/// The start of a call the assistant takes part in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AiCallInput {
    pub user_id: Option<String>,
    pub phone_number: Option<String>,
    pub direction: Option<String>,
    pub user_context: Option<UserContextInput>,
}

/// A started AI call.
#[derive(Debug, Clone, PartialEq)]
pub struct AiCallStarted {
    pub call: Call,
    pub session_id: String,
    pub greeting: String,
    /// Whether the assistant already knew the caller.
    pub context_loaded: bool,
}

/// The assistant's support for one transcript chunk of a live call.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptReply {
    pub response: String,
    pub backend: ReplyBackend,
    pub suggested_actions: Vec<String>,
    pub should_transfer: bool,
    pub sentiment: Sentiment,
}

/// A validated user context.
struct UserContext {
    name: Option<String>,
    phone: Option<String>,
    language: Option<String>,
}

fn required<'a>(value: Option<&'a str>, field: &str, max: usize, errors: &mut FieldErrors) -> Option<&'a str> {
    match value.map(str::trim) {
        None | Some("") => {
            push_error(errors, field, format!("{field} is required."));
            None
        }
        Some(v) if v.chars().count() > max => {
            push_error(errors, field, format!("{field} must be at most {max} characters."));
            None
        }
        Some(v) => Some(v),
    }
}

fn user_context(input: Option<&UserContextInput>, errors: &mut FieldErrors) -> UserContext {
    let input = input.cloned().unwrap_or_default();
    let name = input.name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME) {
        push_error(errors, "userContext.name", format!("userContext.name must be at most {MAX_NAME} characters."));
    }
    let phone = match input.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => normalize_phone(p).map_err(|m| push_error(errors, "userContext.phone", m)).ok(),
        None => None,
    };
    let language = input.language.map(|l| l.trim().to_lowercase()).filter(|l| !l.is_empty());
    if language.as_ref().is_some_and(|l| !LANGUAGES.contains(&l.as_str())) {
        push_error(errors, "userContext.language", format!("language must be one of {}.", LANGUAGES.join(", ")));
    }
    UserContext { name, phone, language }
}

fn check_user_id(user_id: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let id = required(user_id, "userId", 64, errors)?;
    if check_caller_id(id).is_err() {
        push_error(errors, "userId", format!("'{id}' is not a user id (u_…)."));
        return None;
    }
    Some(id.to_string())
}

/// The language to answer in: the message's own when it is clear, else the one the client
/// or the caller's record gives, else Uzbek.
fn reply_language(message: &str, given: Option<&str>) -> String {
    language_of(message).or(given).unwrap_or("uz").to_string()
}

/// Whether the caller's last two turns were both negative.
fn negative_streak(transcript: &str) -> bool {
    let moods: Vec<Sentiment> = transcript_turns(transcript)
        .into_iter()
        .filter(|(r, _)| *r == Role::User)
        .map(|(_, t)| crate::assistant::sentiment(&t))
        .collect();
    moods.len() >= 2 && moods[moods.len() - 2..].iter().all(|m| *m == Sentiment::Negative)
}

fn check_session(call: &Call, session_id: Option<&str>) -> Result<()> {
    if call.session_id.as_deref().is_some_and(|s| Some(s) == session_id) {
        Ok(())
    } else {
        Err(CallcenterError::Forbidden("sessionId does not match this call.".into()))
    }
}

fn check_live(call: &Call) -> Result<()> {
    if call.status.is_final() {
        Err(CallcenterError::Conflict(format!("Call {} is already over ({}).", call.id, call.status.as_str())))
    } else {
        Ok(())
    }
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

impl CallcenterService {
    /// How long a live call waits for the model: the `voice.budget_ms` setting, else the
    /// configured budget.
    fn voice_budget(&self) -> std::time::Duration {
        match self.ports.overrides.int("voice.budget_ms") {
            Some(ms) if ms > 0 => std::time::Duration::from_millis(ms as u64),
            _ => self.ports.voice_budget,
        }
    }

    /// Whether the caller may open the assistant's stream (it writes chats).
    pub fn may_stream(&self, by: &Principal) -> Result<()> {
        by.require(Permission::CallcenterWrite)
    }

    /// Answers a caller's chat message and stores both messages. An unknown `userId` creates
    /// the caller, an absent or unknown `chatId` starts a chat; a stated name is remembered
    /// (`context_updated`), and each turn adds a line to the caller's history. `deltas`
    /// receives the answer in pieces as it is produced.
    pub async fn ai_chat(&self, by: &Principal, input: AiChatInput, deltas: Option<DeltaSink>) -> Result<AiChatReply> {
        by.require(Permission::CallcenterWrite)?;
        let mut errors = FieldErrors::new();
        let user_id = check_user_id(input.user_id.as_deref(), &mut errors);
        let message = required(input.message.as_deref(), "message", MAX_MESSAGE, &mut errors).map(str::to_string);
        let context = user_context(input.user_context.as_ref(), &mut errors);
        CallcenterError::check(errors)?;
        let (user_id, message) = (user_id.unwrap_or_default(), message.unwrap_or_default());
        let message_at = Utc::now();

        let fields = CallerFields {
            full_name: Some(context.name.clone().unwrap_or_else(|| user_id.clone())),
            phone: context.phone.clone(),
            language: Some(context.language.clone()),
            ..CallerFields::default()
        };
        let mut caller = self.ports.callers.ensure(&user_id, fields).await?;
        caller = self.complete_caller(caller, &context).await?;
        let chat = match input.chat_id.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(id) => self.ports.chats.get(id, Some(HISTORY_IN_PROMPT as u64)).await?,
            None => None,
        };
        if chat.as_ref().is_some_and(|c| c.caller_id != caller.id) {
            return Err(CallcenterError::Forbidden("This chat belongs to another user.".into()));
        }
        let mut memory = self.ports.callers.context(&caller.id).await?.unwrap_or_default();
        let known_before = memory.known_name.clone();
        let stated = stated_name(&message);
        let mut change =
            MemoryChange { name: stated.clone(), name_if_unknown: context.name.clone(), ..MemoryChange::default() };
        memory.apply(&change);
        let context_updated = memory.known_name != known_before;

        let language = reply_language(&message, context.language.as_deref().or(caller.language.as_deref()));
        let passages = self.knowledge(&message).await?;
        let best = best_passages(&message, &passages, PASSAGES_IN_PROMPT);
        let ask = Ask {
            message: &message,
            known_name: memory.known_name.as_deref(),
            name_stated: stated.is_some(),
            language: &language,
            opens_conversation: chat.is_none(),
        };
        let offline = offline_reply(&ask, best.first().copied());
        let history: Vec<(Role, String)> =
            chat.iter().flat_map(|c| &c.messages).map(|m| (m.role, m.text.clone())).collect();
        let (response, backend) = self.answer(&ask, &memory, &best, history, None, deltas, &offline).await;

        let (stored, reply) = self
            .ports
            .chats
            .append(ChatTurn {
                chat_id: chat.map(|c| c.id),
                caller_id: caller.id.clone(),
                message: message.clone(),
                message_at,
                reply: response,
                reply_at: Utc::now(),
            })
            .await?;
        // A question about one's own name is answered from memory and leaves it as it is.
        if intent_of(&message) != Intent::AskName {
            change.line = Some(history_line(&offline, &message, stated.as_deref(), &day(message_at)));
        }
        self.ports.callers.change_context(&caller.id, change).await?;
        if offline.transfer {
            self.close_chat_with(&stored.id, ChatStatus::Escalated).await?;
        }
        Ok(AiChatReply {
            message_id: reply.id,
            chat_id: stored.id,
            response: reply.text,
            backend,
            context_updated,
            suggested_actions: offline.suggested_actions,
        })
    }

    /// Fills in the phone and language the caller's record lacks from what the client says
    /// (a phone another caller has is left out).
    async fn complete_caller(&self, caller: Caller, context: &UserContext) -> Result<Caller> {
        let phone = context.phone.clone().filter(|_| caller.phone.is_none());
        let language = context.language.clone().filter(|_| caller.language.is_none());
        if phone.is_none() && language.is_none() {
            return Ok(caller);
        }
        let mut fields = CallerFields { phone, language: language.map(Some), ..CallerFields::default() };
        match self.ports.callers.update(&caller.id, fields.clone()).await {
            Err(CallcenterError::Conflict(_)) if fields.phone.is_some() => {
                fields.phone = None;
                Ok(self.ports.callers.update(&caller.id, fields).await?.unwrap_or(caller))
            }
            other => Ok(other?.unwrap_or(caller)),
        }
    }

    /// Closes a chat as `resolved` or `escalated`, storing its summary, sentiment, tags and
    /// topic (from the catalog, created when new).
    pub async fn close_chat(&self, by: &Principal, id: &str, status: Option<&str>) -> Result<Chat> {
        by.require(Permission::CallcenterWrite)?;
        let status = match status.map(str::trim).and_then(ChatStatus::parse) {
            Some(s @ (ChatStatus::Resolved | ChatStatus::Escalated)) => s,
            _ => return Err(CallcenterError::field("status", "status must be resolved or escalated.")),
        };
        self.close_chat_with(id, status).await
    }

    async fn close_chat_with(&self, id: &str, status: ChatStatus) -> Result<Chat> {
        let chat = self.ports.chats.get(id, None).await?.ok_or_else(|| not_found("Chat", id))?;
        let turns: Vec<(Role, String)> = chat.messages.iter().map(|m| (m.role, m.text.clone())).collect();
        let analysis = self.analysis(&turns, status == ChatStatus::Escalated).await?;
        self.ports.chats.close(id, status, analysis).await?.ok_or_else(|| not_found("Chat", id))
    }

    /// Starts a call the assistant takes part in: the caller is the one with `userId`, else
    /// the one with the phone number (created when new); the call is recorded as
    /// `processing` with a new session id, and the assistant greets by the remembered name.
    pub async fn start_ai_call(&self, by: &Principal, input: AiCallInput) -> Result<AiCallStarted> {
        by.require(Permission::CallcenterWrite)?;
        let mut errors = FieldErrors::new();
        let user_id = match input.user_id.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(_) => check_user_id(input.user_id.as_deref(), &mut errors),
            None => None,
        };
        let phone = required(input.phone_number.as_deref(), "phoneNumber", 40, &mut errors)
            .and_then(|p| normalize_phone(p).map_err(|m| push_error(&mut errors, "phoneNumber", m)).ok());
        let direction = match input.direction.as_deref().map(str::trim) {
            None | Some("") => Some(Direction::Inbound),
            Some(d) => Direction::parse(d).or_else(|| {
                push_error(&mut errors, "direction", "direction must be inbound or outbound.");
                None
            }),
        };
        let context = user_context(input.user_context.as_ref(), &mut errors);
        CallcenterError::check(errors)?;
        let (phone, direction) = (phone.unwrap_or_default(), direction.unwrap_or(Direction::Inbound));

        let known = match &user_id {
            Some(id) => self.ports.callers.get(id).await?,
            None => None,
        };
        let caller = match known {
            Some(c) => c,
            None => self.ports.callers.find_or_create(&phone, context.name.clone()).await?,
        };
        let mut memory = self.ports.callers.context(&caller.id).await?.unwrap_or_default();
        let context_loaded = memory.known_name.is_some() || !memory.conversation_history.is_empty();
        let change = MemoryChange { name_if_unknown: context.name.clone(), ..MemoryChange::default() };
        if memory.known_name.is_none() && !change.is_empty() {
            memory = self.ports.callers.change_context(&caller.id, change).await?.unwrap_or(memory);
        }
        let call = self
            .ports
            .calls
            .insert(NewCall {
                caller_id: caller.id.clone(),
                number: phone,
                direction,
                operator_name: None,
                model: None,
                prompt: None,
                options: None,
                ai_session: true,
            })
            .await?;
        let language = context.language.or(caller.language).unwrap_or_else(|| "uz".into());
        let greeting = greeting(memory.known_name.as_deref(), &language);
        let call = self
            .ports
            .calls
            .append_transcript(&call.id, format!("AI: {greeting}"), false)
            .await?
            .ok_or_else(|| not_found("Call", &call.id))?;
        let session_id = call.session_id.clone().unwrap_or_default();
        Ok(AiCallStarted { call, session_id, greeting, context_loaded })
    }

    /// Takes a transcript chunk of a live AI call (the session id must match): appends it
    /// with the assistant's answer, and says whether to hand the caller to an operator (they
    /// asked for one, or their last two turns were negative). The model gets `voice_budget`
    /// to answer before the offline answer is used.
    pub async fn call_transcript(
        &self,
        by: &Principal,
        call_id: &str,
        session_id: Option<&str>,
        transcript: Option<&str>,
    ) -> Result<TranscriptReply> {
        by.require(Permission::CallcenterWrite)?;
        let mut errors = FieldErrors::new();
        let session = required(session_id, "sessionId", 100, &mut errors);
        let chunk = required(transcript, "transcript", MAX_CHUNK, &mut errors).map(str::to_string);
        CallcenterError::check(errors)?;
        let chunk = chunk.unwrap_or_default();
        let call = self.ports.calls.get(call_id).await?.ok_or_else(|| not_found("Call", call_id))?;
        check_session(&call, session)?;
        check_live(&call)?;

        let turns = transcript_turns(&chunk);
        let said: Vec<&str> = turns.iter().filter(|(r, _)| *r == Role::User).map(|(_, t)| t.as_str()).collect();
        let said = if said.is_empty() { chunk.clone() } else { said.join("\n") };
        let mut memory = self.ports.callers.context(&call.caller_id).await?.unwrap_or_default();
        let stated = stated_name(&said);
        if stated.is_some() {
            let change = MemoryChange { name: stated.clone(), ..MemoryChange::default() };
            memory = self.ports.callers.change_context(&call.caller_id, change).await?.unwrap_or(memory);
        }
        let language = reply_language(&said, None);
        let passages = self.knowledge(&said).await?;
        let best = best_passages(&said, &passages, PASSAGES_IN_PROMPT);
        let ask = Ask {
            message: &said,
            known_name: memory.known_name.as_deref(),
            name_stated: stated.is_some(),
            language: &language,
            opens_conversation: false,
        };
        let mut offline = offline_reply(&ask, best.first().copied());
        let should_transfer = offline.transfer || negative_streak(&format!("{}\n{chunk}", call.transcript));
        if should_transfer && !offline.suggested_actions.iter().any(|a| a == "Operatorga ulash") {
            offline.suggested_actions.insert(0, "Operatorga ulash".into());
        }
        let history = transcript_turns(&call.transcript);
        let budget = Some(self.voice_budget());
        let (response, backend) = self.answer(&ask, &memory, &best, history, budget, None, &offline).await;
        self.ports
            .calls
            .append_transcript(call_id, format!("{chunk}\nAI: {response}"), should_transfer)
            .await?
            .ok_or_else(|| not_found("Call", call_id))?;
        Ok(TranscriptReply {
            response,
            backend,
            suggested_actions: offline.suggested_actions,
            should_transfer,
            sentiment: offline.sentiment,
        })
    }

    /// Ends a live AI call: `completed`, with its duration, summary, sentiment, tags and
    /// topic (from the catalog, created when new); the caller's history gets a line.
    pub async fn end_ai_call(&self, by: &Principal, call_id: &str, session_id: Option<&str>) -> Result<Call> {
        by.require(Permission::CallcenterWrite)?;
        let call = self.ports.calls.get(call_id).await?.ok_or_else(|| not_found("Call", call_id))?;
        if session_id.is_some() {
            check_session(&call, session_id)?;
        }
        check_live(&call)?;
        let analysis = self.analysis(&transcript_turns(&call.transcript), call.escalated).await?;
        let at = Utc::now();
        let line = call_history_line(&analysis, &day(at));
        let progress = CallProgress {
            provider_sid: None,
            status: Some(CallStatus::Completed),
            answered: false,
            duration_sec: None,
            recording_url: None,
            at,
            analysis: Some(analysis),
        };
        let ended = self.ports.calls.progress(Some(call_id.to_string()), progress).await?;
        let ended = ended.ok_or_else(|| not_found("Call", call_id))?;
        let change = MemoryChange { line: Some(line), ..MemoryChange::default() };
        self.ports.callers.change_context(&ended.caller_id, change).await?;
        Ok(ended)
    }

    /// The conversation's analysis: written by the model when one is configured and answers
    /// with well-formed JSON within the voice budget, else by the offline analysis; its topic
    /// is taken from the catalog (created when new).
    async fn analysis(&self, turns: &[(Role, String)], escalated: bool) -> Result<Analysis> {
        let topics: Vec<String> = self.ports.topics.list().await?.into_iter().map(|t| t.name).collect();
        let mut analysis = analyse(turns, &topics, escalated);
        if let Some(model) = &self.ports.model.current() {
            let prompt = Prompt {
                system: summary_prompt(&topics),
                messages: vec![(Role::User, conversation_text(turns))],
                budget: Some(self.voice_budget()),
            };
            if let Ok(answer) = model.complete(prompt, None).await {
                analysis = merge_model_analysis(&answer, analysis.clone(), &topics).unwrap_or(analysis);
            }
        }
        analysis.topic = self.ports.topics.find_or_create(analysis.topic).await?.name;
        Ok(analysis)
    }

    /// The knowledge-base passages that may answer `message`: Q&A entries and paragraphs of
    /// documents sharing a word with it.
    async fn knowledge(&self, message: &str) -> Result<Vec<Passage>> {
        let terms = search_terms(message);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let index = self.qa_index().await?;
        let mut passages: Vec<Passage> = index.search(message, QA_CANDIDATES).into_iter().cloned().collect();
        let documents = self.ports.documents.matching(terms, DOCUMENT_CANDIDATES).await?;
        for (name, text) in documents {
            passages.extend(passages_of(&name, &text));
        }
        Ok(passages)
    }

    /// The Q&A index, rebuilt when the table has changed since it was built (so every
    /// replica follows the others' changes).
    async fn qa_index(&self) -> Result<Arc<KnowledgeIndex>> {
        let version = self.ports.qa.version().await?;
        if let Some((built, index)) = self.index.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && *built == version
        {
            return Ok(index.clone());
        }
        let entries = self.ports.qa.all().await?;
        let index = Arc::new(KnowledgeIndex::build(
            entries.into_iter().map(|q| Passage { title: q.title, text: q.answer }).collect(),
        ));
        *self.index.lock().unwrap_or_else(|e| e.into_inner()) = Some((version, index.clone()));
        Ok(index)
    }

    /// The model's answer when one is configured and answers (within `budget`), else the
    /// offline one.
    #[allow(clippy::too_many_arguments)]
    async fn answer(
        &self,
        ask: &Ask<'_>,
        memory: &AiContext,
        best: &[&Passage],
        mut history: Vec<(Role, String)>,
        budget: Option<Duration>,
        deltas: Option<DeltaSink>,
        offline: &Reply,
    ) -> (String, ReplyBackend) {
        let Some(model) = self.ports.model.current().filter(|_| !offline.transfer) else {
            if let Some(mut sink) = deltas {
                sink(offline.text.clone());
            }
            return (offline.text.clone(), ReplyBackend::Offline);
        };
        let skip = history.len().saturating_sub(HISTORY_IN_PROMPT);
        history.drain(..skip);
        history.push((Role::User, ask.message.to_string()));
        let prompt = Prompt { system: system_prompt(memory, best, ask.language), messages: history, budget };
        match model.complete(prompt, deltas).await {
            Ok(text) if !text.trim().is_empty() => (text.trim().to_string(), ReplyBackend::Model),
            // The model's client logs its failures; the caller is answered offline.
            Ok(_) | Err(_) => (offline.text.clone(), ReplyBackend::Fallback),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::Caller;
    use crate::chat::Message;
    use crate::knowledge::Qa;
    use crate::ports::{
        MockCallRepository, MockCallerRepository, MockChatRepository, MockDocumentRepository, MockLanguageModel,
        MockQaRepository,
    };
    use crate::service::CallcenterPorts;
    use crate::service::tests::{mocks, principal};
    use std::sync::Mutex;

    fn operator() -> Principal {
        principal(&[Permission::CallcenterRead, Permission::CallcenterWrite])
    }

    #[test]
    fn the_voice_budget_setting_overrides_the_configured_budget() {
        struct Budget;
        impl kernel::runtime::Overrides for Budget {
            fn int(&self, key: &str) -> Option<i64> {
                (key == "voice.budget_ms").then_some(250)
            }
        }
        let ports = CallcenterPorts { overrides: Arc::new(Budget), ..mocks() };
        assert_eq!(CallcenterService::new(ports).voice_budget(), std::time::Duration::from_millis(250));
        assert_eq!(CallcenterService::new(mocks()).voice_budget(), std::time::Duration::from_secs(3));
    }

    fn caller(id: &str) -> Caller {
        Caller {
            id: id.into(),
            full_name: id.into(),
            phone: Some("+998901112233".into()),
            email: None,
            region: None,
            language: Some("uz".into()),
            customer_id: None,
            created_at: Utc::now(),
        }
    }

    /// Ports for one chat turn: a known caller with `memory`, one Q&A entry, and a store that
    /// records what it is given.
    fn chat_ports(
        memory: AiContext,
        saved: Arc<Mutex<Option<AiContext>>>,
        turns: Arc<Mutex<Vec<ChatTurn>>>,
    ) -> CallcenterPorts {
        let mut callers = MockCallerRepository::new();
        callers.expect_ensure().returning(|id, _| Ok(caller(id)));
        callers.expect_context().returning(move |_| Ok(Some(memory.clone())));
        callers.expect_change_context().returning(move |_, change| {
            let mut stored = saved.lock().unwrap().clone().unwrap_or_default();
            stored.apply(&change);
            *saved.lock().unwrap() = Some(stored.clone());
            Ok(Some(stored))
        });
        let mut qa = MockQaRepository::new();
        qa.expect_version().returning(|| Ok(Default::default()));
        qa.expect_all().times(1).returning(|| {
            let now = Utc::now();
            Ok(vec![Qa {
                id: 1,
                title: "Grant uchun hujjatlar".into(),
                answer: "Pasport va ariza kerak.".into(),
                created_at: now,
                updated_at: now,
            }])
        });
        let mut documents = MockDocumentRepository::new();
        documents.expect_matching().returning(|_, _| Ok(vec![]));
        let mut chats = MockChatRepository::new();
        chats.expect_append().returning(move |t| {
            turns.lock().unwrap().push(t.clone());
            let chat = Chat {
                id: "chat_1".into(),
                caller_id: t.caller_id.clone(),
                status: ChatStatus::Open,
                created_at: t.message_at,
                updated_at: t.reply_at,
                topic: None,
                tags: vec![],
                sentiment: Sentiment::Neutral,
                ai_summary: String::new(),
                messages: vec![],
            };
            Ok((chat, Message { id: "msg_2".into(), role: Role::Ai, text: t.reply, timestamp: t.reply_at }))
        });
        CallcenterPorts {
            callers: Arc::new(callers),
            qa: Arc::new(qa),
            documents: Arc::new(documents),
            chats: Arc::new(chats),
            ..mocks()
        }
    }

    fn message(text: &str) -> AiChatInput {
        AiChatInput { user_id: Some("u_1".into()), message: Some(text.into()), ..Default::default() }
    }

    #[tokio::test]
    async fn a_stated_name_is_remembered_and_the_turn_stored() {
        let saved = Arc::new(Mutex::new(None));
        let turns = Arc::new(Mutex::new(Vec::new()));
        let svc = CallcenterService::new(chat_ports(AiContext::default(), saved.clone(), turns.clone()));
        let reply = svc.ai_chat(&operator(), message("Mening ismim Moychechak"), None).await.unwrap();
        assert!(reply.context_updated);
        assert_eq!((reply.chat_id.as_str(), reply.message_id.as_str()), ("chat_1", "msg_2"));
        let memory = saved.lock().unwrap().clone().unwrap();
        assert_eq!(memory.known_name.as_deref(), Some("Moychechak"));
        assert!(memory.conversation_history[0].starts_with("Ismini aytdi: Moychechak"));
        let turn = turns.lock().unwrap()[0].clone();
        assert_eq!((turn.chat_id, turn.message.as_str()), (None, "Mening ismim Moychechak"));
        assert_eq!(turn.reply, reply.response);
        assert_eq!(reply.backend, ReplyBackend::Offline);
    }

    #[tokio::test]
    async fn a_failing_model_is_covered_by_the_offline_answer() {
        let memory = AiContext { known_name: Some("Aziz".into()), ..Default::default() };
        let mut ports = chat_ports(memory, Arc::new(Mutex::new(None)), Arc::new(Mutex::new(Vec::new())));
        let mut model = MockLanguageModel::new();
        model
            .expect_complete()
            .withf(|p, _| p.system.contains("Pasport va ariza kerak.") && p.system.contains("name is Aziz"))
            .times(1)
            .returning(|_, _| Err(CallcenterError::Unavailable("down".into())));
        ports.model = Arc::new(Some(Arc::new(model) as Arc<dyn crate::ports::LanguageModel>));
        let svc = CallcenterService::new(ports);
        let reply = svc.ai_chat(&operator(), message("Grant uchun hujjatlar?"), None).await.unwrap();
        assert_eq!(reply.response, "Aziz, Pasport va ariza kerak.");
        assert_eq!(reply.backend, ReplyBackend::Fallback);
        assert!(!reply.context_updated);
    }

    #[tokio::test]
    async fn the_model_answer_is_streamed_to_the_sink() {
        let mut ports = chat_ports(AiContext::default(), Arc::new(Mutex::new(None)), Arc::new(Mutex::new(Vec::new())));
        let mut model = MockLanguageModel::new();
        model.expect_complete().returning(|_, sink| {
            let mut sink = sink.expect("a sink");
            sink("Salom".into());
            Ok("Salom".into())
        });
        ports.model = Arc::new(Some(Arc::new(model) as Arc<dyn crate::ports::LanguageModel>));
        let pieces = Arc::new(Mutex::new(Vec::new()));
        let seen = pieces.clone();
        let svc = CallcenterService::new(ports);
        let sink: DeltaSink = Box::new(move |p| seen.lock().unwrap().push(p));
        let reply = svc.ai_chat(&operator(), message("Grant?"), Some(sink)).await.unwrap();
        assert_eq!((reply.response.as_str(), reply.backend), ("Salom", ReplyBackend::Model));
        assert_eq!(*pieces.lock().unwrap(), ["Salom"]);
    }

    #[tokio::test]
    async fn transcripts_need_the_call_session() {
        let mut calls = MockCallRepository::new();
        calls.expect_get().returning(|id| {
            Ok(Some(Call {
                id: id.into(),
                caller_id: "u_1".into(),
                number: "+998901112233".into(),
                direction: Direction::Inbound,
                status: CallStatus::Processing,
                started_at: Utc::now(),
                ended_at: None,
                duration_sec: None,
                operator_name: None,
                recording_url: None,
                transcript: String::new(),
                ai_summary: String::new(),
                sentiment: Sentiment::Neutral,
                tags: vec![],
                topic: None,
                escalated: false,
                session_id: Some("session_a".into()),
            }))
        });
        calls.expect_append_transcript().never();
        let svc = CallcenterService::new(CallcenterPorts { calls: Arc::new(calls), ..mocks() });
        let err = svc.call_transcript(&operator(), "call_1", Some("session_b"), Some("User: hi")).await.unwrap_err();
        assert!(matches!(err, CallcenterError::Forbidden(_)));
        let err = svc.call_transcript(&operator(), "call_1", None, None).await.unwrap_err();
        assert!(matches!(err, CallcenterError::Validation { fields, .. } if fields.len() == 2));
    }
}
