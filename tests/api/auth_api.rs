//! `/api/auth/*` and `/api/core/profile/`: the call-center and REST sign-in.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn both_login_paths_answer_one_body_for_both_contracts() {
    let app = TestApp::spawn().await;
    for path in ["/api/auth/login", "/api/auth/login/"] {
        let res =
            app.post(path, None, json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "remember": true})).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text);
        let b = &res.body;
        let user = &b["user"];
        assert!(user["id"].is_i64());
        assert_eq!(user["email"], json!(ADMIN_EMAIL));
        assert_eq!(user["name"], json!("Test CEO"));
        assert_eq!(user["role"], json!("ceo"));
        assert_eq!(user["first_name"], json!("Test"));
        assert_eq!(user["last_name"], json!("CEO"));
        assert_eq!(b["token"], b["access"], "token and access are the same JWT");
        assert_eq!(b["expiresIn"], json!(86400));
        assert!(b["refresh"].as_str().is_some_and(|r| r.len() >= 32));
    }
}

#[tokio::test]
async fn bad_credentials_answer_the_documented_401_body() {
    let app = TestApp::spawn().await;
    for path in ["/api/auth/login", "/api/auth/login/"] {
        let res = app.post(path, None, json!({"email": ADMIN_EMAIL, "password": "wrong-pass"})).await;
        assert_cc_error(&res, StatusCode::UNAUTHORIZED, "Invalid credentials");
    }
}

#[tokio::test]
async fn email_is_case_insensitive_and_trimmed_at_login() {
    let app = TestApp::spawn().await;
    let res = app.post("/api/auth/login", None, json!({"email": "  CEO@Test.UZ ", "password": ADMIN_PASSWORD})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
}

#[tokio::test]
async fn rest_refresh_rotates_pairs() {
    let app = TestApp::spawn_with(&[("refresh_reuse_grace_secs", "0")]).await;
    let login = app.login_body(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let res = app.post("/api/auth/refresh/", None, json!({"refresh": login["refresh"]})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.body["access"].is_string());
    assert_ne!(res.body["refresh"], login["refresh"]);
    let reuse = app.post("/api/auth/refresh/", None, json!({"refresh": login["refresh"]})).await;
    assert_rest_error(&reuse, StatusCode::UNAUTHORIZED, "AuthenticationFailed");
    let malformed = app.post("/api/auth/refresh/", None, json!({})).await;
    assert_rest_error(&malformed, StatusCode::BAD_REQUEST, "ValidationError");
}

#[tokio::test]
async fn register_creates_a_user_with_the_default_role() {
    let app = TestApp::spawn().await;
    let body = json!({
        "email": "New.User@Example.com", "first_name": "Jane", "last_name": "Smith",
        "password": "password123", "password2": "password123", "company_name": "New Company"
    });
    let res = app.post("/api/auth/register/", None, body.clone()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["email"], json!("new.user@example.com"));
    assert_eq!(res.body["role"], json!("user"));
    assert_eq!(res.body["name"], json!("Jane Smith"));
    assert!(res.body.get("password_hash").is_none());
    let token = app.token("new.user@example.com", "password123").await;
    let profile = app.get("/api/core/profile/", Some(&token)).await;
    assert_eq!(profile.body["first_name"], json!("Jane"));
    assert_eq!(profile.body["companies"], json!([]));

    let dup = app.post("/api/auth/register/", None, json!({"email": "NEW.user@example.com", "password": "password123", "password2": "password123", "first_name": "J"})).await;
    assert_rest_error(&dup, StatusCode::CONFLICT, "Conflict");
}

#[tokio::test]
async fn register_refuses_mismatched_and_weak_passwords() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/api/auth/register/",
            None,
            json!({"email": "a@b.uz", "first_name": "A", "password": "password123", "password2": "password124"}),
        )
        .await;
    assert_rest_error(&res, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(res.body["error"]["details"]["password2"].is_array(), "{}", res.text);
    let res = app
        .post(
            "/api/auth/register/",
            None,
            json!({"email": "not-an-email", "first_name": "A", "password": "short", "password2": "short"}),
        )
        .await;
    assert_rest_error(&res, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(res.body["error"]["details"]["email"].is_array());
    assert!(res.body["error"]["details"]["password"].is_array());
}

#[tokio::test]
async fn registration_can_be_switched_off() {
    let app = TestApp::spawn_with(&[("registration_enabled", "false")]).await;
    let res = app
        .post(
            "/api/auth/register/",
            None,
            json!({"email": "a@b.uz", "first_name": "A", "password": "password123", "password2": "password123"}),
        )
        .await;
    assert_rest_error(&res, StatusCode::FORBIDDEN, "PermissionDenied");
}

#[tokio::test]
async fn profile_needs_a_valid_token() {
    let app = TestApp::spawn().await;
    assert_rest_error(&app.get("/api/core/profile/", None).await, StatusCode::UNAUTHORIZED, "AuthenticationFailed");
    assert_rest_error(
        &app.get("/api/core/profile/", Some("not.a.jwt")).await,
        StatusCode::UNAUTHORIZED,
        "AuthenticationFailed",
    );
    // A token signed with another secret.
    let claims = json!({"sub": "1", "jti": "x", "role": "ceo", "sid": "s", "iat": 0, "exp": 4_000_000_000i64});
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    assert_rest_error(
        &app.get("/api/core/profile/", Some(&forged)).await,
        StatusCode::UNAUTHORIZED,
        "AuthenticationFailed",
    );
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let app = TestApp::spawn_with(&[("jwt_expires_in", "1s")]).await;
    let token = app.admin_token().await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let res = app.get("/api/core/profile/", Some(&token)).await;
    assert_rest_error(&res, StatusCode::UNAUTHORIZED, "AuthenticationFailed");
    assert!(res.body["error"]["message"].as_str().unwrap().contains("expired"), "{}", res.text);
}

#[tokio::test]
async fn deactivated_users_are_refused_at_login_and_on_every_request() {
    let app = TestApp::spawn().await;
    let (id, email, password) = app.create_user("operator").await;
    let token = app.token(&email, &password).await;
    let admin = app.admin_token().await;
    let res = app.call(reqwest::Method::DELETE, &format!("/api/system-config/users/{id}/"), Some(&admin), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(app.get("/api/core/profile/", Some(&token)).await.status, StatusCode::UNAUTHORIZED);
    let login = app.post("/api/auth/login", None, json!({"email": email, "password": password})).await;
    assert_cc_error(&login, StatusCode::UNAUTHORIZED, "Invalid credentials");
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_with_retry_after() {
    let app = TestApp::spawn_with(&[("login_max_failures_per_account", "3")]).await;
    for _ in 0..3 {
        let res = app.post("/api/auth/login", None, json!({"email": ADMIN_EMAIL, "password": "wrong-pass"})).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now.
    let res = app.post("/api/auth/login", None, json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text);
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 15 * 60);
    assert_eq!(res.body["code"], json!("RATE_LIMITED"));
    // Other accounts are not affected (the CEO is throttled, so register one).
    let other =
        json!({"email": "other@test.uz", "first_name": "O", "password": "password123", "password2": "password123"});
    assert_eq!(app.post("/api/auth/register/", None, other).await.status, StatusCode::CREATED);
    let res = app.post("/api/auth/login", None, json!({"email": "other@test.uz", "password": "password123"})).await;
    assert_eq!(res.status, StatusCode::OK);
}

#[tokio::test]
async fn failed_logins_are_throttled_per_address() {
    let app = TestApp::spawn_with(&[("login_max_failures_per_ip", "4")]).await;
    for i in 0..4 {
        let res = app
            .post("/api/auth/login", None, json!({"email": format!("n{i}@test.uz"), "password": "wrong-pass"}))
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    let res = app.post("/api/auth/login", None, json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text);
}
