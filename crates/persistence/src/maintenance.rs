//! Upkeep an operator runs now and then, while the server keeps serving.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, FromQueryResult, Statement};

#[derive(FromQueryResult)]
struct IndexName {
    indexname: String,
}

/// Rebuilds every trigram search index (`REINDEX INDEX CONCURRENTLY` on PostgreSQL: reads and
/// writes go on meanwhile) and answers their names. GIN indexes kept up row by row grow loose
/// under bulk loads and updates (every update that is not HOT adds a row's trigrams again,
/// and vacuum frees the old entries without packing the lists); a rebuild packs them. SQLite
/// searches without trigram indexes: nothing to do there.
pub async fn rebuild_search_indexes(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(Vec::new());
    }
    let sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() \
               AND indexdef LIKE '%gin_trgm_ops%' ORDER BY indexname";
    let names: Vec<String> = IndexName::find_by_statement(Statement::from_string(DbBackend::Postgres, sql))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.indexname)
        .collect();
    for name in &names {
        // Names come from the catalog, quoted as identifiers all the same.
        db.execute_unprepared(&format!("REINDEX INDEX CONCURRENTLY \"{}\"", name.replace('"', "\"\""))).await?;
    }
    Ok(names)
}
