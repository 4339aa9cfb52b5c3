//! `/api/v1/auth/*` in the CRM v1 envelope.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn v1_login(app: &TestApp) -> serde_json::Value {
    let res = app.post("/api/v1/auth/login", None, json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body
}

#[tokio::test]
async fn login_answers_the_documented_envelope_and_the_token_works_on_every_surface() {
    let app = TestApp::spawn().await;
    let body = v1_login(&app).await;
    assert_eq!(body["success"], json!(true));
    let data = &body["data"];
    assert!(data["user"]["id"].is_i64());
    assert_eq!(data["user"]["email"], json!(ADMIN_EMAIL));
    assert_eq!(data["user"]["name"], json!("Test CEO"));
    assert_eq!(data["user"]["role"], json!("ceo"));
    assert!(data["refreshToken"].as_str().is_some_and(|t| t.len() >= 32));
    let token = data["token"].as_str().unwrap();

    let profile = app.get("/api/core/profile/", Some(token)).await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.text);
    assert_eq!(profile.body["email"], json!(ADMIN_EMAIL));
    let users = app.get("/api/system-config/users/", Some(token)).await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.text);
}

#[tokio::test]
async fn the_jwt_carries_sub_jti_role_and_exp() {
    let app = TestApp::spawn().await;
    let token = v1_login(&app).await["data"]["token"].as_str().unwrap().to_string();
    let payload = token.split('.').nth(1).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    // Signed with the test profile's JWT_SECRET (the development default).
    let key = jsonwebtoken::DecodingKey::from_secret(b"dev-only-jwt-secret-change-me");
    let validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    let claims: serde_json::Value = jsonwebtoken::decode(&token, &key, &validation).unwrap().claims;
    assert!(!payload.is_empty());
    for claim in ["sub", "jti", "role", "exp"] {
        assert!(!claims[claim].is_null(), "missing {claim} in {claims}");
    }
    assert_eq!(claims["role"], json!("ceo"));
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 24 * 3600, "JWT_EXPIRES_IN defaults to 24h");
}

#[tokio::test]
async fn bad_credentials_and_missing_fields_are_refused_in_the_v1_envelope() {
    let app = TestApp::spawn().await;
    let res = app.post("/api/v1/auth/login", None, json!({"email": ADMIN_EMAIL, "password": "wrong-password"})).await;
    assert_v1_error(&res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let res = app.post("/api/v1/auth/login", None, json!({"email": "nobody@test.uz", "password": "whatever1"})).await;
    assert_v1_error(&res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let res = app.post("/api/v1/auth/login", None, json!({"email": "", "password": ""})).await;
    assert_v1_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(res.body["error"]["details"]["email"].is_array(), "{}", res.text);
    let res = app.post("/api/v1/auth/login", None, json!({"password": "x"})).await;
    assert_v1_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    // Strict single use (no grace): a second presentation is reuse at once.
    let app = TestApp::spawn_with(&[("refresh_reuse_grace_secs", "0")]).await;
    let first = v1_login(&app).await;
    let refresh1 = first["data"]["refreshToken"].as_str().unwrap().to_string();

    let res = app.post("/api/v1/auth/refresh", None, json!({"refreshToken": refresh1})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["success"], json!(true));
    let refresh2 = res.body["data"]["refreshToken"].as_str().unwrap().to_string();
    let access2 = res.body["data"]["token"].as_str().unwrap().to_string();
    assert_ne!(refresh1, refresh2, "refresh tokens rotate");
    assert_eq!(app.get("/api/core/profile/", Some(&access2)).await.status, StatusCode::OK);

    // The spent token again: refused, and the family (refresh2 and its access token) dies.
    let reuse = app.post("/api/v1/auth/refresh", None, json!({"refreshToken": refresh1})).await;
    assert_v1_error(&reuse, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let after = app.post("/api/v1/auth/refresh", None, json!({"refreshToken": refresh2})).await;
    assert_v1_error(&after, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let profile = app.get("/api/core/profile/", Some(&access2)).await;
    assert_eq!(profile.status, StatusCode::UNAUTHORIZED, "{}", profile.text);

    // Another session is untouched.
    let other = v1_login(&app).await;
    let ok = app.post("/api/v1/auth/refresh", None, json!({"refreshToken": other["data"]["refreshToken"]})).await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn refresh_accepts_the_token_as_a_bearer_header_with_no_body() {
    let app = TestApp::spawn().await;
    let refresh = v1_login(&app).await["data"]["refreshToken"].as_str().unwrap().to_string();
    let res = app.client.post(format!("{}/api/v1/auth/refresh", app.base)).bearer_auth(&refresh).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["data"]["token"].is_string());
    let missing = app.call(Method::POST, "/api/v1/auth/refresh", None, None).await;
    assert_v1_error(&missing, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let garbage = app.post("/api/v1/auth/refresh", None, json!({"refreshToken": "not-a-token"})).await;
    assert_v1_error(&garbage, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}

#[tokio::test]
async fn logout_revokes_the_access_token_and_the_refresh_family() {
    let app = TestApp::spawn().await;
    let body = v1_login(&app).await;
    let token = body["data"]["token"].as_str().unwrap();
    let refresh = body["data"]["refreshToken"].as_str().unwrap();
    let res = app.call(Method::POST, "/api/v1/auth/logout", Some(token), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body, json!({"success": true, "message": "Successfully logged out"}));
    let again = app.get("/api/core/profile/", Some(token)).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    let refreshed = app.post("/api/v1/auth/refresh", None, json!({"refreshToken": refresh})).await;
    assert_v1_error(&refreshed, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let no_token = app.call(Method::POST, "/api/v1/auth/logout", None, None).await;
    assert_v1_error(&no_token, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}

/// crm-front's layout refreshes with the same token from two places at once (bearer header).
async fn refresh_by_bearer(app: &TestApp, refresh: &str) -> Resp {
    let res = app.client.post(format!("{}/api/v1/auth/refresh", app.base)).bearer_auth(refresh).send().await.unwrap();
    Resp::from(res).await
}

/// Presents `refresh` `n` times at once; every answer.
async fn concurrent_refreshes(app: &TestApp, refresh: &str, n: usize) -> Vec<Resp> {
    futures_util::future::join_all((0..n).map(|_| refresh_by_bearer(app, refresh))).await
}

#[tokio::test]
async fn concurrent_refreshes_within_the_grace_keep_the_session() {
    let app = TestApp::spawn().await;
    for n in [2, 50] {
        let refresh = v1_login(&app).await["data"]["refreshToken"].as_str().unwrap().to_string();
        let answers = concurrent_refreshes(&app, &refresh, n).await;
        for res in &answers {
            assert_eq!(res.status, StatusCode::OK, "{n} at once: {}", res.text);
        }
        // Every successor pair works: whichever one the client keeps, it stays signed in.
        for res in &answers {
            let access = res.body["data"]["token"].as_str().unwrap();
            assert_eq!(app.get("/api/v1/customers", Some(access)).await.status, StatusCode::OK);
        }
        for res in answers.iter().take(3) {
            let next = refresh_by_bearer(&app, res.body["data"]["refreshToken"].as_str().unwrap()).await;
            assert_eq!(next.status, StatusCode::OK, "{}", next.text);
            let access = next.body["data"]["token"].as_str().unwrap();
            assert_eq!(app.get("/api/v1/customers", Some(access)).await.status, StatusCode::OK);
        }
    }
}

#[tokio::test]
async fn reuse_after_the_grace_revokes_everything() {
    let app = TestApp::spawn_with(&[("refresh_reuse_grace_secs", "1")]).await;
    let refresh = v1_login(&app).await["data"]["refreshToken"].as_str().unwrap().to_string();
    let first = refresh_by_bearer(&app, &refresh).await;
    assert_eq!(first.status, StatusCode::OK);
    let within = refresh_by_bearer(&app, &refresh).await;
    assert_eq!(within.status, StatusCode::OK, "within the grace: {}", within.text);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let late = refresh_by_bearer(&app, &refresh).await;
    assert_v1_error(&late, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert!(late.body["error"]["message"].as_str().unwrap().contains("reuse"), "{}", late.text);
    for issued in [&first, &within] {
        let access = issued.body["data"]["token"].as_str().unwrap();
        assert_eq!(app.get("/api/v1/customers", Some(access)).await.status, StatusCode::UNAUTHORIZED);
        let again = refresh_by_bearer(&app, issued.body["data"]["refreshToken"].as_str().unwrap()).await;
        assert_v1_error(&again, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }
}

#[tokio::test]
async fn strict_rotation_under_concurrency_leaves_no_successor_alive() {
    let app = TestApp::spawn_with(&[("refresh_reuse_grace_secs", "0")]).await;
    for _ in 0..5 {
        let refresh = v1_login(&app).await["data"]["refreshToken"].as_str().unwrap().to_string();
        let answers = concurrent_refreshes(&app, &refresh, 20).await;
        let winners: Vec<_> = answers.iter().filter(|r| r.status == StatusCode::OK).collect();
        assert_eq!(winners.len(), 1, "exactly one presentation spends the token");
        // The others were reuse: the session is revoked, the winner's successor with it.
        let access = winners[0].body["data"]["token"].as_str().unwrap();
        assert_eq!(app.get("/api/v1/customers", Some(access)).await.status, StatusCode::UNAUTHORIZED);
        let next = refresh_by_bearer(&app, winners[0].body["data"]["refreshToken"].as_str().unwrap()).await;
        assert_v1_error(&next, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }
}
