//! Every route in the OpenAPI document, fed what a fuzzer feeds it: NUL characters in the
//! path, query and body, over-long strings, wrong JSON types, bodies that are not objects.
//! No answer may be a 5xx, and NUL characters are refused with a 400.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

/// Every documented operation: method, path template, the property names of its JSON body
/// (when it takes one) and the names of its query parameters.
pub struct Operation {
    pub method: Method,
    pub path: String,
    pub body_fields: Option<Vec<String>>,
    pub query: Vec<String>,
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => resolve(spec, &spec["components"]["schemas"][r.trim_start_matches("#/components/schemas/")]),
        None => schema,
    }
}

pub fn operations(spec: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let content = &op["requestBody"]["content"];
            let body_fields = content.as_object().map(|c| {
                let schema = c.values().next().map(|m| resolve(spec, &m["schema"])).cloned().unwrap_or_default();
                schema["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default()
            });
            let query = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == json!("query"))
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect();
            out.push(Operation {
                method: Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                path: path.clone(),
                body_fields,
                query,
            });
        }
    }
    out
}

/// The path with every `{param}` replaced.
pub fn concrete(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e + 1);
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn object_of(fields: &[String], value: Value) -> Value {
    let mut map = Map::new();
    for f in fields {
        map.insert(f.clone(), value.clone());
    }
    Value::Object(map)
}

/// Sends `body` as raw JSON text (so `\u0000` escapes stay as written).
async fn send(app: &TestApp, method: &Method, path: &str, token: &str, body: Option<String>) -> Resp {
    let mut req = app.client.request(method.clone(), format!("{}{path}", app.base)).bearer_auth(token);
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b);
    }
    Resp::from(req.send().await.expect("request sent")).await
}

#[tokio::test]
async fn no_route_answers_5xx_to_malformed_input() {
    // Twilio configured, so its callback is judged by its signature rather than refused as 503.
    let app = TestApp::spawn_with(&[
        ("twilio_auth_token", "test-auth-token"),
        ("public_base_url", "https://crm.example.com"),
    ])
    .await;
    let spec = app.get("/openapi.json", None).await.body;
    let long = "x".repeat(20_000);
    let mut failures = Vec::new();
    for op in operations(&spec) {
        // Sign-outs would revoke the token the sweep goes on with.
        let token = app.admin_token().await;
        let mut cases: Vec<(String, Option<String>, bool)> = Vec::new(); // path, body, must be 400
        if op.path.contains('{') {
            cases.push((concrete(&op.path, "1%00"), None, true));
            cases.push((concrete(&op.path, &"9".repeat(40)), None, false));
            cases.push((concrete(&op.path, &"x".repeat(3000)), None, false));
        }
        let base = concrete(&op.path, "1");
        for q in &op.query {
            cases.push((format!("{base}?{q}=a%00b"), None, true));
            cases.push((format!("{base}?{q}={long}"), None, false));
            cases.push((format!("{base}?{q}=-1"), None, false));
        }
        if let Some(fields) = &op.body_fields {
            let nul = object_of(fields, json!("a\u{0}b")).to_string();
            cases.push((base.clone(), Some(nul), !fields.is_empty()));
            // Every text field has a maximum (10,000 characters for the longest free text).
            cases.push((base.clone(), Some(object_of(fields, json!(long)).to_string()), !fields.is_empty()));
            for value in [json!(12345), json!(-1.5), json!(true), json!([1, 2]), json!({"a": 1})] {
                cases.push((base.clone(), Some(object_of(fields, value).to_string()), false));
            }
            cases.push((base.clone(), Some("{".to_string()), false));
            // A body of the wrong JSON type: a 400 on every route, never read field by field.
            for body in ["[]", "[\"array\",\"body\"]", "\"text\"", "42", "null", "true"] {
                let res = send(&app, &op.method, &base, &token, Some(body.to_string())).await;
                if res.status != StatusCode::BAD_REQUEST {
                    failures.push(format!("{} {base} {body} -> {} (want 400): {}", op.method, res.status, res.text));
                }
            }
        }
        for (path, body, must_refuse) in cases {
            let res = send(&app, &op.method, &path, &token, body.clone()).await;
            let shown = |b: &Option<String>| b.as_deref().map(|b| b.chars().take(120).collect::<String>());
            if res.status.is_server_error() {
                failures.push(format!("{} {path} {:?} -> {}: {}", op.method, shown(&body), res.status, res.text));
            } else if must_refuse && res.status != StatusCode::BAD_REQUEST && res.status.is_success() {
                failures.push(format!("{} {path} {:?} -> {} accepted", op.method, shown(&body), res.status));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
