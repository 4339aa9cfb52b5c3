//! Chats: lists and one chat with its messages.

use super::{CallcenterService, non_empty, not_found};
use crate::chat::{Chat, ChatFilter};
use crate::error::Result;
use kernel::{Page, PageRequest};
use management_core::{Permission, Principal};

impl CallcenterService {
    pub async fn chats(&self, by: &Principal, mut filter: ChatFilter, page: PageRequest) -> Result<Page<Chat>> {
        by.require(Permission::CallcenterRead)?;
        filter.query = non_empty(filter.query);
        self.ports.chats.list(filter, page).await
    }

    pub async fn chat(&self, by: &Principal, id: &str) -> Result<Chat> {
        by.require(Permission::CallcenterRead)?;
        self.ports.chats.get(id, None).await?.ok_or_else(|| not_found("Chat", id))
    }
}
