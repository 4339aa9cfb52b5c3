//! Call-center use cases: reading needs `callcenter.read`, changing `callcenter.write`,
//! deleting `callcenter.delete` (supervisors, admins, CEO).

use crate::caller::{Caller, CallerInput, is_caller_id, phone_of_caller_id};
use crate::error::{CallcenterError, Result};
use crate::knowledge::{Qa, QaInput, Topic, topic_name};
use crate::memory::AiContext;
use crate::ports::{
    CallRepository, CallerRepository, ChatRepository, DocumentRepository, QaRepository, ReportRepository, Telephony,
    TextExtractor, TopicRepository, VoiceToken, VoiceTokenIssuer,
};
use crate::search::{KnowledgeIndex, KnowledgeVersion};
use kernel::{Page, PageRequest};
use management_core::{Permission, Principal};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod ai;
mod calls;
mod chats;
mod documents;
mod reports;

/// The ports the call-center use cases need.
#[derive(Clone)]
pub struct CallcenterPorts {
    pub qa: Arc<dyn QaRepository>,
    pub topics: Arc<dyn TopicRepository>,
    pub callers: Arc<dyn CallerRepository>,
    pub calls: Arc<dyn CallRepository>,
    pub chats: Arc<dyn ChatRepository>,
    pub reports: Arc<dyn ReportRepository>,
    pub documents: Arc<dyn DocumentRepository>,
    /// Reads pdf and docx uploads.
    pub extractor: Arc<dyn TextExtractor>,
    pub voice_tokens: Arc<dyn VoiceTokenIssuer>,
    pub telephony: Arc<dyn Telephony>,
    /// The language model answering now; `None` answers with the offline assistant.
    pub model: Arc<dyn crate::ports::ModelChoice>,
    /// How long a live call waits for the model before answering offline (the configured
    /// value; the `voice.budget_ms` setting overrides it).
    pub voice_budget: Duration,
    /// Operators' run-time overrides (system settings).
    pub overrides: Arc<dyn kernel::runtime::Overrides>,
}

pub use ai::{AiCallInput, AiCallStarted, AiChatInput, AiChatReply, ReplyBackend, TranscriptReply, UserContextInput};

/// Call-center use cases.
pub struct CallcenterService {
    ports: CallcenterPorts,
    /// The assistant's Q&A index and the table version it was built from.
    index: Mutex<Option<(KnowledgeVersion, Arc<KnowledgeIndex>)>>,
}

/// `Demo.Operator@demo.uz`, 7 → `demo_operator_7`.
pub fn operator_identity(email: &str, user_id: i64) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let cleaned: String =
        local.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    format!("{}_{user_id}", cleaned.trim_matches('_'))
}

fn check_caller_id(id: &str) -> Result<()> {
    if is_caller_id(id) {
        Ok(())
    } else {
        Err(CallcenterError::field("id", format!("'{id}' is not a caller id (u_…).")))
    }
}

/// A trimmed, non-empty search text.
pub(crate) fn non_empty(query: Option<String>) -> Option<String> {
    query.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub(crate) fn not_found(what: &str, id: impl std::fmt::Display) -> CallcenterError {
    CallcenterError::NotFound(format!("{what} {id} not found"))
}

impl CallcenterService {
    pub fn new(ports: CallcenterPorts) -> Self {
        CallcenterService { ports, index: Mutex::new(None) }
    }

    /// A telephony SDK token for the calling operator, whose identity is derived from
    /// their e-mail and id (letters, digits and `_`).
    pub fn voice_token(&self, by: &Principal, email: &str) -> Result<VoiceToken> {
        by.require(Permission::CallcenterWrite)?;
        self.ports.voice_tokens.issue(&operator_identity(email, by.user_id))
    }

    pub async fn list_qa(&self, by: &Principal, search: Option<String>, page: PageRequest) -> Result<Page<Qa>> {
        by.require(Permission::CallcenterRead)?;
        self.ports.qa.list(non_empty(search), page).await
    }

    pub async fn get_qa(&self, by: &Principal, id: i64) -> Result<Qa> {
        by.require(Permission::CallcenterRead)?;
        self.ports.qa.get(id).await?.ok_or_else(|| not_found("QA", id))
    }

    pub async fn create_qa(&self, by: &Principal, input: QaInput) -> Result<Qa> {
        by.require(Permission::CallcenterWrite)?;
        let (title, answer) = input.validate_new()?;
        self.ports.qa.insert(title, answer).await
    }

    pub async fn update_qa(&self, by: &Principal, id: i64, input: QaInput) -> Result<Qa> {
        by.require(Permission::CallcenterWrite)?;
        let change = input.validate_change()?;
        self.ports.qa.update(id, change.title, change.answer).await?.ok_or_else(|| not_found("QA", id))
    }

    pub async fn delete_qa(&self, by: &Principal, id: i64) -> Result<()> {
        by.require(Permission::CallcenterDelete)?;
        if self.ports.qa.delete(id).await? { Ok(()) } else { Err(not_found("QA", id)) }
    }

    pub async fn topics(&self, by: &Principal) -> Result<Vec<Topic>> {
        by.require(Permission::CallcenterRead)?;
        self.ports.topics.list().await
    }

    pub async fn get_topic(&self, by: &Principal, id: i64) -> Result<Topic> {
        by.require(Permission::CallcenterRead)?;
        self.ports.topics.get(id).await?.ok_or_else(|| not_found("Topic", id))
    }

    /// Creates a topic; a name that differs from an existing one only by case is a conflict.
    pub async fn create_topic(&self, by: &Principal, name: Option<String>) -> Result<Topic> {
        by.require(Permission::CallcenterWrite)?;
        let name = topic_name(name.as_deref())?;
        self.ports.topics.insert(name).await
    }

    pub async fn delete_topic(&self, by: &Principal, id: i64) -> Result<()> {
        by.require(Permission::CallcenterDelete)?;
        if self.ports.topics.delete(id).await? { Ok(()) } else { Err(not_found("Topic", id)) }
    }

    pub async fn callers(&self, by: &Principal, query: Option<String>, page: PageRequest) -> Result<Page<Caller>> {
        by.require(Permission::CallcenterRead)?;
        self.ports.callers.list(non_empty(query), page).await
    }

    pub async fn get_caller(&self, by: &Principal, id: &str) -> Result<Caller> {
        by.require(Permission::CallcenterRead)?;
        self.find_caller(id).await
    }

    /// The caller with this id or, for an id the UI built from a phone (`u_<digits>`), the
    /// caller with that phone whatever its id.
    async fn find_caller(&self, id: &str) -> Result<Caller> {
        check_caller_id(id)?;
        if let Some(caller) = self.ports.callers.get(id).await? {
            return Ok(caller);
        }
        match phone_of_caller_id(id) {
            Some(phone) => self.ports.callers.find_by_phone(&phone).await?.ok_or_else(|| not_found("User", id)),
            None => Err(not_found("User", id)),
        }
    }

    pub async fn create_caller(&self, by: &Principal, input: CallerInput) -> Result<Caller> {
        by.require(Permission::CallcenterWrite)?;
        let fields = input.validate(true)?;
        self.ports.callers.insert(fields).await
    }

    /// What the assistant remembers about a caller.
    pub async fn caller_context(&self, by: &Principal, id: &str) -> Result<AiContext> {
        by.require(Permission::CallcenterRead)?;
        let caller = self.find_caller(id).await?;
        self.ports.callers.context(&caller.id).await?.ok_or_else(|| not_found("User", id))
    }

    /// Replaces what the assistant remembers about a caller (validated).
    pub async fn set_caller_context(&self, by: &Principal, id: &str, context: AiContext) -> Result<AiContext> {
        by.require(Permission::CallcenterWrite)?;
        let context = context.validated()?;
        let caller = self.find_caller(id).await?;
        if self.ports.callers.set_context(&caller.id, context.clone()).await? {
            Ok(context)
        } else {
            Err(not_found("User", id))
        }
    }

    pub async fn update_caller(&self, by: &Principal, id: &str, input: CallerInput) -> Result<Caller> {
        by.require(Permission::CallcenterWrite)?;
        if input == CallerInput::default() {
            return Err(CallcenterError::Validation {
                message: "Nothing to update.".into(),
                fields: Default::default(),
            });
        }
        let fields = input.validate(false)?;
        let caller = self.find_caller(id).await?;
        self.ports.callers.update(&caller.id, fields).await?.ok_or_else(|| not_found("User", id))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ports::{MockCallerRepository, MockQaRepository, MockTopicRepository};

    use crate::ports::{
        MockCallRepository, MockChatRepository, MockDocumentRepository, MockReportRepository, MockTelephony,
        MockTextExtractor, MockVoiceTokenIssuer,
    };

    /// Ports that expect nothing.
    pub(crate) fn mocks() -> CallcenterPorts {
        CallcenterPorts {
            qa: Arc::new(MockQaRepository::new()),
            topics: Arc::new(MockTopicRepository::new()),
            callers: Arc::new(MockCallerRepository::new()),
            calls: Arc::new(MockCallRepository::new()),
            chats: Arc::new(MockChatRepository::new()),
            reports: Arc::new(MockReportRepository::new()),
            documents: Arc::new(MockDocumentRepository::new()),
            extractor: Arc::new(MockTextExtractor::new()),
            voice_tokens: Arc::new(MockVoiceTokenIssuer::new()),
            telephony: Arc::new(MockTelephony::new()),
            model: Arc::new(None::<Arc<dyn crate::ports::LanguageModel>>),
            voice_budget: Duration::from_secs(3),
            overrides: Arc::new(kernel::runtime::NoOverrides),
        }
    }

    pub(crate) fn principal(permissions: &[Permission]) -> Principal {
        Principal {
            user_id: 1,
            role: "operator".into(),
            permissions: permissions.to_vec(),
            jti: "j".into(),
            session_id: "s".into(),
            expires_at: 0,
        }
    }

    fn service(qa: MockQaRepository, topics: MockTopicRepository, callers: MockCallerRepository) -> CallcenterService {
        CallcenterService::new(CallcenterPorts {
            qa: Arc::new(qa),
            topics: Arc::new(topics),
            callers: Arc::new(callers),
            ..mocks()
        })
    }

    #[tokio::test]
    async fn operators_write_but_do_not_delete() {
        let mut qa = MockQaRepository::new();
        qa.expect_delete().never();
        qa.expect_insert().returning(|t, a| {
            let now = chrono::Utc::now();
            Ok(Qa { id: 1, title: t, answer: a, created_at: now, updated_at: now })
        });
        let svc = service(qa, MockTopicRepository::new(), MockCallerRepository::new());
        let operator = principal(&[Permission::CallcenterRead, Permission::CallcenterWrite]);
        let input = QaInput { title: Some("Q".into()), answer: Some("A".into()) };
        assert_eq!(svc.create_qa(&operator, input).await.unwrap().title, "Q");
        assert!(matches!(svc.delete_qa(&operator, 1).await, Err(CallcenterError::Forbidden(_))));
    }

    #[tokio::test]
    async fn malformed_caller_ids_are_refused_before_storage() {
        let mut callers = MockCallerRepository::new();
        callers.expect_get().never();
        let svc = service(MockQaRepository::new(), MockTopicRepository::new(), callers);
        let err = svc.get_caller(&principal(&[Permission::CallcenterRead]), "abc").await.unwrap_err();
        assert!(matches!(err, CallcenterError::Validation { .. }));
    }

    #[tokio::test]
    async fn a_phone_built_caller_id_finds_the_caller_with_that_phone() {
        let mut callers = MockCallerRepository::new();
        callers.expect_get().returning(|_| Ok(None));
        callers.expect_find_by_phone().withf(|p| p == "+998901427626").returning(|p| {
            Ok(Some(Caller {
                id: "u_demo_0042".into(),
                full_name: "Aziza".into(),
                phone: Some(p.to_string()),
                email: None,
                region: None,
                language: None,
                customer_id: None,
                created_at: chrono::Utc::now(),
            }))
        });
        let svc = service(MockQaRepository::new(), MockTopicRepository::new(), callers);
        let reader = principal(&[Permission::CallcenterRead]);
        assert_eq!(svc.get_caller(&reader, "u_998901427626").await.unwrap().id, "u_demo_0042");
        let err = svc.get_caller(&reader, "u_timestamp_less").await.unwrap_err();
        assert!(matches!(err, CallcenterError::NotFound(_)));
    }

    #[test]
    fn operator_identities_are_safe() {
        assert_eq!(operator_identity("Demo.Operator@demo.uz", 7), "demo_operator_7");
        assert_eq!(operator_identity("-x-@a.b", 1), "x_1");
    }
}
