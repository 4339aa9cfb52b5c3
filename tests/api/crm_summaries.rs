//! The CRM summaries kept by every write equal a full recomputation, also under concurrency.

use crate::support::*;
use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;

/// Every non-zero summary row, as text.
async fn snapshot(app: &TestApp) -> Vec<String> {
    let db = Database::connect(app.database_url.as_str()).await.unwrap();
    let backend = db.get_database_backend();
    let mut out = Vec::new();
    for sql in [
        "SELECT key || '=' || CAST(n AS TEXT) AS v FROM crm_counters WHERE n <> 0 ORDER BY 1",
        "SELECT day || '=' || CAST(value_cents AS TEXT) || '/' || CAST(deals AS TEXT) AS v FROM sales_daily WHERE deals <> 0 OR value_cents <> 0 ORDER BY 1",
        "SELECT CAST(id AS TEXT) || '=' || CAST(completed_cents AS TEXT) AS v FROM customers WHERE completed_cents <> 0 ORDER BY 1",
        "SELECT day || '/' || CAST(owner_id AS TEXT) || '=' || CAST(value_cents AS TEXT) || '/' || CAST(deals AS TEXT) AS v \
         FROM won_daily WHERE deals <> 0 OR value_cents <> 0 ORDER BY 1",
        "SELECT day || '/' || CAST(stage_id AS TEXT) || '=' || CAST(deals AS TEXT) || '/' || CAST(value_cents AS TEXT) || '/' \
         || CAST(weighted AS TEXT) || '/' || CAST(created_secs AS TEXT) AS v FROM open_daily \
         WHERE deals <> 0 OR value_cents <> 0 OR weighted <> 0 OR created_secs <> 0 ORDER BY 1",
    ] {
        for row in db.query_all_raw(Statement::from_string(backend, sql)).await.unwrap() {
            out.push(row.try_get::<String>("", "v").unwrap());
        }
    }
    db.close().await.ok();
    out
}

async fn assert_matches_rebuild(app: &TestApp) {
    let kept = snapshot(app).await;
    let db = Database::connect(app.database_url.as_str()).await.unwrap();
    persistence::repo::summaries::rebuild(&db).await.unwrap();
    db.close().await.ok();
    assert_eq!(kept, snapshot(app).await, "summaries drifted from the rows");
}

#[tokio::test]
async fn summaries_follow_every_kind_of_write() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let a = app.v1_customer(&token, json!({"name": "A", "status": "active"})).await;
    let b = app.v1_customer(&token, json!({"name": "B"})).await;
    let d1 =
        app.v1_deal(&token, json!({"title": "1", "value": 100, "customerId": a["id"], "status": "completed"})).await;
    let d2 = app.v1_deal(&token, json!({"title": "2", "value": 50.25, "customerId": a["id"]})).await;
    let d3 =
        app.v1_deal(&token, json!({"title": "3", "value": 10, "customerId": b["id"], "status": "completed"})).await;
    app.post("/api/v1/activities", Some(&token), json!({"type": "call", "description": "x", "customerId": b["id"]}))
        .await;
    let put = |id: &serde_json::Value, body: serde_json::Value| {
        let path = format!("/api/v1/deals/{id}");
        let token = token.clone();
        let app = &app;
        async move { app.call(Method::PUT, &path, Some(&token), Some(body)).await }
    };
    put(&d2["id"], json!({"status": "completed"})).await;
    put(&d1["id"], json!({"value": 120, "customerId": b["id"]})).await;
    put(&d3["id"], json!({"status": "cancelled"})).await;
    app.call(Method::PUT, &format!("/api/v1/customers/{}", b["id"]), Some(&token), Some(json!({"status": "waiting"})))
        .await;
    app.call(Method::DELETE, &format!("/api/v1/deals/{}", d2["id"]), Some(&token), None).await;
    assert_matches_rebuild(&app).await;
    app.call(Method::DELETE, &format!("/api/v1/customers/{}", b["id"]), Some(&token), None).await;
    assert_matches_rebuild(&app).await;
    let dashboard = app.get("/api/v1/analytics/dashboard", Some(&token)).await;
    assert_eq!(dashboard.body["data"]["totalCustomers"], json!(1));
    assert_eq!(dashboard.body["data"]["monthlySales"], json!(0.0), "A's completed deal moved to B, which is deleted");
}

#[tokio::test]
async fn concurrent_writes_keep_summaries_exact() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let c = app.v1_customer(&token, json!({"name": "Busy"})).await;
    let mut deals = Vec::new();
    for i in 0..4 {
        deals.push(app.v1_deal(&token, json!({"title": format!("{i}"), "value": 10 + i, "customerId": c["id"]})).await);
    }
    let statuses = ["completed", "in_progress", "completed", "cancelled", "new", "completed"];
    let requests = (0..24).map(|i| {
        let deal = &deals[i % deals.len()];
        let path = format!("/api/v1/deals/{}", deal["id"]);
        let body = json!({"status": statuses[i % statuses.len()], "value": 5 + i});
        let token = token.clone();
        let app = &app;
        async move { app.call(Method::PUT, &path, Some(&token), Some(body)).await }
    });
    let results = futures_util::future::join_all(requests).await;
    assert!(results.iter().all(|r| r.status.is_success()), "{:?}", results.iter().map(|r| &r.text).collect::<Vec<_>>());
    assert_matches_rebuild(&app).await;
}

#[tokio::test]
async fn the_rest_pipeline_summaries_follow_stage_moves_wins_losses_and_account_deletes() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let stages = app.get("/api/deals/pipeline-stages/", Some(&token)).await.body["results"].clone();
    let (lead, proposal) = (stages[0]["id"].clone(), stages[2]["id"].clone());
    let a = app.v1_customer(&token, json!({"name": "Pipeline A"})).await;
    let b = app.v1_customer(&token, json!({"name": "Pipeline B"})).await;
    let mut ids = Vec::new();
    for (i, account) in [&a, &a, &b, &b].iter().enumerate() {
        let body = json!({"name": format!("Deal {i}"), "account": account["id"], "amount": 1000 + i, "stage": lead});
        let res = app.post("/api/deals/deals/", Some(&token), body).await;
        assert_eq!(res.status, reqwest::StatusCode::CREATED, "{}", res.text);
        ids.push(res.body["id"].clone());
    }
    let action = |id: &serde_json::Value, what: &str, body: serde_json::Value| {
        let path = format!("/api/deals/deals/{id}/{what}/");
        let (app, token) = (&app, token.clone());
        async move { app.post(&path, Some(&token), body).await }
    };
    assert!(action(&ids[0], "change-stage", json!({"stage": proposal})).await.status.is_success());
    assert!(action(&ids[1], "mark-won", json!({})).await.status.is_success());
    assert!(action(&ids[2], "mark-lost", json!({})).await.status.is_success());
    app.call(Method::PATCH, &format!("/api/deals/deals/{}/", ids[3]), Some(&token), Some(json!({"probability": 35})))
        .await;
    assert_matches_rebuild(&app).await;
    app.call(Method::DELETE, &format!("/api/crm/accounts/{}/", a["id"]), Some(&token), None).await;
    assert_matches_rebuild(&app).await;
    app.post(&format!("/api/crm/accounts/{}/restore/", a["id"]), Some(&token), json!({})).await;
    assert_matches_rebuild(&app).await;
    app.call(Method::PATCH, &format!("/api/deals/deals/{}/", ids[1]), Some(&token), Some(json!({"status": "Open"})))
        .await;
    assert_matches_rebuild(&app).await;
}
