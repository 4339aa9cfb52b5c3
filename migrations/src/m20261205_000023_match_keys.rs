//! Keys that find likely duplicates (`kernel::names`): the normalised name of accounts,
//! contacts and leads (`dedupe_name`), a lead's normalised company (`dedupe_company`), and the
//! e-mail's company domain (`email_domain`, none for public mail providers), each indexed over
//! live rows; and `merged_into_id`, the record an account or contact was merged into.

use crate::seed::{add_reference, run};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rows keyed per statement by [`backfill_match_keys`].
const BATCH: u64 = 1000;

#[derive(FromQueryResult)]
struct Unkeyed {
    id: i64,
    name: String,
    last: Option<String>,
    company: Option<String>,
    email: Option<String>,
}

/// Fills the keys of every row that has none (rows written by bulk loads, which bypass the
/// entity hooks that keep them), in batches.
pub async fn backfill_match_keys<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let tables = [
        ("customers", "name", "CAST(NULL AS VARCHAR(1))", "CAST(NULL AS VARCHAR(1))"),
        ("contacts", "first_name", "last_name", "CAST(NULL AS VARCHAR(1))"),
        ("leads", "first_name", "last_name", "company_name"),
    ];
    let mut keyed = 0;
    for (table, name, last, company) in tables {
        loop {
            let sql = format!(
                "SELECT id, {name} AS name, {last} AS last, {company} AS company, email FROM {table} \
                 WHERE dedupe_name IS NULL ORDER BY id LIMIT {BATCH}"
            );
            let rows = Unkeyed::find_by_statement(Statement::from_string(backend, sql)).all(db).await?;
            if rows.is_empty() {
                break;
            }
            let mut values: Vec<Value> = Vec::new();
            let mut tuples = Vec::new();
            for r in &rows {
                let n = values.len();
                tuples.push(match backend {
                    DbBackend::Postgres => format!("(CAST(${} AS BIGINT), ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4),
                    _ => "(CAST(? AS BIGINT), ?, ?, ?)".to_string(),
                });
                let key = match (table, &r.last) {
                    ("customers", _) => kernel::names::company_key(&r.name),
                    (_, last) => kernel::names::person_key(&r.name, last.as_deref().unwrap_or_default()),
                };
                values.push(r.id.into());
                values.push(key.into());
                values.push(r.email.as_deref().and_then(kernel::names::company_domain).into());
                values.push(r.company.as_deref().map(kernel::names::company_key).into());
            }
            let company_set = if table == "leads" { ", dedupe_company = v.column4" } else { "" };
            let sql = format!(
                "UPDATE {table} SET dedupe_name = v.column2, email_domain = v.column3{company_set} \
                 FROM (VALUES {}) AS v WHERE {table}.id = v.column1",
                tuples.join(", ")
            );
            db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
            keyed += rows.len() as u64;
        }
    }
    Ok(keyed)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in [
            ("customers", &["dedupe_name", "email_domain"][..]),
            ("contacts", &["dedupe_name", "email_domain"][..]),
            ("leads", &["dedupe_name", "email_domain", "dedupe_company"][..]),
        ] {
            for column in columns {
                manager
                    .alter_table(
                        Table::alter()
                            .table(Alias::new(table))
                            .add_column(ColumnDef::new(Alias::new(*column)).string_len(255).null())
                            .to_owned(),
                    )
                    .await?;
            }
        }
        add_reference(manager, "customers", "merged_into_id", "customers").await?;
        add_reference(manager, "contacts", "merged_into_id", "contacts").await?;
        backfill_match_keys(manager.get_connection()).await?;
        run(
            manager,
            &[
                "CREATE INDEX ix_customers_live_dedupe ON customers (dedupe_name) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_customers_live_domain ON customers (email_domain, dedupe_name) WHERE deleted_at IS NULL AND email_domain IS NOT NULL",
                "CREATE INDEX ix_contacts_live_dedupe ON contacts (dedupe_name, account_id) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_contacts_live_domain ON contacts (dedupe_name, email_domain) WHERE deleted_at IS NULL AND email_domain IS NOT NULL",
                "CREATE INDEX ix_leads_live_dedupe ON leads (dedupe_name, dedupe_company) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_leads_live_domain ON leads (dedupe_name, email_domain) WHERE deleted_at IS NULL AND email_domain IS NOT NULL",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            &[
                "DROP INDEX ix_customers_live_dedupe",
                "DROP INDEX ix_customers_live_domain",
                "DROP INDEX ix_contacts_live_dedupe",
                "DROP INDEX ix_contacts_live_domain",
                "DROP INDEX ix_leads_live_dedupe",
                "DROP INDEX ix_leads_live_domain",
            ],
        )
        .await?;
        for (table, columns) in [
            ("customers", &["dedupe_name", "email_domain", "merged_into_id"][..]),
            ("contacts", &["dedupe_name", "email_domain", "merged_into_id"][..]),
            ("leads", &["dedupe_name", "email_domain", "dedupe_company"][..]),
        ] {
            for column in columns {
                manager
                    .alter_table(Table::alter().table(Alias::new(table)).drop_column(Alias::new(*column)).to_owned())
                    .await?;
            }
        }
        Ok(())
    }
}
