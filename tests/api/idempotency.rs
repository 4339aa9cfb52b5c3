//! `Idempotency-Key` on every surface's `POST`: repeats replayed, other bodies refused,
//! concurrent repeats refused, per caller.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post_keyed(app: &TestApp, path: &str, token: &str, key: &str, body: Value) -> Resp {
    let req =
        app.client.post(format!("{}{path}", app.base)).bearer_auth(token).header("Idempotency-Key", key).json(&body);
    Resp::from(req.send().await.unwrap()).await
}

#[tokio::test]
async fn a_repeated_request_gets_the_first_answer_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for (path, body, count) in [
        ("/api/crm/accounts/", json!({"name": "Once"}), "/api/crm/accounts/"),
        ("/api/v1/customers", json!({"name": "Once v1"}), "/api/crm/accounts/"),
        ("/api/qa", json!({"title": "Narx?", "answer": "1 mln"}), "/api/qa"),
    ] {
        let before = app.get(count, Some(&token)).await.body;
        let first = post_keyed(&app, path, &token, &format!("key-{path}"), body.clone()).await;
        assert_eq!(first.status, StatusCode::CREATED, "{path}: {}", first.text);
        let again = post_keyed(&app, path, &token, &format!("key-{path}"), body).await;
        assert_eq!((again.status, again.body.clone()), (first.status, first.body.clone()), "{path}");
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        let after = app.get(count, Some(&token)).await.body;
        let total = |v: &Value| match v.as_array() {
            Some(items) => items.len() as i64,
            None => v["count"].as_i64().unwrap_or(-1),
        };
        assert_eq!(total(&after), total(&before) + 1, "{path}: one record, not two: {after}");
    }
    let other =
        post_keyed(&app, "/api/crm/accounts/", &token, "key-/api/crm/accounts/", json!({"name": "Different"})).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", other.text);
    assert_eq!(other.body["error"]["status_code"], json!(422), "the REST envelope: {}", other.text);
}

#[tokio::test]
async fn concurrent_repeats_store_one_record_and_keys_belong_to_their_caller() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let attempts = (0..6).map(|_| {
        post_keyed(&app, "/api/crm/contacts/", &token, "race-1", json!({"first_name": "Ra", "last_name": "Ce"}))
    });
    let answers = futures_util::future::join_all(attempts).await;
    let created = answers.iter().filter(|r| r.status == StatusCode::CREATED).count();
    assert!(created >= 1, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(answers.iter().all(|r| r.status == StatusCode::CREATED || r.status == StatusCode::CONFLICT));
    let ids: std::collections::BTreeSet<String> =
        answers.iter().filter(|r| r.status == StatusCode::CREATED).map(|r| r.body["id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "every 201 is the same record");
    assert_eq!(app.get("/api/crm/contacts/", Some(&token)).await.body["count"], json!(1));

    let (_, email, password) = app.create_user("sales_manager").await;
    let other = app.token(&email, &password).await;
    let theirs =
        post_keyed(&app, "/api/crm/contacts/", &other, "race-1", json!({"first_name": "Ot", "last_name": "Her"})).await;
    assert_eq!(theirs.status, StatusCode::CREATED, "another caller's key is another key: {}", theirs.text);
    assert!(theirs.header("idempotent-replayed").is_none());
    let bad =
        post_keyed(&app, "/api/crm/contacts/", &token, &"k".repeat(256), json!({"first_name": "A", "last_name": "B"}))
            .await;
    assert_rest_error(&bad, StatusCode::BAD_REQUEST, "ValidationError");
    let refused = post_keyed(&app, "/api/crm/contacts/", &token, "bad-once", json!({"first_name": ""})).await;
    let again = post_keyed(&app, "/api/crm/contacts/", &token, "bad-once", json!({"first_name": ""})).await;
    assert_eq!((refused.status, again.status), (StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST));
    assert_eq!(again.header("idempotent-replayed"), Some("true"), "a refusal is an answer too");
}
