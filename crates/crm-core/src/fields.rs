//! Checking the fields of a record as a caller sends them: texts with their maximum length,
//! e-mail addresses, E.164 phones, web addresses, money, percentages, custom fields. Every
//! problem is collected under the field's name, so one answer lists them all.
//!
//! A field arrives as `Option<Option<T>>`: absent (`None`), `null` (`Some(None)`) or a value.

use crate::error::{CrmError, Result};
use kernel::{FieldErrors, is_blank, normalize_email, normalize_phone, push_error};
use rust_decimal::Decimal;
use serde_json::Value;

/// A field as sent: absent, null, or a value.
pub type Sent<T> = Option<Option<T>>;

/// The longest free text (descriptions, notes).
pub const MAX_FREE_TEXT: usize = 10_000;
/// Custom fields: at most this many keys ...
pub const MAX_CUSTOM_KEYS: usize = 50;
/// ... and this many bytes serialised.
pub const MAX_CUSTOM_BYTES: usize = 16 * 1024;
/// The largest amount of money (999,999,999,999.99).
pub fn max_money() -> Decimal {
    Decimal::new(99_999_999_999_999, 2)
}

/// Collects field errors while reading a record's fields.
#[derive(Debug, Default)]
pub struct Fields {
    errors: FieldErrors,
}

impl Fields {
    pub fn new() -> Self {
        Fields::default()
    }

    /// Records a problem with `field`.
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        push_error(&mut self.errors, field, message);
    }

    /// Fails with every collected problem.
    pub fn finish(self) -> Result<()> {
        CrmError::check(self.errors)
    }

    /// A text: trimmed, at most `max` characters; blank or null is `Some(None)` (cleared).
    pub fn text(&mut self, field: &str, value: &Sent<String>, max: usize) -> Sent<String> {
        let value = value.as_ref()?;
        let Some(raw) = value else { return Some(None) };
        let v = raw.trim();
        // The length as sent, as the published schema's `maxLength` counts it.
        if raw.chars().count() > max {
            self.error(field, format!("Ensure this field has no more than {max} characters."));
        }
        Some((!v.is_empty()).then(|| v.to_string()))
    }

    /// A text that must have a value when given (and, with `required`, must be given).
    pub fn required_text(&mut self, field: &str, value: &Sent<String>, max: usize, required: bool) -> Option<String> {
        match self.text(field, value, max) {
            Some(Some(v)) => Some(v),
            Some(None) => {
                self.error(field, "This field may not be blank.");
                None
            }
            None => {
                if required {
                    self.error(field, "This field is required.");
                }
                None
            }
        }
    }

    /// An e-mail address, stored lower-case; whitespace only is an error, not a clearing.
    pub fn email(&mut self, field: &str, value: &Sent<String>) -> Sent<String> {
        self.contact(field, value, |v| normalize_email(v).map_err(|_| "Enter a valid email address.".to_string()))
    }

    /// A phone number, stored in E.164.
    pub fn phone(&mut self, field: &str, value: &Sent<String>) -> Sent<String> {
        self.contact(field, value, normalize_phone)
    }

    fn contact(
        &mut self,
        field: &str,
        value: &Sent<String>,
        normalize: impl Fn(&str) -> std::result::Result<String, String>,
    ) -> Sent<String> {
        let value = value.as_ref()?;
        let Some(raw) = value else { return Some(None) };
        if is_blank(raw) {
            self.error(field, "This field may not be blank: send null or \"\" to clear it.");
            return None;
        }
        if raw.is_empty() {
            return Some(None);
        }
        match normalize(raw) {
            Ok(v) => Some(Some(v)),
            Err(m) => {
                self.error(field, m);
                None
            }
        }
    }

    /// A web address (`http://` or `https://` and a host), at most 255 characters.
    pub fn url(&mut self, field: &str, value: &Sent<String>) -> Sent<String> {
        let text = self.text(field, value, 255)?;
        if let Some(v) = &text {
            let host = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://"));
            if !host.is_some_and(|h| h.split('/').next().is_some_and(|h| h.contains('.') && !h.contains(' '))) {
                self.error(field, "Enter a valid URL.");
            }
        }
        Some(text)
    }

    /// Money: not negative, at most two decimal places, bounded.
    pub fn money(&mut self, field: &str, value: &Sent<Decimal>) -> Sent<Decimal> {
        let value = value.as_ref()?;
        let Some(v) = value else { return Some(None) };
        if v.is_sign_negative() && !v.is_zero() {
            self.error(field, "Ensure this value is greater than or equal to 0.");
        } else if v.normalize().scale() > 2 {
            self.error(field, "Ensure that there are no more than 2 decimal places.");
        } else if *v > max_money() {
            self.error(field, format!("Ensure this value is less than or equal to {}.", max_money()));
        }
        Some(Some(v.round_dp(2)))
    }

    /// A percentage from 0 to 100.
    pub fn percent(&mut self, field: &str, value: &Sent<i64>) -> Sent<i32> {
        let value = value.as_ref()?;
        let Some(v) = value else { return Some(None) };
        if !(0..=100).contains(v) {
            self.error(field, "Ensure this value is between 0 and 100.");
            return None;
        }
        Some(Some(*v as i32))
    }

    /// One of `choices` (case-insensitive), stored as written there.
    pub fn choice(&mut self, field: &str, value: &Sent<String>, choices: &[&'static str]) -> Sent<&'static str> {
        let value = value.as_ref()?;
        let Some(raw) = value else { return Some(None) };
        match choices.iter().find(|c| c.eq_ignore_ascii_case(raw.trim())) {
            Some(c) => Some(Some(*c)),
            None => {
                self.error(
                    field,
                    format!("\"{}\" is not a valid choice; use one of: {}.", raw.trim(), choices.join(", ")),
                );
                None
            }
        }
    }

    /// A value that may not be null (and, with `required`, must be given).
    pub fn present<T>(&mut self, field: &str, value: Sent<T>, required: bool) -> Option<T> {
        match value {
            Some(Some(v)) => Some(v),
            Some(None) => {
                self.error(field, "This field may not be null.");
                None
            }
            None => {
                if required {
                    self.error(field, "This field is required.");
                }
                None
            }
        }
    }

    /// A related record's id: positive.
    pub fn id(&mut self, field: &str, value: &Sent<i64>) -> Sent<i64> {
        let value = value.as_ref()?;
        match value {
            Some(id) if *id <= 0 => {
                self.error(field, format!("Invalid pk \"{id}\" - object does not exist."));
                None
            }
            other => Some(*other),
        }
    }

    /// Custom fields: a JSON object of at most 50 keys and 16 KB serialised, whose values are
    /// scalars or flat arrays of scalars; stored as its JSON text, as given.
    pub fn custom_fields(&mut self, field: &str, value: &Sent<Value>) -> Option<String> {
        let value = value.as_ref()?;
        let Some(v) = value else { return Some("{}".into()) };
        let Some(object) = v.as_object() else {
            self.error(field, "Expected a JSON object.");
            return None;
        };
        if object.len() > MAX_CUSTOM_KEYS {
            self.error(field, format!("At most {MAX_CUSTOM_KEYS} keys."));
            return None;
        }
        let scalar = |v: &Value| !(v.is_object() || v.is_array());
        let flat = |v: &Value| scalar(v) || v.as_array().is_some_and(|a| a.iter().all(scalar));
        if let Some((key, _)) = object.iter().find(|(k, v)| k.trim().is_empty() || !flat(v)) {
            self.error(
                field,
                format!("\"{key}\": values must be text, numbers, booleans, null or flat lists of them."),
            );
            return None;
        }
        let text = v.to_string();
        if text.len() > MAX_CUSTOM_BYTES {
            self.error(field, format!("At most {MAX_CUSTOM_BYTES} bytes once serialised."));
            return None;
        }
        Some(text)
    }
}

/// Stored custom fields as JSON (an unreadable store reads as `{}`).
pub fn custom_fields_value(stored: &str) -> Value {
    serde_json::from_str(stored).unwrap_or_else(|_| Value::Object(Default::default()))
}

/// `first last`, trimmed.
pub fn full_name(first: &str, last: &str) -> String {
    format!("{} {}", first.trim(), last.trim()).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::str::FromStr;

    #[test]
    fn texts_contacts_money_and_custom_fields() {
        let mut f = Fields::new();
        assert_eq!(f.text("name", &Some(Some("  Acme ".into())), 10), Some(Some("Acme".into())));
        assert_eq!(f.text("name", &None, 10), None);
        assert_eq!(f.email("email", &Some(Some(" A@B.uz".into()))), Some(Some("a@b.uz".into())));
        assert_eq!(f.phone("phone", &Some(Some("".into()))), Some(None), "empty clears");
        assert_eq!(
            f.money("amount", &Some(Some(Decimal::from_str("10.5").unwrap()))).unwrap().unwrap().to_string(),
            "10.5"
        );
        assert_eq!(
            f.custom_fields("custom_fields", &Some(Some(json!({"a": 1, "b": ["x", 2]})))).unwrap(),
            r#"{"a":1,"b":["x",2]}"#
        );
        assert!(f.finish().is_ok());

        let mut f = Fields::new();
        f.text("name", &Some(Some("x".repeat(11))), 10);
        f.email("email", &Some(Some("\u{2028}".into())));
        f.phone("phone", &Some(Some("12".into())));
        f.url("website", &Some(Some("acme".into())));
        f.money("amount", &Some(Some(Decimal::from_str("-1").unwrap())));
        f.percent("probability", &Some(Some(101)));
        f.custom_fields("custom_fields", &Some(Some(json!({"nested": {"a": 1}}))));
        f.choice("status", &Some(Some("maybe".into())), &["Open"]);
        let Err(CrmError::Validation { fields, .. }) = f.finish() else { panic!() };
        for k in ["name", "email", "phone", "website", "amount", "probability", "custom_fields", "status"] {
            assert!(fields.contains_key(k), "{k}");
        }
        let mut f = Fields::new();
        let many: serde_json::Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
        assert_eq!(f.custom_fields("custom_fields", &Some(Some(Value::Object(many)))), None);
        assert_eq!(f.custom_fields("custom_fields", &Some(Some(json!([1])))), None);
    }
}
