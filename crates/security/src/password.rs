//! argon2id password hashing, run off the async executor.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use management_core::ManagementError;
use management_core::ports::PasswordHasher;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    /// OWASP's recommended minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        HashCost { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

/// Hashes with argon2id into PHC strings; verifies any argon2 PHC string.
#[derive(Clone)]
pub struct Argon2Hasher {
    params: Params,
}

impl Argon2Hasher {
    /// A hasher with the given cost; `Err` when the parameters are out of argon2's range.
    pub fn new(cost: HashCost) -> Result<Self, String> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| format!("invalid argon2 parameters: {e}"))?;
        Ok(Argon2Hasher { params })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }
}

fn internal(e: impl std::fmt::Display) -> ManagementError {
    ManagementError::Internal(format!("password hashing: {e}"))
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &str) -> Result<String, ManagementError> {
        let argon2 = self.argon2();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || argon2.hash_password(password.as_bytes()).map(|h| h.to_string()))
            .await
            .map_err(internal)?
            .map_err(internal)
    }

    async fn verify(&self, password: &str, hash: &str) -> Result<bool, ManagementError> {
        let argon2 = self.argon2();
        let (password, hash) = (password.to_owned(), hash.to_owned());
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash).map_err(internal)?;
            Ok(argon2.verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
        .map_err(internal)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ_per_salt() {
        let hasher = Argon2Hasher::new(HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 }).unwrap();
        let a = hasher.hash("correct horse").await.unwrap();
        let b = hasher.hash("correct horse").await.unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(hasher.verify("correct horse", &a).await.unwrap());
        assert!(!hasher.verify("wrong", &a).await.unwrap());
        assert!(hasher.verify("x", "not a hash").await.is_err());
    }
}
