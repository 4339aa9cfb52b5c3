//! `/health` and `/api/core/health/`.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn health_reports_the_database() {
    let app = TestApp::spawn().await;
    for path in ["/health", "/api/core/health/"] {
        let res = app.get(path, None).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.body["status"], json!("healthy"));
        assert_eq!(res.body["database"], json!("ok"));
        assert!(res.body["version"].is_string());
        assert!(chrono::DateTime::parse_from_rfc3339(res.body["timestamp"].as_str().unwrap()).is_ok());
    }
}

#[tokio::test]
async fn health_is_503_when_the_database_is_unreachable() {
    let app = TestApp::spawn().await;
    app.running.services.db.close_by_ref().await.unwrap();
    let res = app.get("/health", None).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.body["status"], json!("unhealthy"));
}

#[tokio::test]
async fn liveness_never_asks_the_database_and_readiness_does() {
    let app = TestApp::spawn().await;
    let ready = app.get("/health/ready", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(ready.body, json!({"status": "ready", "database": "ok", "migrations": "applied", "stopping": false}));
    assert_eq!(app.get("/health/live", None).await.body, json!({"status": "alive"}));

    app.running.services.db.close_by_ref().await.unwrap();
    let live = app.get("/health/live", None).await;
    assert_eq!(live.status, StatusCode::OK, "a database outage does not make the process look dead");
    let ready = app.get("/health/ready", None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.body["database"], json!("unreachable"));
    assert_eq!(ready.body["status"], json!("not_ready"));
}

#[tokio::test]
async fn a_stopping_server_turns_not_ready_first_and_keeps_serving_while_it_drains() {
    let app = TestApp::spawn_with(&[("shutdown_drain_secs", "2")]).await;
    let stopper = app.running.stopper();
    let stopping = tokio::spawn(async move { stopper.stop().await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let ready = app.get("/health/ready", None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{}", ready.text);
    assert_eq!(ready.body["stopping"], json!(true));
    assert_eq!(app.get("/health/live", None).await.status, StatusCode::OK, "still serving while draining");
    let token = app.admin_token().await;
    assert_eq!(app.get("/api/v1/customers", Some(&token)).await.status, StatusCode::OK, "requests still answered");
    stopping.await.unwrap();
    assert!(app.client.get(format!("{}/health/live", app.base)).send().await.is_err(), "closed after the drain");
}
