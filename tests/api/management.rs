//! `management-update.md`: catalogs, CIMS sign-in, conversion rate.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

fn assert_detail(res: &Resp, status: StatusCode) {
    assert_eq!(res.status, status, "{}", res.text);
    assert!(res.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", res.text);
}

#[tokio::test]
async fn system_statuses_are_seeded_in_order() {
    let app = TestApp::spawn().await;
    let (_, email, password) = app.create_user("operator").await;
    let token = app.token(&email, &password).await;
    let res = app.get("/management/statuses", Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let names: Vec<_> = res.body.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        names,
        [
            "active",
            "potential",
            "waiting",
            "contacted",
            "project_started",
            "continuing",
            "finished",
            "rejected",
            "need_to_call"
        ]
    );
    let first = &res.body[0];
    for field in
        ["id", "display_name", "description", "color", "order", "is_active", "is_system", "created_at", "updated_at"]
    {
        assert!(first.get(field).is_some(), "{field} missing");
    }
    assert_eq!(first["is_system"], json!(true));
    assert_detail(&app.get("/management/statuses", None).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_ceo_creates_and_edits_statuses_others_are_refused() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let res = app
        .post(
            "/management/statuses",
            Some(&ceo),
            json!({"name": "  On Hold ", "display_name": "On Hold", "color": "#FFA500", "order": 10}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["name"], json!("on_hold"));
    assert_eq!(res.body["is_system"], json!(false));
    let id = res.body["id"].as_i64().unwrap();

    let dup = app.post("/management/statuses", Some(&ceo), json!({"name": "ON HOLD"})).await;
    assert_detail(&dup, StatusCode::BAD_REQUEST);
    assert!(dup.body["detail"].as_str().unwrap().contains("on_hold"));
    assert_detail(
        &app.post("/management/statuses", Some(&ceo), json!({"name": "x", "color": "orange"})).await,
        StatusCode::BAD_REQUEST,
    );

    let path = format!("/management/statuses/{id}");
    let put = app.call(Method::PUT, &path, Some(&ceo), Some(json!({"display_name": "Paused", "color": "#F80"}))).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.body["display_name"], json!("Paused"));
    let patch = app.call(Method::PATCH, &path, Some(&ceo), Some(json!({"name": "on_hold", "order": 11}))).await;
    assert_eq!(patch.body["order"], json!(11), "echoing the same name is fine: {}", patch.text);
    assert_detail(
        &app.call(Method::PATCH, &path, Some(&ceo), Some(json!({"name": "renamed"}))).await,
        StatusCode::BAD_REQUEST,
    );
    assert_detail(
        &app.call(Method::PATCH, &path, Some(&ceo), Some(json!({"is_system": true}))).await,
        StatusCode::BAD_REQUEST,
    );
    assert_detail(&app.call(Method::PATCH, &path, Some(&ceo), Some(json!({}))).await, StatusCode::BAD_REQUEST);
    assert_detail(
        &app.call(Method::PATCH, "/management/statuses/9999", Some(&ceo), Some(json!({"order": 1}))).await,
        StatusCode::NOT_FOUND,
    );

    let (_, email, password) = app.create_user("admin").await;
    let admin = app.token(&email, &password).await;
    assert_detail(
        &app.post("/management/statuses", Some(&admin), json!({"name": "nope"})).await,
        StatusCode::FORBIDDEN,
    );
    assert_detail(&app.call(Method::DELETE, &path, Some(&admin), None).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn new_statuses_serve_customers_and_deletes_protect_them() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let created = app
        .post(
            "/management/statuses",
            Some(&ceo),
            json!({"name": "negotiating", "color": "#FF6B6B", "v1_group": "active"}),
        )
        .await;
    assert_eq!(created.body["v1_group"], json!("active"), "{}", created.text);
    let id = created.body["id"].as_i64().unwrap();
    let c = app.v1_customer(&ceo, json!({"name": "Acme", "status": "negotiating"})).await;
    assert_eq!(c["status"], json!("active"), "the v1 projection shows the group");
    let dashboard = app.get("/api/v1/analytics/dashboard", Some(&ceo)).await;
    assert_eq!(dashboard.body["data"]["customersByStatus"]["active"], json!(1));

    let path = format!("/management/statuses/{id}");
    let in_use = app.call(Method::DELETE, &path, Some(&ceo), None).await;
    assert_detail(&in_use, StatusCode::CONFLICT);
    assert_eq!(in_use.body["customers_count"], json!(1));
    let bad_target = app.call(Method::DELETE, &format!("{path}?reassign_to=nowhere"), Some(&ceo), None).await;
    assert_detail(&bad_target, StatusCode::BAD_REQUEST);
    let moved = app.call(Method::DELETE, &format!("{path}?reassign_to=waiting"), Some(&ceo), None).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let after = app.get(&format!("/api/v1/customers/{}", c["id"]), Some(&ceo)).await;
    assert_eq!(after.body["data"]["customer"]["status"], json!("waiting"));
    let dashboard = app.get("/api/v1/analytics/dashboard", Some(&ceo)).await;
    assert_eq!(dashboard.body["data"]["customersByStatus"], json!({"active": 0, "potential": 0, "waiting": 1}));
    let refused = app.post("/api/v1/customers", Some(&ceo), json!({"name": "B", "status": "negotiating"})).await;
    assert_v1_error(&refused, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    let system = app.get("/management/statuses", Some(&ceo)).await.body[0]["id"].as_i64().unwrap();
    assert_detail(
        &app.call(Method::DELETE, &format!("/management/statuses/{system}"), Some(&ceo), None).await,
        StatusCode::FORBIDDEN,
    );

    // An inactive status no longer accepts customers.
    let paused = app.post("/management/statuses", Some(&ceo), json!({"name": "paused", "is_active": false})).await;
    assert_eq!(paused.body["is_active"], json!(false));
    let res = app.post("/api/v1/customers", Some(&ceo), json!({"name": "C", "status": "paused"})).await;
    assert_v1_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn roles_grant_only_the_permissions_given() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let listed = app.get("/management/roles", Some(&ceo)).await;
    let displays: Vec<_> =
        listed.body.as_array().unwrap().iter().map(|r| r["display_name"].as_str().unwrap().to_string()).collect();
    let mut sorted = displays.clone();
    sorted.sort();
    assert_eq!(displays, sorted, "ordered by display_name");
    assert_eq!(displays.len(), 10);

    let role = app
        .post("/management/roles", Some(&ceo), json!({"name": "Project Manager", "display_name": "Project Manager"}))
        .await;
    assert_eq!(role.status, StatusCode::CREATED, "{}", role.text);
    assert_eq!(role.body["name"], json!("project_manager"));
    assert_eq!(role.body["permissions"], json!([]));
    let id = role.body["id"].as_i64().unwrap();

    let (_, email, password) = app.create_user("project_manager").await;
    let pm = app.token(&email, &password).await;
    assert_v1_error(&app.get("/api/v1/customers", Some(&pm)).await, StatusCode::FORBIDDEN, "FORBIDDEN");

    let perms = format!("/management/roles/{id}/permissions");
    let set =
        app.call(Method::PUT, &perms, Some(&ceo), Some(json!({"permissions": ["crm.read", "analytics.read"]}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(app.get(&perms, Some(&ceo)).await.body, json!({"permissions": ["crm.read", "analytics.read"]}));
    assert_eq!(app.get("/api/v1/customers", Some(&pm)).await.status, StatusCode::OK, "the grant applies at once");
    assert_v1_error(
        &app.post("/api/v1/customers", Some(&pm), json!({"name": "X"})).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    );
    let bad = app.call(Method::PUT, &perms, Some(&ceo), Some(json!({"permissions": ["crm.read", "fly"]}))).await;
    assert_detail(&bad, StatusCode::BAD_REQUEST);

    let role_path = format!("/management/roles/{id}");
    let in_use = app.call(Method::DELETE, &role_path, Some(&ceo), None).await;
    assert_detail(&in_use, StatusCode::CONFLICT);
    assert_eq!(in_use.body["users_count"], json!(1));
    let moved = app.call(Method::DELETE, &format!("{role_path}?reassign_to=member"), Some(&ceo), None).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let me = app.get("/auth/me", Some(&pm)).await;
    assert_eq!((&me.body["role"], &me.body["role_name"]), (&json!("Member"), &json!("member")));

    let ceo_role =
        listed.body.as_array().unwrap().iter().find(|r| r["name"] == json!("ceo")).unwrap()["id"].as_i64().unwrap();
    assert_detail(
        &app.call(Method::DELETE, &format!("/management/roles/{ceo_role}"), Some(&ceo), None).await,
        StatusCode::FORBIDDEN,
    );
    let strip = app
        .call(
            Method::PUT,
            &format!("/management/roles/{ceo_role}/permissions"),
            Some(&ceo),
            Some(json!({"permissions": []})),
        )
        .await;
    assert_detail(&strip, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn cims_sign_in_accepts_the_oauth2_form_and_json() {
    let app = TestApp::spawn_with(&[("refresh_reuse_grace_secs", "0")]).await;
    let form = app
        .client
        .post(format!("{}/auth/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username={}&password={ADMIN_PASSWORD}", ADMIN_EMAIL.replace('@', "%40")))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let tokens: serde_json::Value = form.json().await.unwrap();
    assert_eq!(tokens["token_type"], json!("bearer"));
    assert_eq!(tokens["expires_in"], json!(86400));
    let access = tokens["access_token"].as_str().unwrap();
    let me = app.get("/auth/me", Some(access)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        me.body,
        json!({"id": me.body["id"], "email": ADMIN_EMAIL, "name": "Test", "surname": "CEO", "company_code": null,
               "role": "CEO", "role_name": "ceo", "job_title": "CEO", "profile_image": null, "is_active": true,
               "permissions": {"ceo": true, "crm": true, "finance_list": true, "payment_list": true,
                               "project_toggle": true, "update_list": true}})
    );
    assert_eq!(app.get("/api/v1/customers", Some(access)).await.status, StatusCode::OK, "one token for every surface");

    let json_login = app.post("/auth/login", None, json!({"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await;
    assert_eq!(json_login.status, StatusCode::OK);
    let refreshed = app.post("/auth/refresh", None, json!({"refresh_token": json_login.body["refresh_token"]})).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text);
    assert_ne!(refreshed.body["refresh_token"], json_login.body["refresh_token"]);
    assert_detail(
        &app.post("/auth/refresh", None, json!({"refresh_token": json_login.body["refresh_token"]})).await,
        StatusCode::UNAUTHORIZED,
    );
    assert_detail(
        &app.post("/auth/login", None, json!({"username": ADMIN_EMAIL, "password": "wrong-one"})).await,
        StatusCode::UNAUTHORIZED,
    );
    assert_detail(&app.get("/auth/me", None).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn conversion_rate_counts_the_last_hundred_leads() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let empty = app.get("/crm/conversion-rate", Some(&ceo)).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(
        empty.body,
        json!({"total_customers": 0, "project_started_count": 0, "conversion_rate": 0.0, "period": "Oxirgi 0 ta lead"})
    );
    for (i, status) in ["project_started", "potential", "potential"].iter().enumerate() {
        app.v1_customer(&ceo, json!({"name": format!("L{i}"), "status": status})).await;
    }
    let res = app.get("/crm/conversion-rate", Some(&ceo)).await;
    assert_eq!(
        res.body,
        json!({"total_customers": 3, "project_started_count": 1, "conversion_rate": 33.33, "period": "Oxirgi 3 ta lead"})
    );
}

#[tokio::test]
async fn conversion_rate_ignores_leads_older_than_the_last_hundred() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    // The 5 oldest are converted but fall outside the window; of the newest 100, every 5th is.
    for i in 0..105 {
        let status = if i < 5 || i % 5 == 0 { "project_started" } else { "potential" };
        app.v1_customer(&ceo, json!({"name": format!("Lead {i}"), "status": status})).await;
    }
    let res = app.get("/crm/conversion-rate", Some(&ceo)).await;
    assert_eq!(
        res.body,
        json!({"total_customers": 100, "project_started_count": 20, "conversion_rate": 20.0, "period": "Oxirgi 100 ta lead"})
    );
}

/// The CIMS UI signs in with its OAuth2 form, then reads `/auth/me` with its caching
/// headers and decides every page from `role` and `permissions`.
#[tokio::test]
async fn the_cims_ui_reads_its_role_and_page_permissions_from_auth_me() {
    let app = TestApp::spawn().await;
    let cases = [
        ("sales_manager", "SalesManager", [false, true, true, true, true, true]),
        ("financial_director", "Finance", [false, true, true, true, false, true]),
        ("member", "Member", [false, true, true, true, true, true]),
        ("customer", "Customer", [false, false, false, false, false, false]),
        ("admin", "Admin", [false, true, true, true, true, true]),
        ("operator", "Operator", [false, true, false, false, false, true]),
    ];
    for (role, cims, pages) in cases {
        let (_, email, password) = app.create_user(role).await;
        let tokens = app.post_form("/auth/login", None, &[("username", &email), ("password", &password)]).await.body;
        let me = app
            .client
            .get(format!("{}/auth/me", app.base))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .header("Cache-Control", "no-cache")
            .header("Pragma", "no-cache")
            .header("Expires", "0")
            .header("Origin", "http://localhost:5173")
            .send()
            .await
            .unwrap();
        assert_eq!(me.headers()["access-control-allow-origin"], "http://localhost:5173");
        let me = Resp::from(me).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.text);
        assert_eq!(me.body["role"], json!(cims), "{role}");
        assert_eq!(me.body["role_name"], json!(role));
        let keys = ["ceo", "crm", "finance_list", "payment_list", "project_toggle", "update_list"];
        for (key, expected) in keys.iter().zip(pages) {
            assert_eq!(me.body["permissions"][key], json!(expected), "{role}: {key}");
        }
        for field in ["company_code", "job_title", "profile_image", "surname", "name", "is_active"] {
            assert!(me.body.get(field).is_some(), "{field} missing");
        }
    }
}
