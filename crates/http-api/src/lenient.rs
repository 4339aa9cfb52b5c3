//! Reading a JSON body by hand, for the few bodies whose shape is not one struct (a caller's
//! memory comes wrapped in `aiContext` or bare). Every other body is a typed body
//! ([`crate::typed_body`]).

use crate::error::ApiError;
use serde_json::Value;

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

/// The body as a JSON object, or a 400.
pub fn object(body: &Value) -> Result<&serde_json::Map<String, Value>, ApiError> {
    body.as_object().ok_or_else(|| ApiError::validation("The request body must be a JSON object."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_text_is_a_string_or_null() {
        assert!(text("name", Some(&json!(5000))).is_err());
        assert_eq!(text("value", Some(&json!(null))).unwrap(), Some(None));
        assert_eq!(text("value", Some(&json!("x"))).unwrap(), Some(Some("x".into())));
        assert!(object(&json!([1])).is_err());
    }
}
