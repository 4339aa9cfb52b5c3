//! `/api/v1/auth`: sign-in for the CRM v1 frontend, in its `{success,data}` envelope.

use super::{v1_message, v1_ok};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, bearer_token, client_ip};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use management_core::{LoginRequest, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/auth/login").route(web::post().to(login)))
        .service(web::resource("/api/v1/auth/logout").route(web::post().to(logout)))
        .service(web::resource("/api/v1/auth/refresh").route(web::post().to(refresh)));
}

/// E-mail and password.
#[derive(Deserialize, ToSchema)]
pub struct V1LoginBody {
    #[schema(example = "admin@example.com")]
    pub email: String,
    #[schema(example = "password123")]
    pub password: String,
}

/// The signed-in user as the CRM v1 frontend shows it.
#[derive(Serialize, ToSchema)]
pub struct V1User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
}

impl From<User> for V1User {
    fn from(u: User) -> Self {
        V1User { id: u.id, email: u.email, name: u.name, role: u.role }
    }
}

/// `data` of a successful sign-in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V1LoginData {
    pub user: V1User,
    /// Access token (JWT), valid on every surface.
    pub token: String,
    pub refresh_token: String,
    /// Seconds until `token` expires.
    pub expires_in: i64,
}

/// `data` of a successful refresh.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V1TokenData {
    pub token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// The refresh token; it may instead come as `Authorization: Bearer <refreshToken>`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V1RefreshBody {
    pub refresh_token: Option<String>,
}

#[utoipa::path(operation_id = "v1_auth_login", post, path = "/api/v1/auth/login", tag = "crm-v1", request_body = V1LoginBody,
    responses(
        (status = 200, description = "`{success:true, data: V1LoginData}`", body = V1LoginData),
        (status = 400, description = "Missing e-mail or password"),
        (status = 401, description = "Invalid credentials"),
        (status = 429, description = "Too many failed attempts"),
    ))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<V1LoginBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let (user, tokens) = state
        .auth
        .login(LoginRequest { email: body.email, password: body.password, client_ip: client_ip(&req), remember: false })
        .await?;
    Ok(v1_ok(V1LoginData {
        user: user.into(),
        token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_in: tokens.access_expires_in,
    }))
}

#[utoipa::path(operation_id = "v1_auth_logout", post, path = "/api/v1/auth/logout", tag = "crm-v1", security(("bearer" = [])),
    responses(
        (status = 200, description = "`{success:true, message:\"Successfully logged out\"}`"),
        (status = 401, description = "Missing, invalid or revoked token"),
    ))]
pub async fn logout(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    state.auth.logout(&auth.0).await?;
    Ok(v1_message("Successfully logged out"))
}

#[utoipa::path(operation_id = "v1_auth_refresh", post, path = "/api/v1/auth/refresh", tag = "crm-v1", request_body(content = V1RefreshBody, description = "Optional when the refresh token is sent as a bearer token"),
    responses(
        (status = 200, description = "`{success:true, data: V1TokenData}`; the old refresh token is spent", body = V1TokenData),
        (status = 400, description = "No refresh token given"),
        (status = 401, description = "Invalid, expired or reused refresh token (reuse revokes the session)"),
    ))]
pub async fn refresh(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> ApiResult<HttpResponse> {
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let parsed: V1RefreshBody =
            serde_json::from_slice(&body).map_err(|e| ApiError::validation(format!("Malformed JSON body: {e}")))?;
        parsed.refresh_token
    };
    let token = from_body
        .or_else(|| bearer_token(&req))
        .ok_or_else(|| ApiError::field("refreshToken", "Refresh token is required (body or Authorization header)."))?;
    let (_, tokens) = state.auth.refresh(&token).await?;
    Ok(v1_ok(V1TokenData {
        token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_in: tokens.access_expires_in,
    }))
}
