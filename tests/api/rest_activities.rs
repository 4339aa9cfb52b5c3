//! `crm-rest-api.md` activities, tasks and events; activities are the same records as the
//! v1 surface's.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const ACTIVITIES: &str = "/api/activities/activities/";
const TASKS: &str = "/api/activities/tasks/";
const EVENTS: &str = "/api/activities/events/";

#[tokio::test]
async fn an_activity_is_one_record_on_both_surfaces() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let me = app.get("/api/core/profile/", Some(&token)).await.body["id"].as_i64().unwrap();
    let acme = app.v1_customer(&token, json!({"name": "Acme Corporation"})).await;
    let account = acme["id"].as_i64().unwrap();

    // The document's own body.
    let created = app
        .post(
            ACTIVITIES,
            Some(&token),
            json!({"subject": "Follow-up Call", "activity_type": "Call", "description": "Follow up with client about proposal",
                   "due_date": "2024-01-20T14:00:00Z", "status": "Not Started", "owner": me, "account": account}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let b = &created.body;
    assert_eq!(b["activity_type"], json!("Call"));
    assert_eq!(b["account"], json!({"id": account, "name": "Acme Corporation"}));
    assert_eq!(b["owner"], json!({"id": me, "name": "Test CEO"}));
    assert_eq!(b["due_date"], json!("2024-01-20T14:00:00.000Z"));
    assert_eq!(b["contact"], json!(null));
    let id = b["id"].as_i64().unwrap();

    // The v1 surface shows it, and the REST surface shows the v1 ones.
    let v1 = app.get(&format!("/api/v1/activities/{id}"), Some(&token)).await;
    assert_eq!(v1.body["data"]["activity"]["type"], json!("call"), "{}", v1.text);
    assert_eq!(v1.body["data"]["activity"]["customerId"], json!(account));
    let logged = app
        .post(
            "/api/v1/activities",
            Some(&token),
            json!({"type": "meeting", "description": "Met the CTO\nThey want a pilot", "customerId": account}),
        )
        .await;
    let logged_id = logged.body["data"]["activity"]["id"].as_i64().unwrap();
    let rest = app.get(&format!("{ACTIVITIES}{logged_id}/"), Some(&token)).await;
    assert_eq!(rest.body["activity_type"], json!("Meeting"));
    assert_eq!(rest.body["status"], json!("Completed"));
    assert_eq!(rest.body["subject"], json!("Met the CTO"), "a v1 activity is headed by its description");

    let by_type = app.get(&format!("{ACTIVITIES}?activity_type=meeting"), Some(&token)).await;
    assert_eq!(by_type.body["count"], json!(1));
    let by_account = app.get(&format!("{ACTIVITIES}?account={account}&status=Not%20Started"), Some(&token)).await;
    assert_eq!(by_account.body["count"], json!(1), "{}", by_account.text);
    let search = app.get(&format!("{ACTIVITIES}?search=PROPOSAL"), Some(&token)).await;
    assert_eq!(search.body["count"], json!(1));

    let bad = app
        .post(
            ACTIVITIES,
            Some(&token),
            json!({"subject": "X", "activity_type": "Fax", "account": 999_999, "lead": "abc"}),
        )
        .await;
    assert_rest_error(&bad, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(bad.body["error"]["details"]["lead"].is_array(), "{}", bad.text);
    let bad =
        app.post(ACTIVITIES, Some(&token), json!({"subject": "X", "activity_type": "Call", "account": 999_999})).await;
    assert_eq!(bad.body["error"]["details"]["account"], json!(["Invalid pk \"999999\" - object does not exist."]));

    let path = format!("{ACTIVITIES}{id}/");
    let patched = app.call(Method::PATCH, &path, Some(&token), Some(json!({"status": "Completed"}))).await;
    assert_eq!(patched.body["status"], json!("Completed"), "{}", patched.text);
    assert_eq!(app.call(Method::DELETE, &path, Some(&token), None).await.status, StatusCode::NO_CONTENT);
    assert_v1_error(
        &app.get(&format!("/api/v1/activities/{id}"), Some(&token)).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    );
    assert_eq!(app.post(&format!("{path}restore/"), Some(&token), json!({})).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/api/v1/activities/{id}"), Some(&token)).await.status, StatusCode::OK);
    let dashboard = app.get("/api/v1/activities", Some(&token)).await;
    assert_eq!(dashboard.body["data"]["pagination"]["totalItems"], json!(2), "counts stay exact");
}

#[tokio::test]
async fn tasks_are_filtered_by_overdue_and_completed_once() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let doc = app
        .post(
            TASKS,
            Some(&token),
            json!({"title": "Update CRM", "description": "Update CRM with latest client information",
              "due_date": "2024-01-25T12:00:00Z", "status": "Not Started", "priority": "Medium"}),
        )
        .await;
    assert_eq!(doc.status, StatusCode::CREATED, "{}", doc.text);
    assert_eq!(doc.body["owner"]["name"], json!("Test CEO"), "the owner defaults to the caller");
    let future = app
        .post(TASKS, Some(&token), json!({"title": "Later", "due_date": "2999-01-01T00:00:00Z", "priority": "High"}))
        .await;
    assert_eq!(future.body["status"], json!("Not Started"));
    // A choice is taken in any case with spaces around, as the document's pattern says, and
    // stored as listed; a blank one is refused (the pattern does not allow it either).
    let relaxed = app
        .post(TASKS, Some(&token), json!({"title": "Relaxed", "priority": " urgent ", "status": "in progress"}))
        .await;
    assert_eq!(relaxed.status, StatusCode::CREATED, "{}", relaxed.text);
    assert_eq!(
        (relaxed.body["priority"].clone(), relaxed.body["status"].clone()),
        (json!("Urgent"), json!("In Progress"))
    );
    let blank = app.post(TASKS, Some(&token), json!({"title": "Blank", "priority": ""})).await;
    assert_rest_error(&blank, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(blank.body["error"]["details"]["priority"].is_array(), "{}", blank.text);
    let gone = app.call(Method::DELETE, &format!("{TASKS}{}/", relaxed.body["id"]), Some(&token), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let overdue = app.get(&format!("{TASKS}?overdue=true"), Some(&token)).await;
    assert_eq!(overdue.body["count"], json!(1));
    assert_eq!(overdue.body["results"][0]["title"], json!("Update CRM"));
    assert_eq!(app.get(&format!("{TASKS}?overdue=false"), Some(&token)).await.body["count"], json!(1));
    assert_eq!(app.get(&format!("{TASKS}?priority=high"), Some(&token)).await.body["count"], json!(1));

    let complete = format!("{TASKS}{}/complete/", doc.body["id"]);
    let done = app.post(&complete, Some(&token), json!({"notes": "Task completed successfully"})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["status"], json!("Completed"));
    assert_eq!(done.body["notes"], json!("Task completed successfully"));
    assert!(done.body["completed_at"].is_string());
    assert_rest_error(&app.post(&complete, Some(&token), json!({})).await, StatusCode::CONFLICT, "Conflict");
    assert_eq!(
        app.get(&format!("{TASKS}?overdue=true"), Some(&token)).await.body["count"],
        json!(0),
        "done is not overdue"
    );
    assert_rest_error(
        &app.post(&format!("{TASKS}999999/complete/"), Some(&token), json!({})).await,
        StatusCode::NOT_FOUND,
        "NotFound",
    );
}

#[tokio::test]
async fn events_end_after_they_start_and_are_found_by_overlap() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let meeting = app
        .post(EVENTS, Some(&token), json!({"title": "Team Meeting", "description": "Weekly team meeting",
              "start_date": "2024-01-22T09:00:00Z", "end_date": "2024-01-22T10:00:00Z", "location": "Conference Room A"}))
        .await;
    assert_eq!(meeting.status, StatusCode::CREATED, "{}", meeting.text);
    assert_eq!(meeting.body["location"], json!("Conference Room A"));
    let backwards = app
        .post(
            EVENTS,
            Some(&token),
            json!({"title": "X", "start_date": "2024-01-22T10:00:00Z", "end_date": "2024-01-22T09:00:00Z"}),
        )
        .await;
    assert_rest_error(&backwards, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(backwards.body["error"]["details"]["end_date"].is_array());
    let path = format!("{EVENTS}{}/", meeting.body["id"]);
    let patch = app.call(Method::PATCH, &path, Some(&token), Some(json!({"end_date": "2024-01-22T08:00:00Z"}))).await;
    assert_rest_error(&patch, StatusCode::BAD_REQUEST, "ValidationError");
    app.post(
        EVENTS,
        Some(&token),
        json!({"title": "Demo", "start_date": "2024-02-01T09:00:00Z", "end_date": "2024-02-01T11:00:00Z"}),
    )
    .await;
    let overlapping =
        app.get(&format!("{EVENTS}?start_date=2024-01-22T09:30:00Z&end_date=2024-01-23"), Some(&token)).await;
    assert_eq!(overlapping.body["count"], json!(1), "{}", overlapping.text);
    assert_eq!(overlapping.body["results"][0]["title"], json!("Team Meeting"));
    let january =
        app.get(&format!("{EVENTS}?start_date=2024-01-01&end_date=2024-01-31&ordering=start_date"), Some(&token)).await;
    assert_eq!(january.body["count"], json!(1));
    let all = app.get(&format!("{EVENTS}?ordering=start_date"), Some(&token)).await;
    assert_eq!(all.body["results"][1]["title"], json!("Demo"));
}
