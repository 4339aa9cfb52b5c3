//! The CRM REST surface (`crm-rest-api.md`): every record kind through one scaffold
//! ([`scaffold`]), bodies as JSON or forms ([`body`]), one module per resource group.

pub mod activities;
pub mod body;
pub mod core;
pub mod crm;
pub mod deals;
pub mod products;
pub mod scaffold;
pub mod territories;

use actix_web::web;
use serde_json::{Map, Value, json};

/// The resource groups, one OpenAPI tag each.
const GROUPS: [(&str, &str); 6] = [
    ("crm-rest: core", "Companies: the organisations users belong to"),
    ("crm-rest: crm", "Accounts (the one customer record), contacts, leads and converting them"),
    ("crm-rest: territories", "Territories and assigning accounts to them"),
    ("crm-rest: activities", "Activities, tasks (and completing them) and events"),
    ("crm-rest: deals", "Deals, moving them along the pipeline, and the pipeline stages"),
    ("crm-rest: products", "Products and product categories"),
];

/// Mounts every resource of the surface.
pub fn configure(cfg: &mut web::ServiceConfig) {
    core::configure(cfg);
    crm::configure(cfg);
    territories::configure(cfg);
    activities::configure(cfg);
    deals::configure(cfg);
    products::configure(cfg);
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
    let tags = doc["tags"].as_array_mut().expect("tags");
    for (group, about) in GROUPS {
        tags.push(json!({"name": group, "description": about}));
    }
    doc["paths"].as_object_mut().expect("paths").extend(paths);
    doc["components"]["schemas"].as_object_mut().expect("schemas").extend(schemas);
}
