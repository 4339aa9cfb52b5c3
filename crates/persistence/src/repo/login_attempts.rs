//! Failed sign-in attempts over sea-orm.

use crate::entity::login_attempts;
use crate::error::db;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use management_core::Result;
use management_core::ports::LoginAttemptRepository;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Set};

/// [`LoginAttemptRepository`] over `login_attempts`.
#[derive(Clone)]
pub struct SqlLoginAttempts {
    db: DatabaseConnection,
}

impl SqlLoginAttempts {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlLoginAttempts { db }
    }
}

#[derive(FromQueryResult)]
struct Window {
    count: i64,
    oldest: Option<DateTime<Utc>>,
}

#[async_trait]
impl LoginAttemptRepository for SqlLoginAttempts {
    async fn failures_since(&self, key: &str, since: DateTime<Utc>) -> Result<(u64, Option<DateTime<Utc>>)> {
        let window = login_attempts::Entity::find()
            .select_only()
            .column_as(Expr::from(Func::count(Expr::col(login_attempts::Column::Id))), "count")
            .column_as(Expr::from(Func::min(Expr::col(login_attempts::Column::AttemptedAt))), "oldest")
            .filter(login_attempts::Column::ScopeKey.eq(key))
            .filter(login_attempts::Column::AttemptedAt.gt(since))
            .into_model::<Window>()
            .one(&self.db)
            .await
            .map_err(db)?;
        Ok(window.map(|w| (w.count.max(0) as u64, w.oldest)).unwrap_or((0, None)))
    }

    async fn record_failure(&self, key: &str, at: DateTime<Utc>) -> Result<()> {
        login_attempts::Entity::insert(login_attempts::ActiveModel {
            scope_key: Set(key.to_string()),
            attempted_at: Set(at),
            ..Default::default()
        })
        .exec(&self.db)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn clear(&self, key: &str) -> Result<()> {
        login_attempts::Entity::delete_many()
            .filter(login_attempts::Column::ScopeKey.eq(key))
            .exec(&self.db)
            .await
            .map_err(db)?;
        Ok(())
    }
}
