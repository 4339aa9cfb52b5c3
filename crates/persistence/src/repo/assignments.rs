//! Sales-manager assignments over sea-orm, and the round robin applied when a customer is created.

use crate::entity::{customers, sales_manager_assignments as assignments, sales_manager_counter as counter, users};
use crate::error::{db, is_unique_violation};
use crate::repo::{begin_write, statement};
use async_trait::async_trait;
use chrono::Utc;
use management_core::Result;
use management_core::assignment::{
    AssignOutcome, Assignment, CurrentManager, SALES_MANAGER, SalesManager, next_in_rotation,
};
use management_core::ports::SalesManagerRepository;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

/// [`SalesManagerRepository`] over `sales_manager_assignments` and `users`.
#[derive(Clone)]
pub struct SqlSalesManagers {
    db: DatabaseConnection,
}

impl SqlSalesManagers {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlSalesManagers { db }
    }
}

fn to_assignment(m: assignments::Model) -> Assignment {
    Assignment {
        id: m.id,
        customer_id: m.customer_id,
        sales_manager_id: m.sales_manager_id,
        assigned_at: m.assigned_at,
        assigned_by: m.assigned_by,
        is_active: m.is_active,
    }
}

async fn active_manager_ids<C: ConnectionTrait>(conn: &C) -> std::result::Result<Vec<i64>, DbErr> {
    users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::Role.eq(SALES_MANAGER))
        .filter(users::Column::IsActive.eq(true))
        .order_by_asc(users::Column::Id)
        .into_tuple()
        .all(conn)
        .await
}

async fn insert_active<C: ConnectionTrait>(
    conn: &C,
    customer_id: i64,
    manager_id: i64,
    by: Option<i64>,
) -> std::result::Result<assignments::Model, DbErr> {
    assignments::Entity::update_many()
        .col_expr(assignments::Column::IsActive, Expr::value(false))
        .filter(assignments::Column::CustomerId.eq(customer_id))
        .filter(assignments::Column::IsActive.eq(true))
        .exec(conn)
        .await?;
    let stored = assignments::ActiveModel {
        customer_id: Set(customer_id),
        sales_manager_id: Set(manager_id),
        assigned_at: Set(Utc::now()),
        assigned_by: Set(by),
        is_active: Set(true),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let data = serde_json::json!({
        "account": customer_id,
        "sales_manager": manager_id,
        "assigned_by": by,
        "assigned_at": stored.assigned_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    });
    let change = crate::repo::journal::Change::audit("account", customer_id, "assigned")
        .with_values(None, Some(data.clone()))
        .with_event("customer.assigned", data);
    crate::repo::journal::record(conn, change).await.map_err(|e| DbErr::Custom(e.to_string()))?;
    Ok(stored)
}

/// Gives a new customer to the next active sales manager in the rotation, inside the
/// caller's write transaction (the counter row is locked, so concurrent creations take
/// turns). Returns the manager, or `None` when there is none.
pub async fn assign_next<C: ConnectionTrait>(conn: &C, customer_id: i64) -> std::result::Result<Option<i64>, DbErr> {
    let position = counter::Entity::find_by_id(1).lock_exclusive().one(conn).await?;
    let managers = active_manager_ids(conn).await?;
    let Some(next) = next_in_rotation(&managers, position.as_ref().and_then(|p| p.last_manager_id)) else {
        return Ok(None);
    };
    counter::Entity::update_many()
        .col_expr(counter::Column::LastManagerId, Expr::value(next))
        .filter(counter::Column::Id.eq(1))
        .exec(conn)
        .await?;
    insert_active(conn, customer_id, next, None).await?;
    Ok(Some(next))
}

/// A sales manager with their active assignments.
#[derive(FromQueryResult)]
struct ManagerRow {
    id: i64,
    email: String,
    first_name: String,
    last_name: String,
    n: i64,
}

async fn manager_with_count<C: ConnectionTrait>(
    conn: &C,
    user: users::Model,
) -> std::result::Result<SalesManager, DbErr> {
    let count = assignments::Entity::find()
        .filter(assignments::Column::SalesManagerId.eq(user.id))
        .filter(assignments::Column::IsActive.eq(true))
        .count(conn)
        .await?;
    Ok(SalesManager {
        id: user.id,
        email: user.email,
        name: user.first_name,
        surname: user.last_name,
        assigned_leads_count: count,
    })
}

#[async_trait]
impl SalesManagerRepository for SqlSalesManagers {
    async fn sales_managers(&self) -> Result<Vec<SalesManager>> {
        // One statement: each manager with the count of their active assignments.
        let sql = "SELECT u.id, u.email, u.first_name, u.last_name, \
                   (SELECT COUNT(*) FROM sales_manager_assignments a WHERE a.sales_manager_id = u.id AND a.is_active = $1) AS n \
                   FROM users u WHERE u.role = $2 AND u.is_active = $3 ORDER BY u.id";
        let values = vec![true.into(), SALES_MANAGER.into(), true.into()];
        let rows = ManagerRow::find_by_statement(statement(self.db.get_database_backend(), sql, values))
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|r| SalesManager {
                id: r.id,
                email: r.email,
                name: r.first_name,
                surname: r.last_name,
                assigned_leads_count: r.n.max(0) as u64,
            })
            .collect())
    }

    async fn assign(&self, customer_id: i64, manager_id: i64, by: i64) -> Result<AssignOutcome> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let customer = customers::Entity::find_by_id(customer_id)
            .filter(customers::Column::DeletedAt.is_null())
            .lock_exclusive()
            .one(&txn)
            .await
            .map_err(db)?;
        if customer.is_none() {
            return Ok(AssignOutcome::CustomerNotFound);
        }
        let manager = users::Entity::find_by_id(manager_id)
            .filter(users::Column::Role.eq(SALES_MANAGER))
            .filter(users::Column::IsActive.eq(true))
            .one(&txn)
            .await
            .map_err(db)?;
        if manager.is_none() {
            return Ok(AssignOutcome::ManagerNotFound);
        }
        let stored = insert_active(&txn, customer_id, manager_id, Some(by)).await.map_err(|e| {
            if is_unique_violation(&e) {
                management_core::ManagementError::Conflict("The customer was assigned concurrently; try again.".into())
            } else {
                db(e)
            }
        })?;
        txn.commit().await.map_err(db)?;
        Ok(AssignOutcome::Assigned(to_assignment(stored)))
    }

    async fn current(&self, customer_id: i64) -> Result<Option<CurrentManager>> {
        let live = customers::Entity::find_by_id(customer_id)
            .filter(customers::Column::DeletedAt.is_null())
            .count(&self.db)
            .await
            .map_err(db)?;
        if live == 0 {
            return Ok(None);
        }
        let Some(active) = assignments::Entity::find()
            .filter(assignments::Column::CustomerId.eq(customer_id))
            .filter(assignments::Column::IsActive.eq(true))
            .one(&self.db)
            .await
            .map_err(db)?
        else {
            return Ok(None);
        };
        let Some(user) = users::Entity::find_by_id(active.sales_manager_id).one(&self.db).await.map_err(db)? else {
            return Ok(None);
        };
        let manager = manager_with_count(&self.db, user).await.map_err(db)?;
        Ok(Some(CurrentManager { assignment: to_assignment(active), manager }))
    }
}
