//! Activities over sea-orm, each with its customer embedded.

use crate::entity::activities;
use crate::error::db;
use crate::repo::begin_write;
use crate::repo::customers::customer_refs;
use crate::repo::summaries::{Deltas, activities_key, count_of, counter_total};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::Result;
use crm_core::activity::{Activity, ActivityDraft, ActivityFilter, ActivityType, ActivityView};
use crm_core::ports::ActivityRepository;
use kernel::{Page, PageRequest};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// Stores an activity and counts it in the summaries, inside the caller's transaction.
pub async fn record_activity<C: ConnectionTrait>(
    conn: &C,
    d: ActivityDraft,
    at: DateTime<Utc>,
) -> std::result::Result<activities::Model, DbErr> {
    let model = activities::ActiveModel {
        kind: Set(d.kind.as_str().to_string()),
        description: Set(d.description),
        customer_id: Set(d.customer_id),
        user_id: Set(d.user_id),
        created_at: Set(at),
        deleted_at: Set(None),
        ..Default::default()
    };
    let stored = model.insert(conn).await?;
    let mut deltas = Deltas::default();
    deltas.count(activities_key(&stored.kind), 1);
    deltas.apply(conn).await?;
    Ok(stored)
}

/// [`ActivityRepository`] over `activities`.
#[derive(Clone)]
pub struct SqlActivities {
    db: DatabaseConnection,
}

impl SqlActivities {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlActivities { db }
    }

    async fn views(&self, rows: Vec<activities::Model>) -> Result<Vec<ActivityView>> {
        let refs = customer_refs(&self.db, rows.iter().map(|a| a.customer_id)).await?;
        Ok(rows
            .into_iter()
            .map(|m| {
                let customer = refs.iter().find(|c| c.id == m.customer_id).cloned();
                ActivityView { activity: to_activity(m), customer }
            })
            .collect())
    }
}

fn to_activity(m: activities::Model) -> Activity {
    Activity {
        id: m.id,
        kind: ActivityType::parse(&m.kind).unwrap_or(ActivityType::Call),
        description: m.description,
        customer_id: m.customer_id,
        user_id: m.user_id,
        created_at: m.created_at,
    }
}

#[async_trait]
impl ActivityRepository for SqlActivities {
    async fn list(&self, filter: &ActivityFilter, page: PageRequest) -> Result<Page<ActivityView>> {
        let mut query = activities::Entity::find().filter(activities::Column::DeletedAt.is_null());
        if let Some(kind) = filter.kind {
            query = query.filter(activities::Column::Kind.eq(kind.as_str()));
        }
        if let Some(customer_id) = filter.customer_id {
            query = query.filter(activities::Column::CustomerId.eq(customer_id));
        }
        let total = match (filter.customer_id, filter.kind) {
            (Some(_), _) => query.clone().count(&self.db).await.map_err(db)?,
            (None, Some(kind)) => count_of(&self.db, &activities_key(kind.as_str())).await.map_err(db)?,
            (None, None) => counter_total(&self.db, "activities:").await.map_err(db)?,
        };
        let rows = query
            .order_by_desc(activities::Column::CreatedAt)
            .order_by_desc(activities::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(Page { items: self.views(rows).await?, total, request: page })
    }

    async fn get(&self, id: i64) -> Result<Option<ActivityView>> {
        let found = activities::Entity::find_by_id(id)
            .filter(activities::Column::DeletedAt.is_null())
            .one(&self.db)
            .await
            .map_err(db)?;
        Ok(self.views(found.into_iter().collect()).await?.pop())
    }

    async fn insert(&self, d: ActivityDraft) -> Result<ActivityView> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = record_activity(&txn, d, Utc::now()).await.map_err(db)?;
        txn.commit().await.map_err(db)?;
        Ok(self.views(vec![stored]).await?.remove(0))
    }

    async fn soft_delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let current = activities::Entity::find_by_id(id)
            .filter(activities::Column::DeletedAt.is_null())
            .lock_exclusive()
            .one(&txn)
            .await
            .map_err(db)?;
        let Some(current) = current else { return Ok(false) };
        activities::Entity::update_many()
            .col_expr(activities::Column::DeletedAt, Expr::value(at))
            .filter(activities::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(db)?;
        let mut deltas = Deltas::default();
        deltas.count(activities_key(&current.kind), -1);
        deltas.apply(&txn).await.map_err(db)?;
        txn.commit().await.map_err(db)?;
        Ok(true)
    }
}
