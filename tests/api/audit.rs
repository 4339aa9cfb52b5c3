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

/// `entries` for one record, oldest first, as `action`s.
async fn actions_of(app: &TestApp, token: &str, entity: &str, id: &Value) -> Vec<String> {
    let id = id.as_i64().map_or_else(|| id.as_str().unwrap().to_string(), |n| n.to_string());
    let trail = entries(app, token, &format!("entity={entity}&entity_id={id}")).await;
    trail.iter().rev().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

/// Creates at `path`, answering the new record's id (or failing with the answer).
async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = app.post(path, Some(token), body).await;
    assert!(res.status.is_success(), "POST {path}: {} {}", res.status, res.text);
    res.body["id"].clone()
}

#[tokio::test]
async fn catalog_and_call_center_writes_are_audited_too() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;

    // The REST records that are not integrator events: create, update, delete, restore.
    for (entity, path, body, patch) in [
        ("territory", "/api/territories/territories/", json!({"name": "North"}), json!({"name": "North-East"})),
        ("product_category", "/api/products/categories/", json!({"name": "Kits"}), json!({"name": "Kit sets"})),
        (
            "product",
            "/api/products/products/",
            json!({"name": "Kit", "sku": "KIT-1", "unit_price": 10}),
            json!({"unit_price": 12}),
        ),
        (
            "pipeline_stage",
            "/api/deals/pipeline-stages/",
            json!({"name": "Pilot", "order": 9}),
            json!({"name": "Pilot run"}),
        ),
        (
            "activity",
            "/api/activities/activities/",
            json!({"subject": "Call", "activity_type": "Call"}),
            json!({"subject": "Call back"}),
        ),
    ] {
        let id = created(&app, &token, path, body).await;
        let one = format!("{path}{id}/");
        let res = app.call(Method::PATCH, &one, Some(&token), Some(patch.clone())).await;
        assert_eq!(res.status, StatusCode::OK, "PATCH {one}: {}", res.text);
        assert_eq!(app.call(Method::DELETE, &one, Some(&token), None).await.status, StatusCode::NO_CONTENT, "{one}");
        let res = app.post(&format!("{one}restore/"), Some(&token), json!({})).await;
        assert_eq!(res.status, StatusCode::OK, "restore {one}: {}", res.text);
        assert_eq!(
            actions_of(&app, &token, entity, &id).await,
            ["created", "updated", "deleted", "restored"],
            "{entity}"
        );
        let trail = entries(&app, &token, &format!("entity={entity}&entity_id={id}&action=updated")).await;
        let (field, new) = patch.as_object().unwrap().iter().next().unwrap();
        let changed = &trail[0]["changes"];
        assert!(changed.to_string().contains(&new.to_string()), "{entity}.{field} changed: {changed}");
    }

    let territory = created(&app, &token, "/api/territories/territories/", json!({"name": "South"})).await;
    let account = created(&app, &token, "/api/crm/accounts/", json!({"name": "Assigned"})).await;
    let res = app
        .post(
            &format!("/api/territories/territories/{territory}/assign-accounts/"),
            Some(&token),
            json!({"account_ids": [account]}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let assigned = entries(&app, &token, &format!("entity=territory&entity_id={territory}&action=assigned")).await;
    assert_eq!(assigned[0]["changes"]["accounts"], json!([account]));

    let company = created(&app, &token, "/api/core/companies/", json!({"name": "Audited Co"})).await;
    app.call(Method::PATCH, &format!("/api/core/companies/{company}/"), Some(&token), Some(json!({"industry": "IT"})))
        .await;
    assert_eq!(actions_of(&app, &token, "company", &company).await, ["created", "updated"]);

    // Staff, roles and statuses: a password never reaches the trail.
    let user = created(
        &app,
        &token,
        "/api/system-config/users/",
        json!({"email": "audited@test.uz", "password": STRONG_PASSWORD, "name": "Audited", "role": "sales_manager"}),
    )
    .await;
    let path = format!("/api/system-config/users/{user}/");
    let res = app.call(Method::PATCH, &path, Some(&token), Some(json!({"password": "An0ther-Strong-Pass!"}))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(actions_of(&app, &token, "user", &user).await, ["created", "updated", "password_changed"]);
    let trail = entries(&app, &token, &format!("entity=user&entity_id={user}")).await;
    let text = serde_json::to_string(&trail).unwrap();
    assert!(!text.contains("argon2") && !text.contains("password_hash") && !text.contains("An0ther"), "{text}");

    let role = created(&app, &token, "/management/roles", json!({"name": "auditor", "display_name": "Auditor"})).await;
    let res = app
        .call(
            Method::PUT,
            &format!("/management/roles/{role}/permissions"),
            Some(&token),
            Some(json!({"permissions": ["crm.read"]})),
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text);
    app.call(Method::DELETE, &format!("/management/roles/{role}"), Some(&token), None).await;
    assert_eq!(actions_of(&app, &token, "role", &role).await, ["created", "permissions_changed", "deleted"]);
    let status = created(&app, &token, "/management/statuses", json!({"name": "audited_status"})).await;
    app.call(Method::PATCH, &format!("/management/statuses/{status}"), Some(&token), Some(json!({"color": "#ff0000"})))
        .await;
    app.call(Method::DELETE, &format!("/management/statuses/{status}"), Some(&token), None).await;
    assert_eq!(actions_of(&app, &token, "customer_status", &status).await, ["created", "updated", "deleted"]);

    // The call center's knowledge, topics, callers and files.
    let qa = created(&app, &token, "/api/qa", json!({"title": "Narx", "answer": "12 mln"})).await;
    app.call(Method::PUT, &format!("/api/qa/{qa}"), Some(&token), Some(json!({"answer": "13 mln"}))).await;
    app.call(Method::DELETE, &format!("/api/qa/{qa}"), Some(&token), None).await;
    assert_eq!(actions_of(&app, &token, "qa", &qa).await, ["created", "updated", "deleted"]);
    let topic = created(&app, &token, "/api/topics", json!({"name": "Grantlar"})).await;
    app.call(Method::DELETE, &format!("/api/topics/{topic}"), Some(&token), None).await;
    assert_eq!(actions_of(&app, &token, "topic", &topic).await, ["created", "deleted"]);
    let caller = created(&app, &token, "/api/users", json!({"fullName": "Aziz", "phone": "+998935554433"})).await;
    let caller = caller.as_str().unwrap();
    let res = app
        .call(
            Method::PUT,
            &format!("/api/users/{caller}"),
            Some(&token),
            Some(json!({"fullName": "Aziz", "region": "Samarqand"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(actions_of(&app, &token, "caller", &json!(caller)).await, ["created", "updated"]);
    let file =
        app.post_multipart("/api/voip/file", Some(&token), &[], Some(("file", "narx.md", b"# Narx\n12 mln"))).await;
    assert_eq!(file.status, StatusCode::CREATED, "{}", file.text);
    let file = file.body["fileId"].clone();
    app.call(Method::DELETE, &format!("/api/voip/file/{file}"), Some(&token), None).await;
    assert_eq!(actions_of(&app, &token, "document", &file).await, ["created", "deleted"]);
}
