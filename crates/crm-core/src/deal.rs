//! Deals: what a customer may buy, worth a decimal amount with two places.

use crate::error::{CrmError, Result};
use chrono::{DateTime, Utc};
use kernel::{FieldErrors, push_error};
use rust_decimal::Decimal;

/// Where a deal stands. `completed` is won (`Won` on the REST surface), `cancelled` lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DealStatus {
    New,
    InProgress,
    Completed,
    Cancelled,
}

impl DealStatus {
    pub const ALL: [DealStatus; 4] =
        [DealStatus::New, DealStatus::InProgress, DealStatus::Completed, DealStatus::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            DealStatus::New => "new",
            DealStatus::InProgress => "in_progress",
            DealStatus::Completed => "completed",
            DealStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(raw: &str) -> Option<DealStatus> {
        DealStatus::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }

    /// Counted as an active deal on the dashboard.
    pub fn is_open(self) -> bool {
        matches!(self, DealStatus::New | DealStatus::InProgress)
    }
}

/// The customer a deal or activity belongs to, as lists embed it.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRef {
    pub id: i64,
    pub name: String,
    pub company: Option<String>,
}

/// A deal as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Deal {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    /// Non-negative, two decimal places.
    pub value: Decimal,
    pub status: DealStatus,
    pub customer_id: i64,
    pub user_id: Option<i64>,
    /// When the deal moved to `completed` (analytics count sales by this time).
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A deal with its customer embedded.
#[derive(Debug, Clone, PartialEq)]
pub struct DealView {
    pub deal: Deal,
    pub customer: Option<CustomerRef>,
}

/// What a caller gives to create a deal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewDeal {
    pub title: Option<String>,
    pub description: Option<String>,
    pub value: Option<Decimal>,
    pub status: Option<String>,
    pub customer_id: Option<i64>,
}

/// A partial change of a deal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DealPatch {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub value: Option<Decimal>,
    pub status: Option<String>,
    pub customer_id: Option<i64>,
}

/// Validated fields of a new deal.
#[derive(Debug, Clone, PartialEq)]
pub struct DealDraft {
    pub title: String,
    pub description: Option<String>,
    pub value: Decimal,
    pub status: DealStatus,
    pub customer_id: i64,
    pub user_id: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A validated change of a deal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DealChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub value: Option<Decimal>,
    pub status: Option<DealStatus>,
    pub customer_id: Option<i64>,
    /// Set when the status moves to or away from `completed`.
    pub closed_at: Option<Option<DateTime<Utc>>>,
}

/// Largest accepted deal value.
pub fn max_value() -> Decimal {
    Decimal::new(99_999_999_999_999, 2)
}

/// Checks a money amount: not negative, at most two decimal places, bounded.
pub fn check_value(value: Decimal, errors: &mut FieldErrors) -> Decimal {
    if value.is_sign_negative() && !value.is_zero() {
        push_error(errors, "value", "Value cannot be negative.");
    } else if value.normalize().scale() > 2 {
        push_error(errors, "value", "Value can have at most two decimal places.");
    } else if value > max_value() {
        push_error(errors, "value", format!("Value cannot exceed {}.", max_value()));
    }
    value.round_dp(2)
}

fn title(value: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let v = value?.trim();
    if v.is_empty() {
        push_error(errors, "title", "Title is required.");
        return None;
    }
    if v.chars().count() > 255 {
        push_error(errors, "title", "Title must be at most 255 characters.");
    }
    Some(v.to_string())
}

/// Longest deal description.
pub const MAX_DESCRIPTION: usize = 10_000;

fn description(value: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    if v.chars().count() > MAX_DESCRIPTION {
        push_error(errors, "description", format!("Description must be at most {MAX_DESCRIPTION} characters."));
    }
    Some(v.to_string())
}

fn status(value: Option<&str>, errors: &mut FieldErrors) -> Option<DealStatus> {
    let raw = value?;
    let parsed = DealStatus::parse(raw);
    if parsed.is_none() {
        push_error(errors, "status", format!("Unknown status '{raw}'; use new, in_progress, completed or cancelled."));
    }
    parsed
}

impl NewDeal {
    /// Validates; a deal created as `completed` is closed at `now`.
    pub fn validate(&self, user_id: Option<i64>, now: DateTime<Utc>) -> Result<DealDraft> {
        let mut errors = FieldErrors::new();
        let title = title(self.title.as_deref().or(Some("")), &mut errors);
        let value = self.value.map(|v| check_value(v, &mut errors)).unwrap_or_default();
        let status = status(self.status.as_deref(), &mut errors).unwrap_or(DealStatus::New);
        if self.customer_id.is_none() {
            push_error(&mut errors, "customerId", "customerId is required.");
        }
        let description = description(self.description.as_deref(), &mut errors);
        CrmError::check(errors)?;
        Ok(DealDraft {
            title: title.unwrap_or_default(),
            description,
            value,
            status,
            customer_id: self.customer_id.unwrap_or_default(),
            user_id,
            closed_at: (status == DealStatus::Completed).then_some(now),
        })
    }
}

impl DealPatch {
    /// Validates against the current deal; moving to `completed` records the close time,
    /// moving away from it clears it.
    pub fn validate(&self, current: &Deal, now: DateTime<Utc>) -> Result<DealChanges> {
        let mut errors = FieldErrors::new();
        let changes = DealChanges {
            title: title(self.title.as_deref(), &mut errors),
            description: self.description.as_ref().map(|d| description(d.as_deref(), &mut errors)),
            value: self.value.map(|v| check_value(v, &mut errors)),
            status: status(self.status.as_deref(), &mut errors),
            customer_id: self.customer_id,
            closed_at: None,
        };
        CrmError::check(errors)?;
        let closed_at = match changes.status {
            Some(DealStatus::Completed) if current.status != DealStatus::Completed => Some(Some(now)),
            Some(s) if s != DealStatus::Completed && current.status == DealStatus::Completed => Some(None),
            _ => None,
        };
        Ok(DealChanges { closed_at, ..changes })
    }
}

/// Filters of the deal list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DealFilter {
    pub status: Option<DealStatus>,
    pub customer_id: Option<i64>,
    /// A filter value outside its enumeration was asked for: no deal matches.
    pub matches_nothing: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn deal(status: DealStatus) -> Deal {
        let t = Utc::now();
        Deal {
            id: 1,
            title: "T".into(),
            description: None,
            value: Decimal::ZERO,
            status,
            customer_id: 1,
            user_id: None,
            closed_at: None,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn values_have_two_places_and_no_sign() {
        let mut errors = FieldErrors::new();
        assert_eq!(check_value(Decimal::from_str("1500.50").unwrap(), &mut errors).to_string(), "1500.50");
        assert!(errors.is_empty());
        check_value(Decimal::from_str("1.005").unwrap(), &mut errors);
        check_value(Decimal::from_str("-1").unwrap(), &mut errors);
        assert_eq!(errors["value"].len(), 2);
    }

    #[test]
    fn completing_records_the_close_time_and_reopening_clears_it() {
        let now = Utc::now();
        let patch = DealPatch { status: Some("completed".into()), ..Default::default() };
        assert_eq!(patch.validate(&deal(DealStatus::InProgress), now).unwrap().closed_at, Some(Some(now)));
        assert_eq!(patch.validate(&deal(DealStatus::Completed), now).unwrap().closed_at, None);
        let reopen = DealPatch { status: Some("in_progress".into()), ..Default::default() };
        assert_eq!(reopen.validate(&deal(DealStatus::Completed), now).unwrap().closed_at, Some(None));
        let draft = NewDeal {
            title: Some("x".into()),
            status: Some("completed".into()),
            customer_id: Some(1),
            ..Default::default()
        };
        assert_eq!(draft.validate(None, now).unwrap().closed_at, Some(now));
    }

    #[test]
    fn new_deal_requires_title_and_customer() {
        let CrmError::Validation { fields, .. } = NewDeal::default().validate(None, Utc::now()).unwrap_err() else {
            panic!()
        };
        assert!(fields.contains_key("title") && fields.contains_key("customerId"));
        let bad =
            NewDeal { title: Some("x".into()), customer_id: Some(1), status: Some("won".into()), ..Default::default() };
        assert!(bad.validate(None, Utc::now()).is_err());
    }
}
