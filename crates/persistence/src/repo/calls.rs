//! Calls over sea-orm. Finishing a call linked to a CRM customer records a `call` activity
//! on that customer in the same transaction.

use crate::entity::{callers, calls, customers};
use crate::error::{db, is_unique_violation};
use crate::repo::activities::record_activity;
use crate::repo::{begin_write, contains, random_id};
use async_trait::async_trait;
use callcenter_core::call::{
    Call, CallFilter, CallProgress, CallStatus, Direction, NewCall, Sentiment, activity_description,
};
use callcenter_core::ports::CallRepository;
use callcenter_core::{CallcenterError, Result};
use chrono::Utc;
use crm_core::activity::{ActivityType, logged};
use kernel::{Page, PageRequest};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};

/// Prefix of call ids.
pub const CALL_PREFIX: &str = "call_";
/// Prefix of assistant session ids.
pub const SESSION_PREFIX: &str = "session_";

/// [`CallRepository`] over `calls`.
#[derive(Clone)]
pub struct SqlCalls {
    db: DatabaseConnection,
}

impl SqlCalls {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlCalls { db }
    }
}

/// Tags stored as a JSON array; anything else reads as none.
pub fn parse_tags(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

pub fn tags_json(tags: &[String]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".into())
}

pub fn to_call(m: calls::Model) -> Call {
    Call {
        status: CallStatus::parse(&m.status).unwrap_or(CallStatus::Failed),
        direction: Direction::parse(&m.direction).unwrap_or(Direction::Inbound),
        sentiment: Sentiment::parse(&m.sentiment),
        tags: parse_tags(&m.tags),
        id: m.id,
        caller_id: m.caller_id,
        number: m.number,
        started_at: m.started_at,
        ended_at: m.ended_at,
        duration_sec: m.duration_sec,
        operator_name: m.operator_name,
        recording_url: m.recording_url,
        transcript: m.transcript,
        ai_summary: m.ai_summary,
        topic: m.topic,
        escalated: m.escalated,
        session_id: m.session_id,
    }
}

/// The text a call is found by: number, caller name, topic, summary, tags and operator.
pub fn call_search_text(m: &calls::Model, caller_name: &str) -> String {
    [
        m.number.as_str(),
        caller_name,
        m.topic.as_deref().unwrap_or_default(),
        &m.ai_summary,
        &parse_tags(&m.tags).join(" "),
        m.operator_name.as_deref().unwrap_or_default(),
    ]
    .join(" ")
    .to_lowercase()
}

async fn caller_name<C: ConnectionTrait>(conn: &C, caller_id: &str) -> Result<String> {
    let name: Option<String> = callers::Entity::find_by_id(caller_id.to_string())
        .select_only()
        .column(callers::Column::FullName)
        .into_tuple()
        .one(conn)
        .await
        .map_err(db)?;
    Ok(name.unwrap_or_default())
}

fn filtered(filter: CallFilter) -> Select<calls::Entity> {
    let mut q = calls::Entity::find();
    if let Some(status) = filter.status {
        q = q.filter(calls::Column::Status.eq(status.as_str()));
    }
    if let Some(number) = filter.number {
        q = q.filter(calls::Column::Number.eq(number));
    }
    if let Some(query) = filter.query {
        q = q.filter(contains(calls::Column::SearchText, &query));
    }
    q
}

/// Applies `p` to the stored call; returns whether the call became final.
fn apply(row: &mut calls::Model, p: &CallProgress) -> bool {
    if row.provider_sid.is_none() {
        row.provider_sid = p.provider_sid.clone();
    }
    if p.recording_url.is_some() {
        row.recording_url = p.recording_url.clone();
    }
    let current = CallStatus::parse(&row.status).unwrap_or(CallStatus::Failed);
    let Some(next) = p.status.filter(|s| s.is_final() && !current.is_final()) else {
        return false;
    };
    row.status = next.as_str().to_string();
    if let Some(a) = &p.analysis {
        row.ai_summary = a.summary.clone();
        row.sentiment = a.sentiment.as_str().into();
        row.tags = tags_json(&a.tags);
        row.topic = Some(a.topic.clone());
    }
    row.ended_at = Some(p.at);
    row.duration_sec = match next {
        CallStatus::Completed => p.duration_sec.or(Some(std::cmp::max((p.at - row.started_at).num_seconds(), 0))),
        _ => p.duration_sec.filter(|d| *d > 0),
    };
    true
}

#[async_trait]
impl CallRepository for SqlCalls {
    async fn list(&self, filter: CallFilter, page: PageRequest) -> Result<Page<Call>> {
        let q = filtered(filter);
        let total = q.clone().count(&self.db).await.map_err(db)?;
        let rows = q
            .order_by_desc(calls::Column::StartedAt)
            .order_by_desc(calls::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(Page { items: rows.into_iter().map(to_call).collect(), total, request: page })
    }

    async fn get(&self, id: &str) -> Result<Option<Call>> {
        Ok(calls::Entity::find_by_id(id.to_string()).one(&self.db).await.map_err(db)?.map(to_call))
    }

    async fn insert(&self, c: NewCall) -> Result<Call> {
        let now = Utc::now();
        let options = c
            .options
            .map(|o| serde_json::json!({ "noise": o.noise, "noiseGain": o.noise_gain, "speed": o.speed }).to_string());
        let mut model = calls::Model {
            id: random_id(CALL_PREFIX),
            caller_id: c.caller_id,
            number: c.number,
            direction: c.direction.as_str().into(),
            status: CallStatus::Processing.as_str().into(),
            started_at: now,
            ended_at: None,
            duration_sec: None,
            operator_name: c.operator_name,
            recording_url: None,
            transcript: String::new(),
            ai_summary: String::new(),
            sentiment: Sentiment::Neutral.as_str().into(),
            tags: "[]".into(),
            topic: None,
            escalated: false,
            model: c.model,
            prompt: c.prompt,
            options,
            provider_sid: None,
            session_id: c.ai_session.then(|| random_id(SESSION_PREFIX)),
            search_text: String::new(),
            created_at: now,
            updated_at: now,
        };
        model.search_text = call_search_text(&model, &caller_name(&self.db, &model.caller_id).await?);
        let active: calls::ActiveModel = model.into();
        calls::Entity::insert(active.reset_all()).exec_with_returning(&self.db).await.map(to_call).map_err(db)
    }

    async fn progress(&self, id: Option<String>, p: CallProgress) -> Result<Option<Call>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let q = match (&id, &p.provider_sid) {
            (Some(id), _) => calls::Entity::find_by_id(id.clone()),
            (None, Some(sid)) => calls::Entity::find().filter(calls::Column::ProviderSid.eq(sid.clone())),
            (None, None) => return Ok(None),
        };
        let Some(mut row) = q.lock_exclusive().one(&txn).await.map_err(db)? else { return Ok(None) };
        let finished = apply(&mut row, &p);
        if finished && p.analysis.is_some() {
            row.search_text = call_search_text(&row, &caller_name(&txn, &row.caller_id).await?);
        }
        row.updated_at = Utc::now();
        let active: calls::ActiveModel = row.into();
        let stored = to_call(active.reset_all().update(&txn).await.map_err(|e| {
            if is_unique_violation(&e) {
                CallcenterError::Conflict("Another call already has this provider call id.".into())
            } else {
                db(e)
            }
        })?);
        if finished {
            let data = crate::repo::journal::render()
                .map_or_else(|| serde_json::json!({"id": stored.id}), |r| r.call(&stored));
            let mut change = crate::repo::journal::Change::audit("call", &stored.id, "finished")
                .with_values(None, Some(data.clone()));
            if stored.status == CallStatus::Completed {
                change = change.with_event("call.completed", data);
            }
            crate::repo::journal::record(&txn, change).await?;
        }
        if finished && stored.status != CallStatus::Failed {
            let customer: Option<Option<i64>> = callers::Entity::find_by_id(stored.caller_id.clone())
                .select_only()
                .column(callers::Column::CustomerId)
                .into_tuple()
                .one(&txn)
                .await
                .map_err(db)?;
            let live = match customer.flatten() {
                Some(id) => {
                    let q = customers::Entity::find_by_id(id).filter(customers::Column::DeletedAt.is_null());
                    (q.count(&txn).await.map_err(db)? > 0).then_some(id)
                }
                None => None,
            };
            if let Some(customer_id) = live {
                let draft = logged(ActivityType::Call, activity_description(&stored), Some(customer_id), None);
                record_activity(&txn, draft, p.at).await.map_err(db)?;
            }
        }
        txn.commit().await.map_err(db)?;
        Ok(Some(stored))
    }

    async fn append_transcript(&self, id: &str, text: String, escalate: bool) -> Result<Option<Call>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(mut row) = calls::Entity::find_by_id(id.to_string()).lock_exclusive().one(&txn).await.map_err(db)?
        else {
            return Ok(None);
        };
        if !row.transcript.is_empty() {
            row.transcript.push('\n');
        }
        row.transcript.push_str(text.trim());
        row.escalated |= escalate;
        row.updated_at = Utc::now();
        let active: calls::ActiveModel = row.into();
        let stored = active.reset_all().update(&txn).await.map_err(db)?;
        txn.commit().await.map_err(db)?;
        Ok(Some(to_call(stored)))
    }

    async fn delete_by_number(&self, number: &str) -> Result<u64> {
        let done =
            calls::Entity::delete_many().filter(calls::Column::Number.eq(number)).exec(&self.db).await.map_err(db)?;
        Ok(done.rows_affected)
    }
}
