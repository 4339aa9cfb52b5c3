//! `/auth/login`, `/auth/refresh`, `/auth/me`: the CIMS (FastAPI) sign-in, on the same tokens.

use crate::error::ApiResult;
use crate::extract::{Auth, JsonOrForm, client_ip};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use management_core::{IssuedTokens, LoginRequest, Permission, Principal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/login").route(web::post().to(login)))
        .service(web::resource("/auth/refresh").route(web::post().to(refresh)))
        .service(web::resource("/auth/me").route(web::get().to(me)));
}

/// OAuth2 password form (`application/x-www-form-urlencoded`) or the same fields as JSON;
/// `username` is the e-mail (`email` is accepted too).
#[derive(Deserialize, ToSchema)]
pub struct PasswordForm {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: String,
}

/// OAuth2 token answer.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    pub refresh_token: String,
    /// Seconds until `access_token` expires.
    pub expires_in: i64,
}

impl From<IssuedTokens> for TokenResponse {
    fn from(t: IssuedTokens) -> Self {
        TokenResponse {
            access_token: t.access_token,
            token_type: "bearer",
            refresh_token: t.refresh_token,
            expires_in: t.access_expires_in,
        }
    }
}

#[utoipa::path(operation_id = "mgmt_auth_login", post, path = "/auth/login", tag = "management",
    request_body(content = PasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Success", body = TokenResponse),
        (status = 401, description = "`{\"detail\":\"Invalid credentials\"}`"),
        (status = 415, description = "Neither a form nor JSON"),
        (status = 429, description = "Too many failed attempts"),
    ))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    JsonOrForm(form): JsonOrForm<PasswordForm>,
) -> ApiResult<HttpResponse> {
    let email = form.username.or(form.email).unwrap_or_default();
    let (_, tokens) = state
        .auth
        .login(LoginRequest { email, password: form.password, client_ip: client_ip(&req), remember: false })
        .await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(tokens)))
}

/// `{refresh_token}`.
#[derive(Deserialize, ToSchema)]
#[schema(as = CimsRefreshBody)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[utoipa::path(operation_id = "mgmt_auth_refresh", post, path = "/auth/refresh", tag = "management", request_body = RefreshBody,
    responses((status = 200, description = "Success", body = TokenResponse), (status = 401, description = "Invalid, expired or reused refresh token")))]
pub async fn refresh(state: web::Data<AppState>, body: web::Json<RefreshBody>) -> ApiResult<HttpResponse> {
    let (_, tokens) = state.auth.refresh(&body.refresh_token).await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(tokens)))
}

/// The signed-in user as the CIMS UI reads it.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub email: String,
    /// First name.
    pub name: String,
    /// Last name.
    pub surname: String,
    /// The CIMS organisation code (users are not split by organisation here: always null).
    pub company_code: Option<String>,
    /// The CIMS role value: `CEO`, `Admin`, `SalesManager`, `Finance`, `Member`, `Customer`,
    /// or the catalog's display name for other roles.
    #[schema(example = "CEO")]
    pub role: String,
    /// The role's name in our catalog (`ceo`, `sales_manager`, ...).
    #[schema(example = "ceo")]
    pub role_name: String,
    /// Job title: the role's display name.
    pub job_title: Option<String>,
    pub profile_image: Option<String>,
    pub is_active: bool,
    /// Which CIMS pages the user may open (see `docs/management.md`).
    pub permissions: CimsPermissions,
}

/// The CIMS page keys, each derived from the role's permissions.
#[derive(Serialize, ToSchema, Debug, PartialEq, Eq)]
pub struct CimsPermissions {
    /// `catalog.manage`: the CEO pages (statuses, roles).
    pub ceo: bool,
    /// `crm.read`.
    pub crm: bool,
    /// `analytics.read`.
    pub finance_list: bool,
    /// `analytics.read` and `crm.read`.
    pub payment_list: bool,
    /// `crm.write`.
    pub project_toggle: bool,
    /// `crm.read`.
    pub update_list: bool,
}

impl CimsPermissions {
    /// The page keys a caller with `permissions` may open.
    pub fn of(principal: &Principal) -> Self {
        let can = |p| principal.can(p);
        CimsPermissions {
            ceo: can(Permission::CatalogManage),
            crm: can(Permission::CrmRead),
            finance_list: can(Permission::AnalyticsRead),
            payment_list: can(Permission::AnalyticsRead) && can(Permission::CrmRead),
            project_toggle: can(Permission::CrmWrite),
            update_list: can(Permission::CrmRead),
        }
    }
}

/// The CIMS role value of a catalog role.
pub fn cims_role(name: &str, display_name: Option<&str>) -> String {
    match name {
        "ceo" => "CEO".into(),
        "admin" => "Admin".into(),
        "sales_manager" => "SalesManager".into(),
        "financial_director" => "Finance".into(),
        "member" => "Member".into(),
        "customer" => "Customer".into(),
        other => display_name.unwrap_or(other).to_string(),
    }
}

#[utoipa::path(operation_id = "mgmt_auth_me", get, path = "/auth/me", tag = "management", security(("bearer" = [])),
    responses((status = 200, description = "Success", body = Me), (status = 401, description = "`{detail}`")))]
pub async fn me(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let (u, role) = state.auth.profile_with_role(&auth.0).await?;
    let display = role.as_ref().map(|r| r.display_name.clone());
    Ok(HttpResponse::Ok().json(Me {
        id: u.id,
        email: u.email,
        name: u.first_name,
        surname: u.last_name,
        company_code: None,
        role: cims_role(&u.role, display.as_deref()),
        role_name: u.role,
        job_title: display,
        profile_image: None,
        is_active: u.is_active,
        permissions: CimsPermissions::of(&auth.0),
    }))
}
