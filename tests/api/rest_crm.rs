//! `crm-rest-api.md` accounts, contacts and leads: an account is the v1 customer record (and
//! gets a sales manager), contacts and leads are unique by e-mail and phone, and converting a
//! lead makes an account, a contact and a deal in one step or nothing at all.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ACCOUNTS: &str = "/api/crm/accounts/";
const CONTACTS: &str = "/api/crm/contacts/";
const LEADS: &str = "/api/crm/leads/";

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = app.post(path, Some(token), body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body
}

async fn count(app: &TestApp, token: &str, path: &str) -> i64 {
    let res = app.get(path, Some(token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body["count"].as_i64().unwrap()
}

#[tokio::test]
async fn an_account_is_a_v1_customer_with_a_sales_manager() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (manager, _, _) = app.create_user("sales_manager").await;
    let territory = created(&app, &token, "/api/territories/territories/", json!({"name": "North Territory"})).await;
    // The document's request body, verbatim.
    let body = json!({
        "name": "New Company",
        "account_type": "Prospect",
        "industry": "Healthcare",
        "phone": "+1-555-987-6543",
        "email": "info@newcompany.com",
        "website": "https://newcompany.com",
        "territory": territory["id"],
        "custom_fields": {"annual_revenue": 1000000, "employee_count": 50}
    });
    let account = created(&app, &token, ACCOUNTS, body).await;
    assert_eq!(account["name"], json!("New Company"));
    assert_eq!(account["account_type"], json!("Prospect"));
    assert_eq!(account["industry"], json!("Healthcare"));
    assert_eq!(account["phone"], json!("+15559876543"));
    assert_eq!(account["email"], json!("info@newcompany.com"));
    assert_eq!(account["website"], json!("https://newcompany.com"));
    assert_eq!(account["territory"], json!({"id": territory["id"], "name": "North Territory"}));
    assert_eq!(account["custom_fields"], json!({"annual_revenue": 1000000, "employee_count": 50}));
    assert_eq!(account["status"], json!("potential"));
    assert!(account["owner"]["id"].is_i64());
    let id = account["id"].as_i64().unwrap();

    let v1 = app.get(&format!("/api/v1/customers/{id}"), Some(&token)).await;
    assert_eq!(v1.status, StatusCode::OK, "{}", v1.text);
    assert_eq!(v1.body["data"]["customer"]["name"], json!("New Company"));
    let sm = app.get(&format!("/crm/customer/{id}/sales-manager"), Some(&token)).await;
    assert_eq!(sm.body["sales_manager"]["id"], json!(manager), "{}", sm.text);
    let dashboard = app.get("/api/v1/analytics/dashboard", Some(&token)).await;
    assert_eq!(dashboard.body["data"]["totalCustomers"], json!(1));

    // v1 customers show here too, and the filters find them.
    app.v1_customer(&token, json!({"name": "Acme Corporation", "email": "info@acme.com"})).await;
    assert_eq!(count(&app, &token, ACCOUNTS).await, 2);
    assert_eq!(count(&app, &token, &format!("{ACCOUNTS}?territory={}", territory["id"])).await, 1);
    assert_eq!(count(&app, &token, &format!("{ACCOUNTS}?account_type=Prospect&industry=Healthcare")).await, 1);
    assert_eq!(count(&app, &token, &format!("{ACCOUNTS}?search=acme.com")).await, 1);
    assert_eq!(count(&app, &token, &format!("{ACCOUNTS}?search=5559876543")).await, 1);

    let dup = app.post(ACCOUNTS, Some(&token), json!({"name": "Other", "email": "INFO@acme.com"})).await;
    assert_rest_error(&dup, StatusCode::CONFLICT, "Conflict");
    let bad = app
        .post(ACCOUNTS, Some(&token), json!({"name": "", "website": "acme", "status": "vip", "custom_fields": [1]}))
        .await;
    assert_rest_error(&bad, StatusCode::BAD_REQUEST, "ValidationError");
    for field in ["name", "website", "custom_fields"] {
        assert!(bad.body["error"]["details"][field].is_array(), "{field}: {}", bad.text);
    }
    let status = app.post(ACCOUNTS, Some(&token), json!({"name": "X", "status": "vip"})).await;
    assert!(status.body["error"]["details"]["status"].is_array(), "{}", status.text);

    let path = format!("{ACCOUNTS}{id}/");
    let changed =
        app.call(Method::PATCH, &path, Some(&token), Some(json!({"status": "active", "territory": null}))).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!((changed.body["status"].clone(), changed.body["territory"].clone()), (json!("active"), json!(null)));
    assert_eq!(changed.body["custom_fields"], account["custom_fields"], "unsent fields stay");

    // Deleting takes its deals along; restoring brings them back.
    app.post("/api/deals/deals/", Some(&token), json!({"name": "Deal", "account": id, "amount": 10})).await;
    assert_eq!(app.call(Method::DELETE, &path, Some(&token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/customers/{id}"), Some(&token)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(count(&app, &token, "/api/deals/deals/").await, 0);
    let restored = app.post(&format!("{path}restore/"), Some(&token), json!({})).await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text);
    assert_eq!(count(&app, &token, "/api/deals/deals/").await, 1);
    let dashboard = app.get("/api/v1/analytics/dashboard", Some(&token)).await;
    assert_eq!(dashboard.body["data"]["totalCustomers"], json!(2));
    assert_eq!(dashboard.body["data"]["activeDeals"], json!(1));
}

#[tokio::test]
async fn contacts_belong_to_accounts_and_are_unique_by_email_and_phone() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let acme = app.v1_customer(&token, json!({"name": "Acme Corporation"})).await["id"].clone();
    let body = json!({
        "first_name": "Jane",
        "last_name": "Smith",
        "email": "jane.smith@newcompany.com",
        "phone": "+1-555-987-6543",
        "title": "CTO",
        "account": acme,
        "custom_fields": {"department": "Engineering", "reports_to": "John Doe"}
    });
    let jane = created(&app, &token, CONTACTS, body).await;
    assert_eq!(jane["account"], json!({"id": acme, "name": "Acme Corporation"}));
    assert_eq!(jane["phone"], json!("+15559876543"));
    assert_eq!(jane["title"], json!("CTO"));
    assert_eq!(jane["custom_fields"]["department"], json!("Engineering"));

    for clash in [json!({"email": "Jane.Smith@NewCompany.com"}), json!({"phone": "+1 (555) 987-6543"})] {
        let mut body = json!({"first_name": "J", "last_name": "S"});
        body.as_object_mut().unwrap().extend(clash.as_object().unwrap().clone());
        let dup = app.post(CONTACTS, Some(&token), body).await;
        assert_rest_error(&dup, StatusCode::CONFLICT, "Conflict");
        assert_eq!(
            dup.body["error"]["details"]["candidates"],
            json!([{"type": "contact", "id": jane["id"], "name": "Jane Smith"}])
        );
    }
    created(&app, &token, CONTACTS, json!({"first_name": "John", "last_name": "Doe", "title": "CEO"})).await;
    assert_eq!(count(&app, &token, &format!("{CONTACTS}?account={acme}")).await, 1);
    assert_eq!(count(&app, &token, &format!("{CONTACTS}?title=CEO")).await, 1);
    assert_eq!(count(&app, &token, &format!("{CONTACTS}?search=smith")).await, 1);
    let missing =
        app.post(CONTACTS, Some(&token), json!({"first_name": "A", "last_name": "B", "account": 99999})).await;
    assert_eq!(missing.body["error"]["details"]["account"], json!(["Invalid pk \"99999\" - object does not exist."]));

    // A deal's contact must be one of its account's.
    let other = app.v1_customer(&token, json!({"name": "Globex"})).await["id"].clone();
    let wrong = app
        .post("/api/deals/deals/", Some(&token), json!({"name": "D", "account": other, "contact": jane["id"]}))
        .await;
    assert_rest_error(&wrong, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(wrong.body["error"]["details"]["contact"].is_array());
    let right =
        app.post("/api/deals/deals/", Some(&token), json!({"name": "D", "account": acme, "contact": jane["id"]})).await;
    assert_eq!(right.status, StatusCode::CREATED, "{}", right.text);
    assert_eq!(right.body["contact"], json!({"id": jane["id"], "name": "Jane Smith"}));

    let path = format!("{CONTACTS}{}/", jane["id"]);
    let put = app.call(Method::PUT, &path, Some(&token), Some(json!({"first_name": "Janet"}))).await;
    assert_eq!(put.body["error"]["details"]["last_name"], json!(["This field is required."]));
    assert_eq!(count(&app, &token, CONTACTS).await, 2);
    assert_eq!(app.call(Method::DELETE, &path, Some(&token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(count(&app, &token, CONTACTS).await, 1, "the total follows deletes");
    // Its e-mail is free again once it is deleted; restoring it would then clash.
    created(
        &app,
        &token,
        CONTACTS,
        json!({"first_name": "New", "last_name": "Jane", "email": "jane.smith@newcompany.com"}),
    )
    .await;
    let clash = app.post(&format!("{path}restore/"), Some(&token), json!({})).await;
    assert_rest_error(&clash, StatusCode::CONFLICT, "Conflict");
}

#[tokio::test]
async fn leads_are_filtered_and_keep_converted_for_the_convert_action() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let north = created(&app, &token, "/api/territories/territories/", json!({"name": "North"})).await["id"].clone();
    let lead = created(
        &app,
        &token,
        LEADS,
        json!({"first_name": "Lead", "last_name": "Prospect", "email": "lead@prospect.com", "phone": "+1-555-111-2222",
               "company_name": "Prospect Company", "lead_source": "Website", "territory": north}),
    )
    .await;
    assert_eq!(lead["status"], json!("New"));
    assert_eq!(lead["territory"], json!({"id": north, "name": "North"}));
    for field in ["converted_account", "converted_contact", "converted_deal", "converted_at"] {
        assert_eq!(lead[field], json!(null), "{field}");
    }
    created(
        &app,
        &token,
        LEADS,
        json!({"first_name": "Cold", "last_name": "Call", "lead_source": "Phone", "status": "Contacted"}),
    )
    .await;
    assert_eq!(count(&app, &token, LEADS).await, 2);
    let cold = app.get(&format!("{LEADS}?lead_source=Phone"), Some(&token)).await.body["results"][0]["id"].clone();
    let gone = app.call(Method::DELETE, &format!("{LEADS}{cold}/"), Some(&token), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(count(&app, &token, LEADS).await, 1);
    assert_eq!(app.post(&format!("{LEADS}{cold}/restore/"), Some(&token), json!({})).await.status, StatusCode::OK);
    assert_eq!(count(&app, &token, LEADS).await, 2, "the total follows restores");
    assert_eq!(count(&app, &token, &format!("{LEADS}?lead_source=Website")).await, 1);
    assert_eq!(count(&app, &token, &format!("{LEADS}?status=contacted")).await, 1);
    assert_eq!(count(&app, &token, &format!("{LEADS}?territory={north}")).await, 1);
    assert_eq!(count(&app, &token, &format!("{LEADS}?search=prospect%20company")).await, 1);
    let bad = app.get(&format!("{LEADS}?status=Maybe"), Some(&token)).await;
    assert_rest_error(&bad, StatusCode::BAD_REQUEST, "ValidationError");

    let dup =
        app.post(LEADS, Some(&token), json!({"first_name": "A", "last_name": "B", "email": "LEAD@prospect.com"})).await;
    assert_rest_error(&dup, StatusCode::CONFLICT, "Conflict");
    assert_eq!(dup.body["error"]["details"]["candidates"][0]["type"], json!("lead"));
    let by_hand = app
        .call(Method::PATCH, &format!("{LEADS}{}/", lead["id"]), Some(&token), Some(json!({"status": "Converted"})))
        .await;
    assert_rest_error(&by_hand, StatusCode::BAD_REQUEST, "ValidationError");
}

#[tokio::test]
async fn converting_a_lead_makes_account_contact_and_deal_at_once() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let stages = app.get("/api/deals/pipeline-stages/", Some(&token)).await.body["results"].clone();
    let proposal = stages.as_array().unwrap().iter().find(|s| s["name"] == "Proposal").unwrap()["id"].clone();
    let lead = created(
        &app,
        &token,
        LEADS,
        json!({"first_name": "Lead", "last_name": "Prospect", "email": "lead@prospect.com", "company_name": "Prospect Company"}),
    )
    .await;
    let path = format!("{LEADS}{}/convert/", lead["id"]);
    let bad_stage = app.post(&path, Some(&token), json!({"deal": {"name": "First order", "stage": 99999}})).await;
    assert_rest_error(&bad_stage, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(bad_stage.body["error"]["details"]["deal.stage"].is_array(), "{}", bad_stage.text);
    assert_eq!(count(&app, &token, ACCOUNTS).await, 0, "a refused conversion leaves nothing behind");

    let done = app
        .post(&path, Some(&token), json!({"deal": {"name": "First order", "amount": 5000, "stage": proposal, "expected_close_date": "2024-04-01"}}))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let b = &done.body;
    assert_eq!(b["account"]["name"], json!("Prospect Company"));
    assert_eq!(b["contact"]["first_name"], json!("Lead"));
    assert_eq!(b["contact"]["email"], json!("lead@prospect.com"));
    assert_eq!(b["contact"]["account"], json!({"id": b["account"]["id"], "name": "Prospect Company"}));
    assert_eq!(b["deal"]["name"], json!("First order"));
    assert_eq!(b["deal"]["amount"], json!(5000.0));
    assert_eq!(b["deal"]["stage"]["name"], json!("Proposal"));
    assert_eq!(b["deal"]["contact"]["id"], b["contact"]["id"]);
    assert_eq!(b["lead"]["status"], json!("Converted"));
    assert_eq!(b["lead"]["converted_account"], json!({"id": b["account"]["id"], "name": "Prospect Company"}));
    assert_eq!(b["lead"]["converted_contact"], json!({"id": b["contact"]["id"], "name": "Lead Prospect"}));
    assert_eq!(b["lead"]["converted_deal"], json!({"id": b["deal"]["id"], "name": "First order"}));
    assert!(b["lead"]["converted_at"].is_string());
    assert_eq!(app.get(&format!("{LEADS}{}/", lead["id"]), Some(&token)).await.body, b["lead"]);
    assert_eq!(
        app.get(&format!("/api/v1/customers/{}", b["account"]["id"]), Some(&token)).await.status,
        StatusCode::OK
    );

    let again = app.post(&path, Some(&token), json!({})).await;
    assert_rest_error(&again, StatusCode::CONFLICT, "Conflict");
    let reopen =
        app.call(Method::PATCH, &format!("{LEADS}{}/", lead["id"]), Some(&token), Some(json!({"status": "New"}))).await;
    assert_rest_error(&reopen, StatusCode::CONFLICT, "Conflict");

    // A second lead of the same company clashes with the account before anything is written.
    let second = created(
        &app,
        &token,
        LEADS,
        json!({"first_name": "Other", "last_name": "Person", "email": "other@prospect.com", "company_name": "prospect company"}),
    )
    .await;
    let path = format!("{LEADS}{}/convert/", second["id"]);
    let clash = app.post(&path, Some(&token), json!({})).await;
    assert_rest_error(&clash, StatusCode::CONFLICT, "Conflict");
    assert_eq!(
        clash.body["error"]["details"]["candidates"],
        json!([{"type": "account", "id": b["account"]["id"], "name": "Prospect Company"}])
    );
    assert_eq!(count(&app, &token, CONTACTS).await, 1, "no orphan contact");
    // Linking the existing account converts it, with a new contact there.
    let linked = app.post(&path, Some(&token), json!({"account_id": b["account"]["id"]})).await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.text);
    assert_eq!(linked.body["account"]["id"], b["account"]["id"]);
    assert_eq!(linked.body["deal"], json!(null));
    assert_eq!(count(&app, &token, ACCOUNTS).await, 1);
    assert_eq!(count(&app, &token, &format!("{CONTACTS}?account={}", b["account"]["id"])).await, 2);

    // A lead whose phone a contact has clashes too, and nothing is created.
    let third =
        created(&app, &token, LEADS, json!({"first_name": "Solo", "last_name": "Trader", "phone": "+998901234567"}))
            .await;
    created(
        &app,
        &token,
        CONTACTS,
        json!({"first_name": "Solo", "last_name": "Contact", "phone": "+998 90 123 45 67"}),
    )
    .await;
    let clash = app.post(&format!("{LEADS}{}/convert/", third["id"]), Some(&token), json!({})).await;
    assert_rest_error(&clash, StatusCode::CONFLICT, "Conflict");
    assert_eq!(clash.body["error"]["details"]["candidates"][0]["type"], json!("contact"));
    assert_eq!(count(&app, &token, ACCOUNTS).await, 1, "no orphan account");
}

#[tokio::test]
async fn concurrent_creates_of_one_person_store_one_and_name_it_to_the_others() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for (path, body) in [
        (CONTACTS, json!({"first_name": "Ada", "last_name": "Race", "email": "ada.race@example.uz"})),
        (LEADS, json!({"first_name": "Ada", "last_name": "Race", "phone": "+998 90 555 11 22"})),
    ] {
        let answers = futures_util::future::join_all((0..40).map(|_| app.post(path, Some(&token), body.clone()))).await;
        let winners: Vec<&Resp> = answers.iter().filter(|r| r.status == StatusCode::CREATED).collect();
        assert_eq!(winners.len(), 1, "{path}: {:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
        let winner = &winners[0].body["id"];
        for lost in answers.iter().filter(|r| r.status != StatusCode::CREATED) {
            assert_rest_error(lost, StatusCode::CONFLICT, "Conflict");
            assert_eq!(lost.body["error"]["details"]["candidates"][0]["id"], *winner, "{path}: {}", lost.text);
        }
        assert_eq!(count(&app, &token, path).await, 1, "{path}");
    }
}
