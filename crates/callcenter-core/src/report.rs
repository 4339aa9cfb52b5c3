//! Reports over calls and chats: the dashboard, call statistics and analytics ranges.
//! Storage answers with aggregates per bucket; the buckets a report shows (zero ones too)
//! are decided here.

use crate::call::Call;
use crate::chat::Chat;
use crate::error::{CallcenterError, Result};
use chrono::{DateTime, Datelike, Duration, DurationRound, NaiveDate, TimeZone, Utc};

/// Time buckets of a series, labelled `YYYY-MM-DDTHH`, `YYYY-MM-DD` or `YYYY-MM` (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Hour,
    Day,
    Month,
}

/// Counts of calls since an instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CallTotals {
    pub total: i64,
    pub completed: i64,
    pub missed: i64,
    /// Completed calls the assistant handled without handing over to a human.
    pub completed_by_ai: i64,
    /// Mean duration of completed calls with a known duration.
    pub avg_duration_sec: Option<f64>,
}

/// Counts of chats created since an instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChatTotals {
    pub total: i64,
    pub open: i64,
    pub resolved: i64,
    pub escalated: i64,
}

/// How often a topic came up.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicCount {
    pub topic: String,
    pub count: i64,
}

/// A labelled count (`label` as in [`Bucket`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelCount {
    pub label: String,
    pub count: i64,
}

/// The operator dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub calls_today: i64,
    pub active_chats: i64,
    /// Mean seconds from a caller's message to the reply, over the last 7 days.
    pub avg_response_sec: f64,
    /// Share of closed conversations of the last 7 days the assistant handled alone (0..1).
    pub ai_success_rate: f64,
    pub recent_chats: Vec<Chat>,
    pub recent_calls: Vec<Call>,
}

/// Call statistics: all-time totals plus the last `days` days and `months` months.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    pub total_calls: i64,
    /// Mean duration of completed calls, rounded to whole seconds.
    pub average_duration: i64,
    pub daily_calls: Vec<LabelCount>,
    pub monthly_calls: Vec<LabelCount>,
    /// Calls per topic, most frequent first.
    pub topics_frequency: Vec<TopicCount>,
}

/// A point of an analytics series: the bucket's start and its count.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub t: DateTime<Utc>,
    pub value: i64,
}

/// The analytics ranges: the last 24 hours by hour, the last 7 or 30 days by day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Hours24,
    Days7,
    Days30,
}

impl Range {
    pub fn parse(s: Option<&str>) -> Result<Range> {
        match s.map(str::trim) {
            None | Some("") | Some("7d") => Ok(Range::Days7),
            Some("24h") => Ok(Range::Hours24),
            Some("30d") => Ok(Range::Days30),
            Some(other) => {
                Err(CallcenterError::field("range", format!("range must be 24h, 7d or 30d, not '{other}'.")))
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Range::Hours24 => "24h",
            Range::Days7 => "7d",
            Range::Days30 => "30d",
        }
    }

    /// The bucket size and the start of each bucket, oldest first, ending with the current one.
    pub fn buckets(self, now: DateTime<Utc>) -> (Bucket, Vec<DateTime<Utc>>) {
        let (bucket, step, n) = match self {
            Range::Hours24 => (Bucket::Hour, Duration::hours(1), 24),
            Range::Days7 => (Bucket::Day, Duration::days(1), 7),
            Range::Days30 => (Bucket::Day, Duration::days(1), 30),
        };
        let current = now.duration_trunc(step).unwrap_or(now);
        (bucket, (0..n).rev().map(|i| current - step * i).collect())
    }
}

/// Analytics of one range.
#[derive(Debug, Clone, PartialEq)]
pub struct Analytics {
    pub range: Range,
    pub calls: CallTotals,
    pub chats: ChatTotals,
    pub avg_response_sec: f64,
    pub ai_success_rate: f64,
    pub top_topics: Vec<TopicCount>,
    pub calls_series: Vec<Point>,
    pub chats_series: Vec<Point>,
}

/// The label of the bucket starting at `t`.
pub fn label(bucket: Bucket, t: DateTime<Utc>) -> String {
    match bucket {
        Bucket::Hour => t.format("%Y-%m-%dT%H").to_string(),
        Bucket::Day => t.format("%Y-%m-%d").to_string(),
        Bucket::Month => t.format("%Y-%m").to_string(),
    }
}

/// The last `days` days, oldest first, ending today (UTC).
pub fn last_days(now: DateTime<Utc>, days: u32) -> Vec<DateTime<Utc>> {
    let today = now.duration_trunc(Duration::days(1)).unwrap_or(now);
    (0..i64::from(days)).rev().map(|i| today - Duration::days(i)).collect()
}

/// The first instants of the last `months` months, oldest first, ending with this month.
pub fn last_months(now: DateTime<Utc>, months: u32) -> Vec<DateTime<Utc>> {
    let index = now.year() * 12 + now.month0() as i32;
    (0..months as i32)
        .rev()
        .filter_map(|back| {
            let i = index - back;
            let day = NaiveDate::from_ymd_opt(i.div_euclid(12), i.rem_euclid(12) as u32 + 1, 1)?;
            Some(Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0)?))
        })
        .collect()
}

/// One count per bucket start, zero where storage had none.
pub fn fill(bucket: Bucket, starts: &[DateTime<Utc>], counts: &[LabelCount]) -> Vec<LabelCount> {
    starts
        .iter()
        .map(|t| {
            let label = label(bucket, *t);
            let count = counts.iter().find(|c| c.label == label).map_or(0, |c| c.count);
            LabelCount { label, count }
        })
        .collect()
}

/// Share of closed conversations handled without a human, rounded to 2 decimals (0 when none).
pub fn ai_success_rate(calls: &CallTotals, chats: &ChatTotals) -> f64 {
    let closed = calls.completed + chats.resolved + chats.escalated;
    if closed == 0 {
        return 0.0;
    }
    round((calls.completed_by_ai + chats.resolved) as f64 / closed as f64, 2)
}

/// `value` rounded to `decimals` places.
pub fn round(value: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (value * f).round() / f
}

/// Checks `days` (1 to 366, default 30) and `months` (1 to 60, default 12).
pub fn statistics_window(days: Option<i64>, months: Option<i64>) -> Result<(u32, u32)> {
    let days = days.unwrap_or(30);
    let months = months.unwrap_or(12);
    if !(1..=366).contains(&days) {
        return Err(CallcenterError::field("days", "days must be between 1 and 366."));
    }
    if !(1..=60).contains(&months) {
        return Err(CallcenterError::field("months", "months must be between 1 and 60."));
    }
    Ok((days as u32, months as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn ranges_bucket_by_hour_or_day_ending_now() {
        let now = at("2026-03-10T14:35:00Z");
        let (bucket, starts) = Range::Hours24.buckets(now);
        assert_eq!(bucket, Bucket::Hour);
        assert_eq!(starts.len(), 24);
        assert_eq!(starts[0], at("2026-03-09T15:00:00Z"));
        assert_eq!(starts[23], at("2026-03-10T14:00:00Z"));
        let (_, starts) = Range::Days7.buckets(now);
        assert_eq!((starts[0], starts[6]), (at("2026-03-04T00:00:00Z"), at("2026-03-10T00:00:00Z")));
        assert!(Range::parse(Some("1y")).is_err());
        assert_eq!(Range::parse(None).unwrap(), Range::Days7);
    }

    #[test]
    fn months_cross_year_boundaries() {
        let months: Vec<_> =
            last_months(at("2026-02-15T10:00:00Z"), 3).into_iter().map(|t| label(Bucket::Month, t)).collect();
        assert_eq!(months, ["2025-12", "2026-01", "2026-02"]);
    }

    #[test]
    fn missing_buckets_are_zero() {
        let starts = last_days(at("2026-03-10T14:35:00Z"), 3);
        let filled = fill(Bucket::Day, &starts, &[LabelCount { label: "2026-03-09".into(), count: 4 }]);
        let counts: Vec<_> = filled.iter().map(|c| (c.label.as_str(), c.count)).collect();
        assert_eq!(counts, [("2026-03-08", 0), ("2026-03-09", 4), ("2026-03-10", 0)]);
    }

    #[test]
    fn success_rate_counts_closed_conversations() {
        let calls = CallTotals { completed: 4, completed_by_ai: 3, ..Default::default() };
        let chats = ChatTotals { resolved: 5, escalated: 2, open: 9, total: 16 };
        assert_eq!(ai_success_rate(&calls, &chats), 0.73);
        assert_eq!(ai_success_rate(&CallTotals::default(), &ChatTotals::default()), 0.0);
        assert!(statistics_window(Some(0), None).is_err() && statistics_window(None, Some(61)).is_err());
    }
}
