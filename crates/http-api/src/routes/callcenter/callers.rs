//! `/api/users`: callers (the people who call or chat; not staff).

use super::{array, list_page};
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::iso;
use crate::lenient;
use crate::state::AppState;
use crate::typed_body::Typed;
use actix_web::{HttpResponse, web};
use callcenter_core::caller::{Caller, CallerInput};
use callcenter_core::memory::AiContext;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/users").route(web::get().to(list)).route(web::post().to(create)))
        .service(web::resource("/api/users/{id}").route(web::get().to(get)).route(web::put().to(update)))
        .service(
            web::resource("/api/users/{id}/context")
                .route(web::get().to(get_context))
                .route(web::put().to(put_context)),
        );
}

/// A caller.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallerDto {
    /// `u_…`
    pub id: String,
    pub full_name: String,
    /// E.164.
    pub phone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `uz`, `ru` or `en`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The CRM customer with the same phone, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<i64>,
    pub created_at: String,
}

impl From<Caller> for CallerDto {
    fn from(c: Caller) -> Self {
        CallerDto {
            id: c.id,
            full_name: c.full_name,
            phone: c.phone.unwrap_or_default(),
            email: c.email,
            region: c.region,
            language: c.language,
            customer_id: c.customer_id,
            created_at: iso(c.created_at),
        }
    }
}

/// A new caller.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct NewCallerBody {
    /// Not blank.
    #[schema(pattern = "\\S", required = true, nullable = false)]
    pub full_name: Option<Option<String>>,
    /// Any common format; stored as E.164 and unique.
    #[schema(min_length = 8, required = true, nullable = false)]
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub language: Option<Option<String>>,
}

/// A change of a caller: absent fields stay as they are and `null` clears optional ones; at
/// least one field.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
#[schema(min_properties = 1)]
pub struct CallerChangeBody {
    /// Not blank.
    #[schema(pattern = "\\S", nullable = false)]
    pub full_name: Option<Option<String>>,
    /// Any common format; stored as E.164 and unique.
    #[schema(min_length = 8, nullable = false)]
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub language: Option<Option<String>>,
}

/// Search and paging of the caller list.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Case-insensitive substring of name, phone or e-mail.
    pub query: Option<String>,
    pub page: Option<u64>,
    /// 1 to 1000 (default 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub page_size: Option<u64>,
}

#[utoipa::path(operation_id = "cc_users_list", get, path = "/api/users", tag = "callcenter", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "Newest first; the total is in `X-Total-Count`", body = [CallerDto]), (status = 401, description = "Not signed in"), (status = 403, description = "callcenter.read needed")))]
pub async fn list(auth: Auth, state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = state.callcenter.callers(&auth.0, q.query, list_page(q.page, q.page_size)?).await?;
    Ok(array(page, CallerDto::from))
}

#[utoipa::path(operation_id = "cc_users_get", get, path = "/api/users/{id}", tag = "callcenter", params(("id" = String, Path, pattern = "^u_[A-Za-z0-9_-]{1,60}$")), security(("bearer" = [])),
    responses((status = 200, description = "Success", body = CallerDto), (status = 400, description = "Not a caller id"), (status = 404, description = "No such caller")))]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(CallerDto::from(state.callcenter.get_caller(&auth.0, &id).await?)))
}

#[utoipa::path(operation_id = "cc_users_create", post, path = "/api/users", tag = "callcenter", request_body = NewCallerBody, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = CallerDto), (status = 400, description = "fullName and phone are required; phone, e-mail and language are checked"), (status = 409, description = "A caller with this phone exists")))]
pub async fn create(auth: Auth, state: web::Data<AppState>, body: Typed<NewCallerBody>) -> ApiResult<HttpResponse> {
    let b = body.0;
    let input = CallerInput {
        full_name: b.full_name.flatten(),
        phone: b.phone.flatten(),
        email: b.email,
        region: b.region,
        language: b.language,
    };
    let caller = state.callcenter.create_caller(&auth.0, input).await?;
    Ok(HttpResponse::Created().json(CallerDto::from(caller)))
}

#[utoipa::path(operation_id = "cc_users_update", put, path = "/api/users/{id}", tag = "callcenter", params(("id" = String, Path, pattern = "^u_[A-Za-z0-9_-]{1,60}$")), request_body = CallerChangeBody, security(("bearer" = [])),
    responses((status = 200, description = "Success", body = CallerDto), (status = 400, description = "Invalid fields or nothing to change"), (status = 404, description = "No such caller"), (status = 409, description = "Phone taken")))]
pub async fn update(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Typed<CallerChangeBody>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let input = CallerInput {
        full_name: b.full_name.flatten(),
        phone: b.phone.flatten(),
        email: b.email,
        region: b.region,
        language: b.language,
    };
    let caller = state.callcenter.update_caller(&auth.0, &id, input).await?;
    Ok(HttpResponse::Ok().json(CallerDto::from(caller)))
}

/// What the assistant remembers about a caller.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AiContextDto {
    /// The name the caller gave (at most 100 characters).
    pub known_name: Option<String>,
    /// At most 50 notes of at most 500 characters (absent or null: none).
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub personality_notes: Vec<String>,
    /// One line per past conversation, at most 100 of at most 500 characters (absent or null:
    /// none).
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub conversation_history: Vec<String>,
}

/// `{userId, aiContext}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallerContextDto {
    pub user_id: String,
    pub ai_context: AiContextDto,
}

fn context_dto(user_id: &str, c: AiContext) -> CallerContextDto {
    CallerContextDto {
        user_id: user_id.to_string(),
        ai_context: AiContextDto {
            known_name: c.known_name,
            personality_notes: c.personality_notes,
            conversation_history: c.conversation_history,
        },
    }
}

/// `{aiContext: {…}}` (or the context object itself).
fn context_input(body: &Value) -> ApiResult<AiContext> {
    let outer = lenient::object(body)?;
    let obj = match outer.get("aiContext") {
        Some(inner) => lenient::object(inner)?,
        None => outer,
    };
    let list = |field: &str| -> ApiResult<Vec<String>> {
        match obj.get(field) {
            None | Some(Value::Null) => Ok(vec![]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ApiError::field(field, format!("{field} must be a list of strings."))),
            Some(_) => Err(ApiError::field(field, format!("{field} must be a list of strings."))),
        }
    };
    Ok(AiContext {
        known_name: lenient::text("knownName", obj.get("knownName"))?.flatten(),
        personality_notes: list("personalityNotes")?,
        conversation_history: list("conversationHistory")?,
    })
}

#[utoipa::path(operation_id = "cc_users_context_get", get, path = "/api/users/{id}/context", tag = "callcenter", params(("id" = String, Path, pattern = "^u_[A-Za-z0-9_-]{1,60}$")), security(("bearer" = [])),
    responses((status = 200, description = "Success", body = CallerContextDto), (status = 400, description = "Not a caller id"), (status = 404, description = "No such caller")))]
pub async fn get_context(auth: Auth, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let context = state.callcenter.caller_context(&auth.0, &id).await?;
    Ok(HttpResponse::Ok().json(context_dto(&id, context)))
}

#[utoipa::path(operation_id = "cc_users_context_put", put, path = "/api/users/{id}/context", tag = "callcenter", params(("id" = String, Path, pattern = "^u_[A-Za-z0-9_-]{1,60}$")), request_body = AiContextDto, security(("bearer" = [])),
    description = "Replaces the memory. The body is `{aiContext: {knownName, personalityNotes, conversationHistory}}` (the inner object alone is accepted too); absent lists are empty.",
    responses((status = 200, description = "The stored memory", body = CallerContextDto), (status = 400, description = "Too long or malformed"), (status = 403, description = "callcenter.write needed"), (status = 404, description = "No such caller")))]
pub async fn put_context(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> ApiResult<HttpResponse> {
    let context = state.callcenter.set_caller_context(&auth.0, &id, context_input(&body)?).await?;
    Ok(HttpResponse::Ok().json(context_dto(&id, context)))
}
