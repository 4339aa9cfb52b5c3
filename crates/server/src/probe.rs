//! Checking integrations against the real services (`POST …/integrations/{id}/test/`): the
//! model server lists its models, Twilio shows the account, the SMTP server greets, Slack takes a
//! message, a custom integration's `url` answers. Answers say what was checked and what came
//! back, never a secret.

use async_trait::async_trait;
use crm_core::integrations::{IntegrationProbe, Probe};
use serde_json::{Map, Value};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Probes with a timeout per check.
pub struct Probes {
    timeout: Duration,
    twilio_api_base: String,
}

impl Probes {
    pub fn new(timeout: Duration, twilio_api_base: String) -> Self {
        Probes { timeout, twilio_api_base }
    }

    fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    }
}

fn text<'a>(config: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    config.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn answer(ok: bool, detail: impl Into<String>) -> Probe {
    Probe { ok, detail: detail.into() }
}

/// A transport failure without the URL (which may carry a token).
fn failure(what: &str, e: &reqwest::Error) -> Probe {
    let why = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "the request failed"
    };
    answer(false, format!("{what}: {why}."))
}

#[async_trait]
impl IntegrationProbe for Probes {
    async fn probe(&self, kind: &str, config: &Map<String, Value>) -> Probe {
        match kind {
            "llm" => {
                let base = text(config, "base_url").unwrap_or_default().trim_end_matches('/');
                let mut req = self.client().get(format!("{base}/models"));
                if let Some(key) = text(config, "api_key") {
                    req = req.bearer_auth(key);
                }
                match req.send().await {
                    Ok(res) if res.status().is_success() => {
                        let listed: Value = res.json().await.unwrap_or_default();
                        let n = listed["data"].as_array().map_or(0, Vec::len);
                        answer(true, format!("The model server answered and lists {n} model(s)."))
                    }
                    Ok(res) => answer(false, format!("The model server answered {}.", res.status().as_u16())),
                    Err(e) => failure("The model server", &e),
                }
            }
            "twilio" => {
                let sid = text(config, "account_sid").unwrap_or_default();
                let base = text(config, "api_base").unwrap_or(&self.twilio_api_base).trim_end_matches('/').to_string();
                let req = self
                    .client()
                    .get(format!("{base}/2010-04-01/Accounts/{sid}.json"))
                    .basic_auth(sid, text(config, "auth_token"));
                match req.send().await {
                    Ok(res) if res.status().is_success() => {
                        let account: Value = res.json().await.unwrap_or_default();
                        let status = account["status"].as_str().unwrap_or("unknown");
                        answer(status == "active", format!("Twilio account {sid} is {status}."))
                    }
                    Ok(res) => answer(false, format!("Twilio answered {} for account {sid}.", res.status().as_u16())),
                    Err(e) => failure("Twilio", &e),
                }
            }
            "smtp" => {
                let host = text(config, "host").unwrap_or_default().to_string();
                let port = config.get("port").and_then(Value::as_u64).unwrap_or(25) as u16;
                let greeting = async {
                    let mut stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
                    let mut buf = [0u8; 256];
                    let n = stream.read(&mut buf).await?;
                    Ok::<String, std::io::Error>(
                        String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or_default().to_string(),
                    )
                };
                match tokio::time::timeout(self.timeout, greeting).await {
                    Ok(Ok(line)) if line.starts_with("220") => {
                        answer(true, format!("The SMTP server greeted: {}", line.chars().take(120).collect::<String>()))
                    }
                    Ok(Ok(line)) => answer(
                        false,
                        format!("The SMTP server answered: {}", line.chars().take(120).collect::<String>()),
                    ),
                    Ok(Err(e)) => answer(false, format!("Cannot reach {host}:{port}: {e}.")),
                    Err(_) => answer(false, format!("{host}:{port} did not greet in time.")),
                }
            }
            "slack" => {
                let url = text(config, "webhook_url").unwrap_or_default();
                let message = serde_json::json!({"text": "CRM integration test"});
                match self.client().post(url).json(&message).send().await {
                    Ok(res) if res.status().is_success() => answer(true, "Slack accepted a test message."),
                    Ok(res) => answer(false, format!("Slack answered {}.", res.status().as_u16())),
                    Err(e) => failure("Slack", &e),
                }
            }
            _ => match text(config, "url").filter(|u| u.starts_with("http://") || u.starts_with("https://")) {
                Some(url) => match self.client().get(url).send().await {
                    Ok(res) => {
                        answer(res.status().is_success(), format!("The URL answered {}.", res.status().as_u16()))
                    }
                    Err(e) => failure("The URL", &e),
                },
                None => answer(false, "Nothing to check: give the integration a `url` to test."),
            },
        }
    }
}
