//! The use cases of the CRM REST surface, one [`Records`] per record kind plus the actions.

use crate::records::Records;
use crate::territories::{Territories, TerritoryAssignments};
use std::sync::Arc;

/// Everything the CRM REST surface calls.
pub struct CrmRest {
    pub territories: Records<Territories>,
    pub territory_assignments: Arc<dyn TerritoryAssignments>,
}
