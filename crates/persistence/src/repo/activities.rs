//! Activities over sea-orm: the one store of the v1 and REST surfaces, with every related
//! record embedded (one query per kind of relation per page) and the summaries kept exact.

use crate::entity::activities;
use crate::error::db;
use crate::repo::begin_write;
use crate::repo::journal;
use crate::repo::listing::{self, Listing, RefKind, check_references, live, lookup, names_of};
use crate::repo::summaries::{Deltas, activities_key, count_of, counter_total};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::Result;
use crm_core::activity::{Activities, Activity, ActivityChanges, ActivityDraft, ActivityType};
use crm_core::records::Store;
use kernel::{FilterValue, ListQuery, Page};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Set,
};

/// Stores an activity and counts it in the summaries, inside the caller's transaction.
pub async fn record_activity<C: ConnectionTrait>(
    conn: &C,
    d: ActivityDraft,
    at: DateTime<Utc>,
) -> std::result::Result<activities::Model, DbErr> {
    let model = activities::ActiveModel {
        kind: Set(d.kind.as_str().to_string()),
        subject: Set(d.subject),
        description: Set(d.description),
        status: Set(d.status.to_string()),
        due_date: Set(d.due_date),
        customer_id: Set(d.account_id),
        contact_id: Set(d.contact_id),
        lead_id: Set(d.lead_id),
        deal_id: Set(d.deal_id),
        user_id: Set(d.owner_id),
        created_at: Set(at),
        updated_at: Set(at),
        deleted_at: Set(None),
        ..Default::default()
    };
    let stored = model.insert(conn).await?;
    let mut deltas = Deltas::default();
    deltas.count(activities_key(&stored.kind), 1);
    deltas.apply(conn).await?;
    Ok(stored)
}

/// [`Store`] of activities over `activities`.
#[derive(Clone)]
pub struct SqlActivities {
    db: DatabaseConnection,
}

const LISTING: Listing = Listing {
    columns: &[
        ("status", "status"),
        ("owner", "user_id"),
        ("account", "customer_id"),
        ("contact", "contact_id"),
        ("lead", "lead_id"),
        ("deal", "deal_id"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
        ("due_date", "due_date"),
        ("subject", "subject"),
    ],
    search: &["subject", "description"],
};

impl SqlActivities {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlActivities { db }
    }

    /// The records of `rows`, their relations read with one query per kind.
    async fn records(&self, rows: Vec<activities::Model>) -> Result<Vec<Activity>> {
        let ids = |f: fn(&activities::Model) -> Option<i64>| rows.iter().filter_map(f).collect::<Vec<_>>();
        let [accounts, contacts, leads, deals, owners] = names_of(
            &self.db,
            [
                RefKind::accounts(ids(|r| r.customer_id)),
                RefKind::contacts(ids(|r| r.contact_id)),
                RefKind::leads(ids(|r| r.lead_id)),
                RefKind::deals(ids(|r| r.deal_id)),
                RefKind::users(ids(|r| r.user_id)),
            ],
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|m| Activity {
                id: m.id,
                kind: ActivityType::parse(&m.kind).unwrap_or(ActivityType::Call),
                subject: m.subject,
                description: m.description,
                status: m.status,
                due_date: m.due_date,
                account: lookup(&accounts, m.customer_id),
                contact: lookup(&contacts, m.contact_id),
                lead: lookup(&leads, m.lead_id),
                deal: lookup(&deals, m.deal_id),
                owner: lookup(&owners, m.user_id),
                created_at: m.created_at,
                updated_at: m.updated_at,
            })
            .collect())
    }

    async fn one(&self, id: i64) -> Result<Option<Activity>> {
        let found = listing::live_row::<activities::Entity, _>(&self.db, id).await?;
        Ok(self.records(found.into_iter().collect()).await?.pop())
    }
}

/// The related records a write names must exist (and be live).
async fn check<C: ConnectionTrait>(
    conn: &C,
    owner: Option<i64>,
    account: Option<i64>,
    contact: Option<i64>,
    lead: Option<i64>,
    deal: Option<i64>,
) -> Result<()> {
    check_references(
        conn,
        &[
            ("owner", "users", false, owner),
            ("account", "customers", true, account),
            ("contact", "contacts", true, contact),
            ("lead", "leads", true, lead),
            ("deal", "deals", true, deal),
        ],
    )
    .await
}

#[async_trait]
impl Store<Activities> for SqlActivities {
    /// Totals of unfiltered lists (or by type alone) come from the summary counters.
    async fn list(&self, query: &ListQuery) -> Result<Page<Activity>> {
        let mut select = activities::Entity::find().filter(live::<activities::Entity>());
        let kind = match query.filter("activity_type") {
            Some(FilterValue::Text(label)) => ActivityType::parse(label),
            _ => None,
        };
        if let Some(kind) = kind {
            select = select.filter(activities::Column::Kind.eq(kind.as_str()));
        }
        let plain = query.search.is_none() && query.created_after.is_none() && query.created_before.is_none();
        let total = match (plain, query.filters.as_slice(), kind) {
            (true, [], _) => Some(counter_total(&self.db, "activities:").await.map_err(db)?),
            (true, [(_, _)], Some(kind)) => Some(count_of(&self.db, &activities_key(kind.as_str())).await.map_err(db)?),
            _ => None,
        };
        let page = listing::page(&self.db, select, &LISTING, query, total).await?;
        let (request, total) = (page.request, page.total);
        Ok(Page { items: self.records(page.items).await?, total, request })
    }

    async fn get(&self, id: i64) -> Result<Option<Activity>> {
        self.one(id).await
    }

    async fn insert(&self, d: ActivityDraft) -> Result<Activity> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        check(&txn, d.owner_id, d.account_id, d.contact_id, d.lead_id, d.deal_id).await?;
        let stored = record_activity(&txn, d, Utc::now()).await.map_err(db)?;
        journal::write::<activities::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(self.records(vec![stored]).await?.remove(0))
    }

    async fn update(&self, id: i64, c: ActivityChanges) -> Result<Option<Activity>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let current = activities::Entity::find_by_id(id)
            .filter(live::<activities::Entity>())
            .lock_exclusive()
            .one(&txn)
            .await
            .map_err(db)?;
        let Some(current) = current else { return Ok(None) };
        let flat = |v: Option<Option<i64>>| v.flatten();
        check(&txn, flat(c.owner_id), flat(c.account_id), flat(c.contact_id), flat(c.lead_id), flat(c.deal_id)).await?;
        let old_kind = current.kind.clone();
        let mut model: activities::ActiveModel = current.clone().into();
        if let Some(v) = c.kind {
            model.kind = Set(v.as_str().to_string());
        }
        if let Some(v) = c.subject {
            model.subject = Set(v);
        }
        if let Some(v) = c.description {
            model.description = Set(v);
        }
        if let Some(v) = c.status {
            model.status = Set(v.to_string());
        }
        if let Some(v) = c.due_date {
            model.due_date = Set(v);
        }
        if let Some(v) = c.owner_id {
            model.user_id = Set(v);
        }
        if let Some(v) = c.account_id {
            model.customer_id = Set(v);
        }
        if let Some(v) = c.contact_id {
            model.contact_id = Set(v);
        }
        if let Some(v) = c.lead_id {
            model.lead_id = Set(v);
        }
        if let Some(v) = c.deal_id {
            model.deal_id = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let stored = model.update(&txn).await.map_err(db)?;
        if stored.kind != old_kind {
            let mut deltas = Deltas::default();
            deltas.count(activities_key(&old_kind), -1);
            deltas.count(activities_key(&stored.kind), 1);
            deltas.apply(&txn).await.map_err(db)?;
        }
        journal::write::<activities::Entity, _>(&txn, "updated", Some(current), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(self.records(vec![stored]).await?.pop())
    }

    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        self.flip(id, Some(at)).await
    }

    async fn restore(&self, id: i64) -> Result<Option<Activity>> {
        if self.flip(id, None).await? { self.one(id).await } else { Ok(None) }
    }
}

impl SqlActivities {
    /// Deletes (`Some(at)`) or restores (`None`) an activity, keeping its count exact.
    async fn flip(&self, id: i64, deleted: Option<DateTime<Utc>>) -> Result<bool> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let row = activities::Entity::find_by_id(id)
            .filter(if deleted.is_some() {
                activities::Column::DeletedAt.is_null()
            } else {
                activities::Column::DeletedAt.is_not_null()
            })
            .lock_exclusive()
            .one(&txn)
            .await
            .map_err(db)?;
        let Some(row) = row else { return Ok(false) };
        let kind = row.kind.clone();
        let mut model: activities::ActiveModel = row.clone().into();
        model.deleted_at = Set(deleted);
        model.updated_at = Set(Utc::now());
        let stored = model.update(&txn).await.map_err(db)?;
        match deleted {
            Some(_) => journal::write::<activities::Entity, _>(&txn, "deleted", Some(row), None).await?,
            None => journal::write::<activities::Entity, _>(&txn, "restored", None, Some(stored)).await?,
        }
        let mut deltas = Deltas::default();
        deltas.count(activities_key(&kind), if deleted.is_some() { -1 } else { 1 });
        deltas.apply(&txn).await.map_err(db)?;
        txn.commit().await.map_err(db)?;
        Ok(true)
    }
}

journal::journaled_as_stored!(activities::Entity, "activity");
