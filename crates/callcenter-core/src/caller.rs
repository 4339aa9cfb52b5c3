//! Callers: the people who call or chat with the center (not staff).

use crate::error::{CallcenterError, Result};
use chrono::{DateTime, Utc};
use kernel::{FieldErrors, is_blank, normalize_email, normalize_phone, push_error};

/// A caller. Ids are opaque strings with the `u_` prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub id: String,
    pub full_name: String,
    /// E.164, unique; `None` for a caller known only from a web chat.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub region: Option<String>,
    /// `uz`, `ru` or `en`.
    pub language: Option<String>,
    /// The CRM customer with the same phone, when there is one.
    pub customer_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// Fields of a caller; on update, absent fields stay as they are and `Some(None)` clears.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallerInput {
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub language: Option<Option<String>>,
}

/// Validated caller fields (`None` = unchanged on update).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallerFields {
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub language: Option<Option<String>>,
}

/// Prefix of caller ids.
pub const CALLER_PREFIX: &str = "u_";
/// Languages the center speaks.
pub const LANGUAGES: [&str; 3] = ["uz", "ru", "en"];

/// The id a caller with this E.164 phone gets: `u_` and its digits (`+998901234567` →
/// `u_998901234567`), the form the call-center UI builds from a phone number.
pub fn phone_caller_id(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    format!("{CALLER_PREFIX}{digits}")
}

/// The E.164 phone a `u_<digits>` id names (8 to 15 digits), if it is of that form.
pub fn phone_of_caller_id(id: &str) -> Option<String> {
    let digits = id.strip_prefix(CALLER_PREFIX)?;
    let plausible = (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit());
    plausible.then(|| format!("+{digits}"))
}

/// Whether `id` looks like a caller id (`u_` and letters, digits, `_` or `-`).
pub fn is_caller_id(id: &str) -> bool {
    id.strip_prefix(CALLER_PREFIX).is_some_and(|rest| {
        !rest.is_empty() && rest.len() <= 60 && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

fn optional_text(
    value: &Option<Option<String>>,
    field: &str,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<Option<String>> {
    value.as_ref().map(|v| {
        let v = v.as_deref().map(str::trim).filter(|v| !v.is_empty());
        if v.is_some_and(|v| v.chars().count() > max) {
            push_error(errors, field, format!("{field} must be at most {max} characters."));
        }
        v.map(str::to_string)
    })
}

impl CallerInput {
    /// Validates; `creating` requires the full name and phone.
    pub fn validate(&self, creating: bool) -> Result<CallerFields> {
        let mut errors = FieldErrors::new();
        let full_name = match self.full_name.as_deref().map(str::trim) {
            Some("") | None if creating => {
                push_error(&mut errors, "fullName", "fullName is required.");
                None
            }
            Some("") => {
                push_error(&mut errors, "fullName", "fullName cannot be empty.");
                None
            }
            Some(n) if n.chars().count() > 200 => {
                push_error(&mut errors, "fullName", "fullName must be at most 200 characters.");
                None
            }
            other => other.map(str::to_string),
        };
        let phone = match self.phone.as_deref() {
            None if creating => {
                push_error(&mut errors, "phone", "phone is required.");
                None
            }
            None => None,
            Some(p) => normalize_phone(p).map_err(|m| push_error(&mut errors, "phone", m)).ok(),
        };
        if self.email.as_ref().and_then(|e| e.as_deref()).is_some_and(is_blank) {
            push_error(&mut errors, "email", "email cannot be blank: send null or \"\" to clear it.");
        }
        let email = self.email.as_ref().map(|e| match e.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) => normalize_email(e).map_err(|m| push_error(&mut errors, "email", m)).ok(),
            None => None,
        });
        let region = optional_text(&self.region, "region", 100, &mut errors);
        let language = optional_text(&self.language, "language", 2, &mut errors).map(|l| l.map(|l| l.to_lowercase()));
        if let Some(Some(l)) = &language
            && !LANGUAGES.contains(&l.as_str())
        {
            push_error(&mut errors, "language", format!("language must be one of {}.", LANGUAGES.join(", ")));
        }
        CallcenterError::check(errors)?;
        Ok(CallerFields { full_name, phone, email, region, language })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_are_normalised() {
        let f = CallerInput {
            full_name: Some(" Moychechak Toshmatova ".into()),
            phone: Some("90 111 22 33".into()),
            email: Some(Some("M@Example.UZ".into())),
            region: Some(Some("Toshkent".into())),
            language: Some(Some("UZ".into())),
        }
        .validate(true)
        .unwrap();
        assert_eq!(f.phone.as_deref(), Some("+998901112233"));
        assert_eq!(f.email, Some(Some("m@example.uz".into())));
        assert_eq!(f.language, Some(Some("uz".into())));
    }

    #[test]
    fn invalid_callers_name_each_field() {
        let err = CallerInput { phone: Some("12".into()), language: Some(Some("de".into())), ..Default::default() }
            .validate(true);
        let Err(CallcenterError::Validation { fields, .. }) = err else { panic!() };
        assert!(fields.contains_key("fullName") && fields.contains_key("phone") && fields.contains_key("language"));
        assert!(
            CallerInput::default().validate(false).is_ok(),
            "an update may change nothing here; the service checks"
        );
    }

    #[test]
    fn caller_ids() {
        assert!(is_caller_id("u_1001") && is_caller_id("u_1735000000000"));
        assert!(!is_caller_id("1001") && !is_caller_id("u_") && !is_caller_id("u_a b"));
        assert_eq!(phone_caller_id("+998901234567"), "u_998901234567");
        assert_eq!(phone_of_caller_id("u_998901234567").as_deref(), Some("+998901234567"));
        assert_eq!(phone_of_caller_id("u_demo_0042"), None);
        assert_eq!(phone_of_caller_id("u_1700000000000000"), None, "a timestamp id is not a phone");
    }
}
