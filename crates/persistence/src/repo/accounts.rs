//! Accounts over sea-orm: the REST projection of `customers` (the one customer record), so
//! an account is a v1 customer with the same summaries, rotation and soft delete.

use crate::entity::{customer_statuses, customers};
use crate::error::db;
use crate::repo::begin_write;
use crate::repo::customers::{add_customer, refuse_taken_email, remove_customer, restore_customer, unique_email};
use crate::repo::duplicates::refuse_merged_restore;
use crate::repo::journal;
use crate::repo::listing::{self, Listing, RefKind, check_references, live, lookup, names_of};
use crate::repo::summaries::{Deltas, counter_total, customers_key};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::accounts::{Account, AccountChanges, AccountDraft, Accounts};
use crm_core::customer::search_text;
use crm_core::fields::custom_fields_value;
use crm_core::records::Store;
use crm_core::{CrmError, Result};
use kernel::{ListQuery, Page};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};

/// [`Store`] of accounts over `customers`.
#[derive(Clone)]
pub struct SqlAccounts {
    db: DatabaseConnection,
}

impl SqlAccounts {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlAccounts { db }
    }
}

const LISTING: Listing = Listing {
    columns: &[
        ("account_type", "account_type"),
        ("industry", "industry"),
        ("territory", "territory_id"),
        ("owner", "user_id"),
        ("status", "status"),
        ("name", "name"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    search: &["search_text"],
};

/// The accounts of `rows`, territories and owners embedded (one statement for both).
pub async fn account_views<C: ConnectionTrait>(conn: &C, rows: Vec<customers::Model>) -> Result<Vec<Account>> {
    let [territories, owners] = names_of(
        conn,
        [
            RefKind::territories(rows.iter().filter_map(|r| r.territory_id)),
            RefKind::users(rows.iter().filter_map(|r| r.user_id)),
        ],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|m| Account {
            id: m.id,
            name: m.name,
            account_type: m.account_type,
            industry: m.industry,
            phone: m.phone,
            email: m.email,
            website: m.website,
            territory: lookup(&territories, m.territory_id),
            custom_fields: custom_fields_value(&m.custom_fields),
            owner: lookup(&owners, m.user_id),
            status: m.status,
            channel: crm_core::accounts::Channel {
                platform: m.platform,
                username: m.username,
                chat_url: m.chat_url,
                conversation_language: m.conversation_language,
            },
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
        .collect())
}

/// Account rows as integrators see them (the REST JSON), in one statement for all.
pub async fn account_json<C: ConnectionTrait>(conn: &C, rows: Vec<customers::Model>) -> Result<Vec<serde_json::Value>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let views = account_views(conn, rows).await?;
    Ok(match journal::render() {
        Some(render) => views.iter().map(|a| render.account(a)).collect(),
        None => ids.into_iter().map(|id| serde_json::json!({"id": id})).collect(),
    })
}

#[async_trait]
impl journal::Journaled for customers::Entity {
    const KIND: &'static str = "account";
    async fn shown<C: ConnectionTrait>(conn: &C, rows: Vec<customers::Model>) -> Result<Vec<serde_json::Value>> {
        account_json(conn, rows).await
    }
    fn id_of(row: &customers::Model) -> i64 {
        row.id
    }
}

/// Journals an account's change (`before` and `after` as stored).
pub async fn journal_account<C: ConnectionTrait>(
    conn: &C,
    action: &'static str,
    before: Option<customers::Model>,
    after: Option<customers::Model>,
) -> Result<()> {
    journal::write::<customers::Entity, _>(conn, action, before, after).await
}

/// A live account.
pub async fn account_view<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<Account>> {
    let found = listing::live_row::<customers::Entity, _>(conn, id).await?;
    Ok(account_views(conn, found.into_iter().collect()).await?.pop())
}

/// The status must be an active one of the catalog.
async fn check_status<C: ConnectionTrait>(conn: &C, status: &str) -> Result<()> {
    let active: Vec<String> = customer_statuses::Entity::find()
        .select_only()
        .column(customer_statuses::Column::Name)
        .filter(customer_statuses::Column::IsActive.eq(true))
        .into_tuple()
        .all(conn)
        .await
        .map_err(db)?;
    if active.iter().any(|s| s == status) {
        return Ok(());
    }
    Err(CrmError::field("status", format!("\"{status}\" is not an active status; use one of: {}.", active.join(", "))))
}

async fn check_references_of<C: ConnectionTrait>(conn: &C, territory: Option<i64>, owner: Option<i64>) -> Result<()> {
    check_references(conn, &[("territory", "territories", true, territory), ("owner", "users", false, owner)]).await
}

/// A new account's row, ready to add.
pub fn account_row(d: AccountDraft, now: DateTime<Utc>) -> customers::ActiveModel {
    customers::ActiveModel {
        search_text: Set(search_text(&d.name, d.email.as_deref(), d.phone.as_deref(), None)),
        name: Set(d.name),
        email: Set(d.email),
        phone: Set(d.phone),
        company: Set(None),
        status: Set(d.status),
        value: Set(None),
        user_id: Set(d.owner_id),
        completed_cents: Set(0),
        account_type: Set(d.account_type),
        industry: Set(d.industry),
        website: Set(d.website),
        custom_fields: Set(d.custom_fields),
        territory_id: Set(d.territory_id),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    }
}

/// Stores a checked new account (references, status and e-mail checked; a sales manager
/// assigned), within the caller's transaction.
pub async fn insert_account<C: ConnectionTrait>(conn: &C, d: AccountDraft) -> Result<customers::Model> {
    check_references_of(conn, d.territory_id, d.owner_id).await?;
    check_status(conn, &d.status).await?;
    add_customer(conn, account_row(d, Utc::now())).await
}

/// Applies a checked change to the live account `id` (locked), within the caller's
/// transaction; `None` when there is no such account.
pub async fn update_account<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    c: AccountChanges,
) -> Result<Option<customers::Model>> {
    let Some(current) = listing::live_row_locked::<customers::Entity, _>(conn, id).await? else { return Ok(None) };
    check_references_of(conn, c.territory_id.flatten(), c.owner_id.flatten()).await?;
    if let Some(status) = &c.status {
        check_status(conn, status).await?;
    }
    if let Some(Some(email)) = &c.email
        && current.email.as_ref() != Some(email)
    {
        refuse_taken_email(conn, email, Some(id)).await?;
    }
    let mut next = current.clone();
    if let Some(v) = c.name {
        next.name = v;
    }
    if let Some(v) = c.account_type {
        next.account_type = v;
    }
    if let Some(v) = c.industry {
        next.industry = v;
    }
    if let Some(v) = c.phone {
        next.phone = v;
    }
    if let Some(v) = c.email {
        next.email = v;
    }
    if let Some(v) = c.website {
        next.website = v;
    }
    if let Some(v) = c.territory_id {
        next.territory_id = v;
    }
    if let Some(v) = c.custom_fields {
        next.custom_fields = v;
    }
    if let Some(v) = c.owner_id {
        next.user_id = v;
    }
    if let Some(v) = c.status {
        next.status = v;
    }
    next.search_text = search_text(&next.name, next.email.as_deref(), next.phone.as_deref(), next.company.as_deref());
    next.updated_at = Utc::now();
    if next.status != current.status {
        let mut deltas = Deltas::default();
        deltas.count(customers_key(&current.status), -1);
        deltas.count(customers_key(&next.status), 1);
        deltas.apply(conn).await.map_err(db)?;
    }
    let model: customers::ActiveModel = next.into();
    let stored = model.reset_all().update(conn).await.map_err(unique_email)?;
    journal_account(conn, "updated", Some(current), Some(stored.clone())).await?;
    Ok(Some(stored))
}

#[async_trait]
impl Store<Accounts> for SqlAccounts {
    /// Totals of the whole list come from the summary counters.
    async fn list(&self, query: &ListQuery) -> Result<Page<Account>> {
        let select = customers::Entity::find().filter(live::<customers::Entity>());
        let total = if listing::unfiltered(query) {
            Some(counter_total(&self.db, "customers:").await.map_err(db)?)
        } else {
            None
        };
        let page = listing::page(&self.db, select, &LISTING, query, total).await?;
        let (request, total) = (page.request, page.total);
        Ok(Page { items: account_views(&self.db, page.items).await?, total, request })
    }

    async fn get(&self, id: i64) -> Result<Option<Account>> {
        account_view(&self.db, id).await
    }

    async fn insert(&self, d: AccountDraft) -> Result<Account> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = insert_account(&txn, d).await?;
        txn.commit().await.map_err(db)?;
        Ok(account_views(&self.db, vec![stored]).await?.remove(0))
    }

    async fn update(&self, id: i64, c: AccountChanges) -> Result<Option<Account>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(stored) = update_account(&txn, id, c).await? else { return Ok(None) };
        txn.commit().await.map_err(db)?;
        Ok(account_views(&self.db, vec![stored]).await?.pop())
    }

    /// Its deals and activities leave with it.
    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let removed = remove_customer(&txn, id, at).await?;
        txn.commit().await.map_err(db)?;
        Ok(removed)
    }

    /// Its deals and activities deleted with it come back with it.
    async fn restore(&self, id: i64) -> Result<Option<Account>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        refuse_merged_restore(&txn, "customers", "Account", id).await?;
        let restored = restore_customer(&txn, id).await?;
        txn.commit().await.map_err(db)?;
        if restored { self.get(id).await } else { Ok(None) }
    }
}
