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

/// Counter key of live deals (any status) at stage `stage` (0: no stage).
pub fn stage_key(stage: Option<i64>) -> String {
    format!("deal_stages:{}", stage.unwrap_or(0))
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
    /// (close day, owner or 0) → (Won value in cents, Won deals)
    won: BTreeMap<(String, i64), (i64, i64)>,
    /// (creation day, stage or 0) → open deals, their value in cents, Σ cents × probability,
    /// Σ creation instants (Unix seconds)
    open: BTreeMap<(String, i64), [i64; 4]>,
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
        self.won.values_mut().for_each(|(c, d)| (*c, *d) = (-*c, -*d));
        self.open.values_mut().for_each(|v| v.iter_mut().for_each(|x| *x = -*x));
        self
    }

    /// Adds (`sign` = 1) or removes (-1) everything a live deal contributes.
    pub fn deal(&mut self, d: &deals::Model, sign: i64) {
        self.count(deals_key(&d.status), sign);
        self.count(stage_key(d.stage_id), sign);
        if d.status == "completed"
            && let Some(closed) = d.closed_at
        {
            let day = closed.format("%Y-%m-%d").to_string();
            self.sale(day.clone(), d.customer_id, sign * d.value_cents, sign);
            self.won(day, d.user_id.unwrap_or(0), sign * d.value_cents, sign);
        }
        if matches!(d.status.as_str(), "new" | "in_progress") {
            let weighted = d.value_cents * i64::from(d.probability.unwrap_or(0));
            let row = [1, d.value_cents, weighted, d.created_at.timestamp()].map(|x| sign * x);
            self.open_deals(d.created_at.format("%Y-%m-%d").to_string(), d.stage_id.unwrap_or(0), row);
        }
    }

    /// Adds Won value and deals to a close day and owner (0: none).
    pub fn won(&mut self, day: String, owner: i64, cents: i64, deals: i64) {
        let entry = self.won.entry((day, owner)).or_default();
        entry.0 += cents;
        entry.1 += deals;
    }

    /// Adds open deals (count, cents, Σ cents × probability, Σ creation seconds) to a creation
    /// day and stage (0: none).
    pub fn open_deals(&mut self, day: String, stage: i64, row: [i64; 4]) {
        let entry = self.open.entry((day, stage)).or_default();
        for (e, x) in entry.iter_mut().zip(row) {
            *e += x;
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
        for ((day, owner), (cents, deals)) in self.won.iter().filter(|(_, (c, d))| *c != 0 || *d != 0) {
            let sql = "INSERT INTO won_daily (day, owner_id, value_cents, deals) VALUES ($1, $2, $3, $4) \
                       ON CONFLICT (day, owner_id) DO UPDATE SET value_cents = won_daily.value_cents + excluded.value_cents, \
                       deals = won_daily.deals + excluded.deals";
            let values = vec![day.clone().into(), (*owner).into(), (*cents).into(), (*deals).into()];
            conn.execute_raw(statement(backend, sql, values)).await?;
        }
        for ((day, stage), [n, cents, weighted, secs]) in self.open.iter().filter(|(_, v)| v.iter().any(|x| *x != 0)) {
            let sql = "INSERT INTO open_daily (day, stage_id, deals, value_cents, weighted, created_secs) \
                       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (day, stage_id) DO UPDATE SET \
                       deals = open_daily.deals + excluded.deals, value_cents = open_daily.value_cents + excluded.value_cents, \
                       weighted = open_daily.weighted + excluded.weighted, created_secs = open_daily.created_secs + excluded.created_secs";
            let values = vec![
                day.clone().into(),
                (*stage).into(),
                (*n).into(),
                (*cents).into(),
                (*weighted).into(),
                (*secs).into(),
            ];
            conn.execute_raw(statement(backend, sql, values)).await?;
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

/// Deal sums of one day and key (owner or stage).
#[derive(FromQueryResult)]
struct KeyedSums {
    day: String,
    k: i64,
    cents: i64,
    n: i64,
    weighted: i64,
    secs: i64,
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
                  UNION ALL SELECT 'deal_stages:' || CAST(COALESCE(stage_id, 0) AS VARCHAR(20)) AS key, COUNT(*) AS n FROM deals \
                  WHERE customer_id = $2 AND deleted_at IS NULL GROUP BY COALESCE(stage_id, 0) \
                  UNION ALL SELECT 'activities:' || type AS key, COUNT(*) AS n FROM activities WHERE customer_id = $3 AND deleted_at IS NULL GROUP BY type";
    let ids = vec![customer_id.into(), customer_id.into(), customer_id.into()];
    for row in KeyCount::find_by_statement(statement(backend, counts, ids)).all(conn).await? {
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
    let won = format!(
        "SELECT {day} AS day, COALESCE(user_id, 0) AS k, CAST(SUM(value_cents) AS BIGINT) AS cents, COUNT(*) AS n, \
         CAST(0 AS BIGINT) AS weighted, CAST(0 AS BIGINT) AS secs FROM deals \
         WHERE customer_id = $1 AND status = 'completed' AND deleted_at IS NULL AND closed_at IS NOT NULL \
         GROUP BY {day}, COALESCE(user_id, 0)"
    );
    for row in KeyedSums::find_by_statement(statement(backend, &won, vec![customer_id.into()])).all(conn).await? {
        deltas.won(row.day, row.k, -row.cents, -row.n);
    }
    let created = day_expr(backend, "created_at");
    let epoch = match backend {
        sea_orm::DbBackend::Postgres => "CAST(FLOOR(EXTRACT(EPOCH FROM created_at)) AS BIGINT)",
        _ => "CAST(strftime('%s', created_at) AS INTEGER)",
    };
    let open = format!(
        "SELECT {created} AS day, COALESCE(stage_id, 0) AS k, CAST(SUM(value_cents) AS BIGINT) AS cents, COUNT(*) AS n, \
         CAST(SUM(value_cents * COALESCE(probability, 0)) AS BIGINT) AS weighted, CAST(SUM({epoch}) AS BIGINT) AS secs \
         FROM deals WHERE customer_id = $1 AND status IN ('new', 'in_progress') AND deleted_at IS NULL \
         GROUP BY {created}, COALESCE(stage_id, 0)"
    );
    for row in KeyedSums::find_by_statement(statement(backend, &open, vec![customer_id.into()])).all(conn).await? {
        deltas.open_deals(row.day, row.k, [-row.n, -row.cents, -row.weighted, -row.secs]);
    }
    Ok(deltas)
}

/// Recomputes every summary from the rows, and the duplicate keys of rows that have none
/// (after bulk loads, or to repair).
pub async fn rebuild(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = crate::repo::begin_write(db).await?;
    for sql in migration::rebuild_statements(db.get_database_backend()) {
        txn.execute_unprepared(&sql).await?;
    }
    for sql in migration::LIVE_COUNTERS {
        txn.execute_unprepared(sql).await?;
    }
    for sql in migration::deal_summary_statements(db.get_database_backend()) {
        txn.execute_unprepared(&sql).await?;
    }
    migration::backfill_match_keys(&txn).await?;
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
