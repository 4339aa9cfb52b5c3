//! `/api/system-config/users/`: staff-user administration.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const USERS: &str = "/api/system-config/users/";

#[tokio::test]
async fn the_ceo_lists_users_in_pages_with_links() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.create_user("operator").await;
    }
    let admin = app.admin_token().await;
    let res = app.get(&format!("{USERS}?page_size=2"), Some(&admin)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["count"], json!(4));
    assert_eq!(res.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(res.body["previous"], json!(null));
    let next = res.body["next"].as_str().unwrap();
    assert!(next.contains("page=2") && next.contains("page_size=2"), "{next}");
    let first = &res.body["results"][0];
    for field in ["id", "email", "name", "first_name", "last_name", "role", "is_active", "created_at", "updated_at"] {
        assert!(!first[field].is_null(), "missing {field}");
    }
    let page2 = app.get(&format!("{USERS}?page_size=2&page=2"), Some(&admin)).await;
    assert_eq!(page2.body["next"], json!(null));
    assert!(page2.body["previous"].as_str().unwrap().contains("page=1"));

    let filtered = app.get(&format!("{USERS}?role=ceo"), Some(&admin)).await;
    assert_eq!(filtered.body["count"], json!(1));
    let searched = app.get(&format!("{USERS}?search=CEO%40TEST"), Some(&admin)).await;
    assert_eq!(searched.body["count"], json!(1), "{}", searched.text);
}

#[tokio::test]
async fn bad_paging_and_ids_are_400_not_500() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for q in ["?page=0", "?page_size=1000", "?page=abc", "?is_active=maybe"] {
        let res = app.get(&format!("{USERS}{q}"), Some(&admin)).await;
        assert_rest_error(&res, StatusCode::BAD_REQUEST, "ValidationError");
    }
    let res = app.get("/api/system-config/users/abc/", Some(&admin)).await;
    assert_rest_error(&res, StatusCode::BAD_REQUEST, "ValidationError");
    let res = app.get("/api/system-config/users/99999/", Some(&admin)).await;
    assert_rest_error(&res, StatusCode::NOT_FOUND, "NotFound");
}

#[tokio::test]
async fn create_validates_role_email_and_uniqueness() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let res = app
        .post(
            USERS,
            Some(&admin),
            json!({"email": "sm@test.uz", "password": STRONG_PASSWORD, "name": "Sales One", "role": "sales_manager"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["role"], json!("sales_manager"));
    assert_eq!(res.body["first_name"], json!("Sales"));
    let dup =
        app.post(USERS, Some(&admin), json!({"email": "SM@test.uz", "password": STRONG_PASSWORD, "name": "X"})).await;
    assert_rest_error(&dup, StatusCode::CONFLICT, "Conflict");
    let unknown = app
        .post(
            USERS,
            Some(&admin),
            json!({"email": "x@test.uz", "password": STRONG_PASSWORD, "name": "X", "role": "wizard"}),
        )
        .await;
    assert_rest_error(&unknown, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(unknown.body["error"]["details"]["role"].is_array());
    let stored = app.get(&format!("{USERS}?search=sm%40test"), Some(&admin)).await;
    assert_eq!(stored.body["count"], json!(1));
}

#[tokio::test]
async fn roles_without_the_permission_are_refused() {
    let app = TestApp::spawn().await;
    let (id, email, password) = app.create_user("operator").await;
    let token = app.token(&email, &password).await;
    assert_rest_error(&app.get(USERS, Some(&token)).await, StatusCode::FORBIDDEN, "PermissionDenied");
    let res =
        app.post(USERS, Some(&token), json!({"email": "x@test.uz", "password": STRONG_PASSWORD, "name": "X"})).await;
    assert_rest_error(&res, StatusCode::FORBIDDEN, "PermissionDenied");
    let res = app.call(Method::PATCH, &format!("{USERS}{id}/"), Some(&token), Some(json!({"role": "admin"}))).await;
    assert_rest_error(&res, StatusCode::FORBIDDEN, "PermissionDenied");
    assert_rest_error(&app.get(USERS, None).await, StatusCode::UNAUTHORIZED, "AuthenticationFailed");
    // An admin may administer users, but not CEOs.
    let (_, admin_email, admin_password) = app.create_user("admin").await;
    let admin = app.token(&admin_email, &admin_password).await;
    assert_eq!(app.get(USERS, Some(&admin)).await.status, StatusCode::OK);
    let ceo = app
        .post(
            USERS,
            Some(&admin),
            json!({"email": "ceo2@test.uz", "password": STRONG_PASSWORD, "name": "X", "role": "ceo"}),
        )
        .await;
    assert_rest_error(&ceo, StatusCode::FORBIDDEN, "PermissionDenied");
}

#[tokio::test]
async fn put_patch_and_delete_change_what_is_stored() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (id, email, _) = app.create_user("operator").await;
    let path = format!("{USERS}{id}/");
    let res = app
        .call(Method::PATCH, &path, Some(&admin), Some(json!({"name": "Renamed Person", "role": "supervisor"})))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["name"], json!("Renamed Person"));
    assert_eq!(res.body["first_name"], json!("Renamed"));
    assert_eq!(res.body["role"], json!("supervisor"));
    let res = app.call(Method::PUT, &path, Some(&admin), Some(json!({"password": "Mirobod-River-2027"}))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(
        app.post("/api/auth/login", None, json!({"email": email, "password": "Mirobod-River-2027"})).await.status,
        StatusCode::OK
    );
    let empty = app.call(Method::PATCH, &path, Some(&admin), Some(json!({}))).await;
    assert_rest_error(&empty, StatusCode::BAD_REQUEST, "ValidationError");
    let fetched = app.get(&path, Some(&admin)).await;
    assert_eq!(fetched.body["role"], json!("supervisor"));
    let deleted = app.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.body["user"]["is_active"], json!(false));
    assert_eq!(app.get(&path, Some(&admin)).await.body["is_active"], json!(false), "deactivated, not destroyed");
}

#[tokio::test]
async fn nobody_can_remove_the_last_active_ceo() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let me = app.get("/api/core/profile/", Some(&admin)).await.body["id"].as_i64().unwrap();
    let path = format!("{USERS}{me}/");
    let res = app.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_rest_error(&res, StatusCode::CONFLICT, "Conflict");
    let res = app.call(Method::PATCH, &path, Some(&admin), Some(json!({"role": "admin"}))).await;
    assert_rest_error(&res, StatusCode::CONFLICT, "Conflict");
    let res = app.call(Method::PATCH, &path, Some(&admin), Some(json!({"is_active": false}))).await;
    assert_rest_error(&res, StatusCode::CONFLICT, "Conflict");
    assert_eq!(app.get(&path, Some(&admin)).await.body["role"], json!("ceo"));

    // With a second CEO the first may step down.
    let second = app
        .post(
            USERS,
            Some(&admin),
            json!({"email": "ceo2@test.uz", "password": STRONG_PASSWORD, "name": "Second CEO", "role": "ceo"}),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    let res = app.call(Method::PATCH, &path, Some(&admin), Some(json!({"role": "admin"}))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
}

#[tokio::test]
async fn two_ceos_deactivating_each_other_at_once_leave_one_active() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let second = app
        .post(
            USERS,
            Some(&admin),
            json!({"email": "ceo2@test.uz", "password": STRONG_PASSWORD, "name": "Second CEO", "role": "ceo"}),
        )
        .await;
    let second_id = second.body["id"].as_i64().unwrap();
    let second_token = app.token("ceo2@test.uz", STRONG_PASSWORD).await;
    let me = app.get("/api/core/profile/", Some(&admin)).await.body["id"].as_i64().unwrap();
    let (second_path, my_path) = (format!("{USERS}{second_id}/"), format!("{USERS}{me}/"));
    let (a, b) = tokio::join!(
        app.call(Method::DELETE, &second_path, Some(&admin), None),
        app.call(Method::DELETE, &my_path, Some(&second_token), None),
    );
    let ok = [a.status, b.status].iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 1, "exactly one deactivation wins: {} / {}", a.text, b.text);
    let db = sea_orm::Database::connect(app.database_url.as_str()).await.unwrap();
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM users WHERE role = 'ceo' AND is_active = true",
        ))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    assert_eq!(n, 1);
}

/// An administrator cannot take over a CEO: nothing of a higher-ranked user changes.
#[tokio::test]
async fn nobody_changes_a_user_who_ranks_above_them() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let ceo_id = app.get("/api/core/profile/", Some(&ceo)).await.body["id"].as_i64().unwrap();
    let (other_admin_id, _, _) = app.create_user("admin").await;
    let (_, admin_email, admin_password) = app.create_user("admin").await;
    let admin = app.token(&admin_email, &admin_password).await;
    let ceo_path = format!("{USERS}{ceo_id}/");
    for change in [
        json!({"password": "Taken-Over-Account-1"}),
        json!({"email": "attacker@evil.example"}),
        json!({"is_active": false}),
        json!({"role": "admin"}),
        json!({"first_name": "Pwned"}),
    ] {
        let res = app.call(Method::PATCH, &ceo_path, Some(&admin), Some(change.clone())).await;
        assert_rest_error(&res, StatusCode::FORBIDDEN, "PermissionDenied");
    }
    assert_rest_error(
        &app.call(Method::DELETE, &ceo_path, Some(&admin), None).await,
        StatusCode::FORBIDDEN,
        "PermissionDenied",
    );
    assert_eq!(
        app.post("/api/auth/login", None, json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await.status,
        StatusCode::OK
    );
    // Equal rank and below: allowed.
    let peer = app
        .call(
            Method::PATCH,
            &format!("{USERS}{other_admin_id}/"),
            Some(&admin),
            Some(json!({"password": "Peer-Reset-Password-5"})),
        )
        .await;
    assert_eq!(peer.status, StatusCode::OK, "{}", peer.text);
    let promote =
        app.call(Method::PATCH, &format!("{USERS}{other_admin_id}/"), Some(&admin), Some(json!({"role": "ceo"}))).await;
    assert_rest_error(&promote, StatusCode::FORBIDDEN, "PermissionDenied");
    // A CEO may change another CEO's credentials.
    let second = app
        .post(
            USERS,
            Some(&ceo),
            json!({"email": "ceo2@test.uz", "password": STRONG_PASSWORD, "name": "Second CEO", "role": "ceo"}),
        )
        .await;
    let second_path = format!("{USERS}{}/", second.body["id"]);
    let reset =
        app.call(Method::PATCH, &second_path, Some(&ceo), Some(json!({"password": "Second-Ceo-Reset-9"}))).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
}

/// One's own credentials change only with the current password.
#[tokio::test]
async fn own_credentials_need_the_current_password() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let me = app.get("/api/core/profile/", Some(&ceo)).await.body["id"].as_i64().unwrap();
    let path = format!("{USERS}{me}/");
    let missing = app.call(Method::PATCH, &path, Some(&ceo), Some(json!({"password": "Brand-New-Secret-11"}))).await;
    assert_rest_error(&missing, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(missing.body["error"]["details"]["current_password"].is_array(), "{}", missing.text);
    let wrong = app
        .call(
            Method::PATCH,
            &path,
            Some(&ceo),
            Some(json!({"email": "me@test.uz", "current_password": "nope-nope-nope"})),
        )
        .await;
    assert_rest_error(&wrong, StatusCode::BAD_REQUEST, "ValidationError");
    let right = app
        .call(
            Method::PATCH,
            &path,
            Some(&ceo),
            Some(json!({"password": "Brand-New-Secret-11", "current_password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text);
    assert_eq!(
        app.get("/api/core/profile/", Some(&ceo)).await.status,
        StatusCode::OK,
        "the session that made it stays"
    );
    assert_eq!(
        app.post("/api/auth/login", None, json!({"email": ADMIN_EMAIL, "password": "Brand-New-Secret-11"}))
            .await
            .status,
        StatusCode::OK
    );
}

async fn signed_in_twice(app: &TestApp, email: &str, password: &str) -> [(String, String); 2] {
    let mut out = Vec::new();
    for _ in 0..2 {
        let body = app.login_body(email, password).await;
        out.push((body["token"].as_str().unwrap().to_string(), body["refresh"].as_str().unwrap().to_string()));
    }
    [out[0].clone(), out[1].clone()]
}

async fn assert_signed_out(app: &TestApp, sessions: &[(String, String)]) {
    for (access, refresh) in sessions {
        assert_eq!(app.get("/api/core/profile/", Some(access)).await.status, StatusCode::UNAUTHORIZED);
        let res = app.post("/api/auth/refresh/", None, json!({"refresh": refresh})).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text);
    }
}

/// A new password, e-mail or role, or a deactivation, ends every session of the user;
/// reactivation does not bring them back.
#[tokio::test]
async fn credential_role_and_activity_changes_end_every_session() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (id, email, password) = app.create_user("operator").await;
    let path = format!("{USERS}{id}/");
    let changes = [
        json!({"password": "Reset-By-Admin-2026"}),
        json!({"role": "supervisor"}),
        json!({"email": format!("moved-{id}@test.uz")}),
    ];
    let mut credentials = (email.clone(), password.clone());
    for change in changes {
        let sessions = signed_in_twice(&app, &credentials.0, &credentials.1).await;
        let res = app.call(Method::PATCH, &path, Some(&admin), Some(change.clone())).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_signed_out(&app, &sessions).await;
        if let Some(p) = change["password"].as_str() {
            credentials.1 = p.to_string();
        }
        if let Some(e) = change["email"].as_str() {
            credentials.0 = e.to_string();
        }
    }
    let sessions = signed_in_twice(&app, &credentials.0, &credentials.1).await;
    assert_eq!(app.call(Method::DELETE, &path, Some(&admin), None).await.status, StatusCode::OK);
    let back = app.call(Method::PATCH, &path, Some(&admin), Some(json!({"is_active": true}))).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
    assert_signed_out(&app, &sessions).await;
    // A change that touches no credential keeps the sessions.
    let sessions = signed_in_twice(&app, &credentials.0, &credentials.1).await;
    app.call(Method::PATCH, &path, Some(&admin), Some(json!({"first_name": "Renamed"}))).await;
    assert_eq!(app.get("/api/core/profile/", Some(&sessions[0].0)).await.status, StatusCode::OK);
}

/// The self-service password change keeps only the session that made it.
#[tokio::test]
async fn changing_ones_own_password_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    let (_, email, password) = app.create_user("operator").await;
    let [(here, _), other] = signed_in_twice(&app, &email, &password).await;
    let change = "/api/auth/password/change/";
    let weak = app.post(change, Some(&here), json!({"old_password": password, "new_password1": "12345678"})).await;
    assert_rest_error(&weak, StatusCode::BAD_REQUEST, "ValidationError");
    let wrong = app
        .post(change, Some(&here), json!({"old_password": "not-it-at-all", "new_password1": "Fresh-Secret-Phrase-3"}))
        .await;
    assert_rest_error(&wrong, StatusCode::BAD_REQUEST, "ValidationError");
    let mismatch = app
        .post(
            change,
            Some(&here),
            json!({"old_password": password, "new_password1": "Fresh-Secret-Phrase-3", "new_password2": "other"}),
        )
        .await;
    assert_rest_error(&mismatch, StatusCode::BAD_REQUEST, "ValidationError");
    let ok = app
        .post(change, Some(&here), json!({"old_password": password, "new_password1": "Fresh-Secret-Phrase-3", "new_password2": "Fresh-Secret-Phrase-3"}))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.body, json!({"detail": "New password has been saved."}));
    assert_eq!(app.get("/api/core/profile/", Some(&here)).await.status, StatusCode::OK);
    assert_signed_out(&app, &[other]).await;
    assert_eq!(
        app.post("/api/auth/login", None, json!({"email": email, "password": "Fresh-Secret-Phrase-3"})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.post("/api/auth/login", None, json!({"email": email, "password": password})).await.status,
        StatusCode::UNAUTHORIZED
    );
}
