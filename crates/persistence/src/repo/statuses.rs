//! The customer-status catalog over sea-orm (read by the CRM, managed by the CEO).

use crate::entity::customer_statuses;
use crate::error::{db, is_unique_violation};
use crate::repo::begin_write;
use crate::repo::catalog::{Held, Prepared};
use crate::repo::journal;
use crate::repo::listing;
use crate::repo::summaries::{Deltas, customers_key};
use async_trait::async_trait;
use chrono::Utc;
use crm_core::Result;
use crm_core::ports::{StatusCatalog, StatusEntry};
use management_core::catalog::{DEFAULT_GROUP, DeleteOutcome, EntryDraft, EntryPatch, Status, StatusGroup};
use management_core::ports::StatusRepository;
use management_core::{ManagementError, Result as MgmtResult};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, QueryOrder, Set};

/// Live customers hold a status by name.
const HOLDERS: Held = Held {
    catalog: "customer_statuses",
    kind: "customer_status",
    holders: "customers",
    column: "status",
    live_only: true,
};

/// [`StatusCatalog`] over `customer_statuses`.
#[derive(Clone)]
pub struct SqlStatuses {
    db: DatabaseConnection,
}

impl SqlStatuses {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlStatuses { db }
    }

    /// Every status, in the catalog's order.
    async fn rows(&self) -> Result<Vec<customer_statuses::Model>> {
        customer_statuses::Entity::find()
            .order_by_asc(customer_statuses::Column::SortOrder)
            .order_by_asc(customer_statuses::Column::Id)
            .all(&self.db)
            .await
            .map_err(db)
    }
}

#[async_trait]
impl StatusCatalog for SqlStatuses {
    async fn statuses(&self) -> Result<Vec<StatusEntry>> {
        Ok(self
            .rows()
            .await?
            .into_iter()
            .map(|r| StatusEntry { group: group_of(&r.v1_group), name: r.name, is_active: r.is_active })
            .collect())
    }
}

/// The group stored for a status (unknown values read as the default group).
pub fn group_of(stored: &str) -> StatusGroup {
    StatusGroup::parse(stored).unwrap_or(DEFAULT_GROUP)
}

/// The domain view of a stored status.
fn to_status(m: customer_statuses::Model) -> Status {
    Status {
        id: m.id,
        name: m.name,
        display_name: m.display_name,
        description: m.description,
        color: m.color,
        order: m.sort_order,
        group: group_of(&m.v1_group),
        is_active: m.is_active,
        is_system: m.is_system,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

#[async_trait]
impl StatusRepository for SqlStatuses {
    async fn list(&self) -> MgmtResult<Vec<Status>> {
        Ok(self.rows().await?.into_iter().map(to_status).collect())
    }

    async fn get(&self, id: i64) -> MgmtResult<Option<Status>> {
        Ok(customer_statuses::Entity::find_by_id(id).one(&self.db).await.map_err(db)?.map(to_status))
    }

    async fn insert(&self, d: EntryDraft) -> MgmtResult<Status> {
        let now = Utc::now();
        let model = customer_statuses::ActiveModel {
            name: Set(d.name),
            display_name: Set(d.display_name),
            description: Set(d.description),
            color: Set(d.color),
            sort_order: Set(d.order),
            v1_group: Set(d.group.as_str().to_string()),
            is_active: Set(d.is_active),
            is_system: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = model.insert(&txn).await.map_err(|e| {
            if is_unique_violation(&e) { ManagementError::Conflict("duplicate status name".into()) } else { db(e) }
        })?;
        journal::write::<customer_statuses::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(to_status(stored))
    }

    async fn update(&self, id: i64, p: EntryPatch) -> MgmtResult<Option<Status>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = listing::live_row_locked::<customer_statuses::Entity, _>(&txn, id).await? else {
            return Ok(None);
        };
        let mut model: customer_statuses::ActiveModel = current.clone().into();
        if let Some(v) = p.display_name {
            model.display_name = Set(v);
        }
        if let Some(v) = p.description {
            model.description = Set(v);
        }
        if let Some(v) = p.color {
            model.color = Set(v);
        }
        if let Some(v) = p.order {
            model.sort_order = Set(v);
        }
        if let Some(v) = p.group {
            model.v1_group = Set(v);
        }
        if let Some(v) = p.is_active {
            model.is_active = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let stored = model.update(&txn).await.map_err(db)?;
        journal::write::<customer_statuses::Entity, _>(&txn, "updated", Some(current), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(Some(to_status(stored)))
    }

    async fn delete(&self, id: i64, reassign_to: Option<String>) -> MgmtResult<DeleteOutcome> {
        let removal = match HOLDERS.prepare(&self.db, id, reassign_to.as_deref()).await? {
            Prepared::Refused(outcome) => return Ok(outcome),
            Prepared::Ready(removal) => removal,
        };
        if let Some((target, moved)) = &removal.moved {
            let mut deltas = Deltas::default();
            deltas.count(customers_key(&removal.name), -(*moved as i64));
            deltas.count(customers_key(target), *moved as i64);
            deltas.apply(&removal.txn).await.map_err(db)?;
        }
        HOLDERS.finish(removal, id).await
    }
}

journal::journaled_as_stored!(customer_statuses::Entity, "customer_status");
