//! Leads (prospects not yet an account) and converting them into an account, a contact and
//! optionally a deal, in one step.

use crate::accounts::Account;
use crate::contacts::{Contact, MAX_NAME};
use crate::deal::{DealView, MAX_TITLE};
use crate::error::{CrmError, Result};
use crate::fields::{Fields, Sent};
use crate::records::Resource;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use kernel::{FilterKind, FilterSpec, ListSpec, Ref};
use management_core::{Permission, Principal};
use rust_decimal::Decimal;
use serde_json::Value;

/// The statuses of a lead; `Converted` is set only by converting it.
pub const LEAD_STATUSES: [&str; 6] = ["New", "Contacted", "Qualified", "Unqualified", "Lost", "Converted"];
/// The status of a converted lead.
pub const CONVERTED: &str = "Converted";
const MAX_COMPANY: usize = 255;
const MAX_SOURCE: usize = 100;

/// A lead.
#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_name: Option<String>,
    pub lead_source: Option<String>,
    pub status: String,
    pub territory: Option<Ref>,
    pub owner: Option<Ref>,
    pub custom_fields: Value,
    pub converted_account: Option<Ref>,
    pub converted_contact: Option<Ref>,
    pub converted_deal: Option<Ref>,
    pub converted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadInput {
    pub first_name: Sent<String>,
    pub last_name: Sent<String>,
    pub email: Sent<String>,
    pub phone: Sent<String>,
    pub company_name: Sent<String>,
    pub lead_source: Sent<String>,
    pub status: Sent<String>,
    pub territory: Sent<i64>,
    pub owner: Sent<i64>,
    pub custom_fields: Sent<Value>,
}

/// A checked new lead.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadDraft {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_name: Option<String>,
    pub lead_source: Option<String>,
    pub status: &'static str,
    pub territory_id: Option<i64>,
    pub owner_id: Option<i64>,
    /// JSON text.
    pub custom_fields: String,
}

/// A checked change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub company_name: Option<Option<String>>,
    pub lead_source: Option<Option<String>>,
    /// Never `Converted` (only converting sets it); a converted lead keeps its status.
    pub status: Option<&'static str>,
    pub territory_id: Option<Option<i64>>,
    pub owner_id: Option<Option<i64>>,
    pub custom_fields: Option<String>,
}

/// The lead record kind.
pub struct Leads;

fn status(f: &mut Fields, value: &Sent<String>) -> Option<&'static str> {
    let status = f.choice("status", value, &LEAD_STATUSES);
    if status == Some(None) {
        f.error("status", "This field may not be null.");
    }
    let status = status.flatten();
    if status == Some(CONVERTED) {
        f.error("status", "A lead becomes Converted by POST /api/crm/leads/{id}/convert/.");
    }
    status
}

impl Resource for Leads {
    type Record = Lead;
    type Input = LeadInput;
    type Draft = LeadDraft;
    type Changes = LeadChanges;
    const NAME: &'static str = "Lead";
    const LIST: ListSpec = ListSpec {
        filters: &[
            FilterSpec { name: "lead_source", kind: FilterKind::Text, about: "Lead source, exactly" },
            FilterSpec { name: "status", kind: FilterKind::Choice(&LEAD_STATUSES), about: "Lead status" },
            FilterSpec { name: "territory", kind: FilterKind::Id, about: "Territory id" },
            FilterSpec { name: "owner", kind: FilterKind::Id, about: "Owner's user id" },
        ],
        ordering: &["first_name", "last_name", "company_name", "status", "created_at", "updated_at"],
        default_ordering: ("created_at", true),
        search: "name, email, company_name",
    };

    fn draft(input: LeadInput, owner: i64) -> Result<LeadDraft> {
        let mut f = Fields::new();
        let first_name = f.required_text("first_name", &input.first_name, MAX_NAME, true);
        let last_name = f.required_text("last_name", &input.last_name, MAX_NAME, true);
        let draft = LeadDraft {
            first_name: first_name.unwrap_or_default(),
            last_name: last_name.unwrap_or_default(),
            email: f.email("email", &input.email).flatten(),
            phone: f.phone("phone", &input.phone).flatten(),
            company_name: f.text("company_name", &input.company_name, MAX_COMPANY).flatten(),
            lead_source: f.text("lead_source", &input.lead_source, MAX_SOURCE).flatten(),
            status: status(&mut f, &input.status).unwrap_or("New"),
            territory_id: f.id("territory", &input.territory).flatten(),
            owner_id: f.id("owner", &input.owner).flatten().or(Some(owner)),
            custom_fields: f.custom_fields("custom_fields", &input.custom_fields).unwrap_or_else(|| "{}".into()),
        };
        f.finish()?;
        Ok(draft)
    }

    fn changes(input: LeadInput, replace: bool) -> Result<LeadChanges> {
        let mut f = Fields::new();
        let changes = LeadChanges {
            first_name: f.required_text("first_name", &input.first_name, MAX_NAME, replace),
            last_name: f.required_text("last_name", &input.last_name, MAX_NAME, replace),
            email: f.email("email", &input.email),
            phone: f.phone("phone", &input.phone),
            company_name: f.text("company_name", &input.company_name, MAX_COMPANY),
            lead_source: f.text("lead_source", &input.lead_source, MAX_SOURCE),
            status: status(&mut f, &input.status),
            territory_id: f.id("territory", &input.territory),
            owner_id: f.id("owner", &input.owner),
            custom_fields: f.custom_fields("custom_fields", &input.custom_fields),
        };
        f.finish()?;
        Ok(changes)
    }
}

/// Lower-cased name, e-mail, phone and company, for substring search.
pub fn search_text(first: &str, last: &str, email: Option<&str>, phone: Option<&str>, company: Option<&str>) -> String {
    [Some(first), Some(last), email, phone, company].into_iter().flatten().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The deal a conversion creates, as sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DealSpecInput {
    pub name: Sent<String>,
    pub amount: Sent<Decimal>,
    pub stage: Sent<i64>,
    pub expected_close_date: Sent<NaiveDate>,
}

/// What a caller asks of a conversion, as sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversionInput {
    pub account_id: Sent<i64>,
    pub contact_id: Sent<i64>,
    pub deal_id: Sent<i64>,
    pub deal: Option<DealSpecInput>,
}

/// The deal a conversion creates, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct DealSpec {
    pub name: String,
    pub amount: Decimal,
    pub stage_id: Option<i64>,
    pub expected_close_date: Option<NaiveDate>,
}

/// A checked conversion: the existing records to link (the others are created).
#[derive(Debug, Clone, PartialEq)]
pub struct ConversionPlan {
    pub account_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub deal_id: Option<i64>,
    pub new_deal: Option<DealSpec>,
    /// Owner of what is created: the lead's owner, else the caller.
    pub by: i64,
}

/// What a conversion answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    pub lead: Lead,
    pub account: Account,
    pub contact: Contact,
    pub deal: Option<DealView>,
}

/// What converting did.
#[derive(Debug, Clone, PartialEq)]
pub enum ConvertOutcome {
    Done(Box<Conversion>),
    LeadNotFound,
    AlreadyConverted,
}

/// Converting leads.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LeadConversion: Send + Sync {
    /// In one transaction: links or creates the account (from the company name, else the
    /// lead's name), the contact (the lead's person) and the deal asked for, and marks the
    /// lead converted. Before writing anything, an account or contact that has the lead's
    /// e-mail, phone or company and was not given makes it a [`CrmError::Duplicate`].
    async fn convert(&self, id: i64, plan: ConversionPlan, at: DateTime<Utc>) -> Result<ConvertOutcome>;
}

/// Converts a lead (`crm.write`).
pub async fn convert_lead(
    by: &Principal,
    port: &dyn LeadConversion,
    id: i64,
    input: ConversionInput,
) -> Result<Conversion> {
    by.require(Permission::CrmWrite)?;
    let mut f = Fields::new();
    let account_id = f.id("account_id", &input.account_id).flatten();
    let contact_id = f.id("contact_id", &input.contact_id).flatten();
    let deal_id = f.id("deal_id", &input.deal_id).flatten();
    let new_deal = input.deal.map(|d| DealSpec {
        name: f.required_text("deal.name", &d.name, MAX_TITLE, true).unwrap_or_default(),
        amount: f.money("deal.amount", &d.amount).flatten().unwrap_or_default(),
        stage_id: f.id("deal.stage", &d.stage).flatten(),
        expected_close_date: d.expected_close_date.flatten(),
    });
    if deal_id.is_some() && new_deal.is_some() {
        f.error("deal", "Give deal_id or deal, not both.");
    }
    f.finish()?;
    let plan = ConversionPlan { account_id, contact_id, deal_id, new_deal, by: by.user_id };
    match port.convert(id, plan, Utc::now()).await? {
        ConvertOutcome::Done(c) => Ok(*c),
        ConvertOutcome::LeadNotFound => Err(CrmError::NotFound(format!("Lead {id} not found."))),
        ConvertOutcome::AlreadyConverted => Err(CrmError::Conflict(format!("Lead {id} is already converted."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> Principal {
        Principal {
            user_id: 3,
            role: "member".into(),
            permissions: vec![Permission::CrmWrite],
            jti: "j".into(),
            session_id: "s".into(),
            expires_at: 0,
        }
    }

    #[test]
    fn converted_is_not_a_status_one_sets_by_hand() {
        let input = LeadInput { status: Some(Some("converted".into())), ..Default::default() };
        let CrmError::Validation { fields, .. } = Leads::changes(input, false).unwrap_err() else { panic!() };
        assert!(fields.contains_key("status"));
        let input = LeadInput {
            first_name: Some(Some("Lead".into())),
            last_name: Some(Some("Prospect".into())),
            ..Default::default()
        };
        assert_eq!(Leads::draft(input, 1).unwrap().status, "New");
    }

    #[tokio::test]
    async fn conversion_checks_its_input_before_the_store_and_maps_outcomes() {
        let mut port = MockLeadConversion::new();
        port.expect_convert().never();
        let both = ConversionInput {
            deal_id: Some(Some(4)),
            deal: Some(DealSpecInput { name: Some(Some("D".into())), ..Default::default() }),
            ..Default::default()
        };
        let CrmError::Validation { fields, .. } = convert_lead(&writer(), &port, 1, both).await.unwrap_err() else {
            panic!()
        };
        assert!(fields.contains_key("deal"));
        let unnamed = ConversionInput { deal: Some(DealSpecInput::default()), ..Default::default() };
        assert!(convert_lead(&writer(), &port, 1, unnamed).await.is_err());

        let mut port = MockLeadConversion::new();
        port.expect_convert()
            .withf(|id, plan, _| *id == 1 && plan.by == 3)
            .returning(|_, _, _| Ok(ConvertOutcome::AlreadyConverted));
        let err = convert_lead(&writer(), &port, 1, ConversionInput::default()).await.unwrap_err();
        assert!(matches!(err, CrmError::Conflict(_)));
    }
}
