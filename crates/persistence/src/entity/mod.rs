//! sea-orm entities, one module per table.

pub mod activities;
pub mod callers;
pub mod calls;
pub mod chat_messages;
pub mod chats;
pub mod customer_statuses;
pub mod customers;
pub mod deals;
pub mod documents;
pub mod events;
pub mod login_attempts;
pub mod product_categories;
pub mod products;
pub mod qa_entries;
pub mod refresh_tokens;
pub mod revoked_tokens;
pub mod role_permissions;
pub mod roles;
pub mod sales_manager_assignments;
pub mod sales_manager_counter;
pub mod sessions;
pub mod tasks;
pub mod territories;
pub mod topics;
pub mod users;
