//! Persistence adapter: sea-orm entities and the repository ports of the domain crates,
//! over PostgreSQL or SQLite (chosen by the URL scheme).

pub mod cache;
pub mod db;
pub mod entity;
pub mod error;
pub mod maintenance;
pub mod repo;
pub mod seed;
pub mod seed_callcenter;
pub mod seed_rest;

pub use db::{Database, DatabaseKind, PoolSettings, StatementCount, connect};
