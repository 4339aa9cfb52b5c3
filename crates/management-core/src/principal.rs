//! The authenticated caller of a use case.

use crate::error::ManagementError;
use crate::permission::Permission;

/// Who is calling: resolved from a valid, unrevoked access token of an active user.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user_id: i64,
    pub role: String,
    pub permissions: Vec<Permission>,
    /// Token id, revoked on logout.
    pub jti: String,
    /// Refresh-token family this access token belongs to.
    pub session_id: String,
    /// Expiry of the access token (unix seconds).
    pub expires_at: i64,
}

impl Principal {
    /// Whether the caller's role grants `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// Refuses with [`ManagementError::Forbidden`] unless the role grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ManagementError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(ManagementError::Forbidden(format!(
                "Your role '{}' lacks the '{}' permission.",
                self.role,
                permission.as_str()
            )))
        }
    }
}
