//! Who and what a write happens for: the acting user, the request id and the client address,
//! carried with the request's task so that the audit trail records them wherever the write is
//! made, without every port passing them along.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// What kind of actor made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorType {
    /// A signed-in user.
    User,
    /// The server itself (background work, start-up, a command).
    System,
    /// The assistant acting in a conversation.
    Ai,
}

impl ActorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::User => "user",
            ActorType::System => "system",
            ActorType::Ai => "ai",
        }
    }
}

/// The context of one request.
#[derive(Debug, Default)]
pub struct RequestContext {
    pub request_id: Option<String>,
    pub ip: Option<String>,
    /// The client's `User-Agent`, cut to 300 characters.
    pub user_agent: Option<String>,
    /// The signed-in user, once the request is authenticated.
    actor: Mutex<Option<(i64, ActorType)>>,
    /// SQL statements run for this request so far.
    statements: AtomicU32,
}

impl RequestContext {
    pub fn new(request_id: String, ip: String) -> Self {
        RequestContext {
            request_id: Some(request_id),
            ip: Some(ip),
            user_agent: None,
            actor: Mutex::new(None),
            statements: AtomicU32::new(0),
        }
    }

    /// The context with the client's user agent.
    pub fn with_user_agent(mut self, agent: Option<&str>) -> Self {
        self.user_agent = agent.map(|a| a.chars().take(300).collect());
        self
    }

    /// Records who is acting (the authenticated user).
    pub fn set_actor(&self, id: i64, kind: ActorType) {
        if let Ok(mut actor) = self.actor.lock() {
            *actor = Some((id, kind));
        }
    }

    /// SQL statements run for this request so far.
    pub fn statements(&self) -> u32 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Who is acting: the user and their kind, or the system.
    pub fn actor(&self) -> (Option<i64>, ActorType) {
        match self.actor.lock().ok().and_then(|a| *a) {
            Some((id, kind)) => (Some(id), kind),
            None => (None, ActorType::System),
        }
    }
}

tokio::task_local! {
    static CONTEXT: Arc<RequestContext>;
}

/// Runs `work` with `context` as the current request context.
pub async fn within<F: Future>(context: Arc<RequestContext>, work: F) -> F::Output {
    CONTEXT.scope(context, work).await
}

/// The current request context, if the caller runs within one.
pub fn current() -> Option<Arc<RequestContext>> {
    CONTEXT.try_with(Arc::clone).ok()
}

/// Counts one SQL statement for the current request, if the caller runs within one.
pub fn count_statement() {
    let _ = CONTEXT.try_with(|c| c.statements.fetch_add(1, Ordering::Relaxed));
}
