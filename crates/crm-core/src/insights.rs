//! The CRM REST surface's insight: the dashboard (`/api/analytics/dashboard/`) and the
//! reports (`/api/analytics/reports/`). The database aggregates (summaries kept by every write,
//! or one grouped statement over an index); this module shapes the answers: which stages and
//! months appear (zeros included), rates, rows and totals.
//!
//! Definitions (also in `docs/crm-rest.md`):
//! - totals count live records; `total_deals` every live deal whatever its status;
//! - `total_revenue`: the amounts of every live Won deal (v1 `completed`);
//! - `deals_by_stage`: live deals (any status) at each active stage, in pipeline order;
//! - `revenue_by_month`: Won amounts by the UTC month of their close date, the last 12 months
//!   including the current one (the v1 dashboard's `salesTrend`);
//! - `open_pipeline_value`: amounts of open deals; `weighted_pipeline_value`: the sum of each
//!   open deal's amount × its probability / 100;
//! - `win_rate`: Won / (Won + Lost), percent; `lead_conversion_rate`: Converted leads / live
//!   leads, percent.

use crate::analytics::{DateRange, Period, PeriodSales, fill, percent};
use crate::error::{CrmError, Result};
use crate::leads::{CONVERTED, LEAD_STATUSES};
use async_trait::async_trait;
use chrono::{DateTime, Months, NaiveDate, Utc};
use futures_util::join;
use kernel::Ref;
use management_core::{Permission, Principal};
use rust_decimal::Decimal;
use std::sync::Arc;

/// Live counts and amounts the dashboard shows, read from the summaries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub accounts: u64,
    pub contacts: u64,
    pub leads: u64,
    pub open_deals: u64,
    pub won_deals: u64,
    pub lost_deals: u64,
    /// Amounts of every live Won deal.
    pub revenue: Decimal,
    /// Amounts of open deals.
    pub open_value: Decimal,
    /// Σ amount × probability / 100 over open deals.
    pub weighted_value: Decimal,
}

/// The count of something named (a stage, a status).
#[derive(Debug, Clone, PartialEq)]
pub struct Counted {
    pub name: String,
    pub count: u64,
}

/// Won deals of one month and owner.
#[derive(Debug, Clone, PartialEq)]
pub struct SalesCell {
    /// `YYYY-MM`.
    pub month: String,
    pub owner: Option<Ref>,
    pub deals: u64,
    pub amount: Decimal,
}

/// Open deals at one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageCell {
    /// `None`: deals without a stage.
    pub stage: Option<Ref>,
    pub deals: u64,
    pub amount: Decimal,
    pub weighted: Decimal,
    /// Σ of the deals' ages in days (fractional).
    pub age_days: f64,
}

/// Activities of one type, status and owner.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityCell {
    pub activity_type: String,
    pub status: String,
    pub owner: Option<Ref>,
    pub count: u64,
}

/// Leads of one source and status.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadCell {
    pub source: Option<String>,
    pub status: String,
    pub count: u64,
}

/// Accounts of one industry, type and territory.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountCell {
    pub industry: Option<String>,
    pub account_type: Option<String>,
    pub territory: Option<Ref>,
    pub count: u64,
}

/// The aggregates behind the dashboard and the reports, computed by the database.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait InsightRepository: Send + Sync {
    async fn totals(&self) -> Result<Totals>;
    /// Live deals at each active stage, in pipeline order, zeros included.
    async fn deals_by_stage(&self) -> Result<Vec<Counted>>;
    /// Won amounts and counts per `YYYY-MM` of their close date within `range`.
    async fn revenue_by_month(&self, range: DateRange) -> Result<Vec<PeriodSales>>;
    /// Live leads per status (only statuses that have some).
    async fn leads_by_status(&self) -> Result<Vec<Counted>>;
    /// Won deals closed in `range`, by month and owner.
    async fn sales(&self, range: DateRange) -> Result<Vec<SalesCell>>;
    /// Open deals created in `range`, per stage: every active stage in pipeline order (zeros
    /// included), then stages no longer active and deals without a stage when they have some;
    /// ages as of `now`.
    async fn pipeline(&self, range: DateRange, now: DateTime<Utc>) -> Result<Vec<StageCell>>;
    /// Activities created in `range`, by type, status and owner.
    async fn activities(&self, range: DateRange) -> Result<Vec<ActivityCell>>;
    /// Leads created in `range`, by source and status.
    async fn leads(&self, range: DateRange) -> Result<Vec<LeadCell>>;
    /// Accounts created in `range`, by industry, type and territory.
    async fn accounts(&self, range: DateRange) -> Result<Vec<AccountCell>>;
}

/// The REST dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub total_accounts: u64,
    pub total_contacts: u64,
    pub total_leads: u64,
    pub total_deals: u64,
    pub total_revenue: Decimal,
    pub deals_by_stage: Vec<Counted>,
    /// The last 12 months, oldest first, zeros included.
    pub revenue_by_month: Vec<PeriodSales>,
    pub open_pipeline_value: Decimal,
    pub weighted_pipeline_value: Decimal,
    /// Percent, two decimals.
    pub win_rate: f64,
    /// Every lead status, in the documented order.
    pub leads_by_status: Vec<Counted>,
    /// Percent, two decimals.
    pub lead_conversion_rate: f64,
}

/// The kinds of report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Sales,
    Pipeline,
    Activities,
    Leads,
    Accounts,
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Integer,
    /// An exact amount with two decimals.
    Money,
    /// A percentage with two decimals.
    Percent,
    /// A decimal number (one decimal).
    Number,
}

impl ColumnType {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Integer => "integer",
            ColumnType::Money => "money",
            ColumnType::Percent => "percent",
            ColumnType::Number => "number",
        }
    }
}

/// A report column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: ColumnType,
}

const fn col(key: &'static str, label: &'static str, kind: ColumnType) -> Column {
    Column { key, label, kind }
}

/// One value of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(u64),
    Money(Decimal),
    /// A percentage or a number, rounded as its column says.
    Float(f64),
    /// No value (a record without an owner, an industry, ...).
    Empty,
}

impl Cell {
    fn text(value: Option<String>) -> Cell {
        value.filter(|v| !v.trim().is_empty()).map_or(Cell::Empty, Cell::Text)
    }

    fn name(value: Option<Ref>) -> Cell {
        Cell::text(value.map(|r| r.name))
    }
}

const SALES: [Column; 5] = [
    col("month", "Month", ColumnType::Text),
    col("owner", "Owner", ColumnType::Text),
    col("deals", "Won deals", ColumnType::Integer),
    col("revenue", "Revenue", ColumnType::Money),
    col("average_deal", "Average deal", ColumnType::Money),
];
const PIPELINE: [Column; 5] = [
    col("stage", "Stage", ColumnType::Text),
    col("deals", "Open deals", ColumnType::Integer),
    col("amount", "Amount", ColumnType::Money),
    col("weighted_amount", "Weighted amount", ColumnType::Money),
    col("average_age_days", "Average age (days)", ColumnType::Number),
];
const ACTIVITIES: [Column; 4] = [
    col("activity_type", "Type", ColumnType::Text),
    col("status", "Status", ColumnType::Text),
    col("owner", "Owner", ColumnType::Text),
    col("activities", "Activities", ColumnType::Integer),
];
const LEADS: [Column; 10] = [
    col("lead_source", "Source", ColumnType::Text),
    col("leads", "Leads", ColumnType::Integer),
    col("new", "New", ColumnType::Integer),
    col("contacted", "Contacted", ColumnType::Integer),
    col("qualified", "Qualified", ColumnType::Integer),
    col("unqualified", "Unqualified", ColumnType::Integer),
    col("lost", "Lost", ColumnType::Integer),
    col("converted", "Converted", ColumnType::Integer),
    col("conversion_rate", "Conversion rate (%)", ColumnType::Percent),
    col("open", "Still open", ColumnType::Integer),
];
const ACCOUNTS: [Column; 4] = [
    col("industry", "Industry", ColumnType::Text),
    col("account_type", "Account type", ColumnType::Text),
    col("territory", "Territory", ColumnType::Text),
    col("accounts", "Accounts", ColumnType::Integer),
];

impl ReportKind {
    pub const ALL: [ReportKind; 5] =
        [ReportKind::Sales, ReportKind::Pipeline, ReportKind::Activities, ReportKind::Leads, ReportKind::Accounts];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Sales => "sales",
            ReportKind::Pipeline => "pipeline",
            ReportKind::Activities => "activities",
            ReportKind::Leads => "leads",
            ReportKind::Accounts => "accounts",
        }
    }

    /// Parses a `report_type`; the error names the allowed ones.
    pub fn parse(raw: &str) -> Result<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.as_str() == raw.trim()).ok_or_else(|| {
            CrmError::field(
                "report_type",
                format!("Unknown report type \"{raw}\"; use one of: sales, pipeline, activities, leads, accounts."),
            )
        })
    }

    /// The report's title.
    pub fn title(self) -> &'static str {
        match self {
            ReportKind::Sales => "Sales report",
            ReportKind::Pipeline => "Pipeline report",
            ReportKind::Activities => "Activities report",
            ReportKind::Leads => "Leads report",
            ReportKind::Accounts => "Accounts report",
        }
    }

    /// What it shows, and which date the range applies to.
    pub fn about(self) -> &'static str {
        match self {
            ReportKind::Sales => "Won deals closed in the range, by month of the close date and owner",
            ReportKind::Pipeline => {
                "Open deals created in the range, by stage: count, amount, weighted amount (amount x probability) and average age"
            }
            ReportKind::Activities => "Activities created in the range, by type, status and owner",
            ReportKind::Leads => "Leads created in the range, by source: count per status and the conversion rate",
            ReportKind::Accounts => "Accounts created in the range, by industry, account type and territory",
        }
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            ReportKind::Sales => &SALES,
            ReportKind::Pipeline => &PIPELINE,
            ReportKind::Activities => &ACTIVITIES,
            ReportKind::Leads => &LEADS,
            ReportKind::Accounts => &ACCOUNTS,
        }
    }
}

/// A report: its rows (cells in column order) and totals (by column key).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub kind: ReportKind,
    pub range: DateRange,
    pub generated_at: DateTime<Utc>,
    pub columns: &'static [Column],
    pub rows: Vec<Vec<Cell>>,
    pub totals: Vec<(&'static str, Cell)>,
}

/// The longest range a report may cover.
pub const MAX_REPORT_MONTHS: u32 = 60;

/// The range of a report: `[start, end]` as given, by default the last 12 months (from the
/// first day of the month 11 months ago) up to `today`. An inverted range, or one longer than
/// five years, is refused.
pub fn report_range(start: Option<NaiveDate>, end: Option<NaiveDate>, today: NaiveDate) -> Result<DateRange> {
    let end = end.unwrap_or(today);
    let start = start.unwrap_or_else(|| Period::Monthly.default_range(end).start);
    if start > end {
        return Err(CrmError::field("start_date", "start_date must not be after end_date."));
    }
    if start.checked_add_months(Months::new(MAX_REPORT_MONTHS)).is_none_or(|limit| end >= limit) {
        return Err(CrmError::field("end_date", "A report covers at most 5 years; shorten the range."));
    }
    Ok(DateRange { start, end })
}

fn average(amount: Decimal, n: u64) -> Decimal {
    if n == 0 {
        Decimal::ZERO
    } else {
        (amount / Decimal::from(n)).round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    }
}

fn one_decimal(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The dashboard and reports of the CRM REST surface (`analytics.read`).
pub struct Insights {
    repo: Arc<dyn InsightRepository>,
}

impl Insights {
    pub fn new(repo: Arc<dyn InsightRepository>) -> Self {
        Insights { repo }
    }

    /// The dashboard as of `today` (UTC).
    pub async fn dashboard(&self, by: &Principal, today: NaiveDate) -> Result<Dashboard> {
        by.require(Permission::AnalyticsRead)?;
        let start = Period::Monthly.default_range(today).start;
        let end = start + Months::new(12) - chrono::Duration::days(1);
        let months = DateRange { start, end };
        let r = &self.repo;
        let (totals, stages, revenue, leads) =
            join!(r.totals(), r.deals_by_stage(), r.revenue_by_month(months), r.leads_by_status());
        let (totals, leads) = (totals?, leads?);
        let leads_by_status: Vec<Counted> = LEAD_STATUSES
            .iter()
            .map(|s| Counted {
                name: s.to_string(),
                count: leads.iter().filter(|l| l.name == *s).map(|l| l.count).sum(),
            })
            .collect();
        let converted = leads_by_status.iter().find(|l| l.name == CONVERTED).map_or(0, |l| l.count);
        Ok(Dashboard {
            total_accounts: totals.accounts,
            total_contacts: totals.contacts,
            total_leads: totals.leads,
            total_deals: totals.open_deals + totals.won_deals + totals.lost_deals,
            total_revenue: totals.revenue,
            deals_by_stage: stages?,
            revenue_by_month: fill(Period::Monthly, months, revenue?),
            open_pipeline_value: totals.open_value,
            weighted_pipeline_value: totals.weighted_value,
            win_rate: percent(totals.won_deals, totals.won_deals + totals.lost_deals),
            leads_by_status,
            lead_conversion_rate: percent(converted, totals.leads),
        })
    }

    /// The report of `kind` over `range`, generated at `now`.
    pub async fn report(
        &self,
        by: &Principal,
        kind: ReportKind,
        range: DateRange,
        now: DateTime<Utc>,
    ) -> Result<Report> {
        by.require(Permission::AnalyticsRead)?;
        let (rows, totals) = match kind {
            ReportKind::Sales => self.sales(range).await?,
            ReportKind::Pipeline => self.pipeline(range, now).await?,
            ReportKind::Activities => self.activities(range).await?,
            ReportKind::Leads => self.leads(range).await?,
            ReportKind::Accounts => self.accounts(range).await?,
        };
        Ok(Report { kind, range, generated_at: now, columns: kind.columns(), rows, totals })
    }

    /// Refuses a caller who may not read reports.
    pub fn may_read(&self, by: &Principal) -> Result<()> {
        by.require(Permission::AnalyticsRead)
    }

    async fn sales(&self, range: DateRange) -> Result<Shaped> {
        let cells = self.repo.sales(range).await?;
        let (deals, amount) = cells.iter().fold((0, Decimal::ZERO), |(n, a), c| (n + c.deals, a + c.amount));
        let rows = cells
            .into_iter()
            .map(|c| {
                vec![
                    Cell::Text(c.month),
                    Cell::name(c.owner),
                    Cell::Int(c.deals),
                    Cell::Money(c.amount),
                    Cell::Money(average(c.amount, c.deals)),
                ]
            })
            .collect();
        let totals = vec![
            ("deals", Cell::Int(deals)),
            ("revenue", Cell::Money(amount)),
            ("average_deal", Cell::Money(average(amount, deals))),
        ];
        Ok((rows, totals))
    }

    async fn pipeline(&self, range: DateRange, now: DateTime<Utc>) -> Result<Shaped> {
        let cells = self.repo.pipeline(range, now).await?;
        let mut sum =
            StageCell { stage: None, deals: 0, amount: Decimal::ZERO, weighted: Decimal::ZERO, age_days: 0.0 };
        let avg_age = |c: &StageCell| if c.deals == 0 { 0.0 } else { one_decimal(c.age_days / c.deals as f64) };
        let rows = cells
            .into_iter()
            .map(|c| {
                sum.deals += c.deals;
                sum.amount += c.amount;
                sum.weighted += c.weighted;
                sum.age_days += c.age_days;
                let age = avg_age(&c);
                let stage = c.stage.map_or_else(|| "(no stage)".to_string(), |s| s.name);
                vec![
                    Cell::Text(stage),
                    Cell::Int(c.deals),
                    Cell::Money(c.amount),
                    Cell::Money(c.weighted),
                    Cell::Float(age),
                ]
            })
            .collect();
        let totals = vec![
            ("deals", Cell::Int(sum.deals)),
            ("amount", Cell::Money(sum.amount)),
            ("weighted_amount", Cell::Money(sum.weighted)),
            ("average_age_days", Cell::Float(avg_age(&sum))),
        ];
        Ok((rows, totals))
    }

    async fn activities(&self, range: DateRange) -> Result<Shaped> {
        let cells = self.repo.activities(range).await?;
        let total: u64 = cells.iter().map(|c| c.count).sum();
        let rows = cells
            .into_iter()
            .map(|c| vec![Cell::Text(c.activity_type), Cell::Text(c.status), Cell::name(c.owner), Cell::Int(c.count)])
            .collect();
        Ok((rows, vec![("activities", Cell::Int(total))]))
    }

    async fn leads(&self, range: DateRange) -> Result<Shaped> {
        let cells = self.repo.leads(range).await?;
        let mut sources: Vec<Option<String>> = Vec::new();
        for c in &cells {
            if !sources.contains(&c.source) {
                sources.push(c.source.clone());
            }
        }
        // Sources by name, leads without a source last.
        sources.sort_by(|a, b| (a.is_none(), a).cmp(&(b.is_none(), b)));
        let count = |source: Option<&Option<String>>, status: &str| -> u64 {
            cells.iter().filter(|c| source.is_none_or(|s| c.source == *s) && c.status == status).map(|c| c.count).sum()
        };
        let line = |source: Option<&Option<String>>| -> Vec<Cell> {
            let per_status: Vec<u64> = LEAD_STATUSES.iter().map(|s| count(source, s)).collect();
            let total: u64 = per_status.iter().sum();
            let converted = count(source, CONVERTED);
            let open = count(source, "New") + count(source, "Contacted") + count(source, "Qualified");
            let mut cells = vec![Cell::Int(total)];
            cells.extend(per_status.into_iter().map(Cell::Int));
            cells.push(Cell::Float(percent(converted, total)));
            cells.push(Cell::Int(open));
            cells
        };
        let rows = sources
            .iter()
            .map(|s| {
                let mut row = vec![Cell::text(s.clone())];
                row.extend(line(Some(s)));
                row
            })
            .collect();
        let totals = LEADS[1..].iter().map(|c| c.key).zip(line(None)).collect();
        Ok((rows, totals))
    }

    async fn accounts(&self, range: DateRange) -> Result<Shaped> {
        let cells = self.repo.accounts(range).await?;
        let total: u64 = cells.iter().map(|c| c.count).sum();
        let rows = cells
            .into_iter()
            .map(|c| {
                vec![Cell::text(c.industry), Cell::text(c.account_type), Cell::name(c.territory), Cell::Int(c.count)]
            })
            .collect();
        Ok((rows, vec![("accounts", Cell::Int(total))]))
    }
}

/// Rows and totals of a report.
type Shaped = (Vec<Vec<Cell>>, Vec<(&'static str, Cell)>);

#[cfg(test)]
mod tests {
    use super::*;
    use management_core::Principal;
    use mockall::predicate::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn reader() -> Principal {
        crate::service::test_support::principal(&[Permission::AnalyticsRead])
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_default_to_twelve_months_and_refuse_inverted_or_long_ones() {
        let r = report_range(None, None, d("2026-12-05")).unwrap();
        assert_eq!((r.start, r.end), (d("2026-01-01"), d("2026-12-05")));
        assert!(report_range(Some(d("2026-05-02")), Some(d("2026-05-01")), d("2026-12-05")).is_err());
        assert!(report_range(Some(d("2021-01-01")), Some(d("2025-12-31")), d("2026-12-05")).is_ok());
        let err = report_range(Some(d("2021-01-01")), Some(d("2026-01-01")), d("2026-12-05")).unwrap_err();
        assert!(err.to_string().contains("5 years"), "{err}");
        assert!(ReportKind::parse("forecast").unwrap_err().to_string().contains("sales, pipeline"));
    }

    #[tokio::test]
    async fn the_dashboard_fills_months_and_statuses_and_computes_rates() {
        let mut repo = MockInsightRepository::new();
        repo.expect_totals().returning(|| {
            Ok(Totals {
                accounts: 10,
                contacts: 4,
                leads: 8,
                open_deals: 5,
                won_deals: 3,
                lost_deals: 1,
                revenue: dec("3000.50"),
                open_value: dec("900"),
                weighted_value: dec("450.25"),
            })
        });
        repo.expect_deals_by_stage().returning(|| Ok(vec![Counted { name: "Lead".into(), count: 9 }]));
        let months = DateRange { start: d("2026-01-01"), end: d("2026-12-31") };
        repo.expect_revenue_by_month()
            .with(eq(months))
            .returning(|_| Ok(vec![PeriodSales { period: "2026-03".into(), sales: dec("3000.50"), deals: 3 }]));
        repo.expect_leads_by_status().returning(|| {
            Ok(vec![Counted { name: "New".into(), count: 6 }, Counted { name: "Converted".into(), count: 2 }])
        });
        let dash = Insights::new(Arc::new(repo)).dashboard(&reader(), d("2026-12-05")).await.unwrap();
        assert_eq!(dash.total_deals, 9);
        assert_eq!(dash.win_rate, 75.0);
        assert_eq!(dash.lead_conversion_rate, 25.0);
        assert_eq!(dash.revenue_by_month.len(), 12);
        assert_eq!(dash.revenue_by_month[2].sales, dec("3000.50"));
        assert_eq!(dash.revenue_by_month[11].period, "2026-12");
        let statuses: Vec<_> = dash.leads_by_status.iter().map(|c| (c.name.as_str(), c.count)).collect();
        assert_eq!(statuses[0], ("New", 6));
        assert_eq!(statuses.len(), 6);
        assert_eq!(statuses[5], ("Converted", 2));
    }

    #[tokio::test]
    async fn reports_total_their_rows() {
        let mut repo = MockInsightRepository::new();
        let owner = Some(Ref { id: 2, name: "Aziza".into() });
        repo.expect_sales().returning(move |_| {
            Ok(vec![
                SalesCell { month: "2026-01".into(), owner: owner.clone(), deals: 2, amount: dec("100.01") },
                SalesCell { month: "2026-02".into(), owner: None, deals: 1, amount: dec("50") },
            ])
        });
        let range = DateRange { start: d("2026-01-01"), end: d("2026-02-28") };
        let report =
            Insights::new(Arc::new(repo)).report(&reader(), ReportKind::Sales, range, Utc::now()).await.unwrap();
        assert_eq!(report.rows[0][4], Cell::Money(dec("50.01")), "100.01 / 2 rounded");
        assert_eq!(report.rows[1][1], Cell::Empty);
        assert_eq!(report.totals[1], ("revenue", Cell::Money(dec("150.01"))));
        assert_eq!(report.totals[2], ("average_deal", Cell::Money(dec("50.00"))));
    }

    #[tokio::test]
    async fn the_leads_report_pivots_statuses_per_source() {
        let mut repo = MockInsightRepository::new();
        repo.expect_leads().returning(|_| {
            Ok(vec![
                LeadCell { source: Some("Website".into()), status: "New".into(), count: 3 },
                LeadCell { source: Some("Website".into()), status: "Converted".into(), count: 1 },
                LeadCell { source: None, status: "Lost".into(), count: 2 },
            ])
        });
        let range = DateRange { start: d("2026-01-01"), end: d("2026-02-28") };
        let report =
            Insights::new(Arc::new(repo)).report(&reader(), ReportKind::Leads, range, Utc::now()).await.unwrap();
        assert_eq!(report.rows.len(), 2);
        assert_eq!(report.rows[0][0], Cell::Text("Website".into()));
        assert_eq!(report.rows[0][1], Cell::Int(4));
        assert_eq!(report.rows[0][8], Cell::Float(25.0));
        assert_eq!(report.rows[1][0], Cell::Empty, "no source last");
        let total: Vec<_> = report.totals.iter().map(|(k, _)| *k).collect();
        assert_eq!(total[0], "leads");
        assert_eq!(report.totals[0].1, Cell::Int(6));
        assert_eq!(report.totals[7].1, Cell::Float(16.67));
    }

    #[tokio::test]
    async fn reports_need_analytics_read() {
        let range = DateRange { start: d("2026-01-01"), end: d("2026-02-28") };
        let p = crate::service::test_support::principal(&[Permission::CrmRead]);
        let insights = Insights::new(Arc::new(MockInsightRepository::new()));
        let err = insights.report(&p, ReportKind::Accounts, range, Utc::now()).await.unwrap_err();
        assert!(matches!(err, CrmError::Forbidden(_)));
    }
}
