//! VoIP: outbound calls through a fake Twilio, signed status callbacks, the VoIP call list,
//! history deletion, and knowledge documents.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use telephony::calls::signature;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AUTH_TOKEN: &str = "twilio-auth-token";
const PUBLIC: &str = "https://crm.test";

async fn staff(app: &TestApp, role: &str) -> String {
    let (_, email, password) = app.create_user(role).await;
    app.token(&email, &password).await
}

/// A server wired to a fake Twilio that accepts calls to +998901234567.
async fn with_twilio() -> (TestApp, MockServer) {
    let twilio = MockServer::start().await;
    let placed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path("/2010-04-01/Accounts/AC1/Calls.json"))
        .and(body_string_contains("To=%2B998901234567"))
        .and(body_string_contains("ApplicationSid=AP1"))
        .respond_with(move |_: &wiremock::Request| {
            // CA100, CA101, …: Twilio gives every call its own sid.
            let n = placed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ResponseTemplate::new(201).set_body_json(json!({"sid": format!("CA{}", 100 + n), "status": "queued"}))
        })
        .mount(&twilio)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"code": 21215, "message": "Geo permission missing"})),
        )
        .mount(&twilio)
        .await;
    let uri = twilio.uri();
    let app = TestApp::spawn_with(&[
        ("twilio_account_sid", "AC1"),
        ("twilio_auth_token", AUTH_TOKEN),
        ("twilio_from_number", "+15005550006"),
        ("twilio_twiml_app_sid", "AP1"),
        ("public_base_url", PUBLIC),
        ("twilio_api_base", &uri),
    ])
    .await;
    (app, twilio)
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Posts a status callback, signed with `token` (or not at all).
async fn callback(app: &TestApp, query: &str, params: &[(String, String)], token: Option<&str>) -> Resp {
    let path = format!("/api/voip/twilio/status{query}");
    let mut req = app
        .client
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(params).unwrap());
    if let Some(t) = token {
        req = req.header("X-Twilio-Signature", signature(t, &format!("{PUBLIC}{path}"), params));
    }
    Resp::from(req.send().await.unwrap()).await
}

#[tokio::test]
async fn without_twilio_no_call_is_placed_or_recorded() {
    let app = TestApp::spawn().await;
    let op = staff(&app, "operator").await;
    let res = app.post("/api/voip/call", Some(&op), json!({"model": "voice", "targetNumber": "+998901234567"})).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{}", res.text);
    let message = res.body["error"].as_str().unwrap();
    assert!(message.contains("TWILIO_ACCOUNT_SID") && message.contains("PUBLIC_BASE_URL"), "{message}");
    assert_eq!(app.get("/api/voip/calls", Some(&op)).await.body, json!([]));
    let unsigned = callback(&app, "", &form(&[("CallSid", "CA1"), ("CallStatus", "completed")]), None).await;
    assert_eq!(unsigned.status, StatusCode::SERVICE_UNAVAILABLE, "callbacks cannot be verified: {}", unsigned.text);
}

#[tokio::test]
async fn voip_calls_are_validated() {
    let (app, _twilio) = with_twilio().await;
    let op = staff(&app, "operator").await;
    for (body, field) in [
        (json!({"targetNumber": "+998901234567"}), "model"),
        (json!({"model": "voice"}), "targetNumber"),
        (json!({"model": "voice", "targetNumber": "12ab"}), "targetNumber"),
        (json!({"model": "voice", "targetNumber": "+998901234567", "speed": 7}), "speed"),
        (json!({"model": "voice", "targetNumber": "+998901234567", "noiseGain": "loud"}), "noiseGain"),
    ] {
        let res = app.post("/api/voip/call", Some(&op), body.clone()).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{body}: {}", res.text);
        assert!(res.body["details"].get(field).is_some(), "{body}: {}", res.text);
    }
    assert_eq!(app.post("/api/voip/call", None, json!({})).await.status, StatusCode::UNAUTHORIZED);
    let refused =
        app.post("/api/voip/call", Some(&op), json!({"model": "voice", "targetNumber": "+998935554433"})).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.body["error"].as_str().unwrap().contains("Geo permission missing"));
    let calls = app.get("/api/voip/calls", Some(&op)).await.body;
    assert_eq!(calls.as_array().unwrap().len(), 1, "the refused call is recorded as failed: {calls}");
    assert_eq!(calls[0]["status"], json!("failed"));
}

#[tokio::test]
async fn a_call_is_placed_then_completed_by_signed_callbacks_and_logged_in_the_crm() {
    let (app, _twilio) = with_twilio().await;
    let ceo = app.admin_token().await;
    let customer =
        app.v1_customer(&ceo, json!({"name": "Moychechak", "email": "m@x.uz", "phone": "90 123 45 67"})).await;
    let op = staff(&app, "operator").await;

    let res = app
        .post(
            "/api/voip/call",
            Some(&op),
            json!({"model": "voice-uz", "targetNumber": "90 123 45 67", "prompt": "Grant"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert!(res.body["message"].is_string());
    let call_id = res.body["callId"].as_str().unwrap().to_string();
    let call = app.get(&format!("/api/calls/{call_id}"), Some(&op)).await.body;
    assert_eq!(call["status"], json!("processing"));
    assert_eq!(call["direction"], json!("outbound"));
    let caller = app.get(&format!("/api/users/{}", call["userId"].as_str().unwrap()), Some(&op)).await.body;
    assert_eq!(caller["phone"], json!("+998901234567"));
    assert_eq!(caller["customerId"], customer["id"], "the caller is linked to the CRM customer");

    let query = format!("?callId={call_id}");
    let ringing = form(&[("CallSid", "CA100"), ("CallStatus", "ringing")]);
    assert_eq!(callback(&app, &query, &ringing, None).await.status, StatusCode::FORBIDDEN, "unsigned");
    assert_eq!(callback(&app, &query, &ringing, Some("wrong-token")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(callback(&app, &query, &ringing, Some(AUTH_TOKEN)).await.status, StatusCode::NO_CONTENT);
    let done = form(&[
        ("CallSid", "CA100"),
        ("CallStatus", "completed"),
        ("CallDuration", "75"),
        ("RecordingUrl", "https://api.twilio.com/rec/RE1"),
    ]);
    let res = callback(&app, &query, &done, Some(AUTH_TOKEN)).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    // A late, out-of-order report does not reopen the call.
    let late = form(&[("CallSid", "CA100"), ("CallStatus", "in-progress")]);
    assert_eq!(callback(&app, "", &late, Some(AUTH_TOKEN)).await.status, StatusCode::NO_CONTENT, "found by CallSid");
    let call = app.get(&format!("/api/calls/{call_id}"), Some(&op)).await.body;
    assert_eq!(call["status"], json!("completed"));
    assert_eq!(call["durationSec"], json!(75));
    assert_eq!(call["recordingUrl"], json!("https://api.twilio.com/rec/RE1"));
    assert!(call["endedAt"].is_string());

    let activities = app.get(&format!("/api/v1/activities?customerId={}&type=call", customer["id"]), Some(&ceo)).await;
    let list = activities.body["data"]["activities"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "exactly one activity, however many callbacks: {}", activities.text);
    assert!(list[0]["description"].as_str().unwrap().contains("+998901234567"));

    let bad =
        callback(&app, &query, &form(&[("CallSid", "CA100"), ("CallStatus", "exploded")]), Some(AUTH_TOKEN)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let unknown =
        callback(&app, "", &form(&[("CallSid", "CA999"), ("CallStatus", "completed")]), Some(AUTH_TOKEN)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let voip = app.get("/api/voip/calls?number=901234567&status=completed", Some(&op)).await;
    assert_eq!(voip.status, StatusCode::OK);
    let item = &voip.body[0];
    assert_eq!(item["number"], json!("+998901234567"));
    assert_eq!(item["duration"], json!(75));
    assert_eq!(serde_json::from_str::<Value>(item["chatHistory"].as_str().unwrap()).unwrap(), json!([]));
    for key in ["summary", "topic", "createdAt", "status"] {
        assert!(item.get(key).is_some(), "{key}: {item}");
    }
    assert_eq!(app.get("/api/voip/calls?status=missed", Some(&op)).await.body, json!([]));
    assert_eq!(app.get("/api/voip/calls?status=nope", Some(&op)).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn history_is_deleted_by_supervisors_only() {
    let (app, _twilio) = with_twilio().await;
    let op = staff(&app, "operator").await;
    for _ in 0..2 {
        let res = app.post("/api/voip/call", Some(&op), json!({"model": "v", "targetNumber": "+998901234567"})).await;
        assert_eq!(res.status, StatusCode::CREATED);
    }
    let path = "/api/voip/history/+998901234567";
    assert_eq!(app.call(Method::DELETE, path, Some(&op), None).await.status, StatusCode::FORBIDDEN);
    let sup = staff(&app, "supervisor").await;
    let res = app.call(Method::DELETE, path, Some(&sup), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["deleted"], json!(2));
    assert!(res.body["message"].is_string());
    assert_eq!(app.get("/api/voip/calls", Some(&op)).await.body, json!([]));
    assert_eq!(app.get("/api/calls", Some(&op)).await.body["total"], json!(0));
    let bad = app.call(Method::DELETE, "/api/voip/history/not-a-number", Some(&sup), None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// A multipart body with one `file` field.
fn multipart(name: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----crmtestboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn upload(app: &TestApp, token: &str, name: &str, data: &[u8]) -> Resp {
    let (content_type, body) = multipart(name, data);
    let res = app
        .client
        .post(format!("{}/api/voip/file", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    Resp::from(res).await
}

#[tokio::test]
async fn knowledge_files_are_checked_by_content_and_size() {
    let app = TestApp::spawn_with(&[("upload_max_bytes", "2048")]).await;
    let op = staff(&app, "operator").await;
    let text = "# Narxlar\nKontrakt: 12 000 000 so'm".as_bytes();
    let res = upload(&app, &op, "narxlar.md", text).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.body["fileId"].as_i64().unwrap();
    assert!(res.body["message"].is_string());
    let pdf = doctext::fixtures::pdf("Kontrakt narxi 12 million");
    assert_eq!(upload(&app, &op, "doc.pdf", &pdf).await.status, StatusCode::CREATED);
    // A pdf in name and header only: no text can be read, so the assistant could not use it.
    let res = upload(&app, &op, "broken.pdf", b"%PDF-1.4\n%\xe2\xe3 garbage garbage").await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", res.text);

    let res = upload(&app, &op, "fake.pdf", b"plain text pretending").await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", res.text);
    assert_eq!(upload(&app, &op, "tool.exe", b"MZ\x90\x00").await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(upload(&app, &op, "data.json", b"{not json").await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = upload(&app, &op, "big.txt", &[b'a'; 4096]).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.text);
    assert!(res.body["error"].as_str().unwrap().contains("2048"));
    let res = app.post("/api/voip/file", Some(&op), json!({"file": "x"})).await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "JSON is not an upload");

    let list = app.get("/api/voip/file", Some(&op)).await;
    assert_eq!(list.status, StatusCode::OK);
    let files = list.body.as_array().unwrap();
    assert_eq!(files.len(), 2, "refused uploads are not stored");
    let md = files.iter().find(|f| f["id"] == json!(id)).unwrap();
    assert_eq!(md["name"], json!("narxlar.md"));
    assert_eq!(md["bytes"], json!(text.len()));
    assert!(md["created_at"].as_i64().unwrap() > 1_700_000_000);

    let res = app.client.get(format!("{}/api/voip/file/{id}", app.base)).bearer_auth(&op).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/markdown; charset=utf-8");
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("narxlar.md"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), text);
    assert_eq!(app.get("/api/voip/file/abc", Some(&op)).await.status, StatusCode::BAD_REQUEST);

    let path = format!("/api/voip/file/{id}");
    assert_eq!(app.call(Method::DELETE, &path, Some(&op), None).await.status, StatusCode::FORBIDDEN);
    let sup = staff(&app, "supervisor").await;
    assert_eq!(app.call(Method::DELETE, &path, Some(&sup), None).await.status, StatusCode::OK);
    assert_eq!(app.get(&path, Some(&op)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/voip/file", None).await.status, StatusCode::UNAUTHORIZED);
}

/// The call-center UI builds call ids from `/api/voip/calls` (`call_<index>_<number>`, the
/// number not URL-encoded) and caller ids from phones (`u_<digits>`); both must resolve
/// on the data `seed-demo` leaves.
#[tokio::test]
async fn ids_the_ui_builds_resolve_to_calls_and_callers() {
    use persistence::seed_callcenter::{CallcenterPlan, seed_callcenter};
    let app = TestApp::spawn().await;
    let db = sea_orm::Database::connect(app.database_url.as_str()).await.unwrap();
    seed_callcenter(&db, CallcenterPlan { callers: 8, chats: 4, calls: 40, days: 10 }, 7).await.unwrap();
    db.close().await.ok();
    let token = app.admin_token().await;

    let voip = app.get("/api/voip/calls", Some(&token)).await;
    let calls = voip.body.as_array().unwrap().clone();
    assert_eq!(calls.len(), 40);
    for (index, call) in calls.iter().enumerate().step_by(7) {
        let number = call["number"].as_str().unwrap();
        let res = app.get(&format!("/api/calls/call_{index}_{number}"), Some(&token)).await;
        assert_eq!(res.status, StatusCode::OK, "call_{index}_{number}: {}", res.text);
        assert_eq!(res.body["id"], call["id"], "the call at that position");
    }
    // The list moved on (a new call came first): the number's most recent call answers.
    let first_number = calls[0]["number"].as_str().unwrap();
    let latest = calls.iter().find(|c| c["number"] == calls[0]["number"]).unwrap();
    let moved = app.get(&format!("/api/calls/call_39_{first_number}"), Some(&token)).await;
    if calls[39]["number"] != calls[0]["number"] {
        assert_eq!(moved.body["id"], latest["id"], "{}", moved.text);
    }
    let unknown = app.get("/api/calls/call_0_+998990000001", Some(&token)).await;
    assert_cc_error(&unknown, StatusCode::NOT_FOUND, "Call call_0_+998990000001 not found");

    // Callers with a phone carry the id the UI builds, and every call's caller resolves.
    let callers = app.get("/api/users?pageSize=100", Some(&token)).await;
    for c in callers.body.as_array().unwrap() {
        let digits: String = c["phone"].as_str().unwrap().chars().filter(char::is_ascii_digit).collect();
        assert_eq!(c["id"], json!(format!("u_{digits}")));
    }
    for call in calls.iter().take(10) {
        let digits: String = call["number"].as_str().unwrap().chars().filter(char::is_ascii_digit).collect();
        let caller = app.get(&format!("/api/users/u_{digits}"), Some(&token)).await;
        assert_eq!(caller.status, StatusCode::OK, "{}", caller.text);
        assert!(caller.body["fullName"].as_str().is_some_and(|n| !n.is_empty()));
    }

    // New callers get the phone id too; one stored under another id is found by its phone.
    let created =
        app.post("/api/users", Some(&token), json!({"fullName": "Nodira", "phone": "+998 93 111 22 33"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["id"], json!("u_998931112233"));
    app.store_caller("u_legacy_7", "Legacy Caller", "+998935556677").await;
    let found = app.get("/api/users/u_998935556677", Some(&token)).await;
    assert_eq!(found.body["id"], json!("u_legacy_7"), "{}", found.text);
    let context = app.get("/api/users/u_998935556677/context", Some(&token)).await;
    assert_eq!(context.status, StatusCode::OK, "{}", context.text);
}
