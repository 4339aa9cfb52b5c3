//! The answers of idempotent requests (`idempotency_keys`), kept 24 h per caller and key.

use crate::repo::statement;
use base64::Engine;
use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult};

/// How long an answer is kept.
pub const KEPT_FOR: Duration = Duration::hours(24);

/// What a key holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// Nothing: the key is now taken for this request.
    Taken,
    /// Another request with this key is running.
    Running,
    /// The key belongs to a request with another hash.
    Other,
    /// The answer of the request: status, content type, body.
    Answer(u16, Option<String>, Vec<u8>),
}

/// Idempotency keys over `idempotency_keys`.
#[derive(Clone)]
pub struct SqlIdempotency {
    db: DatabaseConnection,
}

#[derive(FromQueryResult)]
struct Row {
    request_hash: String,
    state: String,
    status_code: Option<i32>,
    content_type: Option<String>,
    body: Option<String>,
}

impl SqlIdempotency {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlIdempotency { db }
    }

    /// Takes `key` for `scope` and `hash`, or says what holds it.
    pub async fn claim(&self, scope: &str, key: &str, hash: &str) -> Result<Held, DbErr> {
        let backend = self.db.get_database_backend();
        let now = Utc::now();
        let expired = "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND expires_at < $3";
        self.db.execute_raw(statement(backend, expired, vec![scope.into(), key.into(), now.into()])).await?;
        let take = "INSERT INTO idempotency_keys (scope, key, request_hash, state, created_at, expires_at) \
                    VALUES ($1, $2, $3, 'running', $4, $5) ON CONFLICT (scope, key) DO NOTHING";
        let values = vec![scope.into(), key.into(), hash.into(), now.into(), (now + KEPT_FOR).into()];
        if self.db.execute_raw(statement(backend, take, values)).await?.rows_affected() == 1 {
            return Ok(Held::Taken);
        }
        let sql = "SELECT request_hash, state, status_code, content_type, body FROM idempotency_keys WHERE scope = $1 AND key = $2";
        let Some(row) =
            Row::find_by_statement(statement(backend, sql, vec![scope.into(), key.into()])).one(&self.db).await?
        else {
            // Released between the two statements: take it now.
            return Box::pin(self.claim(scope, key, hash)).await;
        };
        Ok(if row.request_hash != hash {
            Held::Other
        } else if row.state != "done" {
            Held::Running
        } else {
            let body =
                row.body.and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()).unwrap_or_default();
            Held::Answer(row.status_code.unwrap_or(200) as u16, row.content_type, body)
        })
    }

    /// Keeps the answer of the request holding `key`.
    pub async fn complete(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), DbErr> {
        let sql = "UPDATE idempotency_keys SET state = 'done', status_code = $1, content_type = $2, body = $3 \
                   WHERE scope = $4 AND key = $5";
        let values = vec![
            i32::from(status).into(),
            content_type.map(str::to_string).into(),
            base64::engine::general_purpose::STANDARD.encode(body).into(),
            scope.into(),
            key.into(),
        ];
        self.db.execute_raw(statement(self.db.get_database_backend(), sql, values)).await.map(|_| ())
    }

    /// Lets `key` go.
    pub async fn release(&self, scope: &str, key: &str) -> Result<(), DbErr> {
        let sql = "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2";
        self.db
            .execute_raw(statement(self.db.get_database_backend(), sql, vec![scope.into(), key.into()]))
            .await
            .map(|_| ())
    }

    /// Forgets the answers past their 24 hours.
    pub async fn purge_expired(&self) -> Result<u64, DbErr> {
        let sql = "DELETE FROM idempotency_keys WHERE expires_at < $1";
        let done = self.db.execute_raw(statement(self.db.get_database_backend(), sql, vec![Utc::now().into()])).await?;
        Ok(done.rows_affected())
    }
}
