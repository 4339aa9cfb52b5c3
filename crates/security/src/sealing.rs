//! Secrets at rest: AES-256-GCM with a random 96-bit nonce per value, stored as
//! `v1:` + base64(nonce ‖ ciphertext ‖ tag).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use crm_core::integrations::SecretBox;
use kernel::DomainError;
use rand::RngCore;

const PREFIX: &str = "v1:";

/// Seals with one 256-bit key (`DATA_ENCRYPTION_KEY`).
pub struct AesSecretBox {
    cipher: Aes256Gcm,
}

impl AesSecretBox {
    /// A box with `key`: 32 bytes as base64 or as 64 hex digits.
    pub fn from_key(key: &str) -> Result<Self, String> {
        let key = key.trim();
        let bytes = if key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit()) {
            hex::decode(key).map_err(|e| e.to_string())?
        } else {
            base64::engine::general_purpose::STANDARD.decode(key).map_err(|_| "not base64 or hex".to_string())?
        };
        if bytes.len() != 32 {
            return Err(format!("the key has {} bytes; AES-256 needs 32", bytes.len()));
        }
        Ok(AesSecretBox { cipher: Aes256Gcm::new_from_slice(&bytes).map_err(|e| e.to_string())? })
    }

    /// A box whose key is derived from another secret (development without a key of its own).
    pub fn derived_from(secret: &str) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("crm data encryption:{secret}").as_bytes());
        let key: [u8; 32] = digest.into();
        AesSecretBox { cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(key)) }
    }
}

fn failed(what: &str) -> DomainError {
    DomainError::Internal(format!("secret {what} failed (is DATA_ENCRYPTION_KEY the one the data was sealed with?)"))
}

impl SecretBox for AesSecretBox {
    fn seal(&self, plain: &str) -> Result<String, DomainError> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self.cipher.encrypt(&Nonce::from(nonce), plain.as_bytes()).map_err(|_| failed("sealing"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!("{PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(out)))
    }

    fn open(&self, sealed: &str) -> Result<String, DomainError> {
        let raw = sealed.strip_prefix(PREFIX).ok_or_else(|| failed("opening"))?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(raw).map_err(|_| failed("opening"))?;
        if bytes.len() < 12 {
            return Err(failed("opening"));
        }
        let (nonce, body) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| failed("opening"))?;
        let plain = self.cipher.decrypt(&Nonce::from(nonce), body).map_err(|_| failed("opening"))?;
        String::from_utf8(plain).map_err(|_| failed("opening"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_the_key_only() {
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let sealing = AesSecretBox::from_key(&key).unwrap();
        let a = sealing.seal("sk-live-123").unwrap();
        let b = sealing.seal("sk-live-123").unwrap();
        assert!(a.starts_with("v1:") && a != b, "a fresh nonce each time");
        assert!(!a.contains("sk-live"));
        assert_eq!(sealing.open(&a).unwrap(), "sk-live-123");
        let other = AesSecretBox::from_key(&"ab".repeat(32)).unwrap();
        assert!(other.open(&a).is_err());
        assert!(AesSecretBox::from_key("short").is_err());
    }
}
