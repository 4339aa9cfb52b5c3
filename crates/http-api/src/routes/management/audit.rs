//! `/audit/logs`: the one audit trail of the system in the CIMS UI's shape, and `/ceo/dashboard`,
//! whose users feed its user filter. The trail's kinds and actions are shown in the CIMS
//! vocabulary (an account is a `customer`, its deletion an `archive`) and filters given in
//! that vocabulary are translated back, so both surfaces read the same rows.

use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::iso;
use crate::pagination::bounded_page_request;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use crm_core::audit::{AuditEntry, AuditFilter};
use kernel::{Page, PageRequest};
use management_core::ports::UserFilter;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/audit/logs").route(web::get().to(logs)))
        .service(web::resource("/audit/logs/user/{user_id}").route(web::get().to(logs_of_user)))
        .service(web::resource("/audit/logs/entity/{entity_type}/{entity_id}").route(web::get().to(logs_of_entity)))
        .service(web::resource("/audit/logs/{id}").route(web::get().to(log)))
        .service(web::resource("/ceo/dashboard").route(web::get().to(ceo_dashboard)));
}

/// The trail's kinds: `(kind, module, table, CIMS entity type)`.
const KINDS: [(&str, &str, &str, &str); 16] = [
    ("account", "crm", "customers", "customer"),
    ("note", "crm", "activities", "customer_note"),
    ("activity", "crm", "activities", "activity"),
    ("contact", "crm", "contacts", "contact"),
    ("lead", "crm", "leads", "lead"),
    ("deal", "crm", "deals", "deal"),
    ("task", "crm", "tasks", "task"),
    ("event", "crm", "events", "event"),
    ("user", "users", "users", "user"),
    ("role", "management", "roles", "role"),
    ("status", "management", "customer_statuses", "status"),
    ("setting", "settings", "system_settings", "setting"),
    ("integration", "integrations", "integrations", "integration"),
    ("webhook", "integrations", "webhooks", "webhook"),
    ("call", "callcenter", "calls", "call"),
    ("chat", "callcenter", "chats", "chat"),
];

/// The trail's actions in the CIMS vocabulary (`deleted` of an account is an archive).
const ACTIONS: [(&str, &str); 7] = [
    ("created", "create"),
    ("updated", "update"),
    ("deleted", "delete"),
    ("restored", "restore"),
    ("purged", "hard_delete"),
    ("status_changed", "status_change"),
    ("assigned", "assign"),
];

fn kind_of(entity: &str) -> Option<&'static (&'static str, &'static str, &'static str, &'static str)> {
    KINDS.iter().find(|k| k.0 == entity)
}

/// How an entry reads in the CIMS vocabulary: `(module, table, entity type, action)`.
fn vocabulary(e: &AuditEntry) -> (String, String, String, String) {
    let (module, table, entity_type) = match kind_of(&e.entity) {
        Some((_, m, t, ty)) => (m.to_string(), t.to_string(), ty.to_string()),
        None => ("system".to_string(), e.entity.clone(), e.entity.clone()),
    };
    let action = match (e.entity.as_str(), e.action.as_str()) {
        ("account", "deleted") => "archive".to_string(),
        ("account", "assigned") => {
            let by = e.changes.get("assigned_by").filter(|v| !v.is_null());
            let action = if by.is_some() { "assign" } else { "auto_assign" };
            return (module, "sales_manager_assignments".into(), "sales_manager_assignment".into(), action.into());
        }
        (_, action) => ACTIONS.iter().find(|a| a.0 == action).map_or(action.to_string(), |a| a.1.to_string()),
    };
    (module, table, entity_type, action)
}

/// `before_data`, `after_data` and `changed_fields` from what the trail kept.
fn data_of(e: &AuditEntry) -> (Value, Value, Vec<String>) {
    let Value::Object(map) = &e.changes else { return (Value::Null, Value::Null, Vec::new()) };
    let is_diff = !map.is_empty()
        && map
            .values()
            .all(|v| v.as_object().is_some_and(|o| o.len() == 2 && o.contains_key("old") && o.contains_key("new")));
    let fields: Vec<String> = map.keys().cloned().collect();
    if is_diff {
        let (mut before, mut after) = (Map::new(), Map::new());
        for (k, v) in map {
            before.insert(k.clone(), v["old"].clone());
            after.insert(k.clone(), v["new"].clone());
        }
        return (Value::Object(before), Value::Object(after), fields);
    }
    match e.action.as_str() {
        "deleted" | "purged" => (e.changes.clone(), Value::Null, fields),
        _ => (Value::Null, e.changes.clone(), fields),
    }
}

fn item(e: AuditEntry) -> Value {
    let (module, table, entity_type, action) = vocabulary(&e);
    let (before, after, changed) = data_of(&e);
    let summary = match changed.len() {
        _ if action != "update" => format!("{entity_type} #{} {action}", e.entity_id),
        0 => format!("{entity_type} #{} updated", e.entity_id),
        _ => format!("{entity_type} #{} updated: {}", e.entity_id, changed.join(", ")),
    };
    json!({
        "id": e.id,
        "created_at": iso(e.at),
        "actor_user_id": e.actor_id,
        "actor_email": e.actor_email,
        "actor_name": e.actor_name,
        "module": module,
        "table_name": table,
        "entity_type": entity_type,
        "entity_id": Some(e.entity_id).filter(|id| !id.is_empty()),
        "action": action,
        "summary": summary,
        "before_data": before,
        "after_data": after,
        "changed_fields": changed,
        "request_id": e.request_id,
        "ip_address": e.ip,
        "user_agent": e.user_agent,
        "is_system_action": e.actor_type != "user",
    })
}

/// The trail's filter for the CIMS query (values compared case-insensitively).
fn filter_of(q: &BTreeMap<String, String>) -> ApiResult<AuditFilter> {
    let get = |k: &str| q.get(k).map(|v| v.trim().to_lowercase()).filter(|v| !v.is_empty());
    let mut filter = AuditFilter::default();
    if let Some(t) = get("entity_type") {
        match t.as_str() {
            "sales_manager_assignment" => {
                filter.entity = Some("account".into());
                filter.action = Some("assigned".into());
            }
            other => {
                filter.entity = Some(KINDS.iter().find(|k| k.3 == other).map_or(other.to_string(), |k| k.0.to_string()))
            }
        }
    }
    if let Some(a) = get("action") {
        let ours = match a.as_str() {
            "archive" => "deleted".to_string(),
            "auto_assign" | "reassign" => "assigned".to_string(),
            other => ACTIONS.iter().find(|x| x.1 == other).map_or(other.to_string(), |x| x.0.to_string()),
        };
        filter.action = Some(ours);
    }
    let mut entities: Option<Vec<String>> = None;
    if let Some(m) = get("module") {
        entities = Some(KINDS.iter().filter(|k| k.1 == m).map(|k| k.0.to_string()).collect());
    }
    if let Some(t) = get("table_name") {
        let of_table: Vec<String> = match t.as_str() {
            "sales_manager_assignments" => vec!["account".into()],
            _ => KINDS.iter().filter(|k| k.2 == t).map(|k| k.0.to_string()).collect(),
        };
        entities = Some(match entities {
            Some(module) => module.into_iter().filter(|e| of_table.contains(e)).collect(),
            None => of_table,
        });
    }
    if let Some(list) = entities {
        // A module or table with no kinds matches nothing.
        filter.entities = if list.is_empty() { vec!["-".into()] } else { list };
    }
    filter.entity_id = get("entity_id");
    if let Some(actor) = get("actor_user_id") {
        filter.actor =
            Some(actor.parse().map_err(|_| ApiError::field("actor_user_id", "actor_user_id must be a user id."))?);
    }
    let day = |k: &str| -> ApiResult<Option<chrono::NaiveDate>> {
        get(k)
            .map(|v| {
                let day: String = v.chars().take(10).collect();
                chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                    .map_err(|_| ApiError::field(k, format!("{k} must be a date as YYYY-MM-DD.")))
            })
            .transpose()
    };
    filter.after = day("date_from")?.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc());
    filter.before =
        day("date_to")?.and_then(|d| d.succ_opt()).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc());
    Ok(filter)
}

fn page_of(q: &BTreeMap<String, String>) -> ApiResult<PageRequest> {
    let number = |k: &str| super::whole_number(k, q.get(k).map(String::as_str));
    bounded_page_request(number("page")?, number("page_size")?, 20, 100, "page_size")
}

fn page_json(page: Page<AuditEntry>) -> HttpResponse {
    let (request, total) = (page.request, page.total);
    HttpResponse::Ok().json(json!({
        "items": page.items.into_iter().map(item).collect::<Vec<_>>(),
        "page": request.page,
        "page_size": request.per_page,
        "total_items": total,
        "total_pages": total.div_ceil(request.per_page),
    }))
}

type Query = web::Query<BTreeMap<String, String>>;

#[utoipa::path(operation_id = "cims_audit_logs", get, path = "/audit/logs", tag = "management", security(("bearer" = [])),
    params(("page" = Option<u64>, Query), ("page_size" = Option<u64>, Query, minimum = 1, maximum = 100, description = "Default 20, at most 100"), ("module" = Option<String>, Query), ("table_name" = Option<String>, Query), ("action" = Option<String>, Query), ("entity_type" = Option<String>, Query), ("entity_id" = Option<String>, Query), ("actor_user_id" = Option<i64>, Query), ("date_from" = Option<String>, Query), ("date_to" = Option<String>, Query)),
    description = "The audit trail, newest first; filters match exactly, ignoring case. Accounts show as `customer`, their soft delete as `archive`, the rotation as `sales_manager_assignment`/`auto_assign`.",
    responses((status = 200, description = "`{items, page, page_size, total_items, total_pages}`"), (status = 400, description = "Bad paging or filter"), (status = 401, description = "`{detail}`"), (status = 403, description = "CEO or administrator (users.manage) only")))]
pub async fn logs(auth: Auth, state: web::Data<AppState>, q: Query) -> ApiResult<HttpResponse> {
    let found = state.rest.audit.entries(&auth.0, &filter_of(&q)?, page_of(&q)?).await?;
    Ok(page_json(found))
}

#[utoipa::path(operation_id = "cims_audit_logs_of_user", get, path = "/audit/logs/user/{user_id}", tag = "management", params(("user_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "As /audit/logs, of that actor"), (status = 403, description = "CEO or administrator only")))]
pub async fn logs_of_user(
    auth: Auth,
    state: web::Data<AppState>,
    user_id: web::Path<String>,
    q: Query,
) -> ApiResult<HttpResponse> {
    let mut query = q.into_inner();
    query.insert("actor_user_id".into(), user_id.into_inner());
    let found = state.rest.audit.entries(&auth.0, &filter_of(&query)?, page_of(&query)?).await?;
    Ok(page_json(found))
}

#[utoipa::path(operation_id = "cims_audit_logs_of_entity", get, path = "/audit/logs/entity/{entity_type}/{entity_id}", tag = "management", params(("entity_type" = String, Path), ("entity_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "As /audit/logs, of that record"), (status = 403, description = "CEO or administrator only")))]
pub async fn logs_of_entity(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: Query,
) -> ApiResult<HttpResponse> {
    let (entity_type, entity_id) = path.into_inner();
    let mut query = q.into_inner();
    query.insert("entity_type".into(), entity_type);
    query.insert("entity_id".into(), entity_id);
    let found = state.rest.audit.entries(&auth.0, &filter_of(&query)?, page_of(&query)?).await?;
    Ok(page_json(found))
}

#[utoipa::path(operation_id = "cims_audit_log", get, path = "/audit/logs/{id}", tag = "management", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "One entry"), (status = 403, description = "CEO or administrator only"), (status = 404, description = "No such entry")))]
pub async fn log(auth: Auth, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: i64 = id.trim().parse().map_err(|_| ApiError::not_found("Audit log not found."))?;
    let filter = AuditFilter { id: Some(id), ..Default::default() };
    let found = state.rest.audit.entries(&auth.0, &filter, PageRequest::new(1, 1)).await?;
    let entry = found.items.into_iter().next().ok_or_else(|| ApiError::not_found("Audit log not found."))?;
    Ok(HttpResponse::Ok().json(item(entry)))
}

#[utoipa::path(operation_id = "cims_ceo_dashboard", get, path = "/ceo/dashboard", tag = "management", security(("bearer" = [])),
    description = "The team for the CEO's pages (the audit log's user filter): every user, and how many are active.",
    responses((status = 200, description = "`{users: [{id, email, name, surname, full_name, role, is_active}], total_users, active_users}`"), (status = 403, description = "CEO or administrator (users.manage) only")))]
pub async fn ceo_dashboard(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let mut users = Vec::new();
    let mut page = 1;
    loop {
        let found = state.users.list(&auth.0, &UserFilter::default(), PageRequest::new(page, 100)).await?;
        let last = found.items.len() < 100 || page * 100 >= found.total;
        users.extend(found.items);
        if last || page >= 100 {
            break;
        }
        page += 1;
    }
    let active = users.iter().filter(|u| u.is_active).count();
    let listed: Vec<Value> = users
        .into_iter()
        .map(|u| {
            json!({
                "id": u.id, "email": u.email, "name": u.first_name, "surname": u.last_name,
                "full_name": u.name, "role": u.role, "is_active": u.is_active,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"total_users": listed.len(), "active_users": active, "users": listed})))
}
