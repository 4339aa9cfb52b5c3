//! `/api/system-config/users/`: staff-user administration (`crm-rest-api.md`).

use crate::error::ApiResult;
use crate::extract::Auth;
use crate::pagination::{RestPage, page_request};
use crate::routes::auth::UserDto;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use management_core::ports::UserFilter;
use management_core::{NewUser, UserPatch};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/system-config/users/").route(web::get().to(list)).route(web::post().to(create)))
        .service(
            web::resource("/api/system-config/users/{id}/")
                .route(web::get().to(get))
                .route(web::put().to(replace))
                .route(web::patch().to(patch))
                .route(web::delete().to(deactivate)),
        );
}

/// Filters and paging of the user list.
#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Page number, from 1.
    pub page: Option<u64>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u64>,
    /// Case-insensitive substring of e-mail or name.
    pub search: Option<String>,
    /// Exact role name.
    pub role: Option<String>,
    pub is_active: Option<bool>,
}

/// A new staff user.
#[derive(Deserialize, ToSchema)]
pub struct CreateUserBody {
    #[schema(format = Email)]
    pub email: String,
    /// At least 10 characters, not a common password, not the e-mail's name.
    #[schema(min_length = 10)]
    pub password: String,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// A role of the catalog (default `pending`: no data access).
    pub role: Option<String>,
}

/// Fields to change (at least one); absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[schema(min_properties = 1)]
pub struct UpdateUserBody {
    pub email: Option<String>,
    pub password: Option<String>,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Option<String>,
    pub is_active: Option<bool>,
    /// Your own current password: needed to change your own password or e-mail.
    pub current_password: Option<String>,
}

impl From<UpdateUserBody> for UserPatch {
    fn from(b: UpdateUserBody) -> Self {
        UserPatch {
            email: b.email,
            password: b.password,
            name: b.name,
            first_name: b.first_name,
            last_name: b.last_name,
            role: b.role,
            is_active: b.is_active,
            current_password: b.current_password,
        }
    }
}

/// Answer of a deactivation.
#[derive(Serialize, ToSchema)]
pub struct Deactivated {
    pub message: String,
    pub user: UserDto,
}

#[utoipa::path(operation_id = "system_users_list", get, path = "/api/system-config/users/", tag = "crm-rest", params(ListQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Success", body = RestPage<UserDto>),
        (status = 400, description = "Bad page or filter"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Role lacks users.manage"),
    ))]
pub async fn list(
    req: HttpRequest,
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = page_request(q.page, q.page_size, 20, "page_size")?;
    let filter = UserFilter { search: q.search, role: q.role, is_active: q.is_active };
    let users = state.users.list(&auth.0, &filter, page).await?;
    Ok(HttpResponse::Ok().json(RestPage::new(&req, users.map(UserDto::from))))
}

#[utoipa::path(operation_id = "system_users_create", post, path = "/api/system-config/users/", tag = "crm-rest", request_body = CreateUserBody, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = UserDto),
        (status = 400, description = "Invalid fields or unknown role"),
        (status = 403, description = "Role lacks users.manage"),
        (status = 409, description = "E-mail already in use"),
    ))]
pub async fn create(
    auth: Auth,
    state: web::Data<AppState>,
    body: web::Json<CreateUserBody>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let new_user = NewUser {
        email: b.email,
        password: b.password,
        name: b.name,
        first_name: b.first_name,
        last_name: b.last_name,
        role: b.role,
    };
    let user = state.users.create(&auth.0, new_user).await?;
    Ok(HttpResponse::Created().json(UserDto::from(user)))
}

#[utoipa::path(operation_id = "system_users_get", get, path = "/api/system-config/users/{id}/", tag = "crm-rest", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Success", body = UserDto), (status = 403, description = "Role lacks users.manage"), (status = 404, description = "No such user")))]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let user = state.users.get(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(UserDto::from(user)))
}

#[utoipa::path(operation_id = "system_users_replace", put, path = "/api/system-config/users/{id}/", tag = "crm-rest", params(("id" = i64, Path)), request_body = UpdateUserBody, security(("bearer" = [])),
    responses(
        (status = 200, description = "Success", body = UserDto),
        (status = 400, description = "Invalid fields, unknown role, or nothing to change"),
        (status = 403, description = "Role lacks users.manage, or only a CEO may change a CEO"),
        (status = 404, description = "No such user"),
        (status = 409, description = "E-mail in use, or the change would remove the last active CEO"),
    ))]
pub async fn replace(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<UpdateUserBody>,
) -> ApiResult<HttpResponse> {
    let user = state.users.update(&auth.0, id.into_inner(), body.into_inner().into()).await?;
    Ok(HttpResponse::Ok().json(UserDto::from(user)))
}

#[utoipa::path(operation_id = "system_users_patch", patch, path = "/api/system-config/users/{id}/", tag = "crm-rest", params(("id" = i64, Path)), request_body = UpdateUserBody, security(("bearer" = [])),
    responses(
        (status = 200, description = "Success", body = UserDto),
        (status = 400, description = "Invalid fields, unknown role, or nothing to change"),
        (status = 403, description = "Role lacks users.manage"),
        (status = 404, description = "No such user"),
        (status = 409, description = "E-mail in use, or the last active CEO"),
    ))]
pub async fn patch(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<UpdateUserBody>,
) -> ApiResult<HttpResponse> {
    replace(auth, state, id, body).await
}

#[utoipa::path(operation_id = "system_users_deactivate", delete, path = "/api/system-config/users/{id}/", tag = "crm-rest", params(("id" = i64, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = Deactivated, description = "Deactivated (users are never destroyed)"),
        (status = 403, description = "Role lacks users.manage"),
        (status = 404, description = "No such user"),
        (status = 409, description = "The last active CEO cannot be deactivated"),
    ))]
pub async fn deactivate(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let user = state.users.deactivate(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(Deactivated { message: "User deactivated".into(), user: user.into() }))
}
