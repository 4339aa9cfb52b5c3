//! System settings (`/api/system-config/settings/`), and the permissions of the settings and
//! integrations administration (`settings.manage`, `integrations.manage`), granted to the
//! `ceo` and `admin` system roles.

use crate::seed::{boolean, ident, pk, record_times, run, string, text};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const PERMISSIONS: [&str; 2] = ["settings.manage", "integrations.manage"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut settings = Table::create();
        settings
            .table(ident("system_settings"))
            .col(pk(ident("id")))
            .col(string("key", 100, false))
            .col(text("value", false, None))
            .col(text("description", true, None))
            .col(boolean("is_public", false));
        record_times(&mut settings);
        manager.create_table(settings.to_owned()).await?;
        run(
            manager,
            &["CREATE UNIQUE INDEX ux_system_settings_key_live ON system_settings (key) WHERE deleted_at IS NULL"],
        )
        .await?;
        let db = manager.get_connection();
        for permission in PERMISSIONS {
            let sql = format!(
                "INSERT INTO role_permissions (role_id, permission) SELECT id, '{permission}' FROM roles \
                 WHERE name IN ('ceo', 'admin') AND is_system = TRUE ON CONFLICT DO NOTHING"
            );
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "DELETE FROM role_permissions WHERE permission IN ('settings.manage', 'integrations.manage')",
        )
        .await?;
        manager.drop_table(Table::drop().table(ident("system_settings")).to_owned()).await
    }
}
