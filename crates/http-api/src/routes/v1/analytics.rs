//! `/api/v1/analytics`: dashboard, sales report and the period selector's trend.

use super::v1_ok;
use crate::error::ApiResult;
use crate::extract::Auth;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{NaiveDate, Utc};
use crm_core::analytics::{Period, PeriodSales};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/analytics/dashboard").route(web::get().to(dashboard)))
        .service(web::resource("/api/v1/analytics/sales").route(web::get().to(sales)))
        .service(web::resource("/api/v1/analytics/period").route(web::get().to(period)));
}

/// One month of the dashboard's trend: `month` (the document) and `period` (the frontend).
#[derive(Serialize, ToSchema)]
pub struct TrendPoint {
    #[schema(example = "2026-11")]
    pub month: String,
    #[schema(example = "2026-11")]
    pub period: String,
    pub sales: f64,
}

/// The dashboard.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardData {
    /// Customers that are not deleted.
    pub total_customers: u64,
    /// Sum of values of deals completed in the current calendar month (UTC).
    pub monthly_sales: f64,
    /// Deals in `new` or `in_progress`.
    pub active_deals: u64,
    /// Percentage of customers whose status is in the v1 group `active`, two decimals.
    pub conversion_rate: f64,
    /// Exactly `active`, `potential` and `waiting` (zero included); adds up to `totalCustomers`.
    pub customers_by_status: BTreeMap<String, u64>,
    /// The last 12 months, oldest first, months without sales as 0.
    pub sales_trend: Vec<TrendPoint>,
}

#[utoipa::path(operation_id = "v1_analytics_dashboard", get, path = "/api/v1/analytics/dashboard", tag = "crm-v1", security(("bearer" = [])),
    description = "monthlySales = sum of values of deals completed in the current calendar month (UTC); activeDeals = deals in new or in_progress; conversionRate = percentage of customers whose status is in the v1 group active (two decimals); customersByStatus has exactly the keys active, potential and waiting (each catalog status counts in its v1 group) and adds up to totalCustomers; salesTrend = completed value per month over the last 12 months, oldest first, zeros included.",
    responses((status = 200, description = "`{success:true, data: DashboardData}`", body = DashboardData), (status = 403, description = "FORBIDDEN: analytics.read needed")))]
pub async fn dashboard(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let d = state.crm.dashboard(&auth.0, Utc::now().date_naive()).await?;
    Ok(v1_ok(DashboardData {
        total_customers: d.total_customers,
        monthly_sales: crate::money(d.monthly_sales),
        active_deals: d.active_deals,
        conversion_rate: d.conversion_rate,
        customers_by_status: d.customers_by_group.into_iter().map(|(g, n)| (g.as_str().to_string(), n)).collect(),
        sales_trend: d
            .sales_trend
            .into_iter()
            .map(|p| TrendPoint { month: p.period.clone(), period: p.period, sales: crate::money(p.sales) })
            .collect(),
    }))
}

/// Range and granularity of the sales report.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct SalesQuery {
    /// YYYY-MM-DD (default: the first day of the month 11 months ago).
    pub start_date: Option<NaiveDate>,
    /// YYYY-MM-DD, inclusive (default: today).
    pub end_date: Option<NaiveDate>,
    /// `daily`, `weekly` (labelled by Monday), `monthly` (default) or `yearly`.
    pub period: Option<String>,
}

/// Completed sales of one period.
#[derive(Serialize, ToSchema)]
pub struct PeriodPoint {
    /// `2026-11-23` (daily; weekly: the Monday), `2026-11` (monthly), `2026` (yearly).
    pub period: String,
    pub sales: f64,
    /// Number of completed deals.
    pub deals: u64,
}

impl From<PeriodSales> for PeriodPoint {
    fn from(p: PeriodSales) -> Self {
        PeriodPoint { period: p.period, sales: crate::money(p.sales), deals: p.deals }
    }
}

/// A customer ranked by completed value.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopCustomerPoint {
    pub customer_id: i64,
    pub customer_name: String,
    pub total_value: f64,
}

/// The sales report.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesData {
    /// Sum of completed deal values in the range.
    pub total_sales: f64,
    /// Every period of the range, zeros included, oldest first.
    pub sales_by_period: Vec<PeriodPoint>,
    /// The 10 customers with the highest completed value in the range.
    pub top_customers: Vec<TopCustomerPoint>,
    pub start_date: String,
    pub end_date: String,
    pub period: String,
}

fn parse_period(raw: Option<&str>) -> ApiResult<Option<Period>> {
    Ok(raw.map(str::trim).filter(|p| !p.is_empty()).map(Period::parse).transpose()?)
}

fn period_name(p: Period) -> &'static str {
    match p {
        Period::Daily => "daily",
        Period::Weekly => "weekly",
        Period::Monthly => "monthly",
        Period::Yearly => "yearly",
    }
}

#[utoipa::path(operation_id = "v1_analytics_sales", get, path = "/api/v1/analytics/sales", tag = "crm-v1", params(SalesQuery), security(("bearer" = [])),
    description = "Completed deals (by close time, UTC) in [startDate, endDate]; default monthly over the last 12 months.",
    responses((status = 200, description = "`{success:true, data: SalesData}`", body = SalesData), (status = 400, description = "VALIDATION_ERROR: malformed date, startDate after endDate, unknown period, more than 1000 periods")))]
pub async fn sales(auth: Auth, state: web::Data<AppState>, q: web::Query<SalesQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let period = parse_period(q.period.as_deref())?;
    let r = state.crm.sales_report(&auth.0, q.start_date, q.end_date, period, Utc::now().date_naive()).await?;
    Ok(v1_ok(SalesData {
        total_sales: crate::money(r.total_sales),
        sales_by_period: r.sales_by_period.into_iter().map(Into::into).collect(),
        top_customers: r
            .top_customers
            .into_iter()
            .map(|t| TopCustomerPoint {
                customer_id: t.customer_id,
                customer_name: t.customer_name,
                total_value: crate::money(t.total_value),
            })
            .collect(),
        start_date: r.range.start.to_string(),
        end_date: r.range.end.to_string(),
        period: period_name(r.period).into(),
    }))
}

/// The period selector's query.
#[derive(Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// `daily` (30 days), `weekly` (12 weeks), `monthly` (12 months, default) or `yearly` (5 years).
    pub period: Option<String>,
}

/// The trend of one period.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeriodTrend {
    pub sales_trend: Vec<PeriodPoint>,
}

#[utoipa::path(operation_id = "v1_analytics_period", get, path = "/api/v1/analytics/period", tag = "crm-v1", params(PeriodQuery), security(("bearer" = [])),
    description = "Not in crm-api-v1.md: the published frontend's period selector calls it. Completed sales per period over 30 days, 12 weeks, 12 months or 5 years.",
    responses((status = 200, description = "`{success:true, data: PeriodTrend}`", body = PeriodTrend), (status = 400, description = "VALIDATION_ERROR: unknown period")))]
pub async fn period(auth: Auth, state: web::Data<AppState>, q: web::Query<PeriodQuery>) -> ApiResult<HttpResponse> {
    let period = parse_period(q.period.as_deref())?.unwrap_or(Period::Monthly);
    let trend = state.crm.period_trend(&auth.0, period, Utc::now().date_naive()).await?;
    Ok(v1_ok(PeriodTrend { sales_trend: trend.into_iter().map(Into::into).collect() }))
}
