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
    let client = OpenAiCompatible::new(LlmSettings {
        base_url: raw.llm_base_url.trim().to_string(),
        api_key: Some(raw.llm_api_key.clone()).filter(|k| !k.is_empty()),
        model: raw.llm_model.clone(),
        connect_timeout: Duration::from_secs(raw.llm_connect_timeout_secs),
        timeout: Duration::from_secs(raw.llm_timeout_secs),
        retries: raw.llm_retries,
        backoff: Duration::from_millis(raw.llm_retry_backoff_ms),
        max_tokens: raw.llm_max_tokens,
    })
    .map_err(|e| StartupError::Other(e.to_string()))?;
    Ok(Some(Arc::new(client)))
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
        telephony: Arc::new(TwilioCalls::new(TwilioVoiceSettings {
            account_sid: raw.twilio_account_sid.clone(),
            auth_token: raw.twilio_auth_token.clone(),
            api_key_sid: raw.twilio_api_key_sid.clone(),
            api_key_secret: raw.twilio_api_key_secret.clone(),
            from_number: raw.twilio_from_number.clone(),
            twiml_app_sid: raw.twilio_twiml_app_sid.clone(),
            voice_url: raw.twilio_voice_url.clone(),
            public_base_url: raw.public_base_url.clone(),
            api_base: raw.twilio_api_base.clone(),
        })),
        voice_tokens: Arc::new(TwilioVoiceTokens::new(
            TwilioCredentials {
                account_sid: raw.twilio_account_sid.clone(),
                api_key_sid: raw.twilio_api_key_sid.clone(),
                api_key_secret: raw.twilio_api_key_secret.clone(),
                twiml_app_sid: raw.twilio_twiml_app_sid.clone(),
            },
            settings.twilio_token_ttl.num_seconds(),
        )),
        model: language_model(raw)?,
        voice_budget: Duration::from_millis(raw.voice_budget_ms),
        overrides: runtime.clone(),
    }));
    Ok(Services {
        db,
        redis,
        callers,
        auth: Arc::new(AuthService::new(ports.clone(), config)),
        users: Arc::new(UserAdminService::new(ports)),
        crm: Arc::new(crm),
        rest,
        catalog: Arc::new(CatalogService::new(statuses, roles)),
        assignments,
        callcenter,
        runtime,
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

fn generate_password() -> String {
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

    async fn redis_ok(&self) -> Option<bool> {
        Some(self.redis.as_ref()?.ping().await)
    }
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
}

/// Stops a running server gracefully.
#[derive(Clone)]
pub struct Stopper {
    handle: ServerHandle,
    stopping: ShutdownTrigger,
}

impl Stopper {
    /// Closes the WebSocket streams (1001 going away), then stops accepting and lets requests
    /// in flight finish (at most 30 s).
    pub async fn stop(&self) {
        self.stopping.fire();
        self.handle.stop(true).await;
    }
}

impl Running {
    /// What stops this server gracefully.
    pub fn stopper(&self) -> Stopper {
        Stopper { handle: self.handle.clone(), stopping: self.stopping.clone() }
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
    let statements = StatementCount::default();
    let db = connect_counted(&settings, statements.clone()).await?;
    let services = services(db, &settings)?;
    persistence::cache::signal::listen(&services.db, services.callers.clone());
    services.runtime.watch(services.db.clone(), Duration::from_secs(1)).await;
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
    };
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
    let running = Running { port, handle, services, statements, join, stopping };
    let on_signal = running.stopper();
    tokio::spawn(async move {
        if stop_signal().await {
            tracing::info!("stop signal received: closing streams and finishing requests in flight");
            on_signal.stop().await;
        }
    });
    Ok(running)
}
