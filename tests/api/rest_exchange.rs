//! Export, import, likely duplicates and merging of accounts, contacts and leads.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ACCOUNTS: &str = "/api/crm/accounts/";
const CONTACTS: &str = "/api/crm/contacts/";
const LEADS: &str = "/api/crm/leads/";

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = app.post(path, Some(token), body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{path}: {}", res.text);
    res.body
}

async fn import(app: &TestApp, token: &str, path: &str, texts: &[(&str, &str)], csv: &str) -> Resp {
    app.post_multipart(&format!("{path}import/"), Some(token), texts, Some(("file", "rows.csv", csv.as_bytes()))).await
}

fn records(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    (header, rows)
}

async fn count(app: &TestApp, token: &str, path: &str) -> i64 {
    app.get(path, Some(token)).await.body["count"].as_i64().unwrap()
}

#[tokio::test]
async fn an_export_streams_every_matching_record_in_the_api_columns() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account =
        created(&app, &token, ACCOUNTS, json!({"name": "Oʻzbek Tekstil, \"MChJ\"", "industry": "Тўқимачилик"})).await;
    let mut csv_text = String::from("first_name,last_name,email,phone,account,custom_fields\n");
    for i in 0..1_100 {
        csv_text.push_str(&format!(
            "Ism{i},Familiya,person{i}@firma.uz,+99890{i:07},{},\"{{\"\"tier\"\": {}}}\"\n",
            account["id"],
            i % 3
        ));
    }
    let res = import(&app, &token, CONTACTS, &[], &csv_text).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["created"], json!(1_100), "{}", res.text);
    let res = app.get(&format!("{CONTACTS}export/?account={}", account["id"]), Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(res.header("content-disposition").is_some_and(|d| d.starts_with("attachment; filename=\"contacts-")));
    let (header, rows) = records(&res.text);
    assert_eq!(
        header,
        [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "title",
            "account",
            "owner",
            "custom_fields",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(rows.len(), 1_100, "every record, not one page");
    let row = rows.iter().find(|r| r[3] == "person7@firma.uz").unwrap();
    assert_eq!(row[4], "'+998900000007", "a leading + is neutralised for spreadsheets");
    assert_eq!(row[6], account["id"].to_string());
    assert_eq!(serde_json::from_str::<Value>(&row[8]).unwrap(), json!({"tier": 1}));
    let filtered = app.get(&format!("{CONTACTS}export/?search=person10"), Some(&token)).await;
    let listed = count(&app, &token, &format!("{CONTACTS}?search=person10")).await;
    assert_eq!(listed, 111, "person10, person100-109, person1000-1099");
    assert_eq!(records(&filtered.text).1.len() as i64, listed, "the list's filters apply");
    let accounts = app.get(&format!("{ACCOUNTS}export/"), Some(&token)).await;
    let (_, rows) = records(&accounts.text);
    assert_eq!(rows[0][1], "Oʻzbek Tekstil, \"MChJ\"");
    assert_eq!(rows[0][3], "Тўқимачилик");
    let bad = app.get(&format!("{ACCOUNTS}export/?format=xlsx"), Some(&token)).await;
    assert_rest_error(&bad, StatusCode::BAD_REQUEST, "ValidationError");
}

#[tokio::test]
async fn an_import_stores_good_rows_reports_bad_and_duplicate_ones_and_a_dry_run_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    created(
        &app,
        &token,
        LEADS,
        json!({"first_name": "Mavjud", "last_name": "Lid", "email": "old@lead.uz", "phone": "+998901234567"}),
    )
    .await;
    let file = "first_name,last_name,email,phone,company_name,lead_source,status,notes_we_do_not_have\n\
                Aziz,Karimov,aziz@lead.uz,,Acme,Website,New,x\n\
                Bad,,not-an-email,,,,,\n\
                Same,Person,AZIZ@lead.uz,,,,,\n\
                Old,Match,,+998 90 123 45 67,,Referral,,\n\
                Status,Wrong,s@lead.uz,,,,Maybe,\n";
    let dry = import(&app, &token, LEADS, &[("dry_run", "true")], file).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    let summary = |b: &Value| (b["created"].clone(), b["updated"].clone(), b["skipped"].clone(), b["failed"].clone());
    assert_eq!(summary(&dry.body), (json!(1), json!(0), json!(1), json!(3)), "{}", dry.text);
    assert_eq!(dry.body["dry_run"], json!(true));
    assert_eq!(count(&app, &token, LEADS).await, 1, "a dry run writes nothing");
    let real = import(&app, &token, LEADS, &[], file).await;
    assert_eq!(summary(&real.body), summary(&dry.body), "the dry run said what the import did");
    assert_eq!(count(&app, &token, LEADS).await, 2);
    let errors = real.body["errors"].as_array().unwrap();
    let at = |row: i64, field: &str| errors.iter().any(|e| e["row"] == json!(row) && e["field"] == json!(field));
    assert!(at(3, "last_name") && at(3, "email"), "{errors:?}");
    assert!(at(4, "email"), "the same e-mail as row 2: {errors:?}");
    assert!(at(6, "status"), "{errors:?}");
    // The matched lead is updated on request, with the row's non-empty fields only.
    let update =
        import(&app, &token, LEADS, &[("on_duplicate", "update")], "phone,lead_source\n+998901234567,Referral\n").await;
    assert_eq!(summary(&update.body), (json!(0), json!(1), json!(0), json!(0)), "{}", update.text);
    let old = app.get(&format!("{LEADS}?search=old@lead.uz"), Some(&token)).await.body["results"][0].clone();
    assert_eq!((old["lead_source"].clone(), old["first_name"].clone()), (json!("Referral"), json!("Mavjud")));
    let bad_mode = import(&app, &token, LEADS, &[("on_duplicate", "merge")], "email\na@b.uz\n").await;
    assert_rest_error(&bad_mode, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(bad_mode.text.contains("skip or update"));
}

#[tokio::test]
async fn imported_accounts_take_their_turn_in_the_sales_manager_rotation() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (m1, _, _) = app.create_user("sales_manager").await;
    let (m2, _, _) = app.create_user("sales_manager").await;
    let res = import(&app, &token, ACCOUNTS, &[], "name,email\nA1,a1@x.uz\nA2,a2@x.uz\nA3,a3@x.uz\nA4,a4@x.uz\n").await;
    assert_eq!(res.body["created"], json!(4), "{}", res.text);
    let mut managers = Vec::new();
    for account in app.get(ACCOUNTS, Some(&token)).await.body["results"].as_array().unwrap() {
        let res = app.get(&format!("/crm/customer/{}/sales-manager", account["id"]), Some(&token)).await;
        managers.push(res.body["sales_manager"]["id"].as_i64().unwrap());
    }
    assert_eq!(managers.iter().filter(|m| **m == m1).count(), 2, "{managers:?}");
    assert_eq!(managers.iter().filter(|m| **m == m2).count(), 2, "{managers:?}");
    // A row matching an account by name (any case) is skipped, not stored twice.
    let again = import(&app, &token, ACCOUNTS, &[], "name\na1\n").await;
    assert_eq!((again.body["created"].clone(), again.body["skipped"].clone()), (json!(0), json!(1)));
}

#[tokio::test]
async fn files_that_are_not_csv_with_a_header_or_too_large_are_refused_with_nothing_written() {
    let app = TestApp::spawn_with(&[("import_max_rows", "3"), ("import_max_bytes", "2000")]).await;
    let token = app.admin_token().await;
    for (bytes, says) in [
        (&b""[..], "empty"),
        (&b"foo,bar\n1,2\n"[..], "first row must name the columns"),
        (&b"first_name,last_name\n\xff\xfe,x\n"[..], "UTF-8"),
    ] {
        let res =
            app.post_multipart(&format!("{CONTACTS}import/"), Some(&token), &[], Some(("file", "f.csv", bytes))).await;
        assert_rest_error(&res, StatusCode::BAD_REQUEST, "ValidationError");
        assert!(res.text.contains(says), "{says}: {}", res.text);
    }
    let no_file = app.post_multipart(&format!("{CONTACTS}import/"), Some(&token), &[("dry_run", "true")], None).await;
    assert_rest_error(&no_file, StatusCode::BAD_REQUEST, "ValidationError");
    let json_body = app.post(&format!("{CONTACTS}import/"), Some(&token), json!({"file": "x"})).await;
    assert_rest_error(&json_body, StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType");
    let rows = "first_name,last_name\nA,B\nC,D\nE,F\nG,H\n";
    let res = import(&app, &token, CONTACTS, &[], rows).await;
    assert_rest_error(&res, StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge");
    let big = format!("first_name,last_name\n{}", "Aaaaaaaaaa,Bbbbbbbbbbb\n".repeat(120));
    let res = import(&app, &token, CONTACTS, &[], &big).await;
    assert_rest_error(&res, StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge");
    assert_eq!(count(&app, &token, CONTACTS).await, 0, "nothing written");
}

#[tokio::test]
async fn exchange_routes_check_permissions() {
    let app = TestApp::spawn().await;
    let (_, e, p) = app.create_user("financial_director").await;
    let reader = app.token(&e, &p).await;
    let (_, e, p) = app.create_user("sales_manager").await;
    let writer = app.token(&e, &p).await;
    let (_, e, p) = app.create_user("customer").await;
    let outsider = app.token(&e, &p).await;
    for path in [format!("{ACCOUNTS}export/"), format!("{LEADS}duplicates/")] {
        assert_rest_error(&app.get(&path, None).await, StatusCode::UNAUTHORIZED, "AuthenticationFailed");
        assert_rest_error(&app.get(&path, Some(&outsider)).await, StatusCode::FORBIDDEN, "PermissionDenied");
        assert_eq!(app.get(&path, Some(&reader)).await.status, StatusCode::OK);
    }
    let res = import(&app, &reader, CONTACTS, &[], "first_name,last_name\nA,B\n").await;
    assert_rest_error(&res, StatusCode::FORBIDDEN, "PermissionDenied");
    assert_eq!(import(&app, &writer, CONTACTS, &[], "first_name,last_name\nA,B\n").await.status, StatusCode::OK);
    let merge = app.post(&format!("{CONTACTS}merge/"), Some(&writer), json!({"target_id": 1, "source_ids": [2]})).await;
    assert_rest_error(&merge, StatusCode::FORBIDDEN, "PermissionDenied");
    // Leads are not merged: the path is a lead's, which takes no POST.
    let res = app.post(&format!("{LEADS}merge/"), Some(&writer), json!({})).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn likely_duplicates_are_grouped_by_rule_largest_first() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for name in ["Acme LLC", "ACME, Ltd.", "Аcme Inc", "Zenit MChJ", "OOO Zenit", "Solo"] {
        created(&app, &token, ACCOUNTS, json!({"name": name})).await;
    }
    let groups = app.get(&format!("{ACCOUNTS}duplicates/"), Some(&token)).await.body;
    assert_eq!(groups["count"], json!(2), "{groups}");
    let first = &groups["results"][0];
    assert_eq!(
        (first["rule"].clone(), first["key"].clone(), first["size"].clone()),
        (json!("same_name"), json!("acme"), json!(3))
    );
    assert_eq!(first["members"].as_array().unwrap().len(), 3);
    assert_eq!(groups["results"][1]["key"], json!("zenit"));

    let a = created(&app, &token, ACCOUNTS, json!({"name": "Firma"})).await;
    let person = |first: &str, email: &str, account: &Value| json!({"first_name": first, "last_name": "Karimov", "email": email, "account": account});
    created(&app, &token, CONTACTS, person("Aziz", "aziz1@firma.uz", &a["id"])).await;
    created(&app, &token, CONTACTS, person("AZIZ", "aziz2@gmail.com", &a["id"])).await;
    created(&app, &token, CONTACTS, person("Азиз", "aziz3@firma.uz", &Value::Null)).await;
    created(&app, &token, CONTACTS, person("Aziz", "aziz4@gmail.com", &Value::Null)).await;
    let groups = app.get(&format!("{CONTACTS}duplicates/"), Some(&token)).await.body;
    let rules: Vec<(String, i64)> = groups["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["rule"].as_str().unwrap().to_string(), g["size"].as_i64().unwrap()))
        .collect();
    assert!(rules.contains(&("same_name_and_account".into(), 2)), "{rules:?}");
    assert!(rules.contains(&("same_name_and_email_domain".into(), 2)), "firma.uz, not gmail.com: {rules:?}");
    assert_eq!(rules.len(), 2, "a public mail domain groups nothing: {rules:?}");

    created(&app, &token, LEADS, json!({"first_name": "Dilshod", "last_name": "Ergashev", "company_name": "Nur LLC"}))
        .await;
    created(&app, &token, LEADS, json!({"first_name": "dilshod", "last_name": "ergashev", "company_name": "NUR"}))
        .await;
    let groups = app.get(&format!("{LEADS}duplicates/"), Some(&token)).await.body;
    assert_eq!(groups["results"][0]["rule"], json!("same_name_and_company"));
    assert_eq!(app.get(&format!("{LEADS}duplicates/?page=9"), Some(&token)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_duplicate_account_email_names_the_account_it_collides_with() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let first = created(&app, &token, ACCOUNTS, json!({"name": "First", "email": "info@first.uz"})).await;
    let res = app.post(ACCOUNTS, Some(&token), json!({"name": "Second", "email": "INFO@first.uz"})).await;
    assert_rest_error(&res, StatusCode::CONFLICT, "Conflict");
    assert_eq!(
        res.body["error"]["details"]["candidates"],
        json!([{"type": "account", "id": first["id"], "name": "First"}])
    );
    let second = created(&app, &token, ACCOUNTS, json!({"name": "Second"})).await;
    let path = format!("{ACCOUNTS}{}/", second["id"]);
    let res = app.call(Method::PATCH, &path, Some(&token), Some(json!({"email": "info@first.uz"}))).await;
    assert_eq!(res.body["error"]["details"]["candidates"][0]["id"], first["id"], "{}", res.text);
}

#[tokio::test]
async fn merging_accounts_moves_every_relation_and_keeps_the_figures_exact() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (manager, _, _) = app.create_user("sales_manager").await;
    let target = created(&app, &token, ACCOUNTS, json!({"name": "Acme", "industry": "Retail"})).await;
    let source = created(&app, &token, ACCOUNTS, json!({"name": "ACME LLC", "email": "hello@acme.uz", "phone": "+998901112233", "website": "https://acme.uz", "industry": "Food", "custom_fields": {"vat": "123"}})).await;
    let (t, s) = (target["id"].clone(), source["id"].clone());
    let contact =
        created(&app, &token, CONTACTS, json!({"first_name": "Ali", "last_name": "Valiyev", "account": s})).await;
    let deal = created(&app, &token, "/api/deals/deals/", json!({"name": "Big", "account": s, "amount": 1500})).await;
    let res = app.post(&format!("/api/deals/deals/{}/mark-won/", deal["id"]), Some(&token), json!({})).await;
    assert_eq!(res.status, StatusCode::OK);
    created(&app, &token, "/api/deals/deals/", json!({"name": "Open", "account": s, "amount": 200})).await;
    created(
        &app,
        &token,
        "/api/activities/activities/",
        json!({"subject": "Call", "activity_type": "Call", "account": s}),
    )
    .await;
    created(&app, &token, "/api/activities/tasks/", json!({"title": "Send offer", "account": s})).await;
    let caller =
        app.post("/api/users", Some(&token), json!({"fullName": "Ali Valiyev", "phone": "+998901112233"})).await;
    assert!(caller.status.is_success(), "{}", caller.text);
    let activities = count(&app, &token, &format!("/api/activities/activities/?account={s}")).await;
    assert!(activities >= 1);
    let before = app.get("/api/analytics/dashboard/", Some(&token)).await.body;
    let v1_before = app.get("/api/v1/analytics/dashboard", Some(&token)).await.body;

    let res = app.post(&format!("{ACCOUNTS}merge/"), Some(&token), json!({"target_id": t, "source_ids": [s]})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let moved = &res.body["moved"];
    assert_eq!(
        (moved["contacts"].clone(), moved["deals"].clone(), moved["activities"].clone()),
        (json!(1), json!(2), json!(activities))
    );
    assert_eq!(
        (moved["tasks"].clone(), moved["callers"].clone(), moved["sales_manager_assignments"].clone()),
        (json!(1), json!(1), json!(1)),
        "the source's assignment history moves"
    );
    let merged = &res.body["target"];
    assert_eq!(merged["email"], json!("hello@acme.uz"), "empty fields filled from the source");
    assert_eq!(merged["industry"], json!("Retail"), "the target's own values stay");
    assert_eq!(merged["custom_fields"], json!({"vat": "123"}));
    assert_eq!(res.body["merged_ids"], json!([s]));

    assert_rest_error(&app.get(&format!("{ACCOUNTS}{s}/"), Some(&token)).await, StatusCode::NOT_FOUND, "NotFound");
    let contact = app.get(&format!("{CONTACTS}{}/", contact["id"]), Some(&token)).await.body;
    assert_eq!(contact["account"]["id"], t);
    assert_eq!(count(&app, &token, &format!("/api/deals/deals/?account={t}")).await, 2);
    let task = &app.get("/api/activities/tasks/", Some(&token)).await.body["results"][0];
    assert_eq!(task["account"]["id"], t, "{task}");
    let assigned = app.get(&format!("/crm/customer/{t}/sales-manager"), Some(&token)).await.body;
    assert_eq!(assigned["sales_manager"]["id"], json!(manager), "one active sales manager kept");
    let restore = app.post(&format!("{ACCOUNTS}{s}/restore/"), Some(&token), json!({})).await;
    assert_rest_error(&restore, StatusCode::CONFLICT, "Conflict");

    // The figures: one account less, the same revenue and deals, and equal to a recount.
    let after = app.get("/api/analytics/dashboard/", Some(&token)).await.body;
    assert_eq!(after["total_accounts"].as_i64().unwrap(), before["total_accounts"].as_i64().unwrap() - 1);
    for key in ["total_deals", "total_revenue", "open_pipeline_value", "revenue_by_month", "deals_by_stage"] {
        assert_eq!(after[key], before[key], "{key}");
    }
    let v1_after = app.get("/api/v1/analytics/dashboard", Some(&token)).await.body;
    assert_eq!(v1_after["data"]["monthlySales"], v1_before["data"]["monthlySales"]);
    app.sql("SELECT 1", vec![]).await; // rebuilds every summary from the rows
    assert_eq!(
        app.get("/api/analytics/dashboard/", Some(&token)).await.body,
        after,
        "the kept figures equal a recount"
    );
    let top = app.get("/api/v1/analytics/sales", Some(&token)).await.body;
    assert_eq!(top["data"]["topCustomers"][0]["customerId"], t, "the won value follows the deal: {top}");
}

#[tokio::test]
async fn merging_contacts_moves_their_deals_and_refuses_bad_ids_without_changing_anything() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = created(&app, &token, ACCOUNTS, json!({"name": "Firma"})).await;
    let target = created(
        &app,
        &token,
        CONTACTS,
        json!({"first_name": "Aziz", "last_name": "Karimov", "account": account["id"]}),
    )
    .await;
    let source = created(&app, &token, CONTACTS, json!({"first_name": "AZIZ", "last_name": "KARIMOV", "phone": "+998935554433", "title": "CTO", "account": account["id"]})).await;
    let (t, s) = (target["id"].clone(), source["id"].clone());
    created(
        &app,
        &token,
        "/api/deals/deals/",
        json!({"name": "D", "account": account["id"], "contact": s, "amount": 10}),
    )
    .await;
    for (body, field) in [
        (json!({"target_id": t, "source_ids": [t]}), "source_ids"),
        (json!({"target_id": t, "source_ids": [99999]}), "source_ids"),
        (json!({"target_id": 99999, "source_ids": [s]}), "target_id"),
        (json!({"target_id": t, "source_ids": []}), "source_ids"),
        (json!({"source_ids": [s]}), "target_id"),
    ] {
        let res = app.post(&format!("{CONTACTS}merge/"), Some(&token), body.clone()).await;
        assert_rest_error(&res, StatusCode::BAD_REQUEST, "ValidationError");
        assert!(res.body["error"]["details"][field].is_array(), "{body}: {}", res.text);
    }
    assert_eq!(count(&app, &token, CONTACTS).await, 2, "nothing changed");
    let res = app.post(&format!("{CONTACTS}merge/"), Some(&token), json!({"target_id": t, "source_ids": [s]})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["moved"]["deals"], json!(1));
    assert_eq!(
        (res.body["target"]["phone"].clone(), res.body["target"]["title"].clone()),
        (json!("+998935554433"), json!("CTO"))
    );
    assert_eq!(count(&app, &token, CONTACTS).await, 1);
    let deal = &app.get("/api/deals/deals/", Some(&token)).await.body["results"][0];
    assert_eq!(deal["contact"]["id"], t);
    let groups = app.get(&format!("{CONTACTS}duplicates/"), Some(&token)).await.body;
    assert_eq!(groups["count"], json!(0), "merged duplicates are no longer listed");
}
