//! Management domain: staff users, credentials, tokens, roles and permissions.
//!
//! Pure domain code: entities, validation, use-case services and the port traits
//! that infrastructure crates implement. No web framework, no ORM.

pub mod assignment;
pub mod auth;
pub mod catalog;
pub mod catalog_service;
pub mod error;
pub mod password_policy;
pub mod permission;
pub mod ports;
pub mod principal;
pub mod role;
pub mod throttle;
pub mod user;
pub mod users_admin;

pub use assignment::AssignmentService;
pub use auth::{AuthConfig, AuthService, IssuedTokens, LoginRequest};
pub use catalog_service::CatalogService;
pub use error::{FieldErrors, ManagementError, Result};
pub use permission::Permission;
pub use principal::Principal;
pub use role::{Role, SYSTEM_ROLES};
pub use user::{NewUser, User, UserPatch};
pub use users_admin::UserAdminService;
