//! `/api/v1/deals`.

use super::{Pagination, enum_filter, iso_opt, page_request, v1_created, v1_message, v1_ok};
use crate::error::ApiResult;
use crate::extract::Auth;
use crate::iso;
use crate::state::AppState;
use crate::typed_body::Typed;
use actix_web::{HttpResponse, web};
use crm_core::deal::{CustomerRef, DealFilter, DealPatch, DealStatus, DealView, NewDeal};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/deals").route(web::get().to(list)).route(web::post().to(create))).service(
        web::resource("/api/v1/deals/{id}")
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete)),
    );
}

/// The customer embedded in a deal.
#[derive(Serialize, ToSchema)]
pub struct DealCustomer {
    pub id: i64,
    pub name: String,
    pub company: String,
}

impl From<CustomerRef> for DealCustomer {
    fn from(c: CustomerRef) -> Self {
        DealCustomer { id: c.id, name: c.name, company: c.company.unwrap_or_default() }
    }
}

/// A deal in the v1 shape.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V1Deal {
    pub id: i64,
    pub title: String,
    pub description: String,
    /// Two decimal places.
    #[schema(example = 1500.5)]
    pub value: f64,
    /// `new`, `in_progress`, `completed` or `cancelled`.
    pub status: &'static str,
    pub customer_id: i64,
    pub customer: Option<DealCustomer>,
    /// When the deal was completed (null otherwise).
    pub closed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<DealView> for V1Deal {
    fn from(v: DealView) -> Self {
        let d = v.deal;
        V1Deal {
            id: d.id,
            title: d.title,
            description: d.description.unwrap_or_default(),
            value: crate::money(d.value),
            status: d.status.as_str(),
            customer_id: d.customer_id,
            customer: v.customer.map(Into::into),
            closed_at: iso_opt(d.closed_at),
            created_at: iso(d.created_at),
            updated_at: iso(d.updated_at),
        }
    }
}

/// `data` of a deal list.
#[derive(Serialize, ToSchema)]
pub struct DealList {
    pub deals: Vec<V1Deal>,
    pub pagination: Pagination,
}

/// `data` of one deal.
#[derive(Serialize, ToSchema)]
pub struct DealData {
    pub deal: V1Deal,
}

/// List filters.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    pub page: Option<u64>,
    /// 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `new`, `in_progress`, `completed` or `cancelled`; any other value matches nothing.
    pub status: Option<String>,
    pub customer_id: Option<i64>,
}

/// A new deal.
#[derive(Deserialize, ToSchema, Default)]
#[schema(as = V1NewDealBody)]
#[serde(rename_all = "camelCase")]
pub struct NewDealBody {
    /// Not blank.
    #[schema(pattern = "\\S", required = true, nullable = false)]
    pub title: Option<Option<String>>,
    pub description: Option<Option<String>>,
    /// A number (or numeric string) with at most two decimals, not negative; null is none.
    #[schema(value_type = Option<f64>, example = 1500.5)]
    pub value: Option<Option<Decimal>>,
    /// Default `new`; `completed` records the close time.
    #[schema(nullable = false, pattern = "^\\s*(new|in_progress|completed|cancelled)\\s*$")]
    pub status: Option<Option<String>>,
    /// An existing customer.
    #[schema(minimum = 1, required = true, nullable = false)]
    pub customer_id: Option<Option<i64>>,
}

/// A change of a deal: absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[schema(as = V1DealChangeBody)]
#[serde(rename_all = "camelCase")]
pub struct DealChangeBody {
    /// Not blank.
    #[schema(pattern = "\\S", nullable = false)]
    pub title: Option<Option<String>>,
    /// Null clears it.
    pub description: Option<Option<String>>,
    /// A number (or numeric string) with at most two decimals, not negative; null keeps it.
    #[schema(value_type = Option<f64>, example = 1500.5)]
    pub value: Option<Option<Decimal>>,
    /// Moving to `completed` records the close time.
    #[schema(nullable = false, pattern = "^\\s*(new|in_progress|completed|cancelled)\\s*$")]
    pub status: Option<Option<String>>,
    /// An existing customer.
    #[schema(minimum = 1, nullable = false)]
    pub customer_id: Option<Option<i64>>,
}

#[utoipa::path(operation_id = "v1_deals_list", get, path = "/api/v1/deals", tag = "crm-v1", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "`{success:true, data: DealList}`, newest first", body = DealList), (status = 400, description = "VALIDATION_ERROR")))]
pub async fn list(auth: Auth, state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = page_request(q.page, q.limit)?;
    let (status, matches_nothing) = enum_filter(q.status.as_deref(), DealStatus::parse);
    let filter = DealFilter { status, customer_id: q.customer_id, matches_nothing };
    let result = state.crm.list_deals(&auth.0, &filter, page).await?;
    let pagination = Pagination::of(&result);
    Ok(v1_ok(DealList { deals: result.items.into_iter().map(Into::into).collect(), pagination }))
}

#[utoipa::path(operation_id = "v1_deals_get", get, path = "/api/v1/deals/{id}", tag = "crm-v1", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Success", body = DealData), (status = 404, description = "NOT_FOUND")))]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let deal = state.crm.get_deal(&auth.0, id.into_inner()).await?;
    Ok(v1_ok(DealData { deal: deal.into() }))
}

#[utoipa::path(operation_id = "v1_deals_create", post, path = "/api/v1/deals", tag = "crm-v1", request_body = NewDealBody, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = DealData),
        (status = 400, description = "VALIDATION_ERROR: title, value, status, or a customerId that names no customer"),
    ))]
pub async fn create(auth: Auth, state: web::Data<AppState>, body: Typed<NewDealBody>) -> ApiResult<HttpResponse> {
    let b = body.0;
    let new = NewDeal {
        title: b.title.flatten(),
        description: b.description.flatten(),
        value: b.value.flatten(),
        status: b.status.flatten(),
        customer_id: b.customer_id.flatten(),
    };
    let deal = state.crm.create_deal(&auth.0, new).await?;
    Ok(v1_created(DealData { deal: deal.into() }))
}

#[utoipa::path(operation_id = "v1_deals_update", put, path = "/api/v1/deals/{id}", tag = "crm-v1", params(("id" = i64, Path)), request_body = DealChangeBody, security(("bearer" = [])),
    responses((status = 200, description = "Success", body = DealData), (status = 400, description = "VALIDATION_ERROR"), (status = 404, description = "NOT_FOUND")))]
pub async fn update(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Typed<DealChangeBody>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let patch = DealPatch {
        title: b.title.flatten(),
        description: b.description,
        value: b.value.flatten(),
        status: b.status.flatten(),
        customer_id: b.customer_id.flatten(),
    };
    let deal = state.crm.update_deal(&auth.0, id.into_inner(), patch).await?;
    Ok(v1_ok(DealData { deal: deal.into() }))
}

#[utoipa::path(operation_id = "v1_deals_delete", delete, path = "/api/v1/deals/{id}", tag = "crm-v1", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "`{success:true, message:\"Deal deleted successfully\"}`"), (status = 404, description = "NOT_FOUND")))]
pub async fn delete(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    state.crm.delete_deal(&auth.0, id.into_inner()).await?;
    Ok(v1_message("Deal deleted successfully"))
}
