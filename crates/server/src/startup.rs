//! From settings to a running server: database, migrations, services, HTTP.

use crate::settings::{RawSettings, Settings, redact};
use actix_web::HttpServer;
use actix_web::dev::ServerHandle;
use async_trait::async_trait;
use callcenter_core::ports::LanguageModel;
use callcenter_core::{CallcenterPorts, CallcenterService};
use crm_core::exchange::{Dedupe, Imports};
use crm_core::insights::Insights;
use crm_core::records::Records;
use crm_core::rest::CrmRest;
use crm_core::webhooks::{Deliverer, Deliveries, RetryPolicy};
use crm_core::{CrmPorts, CrmService};
use doctext::DocumentText;
use http_api::{
    AppState, CorsPolicy, HealthProbe, HttpSettings, QuotaCounters, RateLimiter, RateLimits, Shutdown, ShutdownTrigger,
    StreamTimeouts,
};
use llm::{LlmSettings, OpenAiCompatible};
use management_core::auth::AuthPorts;
use management_core::ports::LoginAttemptRepository;
use management_core::throttle::ThrottlePolicy;
use management_core::{AssignmentService, AuthConfig, AuthService, CatalogService, NewUser, UserAdminService};
use persistence::cache::{CacheSettings, CachedRoles, CachedSessions, CachedStatuses, CachedUsers, ProcessCache};
use persistence::repo::duplicates::{SqlDuplicates, SqlMerger};
use persistence::repo::imports::{AccountRows, ContactRows, LeadRows, SqlImports};
use persistence::repo::integrations::{ActiveIntegrations, SqlIntegrations};
use persistence::repo::settings::{RuntimeSettings, SqlSettings};
use persistence::repo::webhooks::{SqlDeliveries, SqlWebhooks, TargetPolicy};
use persistence::repo::{
    SqlAccounts, SqlActivities, SqlAnalytics, SqlCallReports, SqlCallers, SqlCalls, SqlChats, SqlCompanies,
    SqlContacts, SqlCustomers, SqlDeals, SqlDocuments, SqlInsights, SqlKnowledge, SqlLeads, SqlLoginAttempts,
    SqlProducts, SqlRoles, SqlSalesManagers, SqlSessions, SqlStatuses, SqlTasks, SqlTerritories, SqlUsers,
};
use persistence::{Database, DatabaseKind, PoolSettings, StatementCount};
use redis_store::{RedisLink, RedisLoginAttempts};
use security::{Argon2Hasher, HashCost, HashPool, JwtCodec};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use telephony::{TwilioCalls, TwilioCredentials, TwilioVoiceSettings, TwilioVoiceTokens};

/// The model client when `LLM_BASE_URL` is set; without it the offline assistant answers.
fn language_model(raw: &RawSettings) -> Result<Option<Arc<dyn LanguageModel>>, StartupError> {
    if raw.llm_base_url.trim().is_empty() {
        return Ok(None);
    }
    model_client(raw, raw.llm_base_url.trim(), Some(raw.llm_api_key.as_str()), &raw.llm_model)
        .map(Some)
        .map_err(StartupError::Other)
}

/// A model client with the configured limits.
fn model_client(
    raw: &RawSettings,
    base_url: &str,
    api_key: Option<&str>,
    model: &str,
) -> Result<Arc<dyn LanguageModel>, String> {
    let client = OpenAiCompatible::new(LlmSettings {
        base_url: base_url.to_string(),
        api_key: api_key.map(str::to_string).filter(|k| !k.is_empty()),
        model: model.to_string(),
        connect_timeout: Duration::from_secs(raw.llm_connect_timeout_secs),
        timeout: Duration::from_secs(raw.llm_timeout_secs),
        retries: raw.llm_retries,
        backoff: Duration::from_millis(raw.llm_retry_backoff_ms),
        max_tokens: raw.llm_max_tokens,
    })
    .map_err(|e| e.to_string())?;
    Ok(Arc::new(client))
}

/// What was built from an integration (its id and when it changed), reused until it changes.
type Built<T> = std::sync::Mutex<Option<(i64, chrono::DateTime<chrono::Utc>, T)>>;

/// Twilio from the environment.
fn twilio_settings(raw: &RawSettings) -> TwilioVoiceSettings {
    TwilioVoiceSettings {
        account_sid: raw.twilio_account_sid.clone(),
        auth_token: raw.twilio_auth_token.clone(),
        api_key_sid: raw.twilio_api_key_sid.clone(),
        api_key_secret: raw.twilio_api_key_secret.clone(),
        from_number: raw.twilio_from_number.clone(),
        twiml_app_sid: raw.twilio_twiml_app_sid.clone(),
        voice_url: raw.twilio_voice_url.clone(),
        public_base_url: raw.public_base_url.clone(),
        api_base: raw.twilio_api_base.clone(),
    }
}

/// Twilio calls and Voice SDK tokens with the active `twilio` integration's account when there
/// is one (its values over the environment's), else the environment's.
struct IntegrationTwilio {
    active: Arc<ActiveIntegrations>,
    env: TwilioVoiceSettings,
    token_ttl: i64,
    built: Built<(Arc<TwilioCalls>, Arc<TwilioVoiceTokens>)>,
    env_calls: Arc<TwilioCalls>,
    env_tokens: Arc<TwilioVoiceTokens>,
}

impl IntegrationTwilio {
    fn new(active: Arc<ActiveIntegrations>, env: TwilioVoiceSettings, token_ttl: i64) -> Self {
        let env_calls = Arc::new(TwilioCalls::new(env.clone()));
        let env_tokens = Arc::new(TwilioVoiceTokens::new(credentials(&env), token_ttl));
        IntegrationTwilio { active, env, token_ttl, built: std::sync::Mutex::new(None), env_calls, env_tokens }
    }

    fn current(&self) -> (Arc<TwilioCalls>, Arc<TwilioVoiceTokens>) {
        let Some((id, changed, config)) = self.active.get("twilio") else {
            return (self.env_calls.clone(), self.env_tokens.clone());
        };
        let Ok(mut built) = self.built.lock() else { return (self.env_calls.clone(), self.env_tokens.clone()) };
        if let Some((bid, bchanged, (calls, tokens))) = built.as_ref()
            && *bid == id
            && *bchanged == changed
        {
            return (calls.clone(), tokens.clone());
        }
        let pick = |key: &str, env: &str| {
            config.get(key).and_then(|v| v.as_str()).map(str::trim).filter(|v| !v.is_empty()).unwrap_or(env).to_string()
        };
        let e = &self.env;
        let settings = TwilioVoiceSettings {
            account_sid: pick("account_sid", &e.account_sid),
            auth_token: pick("auth_token", &e.auth_token),
            api_key_sid: pick("api_key_sid", &e.api_key_sid),
            api_key_secret: pick("api_key_secret", &e.api_key_secret),
            from_number: pick("from_number", &e.from_number),
            twiml_app_sid: pick("twiml_app_sid", &e.twiml_app_sid),
            voice_url: pick("voice_url", &e.voice_url),
            public_base_url: e.public_base_url.clone(),
            api_base: pick("api_base", &e.api_base),
        };
        let calls = Arc::new(TwilioCalls::new(settings.clone()));
        let tokens = Arc::new(TwilioVoiceTokens::new(credentials(&settings), self.token_ttl));
        *built = Some((id, changed, (calls.clone(), tokens.clone())));
        (calls, tokens)
    }
}

fn credentials(s: &TwilioVoiceSettings) -> TwilioCredentials {
    TwilioCredentials {
        account_sid: s.account_sid.clone(),
        api_key_sid: s.api_key_sid.clone(),
        api_key_secret: s.api_key_secret.clone(),
        twiml_app_sid: s.twiml_app_sid.clone(),
    }
}

#[async_trait]
impl callcenter_core::ports::Telephony for IntegrationTwilio {
    fn ensure_configured(&self) -> Result<(), kernel::DomainError> {
        self.current().0.ensure_configured()
    }
    async fn place_call(
        &self,
        call_id: &str,
        call: &callcenter_core::call::VoipCall,
    ) -> Result<String, kernel::DomainError> {
        let calls = self.current().0;
        calls.place_call(call_id, call).await
    }
    fn verify_callback(
        &self,
        path_and_query: &str,
        params: &[(String, String)],
        signature: &str,
    ) -> Result<(), kernel::DomainError> {
        self.current().0.verify_callback(path_and_query, params, signature)
    }
}

impl callcenter_core::ports::VoiceTokenIssuer for IntegrationTwilio {
    fn issue(&self, identity: &str) -> Result<callcenter_core::ports::VoiceToken, kernel::DomainError> {
        self.current().1.issue(identity)
    }
}

/// The model of the active `llm` integration when there is one, else the environment's
/// (`LLM_BASE_URL`), else none (the offline assistant). A client is built once per change of
/// the integration.
struct IntegrationModels {
    active: Arc<ActiveIntegrations>,
    fallback: Option<Arc<dyn LanguageModel>>,
    raw: RawSettings,
    built: Built<Arc<dyn LanguageModel>>,
}

impl callcenter_core::ports::ModelChoice for IntegrationModels {
    fn current(&self) -> Option<Arc<dyn LanguageModel>> {
        let Some((id, changed, config)) = self.active.get("llm") else { return self.fallback.clone() };
        let mut built = self.built.lock().ok()?;
        if let Some((bid, bchanged, client)) = built.as_ref()
            && *bid == id
            && *bchanged == changed
        {
            return Some(client.clone());
        }
        let text = |k: &str| config.get(k).and_then(|v| v.as_str()).unwrap_or_default().trim().to_string();
        match model_client(&self.raw, &text("base_url"), Some(&text("api_key")), &text("model")) {
            Ok(client) => {
                *built = Some((id, changed, client.clone()));
                Some(client)
            }
            Err(e) => {
                tracing::warn!(integration = id, error = %e, "the llm integration cannot be used; falling back");
                self.fallback.clone()
            }
        }
    }
}

/// Start-up failures, each with a message for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    #[error("database {url}: {source}")]
    Database { url: String, source: sea_orm::DbErr },
    #[error("{0}")]
    Other(String),
}

/// Creates the directory of a SQLite file, so the first start needs no set-up.
fn ensure_sqlite_dir(url: &str) -> std::io::Result<()> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
        _ => Ok(()),
    }
}

/// Connects (creating a SQLite file and its directory when needed) and applies migrations.
pub async fn connect_and_migrate(settings: &Settings) -> Result<Database, StartupError> {
    connect_counted(settings, StatementCount::default()).await
}

/// [`connect_and_migrate`], counting the statements the pool runs into `statements`.
pub async fn connect_counted(settings: &Settings, statements: StatementCount) -> Result<Database, StartupError> {
    let url = &settings.raw.database_url;
    let db_err = |source| StartupError::Database { url: redact(url), source };
    if DatabaseKind::of_url(url) == Some(DatabaseKind::Sqlite) {
        ensure_sqlite_dir(url).map_err(|e| StartupError::Other(format!("creating the SQLite directory: {e}")))?;
    }
    let pool = PoolSettings {
        max_connections: settings.raw.database_max_connections,
        acquire_timeout: settings.database_acquire_timeout.to_std().unwrap_or(Duration::from_secs(5)),
        statements,
    };
    let db = persistence::connect(url, pool).await.map_err(db_err)?;
    persistence::db::migrate(&db).await.map_err(db_err)?;
    Ok(db)
}

/// The core services, wired to their adapters.
#[derive(Clone)]
pub struct Services {
    pub db: Database,
    /// The system settings that override configured values while the server runs.
    pub runtime: Arc<RuntimeSettings>,
    /// The active integrations the call center and the assistant use, and their store.
    pub active: Arc<ActiveIntegrations>,
    pub integrations: Arc<SqlIntegrations>,
    /// Who callers are, cached in the process (kept true by [`persistence::cache::signal`]).
    pub callers: Arc<ProcessCache>,
    /// The Redis replicas share (`REDIS_URL`), if any.
    pub redis: Option<Arc<RedisLink>>,
    pub auth: Arc<AuthService>,
    pub users: Arc<UserAdminService>,
    pub crm: Arc<CrmService>,
    pub rest: Arc<CrmRest>,
    pub catalog: Arc<CatalogService>,
    pub assignments: Arc<AssignmentService>,
    pub callcenter: Arc<CallcenterService>,
    /// The CIMS workspace.
    pub workspace: Arc<crm_core::workspace::Workspace>,
}

/// The shared Redis of `REDIS_URL`, if one is configured.
fn redis_link(settings: &Settings) -> Result<Option<Arc<RedisLink>>, StartupError> {
    let url = settings.raw.redis_url.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let link = RedisLink::open(url, &settings.raw.redis_key_prefix)
        .map_err(|e| StartupError::Other(format!("REDIS_URL: {e}")))?;
    Ok(Some(Arc::new(link)))
}

/// Failed sign-ins: in Redis when configured (shared by replicas, the database as fallback),
/// else in the database.
fn login_attempts(
    db: &Database,
    redis: Option<Arc<RedisLink>>,
    settings: &Settings,
) -> Arc<dyn LoginAttemptRepository> {
    let sql = Arc::new(SqlLoginAttempts::new(db.clone()));
    match redis {
        Some(link) => Arc::new(RedisLoginAttempts::new(link, settings.login_failure_window, sql)),
        None => sql,
    }
}

/// Request counters in Redis, shared by every replica.
struct RedisQuota(Arc<RedisLink>);

#[async_trait]
impl QuotaCounters for RedisQuota {
    async fn hit(&self, key: &str, window: Duration, now: u64) -> Result<(u64, u64), String> {
        let (used, resets_in) = self.0.hit(key, window).await.map_err(|e| e.to_string())?;
        Ok((used, now + resets_in))
    }
}

/// Refuses to store secrets (production without `DATA_ENCRYPTION_KEY`).
struct NoKey;

impl crm_core::integrations::SecretBox for NoKey {
    fn seal(&self, _plain: &str) -> Result<String, kernel::DomainError> {
        Err(kernel::DomainError::Unavailable(
            "DATA_ENCRYPTION_KEY is not set: secrets cannot be stored until it is.".into(),
        ))
    }
    fn open(&self, _sealed: &str) -> Result<String, kernel::DomainError> {
        Err(kernel::DomainError::Unavailable("DATA_ENCRYPTION_KEY is not set.".into()))
    }
}

/// The box that seals secrets at rest: `DATA_ENCRYPTION_KEY`, else (outside production) a key
/// derived from `JWT_SECRET`.
fn sealing(settings: &Settings) -> Result<Arc<dyn crm_core::integrations::SecretBox>, StartupError> {
    let raw = &settings.raw;
    if !raw.data_encryption_key.trim().is_empty() {
        let sealed = security::AesSecretBox::from_key(&raw.data_encryption_key)
            .map_err(|e| StartupError::Other(format!("DATA_ENCRYPTION_KEY: {e}")))?;
        return Ok(Arc::new(sealed));
    }
    if settings.env == "production" {
        return Ok(Arc::new(NoKey));
    }
    Ok(Arc::new(security::AesSecretBox::derived_from(&raw.jwt_secret)))
}

/// Idempotency keys kept in the database, for the HTTP middleware.
struct Keys(persistence::repo::idempotency::SqlIdempotency);

#[async_trait]
impl http_api::middleware::idempotency::IdempotencyStore for Keys {
    async fn claim(
        &self,
        scope: &str,
        key: &str,
        hash: &str,
    ) -> Result<http_api::middleware::idempotency::Claim, String> {
        use http_api::middleware::idempotency::{Claim, Kept};
        use persistence::repo::idempotency::Held;
        Ok(match self.0.claim(scope, key, hash).await.map_err(|e| e.to_string())? {
            Held::Taken => Claim::Fresh,
            Held::Running => Claim::Running,
            Held::Other => Claim::Mismatch,
            Held::Answer(status, content_type, body) => Claim::Done(Kept { status, content_type, body }),
        })
    }

    async fn complete(
        &self,
        scope: &str,
        key: &str,
        kept: &http_api::middleware::idempotency::Kept,
    ) -> Result<(), String> {
        self.0
            .complete(scope, key, kept.status, kept.content_type.as_deref(), &kept.body)
            .await
            .map_err(|e| e.to_string())
    }

    async fn release(&self, scope: &str, key: &str) -> Result<(), String> {
        self.0.release(scope, key).await.map_err(|e| e.to_string())
    }
}

/// The journal's projections: the HTTP adapter's JSON of each record.
struct Render;

impl persistence::repo::journal::Render for Render {
    fn account(&self, a: &crm_core::accounts::Account) -> serde_json::Value {
        http_api::projection::Projections::account(a)
    }
    fn contact(&self, c: &crm_core::contacts::Contact) -> serde_json::Value {
        http_api::projection::Projections::contact(c)
    }
    fn lead(&self, l: &crm_core::leads::Lead) -> serde_json::Value {
        http_api::projection::Projections::lead(l)
    }
    fn deal(&self, d: &crm_core::deal::DealView) -> serde_json::Value {
        http_api::projection::Projections::deal(d)
    }
    fn task(&self, t: &crm_core::tasks::Task) -> serde_json::Value {
        http_api::projection::Projections::task(t)
    }
    fn event(&self, e: &crm_core::events::Event) -> serde_json::Value {
        http_api::projection::Projections::event(e)
    }
    fn call(&self, c: &callcenter_core::call::Call) -> serde_json::Value {
        http_api::projection::Projections::call(c)
    }
    fn chat(&self, c: &callcenter_core::chat::Chat) -> serde_json::Value {
        http_api::projection::Projections::chat(c)
    }
}

/// The probes of `POST …/integrations/{id}/test/`.
fn crm_server_probe(settings: &Settings) -> crate::probe::Probes {
    crate::probe::Probes::new(Duration::from_secs(5), settings.raw.twilio_api_base.clone())
}

/// The webhook delivery worker of this replica.
fn webhook_deliverer(db: &Database, settings: &Settings) -> Deliverer {
    let raw = &settings.raw;
    let sender = webhook_sender::HttpSender::new(
        Duration::from_secs(raw.webhook_timeout_secs),
        raw.webhook_allow_private_targets,
    );
    let policy = RetryPolicy { delays: settings.webhook_retry_delays.clone(), jitter: 0.1 };
    // A claimed delivery is this replica's until its attempt could have timed out twice.
    let lease = Duration::from_secs(raw.webhook_timeout_secs * 2 + 5);
    Deliverer::new(Arc::new(SqlDeliveries::new(db.clone())), Arc::new(sender), policy, lease)
}

/// Drains the outbox until the server stops: at once while there is work, else every 200 ms.
async fn deliver_webhooks(deliverer: Deliverer, mut stopping: Shutdown) {
    loop {
        let idle = match deliverer.run_once(chrono::Utc::now()).await {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => {
                tracing::warn!(error = %e, "webhook deliveries not processed; retrying shortly");
                true
            }
        };
        if idle {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                _ = stopping.wait() => return,
            }
        }
    }
}

/// Wires the ports of every core crate to the database and security adapters.
pub fn services(db: Database, settings: &Settings) -> Result<Services, StartupError> {
    let raw = &settings.raw;
    persistence::repo::journal::set_render(Arc::new(Render));
    let runtime = RuntimeSettings::new();
    let integrations = Arc::new(SqlIntegrations::new(db.clone(), sealing(settings)?));
    let active = ActiveIntegrations::new();
    let queue_timeout = settings.password_hash_queue_timeout.to_std().unwrap_or(Duration::from_secs(10));
    let pool = match raw.password_hash_concurrency {
        0 => HashPool { queue_timeout, ..HashPool::default() },
        concurrency => HashPool { concurrency, queue_timeout },
    };
    let cost =
        HashCost { memory_kib: raw.password_hash_memory_kib, iterations: raw.password_hash_iterations, parallelism: 1 };
    let hasher =
        Argon2Hasher::with_pool(cost, pool).map_err(|e| StartupError::Other(format!("PASSWORD_HASH_*: {e}")))?;
    let redis = redis_link(settings)?;
    let callers = ProcessCache::new(
        CacheSettings {
            ttl: Duration::from_secs(raw.auth_cache_ttl_secs),
            unsynced_ttl: Duration::from_millis(raw.auth_cache_unsynced_ttl_ms),
        },
        // One SQLite file has one server process: every change is made, and heard, here.
        DatabaseKind::of_url(&raw.database_url) == Some(DatabaseKind::Sqlite),
    );
    let roles = Arc::new(CachedRoles::new(Arc::new(SqlRoles::new(db.clone())), callers.clone()));
    let statuses = Arc::new(CachedStatuses::new(Arc::new(SqlStatuses::new(db.clone())), callers.clone()));
    let ports = AuthPorts {
        users: Arc::new(CachedUsers::new(Arc::new(SqlUsers::new(db.clone())), callers.clone())),
        roles: roles.clone(),
        sessions: Arc::new(CachedSessions::new(Arc::new(SqlSessions::new(db.clone())), callers.clone())),
        attempts: login_attempts(&db, redis.clone(), settings),
        hasher: Arc::new(hasher),
        tokens: Arc::new(JwtCodec::new(&raw.jwt_secret, &raw.refresh_token_secret)),
    };
    let config = AuthConfig {
        access_ttl: settings.access_ttl,
        refresh_ttl: settings.refresh_ttl,
        remember_refresh_ttl: settings.remember_refresh_ttl,
        throttle: ThrottlePolicy {
            max_per_account: raw.login_max_failures_per_account,
            max_per_ip: raw.login_max_failures_per_ip,
            window: settings.login_failure_window,
            max_delay: settings.login_max_delay,
        },
        refresh_reuse_grace: chrono::Duration::seconds(raw.refresh_reuse_grace_secs.into()),
        registration_enabled: raw.registration_enabled,
    };
    let activities = Arc::new(SqlActivities::new(db.clone()));
    let deals = Arc::new(SqlDeals::new(db.clone()));
    let crm = CrmService::new(CrmPorts {
        customers: Arc::new(SqlCustomers::new(db.clone())),
        deals: deals.clone(),
        activities: activities.clone(),
        analytics: Arc::new(SqlAnalytics::new(db.clone())),
        statuses: statuses.clone(),
    });
    let territories = Arc::new(SqlTerritories::new(db.clone()));
    let tasks = Arc::new(SqlTasks::new(db.clone()));
    let products = Arc::new(SqlProducts::new(db.clone()));
    let leads = Arc::new(SqlLeads::new(db.clone()));
    let companies = Arc::new(SqlCompanies::new(db.clone()));
    let rest = Arc::new(CrmRest {
        companies: Records::new(companies.clone()),
        memberships: companies,
        accounts: Records::new(Arc::new(SqlAccounts::new(db.clone()))),
        contacts: Records::new(Arc::new(SqlContacts::new(db.clone()))),
        leads: Records::new(leads.clone()),
        lead_conversion: leads,
        territories: Records::new(territories.clone()),
        territory_assignments: territories,
        activities: Records::new(activities.clone()),
        tasks: Records::new(tasks.clone()),
        task_completion: tasks.clone(),
        events: Records::new(tasks),
        deals: Records::new(deals.clone()),
        deal_moves: deals.clone(),
        stages: Records::new(deals),
        products: Records::new(products.clone()),
        categories: Records::new(products),
        insights: Insights::new(Arc::new(SqlInsights::new(db.clone()))),
        account_imports: Imports::new(Arc::new(SqlImports::<AccountRows>::new(db.clone()))),
        contact_imports: Imports::new(Arc::new(SqlImports::<ContactRows>::new(db.clone()))),
        lead_imports: Imports::new(Arc::new(SqlImports::<LeadRows>::new(db.clone()))),
        account_dedupe: Dedupe::new(
            Arc::new(SqlDuplicates::accounts(db.clone())),
            Some(Arc::new(SqlMerger::accounts(db.clone()))),
        ),
        contact_dedupe: Dedupe::new(
            Arc::new(SqlDuplicates::contacts(db.clone())),
            Some(Arc::new(SqlMerger::contacts(db.clone()))),
        ),
        lead_dedupe: Dedupe::new(Arc::new(SqlDuplicates::leads(db.clone())), None),
        settings: Records::new(Arc::new(SqlSettings::new(db.clone()))),
        integrations: Records::new(integrations.clone()),
        integration_tests: crm_core::integrations::IntegrationTests::new(
            integrations.clone(),
            Arc::new(crm_server_probe(settings)),
        ),
        webhooks: Records::new(Arc::new(SqlWebhooks::new(
            db.clone(),
            TargetPolicy { https_only: settings.env == "production", allow_private: raw.webhook_allow_private_targets },
        ))),
        deliveries: Deliveries::new(Arc::new(SqlDeliveries::new(db.clone()))),
        audit: crm_core::audit::Audit::new(Arc::new(persistence::repo::audit::SqlAudit::new(db.clone()))),
    });
    let assignments = Arc::new(AssignmentService::new(Arc::new(SqlSalesManagers::new(db.clone()))));
    let knowledge = Arc::new(SqlKnowledge::new(db.clone()));
    let callcenter = Arc::new(CallcenterService::new(CallcenterPorts {
        qa: knowledge.clone(),
        topics: knowledge,
        callers: Arc::new(SqlCallers::new(db.clone())),
        calls: Arc::new(SqlCalls::new(db.clone())),
        chats: Arc::new(SqlChats::new(db.clone())),
        reports: Arc::new(SqlCallReports::new(db.clone())),
        documents: Arc::new(SqlDocuments::new(db.clone())),
        extractor: Arc::new(DocumentText),
        telephony: Arc::new(IntegrationTwilio::new(
            active.clone(),
            twilio_settings(raw),
            settings.twilio_token_ttl.num_seconds(),
        )),
        voice_tokens: Arc::new(IntegrationTwilio::new(
            active.clone(),
            twilio_settings(raw),
            settings.twilio_token_ttl.num_seconds(),
        )),
        model: Arc::new(IntegrationModels {
            active: active.clone(),
            fallback: language_model(raw)?,
            raw: raw.clone(),
            built: std::sync::Mutex::new(None),
        }),
        voice_budget: Duration::from_millis(raw.voice_budget_ms),
        overrides: runtime.clone(),
    }));
    let workspace = Arc::new(crm_core::workspace::Workspace::new(
        Arc::new(persistence::repo::workspace::SqlWorkspace::new(db.clone())),
        statuses.clone(),
        raw.audio_max_bytes,
    ));
    Ok(Services {
        db,
        redis,
        callers,
        auth: Arc::new(AuthService::new(ports.clone(), config)),
        users: Arc::new(UserAdminService::new(ports)),
        crm: Arc::new(crm),
        rest,
        workspace,
        catalog: Arc::new(CatalogService::new(statuses, roles)),
        assignments,
        callcenter,
        runtime,
        active,
        integrations,
    })
}

/// Creates the first administrator when there are no users; a generated password is
/// printed once to the log.
pub async fn bootstrap_admin(services: &Services, settings: &Settings) -> Result<(), StartupError> {
    let raw = &settings.raw;
    let generated = raw.admin_password.is_empty();
    let password = if generated { generate_password() } else { raw.admin_password.clone() };
    let created = services
        .auth
        .bootstrap_admin(NewUser {
            email: raw.admin_email.clone(),
            password: password.clone(),
            name: Some(raw.admin_name.clone()),
            ..NewUser::default()
        })
        .await
        .map_err(|e| {
            StartupError::Other(format!("creating the first administrator (ADMIN_EMAIL/ADMIN_PASSWORD): {e}"))
        })?;
    if let Some(user) = created {
        if generated {
            tracing::warn!(email = %user.email, password = %password, "created the first administrator (role ceo) with a generated password; it is shown only this once");
        } else {
            tracing::info!(email = %user.email, "created the first administrator (role ceo) from ADMIN_EMAIL/ADMIN_PASSWORD");
        }
    }
    Ok(())
}

/// The id of the first active CEO (owner of generated data), if any.
pub async fn first_ceo(db: &Database) -> Result<Option<i64>, sea_orm::DbErr> {
    use persistence::entity::users;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let ceo = users::Entity::find()
        .filter(users::Column::Role.eq("ceo"))
        .filter(users::Column::IsActive.eq(true))
        .order_by_asc(users::Column::Id)
        .one(db)
        .await?;
    Ok(ceo.map(|u| u.id))
}

pub fn generate_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..20).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect()
}

struct Dependencies {
    db: Database,
    redis: Option<Arc<RedisLink>>,
}

#[async_trait]
impl HealthProbe for Dependencies {
    async fn database_ok(&self) -> bool {
        tokio::time::timeout(Duration::from_secs(3), persistence::db::ping(&self.db)).await.unwrap_or(false)
    }

    async fn schema_current(&self) -> bool {
        tokio::time::timeout(Duration::from_secs(3), persistence::db::schema_current(&self.db)).await.unwrap_or(false)
    }

    async fn redis_ok(&self) -> Option<bool> {
        Some(self.redis.as_ref()?.ping().await)
    }
}

/// What `/metrics` serves: the recorder's handle, the token rule, and the pool gauges read
/// at scrape time.
fn exporter(
    handle: http_api::metrics::PrometheusHandle,
    db: &Database,
    settings: &Settings,
) -> http_api::metrics::Exporter {
    let token = Some(settings.raw.metrics_token.trim().to_string()).filter(|t| !t.is_empty());
    let db = db.clone();
    let refresh: http_api::metrics::Refresh = Arc::new(move || {
        let db = db.clone();
        Box::pin(async move {
            if let Some(pool) = persistence::db::pool_use(&db) {
                metrics::gauge!("crm_db_pool_connections").set(f64::from(pool.open));
                metrics::gauge!("crm_db_pool_idle").set(f64::from(pool.idle));
                metrics::gauge!("crm_db_pool_in_use").set(f64::from(pool.open.saturating_sub(pool.idle)));
                metrics::gauge!("crm_db_pool_max").set(f64::from(pool.max));
            }
            let took = persistence::db::acquire_time(&db, Duration::from_secs(1)).await;
            metrics::gauge!("crm_db_pool_acquire_seconds").set(took.map_or(1.0, |t| t.as_secs_f64()));
        })
    });
    http_api::metrics::Exporter { handle, token, token_required: settings.env == "production", refresh }
}

/// Serves only `/metrics`, without a token, on `METRICS_ADDR`.
fn serve_metrics(addr: &str, exporter: Arc<http_api::metrics::Exporter>) -> Result<(), StartupError> {
    let open = Arc::new(http_api::metrics::Exporter {
        handle: exporter.handle.clone(),
        token: None,
        token_required: false,
        refresh: exporter.refresh.clone(),
    });
    let server = HttpServer::new(move || {
        let open = open.clone();
        actix_web::App::new().route(
            "/metrics",
            actix_web::web::get().to(move |req: actix_web::HttpRequest| {
                let open = open.clone();
                async move { http_api::metrics::serve(&req, &open).await }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind(addr)
    .map_err(|e| StartupError::Other(format!("cannot listen on METRICS_ADDR {addr}: {e}")))?
    .run();
    tracing::info!(addr, "metrics listener");
    tokio::spawn(server);
    Ok(())
}

/// A server started by [`spawn`].
pub struct Running {
    pub port: u16,
    pub handle: ServerHandle,
    pub services: Services,
    /// The SQL statements the server's pool has run.
    pub statements: StatementCount,
    /// Resolves when the server has stopped.
    pub join: tokio::task::JoinHandle<std::io::Result<()>>,
    stopping: ShutdownTrigger,
    drain: Duration,
}

/// Stops a running server gracefully.
#[derive(Clone)]
pub struct Stopper {
    handle: ServerHandle,
    stopping: ShutdownTrigger,
    drain: Duration,
}

impl Stopper {
    /// Turns readiness to 503 and closes the WebSocket streams (1001 going away), keeps
    /// serving for the drain period (`SHUTDOWN_DRAIN_SECS`) while load balancers take the
    /// replica out, then stops accepting and lets requests in flight finish (at most 30 s).
    pub async fn stop(&self) {
        self.stopping.fire();
        if !self.drain.is_zero() {
            tracing::info!(drain_secs = self.drain.as_secs(), "not ready: draining before closing connections");
            tokio::time::sleep(self.drain).await;
        }
        self.handle.stop(true).await;
    }
}

impl Running {
    /// What stops this server gracefully.
    pub fn stopper(&self) -> Stopper {
        Stopper { handle: self.handle.clone(), stopping: self.stopping.clone(), drain: self.drain }
    }
}

/// Waits for SIGINT or SIGTERM; `false` if no handler could be installed.
async fn stop_signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            return false;
        };
        tokio::select! {
            _ = term.recv() => true,
            _ = int.recv() => true,
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

/// Connects, migrates, seeds the first administrator and starts serving on
/// `HOST:PORT` (port 0 picks a free one). Stops gracefully on SIGINT/SIGTERM.
pub async fn spawn(settings: Settings) -> Result<Running, StartupError> {
    let prometheus = if settings.raw.metrics_enabled { http_api::metrics::install() } else { None };
    let statements = StatementCount::default();
    let db = connect_counted(&settings, statements.clone()).await?;
    if settings.env == "production"
        && settings.raw.data_encryption_key.trim().is_empty()
        && persistence::repo::integrations::sealed_data_exists(&db).await.unwrap_or(false)
    {
        return Err(StartupError::Other(
            "DATA_ENCRYPTION_KEY must be set in production: the database holds secrets sealed with it".into(),
        ));
    }
    let services = services(db, &settings)?;
    if let Some(link) = &services.redis {
        link.check().await;
    }
    persistence::cache::signal::listen(&services.db, services.callers.clone());
    services.runtime.watch(services.db.clone(), Duration::from_secs(1)).await;
    services.active.watch((*services.integrations).clone(), Duration::from_secs(1)).await;
    let deliverer = webhook_deliverer(&services.db, &settings);
    bootstrap_admin(&services, &settings).await?;
    let raw = &settings.raw;
    let (stopping, shutdown) = Shutdown::channel();
    tokio::spawn(persistence::db::background(deliver_webhooks(deliverer, shutdown.clone())));
    let redis = services.redis.clone();
    let limits = RateLimits {
        anonymous: raw.rate_limit_anonymous_per_hour,
        authenticated: raw.rate_limit_authenticated_per_hour,
        admin: raw.rate_limit_admin_per_hour,
        window: Duration::from_secs(3600),
    };
    let state = AppState {
        auth: services.auth.clone(),
        users: services.users.clone(),
        crm: services.crm.clone(),
        rest: services.rest.clone(),
        catalog: services.catalog.clone(),
        assignments: services.assignments.clone(),
        callcenter: services.callcenter.clone(),
        workspace: services.workspace.clone(),
        links: Arc::new(http_api::links::LinkSigner::new(
            &raw.jwt_secret,
            raw.public_base_url.trim(),
            Duration::from_secs(raw.audio_link_ttl_secs),
        )),
        health: Arc::new(Dependencies { db: services.db.clone(), redis: redis.clone() }),
        rate_limiter: Arc::new(
            match redis {
                Some(link) => RateLimiter::with_counters(limits, Arc::new(RedisQuota(link))),
                None => RateLimiter::new(limits),
            }
            .with_overrides(services.runtime.clone()),
        ),
        trust_forwarded_for: raw.trust_forwarded_for,
        shutdown,
        idempotency: Some(Arc::new(Keys(persistence::repo::idempotency::SqlIdempotency::new(services.db.clone())))),
        metrics: None,
    };
    if let Some(handle) = &prometheus {
        http_api::metrics::keep_up(handle.clone());
    }
    let exporter = prometheus.map(|handle| Arc::new(exporter(handle, &services.db, &settings)));
    let mut state = state;
    let metrics_addr = raw.metrics_addr.trim();
    match (&exporter, metrics_addr.is_empty()) {
        (Some(exporter), false) => serve_metrics(metrics_addr, exporter.clone())?,
        (Some(exporter), true) => state.metrics = Some(exporter.clone()),
        (None, _) => {}
    }
    let http = HttpSettings {
        cors: CorsPolicy { origins: settings.cors_origins(), allow_localhost: settings.env != "production" },
        json_limit: raw.json_body_limit,
        upload_limit: raw.upload_max_bytes,
        import_limits: http_api::routes::rest::exchange::ImportLimits {
            max_bytes: raw.import_max_bytes,
            max_rows: raw.import_max_rows,
        },
        streams: StreamTimeouts {
            ping_every: Duration::from_secs(raw.ws_ping_secs),
            idle_timeout: Duration::from_secs(raw.ws_idle_timeout_secs),
        },
        hsts: raw.hsts,
        openapi: Arc::new(http_api::openapi::document()),
        metrics: exporter.is_some(),
    };
    let listener = TcpListener::bind((raw.host.as_str(), raw.port))
        .map_err(|e| StartupError::Other(format!("cannot listen on {}:{} (HOST/PORT): {e}", raw.host, raw.port)))?;
    let port = listener.local_addr().map_err(|e| StartupError::Other(e.to_string()))?.port();
    let workers =
        if raw.workers == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { raw.workers };
    let server = HttpServer::new(move || http_api::app(state.clone(), http.clone()))
        .workers(workers)
        .shutdown_timeout(30)
        .disable_signals()
        .listen(listener)
        .map_err(|e| StartupError::Other(e.to_string()))?
        .run();
    let handle = server.handle();
    tracing::info!(host = %raw.host, port, env = %settings.env, database = %redact(&raw.database_url), "listening");
    let join = tokio::spawn(server);
    let drain = Duration::from_secs(raw.shutdown_drain_secs);
    let running = Running { port, handle, services, statements, join, stopping, drain };
    let on_signal = running.stopper();
    tokio::spawn(async move {
        if stop_signal().await {
            tracing::info!("stop signal received: closing streams and finishing requests in flight");
            on_signal.stop().await;
        }
    });
    Ok(running)
}
