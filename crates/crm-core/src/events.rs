//! Events: meetings and appointments in the calendar, from a start to a later end.

use crate::error::Result;
use crate::fields::{Fields, MAX_FREE_TEXT, Sent};
use crate::records::Resource;
use chrono::{DateTime, Utc};
use kernel::{FilterKind, FilterSpec, ListSpec, Ref};

const MAX_TITLE: usize = 255;

/// An event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub start_date: DateTime<Utc>,
    pub end_date: DateTime<Utc>,
    pub location: Option<String>,
    pub owner: Option<Ref>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventInput {
    pub title: Sent<String>,
    pub description: Sent<String>,
    pub start_date: Sent<DateTime<Utc>>,
    pub end_date: Sent<DateTime<Utc>>,
    pub location: Sent<String>,
    pub owner: Sent<i64>,
}

/// A checked new event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    pub title: String,
    pub description: Option<String>,
    pub start_date: DateTime<Utc>,
    pub end_date: DateTime<Utc>,
    pub location: Option<String>,
    pub owner_id: Option<i64>,
}

/// A checked change; the store checks the end against the start it results in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub start_date: Option<DateTime<Utc>>,
    pub end_date: Option<DateTime<Utc>>,
    pub location: Option<Option<String>>,
    pub owner_id: Option<Option<i64>>,
}

/// The message when an event would end before it starts.
pub const END_AFTER_START: &str = "end_date must be after start_date.";

/// The event record kind.
pub struct Events;

fn instant(f: &mut Fields, field: &str, value: &Sent<DateTime<Utc>>, required: bool) -> Option<DateTime<Utc>> {
    match value {
        Some(Some(t)) => Some(*t),
        Some(None) => {
            f.error(field, "This field may not be null.");
            None
        }
        None => {
            if required {
                f.error(field, "This field is required.");
            }
            None
        }
    }
}

impl Resource for Events {
    type Record = Event;
    type Input = EventInput;
    type Draft = EventDraft;
    type Changes = EventChanges;
    const NAME: &'static str = "Event";
    const LIST: ListSpec = ListSpec {
        filters: &[
            FilterSpec { name: "owner", kind: FilterKind::Id, about: "Owner's user id" },
            FilterSpec {
                name: "start_date",
                kind: FilterKind::Instant,
                about: "With end_date: events overlapping the range (alone: ending after it)",
            },
            FilterSpec {
                name: "end_date",
                kind: FilterKind::Instant,
                about: "With start_date: events overlapping the range (alone: starting before it)",
            },
        ],
        ordering: &["start_date", "end_date", "created_at", "updated_at", "title"],
        default_ordering: ("created_at", true),
        search: "title, description",
    };

    fn draft(input: EventInput, owner: i64) -> Result<EventDraft> {
        let mut f = Fields::new();
        let title = f.required_text("title", &input.title, MAX_TITLE, true);
        let description = f.text("description", &input.description, MAX_FREE_TEXT).flatten();
        let start = instant(&mut f, "start_date", &input.start_date, true);
        let end = instant(&mut f, "end_date", &input.end_date, true);
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            f.error("end_date", END_AFTER_START);
        }
        let location = f.text("location", &input.location, 255).flatten();
        let owner_id = f.id("owner", &input.owner).flatten();
        f.finish()?;
        Ok(EventDraft {
            title: title.unwrap_or_default(),
            description,
            start_date: start.unwrap_or_default(),
            end_date: end.unwrap_or_default(),
            location,
            owner_id: owner_id.or(Some(owner)),
        })
    }

    fn changes(input: EventInput, replace: bool) -> Result<EventChanges> {
        let mut f = Fields::new();
        let changes = EventChanges {
            title: f.required_text("title", &input.title, MAX_TITLE, replace),
            description: f.text("description", &input.description, MAX_FREE_TEXT),
            start_date: instant(&mut f, "start_date", &input.start_date, replace),
            end_date: instant(&mut f, "end_date", &input.end_date, replace),
            location: f.text("location", &input.location, 255),
            owner_id: f.id("owner", &input.owner),
        };
        if let (Some(s), Some(e)) = (changes.start_date, changes.end_date)
            && e <= s
        {
            f.error("end_date", END_AFTER_START);
        }
        f.finish()?;
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_comes_after_the_start() {
        let t = |s: &str| Some(Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)));
        let input = |start, end| EventInput {
            title: Some(Some("Team Meeting".into())),
            start_date: start,
            end_date: end,
            ..Default::default()
        };
        assert!(Events::draft(input(t("2024-01-22T09:00:00Z"), t("2024-01-22T10:00:00Z")), 1).is_ok());
        assert!(Events::draft(input(t("2024-01-22T10:00:00Z"), t("2024-01-22T09:00:00Z")), 1).is_err());
        assert!(Events::draft(input(None, None), 1).is_err());
    }
}
