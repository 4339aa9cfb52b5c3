//! Lenient reading of JSON fields that browser forms send as strings or numbers.

use crate::error::ApiError;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::str::FromStr;

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// An integer id given as a number or a numeric string; `null` counts as absent.
pub fn id(field: &str, value: Option<&Value>) -> Result<Option<i64>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| ApiError::field(field, format!("{field} must be an integer.")))
        }
        Some(Value::String(s)) if !s.trim().is_empty() => {
            s.trim().parse().map(Some).map_err(|_| ApiError::field(field, format!("{field} must be an integer.")))
        }
        Some(_) => Err(ApiError::field(field, format!("{field} must be an integer."))),
    }
}

/// A decimal amount given as a number or a numeric string.
pub fn decimal(field: &str, value: Option<&Value>) -> Result<Option<Decimal>, ApiError> {
    let bad = || ApiError::field(field, format!("{field} must be a number, e.g. 1500.50."));
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(_) => return Err(bad()),
    };
    Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)).map(Some).map_err(|_| bad())
}

/// A text field: a string (`null` is `Some(None)`, absent is `None`); any other JSON type
/// is a 400.
pub fn text(field: &str, value: Option<&Value>) -> Result<Option<Option<String>>, ApiError> {
    match value {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(ApiError::field(field, format!("{field} must be a string."))),
    }
}

/// A text the contract lets clients send as a number too (the v1 customer's `value`).
pub fn text_or_number(field: &str, value: Option<&Value>) -> Result<Option<Option<String>>, ApiError> {
    match value {
        Some(Value::Number(n)) => Ok(Some(Some(n.to_string()))),
        other => text(field, other),
    }
}

/// The body as a JSON object, or a 400.
pub fn object(body: &Value) -> Result<&serde_json::Map<String, Value>, ApiError> {
    body.as_object().ok_or_else(|| ApiError::validation("The request body must be a JSON object."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_numbers_and_strings() {
        assert_eq!(id("customerId", Some(&json!("12"))).unwrap(), Some(12));
        assert_eq!(id("customerId", Some(&json!(12))).unwrap(), Some(12));
        assert!(id("customerId", Some(&json!(1.5))).is_err());
        assert_eq!(decimal("value", Some(&json!(1500.5))).unwrap().unwrap().to_string(), "1500.5");
        assert_eq!(decimal("value", Some(&json!("99.99"))).unwrap().unwrap().to_string(), "99.99");
        assert!(decimal("value", Some(&json!("abc"))).is_err());
        assert_eq!(text_or_number("value", Some(&json!(5000))).unwrap(), Some(Some("5000".into())));
        assert!(text("name", Some(&json!(5000))).is_err());
        assert_eq!(text("value", Some(&json!(null))).unwrap(), Some(None));
    }
}
