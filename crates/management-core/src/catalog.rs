//! The customer-status and role catalogs that the CEO manages.

use crate::error::{ManagementError, Result};
use chrono::{DateTime, Utc};
use kernel::{FieldErrors, push_error};

/// A customer status of the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    /// `#RGB` or `#RRGGBB`.
    pub color: String,
    pub order: i32,
    /// What the CRM v1 projection shows for customers with this status.
    pub group: StatusGroup,
    pub is_active: bool,
    pub is_system: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The three customer statuses the CRM v1 contract and UI know; every catalog status
/// belongs to one of them, and the v1 projection shows the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StatusGroup {
    Active,
    Potential,
    Waiting,
}

impl StatusGroup {
    pub const ALL: [StatusGroup; 3] = [StatusGroup::Active, StatusGroup::Potential, StatusGroup::Waiting];

    /// `active`, `potential` or `waiting`.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusGroup::Active => "active",
            StatusGroup::Potential => "potential",
            StatusGroup::Waiting => "waiting",
        }
    }

    /// Parses a group name (case-insensitive); `None` for anything else.
    pub fn parse(raw: &str) -> Option<StatusGroup> {
        let raw = raw.trim();
        StatusGroup::ALL.into_iter().find(|g| g.as_str().eq_ignore_ascii_case(raw))
    }
}

/// Group of a status created without one.
pub const DEFAULT_GROUP: StatusGroup = StatusGroup::Potential;

/// Fields of a new status or role (`color`, `order` and `group` apply to statuses only).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewEntry {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub color: Option<String>,
    pub order: Option<i32>,
    /// The v1 group name (`active`, `potential`, `waiting`).
    pub group: Option<String>,
    pub is_active: Option<bool>,
}

/// A change of a status or role; `name` and `is_system` cannot change (they may be sent
/// unchanged, as a client echoing the whole object does).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryPatch {
    pub name: Option<String>,
    pub is_system: Option<bool>,
    pub display_name: Option<String>,
    pub description: Option<Option<String>>,
    pub color: Option<String>,
    pub order: Option<i32>,
    /// The v1 group name; validation leaves it canonical (`active`, `potential`, `waiting`).
    pub group: Option<String>,
    pub is_active: Option<bool>,
}

impl EntryPatch {
    /// Whether the patch changes nothing that may change.
    pub fn is_empty(&self) -> bool {
        EntryPatch { name: None, is_system: None, ..self.clone() } == EntryPatch::default()
    }

    /// Refuses a different `name` or `is_system` than the entry's, then drops them.
    pub fn without_identity(mut self, name: &str, is_system: bool) -> Result<EntryPatch> {
        if let Some(given) = self.name.take()
            && normalize_name(&given) != name
        {
            return Err(ManagementError::field("name", "name cannot be changed."));
        }
        if let Some(given) = self.is_system.take()
            && given != is_system
        {
            return Err(ManagementError::field("is_system", "is_system cannot be changed."));
        }
        Ok(self)
    }
}

/// A validated new entry.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryDraft {
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub color: String,
    pub order: i32,
    pub group: StatusGroup,
    pub is_active: bool,
}

/// Colour given to a status created without one.
pub const DEFAULT_COLOR: &str = "#6B7280";

/// `  Under Negotiation ` → `under_negotiation`.
pub fn normalize_name(raw: &str) -> String {
    raw.trim().to_lowercase().split_whitespace().collect::<Vec<_>>().join("_")
}

/// Whether `color` is `#RGB` or `#RRGGBB`.
pub fn is_color(color: &str) -> bool {
    let hex = color.strip_prefix('#').unwrap_or("");
    (hex.len() == 3 || hex.len() == 6) && hex.chars().all(|c| c.is_ascii_hexdigit())
}

fn check_name(name: &str, errors: &mut FieldErrors) {
    if name.is_empty() {
        push_error(errors, "name", "name is required.");
    } else if name.len() > 50 {
        push_error(errors, "name", "name must be at most 50 characters.");
    } else if !name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
        push_error(errors, "name", "name may hold letters, digits, '_' and '-' only.");
    }
}

fn check_display(display: &str, errors: &mut FieldErrors) {
    if display.is_empty() {
        push_error(errors, "display_name", "display_name cannot be empty.");
    } else if display.chars().count() > 100 {
        push_error(errors, "display_name", "display_name must be at most 100 characters.");
    }
}

fn check_color(color: &str, errors: &mut FieldErrors) {
    if !is_color(color) {
        push_error(errors, "color", format!("color '{color}' must be #RGB or #RRGGBB."));
    }
}

/// Parses a group name, or notes why not.
pub fn parse_group(raw: &str, errors: &mut FieldErrors) -> Option<StatusGroup> {
    let group = StatusGroup::parse(raw);
    if group.is_none() {
        push_error(errors, "v1_group", format!("v1_group '{}' must be active, potential or waiting.", raw.trim()));
    }
    group
}

/// Longest description of a status or role.
pub const MAX_DESCRIPTION: usize = 1000;

fn description(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|d| !d.is_empty()).map(str::to_string)
}

fn check_description(value: Option<&str>, errors: &mut FieldErrors) {
    if value.is_some_and(|d| d.trim().chars().count() > MAX_DESCRIPTION) {
        push_error(errors, "description", format!("description must be at most {MAX_DESCRIPTION} characters."));
    }
}

fn title_case(name: &str) -> String {
    name.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl NewEntry {
    /// Normalises the name, defaults the display name from it, checks the colour.
    pub fn validate(&self) -> Result<EntryDraft> {
        let mut errors = FieldErrors::new();
        let name = normalize_name(self.name.as_deref().unwrap_or_default());
        check_name(&name, &mut errors);
        let display_name =
            self.display_name.as_deref().map(str::trim).map(str::to_string).unwrap_or_else(|| title_case(&name));
        check_display(&display_name, &mut errors);
        let color = self.color.as_deref().map(str::trim).unwrap_or(DEFAULT_COLOR).to_string();
        check_color(&color, &mut errors);
        check_description(self.description.as_deref(), &mut errors);
        let group = match &self.group {
            Some(raw) => parse_group(raw, &mut errors).unwrap_or(DEFAULT_GROUP),
            None => DEFAULT_GROUP,
        };
        if let Some(err) = ManagementError::from_fields(errors) {
            return Err(err);
        }
        Ok(EntryDraft {
            name,
            display_name,
            description: description(self.description.as_deref()),
            color,
            order: self.order.unwrap_or(0),
            group,
            is_active: self.is_active.unwrap_or(true),
        })
    }
}

impl EntryPatch {
    /// Trims and checks the given fields.
    pub fn validate(mut self) -> Result<EntryPatch> {
        if self.is_empty() {
            return Err(ManagementError::Validation {
                message: "Nothing to update: give at least one field.".into(),
                fields: FieldErrors::new(),
            });
        }
        let mut errors = FieldErrors::new();
        if let Some(d) = &mut self.display_name {
            *d = d.trim().to_string();
            check_display(d, &mut errors);
        }
        if let Some(c) = &mut self.color {
            *c = c.trim().to_string();
            check_color(c, &mut errors);
        }
        check_description(self.description.as_ref().and_then(|d| d.as_deref()), &mut errors);
        self.description = self.description.map(|d| description(d.as_deref()));
        if let Some(g) = &mut self.group {
            *g = parse_group(g, &mut errors).map_or_else(|| g.clone(), |g| g.as_str().to_string());
        }
        if let Some(err) = ManagementError::from_fields(errors) {
            return Err(err);
        }
        Ok(self)
    }
}

/// What deleting a catalog entry did.
#[derive(Debug, Clone, PartialEq)]
pub enum DeleteOutcome {
    Deleted,
    NotFound,
    /// Still used by this many records; nothing was deleted.
    InUse(u64),
    /// The reassignment target is missing or inactive.
    BadTarget,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_and_colours_check() {
        assert_eq!(normalize_name("  Under   Negotiation "), "under_negotiation");
        assert!(
            is_color("#FFF") && is_color("#ff8888") && !is_color("FF8888") && !is_color("#GGG") && !is_color("#FFFF")
        );
        let draft = NewEntry { name: Some("On Hold".into()), color: Some("#FFA500".into()), ..Default::default() }
            .validate()
            .unwrap();
        assert_eq!((draft.name.as_str(), draft.display_name.as_str()), ("on_hold", "On Hold"));
        assert!(
            NewEntry { name: Some("x".into()), color: Some("orange".into()), ..Default::default() }.validate().is_err()
        );
        assert!(EntryPatch::default().validate().is_err());
        assert_eq!(draft.group, StatusGroup::Potential);
        let waiting = NewEntry { name: Some("x".into()), group: Some(" Waiting ".into()), ..Default::default() };
        assert_eq!(waiting.validate().unwrap().group, StatusGroup::Waiting);
        assert!(
            NewEntry { name: Some("x".into()), group: Some("vip".into()), ..Default::default() }.validate().is_err()
        );
    }
}
