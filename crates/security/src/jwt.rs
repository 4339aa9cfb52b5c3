//! HS256 JWT access tokens and opaque random refresh tokens.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use management_core::ManagementError;
use management_core::ports::{AccessClaims, TokenCodec, TokenError};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Signs access tokens with a shared secret; refresh tokens are 256 random bits,
/// stored as a keyed SHA-256 digest.
pub struct JwtCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    refresh_key: Vec<u8>,
}

impl JwtCodec {
    /// `access_secret` signs access tokens; `refresh_secret` keys the stored digest of refresh tokens.
    pub fn new(access_secret: &str, refresh_secret: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        JwtCodec {
            encoding: EncodingKey::from_secret(access_secret.as_bytes()),
            decoding: DecodingKey::from_secret(access_secret.as_bytes()),
            validation,
            refresh_key: refresh_secret.as_bytes().to_vec(),
        }
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

impl TokenCodec for JwtCodec {
    fn encode(&self, claims: &AccessClaims) -> Result<String, ManagementError> {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| ManagementError::Internal(format!("signing token: {e}")))
    }

    fn decode(&self, token: &str) -> Result<AccessClaims, TokenError> {
        decode::<AccessClaims>(token.trim(), &self.decoding, &self.validation).map(|data| data.claims).map_err(|e| {
            match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            }
        })
    }

    fn random_id(&self) -> String {
        random_hex(16)
    }

    fn new_refresh_token(&self) -> String {
        random_hex(32)
    }

    fn hash_refresh_token(&self, token: &str) -> String {
        let mut digest = Sha256::new();
        digest.update(&self.refresh_key);
        digest.update(b":");
        digest.update(token.trim().as_bytes());
        hex::encode(digest.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_offset: i64) -> AccessClaims {
        let now = chrono::Utc::now().timestamp();
        AccessClaims {
            sub: "1".into(),
            jti: "j".into(),
            role: "ceo".into(),
            sid: "s".into(),
            iat: now,
            exp: now + exp_offset,
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let codec = JwtCodec::new("secret-a", "secret-r");
        let token = codec.encode(&claims(60)).unwrap();
        assert_eq!(codec.decode(&token).unwrap(), claims(60));
        let expired = codec.encode(&claims(-10)).unwrap();
        assert_eq!(codec.decode(&expired), Err(TokenError::Expired));
        let other = JwtCodec::new("secret-b", "secret-r");
        assert_eq!(other.decode(&token), Err(TokenError::Invalid));
        assert_eq!(codec.decode("garbage"), Err(TokenError::Invalid));
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed_with_the_key() {
        let codec = JwtCodec::new("a", "r1");
        let t = codec.new_refresh_token();
        assert_eq!(t.len(), 64);
        assert_ne!(t, codec.new_refresh_token());
        assert_eq!(codec.hash_refresh_token(&t), codec.hash_refresh_token(&t));
        assert_ne!(codec.hash_refresh_token(&t), JwtCodec::new("a", "r2").hash_refresh_token(&t));
    }
}
