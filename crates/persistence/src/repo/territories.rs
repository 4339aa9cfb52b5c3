//! Territories over sea-orm, and assigning accounts to them.

use crate::entity::{customers, territories};
use crate::error::{conflict_if_unique, db};
use crate::repo::begin_write;
use crate::repo::journal::{self, Change};
use crate::repo::listing::{self, Listing, live};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::Result;
use crm_core::records::Store;
use crm_core::territories::{
    AssignOutcome, Territories, Territory, TerritoryAssignments, TerritoryChanges, TerritoryDraft,
};
use kernel::{ListQuery, Page, Ref};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};

/// [`Store`] of territories over `territories`.
#[derive(Clone)]
pub struct SqlTerritories {
    db: DatabaseConnection,
}

impl SqlTerritories {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlTerritories { db }
    }
}

const LISTING: Listing = Listing {
    columns: &[
        ("is_active", "is_active"),
        ("name", "name"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    search: &["name", "description"],
};

fn to_territory(m: territories::Model) -> Territory {
    Territory {
        id: m.id,
        name: m.name,
        description: m.description,
        is_active: m.is_active,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// Refuses a name another live territory has (case-insensitive).
async fn check_name<C: ConnectionTrait>(conn: &C, name: &str, except: Option<i64>) -> Result<()> {
    listing::refuse_taken_name(conn, "territories", "territory", name, except).await
}

#[async_trait]
impl Store<Territories> for SqlTerritories {
    async fn list(&self, query: &ListQuery) -> Result<Page<Territory>> {
        let select = territories::Entity::find().filter(live::<territories::Entity>());
        Ok(listing::page(&self.db, select, &LISTING, query, None).await?.map(to_territory))
    }

    async fn get(&self, id: i64) -> Result<Option<Territory>> {
        let found = listing::live_row::<territories::Entity, _>(&self.db, id).await?;
        Ok(found.map(to_territory))
    }

    async fn insert(&self, d: TerritoryDraft) -> Result<Territory> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        check_name(&txn, &d.name, None).await?;
        let now = Utc::now();
        let stored = territories::ActiveModel {
            name_key: Set(d.name.to_lowercase()),
            name: Set(d.name),
            description: Set(d.description),
            is_active: Set(d.is_active),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(conflict_if_unique("A territory with this name already exists."))?;
        journal::write::<territories::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(to_territory(stored))
    }

    async fn update(&self, id: i64, c: TerritoryChanges) -> Result<Option<Territory>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = listing::live_row_locked::<territories::Entity, _>(&txn, id).await? else {
            return Ok(None);
        };
        let mut model: territories::ActiveModel = current.clone().into();
        if let Some(name) = c.name {
            check_name(&txn, &name, Some(id)).await?;
            model.name_key = Set(name.to_lowercase());
            model.name = Set(name);
        }
        if let Some(v) = c.description {
            model.description = Set(v);
        }
        if let Some(v) = c.is_active {
            model.is_active = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let stored =
            model.update(&txn).await.map_err(conflict_if_unique("A territory with this name already exists."))?;
        journal::write::<territories::Entity, _>(&txn, "updated", Some(current), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(Some(to_territory(stored)))
    }

    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        listing::delete_journaled::<territories::Entity>(&self.db, id, at, false).await
    }

    async fn restore(&self, id: i64) -> Result<Option<Territory>> {
        if listing::restore_journaled::<territories::Entity>(&self.db, id, false).await? {
            self.get(id).await
        } else {
            Ok(None)
        }
    }
}

#[async_trait]
impl TerritoryAssignments for SqlTerritories {
    async fn assign(&self, territory_id: i64, account_ids: Vec<i64>) -> Result<Option<AssignOutcome>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let territory = territories::Entity::find_by_id(territory_id)
            .filter(live::<territories::Entity>())
            .lock_exclusive()
            .one(&txn)
            .await
            .map_err(db)?;
        let Some(territory) = territory else { return Ok(None) };
        let found: Vec<i64> = customers::Entity::find()
            .select_only()
            .column(customers::Column::Id)
            .filter(customers::Column::Id.is_in(account_ids.clone()))
            .filter(customers::Column::DeletedAt.is_null())
            .into_tuple()
            .all(&txn)
            .await
            .map_err(db)?;
        let unknown: Vec<i64> = account_ids.iter().copied().filter(|id| !found.contains(id)).collect();
        if !unknown.is_empty() {
            return Ok(Some(AssignOutcome::Unknown(unknown)));
        }
        let done = customers::Entity::update_many()
            .col_expr(customers::Column::TerritoryId, Expr::value(territory_id))
            .col_expr(customers::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(customers::Column::Id.is_in(account_ids.clone()))
            .exec(&txn)
            .await
            .map_err(db)?;
        let assigned = Change::audit("territory", territory_id, "assigned")
            .with_values(None, Some(serde_json::json!({"accounts": account_ids})));
        journal::record(&txn, assigned).await?;
        txn.commit().await.map_err(db)?;
        Ok(Some(AssignOutcome::Assigned {
            count: done.rows_affected,
            territory: Ref { id: territory.id, name: territory.name },
        }))
    }
}

journal::journaled_as_stored!(territories::Entity, "territory", hide: ["name_key"]);
