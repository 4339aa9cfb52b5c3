//! Schema changes keep stored data: migration 9 rebuilds `callers` on SQLite (phone becomes
//! optional) without losing the calls and chats that reference them.

use crate::support::*;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

async fn count(db: &persistence::Database, table: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), format!("SELECT COUNT(*) AS n FROM {table}")))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn optional_caller_phones_keep_existing_calls_and_chats() {
    let url = fresh_database_url().await;
    let pool = persistence::PoolSettings {
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(5),
        ..Default::default()
    };
    let db = persistence::connect(&url, pool).await.unwrap();
    Migrator::up(&db, Some(8)).await.unwrap();
    let now = if db.get_database_backend() == DbBackend::Postgres { "now()" } else { "CURRENT_TIMESTAMP" };
    for sql in [
        format!(
            "INSERT INTO callers (id, full_name, phone, search_text, created_at, updated_at, ai_context) VALUES ('u_1', 'Aziz', '+998901112233', '', {now}, {now}, '{{\"knownName\":\"Aziz\"}}')"
        ),
        format!(
            "INSERT INTO calls (id, caller_id, number, direction, status, started_at, transcript, ai_summary, sentiment, tags, escalated, search_text, created_at, updated_at) VALUES ('call_1', 'u_1', '+998901112233', 'inbound', 'completed', {now}, 'User: salom', '', 'neutral', '[]', false, '', {now}, {now})"
        ),
        format!(
            "INSERT INTO chats (id, caller_id, status, tags, sentiment, ai_summary, search_text, created_at, updated_at) VALUES ('chat_1', 'u_1', 'open', '[]', 'neutral', '', '', {now}, {now})"
        ),
        format!(
            "INSERT INTO chat_messages (id, chat_id, role, text, created_at) VALUES ('msg_1', 'chat_1', 'user', 'salom', {now})"
        ),
    ] {
        db.execute_unprepared(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    Migrator::up(&db, None).await.unwrap();
    for (table, n) in [("callers", 1), ("calls", 1), ("chats", 1), ("chat_messages", 1)] {
        assert_eq!(count(&db, table).await, n, "{table} kept its rows");
    }
    db.execute_unprepared(&format!(
        "INSERT INTO callers (id, full_name, search_text, created_at, updated_at) VALUES ('u_2', 'Web', '', {now}, {now})"
    ))
    .await
    .expect("a caller without a phone");
    let duplicate = db
        .execute_unprepared(&format!(
            "INSERT INTO callers (id, full_name, phone, search_text, created_at, updated_at) VALUES ('u_3', 'X', '+998901112233', '', {now}, {now})"
        ))
        .await;
    assert!(duplicate.is_err(), "phones stay unique");
    db.execute_unprepared("DELETE FROM callers WHERE id = 'u_1'").await.unwrap();
    assert_eq!(count(&db, "calls").await, 0, "the foreign keys still cascade after the rebuild");
    assert_eq!(count(&db, "chat_messages").await, 0);
}
