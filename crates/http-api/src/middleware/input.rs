//! Refuses input no text column can store: a NUL character in the path, the query string,
//! or a JSON or form body; and a JSON body that is not an object (every route's body is one,
//! and serde would otherwise read an array into a struct field by field). Every string a
//! handler reads passes through here first, so one check covers every route (multipart text
//! fields are checked where they are read).

use crate::error::ApiError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::Next;
use actix_web::web::{self, BytesMut};
use actix_web::{Error, HttpMessage};
use futures_util::StreamExt;

/// The largest JSON or form body read (the JSON limit), in bytes.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Whether percent-encoded or raw text holds a NUL (`%00` or a zero byte).
pub fn encoded_nul(text: &[u8]) -> bool {
    text.contains(&0) || text.windows(3).any(|w| w == b"%00")
}

/// Whether JSON text holds a NUL: a zero byte, or a `\u0000` escape (not an escaped
/// backslash followed by `u0000`).
pub fn json_nul(body: &[u8]) -> bool {
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            0 => return true,
            b'\\' => {
                if body.get(i + 1) == Some(&b'u') && body.get(i + 2..i + 6) == Some(b"0000") {
                    return true;
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    false
}

/// Whether a JSON body is an object, or only whitespace (read as malformed, or as no body,
/// by the handlers).
fn object_or_empty(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()).is_none_or(|first| *first == b'{')
}

fn refusal(place: &str) -> ApiError {
    ApiError::validation(format!("The {place} contains a NUL character (\\u0000), which is not accepted."))
}

/// The input guard (use with `actix_web::middleware::from_fn`).
pub async fn refuse_nul(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let refuse = |req: ServiceRequest, err: ApiError| Ok(req.error_response(err).map_into_right_body());
    if encoded_nul(req.uri().path().as_bytes()) {
        return refuse(req, refusal("path"));
    }
    if encoded_nul(req.query_string().as_bytes()) {
        return refuse(req, refusal("query string"));
    }
    let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let content_type = content_type.to_ascii_lowercase();
    let json = content_type.starts_with("application/json") || content_type.contains("+json");
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    if json || form {
        let limit = req.app_data::<web::Data<BodyLimit>>().map_or(1 << 20, |l| l.0);
        let mut payload = req.take_payload();
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk?;
            if body.len() + chunk.len() > limit {
                return refuse(req, ApiError::too_large(format!("Request body is larger than {limit} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        let has_nul = if json { json_nul(&body) } else { encoded_nul(&body) };
        if has_nul {
            return refuse(req, refusal("request body"));
        }
        if json && !object_or_empty(&body) {
            return refuse(req, ApiError::validation("The request body must be a JSON object."));
        }
        req.set_payload(Payload::from(body.freeze()));
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_objects_pass_as_json_bodies() {
        assert!(object_or_empty(br#" {"title": "a"}"#) && object_or_empty(b"") && object_or_empty(b" \n"));
        for body in [&br#"["array","body"]"#[..], b"42", b"null", b"\"text\"", b"true"] {
            assert!(!object_or_empty(body), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn finds_nul_in_each_encoding() {
        assert!(json_nul(br#"{"a":"x\u0000y"}"#));
        assert!(!json_nul(br#"{"a":"x\\u0000y"}"#), "an escaped backslash is text");
        assert!(json_nul(b"{\"a\":\"\x00\"}"));
        assert!(!json_nul(br#"{"a":"\u00e9"}"#));
        assert!(encoded_nul(b"email=a%00b"));
        assert!(!encoded_nul(b"email=a%2500"));
        assert!(encoded_nul(b"/api/users/u_1%00"));
    }
}
