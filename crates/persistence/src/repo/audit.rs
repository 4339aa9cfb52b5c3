//! Reading the audit trail, and the timelines of CRM records (one `UNION ALL` of their history,
//! activities, tasks, calls and chats, paged in SQL).

use crate::error::db;
use crate::repo::listing::{RefKind, exists, lookup, names_of};
use crate::repo::statement;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::Result;
use crm_core::audit::{AuditEntry, AuditFilter, AuditLog, TimelineItem, TimelineOf};
use kernel::{Page, PageRequest};
use sea_orm::{DatabaseConnection, FromQueryResult, Value};
use serde_json::json;

/// [`AuditLog`] over `audit_log` and the record tables.
#[derive(Clone)]
pub struct SqlAudit {
    db: DatabaseConnection,
}

impl SqlAudit {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlAudit { db }
    }
}

#[derive(FromQueryResult)]
struct Row {
    id: i64,
    at: DateTime<Utc>,
    actor_id: Option<i64>,
    actor_type: String,
    entity: String,
    entity_id: String,
    action: String,
    changes: String,
    request_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    total: i64,
}

#[derive(FromQueryResult)]
struct Item {
    at: DateTime<Utc>,
    kind: String,
    ref_id: String,
    title: Option<String>,
    detail: Option<String>,
    status: Option<String>,
    total: i64,
}

#[async_trait]
impl AuditLog for SqlAudit {
    async fn entries(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>> {
        let mut conditions = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        let mut add = |sql: &str, value: Value| {
            values.push(value);
            conditions.push(sql.replace('?', &format!("${}", values.len())));
        };
        if let Some(v) = filter.id {
            add("id = ?", v.into());
        }
        if let Some(v) = &filter.entity {
            add("LOWER(entity) = ?", v.trim().to_lowercase().into());
        }
        if let Some(v) = &filter.entity_id {
            add("entity_id = ?", v.trim().to_string().into());
        }
        if let Some(v) = filter.actor {
            add("actor_id = ?", v.into());
        }
        if let Some(v) = &filter.action {
            add("LOWER(action) = ?", v.trim().to_lowercase().into());
        }
        if let Some(v) = filter.after {
            add("at >= ?", v.into());
        }
        if let Some(v) = filter.before {
            add("at < ?", v.into());
        }
        if !filter.entities.is_empty() {
            let mut list = Vec::new();
            for kind in &filter.entities {
                values.push(kind.to_lowercase().into());
                list.push(format!("${}", values.len()));
            }
            conditions.push(format!("LOWER(entity) IN ({})", list.join(", ")));
        }
        let clause = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        let n = values.len();
        let sql = format!(
            "SELECT id, at, actor_id, actor_type, entity, entity_id, action, changes, request_id, ip, user_agent, \
             COUNT(*) OVER () AS total FROM audit_log{clause} ORDER BY at DESC, id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        values.push((page.per_page as i64).into());
        values.push((page.offset() as i64).into());
        let rows = Row::find_by_statement(statement(self.db.get_database_backend(), &sql, values))
            .all(&self.db)
            .await
            .map_err(db)?;
        // A page past the end has no rows to carry the total; it is answered as empty (the REST
        // page then says 404, as for any list).
        let total = rows.first().map_or(0, |r| r.total.max(0) as u64);
        let [users] = names_of(&self.db, [RefKind::users(rows.iter().filter_map(|r| r.actor_id))]).await?;
        let emails = emails_of(&self.db, rows.iter().filter_map(|r| r.actor_id)).await?;
        let items = rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                at: r.at,
                actor_name: lookup(&users, r.actor_id).map(|u| u.name),
                actor_email: emails.get(&r.actor_id.unwrap_or_default()).cloned(),
                actor_id: r.actor_id,
                actor_type: r.actor_type,
                entity: r.entity,
                entity_id: r.entity_id,
                action: r.action,
                changes: serde_json::from_str(&r.changes).unwrap_or_else(|_| json!({})),
                request_id: r.request_id,
                ip: r.ip,
                user_agent: r.user_agent,
            })
            .collect();
        Ok(Page { items, total, request: page })
    }

    async fn timeline(&self, of: TimelineOf, id: i64, page: PageRequest) -> Result<Option<Page<TimelineItem>>> {
        let table = match of {
            TimelineOf::Account => "customers",
            TimelineOf::Contact => "contacts",
            TimelineOf::Lead => "leads",
            TimelineOf::Deal => "deals",
        };
        if !exists(&self.db, table, id).await? {
            return Ok(None);
        }
        let text = "CAST(id AS VARCHAR(20))";
        let mut parts = vec![format!(
            "SELECT at, 'change' AS kind, {text} AS ref_id, action AS title, changes AS detail, CAST(NULL AS VARCHAR(1)) AS status \
             FROM audit_log WHERE entity = '{}' AND entity_id = $1",
            of.entity()
        )];
        let activity_column = match of {
            TimelineOf::Account => "customer_id",
            TimelineOf::Contact => "contact_id",
            TimelineOf::Lead => "lead_id",
            TimelineOf::Deal => "deal_id",
        };
        parts.push(format!(
            "SELECT created_at AS at, 'activity' AS kind, {text} AS ref_id, COALESCE(subject, type) AS title, description AS detail, status \
             FROM activities WHERE deleted_at IS NULL AND {activity_column} = $2"
        ));
        let task_column = match of {
            TimelineOf::Account => Some("account_id"),
            TimelineOf::Contact => Some("contact_id"),
            TimelineOf::Deal => Some("deal_id"),
            TimelineOf::Lead => None,
        };
        let mut values: Vec<Value> = vec![id.to_string().into(), id.into()];
        if let Some(column) = task_column {
            values.push(id.into());
            parts.push(format!(
                "SELECT created_at AS at, 'task' AS kind, {text} AS ref_id, title, description AS detail, status \
                 FROM tasks WHERE deleted_at IS NULL AND {column} = ${}",
                values.len()
            ));
        }
        if of == TimelineOf::Account {
            values.push(id.into());
            let n = values.len();
            parts.push(format!(
                "SELECT c.started_at AS at, 'call' AS kind, c.id AS ref_id, c.number AS title, c.ai_summary AS detail, c.status \
                 FROM calls c JOIN callers u ON u.id = c.caller_id WHERE u.customer_id = ${n}"
            ));
            values.push(id.into());
            let n = values.len();
            parts.push(format!(
                "SELECT h.created_at AS at, 'chat' AS kind, h.id AS ref_id, h.topic AS title, h.ai_summary AS detail, h.status \
                 FROM chats h JOIN callers u ON u.id = h.caller_id WHERE u.customer_id = ${n}"
            ));
        }
        let n = values.len();
        let sql = format!(
            "SELECT at, kind, ref_id, title, detail, status, COUNT(*) OVER () AS total FROM ({}) t \
             ORDER BY at DESC, kind, ref_id DESC LIMIT ${} OFFSET ${}",
            parts.join(" UNION ALL "),
            n + 1,
            n + 2
        );
        values.push((page.per_page as i64).into());
        values.push((page.offset() as i64).into());
        let rows = Item::find_by_statement(statement(self.db.get_database_backend(), &sql, values))
            .all(&self.db)
            .await
            .map_err(db)?;
        let total = rows.first().map_or(0, |r| r.total.max(0) as u64);
        let items = rows
            .into_iter()
            .map(|r| {
                let detail = match r.kind.as_str() {
                    "change" => {
                        r.detail.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_else(|| json!({}))
                    }
                    _ => r.detail.map_or(serde_json::Value::Null, serde_json::Value::String),
                };
                TimelineItem {
                    at: r.at,
                    kind: r.kind,
                    id: r.ref_id,
                    title: r.title.unwrap_or_default(),
                    detail,
                    status: r.status,
                }
            })
            .collect();
        Ok(Some(Page { items, total, request: page }))
    }
}

/// The e-mail of each of `ids` (one statement).
async fn emails_of(
    db: &DatabaseConnection,
    ids: impl Iterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    use crate::entity::users;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i64, String)> = users::Entity::find()
        .select_only()
        .columns([users::Column::Id, users::Column::Email])
        .filter(users::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await
        .map_err(db_error)?;
    Ok(rows.into_iter().collect())
}

fn db_error(e: sea_orm::DbErr) -> crm_core::CrmError {
    db(e)
}
