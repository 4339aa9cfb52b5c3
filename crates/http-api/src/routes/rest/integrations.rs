//! `/api/integrations/`: integrations with outside services (and testing them), and outgoing
//! webhooks (subscriptions, their delivery history, manual redelivery and pings).

use super::scaffold::{RestResource, action_path, both, mount, operation, rest_page};
use crate::error::ApiResult;
use crate::extract::Auth;
use crate::iso;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use crm_core::integrations::{Integration, IntegrationInput, Integrations, TYPES};
use crm_core::records::Records;
use crm_core::webhooks::{Delivery, Webhook, WebhookInput, Webhooks};
use kernel::ListSpec;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

const TAG: &str = "crm-rest: integrations";

/// An integration (secret values masked).
#[derive(Serialize, ToSchema)]
pub struct IntegrationDto {
    pub id: i64,
    pub name: String,
    /// `twilio`, `llm`, `smtp`, `slack` or `custom`.
    pub integration_type: String,
    /// The configuration; values under keys named like `*secret*`, `*token*`, `*password*` or
    /// `*api_key*` are shown as `••••` and their last four characters.
    #[schema(value_type = Object)]
    pub config: Value,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of an integration (`integrations.manage`).
#[derive(Deserialize, ToSchema, Default)]
pub struct IntegrationBody {
    #[schema(example = "Production Twilio", max_length = 200, nullable = false, required = true)]
    pub name: Option<Option<String>>,
    #[schema(schema_with = integration_type, required = true)]
    pub integration_type: Option<Option<String>>,
    /// Checked per type. Secrets are write-only: send them in clear; a masked value sent back
    /// keeps the stored secret.
    #[schema(value_type = Object, example = json!({"base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini", "api_key": "sk-..."}), nullable = false, required = true)]
    pub config: Option<Option<Value>>,
    /// Default true. The active `twilio` and `llm` integrations are what the call center and the
    /// assistant use (the environment's settings otherwise).
    #[schema(nullable = false)]
    pub is_active: Option<Option<bool>>,
}

fn integration_type() -> Object {
    let about = "What `config` holds: `twilio` (`account_sid`, `auth_token`, optional `from_number`, \
        `api_key_sid`, `api_key_secret`, `twiml_app_sid`), `llm` (`base_url`, `model`, optional `api_key`), \
        `smtp` (`host`, `port`, optional `username`, `password`, `from_email`), `slack` (`webhook_url`) \
        or `custom` (any).";
    let mut schema = crate::openapi::choice(&TYPES, about);
    // The example body's `config` is an `llm` one.
    schema.examples = vec!["llm".into()];
    schema
}

/// The integration resource.
pub struct IntegrationResource;

impl RestResource for IntegrationResource {
    type R = Integrations;
    type Dto = IntegrationDto;
    type Body = IntegrationBody;
    const PATH: &'static str = "/api/integrations/integrations/";
    const TAG: &'static str = TAG;
    const ID: &'static str = "rest_integrations";

    fn records(state: &AppState) -> &Records<Integrations> {
        &state.rest.integrations
    }

    fn dto(i: Integration) -> IntegrationDto {
        IntegrationDto {
            id: i.id,
            name: i.name,
            integration_type: i.integration_type,
            config: i.config,
            is_active: i.is_active,
            created_at: iso(i.created_at),
            updated_at: iso(i.updated_at),
        }
    }

    fn input(b: Self::Body) -> IntegrationInput {
        IntegrationInput {
            name: b.name,
            integration_type: b.integration_type,
            config: b.config,
            is_active: b.is_active,
        }
    }
}

async fn test_integration(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let probe = state.rest.integration_tests.test(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"ok": probe.ok, "detail": probe.detail})))
}

/// A webhook.
#[derive(Serialize, ToSchema)]
pub struct WebhookDto {
    pub id: i64,
    pub name: String,
    pub url: String,
    /// Events subscribed to: `account.created`, `deal.*`, `*`, ...
    pub events: Vec<String>,
    pub is_active: bool,
    /// Signs every delivery; whole only in the answer that created the webhook, then
    /// `••••` and its last four characters.
    pub secret: String,
    pub created_at: String,
    pub updated_at: String,
    pub last_delivery_at: Option<String>,
    /// The HTTP status of the last attempt.
    pub last_status: Option<i32>,
    /// Dead deliveries in a row (20 deactivate the webhook).
    pub failure_count: i64,
}

/// Fields of a webhook (`integrations.manage`).
#[derive(Deserialize, ToSchema, Default)]
pub struct WebhookBody {
    #[schema(example = "ERP sync", max_length = 200, nullable = false, required = true)]
    pub name: Option<Option<String>>,
    /// `https://` (in production only https; never a loopback, private, link-local or metadata address).
    #[schema(example = "https://hooks.example.com/crm", nullable = false, required = true)]
    pub url: Option<Option<String>>,
    /// Event names, `<kind>.*`, or `*`; at least one.
    #[schema(example = json!(["account.created", "deal.*"]), min_items = 1, nullable = false, required = true)]
    pub events: Option<Option<Vec<String>>>,
    /// Default true.
    #[schema(nullable = false)]
    pub is_active: Option<Option<bool>>,
    /// 16 to 200 characters; drawn when left out.
    pub secret: Option<Option<String>>,
}

/// The webhook resource.
pub struct WebhookResource;

impl RestResource for WebhookResource {
    type R = Webhooks;
    type Dto = WebhookDto;
    type Body = WebhookBody;
    const PATH: &'static str = "/api/integrations/webhooks/";
    const TAG: &'static str = TAG;
    const ID: &'static str = "rest_webhooks";

    fn records(state: &AppState) -> &Records<Webhooks> {
        &state.rest.webhooks
    }

    fn dto(w: Webhook) -> WebhookDto {
        WebhookDto {
            id: w.id,
            secret: w.secret.shown(),
            name: w.name,
            url: w.url,
            events: w.events,
            is_active: w.is_active,
            created_at: iso(w.created_at),
            updated_at: iso(w.updated_at),
            last_delivery_at: w.last_delivery_at.map(iso),
            last_status: w.last_status,
            failure_count: w.failure_count,
        }
    }

    fn input(b: Self::Body) -> WebhookInput {
        WebhookInput { name: b.name, url: b.url, events: b.events, is_active: b.is_active, secret: b.secret }
    }
}

/// A delivery of a webhook.
#[derive(Serialize, ToSchema)]
pub struct DeliveryDto {
    pub id: i64,
    /// The event's id in the outbox (one per change; `X-Webhook-Id` is `whd_<delivery id>`).
    pub event_id: i64,
    pub event: String,
    /// `pending`, `sending`, `retrying`, `succeeded` or `dead`.
    pub status: String,
    pub attempts: i64,
    pub response_code: Option<i32>,
    pub response_ms: Option<i64>,
    pub last_error: Option<String>,
    /// When it is tried next (pending and retrying ones).
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

fn delivery_dto(d: Delivery) -> DeliveryDto {
    DeliveryDto {
        id: d.id,
        event_id: d.event_id,
        event: d.event,
        status: d.status.as_str().to_string(),
        attempts: d.attempts,
        response_code: d.response_code,
        response_ms: d.response_ms,
        last_error: d.last_error,
        next_attempt_at: d.next_attempt_at.map(iso),
        created_at: iso(d.created_at),
        delivered_at: d.delivered_at.map(iso),
    }
}

/// Only pages.
const PAGES: ListSpec = ListSpec { filters: &[], ordering: &["id"], default_ordering: ("id", true), search: "" };

async fn deliveries(
    req: HttpRequest,
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let page = PAGES.parse(&super::scaffold::query_pairs(&req)?)?.page;
    let found = state.rest.deliveries.list(&auth.0, id.into_inner(), page).await?;
    rest_page(&req, found, delivery_dto)
}

async fn redeliver(auth: Auth, state: web::Data<AppState>, ids: web::Path<(i64, i64)>) -> ApiResult<HttpResponse> {
    let (webhook, delivery) = ids.into_inner();
    let queued = state.rest.deliveries.redeliver(&auth.0, webhook, delivery).await?;
    Ok(HttpResponse::Accepted().json(delivery_dto(queued)))
}

async fn ping(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let queued = state.rest.deliveries.ping(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(delivery_dto(queued)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    mount::<IntegrationResource>(cfg);
    cfg.service(
        web::resource(both(&action_path::<IntegrationResource>("test"))).route(web::post().to(test_integration)),
    );
    mount::<WebhookResource>(cfg);
    let base = WebhookResource::PATH;
    cfg.service(web::resource(both(&format!("{base}{{id}}/deliveries/"))).route(web::get().to(deliveries)))
        .service(
            web::resource(both(&format!("{base}{{id}}/deliveries/{{delivery_id}}/redeliver/")))
                .route(web::post().to(redeliver)),
        )
        .service(web::resource(both(&action_path::<WebhookResource>("ping"))).route(web::post().to(ping)));
}

pub fn document(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    super::scaffold::document::<IntegrationResource>(paths, schemas);
    let probe = json!({"description": "`{ok, detail}`: what was checked and what came back (never a secret)",
        "content": {"application/json": {"schema": {"type": "object", "required": ["ok", "detail"],
            "properties": {"ok": {"type": "boolean"}, "detail": {"type": "string"}}}}}});
    paths.insert(
        action_path::<IntegrationResource>("test"),
        json!({"post": operation(TAG, "rest_integrations_test", "Check the integration against the real service (`integrations.manage`)",
            vec![json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}})], None, ("200", probe))}),
    );
    super::scaffold::document::<WebhookResource>(paths, schemas);
    let delivery = super::scaffold::schema_ref::<DeliveryDto>(schemas);
    let id = |name: &str| json!({"name": name, "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}});
    let mut params = vec![id("id")];
    params.extend(
        super::scaffold::list_parameters(&PAGES)
            .into_iter()
            .filter(|p| matches!(p["name"].as_str(), Some("page" | "page_size"))),
    );
    let page = json!({"type": "object", "properties": {"count": {"type": "integer"}, "next": {"type": ["string", "null"]},
        "previous": {"type": ["string", "null"]}, "results": {"type": "array", "items": delivery}}});
    let base = WebhookResource::PATH;
    paths.insert(
        format!("{base}{{id}}/deliveries/"),
        json!({"get": operation(TAG, "rest_webhooks_deliveries", "The webhook's deliveries, newest first (`integrations.manage`)", params, None,
            ("200", json!({"description": "A page", "content": {"application/json": {"schema": page}}})))}),
    );
    let accepted = json!({"description": "Queued", "content": {"application/json": {"schema": delivery}}});
    paths.insert(
        format!("{base}{{id}}/deliveries/{{delivery_id}}/redeliver/"),
        json!({"post": operation(TAG, "rest_webhooks_redeliver", "Send a delivery's event again, as a new delivery (`integrations.manage`)",
            vec![id("id"), id("delivery_id")], None, ("202", accepted.clone()))}),
    );
    paths.insert(
        action_path::<WebhookResource>("ping"),
        json!({"post": operation(TAG, "rest_webhooks_ping", "Send a `ping` event to the webhook now (`integrations.manage`; 409 when inactive)",
            vec![id("id")], None, ("202", accepted))}),
    );
}
