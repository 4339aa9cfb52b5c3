//! Companies: the organisations users belong to, each membership with a role (`admin` or
//! `member`). The data stays one organisation's: a membership grants no data permission by
//! itself, the user's system role does; administering companies needs `users.manage`.

use crate::error::Result;
use crate::fields::{Fields, MAX_FREE_TEXT, Sent};
use crate::records::Resource;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{FilterKind, FilterSpec, ListSpec, Ref};
use management_core::{Permission, User};
use std::future::Future;

/// Longest company name.
pub const MAX_NAME: usize = 200;
/// The membership role of a company's founder.
pub const ADMIN: &str = "admin";

/// A company.
#[derive(Debug, Clone, PartialEq)]
pub struct Company {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub industry: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub is_active: bool,
    pub owner: Option<Ref>,
    pub members: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompanyInput {
    pub name: Sent<String>,
    pub description: Sent<String>,
    pub industry: Sent<String>,
    pub website: Sent<String>,
    pub phone: Sent<String>,
    pub email: Sent<String>,
    pub is_active: Sent<bool>,
}

/// A checked new company; its creator becomes its admin member.
#[derive(Debug, Clone, PartialEq)]
pub struct CompanyDraft {
    pub name: String,
    pub description: Option<String>,
    pub industry: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub is_active: bool,
    pub owner_id: i64,
}

/// A checked change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompanyChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub industry: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub is_active: Option<bool>,
}

/// The company record kind.
pub struct Companies;

impl Resource for Companies {
    type Record = Company;
    type Input = CompanyInput;
    type Draft = CompanyDraft;
    type Changes = CompanyChanges;
    const NAME: &'static str = "Company";
    const LIST: ListSpec = ListSpec {
        filters: &[FilterSpec { name: "is_active", kind: FilterKind::Bool, about: "Active or not" }],
        ordering: &["name", "created_at", "updated_at"],
        default_ordering: ("created_at", true),
        search: "name",
    };
    const WRITE: Permission = Permission::UsersManage;
    const DELETE: Permission = Permission::UsersManage;

    fn draft(input: CompanyInput, owner: i64) -> Result<CompanyDraft> {
        let mut f = Fields::new();
        let is_active = f.present("is_active", input.is_active, false).unwrap_or(true);
        let name = f.required_text("name", &input.name, MAX_NAME, true);
        let draft = CompanyDraft {
            name: name.unwrap_or_default(),
            description: f.text("description", &input.description, MAX_FREE_TEXT).flatten(),
            industry: f.text("industry", &input.industry, 100).flatten(),
            website: f.url("website", &input.website).flatten(),
            phone: f.phone("phone", &input.phone).flatten(),
            email: f.email("email", &input.email).flatten(),
            is_active,
            owner_id: owner,
        };
        f.finish()?;
        Ok(draft)
    }

    fn changes(input: CompanyInput, replace: bool) -> Result<CompanyChanges> {
        let mut f = Fields::new();
        let changes = CompanyChanges {
            name: f.required_text("name", &input.name, MAX_NAME, replace),
            description: f.text("description", &input.description, MAX_FREE_TEXT),
            industry: f.text("industry", &input.industry, 100),
            website: f.url("website", &input.website),
            phone: f.phone("phone", &input.phone),
            email: f.email("email", &input.email),
            is_active: f.present("is_active", input.is_active, false),
        };
        f.finish()?;
        Ok(changes)
    }
}

/// A company a user belongs to, with the user's role there.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub id: i64,
    pub name: String,
    pub role: String,
}

/// Who belongs to which company.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CompanyMemberships: Send + Sync {
    /// The live companies `user_id` belongs to, by name.
    async fn memberships_of(&self, user_id: i64) -> Result<Vec<Membership>>;
    /// A [`crate::CrmError::Duplicate`] when a live company has this name (any case).
    async fn check_name_free(&self, name: &str) -> Result<()>;
    /// Creates the company a user registered with, the user its admin member.
    async fn found(&self, name: &str, admin: i64) -> Result<Company>;
}

/// Checks the company name a self-registration asks for: required to be free, since
/// registering never joins an existing company.
pub async fn check_new_company(port: &dyn CompanyMemberships, name: &str) -> Result<String> {
    let draft = Companies::draft(CompanyInput { name: Some(Some(name.to_string())), ..Default::default() }, 0)
        .map_err(|e| rename(e, "company_name"))?;
    port.check_name_free(&draft.name).await?;
    Ok(draft.name)
}

/// A self-registration, with the company it founds when `company_name` is given: the name is
/// checked first (registering never joins an existing company, so a taken name is refused
/// before anyone is created), then `create_user` makes the user, then the company is founded
/// with that user as its admin member.
pub async fn register_founder<F>(
    port: &dyn CompanyMemberships,
    company_name: Option<&str>,
    create_user: impl FnOnce() -> F,
) -> Result<(User, Vec<Membership>)>
where
    F: Future<Output = Result<User>>,
{
    let company = match company_name.filter(|n| !n.trim().is_empty()) {
        Some(name) => Some(check_new_company(port, name).await?),
        None => None,
    };
    let user = create_user().await?;
    let mut memberships = Vec::new();
    if let Some(name) = company {
        let founded = port.found(&name, user.id).await?;
        memberships.push(Membership { id: founded.id, name: founded.name, role: ADMIN.into() });
    }
    Ok((user, memberships))
}

fn rename(e: crate::CrmError, field: &str) -> crate::CrmError {
    match e {
        crate::CrmError::Validation { message, fields } => crate::CrmError::Validation {
            message,
            fields: fields.into_values().map(|v| (field.to_string(), v)).collect(),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CrmError;

    #[tokio::test]
    async fn a_registration_company_name_is_checked_then_must_be_free() {
        let mut port = MockCompanyMemberships::new();
        port.expect_check_name_free().never();
        let err = check_new_company(&port, "  ").await.unwrap_err();
        assert!(matches!(err, CrmError::Validation { ref fields, .. } if fields.contains_key("company_name")));
        let mut port = MockCompanyMemberships::new();
        port.expect_check_name_free()
            .withf(|n| n == "New Company")
            .returning(|_| Err(CrmError::Duplicate { message: "taken".into(), candidates: vec![] }));
        assert!(matches!(check_new_company(&port, " New Company ").await, Err(CrmError::Duplicate { .. })));
    }

    fn user() -> User {
        User {
            id: 7,
            email: "a@b.example".into(),
            name: "A".into(),
            first_name: "A".into(),
            last_name: String::new(),
            role: "pending".into(),
            is_active: true,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn a_taken_company_name_creates_nobody_and_a_free_one_makes_the_user_its_admin() {
        let mut port = MockCompanyMemberships::new();
        port.expect_check_name_free()
            .returning(|_| Err(CrmError::Duplicate { message: "taken".into(), candidates: vec![] }));
        port.expect_found().never();
        let refused = register_founder(&port, Some("Acme"), || async { panic!("no user may be created") }).await;
        assert!(matches!(refused, Err(CrmError::Duplicate { .. })));

        let mut port = MockCompanyMemberships::new();
        port.expect_check_name_free().returning(|_| Ok(()));
        port.expect_found().withf(|name, admin| name == "Acme" && *admin == 7).returning(|name, admin| {
            Ok(Company {
                id: 3,
                name: name.into(),
                description: None,
                industry: None,
                website: None,
                phone: None,
                email: None,
                is_active: true,
                owner: Some(Ref { id: admin, name: "A".into() }),
                members: 1,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            })
        });
        let (created, memberships) = register_founder(&port, Some("Acme"), || async { Ok(user()) }).await.unwrap();
        assert_eq!(created.id, 7);
        assert_eq!(memberships, vec![Membership { id: 3, name: "Acme".into(), role: ADMIN.into() }]);
    }
}
