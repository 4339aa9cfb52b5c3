//! `/api/v1/analytics/*` against hand-computed values.

use crate::support::*;
use chrono::{Datelike, Months, Utc};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Two customers active, one potential; deals: 1000.50 completed now, 200 completed two
/// months ago, 300 completed 13 months ago (outside the trend), one new, one in progress,
/// one cancelled; plus a deleted customer whose completed deal must not count.
async fn seed(app: &TestApp, token: &str) -> (serde_json::Value, serde_json::Value) {
    let a = app.v1_customer(token, json!({"name": "Alpha", "status": "active"})).await;
    let b = app.v1_customer(token, json!({"name": "Beta", "status": "active"})).await;
    let _p = app.v1_customer(token, json!({"name": "Gamma", "status": "potential"})).await;
    app.v1_deal(token, json!({"title": "now", "value": 1000.5, "customerId": a["id"], "status": "completed"})).await;
    let old =
        app.v1_deal(token, json!({"title": "old", "value": 200, "customerId": b["id"], "status": "completed"})).await;
    let older =
        app.v1_deal(token, json!({"title": "older", "value": 300, "customerId": b["id"], "status": "completed"})).await;
    app.v1_deal(token, json!({"title": "n", "value": 1, "customerId": a["id"]})).await;
    app.v1_deal(token, json!({"title": "p", "value": 1, "customerId": a["id"], "status": "in_progress"})).await;
    app.v1_deal(token, json!({"title": "c", "value": 1, "customerId": a["id"], "status": "cancelled"})).await;
    let gone = app.v1_customer(token, json!({"name": "Gone", "status": "active"})).await;
    app.v1_deal(token, json!({"title": "g", "value": 5000, "customerId": gone["id"], "status": "completed"})).await;
    app.call(Method::DELETE, &format!("/api/v1/customers/{}", gone["id"]), Some(token), None).await;

    let now = Utc::now();
    let two_back = (now - Months::new(2)).with_day(15).unwrap();
    let thirteen_back = (now - Months::new(13)).with_day(15).unwrap();
    app.sql("UPDATE deals SET closed_at = ? WHERE id = ?", vec![two_back.into(), old["id"].as_i64().unwrap().into()])
        .await;
    app.sql(
        "UPDATE deals SET closed_at = ? WHERE id = ?",
        vec![thirteen_back.into(), older["id"].as_i64().unwrap().into()],
    )
    .await;
    (a, b)
}

#[tokio::test]
async fn dashboard_matches_hand_computed_values() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, &token).await;
    let res = app.get("/api/v1/analytics/dashboard", Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let d = &res.body["data"];
    assert_eq!(d["totalCustomers"], json!(3));
    assert_eq!(d["monthlySales"], json!(1000.5));
    assert_eq!(d["activeDeals"], json!(2));
    assert_eq!(d["conversionRate"], json!(66.67));
    let by_status = d["customersByStatus"].as_object().unwrap();
    let mut keys: Vec<_> = by_status.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["active", "potential", "waiting"], "only the v1 groups");
    assert_eq!(by_status["active"], json!(2));
    assert_eq!(by_status["potential"], json!(1));
    assert_eq!(by_status["waiting"], json!(0));

    let trend = d["salesTrend"].as_array().unwrap();
    assert_eq!(trend.len(), 12);
    let this_month = Utc::now().format("%Y-%m").to_string();
    let two_back = (Utc::now() - Months::new(2)).format("%Y-%m").to_string();
    assert_eq!(trend[11], json!({"month": this_month, "period": this_month, "sales": 1000.5}));
    assert_eq!(trend[9]["period"], json!(two_back));
    assert_eq!(trend[9]["sales"], json!(200.0));
    let total: f64 = trend.iter().map(|p| p["sales"].as_f64().unwrap()).sum();
    assert_eq!(total, 1200.5, "the 13-month-old sale is outside the trend");
    assert!(trend.windows(2).all(|w| w[0]["period"].as_str() < w[1]["period"].as_str()), "oldest first");
}

#[tokio::test]
async fn sales_report_sums_ranges_and_ranks_customers() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (a, b) = seed(&app, &token).await;
    let res = app.get("/api/v1/analytics/sales", Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let d = &res.body["data"];
    assert_eq!(d["totalSales"], json!(1200.5));
    assert_eq!(d["salesByPeriod"].as_array().unwrap().len(), 12);
    assert_eq!(d["topCustomers"][0], json!({"customerId": a["id"], "customerName": "Alpha", "totalValue": 1000.5}));
    assert_eq!(d["topCustomers"][1], json!({"customerId": b["id"], "customerName": "Beta", "totalValue": 200.0}));
    assert_eq!(d["topCustomers"].as_array().unwrap().len(), 2);

    let today = Utc::now().date_naive();
    let wide = app
        .get(&format!("/api/v1/analytics/sales?startDate=2000-01-01&endDate={today}&period=yearly"), Some(&token))
        .await;
    assert_eq!(wide.body["data"]["totalSales"], json!(1500.5));
    let this_year = today.year().to_string();
    let years = wide.body["data"]["salesByPeriod"].as_array().unwrap();
    assert_eq!(years.last().unwrap()["period"], json!(this_year));
    assert_eq!(years.len() as i32, today.year() - 2000 + 1);

    let daily =
        app.get(&format!("/api/v1/analytics/sales?startDate={today}&endDate={today}&period=daily"), Some(&token)).await;
    let days = daily.body["data"]["salesByPeriod"].as_array().unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0], json!({"period": today.to_string(), "sales": 1000.5, "deals": 1}));
    let weekly = app.get("/api/v1/analytics/sales?period=weekly", Some(&token)).await;
    assert_eq!(weekly.status, StatusCode::OK);
    assert_eq!(weekly.body["data"]["totalSales"], json!(1200.5));
}

#[tokio::test]
async fn sales_report_refuses_bad_input() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for q in [
        "startDate=2026-13-01",
        "startDate=yesterday",
        "startDate=2026-05-01&endDate=2026-04-01",
        "period=hourly",
        "startDate=1900-01-01&period=daily",
    ] {
        let res = app.get(&format!("/api/v1/analytics/sales?{q}"), Some(&token)).await;
        assert_v1_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
}

#[tokio::test]
async fn period_trend_serves_the_period_selector() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, &token).await;
    for (period, len) in [("daily", 30), ("weekly", 12), ("monthly", 12), ("yearly", 5)] {
        let res = app.get(&format!("/api/v1/analytics/period?period={period}"), Some(&token)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let trend = res.body["data"]["salesTrend"].as_array().unwrap();
        assert_eq!(trend.len(), len, "{period}");
        assert!(trend.iter().all(|p| p["period"].is_string() && p["sales"].is_number()));
    }
    let daily = app.get("/api/v1/analytics/period?period=daily", Some(&token)).await;
    assert_eq!(daily.body["data"]["salesTrend"].as_array().unwrap().last().unwrap()["sales"], json!(1000.5));
    assert_v1_error(
        &app.get("/api/v1/analytics/period?period=x", Some(&token)).await,
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
    );
}

#[tokio::test]
async fn analytics_need_the_permission() {
    let app = TestApp::spawn().await;
    let (_, email, password) = app.create_user("operator").await;
    let operator = app.token(&email, &password).await;
    assert_v1_error(&app.get("/api/v1/analytics/dashboard", Some(&operator)).await, StatusCode::FORBIDDEN, "FORBIDDEN");
}
