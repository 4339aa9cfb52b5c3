//! CRM domain: customers (the record `crm-api-v1.md` calls a customer, `crm-rest-api.md`
//! an account and `management-update.md` a lead), deals, activities and sales analytics.
//!
//! Pure domain code: entities, validation, use cases and port traits. Surfaces are
//! projections of these records.

pub mod accounts;
pub mod activity;
pub mod analytics;
pub mod audit;
pub mod companies;
pub mod contacts;
pub mod customer;
pub mod deal;
pub mod error;
pub mod events;
pub mod exchange;
pub mod fields;
pub mod insights;
pub mod integrations;
pub mod leads;
pub mod pipeline;
pub mod ports;
pub mod products;
pub mod records;
pub mod rest;
pub mod service;
pub mod settings;
pub mod tasks;
pub mod territories;
pub mod webhooks;
pub mod workspace;

pub use error::{CrmError, Result};
pub use service::{CrmPorts, CrmService};
