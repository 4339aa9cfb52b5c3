//! `/api/deals/`: deals (moving them along the pipeline, marking them won or lost) and the
//! pipeline stages.

use super::activities::{RefDto, related};
use super::body::RestBody;
use super::scaffold::{RestResource, action_path, both, document_action, mount, record_answer};
use crate::error::ApiResult;
use crate::extract::Auth;
use crate::iso;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use crm_core::deal::{DealInput, DealView, Deals, REST_STATUSES};
use crm_core::pipeline::{Stage, StageInput, Stages, change_stage, close_deal};
use crm_core::records::Records;
use kernel::Ref;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

/// A move along the pipeline.
#[derive(Serialize, ToSchema)]
pub struct StageChangeDto {
    pub from_stage: Option<RefDto>,
    pub to_stage: Option<RefDto>,
    pub notes: Option<String>,
    pub changed_by: Option<RefDto>,
    pub changed_at: String,
}

/// A deal.
#[derive(Serialize, ToSchema)]
pub struct DealDto {
    pub id: i64,
    pub name: String,
    pub account: Option<RefDto>,
    pub contact: Option<RefDto>,
    /// Exact, two decimal places.
    #[schema(example = 50000.0)]
    pub amount: f64,
    pub stage: Option<RefDto>,
    /// `YYYY-MM-DD`.
    pub expected_close_date: Option<String>,
    /// `YYYY-MM-DD`: the day it was won or lost.
    pub close_date: Option<String>,
    /// `Open`, `Won` or `Lost`.
    pub status: &'static str,
    /// Percent.
    pub probability: Option<i32>,
    pub owner: Option<RefDto>,
    pub description: Option<String>,
    /// The moves along the pipeline, oldest first (only in the answer about one deal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_history: Option<Vec<StageChangeDto>>,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of a deal.
#[derive(Deserialize, ToSchema, Default)]
pub struct DealBody {
    #[schema(example = "New Deal", max_length = 255, nullable = false, required = true)]
    pub name: Option<Option<String>>,
    /// A live account.
    #[schema(minimum = 1, example = 1, nullable = false, required = true)]
    pub account: Option<Option<i64>>,
    /// One of the account's contacts.
    #[schema(minimum = 1)]
    pub contact: Option<Option<i64>>,
    /// Not negative, at most two decimal places.
    #[schema(value_type = Option<f64>, nullable = false, example = 25000.0, minimum = 0)]
    pub amount: Option<Option<Decimal>>,
    /// An active stage (default: the first one; a change is recorded in the stage history).
    #[schema(nullable = false, minimum = 1)]
    pub stage: Option<Option<i64>>,
    /// `YYYY-MM-DD`.
    #[schema(example = "2024-04-01")]
    pub expected_close_date: Option<Option<NaiveDate>>,
    /// `YYYY-MM-DD`, with `Won` or `Lost` (a win cannot be in the future).
    pub close_date: Option<Option<NaiveDate>>,
    #[schema(schema_with = deal_status)]
    pub status: Option<Option<String>>,
    /// 0 to 100 (default: the stage's).
    #[schema(minimum = 0, maximum = 100)]
    pub probability: Option<Option<i64>>,
    /// Default: the caller.
    #[schema(minimum = 1)]
    pub owner: Option<Option<i64>>,
    pub description: Option<Option<String>>,
}

fn reference(id: i64, name: String) -> Option<RefDto> {
    related(Some(Ref { id, name }))
}

fn deal_status() -> Object {
    crate::openapi::choice(&REST_STATUSES, "Default `Open`.")
}

/// The deal resource.
pub struct DealResource;

impl RestResource for DealResource {
    type R = Deals;
    type Dto = DealDto;
    type Body = DealBody;
    const PATH: &'static str = "/api/deals/deals/";
    const TAG: &'static str = "crm-rest: deals";
    const ID: &'static str = "rest_deals";

    fn records(state: &AppState) -> &Records<Deals> {
        &state.rest.deals
    }

    fn dto(v: DealView) -> DealDto {
        let d = v.deal;
        let closed = !d.status.is_open();
        DealDto {
            id: d.id,
            name: d.title,
            account: v.customer.and_then(|c| reference(c.id, c.name)),
            contact: related(v.contact),
            amount: crate::money(d.value),
            stage: related(v.stage),
            expected_close_date: d.expected_close_date.map(|day| day.to_string()),
            close_date: d.closed_at.filter(|_| closed).map(|at| at.date_naive().to_string()),
            status: d.status.rest(),
            probability: d.probability,
            owner: related(v.owner),
            description: d.description,
            stage_history: v.history.map(|moves| {
                moves
                    .into_iter()
                    .map(|m| StageChangeDto {
                        from_stage: related(m.from_stage),
                        to_stage: related(m.to_stage),
                        notes: m.notes,
                        changed_by: related(m.changed_by),
                        changed_at: iso(m.changed_at),
                    })
                    .collect()
            }),
            created_at: iso(d.created_at),
            updated_at: iso(d.updated_at),
        }
    }

    fn input(b: Self::Body) -> DealInput {
        DealInput {
            name: b.name,
            account: b.account,
            contact: b.contact,
            amount: b.amount,
            stage: b.stage,
            expected_close_date: b.expected_close_date,
            close_date: b.close_date,
            status: b.status,
            probability: b.probability,
            owner: b.owner,
            description: b.description,
        }
    }
}

/// A pipeline stage.
#[derive(Serialize, ToSchema)]
pub struct StageDto {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    /// Position in the pipeline (the list's default order).
    pub order: i32,
    pub is_active: bool,
    /// Percent: the probability a deal at this stage has.
    pub probability: i32,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of a stage.
#[derive(Deserialize, ToSchema, Default)]
pub struct StageBody {
    /// Unique among live stages, case-insensitive.
    #[schema(example = "Negotiation", max_length = 100, nullable = false, required = true)]
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    /// 0 to 10000 (default 0).
    #[schema(nullable = false, minimum = 0, maximum = 10000)]
    pub order: Option<Option<i64>>,
    /// Default true; an inactive stage takes no new deals.
    #[schema(nullable = false)]
    pub is_active: Option<Option<bool>>,
    /// 0 to 100 (default 0).
    #[schema(nullable = false, minimum = 0, maximum = 100)]
    pub probability: Option<Option<i64>>,
}

/// The pipeline stage resource.
pub struct StageResource;

impl RestResource for StageResource {
    type R = Stages;
    type Dto = StageDto;
    type Body = StageBody;
    const PATH: &'static str = "/api/deals/pipeline-stages/";
    const TAG: &'static str = "crm-rest: deals";
    const ID: &'static str = "rest_pipeline_stages";

    fn records(state: &AppState) -> &Records<Stages> {
        &state.rest.stages
    }

    fn dto(s: Stage) -> StageDto {
        StageDto {
            id: s.id,
            name: s.name,
            description: s.description,
            order: s.order,
            is_active: s.is_active,
            probability: s.probability,
            created_at: iso(s.created_at),
            updated_at: iso(s.updated_at),
        }
    }

    fn input(b: Self::Body) -> StageInput {
        StageInput {
            name: b.name,
            description: b.description,
            order: b.order,
            is_active: b.is_active,
            probability: b.probability,
        }
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    mount::<DealResource>(cfg);
    mount::<StageResource>(cfg);
    let action = |name| web::resource(both(&action_path::<DealResource>(name)));
    cfg.service(action("change-stage").route(web::post().to(move_handler)))
        .service(action("mark-won").route(web::post().to(won_handler)))
        .service(action("mark-lost").route(web::post().to(lost_handler)));
}

async fn move_handler(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: RestBody,
) -> ApiResult<HttpResponse> {
    state.rest.deals.may_write(&auth.0)?;
    let b: ChangeStageBody = body.read()?;
    let deal = change_stage(&auth.0, state.rest.deal_moves.as_ref(), id.into_inner(), b.stage, b.notes).await?;
    Ok(HttpResponse::Ok().json(DealResource::dto(deal)))
}

async fn close(auth: Auth, state: web::Data<AppState>, id: i64, body: RestBody, won: bool) -> ApiResult<HttpResponse> {
    state.rest.deals.may_write(&auth.0)?;
    let b: CloseDealBody = body.read()?;
    let deal = close_deal(&auth.0, state.rest.deal_moves.as_ref(), id, won, b.close_date, b.notes).await?;
    Ok(HttpResponse::Ok().json(DealResource::dto(deal)))
}

async fn won_handler(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: RestBody,
) -> ApiResult<HttpResponse> {
    close(auth, state, id.into_inner(), body, true).await
}

async fn lost_handler(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: RestBody,
) -> ApiResult<HttpResponse> {
    close(auth, state, id.into_inner(), body, false).await
}

/// `{stage, notes}`.
#[derive(Deserialize, ToSchema, Default)]
pub struct ChangeStageBody {
    /// An active stage.
    #[schema(minimum = 1, example = 2, nullable = false, required = true)]
    pub stage: Option<Option<i64>>,
    #[schema(example = "Stage change notes")]
    pub notes: Option<Option<String>>,
}

/// `{close_date, notes}`.
#[derive(Deserialize, ToSchema, Default)]
pub struct CloseDealBody {
    /// `YYYY-MM-DD`, default today (a win cannot be in the future).
    #[schema(example = "2024-01-15")]
    pub close_date: Option<Option<NaiveDate>>,
    /// Logged as a deal activity.
    #[schema(example = "Deal won notes")]
    pub notes: Option<Option<String>>,
}

pub fn document(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    super::scaffold::document::<DealResource>(paths, schemas);
    super::scaffold::document::<StageResource>(paths, schemas);
    let ok = record_answer::<DealResource>(schemas, "The moved deal");
    let summary = "Move a deal to another stage (recorded in its stage history)";
    document_action::<DealResource, ChangeStageBody>(paths, schemas, "change-stage", summary, ok);
    let ok = record_answer::<DealResource>(schemas, "The won deal");
    let summary = "Mark an open deal won (probability 100; 409 when already closed)";
    document_action::<DealResource, CloseDealBody>(paths, schemas, "mark-won", summary, ok);
    let ok = record_answer::<DealResource>(schemas, "The lost deal");
    let summary = "Mark an open deal lost (probability 0; 409 when already closed)";
    document_action::<DealResource, CloseDealBody>(paths, schemas, "mark-lost", summary, ok);
}
