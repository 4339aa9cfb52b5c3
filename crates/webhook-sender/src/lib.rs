//! The HTTP side of webhooks ([`WebhookSender`]): each delivery is a `POST` of its JSON body
//! with `X-Webhook-Id` (stable across retries), `X-Webhook-Event`, `X-Webhook-Timestamp` and
//! `X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`, within a
//! connect and a total timeout. The host is resolved here and every address it resolves to
//! must be public (unless private targets are allowed); the request then goes to the address
//! that was checked, so DNS cannot be switched between the check and the connection.

use async_trait::async_trait;
use crm_core::webhooks::{Attempt, Due, WebhookSender};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The signature header's value for `body` sent at unix second `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Resolves names for the sender's client, refusing any name that resolves to a non-public
/// address (unless private targets are allowed): the connection goes to the addresses checked.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no address").into());
            }
            if !allow_private && addrs.iter().any(|a| !kernel::net::is_public(a.ip())) {
                return Err(format!("{host} resolves to a non-public address; refused").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Sends deliveries with one reqwest client (connections reused across deliveries).
pub struct HttpSender {
    client: reqwest::Client,
    timeout: Duration,
    allow_private: bool,
}

impl HttpSender {
    /// A sender with a total `timeout` per attempt (and 5 s to connect).
    pub fn new(timeout: Duration, allow_private: bool) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5).min(timeout))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .build()
            .unwrap_or_default();
        HttpSender { client, timeout, allow_private }
    }

    /// Refuses a URL whose host is a literal address that is not public (names are checked
    /// by the resolver as they are looked up).
    fn check_literal(&self, url: &str) -> Result<(), String> {
        let host = kernel::net::url_host(url).ok_or("The URL has no host.")?;
        if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>()
            && !self.allow_private
            && !kernel::net::is_public(ip)
        {
            return Err(format!("{host} is a non-public address; refused."));
        }
        Ok(())
    }
}

/// The innermost cause of a failure (the resolver's refusal, a refused connection).
fn root_cause(e: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

#[async_trait]
impl WebhookSender for HttpSender {
    async fn send(&self, due: &Due, body: &str) -> Attempt {
        let started = Instant::now();
        let failed = |error: String| Attempt { status: None, error: Some(error), elapsed: started.elapsed() };
        if let Err(e) = self.check_literal(&due.url) {
            return failed(e);
        }
        let timestamp = chrono::Utc::now().timestamp();
        let sent = self
            .client
            .post(&due.url)
            .header("content-type", "application/json")
            .header("user-agent", "crm-webhooks/1")
            .header("x-webhook-id", due.delivery_id())
            .header("x-webhook-event", &due.event)
            .header("x-webhook-timestamp", timestamp.to_string())
            .header("x-webhook-signature", signature(&due.secret, timestamp, body))
            .body(body.to_string())
            .send()
            .await;
        match sent {
            Ok(res) => {
                let status = res.status().as_u16();
                // Read (and drop) the answer so the connection can be reused.
                let _ = res.bytes().await;
                Attempt { status: Some(status), error: None, elapsed: started.elapsed() }
            }
            Err(e) if e.is_timeout() => failed(format!("No answer within {} s.", self.timeout.as_secs())),
            Err(e) if e.is_connect() => failed(format!("Cannot connect: {}", root_cause(&e))),
            Err(e) => failed(format!("Sending failed: {}", root_cause(&e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{header_exists, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn due(url: String) -> Due {
        Due {
            id: 7,
            webhook_id: 1,
            url,
            secret: "whsec_test_secret_123".into(),
            event: "deal.won".into(),
            data: "{\"id\":1}".into(),
            event_created_at: chrono::Utc::now(),
            attempts: 1,
        }
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_and_body() {
        // RFC 4231 style check against a known value computed independently (Python hmac).
        assert_eq!(
            signature("key", 1, "{}"),
            "sha256=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }

    #[tokio::test]
    async fn loopback_targets_are_refused_unless_allowed() {
        let receiver = MockServer::start().await;
        Mock::given(method("POST"))
            .and(header_exists("x-webhook-signature"))
            .respond_with(ResponseTemplate::new(204))
            .mount(&receiver)
            .await;
        let refused = HttpSender::new(Duration::from_secs(2), false).send(&due(receiver.uri()), "{}").await;
        assert_eq!(refused.status, None);
        assert!(refused.error.unwrap().contains("non-public"));
        let by_name = receiver.uri().replace("127.0.0.1", "localhost");
        let refused = HttpSender::new(Duration::from_secs(2), false).send(&due(by_name.clone()), "{}").await;
        assert!(refused.error.unwrap().contains("non-public"), "a name resolving to loopback is refused too");
        let sent = HttpSender::new(Duration::from_secs(2), true).send(&due(by_name), "{}").await;
        assert_eq!(sent.status, Some(204));
        let sent = HttpSender::new(Duration::from_secs(2), true).send(&due(receiver.uri()), "{}").await;
        assert_eq!(sent.status, Some(204));
    }

    #[tokio::test]
    async fn a_slow_receiver_times_out() {
        let receiver = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
            .mount(&receiver)
            .await;
        let attempt = HttpSender::new(Duration::from_millis(300), true).send(&due(receiver.uri()), "{}").await;
        assert_eq!(attempt.status, None);
        assert!(attempt.error.unwrap().contains("No answer"));
    }
}
