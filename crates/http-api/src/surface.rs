//! The five API surfaces, told apart by path, and the error envelope each one's frontend reads.

use crate::error::ApiError;
use serde_json::{Map, Value, json};

/// An API surface: one frontend's contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// `crm-api-v1.md` under `/api/v1`: `{"success":false,"error":{code,message,details}}`.
    CrmV1,
    /// `crm-rest-api.md` (`/api/core`, `/api/crm`, `/api/system-config`, ...):
    /// `{"error":{type,message,timestamp,status_code,details}}`.
    RestApi,
    /// `management-update.md` and the CIMS workspace (`/management`, `/crm`, `/auth`, `/audit`,
    /// `/ceo`): FastAPI's `{"detail":"…"}`.
    Management,
    /// The call-center documents and everything else under `/api`, plus unknown paths:
    /// `{"error":"…","message":"…","code":"…","details":{}}`.
    CallCenter,
}

const REST_PREFIXES: [&str; 10] = [
    "/api/auth/",
    "/api/core/",
    "/api/crm/",
    "/api/deals/",
    "/api/activities/",
    "/api/products/",
    "/api/territories/",
    "/api/analytics/",
    "/api/system-config/",
    "/api/integrations/",
];

impl Surface {
    /// The surface a request path belongs to.
    pub fn of_path(path: &str) -> Surface {
        // The login shared by the call-center and REST frontends answers failures in the
        // call-center body, which the issue and both frontends' readers accept.
        if path == "/api/auth/login" || path == "/api/auth/login/" {
            return Surface::CallCenter;
        }
        if path == "/api/v1" || path.starts_with("/api/v1/") {
            Surface::CrmV1
        } else if REST_PREFIXES.iter().any(|p| path.starts_with(p)) {
            Surface::RestApi
        } else if ["/management", "/crm", "/auth", "/audit", "/ceo"]
            .iter()
            .any(|p| path == *p || path.starts_with(&format!("{p}/")))
        {
            Surface::Management
        } else {
            Surface::CallCenter
        }
    }

    /// The error body this surface's frontend expects.
    pub fn error_body(self, err: &ApiError) -> Value {
        let details = err.details.clone().unwrap_or_else(|| json!({}));
        match self {
            Surface::CrmV1 => json!({
                "success": false,
                "error": {"code": err.code, "message": err.message, "details": details},
            }),
            Surface::RestApi => json!({
                "error": {
                    "type": rest_type(err.status.as_u16()),
                    "message": err.message,
                    "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "status_code": err.status.as_u16(),
                    "details": details,
                }
            }),
            Surface::Management => {
                let mut body = Map::new();
                body.insert("detail".into(), Value::String(err.message.clone()));
                if let Value::Object(extra) = details {
                    for (k, v) in extra {
                        body.entry(k).or_insert(v);
                    }
                }
                Value::Object(body)
            }
            Surface::CallCenter => json!({
                "error": err.message,
                "message": err.message,
                "code": err.code,
                "details": details,
            }),
        }
    }
}

/// Django REST framework's exception names, which the REST frontend shows.
fn rest_type(status: u16) -> &'static str {
    match status {
        400 | 422 => "ValidationError",
        401 => "AuthenticationFailed",
        403 => "PermissionDenied",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        413 => "PayloadTooLarge",
        415 => "UnsupportedMediaType",
        429 => "Throttled",
        503 => "ServiceUnavailable",
        _ => "ServerError",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_surfaces() {
        assert_eq!(Surface::of_path("/api/v1/customers"), Surface::CrmV1);
        assert_eq!(Surface::of_path("/api/system-config/users/"), Surface::RestApi);
        assert_eq!(Surface::of_path("/api/analytics/dashboard/"), Surface::RestApi);
        assert_eq!(Surface::of_path("/api/analytics"), Surface::CallCenter);
        assert_eq!(Surface::of_path("/api/auth/login/"), Surface::CallCenter);
        assert_eq!(Surface::of_path("/api/auth/register/"), Surface::RestApi);
        assert_eq!(Surface::of_path("/management/statuses"), Surface::Management);
        assert_eq!(Surface::of_path("/crm/sales-managers"), Surface::Management);
        assert_eq!(Surface::of_path("/crmx"), Surface::CallCenter);
        assert_eq!(Surface::of_path("/nowhere"), Surface::CallCenter);
    }
}
