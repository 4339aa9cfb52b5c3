//! Sales analytics: periods, date ranges, and the shapes of the dashboard and reports.
//!
//! Definitions (also in the OpenAPI descriptions and `docs/crm-v1.md`):
//! - monthly sales: sum of the values of deals completed in the current calendar month (UTC);
//! - active deals: deals in `new` or `in_progress`;
//! - conversion rate: percentage of customers whose status is in the v1 group `active`, two decimals;
//! - customers by status: live customers per v1 group (`active`, `potential`, `waiting`);
//! - sales trend: completed value per month over the last 12 months, oldest first, zeros included;
//! - top customers: the 10 customers with the highest completed deal value in the range.

use crate::error::{CrmError, Result};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use management_core::catalog::StatusGroup;
use rust_decimal::Decimal;

/// Granularity of a sales series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Period {
    pub fn parse(raw: &str) -> Result<Period> {
        match raw.trim() {
            "daily" => Ok(Period::Daily),
            "weekly" => Ok(Period::Weekly),
            "monthly" => Ok(Period::Monthly),
            "yearly" => Ok(Period::Yearly),
            other => Err(CrmError::field(
                "period",
                format!("Unknown period '{other}'; use daily, weekly, monthly or yearly."),
            )),
        }
    }

    /// The first day of the bucket holding `day` (weeks start on Monday).
    pub fn bucket_start(self, day: NaiveDate) -> NaiveDate {
        match self {
            Period::Daily => day,
            Period::Weekly => day - Duration::days(day.weekday().num_days_from_monday() as i64),
            Period::Monthly => day.with_day(1).unwrap_or(day),
            Period::Yearly => NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day),
        }
    }

    /// The label of the bucket holding `day`: `2026-11-23` (daily; weekly: its Monday),
    /// `2026-11` (monthly), `2026` (yearly).
    pub fn label(self, day: NaiveDate) -> String {
        let start = self.bucket_start(day);
        match self {
            Period::Daily | Period::Weekly => start.format("%Y-%m-%d").to_string(),
            Period::Monthly => start.format("%Y-%m").to_string(),
            Period::Yearly => start.format("%Y").to_string(),
        }
    }

    fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Daily => start + Duration::days(1),
            Period::Weekly => start + Duration::days(7),
            Period::Monthly => start + Months::new(1),
            Period::Yearly => start + Months::new(12),
        }
    }

    /// Labels of every bucket touching `[first, last]`, oldest first.
    pub fn buckets(self, first: NaiveDate, last: NaiveDate) -> Vec<String> {
        let mut labels = Vec::new();
        let mut cursor = self.bucket_start(first);
        while cursor <= last {
            labels.push(self.label(cursor));
            cursor = self.next(cursor);
        }
        labels
    }

    /// The default range ending today: 30 days, 12 weeks, 12 months or 5 years.
    pub fn default_range(self, today: NaiveDate) -> DateRange {
        let start = match self {
            Period::Daily => today - Duration::days(29),
            Period::Weekly => Period::Weekly.bucket_start(today) - Duration::weeks(11),
            Period::Monthly => Period::Monthly.bucket_start(today) - Months::new(11),
            Period::Yearly => Period::Yearly.bucket_start(today) - Months::new(48),
        };
        DateRange { start, end: today }
    }
}

/// Most buckets one report may have.
pub const MAX_BUCKETS: usize = 1000;

/// An inclusive range of days (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DateRange {
    /// The instants `[start 00:00, end+1 00:00)`.
    pub fn instants(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let from = self.start.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        let to = (self.end + Duration::days(1)).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        (from, to)
    }
}

/// The live counts the dashboard shows, read together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveCounts {
    /// Live customers per stored status.
    pub customers_by_status: Vec<(String, u64)>,
    /// Deals in `new` or `in_progress`.
    pub open_deals: u64,
}

/// Completed sales in one bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodSales {
    pub period: String,
    pub sales: Decimal,
    pub deals: u64,
}

/// A customer ranked by completed deal value.
#[derive(Debug, Clone, PartialEq)]
pub struct TopCustomer {
    pub customer_id: i64,
    pub customer_name: String,
    pub total_value: Decimal,
}

/// The CRM v1 dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub total_customers: u64,
    pub monthly_sales: Decimal,
    pub active_deals: u64,
    /// Share of customers in the `active` group; percent, two decimals.
    pub conversion_rate: f64,
    /// Live customers per v1 group (`active`, `potential`, `waiting`), every group present.
    pub customers_by_group: Vec<(StatusGroup, u64)>,
    pub sales_trend: Vec<PeriodSales>,
}

/// The sales report of a range.
#[derive(Debug, Clone, PartialEq)]
pub struct SalesReport {
    pub range: DateRange,
    pub period: Period,
    pub total_sales: Decimal,
    pub sales_by_period: Vec<PeriodSales>,
    pub top_customers: Vec<TopCustomer>,
}

/// Conversion of the most recent leads (`management-update.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct LeadConversion {
    /// Leads considered (at most [`RECENT_LEADS`]).
    pub total: u64,
    /// Of those, leads whose status is `project_started`.
    pub converted: u64,
    /// Percent, two decimals.
    pub rate: f64,
}

/// How many of the most recent leads the conversion rate looks at.
pub const RECENT_LEADS: u64 = 100;
/// The status that counts as converted for the management conversion rate.
pub const PROJECT_STARTED: &str = "project_started";

/// Puts sparse per-bucket rows onto every bucket of the range, zeros included.
pub fn fill(period: Period, range: DateRange, sparse: Vec<PeriodSales>) -> Vec<PeriodSales> {
    period
        .buckets(range.start, range.end)
        .into_iter()
        .map(|label| {
            sparse.iter().find(|p| p.period == label).cloned().unwrap_or(PeriodSales {
                period: label,
                sales: Decimal::ZERO,
                deals: 0,
            })
        })
        .collect()
}

/// `part / whole` as a percentage with two decimals (0 when `whole` is 0).
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (part as f64 * 10_000.0 / whole as f64).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn labels_and_buckets() {
        assert_eq!(Period::Weekly.label(d("2026-11-26")), "2026-11-23");
        assert_eq!(Period::Monthly.buckets(d("2025-12-15"), d("2026-02-01")), vec!["2025-12", "2026-01", "2026-02"]);
        assert_eq!(Period::Yearly.buckets(d("2024-05-01"), d("2026-01-01")).len(), 3);
        assert_eq!(Period::Daily.buckets(d("2026-02-27"), d("2026-03-01")).len(), 3);
    }

    #[test]
    fn default_monthly_range_is_twelve_months() {
        let range = Period::Monthly.default_range(d("2026-11-23"));
        assert_eq!(range.start, d("2025-12-01"));
        assert_eq!(Period::Monthly.buckets(range.start, range.end).len(), 12);
    }

    #[test]
    fn fill_inserts_zero_buckets() {
        let range = DateRange { start: d("2026-01-01"), end: d("2026-03-31") };
        let filled =
            fill(Period::Monthly, range, vec![PeriodSales { period: "2026-02".into(), sales: Decimal::TEN, deals: 1 }]);
        let sales: Vec<_> = filled.iter().map(|p| p.sales).collect();
        assert_eq!(sales, vec![Decimal::ZERO, Decimal::TEN, Decimal::ZERO]);
    }

    #[test]
    fn percentages_round_to_two_places() {
        assert_eq!(percent(1, 3), 33.33);
        assert_eq!(percent(0, 0), 0.0);
        assert_eq!(percent(23, 100), 23.0);
    }
}
