//! `/api/qa`, `/api/topics`, `/api/users`: the call center's knowledge base and callers.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn operator(app: &TestApp) -> String {
    let (_, email, password) = app.create_user("operator").await;
    app.token(&email, &password).await
}

#[tokio::test]
async fn qa_entries_are_created_searched_changed_and_deleted() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let res = app
        .post(
            "/api/qa",
            Some(&op),
            json!({"title": " Grant muddati ", "answer": "Arizalar 1-iyulgacha qabul qilinadi."}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let qa = res.body.clone();
    assert!(qa["id"].is_i64());
    assert_eq!(qa["title"], json!("Grant muddati"));
    assert!(qa["createdAt"].is_string() && qa["updatedAt"].is_string());
    app.post("/api/qa", Some(&op), json!({"title": "Imtihon", "answer": "Test sinovlari IYUL oyida."})).await;
    app.post("/api/qa", Some(&op), json!({"title": "Вопрос", "answer": "Ответ на русском"})).await;

    let all = app.get("/api/qa", Some(&op)).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body.as_array().unwrap().len(), 3);
    assert_eq!(all.body[0]["title"], json!("Вопрос"), "newest first");
    assert_eq!(all.header("x-total-count"), Some("3"));
    let found = app.get("/api/qa?search=iyul", Some(&op)).await;
    assert_eq!(found.body.as_array().unwrap().len(), 2, "title or answer, any case: {}", found.text);
    let cyrillic = app.get("/api/qa?search=%D0%A0%D0%A3%D0%A1", Some(&op)).await;
    assert_eq!(cyrillic.body.as_array().unwrap().len(), 1, "Cyrillic is folded too: {}", cyrillic.text);
    let paged = app.get("/api/qa?page=2&pageSize=2", Some(&op)).await;
    assert_eq!(paged.body.as_array().unwrap().len(), 1);

    let path = format!("/api/qa/{}", qa["id"]);
    let put = app.call(Method::PUT, &path, Some(&op), Some(json!({"answer": "Yangi javob"}))).await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(put.body["title"], json!("Grant muddati"));
    assert_eq!(put.body["answer"], json!("Yangi javob"));
    assert_eq!(app.get(&path, Some(&op)).await.body, put.body);

    let refused = app.call(Method::DELETE, &path, Some(&op), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "operators do not delete");
    let (_, email, password) = app.create_user("supervisor").await;
    let sup = app.token(&email, &password).await;
    let deleted = app.call(Method::DELETE, &path, Some(&sup), None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert!(deleted.body["message"].is_string());
    assert_cc_error(&app.get(&path, Some(&op)).await, StatusCode::NOT_FOUND, "QA 1 not found");
}

#[tokio::test]
async fn qa_input_errors_use_the_call_center_body() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let res = app.post("/api/qa", Some(&op), json!({"title": "  "})).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.body["code"], json!("VALIDATION_ERROR"));
    assert!(res.body["error"].is_string() && res.body["message"].is_string());
    assert!(res.body["details"]["answer"].is_array());
    let res = app.get("/api/qa/abc", Some(&op)).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.body["code"], json!("VALIDATION_ERROR"));
    let res = app.call(Method::PUT, "/api/qa/1", Some(&op), Some(json!({}))).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/api/qa?pageSize=5000", Some(&op)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/api/qa", None).await.status, StatusCode::UNAUTHORIZED);
    let (_, email, password) = app.create_user("sales_manager").await;
    let sm = app.token(&email, &password).await;
    assert_eq!(app.get("/api/qa", Some(&sm)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn topics_are_unique_whatever_the_case() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let res = app.post("/api/topics", Some(&op), json!({"name": "  Grantlar "})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["name"], json!("Grantlar"));
    let id = res.body["id"].as_i64().unwrap();
    let dup = app.post("/api/topics", Some(&op), json!({"name": "GRANTLAR"})).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.body["code"], json!("CONFLICT"));
    assert_eq!(app.post("/api/topics", Some(&op), json!({})).await.status, StatusCode::BAD_REQUEST);
    app.post("/api/topics", Some(&op), json!({"name": "Imtihonlar"})).await;
    let list = app.get("/api/topics", Some(&op)).await;
    assert_eq!(list.body, json!([{"id": id, "name": "Grantlar"}, {"id": list.body[1]["id"], "name": "Imtihonlar"}]));
    assert_eq!(app.get(&format!("/api/topics/{id}"), Some(&op)).await.body, json!({"id": id, "name": "Grantlar"}));
    let admin = app.admin_token().await;
    let deleted = app.call(Method::DELETE, &format!("/api/topics/{id}"), Some(&admin), None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/api/topics/{id}"), Some(&op)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post("/api/topics", Some(&op), json!({"name": "grantlar"})).await.status,
        StatusCode::CREATED,
        "free again"
    );
}

#[tokio::test]
async fn callers_are_stored_in_e164_unique_and_linked_to_crm_customers() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let ceo = app.admin_token().await;
    let customer = app.v1_customer(&ceo, json!({"name": "Moychechak LLC", "phone": "+998 90 111 22 33"})).await;
    let res = app
        .post("/api/users", Some(&op), json!({"fullName": "Moychechak Toshmatova", "phone": "90 111 22 33", "email": "M@Example.uz", "region": "Toshkent", "language": "uz"}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let caller = res.body.clone();
    let id = caller["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("u_"));
    assert_eq!(caller["phone"], json!("+998901112233"));
    assert_eq!(caller["email"], json!("m@example.uz"));
    assert_eq!(caller["customerId"], customer["id"], "linked to the CRM customer with the same phone");
    assert!(caller["createdAt"].is_string());

    let dup = app.post("/api/users", Some(&op), json!({"fullName": "Other", "phone": "+998901112233"})).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let bad = app.post("/api/users", Some(&op), json!({"fullName": "", "phone": "12", "language": "de"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    for field in ["fullName", "phone", "language"] {
        assert!(bad.body["details"][field].is_array(), "{field}: {}", bad.text);
    }

    let plain = app.post("/api/users", Some(&op), json!({"fullName": "Aziz Karimov", "phone": "+998935554433"})).await;
    assert!(
        plain.body.get("email").is_none() && plain.body.get("customerId").is_none(),
        "absent optionals are omitted"
    );
    let list = app.get("/api/users", Some(&op)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 2);
    assert_eq!(list.body[0]["fullName"], json!("Aziz Karimov"), "newest first");
    let searched = app.get("/api/users?query=moych", Some(&op)).await;
    assert_eq!(searched.body.as_array().unwrap().len(), 1);

    let path = format!("/api/users/{id}");
    let put = app.call(Method::PUT, &path, Some(&op), Some(json!({"email": null, "language": "ru"}))).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert!(put.body.get("email").is_none());
    assert_eq!(put.body["language"], json!("ru"));
    assert_eq!(put.body["fullName"], json!("Moychechak Toshmatova"));
    assert_eq!(app.get(&path, Some(&op)).await.body, put.body);
    let taken = app.call(Method::PUT, &path, Some(&op), Some(json!({"phone": "+998935554433"}))).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(app.call(Method::PUT, &path, Some(&op), Some(json!({}))).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/api/users/nope", Some(&op)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/api/users/u_missing", Some(&op)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn twilio_tokens_carry_the_documented_claims() {
    let app = TestApp::spawn_with(&[
        ("twilio_account_sid", "ACtest0001"),
        ("twilio_api_key_sid", "SKtest0002"),
        ("twilio_api_key_secret", "key-secret"),
        ("twilio_twiml_app_sid", "APtest0003"),
        ("twilio_token_ttl", "30m"),
    ])
    .await;
    let (id, email, password) = app.create_user("operator").await;
    let op = app.token(&email, &password).await;
    let res = app.get("/api/twilio/token", Some(&op)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["expiresIn"], json!(1800));
    let token = res.body["token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.cty.as_deref(), Some("twilio-fpa;v=1"));
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    let claims: serde_json::Value =
        jsonwebtoken::decode(token, &jsonwebtoken::DecodingKey::from_secret(b"key-secret"), &validation)
            .unwrap()
            .claims;
    assert_eq!(claims["iss"], json!("SKtest0002"));
    assert_eq!(claims["sub"], json!("ACtest0001"));
    assert_eq!(claims["jti"], json!(format!("SKtest0002-{}", claims["iat"])));
    let identity = claims["grants"]["identity"].as_str().unwrap();
    assert!(
        identity.ends_with(&format!("_{id}")) && identity.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "{identity}"
    );
    assert_eq!(
        claims["grants"]["voice"],
        json!({"incoming": {"allow": true}, "outgoing": {"application_sid": "APtest0003"}})
    );
}

#[tokio::test]
async fn twilio_token_without_configuration_is_503_naming_the_keys() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let res = app.get("/api/twilio/token", Some(&op)).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    let message = res.body["message"].as_str().unwrap();
    assert!(message.contains("TWILIO_ACCOUNT_SID") && message.contains("TWILIO_API_KEY_SECRET"), "{message}");
    assert_eq!(res.body["error"], res.body["message"]);
    let (_, email, password) = app.create_user("financial_director").await;
    let fd = app.token(&email, &password).await;
    assert_eq!(app.get("/api/twilio/token", Some(&fd)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn caller_memory_is_read_replaced_and_validated() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let res = app.post("/api/users", Some(&op), json!({"fullName": "Moychechak", "phone": "+998901112233"})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let path = format!("/api/users/{}/context", res.body["id"].as_str().unwrap());
    let empty = app.get(&path, Some(&op)).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert_eq!(empty.body["aiContext"], json!({"knownName": null, "personalityNotes": [], "conversationHistory": []}));
    assert_eq!(empty.body["userId"], res.body["id"]);

    let memory = json!({"aiContext": {
        "knownName": " Moychechak ",
        "personalityNotes": ["Ta'lim dasturlari haqida qiziqadi"],
        "conversationHistory": ["Grantlar haqida ma'lumot so'radi (2026-01-21)"]
    }});
    let put = app.call(Method::PUT, &path, Some(&op), Some(memory)).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.body["aiContext"]["knownName"], json!("Moychechak"));
    let read = app.get(&path, Some(&op)).await;
    assert_eq!(read.body, put.body, "stored as answered");

    let too_long = json!({"aiContext": {"knownName": "x".repeat(101)}});
    let bad = app.call(Method::PUT, &path, Some(&op), Some(too_long)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["details"]["knownName"].is_array(), "{}", bad.text);
    let malformed = json!({"aiContext": {"personalityNotes": "one string"}});
    assert_eq!(app.call(Method::PUT, &path, Some(&op), Some(malformed)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get(&path, Some(&op)).await.body, put.body, "refused changes leave the memory as it was");

    assert_eq!(app.get("/api/users/u_nobody/context", Some(&op)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/users/nobody/context", Some(&op)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get(&path, None).await.status, StatusCode::UNAUTHORIZED);
}
