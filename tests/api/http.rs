//! Cross-cutting HTTP behaviour: envelopes per surface, request ids, CORS, rate limits, limits.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn unknown_routes_answer_in_each_surfaces_envelope() {
    let app = TestApp::spawn().await;
    let v1 = app.get("/api/v1/nothing", None).await;
    assert_v1_error(&v1, StatusCode::NOT_FOUND, "NOT_FOUND");
    let rest = app.get("/api/crm/nothing/", None).await;
    assert_rest_error(&rest, StatusCode::NOT_FOUND, "NotFound");
    let mgmt = app.get("/management/nothing", None).await;
    assert_eq!(mgmt.status, StatusCode::NOT_FOUND);
    assert!(mgmt.body["detail"].is_string(), "{}", mgmt.text);
    let cc = app.get("/api/nothing", None).await;
    assert_cc_error(&cc, StatusCode::NOT_FOUND, "No route matches this path");
}

#[tokio::test]
async fn wrong_methods_are_405_with_a_body() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/auth/login", None).await;
    assert_v1_error(&res, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
    let res = app.call(Method::DELETE, "/api/auth/register/", None, None).await;
    assert_rest_error(&res, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed");
}

#[tokio::test]
async fn malformed_json_wrong_content_type_and_huge_bodies_are_refused_clearly() {
    let app = TestApp::spawn_with(&[("json_body_limit", "1024")]).await;
    let url = format!("{}/api/v1/auth/login", app.base);
    let send = |body: String, ct: &'static str| {
        let client = app.client.clone();
        let url = url.clone();
        async move {
            let res = client.post(url).header("content-type", ct).body(body).send().await.unwrap();
            let status = res.status();
            (status, res.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, body) = send("{\"email\":".into(), "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], json!("VALIDATION_ERROR"));
    let (status, body) = send("email=a".into(), "text/plain").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["success"], json!(false));
    let big = format!("{{\"email\":\"{}\",\"password\":\"x\"}}", "a".repeat(4096));
    let (status, body) = send(big, "application/json").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"]["code"], json!("PAYLOAD_TOO_LARGE"));
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let res = app.get("/health", None).await;
    let id = res.header("x-request-id").unwrap();
    assert!(id.len() >= 16);
    let other = app.get("/api/v1/missing", None).await;
    assert_ne!(other.header("x-request-id").unwrap(), id);
    let echoed =
        app.client.get(format!("{}/health", app.base)).header("x-request-id", "trace-abc-123").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-abc-123");
    let unsafe_id =
        app.client.get(format!("{}/health", app.base)).header("x-request-id", "bad id <script>").send().await.unwrap();
    assert_ne!(unsafe_id.headers()["x-request-id"], "bad id <script>");
}

#[tokio::test]
async fn cors_preflight_allows_configured_and_localhost_origins_only() {
    let app = TestApp::spawn_with(&[("cors_origin", "https://crm.example.com, https://cc.example.com")]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, format!("{}/api/v1/customers", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    for origin in ["https://crm.example.com", "https://cc.example.com", "http://localhost:5173"] {
        let res = preflight(origin).await.unwrap();
        assert!(res.status().is_success(), "{origin}: {}", res.status());
        assert_eq!(res.headers()["access-control-allow-origin"], origin);
    }
    let res = preflight("https://evil.example.org").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let simple = app
        .client
        .get(format!("{}/api/v1/missing", app.base))
        .header("origin", "https://crm.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(simple.headers()["access-control-allow-origin"], "https://crm.example.com");
}

#[tokio::test]
async fn rate_limits_send_headers_and_429_with_retry_after() {
    let app =
        TestApp::spawn_with(&[("rate_limit_anonymous_per_hour", "3"), ("rate_limit_authenticated_per_hour", "5")])
            .await;
    let first = app.get("/api/v1/nothing", None).await;
    assert_eq!(first.header("x-ratelimit-limit"), Some("3"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("2"));
    let reset: u64 = first.header("x-ratelimit-reset").unwrap().parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(reset > now && reset <= now + 3600);
    app.get("/api/v1/nothing", None).await;
    // The third request is the login; the token then counts against the user's own quota.
    let login = app.post("/api/auth/login", None, json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await;
    assert_eq!(login.header("x-ratelimit-remaining"), Some("0"));
    let token = login.body["token"].as_str().unwrap().to_string();
    let refused = app.get("/api/v1/nothing", None).await;
    assert_v1_error(&refused, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    assert!(refused.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
    let authed = app.get("/api/core/profile/", Some(&token)).await;
    assert_eq!(authed.status, StatusCode::OK);
    assert_eq!(authed.header("x-ratelimit-limit"), Some("5"));
    assert_eq!(app.get("/health", None).await.status, StatusCode::OK, "health checks are not limited");
}

/// The CIMS UI adds caching headers to authenticated GETs; its preflight must pass on
/// every surface for an allowed origin, and stay refused for a foreign one.
#[tokio::test]
async fn preflight_allows_the_headers_real_browsers_send_on_every_surface() {
    let app = TestApp::spawn().await;
    let preflight = |path: &'static str, origin: &'static str| {
        app.client
            .request(Method::OPTIONS, format!("{}{path}", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization,cache-control,expires,pragma")
            .send()
    };
    for path in ["/auth/me", "/management/statuses", "/api/v1/customers", "/api/core/profile/", "/api/calls"] {
        let res = preflight(path, "http://localhost:5173").await.unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        assert_eq!(res.headers()["access-control-allow-origin"], "http://localhost:5173");
        let allowed = res.headers()["access-control-allow-headers"].to_str().unwrap().to_lowercase();
        for h in ["authorization", "cache-control", "expires", "pragma"] {
            assert!(allowed.contains(h), "{path}: {h} not in {allowed}");
        }
        let refused = preflight(path, "https://evil.example.org").await.unwrap();
        assert!(refused.headers().get("access-control-allow-origin").is_none(), "{path}");
    }
    let res =
        app.client.get(format!("{}/health", app.base)).header("origin", "http://localhost:5173").send().await.unwrap();
    let exposed = res.headers()["access-control-expose-headers"].to_str().unwrap().to_lowercase();
    for h in [
        "x-request-id",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
        "content-disposition",
    ] {
        assert!(exposed.contains(h), "{h} not exposed: {exposed}");
    }
}

#[tokio::test]
async fn answers_carry_security_headers() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for (path, token) in [("/health", None), ("/api/core/profile/", Some(token.as_str())), ("/api/nothing", None)] {
        let res = app.get(path, token).await;
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(res.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(res.header("x-frame-options"), Some("DENY"));
        assert_eq!(res.header("content-security-policy"), Some("default-src 'none'; frame-ancestors 'none'"));
        assert_eq!(res.header("cache-control"), token.map(|_| "no-store"), "{path}: only signed-in answers");
        assert_eq!(res.header("strict-transport-security"), None, "no HSTS outside production");
    }
    let docs = app.get("/docs/", None).await;
    let csp = docs.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("'unsafe-eval'"), "{csp}");

    let production = TestApp::spawn_with(&[("hsts", "true")]).await;
    let res = production.get("/health", None).await;
    assert_eq!(res.header("strict-transport-security"), Some("max-age=31536000; includeSubDomains"));
}

#[tokio::test]
async fn every_readable_route_answers_head_like_get_without_a_body() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let spec = app.get("/openapi.json", None).await.body;
    let mut checked = 0;
    for op in crate::bad_input::operations(&spec).into_iter().filter(|op| op.method == Method::GET) {
        let path = crate::bad_input::concrete(&op.path, "1");
        let get = app.get(&path, Some(&token)).await;
        let head = app.call(Method::HEAD, &path, Some(&token), None).await;
        assert_eq!(head.status, get.status, "HEAD {path}: {}", get.text);
        assert!(head.text.is_empty(), "HEAD {path} sent a body: {}", head.text);
        assert_eq!(head.header("content-type"), get.header("content-type"), "HEAD {path}");
        checked += 1;
    }
    assert!(checked > 40, "only {checked} GET routes documented");
    let signed_out = app.call(Method::HEAD, "/api/crm/accounts/", None, None).await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);
}
