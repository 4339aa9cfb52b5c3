//! Callers may be known before their phone is: a chat started from the web has only an id.
//! `callers.phone` becomes nullable (still unique when present).
//!
//! PostgreSQL drops the constraint in place. SQLite cannot, so the table is rebuilt the way
//! SQLite documents (new table, copy, drop, rename) on one connection with foreign keys off,
//! so that dropping the old table does not cascade into the calls and chats that reference it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Callers {
    Id,
    FullName,
    Phone,
    Email,
    Region,
    Language,
    CustomerId,
    SearchText,
    CreatedAt,
    UpdatedAt,
    AiContext,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

const COLUMNS: &str =
    "id, full_name, phone, email, region, language, customer_id, search_text, created_at, updated_at, ai_context";

/// `callers` as it stands after migrations 6 and 8, named `callers_new`, with `phone` nullable
/// unless `phone_required`.
fn callers_table(phone_required: bool) -> String {
    let name = Alias::new("callers_new");
    let mut phone = ColumnDef::new(Callers::Phone);
    phone.string_len(20).unique_key();
    if phone_required {
        phone.not_null();
    } else {
        phone.null();
    }
    Table::create()
        .table(name.clone())
        .col(ColumnDef::new(Callers::Id).string_len(64).not_null().primary_key())
        .col(ColumnDef::new(Callers::FullName).string_len(200).not_null())
        .col(phone)
        .col(ColumnDef::new(Callers::Email).string_len(254).null())
        .col(ColumnDef::new(Callers::Region).string_len(100).null())
        .col(ColumnDef::new(Callers::Language).string_len(2).null())
        .col(ColumnDef::new(Callers::CustomerId).big_integer().null())
        .col(ColumnDef::new(Callers::SearchText).text().not_null().default(""))
        .col(ColumnDef::new(Callers::CreatedAt).timestamp_with_time_zone().not_null())
        .col(ColumnDef::new(Callers::UpdatedAt).timestamp_with_time_zone().not_null())
        .col(ColumnDef::new(Callers::AiContext).text().not_null().default("{}"))
        .foreign_key(
            ForeignKey::create()
                .from(name, Callers::CustomerId)
                .to(Customers::Table, Customers::Id)
                .on_delete(ForeignKeyAction::SetNull),
        )
        .to_string(SqliteQueryBuilder)
}

/// Rebuilds `callers` on SQLite with the given table definition (rows of calls and chats keep
/// their callers).
async fn rebuild_sqlite(manager: &SchemaManager<'_>, create_new: String) -> Result<(), DbErr> {
    let copy = format!("INSERT INTO callers_new ({COLUMNS}) SELECT {COLUMNS} FROM callers");
    crate::seed::rebuild_sqlite(
        manager,
        "callers",
        &create_new,
        &copy,
        "CREATE INDEX ix_callers_created ON callers (created_at, id);",
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(manager, callers_table(false)).await,
            _ => {
                manager
                    .get_connection()
                    .execute_unprepared("ALTER TABLE callers ALTER COLUMN phone DROP NOT NULL")
                    .await?;
                Ok(())
            }
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DELETE FROM callers WHERE phone IS NULL").await?;
        match manager.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(manager, callers_table(true)).await,
            _ => {
                db.execute_unprepared("ALTER TABLE callers ALTER COLUMN phone SET NOT NULL").await?;
                Ok(())
            }
        }
    }
}
