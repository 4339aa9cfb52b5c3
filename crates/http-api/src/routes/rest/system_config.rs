//! `/api/system-config/settings/`: system settings (staff users are `routes::system_users`).

use super::scaffold::{RestResource, mount};
use crate::iso;
use crate::state::AppState;
use actix_web::web;
use crm_core::records::Records;
use crm_core::settings::{Setting, SettingInput, Settings};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A setting.
#[derive(Serialize, ToSchema)]
pub struct SettingDto {
    pub id: i64,
    pub key: String,
    /// Any JSON value.
    pub value: Value,
    pub description: Option<String>,
    /// Whether every signed-in user may read it (otherwise `settings.manage` only).
    pub is_public: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of a setting (writing needs `settings.manage`).
#[derive(Deserialize, ToSchema, Default)]
pub struct SettingBody {
    /// Unique among live settings: lower-case letters, digits, `_` and `.`.
    #[schema(
        example = "billing.currency",
        max_length = 100,
        pattern = "^[a-z0-9_.]+$",
        nullable = false,
        required = true
    )]
    pub key: Option<Option<String>>,
    /// Any JSON value, at most 64 KB as JSON. `rate_limit.anonymous_per_hour`,
    /// `rate_limit.authenticated_per_hour`, `rate_limit.admin_per_hour` and `voice.budget_ms` are
    /// integers the server reads at run time (docs/operations.md).
    #[schema(example = json!("UZS"), required = true)]
    pub value: Option<Option<Value>>,
    pub description: Option<Option<String>>,
    /// Default false.
    pub is_public: Option<Option<bool>>,
}

/// The setting resource.
pub struct SettingResource;

impl RestResource for SettingResource {
    type R = Settings;
    type Dto = SettingDto;
    type Body = SettingBody;
    const PATH: &'static str = "/api/system-config/settings/";
    const TAG: &'static str = "crm-rest: system-config";
    const ID: &'static str = "rest_settings";

    fn records(state: &AppState) -> &Records<Settings> {
        &state.rest.settings
    }

    fn dto(s: Setting) -> SettingDto {
        SettingDto {
            id: s.id,
            key: s.key,
            value: s.value,
            description: s.description,
            is_public: s.is_public,
            created_at: iso(s.created_at),
            updated_at: iso(s.updated_at),
        }
    }

    fn input(b: Self::Body) -> SettingInput {
        SettingInput { key: b.key, value: b.value, description: b.description, is_public: b.is_public }
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    mount::<SettingResource>(cfg);
}

pub fn document(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    super::scaffold::document::<SettingResource>(paths, schemas);
}
