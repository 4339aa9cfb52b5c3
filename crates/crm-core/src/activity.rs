//! Activities: calls, e-mails, meetings, deal notes and people's notes, about an account (the v1 customer), a
//! contact, a lead or a deal. One record, shown by the CRM v1 surface (`type`, `description`,
//! `customerId`) and the REST surface (`subject`, `activity_type`, `status`, `due_date`, ...).

use crate::error::{CrmError, Result};
use crate::fields::{Fields, MAX_FREE_TEXT, Sent};
use crate::records::Resource;
use chrono::{DateTime, Utc};
use kernel::{FilterKind, FilterSpec, FilterValue, ListQuery, ListSpec, PageRequest, Ref};

/// The kind of an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityType {
    Call,
    Email,
    Meeting,
    Deal,
    /// A person's note about the record (the CIMS workspace's customer notes).
    Note,
}

impl ActivityType {
    pub const ALL: [ActivityType; 5] =
        [ActivityType::Call, ActivityType::Email, ActivityType::Meeting, ActivityType::Deal, ActivityType::Note];

    /// The stored and v1 name: `call`, `email`, `meeting`, `deal`.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityType::Call => "call",
            ActivityType::Email => "email",
            ActivityType::Meeting => "meeting",
            ActivityType::Deal => "deal",
            ActivityType::Note => "note",
        }
    }

    /// The REST name: `Call`, `Email`, `Meeting`, `Deal`.
    pub fn label(self) -> &'static str {
        match self {
            ActivityType::Call => "Call",
            ActivityType::Email => "Email",
            ActivityType::Meeting => "Meeting",
            ActivityType::Deal => "Deal",
            ActivityType::Note => "Note",
        }
    }

    /// Parses either name, case-insensitively.
    pub fn parse(raw: &str) -> Option<ActivityType> {
        ActivityType::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(raw.trim()))
    }
}

/// The REST names of the activity types.
pub const ACTIVITY_TYPES: [&str; 5] = ["Call", "Email", "Meeting", "Deal", "Note"];
/// Where an activity stands.
pub const ACTIVITY_STATUSES: [&str; 5] = ["Not Started", "In Progress", "Completed", "Deferred", "Cancelled"];
/// The status of an activity logged after the fact (v1, calls).
pub const DONE: &str = "Completed";
const MAX_SUBJECT: usize = 255;

/// An activity with its related records.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: i64,
    pub kind: ActivityType,
    pub subject: Option<String>,
    pub description: String,
    pub status: String,
    pub due_date: Option<DateTime<Utc>>,
    /// The account (the v1 customer).
    pub account: Option<Ref>,
    pub contact: Option<Ref>,
    pub lead: Option<Ref>,
    pub deal: Option<Ref>,
    pub owner: Option<Ref>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How long a subject made from a description may be, in characters.
const HEADLINE_CHARS: usize = 80;

impl Activity {
    /// The subject, or for an activity logged without one (the v1 surface has none) the first
    /// line of its description, cut to 80 characters, else the type's name.
    pub fn headline(&self) -> String {
        if let Some(subject) = self.subject.as_deref().filter(|s| !s.trim().is_empty()) {
            return subject.to_string();
        }
        let line = self.description.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
        if line.is_empty() {
            return self.kind.label().to_string();
        }
        match line.char_indices().nth(HEADLINE_CHARS) {
            Some((cut, _)) => format!("{}…", line[..cut].trim_end()),
            None => line.to_string(),
        }
    }
}

/// The fields a REST caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityInput {
    pub subject: Sent<String>,
    pub activity_type: Sent<String>,
    pub description: Sent<String>,
    pub due_date: Sent<DateTime<Utc>>,
    pub status: Sent<String>,
    pub owner: Sent<i64>,
    pub account: Sent<i64>,
    pub contact: Sent<i64>,
    pub lead: Sent<i64>,
    pub deal: Sent<i64>,
}

/// A checked new activity.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityDraft {
    pub kind: ActivityType,
    pub subject: Option<String>,
    pub description: String,
    pub status: &'static str,
    pub due_date: Option<DateTime<Utc>>,
    pub owner_id: Option<i64>,
    pub account_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub lead_id: Option<i64>,
    pub deal_id: Option<i64>,
}

/// A checked change (`Some(None)` clears).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityChanges {
    pub kind: Option<ActivityType>,
    pub subject: Option<Option<String>>,
    pub description: Option<String>,
    pub status: Option<&'static str>,
    pub due_date: Option<Option<DateTime<Utc>>>,
    pub owner_id: Option<Option<i64>>,
    pub account_id: Option<Option<i64>>,
    pub contact_id: Option<Option<i64>>,
    pub lead_id: Option<Option<i64>>,
    pub deal_id: Option<Option<i64>>,
}

/// The activity record kind.
pub struct Activities;

fn kind(f: &mut Fields, value: &Sent<String>) -> Option<ActivityType> {
    f.choice("activity_type", value, &ACTIVITY_TYPES).flatten().and_then(ActivityType::parse)
}

impl Resource for Activities {
    type Record = Activity;
    type Input = ActivityInput;
    type Draft = ActivityDraft;
    type Changes = ActivityChanges;
    const NAME: &'static str = "Activity";
    const LIST: ListSpec = ListSpec {
        filters: &[
            FilterSpec {
                name: "activity_type",
                kind: FilterKind::Choice(&ACTIVITY_TYPES),
                about: "Call, Email, Meeting or Deal",
            },
            FilterSpec {
                name: "status",
                kind: FilterKind::Choice(&ACTIVITY_STATUSES),
                about: "Not Started, In Progress, Completed, Deferred or Cancelled",
            },
            FilterSpec { name: "owner", kind: FilterKind::Id, about: "Owner's user id" },
            FilterSpec { name: "account", kind: FilterKind::Id, about: "Account id" },
            FilterSpec { name: "contact", kind: FilterKind::Id, about: "Contact id" },
            FilterSpec { name: "lead", kind: FilterKind::Id, about: "Lead id" },
            FilterSpec { name: "deal", kind: FilterKind::Id, about: "Deal id" },
        ],
        ordering: &["created_at", "updated_at", "due_date", "subject"],
        default_ordering: ("created_at", true),
        search: "subject, description",
    };

    fn draft(input: ActivityInput, owner: i64) -> Result<ActivityDraft> {
        let mut f = Fields::new();
        let subject = f.required_text("subject", &input.subject, MAX_SUBJECT, true);
        let kind = kind(&mut f, &input.activity_type);
        if input.activity_type.is_none() {
            f.error("activity_type", "This field is required.");
        }
        let description = f.text("description", &input.description, MAX_FREE_TEXT).flatten().unwrap_or_default();
        let status = f.choice("status", &input.status, &ACTIVITY_STATUSES);
        let status = f.present("status", status, false).unwrap_or("Not Started");
        let refs = [
            f.id("owner", &input.owner),
            f.id("account", &input.account),
            f.id("contact", &input.contact),
            f.id("lead", &input.lead),
            f.id("deal", &input.deal),
        ];
        f.finish()?;
        let [owner_id, account_id, contact_id, lead_id, deal_id] = refs.map(Option::flatten);
        Ok(ActivityDraft {
            kind: kind.unwrap_or(ActivityType::Call),
            subject,
            description,
            status,
            due_date: input.due_date.flatten(),
            owner_id: owner_id.or(Some(owner)),
            account_id,
            contact_id,
            lead_id,
            deal_id,
        })
    }

    fn changes(input: ActivityInput, replace: bool) -> Result<ActivityChanges> {
        let mut f = Fields::new();
        let subject = f.required_text("subject", &input.subject, MAX_SUBJECT, replace).map(Some);
        let kind = kind(&mut f, &input.activity_type);
        if replace && input.activity_type.is_none() {
            f.error("activity_type", "This field is required.");
        }
        let description = f.text("description", &input.description, MAX_FREE_TEXT).map(Option::unwrap_or_default);
        let status = f.choice("status", &input.status, &ACTIVITY_STATUSES);
        let status = f.present("status", status, false);
        let changes = ActivityChanges {
            kind,
            subject,
            description,
            status,
            due_date: input.due_date,
            owner_id: f.id("owner", &input.owner),
            account_id: f.id("account", &input.account),
            contact_id: f.id("contact", &input.contact),
            lead_id: f.id("lead", &input.lead),
            deal_id: f.id("deal", &input.deal),
        };
        f.finish()?;
        Ok(changes)
    }
}

/// What a v1 caller gives to log an activity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewActivity {
    pub kind: Option<String>,
    pub description: Option<String>,
    pub customer_id: Option<i64>,
}

impl NewActivity {
    /// Checks a v1 activity: a type, a description and a customer; it is logged done.
    pub fn validate(&self, user_id: Option<i64>) -> Result<ActivityDraft> {
        let mut f = Fields::new();
        let kind = match self.kind.as_deref() {
            None => {
                f.error("type", "type is required.");
                None
            }
            Some(raw) => {
                let parsed = ActivityType::parse(raw);
                if parsed.is_none() {
                    f.error("type", format!("Unknown type '{raw}'; use call, email, meeting or deal."));
                }
                parsed
            }
        };
        let description = self.description.as_deref().map(str::trim).unwrap_or_default();
        if description.is_empty() {
            f.error("description", "Description is required.");
        } else if description.chars().count() > MAX_FREE_TEXT {
            f.error("description", format!("Description must be at most {MAX_FREE_TEXT} characters."));
        }
        if self.customer_id.is_none() {
            f.error("customerId", "customerId is required.");
        }
        f.finish()?;
        Ok(logged(kind.unwrap_or(ActivityType::Call), description.to_string(), self.customer_id, user_id))
    }
}

/// An activity logged after the fact (v1, finished calls): done, about an account.
pub fn logged(
    kind: ActivityType,
    description: String,
    account_id: Option<i64>,
    owner_id: Option<i64>,
) -> ActivityDraft {
    ActivityDraft {
        kind,
        subject: None,
        description,
        status: DONE,
        due_date: None,
        owner_id,
        account_id,
        contact_id: None,
        lead_id: None,
        deal_id: None,
    }
}

/// Filters of the v1 activity list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityFilter {
    pub kind: Option<ActivityType>,
    pub customer_id: Option<i64>,
    /// A filter value outside its enumeration was asked for: no activity matches.
    pub matches_nothing: bool,
}

impl ActivityFilter {
    /// The v1 filter as a list query: newest first.
    pub fn query(&self, page: PageRequest) -> ListQuery {
        let mut filters = Vec::new();
        if let Some(kind) = self.kind {
            filters.push(("activity_type", FilterValue::Text(kind.label().into())));
        }
        if let Some(id) = self.customer_id {
            filters.push(("account", FilterValue::Id(id)));
        }
        ListQuery {
            search: None,
            filters,
            ordering: Activities::LIST.default_ordering,
            created_after: None,
            created_before: None,
            page,
        }
    }
}

/// Refuses a missing activity.
pub fn activity_not_found(id: i64) -> CrmError {
    CrmError::NotFound(format!("Activity {id} not found."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_validation() {
        let ok = NewActivity { kind: Some("meeting".into()), description: Some(" Met ".into()), customer_id: Some(2) };
        let draft = ok.validate(Some(1)).unwrap();
        assert_eq!((draft.description.as_str(), draft.status, draft.account_id), ("Met", DONE, Some(2)));
        let CrmError::Validation { fields, .. } =
            NewActivity { kind: Some("fax".into()), ..Default::default() }.validate(None).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(fields.len(), 3);
    }

    #[test]
    fn rest_validation_defaults_the_owner_and_status() {
        let input = ActivityInput {
            subject: Some(Some("Follow-up Call".into())),
            activity_type: Some(Some("call".into())),
            account: Some(Some(1)),
            ..Default::default()
        };
        let draft = Activities::draft(input, 9).unwrap();
        assert_eq!((draft.kind, draft.status, draft.owner_id), (ActivityType::Call, "Not Started", Some(9)));
        let bad = ActivityInput {
            activity_type: Some(Some("Fax".into())),
            status: Some(Some("Done".into())),
            ..Default::default()
        };
        let Err(CrmError::Validation { fields, .. }) = Activities::draft(bad, 1) else { panic!() };
        assert!(
            fields.contains_key("subject") && fields.contains_key("activity_type") && fields.contains_key("status")
        );
    }

    #[test]
    fn an_activity_without_a_subject_is_headed_by_its_description() {
        let at = chrono::Utc::now();
        let activity = |subject: Option<&str>, description: &str| Activity {
            id: 1,
            kind: ActivityType::Meeting,
            subject: subject.map(str::to_string),
            description: description.into(),
            status: DONE.into(),
            due_date: None,
            account: None,
            contact: None,
            lead: None,
            deal: None,
            owner: None,
            created_at: at,
            updated_at: at,
        };
        assert_eq!(activity(Some("Kick-off"), "Met the team").headline(), "Kick-off");
        assert_eq!(activity(None, "\n  Met the team \nthen lunch").headline(), "Met the team");
        assert_eq!(activity(Some("  "), "").headline(), "Meeting");
        let long = "ü".repeat(100);
        assert_eq!(activity(None, &long).headline(), format!("{}…", "ü".repeat(80)));
    }
}
