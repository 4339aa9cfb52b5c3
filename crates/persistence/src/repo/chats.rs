//! Chats and their messages over sea-orm.

use crate::entity::{chat_messages, chats};
use crate::error::cc;
use crate::repo::calls::parse_tags;
use crate::repo::contains;
use async_trait::async_trait;
use callcenter_core::Result;
use callcenter_core::call::Sentiment;
use callcenter_core::chat::{Chat, ChatFilter, ChatStatus, Message, Role};
use callcenter_core::ports::ChatRepository;
use kernel::{Page, PageRequest};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

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
        let total = q.clone().count(&self.db).await.map_err(cc)?;
        let rows = q
            .order_by_desc(chats::Column::UpdatedAt)
            .order_by_desc(chats::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await
            .map_err(cc)?;
        Ok(Page { items: rows.into_iter().map(|m| to_chat(m, vec![])).collect(), total, request: page })
    }

    async fn get(&self, id: &str) -> Result<Option<Chat>> {
        let Some(chat) = chats::Entity::find_by_id(id.to_string()).one(&self.db).await.map_err(cc)? else {
            return Ok(None);
        };
        let messages = chat_messages::Entity::find()
            .filter(chat_messages::Column::ChatId.eq(id))
            .order_by_asc(chat_messages::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(cc)?;
        Ok(Some(to_chat(chat, messages.into_iter().map(to_message).collect())))
    }
}
