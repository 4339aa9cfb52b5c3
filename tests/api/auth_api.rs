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

/// A self-registered account sees nothing until an administrator gives it a role.
#[tokio::test]
async fn register_creates_a_pending_user_that_an_administrator_promotes() {
    let app = TestApp::spawn().await;
    let body = json!({
        "email": "New.User@Example.com", "first_name": "Jane", "last_name": "Smith",
        "password": STRONG_PASSWORD, "password2": STRONG_PASSWORD, "company_name": "New Company"
    });
    let res = app.post("/api/auth/register/", None, body.clone()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["email"], json!("new.user@example.com"));
    assert_eq!(res.body["role"], json!("pending"));
    assert_eq!(res.body["name"], json!("Jane Smith"));
    assert!(res.body.get("password_hash").is_none());
    let id = res.body["id"].as_i64().unwrap();
    let company = res.body["companies"][0]["id"].clone();
    assert_eq!(res.body["companies"], json!([{"id": company, "name": "New Company", "role": "admin"}]));
    let token = app.token("new.user@example.com", STRONG_PASSWORD).await;
    let profile = app.get("/api/core/profile/", Some(&token)).await;
    assert_eq!(profile.body["first_name"], json!("Jane"));
    assert_eq!(profile.body["companies"], res.body["companies"]);
    assert_eq!(profile.body["role"], json!("pending"));
    // No data: not the customers, not the call center, not the catalogs' changes.
    assert_v1_error(&app.get("/api/v1/customers", Some(&token)).await, StatusCode::FORBIDDEN, "FORBIDDEN");
    let delete = app.call(reqwest::Method::DELETE, "/api/v1/customers/1", Some(&token), None).await;
    assert_v1_error(&delete, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert_eq!(app.get("/api/calls", Some(&token)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/analytics/dashboard", Some(&token)).await.status, StatusCode::FORBIDDEN);

    // An administrator promotes the user; the new role applies from the next sign-in.
    let admin = app.admin_token().await;
    let promoted = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/system-config/users/{id}/"),
            Some(&admin),
            Some(json!({"role": "sales_manager"})),
        )
        .await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.text);
    assert_eq!(
        app.get("/api/core/profile/", Some(&token)).await.status,
        StatusCode::UNAUTHORIZED,
        "role change ends sessions"
    );
    let token = app.token("new.user@example.com", STRONG_PASSWORD).await;
    assert_eq!(app.get("/api/v1/customers", Some(&token)).await.status, StatusCode::OK);

    let dup = app.post("/api/auth/register/", None, json!({"email": "NEW.user@example.com", "password": STRONG_PASSWORD, "password2": STRONG_PASSWORD, "first_name": "J"})).await;
    assert_rest_error(&dup, StatusCode::CONFLICT, "Conflict");
}

#[tokio::test]
async fn registration_is_closed_by_default_in_production() {
    let settings = crm_server::settings::Settings::load_with(
        "production",
        &config_dir(),
        false,
        &[("jwt_secret", &"s".repeat(40)), ("refresh_token_secret", &"r".repeat(40))],
    )
    .unwrap();
    assert!(!settings.raw.registration_enabled);
    let development = crm_server::settings::Settings::load_with("development", &config_dir(), false, &[]).unwrap();
    assert!(development.raw.registration_enabled);
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
    // The weak passwords: too short, among the most common, or built on the e-mail's name.
    for (password, says) in [
        ("password", "too short"),
        ("12345678", "too short"),
        ("password123", "too common"),
        ("qwertyuiop", "too common"),
        ("jane.doe.2026!", "e-mail"),
    ] {
        let body = json!({"email": "jane.doe@b.uz", "first_name": "J", "password": password, "password2": password});
        let res = app.post("/api/auth/register/", None, body).await;
        assert_rest_error(&res, StatusCode::BAD_REQUEST, "ValidationError");
        let message = res.body["error"]["details"]["password"][0].as_str().unwrap_or_default();
        assert!(message.contains(says), "{password}: {}", res.text);
    }
}

#[tokio::test]
async fn registration_can_be_switched_off() {
    let app = TestApp::spawn_with(&[("registration_enabled", "false")]).await;
    let res = app
        .post(
            "/api/auth/register/",
            None,
            json!({"email": "a@b.uz", "first_name": "A", "password": STRONG_PASSWORD, "password2": STRONG_PASSWORD}),
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

/// Signs in from a given client address (the server trusts `X-Forwarded-For` here).
async fn login_from(app: &TestApp, address: &str, email: &str, password: &str) -> Resp {
    let res = app
        .client
        .post(format!("{}/api/auth/login", app.base))
        .header("x-forwarded-for", address)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    Resp::from(res).await
}

#[tokio::test]
async fn failed_logins_lock_the_failing_address_with_retry_after() {
    let app = TestApp::spawn_with(&[("login_max_failures_per_account", "3"), ("trust_forwarded_for", "true")]).await;
    for _ in 0..3 {
        assert_eq!(login_from(&app, "10.0.0.9", ADMIN_EMAIL, "wrong-pass").await.status, StatusCode::UNAUTHORIZED);
    }
    // From that address, even the right password waits now.
    let res = login_from(&app, "10.0.0.9", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text);
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 60 && retry <= 15 * 60, "{retry}");
    assert_eq!(res.body["code"], json!("RATE_LIMITED"));
    // Other accounts from that address are not affected.
    let other =
        json!({"email": "other@test.uz", "first_name": "O", "password": STRONG_PASSWORD, "password2": STRONG_PASSWORD});
    assert_eq!(app.post("/api/auth/register/", None, other).await.status, StatusCode::CREATED);
    assert_eq!(login_from(&app, "10.0.0.9", "other@test.uz", STRONG_PASSWORD).await.status, StatusCode::OK);
}

/// Strangers failing from many addresses cannot lock the owner out: from an address the
/// owner signed in from before they get in at once, from a new one after a short delay.
#[tokio::test]
async fn strangers_cannot_lock_the_owner_out() {
    let app = TestApp::spawn_with(&[
        ("login_max_failures_per_account", "3"),
        ("login_max_delay", "2s"),
        ("trust_forwarded_for", "true"),
    ])
    .await;
    assert_eq!(login_from(&app, "192.0.2.10", ADMIN_EMAIL, ADMIN_PASSWORD).await.status, StatusCode::OK);
    for i in 0..12 {
        let res = login_from(&app, &format!("203.0.113.{i}"), ADMIN_EMAIL, "guess-guess").await;
        assert!(matches!(res.status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS), "{}", res.text);
    }
    // The owner's known address: straight in.
    assert_eq!(login_from(&app, "192.0.2.10", ADMIN_EMAIL, ADMIN_PASSWORD).await.status, StatusCode::OK);
    // Guessing from a new address is slowed down, and the delay is short.
    for i in 0..3 {
        let res = login_from(&app, &format!("198.51.100.{i}"), ADMIN_EMAIL, "guess-again").await;
        assert!(matches!(res.status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS));
    }
    let new_place = login_from(&app, "198.51.100.77", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    if new_place.status == StatusCode::TOO_MANY_REQUESTS {
        let retry: u64 = new_place.header("retry-after").unwrap().parse().unwrap();
        assert!(retry <= 2, "a short delay, not a lockout: {retry}");
        tokio::time::sleep(std::time::Duration::from_secs(retry + 1)).await;
    }
    let later = login_from(&app, "198.51.100.77", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(later.status, StatusCode::OK, "the right password gets in after the delay: {}", later.text);
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

#[tokio::test]
async fn a_sign_in_burst_waits_its_turn_and_past_the_deadline_gets_503_with_retry_after() {
    // One hash at a time, each slow enough (64 MiB, 6 passes) that twelve at once cannot all
    // get their turn within the one-second line.
    let app = TestApp::spawn_with(&[
        ("password_hash_memory_kib", "65536"),
        ("password_hash_iterations", "6"),
        ("password_hash_concurrency", "1"),
        ("password_hash_queue_timeout", "1s"),
    ])
    .await;
    let burst: Vec<_> = (0..12)
        .map(|_| {
            let (client, url) = (app.client.clone(), format!("{}/api/auth/login", app.base));
            tokio::spawn(async move {
                let res = client.post(url).json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).send();
                Resp::from(res.await.expect("sent")).await
            })
        })
        .collect();
    let (mut signed_in, mut refused) = (0, 0);
    for answer in burst {
        let res = answer.await.unwrap();
        match res.status {
            StatusCode::OK => signed_in += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                refused += 1;
                let message = res.body["message"].as_str().unwrap_or_default();
                assert!(message.starts_with("Too many sign-ins at once"), "{}", res.text);
                assert!(res.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok()), "{:?}", res.headers);
            }
            other => panic!("{other}: {}", res.text),
        }
    }
    assert!(signed_in >= 1 && refused >= 1, "{signed_in} signed in, {refused} refused");
    let later = app.post("/api/auth/login", None, json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await;
    assert_eq!(later.status, StatusCode::OK, "the line drains: {}", later.text);
}
