//! The `crm-server` command line.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;
use std::process::Command;

fn crm_server() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crm-server"));
    cmd.env("CONFIG_DIR", config_dir()).env("APP_ENV", "test").env_remove("NODE_ENV");
    cmd
}

#[test]
fn help_lists_the_subcommands() {
    let out = crm_server().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in ["serve", "migrate", "create-user", "seed-demo", "reindex"] {
        assert!(text.contains(sub), "{sub} missing from --help: {text}");
    }
    let out = crm_server().args(["create-user", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in ["--email", "--password", "--name", "--role"] {
        assert!(text.contains(flag));
    }
}

#[tokio::test]
async fn migrate_and_create_user_prepare_a_database_the_server_uses() {
    let url = fresh_database_url().await;
    let out = crm_server().arg("migrate").env("DATABASE_URL", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = crm_server()
        .args([
            "create-user",
            "--email",
            "Op@CLI.uz",
            "--password",
            "cli-password-1",
            "--name",
            "Cli Operator",
            "--role",
            "operator",
        ])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bad = crm_server()
        .args(["create-user", "--email", "x@cli.uz", "--password", "cli-password-1", "--name", "X", "--role", "wizard"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("wizard"));

    let app = TestApp::spawn_on(&url, &[]).await;
    let login = app.post("/api/auth/login", None, json!({"email": "op@cli.uz", "password": "cli-password-1"})).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    assert_eq!(login.body["user"]["role"], json!("operator"));
    // Users existed, so no administrator was bootstrapped.
    let ceo = app.post("/api/auth/login", None, json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await;
    assert_eq!(ceo.status, StatusCode::UNAUTHORIZED);
}

#[test]
fn bad_configuration_stops_start_up_naming_the_key() {
    let out = crm_server().arg("migrate").env("JWT_EXPIRES_IN", "forever").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_EXPIRES_IN"));
    let out = crm_server().arg("migrate").env("DATABASE_URL", "mysql://localhost/x").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"));
    let out = crm_server()
        .arg("migrate")
        .env("APP_ENV", "production")
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_SECRET"));
}

#[tokio::test]
async fn seed_demo_fills_a_living_dashboard_once() {
    let url = fresh_database_url().await;
    for _ in 0..2 {
        let out = crm_server()
            .arg("seed-demo")
            .env("DATABASE_URL", &url)
            .env("ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let app = TestApp::spawn_on(&url, &[]).await;
    let token = app.admin_token().await;
    let dashboard = app.get("/api/v1/analytics/dashboard", Some(&token)).await;
    let d = &dashboard.body["data"];
    // 300 CRM customers and the CIMS workspace's 36.
    assert_eq!(d["totalCustomers"], json!(336), "seeded once, not twice");
    let months_with_sales =
        d["salesTrend"].as_array().unwrap().iter().filter(|p| p["sales"].as_f64().unwrap() > 0.0).count();
    assert!(months_with_sales >= 10, "sales over the year: {}", dashboard.text);
    assert!(d["activeDeals"].as_u64().unwrap() > 0);
    let deals = app.get("/api/v1/deals?limit=1", Some(&token)).await;
    assert_eq!(deals.body["data"]["pagination"]["totalItems"], json!(2000));
    assert!(deals.body["data"]["deals"][0]["customer"]["name"].is_string());

    // Every list of the REST surface has something to show.
    let counts = [
        ("/api/core/companies/", 1),
        ("/api/crm/accounts/", 336),
        ("/api/crm/contacts/", 400),
        ("/api/crm/leads/", 150),
        ("/api/deals/deals/", 2000),
        ("/api/deals/pipeline-stages/", 6),
        ("/api/territories/territories/", 5),
        ("/api/products/products/", 8),
        ("/api/products/categories/", 3),
        // 1,000 activities and the workspace's 24 notes.
        ("/api/activities/activities/", 1024),
        ("/api/activities/tasks/", 40),
        ("/api/activities/events/", 20),
    ];
    for (path, n) in counts {
        let res = app.get(path, Some(&token)).await;
        assert_eq!(res.body["count"], json!(n), "{path}: {}", res.text);
    }
    let profile = app.get("/api/core/profile/", Some(&token)).await.body;
    assert_eq!(profile["companies"][0]["role"], json!("admin"), "the administrator runs the demo company: {profile}");
    let placed = app.get("/api/deals/deals/?page_size=100", Some(&token)).await.body;
    let results = placed["results"].as_array().unwrap();
    assert!(results.iter().all(|d| d["stage"]["name"].is_string()), "every seeded deal is on a stage");
    let stages: std::collections::HashSet<_> = results.iter().map(|d| d["stage"]["id"].clone()).collect();
    assert!(stages.len() >= 4, "deals spread over the pipeline");
    assert_eq!(app.get("/api/crm/accounts/?territory=1", Some(&token)).await.status, StatusCode::OK);
    let industries = app.get("/api/crm/accounts/?industry=Technology", Some(&token)).await.body;
    assert!(industries["count"].as_i64().unwrap() > 0);

    // The CIMS workspace: customers in every lead status, spread over the sales managers,
    // with notes, status changes and recordings.
    let workspace = app.get("/crm/customers/filter/platform?platform=Telegram", Some(&token)).await.body;
    assert_eq!(workspace.as_array().unwrap().len(), 9);
    let stats = app.get("/crm/stats", Some(&token)).await.body;
    for status in ["need_to_call", "contacted", "project_started", "continuing", "finished", "rejected"] {
        assert!(stats[status].as_u64().unwrap() >= 6, "{status}: {stats}");
    }
    let managers = app.get("/crm/sales-managers", Some(&token)).await.body;
    let counts: Vec<u64> =
        managers.as_array().unwrap().iter().map(|m| m["assigned_leads_count"].as_u64().unwrap()).collect();
    assert_eq!(counts, vec![12, 12, 12], "the rotation shared the workspace's customers");
    let latest = app.get("/crm/customers/latest?limit=36", Some(&token)).await.body;
    let recorded = latest.as_array().unwrap().iter().filter(|c| c["audio_url"].is_string()).count();
    assert_eq!(recorded, 9);
    let audit = app.get("/audit/logs?entity_type=customer_note", Some(&token)).await.body;
    assert_eq!(audit["total_items"], json!(24));

    // The call center's screens are full too.
    let stats = app.get("/api/statistics?days=60&months=3", Some(&token)).await.body;
    assert_eq!(stats["totalCalls"], json!(600), "seeded once, not twice");
    let busy_days = stats["dailyCalls"].as_array().unwrap().iter().filter(|d| d["count"].as_i64() > Some(0)).count();
    assert!(busy_days >= 50, "calls over 60 days: {stats}");
    assert!(stats["topicsFrequency"].as_array().unwrap().len() >= 5);
    let summary = app.get("/api/dashboard/summary", Some(&token)).await.body;
    assert_eq!(summary["recentCalls"].as_array().unwrap().len(), 5);
    assert_eq!(summary["recentChats"].as_array().unwrap().len(), 5);
    assert!(summary["aiSuccessRate"].as_f64().unwrap() > 0.0);
    let chats = app.get("/api/chats?pageSize=1", Some(&token)).await.body;
    assert_eq!(chats["total"], json!(250));
    let chat = app.get(&format!("/api/chats/{}", chats["items"][0]["id"].as_str().unwrap()), Some(&token)).await.body;
    assert!(chat["messages"].as_array().unwrap().len() >= 2);
    let callers = app.get("/api/users", Some(&token)).await.body;
    assert_eq!(callers.as_array().unwrap().len(), 60);
    assert!(callers.as_array().unwrap().iter().any(|c| c["customerId"].is_i64()), "some callers are CRM customers");
    assert!(app.get("/api/qa", Some(&token)).await.body.as_array().unwrap().len() >= 6);
}

#[tokio::test]
async fn reindex_rebuilds_every_search_index_and_the_searches_still_answer() {
    let url = fresh_database_url().await;
    let app = TestApp::spawn_on(&url, &[]).await;
    let token = app.admin_token().await;
    app.post("/api/crm/accounts/", Some(&token), json!({"name": "Reindexed Ltd", "email": "find.me@example.uz"})).await;

    let out = crm_server().arg("reindex").env("DATABASE_URL", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    if url.starts_with("postgres") {
        for index in ["ix_customers_search_trgm", "ix_contacts_search_text_trgm", "ix_leads_search_text_trgm"] {
            assert!(text.contains(&format!("rebuilt {index}")), "{index} not rebuilt: {text}");
        }
    } else {
        assert!(text.contains("no search indexes"), "{text}");
    }
    let found = app.get("/api/crm/accounts/?search=find.me@", Some(&token)).await;
    assert_eq!(found.body["count"], json!(1), "{}", found.text);
}

#[tokio::test]
async fn the_production_profile_applies_from_any_working_directory() {
    let dir = std::env::temp_dir().join(format!("crm-prod-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let secret = "p".repeat(48);
    let mut child = Command::new(env!("CARGO_BIN_EXE_crm-server"))
        .current_dir(&dir)
        .env_remove("CONFIG_DIR")
        .env_remove("NODE_ENV")
        .env_remove("REGISTRATION_ENABLED")
        .env("APP_ENV", "production")
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("DATABASE_URL", format!("sqlite://{}/crm.db", dir.display()))
        .env("REDIS_URL", "")
        .env("JWT_SECRET", &secret)
        .env("REFRESH_TOKEN_SECRET", &secret)
        .env("ADMIN_PASSWORD", "Quiet-Harbor-Lantern-81")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = None;
    for _ in 0..300 {
        if let Ok(res) = client.get(format!("{base}/health/live")).send().await {
            up = Some(res);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let Some(live) = up else {
        child.kill().ok();
        panic!(
            "the server did not answer: {:?}",
            child.wait_with_output().map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        );
    };
    assert_eq!(live.status(), StatusCode::OK);
    assert!(live.headers().contains_key("strict-transport-security"), "HSTS from the compiled-in profile");
    let res = client
        .post(format!("{base}/api/auth/register/"))
        .json(
            &json!({"email": "p@example.com", "password": STRONG_PASSWORD, "password2": STRONG_PASSWORD, "name": "P"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "registration is closed in production");
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("embedded production.toml"), "the start-up log names the profile: {log}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn config_prints_the_effective_settings_without_secrets() {
    let out = crm_server()
        .arg("config")
        .env("JWT_SECRET", "a-secret-that-must-not-show")
        .env("DATABASE_URL", "postgres://crm:hidden-pw@db:5432/crm")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("# profile: test"), "{text}");
    assert!(text.contains("JWT_SECRET = \"[redacted]\""), "{text}");
    assert!(text.contains("DATABASE_URL = \"postgres://crm:***@db:5432/crm\""), "{text}");
    assert!(!text.contains("a-secret-that-must-not-show") && !text.contains("hidden-pw"), "{text}");
}
