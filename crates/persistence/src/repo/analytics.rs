//! Sales analytics from the summaries (`crm_counters`, `sales_daily`,
//! `customers.completed_cents`), so the dashboard reads a few hundred rows at most.

use crate::error::db;
use crate::repo::deals::from_cents;
use crate::repo::statement;
use crate::repo::summaries::{KeyCount, deals_key};
use async_trait::async_trait;
use crm_core::Result;
use crm_core::analytics::{DateRange, LiveCounts, Period, PeriodSales, TopCustomer};
use crm_core::ports::AnalyticsRepository;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, TransactionTrait, Value};

/// Ranges with at most this many completed deals are ranked by a direct aggregate;
/// wider ones by the bounded search over customers' all-time values.
const DIRECT_RANKING_MAX_DEALS: i64 = 50_000;
/// Candidates examined per round of the bounded search.
const CANDIDATE_BATCH: u64 = 200;

/// [`AnalyticsRepository`] over the CRM summaries.
#[derive(Clone)]
pub struct SqlAnalytics {
    db: DatabaseConnection,
}

impl SqlAnalytics {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlAnalytics { db }
    }

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// The SQL expression labelling a `sales_daily.day` with its bucket (see [`Period::label`]).
    fn bucket(&self, period: Period) -> &'static str {
        match (period, self.backend()) {
            (Period::Daily, _) => "day",
            (Period::Monthly, _) => "substr(day, 1, 7)",
            (Period::Yearly, _) => "substr(day, 1, 4)",
            (Period::Weekly, DbBackend::Postgres) => "to_char(date_trunc('week', CAST(day AS date)), 'YYYY-MM-DD')",
            (Period::Weekly, _) => "date(day, 'weekday 0', '-6 days')",
        }
    }

    fn days(range: DateRange) -> Vec<Value> {
        vec![range.start.to_string().into(), range.end.to_string().into()]
    }

    async fn completed_deals(&self, range: DateRange) -> Result<i64> {
        let sql = "SELECT CAST(COALESCE(SUM(deals), 0) AS BIGINT) AS n FROM sales_daily WHERE day >= $1 AND day <= $2";
        let row = Count::find_by_statement(statement(self.backend(), sql, Self::days(range)))
            .one(&self.db)
            .await
            .map_err(db)?;
        Ok(row.map_or(0, |r| r.n))
    }

    /// Ranks by aggregating the range's completed deals directly.
    async fn rank_directly(&self, conn: &impl ConnectionTrait, range: DateRange, limit: u64) -> Result<Vec<Ranked>> {
        let (from, to) = range.instants();
        let sql = "SELECT d.customer_id AS id, c.name AS name, CAST(SUM(d.value_cents) AS BIGINT) AS cents \
                   FROM deals d JOIN customers c ON c.id = d.customer_id \
                   WHERE d.status = 'completed' AND d.deleted_at IS NULL AND d.closed_at >= $1 AND d.closed_at < $2 \
                   AND c.deleted_at IS NULL GROUP BY d.customer_id, c.name ORDER BY cents DESC, d.customer_id LIMIT $3";
        let stmt = statement(self.backend(), sql, vec![from.into(), to.into(), (limit as i64).into()]);
        Ranked::find_by_statement(stmt).all(conn).await.map_err(db)
    }

    /// Exact ranking for wide ranges: a customer's value in a range never exceeds its
    /// all-time value, so candidates are taken in decreasing all-time value until the next
    /// one cannot beat the current last place.
    async fn rank_bounded(&self, conn: &impl ConnectionTrait, range: DateRange, limit: u64) -> Result<Vec<Ranked>> {
        let (from, to) = range.instants();
        let mut best: Vec<Ranked> = Vec::new();
        let mut after: Option<(i64, i64)> = None;
        loop {
            let (cursor, mut values) = match after {
                Some((cents, id)) => (
                    " AND (completed_cents < $1 OR (completed_cents = $2 AND id < $3))",
                    vec![cents.into(), cents.into(), id.into()],
                ),
                None => ("", vec![]),
            };
            let sql = format!(
                "SELECT id, name, completed_cents AS cents FROM customers WHERE deleted_at IS NULL AND completed_cents > 0{cursor} \
                 ORDER BY completed_cents DESC, id DESC LIMIT {CANDIDATE_BATCH}"
            );
            let candidates = Ranked::find_by_statement(statement(self.backend(), &sql, std::mem::take(&mut values)))
                .all(conn)
                .await
                .map_err(db)?;
            let Some(last) = candidates.last() else { break };
            let (last_cents, last_id) = (last.cents, last.id);
            let placeholders: Vec<String> = (0..candidates.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "SELECT customer_id AS id, '' AS name, CAST(SUM(value_cents) AS BIGINT) AS cents FROM deals \
                 WHERE status = 'completed' AND deleted_at IS NULL AND closed_at >= $1 AND closed_at < $2 \
                 AND customer_id IN ({}) GROUP BY customer_id",
                placeholders.join(", ")
            );
            let mut args: Vec<Value> = vec![from.into(), to.into()];
            args.extend(candidates.iter().map(|c| Value::from(c.id)));
            let totals =
                Ranked::find_by_statement(statement(self.backend(), &sql, args)).all(conn).await.map_err(db)?;
            for total in totals.into_iter().filter(|t| t.cents > 0) {
                let name = candidates.iter().find(|c| c.id == total.id).map(|c| c.name.clone()).unwrap_or_default();
                best.push(Ranked { id: total.id, name, cents: total.cents });
            }
            best.sort_by(|a, b| b.cents.cmp(&a.cents).then(a.id.cmp(&b.id)));
            best.truncate(limit as usize);
            let full = best.len() as u64 == limit;
            if (full && last_cents < best[best.len() - 1].cents) || (candidates.len() as u64) < CANDIDATE_BATCH {
                break;
            }
            after = Some((last_cents, last_id));
        }
        Ok(best)
    }
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

#[derive(FromQueryResult)]
struct Share {
    total: i64,
    hits: i64,
}

#[derive(FromQueryResult)]
struct Bucket {
    period: String,
    cents: i64,
    n: i64,
}

#[derive(FromQueryResult, Debug, Clone)]
struct Ranked {
    id: i64,
    name: String,
    cents: i64,
}

#[async_trait]
impl AnalyticsRepository for SqlAnalytics {
    async fn live_counts(&self) -> Result<LiveCounts> {
        let sql = "SELECT key, n FROM crm_counters WHERE key LIKE $1 OR key IN ($2, $3)";
        let values = vec!["customers:%".into(), deals_key("new").into(), deals_key("in_progress").into()];
        let rows =
            KeyCount::find_by_statement(statement(self.backend(), sql, values)).all(&self.db).await.map_err(db)?;
        let mut counts = LiveCounts::default();
        for row in rows.into_iter().filter(|r| r.n > 0) {
            match row.key.strip_prefix("customers:") {
                Some(status) => counts.customers_by_status.push((status.to_string(), row.n as u64)),
                None => counts.open_deals += row.n as u64,
            }
        }
        Ok(counts)
    }

    async fn completed_value(&self, range: DateRange) -> Result<Decimal> {
        let sql =
            "SELECT CAST(COALESCE(SUM(value_cents), 0) AS BIGINT) AS n FROM sales_daily WHERE day >= $1 AND day <= $2";
        let row = Count::find_by_statement(statement(self.backend(), sql, Self::days(range)))
            .one(&self.db)
            .await
            .map_err(db)?;
        Ok(from_cents(row.map_or(0, |r| r.n)))
    }

    async fn completed_by_period(&self, range: DateRange, period: Period) -> Result<Vec<PeriodSales>> {
        let bucket = self.bucket(period);
        let sql = format!(
            "SELECT {bucket} AS period, CAST(SUM(value_cents) AS BIGINT) AS cents, CAST(SUM(deals) AS BIGINT) AS n \
             FROM sales_daily WHERE day >= $1 AND day <= $2 AND deals > 0 GROUP BY {bucket} ORDER BY 1"
        );
        let rows = Bucket::find_by_statement(statement(self.backend(), &sql, Self::days(range)))
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|r| PeriodSales { period: r.period, sales: from_cents(r.cents), deals: r.n.max(0) as u64 })
            .collect())
    }

    async fn recent_with_status(&self, limit: u64, status: &str) -> Result<(u64, u64)> {
        let sql = "SELECT COUNT(*) AS total, CAST(COALESCE(SUM(CASE WHEN status = $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS hits \
                   FROM (SELECT status FROM customers WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $2) recent";
        let stmt = statement(self.backend(), sql, vec![status.into(), (limit as i64).into()]);
        let row = Share::find_by_statement(stmt).one(&self.db).await.map_err(db)?;
        Ok(row.map_or((0, 0), |r| (r.total.max(0) as u64, r.hits.max(0) as u64)))
    }

    async fn top_customers(&self, range: DateRange, limit: u64) -> Result<Vec<TopCustomer>> {
        let direct = self.completed_deals(range).await? <= DIRECT_RANKING_MAX_DEALS;
        let txn = self.db.begin().await.map_err(db)?;
        if self.backend() == DbBackend::Postgres {
            // Only the ranking needs a plan for its real date range: a generic plan of these
            // statements picked a full-range index after five executions (1.7 s instead of
            // 8 ms). Every other statement keeps its cached generic plan.
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await.map_err(db)?;
        }
        let ranked = if direct {
            self.rank_directly(&txn, range, limit).await?
        } else {
            self.rank_bounded(&txn, range, limit).await?
        };
        txn.commit().await.map_err(db)?;
        Ok(ranked
            .into_iter()
            .map(|r| TopCustomer { customer_id: r.id, customer_name: r.name, total_value: from_cents(r.cents) })
            .collect())
    }
}
