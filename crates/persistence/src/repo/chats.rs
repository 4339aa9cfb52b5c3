//! Chats and their messages over sea-orm.

use crate::entity::{callers, chat_messages, chats};
use crate::error::db;
use crate::repo::calls::{parse_tags, tags_json};
use crate::repo::{begin_write, contains, random_id};
use async_trait::async_trait;
use callcenter_core::Result;
use callcenter_core::call::Sentiment;
use callcenter_core::chat::{Chat, ChatFilter, ChatStatus, Message, Role};
use callcenter_core::ports::{ChatRepository, ChatTurn};
use callcenter_core::responder::Analysis;
use kernel::{Page, PageRequest};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// Prefix of chat ids.
pub const CHAT_PREFIX: &str = "chat_";
/// Prefix of message ids.
pub const MESSAGE_PREFIX: &str = "msg_";

/// The text a chat is found by: caller name and phone, topic, summary and tags.
async fn chat_search_text<C: ConnectionTrait>(conn: &C, m: &chats::Model) -> Result<String> {
    let caller: Option<(String, Option<String>)> = callers::Entity::find_by_id(m.caller_id.clone())
        .select_only()
        .columns([callers::Column::FullName, callers::Column::Phone])
        .into_tuple()
        .one(conn)
        .await
        .map_err(db)?;
    let (name, phone) = caller.unwrap_or_default();
    let tags = parse_tags(&m.tags).join(" ");
    let (phone, topic) = (phone.unwrap_or_default(), m.topic.as_deref().unwrap_or_default());
    Ok(format!("{name} {phone} {topic} {} {tags}", m.ai_summary).to_lowercase())
}

fn message(
    chat_id: &str,
    role: Role,
    text: String,
    at: chrono::DateTime<chrono::Utc>,
    response_ms: Option<i64>,
) -> chat_messages::Model {
    chat_messages::Model {
        id: random_id(MESSAGE_PREFIX),
        chat_id: chat_id.to_string(),
        role: role.as_str().into(),
        text,
        response_ms,
        created_at: at,
    }
}

/// [`ChatRepository`] over `chats` and `chat_messages`.
#[derive(Clone)]
pub struct SqlChats {
    db: DatabaseConnection,
}

impl SqlChats {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlChats { db }
    }
}

pub fn to_chat(m: chats::Model, messages: Vec<Message>) -> Chat {
    Chat {
        status: ChatStatus::parse(&m.status).unwrap_or(ChatStatus::Open),
        sentiment: Sentiment::parse(&m.sentiment),
        tags: parse_tags(&m.tags),
        id: m.id,
        caller_id: m.caller_id,
        created_at: m.created_at,
        updated_at: m.updated_at,
        topic: m.topic,
        ai_summary: m.ai_summary,
        messages,
    }
}

pub fn to_message(m: chat_messages::Model) -> Message {
    Message { role: Role::parse(&m.role), id: m.id, text: m.text, timestamp: m.created_at }
}

#[async_trait]
impl ChatRepository for SqlChats {
    async fn list(&self, filter: ChatFilter, page: PageRequest) -> Result<Page<Chat>> {
        let mut q = chats::Entity::find();
        if let Some(status) = filter.status {
            q = q.filter(chats::Column::Status.eq(status.as_str()));
        }
        if let Some(query) = filter.query {
            q = q.filter(contains(chats::Column::SearchText, &query));
        }
        let total = q.clone().count(&self.db).await.map_err(db)?;
        let rows = q
            .order_by_desc(chats::Column::UpdatedAt)
            .order_by_desc(chats::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(Page { items: rows.into_iter().map(|m| to_chat(m, vec![])).collect(), total, request: page })
    }

    async fn get(&self, id: &str, last: Option<u64>) -> Result<Option<Chat>> {
        let Some(chat) = chats::Entity::find_by_id(id.to_string()).one(&self.db).await.map_err(db)? else {
            return Ok(None);
        };
        let q = chat_messages::Entity::find().filter(chat_messages::Column::ChatId.eq(id));
        let messages = match last {
            None => q.order_by_asc(chat_messages::Column::CreatedAt).all(&self.db).await.map_err(db)?,
            Some(n) => {
                let mut newest =
                    q.order_by_desc(chat_messages::Column::CreatedAt).limit(n).all(&self.db).await.map_err(db)?;
                newest.reverse();
                newest
            }
        };
        Ok(Some(to_chat(chat, messages.into_iter().map(to_message).collect())))
    }

    async fn append(&self, t: ChatTurn) -> Result<(Chat, Message)> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let existing = match &t.chat_id {
            Some(id) => chats::Entity::find_by_id(id.clone()).lock_exclusive().one(&txn).await.map_err(db)?,
            None => None,
        };
        let chat = match existing {
            Some(mut chat) => {
                chat.status = ChatStatus::Open.as_str().into();
                chat.updated_at = t.reply_at;
                let active: chats::ActiveModel = chat.into();
                active.reset_all().update(&txn).await.map_err(db)?
            }
            None => {
                let mut chat = chats::Model {
                    id: random_id(CHAT_PREFIX),
                    caller_id: t.caller_id.clone(),
                    status: ChatStatus::Open.as_str().into(),
                    topic: None,
                    tags: "[]".into(),
                    sentiment: Sentiment::Neutral.as_str().into(),
                    ai_summary: String::new(),
                    search_text: String::new(),
                    created_at: t.message_at,
                    updated_at: t.reply_at,
                };
                chat.search_text = chat_search_text(&txn, &chat).await?;
                let active: chats::ActiveModel = chat.into();
                chats::Entity::insert(active.reset_all()).exec_with_returning(&txn).await.map_err(db)?
            }
        };
        let response_ms = (t.reply_at - t.message_at).num_milliseconds().max(0);
        let asked = message(&chat.id, Role::User, t.message, t.message_at, None);
        let reply = message(&chat.id, Role::Ai, t.reply, t.reply_at, Some(response_ms));
        chat_messages::Entity::insert_many(
            [asked, reply.clone()].map(|m| chat_messages::ActiveModel::from(m).reset_all()),
        )
        .exec(&txn)
        .await
        .map_err(db)?;
        txn.commit().await.map_err(db)?;
        Ok((to_chat(chat, vec![]), to_message(reply)))
    }

    async fn close(&self, id: &str, status: ChatStatus, a: Analysis) -> Result<Option<Chat>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(mut chat) = chats::Entity::find_by_id(id.to_string()).lock_exclusive().one(&txn).await.map_err(db)?
        else {
            return Ok(None);
        };
        chat.status = status.as_str().into();
        chat.ai_summary = a.summary;
        chat.sentiment = a.sentiment.as_str().into();
        chat.tags = tags_json(&a.tags);
        chat.topic = Some(a.topic);
        chat.search_text = chat_search_text(&txn, &chat).await?;
        chat.updated_at = chrono::Utc::now();
        let active: chats::ActiveModel = chat.into();
        let stored = to_chat(active.reset_all().update(&txn).await.map_err(db)?, vec![]);
        let data =
            crate::repo::journal::render().map_or_else(|| serde_json::json!({"id": stored.id}), |r| r.chat(&stored));
        let change = crate::repo::journal::Change::audit("chat", &stored.id, "closed")
            .with_values(None, Some(data.clone()))
            .with_event("chat.closed", data);
        crate::repo::journal::record(&txn, change).await?;
        txn.commit().await.map_err(db)?;
        Ok(Some(stored))
    }
}
