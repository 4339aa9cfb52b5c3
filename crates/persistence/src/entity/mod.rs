//! sea-orm entities, one module per table.

pub mod login_attempts;
pub mod refresh_tokens;
pub mod revoked_tokens;
pub mod role_permissions;
pub mod roles;
pub mod users;
