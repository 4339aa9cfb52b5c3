//! Security adapters: argon2id password hashing and HS256 JWT access tokens,
//! implementing the `PasswordHasher` and `TokenCodec` ports of `management-core`.

pub mod jwt;
pub mod password;
pub mod sealing;

pub use jwt::JwtCodec;
pub use password::{Argon2Hasher, HashCost, HashPool};
pub use sealing::AesSecretBox;
