//! Test harness: spawns the server with a fresh database and speaks HTTP to it.

use crm_server::settings::Settings;
use crm_server::{Running, spawn};
use rand::RngCore;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use std::path::PathBuf;

pub const ADMIN_EMAIL: &str = "ceo@test.uz";
pub const ADMIN_PASSWORD: &str = "Chilonzor-Sunrise-2026";
/// A password the policy accepts for any test e-mail.
pub const STRONG_PASSWORD: &str = "Yunusobod-Garden-42";

/// A running server with its own database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub running: Running,
    pub database_url: String,
}

/// A response: status, headers and the JSON body (`Null` when the body is empty).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn random_suffix() -> String {
    let mut b = [0u8; 6];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The directory holding `config/`.
pub fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

/// A URL of a new, empty database: a temporary SQLite file, or a new database on the
/// PostgreSQL server of `TEST_DATABASE_URL`.
pub async fn fresh_database_url() -> String {
    match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(admin_url) => {
            let name = format!("crm_test_{}", random_suffix());
            let admin = Database::connect(admin_url.as_str()).await.expect("connect to TEST_DATABASE_URL");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
            admin.close().await.ok();
            let (base, _) = admin_url.rsplit_once('/').expect("TEST_DATABASE_URL names a database");
            format!("{base}/{name}")
        }
        None => {
            let path = std::env::temp_dir().join(format!("crm-test-{}.db", random_suffix()));
            format!("sqlite://{}", path.display())
        }
    }
}

impl TestApp {
    /// A server with the test profile.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    /// A server with the test profile plus `overrides` (lower-case keys of `config/default.toml`).
    pub async fn spawn_with(overrides: &[(&str, &str)]) -> TestApp {
        let database_url = fresh_database_url().await;
        TestApp::spawn_on(&database_url, overrides).await
    }

    /// A server on an existing database.
    pub async fn spawn_on(database_url: &str, overrides: &[(&str, &str)]) -> TestApp {
        let mut all: Vec<(&str, &str)> = vec![
            ("database_url", database_url),
            ("port", "0"),
            ("admin_email", ADMIN_EMAIL),
            ("admin_password", ADMIN_PASSWORD),
            ("admin_name", "Test CEO"),
        ];
        all.extend_from_slice(overrides);
        let settings = Settings::load_with("test", &config_dir(), false, &all).expect("test settings");
        let running = spawn(settings).await.expect("server starts");
        TestApp {
            base: format!("http://127.0.0.1:{}", running.port),
            client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            running,
            database_url: database_url.to_string(),
        }
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Resp {
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Resp::from(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Sends `pairs` as an `application/x-www-form-urlencoded` body.
    pub async fn post_form(&self, path: &str, token: Option<&str>, pairs: &[(&str, &str)]) -> Resp {
        let mut req = self
            .client
            .post(format!("{}{}", self.base, path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(pairs).unwrap());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Resp::from(req.send().await.expect("request sent")).await
    }

    /// Posts `body` as it is, with `content_type`.
    pub async fn call_raw(&self, path: &str, content_type: &str, body: &str) -> Resp {
        let req = self
            .client
            .post(format!("{}{}", self.base, path))
            .header("content-type", content_type)
            .body(body.to_string());
        Resp::from(req.send().await.expect("request sent")).await
    }

    /// Signs in on the call-center/REST login and returns the whole body.
    pub async fn login_body(&self, email: &str, password: &str) -> Value {
        let res = self.post("/api/auth/login", None, json!({"email": email, "password": password})).await;
        assert_eq!(res.status, StatusCode::OK, "login of {email} failed: {}", res.text);
        res.body
    }

    /// An access token for the user.
    pub async fn token(&self, email: &str, password: &str) -> String {
        self.login_body(email, password).await["token"].as_str().unwrap().to_string()
    }

    /// An access token of the bootstrap CEO.
    pub async fn admin_token(&self) -> String {
        self.token(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Creates a user with `role` (as the CEO) and returns its id, e-mail and password.
    pub async fn create_user(&self, role: &str) -> (i64, String, String) {
        let admin = self.admin_token().await;
        let email = format!("{role}-{}@test.uz", random_suffix());
        let password = "user-password-1".to_string();
        let res = self
            .post(
                "/api/system-config/users/",
                Some(&admin),
                json!({"email": email, "password": password, "name": format!("Test {role}"), "role": role}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        (res.body["id"].as_i64().unwrap(), email, password)
    }
}

impl Resp {
    /// Reads a response sent by hand.
    pub async fn from(res: reqwest::Response) -> Resp {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, body, text }
    }
}

/// Asserts the CRM v1 error envelope with `code`.
pub fn assert_v1_error(res: &Resp, status: StatusCode, code: &str) {
    assert_eq!(res.status, status, "{}", res.text);
    assert_eq!(res.body["success"], json!(false), "{}", res.text);
    assert_eq!(res.body["error"]["code"], json!(code), "{}", res.text);
    assert!(res.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", res.text);
}

/// Asserts the REST surface's error envelope.
pub fn assert_rest_error(res: &Resp, status: StatusCode, error_type: &str) {
    assert_eq!(res.status, status, "{}", res.text);
    assert_eq!(res.body["error"]["type"], json!(error_type), "{}", res.text);
    assert_eq!(res.body["error"]["status_code"], json!(status.as_u16()), "{}", res.text);
    assert!(res.body["error"]["timestamp"].is_string(), "{}", res.text);
}

/// Asserts the call-center error body.
pub fn assert_cc_error(res: &Resp, status: StatusCode, message: &str) {
    assert_eq!(res.status, status, "{}", res.text);
    assert_eq!(res.body["error"], json!(message), "{}", res.text);
    assert_eq!(res.body["message"], json!(message), "{}", res.text);
}

impl TestApp {
    /// A signed-in CEO token and a helper to create customers through `/api/v1`.
    pub async fn v1_customer(&self, token: &str, body: Value) -> Value {
        let res = self.post("/api/v1/customers", Some(token), body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        res.body["data"]["customer"].clone()
    }

    /// Creates a deal through `/api/v1` and returns it.
    pub async fn v1_deal(&self, token: &str, body: Value) -> Value {
        let res = self.post("/api/v1/deals", Some(token), body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        res.body["data"]["deal"].clone()
    }

    /// Runs SQL on the test database (to set up states the API cannot, like past close
    /// times), then rebuilds the CRM summaries as an operator would after a manual change.
    pub async fn sql(&self, sql: &str, values: Vec<sea_orm::Value>) {
        let db = Database::connect(self.database_url.as_str()).await.unwrap();
        let backend = db.get_database_backend();
        let sql = if backend == sea_orm::DbBackend::Postgres {
            let mut n = 0;
            sql.chars()
                .map(|c| {
                    if c == '?' {
                        n += 1;
                        format!("${n}")
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        } else {
            sql.to_string()
        };
        db.execute_raw(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await.unwrap();
        persistence::repo::summaries::rebuild(&db).await.unwrap();
        db.close().await.ok();
    }
}

impl TestApp {
    /// Posts `multipart/form-data`: the text fields, then the file `file` (field name, file
    /// name, bytes) when given.
    pub async fn post_multipart(
        &self,
        path: &str,
        token: Option<&str>,
        texts: &[(&str, &str)],
        file: Option<(&str, &str, &[u8])>,
    ) -> Resp {
        self.multipart(Method::POST, path, token, texts, file).await
    }

    /// Sends `multipart/form-data` with `method` (see [`TestApp::post_multipart`]).
    pub async fn multipart(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        texts: &[(&str, &str)],
        file: Option<(&str, &str, &[u8])>,
    ) -> Resp {
        let boundary = "----crmtestboundary7e3";
        let mut body = Vec::new();
        for (name, value) in texts {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        if let Some((field, file_name, data)) = file {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Resp::from(req.send().await.expect("request sent")).await
    }
}

/// A TCP port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
