//! Webhook subscriptions over sea-orm, and their outbox: claiming due deliveries (one replica
//! each: `FOR UPDATE SKIP LOCKED` on PostgreSQL), recording attempts, the history, manual
//! redelivery and pings.

use crate::entity::webhooks;
use crate::error::db;
use crate::repo::listing::{self, Listing, live};
use crate::repo::{begin_write, journal, statement};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::records::Store;
use crm_core::webhooks::{
    Attempt, Delivery, DeliveryLog, DeliveryQueue, DeliveryStatus, Due, Secret, Verdict, Webhook, WebhookChanges,
    WebhookDraft, Webhooks,
};
use crm_core::{CrmError, Result};
use kernel::{ListQuery, Page, PageRequest};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult, QueryFilter, Set,
    Value,
};
use std::time::Duration;

/// Where webhooks may point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Only `https://` URLs (production).
    pub https_only: bool,
    /// Loopback and private addresses allowed (tests, closed networks).
    pub allow_private: bool,
}

/// Dead deliveries in a row that deactivate a webhook.
pub const MAX_DEAD_IN_A_ROW: i64 = 20;

/// [`Store`] of webhooks over `webhooks`.
#[derive(Clone)]
pub struct SqlWebhooks {
    db: DatabaseConnection,
    policy: TargetPolicy,
}

impl SqlWebhooks {
    pub fn new(db: DatabaseConnection, policy: TargetPolicy) -> Self {
        SqlWebhooks { db, policy }
    }

    /// Refuses a URL the policy forbids (the address it resolves to is checked again at each
    /// delivery, so a name cannot be pointed at an internal address later).
    fn check_target(&self, url: &str) -> Result<()> {
        if self.policy.https_only && !url.to_ascii_lowercase().starts_with("https://") {
            return Err(CrmError::field("url", "Webhook URLs must be https:// in production."));
        }
        if self.policy.allow_private {
            return Ok(());
        }
        let host = kernel::net::url_host(url).unwrap_or_default();
        let internal = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => !kernel::net::is_public(ip),
            Err(_) => {
                host == "localhost"
                    || host.ends_with(".localhost")
                    || host.ends_with(".internal")
                    || !host.contains('.')
            }
        };
        if internal {
            return Err(CrmError::field(
                "url",
                "Webhook URLs must reach a public address, not a loopback, private, link-local or metadata one.",
            ));
        }
        Ok(())
    }
}

const LISTING: Listing = Listing {
    columns: &[
        ("is_active", "is_active"),
        ("name", "name"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    search: &["name", "url"],
};

fn to_webhook(m: webhooks::Model, reveal: bool) -> Webhook {
    Webhook {
        id: m.id,
        name: m.name,
        url: m.url,
        events: serde_json::from_str(&m.events).unwrap_or_default(),
        is_active: m.is_active,
        secret: Secret { value: m.secret, reveal },
        created_at: m.created_at,
        updated_at: m.updated_at,
        last_delivery_at: m.last_delivery_at,
        last_status: m.last_status,
        failure_count: m.failure_count,
    }
}

/// A drawn secret: `whsec_` and 32 random bytes in hex.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

#[async_trait]
impl journal::Journaled for webhooks::Entity {
    const KIND: &'static str = "webhook";
    async fn shown<C: ConnectionTrait>(_conn: &C, rows: Vec<webhooks::Model>) -> Result<Vec<serde_json::Value>> {
        Ok(rows
            .into_iter()
            .map(|m| serde_json::json!({"id": m.id, "name": m.name, "url": m.url, "events": m.events, "is_active": m.is_active, "secret": "[redacted]"}))
            .collect())
    }
    fn id_of(row: &webhooks::Model) -> i64 {
        row.id
    }
}

#[async_trait]
impl Store<Webhooks> for SqlWebhooks {
    async fn list(&self, query: &ListQuery) -> Result<Page<Webhook>> {
        let select = webhooks::Entity::find().filter(live::<webhooks::Entity>());
        Ok(listing::page(&self.db, select, &LISTING, query, None).await?.map(|m| to_webhook(m, false)))
    }

    async fn get(&self, id: i64) -> Result<Option<Webhook>> {
        Ok(listing::live_row::<webhooks::Entity, _>(&self.db, id).await?.map(|m| to_webhook(m, false)))
    }

    /// The answer shows the secret whole, this once.
    async fn insert(&self, d: WebhookDraft) -> Result<Webhook> {
        self.check_target(&d.url)?;
        let txn = begin_write(&self.db).await.map_err(db)?;
        let now = Utc::now();
        let stored = webhooks::ActiveModel {
            name: Set(d.name),
            url: Set(d.url),
            events: Set(serde_json::to_string(&d.events).unwrap_or_else(|_| "[]".into())),
            secret: Set(d.secret.unwrap_or_else(new_secret)),
            is_active: Set(d.is_active),
            last_delivery_at: Set(None),
            last_status: Set(None),
            failure_count: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(db)?;
        journal::write::<webhooks::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(to_webhook(stored, true))
    }

    async fn update(&self, id: i64, c: WebhookChanges) -> Result<Option<Webhook>> {
        if let Some(url) = &c.url {
            self.check_target(url)?;
        }
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = listing::live_row_locked::<webhooks::Entity, _>(&txn, id).await? else { return Ok(None) };
        let before = current.clone();
        let mut model: webhooks::ActiveModel = current.into();
        if let Some(v) = c.name {
            model.name = Set(v);
        }
        if let Some(v) = c.url {
            model.url = Set(v);
        }
        if let Some(v) = c.events {
            model.events = Set(serde_json::to_string(&v).unwrap_or_else(|_| "[]".into()));
        }
        if let Some(v) = c.is_active {
            model.is_active = Set(v);
            if v {
                // Reactivated: the dead deliveries in a row start over.
                model.failure_count = Set(0);
            }
        }
        if let Some(v) = c.secret {
            model.secret = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let stored = model.update(&txn).await.map_err(db)?;
        journal::write::<webhooks::Entity, _>(&txn, "updated", Some(before), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(Some(to_webhook(stored, false)))
    }

    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        listing::delete_journaled::<webhooks::Entity>(&self.db, id, at, false).await
    }

    async fn restore(&self, id: i64) -> Result<Option<Webhook>> {
        if listing::restore_journaled::<webhooks::Entity>(&self.db, id, false).await? {
            self.get(id).await
        } else {
            Ok(None)
        }
    }
}

/// [`DeliveryQueue`] and [`DeliveryLog`] over the outbox tables.
#[derive(Clone)]
pub struct SqlDeliveries {
    db: DatabaseConnection,
}

impl SqlDeliveries {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlDeliveries { db }
    }

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }
}

#[derive(FromQueryResult)]
struct Claimed {
    id: i64,
    webhook_id: i64,
    url: String,
    secret: String,
    event: String,
    payload: String,
    event_created_at: DateTime<Utc>,
    attempts: i64,
}

#[derive(FromQueryResult)]
struct DeliveryRow {
    id: i64,
    webhook_id: i64,
    event_id: i64,
    event: String,
    status: String,
    attempts: i64,
    response_code: Option<i32>,
    response_ms: Option<i64>,
    last_error: Option<String>,
    next_attempt_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
}

impl DeliveryRow {
    fn into_delivery(self) -> Delivery {
        let status = DeliveryStatus::parse(&self.status);
        let waiting = matches!(status, DeliveryStatus::Pending | DeliveryStatus::Retrying);
        Delivery {
            id: self.id,
            webhook_id: self.webhook_id,
            event_id: self.event_id,
            event: self.event,
            status,
            attempts: self.attempts,
            response_code: self.response_code,
            response_ms: self.response_ms,
            last_error: self.last_error,
            next_attempt_at: waiting.then_some(self.next_attempt_at),
            created_at: self.created_at,
            delivered_at: self.delivered_at,
        }
    }
}

const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, d.event_id, e.event, d.status, d.attempts, d.response_code, \
                                d.response_ms, d.last_error, d.next_attempt_at, d.created_at, d.delivered_at";

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

impl SqlDeliveries {
    async fn live_webhook(&self, id: i64) -> Result<Option<webhooks::Model>> {
        listing::live_row::<webhooks::Entity, _>(&self.db, id).await
    }

    async fn delivery(&self, id: i64) -> Result<Option<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE d.id = $1"
        );
        let row = DeliveryRow::find_by_statement(statement(self.backend(), &sql, vec![id.into()]))
            .one(&self.db)
            .await
            .map_err(db)?;
        Ok(row.map(DeliveryRow::into_delivery))
    }
}

#[async_trait]
impl DeliveryQueue for SqlDeliveries {
    async fn claim(&self, limit: usize, now: DateTime<Utc>, lease: Duration) -> Result<Vec<Due>> {
        let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
        let lock = if self.backend() == DbBackend::Postgres { " FOR UPDATE OF d SKIP LOCKED" } else { "" };
        // Nothing undelivered (the usual case): no write transaction at all.
        let waiting = Count::find_by_statement(statement(
            self.backend(),
            "SELECT id AS n FROM webhook_deliveries WHERE status IN ('pending', 'retrying', 'sending') LIMIT 1",
            vec![],
        ))
        .one(&self.db)
        .await
        .map_err(db)?;
        if waiting.is_none() {
            return Ok(Vec::new());
        }
        let txn = begin_write(&self.db).await.map_err(db)?;
        // Due, of an active webhook, and the first undelivered one of its record for that webhook
        // (the first of each group found by one aggregate: no per-row subquery whose plan could
        // grow with the backlog).
        let pick = format!(
            "SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.id IN (SELECT MIN(id) FROM webhook_deliveries WHERE status IN ('pending', 'retrying', 'sending') \
                 GROUP BY webhook_id, entity_key) \
             AND ((d.status IN ('pending', 'retrying') AND d.next_attempt_at <= $1) \
                 OR (d.status = 'sending' AND d.claimed_until < $2)) \
             AND w.is_active = TRUE AND w.deleted_at IS NULL \
             ORDER BY d.id LIMIT $3{lock}"
        );
        let ids: Vec<i64> = Count::find_by_statement(statement(
            self.backend(),
            &pick.replace("SELECT d.id FROM", "SELECT d.id AS n FROM"),
            vec![now.into(), now.into(), (limit as i64).into()],
        ))
        .all(&txn)
        .await
        .map_err(db)?
        .into_iter()
        .map(|c| c.n)
        .collect();
        if ids.is_empty() {
            txn.commit().await.map_err(db)?;
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "UPDATE webhook_deliveries SET status = 'sending', claimed_until = $1, attempts = attempts + 1 WHERE id IN ({})",
            marks.join(", ")
        );
        let mut values: Vec<Value> = vec![until.into()];
        values.extend(ids.iter().map(|i| Value::from(*i)));
        txn.execute_raw(statement(self.backend(), &sql, values)).await.map_err(db)?;
        let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 1)).collect();
        let sql = format!(
            "SELECT d.id, d.webhook_id, w.url, w.secret, e.event, e.payload, e.created_at AS event_created_at, d.attempts \
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN webhook_events e ON e.id = d.event_id \
             WHERE d.id IN ({}) ORDER BY d.id",
            marks.join(", ")
        );
        let claimed =
            Claimed::find_by_statement(statement(self.backend(), &sql, ids.into_iter().map(Value::from).collect()))
                .all(&txn)
                .await
                .map_err(db)?;
        txn.commit().await.map_err(db)?;
        Ok(claimed
            .into_iter()
            .map(|c| Due {
                id: c.id,
                webhook_id: c.webhook_id,
                url: c.url,
                secret: c.secret,
                event: c.event,
                data: c.payload,
                event_created_at: c.event_created_at,
                attempts: c.attempts.max(1) as u32,
            })
            .collect())
    }

    async fn record(&self, outcomes: Vec<(i64, Attempt, Verdict)>, at: DateTime<Utc>) -> Result<()> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        for (id, attempt, verdict) in &outcomes {
            record_one(&txn, *id, attempt, verdict, at).await?;
        }
        txn.commit().await.map_err(db)?;
        Ok(())
    }
}

/// Records one attempt's outcome and its webhook's state, in deliveries' id order (every
/// round's transaction locks webhooks in the same order).
async fn record_one<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    attempt: &Attempt,
    verdict: &Verdict,
    at: DateTime<Utc>,
) -> Result<()> {
    let backend = conn.get_database_backend();
    let code = attempt.status.map(i32::from);
    let ms = attempt.elapsed.as_millis() as i64;
    let error = attempt.error.clone().or_else(|| match attempt.status {
        Some(c) if !(200..300).contains(&c) => Some(format!("The receiver answered {c}.")),
        _ => None,
    });
    let (status, next, delivered) = match verdict {
        Verdict::Succeeded => ("succeeded", at, Some(at)),
        Verdict::Retry(next) => ("retrying", *next, None),
        Verdict::Dead { .. } => ("dead", at, None),
    };
    let sql = "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, claimed_until = NULL, \
               response_code = $3, response_ms = $4, last_error = $5, delivered_at = $6 WHERE id = $7";
    let values = vec![
        status.into(),
        next.into(),
        code.into(),
        ms.into(),
        error.map(|e| e.chars().take(500).collect::<String>()).into(),
        delivered.into(),
        id.into(),
    ];
    conn.execute_raw(statement(backend, sql, values)).await.map_err(db)?;
    let failures = match verdict {
        Verdict::Succeeded => "0",
        Verdict::Dead { .. } => "failure_count + 1",
        Verdict::Retry(_) => "failure_count",
    };
    let deactivate = match verdict {
        Verdict::Dead { deactivate: true } => "FALSE".to_string(),
        Verdict::Dead { deactivate: false } => format!("is_active AND failure_count + 1 < {MAX_DEAD_IN_A_ROW}"),
        _ => "is_active".to_string(),
    };
    let sql = format!(
        "UPDATE webhooks SET last_delivery_at = $1, last_status = $2, failure_count = {failures}, is_active = {deactivate} \
         WHERE id = (SELECT webhook_id FROM webhook_deliveries WHERE id = $3)"
    );
    conn.execute_raw(statement(backend, &sql, vec![at.into(), code.into(), id.into()])).await.map_err(db)?;
    Ok(())
}

#[async_trait]
impl DeliveryLog for SqlDeliveries {
    async fn deliveries(&self, webhook_id: i64, page: PageRequest) -> Result<Option<Page<Delivery>>> {
        if self.live_webhook(webhook_id).await?.is_none() {
            return Ok(None);
        }
        let sql = "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = $1";
        let total = Count::find_by_statement(statement(self.backend(), sql, vec![webhook_id.into()]))
            .one(&self.db)
            .await
            .map_err(db)?
            .map_or(0, |c| c.n.max(0) as u64);
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
             WHERE d.webhook_id = $1 ORDER BY d.id DESC LIMIT $2 OFFSET $3"
        );
        let values = vec![webhook_id.into(), (page.per_page as i64).into(), (page.offset() as i64).into()];
        let rows =
            DeliveryRow::find_by_statement(statement(self.backend(), &sql, values)).all(&self.db).await.map_err(db)?;
        Ok(Some(Page { items: rows.into_iter().map(DeliveryRow::into_delivery).collect(), total, request: page }))
    }

    async fn redeliver(&self, webhook_id: i64, delivery_id: i64) -> Result<Option<Delivery>> {
        if self.live_webhook(webhook_id).await?.is_none() {
            return Ok(None);
        }
        let Some(old) = self.delivery(delivery_id).await?.filter(|d| d.webhook_id == webhook_id) else {
            return Ok(None);
        };
        let txn = begin_write(&self.db).await.map_err(db)?;
        let now = Utc::now();
        #[derive(FromQueryResult)]
        struct Key {
            entity_key: String,
        }
        let key = Key::find_by_statement(statement(
            self.backend(),
            "SELECT entity_key FROM webhook_events WHERE id = $1",
            vec![old.event_id.into()],
        ))
        .one(&txn)
        .await
        .map_err(db)?
        .map_or_else(String::new, |k| k.entity_key);
        #[derive(FromQueryResult)]
        struct NewId {
            id: i64,
        }
        let sql = "INSERT INTO webhook_deliveries (webhook_id, event_id, entity_key, status, attempts, next_attempt_at, created_at) \
                   VALUES ($1, $2, $3, 'pending', 0, $4, $5) RETURNING id";
        let values = vec![webhook_id.into(), old.event_id.into(), key.into(), now.into(), now.into()];
        let id = NewId::find_by_statement(statement(self.backend(), sql, values))
            .one(&txn)
            .await
            .map_err(db)?
            .map(|n| n.id)
            .ok_or_else(|| CrmError::Internal("redelivery insert returned no id".into()))?;
        journal::record(
            &txn,
            journal::Change::audit("webhook", webhook_id, "redelivered")
                .with_values(None, Some(serde_json::json!({"delivery": delivery_id, "new_delivery": id}))),
        )
        .await?;
        txn.commit().await.map_err(db)?;
        self.delivery(id).await
    }

    async fn ping(&self, webhook_id: i64) -> Result<Option<Delivery>> {
        let Some(hook) = self.live_webhook(webhook_id).await? else { return Ok(None) };
        if !hook.is_active {
            return Err(CrmError::Conflict(format!("Webhook {webhook_id} is inactive; activate it to ping it.")));
        }
        let txn = begin_write(&self.db).await.map_err(db)?;
        let data = serde_json::json!({"webhook": webhook_id, "message": "ping"});
        let event = journal::enqueue(&txn, "ping", &format!("webhook:{webhook_id}"), data, &[webhook_id]).await?;
        txn.commit().await.map_err(db)?;
        #[derive(FromQueryResult)]
        struct Id {
            id: i64,
        }
        let found = Id::find_by_statement(statement(
            self.backend(),
            "SELECT id FROM webhook_deliveries WHERE event_id = $1",
            vec![event.into()],
        ))
        .one(&self.db)
        .await
        .map_err(db)?;
        match found {
            Some(d) => self.delivery(d.id).await,
            None => Ok(None),
        }
    }
}
