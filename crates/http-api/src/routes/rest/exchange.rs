//! Bringing accounts, contacts and leads in and out, and their duplicates:
//! `…/export/` (CSV of every matching record, streamed page by page), `…/import/` (a CSV file,
//! matched, deduplicated and stored batch by batch), `…/duplicates/` (groups of likely
//! duplicates) and `…/merge/` (accounts and contacts).

use super::body::RestBody;
use super::scaffold::{RestResource, both, operation, query_pairs, rest_page};
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::files::csv::{CsvChunks, attachment, read_cell, text_cell};
use crate::iso;
use crate::multipart::{is_multipart, spool};
use crate::state::AppState;
use crate::typed_body::{self, Reading, Words};
use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use crm_core::exchange::{Dedupe, ImportReport, Importable, Imports, OnDuplicate, RowInput};
use crm_core::records::Resource;
use kernel::{FieldErrors, ListSpec, PageRequest};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

/// Limits of an imported file (`IMPORT_MAX_BYTES`, `IMPORT_MAX_ROWS`).
#[derive(Debug, Clone, Copy)]
pub struct ImportLimits {
    pub max_bytes: usize,
    pub max_rows: u64,
}

/// Rows read, checked and stored together (one transaction).
const BATCH: usize = 500;
/// Records read per page of an export.
const EXPORT_PAGE: u64 = 500;

/// A resource that can be exported, imported and deduplicated.
pub trait Exchanged: RestResource<R: Importable>
where
    <Self::R as Resource>::Input: Clone,
{
    /// The file's columns: the record's fields in the API's order.
    const COLUMNS: &'static [&'static str];
    /// Columns an import reads but does not write (the server sets them).
    const READ_ONLY: &'static [&'static str];
    /// Whether `…/merge/` exists.
    const MERGES: bool;
    fn imports(state: &AppState) -> &Imports<Self::R>;
    fn dedupe(state: &AppState) -> &Dedupe<Self::R>;
}

/// The path of a collection action of `T` (`/api/crm/accounts/export/`).
fn collection_action<T: RestResource>(action: &str) -> String {
    format!("{}{action}/", T::PATH)
}

/// Mounts the routes of `T`; before the record routes, whose `{id}` would take `export`.
pub fn mount<T: Exchanged>(cfg: &mut web::ServiceConfig)
where
    <T::R as Resource>::Input: Clone,
{
    cfg.service(web::resource(both(&collection_action::<T>("export"))).route(web::get().to(export::<T>)))
        .service(web::resource(both(&collection_action::<T>("import"))).route(web::post().to(import::<T>)))
        .service(web::resource(both(&collection_action::<T>("duplicates"))).route(web::get().to(duplicates::<T>)));
    if T::MERGES {
        cfg.service(web::resource(both(&collection_action::<T>("merge"))).route(web::post().to(merge::<T>)));
    }
}

/// A JSON value of a record as a CSV cell: related records as their id, objects and lists as
/// JSON text, text made safe for spreadsheets.
fn cell(column: &str, value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => text_cell(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Object(map) if column != "custom_fields" && map.contains_key("id") => map["id"].to_string(),
        other => other.to_string(),
    }
}

async fn export<T: Exchanged>(req: HttpRequest, auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse>
where
    <T::R as Resource>::Input: Clone,
{
    let pairs: Vec<(String, String)> =
        query_pairs(&req)?.into_iter().filter(|(k, _)| !matches!(k.as_str(), "page" | "page_size")).collect();
    if let Some((_, format)) = pairs.iter().find(|(k, v)| k == "format" && !v.trim().is_empty())
        && format.trim() != "csv"
    {
        return Err(ApiError::field("format", format!("Unknown format \"{format}\"; exports are csv.")));
    }
    let mut query = T::R::LIST.parse(&pairs)?;
    // The first page answers now: a refused caller or a failing database is a proper error.
    query.page = PageRequest::new(1, EXPORT_PAGE);
    let first = T::records(&state).list(&auth.0, &query).await?;
    let mut header = CsvChunks::default();
    header.record(T::COLUMNS)?;
    let start = futures_util::stream::once(async move { header.take() });
    let rows = |items: Vec<super::scaffold::RecordOf<T>>| -> ApiResult<web::Bytes> {
        let mut out = CsvChunks::default();
        for record in items {
            let value = serde_json::to_value(T::dto(record)).map_err(ApiError::internal)?;
            out.record(T::COLUMNS.iter().map(|c| cell(c, &value[*c])))?;
        }
        out.take()
    };
    let full = first.items.len() as u64 == EXPORT_PAGE;
    let principal = auth.0;
    let pages = futures_util::stream::unfold(
        (Some(first.items), full, 1u64, state, principal, query),
        move |(items, more, page, state, principal, mut query)| async move {
            if let Some(items) = items {
                return Some((rows(items), (None, more, page, state, principal, query)));
            }
            if !more {
                return None;
            }
            query.page = PageRequest::new(page + 1, EXPORT_PAGE);
            match T::records(&state).list(&principal, &query).await {
                Ok(next) => {
                    let more = next.items.len() as u64 == EXPORT_PAGE;
                    Some((rows(next.items), (None, more, page + 1, state, principal, query)))
                }
                Err(e) => Some((Err(e.into()), (None, false, page, state, principal, query))),
            }
        },
    );
    let file = format!("{}-{}.csv", T::ID.trim_start_matches("rest_"), chrono::Utc::now().format("%Y-%m-%d"));
    Ok(attachment(&file, futures_util::StreamExt::chain(start, pages)))
}

/// `true`/`false` (or 1/0, yes/no) of a form field.
fn flag(name: &str, raw: Option<&str>) -> ApiResult<bool> {
    match raw.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("false") | Some("0") | Some("no") => Ok(false),
        Some("true") | Some("1") | Some("yes") => Ok(true),
        Some(other) => Err(ApiError::field(name, format!("{name} must be true or false, not \"{other}\"."))),
    }
}

/// A read file: its header's known columns (index, name) and how many rows follow.
struct Checked {
    columns: Vec<(usize, String)>,
    rows: u64,
}

fn bad_file(message: impl Into<String>) -> ApiError {
    ApiError::field("file", message)
}

fn reader(file: std::fs::File) -> csv::Reader<std::fs::File> {
    csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(file)
}

/// First pass over the file: UTF-8 throughout, a header naming known columns, the row count.
fn check_file(file: std::fs::File, writable: &[&str], known: &[&str], max_rows: u64) -> ApiResult<Checked> {
    let mut records = reader(file).into_byte_records();
    let header = match records.next() {
        None => return Err(bad_file("The file is empty: send a CSV file whose first row names the columns.")),
        Some(Err(e)) => return Err(bad_file(format!("The file is not readable CSV: {e}"))),
        Some(Ok(h)) => h,
    };
    let mut columns = Vec::new();
    let mut unknown = Vec::new();
    for (i, raw) in header.iter().enumerate() {
        let name = std::str::from_utf8(raw).map_err(|_| bad_file("The file is not UTF-8 text (its header row)."))?;
        let name = name.trim_start_matches('\u{feff}').trim().to_lowercase();
        if writable.contains(&name.as_str()) {
            columns.push((i, name));
        } else if !known.contains(&name.as_str()) && !name.is_empty() {
            unknown.push(name);
        }
    }
    if columns.is_empty() {
        return Err(bad_file(format!(
            "The first row must name the columns, of which these can be imported: {}. {}",
            writable.join(", "),
            if unknown.is_empty() { String::new() } else { format!("Not columns: {}.", unknown.join(", ")) }
        )));
    }
    let mut rows = 0u64;
    for record in records {
        let record = record.map_err(|e| bad_file(format!("The file is not readable CSV: {e}")))?;
        rows += 1;
        if rows > max_rows {
            return Err(ApiError::too_large(format!(
                "The file has more than {max_rows} rows (IMPORT_MAX_ROWS); split it. Nothing was imported."
            )));
        }
        if record.iter().any(|c| std::str::from_utf8(c).is_err()) {
            return Err(bad_file(format!("The file is not UTF-8 text (row {}).", rows + 1)));
        }
    }
    Ok(Checked { columns, rows })
}

/// One row's cells by column (empty cells left out: absent, not cleared).
type RawRow = (u64, Map<String, Value>, FieldErrors);

/// Second pass: the rows, batch by batch, over a channel from a blocking reader.
fn read_rows(file: std::fs::File, columns: Vec<(usize, String)>, out: tokio::sync::mpsc::Sender<Vec<RawRow>>) {
    let mut batch = Vec::with_capacity(BATCH);
    for (n, record) in reader(file).into_records().enumerate().skip(1) {
        let Ok(record) = record else { return };
        let mut fields = Map::new();
        let mut problems = FieldErrors::new();
        for (i, name) in &columns {
            let Some(raw) = record.get(*i) else { continue };
            let value = read_cell(raw.trim());
            if value.contains('\0') {
                kernel::push_error(&mut problems, name, "Contains a NUL character, which is not accepted.");
            } else if !value.is_empty() {
                fields.insert(name.clone(), Value::String(value.to_string()));
            }
        }
        batch.push((n as u64 + 1, fields, problems));
        if batch.len() == BATCH && out.blocking_send(std::mem::take(&mut batch)).is_err() {
            return;
        }
    }
    if !batch.is_empty() {
        let _ = out.blocking_send(batch);
    }
}

fn report_json(r: ImportReport, rows: u64) -> Value {
    json!({
        "rows": rows,
        "created": r.created,
        "updated": r.updated,
        "skipped": r.skipped,
        "failed": r.failed,
        "dry_run": r.dry_run,
        "errors": r.errors.iter().map(|e| json!({"row": e.row, "field": e.field, "message": e.message})).collect::<Vec<_>>(),
        "errors_truncated": r.errors_truncated,
    })
}

async fn import<T: Exchanged>(
    req: HttpRequest,
    auth: Auth,
    state: web::Data<AppState>,
    limits: web::Data<ImportLimits>,
    payload: web::Payload,
) -> ApiResult<HttpResponse>
where
    <T::R as Resource>::Input: Clone,
{
    T::records(&state).may_write(&auth.0)?;
    if !is_multipart(&req) {
        return Err(ApiError::unsupported("Send the CSV file as multipart/form-data in the field 'file'."));
    }
    let form =
        spool(Multipart::new(req.headers(), payload), limits.max_bytes, "file", &["dry_run", "on_duplicate"]).await?;
    let query = query_pairs(&req)?;
    let option = |name: &str| form.texts.iter().chain(query.iter()).find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let dry_run = flag("dry_run", option("dry_run").as_deref())?;
    let mode = match option("on_duplicate").filter(|v| !v.trim().is_empty()) {
        Some(raw) => OnDuplicate::parse(&raw)?,
        None => OnDuplicate::Skip,
    };
    let temp = form.file.ok_or_else(|| bad_file("The multipart field 'file' (a CSV file) is required."))?;
    let writable: Vec<&str> = T::COLUMNS.iter().copied().filter(|c| !T::READ_ONLY.contains(c)).collect();
    let (first, second) = (temp.reopen(), temp.reopen());
    let io = |e: std::io::Error| ApiError::internal(format!("reading an upload: {e}"));
    let (first, second) = (first.map_err(io)?, second.map_err(io)?);
    let max_rows = limits.max_rows;
    let checked =
        web::block(move || check_file(first, &writable, T::COLUMNS, max_rows)).await.map_err(ApiError::internal)??;
    let mut run = T::imports(&state).start(&auth.0, mode, dry_run)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let reading = tokio::task::spawn_blocking(move || read_rows(second, checked.columns, tx));
    while let Some(batch) = rx.recv().await {
        let rows = batch
            .into_iter()
            .map(|(row, fields, mut problems)| {
                let body = typed_body::read::<T::Body>(fields, Reading { form: true, words: Words::Drf })
                    .unwrap_or_else(|errors| {
                        for (field, messages) in errors {
                            problems.entry(field).or_default().extend(messages);
                        }
                        T::Body::default()
                    });
                RowInput { row, input: T::input(body), problems }
            })
            .collect();
        run.batch(rows).await?;
    }
    reading.await.map_err(ApiError::internal)?;
    drop(temp);
    Ok(HttpResponse::Ok().json(report_json(run.finish(), checked.rows)))
}

/// Only the page of a list of groups.
const GROUP_PAGES: ListSpec =
    ListSpec { filters: &[], ordering: &["size"], default_ordering: ("size", true), search: "" };

async fn duplicates<T: Exchanged>(req: HttpRequest, auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse>
where
    <T::R as Resource>::Input: Clone,
{
    let page = GROUP_PAGES.parse(&query_pairs(&req)?)?.page;
    let groups = T::dedupe(&state).groups(&auth.0, page).await?;
    rest_page(&req, groups, |g| {
        json!({
            "rule": g.rule.as_str(),
            "description": g.rule.about(),
            "key": g.key,
            "shared": g.shared,
            "size": g.size,
            "members": g.members.iter().map(|m| json!({
                "id": m.id, "name": m.name, "email": m.email, "phone": m.phone, "created_at": iso(m.created_at)
            })).collect::<Vec<_>>(),
        })
    })
}

async fn merge<T: Exchanged>(auth: Auth, state: web::Data<AppState>, body: RestBody) -> ApiResult<HttpResponse>
where
    <T::R as Resource>::Input: Clone,
{
    let dedupe = T::dedupe(&state);
    dedupe.may_merge(&auth.0)?;
    let b: MergeBody = body.read()?;
    let (target, sources) = (b.target_id.flatten(), b.source_ids.flatten());
    let moved = dedupe.merge(&auth.0, target, sources.clone()).await?;
    let record = T::records(&state).get(&auth.0, target.unwrap_or_default()).await?;
    let moved: Map<String, Value> = moved.into_iter().map(|(k, n)| (k.to_string(), json!(n))).collect();
    Ok(HttpResponse::Ok().json(json!({"target": T::dto(record), "merged_ids": sources, "moved": moved})))
}

/// `{target_id, source_ids}`.
#[derive(Deserialize, ToSchema, Default)]
pub struct MergeBody {
    /// The record that stays.
    #[schema(required = true, nullable = false)]
    pub target_id: Option<Option<i64>>,
    /// Records merged into it (then deleted).
    #[schema(min_items = 1, max_items = 50, required = true, nullable = false)]
    pub source_ids: Option<Option<Vec<i64>>>,
}

/// Adds the operations of `T`'s exchange routes.
pub fn document<T: Exchanged>(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>)
where
    <T::R as Resource>::Input: Clone,
{
    let (tag, id, name) = (T::TAG, T::ID, T::R::NAME.to_lowercase());
    let mut export_params = super::scaffold::list_parameters(&T::R::LIST);
    export_params.retain(|p| !matches!(p["name"].as_str(), Some("page" | "page_size")));
    export_params
        .push(json!({"name": "format", "in": "query", "required": false, "description": "csv (the only format)",
        "schema": super::scaffold::blank_or(json!({"type": "string", "enum": ["csv"]}))}));
    let csv_answer = json!({"description": format!("Every matching {name} as CSV (columns: {})", T::COLUMNS.join(", ")),
        "content": {"text/csv": {"schema": {"type": "string"}}}});
    paths.insert(
        collection_action::<T>("export"),
        json!({"get": operation(tag, &format!("{id}_export"), &format!("Export every matching {name} as CSV (`crm.read`)"), export_params, None, ("200", csv_answer))}),
    );
    let upload = json!({"required": true, "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "UTF-8 CSV whose first row names the columns"},
        "dry_run": {"type": "string", "enum": ["true", "false"], "description": "Only report what would happen"},
        "on_duplicate": {"type": "string", "enum": ["skip", "update"], "description": "What a row matching a live record does (default skip)"}}}}}});
    let report = json!({"description": "`{rows, created, updated, skipped, failed, dry_run, errors: [{row, field, message}], errors_truncated}`",
        "content": {"application/json": {"schema": {"type": "object", "properties": {
            "rows": {"type": "integer"}, "created": {"type": "integer"}, "updated": {"type": "integer"},
            "skipped": {"type": "integer"}, "failed": {"type": "integer"}, "dry_run": {"type": "boolean"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "row": {"type": "integer"}, "field": {"type": "string"}, "message": {"type": "string"}}}},
            "errors_truncated": {"type": "boolean"}}}}}});
    let mut import = operation(
        tag,
        &format!("{id}_import"),
        &format!("Import {name} records from CSV (`crm.write`)"),
        vec![],
        Some(upload),
        ("200", report),
    );
    import["responses"]["413"] =
        json!({"description": "Larger than IMPORT_MAX_BYTES or IMPORT_MAX_ROWS; nothing written"});
    import["responses"]["415"] = json!({"description": "Not multipart/form-data"});
    paths.insert(collection_action::<T>("import"), json!({"post": import}));
    let page_params: Vec<Value> = super::scaffold::list_parameters(&GROUP_PAGES)
        .into_iter()
        .filter(|p| matches!(p["name"].as_str(), Some("page" | "page_size")))
        .collect();
    let groups = json!({"description": "Groups of likely duplicates, largest first", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"count": {"type": "integer"}, "next": {"type": ["string", "null"]}, "previous": {"type": ["string", "null"]},
        "results": {"type": "array", "items": {"type": "object", "properties": {
            "rule": {"type": "string"}, "description": {"type": "string"}, "key": {"type": "string"}, "shared": {"type": ["string", "null"]},
            "size": {"type": "integer"}, "members": {"type": "array"}}}}}}}}});
    paths.insert(
        collection_action::<T>("duplicates"),
        json!({"get": operation(tag, &format!("{id}_duplicates"), &format!("Groups of likely duplicate {name} records (`crm.read`)"), page_params, None, ("200", groups))}),
    );
    if T::MERGES {
        let record = super::scaffold::schema_ref::<T::Dto>(schemas);
        let body = super::scaffold::schema_ref::<MergeBody>(schemas);
        let ok = json!({"description": "`{target, merged_ids, moved}`", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "target": record, "merged_ids": {"type": "array", "items": {"type": "integer"}}, "moved": {"type": "object"}}}}}});
        paths.insert(
            collection_action::<T>("merge"),
            json!({"post": operation(tag, &format!("{id}_merge"), &format!("Merge duplicate {name} records into one (`crm.delete`)"), vec![], Some(super::scaffold::request_body(&body)), ("200", ok))}),
        );
    }
}
