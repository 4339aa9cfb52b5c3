//! `/api/system-config/settings/`: CRUD by `settings.manage`, public ones readable by every
//! signed-in user, runtime keys taking effect without a restart.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

const SETTINGS: &str = "/api/system-config/settings/";

#[tokio::test]
async fn managers_write_settings_and_others_read_only_the_public_ones() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let body = json!({"key": "billing.currency", "value": {"code": "UZS", "decimals": 2}, "description": "Invoices", "is_public": true});
    let public = app.post(SETTINGS, Some(&ceo), body).await;
    assert_eq!(public.status, StatusCode::CREATED, "{}", public.text);
    assert_eq!(public.body["value"], json!({"code": "UZS", "decimals": 2}));
    for key in ["id", "key", "value", "description", "is_public", "created_at", "updated_at"] {
        assert!(public.body.get(key).is_some(), "{key}");
    }
    let private = app.post(SETTINGS, Some(&ceo), json!({"key": "smtp.relay", "value": "mail.internal:25"})).await;
    assert_eq!(private.status, StatusCode::CREATED, "{}", private.text);
    assert_eq!(private.body["is_public"], json!(false));

    let taken = app.post(SETTINGS, Some(&ceo), json!({"key": "billing.currency", "value": 1})).await;
    assert_rest_error(&taken, StatusCode::CONFLICT, "Conflict");
    assert_eq!(taken.body["error"]["details"]["candidates"][0]["id"], public.body["id"]);
    for (body, field) in [
        (json!({"key": "Billing Currency", "value": 1}), "key"),
        (json!({"key": "no.value"}), "value"),
        (json!({"key": "too.big", "value": "x".repeat(70_000)}), "value"),
        (json!({"key": "voice.budget_ms", "value": "fast"}), "value"),
    ] {
        let res = app.post(SETTINGS, Some(&ceo), body).await;
        assert_rest_error(&res, StatusCode::BAD_REQUEST, "ValidationError");
        assert!(res.body["error"]["details"][field].is_array(), "{}", res.text);
    }
    let null = app.post(SETTINGS, Some(&ceo), json!({"key": "feature.flag", "value": null})).await;
    assert_eq!((null.status, null.body["value"].clone()), (StatusCode::CREATED, json!(null)), "null is a JSON value");

    let (_, email, password) = app.create_user("operator").await;
    let operator = app.token(&email, &password).await;
    let listed = app.get(SETTINGS, Some(&operator)).await;
    assert_eq!(listed.body["count"], json!(1), "{}", listed.text);
    assert_eq!(listed.body["results"][0]["key"], json!("billing.currency"));
    let all = app.get(&format!("{SETTINGS}?is_public=false"), Some(&operator)).await;
    assert_eq!(all.body["count"], json!(0), "a filter cannot widen what the role sees");
    let hidden = app.get(&format!("{SETTINGS}{}/", private.body["id"]), Some(&operator)).await;
    assert_rest_error(&hidden, StatusCode::NOT_FOUND, "NotFound");
    assert_eq!(app.get(&format!("{SETTINGS}{}/", public.body["id"]), Some(&operator)).await.status, StatusCode::OK);
    let write = app.post(SETTINGS, Some(&operator), json!({"key": "x.y", "value": 1})).await;
    assert_rest_error(&write, StatusCode::FORBIDDEN, "PermissionDenied");
    assert_rest_error(&app.get(SETTINGS, None).await, StatusCode::UNAUTHORIZED, "AuthenticationFailed");
    assert_eq!(app.get(SETTINGS, Some(&ceo)).await.body["count"], json!(3));

    let path = format!("{SETTINGS}{}/", private.body["id"]);
    let changed = app
        .call(Method::PATCH, &path, Some(&ceo), Some(json!({"value": "mail.internal:587", "is_public": true})))
        .await;
    assert_eq!(changed.body["value"], json!("mail.internal:587"), "{}", changed.text);
    let put = app.call(Method::PUT, &path, Some(&ceo), Some(json!({"key": "smtp.relay"}))).await;
    assert_rest_error(&put, StatusCode::BAD_REQUEST, "ValidationError");
    assert_eq!(app.call(Method::DELETE, &path, Some(&ceo), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path, Some(&ceo)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.post(&format!("{path}restore/"), Some(&ceo), json!({})).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_rate_limit_setting_takes_effect_without_a_restart() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let (_, email, password) = app.create_user("operator").await;
    let operator = app.token(&email, &password).await;
    let before = app.get("/api/qa", Some(&operator)).await;
    assert_eq!(before.header("x-ratelimit-limit"), Some("100000"));
    let body = json!({"key": "rate_limit.authenticated_per_hour", "value": 5});
    assert_eq!(app.post(SETTINGS, Some(&ceo), body).await.status, StatusCode::CREATED);
    let bad = app.post(SETTINGS, Some(&ceo), json!({"key": "rate_limit.admin_per_hour", "value": 0})).await;
    assert_rest_error(&bad, StatusCode::BAD_REQUEST, "ValidationError");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let res = app.get("/api/qa", Some(&operator)).await;
        assert_eq!(res.header("x-ratelimit-limit"), Some("5"));
        statuses.push(res.status.as_u16());
    }
    assert!(statuses.contains(&429), "the new quota is enforced: {statuses:?}");
}
