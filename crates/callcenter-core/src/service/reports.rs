//! Reports: the dashboard, call statistics and analytics.

use super::CallcenterService;
use crate::call::CallFilter;
use crate::chat::ChatFilter;
use crate::error::Result;
use crate::report::{
    Analytics, Bucket, Dashboard, LabelCount, Point, Range, Statistics, ai_success_rate, fill, last_days, last_months,
    round, statistics_window,
};
use chrono::{Duration, DurationRound, Utc};
use kernel::PageRequest;
use management_core::{Permission, Principal};

/// How many recent chats and calls the dashboard shows.
const RECENT: u64 = 5;
/// How many topics analytics ranks.
const TOP_TOPICS: u64 = 5;
/// Most topics statistics lists.
const ALL_TOPICS: u64 = 100;

impl CallcenterService {
    /// Today's calls (UTC), open chats, the last 7 days' response time and AI success rate,
    /// and the five most recent chats and calls.
    pub async fn dashboard(&self, by: &Principal) -> Result<Dashboard> {
        by.require(Permission::CallcenterRead)?;
        let now = Utc::now();
        let today = now.duration_trunc(Duration::days(1)).unwrap_or(now);
        let week = today - Duration::days(6);
        let r = &self.ports.reports;
        let calls_today = r.call_totals(Some(today)).await?.total;
        let active_chats = r.chat_totals(None).await?.open;
        let avg_ms = r.avg_response_ms(week).await?;
        let rate = ai_success_rate(&r.call_totals(Some(week)).await?, &r.chat_totals(Some(week)).await?);
        let recent = PageRequest::new(1, RECENT);
        Ok(Dashboard {
            calls_today,
            active_chats,
            avg_response_sec: round(avg_ms.unwrap_or(0.0) / 1000.0, 1),
            ai_success_rate: rate,
            recent_chats: self.ports.chats.list(ChatFilter::default(), recent).await?.items,
            recent_calls: self.ports.calls.list(CallFilter::default(), recent).await?.items,
        })
    }

    /// All-time call count, mean duration and topics; calls per day for the last `days`
    /// days (default 30) and per month for the last `months` months (default 12), zeros included.
    pub async fn statistics(&self, by: &Principal, days: Option<i64>, months: Option<i64>) -> Result<Statistics> {
        by.require(Permission::CallcenterRead)?;
        let (days, months) = statistics_window(days, months)?;
        let now = Utc::now();
        let day_starts = last_days(now, days);
        let month_starts = last_months(now, months);
        let r = &self.ports.reports;
        let totals = r.call_totals(None).await?;
        let daily = r.calls_per(Bucket::Day, day_starts[0]).await?;
        let monthly = r.calls_per(Bucket::Month, month_starts[0]).await?;
        Ok(Statistics {
            total_calls: totals.total,
            average_duration: totals.avg_duration_sec.unwrap_or(0.0).round() as i64,
            daily_calls: fill(Bucket::Day, &day_starts, &daily),
            monthly_calls: fill(Bucket::Month, &month_starts, &monthly),
            topics_frequency: r.topics(None, false, ALL_TOPICS).await?,
        })
    }

    /// Calls and chats of the last 24 hours (hourly) or 7 or 30 days (daily).
    pub async fn analytics(&self, by: &Principal, range: Option<&str>) -> Result<Analytics> {
        by.require(Permission::CallcenterRead)?;
        let range = Range::parse(range)?;
        let (bucket, starts) = range.buckets(Utc::now());
        let since = starts[0];
        let r = &self.ports.reports;
        let calls = r.call_totals(Some(since)).await?;
        let chats = r.chat_totals(Some(since)).await?;
        let series = |counts: Vec<LabelCount>| -> Vec<Point> {
            fill(bucket, &starts, &counts)
                .into_iter()
                .zip(&starts)
                .map(|(c, t)| Point { t: *t, value: c.count })
                .collect()
        };
        Ok(Analytics {
            range,
            calls,
            chats,
            avg_response_sec: round(r.avg_response_ms(since).await?.unwrap_or(0.0) / 1000.0, 1),
            ai_success_rate: ai_success_rate(&calls, &chats),
            top_topics: r.topics(Some(since), true, TOP_TOPICS).await?,
            calls_series: series(r.calls_per(bucket, since).await?),
            chats_series: series(r.chats_per(bucket, since).await?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockReportRepository;
    use crate::report::{CallTotals, ChatTotals};
    use crate::service::CallcenterPorts;
    use crate::service::tests::{mocks, principal};
    use std::sync::Arc;

    #[tokio::test]
    async fn statistics_fill_every_day_and_round_the_mean() {
        let today = Utc::now().format("%Y-%m-%d").to_string();
        let mut reports = MockReportRepository::new();
        reports.expect_call_totals().returning(|_| {
            Ok(CallTotals { total: 3, completed: 2, avg_duration_sec: Some(90.5), ..Default::default() })
        });
        reports.expect_calls_per().returning(move |bucket, _| {
            Ok(match bucket {
                Bucket::Day => vec![LabelCount { label: Utc::now().format("%Y-%m-%d").to_string(), count: 3 }],
                _ => vec![LabelCount { label: Utc::now().format("%Y-%m").to_string(), count: 3 }],
            })
        });
        reports
            .expect_topics()
            .withf(|since, with_chats, _| since.is_none() && !with_chats)
            .returning(|_, _, _| Ok(vec![]));
        let svc = CallcenterService::new(CallcenterPorts { reports: Arc::new(reports), ..mocks() });
        let stats = svc.statistics(&principal(&[Permission::CallcenterRead]), Some(7), Some(2)).await.unwrap();
        assert_eq!((stats.total_calls, stats.average_duration), (3, 91));
        assert_eq!(stats.daily_calls.len(), 7);
        assert_eq!(stats.daily_calls[6].label, today);
        assert_eq!(stats.daily_calls.iter().map(|d| d.count).sum::<i64>(), 3);
        assert_eq!(stats.monthly_calls.len(), 2);
        assert_eq!(stats.monthly_calls[1].count, 3);
    }

    #[tokio::test]
    async fn analytics_use_the_range_window() {
        let mut reports = MockReportRepository::new();
        let expected_since = Range::Hours24.buckets(Utc::now()).1[0];
        reports.expect_call_totals().withf(move |since| *since == Some(expected_since)).returning(|_| {
            Ok(CallTotals { total: 5, completed: 4, missed: 1, completed_by_ai: 4, avg_duration_sec: Some(60.0) })
        });
        reports.expect_chat_totals().returning(|_| Ok(ChatTotals { total: 2, open: 1, resolved: 1, escalated: 0 }));
        reports.expect_avg_response_ms().returning(|_| Ok(Some(3240.0)));
        reports.expect_topics().returning(|_, _, _| Ok(vec![]));
        reports.expect_calls_per().withf(|b, _| *b == Bucket::Hour).returning(|_, _| Ok(vec![]));
        reports.expect_chats_per().returning(|_, _| Ok(vec![]));
        let svc = CallcenterService::new(CallcenterPorts { reports: Arc::new(reports), ..mocks() });
        let a = svc.analytics(&principal(&[Permission::CallcenterRead]), Some("24h")).await.unwrap();
        assert_eq!(a.calls_series.len(), 24);
        assert_eq!((a.avg_response_sec, a.ai_success_rate), (3.2, 1.0));
        assert!(matches!(svc.analytics(&principal(&[]), None).await, Err(crate::CallcenterError::Forbidden(_))));
    }
}
