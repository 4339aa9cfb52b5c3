//! `/api/core/companies/`: the organisations users belong to.

use super::activities::{RefDto, related};
use super::scaffold::{RestResource, mount};
use crate::iso;
use crate::state::AppState;
use actix_web::web;
use crm_core::companies::{Companies, Company, CompanyInput};
use crm_core::records::Records;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A company.
#[derive(Serialize, ToSchema)]
pub struct CompanyDto {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub industry: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub is_active: bool,
    /// Who created it (its first admin member).
    pub owner: Option<RefDto>,
    /// How many users belong to it.
    pub members_count: u64,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of a company (writing needs `users.manage`).
#[derive(Deserialize, ToSchema, Default)]
pub struct CompanyBody {
    /// Unique among live companies, case-insensitive.
    #[schema(example = "Company Name", max_length = 200, nullable = false, required = true)]
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub industry: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    #[schema(nullable = false)]
    pub is_active: Option<Option<bool>>,
}

/// The company resource.
pub struct CompanyResource;

impl RestResource for CompanyResource {
    type R = Companies;
    type Dto = CompanyDto;
    type Body = CompanyBody;
    const PATH: &'static str = "/api/core/companies/";
    const TAG: &'static str = "crm-rest: core";
    const ID: &'static str = "rest_companies";

    fn records(state: &AppState) -> &Records<Companies> {
        &state.rest.companies
    }

    fn dto(c: Company) -> CompanyDto {
        CompanyDto {
            id: c.id,
            name: c.name,
            description: c.description,
            industry: c.industry,
            website: c.website,
            phone: c.phone,
            email: c.email,
            is_active: c.is_active,
            owner: related(c.owner),
            members_count: c.members,
            created_at: iso(c.created_at),
            updated_at: iso(c.updated_at),
        }
    }

    fn input(b: Self::Body) -> CompanyInput {
        CompanyInput {
            name: b.name,
            description: b.description,
            industry: b.industry,
            website: b.website,
            phone: b.phone,
            email: b.email,
            is_active: b.is_active,
        }
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    mount::<CompanyResource>(cfg);
}

pub fn document(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    super::scaffold::document::<CompanyResource>(paths, schemas);
}
