//! Roles: a catalog of names, each granting a list of permissions.

use crate::permission::Permission;
use chrono::{DateTime, Utc};

/// A role of the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub is_system: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The name of the role with every permission; at least one active user must hold it.
pub const CEO: &str = "ceo";
/// The role of the administrators below the CEO.
pub const ADMIN: &str = "admin";
/// The role given to self-registered users: no data permission until an administrator
/// gives them a role.
pub const DEFAULT_ROLE: &str = "pending";

/// How a role ranks when users change each other: CEO above admin above the rest. Nobody
/// changes a user who ranks above them, or grants a role above their own.
pub fn rank(role: &str) -> u8 {
    match role {
        CEO => 2,
        ADMIN => 1,
        _ => 0,
    }
}

/// A system role as seeded by the migrations: name, display name, permissions.
pub struct SystemRole {
    pub name: &'static str,
    pub display_name: &'static str,
    pub permissions: &'static [Permission],
}

use Permission::*;

/// The system roles and the permissions each is seeded with.
pub const SYSTEM_ROLES: [SystemRole; 10] = [
    SystemRole { name: "ceo", display_name: "CEO", permissions: &Permission::ALL },
    SystemRole {
        name: "admin",
        display_name: "Administrator",
        permissions: &[
            CrmRead,
            CrmWrite,
            CrmDelete,
            AnalyticsRead,
            CallcenterRead,
            CallcenterWrite,
            CallcenterDelete,
            AssignmentsManage,
            UsersManage,
            SettingsManage,
            IntegrationsManage,
        ],
    },
    SystemRole {
        name: "financial_director",
        display_name: "Financial Director",
        permissions: &[CrmRead, AnalyticsRead, CallcenterRead],
    },
    SystemRole {
        name: "sales_manager",
        display_name: "Sales Manager",
        permissions: &[CrmRead, CrmWrite, AnalyticsRead],
    },
    SystemRole {
        name: "supervisor",
        display_name: "Supervisor",
        permissions: &[CrmRead, CallcenterRead, CallcenterWrite, CallcenterDelete, AnalyticsRead],
    },
    SystemRole { name: "operator", display_name: "Operator", permissions: &[CrmRead, CallcenterRead, CallcenterWrite] },
    SystemRole { name: "member", display_name: "Member", permissions: &[CrmRead, CrmWrite, AnalyticsRead] },
    SystemRole { name: "customer", display_name: "Customer", permissions: &[] },
    SystemRole { name: "user", display_name: "User", permissions: &[CrmRead, CrmWrite, CrmDelete, AnalyticsRead] },
    SystemRole { name: "pending", display_name: "Pending approval", permissions: &[] },
];
