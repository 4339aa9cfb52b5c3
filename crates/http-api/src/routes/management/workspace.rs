//! The CIMS UI's CRM workspace (`../shared/contracts/cims-crm-workspace.md`): customers with
//! the assistant's fields and a recording, people's notes, the archive, the period chips,
//! statistics and a sales manager's own leads. Multipart forms, bare JSON, `{"detail"}` errors.

use super::whole_number as number;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::iso;
use crate::multipart::{is_multipart, read_fields};
use crate::pagination::bounded_page_request;
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use crm_core::workspace::{
    AssignedCustomer, AudioUpload, CustomerForm, LeadResponse, MyLeadsFilter, MyLeadsStats, Note, PERIODS,
    StatusCounts, WorkspaceCustomer, WorkspaceFilter, period_start,
};
use management_core::{Permission, Principal};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// The most customers a list the UI does not page returns (newest first).
const UNPAGED: u64 = 10_000;
/// The legacy statuses `/crm/stats` always names.
const LEGACY_STATUSES: [&str; 6] =
    ["need_to_call", "contacted", "project_started", "continuing", "finished", "rejected"];

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Static segments first: they must win over `/crm/customers/{id}`.
    cfg.service(web::resource("/crm/dashboard").route(web::get().to(dashboard)))
        .service(web::resource("/crm/statuses/dynamic").route(web::get().to(dynamic_statuses)))
        .service(web::resource("/crm/stats").route(web::get().to(stats)))
        .service(web::resource("/crm/stats/period").route(web::get().to(stats_period)))
        .service(web::resource("/crm/customers/stats/summary").route(web::get().to(stats_summary)))
        .service(web::resource("/crm/customers/report/period").route(web::get().to(period_report)))
        .service(web::resource("/crm/customers/filter/status").route(web::get().to(filter_status)))
        .service(web::resource("/crm/customers/filter/platform").route(web::get().to(filter_platform)))
        .service(web::resource("/crm/customers/filter/date").route(web::get().to(filter_date)))
        .service(web::resource("/crm/customers/latest").route(web::get().to(latest)))
        .service(web::resource("/crm/customers/bazakorinish").route(web::get().to(latest)))
        .service(web::resource("/crm/customers/archived").route(web::get().to(archived)))
        .service(web::resource("/crm/customers/bulk-delete").route(web::delete().to(bulk_archive)))
        .service(web::resource("/crm/customers/bulk-hard-delete").route(web::delete().to(bulk_purge)))
        .service(web::resource("/crm/customers/audio/{file_id}").route(web::get().to(audio)))
        .service(web::resource("/crm/customers").route(web::post().to(create)))
        .service(
            web::resource("/crm/customers/{id}")
                .route(web::patch().to(update))
                .route(web::put().to(update))
                .route(web::delete().to(archive)),
        )
        .service(web::resource("/crm/customers/{id}/restore").route(web::post().to(restore)))
        .service(web::resource("/crm/customers/{id}/hard").route(web::delete().to(purge)))
        .service(web::resource("/crm/customers/{id}/notes").route(web::get().to(notes)).route(web::post().to(add_note)))
        .service(
            web::resource("/crm/customers/{id}/notes/{note_id}")
                .route(web::patch().to(edit_note))
                .route(web::put().to(edit_note))
                .route(web::delete().to(delete_note)),
        )
        .service(web::resource("/crm/detail/{id}").route(web::get().to(detail)))
        .service(web::resource("/crm/my-customers").route(web::get().to(my_customers)))
        .service(web::resource("/crm/my-customers/stats").route(web::get().to(my_stats)))
        .service(web::resource("/crm/sales-managers/{id}/customers").route(web::get().to(manager_customers)))
        .service(web::resource("/crm/sales-managers/{id}/stats").route(web::get().to(manager_stats)))
        .service(web::resource("/crm/sales-manager/stats").route(web::get().to(manager_period_stats)));
}

// ---- Shapes ----

/// A customer as the workspace reads it (section 3.1).
#[derive(Serialize, ToSchema)]
pub struct CustomerDto {
    pub id: i64,
    pub full_name: String,
    pub platform: Option<String>,
    pub phone_number: Option<String>,
    pub username: Option<String>,
    pub assistant_name: Option<String>,
    /// The status name (`/management/statuses`).
    pub status: String,
    /// The assistant's free-text notes (people's notes are at `/crm/customers/{id}/notes`).
    pub notes: Option<String>,
    pub aisummary: Option<String>,
    pub chat_url: Option<String>,
    pub recall_time: Option<String>,
    /// `uz`, `ru` or `en`.
    pub conversation_language: Option<String>,
    pub audio_file_id: Option<String>,
    /// An absolute link to the recording, signed and expiring (works without a token).
    pub audio_url: Option<String>,
    pub created_at: String,
    pub is_archived: bool,
    #[schema(value_type = Option<Object>)]
    pub lead_response_metrics: Option<Value>,
}

fn metrics_json(m: LeadResponse) -> Value {
    json!({
        "lead_created_at": iso(m.lead_created_at),
        "first_status_changed_at": m.first_status_changed_at.map(iso),
        "first_note_at": m.first_note_at.map(iso),
        "current_status": m.current_status,
        "first_status_changed_to": m.first_status_changed_to,
        "response_minutes": m.response_minutes,
        "late_minutes": m.late_minutes,
        "note_minutes": m.note_minutes,
        "response_human": m.response_human,
        "late_human": m.late_human,
        "note_human": m.note_human,
        "response_limit_minutes": m.response_limit_minutes,
        "is_late_response": m.is_late_response,
        "note_written": m.note_written,
        "status_changed": m.status_changed,
        "status_changed_without_note": m.status_changed_without_note,
        "message": m.message,
    })
}

/// Builds customers' JSON with signed audio links for this request's origin.
struct Shown<'a> {
    state: &'a AppState,
    origin: String,
    now: DateTime<Utc>,
}

impl<'a> Shown<'a> {
    fn new(state: &'a AppState, req: &HttpRequest) -> Self {
        let info = req.connection_info();
        Shown { state, origin: format!("{}://{}", info.scheme(), info.host()), now: Utc::now() }
    }

    fn customer(&self, c: WorkspaceCustomer) -> CustomerDto {
        let audio_url = c
            .audio_file_id
            .as_ref()
            .map(|id| self.state.links.sign(&self.origin, &format!("/crm/customers/audio/{id}")));
        CustomerDto {
            lead_response_metrics: c.lead_response(self.now).map(metrics_json),
            id: c.id,
            full_name: c.full_name,
            platform: c.platform,
            phone_number: c.phone_number,
            username: c.username,
            assistant_name: c.assistant_name,
            status: c.status,
            notes: c.notes,
            aisummary: c.aisummary,
            chat_url: c.chat_url,
            recall_time: c.recall_time.map(iso),
            conversation_language: c.conversation_language,
            audio_file_id: c.audio_file_id,
            audio_url,
            created_at: iso(c.created_at),
            is_archived: c.archived_at.is_some(),
        }
    }

    fn customers(&self, list: Vec<WorkspaceCustomer>) -> Vec<CustomerDto> {
        list.into_iter().map(|c| self.customer(c)).collect()
    }
}

/// A person's note (section 3.3).
#[derive(Serialize, ToSchema)]
pub struct NoteDto {
    pub id: i64,
    pub customer_id: i64,
    pub note: String,
    pub created_by: Option<i64>,
    pub created_by_full_name: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Note> for NoteDto {
    fn from(n: Note) -> Self {
        NoteDto {
            id: n.id,
            customer_id: n.customer_id,
            note: n.note,
            created_by: n.created_by,
            created_by_full_name: n.created_by_full_name,
            created_at: iso(n.created_at),
            updated_at: iso(n.updated_at),
        }
    }
}

/// `{message}`.
#[derive(Serialize, ToSchema)]
pub struct Message {
    pub message: String,
}

fn message(text: impl Into<String>) -> HttpResponse {
    HttpResponse::Ok().json(Message { message: text.into() })
}

/// `#RGB` → `#RRGGBB` (the UI appends two hex digits for translucent fills).
fn long_color(color: &str) -> String {
    let hex = color.trim_start_matches('#');
    if hex.len() == 3 {
        format!("#{}", hex.chars().flat_map(|c| [c, c]).collect::<String>().to_uppercase())
    } else {
        format!("#{}", hex.to_uppercase())
    }
}

fn counts_json(counts: &StatusCounts) -> (Map<String, Value>, Map<String, Value>) {
    let mut dict = Map::new();
    let mut percentages = Map::new();
    for (status, n) in &counts.by_status {
        dict.insert(status.clone(), json!(n));
        let pct = if counts.total == 0 { 0.0 } else { (*n as f64 * 10_000.0 / counts.total as f64).round() / 100.0 };
        percentages.insert(status.clone(), json!(pct));
    }
    (dict, percentages)
}

fn summary_json(counts: &StatusCounts) -> Value {
    let (dict, percentages) = counts_json(counts);
    json!({"total_customers": counts.total, "status_stats": dict, "status_percentages": percentages})
}

// ---- Query parameters ----

fn flag(field: &str, raw: Option<&str>) -> ApiResult<bool> {
    match raw.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(ApiError::field(field, format!("{field} must be true or false."))),
    }
}

fn date(field: &str, raw: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::field(field, format!("{field} must be a date as YYYY-MM-DD."))),
    }
}

/// Midnight of `day` in Tashkent, the team's business day.
fn tashkent_midnight(day: NaiveDate) -> DateTime<Utc> {
    let tashkent = chrono::FixedOffset::east_opt(5 * 3600).expect("UTC+5");
    day.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(tashkent).single()).map_or_else(Utc::now, |t| t.to_utc())
}

fn tashkent_today() -> NaiveDate {
    Utc::now().with_timezone(&chrono::FixedOffset::east_opt(5 * 3600).expect("UTC+5")).date_naive()
}

type Query = web::Query<BTreeMap<String, String>>;

fn param<'q>(q: &'q Query, key: &str) -> Option<&'q str> {
    q.get(key).map(String::as_str)
}

/// The query parameter `name`, trimmed; a 400 naming it when it is missing or blank.
fn required<'a>(q: &'a Query, name: &str) -> ApiResult<&'a str> {
    param(q, name)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::field(name, format!("{name} is required.")))
}

fn parse_id(raw: &str, what: &str) -> ApiResult<i64> {
    raw.trim().parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| ApiError::not_found(format!("{what} not found.")))
}

// ---- Lists ----

/// `page`, `page_size` (default 50, at most 100), `show_all`, `search`, `status_filter`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DashboardQuery {
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u64>,
    pub show_all: Option<bool>,
    pub search: Option<String>,
    pub status_filter: Option<String>,
}

#[utoipa::path(operation_id = "cims_crm_dashboard", get, path = "/crm/dashboard", tag = "management", params(DashboardQuery), security(("bearer" = [])),
    description = "Live customers of every status, newest first, one page per request (the UI asks for page 1, then every other page at once). `status_choices` lists the active catalog statuses.",
    responses((status = 200, description = "`{customers, page, page_size, total_items, total_pages, status_choices, status_stats, status_dict, status_percentages}`"), (status = 401, description = "`{detail}`"), (status = 403, description = "crm.read needed")))]
pub async fn dashboard(auth: Auth, req: HttpRequest, state: web::Data<AppState>, q: Query) -> ApiResult<HttpResponse> {
    let page = bounded_page_request(
        number("page", param(&q, "page"))?,
        number("page_size", param(&q, "page_size"))?,
        50,
        100,
        "page_size",
    )?;
    // Every status is always listed; the flag is still checked like any boolean.
    if let Some(raw) = param(&q, "show_all")
        && !["true", "false", "1", "0"].contains(&raw.trim().to_ascii_lowercase().as_str())
    {
        return Err(ApiError::field("show_all", "show_all must be true or false."));
    }
    let filter = WorkspaceFilter {
        search: param(&q, "search").map(str::to_string).filter(|s| !s.trim().is_empty()),
        status: param(&q, "status_filter").map(str::to_string).filter(|s| !s.trim().is_empty()),
        ..Default::default()
    };
    let listed = state.workspace.list(&auth.0, &filter, page).await?;
    let statuses = state.catalog.statuses(&auth.0).await?;
    let choices: Vec<Value> =
        statuses.iter().filter(|s| s.is_active).map(|s| json!({"value": s.name, "label": s.display_name})).collect();
    let total_pages = listed.total.div_ceil(page.per_page);
    let shown = Shown::new(&state, &req);
    Ok(HttpResponse::Ok().json(json!({
        "customers": shown.customers(listed.items),
        "page": page.page,
        "page_size": page.per_page,
        "total_items": listed.total,
        "total_pages": total_pages,
        "status_choices": choices,
        "selected_status": filter.status,
    })))
}

/// A status the workspace offers (section 3.4).
#[derive(Serialize, ToSchema)]
pub struct StatusOption {
    pub value: String,
    pub label: String,
    /// `#RRGGBB`.
    pub color: String,
    pub order: i32,
    pub description: Option<String>,
}

#[utoipa::path(operation_id = "cims_crm_dynamic_statuses", get, path = "/crm/statuses/dynamic", tag = "management", security(("bearer" = [])),
    responses((status = 200, body = [StatusOption], description = "The active statuses of `/management/statuses`, by order then label"), (status = 401, description = "`{detail}`")))]
pub async fn dynamic_statuses(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    auth.0.require(Permission::CrmRead)?;
    let mut active: Vec<StatusOption> = state
        .catalog
        .statuses(&auth.0)
        .await?
        .into_iter()
        .filter(|s| s.is_active)
        .map(|s| StatusOption {
            value: s.name,
            label: s.display_name,
            color: long_color(&s.color),
            order: s.order,
            description: s.description,
        })
        .collect();
    active.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.label.cmp(&b.label)));
    Ok(HttpResponse::Ok().json(active))
}

#[utoipa::path(operation_id = "cims_crm_stats", get, path = "/crm/stats", tag = "management", security(("bearer" = [])),
    responses((status = 200, description = "`{total_customers, need_to_call, contacted, project_started, continuing, finished, rejected, status_dict, status_percentages}` over live customers"), (status = 401, description = "`{detail}`")))]
pub async fn stats(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let counts = state.workspace.status_counts(&auth.0, None).await?;
    let (dict, percentages) = counts_json(&counts);
    let mut body = Map::new();
    body.insert("total_customers".into(), json!(counts.total));
    for name in LEGACY_STATUSES {
        body.insert(name.into(), dict.get(name).cloned().unwrap_or(json!(0)));
    }
    body.insert("status_dict".into(), Value::Object(dict));
    body.insert("status_percentages".into(), Value::Object(percentages));
    Ok(HttpResponse::Ok().json(body))
}

#[utoipa::path(operation_id = "cims_crm_stats_summary", get, path = "/crm/customers/stats/summary", tag = "management", security(("bearer" = [])),
    responses((status = 200, description = "`{generated_at, today, last_3_days, last_7_days, last_30_days, last_90_days}`, each `{total_customers, status_stats, status_percentages}` of live customers created in those calendar days (Tashkent)"), (status = 401, description = "`{detail}`")))]
pub async fn stats_summary(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let now = Utc::now();
    let mut body = Map::new();
    body.insert("generated_at".into(), json!(iso(now)));
    for (key, days) in
        [("today", 1), ("last_3_days", 3), ("last_7_days", 7), ("last_30_days", 30), ("last_90_days", 90)]
    {
        let counts = state.workspace.status_counts(&auth.0, Some(period_start(days, now))).await?;
        body.insert(key.into(), summary_json(&counts));
    }
    Ok(HttpResponse::Ok().json(body))
}

#[utoipa::path(operation_id = "cims_crm_stats_period", get, path = "/crm/stats/period", tag = "management", security(("bearer" = [])),
    responses((status = 200, description = "`{period_stats: {today, this_week, this_month, last_3_months, last_6_months, last_year}, generated_at}`: live customers created in each period"), (status = 401, description = "`{detail}`")))]
pub async fn stats_period(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let now = Utc::now();
    let mut periods = Map::new();
    for (key, days) in [
        ("today", 1),
        ("this_week", 7),
        ("this_month", 30),
        ("last_3_months", 90),
        ("last_6_months", 180),
        ("last_year", 365),
    ] {
        let counts = state.workspace.status_counts(&auth.0, Some(period_start(days, now))).await?;
        periods.insert(key.into(), json!(counts.total));
    }
    Ok(HttpResponse::Ok().json(json!({"period_stats": periods, "generated_at": iso(now)})))
}

/// `period` (`1d`, `3d`, `7d`, `30d`, `90d`) and `search`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PeriodQuery {
    /// `1d`, `3d`, `7d` (default), `30d` or `90d`.
    #[param(pattern = "^\\s*(1|3|7|30|90)[dD]\\s*$")]
    pub period: Option<String>,
    pub search: Option<String>,
}

#[utoipa::path(operation_id = "cims_crm_period_report", get, path = "/crm/customers/report/period", tag = "management", params(PeriodQuery), security(("bearer" = [])),
    description = "Live customers created in the last N calendar days including today (Tashkent), newest first; `search` matches name, username, phone, notes, platform, status and assistant.",
    responses((status = 200, description = "`{period, from_date, to_date, total_customers, customers, status_stats, status_percentages}`"), (status = 400, description = "Unknown period"), (status = 401, description = "`{detail}`")))]
pub async fn period_report(
    auth: Auth,
    req: HttpRequest,
    state: web::Data<AppState>,
    q: Query,
) -> ApiResult<HttpResponse> {
    let raw = param(&q, "period").unwrap_or("7d").trim().to_ascii_lowercase();
    let days = PERIODS.iter().find(|(name, _)| *name == raw).map(|(_, d)| *d).ok_or_else(|| {
        let names: Vec<&str> = PERIODS.iter().map(|(n, _)| *n).collect();
        ApiError::field("period", format!("Unknown period '{raw}'; use one of: {}.", names.join(", ")))
    })?;
    let now = Utc::now();
    let from = period_start(days, now);
    let filter = WorkspaceFilter {
        created_from: Some(from),
        search: param(&q, "search").map(str::to_string).filter(|s| !s.trim().is_empty()),
        ..Default::default()
    };
    let customers = state.workspace.all(&auth.0, &filter, UNPAGED).await?;
    let counts = StatusCounts::of(&customers);
    let (dict, percentages) = counts_json(&counts);
    let today = tashkent_today();
    Ok(HttpResponse::Ok().json(json!({
        "period": raw,
        "from_date": (today - Duration::days(days - 1)).to_string(),
        "to_date": today.to_string(),
        "total_customers": counts.total,
        "customers": Shown::new(&state, &req).customers(customers),
        "status_stats": dict,
        "status_percentages": percentages,
    })))
}

async fn filtered(
    auth: &Principal,
    req: &HttpRequest,
    state: &AppState,
    filter: WorkspaceFilter,
    limit: u64,
) -> ApiResult<HttpResponse> {
    let customers = state.workspace.all(auth, &filter, limit).await?;
    Ok(HttpResponse::Ok().json(Shown::new(state, req).customers(customers)))
}

#[utoipa::path(operation_id = "cims_crm_filter_status", get, path = "/crm/customers/filter/status", tag = "management", params(("status_filter" = String, Query, pattern = "\\S")), security(("bearer" = [])),
    responses((status = 200, body = [CustomerDto], description = "Live customers of that status, newest first (`[]` when none)"), (status = 400, description = "status_filter missing")))]
pub async fn filter_status(
    auth: Auth,
    req: HttpRequest,
    state: web::Data<AppState>,
    q: Query,
) -> ApiResult<HttpResponse> {
    auth.0.require(Permission::CrmRead)?;
    let status = required(&q, "status_filter")?;
    filtered(&auth.0, &req, &state, WorkspaceFilter { status: Some(status.into()), ..Default::default() }, UNPAGED)
        .await
}

#[utoipa::path(operation_id = "cims_crm_filter_platform", get, path = "/crm/customers/filter/platform", tag = "management", params(("platform" = String, Query, pattern = "\\S")), security(("bearer" = [])),
    responses((status = 200, body = [CustomerDto], description = "Live customers of that platform (any case), newest first"), (status = 400, description = "platform missing")))]
pub async fn filter_platform(
    auth: Auth,
    req: HttpRequest,
    state: web::Data<AppState>,
    q: Query,
) -> ApiResult<HttpResponse> {
    auth.0.require(Permission::CrmRead)?;
    let platform = required(&q, "platform")?;
    filtered(&auth.0, &req, &state, WorkspaceFilter { platform: Some(platform.into()), ..Default::default() }, UNPAGED)
        .await
}

/// `start_date` and `end_date` of the date filter (the contract's `[&end_date=]`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DateFilterQuery {
    /// `YYYY-MM-DD`, the first day (Tashkent).
    #[param(format = Date)]
    pub start_date: String,
    #[param(schema_with = day_or_blank)]
    pub end_date: Option<String>,
}

/// A day, or blank for today: the contract lets `end_date` be sent empty.
fn day_or_blank() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
    let any_of = AnyOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))))
        .item(ObjectBuilder::new().schema_type(Type::String).max_length(Some(0)))
        .description(Some("`YYYY-MM-DD`, the last day included; absent or blank: today (Tashkent)"))
        .build();
    Schema::AnyOf(any_of)
}

#[utoipa::path(operation_id = "cims_crm_filter_date", get, path = "/crm/customers/filter/date", tag = "management", params(DateFilterQuery), security(("bearer" = [])),
    responses((status = 200, body = [CustomerDto], description = "Live customers created from start_date to end_date inclusive (Tashkent days)"), (status = 400, description = "Malformed or inverted dates")))]
pub async fn filter_date(
    auth: Auth,
    req: HttpRequest,
    state: web::Data<AppState>,
    q: Query,
) -> ApiResult<HttpResponse> {
    auth.0.require(Permission::CrmRead)?;
    let start = date("start_date", param(&q, "start_date"))?
        .ok_or_else(|| ApiError::field("start_date", "start_date is required."))?;
    let end = date("end_date", param(&q, "end_date"))?.unwrap_or_else(tashkent_today);
    if end < start {
        return Err(ApiError::field("end_date", "end_date must not be before start_date."));
    }
    let filter = WorkspaceFilter {
        created_from: Some(tashkent_midnight(start)),
        created_before: Some(tashkent_midnight(end + Duration::days(1))),
        ..Default::default()
    };
    filtered(&auth.0, &req, &state, filter, UNPAGED).await
}

#[utoipa::path(operation_id = "cims_crm_latest", get, path = "/crm/customers/latest", tag = "management", params(("limit" = Option<u64>, Query, minimum = 1, maximum = 500, description = "1 to 500, default 50")), security(("bearer" = [])),
    responses((status = 200, body = [CustomerDto], description = "The newest live customers (also at /crm/customers/bazakorinish)"), (status = 400, description = "limit out of range")))]
pub async fn latest(auth: Auth, req: HttpRequest, state: web::Data<AppState>, q: Query) -> ApiResult<HttpResponse> {
    auth.0.require(Permission::CrmRead)?;
    let limit = number("limit", param(&q, "limit"))?.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "limit must be between 1 and 500."));
    }
    filtered(&auth.0, &req, &state, WorkspaceFilter::default(), limit).await
}

#[utoipa::path(operation_id = "cims_crm_archived", get, path = "/crm/customers/archived", tag = "management", security(("bearer" = [])),
    responses((status = 200, body = [CustomerDto], description = "Archived customers, most recently archived first"), (status = 401, description = "`{detail}`")))]
pub async fn archived(auth: Auth, req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let customers = state.workspace.archived(&auth.0).await?;
    Ok(HttpResponse::Ok().json(Shown::new(&state, &req).customers(customers)))
}

#[utoipa::path(operation_id = "cims_crm_detail", get, path = "/crm/detail/{id}", tag = "management", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = CustomerDto, description = "A live customer (an archived one for the CEO)"), (status = 404, description = "`{detail}`")))]
pub async fn detail(
    auth: Auth,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "Customer")?;
    let customer = state.workspace.get(&auth.0, id).await?;
    Ok(HttpResponse::Ok().json(Shown::new(&state, &req).customer(customer)))
}

// ---- Writes ----

/// The form fields read from a multipart or urlencoded body.
const FORM_FIELDS: [&str; 13] = [
    "full_name",
    "platform",
    "phone_number",
    "status",
    "customer_status",
    "username",
    "assistant_name",
    "notes",
    "conversation_language",
    "customer_type",
    "recall_time",
    "clear_recall_time",
    "audio",
];

async fn read_form(req: &HttpRequest, payload: web::Payload, state: &AppState) -> ApiResult<CustomerForm> {
    if !is_multipart(req) {
        return Err(ApiError::unsupported("Send the customer as multipart/form-data."));
    }
    let limit = state.workspace.max_audio() + 1024 * 1024;
    let fields = read_fields(Multipart::new(req.headers(), payload), limit, &FORM_FIELDS).await?;
    let mut form = CustomerForm::default();
    for field in fields {
        if field.name == "audio" {
            if !field.data.is_empty() {
                form.audio = Some(AudioUpload { file_name: field.file_name, data: field.data });
            }
            continue;
        }
        let text = String::from_utf8(field.data)
            .map_err(|_| ApiError::field(&field.name, format!("{} must be UTF-8 text.", field.name)))?;
        let slot = match field.name.as_str() {
            "full_name" => &mut form.full_name,
            "platform" => &mut form.platform,
            "phone_number" => &mut form.phone_number,
            // The legacy name wins only when `status` is absent.
            "status" => &mut form.status,
            "customer_status" => {
                if form.status.is_none() {
                    form.status = Some(text);
                }
                continue;
            }
            "username" => &mut form.username,
            "assistant_name" => &mut form.assistant_name,
            "notes" => &mut form.notes,
            "conversation_language" => &mut form.conversation_language,
            "customer_type" => &mut form.customer_type,
            "recall_time" => &mut form.recall_time,
            "clear_recall_time" => {
                form.clear_recall_time = flag("clear_recall_time", Some(&text))?;
                continue;
            }
            _ => continue,
        };
        *slot = Some(text);
    }
    Ok(form)
}

/// A new customer, as `multipart/form-data` (a form has no reader but [`read_form`]; this is its
/// documentation).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NewCustomerForm {
    #[schema(pattern = "\\S")]
    pub full_name: String,
    #[schema(pattern = "\\S")]
    pub platform: String,
    /// Any common format (stored in E.164).
    #[schema(min_length = 8)]
    pub phone_number: String,
    /// An active status of the catalog (`GET /management/statuses`).
    #[schema(pattern = "\\S")]
    pub status: String,
    #[schema(nullable = false)]
    pub username: Option<String>,
    #[schema(nullable = false)]
    pub assistant_name: Option<String>,
    #[schema(nullable = false)]
    pub notes: Option<String>,
    /// `uz`, `ru` or `en`.
    #[schema(nullable = false)]
    pub conversation_language: Option<String>,
    /// `local` or `international`.
    #[schema(nullable = false)]
    pub customer_type: Option<String>,
    /// ISO 8601.
    #[schema(nullable = false)]
    pub recall_time: Option<DateTime<Utc>>,
    /// A recording, checked by its content, at most AUDIO_MAX_BYTES.
    #[schema(value_type = Option<String>, format = Binary, nullable = false)]
    pub audio: Option<Vec<u8>>,
}

/// A change of a customer, as `multipart/form-data`: what is sent changes, the rest is kept.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CustomerChangeForm {
    #[schema(pattern = "\\S", nullable = false)]
    pub full_name: Option<String>,
    #[schema(pattern = "\\S", nullable = false)]
    pub platform: Option<String>,
    #[schema(min_length = 8, nullable = false)]
    pub phone_number: Option<String>,
    /// An active status of the catalog; `customer_status` is its older name.
    #[schema(pattern = "\\S", nullable = false)]
    pub status: Option<String>,
    #[schema(pattern = "\\S", nullable = false)]
    pub customer_status: Option<String>,
    #[schema(nullable = false)]
    pub username: Option<String>,
    #[schema(nullable = false)]
    pub assistant_name: Option<String>,
    #[schema(nullable = false)]
    pub notes: Option<String>,
    #[schema(nullable = false)]
    pub conversation_language: Option<String>,
    #[schema(nullable = false)]
    pub customer_type: Option<String>,
    #[schema(nullable = false)]
    pub recall_time: Option<DateTime<Utc>>,
    /// `true` clears the recall time.
    #[schema(nullable = false)]
    pub clear_recall_time: Option<bool>,
    /// Replaces the recording.
    #[schema(value_type = Option<String>, format = Binary, nullable = false)]
    pub audio: Option<Vec<u8>>,
}

#[utoipa::path(operation_id = "cims_crm_create", post, path = "/crm/customers", tag = "management", security(("bearer" = [])),
    request_body(content = NewCustomerForm, content_type = "multipart/form-data"),
    description = "The customer takes its turn in the sales-manager rotation.",
    responses((status = 200, description = "`{id, message}`"), (status = 400, description = "`{detail}`: a missing field, an unknown status, a file that is not audio"), (status = 403, description = "crm.write needed"), (status = 413, description = "Body too large"), (status = 415, description = "Not multipart/form-data")))]
pub async fn create(
    auth: Auth,
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    auth.0.require(Permission::CrmWrite)?;
    let form = read_form(&req, payload, &state).await?;
    let id = state.workspace.create(&auth.0, form).await?;
    Ok(HttpResponse::Ok().json(json!({"id": id, "message": "Customer created"})))
}

#[utoipa::path(operation_id = "cims_crm_update", patch, path = "/crm/customers/{id}", tag = "management", params(("id" = i64, Path)), security(("bearer" = [])),
    request_body(content = CustomerChangeForm, content_type = "multipart/form-data"),
    description = "Partial: what is sent changes, the rest is kept. Also PUT.",
    responses((status = 200, description = "`{message}`"), (status = 400, description = "`{detail}`"), (status = 404, description = "No such live customer"), (status = 413, description = "Body too large"), (status = 415, description = "Not multipart/form-data")))]
pub async fn update(
    auth: Auth,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "Customer")?;
    auth.0.require(Permission::CrmWrite)?;
    let form = read_form(&req, payload, &state).await?;
    state.workspace.update(&auth.0, id, form).await?;
    Ok(message("Customer updated"))
}

#[utoipa::path(operation_id = "cims_crm_archive", delete, path = "/crm/customers/{id}", tag = "management", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "`{message}`: archived (soft delete; restore brings it back)"), (status = 403, description = "crm.delete needed"), (status = 404, description = "No such live customer")))]
pub async fn archive(auth: Auth, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "Customer")?;
    state.workspace.archive(&auth.0, id).await?;
    Ok(message("Customer archived"))
}

#[utoipa::path(operation_id = "cims_crm_restore", post, path = "/crm/customers/{id}/restore", tag = "management", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "`{message}`"), (status = 400, description = "Not archived"), (status = 403, description = "crm.delete needed"), (status = 404, description = "No such customer")))]
pub async fn restore(auth: Auth, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "Customer")?;
    state.workspace.restore(&auth.0, id).await?;
    Ok(message("Customer restored"))
}

#[utoipa::path(operation_id = "cims_crm_purge", delete, path = "/crm/customers/{id}/hard", tag = "management", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "`{message}`: deleted for good with its notes, deals, assignments, status history and recording"), (status = 403, description = "crm.delete needed"), (status = 404, description = "No such customer")))]
pub async fn purge(auth: Auth, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "Customer")?;
    state.workspace.purge(&auth.0, id).await?;
    Ok(message("Customer deleted permanently"))
}

/// `{"customer_ids": [int]}`.
#[derive(Deserialize, ToSchema)]
pub struct BulkBody {
    #[schema(min_items = 1, max_items = 500)]
    pub customer_ids: Vec<i64>,
}

async fn bulk(auth: &Principal, state: &AppState, body: BulkBody, hard: bool) -> ApiResult<HttpResponse> {
    auth.require(Permission::CrmDelete)?;
    if body.customer_ids.is_empty() || body.customer_ids.len() > 500 {
        return Err(ApiError::field("customer_ids", "customer_ids must list 1 to 500 ids."));
    }
    let (mut done, mut missing) = (Vec::new(), Vec::new());
    for id in body.customer_ids {
        let outcome =
            if hard { state.workspace.purge(auth, id).await } else { state.workspace.archive(auth, id).await };
        match outcome {
            Ok(()) => done.push(id),
            Err(kernel::DomainError::NotFound(_)) => missing.push(id),
            Err(other) => return Err(other.into()),
        }
    }
    let verb = if hard { "deleted permanently" } else { "archived" };
    Ok(HttpResponse::Ok().json(json!({
        "message": format!("{} customers {verb}", done.len()),
        "processed_ids": done,
        "not_found_ids": missing,
    })))
}

#[utoipa::path(operation_id = "cims_crm_bulk_archive", delete, path = "/crm/customers/bulk-delete", tag = "management", request_body = BulkBody, security(("bearer" = [])),
    responses((status = 200, description = "`{message, processed_ids, not_found_ids}`"), (status = 400, description = "No ids"), (status = 403, description = "crm.delete needed")))]
pub async fn bulk_archive(
    auth: Auth,
    state: web::Data<AppState>,
    body: web::Json<BulkBody>,
) -> ApiResult<HttpResponse> {
    bulk(&auth.0, &state, body.into_inner(), false).await
}

#[utoipa::path(operation_id = "cims_crm_bulk_purge", delete, path = "/crm/customers/bulk-hard-delete", tag = "management", request_body = BulkBody, security(("bearer" = [])),
    responses((status = 200, description = "`{message, processed_ids, not_found_ids}`"), (status = 400, description = "No ids"), (status = 403, description = "crm.delete needed")))]
pub async fn bulk_purge(auth: Auth, state: web::Data<AppState>, body: web::Json<BulkBody>) -> ApiResult<HttpResponse> {
    bulk(&auth.0, &state, body.into_inner(), true).await
}

// ---- Notes ----

/// `{"note": "…"}`.
#[derive(Deserialize, ToSchema)]
pub struct NoteBody {
    /// Trimmed; not blank.
    #[schema(value_type = String, pattern = "\\S")]
    pub note: Option<String>,
}

#[utoipa::path(operation_id = "cims_crm_notes", get, path = "/crm/customers/{id}/notes", tag = "management", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "`{customer_id, items: [Note], total_count}`, oldest first"), (status = 404, description = "No such live customer")))]
pub async fn notes(auth: Auth, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "Customer")?;
    let items: Vec<NoteDto> = state.workspace.notes(&auth.0, id).await?.into_iter().map(NoteDto::from).collect();
    Ok(HttpResponse::Ok().json(json!({"customer_id": id, "total_count": items.len(), "items": items})))
}

#[utoipa::path(operation_id = "cims_crm_add_note", post, path = "/crm/customers/{id}/notes", tag = "management", params(("id" = i64, Path)), request_body = NoteBody, security(("bearer" = [])),
    responses((status = 200, body = NoteDto, description = "The note"), (status = 400, description = "Empty note"), (status = 404, description = "No such live customer")))]
pub async fn add_note(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<NoteBody>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "Customer")?;
    let note = state.workspace.add_note(&auth.0, id, body.note.as_deref()).await?;
    Ok(HttpResponse::Ok().json(NoteDto::from(note)))
}

fn note_path(path: &(String, String)) -> ApiResult<(i64, i64)> {
    Ok((parse_id(&path.0, "Customer")?, parse_id(&path.1, "Note")?))
}

#[utoipa::path(operation_id = "cims_crm_edit_note", patch, path = "/crm/customers/{id}/notes/{note_id}", tag = "management", params(("id" = i64, Path), ("note_id" = i64, Path)), request_body = NoteBody, security(("bearer" = [])),
    description = "Also PUT. The author or the CEO only.",
    responses((status = 200, body = NoteDto, description = "The note"), (status = 403, description = "Not the author"), (status = 404, description = "No such note of this customer")))]
pub async fn edit_note(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<NoteBody>,
) -> ApiResult<HttpResponse> {
    let (id, note_id) = note_path(&path)?;
    auth.0.require(Permission::CrmWrite)?;
    let note = state.workspace.edit_note(&auth.0, id, note_id, body.note.as_deref()).await?;
    Ok(HttpResponse::Ok().json(NoteDto::from(note)))
}

#[utoipa::path(operation_id = "cims_crm_delete_note", delete, path = "/crm/customers/{id}/notes/{note_id}", tag = "management", params(("id" = i64, Path), ("note_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "`{message}`"), (status = 403, description = "Not the author"), (status = 404, description = "No such note of this customer")))]
pub async fn delete_note(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, note_id) = note_path(&path)?;
    state.workspace.delete_note(&auth.0, id, note_id).await?;
    Ok(message("Note deleted"))
}

// ---- Audio ----

/// A single `bytes=` range of `len` bytes: `(start, end)` inclusive; `None` for the whole.
fn byte_range(header: Option<&str>, len: usize) -> Result<Option<(usize, usize)>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Ok(None) };
    if spec.contains(',') || len == 0 {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: usize = n.parse().map_err(|_| ())?;
            (len.saturating_sub(n), len - 1)
        }
        (s, "") => (s.parse().map_err(|_| ())?, len - 1),
        (s, e) => (s.parse().map_err(|_| ())?, e.parse::<usize>().map_err(|_| ())?.min(len - 1)),
    };
    if start > end || start >= len {
        return Err(());
    }
    Ok(Some((start, end)))
}

#[utoipa::path(operation_id = "cims_crm_audio", get, path = "/crm/customers/audio/{file_id}", tag = "management", params(("file_id" = String, Path), ("expires" = Option<i64>, Query), ("signature" = Option<String>, Query)),
    description = "The recording, inline, with its type and Content-Length; `Range: bytes=…` answers 206. Works without a token through the signed `audio_url` (until it expires); otherwise needs a token with crm.read.",
    responses((status = 200, description = "The bytes"), (status = 206, description = "A range"), (status = 401, description = "No valid signature and no token"), (status = 404, description = "No such file"), (status = 416, description = "Range not satisfiable")))]
pub async fn audio(req: HttpRequest, state: web::Data<AppState>, q: Query) -> ApiResult<HttpResponse> {
    let file_id = req.match_info().get("file_id").unwrap_or_default().to_string();
    let signed = match (param(&q, "expires").and_then(|e| e.parse::<i64>().ok()), param(&q, "signature")) {
        (Some(expires), Some(signature)) => state.links.verify(req.path(), expires, signature),
        _ => false,
    };
    if !signed {
        let auth = Auth::extract(&req).await?;
        auth.0.require(Permission::CrmRead)?;
    }
    let file = state.workspace.audio(&file_id).await?;
    let len = file.data.len();
    let name = file.file_name.clone().unwrap_or_else(|| format!("{}.audio", file.file_id));
    let disposition = format!("inline; filename=\"{}\"", name.replace(['"', '\\', '\r', '\n'], "_"));
    let range = req.headers().get(header::RANGE).and_then(|v| v.to_str().ok());
    match byte_range(range, len) {
        Err(()) => Ok(HttpResponse::RangeNotSatisfiable()
            .insert_header((header::CONTENT_RANGE, format!("bytes */{len}")))
            .finish()),
        Ok(Some((start, end))) => Ok(HttpResponse::PartialContent()
            .content_type(file.content_type)
            .insert_header((header::ACCEPT_RANGES, "bytes"))
            .insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}")))
            .insert_header((header::CONTENT_DISPOSITION, disposition))
            .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
            .body(file.data[start..=end].to_vec())),
        Ok(None) => Ok(HttpResponse::Ok()
            .content_type(file.content_type)
            .insert_header((header::ACCEPT_RANGES, "bytes"))
            .insert_header((header::CONTENT_DISPOSITION, disposition))
            .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
            .body(file.data)),
    }
}

// ---- Sales managers ----

/// `{id, email, name, surname}` of an active sales manager (`null` when they are not one).
async fn manager_ref(state: &AppState, by: &Principal, id: i64) -> ApiResult<Value> {
    let managers = state.assignments.sales_managers(by).await?;
    Ok(managers
        .into_iter()
        .find(|m| m.id == id)
        .map_or(Value::Null, |m| json!({"id": m.id, "email": m.email, "name": m.name, "surname": m.surname})))
}

fn lead_json(a: AssignedCustomer) -> Value {
    let c = a.customer;
    json!({
        "id": c.id,
        "full_name": c.full_name,
        "phone_number": c.phone_number,
        "platform": c.platform,
        "username": c.username,
        "status": c.status,
        "status_name": c.status,
        "priority_level": Value::Null,
        "priority_score": Value::Null,
        "importance_score": Value::Null,
        "industry": Value::Null,
        "is_archived": c.archived_at.is_some(),
        "created_at": iso(c.created_at),
        "assigned_at": iso(a.assigned_at),
    })
}

fn stats_json(manager: Value, s: MyLeadsStats) -> Value {
    let counted: u64 = s.by_status.iter().map(|(_, n)| n).sum();
    json!({
        "sales_manager": manager,
        "summary": {
            "total_assigned": s.total_assigned,
            "active_leads": s.active,
            "archived_leads": s.archived,
            "counted_leads": counted,
        },
        "status_stats": s.by_status.into_iter().map(|(status, count)| json!({"status": status, "count": count})).collect::<Vec<_>>(),
    })
}

fn leads_filter(q: &Query) -> ApiResult<MyLeadsFilter> {
    if let Some(level) = param(q, "priority_level").map(str::trim).filter(|s| !s.is_empty())
        && !["low", "medium", "high", "critical"].contains(&level.to_ascii_lowercase().as_str())
    {
        return Err(ApiError::field("priority_level", "priority_level must be one of: low, medium, high, critical."));
    }
    Ok(MyLeadsFilter {
        search: param(q, "search").map(str::to_string),
        status: param(q, "status").map(str::to_string),
        include_archived: flag("include_archived", param(q, "include_archived"))?,
    })
}

async fn leads_answer(
    state: &AppState,
    by: &Principal,
    manager_id: i64,
    q: &Query,
    own: bool,
) -> ApiResult<HttpResponse> {
    let page =
        bounded_page_request(number("page", param(q, "page"))?, number("limit", param(q, "limit"))?, 20, 100, "limit")?;
    let filter = leads_filter(q)?;
    // Priority is not scored yet: every lead's level is null, so a level matches none.
    let scored_only = param(q, "priority_level").is_some_and(|s| !s.trim().is_empty());
    let leads = if own {
        state.workspace.my_leads(by, &filter, page).await?
    } else {
        state.workspace.leads_of(by, manager_id, &filter, page).await?
    };
    let manager = manager_ref(state, by, manager_id).await?;
    let (items, total) = if scored_only { (Vec::new(), 0) } else { (leads.items, leads.total) };
    Ok(HttpResponse::Ok().json(json!({
        "sales_manager": manager,
        "total_count": total,
        "page": page.page,
        "limit": page.per_page,
        "items": items.into_iter().map(lead_json).collect::<Vec<_>>(),
    })))
}

#[utoipa::path(operation_id = "cims_crm_my_customers", get, path = "/crm/my-customers", tag = "management", params(("page" = Option<u64>, Query), ("limit" = Option<u64>, Query, minimum = 1, maximum = 100, description = "1 to 100, default 20"), ("search" = Option<String>, Query), ("status" = Option<String>, Query), ("priority_level" = Option<String>, Query), ("include_archived" = Option<bool>, Query)), security(("bearer" = [])),
    responses((status = 200, description = "`{sales_manager, total_count, page, limit, items}`: the caller's active assignments, most recent first"), (status = 403, description = "Not a sales manager")))]
pub async fn my_customers(auth: Auth, state: web::Data<AppState>, q: Query) -> ApiResult<HttpResponse> {
    leads_answer(&state, &auth.0, auth.0.user_id, &q, true).await
}

#[utoipa::path(operation_id = "cims_crm_my_stats", get, path = "/crm/my-customers/stats", tag = "management", params(("include_archived" = Option<bool>, Query)), security(("bearer" = [])),
    responses((status = 200, description = "`{sales_manager, summary: {total_assigned, active_leads, archived_leads, counted_leads}, status_stats: [{status, count}]}`"), (status = 403, description = "Not a sales manager")))]
pub async fn my_stats(auth: Auth, state: web::Data<AppState>, q: Query) -> ApiResult<HttpResponse> {
    let include = flag("include_archived", param(&q, "include_archived"))?;
    let stats = state.workspace.my_stats(&auth.0, include).await?;
    let manager = manager_ref(&state, &auth.0, auth.0.user_id).await?;
    Ok(HttpResponse::Ok().json(stats_json(manager, stats)))
}

#[utoipa::path(operation_id = "cims_crm_manager_customers", get, path = "/crm/sales-managers/{id}/customers", tag = "management", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "As /crm/my-customers, for that manager"), (status = 403, description = "That manager or assignments.manage only")))]
pub async fn manager_customers(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: Query,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "Sales manager")?;
    leads_answer(&state, &auth.0, id, &q, false).await
}

#[utoipa::path(operation_id = "cims_crm_manager_stats", get, path = "/crm/sales-managers/{id}/stats", tag = "management", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "As /crm/my-customers/stats, for that manager"), (status = 403, description = "That manager or assignments.manage only")))]
pub async fn manager_stats(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: Query,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "Sales manager")?;
    let include = flag("include_archived", param(&q, "include_archived"))?;
    let stats = state.workspace.stats_of(&auth.0, id, include).await?;
    let manager = manager_ref(&state, &auth.0, id).await?;
    Ok(HttpResponse::Ok().json(stats_json(manager, stats)))
}

#[utoipa::path(operation_id = "cims_crm_manager_period_stats", get, path = "/crm/sales-manager/stats", tag = "management", params(("from_date" = Option<String>, Query), ("to_date" = Option<String>, Query), ("sales_manager_id" = Option<i64>, Query, minimum = 1)), security(("bearer" = [])),
    description = "Status changes from the recorded history, by Tashkent day (default: the last 30 days). A sales manager sees their own customers; others choose a manager or see all.",
    responses((status = 200, description = "`{sales_manager, period: {from_date, to_date, timezone}, summary: {assigned_customers, changed_customers, total_status_changes, to_status_counts, conversion_to_project_started_percent, finish_rate_percent}, daily_stats: [{date, total_changes, to_status_counts}]}`"), (status = 400, description = "Bad dates"), (status = 403, description = "analytics.read needed")))]
pub async fn manager_period_stats(auth: Auth, state: web::Data<AppState>, q: Query) -> ApiResult<HttpResponse> {
    let to = date("to_date", param(&q, "to_date"))?.unwrap_or_else(tashkent_today);
    let from = date("from_date", param(&q, "from_date"))?.unwrap_or(to - Duration::days(29));
    if to < from || (to - from).num_days() > 366 {
        return Err(ApiError::field("to_date", "to_date must be on or after from_date, at most a year later."));
    }
    let manager = match number("sales_manager_id", param(&q, "sales_manager_id"))? {
        Some(m) => Some(
            i64::try_from(m)
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| ApiError::field("sales_manager_id", "sales_manager_id is not a user id."))?,
        ),
        None => None,
    };
    let changes = state
        .workspace
        .status_changes(&auth.0, tashkent_midnight(from), tashkent_midnight(to + Duration::days(1)), manager)
        .await?;
    let manager = if auth.0.role == crm_core::workspace::SALES_MANAGER_ROLE { Some(auth.0.user_id) } else { manager };
    let summary = crm_core::workspace::ChangeSummary::of(&changes);
    let assigned = match manager {
        Some(m) => state.workspace.stats_of(&auth.0, m, false).await.map(|s| s.active).unwrap_or_default(),
        None => state.workspace.status_counts(&auth.0, None).await?.total,
    };
    let profile = match manager {
        Some(m) => manager_ref(&state, &auth.0, m).await?,
        None => Value::Null,
    };
    Ok(HttpResponse::Ok().json(json!({
        "sales_manager": profile,
        "period": {"from_date": from.to_string(), "to_date": to.to_string(), "timezone": "Asia/Tashkent"},
        "summary": {
            "assigned_customers": assigned,
            "changed_customers": summary.changed_customers(),
            "total_status_changes": summary.total_changes,
            "to_status_counts": summary.to_status_counts,
            "conversion_to_project_started_percent": summary.percent_reaching("project_started"),
            "finish_rate_percent": summary.percent_reaching("finished"),
        },
        "daily_stats": summary.daily.iter().map(|(date, (total, counts))| json!({"date": date.to_string(), "total_changes": total, "to_status_counts": counts})).collect::<Vec<_>>(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(byte_range(None, 10), Ok(None));
        assert_eq!(byte_range(Some("bytes=0-3"), 10), Ok(Some((0, 3))));
        assert_eq!(byte_range(Some("bytes=5-"), 10), Ok(Some((5, 9))));
        assert_eq!(byte_range(Some("bytes=-4"), 10), Ok(Some((6, 9))));
        assert_eq!(byte_range(Some("bytes=8-100"), 10), Ok(Some((8, 9))));
        assert_eq!(byte_range(Some("bytes=10-"), 10), Err(()));
        assert_eq!(byte_range(Some("bytes=0-1,3-4"), 10), Ok(None));
    }

    #[test]
    fn short_colors_are_widened() {
        assert_eq!(long_color("#3b8"), "#33BB88");
        assert_eq!(long_color("#22C55E"), "#22C55E");
    }
}
