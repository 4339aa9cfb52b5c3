//! Call-center reports: aggregates over `calls`, `chats` and `chat_messages`, all computed
//! by the database.

use crate::error::db;
use crate::repo::statement;
use async_trait::async_trait;
use callcenter_core::Result;
use callcenter_core::ports::ReportRepository;
use callcenter_core::report::{Bucket, CallTotals, ChatTotals, LabelCount, TopicCount};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend, FromQueryResult, Value};

/// [`ReportRepository`] over the call-center tables.
#[derive(Clone)]
pub struct SqlCallReports {
    db: DatabaseConnection,
}

impl SqlCallReports {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlCallReports { db }
    }

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    async fn one<T: FromQueryResult>(&self, sql: &str, values: Vec<Value>) -> Result<T> {
        T::find_by_statement(statement(self.backend(), sql, values))
            .one(&self.db)
            .await
            .map_err(db)?
            .ok_or_else(|| callcenter_core::CallcenterError::Internal("an aggregate returned no row".into()))
    }

    async fn per_bucket(
        &self,
        table: &str,
        column: &str,
        bucket: Bucket,
        since: DateTime<Utc>,
    ) -> Result<Vec<LabelCount>> {
        let label = label_expr(self.backend(), column, bucket);
        let sql = format!(
            "SELECT {label} AS label, CAST(COUNT(*) AS BIGINT) AS count FROM {table} WHERE {column} >= $1 GROUP BY {label}"
        );
        let rows = Labelled::find_by_statement(statement(self.backend(), &sql, vec![since.into()]))
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(rows.into_iter().map(|r| LabelCount { label: r.label, count: r.count }).collect())
    }
}

/// The SQL expression labelling a timestamp with its UTC bucket (see [`Bucket`]).
fn label_expr(backend: DbBackend, column: &str, bucket: Bucket) -> String {
    let (pg, sqlite) = match bucket {
        Bucket::Hour => ("YYYY-MM-DD\"T\"HH24", "%Y-%m-%dT%H"),
        Bucket::Day => ("YYYY-MM-DD", "%Y-%m-%d"),
        Bucket::Month => ("YYYY-MM", "%Y-%m"),
    };
    match backend {
        DbBackend::Postgres => format!("to_char({column} AT TIME ZONE 'UTC', '{pg}')"),
        _ => format!("strftime('{sqlite}', {column})"),
    }
}

/// `WHERE column >= $1` when `since` is set, with its value.
fn since_clause(column: &str, since: Option<DateTime<Utc>>, n: usize) -> (String, Vec<Value>) {
    match since {
        Some(t) => (format!(" AND {column} >= ${n}"), vec![t.into()]),
        None => (String::new(), vec![]),
    }
}

#[derive(FromQueryResult)]
struct CallRow {
    total: i64,
    completed: i64,
    missed: i64,
    by_ai: i64,
    avg_duration: Option<f64>,
}

#[derive(FromQueryResult)]
struct ChatRow {
    total: i64,
    open: i64,
    resolved: i64,
    escalated: i64,
}

#[derive(FromQueryResult)]
struct Mean {
    mean: Option<f64>,
}

#[derive(FromQueryResult)]
struct Labelled {
    label: String,
    count: i64,
}

fn count_where(condition: &str) -> String {
    format!("CAST(COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0) AS BIGINT)")
}

#[async_trait]
impl ReportRepository for SqlCallReports {
    async fn call_totals(&self, since: Option<DateTime<Utc>>) -> Result<CallTotals> {
        let (clause, values) = since_clause("started_at", since, 1);
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS total, {} AS completed, {} AS missed, {} AS by_ai, \
             CAST(AVG(CASE WHEN status = 'completed' THEN duration_sec END) AS DOUBLE PRECISION) AS avg_duration \
             FROM calls WHERE 1 = 1{clause}",
            count_where("status = 'completed'"),
            count_where("status = 'missed'"),
            count_where("status = 'completed' AND escalated = FALSE"),
        );
        let r: CallRow = self.one(&sql, values).await?;
        Ok(CallTotals {
            total: r.total,
            completed: r.completed,
            missed: r.missed,
            completed_by_ai: r.by_ai,
            avg_duration_sec: r.avg_duration,
        })
    }

    async fn chat_totals(&self, since: Option<DateTime<Utc>>) -> Result<ChatTotals> {
        let (clause, values) = since_clause("created_at", since, 1);
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS total, {} AS open, {} AS resolved, {} AS escalated \
             FROM chats WHERE 1 = 1{clause}",
            count_where("status = 'open'"),
            count_where("status = 'resolved'"),
            count_where("status = 'escalated'"),
        );
        let r: ChatRow = self.one(&sql, values).await?;
        Ok(ChatTotals { total: r.total, open: r.open, resolved: r.resolved, escalated: r.escalated })
    }

    async fn avg_response_ms(&self, since: DateTime<Utc>) -> Result<Option<f64>> {
        let sql = "SELECT CAST(AVG(response_ms) AS DOUBLE PRECISION) AS mean FROM chat_messages \
                   WHERE response_ms IS NOT NULL AND created_at >= $1";
        Ok(self.one::<Mean>(sql, vec![since.into()]).await?.mean)
    }

    async fn calls_per(&self, bucket: Bucket, since: DateTime<Utc>) -> Result<Vec<LabelCount>> {
        self.per_bucket("calls", "started_at", bucket, since).await
    }

    async fn chats_per(&self, bucket: Bucket, since: DateTime<Utc>) -> Result<Vec<LabelCount>> {
        self.per_bucket("chats", "created_at", bucket, since).await
    }

    async fn topics(&self, since: Option<DateTime<Utc>>, with_chats: bool, limit: u64) -> Result<Vec<TopicCount>> {
        let (calls_clause, mut values) = since_clause("started_at", since, 1);
        let mut sources = format!("SELECT topic FROM calls WHERE topic IS NOT NULL{calls_clause}");
        if with_chats {
            let (chats_clause, more) = since_clause("created_at", since, values.len() + 1);
            sources.push_str(&format!(" UNION ALL SELECT topic FROM chats WHERE topic IS NOT NULL{chats_clause}"));
            values.extend(more);
        }
        let n = values.len() + 1;
        values.push((limit as i64).into());
        let sql = format!(
            "SELECT topic AS label, CAST(COUNT(*) AS BIGINT) AS count FROM ({sources}) t \
             GROUP BY topic ORDER BY count DESC, topic LIMIT ${n}"
        );
        let rows =
            Labelled::find_by_statement(statement(self.backend(), &sql, values)).all(&self.db).await.map_err(db)?;
        Ok(rows.into_iter().map(|r| TopicCount { topic: r.label, count: r.count }).collect())
    }
}
