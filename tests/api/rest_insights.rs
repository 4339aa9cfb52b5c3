//! `/api/analytics/dashboard/` and `/api/analytics/reports/`: figures checked against a small
//! data set counted by hand, the CSV read back with a standard reader, the PDF's text extracted.

use crate::support::*;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

const DASHBOARD: &str = "/api/analytics/dashboard/";
const REPORTS: &str = "/api/analytics/reports/";

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = app.post(path, Some(token), body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{path}: {}", res.text);
    res.body
}

async fn ok(app: &TestApp, token: &str, path: &str) -> Value {
    let res = app.get(path, Some(token)).await;
    assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text);
    res.body
}

/// Three accounts, two contacts, four leads (one converted), five deals (two won, one lost)
/// and three activities.
async fn seed(app: &TestApp, token: &str) -> Value {
    let stages = ok(app, token, "/api/deals/pipeline-stages/").await["results"].clone();
    let (lead, qualified, proposal) = (stages[0]["id"].clone(), stages[1]["id"].clone(), stages[2]["id"].clone());
    let territory = created(app, token, "/api/territories/territories/", json!({"name": "Toshkent"})).await;
    let accounts = "/api/crm/accounts/";
    let a1 = created(
        app,
        token,
        accounts,
        json!({"name": "Alfa", "industry": "Technology", "account_type": "Customer", "territory": territory["id"]}),
    )
    .await;
    let a2 = created(
        app,
        token,
        accounts,
        json!({"name": "Beta", "industry": "Technology", "account_type": "Customer", "territory": territory["id"]}),
    )
    .await;
    let a3 =
        created(app, token, accounts, json!({"name": "Gamma", "industry": "Retail", "account_type": "Prospect"})).await;
    let c1 = created(
        app,
        token,
        "/api/crm/contacts/",
        json!({"first_name": "Aziz", "last_name": "Karimov", "account": a1["id"]}),
    )
    .await;
    created(
        app,
        token,
        "/api/crm/contacts/",
        json!({"first_name": "Dilnoza", "last_name": "Rahimova", "account": a2["id"]}),
    )
    .await;
    let leads = "/api/crm/leads/";
    created(app, token, leads, json!({"first_name": "L", "last_name": "One", "lead_source": "Website"})).await;
    created(
        app,
        token,
        leads,
        json!({"first_name": "L", "last_name": "Two", "lead_source": "Website", "status": "Qualified"}),
    )
    .await;
    created(
        app,
        token,
        leads,
        json!({"first_name": "L", "last_name": "Three", "lead_source": "Referral", "status": "Lost"}),
    )
    .await;
    let l4 =
        created(app, token, leads, json!({"first_name": "L", "last_name": "Four", "lead_source": "Website"})).await;
    let convert = format!("/api/crm/leads/{}/convert/", l4["id"]);
    let res = app.post(&convert, Some(token), json!({"account_id": a1["id"], "contact_id": c1["id"]})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let deals = "/api/deals/deals/";
    created(app, token, deals, json!({"name": "D1", "account": a1["id"], "amount": 1000, "stage": lead})).await;
    created(
        app,
        token,
        deals,
        json!({"name": "D2", "account": a1["id"], "amount": 2500.50, "stage": proposal, "probability": 40}),
    )
    .await;
    let d3 = created(app, token, deals, json!({"name": "D3", "account": a2["id"], "amount": 4000, "stage": qualified}))
        .await;
    let d4 = created(app, token, deals, json!({"name": "D4", "account": a2["id"], "amount": 700, "stage": lead})).await;
    let d5 =
        created(app, token, deals, json!({"name": "D5", "account": a3["id"], "amount": 300, "stage": qualified})).await;
    let earlier = (Utc::now() - Duration::days(40)).date_naive().to_string();
    for (deal, action, body) in
        [(&d3, "mark-won", json!({})), (&d4, "mark-lost", json!({})), (&d5, "mark-won", json!({"close_date": earlier}))]
    {
        let res = app.post(&format!("{deals}{}/{action}/", deal["id"]), Some(token), body).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    }
    let activities = "/api/activities/activities/";
    for (kind, status) in [("Call", "Completed"), ("Call", "Completed"), ("Email", "Not Started")] {
        let body = json!({"subject": "Follow-up", "activity_type": kind, "status": status, "account": a1["id"]});
        created(app, token, activities, body).await;
    }
    json!({"earlier": earlier})
}

#[tokio::test]
async fn the_dashboard_counts_what_was_stored_and_agrees_with_v1() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, &token).await;
    let d = ok(&app, &token, DASHBOARD).await;
    assert_eq!(d["total_accounts"], json!(3));
    assert_eq!(d["total_contacts"], json!(2));
    assert_eq!(d["total_leads"], json!(4));
    assert_eq!(d["total_deals"], json!(5));
    assert_eq!(d["total_revenue"], json!(4300.0));
    let stages: Vec<(String, i64)> = d["deals_by_stage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["stage"].as_str().unwrap().to_string(), s["count"].as_i64().unwrap()))
        .collect();
    let names = ["Lead", "Qualified", "Proposal", "Negotiation", "Contract", "Delivery"];
    assert_eq!(stages, names.iter().zip([2, 2, 1, 0, 0, 0]).map(|(n, c)| (n.to_string(), c)).collect::<Vec<_>>());
    let months = d["revenue_by_month"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(months[11]["month"], json!(Utc::now().format("%Y-%m").to_string()));
    let sum: f64 = months.iter().map(|m| m["revenue"].as_f64().unwrap()).sum();
    assert_eq!(sum, 4300.0, "both wins fall in the last 12 months");
    assert_eq!(d["open_pipeline_value"], json!(3500.5));
    assert_eq!(d["weighted_pipeline_value"], json!(1100.2), "1000 × 10% + 2500.50 × 40%");
    assert_eq!(d["win_rate"], json!(66.67));
    assert_eq!(d["lead_conversion_rate"], json!(25.0));
    let by_status: Vec<(String, i64)> = d["leads_by_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["status"].as_str().unwrap().to_string(), s["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(by_status[0], ("New".to_string(), 1));
    assert_eq!(by_status.iter().find(|(s, _)| s == "Converted").unwrap().1, 1);
    // The v1 dashboard measures the same things the same way.
    let v1 = ok(&app, &token, "/api/v1/analytics/dashboard").await["data"].clone();
    assert_eq!(v1["totalCustomers"], d["total_accounts"]);
    assert_eq!(v1["monthlySales"], months[11]["revenue"]);
    let trend: Vec<f64> = v1["salesTrend"].as_array().unwrap().iter().map(|m| m["sales"].as_f64().unwrap()).collect();
    let ours: Vec<f64> = months.iter().map(|m| m["revenue"].as_f64().unwrap()).collect();
    assert_eq!(trend, ours);
    // Deleting an account takes its deals out of every figure.
    let alfa = ok(&app, &token, "/api/crm/accounts/?search=alfa").await["results"][0]["id"].clone();
    let res = app.call(reqwest::Method::DELETE, &format!("/api/crm/accounts/{alfa}/"), Some(&token), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let d = ok(&app, &token, DASHBOARD).await;
    assert_eq!((d["total_accounts"].clone(), d["total_deals"].clone()), (json!(2), json!(3)));
    assert_eq!(d["open_pipeline_value"], json!(0.0));
}

#[tokio::test]
async fn every_report_totals_the_hand_counted_figures() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, &token).await;
    let report = |kind: &str| {
        let (app, token) = (&app, token.clone());
        let path = format!("{REPORTS}?report_type={kind}");
        async move { ok(app, &token, &path).await }
    };
    let sales = report("sales").await;
    assert_eq!(sales["report_type"], json!("sales"));
    assert!(sales["generated_at"].is_string() && sales["start_date"].is_string());
    let keys: Vec<&str> = sales["columns"].as_array().unwrap().iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["month", "owner", "deals", "revenue", "average_deal"]);
    let rows = sales["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1]["revenue"], json!(4000.0));
    assert_eq!(rows[1]["owner"], json!("Test CEO"));
    assert_eq!(sales["totals"], json!({"deals": 2, "revenue": 4300.0, "average_deal": 2150.0}));

    let pipeline = report("pipeline").await;
    let rows = pipeline["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6, "every active stage, zeros included");
    assert_eq!((rows[0]["stage"].clone(), rows[0]["deals"].clone()), (json!("Lead"), json!(1)));
    assert_eq!(rows[0]["weighted_amount"], json!(100.0));
    assert_eq!((rows[2]["amount"].clone(), rows[2]["weighted_amount"].clone()), (json!(2500.5), json!(1000.2)));
    assert_eq!(pipeline["totals"]["deals"], json!(2));
    assert_eq!(pipeline["totals"]["amount"], json!(3500.5));
    assert_eq!(pipeline["totals"]["average_age_days"], json!(0.0), "created just now");

    let activities = report("activities").await;
    let listed = ok(&app, &token, "/api/activities/activities/").await["count"].clone();
    assert_eq!(activities["totals"]["activities"], listed, "the report counts every activity");
    let calls = activities["rows"].as_array().unwrap().iter().find(|r| r["activity_type"] == json!("Call")).unwrap();
    assert_eq!((calls["status"].clone(), calls["activities"].clone()), (json!("Completed"), json!(2)));

    let leads = report("leads").await;
    let rows = leads["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["lead_source"], json!("Referral"));
    assert_eq!((rows[0]["leads"].clone(), rows[0]["lost"].clone()), (json!(1), json!(1)));
    let web = &rows[1];
    assert_eq!(
        (web["leads"].clone(), web["converted"].clone(), web["conversion_rate"].clone()),
        (json!(3), json!(1), json!(33.33))
    );
    assert_eq!(leads["totals"]["leads"], json!(4));
    assert_eq!(leads["totals"]["conversion_rate"], json!(25.0));

    let accounts = report("accounts").await;
    let rows = accounts["rows"].as_array().unwrap();
    assert_eq!(rows[0], json!({"industry": "Retail", "account_type": "Prospect", "territory": null, "accounts": 1}));
    assert_eq!(
        rows[1],
        json!({"industry": "Technology", "account_type": "Customer", "territory": "Toshkent", "accounts": 2})
    );
    assert_eq!(accounts["totals"], json!({"accounts": 3}));

    // A range that holds only the earlier win.
    let earlier = Utc::now().date_naive() - Duration::days(40);
    let path = format!("{REPORTS}?report_type=sales&start_date={earlier}&end_date={earlier}");
    assert_eq!(ok(&app, &token, &path).await["totals"]["revenue"], json!(300.0));
}

#[tokio::test]
async fn without_a_type_the_reports_are_listed_and_bad_parameters_name_the_allowed_values() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let list = ok(&app, &token, REPORTS).await;
    let types: Vec<&str> =
        list["report_types"].as_array().unwrap().iter().map(|t| t["report_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["sales", "pipeline", "activities", "leads", "accounts"]);
    assert!(list["report_types"][0]["columns"][0]["label"].is_string());
    for (query, field, says) in [
        ("report_type=forecast", "report_type", "sales, pipeline, activities, leads, accounts"),
        ("report_type=sales&format=xlsx", "format", "json, csv or pdf"),
        ("report_type=sales&start_date=2026-02-30", "start_date", "YYYY-MM-DD"),
        ("report_type=sales&start_date=2026-05-02&end_date=2026-05-01", "start_date", "after"),
        ("report_type=sales&start_date=2020-01-01&end_date=2025-06-01", "end_date", "5 years"),
    ] {
        let res = app.get(&format!("{REPORTS}?{query}"), Some(&token)).await;
        assert_rest_error(&res, StatusCode::BAD_REQUEST, "ValidationError");
        let message = res.body["error"]["details"][field][0].as_str().unwrap_or_default();
        assert!(message.contains(says), "{query}: {}", res.text);
    }
}

#[tokio::test]
async fn reports_need_analytics_read() {
    let app = TestApp::spawn().await;
    let (_, email, password) = app.create_user("operator").await;
    let operator = app.token(&email, &password).await;
    for path in [DASHBOARD, REPORTS, "/api/analytics/reports/?report_type=sales&format=csv"] {
        assert_rest_error(&app.get(path, None).await, StatusCode::UNAUTHORIZED, "AuthenticationFailed");
        assert_rest_error(&app.get(path, Some(&operator)).await, StatusCode::FORBIDDEN, "PermissionDenied");
    }
}

#[tokio::test]
async fn csv_reports_survive_a_standard_reader_and_refuse_formulas() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let tricky = ["Тўқимачилик, \"Oʻzbek\" sanoati", "=HYPERLINK(\"http://evil\")", "Gʻalla\nva don"];
    for (i, industry) in tricky.iter().enumerate() {
        created(&app, &token, "/api/crm/accounts/", json!({"name": format!("Firma {i}"), "industry": industry})).await;
    }
    let res = app.get(&format!("{REPORTS}?report_type=accounts&format=csv"), Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("content-type"), Some("text/csv; charset=utf-8"));
    let today = Utc::now().date_naive();
    let start = ok(&app, &token, REPORTS).await["default_range"]["start_date"].as_str().unwrap().to_string();
    assert_eq!(
        res.header("content-disposition"),
        Some(format!("attachment; filename=\"accounts-{start}-{today}.csv\"").as_str())
    );
    let mut reader = csv::Reader::from_reader(res.text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header, ["industry", "account_type", "territory", "accounts"]);
    let industries: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_string()).collect();
    assert!(industries.contains(&tricky[0].to_string()), "{industries:?}");
    assert!(industries.contains(&tricky[2].to_string()), "{industries:?}");
    assert!(industries.contains(&format!("'{}", tricky[1])), "formula neutralised: {industries:?}");
    assert!(!industries.iter().any(|i| i.starts_with('=')));
}

#[tokio::test]
async fn pdf_reports_carry_the_figures_and_unicode_text() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, &token).await;
    created(&app, &token, "/api/crm/accounts/", json!({"name": "Oʻzbek", "industry": "Qishloq xoʻjaligi"})).await;
    created(&app, &token, "/api/crm/accounts/", json!({"name": "Ўзбек", "industry": "Тўқимачилик"})).await;
    let res = app
        .client
        .get(format!("{}{REPORTS}?report_type=accounts&format=pdf", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let text = pdf_extract::extract_text_from_mem(&bytes).expect("the PDF's text");
    for expected in
        ["Accounts report", "Period:", "Generated:", "Technology", "Qishloq xoʻjaligi", "Тўқимачилик", "Total"]
    {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    let sales = app
        .client
        .get(format!("{}{REPORTS}?report_type=sales&format=pdf", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let text = pdf_extract::extract_text_from_mem(&sales).unwrap();
    assert!(text.contains("4300.00") && text.contains("2150.00"), "{text}");
}
