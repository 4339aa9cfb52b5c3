//! `/api/crm/`: accounts (the one customer record), contacts, leads and converting them.

use super::activities::{RefDto, related};
use super::body::RestBody;
use super::deals::{DealDto, DealResource};
use super::exchange::{self, Exchanged};
use super::scaffold::{RestResource, action_path, both, document_action, mount};
use crate::error::ApiResult;
use crate::extract::Auth;
use crate::iso;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use crm_core::accounts::{Account, AccountInput, Accounts};
use crm_core::contacts::{Contact, ContactInput, Contacts};
use crm_core::exchange::{Dedupe, Imports};
use crm_core::leads::{CONVERTED, ConversionInput, DealSpecInput, LEAD_STATUSES, Lead, LeadInput, Leads, convert_lead};
use crm_core::records::Records;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

const TAG: &str = "crm-rest: crm";

/// An account (the same record as a v1 customer).
#[derive(Serialize, ToSchema)]
pub struct AccountDto {
    pub id: i64,
    pub name: String,
    pub account_type: Option<String>,
    pub industry: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub territory: Option<RefDto>,
    /// As given.
    #[schema(value_type = Object)]
    pub custom_fields: Value,
    pub owner: Option<RefDto>,
    /// A customer status of the catalog (`/api/system-config/statuses/`).
    pub status: String,
    /// Where the customer wrote from (`telegram`, `instagram`, ...), set through the CIMS
    /// workspace; read-only here.
    pub platform: Option<String>,
    /// The customer's handle on that platform (read-only here).
    pub username: Option<String>,
    /// A link to the conversation (read-only here).
    pub chat_url: Option<String>,
    /// The language of the conversation (read-only here).
    pub conversation_language: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of an account.
#[derive(Deserialize, ToSchema, Default)]
pub struct AccountBody {
    #[schema(example = "New Company", max_length = 255, nullable = false, required = true)]
    pub name: Option<Option<String>>,
    #[schema(example = "Prospect", max_length = 50)]
    pub account_type: Option<Option<String>>,
    #[schema(example = "Healthcare", max_length = 100)]
    pub industry: Option<Option<String>>,
    /// Stored in E.164.
    #[schema(example = "+1-555-987-6543")]
    pub phone: Option<Option<String>>,
    /// Unique among live accounts (409 otherwise).
    #[schema(example = "info@newcompany.com")]
    pub email: Option<Option<String>>,
    #[schema(example = "https://newcompany.com")]
    pub website: Option<Option<String>>,
    #[schema(minimum = 1)]
    pub territory: Option<Option<i64>>,
    /// A JSON object (at most 50 keys, 16 KB; values scalars or flat lists).
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Option<Value>>,
    /// Default: the caller.
    #[schema(minimum = 1)]
    pub owner: Option<Option<i64>>,
    /// An active catalog status (default `potential`, also when blank or null on create).
    pub status: Option<Option<String>>,
}

/// The account resource.
pub struct AccountResource;

impl RestResource for AccountResource {
    type R = Accounts;
    type Dto = AccountDto;
    type Body = AccountBody;
    const PATH: &'static str = "/api/crm/accounts/";
    const TAG: &'static str = TAG;
    const ID: &'static str = "rest_accounts";

    fn records(state: &AppState) -> &Records<Accounts> {
        &state.rest.accounts
    }

    fn dto(a: Account) -> AccountDto {
        AccountDto {
            id: a.id,
            name: a.name,
            account_type: a.account_type,
            industry: a.industry,
            phone: a.phone,
            email: a.email,
            website: a.website,
            territory: related(a.territory),
            custom_fields: a.custom_fields,
            owner: related(a.owner),
            status: a.status,
            platform: a.channel.platform,
            username: a.channel.username,
            chat_url: a.channel.chat_url,
            conversation_language: a.channel.conversation_language,
            created_at: iso(a.created_at),
            updated_at: iso(a.updated_at),
        }
    }

    fn input(b: Self::Body) -> AccountInput {
        AccountInput {
            name: b.name,
            account_type: b.account_type,
            industry: b.industry,
            phone: b.phone,
            email: b.email,
            website: b.website,
            territory: b.territory,
            custom_fields: b.custom_fields,
            owner: b.owner,
            status: b.status,
        }
    }
}

/// A contact.
#[derive(Serialize, ToSchema)]
pub struct ContactDto {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub title: Option<String>,
    pub account: Option<RefDto>,
    pub owner: Option<RefDto>,
    #[schema(value_type = Object)]
    pub custom_fields: Value,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of a contact.
#[derive(Deserialize, ToSchema, Default)]
pub struct ContactBody {
    #[schema(example = "Jane", max_length = 150, nullable = false, required = true)]
    pub first_name: Option<Option<String>>,
    #[schema(example = "Smith", max_length = 150, nullable = false, required = true)]
    pub last_name: Option<Option<String>>,
    /// Unique among live contacts, compared lower-case (409 with the existing contact).
    #[schema(example = "jane.smith@newcompany.com")]
    pub email: Option<Option<String>>,
    /// Unique among live contacts once in E.164.
    #[schema(example = "+1-555-987-6543")]
    pub phone: Option<Option<String>>,
    #[schema(example = "CTO", max_length = 150)]
    pub title: Option<Option<String>>,
    #[schema(minimum = 1)]
    pub account: Option<Option<i64>>,
    #[schema(minimum = 1)]
    pub owner: Option<Option<i64>>,
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Option<Value>>,
}

/// The contact resource.
pub struct ContactResource;

impl RestResource for ContactResource {
    type R = Contacts;
    type Dto = ContactDto;
    type Body = ContactBody;
    const PATH: &'static str = "/api/crm/contacts/";
    const TAG: &'static str = TAG;
    const ID: &'static str = "rest_contacts";

    fn records(state: &AppState) -> &Records<Contacts> {
        &state.rest.contacts
    }

    fn dto(c: Contact) -> ContactDto {
        ContactDto {
            id: c.id,
            first_name: c.first_name,
            last_name: c.last_name,
            email: c.email,
            phone: c.phone,
            title: c.title,
            account: related(c.account),
            owner: related(c.owner),
            custom_fields: c.custom_fields,
            created_at: iso(c.created_at),
            updated_at: iso(c.updated_at),
        }
    }

    fn input(b: Self::Body) -> ContactInput {
        ContactInput {
            first_name: b.first_name,
            last_name: b.last_name,
            email: b.email,
            phone: b.phone,
            title: b.title,
            account: b.account,
            owner: b.owner,
            custom_fields: b.custom_fields,
        }
    }
}

/// A lead.
#[derive(Serialize, ToSchema)]
pub struct LeadDto {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_name: Option<String>,
    pub lead_source: Option<String>,
    /// `New`, `Contacted`, `Qualified`, `Unqualified`, `Lost` or `Converted`.
    pub status: String,
    pub territory: Option<RefDto>,
    pub owner: Option<RefDto>,
    #[schema(value_type = Object)]
    pub custom_fields: Value,
    pub converted_account: Option<RefDto>,
    pub converted_contact: Option<RefDto>,
    pub converted_deal: Option<RefDto>,
    pub converted_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of a lead.
#[derive(Deserialize, ToSchema, Default)]
pub struct LeadBody {
    #[schema(example = "Lead", max_length = 150, nullable = false, required = true)]
    pub first_name: Option<Option<String>>,
    #[schema(example = "Prospect", max_length = 150, nullable = false, required = true)]
    pub last_name: Option<Option<String>>,
    /// Unique among live leads.
    #[schema(example = "lead@prospect.com")]
    pub email: Option<Option<String>>,
    #[schema(example = "+1-555-111-2222")]
    pub phone: Option<Option<String>>,
    #[schema(example = "Prospect Company", max_length = 255)]
    pub company_name: Option<Option<String>>,
    #[schema(example = "Website", max_length = 100)]
    pub lead_source: Option<Option<String>>,
    #[schema(schema_with = lead_status)]
    pub status: Option<Option<String>>,
    #[schema(minimum = 1)]
    pub territory: Option<Option<i64>>,
    #[schema(minimum = 1)]
    pub owner: Option<Option<i64>>,
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Option<Value>>,
}

/// The statuses a lead can be given (`Converted` only by converting).
fn lead_status() -> Object {
    let settable: Vec<&str> = LEAD_STATUSES.iter().copied().filter(|s| *s != CONVERTED).collect();
    crate::openapi::choice(&settable, "Default `New`; `Converted` only by converting.")
}

/// The lead resource.
pub struct LeadResource;

impl RestResource for LeadResource {
    type R = Leads;
    type Dto = LeadDto;
    type Body = LeadBody;
    const PATH: &'static str = "/api/crm/leads/";
    const TAG: &'static str = TAG;
    const ID: &'static str = "rest_leads";

    fn records(state: &AppState) -> &Records<Leads> {
        &state.rest.leads
    }

    fn dto(l: Lead) -> LeadDto {
        LeadDto {
            id: l.id,
            first_name: l.first_name,
            last_name: l.last_name,
            email: l.email,
            phone: l.phone,
            company_name: l.company_name,
            lead_source: l.lead_source,
            status: l.status,
            territory: related(l.territory),
            owner: related(l.owner),
            custom_fields: l.custom_fields,
            converted_account: related(l.converted_account),
            converted_contact: related(l.converted_contact),
            converted_deal: related(l.converted_deal),
            converted_at: l.converted_at.map(iso),
            created_at: iso(l.created_at),
            updated_at: iso(l.updated_at),
        }
    }

    fn input(b: Self::Body) -> LeadInput {
        LeadInput {
            first_name: b.first_name,
            last_name: b.last_name,
            email: b.email,
            phone: b.phone,
            company_name: b.company_name,
            lead_source: b.lead_source,
            status: b.status,
            territory: b.territory,
            owner: b.owner,
            custom_fields: b.custom_fields,
        }
    }
}

impl Exchanged for AccountResource {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "name",
        "account_type",
        "industry",
        "phone",
        "email",
        "website",
        "territory",
        "custom_fields",
        "owner",
        "status",
        "created_at",
        "updated_at",
    ];
    const READ_ONLY: &'static [&'static str] = &["id", "created_at", "updated_at"];
    const MERGES: bool = true;
    fn imports(state: &AppState) -> &Imports<Accounts> {
        &state.rest.account_imports
    }
    fn dedupe(state: &AppState) -> &Dedupe<Accounts> {
        &state.rest.account_dedupe
    }
}

impl Exchanged for ContactResource {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "title",
        "account",
        "owner",
        "custom_fields",
        "created_at",
        "updated_at",
    ];
    const READ_ONLY: &'static [&'static str] = &["id", "created_at", "updated_at"];
    const MERGES: bool = true;
    fn imports(state: &AppState) -> &Imports<Contacts> {
        &state.rest.contact_imports
    }
    fn dedupe(state: &AppState) -> &Dedupe<Contacts> {
        &state.rest.contact_dedupe
    }
}

impl Exchanged for LeadResource {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "company_name",
        "lead_source",
        "status",
        "territory",
        "owner",
        "custom_fields",
        "converted_account",
        "converted_contact",
        "converted_deal",
        "converted_at",
        "created_at",
        "updated_at",
    ];
    const READ_ONLY: &'static [&'static str] =
        &["id", "converted_account", "converted_contact", "converted_deal", "converted_at", "created_at", "updated_at"];
    const MERGES: bool = false;
    fn imports(state: &AppState) -> &Imports<Leads> {
        &state.rest.lead_imports
    }
    fn dedupe(state: &AppState) -> &Dedupe<Leads> {
        &state.rest.lead_dedupe
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Collection actions first: the record routes' `{id}` would take `export`.
    exchange::mount::<AccountResource>(cfg);
    exchange::mount::<ContactResource>(cfg);
    exchange::mount::<LeadResource>(cfg);
    mount::<AccountResource>(cfg);
    mount::<ContactResource>(cfg);
    mount::<LeadResource>(cfg);
    cfg.service(web::resource(both(&action_path::<LeadResource>("convert"))).route(web::post().to(convert)));
}

/// What converting a lead answers.
#[derive(Serialize, ToSchema)]
pub struct ConversionDto {
    pub lead: LeadDto,
    pub account: AccountDto,
    pub contact: ContactDto,
    pub deal: Option<DealDto>,
}

async fn convert(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: RestBody,
) -> ApiResult<HttpResponse> {
    state.rest.leads.may_write(&auth.0)?;
    let b: ConvertBody = body.read()?;
    let input = ConversionInput {
        account_id: b.account_id,
        contact_id: b.contact_id,
        deal_id: b.deal_id,
        deal: b.deal.flatten().map(|d| DealSpecInput {
            name: d.name,
            amount: d.amount,
            stage: d.stage,
            expected_close_date: d.expected_close_date,
        }),
    };
    let done = convert_lead(&auth.0, state.rest.lead_conversion.as_ref(), id.into_inner(), input).await?;
    Ok(HttpResponse::Ok().json(ConversionDto {
        lead: LeadResource::dto(done.lead),
        account: AccountResource::dto(done.account),
        contact: ContactResource::dto(done.contact),
        deal: done.deal.map(DealResource::dto),
    }))
}

/// The deal a conversion creates.
#[derive(Deserialize, ToSchema, Default)]
pub struct ConversionDealBody {
    #[schema(example = "Prospect Company - first order", nullable = false, required = true)]
    pub name: Option<Option<String>>,
    #[schema(value_type = Option<f64>, example = 5000.0, minimum = 0)]
    pub amount: Option<Option<Decimal>>,
    /// Default: the first active stage.
    #[schema(minimum = 1)]
    pub stage: Option<Option<i64>>,
    #[schema(example = "2024-04-01")]
    pub expected_close_date: Option<Option<NaiveDate>>,
}

/// `{account_id?, contact_id?, deal_id?, deal?}`: existing records to link; what is not
/// given is created (the account from the company name, the contact from the lead's
/// person, the deal only when `deal` is sent).
#[derive(Deserialize, ToSchema, Default)]
pub struct ConvertBody {
    #[schema(minimum = 1, example = 1)]
    pub account_id: Option<Option<i64>>,
    #[schema(minimum = 1, example = 1)]
    pub contact_id: Option<Option<i64>>,
    #[schema(minimum = 1, example = 1)]
    pub deal_id: Option<Option<i64>>,
    pub deal: Option<Option<ConversionDealBody>>,
}

pub fn document(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    super::scaffold::document::<AccountResource>(paths, schemas);
    super::scaffold::document::<ContactResource>(paths, schemas);
    super::scaffold::document::<LeadResource>(paths, schemas);
    exchange::document::<AccountResource>(paths, schemas);
    exchange::document::<ContactResource>(paths, schemas);
    exchange::document::<LeadResource>(paths, schemas);
    let answer = super::scaffold::schema_ref::<ConversionDto>(schemas);
    let ok =
        json!({"description": "`{lead, account, contact, deal}`", "content": {"application/json": {"schema": answer}}});
    let summary = "Convert a lead into an account, a contact and optionally a deal (409 when converted, or when records like it exist and were not given)";
    document_action::<LeadResource, ConvertBody>(paths, schemas, "convert", summary, ok);
}
