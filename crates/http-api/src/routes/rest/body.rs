//! Request bodies of the REST surface: a JSON object, or a flat form
//! (`application/x-www-form-urlencoded`) as Django REST framework accepts, read as a typed body
//! (see [`crate::typed_body`]) with every problem collected into one 400 with DRF-style
//! per-field messages.

use crate::error::ApiError;
use crate::typed_body::{Reading, Words};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use kernel::DomainError;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A body's fields, from JSON or a form.
pub struct RestBody {
    fields: Map<String, Value>,
    /// Form values are all text: numbers and booleans are read from it.
    form: bool,
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
            Ok(RestBody { fields, form })
        })
    }
}

impl RestBody {
    /// The body read as `B`, checked against `B`'s schema (see [`crate::typed_body`]).
    pub fn read<B: DeserializeOwned + ToSchema + 'static>(self) -> Result<B, ApiError> {
        crate::typed_body::read(self.fields, Reading { form: self.form, words: Words::Drf }).map_err(|errors| {
            match DomainError::from_fields(errors) {
                Some(e) => e.into(),
                None => ApiError::validation("The request body is not valid."),
            }
        })
    }
}
