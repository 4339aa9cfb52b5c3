//! Sessions (refresh-token families), their refresh tokens and revoked access tokens over sea-orm.

use crate::entity::{refresh_tokens, revoked_tokens, sessions};
use crate::error::db;
use crate::repo::journal;
use crate::repo::{begin_write, statement};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use management_core::Result;
use management_core::ports::{NewRefreshToken, RefreshTokenRecord, Rotation, SessionRepository};
use sea_orm::sea_query::{Expr, IntoCondition};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};

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
            .map_err(db)?;
        let b = refresh_tokens::Entity::delete_many()
            .filter(refresh_tokens::Column::ExpiresAt.lt(now))
            .exec(&self.db)
            .await
            .map_err(db)?;
        Ok(a.rows_affected + b.rows_affected)
    }
}

#[async_trait]
impl SessionRepository for SqlSessions {
    async fn open(&self, user_id: i64, family_id: &str, client_ip: &str, first: NewRefreshToken) -> Result<()> {
        let txn = self.db.begin().await.map_err(db)?;
        let now = Utc::now();
        sessions::Entity::insert(sessions::ActiveModel {
            id: Set(family_id.to_string()),
            user_id: Set(user_id),
            client_ip: Set(Some(client_ip.chars().take(64).collect())),
            created_at: Set(now),
            revoked_at: Set(None),
        })
        .exec(&txn)
        .await
        .map_err(db)?;
        insert_token(&txn, user_id, family_id, first, now).await?;
        let change = journal::Change::audit("user", user_id, "signed_in")
            .by(Some(user_id), kernel::context::ActorType::User)
            .with_values(None, Some(serde_json::json!({"session": family_id, "address": client_ip})));
        journal::record(&txn, change).await?;
        txn.commit().await.map_err(db)
    }

    async fn sign_in_failed(&self, user_id: Option<i64>, email: &str, client_ip: &str) -> Result<()> {
        let change = journal::Change::audit(
            "user",
            user_id.map_or_else(|| email.to_string(), |id| id.to_string()),
            "sign_in_failed",
        )
        .by(user_id, kernel::context::ActorType::User)
        .with_values(None, Some(serde_json::json!({"email": email, "address": client_ip})));
        journal::record(&self.db, change).await
    }

    async fn known_address(&self, user_id: i64, client_ip: &str, since: DateTime<Utc>) -> Result<bool> {
        let found = sessions::Entity::find()
            .select_only()
            .column(sessions::Column::Id)
            .filter(sessions::Column::UserId.eq(user_id))
            .filter(sessions::Column::ClientIp.eq(client_ip))
            .filter(sessions::Column::CreatedAt.gt(since))
            .into_tuple::<String>()
            .one(&self.db)
            .await
            .map_err(db)?;
        Ok(found.is_some())
    }

    async fn find_refresh(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>> {
        let found = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
            .find_also_related(sessions::Entity)
            .one(&self.db)
            .await
            .map_err(db)?;
        Ok(found.map(|(t, session)| RefreshTokenRecord {
            id: t.id,
            user_id: t.user_id,
            family_id: t.family_id,
            expires_at: t.expires_at,
            used_at: t.used_at,
            revoked_at: session.and_then(|s| s.revoked_at),
        }))
    }

    async fn rotate(
        &self,
        id: i64,
        successor: NewRefreshToken,
        now: DateTime<Utc>,
        reuse_grace_since: Option<DateTime<Utc>>,
    ) -> Result<Rotation> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(token) = refresh_tokens::Entity::find_by_id(id).lock_exclusive().one(&txn).await.map_err(db)? else {
            return Ok(Rotation::SessionRevoked);
        };
        // Held until commit: rotations and revocations of one session run one at a time.
        let session = sessions::Entity::find_by_id(token.family_id.clone()).lock_exclusive().one(&txn).await;
        let Some(session) = session.map_err(db)? else { return Ok(Rotation::SessionRevoked) };
        if session.revoked_at.is_some() {
            return Ok(Rotation::SessionRevoked);
        }
        let within_grace = |used: DateTime<Utc>| reuse_grace_since.is_some_and(|since| used >= since);
        match token.used_at {
            None => {
                refresh_tokens::Entity::update_many()
                    .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
                    .filter(refresh_tokens::Column::Id.eq(id))
                    .exec(&txn)
                    .await
                    .map_err(db)?;
            }
            Some(used) if within_grace(used) => {}
            Some(_) => {
                revoke(&txn, sessions::Column::Id.eq(session.id), now).await?;
                txn.commit().await.map_err(db)?;
                return Ok(Rotation::ReuseDetected);
            }
        }
        insert_token(&txn, token.user_id, &token.family_id, successor, now).await?;
        txn.commit().await.map_err(db)?;
        Ok(Rotation::Rotated)
    }

    async fn revoke_session(&self, family_id: &str, at: DateTime<Utc>) -> Result<()> {
        revoke(&self.db, sessions::Column::Id.eq(family_id), at).await.map(|_| ())
    }

    async fn revoke_user_sessions(&self, user_id: i64, keep: Option<String>, at: DateTime<Utc>) -> Result<u64> {
        let mut which = Condition::all().add(sessions::Column::UserId.eq(user_id));
        if let Some(keep) = keep {
            which = which.add(sessions::Column::Id.ne(keep));
        }
        revoke(&self.db, which, at).await
    }

    async fn revoke_access(&self, jti: &str, expires_at: DateTime<Utc>) -> Result<()> {
        revoked_tokens::Entity::insert(revoked_tokens::ActiveModel {
            jti: Set(jti.to_string()),
            expires_at: Set(expires_at),
        })
        .on_conflict_do_nothing_on([revoked_tokens::Column::Jti])
        .exec(&self.db)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn is_revoked(&self, jti: &str, family_id: &str) -> Result<bool> {
        let sql = "SELECT CASE WHEN EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1) \
                   OR EXISTS (SELECT 1 FROM sessions WHERE id = $2 AND revoked_at IS NOT NULL) THEN 1 ELSE 0 END AS n";
        let stmt = statement(self.db.get_database_backend(), sql, vec![jti.into(), family_id.into()]);
        let row = Flag::find_by_statement(stmt).one(&self.db).await.map_err(db)?;
        Ok(row.is_some_and(|r| r.n == 1))
    }
}

/// Stores a refresh token of a session.
async fn insert_token<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    family_id: &str,
    token: NewRefreshToken,
    now: DateTime<Utc>,
) -> Result<()> {
    refresh_tokens::Entity::insert(refresh_tokens::ActiveModel {
        user_id: Set(user_id),
        family_id: Set(family_id.to_string()),
        token_hash: Set(token.token_hash),
        expires_at: Set(token.expires_at),
        used_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// Marks the sessions matching `which` revoked (those already revoked keep their time).
async fn revoke<C: ConnectionTrait>(conn: &C, which: impl IntoCondition, at: DateTime<Utc>) -> Result<u64> {
    let res = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(at))
        .filter(which)
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(conn)
        .await
        .map_err(db)?;
    Ok(res.rows_affected)
}
