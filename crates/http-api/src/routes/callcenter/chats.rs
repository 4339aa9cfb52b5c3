//! `/api/chats`: conversations with callers.

use super::calls::{ListPage, ListQuery, frontend_page};
use crate::error::ApiResult;
use crate::extract::Auth;
use crate::iso;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use callcenter_core::chat::{Chat, ChatFilter, Message, chat_status_filter};
use serde::Serialize;
use utoipa::ToSchema;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/chats").route(web::get().to(list)))
        .service(web::resource("/api/chats/{id}").route(web::get().to(get)));
}

/// A chat message.
#[derive(Serialize, ToSchema)]
pub struct MessageDto {
    /// `msg_…`
    pub id: String,
    /// `user`, `ai` or `system`.
    pub role: &'static str,
    pub text: String,
    pub timestamp: String,
}

impl From<Message> for MessageDto {
    fn from(m: Message) -> Self {
        MessageDto { id: m.id, role: m.role.as_str(), text: m.text, timestamp: iso(m.timestamp) }
    }
}

/// A chat; `messages` is empty in lists.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatDto {
    /// `chat_…`
    pub id: String,
    pub user_id: String,
    /// `open`, `resolved` or `escalated`.
    pub status: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub topic: Option<String>,
    pub tags: Vec<String>,
    /// `positive`, `neutral` or `negative`.
    pub sentiment: &'static str,
    pub ai_summary: String,
    pub messages: Vec<MessageDto>,
}

impl From<Chat> for ChatDto {
    fn from(c: Chat) -> Self {
        ChatDto {
            id: c.id,
            user_id: c.caller_id,
            status: c.status.as_str(),
            created_at: iso(c.created_at),
            updated_at: iso(c.updated_at),
            topic: c.topic,
            tags: c.tags,
            sentiment: c.sentiment.as_str(),
            ai_summary: c.ai_summary,
            messages: c.messages.into_iter().map(MessageDto::from).collect(),
        }
    }
}

#[utoipa::path(operation_id = "cc_chats_list", get, path = "/api/chats", tag = "callcenter", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "Most recently updated first; `query` matches caller name or phone, topic, summary and tags", body = ListPage<ChatDto>), (status = 400, description = "Unknown status or bad paging"), (status = 401, description = "Not signed in"), (status = 403, description = "callcenter.read needed")))]
pub async fn list(auth: Auth, state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let request = frontend_page(q.page, q.page_size)?;
    let filter = ChatFilter { query: q.query, status: chat_status_filter(q.status.as_deref())? };
    let page = state.callcenter.chats(&auth.0, filter, request).await?;
    Ok(HttpResponse::Ok().json(ListPage::new(page, ChatDto::from)))
}

#[utoipa::path(operation_id = "cc_chats_get", get, path = "/api/chats/{id}", tag = "callcenter", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "With its messages, oldest first", body = ChatDto), (status = 404, description = "No such chat")))]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(ChatDto::from(state.callcenter.chat(&auth.0, &id).await?)))
}
