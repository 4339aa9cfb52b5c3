//! Activities: calls, e-mails, meetings and deal notes logged against a customer.

use crate::deal::CustomerRef;
use crate::error::{CrmError, Result};
use chrono::{DateTime, Utc};
use kernel::{FieldErrors, push_error};

/// The kind of an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityType {
    Call,
    Email,
    Meeting,
    Deal,
}

impl ActivityType {
    pub const ALL: [ActivityType; 4] =
        [ActivityType::Call, ActivityType::Email, ActivityType::Meeting, ActivityType::Deal];

    pub fn as_str(self) -> &'static str {
        match self {
            ActivityType::Call => "call",
            ActivityType::Email => "email",
            ActivityType::Meeting => "meeting",
            ActivityType::Deal => "deal",
        }
    }

    pub fn parse(raw: &str) -> Option<ActivityType> {
        ActivityType::ALL.into_iter().find(|t| t.as_str() == raw.trim())
    }
}

/// An activity as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: i64,
    pub kind: ActivityType,
    pub description: String,
    pub customer_id: i64,
    pub user_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// An activity with its customer embedded.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityView {
    pub activity: Activity,
    pub customer: Option<CustomerRef>,
}

/// What a caller gives to log an activity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewActivity {
    pub kind: Option<String>,
    pub description: Option<String>,
    pub customer_id: Option<i64>,
}

/// Validated fields of a new activity.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityDraft {
    pub kind: ActivityType,
    pub description: String,
    pub customer_id: i64,
    pub user_id: Option<i64>,
}

const MAX_DESCRIPTION: usize = 10_000;

impl NewActivity {
    pub fn validate(&self, user_id: Option<i64>) -> Result<ActivityDraft> {
        let mut errors = FieldErrors::new();
        let kind = match self.kind.as_deref() {
            None => {
                push_error(&mut errors, "type", "type is required.");
                None
            }
            Some(raw) => {
                let parsed = ActivityType::parse(raw);
                if parsed.is_none() {
                    push_error(&mut errors, "type", format!("Unknown type '{raw}'; use call, email, meeting or deal."));
                }
                parsed
            }
        };
        let description = self.description.as_deref().map(str::trim).unwrap_or_default();
        if description.is_empty() {
            push_error(&mut errors, "description", "Description is required.");
        } else if description.chars().count() > MAX_DESCRIPTION {
            push_error(
                &mut errors,
                "description",
                format!("Description must be at most {MAX_DESCRIPTION} characters."),
            );
        }
        if self.customer_id.is_none() {
            push_error(&mut errors, "customerId", "customerId is required.");
        }
        CrmError::check(errors)?;
        Ok(ActivityDraft {
            kind: kind.unwrap_or(ActivityType::Call),
            description: description.to_string(),
            customer_id: self.customer_id.unwrap_or_default(),
            user_id,
        })
    }
}

/// Filters of the activity list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityFilter {
    pub kind: Option<ActivityType>,
    pub customer_id: Option<i64>,
    /// A filter value outside its enumeration was asked for: no activity matches.
    pub matches_nothing: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let ok = NewActivity { kind: Some("meeting".into()), description: Some(" Met ".into()), customer_id: Some(2) };
        assert_eq!(ok.validate(Some(1)).unwrap().description, "Met");
        let CrmError::Validation { fields, .. } =
            NewActivity { kind: Some("fax".into()), ..Default::default() }.validate(None).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(fields.len(), 3);
    }
}
