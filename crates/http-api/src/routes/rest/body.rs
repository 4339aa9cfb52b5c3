//! Request bodies of the REST surface: a JSON object, or a flat form
//! (`application/x-www-form-urlencoded`) as Django REST framework accepts, read field by field
//! with every type problem collected into one 400 with DRF-style per-field messages.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use chrono::{DateTime, NaiveDate, Utc};
use crm_core::fields::Sent;
use futures_util::future::LocalBoxFuture;
use kernel::{FieldErrors, push_error};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::str::FromStr;

/// A body's fields, from JSON or a form.
pub struct RestBody {
    fields: Map<String, Value>,
    /// Form values are all text: numbers and booleans are read from it.
    form: bool,
    errors: RefCell<FieldErrors>,
}

impl FromRequest for RestBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = crate::extract::json_or_form_bytes(req, payload);
        Box::pin(async move {
            let (bytes, form) = body.await?;
            let fields = if form {
                let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                    .map_err(|e| ApiError::validation(format!("Malformed form body: {e}")))?;
                pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
            } else if bytes.is_empty() {
                // No body at all: an action without fields. Whitespace alone is not JSON.
                Map::new()
            } else {
                match serde_json::from_slice::<Value>(&bytes) {
                    Ok(Value::Object(map)) => map,
                    Ok(_) => return Err(ApiError::validation("The request body must be a JSON object.")),
                    Err(e) => return Err(ApiError::validation(format!("Malformed JSON body: {e}"))),
                }
            };
            Ok(RestBody { fields, form, errors: RefCell::default() })
        })
    }
}

impl RestBody {
    /// A body made of `fields` (an action's JSON).
    pub fn from_map(fields: Map<String, Value>) -> Self {
        RestBody { fields, form: false, errors: RefCell::default() }
    }

    /// A body of text values read like a form's (a row of an imported file).
    pub fn from_texts(fields: Map<String, Value>) -> Self {
        RestBody { fields, form: true, errors: RefCell::default() }
    }

    /// The type problems met while reading, by field.
    pub fn into_problems(self) -> FieldErrors {
        self.errors.into_inner()
    }

    fn bad(&self, field: &str, message: &str) {
        push_error(&mut self.errors.borrow_mut(), field, message);
    }

    /// The raw value: absent, null, or a value. A form has no null of its own: an empty value
    /// and the word `null` are its null (so a form cannot set a text to the word "null"; JSON can).
    fn raw(&self, field: &str) -> Sent<&Value> {
        match self.fields.get(field)? {
            Value::Null => Some(None),
            Value::String(s) if self.form && matches!(s.as_str(), "" | "null" | "Null" | "NULL") => Some(None),
            v => Some(Some(v)),
        }
    }

    /// A text field (strings only).
    pub fn text(&self, field: &str) -> Sent<String> {
        match self.raw(field)? {
            None => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(_) => {
                self.bad(field, "Not a valid string.");
                None
            }
        }
    }

    /// An integer (a JSON integer, or its digits as text).
    pub fn int(&self, field: &str) -> Sent<i64> {
        match self.raw(field)? {
            None => Some(None),
            Some(Value::Number(n)) if n.is_i64() => Some(n.as_i64()),
            Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => Some(s.trim().parse().ok()),
            Some(_) => {
                self.bad(field, "A valid integer is required.");
                None
            }
        }
    }

    /// The id of a related record (Django's primary-key field: an integer or its digits).
    pub fn id(&self, field: &str) -> Sent<i64> {
        match self.raw(field)? {
            None => Some(None),
            Some(Value::Number(n)) if n.is_i64() => Some(n.as_i64()),
            Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => Some(s.trim().parse().ok()),
            Some(other) => {
                self.bad(field, &format!("Incorrect type. Expected pk value, received {}.", type_name(other)));
                None
            }
        }
    }

    /// A list of ids.
    pub fn ids(&self, field: &str) -> Option<Vec<i64>> {
        match self.raw(field)? {
            Some(Value::Array(items)) => {
                let ids: Option<Vec<i64>> = items.iter().map(Value::as_i64).collect();
                if ids.is_none() {
                    self.bad(field, "Every item must be an integer id.");
                }
                ids
            }
            Some(Value::String(s)) if self.form => {
                let ids: Result<Vec<i64>, _> = s.split(',').map(|p| p.trim().parse::<i64>()).collect();
                ids.map_err(|_| self.bad(field, "A comma-separated list of ids is required.")).ok()
            }
            _ => {
                self.bad(field, "Expected a list of items.");
                None
            }
        }
    }

    /// A list of strings (a form sends them comma-separated).
    pub fn strings(&self, field: &str) -> Sent<Vec<String>> {
        match self.raw(field)? {
            None => Some(None),
            Some(Value::Array(items)) => {
                let texts: Option<Vec<String>> = items.iter().map(|v| v.as_str().map(str::to_string)).collect();
                if texts.is_none() {
                    self.bad(field, "Every item must be a string.");
                }
                texts.map(Some)
            }
            Some(Value::String(s)) if self.form => {
                Some(Some(s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()))
            }
            Some(_) => {
                self.bad(field, "Expected a list of items.");
                None
            }
        }
    }

    /// A boolean (JSON `true`/`false`, or the words from a form).
    pub fn bool(&self, field: &str) -> Sent<bool> {
        match self.raw(field)? {
            None => Some(None),
            Some(Value::Bool(b)) => Some(Some(*b)),
            Some(Value::String(s)) if self.form => match kernel::listing::parse_bool(s) {
                Some(b) => Some(Some(b)),
                None => {
                    self.bad(field, "Must be a valid boolean: true or false.");
                    None
                }
            },
            Some(_) => {
                self.bad(field, "Must be a valid boolean.");
                None
            }
        }
    }

    /// An exact decimal (a JSON number or its text).
    pub fn decimal(&self, field: &str) -> Sent<Decimal> {
        let bad = || {
            self.bad(field, "A valid number is required.");
            None
        };
        let text = match self.raw(field)? {
            None => return Some(None),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(_) => return bad(),
        };
        match Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)) {
            Ok(d) => Some(Some(d)),
            Err(_) => bad(),
        }
    }

    /// A date, `YYYY-MM-DD`.
    pub fn date(&self, field: &str) -> Sent<NaiveDate> {
        match self.raw(field)? {
            None => Some(None),
            Some(Value::String(s)) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                Ok(d) => Some(Some(d)),
                Err(_) => {
                    self.bad(field, "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.");
                    None
                }
            },
            Some(_) => {
                self.bad(field, "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.");
                None
            }
        }
    }

    /// An instant, ISO 8601 (a plain date is its start in UTC).
    pub fn instant(&self, field: &str) -> Sent<DateTime<Utc>> {
        match self.raw(field)? {
            None => Some(None),
            Some(Value::String(s)) => match kernel::listing::parse_instant(s) {
                Some(t) => Some(Some(t)),
                None => {
                    self.bad(field, "Datetime has wrong format. Use ISO 8601, e.g. 2024-01-20T14:00:00Z.");
                    None
                }
            },
            Some(_) => {
                self.bad(field, "Datetime has wrong format. Use ISO 8601, e.g. 2024-01-20T14:00:00Z.");
                None
            }
        }
    }

    /// A JSON value as given (a form sends it as JSON text).
    pub fn json(&self, field: &str) -> Sent<Value> {
        match self.raw(field)? {
            None => Some(None),
            Some(Value::String(s)) if self.form => match serde_json::from_str(s) {
                Ok(v) => Some(Some(v)),
                Err(_) => {
                    self.bad(field, "Value must be valid JSON.");
                    None
                }
            },
            Some(v) => Some(Some(v.clone())),
        }
    }

    /// A nested object (`deal` of a lead conversion).
    pub fn object(&self, field: &str) -> Option<RestBody> {
        match self.raw(field)? {
            Some(Value::Object(map)) => Some(RestBody::from_map(map.clone())),
            None => None,
            Some(_) => {
                self.bad(field, "Expected an object.");
                None
            }
        }
    }

    /// Fails with every type problem found while reading, in the surface's envelope.
    pub fn finish(&self) -> Result<(), ApiError> {
        self.finish_under("")
    }

    /// As [`RestBody::finish`], naming the fields of a nested object `<prefix>.<field>`.
    pub fn finish_under(&self, prefix: &str) -> Result<(), ApiError> {
        let mut errors = self.errors.take();
        if !prefix.is_empty() {
            errors = errors.into_iter().map(|(k, v)| (format!("{prefix}.{k}"), v)).collect();
        }
        match kernel::DomainError::from_fields(errors) {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(pairs: Value) -> RestBody {
        RestBody::from_texts(pairs.as_object().unwrap().clone())
    }

    #[test]
    fn a_form_null_is_null() {
        let body = form(
            json!({"is_active": "null", "amount": "NULL", "name": "null", "close_date": "", "custom_fields": "null"}),
        );
        assert_eq!(body.json("custom_fields"), Some(None));
        assert_eq!(body.bool("is_active"), Some(None));
        assert_eq!(body.decimal("amount"), Some(None));
        assert_eq!(body.date("close_date"), Some(None));
        assert_eq!(body.text("name"), Some(None));
        assert!(body.finish().is_ok());
        let json = RestBody::from_map(json!({"is_active": "null"}).as_object().unwrap().clone());
        assert_eq!(json.bool("is_active"), None, "JSON text is not a boolean");
        assert!(json.finish().is_err());
    }
}
