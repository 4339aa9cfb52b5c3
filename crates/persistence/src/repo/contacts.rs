//! Contacts over sea-orm: the people at an account, unique by e-mail and by phone.

use crate::entity::contacts;
use crate::error::{conflict_if_unique, db};
use crate::repo::begin_write;
use crate::repo::duplicates::refuse_merged_restore;
use crate::repo::journal;
use crate::repo::listing::{
    self, Listing, PERSON_NAME, RefKind, check_references, duplicates_of, live, lookup, names_of, refuse_duplicates,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::Result;
use crm_core::contacts::{Contact, ContactChanges, ContactDraft, Contacts, search_text};
use crm_core::fields::custom_fields_value;
use crm_core::records::Store;
use kernel::{Candidate, ListQuery, Page};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

/// [`Store`] of contacts over `contacts`.
#[derive(Clone)]
pub struct SqlContacts {
    db: DatabaseConnection,
}

impl SqlContacts {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlContacts { db }
    }
}

const LISTING: Listing = Listing {
    columns: &[
        ("account", "account_id"),
        ("title", "title"),
        ("owner", "owner_id"),
        ("first_name", "first_name"),
        ("last_name", "last_name"),
        ("email", "email"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    search: &["search_text"],
};

/// The contacts of `rows`, their accounts and owners embedded (one statement for both).
pub async fn contact_views<C: ConnectionTrait>(conn: &C, rows: Vec<contacts::Model>) -> Result<Vec<Contact>> {
    let [accounts, owners] = names_of(
        conn,
        [
            RefKind::accounts(rows.iter().filter_map(|r| r.account_id)),
            RefKind::users(rows.iter().filter_map(|r| r.owner_id)),
        ],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|m| Contact {
            id: m.id,
            first_name: m.first_name,
            last_name: m.last_name,
            email: m.email,
            phone: m.phone,
            title: m.title,
            account: lookup(&accounts, m.account_id),
            owner: lookup(&owners, m.owner_id),
            custom_fields: custom_fields_value(&m.custom_fields),
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
        .collect())
}

#[async_trait]
impl journal::Journaled for contacts::Entity {
    const KIND: &'static str = "contact";
    async fn shown<C: ConnectionTrait>(conn: &C, rows: Vec<contacts::Model>) -> Result<Vec<serde_json::Value>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let views = contact_views(conn, rows).await?;
        Ok(match journal::render() {
            Some(render) => views.iter().map(|c| render.contact(c)).collect(),
            None => ids.into_iter().map(|id| serde_json::json!({"id": id})).collect(),
        })
    }
    fn id_of(row: &contacts::Model) -> i64 {
        row.id
    }
}

/// A live contact.
pub async fn contact_view<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<Contact>> {
    let found = listing::live_row::<contacts::Entity, _>(conn, id).await?;
    Ok(contact_views(conn, found.into_iter().collect()).await?.pop())
}

/// Live contacts other than `except` with this e-mail or phone.
pub async fn contact_duplicates<C: ConnectionTrait>(
    conn: &C,
    email: Option<&str>,
    phone: Option<&str>,
    except: Option<i64>,
) -> Result<Vec<Candidate>> {
    duplicates_of(conn, "contacts", "contact", PERSON_NAME, &[("email", email), ("phone", phone)], except).await
}

/// Stores a checked new contact (its references and uniqueness already checked), counted.
pub async fn insert_contact<C: ConnectionTrait>(
    conn: &C,
    d: ContactDraft,
    now: DateTime<Utc>,
) -> Result<contacts::Model> {
    listing::count_live(conn, "contacts", 1).await?;
    let stored = contacts::ActiveModel {
        search_text: Set(search_text(&d.first_name, &d.last_name, d.email.as_deref(), d.phone.as_deref())),
        first_name: Set(d.first_name),
        last_name: Set(d.last_name),
        email: Set(d.email),
        phone: Set(d.phone),
        title: Set(d.title),
        account_id: Set(d.account_id),
        owner_id: Set(d.owner_id),
        custom_fields: Set(d.custom_fields),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(conflict_if_unique("A contact with this e-mail or phone already exists."))?;
    journal::write::<contacts::Entity, _>(conn, "created", None, Some(stored.clone())).await?;
    Ok(stored)
}

async fn check<C: ConnectionTrait>(
    conn: &C,
    account: Option<i64>,
    owner: Option<i64>,
    email: Option<&str>,
    phone: Option<&str>,
    except: Option<i64>,
) -> Result<()> {
    check_references(conn, &[("account", "customers", true, account), ("owner", "users", false, owner)]).await?;
    refuse_duplicates("e-mail or phone", contact_duplicates(conn, email, phone, except).await?)
}

/// Checks (references, duplicates) and stores a new contact within the caller's transaction.
pub async fn add_contact<C: ConnectionTrait>(conn: &C, d: ContactDraft) -> Result<contacts::Model> {
    check(conn, d.account_id, d.owner_id, d.email.as_deref(), d.phone.as_deref(), None).await?;
    insert_contact(conn, d, Utc::now()).await
}

/// Applies a checked change to the live contact `id` (locked) within the caller's
/// transaction; `None` when there is no such contact.
pub async fn update_contact<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    c: ContactChanges,
) -> Result<Option<contacts::Model>> {
    let Some(mut next) = listing::live_row_locked::<contacts::Entity, _>(conn, id).await? else { return Ok(None) };
    let current = next.clone();
    let email = c.email.clone().flatten();
    let phone = c.phone.clone().flatten();
    check(conn, c.account_id.flatten(), c.owner_id.flatten(), email.as_deref(), phone.as_deref(), Some(id)).await?;
    if let Some(v) = c.first_name {
        next.first_name = v;
    }
    if let Some(v) = c.last_name {
        next.last_name = v;
    }
    if let Some(v) = c.email {
        next.email = v;
    }
    if let Some(v) = c.phone {
        next.phone = v;
    }
    if let Some(v) = c.title {
        next.title = v;
    }
    if let Some(v) = c.account_id {
        next.account_id = v;
    }
    if let Some(v) = c.owner_id {
        next.owner_id = v;
    }
    if let Some(v) = c.custom_fields {
        next.custom_fields = v;
    }
    next.search_text = search_text(&next.first_name, &next.last_name, next.email.as_deref(), next.phone.as_deref());
    next.updated_at = Utc::now();
    let model: contacts::ActiveModel = next.into();
    let stored = model
        .reset_all()
        .update(conn)
        .await
        .map_err(conflict_if_unique("A contact with this e-mail or phone already exists."))?;
    journal::write::<contacts::Entity, _>(conn, "updated", Some(current), Some(stored.clone())).await?;
    Ok(Some(stored))
}

#[async_trait]
impl Store<Contacts> for SqlContacts {
    async fn list(&self, query: &ListQuery) -> Result<Page<Contact>> {
        let select = contacts::Entity::find().filter(live::<contacts::Entity>());
        let total = listing::live_total(&self.db, "contacts", query).await?;
        let page = listing::page(&self.db, select, &LISTING, query, total).await?;
        let (request, total) = (page.request, page.total);
        Ok(Page { items: contact_views(&self.db, page.items).await?, total, request })
    }

    async fn get(&self, id: i64) -> Result<Option<Contact>> {
        contact_view(&self.db, id).await
    }

    async fn insert(&self, d: ContactDraft) -> Result<Contact> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = add_contact(&txn, d).await?;
        txn.commit().await.map_err(db)?;
        Ok(contact_views(&self.db, vec![stored]).await?.remove(0))
    }

    async fn update(&self, id: i64, c: ContactChanges) -> Result<Option<Contact>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(stored) = update_contact(&txn, id, c).await? else { return Ok(None) };
        txn.commit().await.map_err(db)?;
        Ok(contact_views(&self.db, vec![stored]).await?.pop())
    }

    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        listing::delete_journaled::<contacts::Entity>(&self.db, id, at, true).await
    }

    async fn restore(&self, id: i64) -> Result<Option<Contact>> {
        refuse_merged_restore(&self.db, "contacts", "Contact", id).await?;
        if listing::restore_journaled::<contacts::Entity>(&self.db, id, true).await? {
            self.get(id).await
        } else {
            Ok(None)
        }
    }
}
