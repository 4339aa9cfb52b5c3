//! The assistant: `/api/ai/chat` (and its WebSocket stream), `/api/ai/call/…` for live AI
//! calls, and `/api/chats/{id}/close`.

use super::calls::CallDto;
use super::chats::ChatDto;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, UploadLimit, bearer_token};
use crate::multipart::{is_multipart, read_fields};
use crate::state::AppState;
use crate::typed_body::{self, Typed};
use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use callcenter_core::service::{AiCallInput, AiChatInput, UserContextInput};
use futures_util::StreamExt;
use management_core::Principal;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/ai/chat").route(web::post().to(chat)))
        .service(web::resource("/api/ai/chat/{chatId}/stream").route(web::get().to(stream)))
        .service(web::resource("/api/ai/call/start").route(web::post().to(call_start)))
        .service(web::resource("/api/ai/call/{callId}/transcript").route(web::post().to(call_transcript)))
        .service(web::resource("/api/ai/call/{callId}/end").route(web::post().to(call_end)))
        .service(web::resource("/api/chats/{id}/close").route(web::post().to(close_chat)));
}

/// What the client knows about the caller.
#[derive(Deserialize, ToSchema, Default)]
pub struct UserContextBody {
    pub name: Option<Option<String>>,
    /// Any common format.
    pub phone: Option<Option<String>>,
    /// `uz`, `ru` or `en`.
    pub language: Option<Option<String>>,
}

impl From<UserContextBody> for UserContextInput {
    fn from(c: UserContextBody) -> Self {
        UserContextInput { name: c.name.flatten(), phone: c.phone.flatten(), language: c.language.flatten() }
    }
}

/// A caller's chat message.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct AiChatBody {
    /// Absent, null or unknown: a new chat.
    pub chat_id: Option<Option<String>>,
    /// `u_…`; an unknown one creates the caller.
    #[schema(pattern = "^u_[A-Za-z0-9_-]{1,60}$", required = true, nullable = false)]
    pub user_id: Option<Option<String>>,
    /// 1 to 4000 characters, not blank.
    #[schema(pattern = "\\S", max_length = 4000, required = true, nullable = false)]
    pub message: Option<Option<String>>,
    pub user_context: Option<Option<UserContextBody>>,
}

#[utoipa::path(operation_id = "ai_chat", post, path = "/api/ai/chat", tag = "callcenter", request_body = AiChatBody, security(("bearer" = [])),
    responses(
        (status = 200, description = "`{messageId, chatId, response, contextUpdated, suggestedActions}`; both messages are stored"),
        (status = 400, description = "userId, message or userContext invalid"),
        (status = 403, description = "callcenter.write needed, or the chat belongs to another user"),
    ))]
pub async fn chat(auth: Auth, state: web::Data<AppState>, body: Typed<AiChatBody>) -> ApiResult<HttpResponse> {
    let b = body.0;
    let input = AiChatInput {
        chat_id: b.chat_id.flatten(),
        user_id: b.user_id.flatten(),
        message: b.message.flatten(),
        user_context: b.user_context.flatten().map(Into::into),
    };
    let reply = state.callcenter.ai_chat(&auth.0, input, None).await?;
    crate::metrics::assistant_reply(reply.backend);
    Ok(HttpResponse::Ok().json(json!({
        "messageId": reply.message_id,
        "chatId": reply.chat_id,
        "response": reply.response,
        "contextUpdated": reply.context_updated,
        "suggestedActions": reply.suggested_actions,
    })))
}

/// The start of a live AI call.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct AiCallBody {
    /// `u_…`, when the caller is known.
    #[schema(pattern = "^u_[A-Za-z0-9_-]{1,60}$")]
    pub user_id: Option<Option<String>>,
    /// Any common format (stored as E.164).
    #[schema(min_length = 8, required = true, nullable = false)]
    pub phone_number: Option<Option<String>>,
    /// `inbound` (default) or `outbound`.
    pub direction: Option<Option<String>>,
    pub user_context: Option<Option<UserContextBody>>,
}

#[utoipa::path(operation_id = "ai_call_start", post, path = "/api/ai/call/start", tag = "callcenter", request_body = AiCallBody, security(("bearer" = [])),
    responses(
        (status = 200, description = "`{callId, sessionId, aiGreeting, contextLoaded}`; the call is recorded as processing"),
        (status = 400, description = "phoneNumber missing or not a phone number, unknown direction"),
        (status = 403, description = "callcenter.write needed"),
    ))]
pub async fn call_start(auth: Auth, state: web::Data<AppState>, body: Typed<AiCallBody>) -> ApiResult<HttpResponse> {
    let b = body.0;
    let input = AiCallInput {
        user_id: b.user_id.flatten(),
        phone_number: b.phone_number.flatten(),
        direction: b.direction.flatten(),
        user_context: b.user_context.flatten().map(Into::into),
    };
    let started = state.callcenter.start_ai_call(&auth.0, input).await?;
    Ok(HttpResponse::Ok().json(json!({
        "callId": started.call.id,
        "sessionId": started.session_id,
        "aiGreeting": started.greeting,
        "contextLoaded": started.context_loaded,
    })))
}

/// A chunk of a live call's transcript (JSON, or multipart with `sessionId`, `transcript`
/// and an optional `audio` file).
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptBody {
    #[schema(pattern = "\\S", required = true, nullable = false)]
    pub session_id: Option<Option<String>>,
    /// `Speaker: text` lines (`User:`/`Operator:`/`AI:`); plain text counts as the caller's.
    #[schema(pattern = "\\S", required = true, nullable = false)]
    pub transcript: Option<Option<String>>,
    /// Base64 audio; accepted, not stored.
    pub audio_chunk: Option<Option<String>>,
}

#[utoipa::path(operation_id = "ai_call_transcript", post, path = "/api/ai/call/{callId}/transcript", tag = "callcenter", params(("callId" = String, Path)),
    request_body = TranscriptBody, security(("bearer" = [])),
    responses(
        (status = 200, description = "`{aiResponse, suggestedActions, shouldTransfer, sentiment}`; the chunk and the answer are appended to the call"),
        (status = 400, description = "sessionId or transcript missing"),
        (status = 403, description = "sessionId does not match the call"),
        (status = 404, description = "No such call"),
        (status = 409, description = "The call is already over"),
    ))]
pub async fn call_transcript(
    auth: Auth,
    req: HttpRequest,
    state: web::Data<AppState>,
    limit: web::Data<UploadLimit>,
    call_id: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (session, transcript) = if is_multipart(&req) {
        // The audio is read within the limit and not kept.
        let fields = read_fields(Multipart::new(req.headers(), payload), limit.0, &["sessionId", "transcript"]).await?;
        let mut values = (None, None);
        for field in fields {
            let text = String::from_utf8(field.data)
                .map_err(|_| ApiError::field(&field.name, format!("{} must be UTF-8 text.", field.name)))?;
            match field.name.as_str() {
                "sessionId" => values.0 = Some(text),
                _ => values.1 = Some(text),
            }
        }
        values
    } else {
        let b: TranscriptBody = typed_body::json_object(read_json(payload, limit.0).await?)?;
        (b.session_id.flatten(), b.transcript.flatten())
    };
    let reply = state.callcenter.call_transcript(&auth.0, &call_id, session.as_deref(), transcript.as_deref()).await?;
    crate::metrics::assistant_reply(reply.backend);
    Ok(HttpResponse::Ok().json(json!({
        "aiResponse": reply.response,
        "suggestedActions": reply.suggested_actions,
        "shouldTransfer": reply.should_transfer,
        "sentiment": reply.sentiment.as_str(),
    })))
}

/// A JSON body read within `limit` bytes.
async fn read_json(mut payload: web::Payload, limit: usize) -> ApiResult<Value> {
    let mut data = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::validation(format!("Unreadable body: {e}")))?;
        if data.len() + chunk.len() > limit {
            return Err(ApiError::too_large(format!("The body is larger than the limit of {limit} bytes.")));
        }
        data.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&data).map_err(|e| ApiError::validation(format!("Invalid JSON body: {e}")))
}

/// The end of a live AI call.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct CallEndBody {
    /// Checked against the call when given.
    pub session_id: Option<Option<String>>,
}

#[utoipa::path(operation_id = "ai_call_end", post, path = "/api/ai/call/{callId}/end", tag = "callcenter", params(("callId" = String, Path)),
    request_body = CallEndBody, security(("bearer" = [])),
    responses(
        (status = 200, description = "The completed call with duration, aiSummary, sentiment, tags and topic", body = CallDto),
        (status = 403, description = "sessionId does not match the call"),
        (status = 404, description = "No such call"),
        (status = 409, description = "The call is already over"),
    ))]
pub async fn call_end(
    auth: Auth,
    state: web::Data<AppState>,
    call_id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    // The body is optional: an empty one ends the call without a session check.
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::validation(format!("Invalid JSON body: {e}")))?
    };
    let session = match body {
        Value::Null => None,
        body => typed_body::json_object::<CallEndBody>(body)?.session_id.flatten(),
    };
    let call = state.callcenter.end_ai_call(&auth.0, &call_id, session.as_deref()).await?;
    Ok(HttpResponse::Ok().json(CallDto::from(call)))
}

/// How a chat is closed.
#[derive(Deserialize, ToSchema, Default)]
pub struct CloseChatBody {
    /// `resolved` or `escalated`.
    #[schema(pattern = "^\\s*(resolved|escalated)\\s*$", required = true, nullable = false)]
    pub status: Option<Option<String>>,
}

#[utoipa::path(operation_id = "cc_chats_close", post, path = "/api/chats/{id}/close", tag = "callcenter", params(("id" = String, Path)),
    request_body = CloseChatBody, security(("bearer" = [])),
    responses(
        (status = 200, description = "The closed chat with aiSummary, sentiment, tags and topic", body = ChatDto),
        (status = 400, description = "status is not resolved or escalated"),
        (status = 404, description = "No such chat"),
    ))]
pub async fn close_chat(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Typed<CloseChatBody>,
) -> ApiResult<HttpResponse> {
    let status = body.0.status.flatten();
    let chat = state.callcenter.close_chat(&auth.0, &id, status.as_deref()).await?;
    Ok(HttpResponse::Ok().json(ChatDto::from(chat)))
}

/// How streams are kept alive: pings go out every `ping_every`; a client that has not
/// answered (any frame, pongs included) for two intervals is gone, and one that has sent no
/// message for `idle_timeout` is idle; either way the stream is closed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamTimeouts {
    pub ping_every: Duration,
    pub idle_timeout: Duration,
}
/// The largest client frame.
const MAX_FRAME: usize = 64 * 1024;

#[utoipa::path(operation_id = "ai_chat_stream", get, path = "/api/ai/chat/{chatId}/stream", tag = "callcenter", params(("chatId" = String, Path), ("token" = Option<String>, Query, description = "The access token, for clients that cannot send a header")),
    description = "WebSocket. Client: `{type:\"message\", text, userId?}` (userId starts a chat when chatId is unknown). Server: `{type:\"ai_delta\", text}` pieces, then `{type:\"ai_response\", text, messageId, chatId}`; bad frames get `{type:\"error\", message}`. The server pings every WS_PING_SECS (15); a client silent for two pings (no pong) is gone, and one that sends no message for WS_IDLE_TIMEOUT_SECS (300) is idle: both are closed.",
    security(("bearer" = [])),
    responses((status = 101, description = "Switching to WebSocket"), (status = 400, description = "Not a WebSocket request"), (status = 401, description = "No valid token"), (status = 403, description = "callcenter.write needed: refused before the upgrade")))]
pub async fn stream(
    req: HttpRequest,
    state: web::Data<AppState>,
    timeouts: web::Data<StreamTimeouts>,
    chat_id: web::Path<String>,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    let token = bearer_token(&req).or_else(|| {
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.iter().find(|(k, _)| k == "token").map(|(_, v)| v.clone()))
    });
    let token =
        token.ok_or_else(|| ApiError::unauthorized("Authentication required: send ?token= or a Bearer header"))?;
    let principal = state.auth.authenticate(&token).await?;
    // Refused before the upgrade: a role that may not chat gets a plain 403.
    state.callcenter.may_stream(&principal)?;
    let (response, session, messages) =
        actix_ws::handle(&req, body).map_err(|e| ApiError::validation(format!("Not a WebSocket request: {e}")))?;
    let messages = messages.max_frame_size(MAX_FRAME).aggregate_continuations().max_continuation_size(MAX_FRAME);
    let stream = Stream { state: state.into_inner(), principal, timeouts: **timeouts };
    actix_web::rt::spawn(converse(stream, chat_id.into_inner(), session, messages));
    Ok(response)
}

/// A client frame.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientFrame {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
    user_id: Option<String>,
}

async fn send(session: &mut Session, frame: Value) -> bool {
    session.text(frame.to_string()).await.is_ok()
}

/// Who a stream serves, and how it is kept alive.
struct Stream {
    state: std::sync::Arc<AppState>,
    principal: Principal,
    timeouts: StreamTimeouts,
}

/// Serves one stream until the client leaves or goes idle.
async fn converse(
    stream: Stream,
    mut chat_id: String,
    mut session: Session,
    mut messages: actix_ws::AggregatedMessageStream,
) {
    let Stream { state, principal, timeouts } = stream;
    let open = metrics::gauge!("crm_websockets_open");
    open.increment(1.0);
    let _closed = scopeguard(move || open.decrement(1.0));
    let mut shutdown = state.shutdown.clone();
    let (mut heard, mut last_message) = (Instant::now(), Instant::now());
    let mut ping = tokio::time::interval(timeouts.ping_every);
    let mut user_id: Option<String> = None;
    loop {
        let message = tokio::select! {
            m = messages.next() => m,
            _ = shutdown.wait() => {
                let reason = CloseReason { code: CloseCode::Away, description: Some("The server is restarting.".into()) };
                let _ = session.close(Some(reason)).await;
                return;
            }
            _ = ping.tick() => {
                let gone = heard.elapsed() > timeouts.ping_every * 2;
                if gone || last_message.elapsed() >= timeouts.idle_timeout || session.ping(b"").await.is_err() {
                    break;
                }
                continue;
            }
        };
        let text = match message {
            Some(Ok(AggregatedMessage::Text(text))) => text,
            Some(Ok(AggregatedMessage::Ping(bytes))) => {
                heard = Instant::now();
                if session.pong(&bytes).await.is_err() {
                    break;
                }
                continue;
            }
            Some(Ok(AggregatedMessage::Pong(_))) => {
                heard = Instant::now();
                continue;
            }
            Some(Ok(AggregatedMessage::Binary(_))) => {
                (heard, last_message) = (Instant::now(), Instant::now());
                if !send(&mut session, json!({"type": "error", "message": "Send JSON text frames."})).await {
                    break;
                }
                continue;
            }
            Some(Ok(AggregatedMessage::Close(_))) | None => break,
            Some(Err(e)) => {
                let _ = send(&mut session, json!({"type": "error", "message": format!("Bad frame: {e}")})).await;
                break;
            }
        };
        (heard, last_message) = (Instant::now(), Instant::now());
        let frame = match serde_json::from_str::<ClientFrame>(&text) {
            Ok(f) if f.kind == "message" => f,
            Ok(f) => {
                let m = format!("Unknown frame type '{}': send {{\"type\":\"message\",\"text\":\"…\"}}.", f.kind);
                if !send(&mut session, json!({"type": "error", "message": m})).await {
                    break;
                }
                continue;
            }
            Err(e) => {
                if !send(&mut session, json!({"type": "error", "message": format!("Malformed frame: {e}")})).await {
                    break;
                }
                continue;
            }
        };
        if user_id.is_none() {
            user_id = match frame.user_id.clone() {
                Some(u) => Some(u),
                None => state.callcenter.chat(&principal, &chat_id).await.ok().map(|c| c.caller_id),
            };
        }
        let Some(user) = frame.user_id.or_else(|| user_id.clone()) else {
            let m = "Unknown chat: send userId with the first message to start one.";
            if !send(&mut session, json!({"type": "error", "message": m})).await {
                break;
            }
            continue;
        };
        let input = AiChatInput {
            chat_id: Some(chat_id.clone()),
            user_id: Some(user),
            message: frame.text,
            user_context: None,
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let reply = state.callcenter.ai_chat(&principal, input, Some(Box::new(move |piece| drop(tx.send(piece)))));
        tokio::pin!(reply);
        let outcome = loop {
            tokio::select! {
                Some(piece) = rx.recv() => {
                    if !send(&mut session, json!({"type": "ai_delta", "text": piece})).await {
                        return;
                    }
                }
                outcome = &mut reply => break outcome,
            }
        };
        while let Ok(piece) = rx.try_recv() {
            let _ = send(&mut session, json!({"type": "ai_delta", "text": piece})).await;
        }
        let frame = match outcome {
            Ok(r) => {
                crate::metrics::assistant_reply(r.backend);
                chat_id = r.chat_id.clone();
                json!({"type": "ai_response", "text": r.response, "messageId": r.message_id, "chatId": r.chat_id,
                       "contextUpdated": r.context_updated, "suggestedActions": r.suggested_actions})
            }
            Err(e) => json!({"type": "error", "message": e.to_string()}),
        };
        if !send(&mut session, frame).await {
            return;
        }
    }
    let _ = session.close(None).await;
}

/// Runs `f` when dropped (however the stream ends).
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}
