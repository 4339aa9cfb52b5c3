//! Customers over sea-orm.

use crate::entity::{activities, customer_statuses, customers, deals};
use crate::error::{conflict_if_unique, db};
use crate::repo::accounts::journal_account;
use crate::repo::listing::{duplicates_of, refuse_duplicates};
use crate::repo::statuses::group_of;
use crate::repo::summaries::{Deltas, count_sum, counter_total, customer_contribution, customers_key};
use crate::repo::{begin_write, contains};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::customer::{Customer, CustomerChanges, CustomerDraft, CustomerFilter, CustomerSort, search_text};
use crm_core::deal::CustomerRef;
use crm_core::ports::CustomerRepository;
use crm_core::{CrmError, Result};
use kernel::{Page, PageRequest};
use management_core::catalog::DEFAULT_GROUP;
use sea_orm::sea_query::{Expr, SimpleExpr, SubQueryStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    Order, PaginatorTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Select, Set,
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

    /// How many customers `query` matches: counted with a search, else from the counters.
    async fn total(
        &self,
        query: Select<customers::Entity>,
        search: Option<&str>,
        filter: &CustomerFilter,
    ) -> Result<u64> {
        let total = match (search, &filter.status) {
            (Some(_), _) => query.count(&self.db).await,
            (None, Some(status)) => {
                let names: Vec<String> = customer_statuses::Entity::find()
                    .select_only()
                    .column(customer_statuses::Column::Name)
                    .filter(customer_statuses::Column::Name.in_subquery(statuses_named(status)))
                    .into_tuple()
                    .all(&self.db)
                    .await
                    .map_err(db)?;
                let keys: Vec<String> = names.iter().map(|n| customers_key(n)).collect();
                count_sum(&self.db, &keys).await
            }
            (None, None) => counter_total(&self.db, "customers:").await,
        };
        total.map_err(db)
    }
}

/// Offsets from which a page is read by a deferred join (ids first): below, reading the rows
/// directly is cheaper (1.5x on PostgreSQL for the first page).
pub(crate) const DEFERRED_JOIN_FROM: u64 = 1_000;

/// Every live customer, from the counters (a scalar subquery).
pub(crate) const LIVE_TOTAL: &str =
    "(SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM crm_counters WHERE key LIKE 'customers:%')";

/// The ids of one page of all live customers ordered by `column` then id, picked by an index-only
/// scan from whichever end of the list is nearer (the total from the counters decides, inside the
/// statement), so the last of 2,000 pages costs what the first does past the deferred-join
/// offset. Only for unfiltered lists: the counters count every live customer. The two orders
/// are exact mirrors on both databases (NULLs are the smallest value on SQLite and flip sides
/// with the order on PostgreSQL), so the page read from the end is the same page.
pub(crate) fn live_page_ids(column: customers::Column, descending: bool, page: PageRequest) -> SimpleExpr {
    use sea_orm::sea_query::Iden;
    let (col, n, off, t) = (column.to_string(), page.per_page, page.offset(), LIVE_TOTAL);
    let (forward, backward) = if descending { ("DESC", "ASC") } else { ("ASC", "DESC") };
    let ids = |order: &str, limit: String, offset: String| {
        format!(
            "SELECT id FROM (SELECT id FROM customers WHERE deleted_at IS NULL \
             ORDER BY {col} {order}, id {order} LIMIT ({limit}) OFFSET ({offset})) AS page_ids"
        )
    };
    let from_start = ids(forward, format!("CASE WHEN {off} * 2 < {t} THEN {n} ELSE 0 END"), off.to_string());
    let from_end = ids(
        backward,
        format!(
            "CASE WHEN {off} * 2 < {t} OR {t} <= {off} THEN 0 WHEN {t} - {off} < {n} THEN {t} - {off} ELSE {n} END"
        ),
        format!("CASE WHEN {t} - {off} - {n} < 0 THEN 0 ELSE {t} - {off} - {n} END"),
    );
    Expr::cust(format!("customers.id IN ({from_start} UNION ALL {from_end})"))
}

/// The v1 group of a customer's status, as a column of a customer query.
const GROUP_OF_STATUS: &str = "(SELECT v1_group FROM customer_statuses s WHERE s.name = customers.status)";

/// The columns a customer is shown with, and its status's v1 group: what reads select
/// (not the search text, the REST account fields or the custom fields).
#[derive(FromQueryResult)]
struct CustomerRow {
    id: i64,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    company: Option<String>,
    status: String,
    value: Option<String>,
    user_id: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    v1_group: Option<String>,
}

impl CustomerRow {
    fn into_customer(self) -> Customer {
        Customer {
            id: self.id,
            name: self.name,
            email: self.email,
            phone: self.phone,
            company: self.company,
            status_group: self.v1_group.as_deref().map_or(DEFAULT_GROUP, group_of),
            status: self.status,
            value: self.value,
            user_id: self.user_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// `select` narrowed to the columns of [`CustomerRow`].
fn shown(select: Select<customers::Entity>) -> Select<customers::Entity> {
    use customers::Column as C;
    select
        .select_only()
        .columns([
            C::Id,
            C::Name,
            C::Email,
            C::Phone,
            C::Company,
            C::Status,
            C::Value,
            C::UserId,
            C::CreatedAt,
            C::UpdatedAt,
        ])
        .column_as(Expr::cust(GROUP_OF_STATUS), "v1_group")
}

/// A customer row with the list's total beside it.
struct Counted {
    row: CustomerRow,
    total: i64,
}

impl FromQueryResult for Counted {
    fn from_query_result(res: &QueryResult, pre: &str) -> std::result::Result<Self, DbErr> {
        Ok(Counted { row: CustomerRow::from_query_result(res, pre)?, total: res.try_get(pre, "total")? })
    }
}

/// The domain view of a stored customer with its status's catalog entry.
pub fn to_customer((m, status): (customers::Model, Option<customer_statuses::Model>)) -> Customer {
    CustomerRow {
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
        v1_group: status.map(|s| s.v1_group),
    }
    .into_customer()
}

/// Refuses an e-mail another live customer (account) has: a 409 naming it.
pub async fn refuse_taken_email<C: ConnectionTrait>(conn: &C, email: &str, except: Option<i64>) -> Result<()> {
    let found = duplicates_of(conn, "customers", "account", "name", &[("email", Some(email))], except).await?;
    refuse_duplicates("e-mail", found)
}

/// A unique violation of a customer's e-mail is a conflict.
pub fn unique_email(e: sea_orm::DbErr) -> CrmError {
    conflict_if_unique("A customer with this e-mail already exists.")(e)
}

/// The `{id, name, company}` of customers, for embedding in deal and activity lists
/// (one query for any number of rows).
pub async fn customer_refs<C: ConnectionTrait>(
    conn: &C,
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
        .columns([customers::Column::Id, customers::Column::Name, customers::Column::Company])
        .filter(customers::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await
        .map_err(db)?;
    Ok(rows.into_iter().map(|(id, name, company)| CustomerRef { id, name, company }).collect())
}

/// The names of the catalog statuses `wanted` selects: the status of that name, or every
/// status of the v1 group of that name.
fn statuses_named(wanted: &str) -> sea_orm::sea_query::SelectStatement {
    customer_statuses::Entity::find()
        .select_only()
        .column(customer_statuses::Column::Name)
        .filter(
            Condition::any()
                .add(customer_statuses::Column::Name.eq(wanted))
                .add(customer_statuses::Column::V1Group.eq(wanted)),
        )
        .into_query()
}

/// The catalog entry of a status.
async fn catalog_entry<C: ConnectionTrait>(conn: &C, status: &str) -> Result<Option<customer_statuses::Model>> {
    customer_statuses::Entity::find().filter(customer_statuses::Column::Name.eq(status)).one(conn).await.map_err(db)
}

fn live() -> sea_orm::sea_query::SimpleExpr {
    customers::Column::DeletedAt.is_null()
}

#[async_trait]
impl CustomerRepository for SqlCustomers {
    /// Pages by first selecting ids (an index-only scan even deep into the list), then the
    /// rows; totals without a search come from the live counters.
    async fn list(&self, filter: &CustomerFilter, page: PageRequest) -> Result<Page<Customer>> {
        let mut query = customers::Entity::find().filter(live());
        if let Some(status) = &filter.status {
            query = query.filter(customers::Column::Status.in_subquery(statuses_named(status)));
        }
        let search = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if let Some(search) = search {
            query = query.filter(contains(customers::Column::SearchText, search));
        }
        let column = match filter.sort.key {
            CustomerSort::Name => customers::Column::Name,
            CustomerSort::Email => customers::Column::Email,
            CustomerSort::Company => customers::Column::Company,
            CustomerSort::Status => customers::Column::Status,
            CustomerSort::CreatedAt => customers::Column::CreatedAt,
            CustomerSort::UpdatedAt => customers::Column::UpdatedAt,
        };
        let order = if filter.sort.descending { Order::Desc } else { Order::Asc };
        // The total rides along in the page's statement as a scalar subquery (the live
        // counters without a filter, a count with a search); the status filter sums its
        // statuses' counters in a statement of its own.
        let total_expr = match (search, &filter.status) {
            (Some(_), _) => {
                let count = query.clone().select_only().column_as(customers::Column::Id.count(), "n").into_query();
                Some(SimpleExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(count))))
            }
            (None, None) => Some(Expr::cust(LIVE_TOTAL)),
            (None, Some(_)) => None,
        };
        // A shallow page reads its rows directly; a deep one first picks the page's ids by an
        // index-only scan, then their rows (a deferred join, in the same statement).
        let select = if page.offset() < DEFERRED_JOIN_FROM {
            shown(query.clone())
                .order_by(column, order.clone())
                .order_by(customers::Column::Id, order)
                .offset(page.offset())
                .limit(page.per_page)
        } else {
            let ids = if search.is_none() && filter.status.is_none() {
                live_page_ids(column, filter.sort.descending, page)
            } else {
                let ids = query
                    .clone()
                    .select_only()
                    .column(customers::Column::Id)
                    .order_by(column, order.clone())
                    .order_by(customers::Column::Id, order.clone())
                    .offset(page.offset())
                    .limit(page.per_page)
                    .into_query();
                customers::Column::Id.in_subquery(ids)
            };
            shown(customers::Entity::find().filter(ids))
                .order_by(column, order.clone())
                .order_by(customers::Column::Id, order)
        };
        let select =
            if page.offset() < DEFERRED_JOIN_FROM { select.offset(page.offset()).limit(page.per_page) } else { select };
        let (rows, total) = match total_expr {
            Some(expr) => {
                let rows = select.column_as(expr, "total").into_model::<Counted>().all(&self.db).await.map_err(db)?;
                let total = match rows.first() {
                    Some(first) => first.total.max(0) as u64,
                    None if page.offset() == 0 => 0,
                    None => self.total(query, search, filter).await?,
                };
                (rows.into_iter().map(|c| c.row).collect::<Vec<_>>(), total)
            }
            None => {
                let rows = select.into_model::<CustomerRow>().all(&self.db).await.map_err(db)?;
                (rows, self.total(query, search, filter).await?)
            }
        };
        Ok(Page { items: rows.into_iter().map(CustomerRow::into_customer).collect(), total, request: page })
    }

    async fn get(&self, id: i64) -> Result<Option<Customer>> {
        let found = shown(customers::Entity::find_by_id(id).filter(live()))
            .into_model::<CustomerRow>()
            .one(&self.db)
            .await
            .map_err(db)?;
        Ok(found.map(CustomerRow::into_customer))
    }

    async fn insert(&self, d: CustomerDraft) -> Result<Customer> {
        let now = Utc::now();
        let model = customers::ActiveModel {
            search_text: Set(search_text(&d.name, d.email.as_deref(), d.phone.as_deref(), d.company.as_deref())),
            name: Set(d.name),
            email: Set(d.email),
            phone: Set(d.phone),
            company: Set(d.company),
            status: Set(d.status),
            value: Set(d.value),
            user_id: Set(d.user_id),
            completed_cents: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        };
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = add_customer(&txn, model).await?;
        let status = catalog_entry(&txn, &stored.status).await?;
        txn.commit().await.map_err(db)?;
        Ok(to_customer((stored, status)))
    }

    async fn update(&self, id: i64, c: CustomerChanges) -> Result<Option<Customer>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) =
            customers::Entity::find_by_id(id).filter(live()).lock_exclusive().one(&txn).await.map_err(db)?
        else {
            return Ok(None);
        };
        let old_status = current.status.clone();
        let current_row = current.clone();
        if let Some(Some(email)) = &c.email
            && current.email.as_ref() != Some(email)
        {
            refuse_taken_email(&txn, email, Some(id)).await?;
        }
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
        model.search_text =
            Set(search_text(&next.name, next.email.as_deref(), next.phone.as_deref(), next.company.as_deref()));
        model.name = Set(next.name);
        model.email = Set(next.email);
        model.phone = Set(next.phone);
        model.company = Set(next.company);
        model.status = Set(next.status);
        model.value = Set(next.value);
        model.updated_at = Set(Utc::now());
        let stored = model.update(&txn).await.map_err(unique_email)?;
        journal_account(&txn, "updated", Some(current_row), Some(stored.clone())).await?;
        if stored.status != old_status {
            let mut deltas = Deltas::default();
            deltas.count(customers_key(&old_status), -1);
            deltas.count(customers_key(&stored.status), 1);
            deltas.apply(&txn).await.map_err(db)?;
        }
        let status = catalog_entry(&txn, &stored.status).await?;
        txn.commit().await.map_err(db)?;
        Ok(Some(to_customer((stored, status))))
    }

    async fn soft_delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let removed = remove_customer(&txn, id, at).await?;
        txn.commit().await.map_err(db)?;
        Ok(removed)
    }
}

/// Adds a customer on any surface: counted in the summaries, and given to the next sales
/// manager of the rotation (if there is one).
pub async fn add_customer<C: ConnectionTrait>(conn: &C, model: customers::ActiveModel) -> Result<customers::Model> {
    if let sea_orm::ActiveValue::Set(Some(email)) = &model.email {
        refuse_taken_email(conn, email, None).await?;
    }
    let stored = model.insert(conn).await.map_err(unique_email)?;
    journal_account(conn, "created", None, Some(stored.clone())).await?;
    crate::repo::assignments::assign_next(conn, stored.id).await.map_err(db)?;
    let mut deltas = Deltas::default();
    deltas.count(customers_key(&stored.status), 1);
    deltas.apply(conn).await.map_err(db)?;
    Ok(stored)
}

/// Marks a live customer deleted with its deals and activities (at the same instant, so a
/// restore finds them); `false` when there is none.
pub async fn remove_customer<C: ConnectionTrait>(conn: &C, id: i64, at: DateTime<Utc>) -> Result<bool> {
    let Some(current) =
        customers::Entity::find_by_id(id).filter(live()).lock_exclusive().one(conn).await.map_err(db)?
    else {
        return Ok(false);
    };
    let mut deltas = customer_contribution(conn, id).await.map_err(db)?;
    deltas.count(customers_key(&current.status), -1);
    journal_account(conn, "deleted", Some(current), None).await?;
    set_deleted(conn, id, None, Some(at)).await?;
    deltas.apply(conn).await.map_err(db)?;
    Ok(true)
}

/// Brings a deleted customer back with the deals and activities deleted with it; `false`
/// when there is no such deleted customer.
pub async fn restore_customer<C: ConnectionTrait>(conn: &C, id: i64) -> Result<bool> {
    let found = customers::Entity::find_by_id(id)
        .filter(customers::Column::DeletedAt.is_not_null())
        .lock_exclusive()
        .one(conn)
        .await
        .map_err(db)?;
    let Some(found) = found else { return Ok(false) };
    set_deleted(conn, id, found.deleted_at, None).await?;
    let mut deltas = customer_contribution(conn, id).await.map_err(db)?.negated();
    deltas.count(customers_key(&found.status), 1);
    deltas.apply(conn).await.map_err(db)?;
    let restored = customers::Model { deleted_at: None, ..found };
    journal_account(conn, "restored", None, Some(restored)).await?;
    Ok(true)
}

/// Sets `deleted_at` of a customer and of its deals and activities that had `from`.
async fn set_deleted<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<()> {
    let customer = customers::Entity::update_many()
        .col_expr(customers::Column::DeletedAt, Expr::value(to))
        .filter(customers::Column::Id.eq(id));
    let unique = if to.is_none() { unique_email } else { db };
    customer.exec(conn).await.map_err(unique)?;
    deals::Entity::update_many()
        .col_expr(deals::Column::DeletedAt, Expr::value(to))
        .filter(deals::Column::CustomerId.eq(id))
        .filter(match from {
            Some(at) => deals::Column::DeletedAt.eq(at),
            None => deals::Column::DeletedAt.is_null(),
        })
        .exec(conn)
        .await
        .map_err(db)?;
    activities::Entity::update_many()
        .col_expr(activities::Column::DeletedAt, Expr::value(to))
        .filter(activities::Column::CustomerId.eq(id))
        .filter(match from {
            Some(at) => activities::Column::DeletedAt.eq(at),
            None => activities::Column::DeletedAt.is_null(),
        })
        .exec(conn)
        .await
        .map_err(db)?;
    Ok(())
}
