//! The OpenAPI document (utoipa) and Swagger UI.

use crate::routes::callcenter::{ai, callers, calls, chats, files, knowledge, reports, twilio};
use crate::routes::management::{auth as cims_auth, catalog, crm as cims_crm};
use crate::routes::v1::{activities, analytics, auth as v1_auth, customers, deals};
use crate::routes::{auth, health, system_users};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Every documented route, one tag per surface.
#[derive(OpenApi)]
#[openapi(
    info(title = "CRM and AI call-center backend", description = "One backend for the CRM v1, CRM REST, call-center and management frontends. Tokens from any sign-in work on every surface."),
    paths(
        health::health, health::core_health,
        v1_auth::login, v1_auth::logout, v1_auth::refresh,
        customers::list, customers::get, customers::create, customers::update, customers::delete,
        deals::list, deals::get, deals::create, deals::update, deals::delete,
        activities::list, activities::get, activities::create, activities::delete,
        analytics::dashboard, analytics::sales, analytics::period,
        catalog::list_statuses, catalog::create_status, catalog::update_status, catalog::patch_status, catalog::delete_status,
        catalog::list_roles, catalog::create_role, catalog::update_role, catalog::patch_role, catalog::delete_role,
        catalog::get_permissions, catalog::set_permissions,
        cims_auth::login, cims_auth::refresh, cims_auth::me, cims_crm::conversion_rate,
        cims_crm::sales_managers, cims_crm::assign, cims_crm::customer_manager,
        knowledge::list_qa, knowledge::create_qa, knowledge::get_qa, knowledge::update_qa, knowledge::delete_qa,
        knowledge::list_topics, knowledge::create_topic, knowledge::get_topic, knowledge::delete_topic,
        callers::list, callers::get, callers::create, callers::update, callers::get_context, callers::put_context,
        twilio::token,
        calls::list, calls::get, calls::voip_list, calls::start, calls::delete_history, calls::twilio_status,
        chats::list, chats::get, ai::close_chat, ai::chat, ai::stream, ai::call_start, ai::call_transcript, ai::call_end,
        reports::dashboard, reports::statistics, reports::analytics,
        files::upload, files::list, files::download, files::delete,
        auth::login, auth::login_slash, auth::refresh, auth::register, auth::profile, auth::change_password,
        system_users::list, system_users::create, system_users::get, system_users::replace, system_users::patch, system_users::deactivate,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and database health"),
        (name = "crm-v1", description = "CRM API v1 (`crm-api-v1.md`): `{success,data}` envelope; errors `{success:false,error:{code,message,details}}`"),
        (name = "crm-rest", description = "CRM REST API (`crm-rest-api.md`): lists `{count,next,previous,results}`; errors `{error:{type,message,timestamp,status_code,details}}`"),
        (name = "callcenter", description = "AI call center (`callcenter-*.md`): bare objects; errors `{error,message,code,details}`"),
        (name = "management", description = "Management (`management-update.md`): errors `{detail}`"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}
