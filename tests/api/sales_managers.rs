//! Round-robin assignment of new customers to sales managers, and manual reassignment.

use crate::support::*;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;

async fn manager_of(app: &TestApp, token: &str, customer_id: &serde_json::Value) -> i64 {
    let res = app.get(&format!("/crm/customer/{customer_id}/sales-manager"), Some(token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body["sales_manager"]["id"].as_i64().unwrap()
}

async fn active_assignments(app: &TestApp, customer_id: i64) -> (i64, i64) {
    let db = Database::connect(app.database_url.as_str()).await.unwrap();
    let sql = format!(
        "SELECT COUNT(*) AS n, SUM(CASE WHEN is_active THEN 1 ELSE 0 END) AS a FROM sales_manager_assignments WHERE customer_id = {customer_id}"
    );
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    let out = (row.try_get::<i64>("", "n").unwrap(), row.try_get::<i64>("", "a").unwrap());
    db.close().await.ok();
    out
}

#[tokio::test]
async fn new_customers_rotate_over_active_managers_in_id_order() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let (m1, _, _) = app.create_user("sales_manager").await;
    let (m2, _, _) = app.create_user("sales_manager").await;
    let (m3, _, _) = app.create_user("sales_manager").await;
    let mut seen = Vec::new();
    for i in 0..6 {
        let c = app.v1_customer(&ceo, json!({"name": format!("C{i}")})).await;
        seen.push(manager_of(&app, &ceo, &c["id"]).await);
    }
    assert_eq!(seen, vec![m1, m2, m3, m1, m2, m3]);

    // m2 is deactivated: skipped. A new manager m4 joins the circle after m3.
    app.call(Method::DELETE, &format!("/api/system-config/users/{m2}/"), Some(&ceo), None).await;
    let (m4, _, _) = app.create_user("sales_manager").await;
    let mut next = Vec::new();
    for i in 0..4 {
        let c = app.v1_customer(&ceo, json!({"name": format!("D{i}")})).await;
        next.push(manager_of(&app, &ceo, &c["id"]).await);
    }
    assert_eq!(next, vec![m4, m1, m3, m4]);

    let list = app.get("/crm/sales-managers", Some(&ceo)).await;
    assert_eq!(list.status, StatusCode::OK);
    let counts: Vec<(i64, i64)> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_i64().unwrap(), m["assigned_leads_count"].as_i64().unwrap()))
        .collect();
    assert_eq!(counts, vec![(m1, 3), (m3, 3), (m4, 2)], "inactive managers are not listed");
    let first = &list.body[0];
    for field in ["email", "name", "surname"] {
        assert!(first[field].is_string(), "{field}");
    }
}

#[tokio::test]
async fn without_managers_customers_stay_unassigned() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let c = app.v1_customer(&ceo, json!({"name": "Alone"})).await;
    let res = app.get(&format!("/crm/customer/{}/sales-manager", c["id"]), Some(&ceo)).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.body["detail"].is_string());
    assert_eq!(app.get("/crm/sales-managers", Some(&ceo)).await.body, json!([]));
}

#[tokio::test]
async fn two_hundred_concurrent_customers_split_evenly_over_five_managers() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    for _ in 0..5 {
        app.create_user("sales_manager").await;
    }
    let requests = (0..200).map(|i| app.post("/api/v1/customers", Some(&ceo), json!({"name": format!("Lead {i}")})));
    let results = futures_util::future::join_all(requests).await;
    assert!(
        results.iter().all(|r| r.status == StatusCode::CREATED),
        "{:?}",
        results.iter().find(|r| r.status != StatusCode::CREATED)
    );
    let list = app.get("/crm/sales-managers", Some(&ceo)).await;
    let counts: Vec<i64> =
        list.body.as_array().unwrap().iter().map(|m| m["assigned_leads_count"].as_i64().unwrap()).collect();
    assert_eq!(counts, vec![40, 40, 40, 40, 40]);
}

#[tokio::test]
async fn manual_assignment_reassigns_and_keeps_history() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let (m1, _, _) = app.create_user("sales_manager").await;
    let (m2, email2, _) = app.create_user("sales_manager").await;
    let c = app.v1_customer(&ceo, json!({"name": "Acme"})).await;
    assert_eq!(manager_of(&app, &ceo, &c["id"]).await, m1);
    let me = app.get("/auth/me", Some(&ceo)).await.body["id"].as_i64().unwrap();

    let res = app
        .post("/crm/assign-sales-manager", Some(&ceo), json!({"customer_id": c["id"], "sales_manager_id": m2}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["customer_id"], c["id"]);
    assert_eq!(res.body["sales_manager_id"], json!(m2));
    assert_eq!(res.body["assigned_by"], json!(me));
    assert_eq!(res.body["is_active"], json!(true));
    assert!(res.body["id"].is_i64() && res.body["assigned_at"].is_string());
    let current = app.get(&format!("/crm/customer/{}/sales-manager", c["id"]), Some(&ceo)).await;
    assert_eq!(current.body["assignment_id"], res.body["id"]);
    assert_eq!(current.body["sales_manager"]["email"], json!(email2));
    assert_eq!(current.body["assigned_by"], json!(me));
    assert_eq!(active_assignments(&app, c["id"].as_i64().unwrap()).await, (2, 1), "history kept, one active");

    let missing =
        app.post("/crm/assign-sales-manager", Some(&ceo), json!({"customer_id": 99999, "sales_manager_id": m2})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let (operator, op_email, op_password) = app.create_user("operator").await;
    let not_sm = app
        .post("/crm/assign-sales-manager", Some(&ceo), json!({"customer_id": c["id"], "sales_manager_id": operator}))
        .await;
    assert_eq!(not_sm.status, StatusCode::NOT_FOUND);
    assert!(not_sm.body["detail"].is_string());
    let op = app.token(&op_email, &op_password).await;
    let refused =
        app.post("/crm/assign-sales-manager", Some(&op), json!({"customer_id": c["id"], "sales_manager_id": m1})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let bad = app.post("/crm/assign-sales-manager", Some(&ceo), json!({"customer_id": "x"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn concurrent_manual_assignments_leave_one_active() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let (m1, _, _) = app.create_user("sales_manager").await;
    let (m2, _, _) = app.create_user("sales_manager").await;
    let c = app.v1_customer(&ceo, json!({"name": "Contested"})).await;
    let requests = (0..10).map(|i| {
        let manager = if i % 2 == 0 { m1 } else { m2 };
        app.post("/crm/assign-sales-manager", Some(&ceo), json!({"customer_id": c["id"], "sales_manager_id": manager}))
    });
    let results = futures_util::future::join_all(requests).await;
    assert!(
        results.iter().all(|r| r.status != StatusCode::INTERNAL_SERVER_ERROR),
        "{:?}",
        results.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    assert!(results.iter().any(|r| r.status == StatusCode::OK));
    let (total, active) = active_assignments(&app, c["id"].as_i64().unwrap()).await;
    assert_eq!(active, 1);
    assert!(total >= 2);
}
