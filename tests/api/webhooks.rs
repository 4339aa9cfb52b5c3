//! Outgoing webhooks end to end: a real receiver (wiremock) gets every event kind, signed as
//! `docs/webhooks.md` says; retries, timeouts, 410, dead letters, redelivery, restarts, rolled
//! back changes, and two replicas delivering each event once.

use crate::support::*;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const HOOKS: &str = "/api/integrations/webhooks/";

/// Test servers may deliver to the local receiver, and retry within seconds.
const FAST: [(&str, &str); 3] =
    [("webhook_allow_private_targets", "true"), ("webhook_retry_delays", "1,1"), ("webhook_timeout_secs", "2")];

/// The receiver's check, exactly as `docs/webhooks.md` shows it: HMAC-SHA256 of
/// `"{timestamp}.{raw body}"` with the secret, hex, after `sha256=`.
fn verified(secret: &str, req: &Request) -> bool {
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(header("x-webhook-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&req.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    header("x-webhook-signature") == expected
}

fn header(req: &Request, name: &str) -> String {
    req.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn hook(app: &TestApp, token: &str, url: &str, events: Value) -> Value {
    let res = app.post(HOOKS, Some(token), json!({"name": "receiver", "url": url, "events": events})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

/// Waits until `done` holds for the receiver's requests (at most `within`).
async fn until(receiver: &MockServer, within: Duration, done: impl Fn(&[Request]) -> bool) -> Vec<Request> {
    let started = Instant::now();
    loop {
        let got = receiver.received_requests().await.unwrap_or_default();
        if done(&got) || started.elapsed() > within {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn events_of(requests: &[Request]) -> Vec<String> {
    requests.iter().map(|r| header(r, "x-webhook-event")).collect()
}

async fn ok_receiver() -> MockServer {
    let receiver = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(204)).mount(&receiver).await;
    receiver
}

#[tokio::test]
async fn webhooks_are_managed_by_integrations_managers_and_their_secret_shows_once() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let created = hook(&app, &token, "https://hooks.example.com/crm", json!(["account.created", "deal.*"])).await;
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{secret}");
    let path = format!("{HOOKS}{}/", created["id"]);
    let read = app.get(&path, Some(&token)).await.body;
    assert_eq!(read["secret"], json!(format!("••••{}", &secret[secret.len() - 4..])));
    for key in
        ["id", "name", "url", "events", "is_active", "created_at", "last_delivery_at", "last_status", "failure_count"]
    {
        assert!(read.get(key).is_some(), "{key}");
    }
    for (body, field) in [
        (json!({"name": "x", "url": "ftp://hooks.example.com", "events": ["*"]}), "url"),
        (json!({"name": "x", "url": "http://127.0.0.1:9/x", "events": ["*"]}), "url"),
        (json!({"name": "x", "url": "http://169.254.169.254/latest", "events": ["*"]}), "url"),
        (json!({"name": "x", "url": "https://hooks.example.com", "events": ["deal.exploded"]}), "events"),
        (json!({"name": "x", "url": "https://hooks.example.com", "events": []}), "events"),
    ] {
        let res = app.post(HOOKS, Some(&token), body.clone()).await;
        assert_rest_error(&res, StatusCode::BAD_REQUEST, "ValidationError");
        assert!(res.body["error"]["details"][field].is_array(), "{body}: {}", res.text);
    }
    let (_, email, password) = app.create_user("supervisor").await;
    let supervisor = app.token(&email, &password).await;
    assert_rest_error(&app.get(HOOKS, Some(&supervisor)).await, StatusCode::FORBIDDEN, "PermissionDenied");
    assert_rest_error(&app.get(HOOKS, None).await, StatusCode::UNAUTHORIZED, "AuthenticationFailed");
    let changed = app.call(Method::PATCH, &path, Some(&token), Some(json!({"is_active": false}))).await;
    assert_eq!(changed.body["is_active"], json!(false));
    assert!(changed.body["secret"].as_str().unwrap().starts_with("••••"));
}

#[tokio::test]
async fn every_event_kind_reaches_the_receiver_signed_and_in_order_per_record() {
    let app = TestApp::spawn_with(&FAST).await;
    let token = app.admin_token().await;
    let receiver = ok_receiver().await;
    let created = hook(&app, &token, &receiver.uri(), json!(["*"])).await;
    let secret = created["secret"].as_str().unwrap().to_string();
    app.create_user("sales_manager").await;
    let stages = app.get("/api/deals/pipeline-stages/", Some(&token)).await.body["results"].clone();
    let account = app.post("/api/crm/accounts/", Some(&token), json!({"name": "Hooked"})).await.body;
    let path = format!("/api/crm/accounts/{}/", account["id"]);
    app.call(Method::PATCH, &path, Some(&token), Some(json!({"industry": "Retail"}))).await;
    let v1 = app.v1_customer(&token, json!({"name": "From v1"})).await;
    let contact = app
        .post(
            "/api/crm/contacts/",
            Some(&token),
            json!({"first_name": "A", "last_name": "B", "account": account["id"]}),
        )
        .await
        .body;
    app.call(Method::DELETE, &format!("/api/crm/contacts/{}/", contact["id"]), Some(&token), None).await;
    let lead = app
        .post("/api/crm/leads/", Some(&token), json!({"first_name": "L", "last_name": "C", "company_name": "Lead Co"}))
        .await
        .body;
    let converted = app.post(&format!("/api/crm/leads/{}/convert/", lead["id"]), Some(&token), json!({})).await;
    assert_eq!(converted.status, StatusCode::OK, "{}", converted.text);
    let deal = app
        .post(
            "/api/deals/deals/",
            Some(&token),
            json!({"name": "D", "account": account["id"], "amount": 10, "stage": stages[0]["id"]}),
        )
        .await
        .body;
    app.post(
        &format!("/api/deals/deals/{}/change-stage/", deal["id"]),
        Some(&token),
        json!({"stage": stages[2]["id"]}),
    )
    .await;
    app.post(&format!("/api/deals/deals/{}/mark-won/", deal["id"]), Some(&token), json!({})).await;
    let lost =
        app.post("/api/deals/deals/", Some(&token), json!({"name": "L", "account": v1["id"], "amount": 5})).await.body;
    app.post(&format!("/api/deals/deals/{}/mark-lost/", lost["id"]), Some(&token), json!({})).await;
    app.post("/api/activities/tasks/", Some(&token), json!({"title": "Call back"})).await;
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    let end = start + chrono::Duration::hours(1);
    app.post(
        "/api/activities/events/",
        Some(&token),
        json!({"title": "Demo", "start_date": start.to_rfc3339(), "end_date": end.to_rfc3339()}),
    )
    .await;
    let chat = app.post("/api/ai/chat", Some(&token), json!({"userId": "u_hook", "message": "Salom"})).await.body;
    let closed = app
        .post(
            &format!("/api/chats/{}/close", chat["chatId"].as_str().unwrap()),
            Some(&token),
            json!({"status": "resolved"}),
        )
        .await;
    assert!(closed.status.is_success(), "{}", closed.text);
    let call = app
        .post(
            "/api/ai/call/start",
            Some(&token),
            json!({"userId": "u_hook", "phoneNumber": "+998901112299", "direction": "inbound"}),
        )
        .await
        .body;
    let ended = app
        .post(
            &format!("/api/ai/call/{}/end", call["callId"].as_str().unwrap()),
            Some(&token),
            json!({"sessionId": call["sessionId"]}),
        )
        .await;
    assert!(ended.status.is_success(), "{}", ended.text);
    app.call(Method::DELETE, &path, Some(&token), None).await;

    let wanted = [
        "account.created",
        "account.updated",
        "account.deleted",
        "contact.created",
        "contact.deleted",
        "lead.created",
        "lead.converted",
        "deal.created",
        "deal.updated",
        "deal.stage_changed",
        "deal.won",
        "deal.lost",
        "task.created",
        "event.created",
        "customer.assigned",
        "chat.closed",
        "call.completed",
    ];
    let got = until(&receiver, Duration::from_secs(15), |r| {
        let seen: BTreeSet<String> = events_of(r).into_iter().collect();
        wanted.iter().all(|w| seen.contains(*w)) && seen.contains("account.deleted")
    })
    .await;
    let seen: BTreeSet<String> = events_of(&got).into_iter().collect();
    for w in wanted {
        assert!(seen.contains(w), "{w} not delivered; got {seen:?}");
    }
    for req in &got {
        assert!(verified(&secret, req), "signature of {}", header(req, "x-webhook-event"));
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["id"], json!(header(req, "x-webhook-id")));
        assert_eq!(body["event"], json!(header(req, "x-webhook-event")));
        assert!(body["created_at"].is_string() && body["data"].is_object(), "{body}");
    }
    let of_account: Vec<String> = got
        .iter()
        .filter(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            header(r, "x-webhook-event").starts_with("account.") && body["data"]["id"] == account["id"]
        })
        .map(|r| header(r, "x-webhook-event"))
        .collect();
    assert_eq!(of_account, ["account.created", "account.updated", "account.deleted"], "one record's events in order");
    let moved = got.iter().find(|r| header(r, "x-webhook-event") == "deal.stage_changed").unwrap();
    let body: Value = serde_json::from_slice(&moved.body).unwrap();
    assert_eq!(body["data"]["previous_stage"]["id"], stages[0]["id"]);
    assert_eq!(body["data"]["stage"]["id"], stages[2]["id"]);
    let created_account = got.iter().find(|r| header(r, "x-webhook-event") == "account.created").unwrap();
    let body: Value = serde_json::from_slice(&created_account.body).unwrap();
    assert_eq!(body["data"]["name"], json!("Hooked"), "the record as the REST surface shows it");
}

#[tokio::test]
async fn failures_are_retried_with_the_same_id_and_a_410_deactivates_the_webhook() {
    let app = TestApp::spawn_with(&FAST).await;
    let token = app.admin_token().await;
    let flaky = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&flaky)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).with_priority(2).mount(&flaky).await;
    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(4)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&slow)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).with_priority(2).mount(&slow).await;
    let gone = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(410)).mount(&gone).await;
    let flaky_hook = hook(&app, &token, &flaky.uri(), json!(["account.created"])).await;
    hook(&app, &token, &slow.uri(), json!(["account.created"])).await;
    let gone_hook = hook(&app, &token, &gone.uri(), json!(["account.created"])).await;
    app.post("/api/crm/accounts/", Some(&token), json!({"name": "Retried"})).await;

    let got = until(&flaky, Duration::from_secs(10), |r| r.len() >= 2).await;
    assert_eq!(got.len(), 2, "one failure, one retry");
    assert_eq!(header(&got[0], "x-webhook-id"), header(&got[1], "x-webhook-id"), "the id is stable across retries");
    let got = until(&slow, Duration::from_secs(12), |r| r.len() >= 2).await;
    assert_eq!(got.len(), 2, "a timed-out attempt is retried");
    let history = app.get(&format!("{HOOKS}{}/deliveries/", flaky_hook["id"]), Some(&token)).await.body;
    let delivery = &history["results"][0];
    assert_eq!((delivery["status"].clone(), delivery["attempts"].clone()), (json!("succeeded"), json!(2)), "{history}");
    assert_eq!(delivery["response_code"], json!(200));
    assert!(!history.to_string().contains("whsec_"), "no secret in the history");

    until(&gone, Duration::from_secs(5), |r| !r.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let hook_now = app.get(&format!("{HOOKS}{}/", gone_hook["id"]), Some(&token)).await.body;
    assert_eq!(
        (hook_now["is_active"].clone(), hook_now["last_status"].clone()),
        (json!(false), json!(410)),
        "{hook_now}"
    );
    app.post("/api/crm/accounts/", Some(&token), json!({"name": "After 410"})).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(gone.received_requests().await.unwrap().len(), 1, "nothing more to a webhook that said it is gone");
}

#[tokio::test]
async fn a_dead_delivery_can_be_redelivered_and_a_ping_goes_out_at_once() {
    let app = TestApp::spawn_with(&FAST).await;
    let token = app.admin_token().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(202)).with_priority(2).mount(&receiver).await;
    let created = hook(&app, &token, &receiver.uri(), json!(["account.*"])).await;
    let deliveries = format!("{HOOKS}{}/deliveries/", created["id"]);
    app.post("/api/crm/accounts/", Some(&token), json!({"name": "Dead letter"})).await;
    until(&receiver, Duration::from_secs(10), |r| r.len() >= 3).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let history = app.get(&deliveries, Some(&token)).await.body;
    let dead = &history["results"][0];
    assert_eq!(
        (dead["status"].clone(), dead["attempts"].clone()),
        (json!("dead"), json!(3)),
        "one attempt and one per delay: {history}"
    );
    assert!(dead["last_error"].as_str().unwrap().contains("503"));
    let hook_now = app.get(&format!("{HOOKS}{}/", created["id"]), Some(&token)).await.body;
    assert_eq!(hook_now["failure_count"], json!(1));

    let again = app.post(&format!("{deliveries}{}/redeliver/", dead["id"]), Some(&token), json!({})).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.text);
    let got = until(&receiver, Duration::from_secs(5), |r| r.len() >= 4).await;
    assert_eq!(got.len(), 4);
    let ping = app.post(&format!("{HOOKS}{}/ping/", created["id"]), Some(&token), json!({})).await;
    assert_eq!((ping.status, ping.body["event"].clone()), (StatusCode::ACCEPTED, json!("ping")), "{}", ping.text);
    let got = until(&receiver, Duration::from_secs(5), |r| events_of(r).contains(&"ping".to_string())).await;
    assert!(events_of(&got).contains(&"ping".to_string()));
    assert_rest_error(
        &app.post(&format!("{HOOKS}999/ping/"), Some(&token), json!({})).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    );
}

#[tokio::test]
async fn a_rolled_back_change_emits_nothing_and_a_restart_loses_nothing() {
    let database_url = fresh_database_url().await;
    let slow_retries =
        [("webhook_allow_private_targets", "true"), ("webhook_retry_delays", "2"), ("webhook_timeout_secs", "2")];
    let app = TestApp::spawn_on(&database_url, &slow_retries).await;
    let token = app.admin_token().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).with_priority(2).mount(&receiver).await;
    hook(&app, &token, &receiver.uri(), json!(["account.created"])).await;
    app.post("/api/crm/accounts/", Some(&token), json!({"name": "One", "email": "one@x.uz"})).await;
    let refused = app.post("/api/crm/accounts/", Some(&token), json!({"name": "Two", "email": "one@x.uz"})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    until(&receiver, Duration::from_secs(5), |r| !r.is_empty()).await;
    // The first attempt failed; the server stops before the retry is due.
    app.running.handle.stop(true).await;
    let app = TestApp::spawn_on(&database_url, &slow_retries).await;
    let got = until(&receiver, Duration::from_secs(8), |r| r.len() >= 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_after = receiver.received_requests().await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got_after.len(), 2, "delivered once after the restart, not again");
    let names: Vec<String> = got_after
        .iter()
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["data"]["name"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(names, ["One", "One"], "the refused create emitted nothing");
    drop(app);
}

#[tokio::test]
async fn two_replicas_on_one_postgresql_deliver_every_event_exactly_once() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: needs PostgreSQL (TEST_DATABASE_URL)");
        return;
    }
    let database_url = fresh_database_url().await;
    let a = TestApp::spawn_on(&database_url, &FAST).await;
    let b = TestApp::spawn_on(&database_url, &FAST).await;
    let token = a.admin_token().await;
    let receiver = ok_receiver().await;
    hook(&a, &token, &receiver.uri(), json!(["account.created", "account.updated"])).await;
    let writes = (0..30).map(|i| {
        let (app, token) = (if i % 2 == 0 { &a } else { &b }, token.clone());
        async move {
            let created = app.post("/api/crm/accounts/", Some(&token), json!({"name": format!("Replica {i}")})).await;
            let path = format!("/api/crm/accounts/{}/", created.body["id"]);
            app.call(Method::PATCH, &path, Some(&token), Some(json!({"industry": "Retail"}))).await;
        }
    });
    futures_util::future::join_all(writes).await;
    let got = until(&receiver, Duration::from_secs(15), |r| r.len() >= 60).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = receiver.received_requests().await.unwrap_or(got);
    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    for r in &got {
        *per_id.entry(header(r, "x-webhook-id")).or_default() += 1;
    }
    assert_eq!(per_id.len(), 60, "every event delivered");
    assert!(per_id.values().all(|n| *n == 1), "none twice: {per_id:?}");
}
