//! Column helpers shared by the migrations.

use sea_orm_migration::prelude::*;

/// `id BIGINT PRIMARY KEY` auto-incremented (`INTEGER PRIMARY KEY AUTOINCREMENT` on SQLite).
pub fn pk(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().auto_increment().primary_key().take()
}

/// A non-null timestamp with time zone.
pub fn timestamp(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().take()
}

/// A nullable timestamp with time zone.
pub fn timestamp_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().take()
}

/// An identifier by name, for tables written with the column helpers below.
pub fn ident(name: &str) -> Alias {
    Alias::new(name)
}

/// A `VARCHAR(len)` column, nullable or not.
pub fn string(name: &str, len: u32, nullable: bool) -> ColumnDef {
    let mut col = ColumnDef::new(ident(name));
    col.string_len(len);
    if nullable {
        col.null()
    } else {
        col.not_null()
    };
    col.take()
}

/// A `TEXT` column, nullable or not (with `default` when given).
pub fn text(name: &str, nullable: bool, default: Option<&str>) -> ColumnDef {
    let mut col = ColumnDef::new(ident(name));
    col.text();
    if nullable {
        col.null()
    } else {
        col.not_null()
    };
    if let Some(d) = default {
        col.default(d);
    }
    col.take()
}

/// A nullable `BIGINT` reference column.
pub fn reference(name: &str) -> ColumnDef {
    ColumnDef::new(ident(name)).big_integer().null().take()
}

/// A non-null integer with a default.
pub fn integer(name: &str, default: i32) -> ColumnDef {
    ColumnDef::new(ident(name)).integer().not_null().default(default).take()
}

/// A non-null boolean with a default.
pub fn boolean(name: &str, default: bool) -> ColumnDef {
    ColumnDef::new(ident(name)).boolean().not_null().default(default).take()
}

/// A foreign key from `table.column` to `target.id`.
pub fn fk(table: &str, column: &str, target: &str, on_delete: ForeignKeyAction) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(ident(table), ident(column))
        .to(ident(target), ident("id"))
        .on_delete(on_delete)
        .to_owned()
}

/// `created_at`, `updated_at` and the soft-delete `deleted_at` of a record.
pub fn record_times(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(timestamp(ident("created_at")))
        .col(timestamp(ident("updated_at")))
        .col(timestamp_null(ident("deleted_at")))
}

/// Runs raw statements that read the same on PostgreSQL and SQLite (indexes, mostly).
pub async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// Adds a nullable column `column` to `table` referencing `target(id)` (the same statement on
/// both engines; SQLite accepts a reference on an added column whose default is NULL).
pub async fn add_reference(manager: &SchemaManager<'_>, table: &str, column: &str, target: &str) -> Result<(), DbErr> {
    let sql =
        format!("ALTER TABLE {table} ADD COLUMN {column} BIGINT NULL REFERENCES {target} (id) ON DELETE SET NULL");
    manager.get_connection().execute_unprepared(&sql).await.map(|_| ())
}

/// A trigram index on a search column (PostgreSQL; SQLite has none).
pub async fn trigram_index(manager: &SchemaManager<'_>, table: &str, column: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if db.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
        db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm").await?;
        let sql = format!(
            "CREATE INDEX ix_{table}_{column}_trgm ON {table} USING gin ({column} gin_trgm_ops) WHERE deleted_at IS NULL"
        );
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}

/// Rebuilds `table` on SQLite the way SQLite documents (new table, copy, drop, rename), for
/// changes `ALTER TABLE` cannot make: on one connection with foreign keys off, so dropping the
/// old table cascades into nothing, checked with `PRAGMA foreign_key_check` before commit.
/// `create_new` creates `<table>_new`; `copy` fills it from `table`; `after` runs once the new
/// table has the old name (indexes).
pub async fn rebuild_sqlite(
    manager: &SchemaManager<'_>,
    table: &str,
    create_new: &str,
    copy: &str,
    after: &str,
) -> Result<(), DbErr> {
    use sea_orm_migration::sea_orm::DatabaseExecutor;
    use sea_orm_migration::sea_orm::sqlx::{self, Connection as _};
    let DatabaseExecutor::Connection(db) = manager.get_connection() else {
        return Err(DbErr::Migration(format!("rebuilding {table} needs its own connection, not a transaction")));
    };
    let mut conn = db.get_sqlite_connection_pool().acquire().await.map_err(|e| DbErr::Migration(e.to_string()))?;
    let fail = |e: sqlx::Error| DbErr::Migration(format!("rebuilding {table}: {e}"));
    sqlx::raw_sql("PRAGMA foreign_keys = OFF").execute(&mut *conn).await.map_err(fail)?;
    let outcome = async {
        let mut tx = conn.begin().await?;
        let script = format!(
            "{create_new};
             {copy};
             DROP TABLE {table};
             ALTER TABLE {table}_new RENAME TO {table};
             {after}"
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(script)).execute(&mut *tx).await?;
        let broken: Vec<sqlx::sqlite::SqliteRow> = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *tx).await?;
        if !broken.is_empty() {
            return Err(sqlx::Error::Protocol(format!("{} rows would lose their referenced row", broken.len())));
        }
        tx.commit().await
    }
    .await;
    sqlx::raw_sql("PRAGMA foreign_keys = ON").execute(&mut *conn).await.map_err(fail)?;
    outcome.map_err(fail)
}
