//! The CRM REST dashboard and reports over the summaries every write keeps (`crm_counters`,
//! `sales_daily`, `won_daily`, `open_daily`) and, for the record kinds of at most a few hundred
//! thousand rows (activities, leads, accounts), one grouped statement over their live indexes.

use crate::entity::pipeline_stages;
use crate::error::db;
use crate::repo::deals::from_cents;
use crate::repo::listing::{RefKind, lookup, names_of};
use crate::repo::statement;
use crate::repo::summaries::KeyCount;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::Result;
use crm_core::activity::ActivityType;
use crm_core::analytics::{DateRange, PeriodSales};
use crm_core::insights::{
    AccountCell, ActivityCell, Counted, InsightRepository, LeadCell, SalesCell, StageCell, Totals,
};
use rust_decimal::Decimal;
use sea_orm::{DatabaseConnection, EntityTrait, FromQueryResult, QueryOrder, Value};

/// [`InsightRepository`] over the summaries and live indexes.
#[derive(Clone)]
pub struct SqlInsights {
    db: DatabaseConnection,
}

impl SqlInsights {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlInsights { db }
    }

    async fn rows<T: FromQueryResult>(&self, sql: &str, values: Vec<Value>) -> Result<Vec<T>> {
        let stmt = statement(self.db.get_database_backend(), sql, values);
        T::find_by_statement(stmt).all(&self.db).await.map_err(db)
    }
}

/// `[start, end]` as `sales_daily`-style day keys.
fn days(range: DateRange) -> Vec<Value> {
    vec![range.start.to_string().into(), range.end.to_string().into()]
}

/// `[start 00:00, end + 1 00:00)` as instants.
fn instants(range: DateRange) -> Vec<Value> {
    let (from, to) = range.instants();
    vec![from.into(), to.into()]
}

/// Σ cents × percent as an amount (two decimals, half away from zero).
fn weighted_amount(cents_percent: i64) -> Decimal {
    Decimal::new(cents_percent, 4).round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

#[derive(FromQueryResult)]
struct Bucket {
    period: String,
    k: i64,
    n: i64,
    cents: i64,
    weighted: i64,
    secs: i64,
}

#[derive(FromQueryResult)]
struct Grouped {
    a: Option<String>,
    b: Option<String>,
    k: Option<i64>,
    n: i64,
}

#[async_trait]
impl InsightRepository for SqlInsights {
    async fn totals(&self) -> Result<Totals> {
        let sql = "SELECT key, n FROM crm_counters WHERE key LIKE 'customers:%' \
                   OR key IN ('contacts:live', 'leads:live', 'deals:new', 'deals:in_progress', 'deals:completed', 'deals:cancelled') \
                   UNION ALL SELECT 'revenue' AS key, CAST(COALESCE(SUM(value_cents), 0) AS BIGINT) AS n FROM sales_daily \
                   UNION ALL SELECT 'open' AS key, CAST(COALESCE(SUM(value_cents), 0) AS BIGINT) AS n FROM open_daily \
                   UNION ALL SELECT 'weighted' AS key, CAST(COALESCE(SUM(weighted), 0) AS BIGINT) AS n FROM open_daily";
        let mut t = Totals::default();
        for row in self.rows::<KeyCount>(sql, vec![]).await? {
            match row.key.as_str() {
                "contacts:live" => t.contacts = count(row.n),
                "leads:live" => t.leads = count(row.n),
                "deals:new" | "deals:in_progress" => t.open_deals += count(row.n),
                "deals:completed" => t.won_deals = count(row.n),
                "deals:cancelled" => t.lost_deals = count(row.n),
                "revenue" => t.revenue = from_cents(row.n),
                "open" => t.open_value = from_cents(row.n),
                "weighted" => t.weighted_value = weighted_amount(row.n),
                _ => t.accounts += count(row.n),
            }
        }
        Ok(t)
    }

    async fn deals_by_stage(&self) -> Result<Vec<Counted>> {
        let sql = "SELECT s.name AS key, COALESCE(c.n, 0) AS n FROM pipeline_stages s \
                   LEFT JOIN crm_counters c ON c.key = 'deal_stages:' || CAST(s.id AS VARCHAR(20)) \
                   WHERE s.deleted_at IS NULL AND s.is_active = TRUE ORDER BY s.sort_order, s.id";
        let rows = self.rows::<KeyCount>(sql, vec![]).await?;
        Ok(rows.into_iter().map(|r| Counted { name: r.key, count: count(r.n) }).collect())
    }

    async fn revenue_by_month(&self, range: DateRange) -> Result<Vec<PeriodSales>> {
        let sql = "SELECT substr(day, 1, 7) AS period, CAST(0 AS BIGINT) AS k, CAST(SUM(deals) AS BIGINT) AS n, \
                   CAST(SUM(value_cents) AS BIGINT) AS cents, CAST(0 AS BIGINT) AS weighted, CAST(0 AS BIGINT) AS secs \
                   FROM sales_daily WHERE day >= $1 AND day <= $2 GROUP BY substr(day, 1, 7) ORDER BY 1";
        let rows = self.rows::<Bucket>(sql, days(range)).await?;
        Ok(rows
            .into_iter()
            .filter(|r| r.n > 0 || r.cents != 0)
            .map(|r| PeriodSales { period: r.period, sales: from_cents(r.cents), deals: count(r.n) })
            .collect())
    }

    async fn leads_by_status(&self) -> Result<Vec<Counted>> {
        let sql = "SELECT status AS key, COUNT(*) AS n FROM leads WHERE deleted_at IS NULL GROUP BY status";
        let rows = self.rows::<KeyCount>(sql, vec![]).await?;
        Ok(rows.into_iter().map(|r| Counted { name: r.key, count: count(r.n) }).collect())
    }

    async fn sales(&self, range: DateRange) -> Result<Vec<SalesCell>> {
        let sql = "SELECT substr(day, 1, 7) AS period, owner_id AS k, CAST(SUM(deals) AS BIGINT) AS n, \
                   CAST(SUM(value_cents) AS BIGINT) AS cents, CAST(0 AS BIGINT) AS weighted, CAST(0 AS BIGINT) AS secs \
                   FROM won_daily WHERE day >= $1 AND day <= $2 GROUP BY substr(day, 1, 7), owner_id";
        let rows: Vec<Bucket> = self.rows::<Bucket>(sql, days(range)).await?.into_iter().filter(|r| r.n > 0).collect();
        let [owners] = names_of(&self.db, [RefKind::users(rows.iter().map(|r| r.k).filter(|k| *k > 0))]).await?;
        let mut cells: Vec<SalesCell> = rows
            .into_iter()
            .map(|r| SalesCell {
                owner: lookup(&owners, Some(r.k)),
                month: r.period,
                deals: count(r.n),
                amount: from_cents(r.cents),
            })
            .collect();
        let owner_name = |c: &SalesCell| c.owner.as_ref().map(|o| (o.name.to_lowercase(), o.id));
        cells.sort_by(|a, b| {
            (&a.month, owner_name(a).is_none(), owner_name(a)).cmp(&(&b.month, owner_name(b).is_none(), owner_name(b)))
        });
        Ok(cells)
    }

    async fn pipeline(&self, range: DateRange, now: DateTime<Utc>) -> Result<Vec<StageCell>> {
        let sql = "SELECT '' AS period, stage_id AS k, CAST(SUM(deals) AS BIGINT) AS n, CAST(SUM(value_cents) AS BIGINT) AS cents, \
                   CAST(SUM(weighted) AS BIGINT) AS weighted, CAST(SUM(created_secs) AS BIGINT) AS secs \
                   FROM open_daily WHERE day >= $1 AND day <= $2 GROUP BY stage_id";
        let sums: Vec<Bucket> = self.rows::<Bucket>(sql, days(range)).await?.into_iter().filter(|r| r.n > 0).collect();
        let stages = pipeline_stages::Entity::find()
            .order_by_asc(pipeline_stages::Column::SortOrder)
            .order_by_asc(pipeline_stages::Column::Id)
            .all(&self.db)
            .await
            .map_err(db)?;
        let cell = |stage: Option<kernel::Ref>, key: i64| {
            let found = sums.iter().find(|s| s.k == key);
            let n = found.map_or(0, |s| s.n);
            StageCell {
                stage,
                deals: count(n),
                amount: from_cents(found.map_or(0, |s| s.cents)),
                weighted: weighted_amount(found.map_or(0, |s| s.weighted)),
                age_days: found.map_or(0.0, |s| (n as f64 * now.timestamp() as f64 - s.secs as f64) / 86_400.0),
            }
        };
        let mut cells = Vec::new();
        // Active stages in pipeline order (zeros included), then other stages holding deals.
        for active in [true, false] {
            for s in stages.iter().filter(|s| (s.is_active && s.deleted_at.is_none()) == active) {
                let c = cell(Some(kernel::Ref { id: s.id, name: s.name.clone() }), s.id);
                if active || c.deals > 0 {
                    cells.push(c);
                }
            }
        }
        let none = cell(None, 0);
        if none.deals > 0 {
            cells.push(none);
        }
        Ok(cells)
    }

    async fn activities(&self, range: DateRange) -> Result<Vec<ActivityCell>> {
        let sql = "SELECT type AS a, status AS b, user_id AS k, COUNT(*) AS n FROM activities \
                   WHERE deleted_at IS NULL AND created_at >= $1 AND created_at < $2 GROUP BY type, status, user_id";
        let rows = self.rows::<Grouped>(sql, instants(range)).await?;
        let [owners] = names_of(&self.db, [RefKind::users(rows.iter().filter_map(|r| r.k))]).await?;
        let mut cells: Vec<ActivityCell> = rows
            .into_iter()
            .map(|r| {
                let kind = r.a.unwrap_or_default();
                ActivityCell {
                    activity_type: ActivityType::parse(&kind).map_or(kind, |t| t.label().to_string()),
                    status: r.b.unwrap_or_default(),
                    owner: lookup(&owners, r.k),
                    count: count(r.n),
                }
            })
            .collect();
        let owner = |c: &ActivityCell| c.owner.as_ref().map(|o| (o.name.to_lowercase(), o.id));
        cells.sort_by(|a, b| {
            (&a.activity_type, &a.status, owner(a).is_none(), owner(a)).cmp(&(
                &b.activity_type,
                &b.status,
                owner(b).is_none(),
                owner(b),
            ))
        });
        Ok(cells)
    }

    async fn leads(&self, range: DateRange) -> Result<Vec<LeadCell>> {
        let sql = "SELECT lead_source AS a, status AS b, CAST(NULL AS BIGINT) AS k, COUNT(*) AS n FROM leads \
                   WHERE deleted_at IS NULL AND created_at >= $1 AND created_at < $2 GROUP BY lead_source, status";
        let rows = self.rows::<Grouped>(sql, instants(range)).await?;
        Ok(rows
            .into_iter()
            .map(|r| LeadCell {
                source: r.a.filter(|s| !s.trim().is_empty()),
                status: r.b.unwrap_or_default(),
                count: count(r.n),
            })
            .collect())
    }

    async fn accounts(&self, range: DateRange) -> Result<Vec<AccountCell>> {
        let sql = "SELECT industry AS a, account_type AS b, territory_id AS k, COUNT(*) AS n FROM customers \
                   WHERE deleted_at IS NULL AND created_at >= $1 AND created_at < $2 GROUP BY industry, account_type, territory_id";
        let rows = self.rows::<Grouped>(sql, instants(range)).await?;
        let [territories] =
            names_of(&self.db, [RefKind::new("territories", "name", false, rows.iter().filter_map(|r| r.k))]).await?;
        let mut cells: Vec<AccountCell> = rows
            .into_iter()
            .map(|r| AccountCell {
                industry: r.a,
                account_type: r.b,
                territory: lookup(&territories, r.k),
                count: count(r.n),
            })
            .collect();
        let key = |c: &AccountCell| {
            let text = |v: &Option<String>| v.as_ref().map(|s| s.to_lowercase());
            (
                c.industry.is_none(),
                text(&c.industry),
                c.account_type.is_none(),
                text(&c.account_type),
                c.territory.is_none(),
                c.territory.as_ref().map(|t| t.name.to_lowercase()),
            )
        };
        cells.sort_by_key(key);
        Ok(cells)
    }
}
