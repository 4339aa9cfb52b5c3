//! `/api/analytics/`: the CRM REST dashboard and the reports, as JSON, CSV or PDF.

use super::scaffold::{blank_or, both, operation, query_pairs};
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::files::csv::{CsvChunks, attachment, text_cell};
use crate::files::pdf::{self, Table};
use crate::state::AppState;
use crate::{iso, money};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{NaiveDate, Utc};
use crm_core::insights::{Cell, Column, ColumnType, Report, ReportKind, report_range};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

const TAG: &str = "crm-rest: analytics";
const FORMATS: [&str; 3] = ["json", "csv", "pdf"];

/// `{stage, count}`.
#[derive(Serialize, ToSchema)]
pub struct StageCountDto {
    pub stage: String,
    pub count: u64,
}

/// `{month, revenue, deals}`.
#[derive(Serialize, ToSchema)]
pub struct MonthRevenueDto {
    /// `YYYY-MM` (UTC).
    pub month: String,
    pub revenue: f64,
    /// Won deals closed that month.
    pub deals: u64,
}

/// `{status, count}`.
#[derive(Serialize, ToSchema)]
pub struct StatusCountDto {
    pub status: String,
    pub count: u64,
}

/// The CRM dashboard (definitions in `docs/crm-rest.md`).
#[derive(Serialize, ToSchema)]
pub struct RestDashboardDto {
    pub total_accounts: u64,
    pub total_contacts: u64,
    pub total_leads: u64,
    /// Every live deal, whatever its status.
    pub total_deals: u64,
    /// Amounts of every Won deal.
    pub total_revenue: f64,
    /// Every active stage in pipeline order, zeros included: live deals at it.
    pub deals_by_stage: Vec<StageCountDto>,
    /// The last 12 months including the current one, oldest first, zeros included.
    pub revenue_by_month: Vec<MonthRevenueDto>,
    /// Amounts of open deals.
    pub open_pipeline_value: f64,
    /// Σ amount × probability / 100 over open deals.
    pub weighted_pipeline_value: f64,
    /// Won / (Won + Lost), percent.
    pub win_rate: f64,
    /// Every lead status, zeros included.
    pub leads_by_status: Vec<StatusCountDto>,
    /// Converted leads / live leads, percent.
    pub lead_conversion_rate: f64,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(both("/api/analytics/dashboard/")).route(web::get().to(dashboard)))
        .service(web::resource(both("/api/analytics/reports/")).route(web::get().to(reports)));
}

async fn dashboard(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let d = state.rest.insights.dashboard(&auth.0, Utc::now().date_naive()).await?;
    Ok(HttpResponse::Ok().json(RestDashboardDto {
        total_accounts: d.total_accounts,
        total_contacts: d.total_contacts,
        total_leads: d.total_leads,
        total_deals: d.total_deals,
        total_revenue: money(d.total_revenue),
        deals_by_stage: d.deals_by_stage.into_iter().map(|c| StageCountDto { stage: c.name, count: c.count }).collect(),
        revenue_by_month: d
            .revenue_by_month
            .into_iter()
            .map(|m| MonthRevenueDto { month: m.period, revenue: money(m.sales), deals: m.deals })
            .collect(),
        open_pipeline_value: money(d.open_pipeline_value),
        weighted_pipeline_value: money(d.weighted_pipeline_value),
        win_rate: d.win_rate,
        leads_by_status: d
            .leads_by_status
            .into_iter()
            .map(|c| StatusCountDto { status: c.name, count: c.count })
            .collect(),
        lead_conversion_rate: d.lead_conversion_rate,
    }))
}

/// The value of query parameter `name`, blank as absent.
fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

fn date(pairs: &[(String, String)], name: &str) -> ApiResult<Option<NaiveDate>> {
    param(pairs, name)
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                ApiError::field(name, format!("{name} must be a date as YYYY-MM-DD (e.g. 2026-01-31), not \"{v}\"."))
            })
        })
        .transpose()
}

async fn reports(req: HttpRequest, auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let insights = &state.rest.insights;
    insights.may_read(&auth.0)?;
    let pairs = query_pairs(&req)?;
    let format = param(&pairs, "format").unwrap_or("json");
    if !FORMATS.contains(&format) {
        return Err(ApiError::field("format", format!("Unknown format \"{format}\"; use json, csv or pdf.")));
    }
    let today = Utc::now().date_naive();
    let range = report_range(date(&pairs, "start_date")?, date(&pairs, "end_date")?, today)?;
    let Some(kind) = param(&pairs, "report_type") else {
        return Ok(HttpResponse::Ok().json(catalogue(range)));
    };
    let kind = ReportKind::parse(kind)?;
    let report = insights.report(&auth.0, kind, range, Utc::now()).await?;
    let file_name = format!("{}-{}-{}", kind.as_str(), range.start, range.end);
    match format {
        "csv" => Ok(csv(report, &file_name)),
        "pdf" => {
            let table = pdf_table(&report);
            let bytes = web::block(move || pdf::render(&table)).await.map_err(ApiError::internal)??;
            Ok(HttpResponse::Ok()
                .content_type("application/pdf")
                .insert_header(("Content-Disposition", format!("attachment; filename=\"{file_name}.pdf\"")))
                .body(bytes))
        }
        _ => Ok(HttpResponse::Ok().json(json_report(report))),
    }
}

fn column_json(c: &Column) -> Value {
    json!({"key": c.key, "label": c.label, "type": c.kind.as_str()})
}

/// Every report type with its columns: what `/api/analytics/reports/` answers without one.
fn catalogue(range: crm_core::analytics::DateRange) -> Value {
    let types: Vec<Value> = ReportKind::ALL
        .iter()
        .map(|k| {
            json!({"report_type": k.as_str(), "title": k.title(), "description": k.about(),
                   "columns": k.columns().iter().map(column_json).collect::<Vec<_>>()})
        })
        .collect();
    json!({"report_types": types, "formats": FORMATS,
           "default_range": {"start_date": range.start.to_string(), "end_date": range.end.to_string()}})
}

fn cell_json(cell: &Cell) -> Value {
    match cell {
        Cell::Text(t) => json!(t),
        Cell::Int(n) => json!(n),
        Cell::Money(d) => json!(money(*d)),
        Cell::Float(x) => json!(x),
        Cell::Empty => Value::Null,
    }
}

/// A cell as text: amounts and percentages with two decimals, numbers with one.
fn cell_text(cell: &Cell, kind: ColumnType) -> String {
    match (cell, kind) {
        (Cell::Text(t), _) => t.clone(),
        (Cell::Int(n), _) => n.to_string(),
        (Cell::Money(d), _) => format!("{:.2}", d),
        (Cell::Float(x), ColumnType::Number) => format!("{x:.1}"),
        (Cell::Float(x), _) => format!("{x:.2}"),
        (Cell::Empty, _) => String::new(),
    }
}

fn json_report(r: Report) -> Value {
    let rows: Vec<Value> = r
        .rows
        .iter()
        .map(|row| Value::Object(r.columns.iter().zip(row).map(|(c, v)| (c.key.to_string(), cell_json(v))).collect()))
        .collect();
    let totals: Map<String, Value> = r.totals.iter().map(|(k, v)| (k.to_string(), cell_json(v))).collect();
    json!({
        "report_type": r.kind.as_str(),
        "title": r.kind.title(),
        "start_date": r.range.start.to_string(),
        "end_date": r.range.end.to_string(),
        "generated_at": iso(r.generated_at),
        "columns": r.columns.iter().map(column_json).collect::<Vec<_>>(),
        "rows": rows,
        "totals": totals,
    })
}

/// The rows under a header of column keys; text cells made safe for spreadsheets.
fn csv(r: Report, file_name: &str) -> HttpResponse {
    let columns = r.columns;
    let mut out = CsvChunks::default();
    let header = out.record(columns.iter().map(|c| c.key));
    let mut rows = r.rows.into_iter();
    let chunks = futures_util::stream::once(async move { header.and_then(|_| out.take()) }).chain(
        futures_util::stream::iter(std::iter::from_fn(move || {
            let batch: Vec<Vec<Cell>> = rows.by_ref().take(500).collect();
            if batch.is_empty() {
                return None;
            }
            let mut out = CsvChunks::default();
            for row in &batch {
                let cells = columns.iter().zip(row).map(|(c, v)| match v {
                    Cell::Text(t) => text_cell(t),
                    other => cell_text(other, c.kind),
                });
                if let Err(e) = out.record(cells) {
                    return Some(Err(e));
                }
            }
            Some(out.take())
        })),
    );
    attachment(&format!("{file_name}.csv"), chunks)
}

fn pdf_table(r: &Report) -> Table {
    let numeric: Vec<bool> = r.columns.iter().map(|c| c.kind != ColumnType::Text).collect();
    let shown = |cells: Vec<String>| cells.into_iter().map(|c| if c.is_empty() { "—".into() } else { c }).collect();
    let mut totals = vec![String::new(); r.columns.len()];
    totals[0] = "Total".into();
    for (key, value) in &r.totals {
        if let Some(i) = r.columns.iter().position(|c| c.key == *key) {
            totals[i] = cell_text(value, r.columns[i].kind);
        }
    }
    Table {
        title: r.kind.title().to_string(),
        lines: vec![
            format!("Period: {} to {}", r.range.start, r.range.end),
            format!("Generated: {} UTC", r.generated_at.format("%Y-%m-%d %H:%M:%S")),
            r.kind.about().to_string(),
        ],
        headers: r.columns.iter().map(|c| c.label.to_string()).collect(),
        numeric,
        rows: r
            .rows
            .iter()
            .map(|row| shown(r.columns.iter().zip(row).map(|(c, v)| cell_text(v, c.kind)).collect()))
            .collect(),
        totals: Some(totals),
    }
}

use futures_util::StreamExt;

pub fn document(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let dashboard = super::scaffold::schema_ref::<RestDashboardDto>(schemas);
    paths.insert(
        "/api/analytics/dashboard/".into(),
        json!({"get": operation(TAG, "rest_analytics_dashboard", "The CRM dashboard (`analytics.read`)", vec![],
            None, ("200", json!({"description": "The dashboard", "content": {"application/json": {"schema": dashboard}}})))}),
    );
    let date = |name: &str, about: &str| {
        json!({"name": name, "in": "query", "required": false, "description": about,
               "schema": blank_or(json!({"type": "string", "format": "date"}))})
    };
    let kinds: Vec<&str> = ReportKind::ALL.iter().map(|k| k.as_str()).collect();
    let params = vec![
        json!({"name": "report_type", "in": "query", "required": false,
               "description": "The report; without it the answer lists every type with its columns",
               "schema": blank_or(json!({"type": "string", "enum": kinds}))}),
        date(
            "start_date",
            "First day (`YYYY-MM-DD`, inclusive); default: the first day of the month 11 months before end_date",
        ),
        date("end_date", "Last day (`YYYY-MM-DD`, inclusive); default today. At most 5 years after start_date"),
        json!({"name": "format", "in": "query", "required": false, "description": "json (default), csv or pdf",
               "schema": blank_or(json!({"type": "string", "enum": FORMATS}))}),
    ];
    let report = json!({"type": "object", "required": ["report_type", "start_date", "end_date", "generated_at", "columns", "rows", "totals"],
        "properties": {
            "report_type": {"type": "string"}, "title": {"type": "string"},
            "start_date": {"type": "string", "format": "date"}, "end_date": {"type": "string", "format": "date"},
            "generated_at": {"type": "string", "format": "date-time"},
            "columns": {"type": "array", "items": {"type": "object", "properties": {
                "key": {"type": "string"}, "label": {"type": "string"},
                "type": {"type": "string", "enum": ["text", "integer", "money", "percent", "number"]}}}},
            "rows": {"type": "array", "items": {"type": "object", "description": "Values by column key"}},
            "totals": {"type": "object", "description": "Totals by column key"}}});
    let ok = json!({"description": "The report (JSON), or the list of report types without `report_type`; `text/csv` or `application/pdf` attachments with `format`",
        "content": {
            "application/json": {"schema": {"anyOf": [report, {"type": "object", "required": ["report_types", "formats"], "properties": {"report_types": {"type": "array"}, "formats": {"type": "array"}}}]}},
            "text/csv": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}}}});
    paths.insert(
        "/api/analytics/reports/".into(),
        json!({"get": operation(TAG, "rest_analytics_reports",
            "Sales, pipeline, activities, leads or accounts report as JSON, CSV or PDF (`analytics.read`)", params, None, ("200", ok))}),
    );
}
