//! Failed sign-in attempts over sea-orm.

use crate::entity::login_attempts;
use crate::error::db;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use management_core::Result;
use management_core::ports::{Failures, LoginAttemptRepository};
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
    newest: Option<DateTime<Utc>>,
}

#[async_trait]
impl LoginAttemptRepository for SqlLoginAttempts {
    async fn failures_since(&self, key: &str, since: DateTime<Utc>) -> Result<Failures> {
        let window = login_attempts::Entity::find()
            .select_only()
            .column_as(Expr::from(Func::count(Expr::col(login_attempts::Column::Id))), "count")
            .column_as(Expr::from(Func::min(Expr::col(login_attempts::Column::AttemptedAt))), "oldest")
            .column_as(Expr::from(Func::max(Expr::col(login_attempts::Column::AttemptedAt))), "newest")
            .filter(login_attempts::Column::ScopeKey.eq(key))
            .filter(login_attempts::Column::AttemptedAt.gt(since))
            .into_model::<Window>()
            .one(&self.db)
            .await
            .map_err(db)?;
        Ok(window
            .map(|w| Failures { count: w.count.max(0) as u64, oldest: w.oldest, newest: w.newest })
            .unwrap_or_default())
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
