//! `crm-rest-api.md` territories, and through them the conventions every REST resource
//! shares: JSON or form bodies, paths with or without the slash, DRF pages, search, filters,
//! ordering, date ranges, soft delete and restore, duplicates, permissions.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const TERRITORIES: &str = "/api/territories/territories/";

#[tokio::test]
async fn territories_are_created_listed_changed_deleted_and_restored() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let created = app
        .post(
            TERRITORIES,
            Some(&token),
            json!({"name": "New Territory", "description": "New sales territory", "is_active": true}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let body = &created.body;
    assert_eq!(body["name"], json!("New Territory"));
    assert_eq!(body["description"], json!("New sales territory"));
    assert_eq!(body["is_active"], json!(true));
    for field in ["id", "created_at", "updated_at"] {
        assert!(!body[field].is_null(), "{field}");
    }
    let id = body["id"].as_i64().unwrap();

    // A form body and the path without its slash work the same.
    let form = app
        .post_form("/api/territories/territories", Some(&token), &[("name", "North Territory"), ("is_active", "false")])
        .await;
    assert_eq!(form.status, StatusCode::CREATED, "{}", form.text);
    assert_eq!(form.body["is_active"], json!(false));
    // A form's `null` is null, and a flag is never null, as the schema says (found by
    // schemathesis: the schema allowed `is_active=null`, the server refused it on PUT only).
    let null = app
        .post_form(
            TERRITORIES,
            Some(&token),
            &[("name", "South Territory"), ("description", "null"), ("is_active", "null")],
        )
        .await;
    assert_rest_error(&null, StatusCode::BAD_REQUEST, "ValidationError");
    assert_eq!(null.body["error"]["details"], json!({"is_active": ["This field may not be null."]}));
    let null = app.post(TERRITORIES, Some(&token), json!({"name": "South Territory", "is_active": null})).await;
    assert_eq!(null.body["error"]["details"], json!({"is_active": ["This field may not be null."]}));
    let south = app
        .post_form(
            TERRITORIES,
            Some(&token),
            &[("name", "South Territory"), ("description", "null"), ("is_active", "true")],
        )
        .await;
    assert_eq!(south.status, StatusCode::CREATED, "{}", south.text);
    assert_eq!(south.body["description"], json!(null), "a form's null");

    // The same name in another case is a duplicate, with the existing record.
    let dup = app.post(TERRITORIES, Some(&token), json!({"name": "new territory"})).await;
    assert_rest_error(&dup, StatusCode::CONFLICT, "Conflict");
    assert_eq!(
        dup.body["error"]["details"]["candidates"],
        json!([{"type": "territory", "id": id, "name": "New Territory"}])
    );

    let path = format!("{TERRITORIES}{id}/");
    let got = app.get(&path, Some(&token)).await;
    assert_eq!(got.body, created.body);
    let patched = app.call(Method::PATCH, &path, Some(&token), Some(json!({"description": "Changed"}))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(
        (patched.body["name"].clone(), patched.body["description"].clone()),
        (json!("New Territory"), json!("Changed"))
    );
    let put = app.call(Method::PUT, &path, Some(&token), Some(json!({"description": "No name"}))).await;
    assert_rest_error(&put, StatusCode::BAD_REQUEST, "ValidationError");
    assert_eq!(put.body["error"]["details"]["name"], json!(["This field is required."]));

    let deleted = app.call(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.text.is_empty(), "no body");
    assert_rest_error(&app.get(&path, Some(&token)).await, StatusCode::NOT_FOUND, "NotFound");
    assert_eq!(app.get(TERRITORIES, Some(&token)).await.body["count"], json!(2), "North and South remain");
    let restored = app.post(&format!("{path}restore/"), Some(&token), json!({})).await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text);
    assert_eq!(restored.body["id"], json!(id));
    assert_eq!(app.get(TERRITORIES, Some(&token)).await.body["count"], json!(3));
    let again = app.post(&format!("{path}restore/"), Some(&token), json!({})).await;
    assert_rest_error(&again, StatusCode::NOT_FOUND, "NotFound");
}

#[tokio::test]
async fn lists_page_search_filter_and_order_as_drf_does() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for i in 0..25 {
        let body = json!({"name": format!("Zone {i:02}"), "description": if i % 5 == 0 { "coastal" } else { "inland" }, "is_active": i % 2 == 0});
        assert_eq!(app.post(TERRITORIES, Some(&token), body).await.status, StatusCode::CREATED);
    }
    let first = app.get(&format!("{TERRITORIES}?page_size=10&search=zone"), Some(&token)).await;
    assert_eq!(first.body["count"], json!(25));
    assert_eq!(first.body["results"].as_array().unwrap().len(), 10);
    assert_eq!(first.body["results"][0]["name"], json!("Zone 24"), "newest first");
    assert_eq!(first.body["previous"], json!(null));
    let next = first.body["next"].as_str().unwrap().to_string();
    assert!(
        next.starts_with("http://")
            && next.contains("page=2")
            && next.contains("page_size=10")
            && next.contains("search=zone"),
        "{next}"
    );
    let second =
        app.client.get(&next).bearer_auth(&token).send().await.unwrap().json::<serde_json::Value>().await.unwrap();
    assert_eq!(second["results"][0]["name"], json!("Zone 14"));
    assert!(second["previous"].as_str().unwrap().contains("page=1"));
    // Pages never repeat or skip a record.
    let mut seen = std::collections::HashSet::new();
    for page in 1..=3 {
        let res = app.get(&format!("{TERRITORIES}?page_size=10&page={page}&ordering=name"), Some(&token)).await;
        for r in res.body["results"].as_array().unwrap() {
            assert!(seen.insert(r["id"].as_i64().unwrap()));
        }
    }
    assert_eq!(seen.len(), 25);
    let past = app.get(&format!("{TERRITORIES}?page=4&page_size=10"), Some(&token)).await;
    assert_rest_error(&past, StatusCode::NOT_FOUND, "NotFound");

    let coastal = app.get(&format!("{TERRITORIES}?search=COASTAL&is_active=true"), Some(&token)).await;
    assert_eq!(coastal.body["count"], json!(3), "filters combine with AND: {}", coastal.text);
    let ordered = app.get(&format!("{TERRITORIES}?ordering=-name&page_size=1"), Some(&token)).await;
    assert_eq!(ordered.body["results"][0]["name"], json!("Zone 24"));
    let ordered = app.get(&format!("{TERRITORIES}?ordering=name&page_size=1"), Some(&token)).await;
    assert_eq!(ordered.body["results"][0]["name"], json!("Zone 00"));
    let bad = app.get(&format!("{TERRITORIES}?ordering=password"), Some(&token)).await;
    assert_rest_error(&bad, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(bad.body["error"]["details"]["ordering"][0].as_str().unwrap().contains("name, created_at, updated_at"));
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let range = app.get(&format!("{TERRITORIES}?created_after={today}&created_before={today}"), Some(&token)).await;
    assert_eq!(range.body["count"], json!(25), "a plain date includes the whole day");
    let none = app.get(&format!("{TERRITORIES}?created_before=2000-01-01"), Some(&token)).await;
    assert_eq!(none.body["count"], json!(0));
    for q in ["created_after=yesterday", "is_active=perhaps", "page=0", "page_size=101"] {
        let res = app.get(&format!("{TERRITORIES}?{q}"), Some(&token)).await;
        assert_rest_error(&res, StatusCode::BAD_REQUEST, "ValidationError");
    }
}

#[tokio::test]
async fn accounts_are_assigned_all_or_none() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let t = app.post(TERRITORIES, Some(&token), json!({"name": "North"})).await.body;
    let a = app.v1_customer(&token, json!({"name": "A"})).await["id"].as_i64().unwrap();
    let b = app.v1_customer(&token, json!({"name": "B"})).await["id"].as_i64().unwrap();
    let path = format!("{TERRITORIES}{}/assign-accounts/", t["id"]);
    let unknown = app.post(&path, Some(&token), json!({"account_ids": [a, 999_999]})).await;
    assert_rest_error(&unknown, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(unknown.body["error"]["details"]["account_ids"][0].as_str().unwrap().contains("999999"));
    let ok = app.post(&path, Some(&token), json!({"account_ids": [a, b]})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.body, json!({"assigned": 2, "territory": {"id": t["id"], "name": "North"}}));
    assert_rest_error(
        &app.post(&path, Some(&token), json!({"account_ids": []})).await,
        StatusCode::BAD_REQUEST,
        "ValidationError",
    );
    assert_rest_error(
        &app.post(&format!("{TERRITORIES}999999/assign-accounts/"), Some(&token), json!({"account_ids": [a]})).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    );
}

#[tokio::test]
async fn roles_read_write_and_delete_as_their_permissions_say() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let t = app.post(TERRITORIES, Some(&admin), json!({"name": "North"})).await.body;
    let path = format!("{TERRITORIES}{}/", t["id"]);
    let (_, email, password) = app.create_user("operator").await;
    let reader = app.token(&email, &password).await;
    assert_eq!(app.get(TERRITORIES, Some(&reader)).await.status, StatusCode::OK);
    assert_rest_error(
        &app.post(TERRITORIES, Some(&reader), json!({"name": "X"})).await,
        StatusCode::FORBIDDEN,
        "PermissionDenied",
    );
    let (_, email, password) = app.create_user("sales_manager").await;
    let writer = app.token(&email, &password).await;
    assert_eq!(
        app.call(Method::PATCH, &path, Some(&writer), Some(json!({"description": "x"}))).await.status,
        StatusCode::OK
    );
    assert_rest_error(
        &app.call(Method::DELETE, &path, Some(&writer), None).await,
        StatusCode::FORBIDDEN,
        "PermissionDenied",
    );
    assert_eq!(app.call(Method::DELETE, &path, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_rest_error(
        &app.post(&format!("{path}restore/"), Some(&writer), json!({})).await,
        StatusCode::FORBIDDEN,
        "PermissionDenied",
    );
    assert_rest_error(&app.get(TERRITORIES, None).await, StatusCode::UNAUTHORIZED, "AuthenticationFailed");
}
