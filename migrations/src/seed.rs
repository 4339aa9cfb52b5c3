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
