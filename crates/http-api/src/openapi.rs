//! The OpenAPI document (utoipa) and Swagger UI.

use crate::routes::callcenter::{ai, callers, calls, chats, files, knowledge, reports, twilio};
use crate::routes::management::{audit as cims_audit, auth as cims_auth, catalog, crm as cims_crm, workspace};
use crate::routes::v1::{activities, analytics, auth as v1_auth, customers, deals};
use crate::routes::{auth, health, system_users};
use crate::surface::Surface;
use serde_json::{Map, Value, json};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Every documented route, one tag per surface.
#[derive(OpenApi)]
#[openapi(
    info(title = "CRM and AI call-center backend", description = "One backend for the CRM v1, CRM REST, call-center and management frontends. Tokens from any sign-in work on every surface."),
    paths(
        health::health, health::core_health, health::live, health::ready, crate::metrics::scrape,
        v1_auth::login, v1_auth::logout, v1_auth::refresh,
        customers::list, customers::get, customers::create, customers::update, customers::delete,
        deals::list, deals::get, deals::create, deals::update, deals::delete,
        activities::list, activities::get, activities::create, activities::delete,
        analytics::dashboard, analytics::sales, analytics::period,
        catalog::list_statuses, catalog::create_status, catalog::update_status, catalog::patch_status, catalog::delete_status,
        catalog::list_roles, catalog::create_role, catalog::update_role, catalog::patch_role, catalog::delete_role,
        catalog::get_permissions, catalog::set_permissions,
        cims_auth::login, cims_auth::refresh, cims_auth::me, cims_crm::conversion_rate,
        cims_crm::sales_managers, cims_crm::assign, cims_crm::customer_manager,
        workspace::dashboard, workspace::dynamic_statuses, workspace::stats, workspace::stats_period, workspace::stats_summary,
        workspace::period_report, workspace::filter_status, workspace::filter_platform, workspace::filter_date, workspace::latest,
        workspace::archived, workspace::detail, workspace::create, workspace::update, workspace::archive, workspace::restore,
        workspace::purge, workspace::bulk_archive, workspace::bulk_purge, workspace::notes, workspace::add_note,
        workspace::edit_note, workspace::delete_note, workspace::audio, workspace::my_customers, workspace::my_stats,
        workspace::manager_customers, workspace::manager_stats, workspace::manager_period_stats,
        cims_audit::logs, cims_audit::logs_of_user, cims_audit::logs_of_entity, cims_audit::log, cims_audit::ceo_dashboard,
        knowledge::list_qa, knowledge::create_qa, knowledge::get_qa, knowledge::update_qa, knowledge::delete_qa,
        knowledge::list_topics, knowledge::create_topic, knowledge::get_topic, knowledge::delete_topic,
        callers::list, callers::get, callers::create, callers::update, callers::get_context, callers::put_context,
        twilio::token,
        calls::list, calls::get, calls::voip_list, calls::start, calls::delete_history, calls::twilio_status,
        chats::list, chats::get, ai::close_chat, ai::chat, ai::stream, ai::call_start, ai::call_transcript, ai::call_end,
        reports::dashboard, reports::statistics, reports::analytics,
        files::upload, files::list, files::download, files::delete,
        auth::login, auth::login_slash, auth::refresh, auth::register, auth::profile, auth::change_password,
        system_users::list, system_users::create, system_users::get, system_users::replace, system_users::patch, system_users::deactivate,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and database health"),
        (name = "crm-v1", description = "CRM API v1 (`crm-api-v1.md`): `{success,data}` envelope; errors `{success:false,error:{code,message,details}}`"),
        (name = "crm-rest", description = "CRM REST API (`crm-rest-api.md`): lists `{count,next,previous,results}`; errors `{error:{type,message,timestamp,status_code,details}}`"),
        (name = "callcenter", description = "AI call center (`callcenter-*.md`): bare objects; errors `{error,message,code,details}`"),
        (name = "management", description = "Management (`management-update.md`): errors `{detail}`"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// A field the contract lets clients send as a string or a number (or null).
pub fn string_or_number() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Number, Type::Null])).build()
}

/// A text field taking one of `choices` in any case, spaces around allowed (as the domain reads
/// a choice): a pattern built from the domain's own list, so the document is exactly as strict.
pub fn choice(choices: &[&str], about: &str) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let any_case = |choice: &str| -> String {
        choice
            .chars()
            .map(|c| match c {
                c if c.is_ascii_alphabetic() => format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()),
                c if c.is_ascii_alphanumeric() || c == ' ' || c == '_' || c == '-' => c.to_string(),
                c => format!("\\{c}"),
            })
            .collect()
    };
    let alternatives: Vec<String> = choices.iter().map(|c| any_case(c)).collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!("{about} One of {} (any case).", choices.join(", "))))
        .pattern(Some(format!("^[ \\t\\n\\r]*({})[ \\t\\n\\r]*$", alternatives.join("|"))))
        .examples([choices[0]])
        .build()
}

/// The document the server publishes: the annotated routes, completed so that it says what
/// the server really sends (see [`complete`]).
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises");
    crate::routes::rest::document(&mut doc);
    complete(&mut doc);
    doc
}

/// The error envelope of each surface, as a schema name and its definition.
fn envelopes() -> [(Surface, &'static str, Value); 4] {
    let details =
        json!({"type": "object", "description": "Per-field messages (`{field: [message]}`) or other context"});
    [
        (
            Surface::CrmV1,
            "CrmV1Error",
            json!({"type": "object", "required": ["success", "error"], "properties": {
                "success": {"type": "boolean", "const": false},
                "error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "examples": ["VALIDATION_ERROR"]},
                    "message": {"type": "string"},
                    "details": details.clone()}}}}),
        ),
        (
            Surface::RestApi,
            "RestError",
            json!({"type": "object", "required": ["error"], "properties": {
                "error": {"type": "object", "required": ["type", "message", "timestamp", "status_code"], "properties": {
                    "type": {"type": "string", "examples": ["ValidationError"]},
                    "message": {"type": "string"},
                    "timestamp": {"type": "string", "format": "date-time"},
                    "status_code": {"type": "integer"},
                    "details": details.clone()}}}}),
        ),
        (
            Surface::CallCenter,
            "CallCenterError",
            json!({"type": "object", "required": ["error", "message", "code"], "properties": {
                "error": {"type": "string"},
                "message": {"type": "string"},
                "code": {"type": "string", "examples": ["VALIDATION_ERROR"]},
                "details": details}}),
        ),
        (
            Surface::Management,
            "ManagementError",
            json!({"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}},
                   "description": "FastAPI's body; some answers add context keys (e.g. `customers_count`)"}),
        ),
    ]
}

/// What the standard answers mean, for operations whose annotation does not say.
const STANDARD: [(&str, &str); 8] = [
    (
        "400",
        "Bad input: malformed JSON or query, a wrong type, a failed validation (per-field `details`), a NUL character",
    ),
    ("401", "No token, or an invalid, expired or revoked one"),
    ("403", "The role lacks the permission"),
    ("404", "No such record"),
    ("413", "The body is larger than the limit"),
    ("415", "The body is not of a documented content type"),
    ("429", "Too many requests (see `Retry-After` and `X-RateLimit-*`)"),
    ("503", "The database (or another dependency) is unavailable; retry after `Retry-After` seconds"),
];

/// Documents the `Idempotency-Key` every `POST` takes (`middleware::idempotency`): its header,
/// and the 409 and 422 it may answer.
fn document_idempotency(op: &mut Value) {
    let header = json!({"name": "Idempotency-Key", "in": "header", "required": false,
        "description": "1-255 printable characters: the first answer is kept 24 h per caller and key and replayed to repeats with the same body (`Idempotent-Replayed: true`); another body is a 422, a repeat while the first runs a 409",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7E]+$"}});
    match op.get_mut("parameters").and_then(Value::as_array_mut) {
        Some(params) => params.push(header),
        None => op["parameters"] = json!([header]),
    }
    let responses = op["responses"].as_object_mut().expect("responses");
    responses.entry("409").or_insert_with(
        || json!({"description": "Conflict (also: a request with this Idempotency-Key still running)"}),
    );
    responses
        .entry("422")
        .or_insert_with(|| json!({"description": "The Idempotency-Key was used for a different request"}));
}

/// Bounds every whole-number `page` query parameter as every surface checks it (1 to
/// [`crate::pagination::MAX_PAGE`]).
fn bound_page_numbers(op: &mut Value) {
    for param in op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
        let whole = |t: &Value| t == "integer" || t.as_array().is_some_and(|a| a.contains(&json!("integer")));
        if param["in"] == "query" && param["name"] == "page" && whole(&param["schema"]["type"]) {
            param["schema"]["minimum"] = json!(1);
            param["schema"]["maximum"] = json!(crate::pagination::MAX_PAGE);
        }
    }
}

/// Completes every operation so the document is the truth:
/// - every status code a route can answer is listed: 400, 429 and 503 everywhere, 401 and
///   403 where a token is needed, 404 where the path names a record, 413 and 415 where a
///   body is read; the health checks answer only 200 and 503;
/// - every error answer carries its surface's envelope schema;
/// - CRM v1 success bodies are wrapped in `{success: true, data}` (or `{success, message}`).
/// - every `POST` documents its `Idempotency-Key`;
/// - every `page` query parameter says its bounds.
pub fn complete(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].as_object_mut().expect("components.schemas");
    for (_, name, schema) in envelopes() {
        schemas.insert(name.to_string(), schema);
    }
    let paths = doc["paths"].as_object_mut().expect("paths");
    for (path, operations) in paths.iter_mut() {
        let surface = Surface::of_path(path);
        let envelope = envelopes().into_iter().find(|(s, _, _)| *s == surface).map(|(_, n, _)| n).unwrap_or_default();
        for (method, op) in operations.as_object_mut().into_iter().flatten() {
            if method == "post" {
                document_idempotency(op);
            }
            bound_page_numbers(op);
            let health = op["tags"][0] == json!("health");
            let secured = op.get("security").is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty()));
            let has_body = op.get("requestBody").is_some();
            let responses = op["responses"].as_object_mut().expect("responses");
            let mut wanted = vec!["400", "429", "503"];
            if secured {
                wanted.extend(["401", "403"]);
            }
            if path.contains('{') {
                wanted.push("404");
            }
            if has_body {
                wanted.extend(["413", "415"]);
            }
            if health {
                wanted = vec!["503"];
            }
            for code in wanted {
                let text = STANDARD.iter().find(|(c, _)| *c == code).map(|(_, d)| *d).unwrap_or_default();
                responses.entry(code).or_insert_with(|| json!({"description": text}));
            }
            for (code, response) in responses.iter_mut() {
                let error = code.starts_with('4') || code.starts_with('5');
                if error && !health && response.get("content").is_none() {
                    response["content"] =
                        json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{envelope}")}}});
                }
                if surface == Surface::CrmV1 && code.starts_with('2') {
                    wrap_v1_success(response);
                }
            }
        }
    }
}

/// `{success: true, data: <schema>}`, or `{success: true, message}` for answers without data.
fn wrap_v1_success(response: &mut Value) {
    let inner = response["content"]["application/json"]["schema"].take();
    let schema = if inner.is_null() {
        json!({"type": "object", "required": ["success", "message"], "properties": {
            "success": {"type": "boolean", "const": true}, "message": {"type": "string"}}})
    } else {
        let mut properties = Map::new();
        properties.insert("success".into(), json!({"type": "boolean", "const": true}));
        properties.insert("data".into(), inner);
        json!({"type": "object", "required": ["success", "data"], "properties": properties})
    };
    response["content"] = json!({"application/json": {"schema": schema}});
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    #[test]
    fn a_choice_is_documented_in_any_case_with_spaces_around() {
        let schema = serde_json::to_value(super::choice(&["Not Started", "Won"], "Default.")).unwrap();
        assert_eq!(
            schema["pattern"],
            "^[ \\t\\n\\r]*([Nn][Oo][Tt] [Ss][Tt][Aa][Rr][Tt][Ee][Dd]|[Ww][Oo][Nn])[ \\t\\n\\r]*$"
        );
        assert_eq!(schema["type"], "string");
        assert_eq!(schema["description"], "Default. One of Not Started, Won (any case).");
    }

    /// Every `ToSchema` type of this crate, by the name it takes in the document (its
    /// `#[schema(as = …)]` when given), with where it is declared.
    fn schema_names(dir: &Path, found: &mut BTreeMap<String, Vec<String>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                schema_names(&path, found);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let (mut deriving, mut alias) = (false, None);
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.starts_with("#[derive(") && line.contains("ToSchema") {
                    (deriving, alias) = (true, None);
                } else if deriving && line.starts_with("#[schema(as = ") {
                    let name = line["#[schema(as = ".len()..].trim_end_matches(")]");
                    alias = name.rsplit("::").next().map(str::to_string);
                } else if deriving
                    && let Some(rest) =
                        ["pub struct ", "pub enum ", "struct ", "enum "].iter().find_map(|k| line.strip_prefix(k))
                {
                    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    found.entry(alias.take().unwrap_or(name)).or_default().push(format!(
                        "{}:{}",
                        path.display(),
                        n + 1
                    ));
                    deriving = false;
                }
            }
        }
    }

    /// utoipa keys schemas by name: two shapes under one name would document one surface's
    /// body with another's (the v1 deal create once showed the REST deal body).
    #[test]
    fn every_schema_name_is_one_shape() {
        let mut found = BTreeMap::new();
        schema_names(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
        assert!(found.len() > 100, "the scan sees the schemas: {}", found.len());
        let shared: Vec<_> = found.iter().filter(|(_, places)| places.len() > 1).collect();
        assert!(shared.is_empty(), "schema names declared more than once (give one `#[schema(as = …)]`): {shared:?}");
    }
}
