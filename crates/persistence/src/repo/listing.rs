//! One list-query builder for every REST list: live rows only, the resource's filters,
//! search, the date range on `created_at`, ordering with ties broken by id, and the page
//! with its total. A table says which column stands behind each filter and ordering name
//! ([`Listing`]); filters it does not map are the store's own to apply first.

use crate::error::db;
use crate::repo::{contains, contains_lower, statement};

type Result<T> = std::result::Result<T, DomainError>;
use chrono::{DateTime, Utc};
use kernel::{Candidate, DomainError, FilterValue, ListQuery, Page, Ref};
use sea_orm::sea_query::{Condition, IntoCondition};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, Order, PaginatorTrait,
    PrimaryKeyTrait, QueryFilter, QueryOrder, QuerySelect, Select, Value,
};
use std::collections::HashMap;
use std::str::FromStr;

/// The lower-cased column of the texts a record is searched by.
pub const SEARCH_TEXT: &str = "search_text";

/// How a table answers a list.
#[derive(Debug, Clone, Copy)]
pub struct Listing {
    /// Filter and ordering names and the columns behind them (`("account", "account_id")`).
    pub columns: &'static [(&'static str, &'static str)],
    /// The columns `search` looks in, compared lower-cased.
    pub search: &'static [&'static str],
}

fn column<E: EntityTrait>(listing: &Listing, name: &str) -> Option<E::Column> {
    let column = listing.columns.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)?;
    E::Column::from_str(column).ok()
}

/// A filter value as a database value.
pub fn value(v: &FilterValue) -> Value {
    match v {
        FilterValue::Id(id) => (*id).into(),
        FilterValue::Text(t) => t.clone().into(),
        FilterValue::Bool(b) => (*b).into(),
        FilterValue::Instant(t) => (*t).into(),
    }
}

/// Applies every part of `query` that `listing` maps to `select` (live rows: the caller's
/// `select` already says so) and answers the page with its total. `total` may be given when
/// the caller knows it cheaper (a summary counter).
pub async fn page<E, C>(
    conn: &C,
    mut select: Select<E>,
    listing: &Listing,
    query: &ListQuery,
    total: Option<u64>,
) -> Result<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    for (name, v) in &query.filters {
        if let Some(col) = column::<E>(listing, name) {
            select = select.filter(col.eq(value(v)));
        }
    }
    if let Some(needle) = &query.search {
        let mut any = Condition::any();
        for name in listing.search {
            if let Ok(col) = E::Column::from_str(name) {
                // `search_text` columns are stored lower-cased (and trigram-indexed as such).
                any = any.add(if *name == SEARCH_TEXT { contains(col, needle) } else { contains_lower(col, needle) });
            }
        }
        select = select.filter(any);
    }
    if let Ok(created) = E::Column::from_str("created_at") {
        if let Some(after) = query.created_after {
            select = select.filter(created.gte(after));
        }
        if let Some(before) = query.created_before {
            select = select.filter(created.lt(before));
        }
    }
    let counted = select.clone();
    let (field, descending) = query.ordering;
    let order = if descending { Order::Desc } else { Order::Asc };
    if let Some(col) = column::<E>(listing, field) {
        select = select.order_by(col, order.clone());
    }
    let Ok(id) = E::Column::from_str("id") else {
        let total = match total {
            Some(t) => t,
            None => counted.count(conn).await.map_err(db)?,
        };
        let rows = select.offset(query.page.offset()).limit(query.page.per_page).all(conn).await.map_err(db)?;
        return Ok(Page { items: rows, total, request: query.page });
    };
    // The page's ids first (an index-only walk, however deep the page), then their rows.
    let ids: Vec<i64> = select
        .clone()
        .order_by(id, order)
        .select_only()
        .column(id)
        .offset(query.page.offset())
        .limit(query.page.per_page)
        .into_tuple()
        .all(conn)
        .await
        .map_err(db)?;
    // A first page that is not full holds every match: no need to count them.
    let total = match total {
        Some(t) => t,
        None if query.page.offset() == 0 && (ids.len() as u64) < query.page.per_page => ids.len() as u64,
        None => counted.count(conn).await.map_err(db)?,
    };
    let mut rows = if ids.is_empty() {
        Vec::new()
    } else {
        E::find().filter(id.is_in(ids.clone())).all(conn).await.map_err(db)?
    };
    rows.sort_by_key(|row| ids.iter().position(|i| Some(*i) == id_of::<E>(row, id)));
    Ok(Page { items: rows, total, request: query.page })
}

/// The id of a row.
fn id_of<E: EntityTrait>(row: &E::Model, id: E::Column) -> Option<i64> {
    use sea_orm::ModelTrait;
    match row.get(id) {
        Value::BigInt(v) => v,
        Value::Int(v) => v.map(i64::from),
        _ => None,
    }
}

/// Whether `query` lists every live row (no search, filter or date range), so that its
/// total can come from a counter.
pub fn unfiltered(query: &ListQuery) -> bool {
    query.search.is_none()
        && query.filters.is_empty()
        && query.created_after.is_none()
        && query.created_before.is_none()
}

/// Counter key of the live rows of `table`, kept for tables whose whole list is paged often
/// (contacts, leads): an exact total without counting the table.
pub fn live_key(table: &str) -> String {
    format!("{table}:live")
}

/// The live-row counter of `table` when `query` is unfiltered.
pub async fn live_total<C: ConnectionTrait>(conn: &C, table: &str, query: &ListQuery) -> Result<Option<u64>> {
    if !unfiltered(query) {
        return Ok(None);
    }
    Ok(Some(crate::repo::summaries::count_of(conn, &live_key(table)).await.map_err(db)?))
}

/// Adds `n` (negative to remove) to the live-row counter of `table`.
pub async fn count_live<C: ConnectionTrait>(conn: &C, table: &str, n: i64) -> Result<()> {
    let mut deltas = crate::repo::summaries::Deltas::default();
    deltas.count(live_key(table), n);
    deltas.apply(conn).await.map_err(db)
}

/// Soft-deletes the live record `id` of `E`'s table in one transaction, journaled, with its
/// live-row counter kept when `counted`; `false` when there is none.
pub async fn delete_journaled<E>(db: &DatabaseConnection, id: i64, at: DateTime<Utc>, counted: bool) -> Result<bool>
where
    E: crate::repo::journal::Journaled,
    E::Model: Clone + Send + Sync,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    let table = E::default().table_name().to_string();
    let txn = crate::repo::begin_write(db).await.map_err(crate::error::db)?;
    let Some(current) = live_row_locked::<E, _>(&txn, id).await? else { return Ok(false) };
    crate::repo::journal::write::<E, _>(&txn, "deleted", Some(current), None).await?;
    let deleted = soft_delete(&txn, &table, id, at).await?;
    if deleted && counted {
        count_live(&txn, &table, -1).await?;
    }
    txn.commit().await.map_err(crate::error::db)?;
    Ok(deleted)
}

/// Brings the deleted record `id` of `E`'s table back in one transaction, journaled, with its
/// live-row counter kept when `counted`; `false` when there is no such deleted record.
pub async fn restore_journaled<E>(db: &DatabaseConnection, id: i64, counted: bool) -> Result<bool>
where
    E: crate::repo::journal::Journaled,
    E::Model: Clone + Send + Sync,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    let table = E::default().table_name().to_string();
    let txn = crate::repo::begin_write(db).await.map_err(crate::error::db)?;
    let restored = undelete(&txn, &table, id).await?;
    if restored {
        if counted {
            count_live(&txn, &table, 1).await?;
        }
        let row = live_row::<E, _>(&txn, id).await?;
        crate::repo::journal::write::<E, _>(&txn, "restored", None, row).await?;
    }
    txn.commit().await.map_err(crate::error::db)?;
    Ok(restored)
}

/// Deletes row `id` of `E`'s table for good in one transaction, journaled; `false` when
/// there is none.
pub async fn purge_journaled<E>(db: &DatabaseConnection, id: i64) -> Result<bool>
where
    E: crate::repo::journal::Journaled,
    E::Model: Clone + Send + Sync,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    let txn = crate::repo::begin_write(db).await.map_err(crate::error::db)?;
    let Some(current) = E::find_by_id(id).lock_exclusive().one(&txn).await.map_err(crate::error::db)? else {
        return Ok(false);
    };
    crate::repo::journal::write::<E, _>(&txn, "deleted", Some(current), None).await?;
    E::delete_by_id(id).exec(&txn).await.map_err(crate::error::db)?;
    txn.commit().await.map_err(crate::error::db)?;
    Ok(true)
}

/// Only rows not deleted.
pub fn live<E: EntityTrait>() -> impl IntoCondition {
    let deleted = E::Column::from_str("deleted_at").ok();
    match deleted {
        Some(col) => Condition::all().add(col.is_null()),
        None => Condition::all(),
    }
}

/// The live row `id` of `E`, if there is one.
pub async fn live_row<E, C>(conn: &C, id: i64) -> Result<Option<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    E::find_by_id(id).filter(live::<E>()).one(conn).await.map_err(db)
}

/// [`live_row`], locked against other writers until the transaction ends (on PostgreSQL).
pub async fn live_row_locked<E, C>(conn: &C, id: i64) -> Result<Option<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    E::find_by_id(id).filter(live::<E>()).lock_exclusive().one(conn).await.map_err(db)
}

#[derive(FromQueryResult)]
struct Named {
    id: i64,
    name: String,
}

/// A row of [`refs_of`]: the kind's position, the row and its name.
#[derive(FromQueryResult)]
struct KindNamed {
    k: i64,
    id: i64,
    name: String,
    extra: Option<String>,
}

/// One kind of row a batch points at: `table`'s rows with `ids` (live ones only when `live`),
/// named by the SQL expression `name`, with an optional `extra` text column.
pub struct RefKind<'a> {
    pub table: &'a str,
    pub name: &'a str,
    pub extra: Option<&'a str>,
    pub live: bool,
    pub ids: Vec<i64>,
}

impl<'a> RefKind<'a> {
    /// `{id, name}` of `table`'s rows `ids`.
    pub fn new(table: &'a str, name: &'a str, live: bool, ids: impl IntoIterator<Item = i64>) -> Self {
        RefKind { table, name, extra: None, live, ids: ids.into_iter().collect() }
    }
}

impl RefKind<'static> {
    /// Live accounts (customers), named by their name.
    pub fn accounts(ids: impl IntoIterator<Item = i64>) -> Self {
        RefKind::new("customers", "name", true, ids)
    }

    /// Live contacts, named by first and last name.
    pub fn contacts(ids: impl IntoIterator<Item = i64>) -> Self {
        RefKind::new("contacts", PERSON_NAME, true, ids)
    }

    /// Live leads, named by first and last name.
    pub fn leads(ids: impl IntoIterator<Item = i64>) -> Self {
        RefKind::new("leads", PERSON_NAME, true, ids)
    }

    /// Live deals, named by their title.
    pub fn deals(ids: impl IntoIterator<Item = i64>) -> Self {
        RefKind::new("deals", "title", true, ids)
    }

    /// Live territories.
    pub fn territories(ids: impl IntoIterator<Item = i64>) -> Self {
        RefKind::new("territories", "name", true, ids)
    }

    /// Live product categories.
    pub fn categories(ids: impl IntoIterator<Item = i64>) -> Self {
        RefKind::new("product_categories", "name", true, ids)
    }

    /// Pipeline stages, deleted ones included (a deal's history keeps naming them).
    pub fn stages(ids: impl IntoIterator<Item = i64>) -> Self {
        RefKind::new("pipeline_stages", "name", false, ids)
    }

    /// Users (owners, authors), inactive ones included.
    pub fn users(ids: impl IntoIterator<Item = i64>) -> Self {
        RefKind::new("users", "name", false, ids)
    }
}

/// `{id, name}` by id, for one kind of record.
pub type Names = HashMap<i64, Ref>;

/// The `{id, name}` of every kind in one statement ([`refs_of`]), a map per kind in the order
/// given: a batch of rows embeds all its relations with one round trip.
pub async fn names_of<C: ConnectionTrait, const N: usize>(conn: &C, kinds: [RefKind<'_>; N]) -> Result<[Names; N]> {
    let found = refs_of(conn, &kinds).await?;
    let names: Vec<Names> = found.into_iter().map(|f| f.into_iter().map(|(id, (r, _))| (id, r)).collect()).collect();
    names.try_into().map_err(|_| DomainError::Internal("reference kinds".into()))
}

/// What [`refs_of`] found for one kind: id → (`{id, name}`, extra).
pub type Found = HashMap<i64, (Ref, Option<String>)>;

/// The references of several kinds in one statement (`UNION ALL` of one indexed lookup per
/// kind), one map per kind in the order given.
pub async fn refs_of<C: ConnectionTrait>(conn: &C, kinds: &[RefKind<'_>]) -> Result<Vec<Found>> {
    let mut parts = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    for (k, kind) in kinds.iter().enumerate() {
        let mut ids = kind.ids.clone();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            continue;
        }
        let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", values.len() + i + 1)).collect();
        values.extend(ids.into_iter().map(Value::from));
        let alive = if kind.live { " AND deleted_at IS NULL" } else { "" };
        let extra = kind.extra.unwrap_or("CAST(NULL AS VARCHAR)");
        parts.push(format!(
            "SELECT CAST({k} AS BIGINT) AS k, id, {} AS name, {extra} AS extra FROM {} WHERE id IN ({}){alive}",
            kind.name,
            kind.table,
            placeholders.join(", ")
        ));
    }
    let mut found: Vec<Found> = kinds.iter().map(|_| HashMap::new()).collect();
    if parts.is_empty() {
        return Ok(found);
    }
    let sql = parts.join(" UNION ALL ");
    let rows = KindNamed::find_by_statement(statement(conn.get_database_backend(), &sql, values))
        .all(conn)
        .await
        .map_err(db)?;
    for r in rows {
        if let Some(map) = found.get_mut(r.k as usize) {
            map.insert(r.id, (Ref { id: r.id, name: r.name }, r.extra));
        }
    }
    Ok(found)
}

/// The reference `id` points at, when it is in `refs`.
pub fn lookup(refs: &Names, id: Option<i64>) -> Option<Ref> {
    id.and_then(|id| refs.get(&id).cloned())
}

/// `first_name || ' ' || last_name`, trimmed, on both engines.
pub const PERSON_NAME: &str = "TRIM(first_name || ' ' || last_name)";

/// Whether `id` names a live row of `table`.
pub async fn exists<C: ConnectionTrait>(conn: &C, table: &str, id: i64) -> Result<bool> {
    let [found] = names_of(conn, [RefKind::new(table, "''", true, [id])]).await?;
    Ok(!found.is_empty())
}

/// Marks the live row `id` of `table` deleted; `false` when there is none.
pub async fn soft_delete<C: ConnectionTrait>(conn: &C, table: &str, id: i64, at: DateTime<Utc>) -> Result<bool> {
    let sql = format!("UPDATE {table} SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL");
    let done = conn.execute_raw(statement(conn.get_database_backend(), &sql, vec![at.into(), id.into()])).await;
    Ok(done.map_err(db)?.rows_affected() == 1)
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

/// Marks the live row `id` of `E`'s table deleted, journaled, unless live rows of `users`
/// (`(table, column)`) still point at it: then a 409 `InUse` with their count and
/// `in_use(count)` as its message.
pub async fn soft_delete_unused<E>(
    db: &DatabaseConnection,
    id: i64,
    at: DateTime<Utc>,
    users: &[(&str, &str)],
    in_use: impl Fn(u64) -> String,
) -> Result<bool>
where
    E: crate::repo::journal::Journaled,
    E::Model: Clone + Send + Sync,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    let table = &E::default().table_name().to_string();
    let txn = crate::repo::begin_write(db).await.map_err(crate::error::db)?;
    let mut used = 0;
    for (user, column) in users {
        let sql = format!("SELECT COUNT(*) AS n FROM {user} WHERE {column} = $1 AND deleted_at IS NULL");
        let stmt = statement(txn.get_database_backend(), &sql, vec![id.into()]);
        used +=
            Count::find_by_statement(stmt).one(&txn).await.map_err(crate::error::db)?.map_or(0, |c| c.n.max(0) as u64);
    }
    if used > 0 && exists(&txn, table, id).await? {
        return Err(DomainError::InUse { message: in_use(used), field: "count", count: used });
    }
    let Some(current) = live_row_locked::<E, _>(&txn, id).await? else { return Ok(false) };
    crate::repo::journal::write::<E, _>(&txn, "deleted", Some(current), None).await?;
    let deleted = soft_delete(&txn, table, id, at).await?;
    txn.commit().await.map_err(crate::error::db)?;
    Ok(deleted)
}

/// Brings the deleted row `id` of `table` back; `false` when there is none. A live row that
/// took its unique name meanwhile makes it a conflict.
pub async fn undelete<C: ConnectionTrait>(conn: &C, table: &str, id: i64) -> Result<bool> {
    let sql = format!("UPDATE {table} SET deleted_at = NULL, updated_at = $1 WHERE id = $2 AND deleted_at IS NOT NULL");
    let done = conn.execute_raw(statement(conn.get_database_backend(), &sql, vec![Utc::now().into(), id.into()])).await;
    match done {
        Ok(r) => Ok(r.rows_affected() == 1),
        Err(e) if crate::error::is_unique_violation(&e) => Err(DomainError::Conflict(
            "A live record now has the same unique name, e-mail or phone; change it first.".into(),
        )),
        Err(e) => Err(db(e)),
    }
}

/// The live rows of `table` whose `key_column` is `key` (other than `except`), as candidates
/// a new record would duplicate.
pub async fn duplicates<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    kind: &'static str,
    name: &str,
    key_column: &str,
    key: &str,
    except: Option<i64>,
) -> Result<Vec<Candidate>> {
    duplicates_of(conn, table, kind, name, &[(key_column, Some(key))], except).await
}

/// The advisory-lock key of the duplicate checks on `table` (FNV-1a of its name, in a range
/// of its own).
fn duplicate_lock(table: &str) -> i64 {
    let hash = table.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    0x4455_5000_0000_0000 | (hash & 0xffff_ffff) as i64
}

/// The live rows of `table` (other than `except`) that share any of `keys`
/// (`(key_column, value)`; absent values are skipped), each once.
///
/// Writers checking `table` take turns until they commit (an advisory lock on PostgreSQL;
/// SQLite has one writer at a time): the second of two concurrent creates of one e-mail then
/// finds the first and answers its candidates, rather than a bare unique violation.
pub async fn duplicates_of<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    kind: &'static str,
    name: &str,
    keys: &[(&str, Option<&str>)],
    except: Option<i64>,
) -> Result<Vec<Candidate>> {
    crate::repo::lock_for_update(conn, duplicate_lock(table)).await.map_err(db)?;
    let backend = conn.get_database_backend();
    let mut found = Vec::new();
    for (column, key) in keys {
        let Some(key) = key else { continue };
        // `ORDER BY id + 0`: sorting the few matches, rather than walking the primary key in
        // order and filtering every row (what PostgreSQL picks for `ORDER BY id LIMIT`).
        let sql = format!(
            "SELECT id, {name} AS name FROM {table} WHERE {column} = $1 AND deleted_at IS NULL AND id <> $2 ORDER BY id + 0 LIMIT 5"
        );
        let values = vec![(*key).into(), except.unwrap_or(0).into()];
        for r in Named::find_by_statement(statement(backend, &sql, values)).all(conn).await.map_err(db)? {
            let c = Candidate { kind, id: r.id, name: r.name };
            if !found.contains(&c) {
                found.push(c);
            }
        }
    }
    Ok(found)
}

/// Refuses `name` when another live row of `table` has it, whatever the case (`name_key` holds
/// it lower-cased): a 409 naming the row as a candidate of `kind`.
pub async fn refuse_taken_name<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    kind: &'static str,
    name: &str,
    except: Option<i64>,
) -> Result<()> {
    refuse_duplicates("name", duplicates(conn, table, kind, "name", "name_key", &name.to_lowercase(), except).await?)
}

/// Fails with [`DomainError::Duplicate`] when there are candidates.
pub fn refuse_duplicates(what: &str, candidates: Vec<Candidate>) -> Result<()> {
    if candidates.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Duplicate { message: format!("A record with this {what} already exists."), candidates })
    }
}

/// A related record a write names: the field, the table, whether only live rows count, the id.
pub type Reference<'a> = (&'a str, &'a str, bool, Option<i64>);

/// Fails with a validation error naming every field whose id names no (live) record; all the
/// references are looked up in one statement.
pub async fn check_references<C: ConnectionTrait>(conn: &C, references: &[Reference<'_>]) -> Result<()> {
    let kinds: Vec<RefKind> =
        references.iter().map(|(_, table, live, id)| RefKind::new(table, "''", *live, *id)).collect();
    let found = refs_of(conn, &kinds).await?;
    let mut errors = kernel::FieldErrors::new();
    for ((field, _, _, id), found) in references.iter().zip(&found) {
        if let Some(id) = id
            && !found.contains_key(id)
        {
            kernel::push_error(&mut errors, field, format!("Invalid pk \"{id}\" - object does not exist."));
        }
    }
    DomainError::check(errors)
}
