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
            json!({"email": "sm@test.uz", "password": "password123", "name": "Sales One", "role": "sales_manager"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["role"], json!("sales_manager"));
    assert_eq!(res.body["first_name"], json!("Sales"));
    let dup =
        app.post(USERS, Some(&admin), json!({"email": "SM@test.uz", "password": "password123", "name": "X"})).await;
    assert_rest_error(&dup, StatusCode::CONFLICT, "Conflict");
    let unknown = app
        .post(
            USERS,
            Some(&admin),
            json!({"email": "x@test.uz", "password": "password123", "name": "X", "role": "wizard"}),
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
        app.post(USERS, Some(&token), json!({"email": "x@test.uz", "password": "password123", "name": "X"})).await;
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
            json!({"email": "ceo2@test.uz", "password": "password123", "name": "X", "role": "ceo"}),
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
    let res = app.call(Method::PUT, &path, Some(&admin), Some(json!({"password": "new-password-9"}))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(
        app.post("/api/auth/login", None, json!({"email": email, "password": "new-password-9"})).await.status,
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
            json!({"email": "ceo2@test.uz", "password": "password123", "name": "Second CEO", "role": "ceo"}),
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
            json!({"email": "ceo2@test.uz", "password": "password123", "name": "Second CEO", "role": "ceo"}),
        )
        .await;
    let second_id = second.body["id"].as_i64().unwrap();
    let second_token = app.token("ceo2@test.uz", "password123").await;
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
