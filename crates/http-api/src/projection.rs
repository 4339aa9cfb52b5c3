//! The records as integrators receive them in webhook events and read them in the audit
//! trail: exactly the JSON each surface answers (the REST records, the call-center calls
//! and chats), from the same DTOs.

use crate::routes::callcenter::calls::CallDto;
use crate::routes::callcenter::chats::ChatDto;
use crate::routes::rest::activities::{EventResource, TaskResource};
use crate::routes::rest::crm::{AccountResource, ContactResource, LeadResource};
use crate::routes::rest::deals::DealResource;
use crate::routes::rest::scaffold::RestResource;
use serde::Serialize;
use serde_json::Value;

/// The JSON projections, for `persistence::repo::journal::set_render`.
pub struct Projections;

fn json(dto: impl Serialize) -> Value {
    serde_json::to_value(dto).unwrap_or(Value::Null)
}

impl Projections {
    pub fn account(a: &crm_core::accounts::Account) -> Value {
        json(AccountResource::dto(a.clone()))
    }
    pub fn contact(c: &crm_core::contacts::Contact) -> Value {
        json(ContactResource::dto(c.clone()))
    }
    pub fn lead(l: &crm_core::leads::Lead) -> Value {
        json(LeadResource::dto(l.clone()))
    }
    pub fn deal(d: &crm_core::deal::DealView) -> Value {
        json(DealResource::dto(d.clone()))
    }
    pub fn task(t: &crm_core::tasks::Task) -> Value {
        json(TaskResource::dto(t.clone()))
    }
    pub fn event(e: &crm_core::events::Event) -> Value {
        json(EventResource::dto(e.clone()))
    }
    pub fn call(c: &callcenter_core::call::Call) -> Value {
        json(CallDto::from(c.clone()))
    }
    pub fn chat(c: &callcenter_core::chat::Chat) -> Value {
        json(ChatDto::from(c.clone()))
    }
}
