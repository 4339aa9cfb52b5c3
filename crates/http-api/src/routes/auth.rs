//! `/api/auth/*` and `/api/core/profile/`: sign-in shared by the call-center frontend
//! (`callcenter-ai-integration.md`) and the REST frontend (`crm-rest-api.md`).

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, JsonOrForm, client_ip};
use crate::iso;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use crm_core::companies::{Membership, register_founder};
use management_core::{LoginRequest, NewUser, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/auth/login").route(web::post().to(login)))
        .service(web::resource("/api/auth/login/").route(web::post().to(login_slash)))
        .service(web::resource("/api/auth/refresh/").route(web::post().to(refresh)))
        .service(web::resource("/api/auth/register/").route(web::post().to(register)))
        .service(web::resource("/api/auth/password/change/").route(web::post().to(change_password)))
        .service(web::resource("/api/core/profile/").route(web::get().to(profile)));
}

/// Credentials; `remember` lengthens the refresh token's life.
#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    #[schema(example = "operator@demo.uz")]
    pub email: String,
    #[schema(example = "password123")]
    pub password: String,
    #[serde(default)]
    pub remember: bool,
}

/// The signed-in user, with the fields both frontends read.
#[derive(Serialize, ToSchema)]
pub struct LoginUser {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    pub first_name: String,
    pub last_name: String,
}

impl From<User> for LoginUser {
    fn from(u: User) -> Self {
        LoginUser {
            id: u.id,
            name: u.name,
            email: u.email,
            role: u.role,
            first_name: u.first_name,
            last_name: u.last_name,
        }
    }
}

/// One body for both contracts: `token`/`expiresIn` (call center), `access`/`refresh` (REST).
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub user: LoginUser,
    /// Access token (JWT).
    pub token: String,
    /// Seconds until the access token expires.
    #[serde(rename = "expiresIn")]
    pub expires_in: i64,
    /// The same access token, under the REST contract's name.
    pub access: String,
    /// Refresh token (single use; rotated by `/api/auth/refresh/`).
    pub refresh: String,
}

#[utoipa::path(operation_id = "auth_login", post, path = "/api/auth/login", tag = "callcenter", request_body = LoginBody,
    responses(
        (status = 200, description = "Success", body = LoginResponse),
        (status = 401, description = "`{\"error\":\"Invalid credentials\",\"message\":\"Invalid credentials\"}`"),
        (status = 429, description = "Too many failed attempts; see Retry-After"),
    ))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    JsonOrForm(body): JsonOrForm<LoginBody>,
) -> ApiResult<HttpResponse> {
    let (user, tokens) = state
        .auth
        .login(LoginRequest {
            email: body.email,
            password: body.password,
            client_ip: client_ip(&req),
            remember: body.remember,
        })
        .await?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        user: user.into(),
        token: tokens.access_token.clone(),
        expires_in: tokens.access_expires_in,
        access: tokens.access_token,
        refresh: tokens.refresh_token,
    }))
}

/// The same sign-in at the REST contract's path (with the trailing slash).
#[utoipa::path(operation_id = "auth_login_slash", post, path = "/api/auth/login/", tag = "crm-rest", request_body = LoginBody,
    responses((status = 200, description = "Success", body = LoginResponse), (status = 401, description = "Invalid credentials"), (status = 429, description = "Throttled")))]
pub async fn login_slash(
    req: HttpRequest,
    state: web::Data<AppState>,
    JsonOrForm(body): JsonOrForm<LoginBody>,
) -> ApiResult<HttpResponse> {
    login(req, state, JsonOrForm(body)).await
}

/// `{refresh}`: a refresh token.
#[derive(Deserialize, ToSchema)]
pub struct RefreshBody {
    pub refresh: String,
}

/// A new pair; the presented refresh token is spent.
#[derive(Serialize, ToSchema)]
pub struct RefreshResponse {
    pub access: String,
    pub refresh: String,
    pub token: String,
    #[serde(rename = "expiresIn")]
    pub expires_in: i64,
}

#[utoipa::path(operation_id = "auth_refresh", post, path = "/api/auth/refresh/", tag = "crm-rest", request_body = RefreshBody,
    responses(
        (status = 200, description = "Success", body = RefreshResponse),
        (status = 401, description = "Invalid, expired or reused refresh token (reuse revokes the session)"),
    ))]
pub async fn refresh(state: web::Data<AppState>, JsonOrForm(body): JsonOrForm<RefreshBody>) -> ApiResult<HttpResponse> {
    let (_, tokens) = state.auth.refresh(&body.refresh).await?;
    Ok(HttpResponse::Ok().json(RefreshResponse {
        access: tokens.access_token.clone(),
        refresh: tokens.refresh_token,
        token: tokens.access_token,
        expires_in: tokens.access_expires_in,
    }))
}

/// Self-registration (`crm-rest-api.md`); `password2` must repeat `password`.
#[derive(Deserialize, ToSchema)]
pub struct RegisterBody {
    pub email: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub password: String,
    pub password2: String,
    /// Creates this company with the new user as its admin member; a name a live company
    /// already has is a 409 (registering never joins an existing company).
    #[serde(default)]
    pub company_name: Option<String>,
}

/// A staff user as the REST surface shows it.
#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        UserDto {
            id: u.id,
            email: u.email,
            name: u.name,
            first_name: u.first_name,
            last_name: u.last_name,
            role: u.role,
            is_active: u.is_active,
            created_at: iso(u.created_at),
            updated_at: iso(u.updated_at),
        }
    }
}

#[utoipa::path(operation_id = "auth_register", post, path = "/api/auth/register/", tag = "crm-rest", request_body = RegisterBody,
    responses(
        (status = 201, body = Profile, description = "Created with role `pending` (no data access until an administrator gives a role), with the company it founded"),
        (status = 400, description = "Invalid fields, or password2 does not match"),
        (status = 403, description = "Registration is switched off"),
        (status = 409, description = "E-mail already registered, or the company name is taken (`details.candidates`)"),
    ))]
pub async fn register(
    state: web::Data<AppState>,
    JsonOrForm(body): JsonOrForm<RegisterBody>,
) -> ApiResult<HttpResponse> {
    if body.password != body.password2 {
        return Err(ApiError::field("password2", "Password fields didn't match."));
    }
    let new_user = NewUser {
        email: body.email,
        password: body.password,
        name: body.name,
        first_name: body.first_name,
        last_name: body.last_name,
        role: None,
    };
    let (user, memberships) = register_founder(state.rest.memberships.as_ref(), body.company_name.as_deref(), || {
        state.auth.register(new_user)
    })
    .await?;
    let companies = memberships.into_iter().map(MembershipDto::from).collect();
    Ok(HttpResponse::Created().json(Profile { user: user.into(), companies }))
}

/// A company the user belongs to, with the user's role there.
#[derive(Serialize, ToSchema)]
pub struct MembershipDto {
    pub id: i64,
    pub name: String,
    /// `admin` or `member`: grants no data permission by itself (the system role does).
    pub role: String,
}

impl From<Membership> for MembershipDto {
    fn from(m: Membership) -> Self {
        MembershipDto { id: m.id, name: m.name, role: m.role }
    }
}

/// The caller's profile.
#[derive(Serialize, ToSchema)]
pub struct Profile {
    #[serde(flatten)]
    pub user: UserDto,
    /// Companies the user belongs to, with the user's role there.
    pub companies: Vec<MembershipDto>,
}

#[utoipa::path(operation_id = "auth_profile", get, path = "/api/core/profile/", tag = "crm-rest", security(("bearer" = [])),
    responses((status = 200, description = "Success", body = Profile), (status = 401, description = "Not signed in")))]
pub async fn profile(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let user = state.auth.profile(&auth.0).await?;
    let companies = state.rest.memberships.memberships_of(user.id).await?;
    let companies = companies.into_iter().map(MembershipDto::from).collect();
    Ok(HttpResponse::Ok().json(Profile { user: user.into(), companies }))
}

/// A password change by the signed-in user (dj-rest-auth's names; `current_password` and
/// `new_password` are accepted too).
#[derive(Deserialize, ToSchema)]
pub struct PasswordChangeBody {
    #[serde(alias = "current_password")]
    #[schema(min_length = 1)]
    pub old_password: String,
    /// At least 10 characters, not a common password, not the e-mail's name.
    #[serde(alias = "new_password")]
    #[schema(min_length = 10)]
    pub new_password1: String,
    /// Repeats the new password, when given.
    pub new_password2: Option<String>,
}

/// `{detail}`.
#[derive(Serialize, ToSchema)]
pub struct Detail {
    pub detail: String,
}

#[utoipa::path(operation_id = "auth_password_change", post, path = "/api/auth/password/change/", tag = "crm-rest", request_body = PasswordChangeBody, security(("bearer" = [])),
    description = "Changes the caller's own password. Every other session of the caller ends; the one that made the change stays signed in.",
    responses(
        (status = 200, description = "`{\"detail\":\"New password has been saved.\"}`", body = Detail),
        (status = 400, description = "Wrong current password, a new password the policy refuses (at least 10 characters, not a common password, not the e-mail name), or the repetition differs"),
        (status = 401, description = "Not signed in"),
    ))]
pub async fn change_password(
    auth: Auth,
    state: web::Data<AppState>,
    body: web::Json<PasswordChangeBody>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    if b.new_password2.as_ref().is_some_and(|p2| *p2 != b.new_password1) {
        return Err(ApiError::field("new_password2", "The two password fields didn't match."));
    }
    state.auth.change_password(&auth.0, &b.old_password, &b.new_password1).await?;
    Ok(HttpResponse::Ok().json(Detail { detail: "New password has been saved.".into() }))
}
