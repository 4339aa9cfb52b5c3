//! `/api/calls`, `/api/chats`, `/api/dashboard/summary`, `/api/statistics`, `/api/analytics`
//! against hand-counted data.

use crate::cc_records::CallRow;
use crate::support::*;
use chrono::{Duration, DurationRound, Utc};
use reqwest::StatusCode;
use serde_json::json;

async fn operator(app: &TestApp) -> String {
    let (_, email, password) = app.create_user("operator").await;
    app.token(&email, &password).await
}

/// Two callers, six calls over two months, three chats.
async fn hand_counted(app: &TestApp) {
    let now = Utc::now();
    let today = now.duration_trunc(Duration::days(1)).unwrap();
    app.store_caller("u_1001", "Moychechak Toshmatova", "+998901112233").await;
    app.store_caller("u_1002", "Aziz Karimov", "+998935554433").await;
    let call = |id, caller, status, started_at, duration, topic, escalated| CallRow {
        id,
        caller,
        status,
        started_at,
        duration,
        topic,
        escalated,
    };
    for row in [
        call("call_a", "u_1001", "completed", today + Duration::minutes(1), Some(100), Some("Grantlar"), false),
        call("call_b", "u_1002", "completed", today + Duration::minutes(2), Some(201), Some("Grantlar"), true),
        call("call_c", "u_1001", "missed", today - Duration::days(1) + Duration::hours(3), None, None, false),
        call("call_d", "u_1002", "failed", today - Duration::days(3), None, Some("Imtihonlar"), false),
        call("call_e", "u_1001", "completed", today - Duration::days(40), Some(60), Some("Imtihonlar"), false),
        call("call_f", "u_1002", "processing", now - Duration::seconds(5), None, None, false),
    ] {
        app.store_call(row).await;
    }
    let msgs = [("user", "Salom", 0, None), ("ai", "Assalomu alaykum!", 2, Some(2000))];
    app.store_chat("chat_1", "u_1001", "open", now - Duration::hours(2), Some("Grantlar"), &msgs).await;
    let slow = [("user", "Savol", 0, None), ("ai", "Javob", 4, Some(4000))];
    app.store_chat("chat_2", "u_1002", "resolved", now - Duration::days(2), Some("Kontrakt"), &slow).await;
    app.store_chat("chat_3", "u_1002", "escalated", now - Duration::days(20), None, &[]).await;
}

#[tokio::test]
async fn statistics_match_hand_counts() {
    let app = TestApp::spawn().await;
    hand_counted(&app).await;
    let op = operator(&app).await;
    let res = app.get("/api/statistics?days=7&months=3", Some(&op)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let s = &res.body;
    assert_eq!(s["totalCalls"], json!(6));
    assert_eq!(s["averageDuration"], json!(120), "(100 + 201 + 60) / 3 = 120.3");
    let daily = s["dailyCalls"].as_array().unwrap();
    assert_eq!(daily.len(), 7, "every day of the window, zeros included");
    let today = Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(daily[6], json!({"date": today, "count": 3}));
    assert_eq!(daily[5]["count"], json!(1));
    assert_eq!(daily[4]["count"], json!(0));
    assert_eq!(daily[3]["count"], json!(1));
    let monthly = s["monthlyCalls"].as_array().unwrap();
    assert_eq!(monthly.len(), 3);
    assert_eq!(monthly[2]["month"], json!(Utc::now().format("%Y-%m").to_string()));
    assert_eq!(monthly.iter().map(|m| m["count"].as_i64().unwrap()).sum::<i64>(), 6, "40 days back is within 3 months");
    assert_eq!(
        s["topicsFrequency"],
        json!([{"topic": "Grantlar", "count": 2}, {"topic": "Imtihonlar", "count": 2}]),
        "by count, then name; calls only"
    );
    let default = app.get("/api/statistics", Some(&op)).await;
    assert_eq!(default.body["dailyCalls"].as_array().unwrap().len(), 30);
    assert_eq!(default.body["monthlyCalls"].as_array().unwrap().len(), 12);
    let bad = app.get("/api/statistics?days=0", Some(&op)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["details"]["days"], json!(["days must be between 1 and 366."]));
    assert_eq!(app.get("/api/statistics?days=abc", Some(&op)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/api/statistics", None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn dashboard_and_analytics_match_hand_counts() {
    let app = TestApp::spawn().await;
    hand_counted(&app).await;
    let op = operator(&app).await;
    let d = app.get("/api/dashboard/summary", Some(&op)).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    let calls_today = if Utc::now() - Utc::now().duration_trunc(Duration::days(1)).unwrap() > Duration::seconds(5) {
        3
    } else {
        2 // just after midnight the processing call may still be yesterday's
    };
    assert_eq!(d.body["callsToday"], json!(calls_today));
    assert_eq!(d.body["activeChats"], json!(1));
    assert_eq!(d.body["avgResponseSec"], json!(3.0), "(2 s + 4 s) / 2");
    // Last 7 days: calls a (AI), b (escalated) completed; chats 2 resolved. (1 + 1) / 3.
    assert_eq!(d.body["aiSuccessRate"], json!(0.67));
    assert_eq!(d.body["recentCalls"].as_array().unwrap().len(), 5);
    assert_eq!(d.body["recentCalls"][0]["id"], json!("call_f"), "most recent first");
    assert_eq!(d.body["recentChats"][0]["id"], json!("chat_1"));
    assert_eq!(d.body["recentChats"][0]["messages"], json!([]));

    let week = app.get("/api/analytics", Some(&op)).await;
    assert_eq!(week.status, StatusCode::OK, "{}", week.text);
    let a = &week.body;
    assert_eq!(a["range"], json!("7d"));
    assert_eq!(
        (a["callsTotal"].as_i64(), a["callsAnswered"].as_i64(), a["callsMissed"].as_i64()),
        (Some(5), Some(2), Some(1))
    );
    assert_eq!((a["chatsTotal"].as_i64(), a["chatsResolved"].as_i64()), (Some(2), Some(1)));
    assert_eq!(a["avgHandleTimeSec"], json!(151), "(100 + 201) / 2 = 150.5");
    assert_eq!(a["avgResponseSec"], json!(3.0));
    assert_eq!(a["topTopics"][0], json!({"topic": "Grantlar", "count": 3}), "two calls and one chat");
    let series = a["callsSeries"].as_array().unwrap();
    assert_eq!(series.len(), 7);
    let today = Utc::now().duration_trunc(Duration::days(1)).unwrap();
    assert_eq!(series[6]["t"], json!(today.format("%Y-%m-%dT%H:%M:%SZ").to_string()));
    assert_eq!(series.iter().map(|p| p["value"].as_i64().unwrap()).sum::<i64>(), 5);
    assert_eq!(a["chatsSeries"].as_array().unwrap().len(), 7);

    let day = app.get("/api/analytics?range=24h", Some(&op)).await;
    assert_eq!(day.body["callsSeries"].as_array().unwrap().len(), 24, "hourly");
    assert_eq!(day.body["chatsTotal"], json!(1));
    let month = app.get("/api/analytics?range=30d", Some(&op)).await;
    assert_eq!(month.body["chatsTotal"], json!(3));
    assert_eq!(month.body["callsSeries"].as_array().unwrap().len(), 30);
    assert_eq!(app.get("/api/analytics?range=1y", Some(&op)).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn calls_are_listed_filtered_searched_and_read() {
    let app = TestApp::spawn().await;
    hand_counted(&app).await;
    let op = operator(&app).await;
    let all = app.get("/api/calls", Some(&op)).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(
        (all.body["page"].as_u64(), all.body["pageSize"].as_u64(), all.body["total"].as_u64()),
        (Some(1), Some(20), Some(6))
    );
    let first = &all.body["items"][0];
    assert_eq!(first["id"], json!("call_f"));
    assert_eq!(first["status"], json!("processing"));
    assert!(first.get("endedAt").is_none() && first.get("durationSec").is_none());
    let completed = app.get("/api/calls?status=completed&pageSize=2&page=2", Some(&op)).await;
    assert_eq!(completed.body["total"], json!(3));
    assert_eq!(completed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(completed.body["items"][0]["id"], json!("call_e"));
    assert_eq!(app.get("/api/calls?status=all", Some(&op)).await.body["total"], json!(6));
    let search = app.get("/api/calls?query=IMTIHON", Some(&op)).await;
    assert_eq!(search.body["total"], json!(2));
    let bad = app.get("/api/calls?status=lost", Some(&op)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["error"].as_str().unwrap().contains("status must be"));
    assert_eq!(app.get("/api/calls?pageSize=1000", Some(&op)).await.status, StatusCode::BAD_REQUEST);

    let one = app.get("/api/calls/call_a", Some(&op)).await;
    assert_eq!(one.status, StatusCode::OK);
    let c = &one.body;
    assert_eq!(c["userId"], json!("u_1001"));
    assert_eq!(c["direction"], json!("inbound"));
    assert_eq!(c["durationSec"], json!(100));
    assert_eq!(c["operatorName"], json!("Demo Operator"));
    assert_eq!(c["transcript"], json!("Operator: Salom\nUser: Grant haqida"));
    assert_eq!(c["tags"], json!(["education"]));
    assert_eq!(c["sentiment"], json!("positive"));
    assert!(c["startedAt"].as_str().unwrap().ends_with('Z') && c["endedAt"].is_string());
    assert_cc_error(&app.get("/api/calls/call_zz", Some(&op)).await, StatusCode::NOT_FOUND, "Call call_zz not found");
    assert_eq!(app.get("/api/calls", None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn chats_are_listed_and_read_with_messages() {
    let app = TestApp::spawn().await;
    hand_counted(&app).await;
    let op = operator(&app).await;
    let all = app.get("/api/chats?pageSize=2", Some(&op)).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.body["total"], json!(3));
    assert_eq!(all.body["items"][0]["id"], json!("chat_1"), "most recently updated first");
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    let open = app.get("/api/chats?status=open", Some(&op)).await;
    assert_eq!(open.body["total"], json!(1));
    let found = app.get("/api/chats?query=kontrakt&status=all", Some(&op)).await;
    assert_eq!(found.body["items"][0]["id"], json!("chat_2"));
    assert_eq!(app.get("/api/chats?status=closed", Some(&op)).await.status, StatusCode::BAD_REQUEST);

    let chat = app.get("/api/chats/chat_1", Some(&op)).await;
    assert_eq!(chat.status, StatusCode::OK);
    let c = &chat.body;
    for key in
        ["id", "userId", "status", "createdAt", "updatedAt", "topic", "tags", "sentiment", "aiSummary", "messages"]
    {
        assert!(c.get(key).is_some(), "{key} missing: {c}");
    }
    assert_eq!(c["userId"], json!("u_1001"));
    let messages = c["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], json!("user"));
    assert_eq!(messages[1]["text"], json!("Assalomu alaykum!"));
    assert!(messages[1]["timestamp"].is_string() && messages[1]["id"].is_string());
    assert_eq!(app.get("/api/chats/chat_nope", Some(&op)).await.status, StatusCode::NOT_FOUND);
}
