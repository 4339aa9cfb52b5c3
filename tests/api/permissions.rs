//! The permission tables of `docs/architecture.md`, checked as data: against the roles the
//! code seeds, against the routes the OpenAPI document lists, and against what every route
//! answers to every system role and to a request without a token.

use crate::support::*;
use management_core::SYSTEM_ROLES;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The rows of the markdown table under `heading`, each as its cells.
fn table(doc: &str, heading: &str) -> Vec<Vec<String>> {
    let start = doc.find(heading).unwrap_or_else(|| panic!("{heading} missing from docs/architecture.md"));
    doc[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().trim_matches('`').to_string()).collect())
        .collect()
}

fn architecture() -> String {
    std::fs::read_to_string(config_dir().join("../docs/architecture.md")).expect("docs/architecture.md")
}

/// Role name → the permissions the documented table gives it.
fn documented_roles(doc: &str) -> BTreeMap<String, BTreeSet<String>> {
    let rows = table(doc, "### Permissions by role");
    let roles: Vec<String> = rows[0][2..].to_vec();
    let mut out: BTreeMap<String, BTreeSet<String>> = roles.iter().map(|r| (r.clone(), BTreeSet::new())).collect();
    for row in &rows[2..] {
        for (role, cell) in roles.iter().zip(&row[2..]) {
            if !cell.is_empty() {
                out.get_mut(role).unwrap().insert(row[0].clone());
            }
        }
    }
    out
}

/// (method, path) → `public`, `signed-in` or a permission.
fn documented_routes(doc: &str) -> BTreeMap<(String, String), String> {
    table(doc, "### What each route needs")[2..].iter().map(|r| ((r[0].clone(), r[1].clone()), r[2].clone())).collect()
}

#[test]
fn the_role_table_is_what_the_code_seeds() {
    let documented = documented_roles(&architecture());
    let seeded: BTreeMap<String, BTreeSet<String>> = SYSTEM_ROLES
        .iter()
        .map(|r| (r.name.to_string(), r.permissions.iter().map(|p| p.as_str().to_string()).collect()))
        .collect();
    assert_eq!(documented, seeded);
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => resolve(spec, &spec["components"]["schemas"][r.trim_start_matches("#/components/schemas/")]),
        None => schema,
    }
}

/// A body with every required property, each a plain value of its type.
fn minimal_body(spec: &Value, schema: &Value) -> Value {
    let schema = resolve(spec, schema);
    let mut body = Map::new();
    for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        let property = resolve(spec, &schema["properties"][name]);
        let kind = property["type"].as_str().or_else(|| property["type"][0].as_str()).unwrap_or("string");
        let value = match kind {
            "integer" | "number" => json!(1),
            "boolean" => json!(true),
            "array" => json!([]),
            "object" => json!({}),
            _ => json!("x"),
        };
        body.insert(name.to_string(), value);
    }
    Value::Object(body)
}

async fn send(app: &TestApp, method: &Method, path: &str, token: Option<&str>, spec: &Value, op: &Value) -> Resp {
    let mut req = app.client.request(method.clone(), format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some((content_type, media)) = op["requestBody"]["content"].as_object().and_then(|c| c.iter().next()) {
        let body = minimal_body(spec, &media["schema"]);
        req = match content_type.as_str() {
            "multipart/form-data" => {
                let boundary = "matrixboundary";
                let text = format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
                     Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
                );
                req.header("content-type", format!("multipart/form-data; boundary={boundary}")).body(text)
            }
            "application/x-www-form-urlencoded" => {
                let pairs: Vec<(String, String)> = body
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().map_or(v.to_string(), str::to_string)))
                    .collect();
                req.header("content-type", content_type.as_str()).body(serde_urlencoded::to_string(pairs).unwrap())
            }
            _ => req.json(&body),
        };
    }
    Resp::from(req.send().await.expect("request sent")).await
}

/// Every route × every system role × no token, as the route table says.
#[tokio::test]
async fn every_route_answers_every_role_as_documented() {
    // Twilio configured, so that its routes answer by permission rather than 503.
    let app = TestApp::spawn_with(&[
        ("twilio_account_sid", "AC00000000000000000000000000000000"),
        ("twilio_api_key_sid", "SK00000000000000000000000000000000"),
        ("twilio_api_key_secret", "secret"),
        ("twilio_twiml_app_sid", "AP00000000000000000000000000000000"),
        ("twilio_auth_token", "auth-token"),
        ("public_base_url", "https://crm.example.com"),
    ])
    .await;
    let doc = architecture();
    let routes = documented_routes(&doc);
    let roles = documented_roles(&doc);
    let spec = app.get("/openapi.json", None).await.body;

    let mut operations = BTreeSet::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    let documented: BTreeSet<_> = routes.keys().cloned().collect();
    assert_eq!(operations, documented, "the route table and the OpenAPI document list the same operations");

    let mut credentials = BTreeMap::new();
    for role in roles.keys() {
        let login = if role == "ceo" {
            (ADMIN_EMAIL.to_string(), ADMIN_PASSWORD.to_string())
        } else {
            let (_, email, password) = app.create_user(role).await;
            (email, password)
        };
        credentials.insert(role.clone(), login);
    }

    let mut failures = Vec::new();
    for ((method, path), needs) in &routes {
        let op = &spec["paths"][path][method.to_lowercase()];
        let concrete =
            path.split('/').map(|seg| if seg.starts_with('{') { "999999" } else { seg }).collect::<Vec<_>>().join("/");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        // Public routes judge what they are sent (credentials, signatures): they only must not
        // ask for a token. The others refuse a request without one.
        let anonymous = send(&app, &method, &concrete, None, &spec, op).await;
        if needs != "public" && anonymous.status != StatusCode::UNAUTHORIZED || anonymous.status.is_server_error() {
            failures.push(format!("{method} {path} without a token: {} ({needs})", anonymous.status));
        }
        for (role, granted) in &roles {
            let (email, password) = &credentials[role];
            let token = app.token(email, password).await;
            let res = send(&app, &method, &concrete, Some(&token), &spec, op).await;
            let refused = matches!(res.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
            let as_documented = match needs.as_str() {
                "public" => true,
                "signed-in" => !refused,
                // Routes for one role's users (a sales manager's own leads).
                only if only.starts_with("role ") => {
                    if role == &only["role ".len()..] {
                        !refused
                    } else {
                        res.status == StatusCode::FORBIDDEN
                    }
                }
                permission if granted.contains(permission) => !refused,
                _ => res.status == StatusCode::FORBIDDEN,
            };
            if !as_documented || res.status.is_server_error() {
                failures.push(format!("{method} {path} as {role}: {} ({needs}) {}", res.status, res.text));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}
