//! Deals over sea-orm, each with its customer embedded.

use crate::entity::deals;
use crate::error::db;
use crate::repo::begin_write;
use crate::repo::customers::customer_refs;
use crate::repo::summaries::{Deltas, count_of, counter_total, deals_key};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::Result;
use crm_core::deal::{Deal, DealChanges, DealDraft, DealFilter, DealStatus, DealView};
use crm_core::ports::DealRepository;
use kernel::{Page, PageRequest};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// [`DealRepository`] over `deals`.
#[derive(Clone)]
pub struct SqlDeals {
    db: DatabaseConnection,
}

impl SqlDeals {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlDeals { db }
    }

    /// Attaches the customers of `rows` with one query.
    async fn views(&self, rows: Vec<deals::Model>) -> Result<Vec<DealView>> {
        let refs = customer_refs(&self.db, rows.iter().map(|d| d.customer_id)).await?;
        Ok(rows
            .into_iter()
            .map(|m| {
                let customer = refs.iter().find(|c| c.id == m.customer_id).cloned();
                DealView { deal: to_deal(m), customer }
            })
            .collect())
    }

    async fn view(&self, id: i64) -> Result<Option<DealView>> {
        let found =
            deals::Entity::find_by_id(id).filter(deals::Column::DeletedAt.is_null()).one(&self.db).await.map_err(db)?;
        Ok(self.views(found.into_iter().collect()).await?.pop())
    }
}

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
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

#[async_trait]
impl DealRepository for SqlDeals {
    async fn list(&self, filter: &DealFilter, page: PageRequest) -> Result<Page<DealView>> {
        let mut query = deals::Entity::find().filter(deals::Column::DeletedAt.is_null());
        if let Some(status) = filter.status {
            query = query.filter(deals::Column::Status.eq(status.as_str()));
        }
        if let Some(customer_id) = filter.customer_id {
            query = query.filter(deals::Column::CustomerId.eq(customer_id));
        }
        let total = match (filter.customer_id, filter.status) {
            (Some(_), _) => query.clone().count(&self.db).await.map_err(db)?,
            (None, Some(status)) => count_of(&self.db, &deals_key(status.as_str())).await.map_err(db)?,
            (None, None) => counter_total(&self.db, "deals:").await.map_err(db)?,
        };
        let rows = query
            .order_by_desc(deals::Column::CreatedAt)
            .order_by_desc(deals::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(Page { items: self.views(rows).await?, total, request: page })
    }

    async fn get(&self, id: i64) -> Result<Option<DealView>> {
        self.view(id).await
    }

    async fn insert(&self, d: DealDraft) -> Result<DealView> {
        let now = Utc::now();
        let model = deals::ActiveModel {
            title: Set(d.title),
            description: Set(d.description),
            value_cents: Set(to_cents(d.value)),
            status: Set(d.status.as_str().to_string()),
            customer_id: Set(d.customer_id),
            user_id: Set(d.user_id),
            closed_at: Set(d.closed_at),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        };
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = model.insert(&txn).await.map_err(db)?;
        let mut deltas = Deltas::default();
        deltas.deal(&stored, 1);
        deltas.apply(&txn).await.map_err(db)?;
        txn.commit().await.map_err(db)?;
        Ok(self.views(vec![stored]).await?.remove(0))
    }

    async fn update(&self, id: i64, c: DealChanges) -> Result<Option<DealView>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let current = deals::Entity::find_by_id(id)
            .filter(deals::Column::DeletedAt.is_null())
            .lock_exclusive()
            .one(&txn)
            .await
            .map_err(db)?;
        let Some(current) = current else { return Ok(None) };
        let mut deltas = Deltas::default();
        deltas.deal(&current, -1);
        let mut model: deals::ActiveModel = current.into();
        if let Some(v) = c.title {
            model.title = Set(v);
        }
        if let Some(v) = c.description {
            model.description = Set(v);
        }
        if let Some(v) = c.value {
            model.value_cents = Set(to_cents(v));
        }
        if let Some(v) = c.status {
            model.status = Set(v.as_str().to_string());
        }
        if let Some(v) = c.customer_id {
            model.customer_id = Set(v);
        }
        if let Some(v) = c.closed_at {
            model.closed_at = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let stored = model.update(&txn).await.map_err(db)?;
        deltas.deal(&stored, 1);
        deltas.apply(&txn).await.map_err(db)?;
        txn.commit().await.map_err(db)?;
        Ok(self.views(vec![stored]).await?.pop())
    }

    async fn soft_delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let current = deals::Entity::find_by_id(id)
            .filter(deals::Column::DeletedAt.is_null())
            .lock_exclusive()
            .one(&txn)
            .await
            .map_err(db)?;
        let Some(current) = current else { return Ok(false) };
        deals::Entity::update_many()
            .col_expr(deals::Column::DeletedAt, Expr::value(at))
            .filter(deals::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(db)?;
        let mut deltas = Deltas::default();
        deltas.deal(&current, -1);
        deltas.apply(&txn).await.map_err(db)?;
        txn.commit().await.map_err(db)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn cents_round_trip() {
        for v in ["0", "0.01", "1500.50", "999999999999.99"] {
            let d = Decimal::from_str(v).unwrap();
            assert_eq!(from_cents(to_cents(d)), d);
        }
    }
}
