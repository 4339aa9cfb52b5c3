//! `/api/activities/`: activities, tasks (and completing them) and events.

use super::body::RestBody;
use super::scaffold::{RestResource, action_path, both, document_action, mount, record_answer};
use crate::error::ApiResult;
use crate::extract::Auth;
use crate::iso;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use crm_core::activity::{ACTIVITY_STATUSES, ACTIVITY_TYPES, Activities, Activity, ActivityInput};
use crm_core::events::{Event, EventInput, Events};
use crm_core::records::Records;
use crm_core::tasks::{PRIORITIES, Task, TaskInput, Tasks, complete_task};
use kernel::Ref;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

/// A related record: `{id, name}`.
#[derive(Serialize, ToSchema, Clone)]
#[schema(as = RefDto)]
pub struct RefDto {
    pub id: i64,
    pub name: String,
}

impl From<Ref> for RefDto {
    fn from(r: Ref) -> Self {
        RefDto { id: r.id, name: r.name }
    }
}

/// `{id, name}` or null.
pub fn related(r: Option<Ref>) -> Option<RefDto> {
    r.map(RefDto::from)
}

/// An activity.
#[derive(Serialize, ToSchema)]
pub struct ActivityDto {
    pub id: i64,
    /// The subject; for an activity logged without one (on the v1 surface), the first line of
    /// its description.
    pub subject: String,
    /// `Call`, `Email`, `Meeting` or `Deal`.
    pub activity_type: &'static str,
    pub description: String,
    pub due_date: Option<String>,
    /// `Not Started`, `In Progress`, `Completed`, `Deferred` or `Cancelled`.
    pub status: String,
    pub owner: Option<RefDto>,
    pub account: Option<RefDto>,
    pub contact: Option<RefDto>,
    pub lead: Option<RefDto>,
    pub deal: Option<RefDto>,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of an activity; related records are written as ids.
#[derive(Deserialize, ToSchema, Default)]
pub struct ActivityBody {
    #[schema(example = "Follow-up Call", max_length = 255, nullable = false, required = true)]
    pub subject: Option<Option<String>>,
    #[schema(schema_with = activity_type, required = true)]
    pub activity_type: Option<Option<String>>,
    #[schema(max_length = 10000)]
    pub description: Option<Option<String>>,
    #[schema(example = "2024-01-20T14:00:00Z")]
    pub due_date: Option<Option<DateTime<Utc>>>,
    #[schema(schema_with = activity_status)]
    pub status: Option<Option<String>>,
    /// Default: the caller.
    #[schema(minimum = 1)]
    pub owner: Option<Option<i64>>,
    #[schema(minimum = 1)]
    pub account: Option<Option<i64>>,
    #[schema(minimum = 1)]
    pub contact: Option<Option<i64>>,
    #[schema(minimum = 1)]
    pub lead: Option<Option<i64>>,
    #[schema(minimum = 1)]
    pub deal: Option<Option<i64>>,
}

fn activity_type() -> Object {
    crate::openapi::choice(&ACTIVITY_TYPES, "The kind of activity.")
}

/// An activity's or a task's status (the same list).
fn activity_status() -> Object {
    crate::openapi::choice(&ACTIVITY_STATUSES, "Default `Not Started`.")
}

fn task_priority() -> Object {
    crate::openapi::choice(&PRIORITIES, "Default `Medium`.")
}

/// The activity resource.
pub struct ActivityResource;

impl RestResource for ActivityResource {
    type R = Activities;
    type Dto = ActivityDto;
    type Body = ActivityBody;
    const PATH: &'static str = "/api/activities/activities/";
    const TAG: &'static str = "crm-rest: activities";
    const ID: &'static str = "rest_activities";

    fn records(state: &AppState) -> &Records<Activities> {
        &state.rest.activities
    }

    fn dto(a: Activity) -> ActivityDto {
        ActivityDto {
            id: a.id,
            subject: a.headline(),
            activity_type: a.kind.label(),
            description: a.description,
            due_date: a.due_date.map(iso),
            status: a.status,
            owner: related(a.owner),
            account: related(a.account),
            contact: related(a.contact),
            lead: related(a.lead),
            deal: related(a.deal),
            created_at: iso(a.created_at),
            updated_at: iso(a.updated_at),
        }
    }

    fn input(b: Self::Body) -> ActivityInput {
        ActivityInput {
            subject: b.subject,
            activity_type: b.activity_type,
            description: b.description,
            due_date: b.due_date,
            status: b.status,
            owner: b.owner,
            account: b.account,
            contact: b.contact,
            lead: b.lead,
            deal: b.deal,
        }
    }
}

/// A task.
#[derive(Serialize, ToSchema)]
pub struct TaskDto {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub due_date: Option<String>,
    pub status: String,
    /// `Low`, `Medium`, `High` or `Urgent`.
    pub priority: String,
    pub owner: Option<RefDto>,
    pub account: Option<RefDto>,
    pub contact: Option<RefDto>,
    pub deal: Option<RefDto>,
    pub completed_at: Option<String>,
    /// The notes given when it was completed.
    pub notes: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of a task.
#[derive(Deserialize, ToSchema, Default)]
pub struct TaskBody {
    #[schema(example = "Update CRM", max_length = 255, nullable = false, required = true)]
    pub title: Option<Option<String>>,
    pub description: Option<Option<String>>,
    #[schema(example = "2024-01-25T12:00:00Z")]
    pub due_date: Option<Option<DateTime<Utc>>>,
    #[schema(schema_with = activity_status)]
    pub status: Option<Option<String>>,
    #[schema(schema_with = task_priority)]
    pub priority: Option<Option<String>>,
    #[schema(minimum = 1)]
    pub owner: Option<Option<i64>>,
    #[schema(minimum = 1)]
    pub account: Option<Option<i64>>,
    #[schema(minimum = 1)]
    pub contact: Option<Option<i64>>,
    #[schema(minimum = 1)]
    pub deal: Option<Option<i64>>,
}

/// The task resource.
pub struct TaskResource;

impl RestResource for TaskResource {
    type R = Tasks;
    type Dto = TaskDto;
    type Body = TaskBody;
    const PATH: &'static str = "/api/activities/tasks/";
    const TAG: &'static str = "crm-rest: activities";
    const ID: &'static str = "rest_tasks";

    fn records(state: &AppState) -> &Records<Tasks> {
        &state.rest.tasks
    }

    fn dto(t: Task) -> TaskDto {
        TaskDto {
            id: t.id,
            title: t.title,
            description: t.description,
            due_date: t.due_date.map(iso),
            status: t.status,
            priority: t.priority,
            owner: related(t.owner),
            account: related(t.account),
            contact: related(t.contact),
            deal: related(t.deal),
            completed_at: t.completed_at.map(iso),
            notes: t.completion_notes,
            created_at: iso(t.created_at),
            updated_at: iso(t.updated_at),
        }
    }

    fn input(b: Self::Body) -> TaskInput {
        TaskInput {
            title: b.title,
            description: b.description,
            due_date: b.due_date,
            status: b.status,
            priority: b.priority,
            owner: b.owner,
            account: b.account,
            contact: b.contact,
            deal: b.deal,
        }
    }
}

/// An event.
#[derive(Serialize, ToSchema)]
pub struct EventDto {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub start_date: String,
    pub end_date: String,
    pub location: Option<String>,
    pub owner: Option<RefDto>,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of an event.
#[derive(Deserialize, ToSchema, Default)]
pub struct EventBody {
    #[schema(example = "Team Meeting", max_length = 255, nullable = false, required = true)]
    pub title: Option<Option<String>>,
    pub description: Option<Option<String>>,
    #[schema(example = "2024-01-22T09:00:00Z", nullable = false, required = true)]
    pub start_date: Option<Option<DateTime<Utc>>>,
    /// After `start_date`.
    #[schema(example = "2024-01-22T10:00:00Z", nullable = false, required = true)]
    pub end_date: Option<Option<DateTime<Utc>>>,
    #[schema(example = "Conference Room A", max_length = 255)]
    pub location: Option<Option<String>>,
    #[schema(minimum = 1)]
    pub owner: Option<Option<i64>>,
}

/// The event resource.
pub struct EventResource;

impl RestResource for EventResource {
    type R = Events;
    type Dto = EventDto;
    type Body = EventBody;
    const PATH: &'static str = "/api/activities/events/";
    const TAG: &'static str = "crm-rest: activities";
    const ID: &'static str = "rest_events";

    fn records(state: &AppState) -> &Records<Events> {
        &state.rest.events
    }

    fn dto(e: Event) -> EventDto {
        EventDto {
            id: e.id,
            title: e.title,
            description: e.description,
            start_date: iso(e.start_date),
            end_date: iso(e.end_date),
            location: e.location,
            owner: related(e.owner),
            created_at: iso(e.created_at),
            updated_at: iso(e.updated_at),
        }
    }

    fn input(b: Self::Body) -> EventInput {
        EventInput {
            title: b.title,
            description: b.description,
            start_date: b.start_date,
            end_date: b.end_date,
            location: b.location,
            owner: b.owner,
        }
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    mount::<ActivityResource>(cfg);
    mount::<TaskResource>(cfg);
    mount::<EventResource>(cfg);
    cfg.service(web::resource(both(&action_path::<TaskResource>("complete"))).route(web::post().to(complete_handler)));
}

async fn complete_handler(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: RestBody,
) -> ApiResult<HttpResponse> {
    state.rest.tasks.may_write(&auth.0)?;
    let b: CompleteBody = body.read()?;
    let task = complete_task(&auth.0, state.rest.task_completion.as_ref(), id.into_inner(), b.notes).await?;
    Ok(HttpResponse::Ok().json(TaskResource::dto(task)))
}

/// `{notes}`.
#[derive(Deserialize, ToSchema, Default)]
pub struct CompleteBody {
    #[schema(example = "Task completed successfully")]
    pub notes: Option<Option<String>>,
}

pub fn document(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    super::scaffold::document::<ActivityResource>(paths, schemas);
    super::scaffold::document::<TaskResource>(paths, schemas);
    super::scaffold::document::<EventResource>(paths, schemas);
    let ok = record_answer::<TaskResource>(schemas, "The completed task");
    document_action::<TaskResource, CompleteBody>(
        paths,
        schemas,
        "complete",
        "Complete a task (409 when it already is)",
        ok,
    );
}
