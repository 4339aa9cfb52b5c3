//! The use cases of the CRM REST surface, one [`Records`] per record kind plus the actions.

use crate::accounts::Accounts;
use crate::activity::Activities;
use crate::audit::Audit;
use crate::companies::{Companies, CompanyMemberships};
use crate::contacts::Contacts;
use crate::deal::Deals;
use crate::events::Events;
use crate::exchange::{Dedupe, Imports};
use crate::insights::Insights;
use crate::integrations::{IntegrationTests, Integrations};
use crate::leads::{LeadConversion, Leads};
use crate::pipeline::{DealMoves, Stages};
use crate::products::{Categories, Products};
use crate::records::Records;
use crate::settings::Settings;
use crate::tasks::{TaskCompletion, Tasks};
use crate::territories::{Territories, TerritoryAssignments};
use crate::webhooks::{Deliveries, Webhooks};
use std::sync::Arc;

/// Everything the CRM REST surface calls.
pub struct CrmRest {
    pub companies: Records<Companies>,
    pub memberships: Arc<dyn CompanyMemberships>,
    pub accounts: Records<Accounts>,
    pub contacts: Records<Contacts>,
    pub leads: Records<Leads>,
    pub lead_conversion: Arc<dyn LeadConversion>,
    pub territories: Records<Territories>,
    pub territory_assignments: Arc<dyn TerritoryAssignments>,
    pub activities: Records<Activities>,
    pub tasks: Records<Tasks>,
    pub task_completion: Arc<dyn TaskCompletion>,
    pub events: Records<Events>,
    pub deals: Records<Deals>,
    pub deal_moves: Arc<dyn DealMoves>,
    pub stages: Records<Stages>,
    pub products: Records<Products>,
    pub categories: Records<Categories>,
    /// The dashboard and reports.
    pub insights: Insights,
    pub account_imports: Imports<Accounts>,
    pub contact_imports: Imports<Contacts>,
    pub lead_imports: Imports<Leads>,
    pub account_dedupe: Dedupe<Accounts>,
    pub contact_dedupe: Dedupe<Contacts>,
    pub lead_dedupe: Dedupe<Leads>,
    /// System settings.
    pub settings: Records<Settings>,
    /// Integrations with outside services, and testing them.
    pub integrations: Records<Integrations>,
    pub integration_tests: IntegrationTests,
    /// Outgoing webhooks and their deliveries.
    pub webhooks: Records<Webhooks>,
    pub deliveries: Deliveries,
    /// The audit trail and the records' timelines.
    pub audit: Audit,
}
