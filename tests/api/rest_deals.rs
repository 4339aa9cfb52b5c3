//! `crm-rest-api.md` deals and pipeline stages: one deal record with `/api/v1` (a deal won
//! here is a sale on the v1 dashboard), moves recorded in the stage history, won and lost.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const DEALS: &str = "/api/deals/deals/";
const STAGES: &str = "/api/deals/pipeline-stages/";

/// The seeded stages by name.
async fn stage_ids(app: &TestApp, token: &str) -> Vec<(String, i64)> {
    let res = app.get(STAGES, Some(token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_string(), s["id"].as_i64().unwrap()))
        .collect()
}

fn stage(stages: &[(String, i64)], name: &str) -> i64 {
    stages.iter().find(|(n, _)| n == name).map(|(_, id)| *id).unwrap()
}

async fn account(app: &TestApp, token: &str, name: &str) -> i64 {
    let c = app
        .v1_customer(
            token,
            json!({"name": name, "email": format!("{}@acme.example", name.to_lowercase().replace(' ', "."))}),
        )
        .await;
    c["id"].as_i64().unwrap()
}

async fn deal(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app.post(DEALS, Some(token), body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

#[tokio::test]
async fn the_seeded_pipeline_is_listed_in_order() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = app.get(STAGES, Some(&token)).await;
    assert_eq!(res.body["count"], json!(6));
    let first = &res.body["results"][0];
    assert_eq!(first["name"], json!("Lead"));
    assert_eq!(first["description"], json!("Initial lead stage"));
    assert_eq!(first["order"], json!(0));
    assert_eq!(first["is_active"], json!(true));
    assert!(first["created_at"].is_string());
    let names: Vec<String> = stage_ids(&app, &token).await.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Lead", "Qualified", "Proposal", "Negotiation", "Contract", "Delivery"]);
}

#[tokio::test]
async fn a_deal_moves_along_the_pipeline_and_is_won() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let stages = stage_ids(&app, &token).await;
    let acme = account(&app, &token, "Acme Corporation").await;
    let created = deal(
        &app,
        &token,
        json!({"name": "New Deal", "account": acme, "amount": 25000.00, "expected_close_date": "2024-04-01", "description": "Deal description"}),
    )
    .await;
    assert_eq!(created["name"], json!("New Deal"));
    assert_eq!(created["account"], json!({"id": acme, "name": "Acme Corporation"}));
    assert_eq!(created["amount"], json!(25000.0));
    assert_eq!(created["stage"], json!({"id": stage(&stages, "Lead"), "name": "Lead"}), "the first stage by default");
    assert_eq!(created["probability"], json!(10), "the stage's probability by default");
    assert_eq!(created["status"], json!("Open"));
    assert_eq!(created["close_date"], json!(null));
    assert_eq!(created["expected_close_date"], json!("2024-04-01"));
    assert_eq!(created["owner"]["name"].as_str().map(|n| !n.is_empty()), Some(true), "the caller owns it");
    assert_eq!(created["stage_history"], json!([]));
    let id = created["id"].as_i64().unwrap();
    let path = format!("{DEALS}{id}/");

    let proposal = stage(&stages, "Proposal");
    let moved = app
        .post(&format!("{path}change-stage/"), Some(&token), json!({"stage": proposal, "notes": "Stage change notes"}))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.body["stage"], json!({"id": proposal, "name": "Proposal"}));
    assert_eq!(moved.body["probability"], json!(50));
    let history = moved.body["stage_history"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["from_stage"]["name"], json!("Lead"));
    assert_eq!(history[0]["to_stage"]["name"], json!("Proposal"));
    assert_eq!(history[0]["notes"], json!("Stage change notes"));
    assert_eq!(history[0]["changed_by"], created["owner"]);
    assert_eq!(app.get(&path, Some(&token)).await.body, moved.body, "the history is stored");
    let listed = app.get(DEALS, Some(&token)).await;
    assert!(listed.body["results"][0].get("stage_history").is_none(), "lists leave the history out");

    let bad = app.post(&format!("{path}change-stage/"), Some(&token), json!({"stage": 99999})).await;
    assert_rest_error(&bad, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(bad.body["error"]["details"]["stage"].is_array());
    let missing = app.post(&format!("{path}change-stage/"), Some(&token), json!({})).await;
    assert_eq!(missing.body["error"]["details"]["stage"], json!(["This field is required."]));
    let gone = app.post(&format!("{DEALS}99999/change-stage/"), Some(&token), json!({"stage": proposal})).await;
    assert_rest_error(&gone, StatusCode::NOT_FOUND, "NotFound");

    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1)).to_string();
    let future = app.post(&format!("{path}mark-won/"), Some(&token), json!({"close_date": tomorrow})).await;
    assert_rest_error(&future, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(future.body["error"]["details"]["close_date"].is_array());

    let won = app.post(&format!("{path}mark-won/"), Some(&token), json!({"notes": "Deal won notes"})).await;
    assert_eq!(won.status, StatusCode::OK, "{}", won.text);
    assert_eq!(won.body["status"], json!("Won"));
    assert_eq!(won.body["probability"], json!(100));
    assert_eq!(won.body["close_date"], json!(chrono::Utc::now().date_naive().to_string()));
    for action in ["mark-won", "mark-lost"] {
        let again = app.post(&format!("{path}{action}/"), Some(&token), json!({})).await;
        assert_rest_error(&again, StatusCode::CONFLICT, "Conflict");
    }

    // One record: the win is a v1 sale this month, and is logged as a deal activity.
    let v1 = app.get(&format!("/api/v1/deals/{id}"), Some(&token)).await;
    assert_eq!(v1.body["data"]["deal"]["status"], json!("completed"));
    let dashboard = app.get("/api/v1/analytics/dashboard", Some(&token)).await;
    assert_eq!(dashboard.body["data"]["monthlySales"], json!(25000.0));
    assert_eq!(dashboard.body["data"]["activeDeals"], json!(0));
    let logged = app.get(&format!("/api/activities/activities/?deal={id}"), Some(&token)).await;
    assert_eq!(logged.body["count"], json!(1), "{}", logged.text);
    assert_eq!(logged.body["results"][0]["activity_type"], json!("Deal"));
    assert_eq!(logged.body["results"][0]["description"], json!("Deal won notes"));

    // Reopening clears the close date; a lost deal keeps the day it was lost.
    let reopened = app.call(Method::PATCH, &path, Some(&token), Some(json!({"status": "Open"}))).await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.text);
    assert_eq!((reopened.body["status"].clone(), reopened.body["close_date"].clone()), (json!("Open"), json!(null)));
    let lost = app.post(&format!("{path}mark-lost/"), Some(&token), json!({"close_date": "2024-01-15"})).await;
    assert_eq!(lost.status, StatusCode::OK, "{}", lost.text);
    assert_eq!(
        (lost.body["status"].clone(), lost.body["close_date"].clone(), lost.body["probability"].clone()),
        (json!("Lost"), json!("2024-01-15"), json!(0))
    );
    let v1 = app.get(&format!("/api/v1/deals/{id}"), Some(&token)).await;
    assert_eq!(v1.body["data"]["deal"]["status"], json!("cancelled"));
}

#[tokio::test]
async fn deals_are_validated_filtered_and_shared_with_v1() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let stages = stage_ids(&app, &token).await;
    let acme = account(&app, &token, "Acme").await;
    let globex = account(&app, &token, "Globex").await;

    let invalid = app
        .post(
            DEALS,
            Some(&token),
            json!({"name": " ", "amount": -1, "probability": 101, "status": "Maybe", "stage": 99999}),
        )
        .await;
    assert_rest_error(&invalid, StatusCode::BAD_REQUEST, "ValidationError");
    for field in ["name", "account", "amount", "probability", "status"] {
        assert!(invalid.body["error"]["details"][field].is_array(), "{field}: {}", invalid.text);
    }
    let unknown = app.post(DEALS, Some(&token), json!({"name": "X", "account": 99999})).await;
    assert_rest_error(&unknown, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(unknown.body["error"]["details"]["account"].is_array());

    let negotiation = stage(&stages, "Negotiation");
    deal(&app, &token, json!({"name": "Big license", "account": acme, "amount": "1000.10", "stage": negotiation}))
        .await;
    deal(&app, &token, json!({"name": "Small license", "account": globex, "amount": 10, "probability": 5})).await;
    let v1 =
        app.v1_deal(&token, json!({"title": "From v1", "value": 7, "customerId": acme, "status": "completed"})).await;

    let (app, t) = (&app, token.as_str());
    let page = |q: &str| {
        let path = format!("{DEALS}?{q}");
        async move { app.get(&path, Some(t)).await }
    };
    let count = |r: &Resp| r.body["count"].as_i64().unwrap();
    assert_eq!(count(&page("").await), 3);
    assert_eq!(count(&page(&format!("account={acme}")).await), 2);
    assert_eq!(count(&page(&format!("stage={negotiation}")).await), 1);
    assert_eq!(count(&page("status=Won").await), 1);
    assert_eq!(count(&page("status=open").await), 2);
    assert_eq!(count(&page("search=LICENSE").await), 2);
    let by_amount = page("ordering=-amount").await;
    assert_eq!(by_amount.body["results"][0]["amount"], json!(1000.1));
    assert_eq!(by_amount.body["results"][0]["probability"], json!(75), "the stage's");
    let bad = page("status=Maybe").await;
    assert_rest_error(&bad, StatusCode::BAD_REQUEST, "ValidationError");

    let from_v1 = app.get(&format!("{DEALS}{}/", v1["id"]), Some(&token)).await;
    assert_eq!(from_v1.body["status"], json!("Won"));
    assert_eq!(from_v1.body["stage"]["name"], json!("Lead"));
    assert_eq!(from_v1.body["close_date"], json!(chrono::Utc::now().date_naive().to_string()));

    // A deleted deal leaves the lists until it is restored.
    let id = from_v1.body["id"].as_i64().unwrap();
    assert_eq!(
        app.call(Method::DELETE, &format!("{DEALS}{id}/"), Some(&token), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(count(&page("").await), 2);
    let restored = app.post(&format!("{DEALS}{id}/restore/"), Some(&token), json!({})).await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text);
    assert_eq!(count(&page("").await), 3);
}

#[tokio::test]
async fn stages_in_use_stay_and_inactive_ones_take_no_deals() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let stages = stage_ids(&app, &token).await;
    let acme = account(&app, &token, "Acme").await;
    let lead = stage(&stages, "Lead");
    deal(&app, &token, json!({"name": "A", "account": acme})).await;
    deal(&app, &token, json!({"name": "B", "account": acme})).await;

    let refused = app.call(Method::DELETE, &format!("{STAGES}{lead}/"), Some(&token), None).await;
    assert_rest_error(&refused, StatusCode::CONFLICT, "Conflict");
    assert_eq!(refused.body["error"]["details"]["count"], json!(2));

    let dup = app.post(STAGES, Some(&token), json!({"name": "lead"})).await;
    assert_rest_error(&dup, StatusCode::CONFLICT, "Conflict");
    // A deal's status, amount and stage are never null, on create as on change (decision 0016).
    let account_id = account(&app, &token, "Null Co").await;
    let null_deal = app
        .post(
            "/api/deals/deals/",
            Some(&token),
            json!({"name": "N", "account": account_id, "status": null, "amount": null, "stage": null}),
        )
        .await;
    assert_rest_error(&null_deal, StatusCode::BAD_REQUEST, "ValidationError");
    for field in ["status", "amount", "stage"] {
        assert_eq!(null_deal.body["error"]["details"][field], json!(["This field may not be null."]), "{field}");
    }
    // Flags, order and probability are never null, on create as on change, as documented.
    let null = app.post(STAGES, Some(&token), json!({"name": "Closing", "probability": null, "is_active": null})).await;
    assert_rest_error(&null, StatusCode::BAD_REQUEST, "ValidationError");
    assert_eq!(
        null.body["error"]["details"],
        json!({"probability": ["This field may not be null."], "is_active": ["This field may not be null."]})
    );
    let created = app.post(STAGES, Some(&token), json!({"name": "Closing", "order": 7, "probability": 95})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["probability"], json!(95));
    let closing = created.body["id"].as_i64().unwrap();
    let names: Vec<String> = stage_ids(&app, &token).await.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.last().map(String::as_str), Some("Closing"), "listed by order");

    let off =
        app.call(Method::PATCH, &format!("{STAGES}{closing}/"), Some(&token), Some(json!({"is_active": false}))).await;
    assert_eq!(off.body["is_active"], json!(false));
    let at_inactive = app.post(DEALS, Some(&token), json!({"name": "C", "account": acme, "stage": closing})).await;
    assert_rest_error(&at_inactive, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(at_inactive.body["error"]["details"]["stage"].is_array());
    assert_eq!(app.get(&format!("{STAGES}?is_active=false"), Some(&token)).await.body["count"], json!(1));

    let deleted = app.call(Method::DELETE, &format!("{STAGES}{closing}/"), Some(&token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(STAGES, Some(&token)).await.body["count"], json!(6));
}

#[tokio::test]
async fn members_read_deals_but_only_writers_move_them() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let acme = account(&app, &token, "Acme").await;
    let id = deal(&app, &token, json!({"name": "A", "account": acme})).await["id"].as_i64().unwrap();
    let (_, email, password) = app.create_user("operator").await;
    let viewer = app.token(&email, &password).await;
    assert_eq!(app.get(DEALS, Some(&viewer)).await.status, StatusCode::OK);
    for action in ["change-stage", "mark-won", "mark-lost"] {
        let res = app.post(&format!("{DEALS}{id}/{action}/"), Some(&viewer), json!({"stage": 1})).await;
        assert_rest_error(&res, StatusCode::FORBIDDEN, "PermissionDenied");
    }
    assert_eq!(app.get(&format!("{DEALS}{id}/"), Some(&token)).await.body["status"], json!("Open"));
}
