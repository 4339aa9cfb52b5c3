//! Likely duplicates, grouped in SQL over the indexed duplicate keys (`dedupe_name`,
//! `dedupe_company`, `email_domain`, kept by the entities' save hooks), and merging them: the
//! sources' related records move to the target in one transaction.

use crate::entity::{contacts, customers};
use crate::error::db;
use crate::repo::listing::{self, PERSON_NAME};
use crate::repo::summaries::{Deltas, customers_key};
use crate::repo::{begin_write, statement};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::customer::search_text;
use crm_core::exchange::{DuplicateFinder, DuplicateGroup, DuplicateMember, DuplicateRule, Merger, Moved};
use crm_core::{CrmError, Result};
use kernel::{FieldErrors, Page, PageRequest};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, FromQueryResult, Value};

/// Members listed per group (the group's size is its whole count).
pub const MEMBERS_SHOWN: i64 = 50;

/// One way records of a table are grouped: the rule, the SQL of what they share besides the
/// name (`None`: the name alone), and the condition that makes it meaningful.
struct Grouping {
    rule: DuplicateRule,
    shared: Option<&'static str>,
}

/// A table whose records can be grouped.
struct Groupable {
    table: &'static str,
    name: &'static str,
    groupings: &'static [Grouping],
}

const ACCOUNTS: Groupable = Groupable {
    table: "customers",
    name: "name",
    groupings: &[Grouping { rule: DuplicateRule::SameName, shared: None }],
};
const CONTACTS: Groupable = Groupable {
    table: "contacts",
    name: PERSON_NAME,
    groupings: &[
        Grouping { rule: DuplicateRule::SameNameAndAccount, shared: Some("CAST(account_id AS VARCHAR(20))") },
        Grouping { rule: DuplicateRule::SameNameAndDomain, shared: Some("email_domain") },
    ],
};
const LEADS: Groupable = Groupable {
    table: "leads",
    name: PERSON_NAME,
    groupings: &[
        Grouping { rule: DuplicateRule::SameNameAndCompany, shared: Some("dedupe_company") },
        Grouping { rule: DuplicateRule::SameNameAndDomain, shared: Some("email_domain") },
    ],
};

/// [`DuplicateFinder`] of accounts, contacts or leads.
pub struct SqlDuplicates {
    db: DatabaseConnection,
    of: &'static Groupable,
}

impl SqlDuplicates {
    pub fn accounts(db: DatabaseConnection) -> Self {
        SqlDuplicates { db, of: &ACCOUNTS }
    }
    pub fn contacts(db: DatabaseConnection) -> Self {
        SqlDuplicates { db, of: &CONTACTS }
    }
    pub fn leads(db: DatabaseConnection) -> Self {
        SqlDuplicates { db, of: &LEADS }
    }
}

#[derive(FromQueryResult)]
struct GroupRow {
    r: i64,
    key: String,
    shared: Option<String>,
    n: i64,
    total: i64,
}

#[derive(FromQueryResult)]
struct MemberRow {
    r: i64,
    key: String,
    shared: Option<String>,
    id: i64,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    created_at: DateTime<Utc>,
}

fn grouped(g: &Groupable, i: usize, grouping: &Grouping) -> String {
    let shared = grouping.shared.unwrap_or("CAST(NULL AS VARCHAR(20))");
    let present = grouping.shared.map(|s| format!(" AND {s} IS NOT NULL")).unwrap_or_default();
    format!(
        "SELECT CAST({i} AS BIGINT) AS r, dedupe_name AS key, {shared} AS shared, COUNT(*) AS n FROM {} \
         WHERE deleted_at IS NULL AND dedupe_name IS NOT NULL AND dedupe_name <> ''{present} \
         GROUP BY dedupe_name, {shared} HAVING COUNT(*) > 1",
        g.table
    )
}

#[async_trait]
impl DuplicateFinder for SqlDuplicates {
    async fn groups(&self, page: PageRequest) -> Result<Page<DuplicateGroup>> {
        let g = self.of;
        let backend = self.db.get_database_backend();
        let union: Vec<String> = g.groupings.iter().enumerate().map(|(i, x)| grouped(g, i, x)).collect();
        let sql = format!(
            "SELECT r, key, shared, n, COUNT(*) OVER () AS total FROM ({}) groups \
             ORDER BY n DESC, key, r, shared LIMIT $1 OFFSET $2",
            union.join(" UNION ALL ")
        );
        let values = vec![(page.per_page as i64).into(), (page.offset() as i64).into()];
        let rows = GroupRow::find_by_statement(statement(backend, &sql, values)).all(&self.db).await.map_err(db)?;
        let total = rows.first().map_or(0, |r| r.total.max(0) as u64);
        if rows.is_empty() {
            return Ok(Page { items: Vec::new(), total: if page.offset() == 0 { 0 } else { total }, request: page });
        }
        // The members of the page's groups: their keys looked up in the index, the first few of each.
        let keys: Vec<String> = rows.iter().map(|r| r.key.clone()).collect();
        let mut parts = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        for (i, grouping) in g.groupings.iter().enumerate() {
            let placeholders: Vec<String> = (0..keys.len()).map(|k| format!("${}", values.len() + k + 1)).collect();
            values.extend(keys.iter().map(|k| Value::from(k.clone())));
            let shared = grouping.shared.unwrap_or("CAST(NULL AS VARCHAR(20))");
            parts.push(format!(
                "SELECT CAST({i} AS BIGINT) AS r, dedupe_name AS key, {shared} AS shared, id, {name} AS name, email, phone, created_at, \
                 ROW_NUMBER() OVER (PARTITION BY dedupe_name, {shared} ORDER BY created_at, id) AS k FROM {table} \
                 WHERE deleted_at IS NULL AND dedupe_name IN ({})",
                placeholders.join(", "),
                name = g.name,
                table = g.table,
            ));
        }
        let sql = format!(
            "SELECT r, key, shared, id, name, email, phone, created_at FROM ({}) m WHERE k <= {MEMBERS_SHOWN} ORDER BY r, key, created_at, id",
            parts.join(" UNION ALL ")
        );
        let members = MemberRow::find_by_statement(statement(backend, &sql, values)).all(&self.db).await.map_err(db)?;
        let items = rows
            .into_iter()
            .map(|row| DuplicateGroup {
                rule: g.groupings[row.r as usize].rule,
                members: members
                    .iter()
                    .filter(|m| m.r == row.r && m.key == row.key && m.shared == row.shared)
                    .map(|m| DuplicateMember {
                        id: m.id,
                        name: m.name.clone(),
                        email: m.email.clone(),
                        phone: m.phone.clone(),
                        created_at: m.created_at,
                    })
                    .collect(),
                size: row.n.max(0) as u64,
                key: row.key,
                shared: row.shared,
            })
            .collect();
        Ok(Page { items, total, request: page })
    }
}

// ---- Merging ----

/// What refers to a record of the merged kind: `(kind reported, table, column)`.
type Referrers = &'static [(&'static str, &'static str, &'static str)];

const ACCOUNT_REFERRERS: Referrers = &[
    ("contacts", "contacts", "account_id"),
    ("deals", "deals", "customer_id"),
    ("activities", "activities", "customer_id"),
    ("tasks", "tasks", "account_id"),
    ("sales_manager_assignments", "sales_manager_assignments", "customer_id"),
    ("callers", "callers", "customer_id"),
    ("leads", "leads", "converted_account_id"),
];
const CONTACT_REFERRERS: Referrers = &[
    ("deals", "deals", "contact_id"),
    ("activities", "activities", "contact_id"),
    ("tasks", "tasks", "contact_id"),
    ("leads", "leads", "converted_contact_id"),
];

/// [`Merger`] of accounts or contacts.
pub struct SqlMerger {
    db: DatabaseConnection,
    accounts: bool,
}

impl SqlMerger {
    pub fn accounts(db: DatabaseConnection) -> Self {
        SqlMerger { db, accounts: true }
    }
    pub fn contacts(db: DatabaseConnection) -> Self {
        SqlMerger { db, accounts: false }
    }
}

fn in_list(start: usize, n: usize) -> String {
    (0..n).map(|i| format!("${}", start + i)).collect::<Vec<_>>().join(", ")
}

async fn execute(conn: &DatabaseTransaction, sql: &str, values: Vec<Value>) -> Result<u64> {
    let done = conn.execute_raw(statement(conn.get_database_backend(), sql, values)).await.map_err(db)?;
    Ok(done.rows_affected())
}

/// Moves every row of `referrers` pointing at `sources` to `target`.
async fn move_referrers(
    conn: &DatabaseTransaction,
    referrers: Referrers,
    target: i64,
    sources: &[i64],
) -> Result<Moved> {
    let mut moved = Vec::new();
    for (kind, table, column) in referrers {
        let sql = format!("UPDATE {table} SET {column} = $1 WHERE {column} IN ({})", in_list(2, sources.len()));
        let mut values: Vec<Value> = vec![target.into()];
        values.extend(sources.iter().map(|s| Value::from(*s)));
        moved.push((*kind, execute(conn, &sql, values).await?));
    }
    Ok(moved)
}

/// The live rows `target` and `sources` of `E`, locked; a missing one is a 400 on its field.
async fn lock_all<E>(
    conn: &DatabaseTransaction,
    name: &str,
    target: i64,
    sources: &[i64],
) -> Result<(E::Model, Vec<E::Model>)>
where
    E: sea_orm::EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
{
    let mut errors = FieldErrors::new();
    let mut ids: Vec<i64> = sources.to_vec();
    ids.push(target);
    ids.sort_unstable();
    let mut found = std::collections::HashMap::new();
    // In id order, so concurrent merges lock in the same order.
    for id in ids {
        match listing::live_row_locked::<E, _>(conn, id).await? {
            Some(row) => {
                found.insert(id, row);
            }
            None => {
                let field = if id == target { "target_id" } else { "source_ids" };
                kernel::push_error(&mut errors, field, format!("{name} {id} is not a live {}.", name.to_lowercase()));
            }
        }
    }
    CrmError::check(errors)?;
    let target_row = found.remove(&target).ok_or_else(|| CrmError::Internal("merge target".into()))?;
    let source_rows = sources.iter().filter_map(|s| found.remove(s)).collect();
    Ok((target_row, source_rows))
}

fn fill<T: Clone>(target: &mut Option<T>, sources: impl Iterator<Item = Option<T>>) {
    if target.is_none() {
        *target = sources.flatten().next();
    }
}

/// The target's custom fields with the sources' keys it lacks.
fn fill_custom(target: &str, sources: impl Iterator<Item = String>) -> String {
    let mut merged = match serde_json::from_str::<serde_json::Value>(target) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    for source in sources {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&source) {
            for (k, v) in map {
                merged.entry(k).or_insert(v);
            }
        }
    }
    serde_json::Value::Object(merged).to_string()
}

impl SqlMerger {
    async fn merge_accounts(&self, txn: &DatabaseTransaction, target: i64, sources: &[i64]) -> Result<Moved> {
        let (mut next, merged) = lock_all::<customers::Entity>(txn, "Account", target, sources).await?;
        let current = next.clone();
        // One active sales manager: the target's, else the oldest source's that has one.
        let keep = format!(
            "UPDATE sales_manager_assignments SET is_active = FALSE WHERE is_active = TRUE AND customer_id IN ({}) \
             AND id NOT IN (SELECT id FROM (SELECT id FROM sales_manager_assignments WHERE is_active = TRUE \
             AND customer_id IN ({}) ORDER BY CASE WHEN customer_id = ${} THEN 0 ELSE 1 END, assigned_at, id LIMIT 1) keep)",
            in_list(1, sources.len() + 1),
            in_list(sources.len() + 2, sources.len() + 1),
            2 * sources.len() + 3,
        );
        let mut values: Vec<Value> = Vec::new();
        for _ in 0..2 {
            values.push(target.into());
            values.extend(sources.iter().map(|s| Value::from(*s)));
        }
        values.push(target.into());
        execute(txn, &keep, values).await?;
        let moved = move_referrers(txn, ACCOUNT_REFERRERS, target, sources).await?;
        let now = Utc::now();
        let mut deltas = Deltas::default();
        for source in &merged {
            // The source's won value now counts for the target; the source leaves the counts.
            deltas.count(customers_key(&source.status), -1);
            next.completed_cents += source.completed_cents;
            let sql = "UPDATE customers SET deleted_at = $1, merged_into_id = $2, completed_cents = 0, updated_at = $3 WHERE id = $4";
            execute(txn, sql, vec![now.into(), target.into(), now.into(), source.id.into()]).await?;
        }
        deltas.apply(txn).await.map_err(db)?;
        let from = || merged.iter().cloned();
        fill(&mut next.email, from().map(|s| s.email));
        fill(&mut next.phone, from().map(|s| s.phone));
        fill(&mut next.company, from().map(|s| s.company));
        fill(&mut next.value, from().map(|s| s.value));
        fill(&mut next.account_type, from().map(|s| s.account_type));
        fill(&mut next.industry, from().map(|s| s.industry));
        fill(&mut next.website, from().map(|s| s.website));
        fill(&mut next.territory_id, from().map(|s| s.territory_id));
        fill(&mut next.user_id, from().map(|s| s.user_id));
        next.custom_fields = fill_custom(&next.custom_fields, from().map(|s| s.custom_fields));
        next.search_text =
            search_text(&next.name, next.email.as_deref(), next.phone.as_deref(), next.company.as_deref());
        next.updated_at = now;
        if next != current {
            let model: customers::ActiveModel = next.into();
            model.reset_all().update(txn).await.map_err(crate::repo::customers::unique_email)?;
        }
        Ok(moved)
    }

    async fn merge_contacts(&self, txn: &DatabaseTransaction, target: i64, sources: &[i64]) -> Result<Moved> {
        let (mut next, merged) = lock_all::<contacts::Entity>(txn, "Contact", target, sources).await?;
        let current = next.clone();
        let moved = move_referrers(txn, CONTACT_REFERRERS, target, sources).await?;
        let now = Utc::now();
        for source in &merged {
            let sql = "UPDATE contacts SET deleted_at = $1, merged_into_id = $2, updated_at = $3 WHERE id = $4";
            execute(txn, sql, vec![now.into(), target.into(), now.into(), source.id.into()]).await?;
        }
        listing::count_live(txn, "contacts", -(merged.len() as i64)).await?;
        let from = || merged.iter().cloned();
        fill(&mut next.email, from().map(|s| s.email));
        fill(&mut next.phone, from().map(|s| s.phone));
        fill(&mut next.title, from().map(|s| s.title));
        fill(&mut next.account_id, from().map(|s| s.account_id));
        fill(&mut next.owner_id, from().map(|s| s.owner_id));
        next.custom_fields = fill_custom(&next.custom_fields, from().map(|s| s.custom_fields));
        next.search_text = crm_core::contacts::search_text(
            &next.first_name,
            &next.last_name,
            next.email.as_deref(),
            next.phone.as_deref(),
        );
        next.updated_at = now;
        if next != current {
            let model: contacts::ActiveModel = next.into();
            model
                .reset_all()
                .update(txn)
                .await
                .map_err(crate::error::conflict_if_unique("A contact with this e-mail or phone already exists."))?;
        }
        Ok(moved)
    }
}

#[async_trait]
impl Merger for SqlMerger {
    async fn merge(&self, target: i64, sources: Vec<i64>, _by: i64) -> Result<Moved> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let moved = if self.accounts {
            self.merge_accounts(&txn, target, &sources).await?
        } else {
            self.merge_contacts(&txn, target, &sources).await?
        };
        txn.commit().await.map_err(db)?;
        Ok(moved)
    }
}

/// Refuses to bring back a record that was merged into another (its relations moved there).
pub async fn refuse_merged_restore<C: ConnectionTrait>(conn: &C, table: &str, kind: &str, id: i64) -> Result<()> {
    #[derive(FromQueryResult)]
    struct Into {
        merged_into_id: Option<i64>,
    }
    let sql = format!("SELECT merged_into_id FROM {table} WHERE id = $1 AND deleted_at IS NOT NULL");
    let found = Into::find_by_statement(statement(conn.get_database_backend(), &sql, vec![id.into()]))
        .one(conn)
        .await
        .map_err(db)?;
    if let Some(Into { merged_into_id: Some(into) }) = found {
        return Err(CrmError::Conflict(format!(
            "{kind} {id} was merged into {} {into}; it cannot be restored.",
            kind.to_lowercase()
        )));
    }
    Ok(())
}
