//! `/api/integrations/integrations/`: configurations checked per type, secrets write-only
//! (masked in answers, sealed at rest, never in the audit trail), tested against real services,
//! and the active model integration used by the assistant.

use crate::support::*;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const INTEGRATIONS: &str = "/api/integrations/integrations/";
const SECRET: &str = "sk-live-very-secret-4321";

async fn stored_config(app: &TestApp, id: &Value) -> String {
    let db = Database::connect(app.database_url.as_str()).await.unwrap();
    let sql = format!("SELECT config FROM integrations WHERE id = {id}");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    let config: String = row.try_get("", "config").unwrap();
    db.close().await.ok();
    config
}

#[tokio::test]
async fn secrets_are_write_only_sealed_and_kept_when_sent_back_masked() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let models = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(header("authorization", format!("Bearer {SECRET}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": "small"}, {"id": "large"}]})))
        .mount(&models)
        .await;
    let body = json!({"name": "Model", "integration_type": "llm",
        "config": {"base_url": format!("{}/v1", models.uri()), "model": "small", "api_key": SECRET}});
    let created = app.post(INTEGRATIONS, Some(&token), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["config"]["api_key"], json!("••••4321"));
    assert_eq!(created.body["config"]["model"], json!("small"));
    for key in ["id", "name", "integration_type", "config", "is_active", "created_at", "updated_at"] {
        assert!(created.body.get(key).is_some(), "{key}");
    }
    let id = created.body["id"].clone();
    assert!(!stored_config(&app, &id).await.contains("very-secret"), "sealed at rest");

    let path_one = format!("{INTEGRATIONS}{id}/");
    assert_eq!(app.get(&path_one, Some(&token)).await.body["config"]["api_key"], json!("••••4321"));
    // A client echoing what it read keeps the secret.
    let echoed =
        json!({"config": {"base_url": format!("{}/v1", models.uri()), "model": "large", "api_key": "••••4321"}});
    let changed = app.call(Method::PATCH, &path_one, Some(&token), Some(echoed)).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["config"]["model"], json!("large"));
    let tested = app.post(&format!("{path_one}test/"), Some(&token), json!({})).await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.text);
    assert_eq!(tested.body["ok"], json!(true), "{}", tested.text);
    assert!(tested.body["detail"].as_str().unwrap().contains("2 model"));
    assert!(!tested.text.contains("very-secret"));

    let audit = app.get("/api/core/audit/?entity=integration&page_size=50", Some(&token)).await;
    assert!(audit.body["count"].as_i64().unwrap() >= 2);
    assert!(!audit.text.contains("very-secret"), "{}", audit.text);

    let bad_key = json!({"name": "Twilio", "integration_type": "twilio", "config": {"account_sid": "AC123"}});
    let res = app.post(INTEGRATIONS, Some(&token), bad_key).await;
    assert_rest_error(&res, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(
        res.body["error"]["details"]["config.account_sid"].is_array()
            && res.body["error"]["details"]["config.auth_token"].is_array()
    );
    let res =
        app.post(INTEGRATIONS, Some(&token), json!({"name": "Fax", "integration_type": "fax", "config": {}})).await;
    assert!(res.body["error"]["details"]["integration_type"][0].as_str().unwrap().contains("twilio, llm, smtp, slack"));

    let (_, email, password) = app.create_user("supervisor").await;
    let supervisor = app.token(&email, &password).await;
    assert_rest_error(&app.get(INTEGRATIONS, Some(&supervisor)).await, StatusCode::FORBIDDEN, "PermissionDenied");
    assert_rest_error(
        &app.post(&format!("{path_one}test/"), None, json!({})).await,
        StatusCode::UNAUTHORIZED,
        "AuthenticationFailed",
    );
}

#[tokio::test]
async fn twilio_and_smtp_integrations_are_checked_for_real() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let twilio = MockServer::start().await;
    let sid = format!("AC{}", "1".repeat(32));
    Mock::given(method("GET"))
        .and(path(format!("/2010-04-01/Accounts/{sid}.json")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sid": sid, "status": "active"})))
        .mount(&twilio)
        .await;
    let body = json!({"name": "Twilio", "integration_type": "twilio",
        "config": {"account_sid": sid, "auth_token": "tw-token-9876", "api_base": twilio.uri()}});
    let created = app.post(INTEGRATIONS, Some(&token), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let tested = app.post(&format!("{INTEGRATIONS}{}/test/", created.body["id"]), Some(&token), json!({})).await;
    assert_eq!(tested.body, json!({"ok": true, "detail": format!("Twilio account {sid} is active.")}));
    let seen = twilio.received_requests().await.unwrap();
    assert!(seen[0].headers.get("authorization").unwrap().to_str().unwrap().starts_with("Basic "));

    let smtp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = smtp.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        if let Ok((mut socket, _)) = smtp.accept().await {
            let _ = socket.write_all(b"220 mail.test ESMTP ready\r\n").await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let body = json!({"name": "Mail", "integration_type": "smtp", "config": {"host": "127.0.0.1", "port": port, "password": "p4ss-word"}});
    let created = app.post(INTEGRATIONS, Some(&token), body).await;
    let tested = app.post(&format!("{INTEGRATIONS}{}/test/", created.body["id"]), Some(&token), json!({})).await;
    assert_eq!(tested.body["ok"], json!(true), "{}", tested.text);
    assert!(tested.body["detail"].as_str().unwrap().starts_with("The SMTP server greeted: 220"));
    let nothing = app
        .post(
            INTEGRATIONS,
            Some(&token),
            json!({"name": "Other", "integration_type": "custom", "config": {"note": "x"}}),
        )
        .await;
    let tested = app.post(&format!("{INTEGRATIONS}{}/test/", nothing.body["id"]), Some(&token), json!({})).await;
    assert_eq!(tested.body["ok"], json!(false));
    assert_rest_error(
        &app.post(&format!("{INTEGRATIONS}999/test/"), Some(&token), json!({})).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    );
}

#[tokio::test]
async fn the_active_model_integration_is_what_the_assistant_uses() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let model = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"choices": [{"message": {"role": "assistant", "content": "Integratsiya modeli javob beradi."}}]}),
        ))
        .mount(&model)
        .await;
    let offline =
        app.post("/api/ai/chat", Some(&token), json!({"userId": "u_int", "message": "Salom, qalaysiz?"})).await;
    assert_ne!(offline.body["response"], json!("Integratsiya modeli javob beradi."), "no model yet: {}", offline.text);
    let body = json!({"name": "Model", "integration_type": "llm",
        "config": {"base_url": format!("{}/v1", model.uri()), "model": "tiny", "api_key": "sk-int-0001"}});
    assert_eq!(app.post(INTEGRATIONS, Some(&token), body).await.status, StatusCode::CREATED);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let answered =
        app.post("/api/ai/chat", Some(&token), json!({"userId": "u_int2", "message": "Menga yordam bering"})).await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.text);
    assert_eq!(answered.body["response"], json!("Integratsiya modeli javob beradi."), "{}", answered.text);
    let sent = model.received_requests().await.unwrap();
    assert_eq!(sent[0].headers.get("authorization").unwrap(), "Bearer sk-int-0001");
}

#[tokio::test]
async fn production_will_not_start_without_the_key_its_secrets_were_sealed_with() {
    let key = "ab".repeat(32);
    let app = TestApp::spawn_with(&[("data_encryption_key", &key)]).await;
    let token = app.admin_token().await;
    let body = json!({"name": "Mail", "integration_type": "smtp", "config": {"host": "mail.example.com", "port": 25, "password": "p4ss-word-1"}});
    assert_eq!(app.post(INTEGRATIONS, Some(&token), body).await.status, StatusCode::CREATED);
    let database_url = app.database_url.clone();
    app.running.handle.stop(true).await;
    let production = |key: &str| {
        let mut overrides = vec![
            ("database_url", database_url.as_str()),
            ("port", "0"),
            ("jwt_secret", "j-0123456789-0123456789-0123456789"),
            ("refresh_token_secret", "r-0123456789-0123456789-0123456789"),
            ("admin_password", ADMIN_PASSWORD),
        ];
        if !key.is_empty() {
            overrides.push(("data_encryption_key", key));
        }
        crm_server::settings::Settings::load_with("production", &config_dir(), false, &overrides).unwrap()
    };
    let refused = crm_server::spawn(production("")).await.err().expect("refused without the key");
    assert!(refused.to_string().contains("DATA_ENCRYPTION_KEY"), "{refused}");
    let started = crm_server::spawn(production(&key)).await.expect("starts with the key");
    started.handle.stop(true).await;
}
