//! The sales pipeline: its stages, and moving deals along it (change stage, mark won or lost).

use crate::deal::{DealStatus, DealView, check_close_date, deal_not_found};
use crate::error::{CrmError, Result};
use crate::fields::{Fields, MAX_FREE_TEXT, Sent};
use crate::records::Resource;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use kernel::{FilterKind, FilterSpec, ListSpec};
use management_core::{Permission, Principal};

const MAX_NAME: usize = 100;

/// A pipeline stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub order: i32,
    pub is_active: bool,
    /// Percent: the probability a deal at this stage starts with.
    pub probability: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageInput {
    pub name: Sent<String>,
    pub description: Sent<String>,
    pub order: Sent<i64>,
    pub is_active: Sent<bool>,
    pub probability: Sent<i64>,
}

/// A checked new stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageDraft {
    pub name: String,
    pub description: Option<String>,
    pub order: i32,
    pub is_active: bool,
    pub probability: i32,
}

/// A checked change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub order: Option<i32>,
    pub is_active: Option<bool>,
    pub probability: Option<i32>,
}

/// The pipeline stage record kind.
pub struct Stages;

fn order(f: &mut Fields, value: &Sent<i64>) -> Option<i32> {
    match value {
        Some(Some(v)) if (0..=10_000).contains(v) => Some(*v as i32),
        Some(Some(_)) => {
            f.error("order", "Ensure this value is between 0 and 10000.");
            None
        }
        Some(None) => {
            f.error("order", "This field may not be null.");
            None
        }
        None => None,
    }
}

/// A stage's win probability: 0 to 100, never null.
fn probability(f: &mut Fields, value: &Sent<i64>) -> Option<i32> {
    let probability = f.percent("probability", value);
    f.present("probability", probability, false)
}

impl Resource for Stages {
    type Record = Stage;
    type Input = StageInput;
    type Draft = StageDraft;
    type Changes = StageChanges;
    const NAME: &'static str = "Pipeline stage";
    const LIST: ListSpec = ListSpec {
        filters: &[FilterSpec { name: "is_active", kind: FilterKind::Bool, about: "Active or not" }],
        ordering: &["order", "name", "probability", "created_at"],
        default_ordering: ("order", false),
        search: "name, description",
    };

    fn draft(input: StageInput, _owner: i64) -> Result<StageDraft> {
        let mut f = Fields::new();
        let is_active = f.present("is_active", input.is_active, false).unwrap_or(true);
        let name = f.required_text("name", &input.name, MAX_NAME, true);
        let description = f.text("description", &input.description, MAX_FREE_TEXT).flatten();
        let order = order(&mut f, &input.order);
        let probability = probability(&mut f, &input.probability);
        f.finish()?;
        Ok(StageDraft {
            name: name.unwrap_or_default(),
            description,
            order: order.unwrap_or(0),
            is_active,
            probability: probability.unwrap_or(0),
        })
    }

    fn changes(input: StageInput, replace: bool) -> Result<StageChanges> {
        let mut f = Fields::new();
        let is_active = f.present("is_active", input.is_active, false);
        let probability = probability(&mut f, &input.probability);
        let changes = StageChanges {
            name: f.required_text("name", &input.name, MAX_NAME, replace),
            description: f.text("description", &input.description, MAX_FREE_TEXT),
            order: order(&mut f, &input.order),
            is_active,
            probability,
        };
        f.finish()?;
        Ok(changes)
    }
}

/// What a move along the pipeline did.
#[derive(Debug, Clone, PartialEq)]
pub enum Move {
    Done(Box<DealView>),
    DealNotFound,
    /// The stage is not a live, active one.
    BadStage,
    /// The deal is already won or lost.
    AlreadyClosed,
}

/// Moving deals along the pipeline.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DealMoves: Send + Sync {
    /// Moves the deal to `stage_id` (its probability becomes the stage's while it is open) and
    /// appends `{from, to, notes, by, at}` to its stage history.
    async fn change_stage(
        &self,
        id: i64,
        stage_id: i64,
        notes: Option<String>,
        by: i64,
        at: DateTime<Utc>,
    ) -> Result<Move>;
    /// Closes an open deal as `status` (won or lost) on `close_date`, probability 100 or 0;
    /// `notes` are logged as a deal activity.
    async fn close(
        &self,
        id: i64,
        status: DealStatus,
        close_date: NaiveDate,
        notes: Option<String>,
        by: i64,
        at: DateTime<Utc>,
    ) -> Result<Move>;
}

fn outcome(id: i64, m: Move) -> Result<DealView> {
    match m {
        Move::Done(view) => Ok(*view),
        Move::DealNotFound => Err(deal_not_found(id)),
        Move::BadStage => Err(CrmError::field("stage", "Choose a live, active pipeline stage.")),
        Move::AlreadyClosed => Err(CrmError::Conflict(format!(
            "Deal {id} is already won or lost; reopen it with a PATCH of status to Open first."
        ))),
    }
}

/// Moves a deal to another stage (`crm.write`).
pub async fn change_stage(
    by: &Principal,
    port: &dyn DealMoves,
    id: i64,
    stage: Sent<i64>,
    notes: Sent<String>,
) -> Result<DealView> {
    by.require(Permission::CrmWrite)?;
    let mut f = Fields::new();
    let stage = f.id("stage", &stage).flatten();
    if stage.is_none() {
        f.error("stage", "This field is required.");
    }
    let notes = f.text("notes", &notes, MAX_FREE_TEXT).flatten();
    f.finish()?;
    outcome(id, port.change_stage(id, stage.unwrap_or_default(), notes, by.user_id, Utc::now()).await?)
}

/// Marks an open deal won (`won`) or lost (`crm.write`): closed on `close_date` (default
/// today; a win cannot be in the future).
pub async fn close_deal(
    by: &Principal,
    port: &dyn DealMoves,
    id: i64,
    won: bool,
    close_date: Sent<NaiveDate>,
    notes: Sent<String>,
) -> Result<DealView> {
    by.require(Permission::CrmWrite)?;
    let mut f = Fields::new();
    let notes = f.text("notes", &notes, MAX_FREE_TEXT).flatten();
    f.finish()?;
    let now = Utc::now();
    let status = if won { DealStatus::Completed } else { DealStatus::Cancelled };
    let date = close_date.flatten().unwrap_or_else(|| now.date_naive());
    check_close_date(status, Some(date), now)?;
    outcome(id, port.close(id, status, date, notes, by.user_id, now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> Principal {
        Principal {
            user_id: 1,
            role: "member".into(),
            permissions: vec![Permission::CrmWrite],
            jti: "j".into(),
            session_id: "s".into(),
            expires_at: 0,
        }
    }

    #[tokio::test]
    async fn closing_twice_is_a_conflict_and_wins_are_not_in_the_future() {
        let mut port = MockDealMoves::new();
        port.expect_close().returning(|_, _, _, _, _, _| Ok(Move::AlreadyClosed));
        assert!(matches!(close_deal(&writer(), &port, 1, true, None, None).await, Err(CrmError::Conflict(_))));
        let tomorrow = Utc::now().date_naive().succ_opt();
        let err = close_deal(&writer(), &port, 1, true, Some(tomorrow), None).await.unwrap_err();
        assert!(matches!(err, CrmError::Validation { ref fields, .. } if fields.contains_key("close_date")));
    }

    #[tokio::test]
    async fn a_stage_is_required_and_must_be_active() {
        let mut port = MockDealMoves::new();
        port.expect_change_stage().returning(|_, _, _, _, _| Ok(Move::BadStage));
        assert!(change_stage(&writer(), &port, 1, None, None).await.is_err());
        let err = change_stage(&writer(), &port, 1, Some(Some(2)), None).await.unwrap_err();
        assert!(matches!(err, CrmError::Validation { ref fields, .. } if fields.contains_key("stage")));
    }
}
