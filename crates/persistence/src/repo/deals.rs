//! Deals and the sales pipeline over sea-orm: the one deal store of the v1 and REST surfaces
//! (related records embedded with one query per kind per page, summaries kept exact in each
//! write), pipeline stages, and moving deals along them.

use crate::entity::{customers, deal_stage_changes as changes, deals, pipeline_stages as stages};
use crate::error::{conflict_if_unique, db};
use crate::repo::activities::record_activity;
use crate::repo::begin_write;
use crate::repo::journal;
use crate::repo::listing::{self, Found, Listing, RefKind, check_references, live, refs_of};
use crate::repo::summaries::{Deltas, count_sum, counter_total, deals_key};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use crm_core::activity::{ActivityDraft, ActivityType};
use crm_core::deal::{
    CustomerRef, Deal, DealChanges, DealDraft, DealStatus, DealView, Deals, StageChange, V1_STATUS, closed_at_after,
    closing_instant,
};
use crm_core::pipeline::{DealMoves, Move, Stage, StageChanges, StageDraft, Stages};
use crm_core::records::Store;
use crm_core::{CrmError, Result};
use kernel::{FilterValue, ListQuery, Page, Ref};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, Set,
};

/// Hundredths to a two-place decimal.
pub fn from_cents(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// A two-place decimal to hundredths.
pub fn to_cents(value: Decimal) -> i64 {
    (value.round_dp(2) * Decimal::ONE_HUNDRED).trunc().to_i64().unwrap_or(i64::MAX)
}

fn to_deal(m: deals::Model) -> Deal {
    Deal {
        id: m.id,
        title: m.title,
        description: m.description,
        value: from_cents(m.value_cents),
        status: DealStatus::parse(&m.status).unwrap_or(DealStatus::New),
        customer_id: m.customer_id,
        user_id: m.user_id,
        closed_at: m.closed_at,
        contact_id: m.contact_id,
        stage_id: m.stage_id,
        expected_close_date: m.expected_close_date,
        probability: m.probability,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// [`Store`] of deals and of pipeline stages; moves deals along the pipeline.
#[derive(Clone)]
pub struct SqlDeals {
    db: DatabaseConnection,
}

const DEALS: Listing = Listing {
    columns: &[
        ("stage", "stage_id"),
        ("account", "customer_id"),
        ("owner", "user_id"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
        ("name", "title"),
        ("amount", "value_cents"),
        ("expected_close_date", "expected_close_date"),
        ("probability", "probability"),
    ],
    search: &["title"],
};

impl SqlDeals {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlDeals { db }
    }
}

/// The views of `rows`, with the names of every kind of related record in one statement.
pub async fn deal_views<C: ConnectionTrait>(conn: &C, rows: Vec<deals::Model>) -> Result<Vec<DealView>> {
    let mut kinds = [
        RefKind {
            extra: Some("company"),
            ..RefKind::new("customers", "name", false, rows.iter().map(|d| d.customer_id))
        },
        RefKind::contacts(rows.iter().filter_map(|d| d.contact_id)),
        RefKind::stages(rows.iter().filter_map(|d| d.stage_id)),
        RefKind::users(rows.iter().filter_map(|d| d.user_id)),
    ];
    if rows.is_empty() {
        kinds.iter_mut().for_each(|k| k.ids.clear());
    }
    let [customers, contacts, stages, owners]: [Found; 4] =
        refs_of(conn, &kinds).await?.try_into().map_err(|_| CrmError::Internal("reference kinds".into()))?;
    let name = |found: &Found, id: Option<i64>| id.and_then(|id| found.get(&id)).map(|(r, _)| r.clone());
    Ok(rows
        .into_iter()
        .map(|m| DealView {
            customer: customers.get(&m.customer_id).map(|(r, company)| CustomerRef {
                id: r.id,
                name: r.name.clone(),
                company: company.clone(),
            }),
            contact: name(&contacts, m.contact_id),
            stage: name(&stages, m.stage_id),
            owner: name(&owners, m.user_id),
            deal: to_deal(m),
            history: None,
        })
        .collect())
}

/// The names a deal refers to and the size of its stage history, as scalar subqueries of the
/// deal's own statement.
const DETAIL_NAMES: [(&str, &str); 6] = [
    ("customer_name", "(SELECT name FROM customers c WHERE c.id = deals.customer_id)"),
    ("customer_company", "(SELECT company FROM customers c WHERE c.id = deals.customer_id)"),
    (
        "contact_name",
        "(SELECT TRIM(first_name || ' ' || last_name) FROM contacts ct WHERE ct.id = deals.contact_id AND ct.deleted_at IS NULL)",
    ),
    ("stage_name", "(SELECT name FROM pipeline_stages s WHERE s.id = deals.stage_id)"),
    ("owner_name", "(SELECT name FROM users u WHERE u.id = deals.user_id)"),
    ("history_size", "(SELECT COUNT(*) FROM deal_stage_changes h WHERE h.deal_id = deals.id)"),
];

/// A deal row with the names of [`DETAIL_NAMES`].
struct NamedDeal {
    row: deals::Model,
    customer_name: Option<String>,
    customer_company: Option<String>,
    contact_name: Option<String>,
    stage_name: Option<String>,
    owner_name: Option<String>,
    history_size: i64,
}

impl FromQueryResult for NamedDeal {
    fn from_query_result(res: &QueryResult, pre: &str) -> std::result::Result<Self, DbErr> {
        Ok(NamedDeal {
            row: deals::Model::from_query_result(res, pre)?,
            customer_name: res.try_get(pre, "customer_name")?,
            customer_company: res.try_get(pre, "customer_company")?,
            contact_name: res.try_get(pre, "contact_name")?,
            stage_name: res.try_get(pre, "stage_name")?,
            owner_name: res.try_get(pre, "owner_name")?,
            history_size: res.try_get(pre, "history_size")?,
        })
    }
}

/// A live deal with its stage history: one statement for the deal and the names it refers
/// to, and, when it has moved between stages, one for the history and one for its names.
pub async fn deal_detail<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<DealView>> {
    let mut select = deals::Entity::find_by_id(id).filter(live::<deals::Entity>());
    for (alias, sql) in DETAIL_NAMES {
        select = select.column_as(Expr::cust(sql), alias);
    }
    let Some(found) = select.into_model::<NamedDeal>().one(conn).await.map_err(db)? else { return Ok(None) };
    let m = found.row;
    let named = |id: Option<i64>, name: Option<String>| Some(Ref { id: id?, name: name? });
    let mut view = DealView {
        customer: found.customer_name.map(|name| CustomerRef {
            id: m.customer_id,
            name,
            company: found.customer_company,
        }),
        contact: named(m.contact_id, found.contact_name),
        stage: named(m.stage_id, found.stage_name),
        owner: named(m.user_id, found.owner_name),
        deal: to_deal(m),
        history: Some(Vec::new()),
    };
    if found.history_size == 0 {
        return Ok(Some(view));
    }
    let rows = changes::Entity::find()
        .filter(changes::Column::DealId.eq(id))
        .order_by_asc(changes::Column::ChangedAt)
        .order_by_asc(changes::Column::Id)
        .all(conn)
        .await
        .map_err(db)?;
    let stage_ids = rows.iter().flat_map(|r| [r.from_stage_id, Some(r.to_stage_id)]).flatten();
    let people_ids = rows.iter().filter_map(|r| r.changed_by);
    let [names, people]: [Found; 2] = refs_of(conn, &[RefKind::stages(stage_ids), RefKind::users(people_ids)])
        .await?
        .try_into()
        .map_err(|_| CrmError::Internal("reference kinds".into()))?;
    let name = |found: &Found, id: Option<i64>| id.and_then(|id| found.get(&id)).map(|(r, _)| r.clone());
    view.history = Some(
        rows.into_iter()
            .map(|r| StageChange {
                from_stage: name(&names, r.from_stage_id),
                to_stage: name(&names, Some(r.to_stage_id)),
                notes: r.notes,
                changed_by: name(&people, r.changed_by),
                changed_at: r.changed_at,
            })
            .collect(),
    );
    Ok(Some(view))
}

/// Locks a live deal for a change.
async fn lock<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<deals::Model>> {
    listing::live_row_locked::<deals::Entity, _>(conn, id).await
}

/// A live, active stage.
async fn active_stage<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<stages::Model>> {
    let found = stages::Entity::find_by_id(id)
        .filter(live::<stages::Entity>())
        .filter(stages::Column::IsActive.eq(true))
        .one(conn)
        .await;
    found.map_err(db)
}

/// The first active stage of the pipeline.
async fn first_stage<C: ConnectionTrait>(conn: &C) -> Result<Option<stages::Model>> {
    stages::Entity::find()
        .filter(live::<stages::Entity>())
        .filter(stages::Column::IsActive.eq(true))
        .order_by_asc(stages::Column::SortOrder)
        .order_by_asc(stages::Column::Id)
        .one(conn)
        .await
        .map_err(db)
}

/// The related records of a deal must exist, and the contact must be one of the account's.
async fn check_deal<C: ConnectionTrait>(
    conn: &C,
    account: i64,
    contact: Option<i64>,
    owner: Option<i64>,
) -> Result<()> {
    check_references(
        conn,
        &[
            ("account", "customers", true, Some(account)),
            ("contact", "contacts", true, contact),
            ("owner", "users", false, owner),
        ],
    )
    .await?;
    if let Some(contact) = contact {
        let sql = "SELECT id, '' AS name FROM contacts WHERE id = $1 AND account_id = $2";
        let stmt = crate::repo::statement(conn.get_database_backend(), sql, vec![contact.into(), account.into()]);
        let found = conn.query_one_raw(stmt).await.map_err(db)?;
        if found.is_none() {
            return Err(CrmError::field("contact", "The contact must belong to the deal's account."));
        }
    }
    Ok(())
}

/// Appends a move to a deal's stage history.
async fn record_move<C: ConnectionTrait>(
    conn: &C,
    deal: i64,
    from: Option<i64>,
    to: i64,
    notes: Option<String>,
    by: Option<i64>,
    at: DateTime<Utc>,
) -> Result<()> {
    changes::ActiveModel {
        deal_id: Set(deal),
        from_stage_id: Set(from),
        to_stage_id: Set(to),
        notes: Set(notes),
        changed_by: Set(by),
        changed_at: Set(at),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(db)?;
    Ok(())
}

#[async_trait]
impl journal::Journaled for deals::Entity {
    const KIND: &'static str = "deal";
    async fn shown<C: ConnectionTrait>(conn: &C, rows: Vec<deals::Model>) -> Result<Vec<serde_json::Value>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let views = deal_views(conn, rows).await?;
        Ok(match journal::render() {
            Some(render) => views.iter().map(|d| render.deal(d)).collect(),
            None => ids.into_iter().map(|id| serde_json::json!({"id": id})).collect(),
        })
    }
    fn id_of(row: &deals::Model) -> i64 {
        row.id
    }
}

/// Journals a change of a deal: `deal.updated`, and `deal.stage_changed` (with
/// `previous_stage`), `deal.won` or `deal.lost` when that is what changed.
async fn journal_change<C: ConnectionTrait>(conn: &C, current: deals::Model, stored: deals::Model) -> Result<()> {
    let moved = current.stage_id != stored.stage_id;
    let closed = (current.status != stored.status).then_some(stored.status.as_str());
    let mut shown =
        <deals::Entity as journal::Journaled>::shown(conn, vec![current, stored.clone()]).await?.into_iter();
    let (before, after) = (shown.next().unwrap_or_default(), shown.next().unwrap_or_default());
    let action = match closed {
        Some("completed") => "won",
        Some("cancelled") => "lost",
        _ if moved => "stage_changed",
        _ => "updated",
    };
    let mut change = journal::Change::audit("deal", stored.id, action)
        .with_values(Some(before.clone()), Some(after.clone()))
        .with_event("deal.updated", after.clone());
    if moved {
        let mut data = after.clone();
        data["previous_stage"] = before.get("stage").cloned().unwrap_or_default();
        change = change.with_event("deal.stage_changed", data);
    }
    match closed {
        Some("completed") => change = change.with_event("deal.won", after),
        Some("cancelled") => change = change.with_event("deal.lost", after),
        _ => {}
    }
    journal::record(conn, change).await
}

/// Writes `next` over the locked `current`, keeping the summaries exact, journaled.
async fn save<C: ConnectionTrait>(conn: &C, current: deals::Model, next: deals::Model) -> Result<deals::Model> {
    let mut deltas = Deltas::default();
    deltas.deal(&current, -1);
    let model: deals::ActiveModel = next.into();
    let stored = model.reset_all().update(conn).await.map_err(db)?;
    deltas.deal(&stored, 1);
    deltas.apply(conn).await.map_err(db)?;
    journal_change(conn, current, stored.clone()).await?;
    Ok(stored)
}

/// Stores a new deal (its related records checked; without a stage, at the first active one,
/// with the stage's probability unless one is given), keeping the summaries exact.
pub async fn insert_deal<C: ConnectionTrait>(conn: &C, d: DealDraft, now: DateTime<Utc>) -> Result<deals::Model> {
    check_deal(conn, d.customer_id, d.contact_id, d.user_id).await?;
    let stage = match d.stage_id {
        Some(id) => Some(
            active_stage(conn, id)
                .await?
                .ok_or_else(|| CrmError::field("stage", "Choose a live, active pipeline stage."))?,
        ),
        None => first_stage(conn).await?,
    };
    let model = deals::ActiveModel {
        title: Set(d.title),
        description: Set(d.description),
        value_cents: Set(to_cents(d.value)),
        status: Set(d.status.as_str().to_string()),
        customer_id: Set(d.customer_id),
        user_id: Set(d.user_id),
        closed_at: Set(closed_at_after(DealStatus::New, None, d.status, d.close_date, now)),
        contact_id: Set(d.contact_id),
        stage_id: Set(stage.as_ref().map(|s| s.id)),
        expected_close_date: Set(d.expected_close_date),
        probability: Set(d.probability.or(stage.as_ref().map(|s| s.probability))),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    };
    let stored = model.insert(conn).await.map_err(db)?;
    let mut deltas = Deltas::default();
    deltas.deal(&stored, 1);
    deltas.apply(conn).await.map_err(db)?;
    journal::write::<deals::Entity, _>(conn, "created", None, Some(stored.clone())).await?;
    Ok(stored)
}

#[async_trait]
impl Store<Deals> for SqlDeals {
    /// Totals without search, dates or other filters than the status come from the summary
    /// counters (a million deals are not counted per request).
    async fn list(&self, query: &ListQuery) -> Result<Page<DealView>> {
        let mut select = deals::Entity::find().filter(live::<deals::Entity>());
        let mut statuses: Option<Vec<&'static str>> = None;
        for (name, value) in &query.filters {
            match (*name, value) {
                ("status", FilterValue::Text(label)) => {
                    statuses = Some(DealStatus::of_rest(label).iter().map(|s| s.as_str()).collect());
                }
                (V1_STATUS, FilterValue::Text(s)) => {
                    statuses = DealStatus::parse(s).map(|s| vec![s.as_str()]);
                }
                _ => {}
            }
        }
        if let Some(statuses) = &statuses {
            select = select.filter(deals::Column::Status.is_in(statuses.clone()));
        }
        let plain = query.search.is_none()
            && query.created_after.is_none()
            && query.created_before.is_none()
            && query.filters.iter().all(|(n, _)| *n == "status" || *n == V1_STATUS);
        let total = match (plain, &statuses) {
            (true, None) => Some(counter_total(&self.db, "deals:").await.map_err(db)?),
            (true, Some(statuses)) => {
                let keys: Vec<String> = statuses.iter().map(|s| deals_key(s)).collect();
                Some(count_sum(&self.db, &keys).await.map_err(db)?)
            }
            _ => None,
        };
        let page = listing::page(&self.db, select, &DEALS, query, total).await?;
        let (request, total) = (page.request, page.total);
        Ok(Page { items: deal_views(&self.db, page.items).await?, total, request })
    }

    async fn get(&self, id: i64) -> Result<Option<DealView>> {
        deal_detail(&self.db, id).await
    }

    async fn insert(&self, d: DealDraft) -> Result<DealView> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = insert_deal(&txn, d, Utc::now()).await?;
        let view = deal_detail(&txn, stored.id).await?;
        txn.commit().await.map_err(db)?;
        view.ok_or_else(|| CrmError::Internal("a stored deal vanished".into()))
    }

    async fn update(&self, id: i64, c: DealChanges) -> Result<Option<DealView>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = lock(&txn, id).await? else { return Ok(None) };
        let now = Utc::now();
        let mut next = current.clone();
        let old = to_deal(current.clone());
        let status = match (c.status, c.reopen) {
            (Some(s), _) => s,
            (None, true) => DealStatus::from_rest("Open", Some(old.status)),
            (None, false) => old.status,
        };
        crm_core::deal::check_close_date(status, c.close_date.flatten(), now)?;
        if status != old.status || c.close_date.is_some() {
            next.closed_at = closed_at_after(old.status, old.closed_at, status, c.close_date.flatten(), now);
        }
        next.status = status.as_str().to_string();
        if let Some(v) = c.title {
            next.title = v;
        }
        if let Some(v) = c.description {
            next.description = v;
        }
        if let Some(v) = c.value {
            next.value_cents = to_cents(v);
        }
        if let Some(v) = c.customer_id {
            next.customer_id = v;
        }
        if let Some(v) = c.user_id {
            next.user_id = v;
        }
        if let Some(v) = c.contact_id {
            next.contact_id = v;
        }
        if let Some(v) = c.expected_close_date {
            next.expected_close_date = v;
        }
        if let Some(v) = c.probability {
            next.probability = v;
        }
        if let Some(stage) = c.stage_id.filter(|s| Some(*s) != current.stage_id) {
            active_stage(&txn, stage)
                .await?
                .ok_or_else(|| CrmError::field("stage", "Choose a live, active pipeline stage."))?;
            record_move(&txn, id, current.stage_id, stage, None, None, now).await?;
            next.stage_id = Some(stage);
        }
        let contact_checked = c.contact_id.is_some() || c.customer_id.is_some();
        check_deal(&txn, next.customer_id, next.contact_id.filter(|_| contact_checked), c.user_id.flatten()).await?;
        next.updated_at = now;
        let stored = save(&txn, current, next).await?;
        let view = deal_detail(&txn, stored.id).await?;
        txn.commit().await.map_err(db)?;
        Ok(view)
    }

    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = lock(&txn, id).await? else { return Ok(false) };
        let mut deltas = Deltas::default();
        deltas.deal(&current, -1);
        journal::write::<deals::Entity, _>(&txn, "deleted", Some(current), None).await?;
        listing::soft_delete(&txn, "deals", id, at).await?;
        deltas.apply(&txn).await.map_err(db)?;
        txn.commit().await.map_err(db)?;
        Ok(true)
    }

    /// A deal of a deleted account stays deleted until its account is restored.
    async fn restore(&self, id: i64) -> Result<Option<DealView>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let found = deals::Entity::find_by_id(id)
            .filter(deals::Column::DeletedAt.is_not_null())
            .lock_exclusive()
            .one(&txn)
            .await
            .map_err(db)?;
        let Some(found) = found else { return Ok(None) };
        let account_live = customers::Entity::find_by_id(found.customer_id)
            .filter(customers::Column::DeletedAt.is_null())
            .count(&txn)
            .await
            .map_err(db)?;
        if account_live == 0 {
            return Err(CrmError::Conflict("Restore the deal's account first.".into()));
        }
        listing::undelete(&txn, "deals", id).await?;
        let mut deltas = Deltas::default();
        deltas.deal(&found, 1);
        deltas.apply(&txn).await.map_err(db)?;
        let restored = deals::Model { deleted_at: None, ..found };
        journal::write::<deals::Entity, _>(&txn, "restored", None, Some(restored)).await?;
        let view = deal_detail(&txn, id).await?;
        txn.commit().await.map_err(db)?;
        Ok(view)
    }
}

#[async_trait]
impl DealMoves for SqlDeals {
    async fn change_stage(
        &self,
        id: i64,
        stage_id: i64,
        notes: Option<String>,
        by: i64,
        at: DateTime<Utc>,
    ) -> Result<Move> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = lock(&txn, id).await? else { return Ok(Move::DealNotFound) };
        let Some(stage) = active_stage(&txn, stage_id).await? else { return Ok(Move::BadStage) };
        record_move(&txn, id, current.stage_id, stage_id, notes, Some(by), at).await?;
        let mut next = current.clone();
        next.stage_id = Some(stage_id);
        if DealStatus::parse(&current.status).is_some_and(DealStatus::is_open) {
            next.probability = Some(stage.probability);
        }
        next.updated_at = at;
        save(&txn, current, next).await?;
        let view = deal_detail(&txn, id).await?;
        txn.commit().await.map_err(db)?;
        Ok(view.map_or(Move::DealNotFound, |v| Move::Done(Box::new(v))))
    }

    async fn close(
        &self,
        id: i64,
        status: DealStatus,
        close_date: NaiveDate,
        notes: Option<String>,
        by: i64,
        at: DateTime<Utc>,
    ) -> Result<Move> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = lock(&txn, id).await? else { return Ok(Move::DealNotFound) };
        if !DealStatus::parse(&current.status).is_some_and(DealStatus::is_open) {
            return Ok(Move::AlreadyClosed);
        }
        let mut next = current.clone();
        next.status = status.as_str().to_string();
        next.closed_at = Some(closing_instant(close_date, at));
        next.probability = Some(if status == DealStatus::Completed { 100 } else { 0 });
        next.updated_at = at;
        let stored = save(&txn, current, next).await?;
        let won = status == DealStatus::Completed;
        let log = ActivityDraft {
            kind: ActivityType::Deal,
            subject: Some(if won { "Deal won" } else { "Deal lost" }.to_string()),
            description: notes
                .unwrap_or_else(|| format!("{} was marked {}.", stored.title, if won { "won" } else { "lost" })),
            status: crm_core::activity::DONE,
            due_date: None,
            owner_id: Some(by),
            account_id: Some(stored.customer_id),
            contact_id: stored.contact_id,
            lead_id: None,
            deal_id: Some(id),
        };
        record_activity(&txn, log, at).await.map_err(db)?;
        let view = deal_detail(&txn, id).await?;
        txn.commit().await.map_err(db)?;
        Ok(view.map_or(Move::DealNotFound, |v| Move::Done(Box::new(v))))
    }
}

const STAGES: Listing = Listing {
    columns: &[
        ("is_active", "is_active"),
        ("order", "sort_order"),
        ("name", "name"),
        ("probability", "probability"),
        ("created_at", "created_at"),
    ],
    search: &["name", "description"],
};

fn to_stage(m: stages::Model) -> Stage {
    Stage {
        id: m.id,
        name: m.name,
        description: m.description,
        order: m.sort_order,
        is_active: m.is_active,
        probability: m.probability,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

async fn check_stage_name<C: ConnectionTrait>(conn: &C, name: &str, except: Option<i64>) -> Result<()> {
    listing::refuse_taken_name(conn, "pipeline_stages", "stage", name, except).await
}

#[async_trait]
impl Store<Stages> for SqlDeals {
    async fn list(&self, query: &ListQuery) -> Result<Page<Stage>> {
        let select = stages::Entity::find().filter(live::<stages::Entity>());
        Ok(listing::page(&self.db, select, &STAGES, query, None).await?.map(to_stage))
    }

    async fn get(&self, id: i64) -> Result<Option<Stage>> {
        let found = listing::live_row::<stages::Entity, _>(&self.db, id).await?;
        Ok(found.map(to_stage))
    }

    async fn insert(&self, d: StageDraft) -> Result<Stage> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        check_stage_name(&txn, &d.name, None).await?;
        let now = Utc::now();
        let stored = stages::ActiveModel {
            name_key: Set(d.name.to_lowercase()),
            name: Set(d.name),
            description: Set(d.description),
            sort_order: Set(d.order),
            is_active: Set(d.is_active),
            probability: Set(d.probability),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(conflict_if_unique("A stage with this name already exists."))?;
        journal::write::<stages::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(to_stage(stored))
    }

    async fn update(&self, id: i64, c: StageChanges) -> Result<Option<Stage>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = listing::live_row_locked::<stages::Entity, _>(&txn, id).await? else { return Ok(None) };
        let mut model: stages::ActiveModel = current.clone().into();
        if let Some(v) = c.name {
            check_stage_name(&txn, &v, Some(id)).await?;
            model.name_key = Set(v.to_lowercase());
            model.name = Set(v);
        }
        if let Some(v) = c.description {
            model.description = Set(v);
        }
        if let Some(v) = c.order {
            model.sort_order = Set(v);
        }
        if let Some(v) = c.is_active {
            model.is_active = Set(v);
        }
        if let Some(v) = c.probability {
            model.probability = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let stored = model.update(&txn).await.map_err(conflict_if_unique("A stage with this name already exists."))?;
        journal::write::<stages::Entity, _>(&txn, "updated", Some(current), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(Some(to_stage(stored)))
    }

    /// A stage live deals use stays (409 with their count); it can be deactivated instead.
    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let in_use = |n| format!("{n} deal(s) are at this stage; move them or deactivate the stage instead.");
        listing::soft_delete_unused::<stages::Entity>(&self.db, id, at, &[("deals", "stage_id")], in_use).await
    }

    async fn restore(&self, id: i64) -> Result<Option<Stage>> {
        if listing::restore_journaled::<stages::Entity>(&self.db, id, false).await? {
            <Self as Store<Stages>>::get(self, id).await
        } else {
            Ok(None)
        }
    }
}

journal::journaled_as_stored!(stages::Entity, "pipeline_stage", hide: ["name_key"]);
