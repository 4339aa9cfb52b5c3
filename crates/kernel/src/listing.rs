//! Lists as the REST surface queries them (Django REST conventions): `page` / `page_size`,
//! `search`, the filters a resource declares, `ordering` over a whitelist and
//! `created_after` / `created_before`. A resource describes what it accepts in a
//! [`ListSpec`]; [`ListSpec::parse`] turns query parameters into a checked [`ListQuery`] or a
//! validation error naming each bad parameter and what is allowed.

use crate::error::DomainError;
use crate::page::PageRequest;
use crate::{FieldErrors, push_error};
use chrono::{DateTime, NaiveDate, Utc};

/// Default and largest `page_size`.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;
/// Highest page number accepted (keeps every offset within the database's integers).
pub const MAX_PAGE: u64 = 1_000_000;

/// How a filter's value reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// The id of a related record.
    Id,
    /// Text compared exactly.
    Text,
    /// `true` or `false`, any case.
    Bool,
    /// One of these values, compared case-insensitively and stored as written here.
    Choice(&'static [&'static str]),
    /// A date or an instant (`YYYY-MM-DD` or ISO 8601).
    Instant,
}

/// A filter a list accepts, by its query-parameter name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterSpec {
    pub name: &'static str,
    pub kind: FilterKind,
    /// What the documentation says about it.
    pub about: &'static str,
}

/// What a list accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListSpec {
    pub filters: &'static [FilterSpec],
    /// The fields `ordering` may name (each also with a leading `-`).
    pub ordering: &'static [&'static str],
    /// The order when none is asked for: newest first.
    pub default_ordering: (&'static str, bool),
    /// What `search` looks in (empty when the list has no search).
    pub search: &'static str,
}

/// A checked filter value.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Id(i64),
    Text(String),
    Bool(bool),
    Instant(DateTime<Utc>),
}

/// A checked list query.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Trimmed, non-empty.
    pub search: Option<String>,
    /// Each filter given, by its name in the spec, in the spec's order.
    pub filters: Vec<(&'static str, FilterValue)>,
    /// Field and whether descending; ties are broken by id in the same direction.
    pub ordering: (&'static str, bool),
    /// `created_at >= created_after`.
    pub created_after: Option<DateTime<Utc>>,
    /// `created_at < created_before` (a plain date includes that whole day).
    pub created_before: Option<DateTime<Utc>>,
    pub page: PageRequest,
}

impl ListQuery {
    /// The value of filter `name`, if given.
    pub fn filter(&self, name: &str) -> Option<&FilterValue> {
        self.filters.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// Parses a date (`YYYY-MM-DD`, the start of that day in UTC) or an ISO 8601 instant.
pub fn parse_instant(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return day.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    DateTime::parse_from_rfc3339(raw).ok().map(|t| t.with_timezone(&Utc))
}

fn is_date(raw: &str) -> bool {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").is_ok()
}

/// `true` or `false`, any case (Python sends `True`).
pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

impl ListSpec {
    /// Checks query parameters (`(name, value)` pairs as sent; unknown names are ignored, as
    /// Django REST framework does). Blank values count as absent.
    pub fn parse(&self, params: &[(String, String)]) -> Result<ListQuery, DomainError> {
        let get =
            |name: &str| params.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
        let mut errors = FieldErrors::new();
        let number = |name: &str, errors: &mut FieldErrors| -> Option<u64> {
            let raw = get(name)?;
            let parsed = raw.parse::<u64>().ok();
            if parsed.is_none() {
                push_error(errors, name, "A valid integer is required.");
            }
            parsed
        };
        let page = number("page", &mut errors).unwrap_or(1);
        if !(1..=MAX_PAGE).contains(&page) {
            push_error(&mut errors, "page", format!("page must be between 1 and {MAX_PAGE}."));
        }
        let size = number("page_size", &mut errors).unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            push_error(&mut errors, "page_size", format!("page_size must be between 1 and {MAX_PAGE_SIZE}."));
        }
        let mut filters = Vec::new();
        for spec in self.filters {
            let Some(raw) = get(spec.name) else { continue };
            let value = match spec.kind {
                FilterKind::Id => raw.parse::<i64>().ok().filter(|id| *id > 0).map(FilterValue::Id),
                FilterKind::Text => Some(FilterValue::Text(raw.to_string())),
                FilterKind::Bool => parse_bool(raw).map(FilterValue::Bool),
                FilterKind::Choice(choices) => {
                    choices.iter().find(|c| c.eq_ignore_ascii_case(raw)).map(|c| FilterValue::Text(c.to_string()))
                }
                FilterKind::Instant => parse_instant(raw).map(FilterValue::Instant),
            };
            match value {
                Some(v) => filters.push((spec.name, v)),
                None => push_error(&mut errors, spec.name, filter_message(spec, raw)),
            }
        }
        let ordering = match get("ordering") {
            None => self.default_ordering,
            Some(raw) => {
                let (descending, field) = match raw.strip_prefix('-') {
                    Some(f) => (true, f),
                    None => (false, raw),
                };
                match self.ordering.iter().find(|o| **o == field) {
                    Some(f) => (*f, descending),
                    None => {
                        let allowed = self.ordering.join(", ");
                        push_error(
                            &mut errors,
                            "ordering",
                            format!(
                                "'{raw}' is not an ordering field; use one of {allowed} (prefix - for descending)."
                            ),
                        );
                        self.default_ordering
                    }
                }
            }
        };
        let mut instant = |name: &str, end_of_day: bool| {
            let raw = get(name)?;
            let parsed = parse_instant(raw);
            if parsed.is_none() {
                push_error(&mut errors, name, "Enter a valid date (YYYY-MM-DD) or date-time (ISO 8601).");
            }
            let day_later = end_of_day && is_date(raw);
            parsed.map(|t| if day_later { t + chrono::Duration::days(1) } else { t })
        };
        let created_after = instant("created_after", false);
        let created_before = instant("created_before", true);
        DomainError::check(errors)?;
        Ok(ListQuery {
            search: get("search").filter(|_| !self.search.is_empty()).map(str::to_string),
            filters,
            ordering,
            created_after,
            created_before,
            page: PageRequest::new(page, size),
        })
    }
}

fn filter_message(spec: &FilterSpec, raw: &str) -> String {
    match spec.kind {
        FilterKind::Id => format!("'{raw}' is not a valid id."),
        FilterKind::Bool => format!("'{raw}' is not a boolean; use true or false."),
        FilterKind::Choice(choices) => {
            format!("Select a valid choice. '{raw}' is not one of the available choices: {}.", choices.join(", "))
        }
        FilterKind::Instant => "Enter a valid date (YYYY-MM-DD) or date-time (ISO 8601).".into(),
        FilterKind::Text => format!("'{raw}' is not accepted."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: ListSpec = ListSpec {
        filters: &[
            FilterSpec { name: "account", kind: FilterKind::Id, about: "" },
            FilterSpec { name: "status", kind: FilterKind::Choice(&["Open", "Won", "Lost"]), about: "" },
            FilterSpec { name: "is_active", kind: FilterKind::Bool, about: "" },
        ],
        ordering: &["name", "created_at"],
        default_ordering: ("created_at", true),
        search: "name",
    };

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parses_every_part() {
        let q = SPEC
            .parse(&params(&[
                ("page", "2"),
                ("page_size", "5"),
                ("search", " acme "),
                ("status", "won"),
                ("account", "7"),
                ("ordering", "-name"),
                ("created_after", "2024-01-01"),
                ("created_before", "2024-12-31"),
                ("unknown", "x"),
            ]))
            .unwrap();
        assert_eq!(q.page, PageRequest::new(2, 5));
        assert_eq!(q.search.as_deref(), Some("acme"));
        assert_eq!(q.filter("status"), Some(&FilterValue::Text("Won".into())));
        assert_eq!(q.filter("account"), Some(&FilterValue::Id(7)));
        assert_eq!(q.ordering, ("name", true));
        assert_eq!(q.created_before.unwrap().to_rfc3339(), "2025-01-01T00:00:00+00:00", "the whole last day");
        let defaults = SPEC.parse(&[]).unwrap();
        assert_eq!((defaults.ordering, defaults.page), (("created_at", true), PageRequest::new(1, 20)));
    }

    #[test]
    fn bad_values_name_the_parameter() {
        let err = SPEC
            .parse(&params(&[
                ("page", "0"),
                ("page_size", "1000"),
                ("status", "maybe"),
                ("account", "x"),
                ("is_active", "perhaps"),
                ("ordering", "password"),
                ("created_after", "yesterday"),
            ]))
            .unwrap_err();
        let DomainError::Validation { fields, .. } = err else { panic!() };
        for f in ["page", "page_size", "status", "account", "is_active", "ordering", "created_after"] {
            assert!(fields.contains_key(f), "{f} missing in {fields:?}");
        }
        assert!(fields["ordering"][0].contains("name, created_at"));
    }
}
