//! Bringing records in and out (accounts, contacts, leads): imports matched to the live
//! records by the keys the write-time duplicate check uses, with in-file duplicates caught;
//! groups of likely duplicates the write-time check cannot see (the same name under other
//! keys); and merging duplicates into one record.

use crate::accounts::{AccountDraft, Accounts};
use crate::contacts::{ContactDraft, Contacts};
use crate::error::{CrmError, Result};
use crate::leads::{LeadDraft, Leads};
use crate::records::Resource;
use async_trait::async_trait;
use kernel::{FieldErrors, Page, PageRequest};
use management_core::{Permission, Principal};
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A record kind that can be imported: the keys that find the live record a row is.
pub trait Importable: Resource {
    /// The row's keys in the order they are tried: `(field, value)`; the store knows which
    /// column each field stands for. Values are already normalised (lower-case e-mail, E.164
    /// phone, lower-case name).
    fn match_keys(draft: &Self::Draft) -> Vec<(&'static str, String)>;
    /// The keys of a row that is only a change (not a whole new record).
    fn change_keys(changes: &Self::Changes) -> Vec<(&'static str, String)>;
}

impl Importable for Accounts {
    fn match_keys(d: &AccountDraft) -> Vec<(&'static str, String)> {
        let mut keys: Vec<_> = d.email.iter().map(|e| ("email", e.clone())).collect();
        keys.push(("name", d.name.trim().to_lowercase()));
        keys
    }
    fn change_keys(c: &crate::accounts::AccountChanges) -> Vec<(&'static str, String)> {
        let mut keys: Vec<_> = c.email.iter().flatten().map(|e| ("email", e.clone())).collect();
        keys.extend(c.name.iter().map(|n| ("name", n.trim().to_lowercase())));
        keys
    }
}

impl Importable for Contacts {
    fn match_keys(d: &ContactDraft) -> Vec<(&'static str, String)> {
        person_keys(d.email.as_ref(), d.phone.as_ref())
    }
    fn change_keys(c: &crate::contacts::ContactChanges) -> Vec<(&'static str, String)> {
        person_keys(c.email.as_ref().and_then(Option::as_ref), c.phone.as_ref().and_then(Option::as_ref))
    }
}

impl Importable for Leads {
    fn match_keys(d: &LeadDraft) -> Vec<(&'static str, String)> {
        person_keys(d.email.as_ref(), d.phone.as_ref())
    }
    fn change_keys(c: &crate::leads::LeadChanges) -> Vec<(&'static str, String)> {
        person_keys(c.email.as_ref().and_then(Option::as_ref), c.phone.as_ref().and_then(Option::as_ref))
    }
}

fn person_keys(email: Option<&String>, phone: Option<&String>) -> Vec<(&'static str, String)> {
    let mut keys: Vec<_> = email.iter().map(|e| ("email", (*e).clone())).collect();
    keys.extend(phone.iter().map(|p| ("phone", (*p).clone())));
    keys
}

/// What an imported row that matches a live record does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDuplicate {
    /// Leaves the record as it is.
    Skip,
    /// Writes the row's non-empty fields over it.
    Update,
}

impl OnDuplicate {
    pub fn parse(raw: &str) -> Result<OnDuplicate> {
        match raw.trim() {
            "skip" => Ok(OnDuplicate::Skip),
            "update" => Ok(OnDuplicate::Update),
            other => {
                Err(CrmError::field("on_duplicate", format!("Unknown on_duplicate \"{other}\"; use skip or update.")))
            }
        }
    }
}

/// A checked row ready to store: as a new record and as a change of the record it matches,
/// each with its problems when the row is not one (a row naming only a key and the fields to
/// change is no new record).
#[derive(Debug, Clone)]
pub struct Prepared<R: Resource> {
    pub draft: std::result::Result<R::Draft, FieldErrors>,
    pub changes: std::result::Result<R::Changes, FieldErrors>,
    pub keys: Vec<(&'static str, String)>,
}

/// What became of one row.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome {
    Created,
    Updated,
    Skipped,
    /// Not stored: why, by field (`""` for the row as a whole).
    Failed(FieldErrors),
}

/// Where imported rows are stored.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ImportStore<R: Resource>: Send + Sync {
    /// Stores a batch in one transaction, each row on its own (a failing row is undone alone
    /// and reported): matched by its keys in order to a live record, then created, updated or
    /// skipped. With `dry_run` the transaction is rolled back: the outcomes say what would
    /// have happened.
    async fn import(&self, rows: Vec<Prepared<R>>, mode: OnDuplicate, dry_run: bool) -> Result<Vec<RowOutcome>>;
}

/// One problem of one row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    /// The row's number in the file, the header being row 1.
    pub row: u64,
    pub field: String,
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    /// The first [`MAX_REPORTED_ERRORS`] problems.
    pub errors: Vec<RowError>,
    /// Whether more problems were found than listed.
    pub errors_truncated: bool,
    pub dry_run: bool,
}

/// How many row problems an import report lists.
pub const MAX_REPORTED_ERRORS: usize = 1000;

/// A row as read from a file: its number, its fields, and the type problems met reading them.
pub struct RowInput<R: Resource> {
    pub row: u64,
    pub input: R::Input,
    pub problems: FieldErrors,
}

/// Imports of one record kind (`crm.write`).
pub struct Imports<R: Importable> {
    store: Arc<dyn ImportStore<R>>,
}

impl<R: Importable> Imports<R>
where
    R::Input: Clone,
{
    pub fn new(store: Arc<dyn ImportStore<R>>) -> Self {
        Imports { store }
    }

    /// Starts an import by `by`.
    pub fn start(&self, by: &Principal, mode: OnDuplicate, dry_run: bool) -> Result<ImportRun<'_, R>> {
        by.require(Permission::CrmWrite)?;
        Ok(ImportRun {
            imports: self,
            owner: by.user_id,
            mode,
            seen: HashMap::new(),
            report: ImportReport { dry_run, ..Default::default() },
        })
    }
}

/// An import under way, fed batch by batch.
pub struct ImportRun<'a, R: Importable> {
    imports: &'a Imports<R>,
    owner: i64,
    mode: OnDuplicate,
    /// Hash of (field, key) → the row that had it first (bounded by the file's rows, a few
    /// bytes each, rather than by its text).
    seen: HashMap<u64, u64>,
    report: ImportReport,
}

/// A validation failure as the row's problems; other failures stop the import.
fn checked<T>(result: Result<T>) -> Result<std::result::Result<T, FieldErrors>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(CrmError::Validation { fields, .. }) => Ok(Err(fields)),
        Err(other) => Err(other),
    }
}

fn key_hash(field: &str, key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (field, key).hash(&mut h);
    h.finish()
}

impl<R: Importable> ImportRun<'_, R>
where
    R::Input: Clone,
{
    fn fail(&mut self, row: u64, errors: FieldErrors) {
        self.report.failed += 1;
        for (field, messages) in errors {
            for message in messages {
                if self.report.errors.len() < MAX_REPORTED_ERRORS {
                    self.report.errors.push(RowError { row, field: field.clone(), message });
                } else {
                    self.report.errors_truncated = true;
                }
            }
        }
    }

    /// Checks and stores one batch of rows.
    pub async fn batch(&mut self, rows: Vec<RowInput<R>>) -> Result<()> {
        let mut ready = Vec::with_capacity(rows.len());
        let mut numbers = Vec::with_capacity(rows.len());
        for RowInput { row, input, problems } in rows {
            if !problems.is_empty() {
                self.fail(row, problems);
                continue;
            }
            let draft = checked(R::draft(input.clone(), self.owner))?;
            let changes = checked(R::changes(input, false))?;
            let keys = match (&draft, &changes) {
                (Ok(d), _) => R::match_keys(d),
                (Err(_), Ok(c)) if self.mode == OnDuplicate::Update => R::change_keys(c),
                (Err(problems), _) => {
                    self.fail(row, problems.clone());
                    continue;
                }
            };
            if keys.is_empty()
                && let Err(problems) = &draft
            {
                self.fail(row, problems.clone());
                continue;
            }
            let earlier = keys.iter().find_map(|(f, k)| self.seen.get(&key_hash(f, k)).map(|r| (*f, *r)));
            if let Some((field, first)) = earlier {
                let mut errors = FieldErrors::new();
                let message = format!("The same {field} as row {first} of this file; not imported twice.");
                kernel::push_error(&mut errors, field, message);
                self.fail(row, errors);
                continue;
            }
            for (f, k) in &keys {
                self.seen.insert(key_hash(f, k), row);
            }
            numbers.push(row);
            ready.push(Prepared { draft, changes, keys });
        }
        if ready.is_empty() {
            return Ok(());
        }
        let outcomes = self.imports.store.import(ready, self.mode, self.report.dry_run).await?;
        for (row, outcome) in numbers.into_iter().zip(outcomes) {
            match outcome {
                RowOutcome::Created => self.report.created += 1,
                RowOutcome::Updated => self.report.updated += 1,
                RowOutcome::Skipped => self.report.skipped += 1,
                RowOutcome::Failed(errors) => self.fail(row, errors),
            }
        }
        Ok(())
    }

    /// The report of the whole import.
    pub fn finish(self) -> ImportReport {
        self.report
    }
}

// ---- Likely duplicates and merging ----

/// Why records were grouped as likely duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateRule {
    /// Company names equal after normalisation (accounts).
    SameName,
    /// Person names equal, and the same account (contacts).
    SameNameAndAccount,
    /// Person names equal, and the same company name (leads).
    SameNameAndCompany,
    /// Names equal, and the same e-mail domain (not a public mail provider's).
    SameNameAndDomain,
}

impl DuplicateRule {
    pub fn as_str(self) -> &'static str {
        match self {
            DuplicateRule::SameName => "same_name",
            DuplicateRule::SameNameAndAccount => "same_name_and_account",
            DuplicateRule::SameNameAndCompany => "same_name_and_company",
            DuplicateRule::SameNameAndDomain => "same_name_and_email_domain",
        }
    }

    /// What it means, for people.
    pub fn about(self) -> &'static str {
        match self {
            DuplicateRule::SameName => {
                "The same company name once case, spacing, punctuation, script and legal form are set aside"
            }
            DuplicateRule::SameNameAndAccount => "The same name at the same account",
            DuplicateRule::SameNameAndCompany => "The same name at the same company",
            DuplicateRule::SameNameAndDomain => "The same name and the same company e-mail domain",
        }
    }
}

/// One member of a duplicate group.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateMember {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Live records that are likely the same.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateGroup {
    pub rule: DuplicateRule,
    /// The normalised name they share.
    pub key: String,
    /// What else they share (the account id, the company key, the domain), when the rule has it.
    pub shared: Option<String>,
    /// How many live records the group holds.
    pub size: u64,
    /// Oldest first (at most the first 50).
    pub members: Vec<DuplicateMember>,
}

/// Finds groups of likely duplicates, largest first.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DuplicateFinder: Send + Sync {
    async fn groups(&self, page: PageRequest) -> Result<Page<DuplicateGroup>>;
}

/// What a merge moved to the target, by kind of record (`contacts`, `deals`, ...).
pub type Moved = Vec<(&'static str, u64)>;

/// Merges records of one kind.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Merger: Send + Sync {
    /// In one transaction: moves everything that refers to the sources to the target, fills
    /// the target's empty fields from the sources (in the order given), deletes the sources
    /// pointing at the target. A source or target that is not a live record is a validation
    /// error on its field, and nothing changes.
    async fn merge(&self, target: i64, sources: Vec<i64>, by: i64) -> Result<Moved>;
}

/// The duplicates and merges of one record kind: reading needs `crm.read`, merging `crm.delete`.
pub struct Dedupe<R: Resource> {
    finder: Arc<dyn DuplicateFinder>,
    merger: Option<Arc<dyn Merger>>,
    kind: std::marker::PhantomData<R>,
}

/// Most sources one merge takes.
pub const MAX_MERGE_SOURCES: usize = 50;

impl<R: Resource> Dedupe<R> {
    pub fn new(finder: Arc<dyn DuplicateFinder>, merger: Option<Arc<dyn Merger>>) -> Self {
        Dedupe { finder, merger, kind: std::marker::PhantomData }
    }

    pub async fn groups(&self, by: &Principal, page: PageRequest) -> Result<Page<DuplicateGroup>> {
        by.require(Permission::CrmRead)?;
        self.finder.groups(page).await
    }

    /// Refuses a caller who may not merge, before anything sent is read.
    pub fn may_merge(&self, by: &Principal) -> Result<()> {
        by.require(Permission::CrmDelete)
    }

    /// Merges `sources` into `target`; the ids are checked here first (none twice, not the
    /// target, at least one, at most [`MAX_MERGE_SOURCES`]).
    pub async fn merge(&self, by: &Principal, target: Option<i64>, sources: Option<Vec<i64>>) -> Result<Moved> {
        by.require(Permission::CrmDelete)?;
        let Some(merger) = &self.merger else {
            return Err(CrmError::NotFound(format!("{} records cannot be merged.", R::NAME)));
        };
        let mut errors = FieldErrors::new();
        if target.is_none() {
            kernel::push_error(&mut errors, "target_id", "This field is required.");
        }
        let sources = sources.unwrap_or_default();
        if sources.is_empty() {
            kernel::push_error(&mut errors, "source_ids", "Give at least one record to merge into the target.");
        } else if sources.len() > MAX_MERGE_SOURCES {
            kernel::push_error(&mut errors, "source_ids", format!("At most {MAX_MERGE_SOURCES} records at once."));
        }
        if let Some(t) = target
            && sources.contains(&t)
        {
            kernel::push_error(&mut errors, "source_ids", format!("{} {t} cannot be merged into itself.", R::NAME));
        }
        let mut unique = sources.clone();
        unique.sort_unstable();
        unique.dedup();
        if unique.len() != sources.len() {
            kernel::push_error(&mut errors, "source_ids", "Each record may be given once.");
        }
        CrmError::check(errors)?;
        merger.merge(target.unwrap_or_default(), sources, by.user_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::ContactInput;
    use crate::service::test_support::principal;

    fn row(n: u64, email: &str) -> RowInput<Contacts> {
        RowInput {
            row: n,
            input: ContactInput {
                first_name: Some(Some("Aziz".into())),
                last_name: Some(Some(format!("K{n}"))),
                email: Some(Some(email.into())),
                ..Default::default()
            },
            problems: FieldErrors::new(),
        }
    }

    #[tokio::test]
    async fn rows_are_checked_deduplicated_within_the_file_and_counted() {
        let mut store = MockImportStore::<Contacts>::new();
        store.expect_import().times(1).returning(|rows, mode, dry| {
            assert_eq!((rows.len(), mode, dry), (2, OnDuplicate::Skip, true));
            assert_eq!(rows[0].keys, vec![("email", "a@acme.uz".to_string())]);
            assert!(rows.iter().all(|r| r.draft.is_ok()));
            Ok(vec![RowOutcome::Created, RowOutcome::Skipped])
        });
        let imports = Imports::new(Arc::new(store));
        let p = principal(&[Permission::CrmWrite]);
        let mut run = imports.start(&p, OnDuplicate::Skip, true).unwrap();
        let mut bad = row(4, "not-an-address");
        bad.input.first_name = Some(None);
        let mut typed = row(5, "t@acme.uz");
        kernel::push_error(&mut typed.problems, "account", "A valid integer is required.");
        run.batch(vec![row(2, "A@Acme.uz"), row(3, "b@acme.uz"), bad, row(6, "a@acme.uz "), typed]).await.unwrap();
        let report = run.finish();
        assert_eq!((report.created, report.skipped, report.failed), (1, 1, 3));
        assert!(report.dry_run);
        let said: Vec<_> = report.errors.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert!(said.contains(&(4, "first_name")) && said.contains(&(4, "email")), "{said:?}");
        assert!(said.contains(&(6, "email")), "{said:?}");
        assert!(report.errors.iter().any(|e| e.row == 6 && e.message.contains("row 2")));
        assert!(said.contains(&(5, "account")));
    }

    #[tokio::test]
    async fn imports_need_crm_write_and_merges_crm_delete() {
        let imports = Imports::<Contacts>::new(Arc::new(MockImportStore::new()));
        assert!(imports.start(&principal(&[Permission::CrmRead]), OnDuplicate::Update, false).is_err());
        let dedupe = Dedupe::<Contacts>::new(Arc::new(MockDuplicateFinder::new()), Some(Arc::new(MockMerger::new())));
        let err = dedupe.merge(&principal(&[Permission::CrmWrite]), Some(1), Some(vec![2])).await.unwrap_err();
        assert!(matches!(err, CrmError::Forbidden(_)));
    }

    #[tokio::test]
    async fn a_merge_into_itself_or_of_nothing_is_refused_before_the_store() {
        let mut merger = MockMerger::new();
        merger.expect_merge().never();
        let dedupe = Dedupe::<Contacts>::new(Arc::new(MockDuplicateFinder::new()), Some(Arc::new(merger)));
        let p = principal(&[Permission::CrmDelete]);
        for (target, sources) in
            [(Some(1), Some(vec![1])), (Some(1), Some(vec![])), (None, Some(vec![2])), (Some(1), Some(vec![2, 2]))]
        {
            let err = dedupe.merge(&p, target, sources).await.unwrap_err();
            assert!(matches!(err, CrmError::Validation { .. }), "{err:?}");
        }
    }
}
