//! Deals: what an account may buy, worth an exact amount. One record, shown by the CRM v1
//! surface (`title`, `value`, `status` new/in_progress/completed/cancelled, `customerId`) and
//! the REST surface (`name`, `amount`, `status` Open/Won/Lost, `account`, `contact`, `stage`,
//! `probability`, dates, `stage_history`).

use crate::error::{CrmError, Result};
use crate::fields::{Fields, MAX_FREE_TEXT, Sent, max_money};
use crate::records::Resource;
use chrono::{DateTime, NaiveDate, Utc};
use kernel::{FieldErrors, FilterKind, FilterSpec, FilterValue, ListQuery, ListSpec, PageRequest, Ref, push_error};
use rust_decimal::Decimal;

/// Where a deal stands. `completed` is won (`Won` on the REST surface), `cancelled` lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DealStatus {
    New,
    InProgress,
    Completed,
    Cancelled,
}

/// The REST statuses.
pub const REST_STATUSES: [&str; 3] = ["Open", "Won", "Lost"];

impl DealStatus {
    pub const ALL: [DealStatus; 4] =
        [DealStatus::New, DealStatus::InProgress, DealStatus::Completed, DealStatus::Cancelled];

    /// The stored and v1 name.
    pub fn as_str(self) -> &'static str {
        match self {
            DealStatus::New => "new",
            DealStatus::InProgress => "in_progress",
            DealStatus::Completed => "completed",
            DealStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a stored or v1 name.
    pub fn parse(raw: &str) -> Option<DealStatus> {
        DealStatus::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }

    /// Counted as an active deal on the dashboard.
    pub fn is_open(self) -> bool {
        matches!(self, DealStatus::New | DealStatus::InProgress)
    }

    /// The REST status: `Open`, `Won` or `Lost`.
    pub fn rest(self) -> &'static str {
        match self {
            DealStatus::New | DealStatus::InProgress => "Open",
            DealStatus::Completed => "Won",
            DealStatus::Cancelled => "Lost",
        }
    }

    /// The stored statuses a REST status covers.
    pub fn of_rest(label: &str) -> &'static [DealStatus] {
        match label {
            "Won" => &[DealStatus::Completed],
            "Lost" => &[DealStatus::Cancelled],
            _ => &[DealStatus::New, DealStatus::InProgress],
        }
    }

    /// A REST status written over `current`: `Open` keeps an open deal as it is and reopens
    /// a closed one as `in_progress`.
    pub fn from_rest(label: &str, current: Option<DealStatus>) -> DealStatus {
        match (label, current) {
            ("Won", _) => DealStatus::Completed,
            ("Lost", _) => DealStatus::Cancelled,
            (_, Some(s)) if s.is_open() => s,
            (_, Some(_)) => DealStatus::InProgress,
            (_, None) => DealStatus::New,
        }
    }
}

/// The customer a deal belongs to, as v1 lists embed it.
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
    /// The owner.
    pub user_id: Option<i64>,
    /// When the deal was won or lost (analytics count sales by this time).
    pub closed_at: Option<DateTime<Utc>>,
    pub contact_id: Option<i64>,
    pub stage_id: Option<i64>,
    pub expected_close_date: Option<NaiveDate>,
    /// Percent.
    pub probability: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One move of a deal from a stage to another.
#[derive(Debug, Clone, PartialEq)]
pub struct StageChange {
    pub from_stage: Option<Ref>,
    pub to_stage: Option<Ref>,
    pub notes: Option<String>,
    pub changed_by: Option<Ref>,
    pub changed_at: DateTime<Utc>,
}

/// A deal with its related records (and, read alone, its stage history).
#[derive(Debug, Clone, PartialEq)]
pub struct DealView {
    pub deal: Deal,
    pub customer: Option<CustomerRef>,
    pub contact: Option<Ref>,
    pub stage: Option<Ref>,
    pub owner: Option<Ref>,
    /// The stage history, oldest first; only when the deal is read alone.
    pub history: Option<Vec<StageChange>>,
}

/// Checked fields of a new deal. Without a stage the store puts it at the first active
/// stage, and without a probability it takes the stage's.
#[derive(Debug, Clone, PartialEq)]
pub struct DealDraft {
    pub title: String,
    pub description: Option<String>,
    pub value: Decimal,
    pub status: DealStatus,
    pub customer_id: i64,
    pub user_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub stage_id: Option<i64>,
    pub expected_close_date: Option<NaiveDate>,
    pub probability: Option<i32>,
    /// The day it closed, when created won or lost (default today).
    pub close_date: Option<NaiveDate>,
}

/// A checked change of a deal; the close time follows the status ([`closed_at_after`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DealChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub value: Option<Decimal>,
    pub status: Option<DealStatus>,
    /// `Open` on the REST surface: keep an open status, reopen a closed one.
    pub reopen: bool,
    pub customer_id: Option<i64>,
    pub user_id: Option<Option<i64>>,
    pub contact_id: Option<Option<i64>>,
    pub stage_id: Option<i64>,
    pub expected_close_date: Option<Option<NaiveDate>>,
    pub probability: Option<Option<i32>>,
    pub close_date: Option<Option<NaiveDate>>,
}

/// The instant a deal closed on `date`: now when that is today, else midday UTC of that day.
pub fn closing_instant(date: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    if date == now.date_naive() { now } else { date.and_hms_opt(12, 0, 0).map(|t| t.and_utc()).unwrap_or(now) }
}

/// When a deal of `current` status (closed at `closed_at`) counts as closed once it is
/// `status`: not at all while open; on the `close_date` given; else when it closed before,
/// or now when it closes now.
pub fn closed_at_after(
    current: DealStatus,
    closed_at: Option<DateTime<Utc>>,
    status: DealStatus,
    close_date: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if status.is_open() {
        return None;
    }
    match (close_date, closed_at) {
        (Some(date), _) => Some(closing_instant(date, now)),
        (None, Some(at)) if !current.is_open() => Some(at),
        _ => Some(now),
    }
}

/// Refuses a won deal closed in the future.
pub fn check_close_date(status: DealStatus, close_date: Option<NaiveDate>, now: DateTime<Utc>) -> Result<()> {
    match close_date {
        Some(d) if status == DealStatus::Completed && d > now.date_naive() => {
            Err(CrmError::field("close_date", "A deal cannot be won in the future."))
        }
        _ => Ok(()),
    }
}

/// Checks a money amount under `field`.
pub fn check_value(value: Decimal, field: &str, errors: &mut FieldErrors) -> Decimal {
    if value.is_sign_negative() && !value.is_zero() {
        push_error(errors, field, "Value cannot be negative.");
    } else if value.normalize().scale() > 2 {
        push_error(errors, field, "Value can have at most two decimal places.");
    } else if value > max_money() {
        push_error(errors, field, format!("Value cannot exceed {}.", max_money()));
    }
    value.round_dp(2)
}

/// Longest deal title.
pub const MAX_TITLE: usize = 255;

fn title(value: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let v = value?.trim();
    if v.is_empty() {
        push_error(errors, "title", "Title is required.");
        return None;
    }
    if v.chars().count() > MAX_TITLE {
        push_error(errors, "title", format!("Title must be at most {MAX_TITLE} characters."));
    }
    Some(v.to_string())
}

fn description(value: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    if v.chars().count() > MAX_FREE_TEXT {
        push_error(errors, "description", format!("Description must be at most {MAX_FREE_TEXT} characters."));
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

/// What a v1 caller gives to create a deal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewDeal {
    pub title: Option<String>,
    pub description: Option<String>,
    pub value: Option<Decimal>,
    pub status: Option<String>,
    pub customer_id: Option<i64>,
}

/// A v1 partial change of a deal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DealPatch {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub value: Option<Decimal>,
    pub status: Option<String>,
    pub customer_id: Option<i64>,
}

impl NewDeal {
    /// Checks a v1 deal; created `completed` or `cancelled`, it closes today.
    pub fn validate(&self, user_id: Option<i64>) -> Result<DealDraft> {
        let mut errors = FieldErrors::new();
        let title = title(self.title.as_deref().or(Some("")), &mut errors);
        let value = self.value.map(|v| check_value(v, "value", &mut errors)).unwrap_or_default();
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
            contact_id: None,
            stage_id: None,
            expected_close_date: None,
            probability: None,
            close_date: None,
        })
    }
}

impl DealPatch {
    /// Checks a v1 change.
    pub fn validate(&self) -> Result<DealChanges> {
        let mut errors = FieldErrors::new();
        let changes = DealChanges {
            title: title(self.title.as_deref(), &mut errors),
            description: self.description.as_ref().map(|d| description(d.as_deref(), &mut errors)),
            value: self.value.map(|v| check_value(v, "value", &mut errors)),
            status: status(self.status.as_deref(), &mut errors),
            customer_id: self.customer_id,
            ..DealChanges::default()
        };
        CrmError::check(errors)?;
        Ok(changes)
    }
}

/// Filters of the v1 deal list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DealFilter {
    pub status: Option<DealStatus>,
    pub customer_id: Option<i64>,
    /// A filter value outside its enumeration was asked for: no deal matches.
    pub matches_nothing: bool,
}

/// The filter the v1 status selects with (a stored status, not a REST one).
pub const V1_STATUS: &str = "v1_status";

impl DealFilter {
    /// The v1 filter as a list query: newest first.
    pub fn query(&self, page: PageRequest) -> ListQuery {
        let mut filters = Vec::new();
        if let Some(s) = self.status {
            filters.push((V1_STATUS, FilterValue::Text(s.as_str().into())));
        }
        if let Some(id) = self.customer_id {
            filters.push(("account", FilterValue::Id(id)));
        }
        ListQuery {
            search: None,
            filters,
            ordering: Deals::LIST.default_ordering,
            created_after: None,
            created_before: None,
            page,
        }
    }
}

/// The fields a REST caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DealInput {
    pub name: Sent<String>,
    pub account: Sent<i64>,
    pub contact: Sent<i64>,
    pub amount: Sent<Decimal>,
    pub stage: Sent<i64>,
    pub expected_close_date: Sent<NaiveDate>,
    pub close_date: Sent<NaiveDate>,
    pub status: Sent<String>,
    pub probability: Sent<i64>,
    pub owner: Sent<i64>,
    pub description: Sent<String>,
}

/// The deal record kind (REST).
pub struct Deals;

impl Resource for Deals {
    type Record = DealView;
    type Input = DealInput;
    type Draft = DealDraft;
    type Changes = DealChanges;
    const NAME: &'static str = "Deal";
    const LIST: ListSpec = ListSpec {
        filters: &[
            FilterSpec { name: "stage", kind: FilterKind::Id, about: "Pipeline stage id" },
            FilterSpec { name: "status", kind: FilterKind::Choice(&REST_STATUSES), about: "Open, Won or Lost" },
            FilterSpec { name: "account", kind: FilterKind::Id, about: "Account id" },
            FilterSpec { name: "owner", kind: FilterKind::Id, about: "Owner's user id" },
        ],
        ordering: &["created_at", "updated_at", "name", "amount", "expected_close_date", "probability"],
        default_ordering: ("created_at", true),
        search: "name",
    };

    fn draft(input: DealInput, owner: i64) -> Result<DealDraft> {
        let mut f = Fields::new();
        let name = f.required_text("name", &input.name, MAX_TITLE, true);
        let account = f.id("account", &input.account).flatten();
        if account.is_none() {
            f.error("account", "This field is required.");
        }
        let amount = f.money("amount", &input.amount);
        let amount = f.present("amount", amount, false).unwrap_or_default();
        let probability = f.percent("probability", &input.probability).flatten();
        let status = f.choice("status", &input.status, &REST_STATUSES);
        let status = f.present("status", status, false).map(|s| DealStatus::from_rest(s, None));
        let description = f.text("description", &input.description, MAX_FREE_TEXT).flatten();
        let stage = f.id("stage", &input.stage);
        let refs =
            [f.id("contact", &input.contact), Some(f.present("stage", stage, false)), f.id("owner", &input.owner)];
        f.finish()?;
        let [contact_id, stage_id, owner_id] = refs.map(Option::flatten);
        let status = status.unwrap_or(DealStatus::New);
        let close_date = input.close_date.flatten();
        check_close_date(status, close_date, Utc::now())?;
        Ok(DealDraft {
            title: name.unwrap_or_default(),
            description,
            value: amount,
            status,
            customer_id: account.unwrap_or_default(),
            user_id: owner_id.or(Some(owner)),
            contact_id,
            stage_id,
            expected_close_date: input.expected_close_date.flatten(),
            probability,
            close_date,
        })
    }

    fn changes(input: DealInput, replace: bool) -> Result<DealChanges> {
        let mut f = Fields::new();
        let title = f.required_text("name", &input.name, MAX_TITLE, replace);
        let account = f.id("account", &input.account);
        if account == Some(None) || (replace && account.is_none()) {
            f.error("account", "This field is required.");
        }
        let amount = f.money("amount", &input.amount);
        let amount = f.present("amount", amount, false);
        let status = f.choice("status", &input.status, &REST_STATUSES);
        let status = f.present("status", status, false);
        let stage = f.id("stage", &input.stage);
        let stage = f.present("stage", stage, false);
        let changes = DealChanges {
            title,
            description: f.text("description", &input.description, MAX_FREE_TEXT),
            value: amount,
            status: status.and_then(|s| (s != "Open").then(|| DealStatus::from_rest(s, None))),
            reopen: status == Some("Open"),
            customer_id: account.flatten(),
            user_id: f.id("owner", &input.owner),
            contact_id: f.id("contact", &input.contact),
            stage_id: stage,
            expected_close_date: input.expected_close_date,
            probability: f.percent("probability", &input.probability),
            close_date: input.close_date,
        };
        f.finish()?;
        Ok(changes)
    }
}

/// Refuses a missing deal.
pub fn deal_not_found(id: i64) -> CrmError {
    CrmError::NotFound(format!("Deal {id} not found."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn values_have_two_places_and_no_sign() {
        let mut errors = FieldErrors::new();
        assert_eq!(check_value(Decimal::from_str("1500.50").unwrap(), "value", &mut errors).to_string(), "1500.50");
        assert!(errors.is_empty());
        check_value(Decimal::from_str("1.005").unwrap(), "value", &mut errors);
        check_value(Decimal::from_str("-1").unwrap(), "value", &mut errors);
        assert_eq!(errors["value"].len(), 2);
    }

    #[test]
    fn closing_follows_the_status() {
        let now = Utc::now();
        let day = NaiveDate::from_ymd_opt(2024, 1, 15).unwrap();
        assert_eq!(closed_at_after(DealStatus::New, None, DealStatus::Completed, None, now), Some(now));
        assert_eq!(
            closed_at_after(DealStatus::New, None, DealStatus::Completed, Some(day), now).unwrap().date_naive(),
            day
        );
        let earlier = now - chrono::Duration::days(3);
        assert_eq!(
            closed_at_after(DealStatus::Completed, Some(earlier), DealStatus::Completed, None, now),
            Some(earlier)
        );
        assert_eq!(closed_at_after(DealStatus::Completed, Some(earlier), DealStatus::InProgress, None, now), None);
        let tomorrow = now.date_naive().succ_opt().unwrap();
        assert!(check_close_date(DealStatus::Completed, Some(tomorrow), now).is_err());
        assert!(check_close_date(DealStatus::Cancelled, Some(tomorrow), now).is_ok());
    }

    #[test]
    fn rest_statuses_map_onto_the_stored_ones() {
        assert_eq!(DealStatus::from_rest("Open", Some(DealStatus::Completed)), DealStatus::InProgress);
        assert_eq!(DealStatus::from_rest("Open", Some(DealStatus::New)), DealStatus::New);
        assert_eq!(DealStatus::Cancelled.rest(), "Lost");
        assert_eq!(DealStatus::of_rest("Open"), &[DealStatus::New, DealStatus::InProgress]);
    }

    #[test]
    fn new_deal_requires_title_and_customer() {
        let CrmError::Validation { fields, .. } = NewDeal::default().validate(None).unwrap_err() else { panic!() };
        assert!(fields.contains_key("title") && fields.contains_key("customerId"));
        let bad =
            NewDeal { title: Some("x".into()), customer_id: Some(1), status: Some("won".into()), ..Default::default() };
        assert!(bad.validate(None).is_err());
        let rest = Deals::draft(DealInput { name: Some(Some("Deal".into())), ..Default::default() }, 1).unwrap_err();
        let CrmError::Validation { fields, .. } = rest else { panic!() };
        assert!(fields.contains_key("account"));
    }
}
