//! The CRM REST surface (`crm-rest-api.md`): every record kind through one scaffold
//! ([`scaffold`]), bodies as JSON or forms ([`body`]), one module per resource group.

pub mod activities;
pub mod audit;
pub mod body;
pub mod core;
pub mod crm;
pub mod deals;
pub mod exchange;
pub mod insights;
pub mod integrations;
pub mod products;
pub mod scaffold;
pub mod system_config;
pub mod territories;

use actix_web::web;
use serde_json::{Map, Value, json};

/// The resource groups, one OpenAPI tag each.
const GROUPS: [(&str, &str); 9] = [
    ("crm-rest: core", "Companies: the organisations users belong to"),
    ("crm-rest: crm", "Accounts (the one customer record), contacts, leads and converting them"),
    ("crm-rest: territories", "Territories and assigning accounts to them"),
    ("crm-rest: activities", "Activities, tasks (and completing them) and events"),
    ("crm-rest: deals", "Deals, moving them along the pipeline, and the pipeline stages"),
    ("crm-rest: products", "Products and product categories"),
    ("crm-rest: analytics", "The dashboard and the reports (JSON, CSV, PDF)"),
    ("crm-rest: system-config", "System settings"),
    ("crm-rest: integrations", "Outgoing webhooks: subscriptions, deliveries, redelivery, ping"),
];

/// The answers every operation of the surface may give beyond the standard ones: a page past
/// the end of a list (404, as DRF), and a conflict on every write (409: a duplicate with
/// `details.candidates`, a record in use with `details.count`, or a state that forbids it).
fn document_errors(paths: &mut Map<String, Value>) {
    for operations in paths.values_mut() {
        for (method, op) in operations.as_object_mut().into_iter().flatten() {
            let responses = op["responses"].as_object_mut().expect("responses");
            if method == "get" {
                responses.entry("404").or_insert_with(|| json!({"description": "Not found, or a page past the end"}));
            } else {
                responses.entry("409").or_insert_with(
                    || json!({"description": "Conflict: a duplicate (`details.candidates`), a record in use (`details.count`), or a state that forbids it"}),
                );
            }
        }
    }
}

/// Request bodies may carry fields they do not name: they are ignored, as Django REST
/// framework ignores them (`additionalProperties: true`, said explicitly).
fn open_bodies(paths: &Map<String, Value>, schemas: &mut Map<String, Value>) {
    let prefix = "#/components/schemas/";
    for op in paths.values().filter_map(Value::as_object).flat_map(|ops| ops.values()) {
        let reference = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str();
        if let Some(schema) = reference.and_then(|r| r.strip_prefix(prefix)).and_then(|n| schemas.get_mut(n)) {
            schema["additionalProperties"] = json!(true);
        }
    }
}

/// A form has no null of its own: an empty value is its null (decision 0016). The form media
/// type of each body therefore refers to `<Body>Form`, the same schema where every nullable
/// field also takes the empty text.
fn form_bodies(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let prefix = "#/components/schemas/";
    for op in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|ops| ops.values_mut()) {
        let form = &mut op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
        let Some(name) = form["$ref"].as_str().and_then(|r| r.strip_prefix(prefix)).map(str::to_string) else {
            continue;
        };
        let form_name = format!("{name}Form");
        if !schemas.contains_key(&form_name) {
            let mut schema = schemas.get(&name).cloned().unwrap_or_default();
            for property in schema["properties"].as_object_mut().into_iter().flat_map(|p| p.values_mut()) {
                let types = &property["type"];
                let nullable = types.as_array().is_some_and(|t| t.contains(&json!("null")));
                if nullable {
                    *property = scaffold::blank_or(property.clone());
                }
            }
            schemas.insert(form_name.clone(), schema);
        }
        *form = json!({"$ref": format!("{prefix}{form_name}")});
    }
}

/// Mounts every resource of the surface.
pub fn configure(cfg: &mut web::ServiceConfig) {
    core::configure(cfg);
    crm::configure(cfg);
    territories::configure(cfg);
    activities::configure(cfg);
    deals::configure(cfg);
    products::configure(cfg);
    insights::configure(cfg);
    system_config::configure(cfg);
    integrations::configure(cfg);
    audit::configure(cfg);
}

/// Adds every resource's operations and schemas to the OpenAPI document.
pub fn document(doc: &mut Value) {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    super::rest::scaffold::schema_ref::<activities::RefDto>(&mut schemas);
    core::document(&mut paths, &mut schemas);
    crm::document(&mut paths, &mut schemas);
    territories::document(&mut paths, &mut schemas);
    activities::document(&mut paths, &mut schemas);
    deals::document(&mut paths, &mut schemas);
    products::document(&mut paths, &mut schemas);
    insights::document(&mut paths, &mut schemas);
    system_config::document(&mut paths, &mut schemas);
    integrations::document(&mut paths, &mut schemas);
    audit::document(&mut paths, &mut schemas);
    document_errors(&mut paths);
    open_bodies(&paths, &mut schemas);
    form_bodies(&mut paths, &mut schemas);
    let tags = doc["tags"].as_array_mut().expect("tags");
    for (group, about) in GROUPS {
        tags.push(json!({"name": group, "description": about}));
    }
    doc["paths"].as_object_mut().expect("paths").extend(paths);
    doc["components"]["schemas"].as_object_mut().expect("schemas").extend(schemas);
}
