//! `/api/dashboard/summary`, `/api/statistics` and `/api/analytics`.

use super::calls::CallDto;
use super::chats::ChatDto;
use crate::error::ApiResult;
use crate::extract::Auth;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use callcenter_core::report::{LabelCount, Point, TopicCount};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/dashboard/summary").route(web::get().to(dashboard)))
        .service(web::resource("/api/statistics").route(web::get().to(statistics)))
        .service(web::resource("/api/analytics").route(web::get().to(analytics)));
}

/// The operator dashboard.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardDto {
    /// Calls started today (UTC).
    pub calls_today: i64,
    /// Open chats.
    pub active_chats: i64,
    /// Mean seconds to a reply over the last 7 days.
    pub avg_response_sec: f64,
    /// Closed conversations of the last 7 days handled without a human, 0..1.
    pub ai_success_rate: f64,
    pub recent_chats: Vec<ChatDto>,
    pub recent_calls: Vec<CallDto>,
}

#[utoipa::path(operation_id = "cc_dashboard", get, path = "/api/dashboard/summary", tag = "callcenter", security(("bearer" = [])),
    responses((status = 200, description = "Success", body = DashboardDto), (status = 401, description = "Not signed in"), (status = 403, description = "callcenter.read needed")))]
pub async fn dashboard(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let d = state.callcenter.dashboard(&auth.0).await?;
    Ok(HttpResponse::Ok().json(DashboardDto {
        calls_today: d.calls_today,
        active_chats: d.active_chats,
        avg_response_sec: d.avg_response_sec,
        ai_success_rate: d.ai_success_rate,
        recent_chats: d.recent_chats.into_iter().map(ChatDto::from).collect(),
        recent_calls: d.recent_calls.into_iter().map(CallDto::from).collect(),
    }))
}

/// How often a topic came up.
#[derive(Serialize, ToSchema)]
pub struct TopicCountDto {
    pub topic: String,
    pub count: i64,
}

impl From<TopicCount> for TopicCountDto {
    fn from(t: TopicCount) -> Self {
        TopicCountDto { topic: t.topic, count: t.count }
    }
}

/// Calls of one day.
#[derive(Serialize, ToSchema)]
pub struct DayCount {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub count: i64,
}

/// Calls of one month.
#[derive(Serialize, ToSchema)]
pub struct MonthCount {
    /// `YYYY-MM` (UTC).
    pub month: String,
    pub count: i64,
}

/// Call statistics.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatisticsDto {
    /// All calls ever recorded.
    pub total_calls: i64,
    /// Mean duration of completed calls in whole seconds.
    pub average_duration: i64,
    /// One entry per day of the window, oldest first, zeros included.
    pub daily_calls: Vec<DayCount>,
    /// One entry per month of the window, oldest first, zeros included.
    pub monthly_calls: Vec<MonthCount>,
    /// Calls per topic, most frequent first.
    pub topics_frequency: Vec<TopicCountDto>,
}

/// The statistics window.
#[derive(Deserialize, IntoParams)]
pub struct StatisticsQuery {
    /// 1 to 366 days ending today (default 30).
    #[param(minimum = 1, maximum = 366)]
    pub days: Option<i64>,
    /// 1 to 60 months ending this month (default 12).
    #[param(minimum = 1, maximum = 60)]
    pub months: Option<i64>,
}

#[utoipa::path(operation_id = "cc_statistics", get, path = "/api/statistics", tag = "callcenter", params(StatisticsQuery), security(("bearer" = [])),
    responses((status = 200, description = "Success", body = StatisticsDto), (status = 400, description = "days or months out of range"), (status = 401, description = "Not signed in")))]
pub async fn statistics(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<StatisticsQuery>,
) -> ApiResult<HttpResponse> {
    let s = state.callcenter.statistics(&auth.0, q.days, q.months).await?;
    let day = |c: LabelCount| DayCount { date: c.label, count: c.count };
    let month = |c: LabelCount| MonthCount { month: c.label, count: c.count };
    Ok(HttpResponse::Ok().json(StatisticsDto {
        total_calls: s.total_calls,
        average_duration: s.average_duration,
        daily_calls: s.daily_calls.into_iter().map(day).collect(),
        monthly_calls: s.monthly_calls.into_iter().map(month).collect(),
        topics_frequency: s.topics_frequency.into_iter().map(TopicCountDto::from).collect(),
    }))
}

/// A point of a series.
#[derive(Serialize, ToSchema)]
pub struct PointDto {
    /// Start of the bucket (hour or day), UTC.
    pub t: String,
    pub value: i64,
}

impl From<Point> for PointDto {
    fn from(p: Point) -> Self {
        PointDto { t: p.t.format("%Y-%m-%dT%H:%M:%SZ").to_string(), value: p.value }
    }
}

/// Analytics of a range.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsDto {
    /// `24h`, `7d` or `30d`.
    pub range: &'static str,
    pub calls_total: i64,
    /// Completed calls.
    pub calls_answered: i64,
    /// Busy, unanswered or cancelled calls.
    pub calls_missed: i64,
    pub chats_total: i64,
    pub chats_resolved: i64,
    pub avg_response_sec: f64,
    /// Mean duration of completed calls, whole seconds.
    pub avg_handle_time_sec: i64,
    pub ai_success_rate: f64,
    /// Topics of calls and chats, top 5.
    pub top_topics: Vec<TopicCountDto>,
    /// Calls per hour (24h) or per day (7d, 30d), oldest first, zeros included.
    pub calls_series: Vec<PointDto>,
    pub chats_series: Vec<PointDto>,
}

/// The analytics range.
#[derive(Deserialize, IntoParams)]
pub struct AnalyticsQuery {
    /// `24h`, `7d` (default) or `30d`.
    pub range: Option<String>,
}

#[utoipa::path(operation_id = "cc_analytics", get, path = "/api/analytics", tag = "callcenter", params(AnalyticsQuery), security(("bearer" = [])),
    responses((status = 200, description = "Success", body = AnalyticsDto), (status = 400, description = "Unknown range"), (status = 401, description = "Not signed in")))]
pub async fn analytics(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<AnalyticsQuery>,
) -> ApiResult<HttpResponse> {
    let a = state.callcenter.analytics(&auth.0, q.range.as_deref()).await?;
    Ok(HttpResponse::Ok().json(AnalyticsDto {
        range: a.range.as_str(),
        calls_total: a.calls.total,
        calls_answered: a.calls.completed,
        calls_missed: a.calls.missed,
        chats_total: a.chats.total,
        chats_resolved: a.chats.resolved,
        avg_response_sec: a.avg_response_sec,
        avg_handle_time_sec: a.calls.avg_duration_sec.unwrap_or(0.0).round() as i64,
        ai_success_rate: a.ai_success_rate,
        top_topics: a.top_topics.into_iter().map(TopicCountDto::from).collect(),
        calls_series: a.calls_series.into_iter().map(PointDto::from).collect(),
        chats_series: a.chats_series.into_iter().map(PointDto::from).collect(),
    }))
}
