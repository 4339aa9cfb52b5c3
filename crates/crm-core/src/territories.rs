//! Territories: named regions accounts and leads belong to.

use crate::error::{CrmError, Result};
use crate::fields::{Fields, MAX_FREE_TEXT, Sent};
use crate::records::Resource;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{FilterKind, FilterSpec, ListSpec, Ref};
use management_core::{Permission, Principal};

/// A territory.
#[derive(Debug, Clone, PartialEq)]
pub struct Territory {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TerritoryInput {
    pub name: Sent<String>,
    pub description: Sent<String>,
    pub is_active: Sent<bool>,
}

/// A checked new territory.
#[derive(Debug, Clone, PartialEq)]
pub struct TerritoryDraft {
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
}

/// A checked change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TerritoryChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub is_active: Option<bool>,
}

/// Longest territory name.
pub const MAX_NAME: usize = 100;

/// The territory record kind.
pub struct Territories;

impl Resource for Territories {
    type Record = Territory;
    type Input = TerritoryInput;
    type Draft = TerritoryDraft;
    type Changes = TerritoryChanges;
    const NAME: &'static str = "Territory";
    const LIST: ListSpec = ListSpec {
        filters: &[FilterSpec { name: "is_active", kind: FilterKind::Bool, about: "Active or not" }],
        ordering: &["name", "created_at", "updated_at"],
        default_ordering: ("created_at", true),
        search: "name, description",
    };

    fn draft(input: TerritoryInput, _owner: i64) -> Result<TerritoryDraft> {
        let mut f = Fields::new();
        let is_active = f.present("is_active", input.is_active, false).unwrap_or(true);
        let name = f.required_text("name", &input.name, MAX_NAME, true);
        let description = f.text("description", &input.description, MAX_FREE_TEXT).flatten();
        f.finish()?;
        Ok(TerritoryDraft { name: name.unwrap_or_default(), description, is_active })
    }

    fn changes(input: TerritoryInput, replace: bool) -> Result<TerritoryChanges> {
        let mut f = Fields::new();
        let is_active = f.present("is_active", input.is_active, false);
        let name = f.required_text("name", &input.name, MAX_NAME, replace);
        let description = f.text("description", &input.description, MAX_FREE_TEXT);
        f.finish()?;
        Ok(TerritoryChanges { name, description, is_active })
    }
}

/// Assigning accounts to a territory.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TerritoryAssignments: Send + Sync {
    /// In one transaction, sets the territory of every account of `account_ids`, or of none:
    /// ids that name no live account are returned and nothing changes. `None` when the
    /// territory is not a live one.
    async fn assign(&self, territory_id: i64, account_ids: Vec<i64>) -> Result<Option<AssignOutcome>>;
}

/// What an assignment did.
#[derive(Debug, Clone, PartialEq)]
pub enum AssignOutcome {
    Assigned {
        count: u64,
        territory: Ref,
    },
    /// These ids name no live account; nothing was assigned.
    Unknown(Vec<i64>),
}

/// Assigns accounts to a territory (`crm.write`): all of them in one transaction, or none.
pub async fn assign_accounts(
    by: &Principal,
    port: &dyn TerritoryAssignments,
    territory_id: i64,
    account_ids: Vec<i64>,
) -> Result<(u64, Ref)> {
    by.require(Permission::CrmWrite)?;
    if account_ids.is_empty() {
        return Err(CrmError::field("account_ids", "This list may not be empty."));
    }
    if account_ids.len() > 1000 {
        return Err(CrmError::field("account_ids", "At most 1000 accounts at once."));
    }
    let mut ids = account_ids;
    ids.sort_unstable();
    ids.dedup();
    match port.assign(territory_id, ids).await? {
        None => Err(CrmError::NotFound(format!("Territory {territory_id} not found."))),
        Some(AssignOutcome::Assigned { count, territory }) => Ok((count, territory)),
        Some(AssignOutcome::Unknown(ids)) => {
            let list: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
            Err(CrmError::field("account_ids", format!("No live account has the id(s): {}.", list.join(", "))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(permissions: &[Permission]) -> Principal {
        Principal {
            user_id: 1,
            role: "member".into(),
            permissions: permissions.to_vec(),
            jti: "j".into(),
            session_id: "s".into(),
            expires_at: 0,
        }
    }

    #[test]
    fn names_are_required_and_bounded() {
        let draft = Territories::draft(TerritoryInput { name: Some(Some(" North ".into())), ..Default::default() }, 1);
        assert_eq!(draft.unwrap().name, "North");
        assert!(Territories::draft(TerritoryInput::default(), 1).is_err());
        assert!(Territories::changes(TerritoryInput::default(), true).is_err(), "PUT needs the name");
        assert!(Territories::changes(TerritoryInput::default(), false).is_ok(), "PATCH does not");
        let long = TerritoryInput { name: Some(Some("x".repeat(101))), ..Default::default() };
        assert!(Territories::draft(long, 1).is_err());
    }

    #[tokio::test]
    async fn assignment_is_all_or_nothing_and_names_unknown_ids() {
        let mut port = MockTerritoryAssignments::new();
        port.expect_assign()
            .withf(|t, ids| *t == 3 && ids == &[1, 2])
            .returning(|_, _| Ok(Some(AssignOutcome::Unknown(vec![2]))));
        let by = principal(&[Permission::CrmWrite]);
        let err = assign_accounts(&by, &port, 3, vec![2, 1, 2]).await.unwrap_err();
        assert!(matches!(err, CrmError::Validation { ref fields, .. } if fields["account_ids"][0].contains('2')));
        let reader = principal(&[Permission::CrmRead]);
        assert!(matches!(assign_accounts(&reader, &port, 3, vec![1]).await, Err(CrmError::Forbidden(_))));
    }
}
