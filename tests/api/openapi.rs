//! The OpenAPI document matches the routes that answer, and Swagger UI is served locally.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = TestApp::spawn().await;
    let spec = app.get("/openapi.json", None).await;
    assert_eq!(spec.status, StatusCode::OK);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(spec.body["components"]["securitySchemes"]["bearer"].is_object());
    let paths = spec.body["paths"].as_object().unwrap();
    assert!(paths.len() >= 10);
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let concrete = path.replace("{id}", "1");
            let res = app.call(method.clone(), &concrete, None, None).await;
            assert_ne!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is documented but not routed");
            assert!(!res.text.contains("No route matches"), "{method} {path} is documented but not routed");
        }
    }
}

#[tokio::test]
async fn operations_have_unique_ids_surface_tags_and_described_responses() {
    let app = TestApp::spawn().await;
    let spec = app.get("/openapi.json", None).await.body;
    let tags: Vec<&str> = spec["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    let mut ids = std::collections::HashSet::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            assert!(
                !id.is_empty() && ids.insert(id.clone()),
                "{method} {path}: operationId '{id}' missing or not unique"
            );
            let tag = op["tags"][0].as_str().unwrap_or_default();
            assert!(tags.contains(&tag), "{method} {path}: tag '{tag}' is not one of the surfaces");
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path} documents no response");
            for (status, response) in responses {
                assert!(
                    response["description"].is_string(),
                    "{method} {path} {status}: a response needs a description"
                );
            }
        }
    }
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let redirect = app.get("/docs", None).await;
    assert!(redirect.status.is_redirection());
    assert_eq!(redirect.header("location"), Some("/docs/"));
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.to_lowercase().contains("swagger"));
    let bundle = app.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert!(bundle.text.len() > 100_000, "the Swagger UI bundle is vendored");
    assert!(!page.text.contains("unpkg.com") && !page.text.contains("cdn."), "no assets from the internet");
}

/// The document lists what the server can answer: on every operation the standard errors,
/// each with its surface's envelope, and the CRM v1 success envelope.
#[tokio::test]
async fn every_operation_documents_its_errors_in_its_envelope() {
    let app = TestApp::spawn().await;
    let spec = app.get("/openapi.json", None).await.body;
    for name in ["CrmV1Error", "RestError", "CallCenterError", "ManagementError"] {
        assert!(spec["components"]["schemas"][name].is_object(), "{name} missing");
    }
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let responses = &op["responses"];
            if op["tags"][0] == "health" {
                assert!(responses["503"].is_object(), "{path}");
                continue;
            }
            let mut wanted = vec!["400", "429", "503"];
            if op["security"].is_array() {
                wanted.extend(["401", "403"]);
            }
            if path.contains('{') {
                wanted.push("404");
            }
            if op["requestBody"].is_object() {
                wanted.extend(["413", "415"]);
            }
            for code in wanted {
                let schema = &responses[code]["content"]["application/json"]["schema"];
                assert!(schema.is_object(), "{method} {path}: {code} undocumented or without a body schema");
            }
            if path.starts_with("/api/v1/") {
                for (code, response) in responses.as_object().unwrap().iter().filter(|(c, _)| c.starts_with('2')) {
                    let schema = &response["content"]["application/json"]["schema"];
                    assert_eq!(schema["properties"]["success"]["const"], json!(true), "{method} {path} {code}");
                }
            }
        }
    }
}

#[tokio::test]
async fn absurd_pages_are_refused_not_crashing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for path in [
        "/api/calls?page=9223372036854775807",
        "/api/v1/customers?page=9223372036854775807",
        "/api/system-config/users/?page=1000001",
    ] {
        let res = app.get(path, Some(&token)).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{path}: {}", res.text);
    }
    // The document says so: every `page` query parameter is bounded, and the bound is the
    // server's, and so is every page size (found by schemathesis: `page=0` and `limit=101`
    // were documented as acceptable).
    let spec = app.get("/openapi.json", None).await.body;
    let mut pages = 0;
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let size = matches!(param["name"].as_str(), Some("limit" | "page_size" | "pageSize"));
                if param["in"] == "query" && size && param["schema"].get("anyOf").is_none() {
                    assert_eq!(param["schema"]["minimum"], json!(1), "{method} {path} {}", param["name"]);
                    assert!(param["schema"]["maximum"].is_u64(), "{method} {path} {} has a maximum", param["name"]);
                }
                if param["in"] == "query" && param["name"] == "page" {
                    pages += 1;
                    // The integer itself, or its branch where a blank value is allowed too.
                    let schema = &param["schema"];
                    let mut branches = schema["anyOf"].as_array().into_iter().flatten().chain([schema]);
                    let whole = branches.rfind(|b| b["type"] == "integer" || b["type"][0] == "integer");
                    let whole = whole.unwrap_or_else(|| panic!("{method} {path}: page is not an integer"));
                    assert_eq!(whole["minimum"], json!(1), "{method} {path}");
                    assert_eq!(whole["maximum"], json!(1_000_000), "{method} {path}");
                }
            }
        }
    }
    assert!(pages > 30, "every list documents its page ({pages})");
    let past = app.get("/crm/dashboard?page=1000001&page_size=50", Some(&token)).await;
    assert_eq!(past.status, StatusCode::BAD_REQUEST, "{}", past.text);
}

/// Each surface's bodies are documented with their own shape, not another surface's namesake
/// (replayed: `POST /api/v1/deals {"name","account","amount"}` was documented, then refused).
#[tokio::test]
async fn each_surface_documents_its_own_body() {
    let app = TestApp::spawn().await;
    let spec = app.get("/openapi.json", None).await.body;
    let properties = |path: &str, method: &str| {
        let reference = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has a body schema"))
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let props = spec["components"]["schemas"][&reference]["properties"].as_object().unwrap().clone();
        props.keys().cloned().collect::<Vec<_>>()
    };
    for (path, method) in [("/api/v1/deals", "post"), ("/api/v1/deals/{id}", "put")] {
        let fields = properties(path, method);
        assert!(
            fields.contains(&"customerId".to_string()) && fields.contains(&"title".to_string()),
            "{path}: {fields:?}"
        );
    }
    assert!(properties("/api/deals/deals/", "post").contains(&"account".to_string()));
    assert!(properties("/api/v1/activities", "post").contains(&"customerId".to_string()));
    assert_eq!(properties("/auth/refresh", "post"), ["refresh_token"]);
    assert_eq!(properties("/api/auth/refresh/", "post"), ["refresh"]);
}

/// A REST body's schema says what the server takes: `POST {}` is refused with "This field is
/// required." for exactly the fields the schema lists as required, and every field the schema
/// lets be null is taken as null (the types and the nulls are read from that same schema, so
/// this sweep holds the one rule the domain keeps, the required fields, to the document).
#[tokio::test]
async fn rest_bodies_require_and_take_null_as_their_schemas_say() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let spec = app.get("/openapi.json", None).await.body;
    let mut swept = 0;
    for (path, ops) in spec["paths"].as_object().unwrap() {
        let op = &ops["post"];
        if !op["operationId"].as_str().is_some_and(|id| id.starts_with("rest_") && id.ends_with("_create")) {
            continue;
        }
        let name = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str().unwrap();
        let schema = &spec["components"]["schemas"][name.rsplit('/').next().unwrap()];
        let mut required: Vec<&str> =
            schema["required"].as_array().into_iter().flatten().map(|r| r.as_str().unwrap()).collect();
        required.sort();
        let res = app.post(path, Some(&token), json!({})).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "POST {path} {{}}: {}", res.text);
        let details = res.body["error"]["details"].as_object().unwrap();
        let mut missing: Vec<&str> = details
            .iter()
            .filter(|(_, m)| m.as_array().unwrap().iter().any(|m| m == "This field is required."))
            .map(|(f, _)| f.as_str())
            .collect();
        missing.sort();
        assert_eq!(missing, required, "POST {path} {{}}: the required fields are the documented ones");

        let nullable: serde_json::Map<String, serde_json::Value> = schema["properties"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, p)| {
                p["type"].as_array().is_some_and(|t| t.contains(&json!("null"))) || p.get("type").is_none()
            })
            .map(|(f, _)| (f.clone(), serde_json::Value::Null))
            .collect();
        let res = app.post(path, Some(&token), serde_json::Value::Object(nullable.clone())).await;
        for field in nullable.keys() {
            let messages = &res.body["error"]["details"][field];
            assert!(
                !messages.to_string().contains("may not be null"),
                "POST {path}: {field} is documented nullable but refused as null: {}",
                res.text
            );
        }
        swept += 1;
    }
    assert!(swept >= 15, "every REST resource is swept ({swept})");
}
