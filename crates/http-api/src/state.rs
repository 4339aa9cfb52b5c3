//! What handlers share: the core services and the adapter's own settings.

use crate::middleware::rate_limit::RateLimiter;
use async_trait::async_trait;
use callcenter_core::CallcenterService;
use crm_core::CrmService;
use crm_core::rest::CrmRest;
use management_core::{AssignmentService, AuthService, CatalogService, UserAdminService};
use std::sync::Arc;

/// Checks the health of the dependencies.
#[async_trait]
pub trait HealthProbe: Send + Sync {
    /// Whether the database answers.
    async fn database_ok(&self) -> bool;
    /// Whether the database has every migration this binary needs.
    async fn schema_current(&self) -> bool {
        true
    }
    /// Whether Redis answers; `None` when none is configured.
    async fn redis_ok(&self) -> Option<bool> {
        None
    }
}

/// Shared application state, cloned cheaply into every worker.
#[derive(Clone)]
pub struct AppState {
    pub auth: Arc<AuthService>,
    pub users: Arc<UserAdminService>,
    pub crm: Arc<CrmService>,
    /// The CRM REST surface's records and actions.
    pub rest: Arc<CrmRest>,
    pub catalog: Arc<CatalogService>,
    pub assignments: Arc<AssignmentService>,
    pub callcenter: Arc<CallcenterService>,
    /// The CIMS CRM workspace.
    pub workspace: Arc<crm_core::workspace::Workspace>,
    /// Signs the links handed out for use without a token (recordings).
    pub links: Arc<crate::links::LinkSigner>,
    pub health: Arc<dyn HealthProbe>,
    pub rate_limiter: Arc<RateLimiter>,
    /// Whether to take the client address from `X-Forwarded-For` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Fires when the server begins to stop.
    pub shutdown: crate::shutdown::Shutdown,
    /// `/metrics` on this listener (none: not served here, e.g. with `METRICS_ADDR`).
    pub metrics: Option<Arc<crate::metrics::Exporter>>,
    /// Where `Idempotency-Key` answers are kept (none: the header is ignored).
    pub idempotency: Option<Arc<dyn crate::middleware::idempotency::IdempotencyStore>>,
}
