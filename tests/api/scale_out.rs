//! Scale-out: who the caller is comes from the process cache (one SQL statement for an
//! authenticated read by id), and several server processes on one PostgreSQL and one Redis
//! behave as one server (revocations, deactivations and role changes seen everywhere within a
//! second, one global rate limit and sign-in throttle, the assistant's index rebuilt
//! everywhere, round-robin assignment exact). Redis out of reach never fails a request.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The statements an authenticated GET of `path` runs once the caller is cached.
async fn statements_of(app: &TestApp, path: &str, token: &str) -> u64 {
    for _ in 0..2 {
        assert_eq!(app.get(path, Some(token)).await.status, StatusCode::OK, "{path}");
    }
    let before = app.running.statements.get();
    let res = app.get(path, Some(token)).await;
    assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text);
    app.running.statements.get() - before
}

#[tokio::test]
async fn asking_who_the_caller_is_costs_no_statement_so_a_customer_read_is_one() {
    let app = TestApp::spawn().await;
    let ceo = app.admin_token().await;
    let customer = app.v1_customer(&ceo, json!({"name": "Statement Count"})).await;
    let territory = app.post("/api/territories/territories/", Some(&ceo), json!({"name": "North"})).await.body;
    let account = app
        .post("/api/crm/accounts/", Some(&ceo), json!({"name": "Statement Count LLC", "territory": territory["id"]}))
        .await;
    assert_eq!(account.status, StatusCode::CREATED, "{}", account.text);
    let contact = app
        .post(
            "/api/crm/contacts/",
            Some(&ceo),
            json!({"first_name": "Ada", "last_name": "Count", "account": account.body["id"]}),
        )
        .await
        .body;
    let lead = app
        .post(
            "/api/crm/leads/",
            Some(&ceo),
            json!({"first_name": "Lee", "last_name": "Count", "territory": territory["id"]}),
        )
        .await
        .body;
    let qa = app.post("/api/qa", Some(&ceo), json!({"title": "Savol?", "answer": "Javob."})).await;
    assert_eq!(qa.status, StatusCode::CREATED, "{}", qa.text);
    let deal = app.v1_deal(&ceo, json!({"customerId": customer["id"], "title": "Deal", "value": 100})).await;
    let related = json!({"account": account.body["id"], "contact": contact["id"], "lead": lead["id"]});
    let mut activity = json!({"subject": "Call", "activity_type": "Call"});
    activity.as_object_mut().unwrap().extend(related.as_object().unwrap().clone());
    let activity = app.post("/api/activities/activities/", Some(&ceo), activity).await.body;
    let task = app
        .post(
            "/api/activities/tasks/",
            Some(&ceo),
            json!({"title": "Call back", "account": account.body["id"], "contact": contact["id"]}),
        )
        .await
        .body;
    let uncached = TestApp::spawn_on(&app.database_url, &[("auth_cache_ttl_secs", "0")]).await;
    // Each read's own statements: the row (a deal with the names it refers to; its stage
    // history only once it has moved); a REST record its row, then the names of every record
    // it refers to in one statement, however many kinds. Asking who the caller is costs none
    // (without the cache: the revocation check, the user and the role's permissions).
    for (path, own) in [
        (format!("/api/v1/customers/{}", customer["id"]), 1),
        (format!("/api/qa/{}", qa.body["id"]), 1),
        (format!("/api/crm/accounts/{}/", account.body["id"]), 2),
        (format!("/api/crm/contacts/{}/", contact["id"]), 2),
        (format!("/api/crm/leads/{}/", lead["id"]), 2),
        (format!("/api/activities/activities/{}/", activity["id"]), 2),
        (format!("/api/activities/tasks/{}/", task["id"]), 2),
        (format!("/api/v1/deals/{}", deal["id"]), 1),
    ] {
        assert_eq!(statements_of(&app, &path, &ceo).await, own, "{path}");
        assert_eq!(statements_of(&uncached, &path, &ceo).await, own + 3, "{path} without the cache");
    }
}

#[tokio::test]
async fn redis_out_of_reach_fails_open_and_health_says_so() {
    let app =
        TestApp::spawn_with(&[("redis_url", "redis://127.0.0.1:9/0"), ("rate_limit_authenticated_per_hour", "3")])
            .await;
    let ceo = app.admin_token().await;
    for _ in 0..5 {
        let res = app.get("/api/core/profile/", Some(&ceo)).await;
        assert_eq!(res.status, StatusCode::OK, "the limit cannot be counted, so it is not enforced: {}", res.text);
    }
    for path in ["/health", "/api/core/health/"] {
        let res = app.get(path, None).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.body["status"], json!("degraded"));
        assert_eq!((res.body["database"].clone(), res.body["redis"].clone()), (json!("ok"), json!("unreachable")));
    }
    // Sign-in throttles fall back to the database: still five failures and no more.
    for _ in 0..5 {
        let res =
            app.post("/api/auth/login", None, json!({"email": ADMIN_EMAIL, "password": "Wrong-password-1"})).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text);
    }
    let res = app.post("/api/auth/login", None, json!({"email": ADMIN_EMAIL, "password": "Wrong-password-1"})).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text);
    // Without Redis configured, /health does not mention it.
    let plain = TestApp::spawn().await;
    let res = plain.get("/health", None).await;
    assert_eq!(res.body["status"], json!("healthy"));
    assert!(res.body.get("redis").is_none(), "{}", res.text);
}

/// The 99th percentile, in milliseconds, of `n` authenticated reads one after another (the
/// first 20 warm the caches and are not counted).
async fn p99_of_reads(app: &TestApp, token: &str, n: usize) -> f64 {
    let mut took = Vec::with_capacity(n);
    for i in 0..n + 20 {
        let started = std::time::Instant::now();
        let res = app.get("/api/core/profile/", Some(token)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        if i >= 20 {
            took.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    took.sort_by(f64::total_cmp);
    took[(took.len() * 99).div_ceil(100) - 1]
}

/// Accepts connections and never answers (a black-holed Redis).
async fn black_hole() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (port, task)
}

#[tokio::test]
async fn a_refusing_or_silent_redis_costs_authenticated_reads_nothing() {
    let (port, hole) = black_hole().await;
    for url in ["redis://127.0.0.1:9/0".to_string(), format!("redis://127.0.0.1:{port}/0")] {
        let app = TestApp::spawn_with(&[("redis_url", url.as_str())]).await;
        let token = app.admin_token().await;
        let p99 = p99_of_reads(&app, &token, 300).await;
        assert!(p99 < 20.0, "{url}: p99 {p99:.1} ms of 300 reads with Redis out of reach");
        let health = app.get("/health", None).await;
        assert_eq!(health.body["redis"], json!("unreachable"), "{url}");
    }
    hole.abort();
}

#[tokio::test]
async fn the_circuit_closes_by_itself_when_redis_is_back() {
    let target = redis_url().trim_start_matches("redis://").split('/').next().unwrap().to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let links: std::sync::Arc<tokio::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = Default::default();
    let (flag, all) = (up.clone(), links.clone());
    let proxy = tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            if !flag.load(std::sync::atomic::Ordering::SeqCst) {
                continue; // refused
            }
            let target = target.clone();
            all.lock().await.push(tokio::spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            }));
        }
    });
    let url = format!("redis://127.0.0.1:{port}/0");
    let app = TestApp::spawn_with(&[("redis_url", url.as_str())]).await;
    let token = app.admin_token().await;
    assert_eq!(app.get("/health", None).await.body["redis"], json!("ok"), "the test needs Redis at {}", redis_url());

    up.store(false, std::sync::atomic::Ordering::SeqCst);
    for link in links.lock().await.drain(..) {
        link.abort();
    }
    let p99 = p99_of_reads(&app, &token, 200).await;
    assert!(p99 < 20.0, "p99 {p99:.1} ms while Redis is cut");
    assert_eq!(app.get("/health", None).await.body["redis"], json!("unreachable"));

    up.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut back = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if app.get("/health", None).await.body["redis"] == json!("ok") {
            back = true;
            break;
        }
    }
    assert!(back, "the probe closes the circuit once Redis answers");
    proxy.abort();
}

/// A `crm-server` process; killed when dropped.
struct Replica {
    base: String,
    child: Child,
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// The Redis of the replica tests: `TEST_REDIS_URL`, else the local default.
fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "redis://127.0.0.1:6379/0".into())
}

/// Starts `n` server processes one after the other (the first migrates) on `database_url`,
/// sharing Redis under a key prefix of their own.
async fn replicas(n: usize, database_url: &str, env: &[(&str, &str)]) -> Vec<Replica> {
    let prefix = format!("crm-test-{}", free_port());
    let client = reqwest::Client::new();
    let mut started = Vec::new();
    for _ in 0..n {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_crm-server"));
        cmd.env("CONFIG_DIR", config_dir())
            .env("APP_ENV", "test")
            .env_remove("NODE_ENV")
            .env("DATABASE_URL", database_url)
            .env("PORT", port.to_string())
            .env("ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("REDIS_URL", redis_url())
            .env("REDIS_KEY_PREFIX", &prefix)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let replica =
            Replica { base: format!("http://127.0.0.1:{port}"), child: cmd.spawn().expect("crm-server starts") };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let health = client.get(format!("{}/health", replica.base)).send().await;
            if let Ok(res) = health {
                let body: Value = res.json().await.unwrap_or_default();
                assert_eq!(body["redis"], json!("ok"), "the replica tests need Redis at {}: {body}", redis_url());
                break;
            }
            assert!(Instant::now() < deadline, "replica on port {port} did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        started.push(replica);
    }
    started
}

async fn call(base: &str, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Resp {
    let mut req = reqwest::Client::new().request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    Resp::from(req.send().await.expect("request sent")).await
}

async fn login(base: &str, email: &str, password: &str) -> String {
    let res =
        call(base, Method::POST, "/api/auth/login", None, Some(json!({"email": email, "password": password}))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body["token"].as_str().unwrap().to_string()
}

async fn create_user(base: &str, ceo: &str, email: &str, role: &str) -> i64 {
    let body = json!({"email": email, "password": STRONG_PASSWORD, "name": "Replica User", "role": role});
    let res = call(base, Method::POST, "/api/system-config/users/", Some(ceo), Some(body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.body["id"].as_i64().unwrap()
}

/// Asks `path` on `base` until it answers `status`; fails after one second.
async fn within_a_second(base: &str, path: &str, token: &str, status: StatusCode) {
    let start = Instant::now();
    loop {
        let res = call(base, Method::GET, path, Some(token), None).await;
        if res.status == status {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(1), "{base}{path} still answers {} after 1 s", res.status);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Database URL for the replica tests: they need PostgreSQL (one SQLite file serves one process).
async fn postgres_database() -> Option<String> {
    let url = fresh_database_url().await;
    if url.starts_with("postgres") {
        Some(url)
    } else {
        eprintln!("replica tests need TEST_DATABASE_URL (PostgreSQL) and Redis; skipped on SQLite");
        None
    }
}

#[tokio::test]
async fn caller_changes_made_on_one_replica_hold_on_every_other_within_a_second() {
    let Some(url) = postgres_database().await else { return };
    let set = replicas(3, &url, &[]).await;
    let (a, b, c) = (&set[0].base, &set[1].base, &set[2].base);
    let ceo = login(a, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let profile = "/api/core/profile/";

    // Sign out on A: B and C refuse the token (each had it cached).
    create_user(a, &ceo, "leaver@replica.uz", "operator").await;
    let token = login(b, "leaver@replica.uz", STRONG_PASSWORD).await;
    for base in [b, c] {
        assert_eq!(call(base, Method::GET, profile, Some(&token), None).await.status, StatusCode::OK);
    }
    let out = call(a, Method::POST, "/api/v1/auth/logout", Some(&token), None).await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.text);
    for base in [b, c] {
        within_a_second(base, profile, &token, StatusCode::UNAUTHORIZED).await;
    }

    // Deactivated on A: refused on B.
    let id = create_user(a, &ceo, "gone@replica.uz", "operator").await;
    let token = login(c, "gone@replica.uz", STRONG_PASSWORD).await;
    assert_eq!(call(b, Method::GET, profile, Some(&token), None).await.status, StatusCode::OK);
    let del = call(a, Method::DELETE, &format!("/api/system-config/users/{id}/"), Some(&ceo), None).await;
    assert!(del.status.is_success(), "{}", del.text);
    within_a_second(b, profile, &token, StatusCode::UNAUTHORIZED).await;

    // A role loses a permission on A: its holders are refused on C.
    let role = call(
        a,
        Method::POST,
        "/management/roles",
        Some(&ceo),
        Some(json!({"name": "Auditor", "display_name": "Auditor"})),
    )
    .await;
    assert_eq!(role.status, StatusCode::CREATED, "{}", role.text);
    let perms = format!("/management/roles/{}/permissions", role.body["id"]);
    let grant = call(a, Method::PUT, &perms, Some(&ceo), Some(json!({"permissions": ["crm.read"]}))).await;
    assert_eq!(grant.status, StatusCode::OK, "{}", grant.text);
    create_user(a, &ceo, "auditor@replica.uz", "auditor").await;
    let auditor = login(b, "auditor@replica.uz", STRONG_PASSWORD).await;
    assert_eq!(call(c, Method::GET, "/api/v1/customers", Some(&auditor), None).await.status, StatusCode::OK);
    let revoke = call(a, Method::PUT, &perms, Some(&ceo), Some(json!({"permissions": []}))).await;
    assert_eq!(revoke.status, StatusCode::OK, "{}", revoke.text);
    within_a_second(c, "/api/v1/customers", &auditor, StatusCode::FORBIDDEN).await;
    // And the grant back is seen as fast.
    call(a, Method::PUT, &perms, Some(&ceo), Some(json!({"permissions": ["crm.read"]}))).await;
    within_a_second(c, "/api/v1/customers", &auditor, StatusCode::OK).await;
}

#[tokio::test]
async fn replicas_share_one_rate_limit_one_throttle_one_index_and_one_rotation() {
    let Some(url) = postgres_database().await else { return };
    let set = replicas(3, &url, &[("RATE_LIMIT_AUTHENTICATED_PER_HOUR", "100")]).await;
    let bases: Vec<&str> = set.iter().map(|r| r.base.as_str()).collect();
    let ceo = login(bases[0], ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // One quota: 120 requests of one user spread over three replicas, 100 allowed in all.
    create_user(bases[0], &ceo, "busy@replica.uz", "operator").await;
    let busy = login(bases[1], "busy@replica.uz", STRONG_PASSWORD).await;
    let mut allowed = 0;
    let mut remaining = Vec::new();
    for i in 0..120 {
        let res = call(bases[i % 3], Method::GET, "/api/core/profile/", Some(&busy), None).await;
        match res.status {
            StatusCode::OK => {
                allowed += 1;
                remaining.push(res.header("x-ratelimit-remaining").unwrap().parse::<u32>().unwrap());
            }
            StatusCode::TOO_MANY_REQUESTS => assert!(res.header("retry-after").is_some()),
            other => panic!("unexpected {other}: {}", res.text),
        }
    }
    assert_eq!(allowed, 100);
    assert_eq!(remaining, (0..100).rev().collect::<Vec<u32>>(), "one counter, whichever replica answers");

    // One sign-in throttle: five failures spread over the replicas lock the sixth attempt.
    for i in 0..5 {
        let res = call(
            bases[i % 3],
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": "busy@replica.uz", "password": "Wrong-password-1"})),
        )
        .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text);
    }
    for base in &bases {
        let res = call(
            base,
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": "busy@replica.uz", "password": "Wrong-password-1"})),
        )
        .await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text);
    }

    // The assistant's index: an entry added on one replica answers on another, an edit too.
    let qa = call(
        bases[0],
        Method::POST,
        "/api/qa",
        Some(&ceo),
        Some(json!({"title": "Yotoqxona bormi?", "answer": "Ha, yotoqxona bor."})),
    )
    .await;
    assert_eq!(qa.status, StatusCode::CREATED, "{}", qa.text);
    let ask = json!({"userId": "u_replica", "message": "Yotoqxona bormi?"});
    let res = call(bases[1], Method::POST, "/api/ai/chat", Some(&ceo), Some(ask.clone())).await;
    assert!(res.body["response"].as_str().unwrap_or_default().contains("Ha, yotoqxona bor."), "{}", res.text);
    let edit = json!({"title": "Yotoqxona bormi?", "answer": "Yotoqxona 2027-yilda ochiladi."});
    let put = call(bases[0], Method::PUT, &format!("/api/qa/{}", qa.body["id"]), Some(&ceo), Some(edit)).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let res = call(bases[2], Method::POST, "/api/ai/chat", Some(&ceo), Some(ask)).await;
    assert!(res.body["response"].as_str().unwrap_or_default().contains("2027-yilda"), "{}", res.text);

    // Round robin: 30 customers created at once over three replicas, 10 per manager.
    let mut managers = Vec::new();
    for i in 0..3 {
        managers.push(create_user(bases[0], &ceo, &format!("manager{i}@replica.uz"), "sales_manager").await);
    }
    let creates = (0..30).map(|i| {
        let (base, ceo) = (bases[i % 3].to_string(), ceo.clone());
        async move {
            call(&base, Method::POST, "/api/v1/customers", Some(&ceo), Some(json!({"name": format!("Replica {i}")})))
                .await
        }
    });
    let mut per_manager = std::collections::HashMap::<i64, u32>::new();
    for res in futures_util::future::join_all(creates).await {
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        let id = &res.body["data"]["customer"]["id"];
        let sm = call(bases[1], Method::GET, &format!("/crm/customer/{id}/sales-manager"), Some(&ceo), None).await;
        *per_manager.entry(sm.body["sales_manager"]["id"].as_i64().unwrap()).or_default() += 1;
    }
    for m in managers {
        assert_eq!(per_manager.get(&m), Some(&10), "{per_manager:?}");
    }
}
