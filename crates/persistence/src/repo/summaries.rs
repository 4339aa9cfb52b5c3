//! Exact summaries (live counts, daily sales, customers' completed value) adjusted in the
//! same transaction as each write. Adjustments are applied in a fixed key order so that
//! concurrent writers cannot deadlock on PostgreSQL.

use crate::entity::deals;
use crate::repo::{day_expr, statement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult};
use std::collections::BTreeMap;

/// Counter key of live customers with `status`.
pub fn customers_key(status: &str) -> String {
    format!("customers:{status}")
}

/// Counter key of live deals with `status`.
pub fn deals_key(status: &str) -> String {
    format!("deals:{status}")
}

/// Counter key of live activities of `kind`.
pub fn activities_key(kind: &str) -> String {
    format!("activities:{kind}")
}

/// Changes to apply to the summaries.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Deltas {
    counters: BTreeMap<String, i64>,
    /// day → (value in cents, deals)
    days: BTreeMap<String, (i64, i64)>,
    /// customer id → completed value in cents
    customers: BTreeMap<i64, i64>,
}

impl Deltas {
    pub fn count(&mut self, key: String, n: i64) {
        *self.counters.entry(key).or_default() += n;
    }

    /// The opposite changes (what removing something contributed, added back).
    pub fn negated(mut self) -> Deltas {
        self.counters.values_mut().for_each(|n| *n = -*n);
        self.days.values_mut().for_each(|(c, d)| (*c, *d) = (-*c, -*d));
        self.customers.values_mut().for_each(|c| *c = -*c);
        self
    }

    /// Adds (`sign` = 1) or removes (-1) everything a live deal contributes.
    pub fn deal(&mut self, d: &deals::Model, sign: i64) {
        self.count(deals_key(&d.status), sign);
        if d.status == "completed"
            && let Some(closed) = d.closed_at
        {
            self.sale(closed.format("%Y-%m-%d").to_string(), d.customer_id, sign * d.value_cents, sign);
        }
    }

    /// Adds completed value and deal count to a day and a customer.
    pub fn sale(&mut self, day: String, customer_id: i64, cents: i64, deals: i64) {
        let entry = self.days.entry(day).or_default();
        entry.0 += cents;
        entry.1 += deals;
        *self.customers.entry(customer_id).or_default() += cents;
    }

    /// Writes the changes (in key order) on `conn`, normally the write's transaction.
    pub async fn apply<C: ConnectionTrait>(&self, conn: &C) -> Result<(), DbErr> {
        let backend = conn.get_database_backend();
        for (key, n) in self.counters.iter().filter(|(_, n)| **n != 0) {
            let sql = "INSERT INTO crm_counters (key, n) VALUES ($1, $2) \
                       ON CONFLICT (key) DO UPDATE SET n = crm_counters.n + excluded.n";
            conn.execute_raw(statement(backend, sql, vec![key.clone().into(), (*n).into()])).await?;
        }
        for (day, (cents, deals)) in self.days.iter().filter(|(_, (c, d))| *c != 0 || *d != 0) {
            let sql = "INSERT INTO sales_daily (day, value_cents, deals) VALUES ($1, $2, $3) ON CONFLICT (day) DO UPDATE \
                       SET value_cents = sales_daily.value_cents + excluded.value_cents, deals = sales_daily.deals + excluded.deals";
            conn.execute_raw(statement(backend, sql, vec![day.clone().into(), (*cents).into(), (*deals).into()]))
                .await?;
        }
        for (id, cents) in self.customers.iter().filter(|(_, c)| **c != 0) {
            let sql = "UPDATE customers SET completed_cents = completed_cents + $1 WHERE id = $2";
            conn.execute_raw(statement(backend, sql, vec![(*cents).into(), (*id).into()])).await?;
        }
        Ok(())
    }
}

/// One counter row.
#[derive(FromQueryResult)]
pub struct KeyCount {
    pub key: String,
    pub n: i64,
}

#[derive(FromQueryResult)]
struct DaySales {
    day: String,
    cents: i64,
    n: i64,
}

/// What a customer's live deals and activities contribute, to take away when it is deleted
/// (computed with aggregates, not by loading the rows).
pub async fn customer_contribution<C: ConnectionTrait>(conn: &C, customer_id: i64) -> Result<Deltas, DbErr> {
    let backend = conn.get_database_backend();
    let mut deltas = Deltas::default();
    let counts = "SELECT 'deals:' || status AS key, COUNT(*) AS n FROM deals WHERE customer_id = $1 AND deleted_at IS NULL GROUP BY status \
                  UNION ALL SELECT 'activities:' || type AS key, COUNT(*) AS n FROM activities WHERE customer_id = $2 AND deleted_at IS NULL GROUP BY type";
    for row in KeyCount::find_by_statement(statement(backend, counts, vec![customer_id.into(), customer_id.into()]))
        .all(conn)
        .await?
    {
        deltas.count(row.key, -row.n);
    }
    let day = day_expr(backend, "closed_at");
    let sales = format!(
        "SELECT {day} AS day, CAST(SUM(value_cents) AS BIGINT) AS cents, COUNT(*) AS n FROM deals \
         WHERE customer_id = $1 AND status = 'completed' AND deleted_at IS NULL AND closed_at IS NOT NULL GROUP BY {day}"
    );
    for row in DaySales::find_by_statement(statement(backend, &sales, vec![customer_id.into()])).all(conn).await? {
        deltas.sale(row.day, customer_id, -row.cents, -row.n);
    }
    Ok(deltas)
}

/// Recomputes every summary from the rows (after bulk loads, or to repair).
pub async fn rebuild(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = crate::repo::begin_write(db).await?;
    for sql in migration::rebuild_statements(db.get_database_backend()) {
        txn.execute_unprepared(&sql).await?;
    }
    for sql in migration::LIVE_COUNTERS {
        txn.execute_unprepared(sql).await?;
    }
    txn.commit().await
}

/// The value of one counter (0 when absent).
pub async fn counter<C: ConnectionTrait>(conn: &C, key: &str) -> Result<i64, DbErr> {
    let backend = conn.get_database_backend();
    let sql = "SELECT key, n FROM crm_counters WHERE key = $1";
    Ok(KeyCount::find_by_statement(statement(backend, sql, vec![key.into()])).one(conn).await?.map_or(0, |r| r.n))
}

/// Every counter whose key starts with `prefix`, with the prefix removed.
pub async fn counters<C: ConnectionTrait>(conn: &C, prefix: &str) -> Result<Vec<(String, i64)>, DbErr> {
    let backend = conn.get_database_backend();
    let sql = "SELECT key, n FROM crm_counters WHERE key LIKE $1";
    let rows =
        KeyCount::find_by_statement(statement(backend, sql, vec![format!("{prefix}%").into()])).all(conn).await?;
    Ok(rows.into_iter().filter_map(|r| r.key.strip_prefix(prefix).map(|k| (k.to_string(), r.n))).collect())
}

/// The sum of the counters under `prefix` (e.g. every live deal), as a count.
pub async fn counter_total<C: ConnectionTrait>(conn: &C, prefix: &str) -> Result<u64, DbErr> {
    Ok(counters(conn, prefix).await?.iter().map(|(_, n)| n).sum::<i64>().max(0) as u64)
}

/// The sum of the counters `keys`, as a count.
pub async fn count_sum<C: ConnectionTrait>(conn: &C, keys: &[String]) -> Result<u64, DbErr> {
    if keys.is_empty() {
        return Ok(0);
    }
    let backend = conn.get_database_backend();
    let placeholders: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
    let sql = format!("SELECT key, n FROM crm_counters WHERE key IN ({})", placeholders.join(", "));
    let values = keys.iter().map(|k| k.as_str().into()).collect();
    let rows = KeyCount::find_by_statement(statement(backend, &sql, values)).all(conn).await?;
    Ok(rows.iter().map(|r| r.n).sum::<i64>().max(0) as u64)
}

/// One counter, as a count.
pub async fn count_of<C: ConnectionTrait>(conn: &C, key: &str) -> Result<u64, DbErr> {
    Ok(counter(conn, key).await?.max(0) as u64)
}
