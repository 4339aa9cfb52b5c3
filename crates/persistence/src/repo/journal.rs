//! The journal of every write: an audit row and, for the kinds integrators subscribe to, an
//! outbox event with one delivery per subscribed webhook, all written on the connection of the
//! write (its transaction): a change that rolls back leaves no trace, one that commits is never
//! without its trail.

use crate::error::db;
use crate::repo::statement;
use chrono::Utc;
use kernel::DomainError;
use kernel::context::{ActorType, current};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde_json::{Map, Value, json};
use std::sync::{Arc, OnceLock};

type Result<T> = std::result::Result<T, DomainError>;

/// How records look to integrators: the REST surface's JSON of each kind, given once at
/// start-up by the wiring (the HTTP adapter owns the projections).
pub trait Render: Send + Sync {
    fn account(&self, a: &crm_core::accounts::Account) -> Value;
    fn contact(&self, c: &crm_core::contacts::Contact) -> Value;
    fn lead(&self, l: &crm_core::leads::Lead) -> Value;
    fn deal(&self, d: &crm_core::deal::DealView) -> Value;
    fn task(&self, t: &crm_core::tasks::Task) -> Value;
    fn event(&self, e: &crm_core::events::Event) -> Value;
    fn call(&self, c: &callcenter_core::call::Call) -> Value;
    fn chat(&self, c: &callcenter_core::chat::Chat) -> Value;
}

static RENDER: OnceLock<Arc<dyn Render>> = OnceLock::new();

/// Sets the projections (once per process; later calls keep the first).
pub fn set_render(render: Arc<dyn Render>) {
    let _ = RENDER.set(render);
}

/// The projections, when set.
pub fn render() -> Option<&'static Arc<dyn Render>> {
    RENDER.get()
}

/// The kinds whose `created`, `updated` and `deleted` are webhook events.
pub const EVENT_KINDS: [&str; 6] = ["account", "contact", "lead", "deal", "task", "event"];

/// One change of one record.
#[derive(Debug, Clone)]
pub struct Change {
    /// The kind: `account`, `contact`, `deal`, `setting`, `user`, ...
    pub entity: &'static str,
    pub entity_id: String,
    /// `created`, `updated`, `deleted`, `restored`, `converted`, `merged`, `stage_changed`, ...
    pub action: &'static str,
    /// The record before and after, as integrators see it (`None` when it did not exist).
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// Webhook events this change emits: `(event, data)`.
    pub events: Vec<(String, Value)>,
    /// Who acted, when not the request's user (the assistant, the server).
    pub actor: Option<(Option<i64>, ActorType)>,
}

impl Change {
    /// A change recorded in the audit trail only.
    pub fn audit(entity: &'static str, entity_id: impl ToString, action: &'static str) -> Change {
        Change {
            entity,
            entity_id: entity_id.to_string(),
            action,
            before: None,
            after: None,
            events: Vec::new(),
            actor: None,
        }
    }

    /// A record's `created`, `updated`, `deleted` or `restored`, with its event
    /// (`<entity>.<action>`, `restored` announced as `updated`) when its kind is one
    /// integrators subscribe to ([`EVENT_KINDS`]).
    pub fn of(
        entity: &'static str,
        id: i64,
        action: &'static str,
        before: Option<Value>,
        after: Option<Value>,
    ) -> Change {
        let event = match action {
            "restored" => "updated",
            other => other,
        };
        let data = after.clone().or_else(|| before.clone()).unwrap_or_else(|| json!({"id": id}));
        let events = if EVENT_KINDS.contains(&entity) { vec![(format!("{entity}.{event}"), data)] } else { Vec::new() };
        Change { entity, entity_id: id.to_string(), action, before, after, events, actor: None }
    }

    pub fn with_values(mut self, before: Option<Value>, after: Option<Value>) -> Change {
        self.before = before;
        self.after = after;
        self
    }

    pub fn with_event(mut self, event: impl Into<String>, data: Value) -> Change {
        self.events.push((event.into(), data));
        self
    }

    pub fn by(mut self, actor: Option<i64>, kind: ActorType) -> Change {
        self.actor = Some((actor, kind));
        self
    }
}

/// Whether a field holds a secret (never written to the trail).
pub fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["secret", "token", "password", "api_key", "apikey"].iter().any(|s| key.contains(s))
}

/// `value` with every secret field (at any depth) replaced by `"[redacted]"`.
pub fn redacted(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), if is_secret(k) { json!("[redacted]") } else { redacted(v) }))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redacted).collect()),
        other => other.clone(),
    }
}

/// What the trail keeps of a change: the changed fields' old and new values for an update,
/// the record for a create or a delete.
fn changes_of(before: &Option<Value>, after: &Option<Value>) -> Value {
    match (before, after) {
        (Some(Value::Object(old)), Some(Value::Object(new))) => {
            let mut changed = Map::new();
            for (k, v) in new {
                let was = old.get(k).unwrap_or(&Value::Null);
                if was != v && k != "updated_at" {
                    changed.insert(k.clone(), json!({"old": was, "new": v}));
                }
            }
            for (k, v) in old {
                if !new.contains_key(k) {
                    changed.insert(k.clone(), json!({"old": v, "new": Value::Null}));
                }
            }
            redacted(&Value::Object(changed))
        }
        (None, Some(v)) | (Some(v), None) => redacted(v),
        (Some(old), Some(new)) => redacted(&json!({"old": old, "new": new})),
        (None, None) => json!({}),
    }
}

/// A table whose records are journaled with their integrator-facing JSON.
#[async_trait::async_trait]
pub trait Journaled: sea_orm::EntityTrait {
    /// The kind's name in the trail and in event names (`account`, `contact`, ...).
    const KIND: &'static str;
    /// The rows as integrators see them, in order (one statement for all).
    async fn shown<C: ConnectionTrait>(conn: &C, rows: Vec<Self::Model>) -> Result<Vec<Value>>;
    /// The row's id.
    fn id_of(row: &Self::Model) -> i64;
}

/// A row as the trail keeps it when no surface projection is wanted: its stored columns,
/// less the derived ones named in `hidden` (search text, lower-cased keys).
pub fn stored<T: serde::Serialize>(row: &T, hidden: &[&str]) -> Value {
    let mut value = serde_json::to_value(row).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        for key in hidden {
            map.remove(*key);
        }
    }
    value
}

/// Makes a table [`Journaled`] under `kind` with its rows shown as stored (see [`stored`]).
macro_rules! journaled_as_stored {
    ($entity:ty, $kind:literal $(, hide: [$($hidden:literal),*])?) => {
        #[async_trait::async_trait]
        impl $crate::repo::journal::Journaled for $entity {
            const KIND: &'static str = $kind;
            async fn shown<C: sea_orm::ConnectionTrait>(
                _: &C,
                rows: Vec<<Self as sea_orm::EntityTrait>::Model>,
            ) -> std::result::Result<Vec<serde_json::Value>, kernel::DomainError> {
                Ok(rows.iter().map(|r| $crate::repo::journal::stored(r, &[$($($hidden),*)?])).collect())
            }
            fn id_of(row: &<Self as sea_orm::EntityTrait>::Model) -> i64 {
                row.id
            }
        }
    };
}
pub(crate) use journaled_as_stored;

/// Journals a record's `created`, `updated`, `deleted` or `restored` from its rows.
pub async fn write<E: Journaled, C: ConnectionTrait>(
    conn: &C,
    action: &'static str,
    before: Option<E::Model>,
    after: Option<E::Model>,
) -> Result<()>
where
    E::Model: Clone + Send,
{
    let id = after.as_ref().or(before.as_ref()).map_or(0, E::id_of);
    let rows: Vec<E::Model> = before.iter().chain(after.iter()).cloned().collect();
    let mut shown = E::shown(conn, rows).await?.into_iter();
    let before = before.and_then(|_| shown.next());
    let after = after.and_then(|_| shown.next());
    record(conn, Change::of(E::KIND, id, action, before, after)).await
}

#[derive(FromQueryResult)]
struct Hook {
    id: i64,
    events: String,
}

/// Whether a subscription pattern (`account.created`, `deal.*`, `*`) takes `event`.
pub fn subscribed(pattern: &str, event: &str) -> bool {
    let pattern = pattern.trim();
    pattern == "*"
        || pattern == event
        || pattern.strip_suffix(".*").is_some_and(|prefix| event.split('.').next() == Some(prefix))
}

/// Writes `change` on `conn` (the write's transaction): its audit row, and its events with a
/// delivery for every active webhook subscribed to them.
pub async fn record<C: ConnectionTrait>(conn: &C, change: Change) -> Result<()> {
    let backend = conn.get_database_backend();
    let context = current();
    let (actor_id, actor_type) = change.actor.unwrap_or_else(|| match &context {
        Some(c) => c.actor(),
        None => (None, ActorType::System),
    });
    let now = Utc::now();
    let sql = "INSERT INTO audit_log (at, actor_id, actor_type, entity, entity_id, action, changes, request_id, ip, \
               user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    let values = vec![
        now.into(),
        actor_id.into(),
        actor_type.as_str().into(),
        change.entity.into(),
        change.entity_id.clone().into(),
        change.action.into(),
        changes_of(&change.before, &change.after).to_string().into(),
        context.as_ref().and_then(|c| c.request_id.clone()).into(),
        context.as_ref().and_then(|c| c.ip.clone()).into(),
        context.as_ref().and_then(|c| c.user_agent.clone()).into(),
    ];
    conn.execute_raw(statement(backend, sql, values)).await.map_err(db)?;
    if change.events.is_empty() {
        return Ok(());
    }
    let hooks = Hook::find_by_statement(statement(
        backend,
        "SELECT id, events FROM webhooks WHERE is_active = TRUE AND deleted_at IS NULL",
        vec![],
    ))
    .all(conn)
    .await
    .map_err(db)?;
    if hooks.is_empty() {
        return Ok(());
    }
    let key = format!("{}:{}", change.entity, change.entity_id);
    for (event, data) in change.events {
        let targets: Vec<i64> = hooks
            .iter()
            .filter(|h| {
                serde_json::from_str::<Vec<String>>(&h.events).unwrap_or_default().iter().any(|p| subscribed(p, &event))
            })
            .map(|h| h.id)
            .collect();
        if !targets.is_empty() {
            enqueue(conn, &event, &key, data, &targets).await?;
        }
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct NewId {
    id: i64,
}

/// Adds an event to the outbox with a delivery to each of `webhooks`; answers its id.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    event: &str,
    entity_key: &str,
    data: Value,
    webhooks: &[i64],
) -> Result<i64> {
    let backend = conn.get_database_backend();
    let now = Utc::now();
    let sql =
        "INSERT INTO webhook_events (event, entity_key, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
    let values = vec![event.into(), entity_key.into(), data.to_string().into(), now.into()];
    let id = NewId::find_by_statement(statement(backend, sql, values))
        .one(conn)
        .await
        .map_err(db)?
        .ok_or_else(|| DomainError::Internal("outbox insert returned no id".into()))?
        .id;
    for webhook in webhooks {
        let sql = "INSERT INTO webhook_deliveries (webhook_id, event_id, entity_key, status, attempts, next_attempt_at, created_at) \
                   VALUES ($1, $2, $3, 'pending', 0, $4, $5)";
        let values = vec![(*webhook).into(), id.into(), entity_key.into(), now.into(), now.into()];
        conn.execute_raw(statement(backend, sql, values)).await.map_err(db)?;
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_select_events() {
        assert!(subscribed("*", "deal.won"));
        assert!(subscribed("deal.*", "deal.stage_changed"));
        assert!(!subscribed("deal.*", "account.created"));
        assert!(subscribed("account.created", "account.created"));
        assert!(!subscribed("account.created", "account.updated"));
    }

    #[test]
    fn updates_keep_the_changed_fields_and_secrets_never_appear() {
        let before = Some(json!({"name": "A", "email": "a@x.uz", "config": {"api_key": "sk-1"}, "updated_at": "1"}));
        let after = Some(json!({"name": "B", "email": "a@x.uz", "config": {"api_key": "sk-2"}, "updated_at": "2"}));
        let changes = changes_of(&before, &after);
        assert_eq!(changes["name"], json!({"old": "A", "new": "B"}));
        assert!(changes.get("email").is_none() && changes.get("updated_at").is_none());
        assert!(!changes.to_string().contains("sk-"), "{changes}");
        assert_eq!(changes_of(&None, &Some(json!({"password": "x"}))), json!({"password": "[redacted]"}));
    }
}
