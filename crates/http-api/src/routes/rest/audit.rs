//! `/api/core/audit/` (the audit trail, `users.manage`) and the timelines of accounts,
//! contacts, leads and deals (`…/{id}/timeline/`, `crm.read`).

use super::scaffold::{both, operation, query_pairs, rest_page};
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::iso;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use crm_core::audit::{AuditFilter, TimelineOf};
use kernel::ListSpec;
use serde_json::{Map, Value, json};

/// Pages of the trail and of timelines (their filters are read here).
const PAGES: ListSpec = ListSpec { filters: &[], ordering: &["at"], default_ordering: ("at", true), search: "" };

const TIMELINES: [(&str, TimelineOf, &str); 4] = [
    ("/api/crm/accounts/", TimelineOf::Account, "crm-rest: crm"),
    ("/api/crm/contacts/", TimelineOf::Contact, "crm-rest: crm"),
    ("/api/crm/leads/", TimelineOf::Lead, "crm-rest: crm"),
    ("/api/deals/deals/", TimelineOf::Deal, "crm-rest: deals"),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(both("/api/core/audit/")).route(web::get().to(entries)));
    for (base, of, _) in TIMELINES {
        cfg.service(
            web::resource(both(&format!("{base}{{id}}/timeline/")))
                .app_data(web::Data::new(of))
                .route(web::get().to(timeline)),
        );
    }
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

async fn entries(req: HttpRequest, auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let pairs = query_pairs(&req)?;
    let page = PAGES.parse(&pairs)?.page;
    let instant = |name: &str| -> ApiResult<_> {
        param(&pairs, name)
            .map(|v| {
                kernel::listing::parse_instant(v).ok_or_else(|| {
                    ApiError::field(name, format!("{name} must be YYYY-MM-DD or ISO 8601, not \"{v}\"."))
                })
            })
            .transpose()
    };
    let actor = param(&pairs, "actor")
        .map(|v| v.parse::<i64>().map_err(|_| ApiError::field("actor", "actor is a user id.")))
        .transpose()?;
    let before = instant("created_before")?.map(|t| {
        // A plain date includes that whole day, as on every list.
        if param(&pairs, "created_before").is_some_and(|v| v.len() == 10) { t + chrono::Duration::days(1) } else { t }
    });
    let filter = AuditFilter {
        entity: param(&pairs, "entity").map(str::to_string),
        entity_id: param(&pairs, "entity_id").map(str::to_string),
        actor,
        action: param(&pairs, "action").map(str::to_string),
        after: instant("created_after")?,
        before,
        ..Default::default()
    };
    let found = state.rest.audit.entries(&auth.0, &filter, page).await?;
    rest_page(&req, found, |e| {
        json!({
            "id": e.id, "at": iso(e.at), "actor_id": e.actor_id, "actor_name": e.actor_name, "actor_type": e.actor_type,
            "entity": e.entity, "entity_id": e.entity_id, "action": e.action, "changes": e.changes,
            "request_id": e.request_id, "ip": e.ip, "user_agent": e.user_agent,
        })
    })
}

async fn timeline(
    req: HttpRequest,
    auth: Auth,
    state: web::Data<AppState>,
    of: web::Data<TimelineOf>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let page = PAGES.parse(&query_pairs(&req)?)?.page;
    let found = state.rest.audit.timeline(&auth.0, **of, id.into_inner(), page).await?;
    rest_page(
        &req,
        found,
        |i| json!({"at": iso(i.at), "kind": i.kind, "id": i.id, "title": i.title, "detail": i.detail, "status": i.status}),
    )
}

fn page_params() -> Vec<Value> {
    super::scaffold::list_parameters(&PAGES)
        .into_iter()
        .filter(|p| matches!(p["name"].as_str(), Some("page" | "page_size")))
        .collect()
}

fn paged(items: Value) -> Value {
    json!({"description": "A page, newest first", "content": {"application/json": {"schema": {"type": "object",
        "properties": {"count": {"type": "integer"}, "next": {"type": ["string", "null"]}, "previous": {"type": ["string", "null"]},
        "results": {"type": "array", "items": items}}}}}})
}

pub fn document(paths: &mut Map<String, Value>, _schemas: &mut Map<String, Value>) {
    let text = |name: &str, about: &str| json!({"name": name, "in": "query", "required": false, "description": about, "schema": {"type": "string"}});
    let mut params = page_params();
    params.extend([
        text("entity", "The kind of record (`account`, `deal`, `user`, `setting`, ...), any case"),
        text("entity_id", "The record's id"),
        json!({"name": "actor", "in": "query", "required": false, "description": "The acting user's id",
               "schema": super::scaffold::blank_or(json!({"type": "integer"}))}),
        text("action", "`created`, `updated`, `deleted`, `restored`, `converted`, `won`, `signed_in`, ..., any case"),
        text("created_after", "`YYYY-MM-DD` or ISO 8601: at or after"),
        text("created_before", "`YYYY-MM-DD` (that whole day included) or ISO 8601: before"),
    ]);
    let entry = json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "at": {"type": "string"}, "actor_id": {"type": ["integer", "null"]},
        "actor_name": {"type": ["string", "null"]}, "actor_type": {"type": "string", "enum": ["user", "system", "ai"]},
        "entity": {"type": "string"}, "entity_id": {"type": "string"}, "action": {"type": "string"},
        "changes": {"type": "object"}, "request_id": {"type": ["string", "null"]}, "ip": {"type": ["string", "null"]}}});
    paths.insert(
        "/api/core/audit/".into(),
        json!({"get": operation("crm-rest: core", "rest_audit", "The audit trail of every write (`users.manage`)", params, None, ("200", paged(entry)))}),
    );
    let item = json!({"type": "object", "properties": {
        "at": {"type": "string"}, "kind": {"type": "string", "enum": ["change", "activity", "task", "call", "chat"]},
        "id": {"type": "string"}, "title": {"type": "string"}, "detail": {}, "status": {"type": ["string", "null"]}}});
    for (base, of, tag) in TIMELINES {
        let mut params = vec![
            json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}}),
        ];
        params.extend(page_params());
        let id = format!("rest_{}_timeline", of.entity());
        paths.insert(
            format!("{base}{{id}}/timeline/"),
            json!({"get": operation(tag, &id, &format!("The {}'s history with its activities, tasks, calls and chats (`crm.read`)", of.entity()),
                params, None, ("200", paged(item.clone())))}),
        );
    }
}
