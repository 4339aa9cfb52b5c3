//! Analytics use cases; the database aggregates, the core fills empty buckets.

use super::CrmService;
use crate::analytics::{
    Dashboard, DateRange, LeadConversion, MAX_BUCKETS, PROJECT_STARTED, Period, PeriodSales, RECENT_LEADS, SalesReport,
    fill, percent,
};
use crate::error::{CrmError, Result};
use crate::ports::StatusEntry;
use chrono::{Months, NaiveDate};
use futures_util::join;
use management_core::catalog::{DEFAULT_GROUP, StatusGroup};
use management_core::{Permission, Principal};
use rust_decimal::Decimal;

/// Live customers per v1 group: every group, in order; a status missing from the catalog
/// counts in the default group.
fn by_group(counts: &[(String, u64)], catalog: &[StatusEntry]) -> Vec<(StatusGroup, u64)> {
    StatusGroup::ALL
        .into_iter()
        .map(|group| {
            let n = counts
                .iter()
                .filter(|(status, _)| {
                    catalog.iter().find(|s| s.name == *status).map_or(DEFAULT_GROUP, |s| s.group) == group
                })
                .map(|(_, n)| n)
                .sum();
            (group, n)
        })
        .collect()
}

impl CrmService {
    /// The dashboard as of `today` (UTC).
    pub async fn dashboard(&self, by: &Principal, today: NaiveDate) -> Result<Dashboard> {
        by.require(Permission::AnalyticsRead)?;
        let this_month = Period::Monthly.default_range(today);
        let month_start = Period::Monthly.bucket_start(today);
        let month_end = month_start + Months::new(1) - chrono::Duration::days(1);
        let trend_range = DateRange { start: this_month.start, end: month_end };
        let a = &self.ports.analytics;
        // Independent aggregates run concurrently, each on its own pooled connection; this
        // month's sales are the trend's last month.
        let (counts, trend, catalog) =
            join!(a.live_counts(), a.completed_by_period(trend_range, Period::Monthly), self.ports.statuses.statuses());
        let (counts, catalog, trend) = (counts?, catalog?, trend?);
        let this_label = Period::Monthly.label(month_start);
        let monthly_sales = trend.iter().find(|p| p.period == this_label).map_or(Decimal::ZERO, |p| p.sales);
        let by_group = by_group(&counts.customers_by_status, &catalog);
        let total: u64 = by_group.iter().map(|(_, n)| n).sum();
        let active = by_group.iter().find(|(g, _)| *g == StatusGroup::Active).map_or(0, |(_, n)| *n);
        Ok(Dashboard {
            total_customers: total,
            monthly_sales,
            active_deals: counts.open_deals,
            conversion_rate: percent(active, total),
            customers_by_group: by_group,
            sales_trend: fill(Period::Monthly, trend_range, trend),
        })
    }

    /// Completed sales in `[start, end]` per `period` (monthly over the last 12 months by default).
    pub async fn sales_report(
        &self,
        by: &Principal,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
        period: Option<Period>,
        today: NaiveDate,
    ) -> Result<SalesReport> {
        by.require(Permission::AnalyticsRead)?;
        let period = period.unwrap_or(Period::Monthly);
        let default = Period::Monthly.default_range(today);
        let range = DateRange { start: start.unwrap_or(default.start), end: end.unwrap_or(today) };
        if range.start > range.end {
            return Err(CrmError::field("startDate", "startDate must not be after endDate."));
        }
        if period.buckets(range.start, range.end).len() > MAX_BUCKETS {
            return Err(CrmError::field(
                "period",
                format!(
                    "The range has more than {MAX_BUCKETS} {period:?} periods; use a longer period or a shorter range."
                ),
            ));
        }
        let a = &self.ports.analytics;
        let (total, by_period, top) =
            join!(a.completed_value(range), a.completed_by_period(range, period), a.top_customers(range, 10));
        Ok(SalesReport {
            range,
            period,
            total_sales: total?,
            sales_by_period: fill(period, range, by_period?),
            top_customers: top?,
        })
    }

    /// Share of the 100 most recently created customers whose status is `project_started`.
    pub async fn lead_conversion(&self, by: &Principal) -> Result<LeadConversion> {
        by.require(Permission::AnalyticsRead)?;
        let (total, converted) = self.ports.analytics.recent_with_status(RECENT_LEADS, PROJECT_STARTED).await?;
        Ok(LeadConversion { total, converted, rate: percent(converted, total) })
    }

    /// The sales trend of `period` over its default range (30 days, 12 weeks, 12 months, 5 years).
    pub async fn period_trend(&self, by: &Principal, period: Period, today: NaiveDate) -> Result<Vec<PeriodSales>> {
        by.require(Permission::AnalyticsRead)?;
        let range = period.default_range(today);
        let sparse = self.ports.analytics.completed_by_period(range, period).await?;
        Ok(fill(period, range, sparse))
    }
}

#[cfg(test)]
mod tests {
    use crate::analytics::{DateRange, Period, PeriodSales};
    use crate::service::test_support::*;
    use chrono::NaiveDate;
    use management_core::Permission;
    use mockall::predicate::*;
    use rust_decimal::Decimal;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[tokio::test]
    async fn dashboard_counts_every_v1_group_and_twelve_months() {
        let mut m = Mocks::new();
        m.statuses.expect_statuses().returning(|| Ok(catalog()));
        m.analytics.expect_live_counts().returning(|| {
            Ok(crate::analytics::LiveCounts {
                customers_by_status: vec![
                    ("active".into(), 1),
                    ("potential".into(), 2),
                    ("contacted".into(), 3),
                    ("gone".into(), 4),
                ],
                open_deals: 4,
            })
        });
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        m.analytics.expect_completed_value().never();
        let year = DateRange { start: day("2025-12-01"), end: day("2026-11-30") };
        m.analytics.expect_completed_by_period().with(eq(year), eq(Period::Monthly)).returning(|_, _| {
            Ok(vec![
                PeriodSales { period: "2026-03".into(), sales: Decimal::TEN, deals: 1 },
                PeriodSales { period: "2026-11".into(), sales: Decimal::new(150050, 2), deals: 3 },
            ])
        });
        let d = m.service().dashboard(&principal(&[Permission::AnalyticsRead]), today()).await.unwrap();
        assert_eq!(d.total_customers, 10);
        assert_eq!(d.conversion_rate, 10.0);
        assert_eq!(d.active_deals, 4);
        assert_eq!(d.monthly_sales.to_string(), "1500.50");
        let groups: Vec<_> = d.customers_by_group.iter().map(|(g, n)| (g.as_str(), *n)).collect();
        assert_eq!(
            groups,
            vec![("active", 1), ("potential", 6), ("waiting", 3)],
            "a status outside the catalog is potential"
        );
        assert_eq!(d.sales_trend.len(), 12);
        assert_eq!(d.sales_trend[0].period, "2025-12");
        assert_eq!(d.sales_trend[3].sales, Decimal::TEN);
        assert_eq!(d.sales_trend[11].period, "2026-11");
    }

    #[tokio::test]
    async fn sales_report_refuses_inverted_and_oversized_ranges() {
        let p = principal(&[Permission::AnalyticsRead]);
        let start = NaiveDate::from_ymd_opt(2026, 5, 1);
        let end = NaiveDate::from_ymd_opt(2026, 4, 1);
        assert!(Mocks::new().service().sales_report(&p, start, end, None, today()).await.is_err());
        let long = NaiveDate::from_ymd_opt(2000, 1, 1);
        assert!(Mocks::new().service().sales_report(&p, long, None, Some(Period::Daily), today()).await.is_err());
    }

    #[tokio::test]
    async fn analytics_need_the_permission() {
        let err = Mocks::new().service().dashboard(&principal(&[Permission::CrmRead]), today()).await.unwrap_err();
        assert!(matches!(err, crate::CrmError::Forbidden(_)));
    }
}
