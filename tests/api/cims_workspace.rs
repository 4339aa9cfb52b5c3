//! The CIMS UI's CRM workspace and audit log, replayed as the UI sends them
//! (`../shared/contracts/cims-crm-workspace.md`).

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A tiny but real WAV file.
fn wav(samples: usize) -> Vec<u8> {
    let data_len = samples * 2;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((36 + data_len) as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data_len as u32).to_le_bytes());
    out.extend((0..data_len).map(|i| (i % 251) as u8));
    out
}

/// The fields the add form sends (only non-empty ones), as the UI does.
fn form<'a>(name: &'a str, phone: &'a str, status: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("full_name", name),
        ("platform", "telegram"),
        ("phone_number", phone),
        ("status", status),
        ("username", "@ali_uz"),
        ("assistant_name", "Cogni"),
        ("notes", "Lead from AI Bot | Job: website"),
        ("conversation_language", "uz"),
        ("customer_type", "local"),
        ("recall_time", "2026-12-10T15:30:00+05:00"),
    ]
}

async fn create(app: &TestApp, token: &str, name: &str, phone: &str, status: &str, audio: Option<&[u8]>) -> i64 {
    let file = audio.map(|a| ("audio", "call.wav", a));
    let res = app.post_multipart("/crm/customers", Some(token), &form(name, phone, status), file).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.body["message"].is_string());
    res.body["id"].as_i64().unwrap()
}

async fn detail(app: &TestApp, token: &str, id: i64) -> Value {
    let res = app.get(&format!("/crm/detail/{id}"), Some(token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(app.database_url.as_str()).await.unwrap();
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    let n = row.try_get::<i64>("", "n").unwrap();
    db.close().await.ok();
    n
}

#[tokio::test]
async fn customers_are_created_with_and_without_audio_and_take_their_rotation_turn() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let (m1, _, _) = app.create_user("sales_manager").await;
    let (m2, _, _) = app.create_user("sales_manager").await;

    let plain = create(&app, &ceo, "Ali Valiyev", "+998901112233", "need_to_call", None).await;
    let recorded = create(&app, &ceo, "Olim Karimov", "901112234", "contacted", Some(&wav(400))).await;
    let through_v1 = app.v1_customer(&ceo, json!({"name": "V1 customer"})).await["id"].as_i64().unwrap();
    let mut managers = Vec::new();
    for id in [plain, recorded, through_v1] {
        let res = app.get(&format!("/crm/customer/{id}/sales-manager"), Some(&ceo)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        managers.push(res.body["sales_manager"]["id"].as_i64().unwrap());
    }
    assert_eq!(managers, vec![m1, m2, m1], "one rotation over every create path");

    let c = detail(&app, &ceo, plain).await;
    assert_eq!(c["full_name"], "Ali Valiyev");
    assert_eq!(c["platform"], "telegram");
    assert_eq!(c["phone_number"], "+998901112233");
    assert_eq!(c["username"], "ali_uz");
    assert_eq!(c["assistant_name"], "Cogni");
    assert_eq!(c["status"], "need_to_call");
    assert_eq!(c["notes"], "Lead from AI Bot | Job: website");
    assert_eq!(c["conversation_language"], "uz");
    assert_eq!(c["recall_time"], "2026-12-10T10:30:00.000Z");
    assert!(c["audio_file_id"].is_null() && c["audio_url"].is_null());
    assert!(c["created_at"].as_str().unwrap().ends_with('Z'));
    let metrics = &c["lead_response_metrics"];
    assert_eq!(metrics["current_status"], "need_to_call");
    assert_eq!(metrics["status_changed"], false);
    assert_eq!(metrics["response_limit_minutes"], 5);

    let r = detail(&app, &ceo, recorded).await;
    assert_eq!(r["phone_number"], "+998901112234");
    assert!(r["audio_file_id"].as_str().unwrap().len() >= 32);
    assert!(r["audio_url"].as_str().unwrap().starts_with("http://"), "absolute: {}", r["audio_url"]);
    assert!(r["lead_response_metrics"].is_null(), "not a new lead");

    // The same record on the other surfaces.
    let account = app.get(&format!("/api/crm/accounts/{plain}/"), Some(&ceo)).await;
    assert_eq!(account.status, StatusCode::OK);
    assert_eq!(account.body["name"], "Ali Valiyev");

    // Refusals, each naming the problem in `detail`; nothing stored.
    let before = count(&app, "SELECT COUNT(*) AS n FROM customers").await;
    let bad = app
        .post_multipart(
            "/crm/customers",
            Some(&ceo),
            &form("X", "+998901112299", "contacted"),
            Some(("audio", "x.mp3", b"<html>not audio</html>")),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert!(bad.body["detail"].as_str().unwrap().contains("not audio"), "{}", bad.text);
    let unknown = app.post_multipart("/crm/customers", Some(&ceo), &form("X", "+998901112299", "vip"), None).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body["detail"].as_str().unwrap().contains("Unknown status 'vip'"));
    let missing = app.post_multipart("/crm/customers", Some(&ceo), &[("full_name", "Only a name")], None).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.body["detail"].is_string());
    let json_body = app.post("/crm/customers", Some(&ceo), json!({"full_name": "X"})).await;
    assert!(json_body.status.is_client_error());
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM customers").await, before);
    let anonymous = app.post_multipart("/crm/customers", None, &form("X", "+998901112299", "contacted"), None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(anonymous.body["detail"].is_string());
}

#[tokio::test]
async fn the_dashboard_pages_every_live_customer_newest_first_with_status_choices() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let mut ids = Vec::new();
    for (i, status) in ["need_to_call", "contacted", "rejected", "finished", "contacted"].iter().enumerate() {
        ids.push(create(&app, &ceo, &format!("Customer {i}"), &format!("+99890111220{i}"), status, None).await);
    }
    let archived = ids[1];
    assert_eq!(
        app.call(Method::DELETE, &format!("/crm/customers/{archived}"), Some(&ceo), None).await.status,
        StatusCode::OK
    );

    let first = app.get("/crm/dashboard?page=1&page_size=3&show_all=true", Some(&ceo)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["total_items"], 4);
    assert_eq!(first.body["total_pages"], 2);
    let second = app.get("/crm/dashboard?page=2&page_size=3&show_all=true", Some(&ceo)).await;
    let listed: Vec<i64> = [&first, &second]
        .iter()
        .flat_map(|r| r.body["customers"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()))
        .collect();
    assert_eq!(listed, vec![ids[4], ids[3], ids[2], ids[0]], "newest first, archived left out, rejected kept");
    let choices = first.body["status_choices"].as_array().unwrap();
    assert!(choices.iter().any(|c| c["value"] == "need_to_call" && c["label"] == "Need to Call"));

    let empty_page = app.get("/crm/dashboard?page=9&page_size=50", Some(&ceo)).await;
    assert_eq!(empty_page.body["customers"], json!([]));
    assert_eq!(app.get("/crm/dashboard?page=0", Some(&ceo)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/crm/dashboard?page_size=abc", Some(&ceo)).await.status, StatusCode::BAD_REQUEST);

    let statuses = app.get("/crm/statuses/dynamic", Some(&ceo)).await;
    assert_eq!(statuses.status, StatusCode::OK);
    let statuses = statuses.body.as_array().unwrap().clone();
    assert!(statuses.iter().all(|s| {
        let c = s["color"].as_str().unwrap();
        c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit())
    }));
    let orders: Vec<i64> = statuses.iter().map(|s| s["order"].as_i64().unwrap()).collect();
    assert!(orders.windows(2).all(|w| w[0] <= w[1]), "sorted by order");

    let stats = app.get("/crm/stats", Some(&ceo)).await.body;
    assert_eq!(stats["total_customers"], 4);
    assert_eq!(
        (stats["contacted"].clone(), stats["rejected"].clone(), stats["project_started"].clone()),
        (json!(1), json!(1), json!(0))
    );
    assert_eq!(stats["status_dict"]["need_to_call"], 1);
    assert_eq!(stats["status_percentages"]["finished"], 25.0);
    let summary = app.get("/crm/customers/stats/summary", Some(&ceo)).await.body;
    for key in ["today", "last_3_days", "last_7_days", "last_30_days", "last_90_days"] {
        assert_eq!(summary[key]["total_customers"], 4, "{key}");
    }
    let period = app.get("/crm/stats/period", Some(&ceo)).await.body;
    assert_eq!(period["period_stats"]["today"], 4);

    let by_status = app.get("/crm/customers/filter/status?status_filter=contacted", Some(&ceo)).await;
    assert_eq!(by_status.body.as_array().unwrap().len(), 1);
    assert_eq!(app.get("/crm/customers/filter/status?status_filter=project_started", Some(&ceo)).await.body, json!([]));
    let platform = app.get("/crm/customers/filter/platform?platform=TELEGRAM", Some(&ceo)).await;
    assert_eq!(platform.body.as_array().unwrap().len(), 4);
    let latest = app.get("/crm/customers/latest?limit=2", Some(&ceo)).await;
    assert_eq!(latest.body.as_array().unwrap().len(), 2);
    assert_eq!(app.get("/crm/customers/bazakorinish?limit=501", Some(&ceo)).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_period_chips_cover_calendar_days_and_search_the_shown_fields() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let today = create(&app, &ceo, "Bugun Mijoz", "+998901110001", "need_to_call", None).await;
    let old = create(&app, &ceo, "Eski Mijoz", "+998901110002", "contacted", None).await;
    app.sql(
        "UPDATE customers SET created_at = ? WHERE id = ?",
        vec![(chrono::Utc::now() - chrono::Duration::days(10)).into(), old.into()],
    )
    .await;
    for (period, expected) in [
        ("1d", vec![today]),
        ("3d", vec![today]),
        ("7d", vec![today]),
        ("30d", vec![today, old]),
        ("90d", vec![today, old]),
    ] {
        let res = app.get(&format!("/crm/customers/report/period?period={period}&search="), Some(&ceo)).await;
        assert_eq!(res.status, StatusCode::OK, "{period}: {}", res.text);
        let ids: Vec<i64> =
            res.body["customers"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, expected, "{period}");
        assert_eq!(res.body["from_date"].as_str().unwrap().len(), 10);
        assert_eq!(res.body["to_date"].as_str().unwrap().len(), 10);
    }
    let searched = app.get("/crm/customers/report/period?period=90d&search=eski", Some(&ceo)).await;
    assert_eq!(searched.body["customers"].as_array().unwrap().len(), 1);
    let by_username = app.get("/crm/customers/report/period?period=90d&search=ALI_UZ", Some(&ceo)).await;
    assert_eq!(by_username.body["customers"].as_array().unwrap().len(), 2);
    let bad = app.get("/crm/customers/report/period?period=15x", Some(&ceo)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["detail"].as_str().unwrap().contains("1d"));
    let dates = app.get("/crm/customers/filter/date?start_date=2020-01-01", Some(&ceo)).await;
    assert_eq!(dates.body.as_array().unwrap().len(), 2);
    // The contract's `[&end_date=]`: a blank end is today, as documented (anyOf a date or blank).
    let blank_end = app.get("/crm/customers/filter/date?start_date=2020-01-01&end_date=", Some(&ceo)).await;
    assert_eq!(blank_end.body, dates.body, "{}", blank_end.text);
    assert_eq!(
        app.get("/crm/customers/filter/date?start_date=2020-13-01", Some(&ceo)).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn an_edit_accepts_either_status_name_and_records_the_change() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let id = create(&app, &ceo, "Ali", "+998901113344", "need_to_call", None).await;
    let path = format!("/crm/customers/{id}");
    // What the edit modal sends: both status names, the platform Title-Cased, no customer_type.
    let edit = [
        ("full_name", "Ali Valiyev"),
        ("platform", "Telegram"),
        ("phone_number", "+998901113344"),
        ("status", "contacted"),
        ("customer_status", "contacted"),
        ("conversation_language", "ru"),
        ("clear_recall_time", "true"),
    ];
    let res = app.multipart(Method::PATCH, &path, Some(&ceo), &edit, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.body["message"].is_string());
    let c = detail(&app, &ceo, id).await;
    assert_eq!(c["full_name"], "Ali Valiyev");
    assert_eq!(c["status"], "contacted");
    assert_eq!(c["platform"], "telegram", "an unchanged platform keeps its spelling");
    assert_eq!(c["conversation_language"], "ru");
    assert!(c["recall_time"].is_null());
    assert_eq!(c["username"], "ali_uz", "absent fields are kept");
    let metrics = &c["lead_response_metrics"];
    assert_eq!(metrics["status_changed"], true);
    assert_eq!(metrics["first_status_changed_to"], "contacted");
    assert_eq!(metrics["is_late_response"], false);
    assert_eq!(metrics["status_changed_without_note"], true);
    assert_eq!(metrics["note_written"], false);
    let noted = app.post(&format!("/crm/customers/{id}/notes"), Some(&ceo), json!({"note": "Called back"})).await;
    assert_eq!(noted.status, StatusCode::OK, "{}", noted.text);
    let metrics = detail(&app, &ceo, id).await["lead_response_metrics"].clone();
    assert_eq!(metrics["note_written"], true);
    assert_eq!(metrics["status_changed_without_note"], false, "a note written after the change clears the badge");

    // The legacy name alone works too; the history keeps both changes in order.
    let legacy = app.multipart(Method::PATCH, &path, Some(&ceo), &[("customer_status", "project_started")], None).await;
    assert_eq!(legacy.status, StatusCode::OK, "{}", legacy.text);
    assert_eq!(detail(&app, &ceo, id).await["status"], "project_started");
    let changes =
        count(&app, &format!("SELECT COUNT(*) AS n FROM customer_status_changes WHERE customer_id = {id}")).await;
    assert_eq!(changes, 2);
    let first = detail(&app, &ceo, id).await;
    assert_eq!(
        first["lead_response_metrics"]["first_status_changed_to"], "contacted",
        "the first change stays the first"
    );

    // Audio replaces the recording: a new id, the old one gone.
    let with_audio = app.multipart(Method::PATCH, &path, Some(&ceo), &[], Some(("audio", "a.wav", &wav(100)))).await;
    assert_eq!(with_audio.status, StatusCode::OK, "{}", with_audio.text);
    let first_audio = detail(&app, &ceo, id).await["audio_file_id"].as_str().unwrap().to_string();
    app.multipart(Method::PATCH, &path, Some(&ceo), &[], Some(("audio", "b.wav", &wav(200)))).await;
    let second_audio = detail(&app, &ceo, id).await["audio_file_id"].as_str().unwrap().to_string();
    assert_ne!(first_audio, second_audio);
    assert_eq!(count(&app, &format!("SELECT COUNT(*) AS n FROM customer_audio WHERE customer_id = {id}")).await, 1);
    assert_eq!(app.get(&format!("/crm/customers/audio/{first_audio}"), Some(&ceo)).await.status, StatusCode::NOT_FOUND);

    // Bad edits change nothing.
    let bad =
        app.multipart(Method::PATCH, &path, Some(&ceo), &[("status", "vip"), ("full_name", "Changed")], None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let lang = app.multipart(Method::PATCH, &path, Some(&ceo), &[("conversation_language", "de")], None).await;
    assert_eq!(lang.status, StatusCode::BAD_REQUEST);
    assert_eq!(detail(&app, &ceo, id).await["full_name"], "Ali Valiyev");
    let missing =
        app.multipart(Method::PATCH, "/crm/customers/999999", Some(&ceo), &[("status", "contacted")], None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body["detail"].is_string());
    assert_eq!(app.get("/crm/detail/abc", Some(&ceo)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn recordings_stream_with_ranges_through_signed_links_or_a_token() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let audio = wav(1000);
    let id = create(&app, &ceo, "Audio", "+998901115566", "contacted", Some(&audio)).await;
    let c = detail(&app, &ceo, id).await;
    let url = c["audio_url"].as_str().unwrap().to_string();
    let file_id = c["audio_file_id"].as_str().unwrap().to_string();

    // The "Open audio" link: no token.
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "audio/wav");
    assert_eq!(res.headers()["content-length"], audio.len().to_string().as_str());
    assert_eq!(res.bytes().await.unwrap().to_vec(), audio);
    let range = app.client.get(&url).header("range", "bytes=4-11").send().await.unwrap();
    assert_eq!(range.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(range.headers()["content-range"], format!("bytes 4-11/{}", audio.len()).as_str());
    assert_eq!(range.bytes().await.unwrap().to_vec(), audio[4..12].to_vec());
    let unsatisfiable = app.client.get(&url).header("range", "bytes=999999-").send().await.unwrap();
    assert_eq!(unsatisfiable.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    // Without a valid signature the route needs a token.
    let bare = format!("/crm/customers/audio/{file_id}");
    assert_eq!(app.get(&bare, None).await.status, StatusCode::UNAUTHORIZED);
    let tampered = url.replace("signature=", "signature=00");
    assert_eq!(app.client.get(&tampered).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let expired = format!("{bare}?expires=1&signature=abcd");
    assert_eq!(app.get(&expired, None).await.status, StatusCode::UNAUTHORIZED);
    let with_token = app.client.get(format!("{}{bare}", app.base)).bearer_auth(&ceo).send().await.unwrap();
    assert_eq!(with_token.status(), StatusCode::OK);
    assert_eq!(app.get("/crm/customers/audio/nope", Some(&ceo)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn notes_are_written_by_their_authors_and_changed_only_by_them_or_the_ceo() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let (_, email, password) = app.create_user("sales_manager").await;
    let manager = app.token(&email, &password).await;
    let (_, other_email, other_password) = app.create_user("member").await;
    let other = app.token(&other_email, &other_password).await;
    let id = create(&app, &ceo, "Noted", "+998901117788", "need_to_call", None).await;
    let other_customer = create(&app, &ceo, "Other", "+998901117789", "contacted", None).await;
    let notes = format!("/crm/customers/{id}/notes");

    let first = app.post(&notes, Some(&manager), json!({"note": "  Called, will call back  "})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["note"], "Called, will call back");
    assert_eq!(first.body["customer_id"], id);
    assert!(first.body["created_by"].is_i64());
    assert_eq!(first.body["created_by_full_name"], "Test sales_manager");
    let note_id = first.body["id"].as_i64().unwrap();
    app.post(&notes, Some(&ceo), json!({"note": "Second"})).await;
    let listed = app.get(&notes, Some(&other)).await;
    assert_eq!(listed.body["customer_id"], id);
    assert_eq!(listed.body["total_count"], 2);
    assert_eq!(listed.body["items"][0]["id"], note_id, "oldest first");
    assert!(detail(&app, &ceo, id).await["lead_response_metrics"]["note_written"].as_bool().unwrap());

    let note = format!("{notes}/{note_id}");
    assert_eq!(
        app.call(Method::PATCH, &note, Some(&other), Some(json!({"note": "x"}))).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.call(Method::DELETE, &note, Some(&other), None).await.status, StatusCode::FORBIDDEN);
    let edited = app.call(Method::PATCH, &note, Some(&manager), Some(json!({"note": "Edited"}))).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!(edited.body["note"], "Edited");
    let empty = app.call(Method::PATCH, &note, Some(&manager), Some(json!({"note": "   "}))).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let elsewhere = format!("/crm/customers/{other_customer}/notes/{note_id}");
    assert_eq!(
        app.call(Method::PATCH, &elsewhere, Some(&ceo), Some(json!({"note": "x"}))).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.call(Method::DELETE, &note, Some(&ceo), None).await.status, StatusCode::OK);
    assert_eq!(app.get(&notes, Some(&ceo)).await.body["total_count"], 1);
    assert_eq!(app.call(Method::DELETE, &note, Some(&ceo), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post("/crm/customers/999999/notes", Some(&ceo), json!({"note": "x"})).await.status,
        StatusCode::NOT_FOUND
    );
    // The notes are activities of type Note on the REST surface.
    let rest = app.get("/api/activities/activities/?activity_type=Note", Some(&ceo)).await;
    assert_eq!(rest.body["count"], 1, "{}", rest.text);
}

#[tokio::test]
async fn archive_restore_and_hard_delete_are_guarded_by_the_server() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let (_, email, password) = app.create_user("sales_manager").await;
    let manager = app.token(&email, &password).await;
    let (_, member_email, member_password) = app.create_user("financial_director").await;
    let reader = app.token(&member_email, &member_password).await;
    let id = create(&app, &ceo, "Archive me", "+998901119900", "contacted", Some(&wav(50))).await;
    app.post(&format!("/crm/customers/{id}/notes"), Some(&ceo), json!({"note": "n"})).await;
    let path = format!("/crm/customers/{id}");

    // The UI shows the buttons to every CRM user: the server refuses without crm.delete.
    for (method, p) in [(Method::DELETE, path.clone()), (Method::DELETE, format!("{path}/hard"))] {
        let res = app.call(method, &p, Some(&manager), None).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{p}");
        assert!(res.body["detail"].is_string());
    }
    assert_eq!(app.call(Method::DELETE, &path, Some(&ceo), None).await.status, StatusCode::OK);
    let archived = app.get("/crm/customers/archived", Some(&ceo)).await;
    assert_eq!(
        archived.body.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect::<Vec<_>>(),
        vec![id]
    );
    assert_eq!(archived.body[0]["status"], "contacted");
    assert_eq!(app.get("/crm/dashboard?page=1&page_size=50", Some(&ceo)).await.body["total_items"], 0);
    assert_eq!(app.get(&format!("/crm/detail/{id}"), Some(&reader)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(detail(&app, &ceo, id).await["is_archived"], true, "the CEO still sees it");
    assert_eq!(app.get(&format!("{path}/notes"), Some(&ceo)).await.status, StatusCode::NOT_FOUND);
    let patch = app.multipart(Method::PATCH, &path, Some(&ceo), &[("status", "finished")], None).await;
    assert_eq!(patch.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(Method::DELETE, &path, Some(&ceo), None).await.status, StatusCode::NOT_FOUND);

    assert_eq!(
        app.call(Method::POST, &format!("{path}/restore"), Some(&manager), None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.call(Method::POST, &format!("{path}/restore"), Some(&ceo), None).await.status, StatusCode::OK);
    let again = app.call(Method::POST, &format!("{path}/restore"), Some(&ceo), None).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.text);
    assert_eq!(app.get(&format!("{path}/notes"), Some(&ceo)).await.body["total_count"], 1, "notes come back");
    assert_eq!(
        app.call(Method::POST, "/crm/customers/999999/restore", Some(&ceo), None).await.status,
        StatusCode::NOT_FOUND
    );

    // Hard delete: the customer and what was only its own are gone.
    let hard = app.call(Method::DELETE, &format!("{path}/hard"), Some(&ceo), None).await;
    assert_eq!(hard.status, StatusCode::OK, "{}", hard.text);
    assert_eq!(app.get(&format!("/crm/detail/{id}"), Some(&ceo)).await.status, StatusCode::NOT_FOUND);
    for table in ["activities", "customer_audio", "customer_status_changes", "sales_manager_assignments"] {
        let n = count(&app, &format!("SELECT COUNT(*) AS n FROM {table} WHERE customer_id = {id}")).await;
        assert_eq!(n, 0, "{table}");
    }
    assert_eq!(app.call(Method::DELETE, &format!("{path}/hard"), Some(&ceo), None).await.status, StatusCode::NOT_FOUND);
    let stats = app.get("/crm/stats", Some(&ceo)).await.body;
    assert_eq!(stats["total_customers"], 0, "the counters let go of it");

    // Bulk routes: one call for many ids.
    let a = create(&app, &ceo, "Bulk A", "+998901119901", "contacted", None).await;
    let b = create(&app, &ceo, "Bulk B", "+998901119902", "contacted", None).await;
    let res = app
        .call(Method::DELETE, "/crm/customers/bulk-delete", Some(&ceo), Some(json!({"customer_ids": [a, b, 999999]})))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["processed_ids"], json!([a, b]));
    assert_eq!(res.body["not_found_ids"], json!([999999]));
    let purge = app
        .call(Method::DELETE, "/crm/customers/bulk-hard-delete", Some(&ceo), Some(json!({"customer_ids": [a, b]})))
        .await;
    assert_eq!(purge.body["processed_ids"], json!([a, b]));
    assert_eq!(app.get("/crm/customers/archived", Some(&ceo)).await.body, json!([]));
}

#[tokio::test]
async fn a_sales_manager_sees_their_own_leads_and_others_are_refused() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let (m1, email, password) = app.create_user("sales_manager").await;
    let manager = app.token(&email, &password).await;
    let (m2, _, _) = app.create_user("sales_manager").await;
    let mut mine = Vec::new();
    for (i, status) in ["need_to_call", "contacted", "contacted", "finished"].iter().enumerate() {
        let id = create(&app, &ceo, &format!("Lead {i}"), &format!("+99890222000{i}"), status, None).await;
        let owner = app.get(&format!("/crm/customer/{id}/sales-manager"), Some(&ceo)).await.body["sales_manager"]["id"]
            .as_i64()
            .unwrap();
        if owner == m1 {
            mine.push(id);
        }
    }
    assert_eq!(mine.len(), 2);
    // One of mine is archived: hidden unless asked for.
    app.call(Method::DELETE, &format!("/crm/customers/{}", mine[0]), Some(&ceo), None).await;

    let res = app.get("/crm/my-customers?page=1&limit=20", Some(&manager)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["sales_manager"]["id"], m1);
    assert_eq!(res.body["total_count"], 1);
    assert_eq!(res.body["page"], 1);
    assert_eq!(res.body["limit"], 20);
    let item = &res.body["items"][0];
    assert_eq!(item["id"], mine[1]);
    assert!(item["full_name"].is_string() && item["assigned_at"].is_string());
    assert_eq!(item["status_name"], item["status"]);
    let all = app.get("/crm/my-customers?page=1&limit=20&include_archived=true", Some(&manager)).await;
    assert_eq!(all.body["total_count"], 2);
    assert_eq!(all.body["items"][0]["id"], mine[1], "most recently assigned first");
    assert_eq!(all.body["items"][1]["is_archived"], true);
    let searched = app.get("/crm/my-customers?search=lead%202&include_archived=true", Some(&manager)).await;
    assert_eq!(searched.body["total_count"], 1, "{}", searched.text);

    let stats = app.get("/crm/my-customers/stats?include_archived=false", Some(&manager)).await;
    assert_eq!(stats.status, StatusCode::OK);
    assert_eq!(
        stats.body["summary"],
        json!({"total_assigned": 2, "active_leads": 1, "archived_leads": 1, "counted_leads": 1})
    );
    let with_archived = app.get("/crm/my-customers/stats?include_archived=true", Some(&manager)).await;
    assert_eq!(with_archived.body["summary"]["counted_leads"], 2);
    assert!(
        with_archived.body["status_stats"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"].is_string() && s["count"].is_u64())
    );

    // A sales manager may open a lead's detail from My Leads.
    assert_eq!(app.get(&format!("/crm/detail/{}", mine[1]), Some(&manager)).await.status, StatusCode::OK);
    for path in ["/crm/my-customers", "/crm/my-customers/stats?include_archived=false"] {
        let res = app.get(path, Some(&ceo)).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}");
        assert!(res.body["detail"].is_string());
    }
    let me = app.get("/auth/me", Some(&manager)).await;
    assert_eq!(me.body["role"], "SalesManager");
    // The CEO reads any manager's leads; a manager only their own.
    let of_m1 = app.get(&format!("/crm/sales-managers/{m1}/customers"), Some(&ceo)).await;
    assert_eq!(of_m1.body["total_count"], 1, "{}", of_m1.text);
    assert_eq!(app.get(&format!("/crm/sales-managers/{m2}/stats"), Some(&manager)).await.status, StatusCode::FORBIDDEN);
    let changes = app.get("/crm/sales-manager/stats", Some(&manager)).await;
    assert_eq!(changes.status, StatusCode::OK, "{}", changes.text);
    assert_eq!(changes.body["period"]["timezone"], "Asia/Tashkent");
}

#[tokio::test]
async fn the_audit_log_shows_the_workspace_actions_and_filters_ignoring_case() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    app.create_user("sales_manager").await;
    let (_, email, password) = app.create_user("member").await;
    let member = app.token(&email, &password).await;
    let id = create(&app, &ceo, "Audited", "+998901230000", "need_to_call", None).await;
    app.multipart(Method::PATCH, &format!("/crm/customers/{id}"), Some(&ceo), &[("status", "contacted")], None).await;
    app.post(&format!("/crm/customers/{id}/notes"), Some(&ceo), json!({"note": "hello"})).await;
    app.call(Method::DELETE, &format!("/crm/customers/{id}"), Some(&ceo), None).await;
    app.call(Method::POST, &format!("/crm/customers/{id}/restore"), Some(&ceo), None).await;

    let res = app.get(&format!("/audit/logs?page=1&entity_type=CUSTOMER&entity_id={id}"), Some(&ceo)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["page_size"], 20);
    let actions: Vec<&str> =
        res.body["items"].as_array().unwrap().iter().map(|i| i["action"].as_str().unwrap()).collect();
    for expected in ["create", "update", "status_change", "archive", "restore"] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    let item = &res.body["items"][0];
    assert_eq!(item["module"], "crm");
    assert_eq!(item["table_name"], "customers");
    assert_eq!(item["entity_type"], "customer");
    assert_eq!(item["entity_id"], id.to_string());
    assert!(item["actor_name"].is_string() && item["actor_email"].is_string());
    assert_eq!(item["is_system_action"], false);
    assert!(item["request_id"].is_string() && item.get("user_agent").is_some());
    let status = app.get(&format!("/audit/logs?action=Status_Change&entity_id={id}"), Some(&ceo)).await;
    let change = &status.body["items"][0];
    assert_eq!(change["before_data"]["status"], "need_to_call");
    assert_eq!(change["after_data"]["status"], "contacted");
    assert_eq!(change["changed_fields"], json!(["status"]));
    let browser = app
        .client
        .post(format!("{}/crm/customers/{id}/notes", app.base))
        .bearer_auth(&ceo)
        .header("user-agent", "Mozilla/5.0 CIMS")
        .json(&json!({"note": "from the browser"}))
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status(), StatusCode::OK);
    let notes = app.get("/audit/logs?entity_type=customer_note&action=CREATE", Some(&ceo)).await;
    assert_eq!(notes.body["total_items"], 2);
    assert_eq!(notes.body["items"][0]["after_data"]["note"], "from the browser");
    assert_eq!(notes.body["items"][0]["user_agent"], "Mozilla/5.0 CIMS");
    assert_eq!(notes.body["items"][1]["after_data"]["note"], "hello");
    let rotation = app.get("/audit/logs?entity_type=sales_manager_assignment", Some(&ceo)).await;
    assert_eq!(rotation.body["items"][0]["action"], "auto_assign");
    let module = app.get("/audit/logs?module=CRM&table_name=customers", Some(&ceo)).await;
    assert!(module.body["total_items"].as_u64().unwrap() >= 5);
    let nothing = app.get("/audit/logs?entity_type=Project&entity_id=1", Some(&ceo)).await;
    assert_eq!((nothing.body["total_items"].clone(), nothing.body["items"].clone()), (json!(0), json!([])));
    let by_actor = app.get("/audit/logs?actor_user_id=1", Some(&ceo)).await;
    assert_eq!(by_actor.status, StatusCode::OK);
    let one_id = item["id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("/audit/logs/{one_id}"), Some(&ceo)).await.body["id"], one_id);
    assert_eq!(app.get("/audit/logs/99999999", Some(&ceo)).await.status, StatusCode::NOT_FOUND);
    let of_entity = app.get(&format!("/audit/logs/entity/customer/{id}"), Some(&ceo)).await;
    assert_eq!(of_entity.body["total_items"], res.body["total_items"]);

    assert_eq!(app.get("/audit/logs", Some(&member)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/audit/logs", None).await.status, StatusCode::UNAUTHORIZED);
    assert!(app.get("/audit/logs", None).await.body["detail"].is_string());
    assert_eq!(app.get("/audit/logs?page=abc", Some(&ceo)).await.status, StatusCode::BAD_REQUEST);
    // A date that is not one (multi-byte text included) is a 400, never a dropped connection.
    let odd = app.get("/audit/logs?date_from=000%C2%80%C2%80%F0%90%80%80", Some(&ceo)).await;
    assert_eq!(odd.status, StatusCode::BAD_REQUEST, "{}", odd.text);
    let team = app.get("/ceo/dashboard", Some(&ceo)).await;
    assert_eq!(team.status, StatusCode::OK);
    assert!(team.body["users"].as_array().unwrap().len() >= 3);
    assert_eq!(app.get("/ceo/dashboard", Some(&member)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_ceo_opens_a_large_workspace_at_once_without_a_refusal() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    create(&app, &ceo, "One", "+998901240000", "contacted", None).await;
    // The UI's burst: page 1, then the other pages of a 5,000-customer workspace at once,
    // with the statuses, stats and summary.
    let mut calls = Vec::new();
    for page in 1..=100 {
        calls.push(format!("/crm/dashboard?page={page}&page_size=50&show_all=true"));
    }
    calls.extend(["/crm/statuses/dynamic", "/crm/stats", "/crm/customers/stats/summary"].map(String::from));
    let answers = futures_util::future::join_all(calls.iter().map(|p| app.get(p, Some(&ceo)))).await;
    for (path, res) in calls.iter().zip(answers) {
        assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text);
    }
}

#[tokio::test]
async fn the_workspace_channel_shows_on_the_rest_account() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let id = create(&app, &ceo, "Channel Person", "+998901117788", "contacted", None).await;
    let account = app.get(&format!("/api/crm/accounts/{id}/"), Some(&ceo)).await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.text);
    assert_eq!(account.body["platform"], json!("telegram"));
    assert_eq!(account.body["username"], json!("ali_uz"), "as the workspace stores it");
    assert_eq!(account.body["conversation_language"], json!("uz"));
    assert_eq!(account.body["chat_url"], json!(null));
    // Read-only on the REST surface: a write there leaves it as the workspace set it.
    let res = app
        .call(Method::PATCH, &format!("/api/crm/accounts/{id}/"), Some(&ceo), Some(json!({"platform": "instagram"})))
        .await;
    assert!(res.status.is_success() || res.status == StatusCode::BAD_REQUEST, "{}", res.text);
    assert_eq!(app.get(&format!("/api/crm/accounts/{id}/"), Some(&ceo)).await.body["platform"], json!("telegram"));
}

#[tokio::test]
async fn the_sales_manager_period_statistics_count_the_recorded_changes() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let a = create(&app, &ceo, "Stat A", "+998901114401", "need_to_call", None).await;
    let b = create(&app, &ceo, "Stat B", "+998901114402", "need_to_call", None).await;
    for (id, status) in [(a, "contacted"), (a, "project_started"), (b, "contacted")] {
        let res = app
            .multipart(Method::PATCH, &format!("/crm/customers/{id}"), Some(&ceo), &[("status", status)], None)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    }
    let res = app.get("/crm/sales-manager/stats", Some(&ceo)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let summary = &res.body["summary"];
    assert_eq!(summary["total_status_changes"], json!(3), "{summary}");
    assert_eq!(summary["changed_customers"], json!(2));
    assert_eq!(summary["to_status_counts"], json!({"contacted": 2, "project_started": 1}));
    assert_eq!(summary["conversion_to_project_started_percent"], json!(50.0));
    assert_eq!(summary["finish_rate_percent"], json!(0.0));
    let today = (chrono::Utc::now() + chrono::Duration::hours(5)).date_naive().to_string();
    assert_eq!(
        res.body["daily_stats"],
        json!([{"date": today, "total_changes": 3, "to_status_counts": {"contacted": 2, "project_started": 1}}])
    );
    assert_eq!(res.body["period"]["timezone"], json!("Asia/Tashkent"));
    // No user has id 0 or a negative one (found by schemathesis: `sales_manager_id=0` was a 200).
    for bad in ["0", "-1", "-9223372036854775808"] {
        let res = app.get(&format!("/crm/sales-manager/stats?sales_manager_id={bad}"), Some(&ceo)).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}: {}", res.text);
        assert!(res.body["detail"].as_str().unwrap().starts_with("sales_manager_id"), "{}", res.text);
    }
}

#[tokio::test]
async fn an_empty_number_in_the_query_is_refused_not_read_as_absent() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    // Found by schemathesis: `page=` and `page_size=` were read as the defaults.
    for path in ["/crm/dashboard?page=&page_size=", "/audit/logs?page=", "/crm/customers/latest?limit="] {
        let res = app.get(path, Some(&ceo)).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{path}: {}", res.text);
        assert!(res.body["detail"].is_string(), "{path}");
    }
    assert_eq!(app.get("/crm/dashboard?page=1&page_size=50", Some(&ceo)).await.status, StatusCode::OK);
}
