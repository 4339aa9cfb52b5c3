//! The CIMS CRM workspace: customers as its sales team works them (where the conversation
//! happens, what the assistant noted, when to call back, a call recording), people's notes
//! about them, the archive, the first response to a new lead, and a sales manager's own leads.
//! The same customer record every other surface shows (DESIGN: one domain).

use crate::error::{CrmError, Result};
use crate::ports::StatusCatalog;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use kernel::{FieldErrors, Page, PageRequest, normalize_phone, push_error};
use management_core::{Permission, Principal};
use std::sync::Arc;

/// The status a new lead waits in until someone answers it.
pub const NEW_LEAD_STATUS: &str = "need_to_call";
/// Minutes within which a new lead should get its first answer.
pub const RESPONSE_LIMIT_MINUTES: i64 = 5;
/// Languages of a conversation.
pub const LANGUAGES: [&str; 3] = ["uz", "ru", "en"];
/// Kinds of customer.
pub const CUSTOMER_TYPES: [&str; 2] = ["local", "international"];
/// Periods of the period report, in calendar days including today.
pub const PERIODS: [(&str, i64); 5] = [("1d", 1), ("3d", 3), ("7d", 7), ("30d", 30), ("90d", 90)];
/// The role whose users have leads of their own.
pub const SALES_MANAGER_ROLE: &str = "sales_manager";

const MAX_NAME: usize = 255;
const MAX_SHORT: usize = 100;
const MAX_TEXT: usize = 20_000;
const MAX_NOTE: usize = 10_000;

/// A customer as the workspace shows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorkspaceCustomer {
    pub id: i64,
    pub full_name: String,
    pub platform: Option<String>,
    pub phone_number: Option<String>,
    pub username: Option<String>,
    pub assistant_name: Option<String>,
    /// A status name of the catalog.
    pub status: String,
    /// The assistant's free-text notes.
    pub notes: Option<String>,
    pub aisummary: Option<String>,
    pub chat_url: Option<String>,
    pub recall_time: Option<DateTime<Utc>>,
    pub conversation_language: Option<String>,
    /// The opaque id of the customer's recording.
    pub audio_file_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it was archived.
    pub archived_at: Option<DateTime<Utc>>,
    pub first_status_changed_at: Option<DateTime<Utc>>,
    pub first_status_changed_to: Option<String>,
    pub first_note_at: Option<DateTime<Utc>>,
}

/// How fast a new lead was answered (a status change) and written about (a note).
#[derive(Debug, Clone, PartialEq)]
pub struct LeadResponse {
    pub lead_created_at: DateTime<Utc>,
    pub first_status_changed_at: Option<DateTime<Utc>>,
    pub first_note_at: Option<DateTime<Utc>>,
    pub current_status: String,
    pub first_status_changed_to: Option<String>,
    /// Minutes to the first status change (or waited so far), one decimal.
    pub response_minutes: Option<f64>,
    pub late_minutes: Option<f64>,
    pub note_minutes: Option<f64>,
    pub response_human: Option<String>,
    pub late_human: Option<String>,
    pub note_human: Option<String>,
    pub response_limit_minutes: i64,
    pub is_late_response: bool,
    pub note_written: bool,
    pub status_changed: bool,
    pub status_changed_without_note: bool,
    pub message: Option<String>,
}

fn minutes(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_seconds().max(0) as f64 / 6.0).round() / 10.0
}

/// `45 s`, `3 min`, `1 h 5 min`, `2 d 3 h`.
pub fn human(minutes: f64) -> String {
    let total = (minutes * 60.0).round() as i64;
    let (d, h, m) = (total / 86_400, total % 86_400 / 3600, total % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{total} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

impl WorkspaceCustomer {
    /// The lead's response figures: for a lead still waiting in `need_to_call` or one whose
    /// status has changed since it came in; `None` for records that never were new leads.
    pub fn lead_response(&self, now: DateTime<Utc>) -> Option<LeadResponse> {
        let changed = self.first_status_changed_at;
        if changed.is_none() && self.status != NEW_LEAD_STATUS {
            return None;
        }
        let created = self.created_at;
        let response = minutes(created, changed.unwrap_or(now));
        let limit = RESPONSE_LIMIT_MINUTES as f64;
        let is_late = response > limit;
        let late = is_late.then(|| ((response - limit) * 10.0).round() / 10.0);
        let note = self.first_note_at.map(|at| minutes(created, at));
        let without_note = changed.is_some() && self.first_note_at.is_none();
        let message = match (changed, is_late) {
            (None, false) => format!("Not contacted yet: {} left of the {limit} min limit.", human(limit - response)),
            (None, true) => format!("Not contacted yet: {} over the {limit} min limit.", human(late.unwrap_or(0.0))),
            (Some(_), false) => format!("Answered in {}, within the {limit} min limit.", human(response)),
            (Some(_), true) => format!("Answered in {}: {} late.", human(response), human(late.unwrap_or(0.0))),
        };
        Some(LeadResponse {
            lead_created_at: created,
            first_status_changed_at: changed,
            first_note_at: self.first_note_at,
            current_status: self.status.clone(),
            first_status_changed_to: self.first_status_changed_to.clone(),
            response_minutes: Some(response),
            late_minutes: late,
            note_minutes: note,
            response_human: Some(human(response)),
            late_human: late.map(human),
            note_human: note.map(human),
            response_limit_minutes: RESPONSE_LIMIT_MINUTES,
            is_late_response: is_late,
            note_written: self.first_note_at.is_some(),
            status_changed: changed.is_some(),
            status_changed_without_note: without_note,
            message: Some(message),
        })
    }
}

/// A recording as uploaded.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioUpload {
    pub file_name: Option<String>,
    pub data: Vec<u8>,
}

/// A recording, checked: its content type comes from its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioFile {
    pub file_name: Option<String>,
    pub content_type: &'static str,
    pub data: Vec<u8>,
}

/// A stored recording.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAudio {
    pub file_id: String,
    pub customer_id: i64,
    pub file_name: Option<String>,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// The audio type of `data`, read from its first bytes (MP3, WAV, Ogg/Opus, FLAC, M4A/MP4
/// audio, WebM, AAC, AMR); `None` for anything else.
pub fn sniff_audio(data: &[u8]) -> Option<&'static str> {
    let starts = |p: &[u8]| data.starts_with(p);
    if starts(b"ID3") || (data.len() > 2 && data[0] == 0xFF && data[1] & 0xE6 == 0xE2) {
        Some("audio/mpeg")
    } else if data.len() > 2 && data[0] == 0xFF && data[1] & 0xF6 == 0xF0 {
        Some("audio/aac")
    } else if starts(b"RIFF") && data.get(8..12) == Some(b"WAVE") {
        Some("audio/wav")
    } else if starts(b"OggS") {
        Some("audio/ogg")
    } else if starts(b"fLaC") {
        Some("audio/flac")
    } else if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some("audio/webm")
    } else if starts(b"#!AMR") {
        Some("audio/amr")
    } else if data.get(4..8) == Some(b"ftyp") {
        Some("audio/mp4")
    } else {
        None
    }
}

impl AudioUpload {
    /// Checks the recording by its content and size.
    pub fn check(self, max_bytes: usize) -> Result<AudioFile> {
        if self.data.is_empty() {
            return Err(CrmError::field("audio", "The audio file is empty."));
        }
        if self.data.len() > max_bytes {
            return Err(CrmError::field("audio", format!("The audio file is larger than {max_bytes} bytes.")));
        }
        let content_type = sniff_audio(&self.data).ok_or_else(|| {
            CrmError::field("audio", "The file is not audio: send MP3, WAV, OGG/Opus, FLAC, M4A, WebM, AAC or AMR.")
        })?;
        let file_name = self.file_name.map(|n| n.chars().take(255).collect());
        Ok(AudioFile { file_name, content_type, data: self.data })
    }
}

/// The workspace's form, as sent (create and edit); `None` = not sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerForm {
    pub full_name: Option<String>,
    pub platform: Option<String>,
    pub phone_number: Option<String>,
    pub status: Option<String>,
    pub username: Option<String>,
    pub assistant_name: Option<String>,
    pub notes: Option<String>,
    pub conversation_language: Option<String>,
    pub customer_type: Option<String>,
    /// ISO 8601 with an offset (a naive time is read as Tashkent's).
    pub recall_time: Option<String>,
    pub clear_recall_time: bool,
    pub audio: Option<AudioUpload>,
}

/// A validated form: `Some` fields are set, `recall_time: Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerFields {
    pub full_name: Option<String>,
    pub platform: Option<String>,
    pub phone_number: Option<String>,
    pub status: Option<String>,
    pub username: Option<String>,
    pub assistant_name: Option<String>,
    pub notes: Option<String>,
    pub conversation_language: Option<String>,
    pub customer_type: Option<String>,
    pub recall_time: Option<Option<DateTime<Utc>>>,
    pub audio: Option<AudioFile>,
}

fn trimmed(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

fn bounded(errors: &mut FieldErrors, field: &str, value: Option<String>, max: usize) -> Option<String> {
    if value.as_ref().is_some_and(|v| v.chars().count() > max) {
        push_error(errors, field, format!("{field} must be at most {max} characters."));
    }
    value
}

fn choice(errors: &mut FieldErrors, field: &str, value: Option<String>, allowed: &[&str]) -> Option<String> {
    let value = value.map(|v| v.to_lowercase());
    if let Some(v) = &value
        && !allowed.contains(&v.as_str())
    {
        push_error(errors, field, format!("{field} must be one of: {}.", allowed.join(", ")));
    }
    value
}

/// Parses an ISO 8601 time; a time without an offset is read in Tashkent (UTC+5), the
/// business day of the team.
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    let tashkent = chrono::FixedOffset::east_opt(5 * 3600)?;
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(raw, f).ok())
        .and_then(|t| t.and_local_timezone(tashkent).single())
        .map(|t| t.with_timezone(&Utc))
}

impl CustomerForm {
    /// Validates the fields sent; `creating` requires the name, platform, phone and status.
    pub fn validate(self, creating: bool, max_audio: usize) -> Result<CustomerFields> {
        let mut errors = FieldErrors::new();
        let full_name = bounded(&mut errors, "full_name", trimmed(&self.full_name), MAX_NAME);
        let platform = bounded(&mut errors, "platform", trimmed(&self.platform), MAX_SHORT);
        let status = trimmed(&self.status).map(|s| s.to_lowercase());
        let phone_number = match trimmed(&self.phone_number) {
            Some(p) => match normalize_phone(&p) {
                Ok(p) => Some(p),
                Err(m) => {
                    push_error(&mut errors, "phone_number", m);
                    None
                }
            },
            None => None,
        };
        if creating {
            for (field, missing) in [
                ("full_name", full_name.is_none()),
                ("platform", platform.is_none()),
                ("phone_number", phone_number.is_none() && !errors.contains_key("phone_number")),
                ("status", status.is_none()),
            ] {
                if missing {
                    push_error(&mut errors, field, format!("{field} is required."));
                }
            }
        }
        let username = bounded(
            &mut errors,
            "username",
            trimmed(&self.username).map(|u| u.trim_start_matches('@').to_string()),
            MAX_SHORT,
        );
        let recall_time = if self.clear_recall_time {
            Some(None)
        } else {
            match trimmed(&self.recall_time) {
                Some(raw) => match parse_time(&raw) {
                    Some(t) => Some(Some(t)),
                    None => {
                        push_error(&mut errors, "recall_time", "recall_time must be an ISO 8601 date and time.");
                        None
                    }
                },
                None => None,
            }
        };
        let audio = match self.audio {
            Some(upload) => match upload.check(max_audio) {
                Ok(file) => Some(file),
                Err(CrmError::Validation { message, .. }) => {
                    push_error(&mut errors, "audio", message);
                    None
                }
                Err(other) => return Err(other),
            },
            None => None,
        };
        let fields = CustomerFields {
            full_name,
            platform,
            phone_number,
            status,
            username,
            assistant_name: bounded(&mut errors, "assistant_name", trimmed(&self.assistant_name), MAX_SHORT),
            notes: bounded(&mut errors, "notes", trimmed(&self.notes), MAX_TEXT),
            conversation_language: choice(
                &mut errors,
                "conversation_language",
                trimmed(&self.conversation_language),
                &LANGUAGES,
            ),
            customer_type: choice(&mut errors, "customer_type", trimmed(&self.customer_type), &CUSTOMER_TYPES),
            recall_time,
            audio,
        };
        CrmError::check(errors)?;
        Ok(fields)
    }
}

/// A person's note about a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: i64,
    pub customer_id: i64,
    pub note: String,
    pub created_by: Option<i64>,
    pub created_by_full_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Checks a note's text (trimmed, not empty).
pub fn note_text(raw: Option<&str>) -> Result<String> {
    let text = raw.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(CrmError::field("note", "The note cannot be empty."));
    }
    if text.chars().count() > MAX_NOTE {
        return Err(CrmError::field("note", format!("The note must be at most {MAX_NOTE} characters.")));
    }
    Ok(text.to_string())
}

/// Which live customers a list shows (every condition holds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkspaceFilter {
    /// Status names.
    pub status: Option<String>,
    /// Case-insensitive platform.
    pub platform: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Case-insensitive substring of the name, username, phone, notes, platform, status or
    /// assistant.
    pub search: Option<String>,
}

/// Customers counted by status.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusCounts {
    pub total: u64,
    pub by_status: Vec<(String, u64)>,
}

/// A customer assigned to a sales manager.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignedCustomer {
    pub customer: WorkspaceCustomer,
    pub assigned_at: DateTime<Utc>,
}

/// Which of a sales manager's leads to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MyLeadsFilter {
    /// Substring of the name or phone.
    pub search: Option<String>,
    pub status: Option<String>,
    pub include_archived: bool,
}

/// A sales manager's leads counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MyLeadsStats {
    pub total_assigned: u64,
    pub active: u64,
    pub archived: u64,
    /// By status, largest first (archived leads only when asked).
    pub by_status: Vec<(String, u64)>,
}

/// A status change of a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub customer_id: i64,
    pub from_status: Option<String>,
    pub to_status: String,
    pub changed_by: Option<i64>,
    pub changed_at: DateTime<Utc>,
}

impl StatusCounts {
    /// The customers counted by status, statuses in name order.
    pub fn of(customers: &[WorkspaceCustomer]) -> StatusCounts {
        let mut by: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
        for c in customers {
            *by.entry(c.status.as_str()).or_default() += 1;
        }
        StatusCounts {
            total: customers.len() as u64,
            by_status: by.into_iter().map(|(s, n)| (s.to_string(), n)).collect(),
        }
    }
}

/// Status changes summed up for the sales-manager statistics: by target status, by
/// Tashkent day, and which customers they touched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeSummary {
    pub total_changes: u64,
    pub to_status_counts: std::collections::BTreeMap<String, u64>,
    /// Per Tashkent day: the changes and their target statuses.
    pub daily: std::collections::BTreeMap<chrono::NaiveDate, (u64, std::collections::BTreeMap<String, u64>)>,
    /// The customers whose status changed, and the statuses each reached.
    reached: std::collections::BTreeMap<i64, std::collections::BTreeSet<String>>,
}

impl ChangeSummary {
    pub fn of(changes: &[StatusChange]) -> ChangeSummary {
        let tashkent = chrono::FixedOffset::east_opt(5 * 3600).expect("UTC+5");
        let mut summary = ChangeSummary::default();
        for c in changes {
            summary.total_changes += 1;
            *summary.to_status_counts.entry(c.to_status.clone()).or_default() += 1;
            let day = summary.daily.entry(c.changed_at.with_timezone(&tashkent).date_naive()).or_default();
            day.0 += 1;
            *day.1.entry(c.to_status.clone()).or_default() += 1;
            summary.reached.entry(c.customer_id).or_default().insert(c.to_status.clone());
        }
        summary
    }

    /// How many customers had a status change.
    pub fn changed_customers(&self) -> usize {
        self.reached.len()
    }

    /// The share of the changed customers that reached `status`, in percent with two
    /// decimals (0 when none changed).
    pub fn percent_reaching(&self, status: &str) -> f64 {
        if self.reached.is_empty() {
            return 0.0;
        }
        let reached = self.reached.values().filter(|s| s.contains(status)).count();
        (reached as f64 * 10_000.0 / self.reached.len() as f64).round() / 100.0
    }
}

/// What restoring found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    Restored,
    NotArchived,
    Missing,
}

/// Where the workspace's records are kept.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    /// Live customers, newest first.
    async fn list(&self, filter: &WorkspaceFilter, page: PageRequest) -> Result<Page<WorkspaceCustomer>>;
    /// Archived customers, most recently archived first.
    async fn archived(&self) -> Result<Vec<WorkspaceCustomer>>;
    /// A customer, live or (with `archived`) archived.
    async fn get(&self, id: i64, archived: bool) -> Result<Option<WorkspaceCustomer>>;
    /// Creates a customer (it takes its turn in the sales-manager rotation); its id.
    async fn create(&self, fields: CustomerFields, by: i64) -> Result<i64>;
    /// Changes a live customer (a status change is recorded); `false` when there is none.
    async fn update(&self, id: i64, fields: CustomerFields, by: i64) -> Result<bool>;
    async fn archive(&self, id: i64) -> Result<bool>;
    async fn restore(&self, id: i64) -> Result<Restored>;
    /// Deletes a customer for good with what belongs only to it; `false` when there is none.
    async fn purge(&self, id: i64) -> Result<bool>;
    /// Live customers by status, created from `since` on.
    async fn status_counts(&self, since: Option<DateTime<Utc>>) -> Result<StatusCounts>;
    /// Notes of a customer, oldest first.
    async fn notes(&self, customer_id: i64) -> Result<Vec<Note>>;
    async fn note(&self, customer_id: i64, note_id: i64) -> Result<Option<Note>>;
    async fn add_note(&self, customer_id: i64, text: String, by: i64) -> Result<Note>;
    async fn edit_note(&self, customer_id: i64, note_id: i64, text: String) -> Result<Option<Note>>;
    async fn delete_note(&self, customer_id: i64, note_id: i64) -> Result<bool>;
    async fn audio(&self, file_id: &str) -> Result<Option<StoredAudio>>;
    /// A sales manager's active assignments, most recent first.
    async fn assigned(
        &self,
        manager_id: i64,
        filter: &MyLeadsFilter,
        page: PageRequest,
    ) -> Result<Page<AssignedCustomer>>;
    async fn assigned_stats(&self, manager_id: i64, include_archived: bool) -> Result<MyLeadsStats>;
    /// Status changes in `[from, to)`, of the customers assigned to `manager` when given.
    async fn status_changes(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        manager: Option<i64>,
    ) -> Result<Vec<StatusChange>>;
}

/// The workspace's use cases; every call checks the caller.
pub struct Workspace {
    store: Arc<dyn WorkspaceStore>,
    statuses: Arc<dyn StatusCatalog>,
    max_audio: usize,
}

fn not_found(id: i64) -> CrmError {
    CrmError::NotFound(format!("Customer {id} not found."))
}

fn is_ceo(by: &Principal) -> bool {
    by.role == "ceo"
}

/// The first day of a period of `days` calendar days ending today (Tashkent's days).
pub fn period_start(days: i64, now: DateTime<Utc>) -> DateTime<Utc> {
    let tashkent = chrono::FixedOffset::east_opt(5 * 3600).expect("UTC+5");
    let today = now.with_timezone(&tashkent).date_naive();
    let first = today - Duration::days(days - 1);
    first.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(tashkent).single()).map_or(now, |t| t.to_utc())
}

impl Workspace {
    pub fn new(store: Arc<dyn WorkspaceStore>, statuses: Arc<dyn StatusCatalog>, max_audio: usize) -> Self {
        Workspace { store, statuses, max_audio }
    }

    /// The largest recording accepted, in bytes.
    pub fn max_audio(&self) -> usize {
        self.max_audio
    }

    pub async fn list(
        &self,
        by: &Principal,
        filter: &WorkspaceFilter,
        page: PageRequest,
    ) -> Result<Page<WorkspaceCustomer>> {
        by.require(Permission::CrmRead)?;
        self.store.list(filter, page).await
    }

    /// Every matching live customer (the lists the UI does not page), newest first.
    pub async fn all(&self, by: &Principal, filter: &WorkspaceFilter, limit: u64) -> Result<Vec<WorkspaceCustomer>> {
        Ok(self.list(by, filter, PageRequest::new(1, limit)).await?.items)
    }

    pub async fn archived(&self, by: &Principal) -> Result<Vec<WorkspaceCustomer>> {
        by.require(Permission::CrmRead)?;
        self.store.archived().await
    }

    /// A live customer; an archived one only for the CEO.
    pub async fn get(&self, by: &Principal, id: i64) -> Result<WorkspaceCustomer> {
        by.require(Permission::CrmRead)?;
        self.store.get(id, is_ceo(by)).await?.ok_or_else(|| not_found(id))
    }

    async fn ensure_status(&self, status: &str) -> Result<()> {
        crate::ports::require_active_status(self.statuses.as_ref(), status).await
    }

    /// Creates a customer; its id.
    pub async fn create(&self, by: &Principal, form: CustomerForm) -> Result<i64> {
        by.require(Permission::CrmWrite)?;
        let fields = form.validate(true, self.max_audio)?;
        self.ensure_status(fields.status.as_deref().unwrap_or_default()).await?;
        self.store.create(fields, by.user_id).await
    }

    /// Changes the fields sent of a live customer. A status the customer already has is kept
    /// even when the catalog no longer offers it.
    pub async fn update(&self, by: &Principal, id: i64, form: CustomerForm) -> Result<()> {
        by.require(Permission::CrmWrite)?;
        let mut fields = form.validate(false, self.max_audio)?;
        let current = self.store.get(id, false).await?.ok_or_else(|| not_found(id))?;
        match &fields.status {
            Some(s) if *s == current.status => fields.status = None,
            Some(s) => self.ensure_status(s).await?,
            None => {}
        }
        // The form shows the platform Title-Cased: an unchanged one keeps its stored spelling.
        if let (Some(sent), Some(stored)) = (&fields.platform, &current.platform)
            && sent.eq_ignore_ascii_case(stored)
        {
            fields.platform = None;
        }
        if self.store.update(id, fields, by.user_id).await? { Ok(()) } else { Err(not_found(id)) }
    }

    pub async fn archive(&self, by: &Principal, id: i64) -> Result<()> {
        by.require(Permission::CrmDelete)?;
        if self.store.archive(id).await? { Ok(()) } else { Err(not_found(id)) }
    }

    pub async fn restore(&self, by: &Principal, id: i64) -> Result<()> {
        by.require(Permission::CrmDelete)?;
        match self.store.restore(id).await? {
            Restored::Restored => Ok(()),
            Restored::NotArchived => Err(CrmError::field("id", format!("Customer {id} is not archived."))),
            Restored::Missing => Err(not_found(id)),
        }
    }

    pub async fn purge(&self, by: &Principal, id: i64) -> Result<()> {
        by.require(Permission::CrmDelete)?;
        if self.store.purge(id).await? { Ok(()) } else { Err(not_found(id)) }
    }

    /// Live customers by status, created from `since` on.
    pub async fn status_counts(&self, by: &Principal, since: Option<DateTime<Utc>>) -> Result<StatusCounts> {
        by.require(Permission::CrmRead)?;
        self.store.status_counts(since).await
    }

    async fn live(&self, id: i64) -> Result<WorkspaceCustomer> {
        self.store.get(id, false).await?.ok_or_else(|| not_found(id))
    }

    pub async fn notes(&self, by: &Principal, customer_id: i64) -> Result<Vec<Note>> {
        by.require(Permission::CrmRead)?;
        self.live(customer_id).await?;
        self.store.notes(customer_id).await
    }

    pub async fn add_note(&self, by: &Principal, customer_id: i64, text: Option<&str>) -> Result<Note> {
        by.require(Permission::CrmWrite)?;
        let text = note_text(text)?;
        self.live(customer_id).await?;
        self.store.add_note(customer_id, text, by.user_id).await
    }

    /// The note, when the caller may change it: its author or the CEO.
    async fn own_note(&self, by: &Principal, customer_id: i64, note_id: i64) -> Result<Note> {
        by.require(Permission::CrmWrite)?;
        self.live(customer_id).await?;
        let note = self
            .store
            .note(customer_id, note_id)
            .await?
            .ok_or_else(|| CrmError::NotFound(format!("Note {note_id} not found.")))?;
        if note.created_by != Some(by.user_id) && !is_ceo(by) {
            return Err(CrmError::Forbidden("Only the note's author or the CEO can change it.".into()));
        }
        Ok(note)
    }

    pub async fn edit_note(&self, by: &Principal, customer_id: i64, note_id: i64, text: Option<&str>) -> Result<Note> {
        by.require(Permission::CrmWrite)?;
        let text = note_text(text)?;
        self.own_note(by, customer_id, note_id).await?;
        self.store
            .edit_note(customer_id, note_id, text)
            .await?
            .ok_or_else(|| CrmError::NotFound(format!("Note {note_id} not found.")))
    }

    pub async fn delete_note(&self, by: &Principal, customer_id: i64, note_id: i64) -> Result<()> {
        self.own_note(by, customer_id, note_id).await?;
        if self.store.delete_note(customer_id, note_id).await? {
            Ok(())
        } else {
            Err(CrmError::NotFound(format!("Note {note_id} not found.")))
        }
    }

    /// A recording by its opaque id (the caller proved access with a token or a signature).
    pub async fn audio(&self, file_id: &str) -> Result<StoredAudio> {
        self.store.audio(file_id).await?.ok_or_else(|| CrmError::NotFound("Audio file not found.".into()))
    }

    fn sales_manager(by: &Principal) -> Result<()> {
        if by.role == SALES_MANAGER_ROLE {
            Ok(())
        } else {
            Err(CrmError::Forbidden("Only sales managers have leads of their own.".into()))
        }
    }

    /// The caller's own leads (sales managers only).
    pub async fn my_leads(
        &self,
        by: &Principal,
        filter: &MyLeadsFilter,
        page: PageRequest,
    ) -> Result<Page<AssignedCustomer>> {
        Self::sales_manager(by)?;
        self.store.assigned(by.user_id, filter, page).await
    }

    pub async fn my_stats(&self, by: &Principal, include_archived: bool) -> Result<MyLeadsStats> {
        Self::sales_manager(by)?;
        self.store.assigned_stats(by.user_id, include_archived).await
    }

    /// A sales manager's leads, read by that manager or by someone who manages assignments.
    pub async fn leads_of(
        &self,
        by: &Principal,
        manager_id: i64,
        filter: &MyLeadsFilter,
        page: PageRequest,
    ) -> Result<Page<AssignedCustomer>> {
        if by.user_id != manager_id {
            by.require(Permission::AssignmentsManage)?;
        }
        self.store.assigned(manager_id, filter, page).await
    }

    pub async fn stats_of(&self, by: &Principal, manager_id: i64, include_archived: bool) -> Result<MyLeadsStats> {
        if by.user_id != manager_id {
            by.require(Permission::AssignmentsManage)?;
        }
        self.store.assigned_stats(manager_id, include_archived).await
    }

    /// Status changes in a period, of one sales manager's customers or of all
    /// (`analytics.read`; a sales manager sees only their own).
    pub async fn status_changes(
        &self,
        by: &Principal,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        manager: Option<i64>,
    ) -> Result<Vec<StatusChange>> {
        by.require(Permission::AnalyticsRead)?;
        let manager = if by.role == SALES_MANAGER_ROLE { Some(by.user_id) } else { manager };
        self.store.status_changes(from, to, manager).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_changes_are_summed_by_tashkent_day_and_reach() {
        let at = |rfc: &str| DateTime::parse_from_rfc3339(rfc).unwrap().with_timezone(&Utc);
        let change = |customer_id, to: &str, when: &str| StatusChange {
            customer_id,
            from_status: None,
            to_status: to.into(),
            changed_by: None,
            changed_at: at(when),
        };
        let summary = ChangeSummary::of(&[
            change(1, "contacted", "2026-12-01T18:30:00Z"), // 23:30 in Tashkent, Dec 1
            change(1, "project_started", "2026-12-01T19:30:00Z"), // 00:30 in Tashkent, Dec 2
            change(2, "contacted", "2026-12-02T05:00:00Z"),
            change(3, "finished", "2026-12-02T06:00:00Z"),
        ]);
        assert_eq!((summary.total_changes, summary.changed_customers()), (4, 3));
        assert_eq!(summary.to_status_counts["contacted"], 2);
        let days: Vec<_> = summary.daily.iter().map(|(d, (n, _))| (d.to_string(), *n)).collect();
        assert_eq!(days, [("2026-12-01".to_string(), 1), ("2026-12-02".to_string(), 3)]);
        assert_eq!(summary.percent_reaching("project_started"), 33.33);
        assert_eq!(summary.percent_reaching("lost"), 0.0);
        assert_eq!(ChangeSummary::of(&[]).percent_reaching("finished"), 0.0);
    }
    use crate::ports::{MockStatusCatalog, StatusEntry};
    use crate::service::test_support::principal;
    use management_core::catalog::StatusGroup;

    fn catalog() -> MockStatusCatalog {
        let mut statuses = MockStatusCatalog::new();
        statuses.expect_statuses().returning(|| {
            Ok(["need_to_call", "contacted", "old"]
                .into_iter()
                .map(|n| StatusEntry { name: n.into(), is_active: n != "old", group: StatusGroup::Potential })
                .collect())
        });
        statuses
    }

    fn customer(status: &str) -> WorkspaceCustomer {
        WorkspaceCustomer { id: 1, full_name: "A".into(), status: status.into(), ..Default::default() }
    }

    fn form(status: &str) -> CustomerForm {
        CustomerForm {
            full_name: Some("Ali".into()),
            platform: Some("Telegram".into()),
            phone_number: Some("+998901234567".into()),
            status: Some(status.into()),
            ..Default::default()
        }
    }

    #[test]
    fn audio_is_known_by_its_bytes() {
        assert_eq!(sniff_audio(b"ID3\x04\0\0\0"), Some("audio/mpeg"));
        assert_eq!(sniff_audio(b"RIFF\x24\0\0\0WAVEfmt "), Some("audio/wav"));
        assert_eq!(sniff_audio(b"OggS\0\x02"), Some("audio/ogg"));
        assert_eq!(sniff_audio(b"%PDF-1.7"), None);
        assert_eq!(sniff_audio(b"<html>"), None);
        let err = AudioUpload { file_name: Some("x.mp3".into()), data: b"not audio".to_vec() }.check(100).unwrap_err();
        assert!(err.to_string().contains("not audio"));
        let big = AudioUpload { file_name: None, data: b"ID3aaaaaaaaaa".to_vec() }.check(5).unwrap_err();
        assert!(big.to_string().contains("larger"));
    }

    #[test]
    fn a_create_needs_its_four_fields_and_known_choices() {
        let CrmError::Validation { fields, .. } = CustomerForm::default().validate(true, 10).unwrap_err() else {
            panic!()
        };
        for f in ["full_name", "platform", "phone_number", "status"] {
            assert!(fields.contains_key(f), "{f}");
        }
        let mut bad = form("contacted");
        bad.conversation_language = Some("de".into());
        bad.recall_time = Some("tomorrow".into());
        let CrmError::Validation { fields, .. } = bad.validate(true, 10).unwrap_err() else { panic!() };
        assert!(fields.contains_key("conversation_language") && fields.contains_key("recall_time"));
        let mut ok = form("Contacted");
        ok.conversation_language = Some("UZ".into());
        ok.recall_time = Some("2026-12-05T10:30:00+05:00".into());
        let fields = ok.validate(true, 10).unwrap();
        assert_eq!(fields.status.as_deref(), Some("contacted"));
        assert_eq!(fields.conversation_language.as_deref(), Some("uz"));
        assert_eq!(fields.recall_time.unwrap().unwrap().to_rfc3339(), "2026-12-05T05:30:00+00:00");
    }

    #[test]
    fn a_naive_time_is_tashkent_time() {
        assert_eq!(parse_time("2026-12-05T10:30").unwrap().to_rfc3339(), "2026-12-05T05:30:00+00:00");
    }

    #[test]
    fn lead_response_measures_the_first_answer_against_five_minutes() {
        let created = Utc::now() - Duration::hours(1);
        let mut c = WorkspaceCustomer { created_at: created, ..customer("need_to_call") };
        let waiting = c.lead_response(Utc::now()).unwrap();
        assert!(waiting.is_late_response && !waiting.status_changed);
        assert!(waiting.message.unwrap().starts_with("Not contacted"));
        c.status = "contacted".into();
        c.first_status_changed_at = Some(created + Duration::minutes(3));
        c.first_status_changed_to = Some("contacted".into());
        let on_time = c.lead_response(Utc::now()).unwrap();
        assert_eq!(on_time.response_minutes, Some(3.0));
        assert!(!on_time.is_late_response && on_time.status_changed_without_note);
        c.first_note_at = Some(created + Duration::minutes(4));
        let noted_after = c.lead_response(Utc::now()).unwrap();
        assert!(noted_after.note_written && !noted_after.status_changed_without_note, "a later note counts too");
        c.first_note_at = Some(created + Duration::minutes(2));
        let noted = c.lead_response(Utc::now()).unwrap();
        assert!(noted.note_written && !noted.status_changed_without_note);
        assert_eq!(noted.note_human.as_deref(), Some("2 min"));
        assert_eq!(customer("finished").lead_response(Utc::now()), None);
        assert_eq!(human(65.0), "1 h 5 min");
        assert_eq!(human(3000.0), "2 d 2 h");
    }

    #[test]
    fn periods_start_at_midnight_in_tashkent() {
        let now = DateTime::parse_from_rfc3339("2026-12-05T20:00:00Z").unwrap().to_utc();
        // 20:00 UTC is 01:00 on the 6th in Tashkent: "today" began at 19:00 UTC.
        assert_eq!(period_start(1, now).to_rfc3339(), "2026-12-05T19:00:00+00:00");
        assert_eq!(period_start(3, now).to_rfc3339(), "2026-12-03T19:00:00+00:00");
    }

    #[tokio::test]
    async fn create_checks_the_status_and_stores_the_author() {
        let mut store = MockWorkspaceStore::new();
        store
            .expect_create()
            .withf(|f, by| f.status.as_deref() == Some("contacted") && *by == 5)
            .returning(|_, _| Ok(7));
        let ws = Workspace::new(Arc::new(store), Arc::new(catalog()), 100);
        let writer = principal(&[Permission::CrmWrite]);
        assert_eq!(ws.create(&writer, form("contacted")).await.unwrap(), 7);
        let err = ws.create(&writer, form("vip")).await.unwrap_err();
        assert!(err.to_string().contains("Unknown status 'vip'"), "{err}");
        let reader = principal(&[Permission::CrmRead]);
        assert!(matches!(ws.create(&reader, form("contacted")).await, Err(CrmError::Forbidden(_))));
    }

    #[tokio::test]
    async fn an_unchanged_status_or_platform_is_not_a_change() {
        let mut store = MockWorkspaceStore::new();
        store
            .expect_get()
            .returning(|_, _| Ok(Some(WorkspaceCustomer { platform: Some("instagram".into()), ..customer("old") })));
        store.expect_update().withf(|_, f, _| f.status.is_none() && f.platform.is_none()).returning(|_, _, _| Ok(true));
        let ws = Workspace::new(Arc::new(store), Arc::new(catalog()), 100);
        let mut edit = form("old");
        edit.platform = Some("Instagram".into());
        ws.update(&principal(&[Permission::CrmWrite]), 1, edit).await.unwrap();
    }

    #[tokio::test]
    async fn archive_restore_and_purge_need_crm_delete() {
        let mut store = MockWorkspaceStore::new();
        store.expect_archive().never();
        store.expect_restore().returning(|_| Ok(Restored::NotArchived));
        let ws = Workspace::new(Arc::new(store), Arc::new(catalog()), 100);
        let writer = principal(&[Permission::CrmRead, Permission::CrmWrite]);
        assert!(matches!(ws.archive(&writer, 1).await, Err(CrmError::Forbidden(_))));
        assert!(matches!(ws.purge(&writer, 1).await, Err(CrmError::Forbidden(_))));
        let deleter = principal(&[Permission::CrmDelete]);
        assert!(matches!(ws.restore(&deleter, 1).await, Err(CrmError::Validation { .. })));
    }

    #[tokio::test]
    async fn only_the_author_or_the_ceo_changes_a_note() {
        let mut store = MockWorkspaceStore::new();
        store.expect_get().returning(|_, _| Ok(Some(customer("contacted"))));
        store.expect_note().returning(|c, n| {
            Ok(Some(Note {
                id: n,
                customer_id: c,
                note: "x".into(),
                created_by: Some(99),
                created_by_full_name: None,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            }))
        });
        store.expect_delete_note().times(1).returning(|_, _| Ok(true));
        let ws = Workspace::new(Arc::new(store), Arc::new(catalog()), 100);
        let other = principal(&[Permission::CrmWrite]);
        assert!(matches!(ws.delete_note(&other, 1, 2).await, Err(CrmError::Forbidden(_))));
        let ceo = Principal { role: "ceo".into(), ..principal(&[Permission::CrmWrite]) };
        ws.delete_note(&ceo, 1, 2).await.unwrap();
        assert!(matches!(ws.add_note(&other, 1, Some("  ")).await, Err(CrmError::Validation { .. })));
    }

    #[tokio::test]
    async fn my_leads_are_for_sales_managers() {
        let mut store = MockWorkspaceStore::new();
        store
            .expect_assigned_stats()
            .withf(|m, archived| *m == 5 && !archived)
            .returning(|_, _| Ok(Default::default()));
        let ws = Workspace::new(Arc::new(store), Arc::new(catalog()), 100);
        let member = principal(&[Permission::CrmRead]);
        assert!(matches!(ws.my_stats(&member, false).await, Err(CrmError::Forbidden(_))));
        let manager = Principal { role: SALES_MANAGER_ROLE.into(), ..member };
        ws.my_stats(&manager, false).await.unwrap();
    }
}
