//! `/api/calls`, `/api/voip/calls`, `/api/voip/call`, `/api/voip/history/{number}` and
//! Twilio's status callback `/api/voip/twilio/status`.

use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::iso;
use crate::pagination::bounded_page_request;
use crate::state::AppState;
use crate::typed_body::Typed;
use actix_web::{HttpRequest, HttpResponse, web};
use callcenter_core::call::{Call, CallFilter, ProviderReport, VoipCallInput, call_status_filter, transcript_turns};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/calls").route(web::get().to(list)))
        .service(web::resource("/api/calls/{id}").route(web::get().to(get)))
        .service(web::resource("/api/voip/calls").route(web::get().to(voip_list)))
        .service(web::resource("/api/voip/call").route(web::post().to(start)))
        .service(web::resource("/api/voip/history/{number}").route(web::delete().to(delete_history)))
        .service(web::resource("/api/voip/twilio/status").route(web::post().to(twilio_status)));
}

/// A call.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallDto {
    /// `call_…`
    pub id: String,
    /// The caller (`u_…`).
    pub user_id: String,
    /// `inbound` or `outbound`.
    pub direction: &'static str,
    /// `processing`, `completed`, `missed` or `failed`.
    pub status: &'static str,
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_sec: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    pub ai_summary: String,
    /// `positive`, `neutral` or `negative`.
    pub sentiment: &'static str,
    pub tags: Vec<String>,
    pub topic: Option<String>,
}

impl From<Call> for CallDto {
    fn from(c: Call) -> Self {
        CallDto {
            id: c.id,
            user_id: c.caller_id,
            direction: c.direction.as_str(),
            status: c.status.as_str(),
            started_at: iso(c.started_at),
            ended_at: c.ended_at.map(iso),
            duration_sec: c.duration_sec,
            operator_name: c.operator_name,
            recording_url: c.recording_url,
            transcript: Some(c.transcript).filter(|t| !t.is_empty()),
            ai_summary: c.ai_summary,
            sentiment: c.sentiment.as_str(),
            tags: c.tags,
            topic: c.topic,
        }
    }
}

/// A page of the operator frontend's lists.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListPage<T> {
    pub page: u64,
    pub page_size: u64,
    pub total: u64,
    pub items: Vec<T>,
}

impl<T> ListPage<T> {
    pub fn new<S>(page: kernel::Page<S>, to_dto: impl FnMut(S) -> T) -> Self {
        ListPage {
            page: page.request.page,
            page_size: page.request.per_page,
            total: page.total,
            items: page.items.into_iter().map(to_dto).collect(),
        }
    }
}

/// Search, status and paging of a list.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Case-insensitive substring (number, caller, topic, summary, tags, operator for calls).
    pub query: Option<String>,
    /// A status, or `all`.
    pub status: Option<String>,
    pub page: Option<u64>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u64>,
}

/// `page` (from 1) and `pageSize` (1 to 100, default 20) of the paged lists.
pub fn frontend_page(page: Option<u64>, page_size: Option<u64>) -> Result<kernel::PageRequest, ApiError> {
    bounded_page_request(page, page_size, 20, 100, "pageSize")
}

#[utoipa::path(operation_id = "cc_calls_list", get, path = "/api/calls", tag = "callcenter", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "Newest first", body = ListPage<CallDto>), (status = 400, description = "Unknown status or bad paging"), (status = 401, description = "Not signed in"), (status = 403, description = "callcenter.read needed")))]
pub async fn list(auth: Auth, state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let request = frontend_page(q.page, q.page_size)?;
    let filter = CallFilter { query: q.query, status: call_status_filter(q.status.as_deref())?, number: None };
    let page = state.callcenter.calls(&auth.0, filter, request).await?;
    Ok(HttpResponse::Ok().json(ListPage::new(page, CallDto::from)))
}

#[utoipa::path(operation_id = "cc_calls_get", get, path = "/api/calls/{id}", tag = "callcenter", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Success", body = CallDto), (status = 404, description = "No such call")))]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(CallDto::from(state.callcenter.call(&auth.0, &id).await?)))
}

/// A call as the VoIP screens show it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoipCallDto {
    pub id: String,
    /// The other end, E.164.
    pub number: String,
    /// `processing`, `completed`, `missed` or `failed`.
    pub status: &'static str,
    pub summary: String,
    /// JSON text of the transcript's turns: `[{"role": "user"|"ai"|"system", "text": "…"}]`.
    pub chat_history: String,
    /// Seconds (0 when the call did not connect).
    pub duration: i64,
    pub topic: Option<String>,
    pub created_at: String,
}

impl From<Call> for VoipCallDto {
    fn from(c: Call) -> Self {
        let turns: Vec<Value> = transcript_turns(&c.transcript)
            .into_iter()
            .map(|(role, text)| json!({"role": role.as_str(), "text": text}))
            .collect();
        VoipCallDto {
            chat_history: Value::Array(turns).to_string(),
            duration: c.duration_sec.unwrap_or(0),
            id: c.id,
            number: c.number,
            status: c.status.as_str(),
            summary: c.ai_summary,
            topic: c.topic,
            created_at: iso(c.started_at),
        }
    }
}

/// Filters of the VoIP call list.
#[derive(Deserialize, IntoParams)]
pub struct VoipQuery {
    /// A phone number (matched exactly after normalising) or part of one.
    pub number: Option<String>,
    /// `processing`, `completed`, `missed`, `failed` or `all`.
    pub status: Option<String>,
}

#[utoipa::path(operation_id = "cc_voip_calls", get, path = "/api/voip/calls", tag = "callcenter", params(VoipQuery), security(("bearer" = [])),
    responses((status = 200, description = "Newest first, at most 1000", body = [VoipCallDto]), (status = 400, description = "Unknown status"), (status = 401, description = "Not signed in")))]
pub async fn voip_list(auth: Auth, state: web::Data<AppState>, q: web::Query<VoipQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let calls = state.callcenter.voip_calls(&auth.0, q.number, q.status.as_deref()).await?;
    Ok(HttpResponse::Ok().json(calls.into_iter().map(VoipCallDto::from).collect::<Vec<_>>()))
}

/// An outbound AI voice call.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct VoipCallBody {
    /// The voice model.
    #[schema(pattern = "\\S", required = true, nullable = false)]
    pub model: Option<Option<String>>,
    /// The number to call, any common format.
    #[schema(min_length = 8, required = true, nullable = false)]
    pub target_number: Option<Option<String>>,
    pub prompt: Option<Option<String>>,
    /// Background noise 1 (default) or 0.
    #[schema(minimum = 0, maximum = 1)]
    pub noise: Option<Option<i64>>,
    /// 0 to 1 (default 0.15).
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 1)]
    pub noise_gain: Option<Option<Decimal>>,
    /// 0.5 to 2 (default 1.0).
    #[schema(value_type = Option<f64>, minimum = 0.5, maximum = 2)]
    pub speed: Option<Option<Decimal>>,
}

#[utoipa::path(operation_id = "cc_voip_call", post, path = "/api/voip/call", tag = "callcenter", request_body = VoipCallBody, security(("bearer" = [])),
    responses(
        (status = 201, description = "`{message, callId}`: the call is placed and recorded as processing"),
        (status = 400, description = "model or targetNumber missing, or not a phone number"),
        (status = 403, description = "callcenter.write needed"),
        (status = 503, description = "Telephony is not configured (the message names the settings), or Twilio refused or could not be reached"),
    ))]
pub async fn start(auth: Auth, state: web::Data<AppState>, body: Typed<VoipCallBody>) -> ApiResult<HttpResponse> {
    let b = body.0;
    let number = |d: Option<Option<Decimal>>| d.flatten().and_then(|d| d.to_f64());
    let input = VoipCallInput {
        model: b.model.flatten(),
        target_number: b.target_number.flatten(),
        prompt: b.prompt.flatten(),
        noise: b.noise.flatten(),
        noise_gain: number(b.noise_gain),
        speed: number(b.speed),
    };
    let call = state.callcenter.start_voip_call(&auth.0, input).await?;
    Ok(HttpResponse::Created().json(json!({"message": "Call started", "callId": call.id})))
}

#[utoipa::path(operation_id = "cc_voip_history_delete", delete, path = "/api/voip/history/{number}", tag = "callcenter", params(("number" = String, Path, min_length = 8)), security(("bearer" = [])),
    responses((status = 200, description = "`{message, deleted}`"), (status = 400, description = "Not a phone number"), (status = 403, description = "Supervisors, admins and the CEO delete")))]
pub async fn delete_history(
    auth: Auth,
    state: web::Data<AppState>,
    number: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let deleted = state.callcenter.delete_history(&auth.0, &number).await?;
    Ok(HttpResponse::Ok().json(json!({"message": format!("Deleted {deleted} call(s)"), "deleted": deleted})))
}

/// The provider's report from Twilio's form fields and our `callId` query parameter.
fn provider_report(req: &HttpRequest, params: &[(String, String)]) -> ApiResult<ProviderReport> {
    let get = |k: &str| params.iter().find(|(name, _)| name == k).map(|(_, v)| v.clone());
    let call_id = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.iter().find(|(k, _)| k == "callId").map(|(_, v)| v.clone()));
    let duration_sec = match get("CallDuration").filter(|d| !d.is_empty()) {
        Some(d) => {
            Some(d.parse::<i64>().map_err(|_| ApiError::field("CallDuration", "CallDuration must be seconds."))?)
        }
        None => None,
    };
    Ok(ProviderReport {
        call_id,
        provider_sid: get("CallSid"),
        status: get("CallStatus"),
        duration_sec,
        recording_url: get("RecordingUrl"),
    })
}

/// The fields of Twilio's status callback this server reads (Twilio sends more; every field
/// counts for the signature).
#[derive(Deserialize, ToSchema)]
#[allow(non_snake_case, dead_code)]
pub struct TwilioStatusForm {
    /// Twilio's call SID (`CA…`).
    pub CallSid: Option<String>,
    /// `queued`, `initiated`, `ringing`, `in-progress`, `completed`, `busy`, `no-answer`, `failed` or `canceled`.
    pub CallStatus: Option<String>,
    /// Seconds.
    pub CallDuration: Option<String>,
    pub RecordingUrl: Option<String>,
}

#[utoipa::path(operation_id = "cc_twilio_status", post, path = "/api/voip/twilio/status", tag = "callcenter",
    description = "Twilio's call status callback (form-encoded CallSid, CallStatus, CallDuration, RecordingUrl; `callId` in the query), verified with X-Twilio-Signature against PUBLIC_BASE_URL.",
    request_body(content = TwilioStatusForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 204, description = "Applied"),
        (status = 400, description = "Unknown CallStatus or malformed fields"),
        (status = 403, description = "Missing or wrong X-Twilio-Signature"),
        (status = 404, description = "No such call"),
        (status = 503, description = "TWILIO_AUTH_TOKEN or PUBLIC_BASE_URL not set"),
    ))]
pub async fn twilio_status(req: HttpRequest, state: web::Data<AppState>, body: String) -> ApiResult<HttpResponse> {
    let params: Vec<(String, String)> =
        serde_urlencoded::from_str(&body).map_err(|_| ApiError::validation("The body must be form-encoded."))?;
    let signature = req.headers().get("X-Twilio-Signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let path_and_query = req.uri().path_and_query().map_or(req.path(), |p| p.as_str());
    let report = provider_report(&req, &params)?;
    state.callcenter.provider_report(path_and_query, &params, signature, report).await?;
    Ok(HttpResponse::NoContent().finish())
}
