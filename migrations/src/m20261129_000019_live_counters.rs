//! Live-row counters of contacts and leads (`crm_counters`), so their whole lists are totalled
//! without counting 100,000 rows per request.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Recomputes the live-row counters of contacts and leads (run after `rebuild_statements`,
/// which clears every counter).
pub const LIVE_COUNTERS: [&str; 2] = [
    "INSERT INTO crm_counters (key, n) SELECT 'contacts:live', COUNT(*) FROM contacts WHERE deleted_at IS NULL",
    "INSERT INTO crm_counters (key, n) SELECT 'leads:live', COUNT(*) FROM leads WHERE deleted_at IS NULL",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DELETE FROM crm_counters WHERE key IN ('contacts:live', 'leads:live')").await?;
        for sql in LIVE_COUNTERS {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM crm_counters WHERE key IN ('contacts:live', 'leads:live')")
            .await?;
        Ok(())
    }
}
