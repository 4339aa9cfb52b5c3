//! `crm-rest-api.md` products and product categories.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const PRODUCTS: &str = "/api/products/products/";
const CATEGORIES: &str = "/api/products/categories/";

#[tokio::test]
async fn products_have_unique_skus_exact_prices_and_custom_fields() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let software = app
        .post(CATEGORIES, Some(&token), json!({"name": "Software", "description": "Software products and services"}))
        .await;
    assert_eq!(software.status, StatusCode::CREATED, "{}", software.text);
    let category = software.body["id"].as_i64().unwrap();
    // The document's body.
    let created = app
        .post(
            PRODUCTS,
            Some(&token),
            json!({"name": "New Product", "description": "Product description", "sku": "PROD-001", "unit_price": 199.99,
                   "category": category, "is_active": true, "custom_fields": {"weight": "1.5kg", "dimensions": "10x10x5cm"}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["unit_price"], json!(199.99));
    assert_eq!(created.body["category"], json!({"id": category, "name": "Software"}));
    assert_eq!(created.body["custom_fields"], json!({"weight": "1.5kg", "dimensions": "10x10x5cm"}));
    assert_eq!(created.body["owner"]["name"], json!("Test CEO"));

    let dup = app.post(PRODUCTS, Some(&token), json!({"name": "Other", "sku": "prod-001", "unit_price": 1})).await;
    assert_rest_error(&dup, StatusCode::CONFLICT, "Conflict");
    assert_eq!(dup.body["error"]["details"]["candidates"][0]["id"], created.body["id"]);
    for bad in [
        json!({"name": "X", "sku": "X-1", "unit_price": -5}),
        json!({"name": "X", "sku": "X-1", "unit_price": 1.005}),
        json!({"name": "X", "sku": "X-1", "unit_price": "abc"}),
        json!({"name": "X", "sku": "X-1", "unit_price": 1, "custom_fields": [1, 2]}),
        json!({"name": "X", "sku": "X-1", "unit_price": 1, "custom_fields": {"deep": {"a": 1}}}),
        json!({"name": "X", "sku": "X-1", "unit_price": 1, "category": 999_999}),
    ] {
        let res = app.post(PRODUCTS, Some(&token), bad.clone()).await;
        assert_rest_error(&res, StatusCode::BAD_REQUEST, "ValidationError");
    }
    assert_eq!(app.get(PRODUCTS, Some(&token)).await.body["count"], json!(1), "refused bodies store nothing");

    let cheap = app
        .post(PRODUCTS, Some(&token), json!({"name": "Widget", "sku": "W-1", "unit_price": "0.50", "is_active": false}))
        .await;
    assert_eq!(cheap.body["unit_price"], json!(0.5));
    let search = app.get(&format!("{PRODUCTS}?search=prod-0"), Some(&token)).await;
    assert_eq!(search.body["count"], json!(1), "SKU search");
    let active = app.get(&format!("{PRODUCTS}?is_active=false"), Some(&token)).await;
    assert_eq!(active.body["results"][0]["sku"], json!("W-1"));
    let by_category = app.get(&format!("{PRODUCTS}?category={category}&ordering=-unit_price"), Some(&token)).await;
    assert_eq!(by_category.body["count"], json!(1));
    let path = format!("{PRODUCTS}{}/", created.body["id"]);
    let patched = app
        .call(Method::PATCH, &path, Some(&token), Some(json!({"unit_price": 250, "custom_fields": {"tier": 2}})))
        .await;
    assert_eq!((patched.body["unit_price"].clone(), patched.body["sku"].clone()), (json!(250.0), json!("PROD-001")));
    assert_eq!(patched.body["custom_fields"], json!({"tier": 2}));
}

#[tokio::test]
async fn categories_form_a_tree_without_cycles_and_keep_their_products() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let root = app.post(CATEGORIES, Some(&token), json!({"name": "Software"})).await.body;
    let child = app.post(CATEGORIES, Some(&token), json!({"name": "CRM", "parent_category": root["id"]})).await.body;
    assert_eq!(child["parent_category"], json!({"id": root["id"], "name": "Software"}));
    let grandchild =
        app.post(CATEGORIES, Some(&token), json!({"name": "Add-ons", "parent_category": child["id"]})).await.body;
    let cycle = app
        .call(
            Method::PATCH,
            &format!("{CATEGORIES}{}/", root["id"]),
            Some(&token),
            Some(json!({"parent_category": grandchild["id"]})),
        )
        .await;
    assert_rest_error(&cycle, StatusCode::BAD_REQUEST, "ValidationError");
    assert!(cycle.body["error"]["details"]["parent_category"].is_array());
    let own = app
        .call(
            Method::PATCH,
            &format!("{CATEGORIES}{}/", root["id"]),
            Some(&token),
            Some(json!({"parent_category": root["id"]})),
        )
        .await;
    assert_rest_error(&own, StatusCode::BAD_REQUEST, "ValidationError");
    let dup = app.post(CATEGORIES, Some(&token), json!({"name": "SOFTWARE"})).await;
    assert_rest_error(&dup, StatusCode::CONFLICT, "Conflict");

    // A category with children or products is not deleted.
    let in_use = app.call(Method::DELETE, &format!("{CATEGORIES}{}/", root["id"]), Some(&token), None).await;
    assert_rest_error(&in_use, StatusCode::CONFLICT, "Conflict");
    assert_eq!(in_use.body["error"]["details"]["count"], json!(1));
    app.post(
        PRODUCTS,
        Some(&token),
        json!({"name": "Plugin", "sku": "P-1", "unit_price": 5, "category": grandchild["id"]}),
    )
    .await;
    let leaf = app.call(Method::DELETE, &format!("{CATEGORIES}{}/", grandchild["id"]), Some(&token), None).await;
    assert_rest_error(&leaf, StatusCode::CONFLICT, "Conflict");
    let children = app.get(&format!("{CATEGORIES}?parent_category={}", root["id"]), Some(&token)).await;
    assert_eq!(children.body["count"], json!(1));
}
