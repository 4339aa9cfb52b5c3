//! The fixed set of permissions that roles grant and use cases check.

use serde::{Deserialize, Serialize};

/// A permission name. Roles hold a list of these; the core checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    /// Read customers/accounts, deals and activities.
    #[serde(rename = "crm.read")]
    CrmRead,
    /// Create and change customers, deals and activities.
    #[serde(rename = "crm.write")]
    CrmWrite,
    /// Delete customers, deals and activities.
    #[serde(rename = "crm.delete")]
    CrmDelete,
    /// Read sales analytics and dashboards.
    #[serde(rename = "analytics.read")]
    AnalyticsRead,
    /// Read call-center data: callers, calls, chats, knowledge base, statistics.
    #[serde(rename = "callcenter.read")]
    CallcenterRead,
    /// Create and change call-center data, place calls.
    #[serde(rename = "callcenter.write")]
    CallcenterWrite,
    /// Delete call-center data: history, files, knowledge base, topics.
    #[serde(rename = "callcenter.delete")]
    CallcenterDelete,
    /// Assign sales managers to customers by hand.
    #[serde(rename = "assignments.manage")]
    AssignmentsManage,
    /// Administer staff users.
    #[serde(rename = "users.manage")]
    UsersManage,
    /// Change the status and role catalogs.
    #[serde(rename = "catalog.manage")]
    CatalogManage,
    /// Change the system settings and read the private ones.
    #[serde(rename = "settings.manage")]
    SettingsManage,
    /// Manage integrations and webhooks.
    #[serde(rename = "integrations.manage")]
    IntegrationsManage,
}

impl Permission {
    /// Every permission, in a stable order.
    pub const ALL: [Permission; 12] = [
        Permission::CrmRead,
        Permission::CrmWrite,
        Permission::CrmDelete,
        Permission::AnalyticsRead,
        Permission::CallcenterRead,
        Permission::CallcenterWrite,
        Permission::CallcenterDelete,
        Permission::AssignmentsManage,
        Permission::UsersManage,
        Permission::CatalogManage,
        Permission::SettingsManage,
        Permission::IntegrationsManage,
    ];

    /// The stored and published name, e.g. `crm.read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::CrmRead => "crm.read",
            Permission::CrmWrite => "crm.write",
            Permission::CrmDelete => "crm.delete",
            Permission::AnalyticsRead => "analytics.read",
            Permission::CallcenterRead => "callcenter.read",
            Permission::CallcenterWrite => "callcenter.write",
            Permission::CallcenterDelete => "callcenter.delete",
            Permission::AssignmentsManage => "assignments.manage",
            Permission::UsersManage => "users.manage",
            Permission::CatalogManage => "catalog.manage",
            Permission::SettingsManage => "settings.manage",
            Permission::IntegrationsManage => "integrations.manage",
        }
    }

    /// Parses a stored name; `None` for names outside the fixed set.
    pub fn parse(name: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == name)
    }
}
