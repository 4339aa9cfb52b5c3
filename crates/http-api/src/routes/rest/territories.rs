//! `/api/territories/territories/`: territories, and assigning accounts to them.

use super::body::RestBody;
use super::scaffold::{RestResource, action_path, document_action};
use crate::error::ApiResult;
use crate::extract::Auth;
use crate::iso;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use crm_core::records::Records;
use crm_core::territories::{Territories, Territory, TerritoryInput, assign_accounts};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

/// A territory.
#[derive(Serialize, ToSchema)]
pub struct TerritoryDto {
    pub id: i64,
    #[schema(example = "North Territory")]
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of a territory.
#[derive(Deserialize, ToSchema, Default)]
pub struct TerritoryBody {
    /// Required; unique among live territories, case-insensitive (409 otherwise). At most 100 characters.
    #[schema(example = "New Territory", max_length = 100, nullable = false, required = true)]
    pub name: Option<Option<String>>,
    #[schema(max_length = 10000)]
    pub description: Option<Option<String>>,
    /// Default true.
    #[schema(nullable = false)]
    pub is_active: Option<Option<bool>>,
}

/// The territory resource.
pub struct TerritoryResource;

impl RestResource for TerritoryResource {
    type R = Territories;
    type Dto = TerritoryDto;
    type Body = TerritoryBody;
    const PATH: &'static str = "/api/territories/territories/";
    const TAG: &'static str = "crm-rest: territories";
    const ID: &'static str = "rest_territories";

    fn records(state: &AppState) -> &Records<Territories> {
        &state.rest.territories
    }

    fn dto(t: Territory) -> TerritoryDto {
        TerritoryDto {
            id: t.id,
            name: t.name,
            description: t.description,
            is_active: t.is_active,
            created_at: iso(t.created_at),
            updated_at: iso(t.updated_at),
        }
    }

    fn input(b: Self::Body) -> TerritoryInput {
        TerritoryInput { name: b.name, description: b.description, is_active: b.is_active }
    }
}

/// `POST …/{id}/assign-accounts/ {account_ids}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    super::scaffold::mount::<TerritoryResource>(cfg);
    let path = action_path::<TerritoryResource>("assign-accounts");
    cfg.service(web::resource(super::scaffold::both(&path)).route(web::post().to(assign)));
}

async fn assign(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>, body: RestBody) -> ApiResult<HttpResponse> {
    state.rest.territories.may_write(&auth.0)?;
    let b: AssignAccountsBody = body.read()?;
    let ids = b.account_ids.flatten().unwrap_or_default();
    let (count, territory) =
        assign_accounts(&auth.0, state.rest.territory_assignments.as_ref(), id.into_inner(), ids).await?;
    Ok(HttpResponse::Ok().json(json!({"assigned": count, "territory": {"id": territory.id, "name": territory.name}})))
}

/// `{account_ids}`.
#[derive(Deserialize, ToSchema, Default)]
pub struct AssignAccountsBody {
    /// Live account ids (1 to 1000): all are assigned, or none (unknown ids are listed in a 400).
    #[schema(example = json!([1, 2, 3]), nullable = false, required = true)]
    pub account_ids: Option<Option<Vec<i64>>>,
}

/// The documentation of the action.
pub fn document(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    super::scaffold::document::<TerritoryResource>(paths, schemas);
    let answer = json!({"description": "`{assigned, territory: {id, name}}`", "content": {"application/json": {"schema": {
        "type": "object", "required": ["assigned", "territory"], "properties": {
            "assigned": {"type": "integer"},
            "territory": {"$ref": "#/components/schemas/RefDto"}}}}}});
    let summary = "Assign accounts to a territory";
    document_action::<TerritoryResource, AssignAccountsBody>(paths, schemas, "assign-accounts", summary, answer);
}
