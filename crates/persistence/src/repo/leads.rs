//! Leads over sea-orm, and converting them into an account, a contact and a deal in one
//! transaction.

use crate::entity::{contacts, deals, leads};
use crate::error::{conflict_if_unique, db};
use crate::repo::accounts::{account_row, account_view};
use crate::repo::begin_write;
use crate::repo::contacts::{contact_duplicates, contact_view, insert_contact};
use crate::repo::customers::add_customer;
use crate::repo::deals::{deal_detail, insert_deal};
use crate::repo::journal;
use crate::repo::listing::{
    self, Listing, PERSON_NAME, RefKind, check_references, duplicates_of, live, lookup, names_of, refuse_duplicates,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::accounts::AccountDraft;
use crm_core::contacts::ContactDraft;
use crm_core::customer::DEFAULT_STATUS;
use crm_core::deal::{DealDraft, DealStatus};
use crm_core::fields::{custom_fields_value, full_name};
use crm_core::leads::{
    CONVERTED, Conversion, ConversionPlan, ConvertOutcome, Lead, LeadChanges, LeadConversion, LeadDraft, Leads,
    search_text,
};
use crm_core::records::Store;
use crm_core::{CrmError, Result};
use kernel::{Candidate, DomainError, ListQuery, Page};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

/// [`Store`] of leads over `leads`; converts them.
#[derive(Clone)]
pub struct SqlLeads {
    db: DatabaseConnection,
}

impl SqlLeads {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlLeads { db }
    }
}

const LISTING: Listing = Listing {
    columns: &[
        ("lead_source", "lead_source"),
        ("status", "status"),
        ("territory", "territory_id"),
        ("owner", "owner_id"),
        ("first_name", "first_name"),
        ("last_name", "last_name"),
        ("company_name", "company_name"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    search: &["search_text"],
};

/// The leads of `rows`, related records embedded (one statement for every kind).
async fn lead_views<C: ConnectionTrait>(conn: &C, rows: Vec<leads::Model>) -> Result<Vec<Lead>> {
    let ids = |f: fn(&leads::Model) -> Option<i64>| rows.iter().filter_map(f).collect::<Vec<_>>();
    let [territories, owners, accounts, contacts, deals] = names_of(
        conn,
        [
            RefKind::territories(ids(|r| r.territory_id)),
            RefKind::users(ids(|r| r.owner_id)),
            RefKind::accounts(ids(|r| r.converted_account_id)),
            RefKind::contacts(ids(|r| r.converted_contact_id)),
            RefKind::deals(ids(|r| r.converted_deal_id)),
        ],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|m| Lead {
            id: m.id,
            first_name: m.first_name,
            last_name: m.last_name,
            email: m.email,
            phone: m.phone,
            company_name: m.company_name,
            lead_source: m.lead_source,
            status: m.status,
            territory: lookup(&territories, m.territory_id),
            owner: lookup(&owners, m.owner_id),
            custom_fields: custom_fields_value(&m.custom_fields),
            converted_account: lookup(&accounts, m.converted_account_id),
            converted_contact: lookup(&contacts, m.converted_contact_id),
            converted_deal: lookup(&deals, m.converted_deal_id),
            converted_at: m.converted_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
        .collect())
}

#[async_trait]
impl journal::Journaled for leads::Entity {
    const KIND: &'static str = "lead";
    async fn shown<C: ConnectionTrait>(conn: &C, rows: Vec<leads::Model>) -> Result<Vec<serde_json::Value>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let views = lead_views(conn, rows).await?;
        Ok(match journal::render() {
            Some(render) => views.iter().map(|l| render.lead(l)).collect(),
            None => ids.into_iter().map(|id| serde_json::json!({"id": id})).collect(),
        })
    }
    fn id_of(row: &leads::Model) -> i64 {
        row.id
    }
}

async fn lead_view<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<Lead>> {
    let found = listing::live_row::<leads::Entity, _>(conn, id).await?;
    Ok(lead_views(conn, found.into_iter().collect()).await?.pop())
}

async fn lock<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<leads::Model>> {
    listing::live_row_locked::<leads::Entity, _>(conn, id).await
}

/// Live leads other than `except` with this e-mail or phone.
async fn lead_duplicates<C: ConnectionTrait>(
    conn: &C,
    email: Option<&str>,
    phone: Option<&str>,
    except: Option<i64>,
) -> Result<Vec<Candidate>> {
    duplicates_of(conn, "leads", "lead", PERSON_NAME, &[("email", email), ("phone", phone)], except).await
}

/// Live accounts with this e-mail, phone or (case-insensitive) name.
async fn account_duplicates<C: ConnectionTrait>(
    conn: &C,
    email: Option<&str>,
    phone: Option<&str>,
    company: Option<&str>,
) -> Result<Vec<Candidate>> {
    let lowered = company.map(str::to_lowercase);
    let keys = [("email", email), ("phone", phone), ("LOWER(name)", lowered.as_deref())];
    duplicates_of(conn, "customers", "account", "name", &keys, None).await
}

async fn check<C: ConnectionTrait>(
    conn: &C,
    territory: Option<i64>,
    owner: Option<i64>,
    email: Option<&str>,
    phone: Option<&str>,
    except: Option<i64>,
) -> Result<()> {
    check_references(conn, &[("territory", "territories", true, territory), ("owner", "users", false, owner)]).await?;
    refuse_duplicates("e-mail or phone", lead_duplicates(conn, email, phone, except).await?)
}

/// Checks (references, duplicates) and stores a new lead within the caller's transaction.
pub async fn add_lead<C: ConnectionTrait>(conn: &C, d: LeadDraft) -> Result<leads::Model> {
    check(conn, d.territory_id, d.owner_id, d.email.as_deref(), d.phone.as_deref(), None).await?;
    listing::count_live(conn, "leads", 1).await?;
    let now = Utc::now();
    let stored = leads::ActiveModel {
        search_text: Set(search_text(
            &d.first_name,
            &d.last_name,
            d.email.as_deref(),
            d.phone.as_deref(),
            d.company_name.as_deref(),
        )),
        first_name: Set(d.first_name),
        last_name: Set(d.last_name),
        email: Set(d.email),
        phone: Set(d.phone),
        company_name: Set(d.company_name),
        lead_source: Set(d.lead_source),
        status: Set(d.status.to_string()),
        territory_id: Set(d.territory_id),
        owner_id: Set(d.owner_id),
        custom_fields: Set(d.custom_fields),
        converted_account_id: Set(None),
        converted_contact_id: Set(None),
        converted_deal_id: Set(None),
        converted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(conflict_if_unique("A lead with this e-mail or phone already exists."))?;
    journal::write::<leads::Entity, _>(conn, "created", None, Some(stored.clone())).await?;
    Ok(stored)
}

/// Applies a checked change to the live lead `id` (locked) within the caller's transaction;
/// `None` when there is no such lead. A converted lead keeps its status.
pub async fn update_lead<C: ConnectionTrait>(conn: &C, id: i64, c: LeadChanges) -> Result<Option<leads::Model>> {
    let Some(mut next) = lock(conn, id).await? else { return Ok(None) };
    let current = next.clone();
    if next.status == CONVERTED && c.status.is_some() {
        return Err(CrmError::Conflict(format!("Lead {id} is converted; its status stays Converted.")));
    }
    let email = c.email.clone().flatten();
    let phone = c.phone.clone().flatten();
    check(conn, c.territory_id.flatten(), c.owner_id.flatten(), email.as_deref(), phone.as_deref(), Some(id)).await?;
    if let Some(v) = c.first_name {
        next.first_name = v;
    }
    if let Some(v) = c.last_name {
        next.last_name = v;
    }
    if let Some(v) = c.email {
        next.email = v;
    }
    if let Some(v) = c.phone {
        next.phone = v;
    }
    if let Some(v) = c.company_name {
        next.company_name = v;
    }
    if let Some(v) = c.lead_source {
        next.lead_source = v;
    }
    if let Some(v) = c.status {
        next.status = v.to_string();
    }
    if let Some(v) = c.territory_id {
        next.territory_id = v;
    }
    if let Some(v) = c.owner_id {
        next.owner_id = v;
    }
    if let Some(v) = c.custom_fields {
        next.custom_fields = v;
    }
    next.search_text = search_text(
        &next.first_name,
        &next.last_name,
        next.email.as_deref(),
        next.phone.as_deref(),
        next.company_name.as_deref(),
    );
    next.updated_at = Utc::now();
    let model: leads::ActiveModel = next.into();
    let stored = model
        .reset_all()
        .update(conn)
        .await
        .map_err(conflict_if_unique("A lead with this e-mail or phone already exists."))?;
    journal::write::<leads::Entity, _>(conn, "updated", Some(current), Some(stored.clone())).await?;
    Ok(Some(stored))
}

#[async_trait]
impl Store<Leads> for SqlLeads {
    async fn list(&self, query: &ListQuery) -> Result<Page<Lead>> {
        let select = leads::Entity::find().filter(live::<leads::Entity>());
        let total = listing::live_total(&self.db, "leads", query).await?;
        let page = listing::page(&self.db, select, &LISTING, query, total).await?;
        let (request, total) = (page.request, page.total);
        Ok(Page { items: lead_views(&self.db, page.items).await?, total, request })
    }

    async fn get(&self, id: i64) -> Result<Option<Lead>> {
        lead_view(&self.db, id).await
    }

    async fn insert(&self, d: LeadDraft) -> Result<Lead> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = add_lead(&txn, d).await?;
        txn.commit().await.map_err(db)?;
        Ok(lead_views(&self.db, vec![stored]).await?.remove(0))
    }

    /// A converted lead keeps its status.
    async fn update(&self, id: i64, c: LeadChanges) -> Result<Option<Lead>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(stored) = update_lead(&txn, id, c).await? else { return Ok(None) };
        txn.commit().await.map_err(db)?;
        Ok(lead_views(&self.db, vec![stored]).await?.pop())
    }

    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        listing::delete_journaled::<leads::Entity>(&self.db, id, at, true).await
    }

    async fn restore(&self, id: i64) -> Result<Option<Lead>> {
        if listing::restore_journaled::<leads::Entity>(&self.db, id, true).await? {
            self.get(id).await
        } else {
            Ok(None)
        }
    }
}

/// The account a given contact or deal belongs to must be the conversion's.
async fn check_linked<C: ConnectionTrait>(
    conn: &C,
    account: i64,
    contact: Option<i64>,
    deal: Option<i64>,
) -> Result<()> {
    if let Some(id) = contact {
        let row = contacts::Entity::find_by_id(id).one(conn).await.map_err(db)?;
        if row.and_then(|c| c.account_id).is_some_and(|a| a != account) {
            return Err(CrmError::field("contact_id", "The contact belongs to another account."));
        }
    }
    if let Some(id) = deal {
        let row = deals::Entity::find_by_id(id).one(conn).await.map_err(db)?;
        if row.is_some_and(|d| d.customer_id != account) {
            return Err(CrmError::field("deal_id", "The deal belongs to another account."));
        }
    }
    Ok(())
}

#[async_trait]
impl LeadConversion for SqlLeads {
    async fn convert(&self, id: i64, plan: ConversionPlan, at: DateTime<Utc>) -> Result<ConvertOutcome> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(lead) = lock(&txn, id).await? else { return Ok(ConvertOutcome::LeadNotFound) };
        if lead.status == CONVERTED {
            return Ok(ConvertOutcome::AlreadyConverted);
        }
        check_references(
            &txn,
            &[
                ("account_id", "customers", true, plan.account_id),
                ("contact_id", "contacts", true, plan.contact_id),
                ("deal_id", "deals", true, plan.deal_id),
            ],
        )
        .await?;
        // Nothing is written before every clash is known.
        let (email, phone) = (lead.email.as_deref(), lead.phone.as_deref());
        let mut clashes = Vec::new();
        if plan.account_id.is_none() {
            let (email, phone) = if lead.company_name.is_some() { (None, None) } else { (email, phone) };
            clashes.extend(account_duplicates(&txn, email, phone, lead.company_name.as_deref()).await?);
        }
        if plan.contact_id.is_none() {
            clashes.extend(contact_duplicates(&txn, email, phone, None).await?);
        }
        if !clashes.is_empty() {
            return Err(DomainError::Duplicate {
                message: "Records like the lead's already exist; link them with account_id / contact_id.".into(),
                candidates: clashes,
            });
        }
        let owner = lead.owner_id.or(Some(plan.by));
        let account_id = match plan.account_id {
            Some(id) => id,
            None => {
                let person = full_name(&lead.first_name, &lead.last_name);
                let company = lead.company_name.is_some();
                let draft = AccountDraft {
                    name: lead.company_name.clone().unwrap_or(person),
                    account_type: Some("Prospect".into()),
                    industry: None,
                    phone: lead.phone.clone().filter(|_| !company),
                    email: lead.email.clone().filter(|_| !company),
                    website: None,
                    territory_id: lead.territory_id,
                    custom_fields: "{}".into(),
                    owner_id: owner,
                    status: DEFAULT_STATUS.into(),
                };
                add_customer(&txn, account_row(draft, at)).await?.id
            }
        };
        check_linked(&txn, account_id, plan.contact_id, plan.deal_id).await?;
        let contact_id = match plan.contact_id {
            Some(id) => {
                let attach = "UPDATE contacts SET account_id = $1 WHERE id = $2 AND account_id IS NULL";
                let stmt =
                    crate::repo::statement(txn.get_database_backend(), attach, vec![account_id.into(), id.into()]);
                txn.execute_raw(stmt).await.map_err(db)?;
                id
            }
            None => {
                let draft = ContactDraft {
                    first_name: lead.first_name.clone(),
                    last_name: lead.last_name.clone(),
                    email: lead.email.clone(),
                    phone: lead.phone.clone(),
                    title: None,
                    account_id: Some(account_id),
                    owner_id: owner,
                    custom_fields: "{}".into(),
                };
                insert_contact(&txn, draft, at).await?.id
            }
        };
        let deal_id = match (plan.deal_id, plan.new_deal) {
            (Some(id), _) => Some(id),
            (None, Some(spec)) => {
                let draft = DealDraft {
                    title: spec.name,
                    description: None,
                    value: spec.amount,
                    status: DealStatus::New,
                    customer_id: account_id,
                    user_id: owner,
                    contact_id: Some(contact_id),
                    stage_id: spec.stage_id,
                    expected_close_date: spec.expected_close_date,
                    probability: None,
                    close_date: None,
                };
                Some(insert_deal(&txn, draft, at).await.map_err(deal_field)?.id)
            }
            (None, None) => None,
        };
        let before = lead.clone();
        let mut model: leads::ActiveModel = lead.into();
        model.status = Set(CONVERTED.into());
        model.converted_account_id = Set(Some(account_id));
        model.converted_contact_id = Set(Some(contact_id));
        model.converted_deal_id = Set(deal_id);
        model.converted_at = Set(Some(at));
        model.updated_at = Set(at);
        let converted = model.update(&txn).await.map_err(db)?;
        let mut shown = <leads::Entity as journal::Journaled>::shown(&txn, vec![before, converted]).await?.into_iter();
        let (before, after) = (shown.next(), shown.next());
        let data = after.clone().unwrap_or_default();
        let change = journal::Change::audit("lead", id, "converted")
            .with_values(before, after)
            .with_event("lead.updated", data.clone())
            .with_event("lead.converted", data);
        journal::record(&txn, change).await?;
        let missing = || CrmError::Internal("a converted record vanished".into());
        let conversion = Conversion {
            lead: lead_view(&txn, id).await?.ok_or_else(missing)?,
            account: account_view(&txn, account_id).await?.ok_or_else(missing)?,
            contact: contact_view(&txn, contact_id).await?.ok_or_else(missing)?,
            deal: match deal_id {
                Some(id) => Some(deal_detail(&txn, id).await?.ok_or_else(missing)?),
                None => None,
            },
        };
        txn.commit().await.map_err(db)?;
        Ok(ConvertOutcome::Done(Box::new(conversion)))
    }
}

/// A problem with the new deal's fields is reported under `deal.<field>`.
fn deal_field(e: CrmError) -> CrmError {
    match e {
        DomainError::Validation { message, fields } => DomainError::Validation {
            message,
            fields: fields.into_iter().map(|(k, v)| (format!("deal.{k}"), v)).collect(),
        },
        other => other,
    }
}
