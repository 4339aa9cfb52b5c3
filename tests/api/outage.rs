//! The database out of reach: every surface answers 503 with `Retry-After` in its own
//! envelope, `/health` reports it, and the server recovers by itself when the database is
//! back. Run against PostgreSQL (through a TCP proxy the test cuts); SQLite is embedded and
//! cannot go away.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// Forwards TCP connections to `target` until cut.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (flag, all) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let target = target.clone();
                all.lock().await.push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Proxy { port, up, links }
    }

    /// Refuses new connections and breaks the open ones.
    async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_database_outage_is_503_on_every_surface_then_recovers() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: needs TEST_DATABASE_URL (PostgreSQL)");
        return;
    };
    // The server's database URL goes through the proxy.
    let direct = fresh_database_url().await;
    let host_port = direct.split('@').nth(1).and_then(|rest| rest.split('/').next()).unwrap().to_string();
    let proxy = Proxy::start(host_port.clone()).await;
    let proxied = direct.replacen(&host_port, &format!("127.0.0.1:{}", proxy.port), 1);
    assert!(admin_url.starts_with("postgres"));
    let app = TestApp::spawn_on(&proxied, &[("database_acquire_timeout", "2s")]).await;
    let token = app.admin_token().await;
    assert_eq!(app.get("/api/v1/customers", Some(&token)).await.status, StatusCode::OK);

    proxy.cut().await;
    let v1 = app.get("/api/v1/customers", Some(&token)).await;
    assert_v1_error(&v1, StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE");
    assert_eq!(v1.header("retry-after"), Some("5"));
    let rest = app.get("/api/core/profile/", Some(&token)).await;
    assert_rest_error(&rest, StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable");
    let cc = app.get("/api/calls", Some(&token)).await;
    assert_eq!(cc.status, StatusCode::SERVICE_UNAVAILABLE, "{}", cc.text);
    assert!(cc.body["error"].is_string() && cc.body["code"] == json!("SERVICE_UNAVAILABLE"));
    let mgmt = app.get("/management/statuses", Some(&token)).await;
    assert_eq!(mgmt.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(mgmt.body["detail"].is_string(), "{}", mgmt.text);
    let login = app.post("/api/auth/login", None, json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).await;
    assert_eq!(login.status, StatusCode::SERVICE_UNAVAILABLE, "{}", login.text);
    assert_eq!(app.get("/health", None).await.status, StatusCode::SERVICE_UNAVAILABLE);

    proxy.restore();
    let mut recovered = false;
    for _ in 0..20 {
        if app.get("/api/v1/customers", Some(&token)).await.status == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(recovered, "the pool reconnects without a restart");
    assert_eq!(app.get("/health", None).await.status, StatusCode::OK);
    assert_eq!(app.get("/management/statuses", Some(&token)).await.status, StatusCode::OK);
}
