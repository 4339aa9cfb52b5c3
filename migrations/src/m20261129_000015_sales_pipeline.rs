//! The sales pipeline of `crm-rest-api.md`: pipeline stages (six seeded), the deal fields the
//! REST surface adds to the one deal record (contact, stage, expected close date,
//! probability), and each deal's stage history.

use crate::seed::{boolean, fk, ident, integer, pk, record_times, run, string, text, timestamp};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The stages a new database starts with: name, description, probability.
const STAGES: [(&str, &str, i32); 6] = [
    ("Lead", "Initial lead stage", 10),
    ("Qualified", "The need and the budget are confirmed", 25),
    ("Proposal", "A proposal has been sent", 50),
    ("Negotiation", "Terms are being negotiated", 75),
    ("Contract", "The contract is being signed", 90),
    ("Delivery", "Won work being delivered", 100),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut stages = Table::create();
        stages
            .table(ident("pipeline_stages"))
            .col(pk(ident("id")))
            .col(string("name", 100, false))
            .col(string("name_key", 100, false))
            .col(text("description", true, None))
            .col(integer("sort_order", 0))
            .col(boolean("is_active", true))
            .col(integer("probability", 0));
        record_times(&mut stages);
        manager.create_table(stages.to_owned()).await?;
        let now = chrono::Utc::now();
        for (i, (name, description, probability)) in STAGES.iter().enumerate() {
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table(ident("pipeline_stages"))
                        .columns(
                            [
                                "name",
                                "name_key",
                                "description",
                                "sort_order",
                                "is_active",
                                "probability",
                                "created_at",
                                "updated_at",
                            ]
                            .map(ident),
                        )
                        .values_panic([
                            (*name).into(),
                            name.to_lowercase().into(),
                            (*description).into(),
                            (i as i32).into(),
                            true.into(),
                            (*probability).into(),
                            now.into(),
                            now.into(),
                        ])
                        .to_owned(),
                )
                .await?;
        }

        crate::seed::add_reference(manager, "deals", "contact_id", "contacts").await?;
        crate::seed::add_reference(manager, "deals", "stage_id", "pipeline_stages").await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ident("deals"))
                    .add_column(ColumnDef::new(ident("expected_close_date")).date().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ident("deals"))
                    .add_column(ColumnDef::new(ident("probability")).integer().null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ident("deal_stage_changes"))
                    .col(pk(ident("id")))
                    .col(ColumnDef::new(ident("deal_id")).big_integer().not_null())
                    .col(ColumnDef::new(ident("from_stage_id")).big_integer().null())
                    .col(ColumnDef::new(ident("to_stage_id")).big_integer().not_null())
                    .col(text("notes", true, None))
                    .col(ColumnDef::new(ident("changed_by")).big_integer().null())
                    .col(timestamp(ident("changed_at")))
                    .foreign_key(&mut fk("deal_stage_changes", "deal_id", "deals", ForeignKeyAction::Cascade))
                    .foreign_key(&mut fk(
                        "deal_stage_changes",
                        "from_stage_id",
                        "pipeline_stages",
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "deal_stage_changes",
                        "to_stage_id",
                        "pipeline_stages",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk("deal_stage_changes", "changed_by", "users", ForeignKeyAction::SetNull))
                    .to_owned(),
            )
            .await?;
        run(
            manager,
            &[
                "CREATE UNIQUE INDEX ux_pipeline_stages_name_live ON pipeline_stages (name_key) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_deals_live_stage ON deals (stage_id, created_at) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_deals_live_contact ON deals (contact_id) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_deals_live_owner ON deals (user_id, created_at) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_deal_stage_changes_deal ON deal_stage_changes (deal_id, changed_at)",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ident("deal_stage_changes")).to_owned()).await?;
        run(
            manager,
            &[
                "DROP INDEX IF EXISTS ix_deals_live_stage",
                "DROP INDEX IF EXISTS ix_deals_live_contact",
                "DROP INDEX IF EXISTS ix_deals_live_owner",
            ],
        )
        .await?;
        for column in ["probability", "expected_close_date", "stage_id", "contact_id"] {
            manager.alter_table(Table::alter().table(ident("deals")).drop_column(ident(column)).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(ident("pipeline_stages")).to_owned()).await
    }
}
