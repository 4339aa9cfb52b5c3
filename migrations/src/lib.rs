//! Database migrations; each change is a file of its own and runs on PostgreSQL and SQLite.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_roles_and_users;
mod m20261123_000002_sessions;
mod m20261123_000003_crm;
mod m20261123_000004_crm_summaries;
mod m20261123_000005_sales_manager_assignments;
mod m20261123_000006_callcenter_knowledge_and_callers;
mod m20261123_000007_calls_chats_documents;
mod m20261123_000008_caller_memory;
mod m20261123_000009_callers_without_phone;
mod m20261129_000010_session_table;
mod m20261129_000011_status_groups;
mod m20261129_000012_pending_role;
mod m20261129_000013_companies;
mod m20261129_000014_crm_records;
mod m20261129_000015_sales_pipeline;
mod m20261129_000016_activities_tasks_events;
mod m20261129_000017_products;
mod m20261129_000018_conversion_lookups;
mod m20261129_000019_live_counters;
mod m20261204_000020_caller_signals;
mod m20261204_000021_lead_filter_index;
mod m20261205_000022_deal_summaries;
mod m20261205_000023_match_keys;
mod m20261205_000024_system_settings;
mod m20261205_000025_audit_and_webhooks;
mod m20261205_000026_idempotency_keys;
mod m20261205_000027_integrations;
mod m20261205_000028_cims_workspace;
mod seed;

pub use m20261123_000004_crm_summaries::rebuild_statements;
pub use m20261129_000019_live_counters::LIVE_COUNTERS;
pub use m20261205_000022_deal_summaries::deal_summary_statements;
pub use m20261205_000023_match_keys::backfill_match_keys;

/// Every migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_roles_and_users::Migration),
            Box::new(m20261123_000002_sessions::Migration),
            Box::new(m20261123_000003_crm::Migration),
            Box::new(m20261123_000004_crm_summaries::Migration),
            Box::new(m20261123_000005_sales_manager_assignments::Migration),
            Box::new(m20261123_000006_callcenter_knowledge_and_callers::Migration),
            Box::new(m20261123_000007_calls_chats_documents::Migration),
            Box::new(m20261123_000008_caller_memory::Migration),
            Box::new(m20261123_000009_callers_without_phone::Migration),
            Box::new(m20261129_000010_session_table::Migration),
            Box::new(m20261129_000011_status_groups::Migration),
            Box::new(m20261129_000012_pending_role::Migration),
            Box::new(m20261129_000013_companies::Migration),
            Box::new(m20261129_000014_crm_records::Migration),
            Box::new(m20261129_000015_sales_pipeline::Migration),
            Box::new(m20261129_000016_activities_tasks_events::Migration),
            Box::new(m20261129_000017_products::Migration),
            Box::new(m20261129_000018_conversion_lookups::Migration),
            Box::new(m20261129_000019_live_counters::Migration),
            Box::new(m20261204_000020_caller_signals::Migration),
            Box::new(m20261204_000021_lead_filter_index::Migration),
            Box::new(m20261205_000022_deal_summaries::Migration),
            Box::new(m20261205_000023_match_keys::Migration),
            Box::new(m20261205_000024_system_settings::Migration),
            Box::new(m20261205_000025_audit_and_webhooks::Migration),
            Box::new(m20261205_000026_idempotency_keys::Migration),
            Box::new(m20261205_000027_integrations::Migration),
            Box::new(m20261205_000028_cims_workspace::Migration),
        ]
    }
}
