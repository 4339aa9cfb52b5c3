//! Deep pages of the unfiltered customer lists are read from the nearer end of the list: every
//! page, from either end, must be the same page the plain offset would give.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashSet;

/// 2,123 live customers: deep pages (offset ≥ 1,000) fall on both sides of the middle.
const LIVE: usize = 2_123;

async fn seeded() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let db = sea_orm::Database::connect(app.database_url.as_str()).await.unwrap();
    let plan =
        persistence::seed::SeedPlan { customers: LIVE as u64 + 3, deals: 0, activities: 0, days: 30, batch: 500 };
    persistence::seed::seed_crm(&db, plan, None, 11, &mut |_, _, _| {}).await.unwrap();
    db.close().await.ok();
    // Three archived customers, one near each end and one in the middle, count nowhere.
    for page in ["1", "21", "42"] {
        let listed = app.get(&format!("/api/v1/customers?limit=50&page={page}"), Some(&token)).await;
        let id = listed.body["data"]["customers"][7]["id"].as_i64().unwrap();
        let gone = app.call(reqwest::Method::DELETE, &format!("/api/v1/customers/{id}"), Some(&token), None).await;
        assert_eq!(gone.status, StatusCode::OK, "{}", gone.text);
    }
    (app, token)
}

/// Reads every page of 50 and checks that together they are each live customer exactly once.
async fn every_page(
    app: &TestApp,
    token: &str,
    path: impl Fn(usize) -> String,
    items: impl Fn(&Value) -> Vec<Value>,
) -> Vec<Value> {
    let mut all = Vec::new();
    for page in 1..=LIVE.div_ceil(50) + 1 {
        let res = app.get(&path(page), Some(token)).await;
        assert_eq!(res.status, StatusCode::OK, "page {page}: {}", res.text);
        let got = items(&res.body);
        let expected = LIVE.saturating_sub((page - 1) * 50).min(50);
        assert_eq!(got.len(), expected, "page {page} holds {expected} customers");
        all.extend(got);
    }
    let ids: HashSet<i64> = all.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), LIVE, "no customer twice, none missing, no archived one");
    all
}

fn is_sorted_by<T: PartialOrd>(keys: &[T], descending: bool) -> bool {
    keys.windows(2).all(|w| if descending { w[0] >= w[1] } else { w[0] <= w[1] })
}

#[tokio::test]
async fn the_workspace_pages_from_either_end_are_the_pages_of_the_one_order() {
    let (app, token) = seeded().await;
    let rows = every_page(
        &app,
        &token,
        |page| format!("/crm/dashboard?page={page}&page_size=50&show_all=true"),
        |body| body["customers"].as_array().unwrap().clone(),
    )
    .await;
    let keys: Vec<(String, i64)> =
        rows.iter().map(|c| (c["created_at"].as_str().unwrap().to_string(), c["id"].as_i64().unwrap())).collect();
    assert!(is_sorted_by(&keys, true), "newest first across every page");
}

#[tokio::test]
async fn the_v1_list_pages_from_either_end_are_the_pages_of_the_one_order() {
    let (app, token) = seeded().await;
    // Names and companies (some missing) sort by the database's collation: for them, every
    // customer exactly once across the pages is the check.
    for sort in ["-createdAt", "name", "company"] {
        let rows = every_page(
            &app,
            &token,
            |page| format!("/api/v1/customers?limit=50&page={page}&sort={sort}"),
            |body| body["data"]["customers"].as_array().unwrap().clone(),
        )
        .await;
        if sort == "-createdAt" {
            let keys: Vec<(String, i64)> = rows
                .iter()
                .map(|c| (c["createdAt"].as_str().unwrap().to_string(), c["id"].as_i64().unwrap()))
                .collect();
            assert!(is_sorted_by(&keys, true), "newest first across every page");
        }
    }
}
