//! Stores calls and chats straight into the test database, with chosen times, so lists and
//! reports can be checked against hand-counted data.

use crate::support::TestApp;
use chrono::{DateTime, Utc};
use persistence::entity::{callers, calls, chat_messages, chats};
use sea_orm::{ActiveModelTrait, Database, IntoActiveModel};

/// A call to store; fields not set here take neutral defaults.
pub struct CallRow<'a> {
    pub id: &'a str,
    pub caller: &'a str,
    pub status: &'a str,
    pub started_at: DateTime<Utc>,
    pub duration: Option<i64>,
    pub topic: Option<&'a str>,
    pub escalated: bool,
}

impl TestApp {
    /// Stores a caller with a fixed id.
    pub async fn store_caller(&self, id: &str, name: &str, phone: &str) {
        let db = Database::connect(self.database_url.as_str()).await.unwrap();
        let now = Utc::now();
        callers::Model {
            id: id.into(),
            full_name: name.into(),
            phone: Some(phone.into()),
            email: None,
            region: None,
            language: None,
            customer_id: None,
            search_text: format!("{name} {phone}").to_lowercase(),
            ai_context: "{}".into(),
            created_at: now,
            updated_at: now,
        }
        .into_active_model()
        .reset_all()
        .insert(&db)
        .await
        .unwrap();
        db.close().await.ok();
    }

    pub async fn store_call(&self, c: CallRow<'_>) {
        let db = Database::connect(self.database_url.as_str()).await.unwrap();
        let final_status = c.status != "processing";
        calls::Model {
            id: c.id.into(),
            caller_id: c.caller.into(),
            number: "+998900000000".into(),
            direction: "inbound".into(),
            status: c.status.into(),
            started_at: c.started_at,
            ended_at: final_status.then(|| c.started_at + chrono::Duration::seconds(c.duration.unwrap_or(0))),
            duration_sec: c.duration,
            operator_name: Some("Demo Operator".into()),
            recording_url: None,
            transcript: "Operator: Salom\nUser: Grant haqida".into(),
            ai_summary: format!("Summary of {}", c.id),
            sentiment: "positive".into(),
            tags: r#"["education"]"#.into(),
            topic: c.topic.map(str::to_string),
            escalated: c.escalated,
            model: None,
            prompt: None,
            options: None,
            provider_sid: None,
            session_id: None,
            search_text: format!("{} {}", c.id, c.topic.unwrap_or_default()).to_lowercase(),
            created_at: c.started_at,
            updated_at: c.started_at,
        }
        .into_active_model()
        .reset_all()
        .insert(&db)
        .await
        .unwrap();
        db.close().await.ok();
    }

    /// Stores a chat with `messages` (role, text, seconds after creation, reply time in ms).
    pub async fn store_chat(
        &self,
        id: &str,
        caller: &str,
        status: &str,
        created_at: DateTime<Utc>,
        topic: Option<&str>,
        messages: &[(&str, &str, i64, Option<i64>)],
    ) {
        let db = Database::connect(self.database_url.as_str()).await.unwrap();
        let last = messages.iter().map(|m| m.2).max().unwrap_or(0);
        chats::Model {
            id: id.into(),
            caller_id: caller.into(),
            status: status.into(),
            topic: topic.map(str::to_string),
            tags: "[]".into(),
            sentiment: "neutral".into(),
            ai_summary: format!("Chat {id}"),
            search_text: format!("{id} {}", topic.unwrap_or_default()).to_lowercase(),
            created_at,
            updated_at: created_at + chrono::Duration::seconds(last),
        }
        .into_active_model()
        .reset_all()
        .insert(&db)
        .await
        .unwrap();
        for (i, (role, text, after, response_ms)) in messages.iter().enumerate() {
            chat_messages::Model {
                id: format!("msg_{id}_{i}"),
                chat_id: id.into(),
                role: role.to_string(),
                text: text.to_string(),
                response_ms: *response_ms,
                created_at: created_at + chrono::Duration::seconds(*after),
            }
            .into_active_model()
            .reset_all()
            .insert(&db)
            .await
            .unwrap();
        }
        db.close().await.ok();
    }
}
