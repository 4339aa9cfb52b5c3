//! Sessions (refresh-token families) get a row of their own: revoking a session is one
//! update of that row, which also covers tokens rotated into the family afterwards, and
//! every session of a user can be ended at once. `refresh_tokens.revoked_at` moves here.
//! Each session keeps the client address it was opened from (the user's known addresses).

use crate::seed::{timestamp, timestamp_null};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    ClientIp,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(ColumnDef::new(Sessions::Id).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(Sessions::UserId).big_integer().not_null())
                    .col(ColumnDef::new(Sessions::ClientIp).string_len(64).null())
                    .col(timestamp(Sessions::CreatedAt))
                    .col(timestamp_null(Sessions::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .col(Sessions::ClientIp)
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO sessions (id, user_id, created_at, revoked_at) \
                 SELECT family_id, MIN(user_id), MIN(created_at), MAX(revoked_at) FROM refresh_tokens GROUP BY family_id",
            )
            .await?;
        manager
            .alter_table(Table::alter().table(RefreshTokens::Table).drop_column(RefreshTokens::RevokedAt).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(ColumnDef::new(RefreshTokens::RevokedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager.drop_table(Table::drop().table(Sessions::Table).to_owned()).await
    }
}
