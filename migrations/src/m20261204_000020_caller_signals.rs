//! PostgreSQL tells every replica when who a caller is may have changed: triggers on users,
//! roles, role permissions, sessions and revoked access tokens (and on the customer-status
//! catalog) send a `NOTIFY` on `crm_callers` (delivered on commit, whatever code or tool made
//! the change), and each server drops what it cached. SQLite runs as one process and needs none.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION crm_notify_callers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('crm_callers', 'user:' || OLD.id);
    ELSIF TG_TABLE_NAME = 'sessions' THEN
        PERFORM pg_notify('crm_callers', 'session:' || NEW.id);
    ELSIF TG_TABLE_NAME = 'revoked_tokens' THEN
        PERFORM pg_notify('crm_callers', 'access:' || NEW.jti);
    ELSIF TG_TABLE_NAME = 'customer_statuses' THEN
        PERFORM pg_notify('crm_callers', 'statuses');
    ELSE
        PERFORM pg_notify('crm_callers', 'roles');
    END IF;
    RETURN NULL;
END
$$"#;

const TRIGGERS: [&str; 6] = [
    "CREATE TRIGGER users_notify_callers AFTER UPDATE OR DELETE ON users \
     FOR EACH ROW EXECUTE FUNCTION crm_notify_callers()",
    "CREATE TRIGGER sessions_notify_callers AFTER UPDATE OF revoked_at ON sessions \
     FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at) EXECUTE FUNCTION crm_notify_callers()",
    "CREATE TRIGGER revoked_tokens_notify_callers AFTER INSERT ON revoked_tokens \
     FOR EACH ROW EXECUTE FUNCTION crm_notify_callers()",
    "CREATE TRIGGER roles_notify_callers AFTER INSERT OR UPDATE OR DELETE ON roles \
     FOR EACH STATEMENT EXECUTE FUNCTION crm_notify_callers()",
    "CREATE TRIGGER role_permissions_notify_callers AFTER INSERT OR UPDATE OR DELETE ON role_permissions \
     FOR EACH STATEMENT EXECUTE FUNCTION crm_notify_callers()",
    "CREATE TRIGGER customer_statuses_notify_callers AFTER INSERT OR UPDATE OR DELETE ON customer_statuses \
     FOR EACH STATEMENT EXECUTE FUNCTION crm_notify_callers()",
];

const TABLES: [&str; 6] = ["users", "sessions", "revoked_tokens", "roles", "role_permissions", "customer_statuses"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(FUNCTION).await?;
        for sql in TRIGGERS {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in TABLES {
            db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {table}_notify_callers ON {table}")).await?;
        }
        db.execute_unprepared("DROP FUNCTION IF EXISTS crm_notify_callers()").await?;
        Ok(())
    }
}
