//! Customers over sea-orm.

use crate::entity::{activities, customers, deals};
use crate::error::{crm, is_unique_violation};
use crate::repo::like_pattern;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::customer::{
    Customer, CustomerChanges, CustomerDraft, CustomerFilter, CustomerSort, search_text,
};
use crm_core::deal::CustomerRef;
use crm_core::ports::CustomerRepository;
use crm_core::{CrmError, Result};
use kernel::{Page, PageRequest};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

/// [`CustomerRepository`] over `customers`.
#[derive(Clone)]
pub struct SqlCustomers {
    db: DatabaseConnection,
}

impl SqlCustomers {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlCustomers { db }
    }
}

/// The domain view of a stored customer.
pub fn to_customer(m: customers::Model) -> Customer {
    Customer {
        id: m.id,
        name: m.name,
        email: m.email,
        phone: m.phone,
        company: m.company,
        status: m.status,
        value: m.value,
        user_id: m.user_id,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn conflict_or_internal(e: sea_orm::DbErr) -> CrmError {
    if is_unique_violation(&e) {
        CrmError::Conflict("A customer with this e-mail already exists.".into())
    } else {
        crm(e)
    }
}

/// The `{id, name, company}` of customers, for embedding in deal and activity lists
/// (one query for any number of rows).
pub async fn customer_refs<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<CustomerRef>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, String, Option<String>)> = customers::Entity::find()
        .select_only()
        .columns([
            customers::Column::Id,
            customers::Column::Name,
            customers::Column::Company,
        ])
        .filter(customers::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await
        .map_err(crm)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, company)| CustomerRef { id, name, company })
        .collect())
}

fn live() -> sea_orm::sea_query::SimpleExpr {
    customers::Column::DeletedAt.is_null()
}

#[async_trait]
impl CustomerRepository for SqlCustomers {
    async fn list(&self, filter: &CustomerFilter, page: PageRequest) -> Result<Page<Customer>> {
        let mut query = customers::Entity::find().filter(live());
        if let Some(status) = &filter.status {
            query = query.filter(customers::Column::Status.eq(status.as_str()));
        }
        if let Some(search) = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let pattern = like_pattern(search);
            query = query.filter(
                Expr::col(customers::Column::SearchText).like(LikeExpr::new(pattern).escape('\\')),
            );
        }
        let total = query.clone().count(&self.db).await.map_err(crm)?;
        let column = match filter.sort.key {
            CustomerSort::Name => customers::Column::Name,
            CustomerSort::Email => customers::Column::Email,
            CustomerSort::Company => customers::Column::Company,
            CustomerSort::Status => customers::Column::Status,
            CustomerSort::CreatedAt => customers::Column::CreatedAt,
            CustomerSort::UpdatedAt => customers::Column::UpdatedAt,
        };
        let order = if filter.sort.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        let rows = query
            .order_by(column, order.clone())
            .order_by(customers::Column::Id, order)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await
            .map_err(crm)?;
        Ok(Page {
            items: rows.into_iter().map(to_customer).collect(),
            total,
            request: page,
        })
    }

    async fn get(&self, id: i64) -> Result<Option<Customer>> {
        let found = customers::Entity::find_by_id(id)
            .filter(live())
            .one(&self.db)
            .await
            .map_err(crm)?;
        Ok(found.map(to_customer))
    }

    async fn insert(&self, d: CustomerDraft) -> Result<Customer> {
        let now = Utc::now();
        let model = customers::ActiveModel {
            search_text: Set(search_text(
                &d.name,
                d.email.as_deref(),
                d.phone.as_deref(),
                d.company.as_deref(),
            )),
            name: Set(d.name),
            email: Set(d.email),
            phone: Set(d.phone),
            company: Set(d.company),
            status: Set(d.status),
            value: Set(d.value),
            user_id: Set(d.user_id),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        };
        model
            .insert(&self.db)
            .await
            .map(to_customer)
            .map_err(conflict_or_internal)
    }

    async fn update(&self, id: i64, c: CustomerChanges) -> Result<Option<Customer>> {
        let Some(current) = customers::Entity::find_by_id(id)
            .filter(live())
            .one(&self.db)
            .await
            .map_err(crm)?
        else {
            return Ok(None);
        };
        let mut next = current.clone();
        if let Some(v) = c.name {
            next.name = v;
        }
        if let Some(v) = c.email {
            next.email = v;
        }
        if let Some(v) = c.phone {
            next.phone = v;
        }
        if let Some(v) = c.company {
            next.company = v;
        }
        if let Some(v) = c.status {
            next.status = v;
        }
        if let Some(v) = c.value {
            next.value = v;
        }
        let mut model: customers::ActiveModel = current.into();
        model.search_text = Set(search_text(
            &next.name,
            next.email.as_deref(),
            next.phone.as_deref(),
            next.company.as_deref(),
        ));
        model.name = Set(next.name);
        model.email = Set(next.email);
        model.phone = Set(next.phone);
        model.company = Set(next.company);
        model.status = Set(next.status);
        model.value = Set(next.value);
        model.updated_at = Set(Utc::now());
        model
            .update(&self.db)
            .await
            .map(|m| Some(to_customer(m)))
            .map_err(conflict_or_internal)
    }

    async fn soft_delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let txn = self.db.begin().await.map_err(crm)?;
        let hidden = customers::Entity::update_many()
            .col_expr(customers::Column::DeletedAt, Expr::value(at))
            .filter(customers::Column::Id.eq(id))
            .filter(live())
            .exec(&txn)
            .await
            .map_err(crm)?;
        if hidden.rows_affected == 0 {
            txn.rollback().await.map_err(crm)?;
            return Ok(false);
        }
        deals::Entity::update_many()
            .col_expr(deals::Column::DeletedAt, Expr::value(at))
            .filter(deals::Column::CustomerId.eq(id))
            .filter(deals::Column::DeletedAt.is_null())
            .exec(&txn)
            .await
            .map_err(crm)?;
        activities::Entity::update_many()
            .col_expr(activities::Column::DeletedAt, Expr::value(at))
            .filter(activities::Column::CustomerId.eq(id))
            .filter(activities::Column::DeletedAt.is_null())
            .exec(&txn)
            .await
            .map_err(crm)?;
        txn.commit().await.map_err(crm)?;
        Ok(true)
    }
}
