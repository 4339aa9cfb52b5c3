//! System settings (`/api/system-config/settings/`): named JSON values. Every signed-in user
//! reads the public ones; `settings.manage` reads and writes them all. A few keys are read by
//! the server itself at run time ([`RUNTIME_KEYS`]) and are checked for their type and range.

use crate::error::Result;
use crate::fields::{Fields, MAX_FREE_TEXT, Sent};
use crate::records::Resource;
use chrono::{DateTime, Utc};
use kernel::{FilterKind, FilterSpec, FilterValue, ListSpec};
use management_core::{Permission, Principal};
use serde_json::Value;

/// A setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub id: i64,
    pub key: String,
    pub value: Value,
    pub description: Option<String>,
    pub is_public: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a caller sends (`value` null is the JSON value null).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingInput {
    pub key: Sent<String>,
    pub value: Sent<Value>,
    pub description: Sent<String>,
    pub is_public: Sent<bool>,
}

/// A checked new setting.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingDraft {
    pub key: String,
    /// JSON text.
    pub value: String,
    pub description: Option<String>,
    pub is_public: bool,
}

/// A checked change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingChanges {
    pub key: Option<String>,
    pub value: Option<String>,
    pub description: Option<Option<String>>,
    pub is_public: Option<bool>,
}

/// Longest key.
pub const MAX_KEY: usize = 100;
/// Largest value, as JSON text.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// A setting the server reads at run time: its key, what it is, and its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeKey {
    pub key: &'static str,
    pub about: &'static str,
    pub min: i64,
    pub max: i64,
}

/// The settings the server reads while it runs; a stored value overrides the configuration on
/// every replica within a second of the change.
pub const RUNTIME_KEYS: [RuntimeKey; 4] = [
    RuntimeKey {
        key: "rate_limit.anonymous_per_hour",
        about: "Requests per hour per anonymous client (RATE_LIMIT_ANONYMOUS_PER_HOUR)",
        min: 1,
        max: 1_000_000_000,
    },
    RuntimeKey {
        key: "rate_limit.authenticated_per_hour",
        about: "Requests per hour per signed-in user (RATE_LIMIT_AUTHENTICATED_PER_HOUR)",
        min: 1,
        max: 1_000_000_000,
    },
    RuntimeKey {
        key: "rate_limit.admin_per_hour",
        about: "Requests per hour per user on /api/system-config/ (RATE_LIMIT_ADMIN_PER_HOUR)",
        min: 1,
        max: 1_000_000_000,
    },
    RuntimeKey {
        key: "voice.budget_ms",
        about: "Milliseconds a live call waits for the model (VOICE_BUDGET_MS)",
        min: 100,
        max: 60_000,
    },
];

fn check_key(f: &mut Fields, key: &str) {
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.') {
        f.error("key", "Use lower-case letters, digits, '_' and '.' only (e.g. billing.currency).");
    }
}

/// The value as JSON text, checked for size and, for a runtime key, type and range.
fn check_value(f: &mut Fields, key: Option<&str>, value: &Value) -> String {
    let text = value.to_string();
    if text.len() > MAX_VALUE_BYTES {
        f.error("value", format!("The value is larger than {} KB as JSON.", MAX_VALUE_BYTES / 1024));
    }
    if let Some(runtime) = key.and_then(|k| RUNTIME_KEYS.iter().find(|r| r.key == k)) {
        match value.as_i64() {
            Some(n) if (runtime.min..=runtime.max).contains(&n) => {}
            _ => f.error("value", format!("{} is an integer from {} to {}.", runtime.key, runtime.min, runtime.max)),
        }
    }
    text
}

/// The setting record kind.
pub struct Settings;

impl Resource for Settings {
    type Record = Setting;
    type Input = SettingInput;
    type Draft = SettingDraft;
    type Changes = SettingChanges;
    const NAME: &'static str = "Setting";
    const LIST: ListSpec = ListSpec {
        filters: &[FilterSpec { name: "is_public", kind: FilterKind::Bool, about: "Public or not" }],
        ordering: &["key", "created_at", "updated_at"],
        default_ordering: ("key", false),
        search: "key, description",
    };
    const WRITE: Permission = Permission::SettingsManage;
    const DELETE: Permission = Permission::SettingsManage;

    /// Any signed-in user reads; without `settings.manage`, only the public settings.
    fn read_scope(by: &Principal) -> Result<Option<(&'static str, FilterValue)>> {
        Ok((!by.can(Permission::SettingsManage)).then_some(("is_public", FilterValue::Bool(true))))
    }

    fn visible(record: &Setting, by: &Principal) -> bool {
        record.is_public || by.can(Permission::SettingsManage)
    }

    fn draft(input: SettingInput, _owner: i64) -> Result<SettingDraft> {
        let mut f = Fields::new();
        let key = f.required_text("key", &input.key, MAX_KEY, true).unwrap_or_default();
        check_key(&mut f, &key);
        let value = match input.value {
            None => {
                f.error("value", "This field is required.");
                String::new()
            }
            Some(v) => check_value(&mut f, Some(&key), &v.unwrap_or(Value::Null)),
        };
        let description = f.text("description", &input.description, MAX_FREE_TEXT).flatten();
        f.finish()?;
        Ok(SettingDraft { key, value, description, is_public: input.is_public.flatten().unwrap_or(false) })
    }

    fn changes(input: SettingInput, replace: bool) -> Result<SettingChanges> {
        let mut f = Fields::new();
        let key = f.required_text("key", &input.key, MAX_KEY, replace);
        if let Some(k) = &key {
            check_key(&mut f, k);
        }
        if replace && input.value.is_none() {
            f.error("value", "This field is required.");
        }
        // A runtime key's value is checked against the key it will have; the store checks a
        // value change of a stored runtime key (`check_runtime_value`).
        let value = input.value.map(|v| check_value(&mut f, key.as_deref(), &v.unwrap_or(Value::Null)));
        let description = f.text("description", &input.description, MAX_FREE_TEXT);
        f.finish()?;
        Ok(SettingChanges { key, value, description, is_public: input.is_public.flatten() })
    }
}

/// Checks `value` (JSON text) for the runtime key `key`, if `key` is one.
pub fn check_runtime_value(key: &str, value: &str) -> Result<()> {
    let mut f = Fields::new();
    let parsed: Value = serde_json::from_str(value).unwrap_or(Value::Null);
    check_value(&mut f, Some(key), &parsed);
    f.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CrmError;

    fn input(key: &str, value: Value) -> SettingInput {
        SettingInput { key: Some(Some(key.into())), value: Some(Some(value)), ..Default::default() }
    }

    #[test]
    fn keys_are_dotted_lower_case_and_runtime_values_are_bounded() {
        assert!(Settings::draft(input("billing.currency", Value::String("UZS".into())), 1).is_ok());
        let err = Settings::draft(input("Billing Currency", Value::Bool(true)), 1).unwrap_err();
        assert!(matches!(err, CrmError::Validation { ref fields, .. } if fields.contains_key("key")));
        assert!(Settings::draft(input("voice.budget_ms", serde_json::json!(2500)), 1).is_ok());
        let err = Settings::draft(input("voice.budget_ms", serde_json::json!("fast")), 1).unwrap_err();
        assert!(err.to_string().contains("from 100 to 60000"), "{err}");
        let huge = Value::String("x".repeat(MAX_VALUE_BYTES));
        assert!(Settings::draft(input("big.value", huge), 1).is_err());
        let missing = SettingInput { key: Some(Some("a.b".into())), ..Default::default() };
        assert!(Settings::draft(missing, 1).is_err());
        assert!(check_runtime_value("rate_limit.admin_per_hour", "0").is_err());
        assert!(check_runtime_value("other.key", "0").is_ok());
    }

    #[test]
    fn only_managers_see_private_settings() {
        let reader = crate::service::test_support::principal(&[]);
        let manager = crate::service::test_support::principal(&[Permission::SettingsManage]);
        assert_eq!(Settings::read_scope(&reader).unwrap(), Some(("is_public", FilterValue::Bool(true))));
        assert_eq!(Settings::read_scope(&manager).unwrap(), None);
        let private = Setting {
            id: 1,
            key: "a".into(),
            value: Value::Null,
            description: None,
            is_public: false,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert!(!Settings::visible(&private, &reader) && Settings::visible(&private, &manager));
    }
}
