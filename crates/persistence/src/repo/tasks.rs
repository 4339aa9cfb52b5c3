//! Tasks and events over sea-orm.

use crate::entity::{events, tasks};
use crate::error::db;
use crate::repo::begin_write;
use crate::repo::journal;
use crate::repo::listing::{self, Listing, RefKind, check_references, live, lookup, names_of};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::events::{END_AFTER_START, Event, EventChanges, EventDraft, Events};
use crm_core::records::Store;
use crm_core::tasks::{COMPLETED, Completion, Task, TaskChanges, TaskCompletion, TaskDraft, Tasks};
use crm_core::{CrmError, Result};
use kernel::{FilterValue, ListQuery, Page};
use sea_orm::sea_query::Condition;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

/// [`Store`] of tasks and events.
#[derive(Clone)]
pub struct SqlTasks {
    db: DatabaseConnection,
}

impl SqlTasks {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlTasks { db }
    }

    async fn tasks(&self, rows: Vec<tasks::Model>) -> Result<Vec<Task>> {
        task_views(&self.db, rows).await
    }

    async fn task(&self, id: i64) -> Result<Option<Task>> {
        let found = listing::live_row::<tasks::Entity, _>(&self.db, id).await?;
        Ok(self.tasks(found.into_iter().collect()).await?.pop())
    }

    async fn events(&self, rows: Vec<events::Model>) -> Result<Vec<Event>> {
        event_views(&self.db, rows).await
    }

    async fn event(&self, id: i64) -> Result<Option<Event>> {
        let found = listing::live_row::<events::Entity, _>(&self.db, id).await?;
        Ok(self.events(found.into_iter().collect()).await?.pop())
    }
}

/// The tasks of `rows`, related records embedded (one statement for every kind).
async fn task_views<C: ConnectionTrait>(conn: &C, rows: Vec<tasks::Model>) -> Result<Vec<Task>> {
    let ids = |f: fn(&tasks::Model) -> Option<i64>| rows.iter().filter_map(f).collect::<Vec<_>>();
    let [owners, accounts, contacts, deals] = names_of(
        conn,
        [
            RefKind::users(ids(|r| r.owner_id)),
            RefKind::accounts(ids(|r| r.account_id)),
            RefKind::contacts(ids(|r| r.contact_id)),
            RefKind::deals(ids(|r| r.deal_id)),
        ],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|m| Task {
            id: m.id,
            title: m.title,
            description: m.description,
            due_date: m.due_date,
            status: m.status,
            priority: m.priority,
            owner: lookup(&owners, m.owner_id),
            account: lookup(&accounts, m.account_id),
            contact: lookup(&contacts, m.contact_id),
            deal: lookup(&deals, m.deal_id),
            completed_at: m.completed_at,
            completion_notes: m.completion_notes,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
        .collect())
}

/// The events of `rows`, their owners embedded.
async fn event_views<C: ConnectionTrait>(conn: &C, rows: Vec<events::Model>) -> Result<Vec<Event>> {
    let [owners] = names_of(conn, [RefKind::users(rows.iter().filter_map(|r| r.owner_id))]).await?;
    Ok(rows
        .into_iter()
        .map(|m| Event {
            id: m.id,
            title: m.title,
            description: m.description,
            start_date: m.start_date,
            end_date: m.end_date,
            location: m.location,
            owner: lookup(&owners, m.owner_id),
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
        .collect())
}

#[async_trait]
impl journal::Journaled for tasks::Entity {
    const KIND: &'static str = "task";
    async fn shown<C: ConnectionTrait>(conn: &C, rows: Vec<tasks::Model>) -> Result<Vec<serde_json::Value>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let views = task_views(conn, rows).await?;
        Ok(match journal::render() {
            Some(render) => views.iter().map(|t| render.task(t)).collect(),
            None => ids.into_iter().map(|id| serde_json::json!({"id": id})).collect(),
        })
    }
    fn id_of(row: &tasks::Model) -> i64 {
        row.id
    }
}

#[async_trait]
impl journal::Journaled for events::Entity {
    const KIND: &'static str = "event";
    async fn shown<C: ConnectionTrait>(conn: &C, rows: Vec<events::Model>) -> Result<Vec<serde_json::Value>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let views = event_views(conn, rows).await?;
        Ok(match journal::render() {
            Some(render) => views.iter().map(|e| render.event(e)).collect(),
            None => ids.into_iter().map(|id| serde_json::json!({"id": id})).collect(),
        })
    }
    fn id_of(row: &events::Model) -> i64 {
        row.id
    }
}

const TASKS: Listing = Listing {
    columns: &[
        ("status", "status"),
        ("priority", "priority"),
        ("owner", "owner_id"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
        ("due_date", "due_date"),
        ("title", "title"),
    ],
    search: &["title", "description"],
};

async fn check_task_refs<C: ConnectionTrait>(
    conn: &C,
    owner: Option<i64>,
    account: Option<i64>,
    contact: Option<i64>,
    deal: Option<i64>,
) -> Result<()> {
    check_references(
        conn,
        &[
            ("owner", "users", false, owner),
            ("account", "customers", true, account),
            ("contact", "contacts", true, contact),
            ("deal", "deals", true, deal),
        ],
    )
    .await
}

/// Tasks not done: neither completed nor cancelled.
fn open_task() -> Condition {
    Condition::all().add(tasks::Column::Status.is_not_in([COMPLETED, "Cancelled"]))
}

#[async_trait]
impl Store<Tasks> for SqlTasks {
    async fn list(&self, query: &ListQuery) -> Result<Page<Task>> {
        let mut select = tasks::Entity::find().filter(live::<tasks::Entity>());
        if let Some(FilterValue::Bool(overdue)) = query.filter("overdue") {
            let late = Condition::all().add(tasks::Column::DueDate.lt(Utc::now())).add(open_task());
            select = select.filter(if *overdue { late } else { late.not() });
        }
        let page = listing::page(&self.db, select, &TASKS, query, None).await?;
        let (request, total) = (page.request, page.total);
        Ok(Page { items: self.tasks(page.items).await?, total, request })
    }

    async fn get(&self, id: i64) -> Result<Option<Task>> {
        self.task(id).await
    }

    async fn insert(&self, d: TaskDraft) -> Result<Task> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        check_task_refs(&txn, d.owner_id, d.account_id, d.contact_id, d.deal_id).await?;
        let now = Utc::now();
        let done = d.status == COMPLETED;
        let stored = tasks::ActiveModel {
            title: Set(d.title),
            description: Set(d.description),
            due_date: Set(d.due_date),
            status: Set(d.status.to_string()),
            priority: Set(d.priority.to_string()),
            owner_id: Set(d.owner_id),
            account_id: Set(d.account_id),
            contact_id: Set(d.contact_id),
            deal_id: Set(d.deal_id),
            completed_at: Set(done.then_some(now)),
            completion_notes: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(db)?;
        journal::write::<tasks::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(self.tasks(vec![stored]).await?.remove(0))
    }

    async fn update(&self, id: i64, c: TaskChanges) -> Result<Option<Task>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = listing::live_row_locked::<tasks::Entity, _>(&txn, id).await? else { return Ok(None) };
        let flat = |v: Option<Option<i64>>| v.flatten();
        check_task_refs(&txn, flat(c.owner_id), flat(c.account_id), flat(c.contact_id), flat(c.deal_id)).await?;
        let was_done = current.status == COMPLETED;
        let before = current.clone();
        let mut model: tasks::ActiveModel = current.into();
        if let Some(v) = c.title {
            model.title = Set(v);
        }
        if let Some(v) = c.description {
            model.description = Set(v);
        }
        if let Some(v) = c.due_date {
            model.due_date = Set(v);
        }
        if let Some(v) = c.priority {
            model.priority = Set(v.to_string());
        }
        if let Some(v) = c.status {
            // Completed by a change of status: stamped now; reopened: the stamp goes.
            match (was_done, v == COMPLETED) {
                (false, true) => model.completed_at = Set(Some(Utc::now())),
                (true, false) => model.completed_at = Set(None),
                _ => {}
            }
            model.status = Set(v.to_string());
        }
        if let Some(v) = c.owner_id {
            model.owner_id = Set(v);
        }
        if let Some(v) = c.account_id {
            model.account_id = Set(v);
        }
        if let Some(v) = c.contact_id {
            model.contact_id = Set(v);
        }
        if let Some(v) = c.deal_id {
            model.deal_id = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let stored = model.update(&txn).await.map_err(db)?;
        journal::write::<tasks::Entity, _>(&txn, "updated", Some(before), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(self.tasks(vec![stored]).await?.pop())
    }

    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        listing::delete_journaled::<tasks::Entity>(&self.db, id, at, false).await
    }

    async fn restore(&self, id: i64) -> Result<Option<Task>> {
        if listing::restore_journaled::<tasks::Entity>(&self.db, id, false).await? {
            self.task(id).await
        } else {
            Ok(None)
        }
    }
}

#[async_trait]
impl TaskCompletion for SqlTasks {
    async fn complete(&self, id: i64, notes: Option<String>, at: DateTime<Utc>) -> Result<Completion> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = listing::live_row_locked::<tasks::Entity, _>(&txn, id).await? else {
            return Ok(Completion::NotFound);
        };
        if current.status == COMPLETED {
            return Ok(Completion::AlreadyCompleted);
        }
        let before = current.clone();
        let mut model: tasks::ActiveModel = current.into();
        model.status = Set(COMPLETED.to_string());
        model.completed_at = Set(Some(at));
        model.completion_notes = Set(notes);
        model.updated_at = Set(at);
        let stored = model.update(&txn).await.map_err(db)?;
        journal::write::<tasks::Entity, _>(&txn, "updated", Some(before), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(Completion::Completed(Box::new(self.tasks(vec![stored]).await?.remove(0))))
    }
}

const EVENTS: Listing = Listing {
    columns: &[
        ("owner", "owner_id"),
        ("start_date", "start_date"),
        ("end_date", "end_date"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
        ("title", "title"),
    ],
    search: &["title", "description"],
};

#[async_trait]
impl Store<Events> for SqlTasks {
    /// `start_date` / `end_date` select the events overlapping the range, not equal ones.
    async fn list(&self, query: &ListQuery) -> Result<Page<Event>> {
        let mut select = events::Entity::find().filter(live::<events::Entity>());
        if let Some(FilterValue::Instant(from)) = query.filter("start_date") {
            select = select.filter(events::Column::EndDate.gt(*from));
        }
        if let Some(FilterValue::Instant(to)) = query.filter("end_date") {
            select = select.filter(events::Column::StartDate.lt(*to));
        }
        let mut query = query.clone();
        query.filters.retain(|(name, _)| *name == "owner");
        let page = listing::page(&self.db, select, &EVENTS, &query, None).await?;
        let (request, total) = (page.request, page.total);
        Ok(Page { items: self.events(page.items).await?, total, request })
    }

    async fn get(&self, id: i64) -> Result<Option<Event>> {
        self.event(id).await
    }

    async fn insert(&self, d: EventDraft) -> Result<Event> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        check_references(&txn, &[("owner", "users", false, d.owner_id)]).await?;
        let now = Utc::now();
        let stored = events::ActiveModel {
            title: Set(d.title),
            description: Set(d.description),
            start_date: Set(d.start_date),
            end_date: Set(d.end_date),
            location: Set(d.location),
            owner_id: Set(d.owner_id),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(db)?;
        journal::write::<events::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(self.events(vec![stored]).await?.remove(0))
    }

    async fn update(&self, id: i64, c: EventChanges) -> Result<Option<Event>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = listing::live_row_locked::<events::Entity, _>(&txn, id).await? else { return Ok(None) };
        check_references(&txn, &[("owner", "users", false, c.owner_id.flatten())]).await?;
        let (start, end) = (c.start_date.unwrap_or(current.start_date), c.end_date.unwrap_or(current.end_date));
        if end <= start {
            return Err(CrmError::field("end_date", END_AFTER_START));
        }
        let before = current.clone();
        let mut model: events::ActiveModel = current.into();
        if let Some(v) = c.title {
            model.title = Set(v);
        }
        if let Some(v) = c.description {
            model.description = Set(v);
        }
        model.start_date = Set(start);
        model.end_date = Set(end);
        if let Some(v) = c.location {
            model.location = Set(v);
        }
        if let Some(v) = c.owner_id {
            model.owner_id = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let stored = model.update(&txn).await.map_err(db)?;
        journal::write::<events::Entity, _>(&txn, "updated", Some(before), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(self.events(vec![stored]).await?.pop())
    }

    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        listing::delete_journaled::<events::Entity>(&self.db, id, at, false).await
    }

    async fn restore(&self, id: i64) -> Result<Option<Event>> {
        if listing::restore_journaled::<events::Entity>(&self.db, id, false).await? {
            self.event(id).await
        } else {
            Ok(None)
        }
    }
}
