//! The audit trail (`/api/core/audit/`) and record timelines: every kind of write leaves a row
//! with who, what changed, the request and the address, in the write's transaction.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const AUDIT: &str = "/api/core/audit/";

async fn entries(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let res = app.get(&format!("{AUDIT}?page_size=100&{query}"), Some(token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body["results"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_kind_of_write_is_audited_with_its_actor_request_and_changes() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let me = app.get("/api/core/profile/", Some(&token)).await.body["id"].clone();
    let created = app
        .client
        .post(format!("{}/api/crm/accounts/", app.base))
        .bearer_auth(&token)
        .header("X-Request-Id", "audit-test-42")
        .json(&json!({"name": "Audited", "industry": "Retail"}))
        .send()
        .await
        .unwrap();
    let account: Value = created.json().await.unwrap();
    let id = account["id"].to_string();
    let path = format!("/api/crm/accounts/{id}/");
    app.call(Method::PATCH, &path, Some(&token), Some(json!({"industry": "Food", "name": "Audited"}))).await;
    app.call(Method::DELETE, &path, Some(&token), None).await;
    app.post(&format!("{path}restore/"), Some(&token), json!({})).await;

    let trail = entries(&app, &token, &format!("entity=ACCOUNT&entity_id={id}")).await;
    let actions: Vec<&str> = trail.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["restored", "deleted", "updated", "created"], "newest first");
    let create = &trail[3];
    assert_eq!((create["actor_id"].clone(), create["actor_type"].clone()), (me.clone(), json!("user")));
    assert_eq!(create["request_id"], json!("audit-test-42"));
    assert_eq!(create["ip"], json!("127.0.0.1"));
    assert_eq!(create["actor_name"], json!("Test CEO"));
    assert_eq!(create["changes"]["name"], json!("Audited"));
    assert_eq!(trail[2]["changes"], json!({"industry": {"old": "Retail", "new": "Food"}}), "only what changed");

    // Sign-ins, failed ones, and settings with secrets kept out.
    app.post("/api/auth/login", None, json!({"email": ADMIN_EMAIL, "password": "wrong-password-1"})).await;
    let failed = entries(&app, &token, "action=SIGN_IN_FAILED").await;
    assert_eq!(failed[0]["changes"]["email"], json!(ADMIN_EMAIL));
    assert!(!entries(&app, &token, &format!("action=signed_in&actor={me}")).await.is_empty());
    let setting = app
        .post("/api/system-config/settings/", Some(&token), json!({"key": "smtp.password", "value": "hunter2-secret"}))
        .await;
    assert_eq!(setting.status, StatusCode::CREATED);
    let audited = entries(&app, &token, "entity=setting").await;
    assert!(!audited.is_empty());
    assert!(!serde_json::to_string(&audited).unwrap().contains("hunter2"), "{audited:?}");

    // A lead conversion and a deal's moves.
    let lead = app
        .post(
            "/api/crm/leads/",
            Some(&token),
            json!({"first_name": "Lead", "last_name": "One", "company_name": "Lead Co"}),
        )
        .await
        .body;
    app.post(
        &format!("/api/crm/leads/{}/convert/", lead["id"]),
        Some(&token),
        json!({"deal": {"name": "First", "amount": 100}}),
    )
    .await;
    assert_eq!(entries(&app, &token, &format!("entity=lead&entity_id={}&action=converted", lead["id"])).await.len(), 1);
    let deal = app.get("/api/deals/deals/", Some(&token)).await.body["results"][0].clone();
    app.post(&format!("/api/deals/deals/{}/mark-won/", deal["id"]), Some(&token), json!({})).await;
    let won = entries(&app, &token, &format!("entity=deal&entity_id={}&action=won", deal["id"])).await;
    assert_eq!(won[0]["changes"]["status"], json!({"old": "Open", "new": "Won"}));

    // Date range and paging.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    assert!(entries(&app, &token, &format!("created_after={tomorrow}")).await.is_empty());
    let today = chrono::Utc::now().date_naive();
    assert!(!entries(&app, &token, &format!("created_before={today}&created_after={today}")).await.is_empty());
    let bad = app.get(&format!("{AUDIT}?created_after=yesterday"), Some(&token)).await;
    assert_rest_error(&bad, StatusCode::BAD_REQUEST, "ValidationError");

    let (_, email, password) = app.create_user("sales_manager").await;
    let manager = app.token(&email, &password).await;
    assert_rest_error(&app.get(AUDIT, Some(&manager)).await, StatusCode::FORBIDDEN, "PermissionDenied");
    assert_rest_error(&app.get(AUDIT, None).await, StatusCode::UNAUTHORIZED, "AuthenticationFailed");
}

#[tokio::test]
async fn a_timeline_shows_the_record_history_with_its_activities_and_tasks() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.post("/api/crm/accounts/", Some(&token), json!({"name": "Timeline"})).await.body;
    let id = account["id"].clone();
    app.post(
        "/api/activities/activities/",
        Some(&token),
        json!({"subject": "Intro call", "activity_type": "Call", "account": id}),
    )
    .await;
    app.post("/api/activities/tasks/", Some(&token), json!({"title": "Send offer", "account": id})).await;
    app.call(Method::PATCH, &format!("/api/crm/accounts/{id}/"), Some(&token), Some(json!({"industry": "Retail"})))
        .await;
    let res = app.get(&format!("/api/crm/accounts/{id}/timeline/"), Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let kinds: Vec<&str> =
        res.body["results"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"change"), "newest first: {kinds:?}");
    assert!(kinds.contains(&"activity") && kinds.contains(&"task"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"change"), "the creation is the oldest: {kinds:?}");
    let task = res.body["results"].as_array().unwrap().iter().find(|i| i["kind"] == json!("task")).unwrap().clone();
    assert_eq!(task["title"], json!("Send offer"));
    assert_rest_error(
        &app.get("/api/deals/deals/999/timeline/", Some(&token)).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    );
    let (_, email, password) = app.create_user("customer").await;
    let outsider = app.token(&email, &password).await;
    let refused = app.get(&format!("/api/crm/accounts/{id}/timeline/"), Some(&outsider)).await;
    assert_rest_error(&refused, StatusCode::FORBIDDEN, "PermissionDenied");
}
