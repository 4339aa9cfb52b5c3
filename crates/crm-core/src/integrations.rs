//! Integrations (`/api/integrations/integrations/`, `integrations.manage`): the outside services
//! the server talks to (Twilio, a language model, SMTP, Slack, or a custom one), each with a
//! configuration checked per type. Secret values (keys named like `*secret*`, `*token*`,
//! `*password*`, `*api_key*`) are write-only: stored encrypted ([`SecretBox`]), answered masked.

use crate::error::{CrmError, Result};
use crate::fields::{Fields, Sent};
use crate::records::Resource;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{FilterKind, FilterSpec, ListSpec};
use management_core::{Permission, Principal};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The kinds of integration.
pub const TYPES: [&str; 5] = ["twilio", "llm", "smtp", "slack", "custom"];

/// Whether a configuration key holds a secret.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["secret", "token", "password", "api_key", "apikey"].iter().any(|s| key.contains(s))
}

/// A secret as answers show it: `••••` and its last four characters.
pub fn masked(secret: &str) -> String {
    let tail: String = secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("••••{tail}")
}

/// Whether a value sent back is the masked form of a secret (a client echoing what it read):
/// the stored secret is then kept.
pub fn is_masked(value: &str) -> bool {
    value.starts_with("••••")
}

/// An integration as answers show it (secrets masked).
#[derive(Debug, Clone, PartialEq)]
pub struct Integration {
    pub id: i64,
    pub name: String,
    pub integration_type: String,
    pub config: Value,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntegrationInput {
    pub name: Sent<String>,
    pub integration_type: Sent<String>,
    pub config: Sent<Value>,
    pub is_active: Sent<bool>,
}

/// A checked new integration (secrets in clear; the store encrypts them).
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationDraft {
    pub name: String,
    pub integration_type: String,
    pub config: Map<String, Value>,
    pub is_active: bool,
}

/// A checked change; a changed `config` is checked against the type it will have by the store
/// ([`check_config`]), masked secrets in it keeping their stored values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntegrationChanges {
    pub name: Option<String>,
    pub integration_type: Option<String>,
    pub config: Option<Map<String, Value>>,
    pub is_active: Option<bool>,
}

fn text<'a>(config: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    config.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// Checks a configuration for its type; errors name `config.<key>`.
pub fn check_config(kind: &str, config: &Map<String, Value>) -> Result<()> {
    let mut f = Fields::new();
    let require = |f: &mut Fields, key: &str| {
        if text(config, key).is_none() {
            f.error(&format!("config.{key}"), "This field is required.");
        }
    };
    let url = |f: &mut Fields, key: &str, prefix: &str| {
        if let Some(v) = text(config, key)
            && !v.starts_with(prefix)
        {
            f.error(&format!("config.{key}"), format!("Enter a URL starting with {prefix}"));
        }
    };
    match kind {
        "twilio" => {
            require(&mut f, "account_sid");
            require(&mut f, "auth_token");
            if let Some(sid) = text(config, "account_sid")
                && !(sid.len() == 34 && sid.starts_with("AC") && sid[2..].chars().all(|c| c.is_ascii_hexdigit()))
            {
                f.error("config.account_sid", "A Twilio account SID is AC followed by 32 hex digits.");
            }
            if let Some(number) = text(config, "from_number")
                && kernel::normalize_phone(number).is_err()
            {
                f.error("config.from_number", "Enter a phone number in international form (+998...).");
            }
        }
        "llm" => {
            require(&mut f, "base_url");
            require(&mut f, "model");
            if let Some(v) = text(config, "base_url")
                && !(v.starts_with("https://") || v.starts_with("http://"))
            {
                f.error("config.base_url", "Enter the model server's http(s) URL up to its version (…/v1).");
            }
        }
        "smtp" => {
            require(&mut f, "host");
            match config.get("port").and_then(Value::as_u64) {
                Some(p) if (1..=65535).contains(&p) => {}
                _ => f.error("config.port", "A port from 1 to 65535 is required."),
            }
            if let Some(from) = text(config, "from_email")
                && kernel::normalize_email(from).is_err()
            {
                f.error("config.from_email", "Enter a valid email address.");
            }
        }
        "slack" => {
            require(&mut f, "webhook_url");
            url(&mut f, "webhook_url", "https://");
        }
        _ => {}
    }
    for (key, value) in config {
        if is_secret_key(key) && !matches!(value, Value::String(_) | Value::Null) {
            f.error(&format!("config.{key}"), "A secret is a string.");
        }
    }
    if Value::Object(config.clone()).to_string().len() > 64 * 1024 {
        f.error("config", "The configuration is larger than 64 KB.");
    }
    f.finish()
}

fn check_type(f: &mut Fields, kind: &Sent<String>, required: bool) -> Option<String> {
    let kind = f.required_text("integration_type", kind, 20, required)?;
    let kind = kind.trim().to_lowercase();
    if !TYPES.contains(&kind.as_str()) {
        f.error(
            "integration_type",
            format!("\"{kind}\" is not a valid choice; use twilio, llm, smtp, slack or custom."),
        );
    }
    Some(kind)
}

fn check_object(f: &mut Fields, config: &Sent<Value>, required: bool) -> Option<Map<String, Value>> {
    match f.present("config", config.clone(), required)? {
        Value::Object(map) => Some(map),
        _ => {
            f.error("config", "The configuration is a JSON object.");
            None
        }
    }
}

/// The integration record kind.
pub struct Integrations;

impl Resource for Integrations {
    type Record = Integration;
    type Input = IntegrationInput;
    type Draft = IntegrationDraft;
    type Changes = IntegrationChanges;
    const NAME: &'static str = "Integration";
    const LIST: ListSpec = ListSpec {
        filters: &[
            FilterSpec { name: "integration_type", kind: FilterKind::Choice(&TYPES), about: "The kind of integration" },
            FilterSpec { name: "is_active", kind: FilterKind::Bool, about: "Active or not" },
        ],
        ordering: &["name", "created_at", "updated_at"],
        default_ordering: ("created_at", true),
        search: "name",
    };
    const READ: Permission = Permission::IntegrationsManage;
    const WRITE: Permission = Permission::IntegrationsManage;
    const DELETE: Permission = Permission::IntegrationsManage;

    fn draft(input: IntegrationInput, _owner: i64) -> Result<IntegrationDraft> {
        let mut f = Fields::new();
        let is_active = f.present("is_active", input.is_active, false).unwrap_or(true);
        let name = f.required_text("name", &input.name, 200, true).unwrap_or_default();
        let kind = check_type(&mut f, &input.integration_type, true).unwrap_or_default();
        let config = check_object(&mut f, &input.config, true).unwrap_or_default();
        f.finish()?;
        if config.values().any(|v| v.as_str().is_some_and(is_masked)) {
            return Err(CrmError::field("config", "Send secrets in clear when creating an integration."));
        }
        check_config(&kind, &config)?;
        Ok(IntegrationDraft { name, integration_type: kind, config, is_active })
    }

    fn changes(input: IntegrationInput, replace: bool) -> Result<IntegrationChanges> {
        let mut f = Fields::new();
        let is_active = f.present("is_active", input.is_active, false);
        let name = f.required_text("name", &input.name, 200, replace);
        let integration_type = check_type(&mut f, &input.integration_type, replace);
        let config = check_object(&mut f, &input.config, replace);
        f.finish()?;
        Ok(IntegrationChanges { name, integration_type, config, is_active })
    }
}

/// Encrypts and decrypts secrets at rest.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait SecretBox: Send + Sync {
    /// The sealed form of `plain` (text to store).
    fn seal(&self, plain: &str) -> Result<String>;
    /// The clear text of a sealed value.
    fn open(&self, sealed: &str) -> Result<String>;
}

/// What checking an integration found.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub ok: bool,
    /// What was checked and what came back, never a secret.
    pub detail: String,
}

/// Checks an integration against the real service.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IntegrationProbe: Send + Sync {
    /// `config` in clear.
    async fn probe(&self, kind: &str, config: &Map<String, Value>) -> Probe;
}

/// An integration's configuration in clear, for the server's own use.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IntegrationSecrets: Send + Sync {
    /// The live integration `id`'s type and configuration with its secrets opened; `None` when
    /// there is no such live integration.
    async fn revealed(&self, id: i64) -> Result<Option<(String, Map<String, Value>)>>;
}

/// Testing integrations (`integrations.manage`).
pub struct IntegrationTests {
    secrets: Arc<dyn IntegrationSecrets>,
    probe: Arc<dyn IntegrationProbe>,
}

impl IntegrationTests {
    pub fn new(secrets: Arc<dyn IntegrationSecrets>, probe: Arc<dyn IntegrationProbe>) -> Self {
        IntegrationTests { secrets, probe }
    }

    /// Checks integration `id` for real where its type allows.
    pub async fn test(&self, by: &Principal, id: i64) -> Result<Probe> {
        by.require(Permission::IntegrationsManage)?;
        let (kind, config) = self
            .secrets
            .revealed(id)
            .await?
            .ok_or_else(|| CrmError::NotFound(format!("Integration {id} not found.")))?;
        Ok(self.probe.probe(&kind, &config).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(kind: &str, config: Value) -> IntegrationInput {
        IntegrationInput {
            name: Some(Some("x".into())),
            integration_type: Some(Some(kind.into())),
            config: Some(Some(config)),
            is_active: None,
        }
    }

    #[test]
    fn configurations_are_checked_per_type() {
        let twilio = json!({"account_sid": format!("AC{}", "a".repeat(32)), "auth_token": "tok-123456", "from_number": "+998901234567"});
        assert!(Integrations::draft(input("twilio", twilio), 1).is_ok());
        let err = Integrations::draft(input("twilio", json!({"account_sid": "nope"})), 1).unwrap_err();
        let CrmError::Validation { fields, .. } = err else { panic!() };
        assert!(fields.contains_key("config.account_sid") && fields.contains_key("config.auth_token"), "{fields:?}");
        assert!(
            Integrations::draft(input("llm", json!({"base_url": "http://127.0.0.1:8080/v1", "model": "m"})), 1).is_ok()
        );
        assert!(Integrations::draft(input("smtp", json!({"host": "mail", "port": 0})), 1).is_err());
        assert!(Integrations::draft(input("slack", json!({"webhook_url": "http://hooks"})), 1).is_err());
        assert!(Integrations::draft(input("fax", json!({})), 1).is_err());
        assert!(Integrations::draft(input("custom", json!({"api_key": 5})), 1).is_err(), "a secret is a string");
    }

    #[test]
    fn secrets_are_recognised_and_masked() {
        assert!(is_secret_key("auth_token") && is_secret_key("API_KEY") && is_secret_key("smtp_password"));
        assert!(!is_secret_key("account_sid"));
        assert_eq!(masked("sk-abcdef1234"), "••••1234");
        assert!(is_masked(&masked("x")));
    }
}
