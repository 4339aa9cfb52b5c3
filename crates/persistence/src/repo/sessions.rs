//! Refresh-token families and revoked access tokens over sea-orm.

use crate::entity::{refresh_tokens, revoked_tokens};
use crate::error::mgmt;
use crate::repo::statement;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use management_core::Result;
use management_core::ports::{RefreshTokenRecord, SessionRepository};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, Set};

#[derive(FromQueryResult)]
struct Flag {
    n: i32,
}

/// [`SessionRepository`] over `refresh_tokens` and `revoked_tokens`.
#[derive(Clone)]
pub struct SqlSessions {
    db: DatabaseConnection,
}

impl SqlSessions {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlSessions { db }
    }

    /// Deletes revoked-token rows and refresh tokens that have expired (housekeeping).
    pub async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        let a = revoked_tokens::Entity::delete_many()
            .filter(revoked_tokens::Column::ExpiresAt.lt(now))
            .exec(&self.db)
            .await
            .map_err(mgmt)?;
        let b = refresh_tokens::Entity::delete_many()
            .filter(refresh_tokens::Column::ExpiresAt.lt(now))
            .exec(&self.db)
            .await
            .map_err(mgmt)?;
        Ok(a.rows_affected + b.rows_affected)
    }
}

#[async_trait]
impl SessionRepository for SqlSessions {
    async fn store_refresh(
        &self,
        user_id: i64,
        family_id: &str,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        refresh_tokens::Entity::insert(refresh_tokens::ActiveModel {
            user_id: Set(user_id),
            family_id: Set(family_id.to_string()),
            token_hash: Set(token_hash.to_string()),
            expires_at: Set(expires_at),
            used_at: Set(None),
            revoked_at: Set(None),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .exec(&self.db)
        .await
        .map_err(mgmt)?;
        Ok(())
    }

    async fn find_refresh(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>> {
        let found = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
            .one(&self.db)
            .await
            .map_err(mgmt)?;
        Ok(found.map(|m| RefreshTokenRecord {
            id: m.id,
            user_id: m.user_id,
            family_id: m.family_id,
            expires_at: m.expires_at,
            used_at: m.used_at,
            revoked_at: m.revoked_at,
        }))
    }

    async fn mark_used(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let res = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::UsedAt, Expr::value(at))
            .filter(refresh_tokens::Column::Id.eq(id))
            .filter(refresh_tokens::Column::UsedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(mgmt)?;
        Ok(res.rows_affected == 1)
    }

    async fn revoke_family(&self, family_id: &str, at: DateTime<Utc>) -> Result<()> {
        refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(at))
            .filter(refresh_tokens::Column::FamilyId.eq(family_id))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(mgmt)?;
        Ok(())
    }

    async fn revoke_access(&self, jti: &str, expires_at: DateTime<Utc>) -> Result<()> {
        revoked_tokens::Entity::insert(revoked_tokens::ActiveModel {
            jti: Set(jti.to_string()),
            expires_at: Set(expires_at),
        })
        .on_conflict_do_nothing_on([revoked_tokens::Column::Jti])
        .exec(&self.db)
        .await
        .map_err(mgmt)?;
        Ok(())
    }

    async fn is_revoked(&self, jti: &str, family_id: &str) -> Result<bool> {
        let sql = "SELECT CASE WHEN EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1) \
                   OR EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = $2 AND revoked_at IS NOT NULL) THEN 1 ELSE 0 END AS n";
        let stmt = statement(self.db.get_database_backend(), sql, vec![jti.into(), family_id.into()]);
        let row = Flag::find_by_statement(stmt).one(&self.db).await.map_err(mgmt)?;
        Ok(row.is_some_and(|r| r.n == 1))
    }
}
