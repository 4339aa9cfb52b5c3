//! Sales aggregates in SQL, with the date-bucket expression of each engine.

use crate::error::crm;
use crate::repo::deals::from_cents;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::Result;
use crm_core::analytics::{Period, PeriodSales, TopCustomer};
use crm_core::ports::AnalyticsRepository;
use rust_decimal::Decimal;
use sea_orm::{DatabaseConnection, DbBackend, FromQueryResult, Statement, Value};

/// [`AnalyticsRepository`] over `customers` and `deals`.
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

    /// A statement whose `$1`, `$2`… placeholders are rewritten to `?` on SQLite.
    fn statement(&self, sql: &str, values: Vec<Value>) -> Statement {
        let sql = match self.backend() {
            DbBackend::Postgres => sql.to_string(),
            _ => rewrite_placeholders(sql),
        };
        Statement::from_sql_and_values(self.backend(), sql, values)
    }

    /// The SQL expression labelling `column` with its bucket (see [`Period::label`]).
    fn bucket(&self, period: Period, column: &str) -> String {
        match self.backend() {
            DbBackend::Postgres => {
                let utc = format!("({column} AT TIME ZONE 'UTC')");
                match period {
                    Period::Daily => format!("to_char({utc}, 'YYYY-MM-DD')"),
                    Period::Weekly => format!("to_char(date_trunc('week', {utc}), 'YYYY-MM-DD')"),
                    Period::Monthly => format!("to_char({utc}, 'YYYY-MM')"),
                    Period::Yearly => format!("to_char({utc}, 'YYYY')"),
                }
            }
            _ => match period {
                Period::Daily => format!("strftime('%Y-%m-%d', {column})"),
                Period::Weekly => format!("date({column}, 'weekday 0', '-6 days')"),
                Period::Monthly => format!("strftime('%Y-%m', {column})"),
                Period::Yearly => format!("strftime('%Y', {column})"),
            },
        }
    }
}

/// `$1` → `?` (the arguments are bound in order, and each is used once).
fn rewrite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// Completed deals that count as sales, in `[$1, $2)`.
const COMPLETED_IN_RANGE: &str =
    "d.status = 'completed' AND d.deleted_at IS NULL AND d.closed_at >= $1 AND d.closed_at < $2";

#[derive(FromQueryResult)]
struct StatusCount {
    status: String,
    n: i64,
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

#[derive(FromQueryResult)]
struct Bucket {
    period: String,
    cents: i64,
    n: i64,
}

#[derive(FromQueryResult)]
struct Ranked {
    customer_id: i64,
    name: String,
    cents: i64,
}

#[async_trait]
impl AnalyticsRepository for SqlAnalytics {
    async fn customers_by_status(&self) -> Result<Vec<(String, u64)>> {
        let stmt = self.statement(
            "SELECT status, COUNT(*) AS n FROM customers WHERE deleted_at IS NULL GROUP BY status",
            vec![],
        );
        let rows = StatusCount::find_by_statement(stmt)
            .all(&self.db)
            .await
            .map_err(crm)?;
        Ok(rows
            .into_iter()
            .map(|r| (r.status, r.n.max(0) as u64))
            .collect())
    }

    async fn open_deals(&self) -> Result<u64> {
        let stmt = self.statement(
            "SELECT COUNT(*) AS n FROM deals WHERE status IN ('new', 'in_progress') AND deleted_at IS NULL",
            vec![],
        );
        let row = Count::find_by_statement(stmt)
            .one(&self.db)
            .await
            .map_err(crm)?;
        Ok(row.map_or(0, |r| r.n.max(0) as u64))
    }

    async fn completed_value(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Decimal> {
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(d.value_cents), 0) AS BIGINT) AS n FROM deals d WHERE {COMPLETED_IN_RANGE}"
        );
        let row = Count::find_by_statement(self.statement(&sql, vec![from.into(), to.into()]))
            .one(&self.db)
            .await
            .map_err(crm)?;
        Ok(from_cents(row.map_or(0, |r| r.n)))
    }

    async fn completed_by_period(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        period: Period,
    ) -> Result<Vec<PeriodSales>> {
        let bucket = self.bucket(period, "d.closed_at");
        let sql = format!(
            "SELECT {bucket} AS period, CAST(SUM(d.value_cents) AS BIGINT) AS cents, COUNT(*) AS n \
             FROM deals d WHERE {COMPLETED_IN_RANGE} GROUP BY 1 ORDER BY 1"
        );
        let rows = Bucket::find_by_statement(self.statement(&sql, vec![from.into(), to.into()]))
            .all(&self.db)
            .await
            .map_err(crm)?;
        Ok(rows
            .into_iter()
            .map(|r| PeriodSales {
                period: r.period,
                sales: from_cents(r.cents),
                deals: r.n.max(0) as u64,
            })
            .collect())
    }

    async fn top_customers(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<TopCustomer>> {
        let sql = format!(
            "SELECT d.customer_id AS customer_id, c.name AS name, CAST(SUM(d.value_cents) AS BIGINT) AS cents \
             FROM deals d JOIN customers c ON c.id = d.customer_id \
             WHERE {COMPLETED_IN_RANGE} AND c.deleted_at IS NULL \
             GROUP BY d.customer_id, c.name ORDER BY cents DESC, d.customer_id LIMIT $3"
        );
        let stmt = self.statement(&sql, vec![from.into(), to.into(), (limit as i64).into()]);
        let rows = Ranked::find_by_statement(stmt)
            .all(&self.db)
            .await
            .map_err(crm)?;
        Ok(rows
            .into_iter()
            .map(|r| TopCustomer {
                customer_id: r.customer_id,
                customer_name: r.name,
                total_value: from_cents(r.cents),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_for_sqlite() {
        assert_eq!(
            rewrite_placeholders("a >= $1 AND b < $2 LIMIT $10"),
            "a >= ? AND b < ? LIMIT ?"
        );
        assert_eq!(rewrite_placeholders("cost$ 'x'"), "cost$ 'x'");
    }
}
