//! Companies and their members over sea-orm.

use crate::entity::{companies, company_members as members};
use crate::error::{conflict_if_unique, db};
use crate::repo::begin_write;
use crate::repo::journal;
use crate::repo::listing::{self, Listing, RefKind, live, lookup, names_of};
use crate::repo::statement;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::Result;
use crm_core::companies::{ADMIN, Companies, Company, CompanyChanges, CompanyDraft, CompanyMemberships, Membership};
use crm_core::records::Store;
use kernel::{ListQuery, Page};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, Set};
use std::collections::HashMap;

/// [`Store`] of companies; who belongs to them.
#[derive(Clone)]
pub struct SqlCompanies {
    db: DatabaseConnection,
}

impl SqlCompanies {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlCompanies { db }
    }
}

const LISTING: Listing = Listing {
    columns: &[
        ("is_active", "is_active"),
        ("name", "name"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    search: &["name"],
};

#[derive(FromQueryResult)]
struct MemberCount {
    company_id: i64,
    n: i64,
}

async fn company_views<C: ConnectionTrait>(conn: &C, rows: Vec<companies::Model>) -> Result<Vec<Company>> {
    let [owners] = names_of(conn, [RefKind::users(rows.iter().filter_map(|r| r.owner_id))]).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut counts = HashMap::new();
    if !ids.is_empty() {
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT company_id, COUNT(*) AS n FROM company_members WHERE company_id IN ({}) GROUP BY company_id",
            placeholders.join(", ")
        );
        let values = ids.iter().map(|id| (*id).into()).collect();
        let stmt = statement(conn.get_database_backend(), &sql, values);
        for row in MemberCount::find_by_statement(stmt).all(conn).await.map_err(db)? {
            counts.insert(row.company_id, row.n.max(0) as u64);
        }
    }
    Ok(rows
        .into_iter()
        .map(|m| Company {
            members: counts.get(&m.id).copied().unwrap_or(0),
            id: m.id,
            name: m.name,
            description: m.description,
            industry: m.industry,
            website: m.website,
            phone: m.phone,
            email: m.email,
            is_active: m.is_active,
            owner: lookup(&owners, m.owner_id),
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
        .collect())
}

async fn check_name<C: ConnectionTrait>(conn: &C, name: &str, except: Option<i64>) -> Result<()> {
    listing::refuse_taken_name(conn, "companies", "company", name, except).await
}

/// Stores a company and makes its owner its admin member.
async fn insert_company<C: ConnectionTrait>(conn: &C, d: CompanyDraft) -> Result<companies::Model> {
    check_name(conn, &d.name, None).await?;
    let now = Utc::now();
    let stored = companies::ActiveModel {
        name_key: Set(d.name.to_lowercase()),
        name: Set(d.name),
        description: Set(d.description),
        industry: Set(d.industry),
        website: Set(d.website),
        phone: Set(d.phone),
        email: Set(d.email),
        is_active: Set(d.is_active),
        owner_id: Set(Some(d.owner_id)),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(conflict_if_unique("A company with this name already exists."))?;
    members::ActiveModel {
        company_id: Set(stored.id),
        user_id: Set(d.owner_id),
        role: Set(ADMIN.into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(db)?;
    journal::write::<companies::Entity, _>(conn, "created", None, Some(stored.clone())).await?;
    Ok(stored)
}

#[async_trait]
impl Store<Companies> for SqlCompanies {
    async fn list(&self, query: &ListQuery) -> Result<Page<Company>> {
        let select = companies::Entity::find().filter(live::<companies::Entity>());
        let page = listing::page(&self.db, select, &LISTING, query, None).await?;
        let (request, total) = (page.request, page.total);
        Ok(Page { items: company_views(&self.db, page.items).await?, total, request })
    }

    async fn get(&self, id: i64) -> Result<Option<Company>> {
        let found = listing::live_row::<companies::Entity, _>(&self.db, id).await?;
        Ok(company_views(&self.db, found.into_iter().collect()).await?.pop())
    }

    async fn insert(&self, d: CompanyDraft) -> Result<Company> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = insert_company(&txn, d).await?;
        let view = company_views(&txn, vec![stored]).await?.remove(0);
        txn.commit().await.map_err(db)?;
        Ok(view)
    }

    async fn update(&self, id: i64, c: CompanyChanges) -> Result<Option<Company>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = listing::live_row_locked::<companies::Entity, _>(&txn, id).await? else { return Ok(None) };
        let mut model: companies::ActiveModel = current.clone().into();
        if let Some(v) = c.name {
            check_name(&txn, &v, Some(id)).await?;
            model.name_key = Set(v.to_lowercase());
            model.name = Set(v);
        }
        if let Some(v) = c.description {
            model.description = Set(v);
        }
        if let Some(v) = c.industry {
            model.industry = Set(v);
        }
        if let Some(v) = c.website {
            model.website = Set(v);
        }
        if let Some(v) = c.phone {
            model.phone = Set(v);
        }
        if let Some(v) = c.email {
            model.email = Set(v);
        }
        if let Some(v) = c.is_active {
            model.is_active = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let stored =
            model.update(&txn).await.map_err(conflict_if_unique("A company with this name already exists."))?;
        journal::write::<companies::Entity, _>(&txn, "updated", Some(current), Some(stored.clone())).await?;
        let view = company_views(&txn, vec![stored]).await?.pop();
        txn.commit().await.map_err(db)?;
        Ok(view)
    }

    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        listing::delete_journaled::<companies::Entity>(&self.db, id, at, false).await
    }

    async fn restore(&self, id: i64) -> Result<Option<Company>> {
        if listing::restore_journaled::<companies::Entity>(&self.db, id, false).await? {
            self.get(id).await
        } else {
            Ok(None)
        }
    }
}

#[derive(FromQueryResult)]
struct MembershipRow {
    id: i64,
    name: String,
    role: String,
}

#[async_trait]
impl CompanyMemberships for SqlCompanies {
    async fn memberships_of(&self, user_id: i64) -> Result<Vec<Membership>> {
        let sql = "SELECT c.id, c.name, m.role FROM company_members m JOIN companies c ON c.id = m.company_id \
                   WHERE m.user_id = $1 AND c.deleted_at IS NULL ORDER BY c.name, c.id";
        let stmt = statement(self.db.get_database_backend(), sql, vec![user_id.into()]);
        let rows = MembershipRow::find_by_statement(stmt).all(&self.db).await.map_err(db)?;
        Ok(rows.into_iter().map(|r| Membership { id: r.id, name: r.name, role: r.role }).collect())
    }

    async fn check_name_free(&self, name: &str) -> Result<()> {
        check_name(&self.db, name, None).await
    }

    async fn found(&self, name: &str, admin: i64) -> Result<Company> {
        let draft = CompanyDraft {
            name: name.to_string(),
            description: None,
            industry: None,
            website: None,
            phone: None,
            email: None,
            is_active: true,
            owner_id: admin,
        };
        Store::<Companies>::insert(self, draft).await
    }
}

journal::journaled_as_stored!(companies::Entity, "company", hide: ["name_key"]);
