//! Cross-origin access for the browser frontends.

use actix_cors::Cors;
use actix_web::http::{Method, header};

/// Which origins may call the API from a browser.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CorsPolicy {
    /// Exact origins (`CORS_ORIGIN`, comma-separated); `*` allows any.
    pub origins: Vec<String>,
    /// Also allow any `http://localhost:*` / `http://127.0.0.1:*` origin (development).
    pub allow_localhost: bool,
}

impl CorsPolicy {
    /// Whether `origin` may call the API.
    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        if self.origins.iter().any(|o| o == "*" || o.trim_end_matches('/') == origin) {
            return true;
        }
        if self.allow_localhost {
            for prefix in ["http://localhost", "http://127.0.0.1", "https://localhost", "http://[::1]"] {
                if let Some(rest) = origin.strip_prefix(prefix)
                    && (rest.is_empty() || (rest.starts_with(':') && rest[1..].chars().all(|c| c.is_ascii_digit())))
                {
                    return true;
                }
            }
        }
        false
    }

    /// The actix-cors middleware for this policy.
    pub fn middleware(&self) -> Cors {
        let policy = self.clone();
        Cors::default()
            .allowed_origin_fn(move |origin, _| origin.to_str().is_ok_and(|o| policy.allows(o)))
            .allowed_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS])
            // Browsers send their own caching and tracing headers (`Cache-Control`, `Pragma`,
            // `Expires`, ...): for an allowed origin every requested header is echoed back.
            .allow_any_header()
            .expose_headers([
                header::HeaderName::from_static("x-request-id"),
                header::HeaderName::from_static("x-ratelimit-limit"),
                header::HeaderName::from_static("x-ratelimit-remaining"),
                header::HeaderName::from_static("x-ratelimit-reset"),
                header::RETRY_AFTER,
                header::CONTENT_DISPOSITION,
            ])
            .max_age(3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let p = CorsPolicy { origins: vec!["https://crm.example.com".into()], allow_localhost: true };
        assert!(p.allows("https://crm.example.com"));
        assert!(p.allows("http://localhost:5173"));
        assert!(!p.allows("http://localhost.evil.com"));
        assert!(!p.allows("https://evil.com"));
        let strict = CorsPolicy { origins: vec![], allow_localhost: false };
        assert!(!strict.allows("http://localhost:5173"));
    }
}
