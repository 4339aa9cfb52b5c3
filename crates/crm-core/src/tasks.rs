//! Tasks: things to do, by a due date, with a priority; completing one keeps its notes.

use crate::activity::ACTIVITY_STATUSES;
use crate::error::{CrmError, Result};
use crate::fields::{Fields, MAX_FREE_TEXT, Sent};
use crate::records::Resource;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{FilterKind, FilterSpec, ListSpec, Ref};
use management_core::{Permission, Principal};

/// Where a task stands (the activity statuses).
pub const TASK_STATUSES: [&str; 5] = ACTIVITY_STATUSES;
/// How urgent a task is.
pub const PRIORITIES: [&str; 4] = ["Low", "Medium", "High", "Urgent"];
/// The status of a done task.
pub const COMPLETED: &str = "Completed";
const MAX_TITLE: usize = 255;

/// A task with its related records.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub due_date: Option<DateTime<Utc>>,
    pub status: String,
    pub priority: String,
    pub owner: Option<Ref>,
    pub account: Option<Ref>,
    pub contact: Option<Ref>,
    pub deal: Option<Ref>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completion_notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskInput {
    pub title: Sent<String>,
    pub description: Sent<String>,
    pub due_date: Sent<DateTime<Utc>>,
    pub status: Sent<String>,
    pub priority: Sent<String>,
    pub owner: Sent<i64>,
    pub account: Sent<i64>,
    pub contact: Sent<i64>,
    pub deal: Sent<i64>,
}

/// A checked new task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDraft {
    pub title: String,
    pub description: Option<String>,
    pub due_date: Option<DateTime<Utc>>,
    pub status: &'static str,
    pub priority: &'static str,
    pub owner_id: Option<i64>,
    pub account_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub deal_id: Option<i64>,
}

/// A checked change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub due_date: Option<Option<DateTime<Utc>>>,
    pub status: Option<&'static str>,
    pub priority: Option<&'static str>,
    pub owner_id: Option<Option<i64>>,
    pub account_id: Option<Option<i64>>,
    pub contact_id: Option<Option<i64>>,
    pub deal_id: Option<Option<i64>>,
}

/// The task record kind.
pub struct Tasks;

impl Resource for Tasks {
    type Record = Task;
    type Input = TaskInput;
    type Draft = TaskDraft;
    type Changes = TaskChanges;
    const NAME: &'static str = "Task";
    const LIST: ListSpec = ListSpec {
        filters: &[
            FilterSpec {
                name: "status",
                kind: FilterKind::Choice(&TASK_STATUSES),
                about: "Not Started, In Progress, Completed, Deferred or Cancelled",
            },
            FilterSpec {
                name: "priority",
                kind: FilterKind::Choice(&PRIORITIES),
                about: "Low, Medium, High or Urgent",
            },
            FilterSpec { name: "owner", kind: FilterKind::Id, about: "Owner's user id" },
            FilterSpec {
                name: "overdue",
                kind: FilterKind::Bool,
                about: "true: due before now and not completed or cancelled",
            },
        ],
        ordering: &["created_at", "updated_at", "due_date", "priority", "title"],
        default_ordering: ("created_at", true),
        search: "title, description",
    };

    fn draft(input: TaskInput, owner: i64) -> Result<TaskDraft> {
        let mut f = Fields::new();
        let title = f.required_text("title", &input.title, MAX_TITLE, true);
        let description = f.text("description", &input.description, MAX_FREE_TEXT).flatten();
        let status = f.choice("status", &input.status, &TASK_STATUSES);
        let status = f.present("status", status, false).unwrap_or("Not Started");
        let priority = f.choice("priority", &input.priority, &PRIORITIES);
        let priority = f.present("priority", priority, false).unwrap_or("Medium");
        let refs = [
            f.id("owner", &input.owner),
            f.id("account", &input.account),
            f.id("contact", &input.contact),
            f.id("deal", &input.deal),
        ];
        f.finish()?;
        let [owner_id, account_id, contact_id, deal_id] = refs.map(Option::flatten);
        Ok(TaskDraft {
            title: title.unwrap_or_default(),
            description,
            due_date: input.due_date.flatten(),
            status,
            priority,
            owner_id: owner_id.or(Some(owner)),
            account_id,
            contact_id,
            deal_id,
        })
    }

    fn changes(input: TaskInput, replace: bool) -> Result<TaskChanges> {
        let mut f = Fields::new();
        let title = f.required_text("title", &input.title, MAX_TITLE, replace);
        let description = f.text("description", &input.description, MAX_FREE_TEXT);
        let status = f.choice("status", &input.status, &TASK_STATUSES);
        let status = f.present("status", status, false);
        let priority = f.choice("priority", &input.priority, &PRIORITIES);
        let priority = f.present("priority", priority, false);
        let changes = TaskChanges {
            title,
            description,
            due_date: input.due_date,
            status,
            priority,
            owner_id: f.id("owner", &input.owner),
            account_id: f.id("account", &input.account),
            contact_id: f.id("contact", &input.contact),
            deal_id: f.id("deal", &input.deal),
        };
        f.finish()?;
        Ok(changes)
    }
}

/// What completing a task did.
#[derive(Debug, Clone, PartialEq)]
pub enum Completion {
    Completed(Box<Task>),
    AlreadyCompleted,
    NotFound,
}

/// Completing tasks.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TaskCompletion: Send + Sync {
    /// Marks the live task completed at `at` with `notes`, unless it already is.
    async fn complete(&self, id: i64, notes: Option<String>, at: DateTime<Utc>) -> Result<Completion>;
}

/// Completes a task (`crm.write`); completing it twice is a 409.
pub async fn complete_task(by: &Principal, port: &dyn TaskCompletion, id: i64, notes: Sent<String>) -> Result<Task> {
    by.require(Permission::CrmWrite)?;
    let mut f = Fields::new();
    let notes = f.text("notes", &notes, MAX_FREE_TEXT).flatten();
    f.finish()?;
    match port.complete(id, notes, Utc::now()).await? {
        Completion::Completed(task) => Ok(*task),
        Completion::AlreadyCompleted => Err(CrmError::Conflict(format!("Task {id} is already completed."))),
        Completion::NotFound => Err(crate::records::not_found::<Tasks>(id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_choices() {
        let draft =
            Tasks::draft(TaskInput { title: Some(Some("Update CRM".into())), ..Default::default() }, 4).unwrap();
        assert_eq!((draft.status, draft.priority, draft.owner_id), ("Not Started", "Medium", Some(4)));
        let bad =
            TaskInput { title: Some(Some("x".into())), priority: Some(Some("Whenever".into())), ..Default::default() };
        assert!(Tasks::draft(bad, 1).is_err());
        assert!(Tasks::changes(TaskInput { status: Some(None), ..Default::default() }, false).is_err());
    }

    #[tokio::test]
    async fn completing_twice_is_a_conflict() {
        let mut port = MockTaskCompletion::new();
        port.expect_complete().returning(|_, _, _| Ok(Completion::AlreadyCompleted));
        let by = Principal {
            user_id: 1,
            role: "member".into(),
            permissions: vec![Permission::CrmWrite],
            jti: "j".into(),
            session_id: "s".into(),
            expires_at: 0,
        };
        assert!(matches!(complete_task(&by, &port, 1, None).await, Err(CrmError::Conflict(_))));
    }
}
