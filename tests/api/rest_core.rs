//! `crm-rest-api.md` companies: administered with `users.manage`, listed in the profile with
//! the membership role, founded by registering, never joined by registering.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const COMPANIES: &str = "/api/core/companies/";

#[tokio::test]
async fn administrators_manage_companies_and_their_founders_see_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .post(
            COMPANIES,
            Some(&admin),
            json!({"name": "Company Name", "industry": "Technology", "website": "https://company.example"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["name"], json!("Company Name"));
    assert_eq!(created.body["members_count"], json!(1));
    assert_eq!(created.body["is_active"], json!(true));
    let id = created.body["id"].as_i64().unwrap();
    let profile = app.get("/api/core/profile/", Some(&admin)).await;
    assert_eq!(profile.body["companies"], json!([{"id": id, "name": "Company Name", "role": "admin"}]));

    let dup = app.post(COMPANIES, Some(&admin), json!({"name": "COMPANY NAME"})).await;
    assert_rest_error(&dup, StatusCode::CONFLICT, "Conflict");
    assert_eq!(
        dup.body["error"]["details"]["candidates"],
        json!([{"type": "company", "id": id, "name": "Company Name"}])
    );
    let path = format!("{COMPANIES}{id}/");
    let put = app.call(Method::PUT, &path, Some(&admin), Some(json!({"name": "Renamed", "description": "HQ"}))).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!((put.body["name"].clone(), put.body["description"].clone()), (json!("Renamed"), json!("HQ")));
    assert_eq!(app.get(&format!("{COMPANIES}?search=renam"), Some(&admin)).await.body["count"], json!(1));

    // Staff read the organisation's companies; only administrators change them.
    let (_, email, password) = app.create_user("sales_manager").await;
    let staff = app.token(&email, &password).await;
    assert_eq!(app.get(COMPANIES, Some(&staff)).await.status, StatusCode::OK);
    assert_rest_error(
        &app.post(COMPANIES, Some(&staff), json!({"name": "Mine"})).await,
        StatusCode::FORBIDDEN,
        "PermissionDenied",
    );
    assert_rest_error(
        &app.call(Method::PATCH, &path, Some(&staff), Some(json!({"name": "Taken over"}))).await,
        StatusCode::FORBIDDEN,
        "PermissionDenied",
    );

    assert_eq!(app.call(Method::DELETE, &path, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/core/profile/", Some(&admin)).await.body["companies"], json!([]));
    assert_eq!(app.post(&format!("{path}restore/"), Some(&admin), json!({})).await.status, StatusCode::OK);
}

#[tokio::test]
async fn registering_founds_a_company_but_never_joins_one() {
    let app = TestApp::spawn().await;
    let register = |email: &str, company: &str| {
        json!({"email": email, "first_name": "Jane", "last_name": "Smith", "password": STRONG_PASSWORD,
               "password2": STRONG_PASSWORD, "company_name": company})
    };
    let first = app.post("/api/auth/register/", None, register("first@example.com", "Acme Holding")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.body["companies"][0]["role"], json!("admin"));

    let intruder = app.post("/api/auth/register/", None, register("intruder@example.com", " acme holding ")).await;
    assert_rest_error(&intruder, StatusCode::CONFLICT, "Conflict");
    assert_eq!(intruder.body["error"]["details"]["candidates"][0]["name"], json!("Acme Holding"));
    // Nothing was created: the same e-mail registers once the name is free.
    let again = app.post("/api/auth/register/", None, register("intruder@example.com", "Intruder Ltd")).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    let admin = app.admin_token().await;
    let acme = app.get(&format!("{COMPANIES}?search=acme"), Some(&admin)).await;
    assert_eq!(acme.body["results"][0]["members_count"], json!(1), "nobody joined");

    // Without a company name nobody founds anything.
    let plain = json!({"email": "plain@example.com", "first_name": "P", "password": STRONG_PASSWORD, "password2": STRONG_PASSWORD});
    let res = app.post("/api/auth/register/", None, plain).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["companies"], json!([]));
}

/// The document's Python example: `requests.post(url, {...})` sends a form.
#[tokio::test]
async fn the_documents_python_example_signs_in_with_a_form_and_lists_accounts() {
    let app = TestApp::spawn().await;
    app.admin_token().await;
    let login = app.post_form("/api/auth/login/", None, &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    let token = login.body["access"].as_str().unwrap().to_string();
    let accounts = app.get("/api/crm/accounts/", Some(&token)).await;
    assert_eq!(accounts.status, StatusCode::OK, "{}", accounts.text);
    assert_eq!(accounts.body, json!({"count": 0, "next": null, "previous": null, "results": []}));
    let refreshed =
        app.post_form("/api/auth/refresh/", None, &[("refresh", login.body["refresh"].as_str().unwrap())]).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text);
    let registered = app
        .post_form(
            "/api/auth/register/",
            None,
            &[
                ("email", "form@example.com"),
                ("first_name", "Form"),
                ("password", STRONG_PASSWORD),
                ("password2", STRONG_PASSWORD),
            ],
        )
        .await;
    assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.text);
    // The sign-in is shared with the call center and answers in its envelope (decision 0001).
    let text = app.call_raw("/api/auth/login/", "text/plain", "email=x").await;
    assert_cc_error(
        &text,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Send application/json or application/x-www-form-urlencoded.",
    );
}
