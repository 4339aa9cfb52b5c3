//! Links that work without a token until they expire: `?expires=<unix>&signature=<hex>`, the
//! signature an HMAC-SHA256 over the path and the expiry under a key derived from the server's
//! token secret (so every replica signs and checks alike).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::time::Duration;

/// Signs and checks expiring links.
pub struct LinkSigner {
    key: Vec<u8>,
    /// `PUBLIC_BASE_URL`, when set; else links are built from the request's host.
    base: Option<String>,
    ttl: Duration,
}

impl LinkSigner {
    pub fn new(secret: &str, public_base_url: &str, ttl: Duration) -> Self {
        let mut key = b"signed-links:".to_vec();
        key.extend_from_slice(secret.as_bytes());
        let base = Some(public_base_url.trim_end_matches('/').to_string()).filter(|b| !b.is_empty());
        LinkSigner { key, base, ttl }
    }

    /// The MAC over `path` and `expires`, ready to finish.
    fn mac(&self, path: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    fn signature(&self, path: &str, expires: i64) -> String {
        hex::encode(self.mac(path, expires).finalize().into_bytes())
    }

    /// The absolute URL of `path` signed until `now + ttl`; `origin` (`scheme://host`) is used
    /// when no public base URL is configured.
    pub fn sign(&self, origin: &str, path: &str) -> String {
        let expires = chrono::Utc::now().timestamp() + self.ttl.as_secs() as i64;
        let base = self.base.as_deref().unwrap_or(origin);
        format!("{base}{path}?expires={expires}&signature={}", self.signature(path, expires))
    }

    /// Whether `signature` signs `path` until `expires`, still in the future.
    pub fn verify(&self, path: &str, expires: i64, signature: &str) -> bool {
        if expires < chrono::Utc::now().timestamp() {
            return false;
        }
        hex::decode(signature).is_ok_and(|sig| self.mac(path, expires).verify_slice(&sig).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_link_verifies_until_it_expires_and_only_for_its_path() {
        let signer = LinkSigner::new("secret", "", Duration::from_secs(60));
        let url = signer.sign("http://h", "/crm/customers/audio/ab");
        let query = url.split_once('?').unwrap().1;
        let (expires, signature) = query.split_once('&').unwrap();
        let expires: i64 = expires.trim_start_matches("expires=").parse().unwrap();
        let signature = signature.trim_start_matches("signature=");
        assert!(url.starts_with("http://h/crm/customers/audio/ab?"));
        assert!(signer.verify("/crm/customers/audio/ab", expires, signature));
        assert!(!signer.verify("/crm/customers/audio/cd", expires, signature));
        assert!(!signer.verify("/crm/customers/audio/ab", expires + 1, signature));
        assert!(!signer.verify("/crm/customers/audio/ab", 1, signature));
        let other = LinkSigner::new("other", "https://api.example.com/", Duration::from_secs(60));
        assert!(!other.verify("/crm/customers/audio/ab", expires, signature));
        assert!(other.sign("http://h", "/x").starts_with("https://api.example.com/x?"));
    }
}
