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
