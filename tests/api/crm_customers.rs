//! `/api/v1/customers`.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const CUSTOMERS: &str = "/api/v1/customers";

#[tokio::test]
async fn create_answers_the_documented_fields_normalised() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let c = app
        .v1_customer(&token, json!({"name": " Acme LLC ", "email": "Info@ACME.uz", "phone": "90 123 45 67", "company": "Acme", "value": 5000}))
        .await;
    assert!(c["id"].is_i64());
    assert_eq!(c["name"], json!("Acme LLC"));
    assert_eq!(c["email"], json!("info@acme.uz"));
    assert_eq!(c["phone"], json!("+998901234567"));
    assert_eq!(c["company"], json!("Acme"));
    assert_eq!(c["status"], json!("potential"));
    assert_eq!(c["value"], json!("5000"));
    for t in ["createdAt", "updatedAt"] {
        let s = c[t].as_str().unwrap();
        assert!(s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok(), "{s}");
    }
    let got = app.get(&format!("{CUSTOMERS}/{}", c["id"]), Some(&token)).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["success"], json!(true));
    assert_eq!(got.body["data"]["customer"], c);
}

#[tokio::test]
async fn validation_errors_name_each_field() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = app.post(CUSTOMERS, Some(&token), json!({"email": "nope", "phone": "12", "status": "vip"})).await;
    assert_v1_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let details = &res.body["error"]["details"];
    for field in ["name", "email", "phone"] {
        assert!(details[field].is_array(), "{field} missing in {details}");
    }
    let res = app.post(CUSTOMERS, Some(&token), json!({"name": "X", "status": "vip"})).await;
    assert_v1_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(res.body["error"]["details"]["status"].is_array());
    let res = app.post(CUSTOMERS, Some(&token), json!(["not", "an", "object"])).await;
    assert_v1_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn duplicate_emails_conflict_among_live_customers_only() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let first = app.v1_customer(&token, json!({"name": "A", "email": "dup@acme.uz"})).await;
    let res = app.post(CUSTOMERS, Some(&token), json!({"name": "B", "email": "DUP@acme.uz"})).await;
    assert_v1_error(&res, StatusCode::CONFLICT, "CONFLICT");
    let del = app.call(Method::DELETE, &format!("{CUSTOMERS}/{}", first["id"]), Some(&token), None).await;
    assert_eq!(del.body, json!({"success": true, "message": "Customer deleted successfully"}));
    app.v1_customer(&token, json!({"name": "B", "email": "dup@acme.uz"})).await;
}

#[tokio::test]
async fn concurrent_creates_with_one_email_store_one_customer() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = json!({"name": "Race", "email": "race@acme.uz"});
    let results = futures_util::future::join_all((0..6).map(|_| app.post(CUSTOMERS, Some(&token), body.clone()))).await;
    let created = results.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let conflicts = results.iter().filter(|r| r.status == StatusCode::CONFLICT).count();
    assert_eq!((created, conflicts), (1, 5), "{:?}", results.iter().map(|r| r.status).collect::<Vec<_>>());
}

#[tokio::test]
async fn list_paginates_searches_filters_and_sorts() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for i in 0..12 {
        let status = if i % 3 == 0 { "active" } else { "potential" };
        app.v1_customer(&token, json!({"name": format!("Customer {i:02}"), "email": format!("c{i}@shop.uz"), "status": status, "company": if i == 7 { "Zebra Trading" } else { "Shop" }})).await;
    }
    let res = app.get(&format!("{CUSTOMERS}?limit=5"), Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK);
    let data = &res.body["data"];
    assert_eq!(data["pagination"], json!({"currentPage": 1, "totalPages": 3, "totalItems": 12, "itemsPerPage": 5}));
    assert_eq!(data["customers"][0]["name"], json!("Customer 11"), "newest first");
    let last = app.get(&format!("{CUSTOMERS}?limit=5&page=3"), Some(&token)).await;
    assert_eq!(last.body["data"]["customers"].as_array().unwrap().len(), 2);
    let beyond = app.get(&format!("{CUSTOMERS}?limit=5&page=9"), Some(&token)).await;
    assert_eq!(beyond.body["data"]["customers"], json!([]));

    let default = app.get(CUSTOMERS, Some(&token)).await;
    assert_eq!(default.body["data"]["pagination"]["itemsPerPage"], json!(10));

    let search = app.get(&format!("{CUSTOMERS}?search=zEbRa"), Some(&token)).await;
    assert_eq!(search.body["data"]["pagination"]["totalItems"], json!(1));
    assert_eq!(search.body["data"]["customers"][0]["name"], json!("Customer 07"));
    let by_email = app.get(&format!("{CUSTOMERS}?search=C3%40SHOP"), Some(&token)).await;
    assert_eq!(by_email.body["data"]["pagination"]["totalItems"], json!(1));
    let wildcard = app.get(&format!("{CUSTOMERS}?search=%25"), Some(&token)).await;
    assert_eq!(wildcard.body["data"]["pagination"]["totalItems"], json!(0), "% is searched literally");

    let active = app.get(&format!("{CUSTOMERS}?status=active"), Some(&token)).await;
    assert_eq!(active.body["data"]["pagination"]["totalItems"], json!(4));
    let sorted = app.get(&format!("{CUSTOMERS}?sort=name&limit=2"), Some(&token)).await;
    assert_eq!(sorted.body["data"]["customers"][0]["name"], json!("Customer 00"));
    let desc = app.get(&format!("{CUSTOMERS}?sort=-name&limit=1"), Some(&token)).await;
    assert_eq!(desc.body["data"]["customers"][0]["name"], json!("Customer 11"));
}

#[tokio::test]
async fn phone_search_finds_the_e164_number() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.v1_customer(&token, json!({"name": "Phone Person", "phone": "+998 90 555 44 33"})).await;
    let res = app.get(&format!("{CUSTOMERS}?search=9055544"), Some(&token)).await;
    assert_eq!(res.body["data"]["pagination"]["totalItems"], json!(1));
}

#[tokio::test]
async fn bad_queries_and_ids_are_400_not_500() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for q in ["?page=0", "?limit=10000", "?limit=0", "?page=abc", "?sort=password"] {
        let res = app.get(&format!("{CUSTOMERS}{q}"), Some(&token)).await;
        assert_v1_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
    // A filter value outside the enumeration matches nothing, as the v1 UI expects.
    app.v1_customer(&token, json!({"name": "Acme"})).await;
    let none = app.get(&format!("{CUSTOMERS}?status=vip"), Some(&token)).await;
    assert_eq!(none.status, StatusCode::OK, "{}", none.text);
    assert_eq!(none.body["data"]["customers"], json!([]));
    assert_eq!(none.body["data"]["pagination"]["totalItems"], json!(0));
    assert_v1_error(
        &app.get(&format!("{CUSTOMERS}/abc"), Some(&token)).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
    );
    assert_v1_error(&app.get(&format!("{CUSTOMERS}/999999"), Some(&token)).await, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app.call(Method::PUT, &format!("{CUSTOMERS}/999999"), Some(&token), Some(json!({"name": "x"}))).await;
    assert_v1_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app.call(Method::DELETE, &format!("{CUSTOMERS}/999999"), Some(&token), None).await;
    assert_v1_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn put_changes_given_fields_and_null_clears() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let c = app.v1_customer(&token, json!({"name": "Old", "company": "Old Co", "email": "old@co.uz"})).await;
    let path = format!("{CUSTOMERS}/{}", c["id"]);
    let res = app
        .call(Method::PUT, &path, Some(&token), Some(json!({"name": "New", "company": null, "status": "active"})))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let updated = &res.body["data"]["customer"];
    assert_eq!(updated["name"], json!("New"));
    assert_eq!(updated["company"], json!(""));
    assert_eq!(updated["email"], json!("old@co.uz"));
    assert_eq!(updated["status"], json!("active"));
    assert_eq!(app.get(&path, Some(&token)).await.body["data"]["customer"], *updated);
    let bad = app.call(Method::PUT, &path, Some(&token), Some(json!({"name": ""}))).await;
    assert_v1_error(&bad, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let other = app.v1_customer(&token, json!({"name": "Other", "email": "taken@co.uz"})).await;
    let clash = app.call(Method::PUT, &path, Some(&token), Some(json!({"email": "taken@co.uz"}))).await;
    assert_v1_error(&clash, StatusCode::CONFLICT, "CONFLICT");
    assert!(other["id"].is_i64());
}

#[tokio::test]
async fn deleted_customers_disappear_everywhere() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let c = app.v1_customer(&token, json!({"name": "Gone"})).await;
    let path = format!("{CUSTOMERS}/{}", c["id"]);
    assert_eq!(app.call(Method::DELETE, &path, Some(&token), None).await.status, StatusCode::OK);
    assert_v1_error(&app.get(&path, Some(&token)).await, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(app.get(CUSTOMERS, Some(&token)).await.body["data"]["pagination"]["totalItems"], json!(0));
    let again = app.call(Method::DELETE, &path, Some(&token), None).await;
    assert_v1_error(&again, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn permissions_are_enforced() {
    let app = TestApp::spawn().await;
    assert_v1_error(&app.get(CUSTOMERS, None).await, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let (_, email, password) = app.create_user("operator").await;
    let operator = app.token(&email, &password).await;
    assert_eq!(app.get(CUSTOMERS, Some(&operator)).await.status, StatusCode::OK, "operators read");
    let res = app.post(CUSTOMERS, Some(&operator), json!({"name": "X"})).await;
    assert_v1_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    let (_, email, password) = app.create_user("customer").await;
    let customer = app.token(&email, &password).await;
    assert_v1_error(&app.get(CUSTOMERS, Some(&customer)).await, StatusCode::FORBIDDEN, "FORBIDDEN");
    let (_, email, password) = app.create_user("sales_manager").await;
    let sm = app.token(&email, &password).await;
    let c = app.v1_customer(&sm, json!({"name": "Mine"})).await;
    let res = app.call(Method::DELETE, &format!("{CUSTOMERS}/{}", c["id"]), Some(&sm), None).await;
    assert_v1_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
}

/// The v1 UI knows only `active`, `potential` and `waiting`: every catalog status shows as
/// its group, the status filter selects a whole group, and the dashboard's distribution
/// has the three keys and covers every customer.
#[tokio::test]
async fn catalog_statuses_show_as_their_v1_group() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let statuses = [
        ("contacted", "waiting"),
        ("project_started", "active"),
        ("need_to_call", "potential"),
        ("continuing", "active"),
        ("rejected", "waiting"),
        ("active", "active"),
        ("waiting", "waiting"),
    ];
    for (i, (status, group)) in statuses.iter().enumerate() {
        let c = app.v1_customer(&token, json!({"name": format!("C{i}"), "status": status})).await;
        assert_eq!(c["status"], json!(group), "{status}");
    }
    let list = app.get(&format!("{CUSTOMERS}?limit=100"), Some(&token)).await;
    for c in list.body["data"]["customers"].as_array().unwrap() {
        assert!(["active", "potential", "waiting"].contains(&c["status"].as_str().unwrap()), "{c}");
    }
    for (group, n) in [("active", 3), ("potential", 1), ("waiting", 3)] {
        let res = app.get(&format!("{CUSTOMERS}?status={group}"), Some(&token)).await;
        assert_eq!(res.body["data"]["pagination"]["totalItems"], json!(n), "{group}");
        assert!(res.body["data"]["customers"].as_array().unwrap().iter().all(|c| c["status"] == json!(group)));
    }
    let by_name = app.get(&format!("{CUSTOMERS}?status=contacted"), Some(&token)).await;
    assert_eq!(by_name.body["data"]["pagination"]["totalItems"], json!(1), "a catalog name still filters");
    let dashboard = app.get("/api/v1/analytics/dashboard", Some(&token)).await;
    let d = &dashboard.body["data"];
    assert_eq!(d["customersByStatus"], json!({"active": 3, "potential": 1, "waiting": 3}));
    assert_eq!(d["totalCustomers"], json!(7));

    // A v1 write of one of the three stores that very status.
    let c = app.v1_customer(&token, json!({"name": "Plain", "status": "potential"})).await;
    let path = format!("{CUSTOMERS}/{}", c["id"]);
    let put = app.call(Method::PUT, &path, Some(&token), Some(json!({"status": "waiting"}))).await;
    assert_eq!(put.body["data"]["customer"]["status"], json!("waiting"));
    let only_waiting = app.get(&format!("{CUSTOMERS}?status=waiting&search=plain"), Some(&token)).await;
    assert_eq!(only_waiting.body["data"]["pagination"]["totalItems"], json!(1));
    let statuses = app.get("/management/statuses", Some(&token)).await;
    let waiting = statuses.body.as_array().unwrap().iter().find(|s| s["name"] == json!("waiting")).unwrap().clone();
    assert_eq!(waiting["v1_group"], json!("waiting"));
}

/// A status's group is set when it is created or edited on `/management/statuses`.
#[tokio::test]
async fn the_ceo_moves_a_status_to_another_v1_group() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let statuses = app.get("/management/statuses", Some(&token)).await;
    let contacted = statuses.body.as_array().unwrap().iter().find(|s| s["name"] == json!("contacted")).unwrap().clone();
    let c = app.v1_customer(&token, json!({"name": "Lead", "status": "contacted"})).await;
    assert_eq!(c["status"], json!("waiting"));
    let path = format!("/management/statuses/{}", contacted["id"]);
    let moved = app.call(Method::PATCH, &path, Some(&token), Some(json!({"v1_group": "Potential"}))).await;
    assert_eq!(moved.body["v1_group"], json!("potential"), "{}", moved.text);
    let got = app.get(&format!("{CUSTOMERS}/{}", c["id"]), Some(&token)).await;
    assert_eq!(got.body["data"]["customer"]["status"], json!("potential"));
    let dashboard = app.get("/api/v1/analytics/dashboard", Some(&token)).await;
    assert_eq!(dashboard.body["data"]["customersByStatus"], json!({"active": 0, "potential": 1, "waiting": 0}));
    let bad = app.call(Method::PATCH, &path, Some(&token), Some(json!({"v1_group": "vip"}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let bad = app.post("/management/statuses", Some(&token), json!({"name": "x", "v1_group": "gold"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
}
