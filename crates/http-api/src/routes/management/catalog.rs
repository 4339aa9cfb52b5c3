//! `/management/statuses` and `/management/roles`: the catalogs the CEO manages.

use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::iso;
use crate::state::AppState;
use crate::typed_body::Typed;
use actix_web::{HttpResponse, web};
use management_core::Permission;
use management_core::catalog::{EntryPatch, NewEntry, Status};
use management_core::catalog_service::RoleWithPermissions;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/management/statuses").route(web::get().to(list_statuses)).route(web::post().to(create_status)),
    )
    .service(
        web::resource("/management/statuses/{id}")
            .route(web::put().to(update_status))
            .route(web::patch().to(patch_status))
            .route(web::delete().to(delete_status)),
    )
    .service(web::resource("/management/roles").route(web::get().to(list_roles)).route(web::post().to(create_role)))
    .service(
        web::resource("/management/roles/{id}")
            .route(web::put().to(update_role))
            .route(web::patch().to(patch_role))
            .route(web::delete().to(delete_role)),
    )
    .service(
        web::resource("/management/roles/{id}/permissions")
            .route(web::get().to(get_permissions))
            .route(web::put().to(set_permissions)),
    );
}

/// A customer status.
#[derive(Serialize, ToSchema)]
pub struct StatusDto {
    pub id: i64,
    /// Normalised: lower case, spaces to `_`.
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    /// `#RGB` or `#RRGGBB`.
    pub color: String,
    pub order: i32,
    /// What the CRM v1 surface shows for customers with this status: `active`, `potential` or `waiting`.
    #[schema(example = "potential")]
    pub v1_group: &'static str,
    pub is_active: bool,
    pub is_system: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Status> for StatusDto {
    fn from(s: Status) -> Self {
        StatusDto {
            id: s.id,
            name: s.name,
            display_name: s.display_name,
            description: s.description,
            color: s.color,
            order: s.order,
            v1_group: s.group.as_str(),
            is_active: s.is_active,
            is_system: s.is_system,
            created_at: iso(s.created_at),
            updated_at: iso(s.updated_at),
        }
    }
}

/// A role with the permissions it grants.
#[derive(Serialize, ToSchema)]
pub struct RoleDto {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub is_system: bool,
    /// Permission names (see `GET /management/roles/{id}/permissions`).
    pub permissions: Vec<&'static str>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<RoleWithPermissions> for RoleDto {
    fn from(r: RoleWithPermissions) -> Self {
        RoleDto {
            id: r.role.id,
            name: r.role.name,
            display_name: r.role.display_name,
            description: r.role.description,
            is_active: r.role.is_active,
            is_system: r.role.is_system,
            permissions: r.permissions.iter().map(|p| p.as_str()).collect(),
            created_at: iso(r.role.created_at),
            updated_at: iso(r.role.updated_at),
        }
    }
}

/// Fields of a status or role (`color`, `order` and `v1_group` apply to statuses). On update, `name`
/// and `is_system` may be echoed but not changed.
#[derive(Deserialize, ToSchema, Default)]
pub struct EntryBody {
    #[schema(example = "negotiating")]
    pub name: Option<Option<String>>,
    #[schema(example = "Negotiating")]
    pub display_name: Option<Option<String>>,
    /// Null clears it on update.
    pub description: Option<Option<String>>,
    #[schema(example = "#FF6B6B")]
    pub color: Option<Option<String>>,
    #[schema(minimum = -2147483648i64, maximum = 2147483647)]
    pub order: Option<Option<i64>>,
    /// Statuses: the CRM v1 group, `active`, `potential` (default) or `waiting`.
    #[schema(example = "potential")]
    pub v1_group: Option<Option<String>>,
    pub is_active: Option<Option<bool>>,
    /// Ignored on create (new entries are never system entries).
    pub is_system: Option<Option<bool>>,
}

/// `?reassign_to=<name>`: move the entry's users or customers there first.
#[derive(Deserialize, IntoParams)]
pub struct DeleteQuery {
    pub reassign_to: Option<String>,
}

/// An entry's position, within the stored range.
fn order(order: Option<Option<i64>>) -> ApiResult<Option<i32>> {
    order
        .flatten()
        .map(|o| i32::try_from(o).map_err(|_| ApiError::field("order", "order is out of range.")))
        .transpose()
}

fn new_entry(b: EntryBody) -> ApiResult<NewEntry> {
    Ok(NewEntry {
        name: b.name.flatten(),
        display_name: b.display_name.flatten(),
        description: b.description.flatten(),
        color: b.color.flatten(),
        order: order(b.order)?,
        group: b.v1_group.flatten(),
        is_active: b.is_active.flatten(),
    })
}

fn patch(b: EntryBody) -> ApiResult<EntryPatch> {
    Ok(EntryPatch {
        name: b.name.flatten(),
        is_system: b.is_system.flatten(),
        display_name: b.display_name.flatten(),
        description: b.description,
        color: b.color.flatten(),
        order: order(b.order)?,
        group: b.v1_group.flatten(),
        is_active: b.is_active.flatten(),
    })
}

#[utoipa::path(operation_id = "mgmt_catalog_list_statuses", get, path = "/management/statuses", tag = "management", security(("bearer" = [])),
    responses((status = 200, body = [StatusDto], description = "Ordered by `order`"), (status = 401, description = "`{detail}`")))]
pub async fn list_statuses(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let statuses = state.catalog.statuses(&auth.0).await?;
    Ok(HttpResponse::Ok().json(statuses.into_iter().map(StatusDto::from).collect::<Vec<_>>()))
}

#[utoipa::path(operation_id = "mgmt_catalog_create_status", post, path = "/management/statuses", tag = "management", request_body = EntryBody, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = StatusDto),
        (status = 400, description = "Duplicate name, bad colour (`#RGB`/`#RRGGBB`), missing name"),
        (status = 403, description = "Only the CEO"),
    ))]
pub async fn create_status(auth: Auth, state: web::Data<AppState>, body: Typed<EntryBody>) -> ApiResult<HttpResponse> {
    let status = state.catalog.create_status(&auth.0, new_entry(body.0)?).await?;
    Ok(HttpResponse::Created().json(StatusDto::from(status)))
}

#[utoipa::path(operation_id = "mgmt_catalog_update_status", put, path = "/management/statuses/{id}", tag = "management", params(("id" = i64, Path)), request_body = EntryBody, security(("bearer" = [])),
    responses(
        (status = 200, description = "Success", body = StatusDto),
        (status = 400, description = "No fields, bad colour, or an attempt to change name / is_system"),
        (status = 403, description = "Only the CEO"), (status = 404, description = "No such status"),
    ))]
pub async fn update_status(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Typed<EntryBody>,
) -> ApiResult<HttpResponse> {
    let status = state.catalog.update_status(&auth.0, id.into_inner(), patch(body.0)?).await?;
    Ok(HttpResponse::Ok().json(StatusDto::from(status)))
}

#[utoipa::path(operation_id = "mgmt_catalog_patch_status", patch, path = "/management/statuses/{id}", tag = "management", params(("id" = i64, Path)), request_body = EntryBody, security(("bearer" = [])),
    responses((status = 200, description = "Success", body = StatusDto), (status = 400, description = "As PUT"), (status = 403, description = "Only the CEO"), (status = 404, description = "No such status")))]
pub async fn patch_status(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Typed<EntryBody>,
) -> ApiResult<HttpResponse> {
    update_status(auth, state, id, body).await
}

#[utoipa::path(operation_id = "mgmt_catalog_delete_status", delete, path = "/management/statuses/{id}", tag = "management", params(("id" = i64, Path), DeleteQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "`{message}`"),
        (status = 400, description = "reassign_to is not another active status"),
        (status = 403, description = "Only the CEO; system statuses cannot be deleted"),
        (status = 404, description = "No such status"),
        (status = 409, description = "`{detail, customers_count}`: customers still use it"),
    ))]
pub async fn delete_status(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<DeleteQuery>,
) -> ApiResult<HttpResponse> {
    state.catalog.delete_status(&auth.0, id.into_inner(), q.into_inner().reassign_to).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "Status deleted"})))
}

#[utoipa::path(operation_id = "mgmt_catalog_list_roles", get, path = "/management/roles", tag = "management", security(("bearer" = [])),
    responses((status = 200, body = [RoleDto], description = "Ordered by display_name"), (status = 401, description = "`{detail}`")))]
pub async fn list_roles(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let roles = state.catalog.roles(&auth.0).await?;
    Ok(HttpResponse::Ok().json(roles.into_iter().map(RoleDto::from).collect::<Vec<_>>()))
}

#[utoipa::path(operation_id = "mgmt_catalog_create_role", post, path = "/management/roles", tag = "management", request_body = EntryBody, security(("bearer" = [])),
    responses((status = 201, body = RoleDto, description = "Created with no permissions"), (status = 400, description = "Duplicate or bad name"), (status = 403, description = "Only the CEO")))]
pub async fn create_role(auth: Auth, state: web::Data<AppState>, body: Typed<EntryBody>) -> ApiResult<HttpResponse> {
    let role = state.catalog.create_role(&auth.0, new_entry(body.0)?).await?;
    Ok(HttpResponse::Created().json(RoleDto::from(role)))
}

#[utoipa::path(operation_id = "mgmt_catalog_update_role", put, path = "/management/roles/{id}", tag = "management", params(("id" = i64, Path)), request_body = EntryBody, security(("bearer" = [])),
    responses((status = 200, description = "Success", body = RoleDto), (status = 400, description = "No fields, or an attempt to change name / is_system"), (status = 403, description = "Only the CEO"), (status = 404, description = "No such role")))]
pub async fn update_role(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Typed<EntryBody>,
) -> ApiResult<HttpResponse> {
    let role = state.catalog.update_role(&auth.0, id.into_inner(), patch(body.0)?).await?;
    Ok(HttpResponse::Ok().json(RoleDto::from(role)))
}

#[utoipa::path(operation_id = "mgmt_catalog_patch_role", patch, path = "/management/roles/{id}", tag = "management", params(("id" = i64, Path)), request_body = EntryBody, security(("bearer" = [])),
    responses((status = 200, description = "Success", body = RoleDto), (status = 400, description = "As PUT"), (status = 403, description = "Only the CEO"), (status = 404, description = "No such role")))]
pub async fn patch_role(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Typed<EntryBody>,
) -> ApiResult<HttpResponse> {
    update_role(auth, state, id, body).await
}

#[utoipa::path(operation_id = "mgmt_catalog_delete_role", delete, path = "/management/roles/{id}", tag = "management", params(("id" = i64, Path), DeleteQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "`{message}`"),
        (status = 400, description = "reassign_to is not another active role"),
        (status = 403, description = "Only the CEO; system roles cannot be deleted"),
        (status = 404, description = "No such role"),
        (status = 409, description = "`{detail, users_count}`: users still hold it"),
    ))]
pub async fn delete_role(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<DeleteQuery>,
) -> ApiResult<HttpResponse> {
    state.catalog.delete_role(&auth.0, id.into_inner(), q.into_inner().reassign_to).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "Role deleted"})))
}

/// The permissions a role grants.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Permissions {
    #[schema(schema_with = permission_names)]
    pub permissions: Vec<String>,
}

/// Names from the fixed set of permissions.
fn permission_names() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let names = Permission::ALL.map(Permission::as_str);
    ArrayBuilder::new()
        .description(Some("Names from the fixed set of permissions."))
        .items(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names)))
        .build()
}

#[utoipa::path(operation_id = "mgmt_catalog_get_permissions", get, path = "/management/roles/{id}/permissions", tag = "management", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Success", body = Permissions), (status = 404, description = "No such role")))]
pub async fn get_permissions(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let permissions = state.catalog.role_permissions(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .json(Permissions { permissions: permissions.iter().map(|p| p.as_str().to_string()).collect() }))
}

#[utoipa::path(operation_id = "mgmt_catalog_set_permissions", put, path = "/management/roles/{id}/permissions", tag = "management", params(("id" = i64, Path)), request_body = Permissions, security(("bearer" = [])),
    responses(
        (status = 200, body = Permissions, description = "The role's permissions, replaced"),
        (status = 400, description = "Unknown permission names"),
        (status = 403, description = "Only the CEO; the ceo role always has every permission"),
        (status = 404, description = "No such role"),
    ))]
pub async fn set_permissions(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<Permissions>,
) -> ApiResult<HttpResponse> {
    let permissions =
        state.catalog.set_role_permissions(&auth.0, id.into_inner(), body.into_inner().permissions).await?;
    Ok(HttpResponse::Ok()
        .json(Permissions { permissions: permissions.iter().map(|p| p.as_str().to_string()).collect() }))
}
