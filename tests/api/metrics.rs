//! `GET /metrics`: the Prometheus text format, parsed as a scraper would, with every family
//! operators alert on, counters that move with requests, and the token and separate-listener
//! protections.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashMap;

/// One scrape: each sample (`name{labels}`) with its value, and each family's declared type.
struct Scrape {
    samples: HashMap<String, f64>,
    types: HashMap<String, String>,
}

impl Scrape {
    /// Parses the text format strictly: every line a comment or `name{labels} value`.
    fn parse(text: &str) -> Scrape {
        let mut samples = HashMap::new();
        let mut types = HashMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
                types.insert(name.to_string(), kind.to_string());
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("sample line: {line}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("sample value: {line}"));
            let name = series.split('{').next().unwrap();
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "metric name {name:?} in {line}"
            );
            samples.insert(series.to_string(), value);
        }
        Scrape { samples, types }
    }

    /// Whether any sample belongs to `family` (histograms: its `_bucket`, `_sum`, `_count`).
    fn has(&self, family: &str) -> bool {
        self.samples.keys().any(|s| {
            let name = s.split('{').next().unwrap();
            name == family || [family, "_bucket"].concat() == name || [family, "_count"].concat() == name
        })
    }

    /// The sum of the samples of `name` whose labels include every one of `labels`.
    fn value(&self, name: &str, labels: &[&str]) -> f64 {
        self.samples
            .iter()
            .filter(|(s, _)| s.split('{').next() == Some(name) && labels.iter().all(|l| s.contains(l)))
            .map(|(_, v)| v)
            .sum()
    }
}

async fn scrape(app: &TestApp, token: Option<&str>) -> Scrape {
    let mut req = app.client.get(format!("{}/metrics", app.base));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = res.text().await.unwrap();
    promtool_check(&text);
    Scrape::parse(&text)
}

/// `promtool check metrics` on the scrape, where Debian's `prometheus` package put it.
fn promtool_check(text: &str) {
    use std::io::Write;
    let Ok(mut child) = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        return;
    };
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    // promtool's lint only advises on names and help texts; a parse error fails the check.
    assert!(!said.contains("error while linting"), "promtool: {said}");
}

#[tokio::test]
async fn every_family_is_scraped_and_counters_move_with_requests() {
    // A model that is not there: replies come from the fallback and the model's time is measured.
    let app = TestApp::spawn_with(&[
        ("redis_url", "redis://127.0.0.1:9/0"),
        ("llm_base_url", "http://127.0.0.1:9/v1"),
        ("login_max_failures_per_account", "2"),
    ])
    .await;
    let token = app.admin_token().await;
    let before = scrape(&app, None).await;
    let route = r#"route="/api/v1/customers/{id}""#;
    let customer = app.v1_customer(&token, json!({"name": "Metered"})).await;
    let path = format!("/api/v1/customers/{}", customer["id"]);
    for _ in 0..3 {
        assert_eq!(app.get(&path, Some(&token)).await.status, StatusCode::OK);
    }
    assert_eq!(app.get("/api/v1/customers/999999", Some(&token)).await.status, StatusCode::NOT_FOUND);
    for _ in 0..3 {
        app.post("/api/auth/login", None, json!({"email": ADMIN_EMAIL, "password": "Wrong-password-1"})).await;
    }
    let reply = app.post("/api/ai/chat", Some(&token), json!({"userId": "u_77", "message": "Salom"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let after = scrape(&app, None).await;

    for family in [
        "crm_http_requests_total",
        "crm_http_request_duration_seconds",
        "crm_http_statements_per_request",
        "crm_db_statement_duration_seconds",
        "crm_db_pool_connections",
        "crm_db_pool_idle",
        "crm_db_pool_in_use",
        "crm_db_pool_max",
        "crm_db_pool_acquire_seconds",
        "crm_cache_hits_total",
        "crm_cache_misses_total",
        "crm_cache_invalidations_total",
        "crm_signin_throttle_refusals_total",
        "crm_websockets_open",
        "crm_assistant_replies_total",
        "crm_assistant_model_duration_seconds",
        "crm_redis_errors_total",
        "crm_redis_up",
        "crm_build_info",
    ] {
        assert!(after.has(family), "{family} is scraped");
    }
    assert_eq!(after.types["crm_http_request_duration_seconds"], "histogram");
    assert_eq!(after.types["crm_http_requests_total"], "counter");
    assert_eq!(after.types["crm_db_pool_max"], "gauge");

    let ok = [route, r#"method="GET""#, r#"status="200""#];
    let moved = after.value("crm_http_requests_total", &ok) - before.value("crm_http_requests_total", &ok);
    assert!(moved >= 3.0, "three reads by template, never by raw path: {moved}");
    assert!(!after.samples.keys().any(|s| s.contains(&path)), "raw paths would explode the series");
    let missing = [route, r#"status="404""#];
    assert!(after.value("crm_http_requests_total", &missing) >= 1.0);
    let timed = [route, r#"method="GET""#];
    assert!(after.value("crm_http_request_duration_seconds_count", &timed) >= 4.0);
    assert!(after.value("crm_http_statements_per_request_sum", &[route]) >= 3.0, "each read ran a statement");
    assert!(after.value("crm_signin_throttle_refusals_total", &[]) >= 1.0);
    assert!(after.value("crm_assistant_replies_total", &[r#"backend="fallback""#]) >= 1.0);
    assert!(after.value("crm_assistant_model_duration_seconds_count", &[r#"outcome="error""#]) >= 1.0);
    assert!(after.value("crm_cache_hits_total", &[]) > before.value("crm_cache_hits_total", &[]));
    assert!(after.value("crm_db_pool_max", &[]) >= 1.0);
    assert!(after.value("crm_redis_errors_total", &[]) >= 1.0);
    assert_eq!(after.value("crm_build_info", &[&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))]), 1.0);
}

#[tokio::test]
async fn rate_limit_refusals_are_counted() {
    let app = TestApp::spawn_with(&[("rate_limit_anonymous_per_hour", "2")]).await;
    for _ in 0..3 {
        app.get("/api/v1/customers", None).await;
    }
    let after = scrape(&app, None).await;
    assert!(after.value("crm_rate_limit_refusals_total", &[r#"scope="anonymous""#]) >= 1.0);
}

#[tokio::test]
async fn a_metrics_token_guards_the_scrape() {
    let app = TestApp::spawn_with(&[("metrics_token", "scrape-secret-123")]).await;
    let res = app.get("/metrics", None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text);
    let res = app.client.get(format!("{}/metrics", app.base)).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(scrape(&app, Some("scrape-secret-123")).await.has("crm_build_info"));
}

#[tokio::test]
async fn a_separate_listener_serves_metrics_off_the_public_port() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let app = TestApp::spawn_with(&[("metrics_addr", addr.as_str()), ("metrics_token", "unused-here")]).await;
    assert_eq!(app.get("/metrics", None).await.status, StatusCode::NOT_FOUND, "not on the public listener");
    let res = app.client.get(format!("http://{addr}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("crm_build_info"));
}
