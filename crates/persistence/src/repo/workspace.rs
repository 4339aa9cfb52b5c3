//! The CIMS workspace over `customers` (the one customer record), `activities` of type
//! `note`, `customer_status_changes`, `customer_audio` and the sales-manager assignments.
//! Every write goes through the paths every surface shares: creation takes its turn in the
//! rotation, archive and restore are the soft delete, and each change is journaled.

use crate::entity::{activities, customers};
use crate::error::db;
use crate::repo::accounts::journal_account;
use crate::repo::customers::{add_customer, remove_customer, restore_customer};
use crate::repo::journal::{self, Change};
use crate::repo::summaries::{Deltas, activities_key, customers_key};
use crate::repo::{begin_write, statement};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::Result;
use crm_core::customer::search_text;
use crm_core::workspace::{
    AssignedCustomer, AudioFile, CustomerFields, MyLeadsFilter, MyLeadsStats, Note, Restored, StatusChange,
    StatusCounts, StoredAudio, WorkspaceCustomer, WorkspaceFilter, WorkspaceStore,
};
use kernel::{Page, PageRequest};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Set, Value,
};
use serde_json::json;

/// The most customers a list the UI does not page returns (newest first).
pub const UNPAGED_LIMIT: u64 = 10_000;

/// [`WorkspaceStore`] over the shared tables.
#[derive(Clone)]
pub struct SqlWorkspace {
    db: DatabaseConnection,
}

impl SqlWorkspace {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlWorkspace { db }
    }
}

fn view(m: customers::Model, audio: Option<String>) -> WorkspaceCustomer {
    WorkspaceCustomer {
        id: m.id,
        full_name: m.name,
        platform: m.platform,
        phone_number: m.phone,
        username: m.username,
        assistant_name: m.assistant_name,
        status: m.status,
        notes: m.notes,
        aisummary: m.aisummary,
        chat_url: m.chat_url,
        recall_time: m.recall_time,
        conversation_language: m.conversation_language,
        audio_file_id: audio,
        created_at: m.created_at,
        archived_at: m.deleted_at,
        first_status_changed_at: m.first_status_changed_at,
        first_status_changed_to: m.first_status_changed_to,
        first_note_at: m.first_note_at,
    }
}

/// The audio file id of a customer, as a column of a customer query.
const AUDIO_OF: &str = "(SELECT file_id FROM customer_audio a WHERE a.customer_id = customers.id)";

/// A customer row with its audio id (and, in lists, the total or the assignment time).
struct Row {
    model: customers::Model,
    audio: Option<String>,
    total: Option<i64>,
    assigned_at: Option<DateTime<Utc>>,
}

impl FromQueryResult for Row {
    fn from_query_result(res: &QueryResult, pre: &str) -> std::result::Result<Self, DbErr> {
        Ok(Row {
            model: customers::Model::from_query_result(res, pre)?,
            audio: res.try_get(pre, "audio_file_id")?,
            total: res.try_get(pre, "total").ok(),
            assigned_at: res.try_get(pre, "assigned_at").ok(),
        })
    }
}

fn with_audio(select: sea_orm::Select<customers::Entity>) -> sea_orm::Select<customers::Entity> {
    select.column_as(Expr::cust(AUDIO_OF), "audio_file_id")
}

/// `LOWER(column) LIKE '%needle%'` over several columns.
fn any_contains(columns: &[customers::Column], needle: &str) -> sea_orm::Condition {
    columns
        .iter()
        .fold(sea_orm::Condition::any(), |any, c| any.add(crate::repo::contains_lower(*c, &needle.to_lowercase())))
}

fn new_file_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Stores `file` as the customer's one recording, replacing the one before.
async fn put_audio<C: ConnectionTrait>(conn: &C, customer_id: i64, file: AudioFile) -> Result<()> {
    let backend = conn.get_database_backend();
    conn.execute_raw(statement(backend, "DELETE FROM customer_audio WHERE customer_id = $1", vec![customer_id.into()]))
        .await
        .map_err(db)?;
    let sql = "INSERT INTO customer_audio (file_id, customer_id, file_name, content_type, bytes, data, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7)";
    let values: Vec<Value> = vec![
        new_file_id().into(),
        customer_id.into(),
        file.file_name.into(),
        file.content_type.into(),
        (file.data.len() as i64).into(),
        file.data.into(),
        Utc::now().into(),
    ];
    conn.execute_raw(statement(backend, sql, values)).await.map_err(db)?;
    Ok(())
}

/// Sets the fields of `fields` on `model`.
fn apply(model: &mut customers::ActiveModel, next: &mut customers::Model, f: &CustomerFields) {
    if let Some(v) = &f.full_name {
        next.name = v.clone();
    }
    if let Some(v) = &f.phone_number {
        next.phone = Some(v.clone());
    }
    if let Some(v) = &f.status {
        next.status = v.clone();
    }
    macro_rules! optional {
        ($($field:ident <- $from:ident),*) => {$(
            if let Some(v) = &f.$from {
                next.$field = Some(v.clone());
            }
        )*};
    }
    optional!(platform <- platform, username <- username, assistant_name <- assistant_name, notes <- notes,
        conversation_language <- conversation_language, customer_type <- customer_type);
    if let Some(v) = f.recall_time {
        next.recall_time = v;
    }
    next.search_text = search_text(&next.name, next.email.as_deref(), next.phone.as_deref(), next.company.as_deref());
    *model = customers::ActiveModel {
        name: Set(next.name.clone()),
        phone: Set(next.phone.clone()),
        status: Set(next.status.clone()),
        platform: Set(next.platform.clone()),
        username: Set(next.username.clone()),
        assistant_name: Set(next.assistant_name.clone()),
        notes: Set(next.notes.clone()),
        conversation_language: Set(next.conversation_language.clone()),
        customer_type: Set(next.customer_type.clone()),
        recall_time: Set(next.recall_time),
        search_text: Set(next.search_text.clone()),
        ..model.clone()
    };
}

#[derive(FromQueryResult)]
struct NoteRow {
    id: i64,
    customer_id: Option<i64>,
    description: String,
    user_id: Option<i64>,
    author: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl NoteRow {
    fn into_note(self) -> Note {
        Note {
            id: self.id,
            customer_id: self.customer_id.unwrap_or_default(),
            note: self.description,
            created_by: self.user_id,
            created_by_full_name: self.author.map(|a| a.trim().to_string()).filter(|a| !a.is_empty()),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const NOTES: &str = "SELECT n.id, n.customer_id, n.description, n.user_id, n.created_at, n.updated_at, \
     COALESCE(NULLIF(u.name, ''), u.first_name || ' ' || u.last_name) AS author \
     FROM activities n LEFT JOIN users u ON u.id = n.user_id \
     WHERE n.customer_id = $1 AND n.type = 'note' AND n.deleted_at IS NULL";

async fn note_of<C: ConnectionTrait>(conn: &C, customer_id: i64, note_id: i64) -> Result<Option<Note>> {
    let sql = format!("{NOTES} AND n.id = $2");
    let row = NoteRow::find_by_statement(statement(
        conn.get_database_backend(),
        &sql,
        vec![customer_id.into(), note_id.into()],
    ))
    .one(conn)
    .await
    .map_err(db)?;
    Ok(row.map(NoteRow::into_note))
}

fn note_json(n: &Note) -> serde_json::Value {
    json!({"customer_id": n.customer_id, "note": n.note})
}

/// A live note row of a customer, locked.
async fn locked_note<C: ConnectionTrait>(
    conn: &C,
    customer_id: i64,
    note_id: i64,
) -> Result<Option<activities::Model>> {
    activities::Entity::find_by_id(note_id)
        .filter(activities::Column::CustomerId.eq(customer_id))
        .filter(activities::Column::Kind.eq("note"))
        .filter(activities::Column::DeletedAt.is_null())
        .lock_exclusive()
        .one(conn)
        .await
        .map_err(db)
}

#[derive(FromQueryResult)]
struct Counted {
    status: String,
    n: i64,
}

#[derive(FromQueryResult)]
struct ChangeRow {
    customer_id: i64,
    from_status: Option<String>,
    to_status: String,
    changed_by: Option<i64>,
    changed_at: DateTime<Utc>,
}

/// The conditions of a sales manager's leads, after `a.sales_manager_id = $1`.
fn lead_conditions(filter: &MyLeadsFilter, values: &mut Vec<Value>) -> String {
    let mut sql = String::new();
    if !filter.include_archived {
        sql.push_str(" AND c.deleted_at IS NULL");
    }
    if let Some(status) = filter.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        values.push(status.to_lowercase().into());
        sql.push_str(&format!(" AND LOWER(c.status) = ${}", values.len()));
    }
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        // One value per placeholder: SQLite's placeholders are positional.
        let mut like = |column: &str| {
            values.push(crate::repo::like_pattern(&search.to_lowercase()).into());
            format!("LOWER(COALESCE({column}, '')) LIKE ${} ESCAPE '\\'", values.len())
        };
        let (name, phone, username) = (like("c.name"), like("c.phone"), like("c.username"));
        sql.push_str(&format!(" AND ({name} OR {phone} OR {username})"));
    }
    sql
}

#[async_trait]
impl WorkspaceStore for SqlWorkspace {
    /// One statement: the page with its total beside it (from the live counters when
    /// unfiltered, else a count of the same conditions).
    async fn list(&self, filter: &WorkspaceFilter, page: PageRequest) -> Result<Page<WorkspaceCustomer>> {
        use customers::Column as C;
        let mut query = customers::Entity::find().filter(C::DeletedAt.is_null());
        if let Some(status) = &filter.status {
            query = query.filter(C::Status.eq(status.trim().to_lowercase()));
        }
        if let Some(platform) = &filter.platform {
            let lower = sea_orm::sea_query::Func::lower(Expr::col(C::Platform));
            query = query.filter(sea_orm::sea_query::ExprTrait::eq(Expr::expr(lower), platform.trim().to_lowercase()));
        }
        if let Some(from) = filter.created_from {
            query = query.filter(C::CreatedAt.gte(from));
        }
        if let Some(before) = filter.created_before {
            query = query.filter(C::CreatedAt.lt(before));
        }
        if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let columns = [C::Name, C::Username, C::Phone, C::Notes, C::Platform, C::Status, C::AssistantName];
            query = query.filter(any_contains(&columns, search));
        }
        let unfiltered = *filter == WorkspaceFilter::default();
        let total = if unfiltered {
            Expr::cust(crate::repo::customers::LIVE_TOTAL)
        } else {
            let count = query.clone().select_only().column_as(C::Id.count(), "n").into_query();
            sea_orm::sea_query::SimpleExpr::SubQuery(
                None,
                Box::new(sea_orm::sea_query::SubQueryStatement::SelectStatement(count)),
            )
        };
        // A deep page first picks its ids by an index-only scan, then reads those rows (a
        // deferred join in the same statement), as the v1 list does; from the nearer end of
        // the whole list when nothing filters it.
        let page_of = if page.offset() < crate::repo::customers::DEFERRED_JOIN_FROM {
            query.clone().offset(page.offset()).limit(page.per_page)
        } else if unfiltered {
            customers::Entity::find().filter(crate::repo::customers::live_page_ids(C::CreatedAt, true, page))
        } else {
            let ids = query
                .clone()
                .select_only()
                .column(C::Id)
                .order_by(C::CreatedAt, sea_orm::Order::Desc)
                .order_by(C::Id, sea_orm::Order::Desc)
                .offset(page.offset())
                .limit(page.per_page)
                .into_query();
            customers::Entity::find().filter(C::Id.in_subquery(ids))
        };
        let rows = with_audio(page_of)
            .column_as(total, "total")
            .order_by(C::CreatedAt, sea_orm::Order::Desc)
            .order_by(C::Id, sea_orm::Order::Desc)
            .into_model::<Row>()
            .all(&self.db)
            .await
            .map_err(db)?;
        let total = match rows.first() {
            Some(r) => r.total.unwrap_or_default().max(0) as u64,
            None if page.offset() == 0 => 0,
            None => sea_orm::PaginatorTrait::count(query, &self.db).await.map_err(db)?,
        };
        let items = rows.into_iter().map(|r| view(r.model, r.audio)).collect();
        Ok(Page { items, total, request: page })
    }

    async fn archived(&self) -> Result<Vec<WorkspaceCustomer>> {
        let rows = with_audio(customers::Entity::find().filter(customers::Column::DeletedAt.is_not_null()))
            .filter(customers::Column::MergedIntoId.is_null())
            .order_by(customers::Column::DeletedAt, sea_orm::Order::Desc)
            .order_by(customers::Column::Id, sea_orm::Order::Desc)
            .limit(UNPAGED_LIMIT)
            .into_model::<Row>()
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(rows.into_iter().map(|r| view(r.model, r.audio)).collect())
    }

    async fn get(&self, id: i64, archived: bool) -> Result<Option<WorkspaceCustomer>> {
        let mut select = with_audio(customers::Entity::find_by_id(id));
        if !archived {
            select = select.filter(customers::Column::DeletedAt.is_null());
        }
        let row = select.into_model::<Row>().one(&self.db).await.map_err(db)?;
        Ok(row.map(|r| view(r.model, r.audio)))
    }

    async fn create(&self, fields: CustomerFields, by: i64) -> Result<i64> {
        let now = Utc::now();
        let mut next = customers::Model {
            id: 0,
            name: String::new(),
            email: None,
            phone: None,
            company: None,
            status: String::new(),
            value: None,
            search_text: String::new(),
            user_id: Some(by),
            completed_cents: 0,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            account_type: None,
            industry: None,
            website: None,
            custom_fields: "{}".into(),
            territory_id: None,
            dedupe_name: None,
            email_domain: None,
            merged_into_id: None,
            platform: None,
            username: None,
            assistant_name: None,
            notes: None,
            aisummary: None,
            chat_url: None,
            recall_time: None,
            conversation_language: None,
            customer_type: None,
            first_status_changed_at: None,
            first_status_changed_to: None,
            first_note_at: None,
        };
        let mut model = customers::ActiveModel {
            user_id: Set(Some(by)),
            completed_cents: Set(0),
            custom_fields: Set("{}".into()),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        };
        apply(&mut model, &mut next, &fields);
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = add_customer(&txn, model).await?;
        if let Some(audio) = fields.audio {
            put_audio(&txn, stored.id, audio).await?;
        }
        txn.commit().await.map_err(db)?;
        Ok(stored.id)
    }

    async fn update(&self, id: i64, fields: CustomerFields, by: i64) -> Result<bool> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let found = customers::Entity::find_by_id(id)
            .filter(customers::Column::DeletedAt.is_null())
            .lock_exclusive()
            .one(&txn)
            .await
            .map_err(db)?;
        let Some(current) = found else { return Ok(false) };
        let before = current.clone();
        let mut next = current.clone();
        let mut model: customers::ActiveModel = current.into();
        apply(&mut model, &mut next, &fields);
        let now = Utc::now();
        let status_changed = next.status != before.status;
        if status_changed && before.first_status_changed_at.is_none() {
            model.first_status_changed_at = Set(Some(now));
            model.first_status_changed_to = Set(Some(next.status.clone()));
        }
        model.updated_at = Set(now);
        let stored = model.update(&txn).await.map_err(db)?;
        if let Some(audio) = fields.audio {
            put_audio(&txn, id, audio).await?;
        }
        journal_account(&txn, "updated", Some(before.clone()), Some(stored.clone())).await?;
        if status_changed {
            let backend = txn.get_database_backend();
            let sql = "INSERT INTO customer_status_changes (customer_id, from_status, to_status, changed_by, changed_at) \
                       VALUES ($1, $2, $3, $4, $5)";
            let values: Vec<Value> =
                vec![id.into(), before.status.clone().into(), stored.status.clone().into(), by.into(), now.into()];
            txn.execute_raw(statement(backend, sql, values)).await.map_err(db)?;
            let change = Change::audit("account", id, "status_changed")
                .with_values(Some(json!({"status": before.status})), Some(json!({"status": stored.status})));
            journal::record(&txn, change).await?;
            let mut deltas = Deltas::default();
            deltas.count(customers_key(&before.status), -1);
            deltas.count(customers_key(&stored.status), 1);
            deltas.apply(&txn).await.map_err(db)?;
        }
        txn.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn archive(&self, id: i64) -> Result<bool> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let removed = remove_customer(&txn, id, Utc::now()).await?;
        txn.commit().await.map_err(db)?;
        Ok(removed)
    }

    async fn restore(&self, id: i64) -> Result<Restored> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        if restore_customer(&txn, id).await? {
            txn.commit().await.map_err(db)?;
            return Ok(Restored::Restored);
        }
        let exists = customers::Entity::find_by_id(id).one(&txn).await.map_err(db)?.is_some();
        Ok(if exists { Restored::NotArchived } else { Restored::Missing })
    }

    /// Archives first when live (so every summary lets go of it), then deletes the customer
    /// with its deals, activities and notes, assignments, status history and recording;
    /// records that only referred to it (contacts, tasks, leads, callers) keep their data.
    async fn purge(&self, id: i64) -> Result<bool> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(found) = customers::Entity::find_by_id(id).lock_exclusive().one(&txn).await.map_err(db)? else {
            return Ok(false);
        };
        if found.deleted_at.is_none() {
            remove_customer(&txn, id, Utc::now()).await?;
        }
        let backend = txn.get_database_backend();
        for sql in [
            "DELETE FROM activities WHERE customer_id = $1",
            "DELETE FROM deals WHERE customer_id = $1",
            "DELETE FROM sales_manager_assignments WHERE customer_id = $1",
            "UPDATE callers SET customer_id = NULL WHERE customer_id = $1",
            "DELETE FROM customer_audio WHERE customer_id = $1",
            "DELETE FROM customer_status_changes WHERE customer_id = $1",
            "DELETE FROM customers WHERE id = $1",
        ] {
            txn.execute_raw(statement(backend, sql, vec![id.into()])).await.map_err(db)?;
        }
        let change = Change::audit("account", id, "purged")
            .with_values(Some(json!({"id": id, "name": found.name, "status": found.status})), None);
        journal::record(&txn, change).await?;
        txn.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn status_counts(&self, since: Option<DateTime<Utc>>) -> Result<StatusCounts> {
        let backend = self.db.get_database_backend();
        let (sql, values): (&str, Vec<Value>) = match since {
            // The live counters, kept by every write.
            None => (
                "SELECT SUBSTR(key, 11) AS status, CAST(n AS BIGINT) AS n FROM crm_counters \
                 WHERE key LIKE 'customers:%' AND n > 0",
                vec![],
            ),
            Some(from) => (
                "SELECT status, COUNT(*) AS n FROM customers WHERE deleted_at IS NULL AND created_at >= $1 GROUP BY status",
                vec![from.into()],
            ),
        };
        let rows = Counted::find_by_statement(statement(backend, sql, values)).all(&self.db).await.map_err(db)?;
        let mut by_status: Vec<(String, u64)> = rows.into_iter().map(|r| (r.status, r.n.max(0) as u64)).collect();
        by_status.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(StatusCounts { total: by_status.iter().map(|(_, n)| n).sum(), by_status })
    }

    async fn notes(&self, customer_id: i64) -> Result<Vec<Note>> {
        let sql = format!("{NOTES} ORDER BY n.created_at, n.id");
        let rows =
            NoteRow::find_by_statement(statement(self.db.get_database_backend(), &sql, vec![customer_id.into()]))
                .all(&self.db)
                .await
                .map_err(db)?;
        Ok(rows.into_iter().map(NoteRow::into_note).collect())
    }

    async fn note(&self, customer_id: i64, note_id: i64) -> Result<Option<Note>> {
        note_of(&self.db, customer_id, note_id).await
    }

    async fn add_note(&self, customer_id: i64, text: String, by: i64) -> Result<Note> {
        let now = Utc::now();
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = activities::ActiveModel {
            kind: Set("note".into()),
            description: Set(text),
            status: Set(crm_core::activity::DONE.into()),
            customer_id: Set(Some(customer_id)),
            user_id: Set(Some(by)),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(db)?;
        let mut deltas = Deltas::default();
        deltas.count(activities_key("note"), 1);
        deltas.apply(&txn).await.map_err(db)?;
        customers::Entity::update_many()
            .col_expr(customers::Column::FirstNoteAt, Expr::value(now))
            .filter(customers::Column::Id.eq(customer_id))
            .filter(customers::Column::FirstNoteAt.is_null())
            .exec(&txn)
            .await
            .map_err(db)?;
        let note = note_of(&txn, customer_id, stored.id).await?.ok_or_else(|| db(DbErr::RecordNotInserted))?;
        journal::record(&txn, Change::audit("note", note.id, "created").with_values(None, Some(note_json(&note))))
            .await?;
        txn.commit().await.map_err(db)?;
        Ok(note)
    }

    async fn edit_note(&self, customer_id: i64, note_id: i64, text: String) -> Result<Option<Note>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(row) = locked_note(&txn, customer_id, note_id).await? else { return Ok(None) };
        let before = json!({"customer_id": customer_id, "note": row.description});
        let mut model: activities::ActiveModel = row.into();
        model.description = Set(text);
        model.updated_at = Set(Utc::now());
        model.update(&txn).await.map_err(db)?;
        let note = note_of(&txn, customer_id, note_id).await?;
        if let Some(n) = &note {
            let change = Change::audit("note", note_id, "updated").with_values(Some(before), Some(note_json(n)));
            journal::record(&txn, change).await?;
        }
        txn.commit().await.map_err(db)?;
        Ok(note)
    }

    async fn delete_note(&self, customer_id: i64, note_id: i64) -> Result<bool> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(row) = locked_note(&txn, customer_id, note_id).await? else { return Ok(false) };
        let before = json!({"customer_id": customer_id, "note": row.description});
        let mut model: activities::ActiveModel = row.into();
        model.deleted_at = Set(Some(Utc::now()));
        model.update(&txn).await.map_err(db)?;
        let mut deltas = Deltas::default();
        deltas.count(activities_key("note"), -1);
        deltas.apply(&txn).await.map_err(db)?;
        journal::record(&txn, Change::audit("note", note_id, "deleted").with_values(Some(before), None)).await?;
        txn.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn audio(&self, file_id: &str) -> Result<Option<StoredAudio>> {
        #[derive(FromQueryResult)]
        struct AudioRow {
            file_id: String,
            customer_id: i64,
            file_name: Option<String>,
            content_type: String,
            data: Vec<u8>,
        }
        let sql = "SELECT file_id, customer_id, file_name, content_type, data FROM customer_audio WHERE file_id = $1";
        let row = AudioRow::find_by_statement(statement(
            self.db.get_database_backend(),
            sql,
            vec![file_id.to_string().into()],
        ))
        .one(&self.db)
        .await
        .map_err(db)?;
        Ok(row.map(|r| StoredAudio {
            file_id: r.file_id,
            customer_id: r.customer_id,
            file_name: r.file_name,
            content_type: r.content_type,
            data: r.data,
        }))
    }

    async fn assigned(
        &self,
        manager_id: i64,
        filter: &MyLeadsFilter,
        page: PageRequest,
    ) -> Result<Page<AssignedCustomer>> {
        let mut values: Vec<Value> = vec![manager_id.into()];
        let conditions = lead_conditions(filter, &mut values);
        let n = values.len();
        let sql = format!(
            "SELECT c.*, {audio} AS audio_file_id, a.assigned_at, COUNT(*) OVER () AS total \
             FROM sales_manager_assignments a JOIN customers c ON c.id = a.customer_id \
             WHERE a.sales_manager_id = $1 AND a.is_active = TRUE{conditions} \
             ORDER BY a.assigned_at DESC, a.id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2,
            audio = AUDIO_OF.replace("customers.id", "c.id"),
        );
        values.push((page.per_page as i64).into());
        values.push((page.offset() as i64).into());
        let rows = Row::find_by_statement(statement(self.db.get_database_backend(), &sql, values))
            .all(&self.db)
            .await
            .map_err(db)?;
        let total = rows.first().and_then(|r| r.total).unwrap_or_default().max(0) as u64;
        let items = rows
            .into_iter()
            .map(|r| AssignedCustomer {
                assigned_at: r.assigned_at.unwrap_or(r.model.created_at),
                customer: view(r.model, r.audio),
            })
            .collect();
        Ok(Page { items, total, request: page })
    }

    async fn assigned_stats(&self, manager_id: i64, include_archived: bool) -> Result<MyLeadsStats> {
        #[derive(FromQueryResult)]
        struct StatRow {
            status: String,
            archived: i64,
            n: i64,
        }
        let sql = "SELECT c.status, CAST(CASE WHEN c.deleted_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS archived, \
                   COUNT(*) AS n \
                   FROM sales_manager_assignments a JOIN customers c ON c.id = a.customer_id \
                   WHERE a.sales_manager_id = $1 AND a.is_active = TRUE \
                   GROUP BY c.status, CASE WHEN c.deleted_at IS NULL THEN 0 ELSE 1 END";
        let rows = StatRow::find_by_statement(statement(self.db.get_database_backend(), sql, vec![manager_id.into()]))
            .all(&self.db)
            .await
            .map_err(db)?;
        let mut stats = MyLeadsStats::default();
        let mut by_status: std::collections::BTreeMap<String, u64> = Default::default();
        for r in rows {
            let n = r.n.max(0) as u64;
            stats.total_assigned += n;
            if r.archived == 1 {
                stats.archived += n;
            } else {
                stats.active += n;
            }
            if r.archived == 0 || include_archived {
                *by_status.entry(r.status).or_default() += n;
            }
        }
        stats.by_status = by_status.into_iter().collect();
        stats.by_status.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(stats)
    }

    async fn status_changes(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        manager: Option<i64>,
    ) -> Result<Vec<StatusChange>> {
        let mut values: Vec<Value> = vec![from.into(), to.into()];
        let mut sql = "SELECT s.customer_id, s.from_status, s.to_status, s.changed_by, s.changed_at \
                       FROM customer_status_changes s"
            .to_string();
        if let Some(m) = manager {
            values.push(m.into());
            sql.push_str(
                " JOIN sales_manager_assignments a ON a.customer_id = s.customer_id AND a.is_active = TRUE \
                 AND a.sales_manager_id = $3",
            );
        }
        sql.push_str(" WHERE s.changed_at >= $1 AND s.changed_at < $2 ORDER BY s.changed_at, s.id");
        let rows = ChangeRow::find_by_statement(statement(self.db.get_database_backend(), &sql, values))
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|r| StatusChange {
                customer_id: r.customer_id,
                from_status: r.from_status,
                to_status: r.to_status,
                changed_by: r.changed_by,
                changed_at: r.changed_at,
            })
            .collect())
    }
}
