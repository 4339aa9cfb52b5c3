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
use crm_core::accounts::{Account, AccountInput, Accounts};
use crm_core::contacts::{Contact, ContactInput, Contacts};
use crm_core::exchange::{Dedupe, Imports};
use crm_core::leads::{ConversionInput, DealSpecInput, Lead, LeadInput, Leads, convert_lead};
use crm_core::records::Records;
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

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
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AccountBody {
    #[schema(example = "New Company", max_length = 255)]
    pub name: String,
    #[schema(example = "Prospect", max_length = 50)]
    pub account_type: Option<String>,
    #[schema(example = "Healthcare", max_length = 100)]
    pub industry: Option<String>,
    /// Stored in E.164.
    #[schema(example = "+1-555-987-6543")]
    pub phone: Option<String>,
    /// Unique among live accounts (409 otherwise).
    #[schema(example = "info@newcompany.com")]
    pub email: Option<String>,
    #[schema(example = "https://newcompany.com")]
    pub website: Option<String>,
    #[schema(minimum = 1)]
    pub territory: Option<i64>,
    /// A JSON object (at most 50 keys, 16 KB; values scalars or flat lists).
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Value>,
    /// Default: the caller.
    #[schema(minimum = 1)]
    pub owner: Option<i64>,
    /// An active catalog status (default `potential`).
    pub status: Option<String>,
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

    fn input(b: &RestBody) -> AccountInput {
        AccountInput {
            name: b.text("name"),
            account_type: b.text("account_type"),
            industry: b.text("industry"),
            phone: b.text("phone"),
            email: b.text("email"),
            website: b.text("website"),
            territory: b.id("territory"),
            custom_fields: b.json("custom_fields"),
            owner: b.id("owner"),
            status: b.text("status"),
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
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ContactBody {
    #[schema(example = "Jane", max_length = 150)]
    pub first_name: String,
    #[schema(example = "Smith", max_length = 150)]
    pub last_name: String,
    /// Unique among live contacts, compared lower-case (409 with the existing contact).
    #[schema(example = "jane.smith@newcompany.com")]
    pub email: Option<String>,
    /// Unique among live contacts once in E.164.
    #[schema(example = "+1-555-987-6543")]
    pub phone: Option<String>,
    #[schema(example = "CTO", max_length = 150)]
    pub title: Option<String>,
    #[schema(minimum = 1)]
    pub account: Option<i64>,
    #[schema(minimum = 1)]
    pub owner: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Value>,
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

    fn input(b: &RestBody) -> ContactInput {
        ContactInput {
            first_name: b.text("first_name"),
            last_name: b.text("last_name"),
            email: b.text("email"),
            phone: b.text("phone"),
            title: b.text("title"),
            account: b.id("account"),
            owner: b.id("owner"),
            custom_fields: b.json("custom_fields"),
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
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct LeadBody {
    #[schema(example = "Lead", max_length = 150)]
    pub first_name: String,
    #[schema(example = "Prospect", max_length = 150)]
    pub last_name: String,
    /// Unique among live leads.
    #[schema(example = "lead@prospect.com")]
    pub email: Option<String>,
    #[schema(example = "+1-555-111-2222")]
    pub phone: Option<String>,
    #[schema(example = "Prospect Company", max_length = 255)]
    pub company_name: Option<String>,
    #[schema(example = "Website", max_length = 100)]
    pub lead_source: Option<String>,
    /// Default `New`; `Converted` only by converting.
    #[schema(nullable = false)]
    pub status: Option<String>,
    #[schema(minimum = 1)]
    pub territory: Option<i64>,
    #[schema(minimum = 1)]
    pub owner: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Value>,
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

    fn input(b: &RestBody) -> LeadInput {
        LeadInput {
            first_name: b.text("first_name"),
            last_name: b.text("last_name"),
            email: b.text("email"),
            phone: b.text("phone"),
            company_name: b.text("company_name"),
            lead_source: b.text("lead_source"),
            status: b.text("status"),
            territory: b.id("territory"),
            owner: b.id("owner"),
            custom_fields: b.json("custom_fields"),
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
    let deal = body.object("deal");
    let input = ConversionInput {
        account_id: body.id("account_id"),
        contact_id: body.id("contact_id"),
        deal_id: body.id("deal_id"),
        deal: deal.as_ref().map(|d| DealSpecInput {
            name: d.text("name"),
            amount: d.decimal("amount"),
            stage: d.id("stage"),
            expected_close_date: d.date("expected_close_date"),
        }),
    };
    body.finish()?;
    if let Some(d) = &deal {
        d.finish_under("deal")?;
    }
    let done = convert_lead(&auth.0, state.rest.lead_conversion.as_ref(), id.into_inner(), input).await?;
    Ok(HttpResponse::Ok().json(ConversionDto {
        lead: LeadResource::dto(done.lead),
        account: AccountResource::dto(done.account),
        contact: ContactResource::dto(done.contact),
        deal: done.deal.map(DealResource::dto),
    }))
}

/// The deal a conversion creates.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ConversionDealBody {
    #[schema(example = "Prospect Company - first order")]
    pub name: String,
    #[schema(example = 5000.0, minimum = 0)]
    pub amount: Option<f64>,
    /// Default: the first active stage.
    #[schema(minimum = 1)]
    pub stage: Option<i64>,
    #[schema(example = "2024-04-01")]
    pub expected_close_date: Option<String>,
}

/// `{account_id?, contact_id?, deal_id?, deal?}`: existing records to link; what is not
/// given is created (the account from the company name, the contact from the lead's
/// person, the deal only when `deal` is sent).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ConvertBody {
    #[schema(minimum = 1, example = 1)]
    pub account_id: Option<i64>,
    #[schema(minimum = 1, example = 1)]
    pub contact_id: Option<i64>,
    #[schema(minimum = 1, example = 1)]
    pub deal_id: Option<i64>,
    pub deal: Option<ConversionDealBody>,
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
