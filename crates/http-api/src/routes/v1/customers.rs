//! `/api/v1/customers`.

use super::{Pagination, page_request, v1_created, v1_message, v1_ok};
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::iso;
use crate::state::AppState;
use crate::typed_body::Typed;
use actix_web::{HttpResponse, web};
use crm_core::customer::{Customer, CustomerFilter, CustomerPatch, NewCustomer, SortOrder};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/customers").route(web::get().to(list)).route(web::post().to(create))).service(
        web::resource("/api/v1/customers/{id}")
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete)),
    );
}

/// A customer in the v1 shape; absent texts are empty strings.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V1Customer {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// E.164, e.g. `+998901234567`.
    pub phone: String,
    pub company: String,
    /// The v1 group of the customer's catalog status: `active`, `potential` or `waiting`.
    #[schema(example = "potential")]
    pub status: &'static str,
    pub value: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Customer> for V1Customer {
    fn from(c: Customer) -> Self {
        V1Customer {
            id: c.id,
            name: c.name,
            email: c.email.unwrap_or_default(),
            phone: c.phone.unwrap_or_default(),
            company: c.company.unwrap_or_default(),
            status: c.status_group.as_str(),
            value: c.value.unwrap_or_default(),
            created_at: iso(c.created_at),
            updated_at: iso(c.updated_at),
        }
    }
}

/// `data` of a customer list.
#[derive(Serialize, ToSchema)]
pub struct CustomerList {
    pub customers: Vec<V1Customer>,
    pub pagination: Pagination,
}

/// `data` of one customer.
#[derive(Serialize, ToSchema)]
pub struct CustomerData {
    pub customer: V1Customer,
}

/// List filters.
#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Page number from 1 (default 1).
    pub page: Option<u64>,
    /// Items per page, 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// Case-insensitive substring of name, e-mail, phone or company.
    pub search: Option<String>,
    /// `active`, `potential` or `waiting` (every catalog status of that group), or a catalog
    /// status name; any other value matches nothing.
    pub status: Option<String>,
    /// `name`, `email`, `company`, `status`, `createdAt`, `updatedAt`; prefix `-` for descending. Default `-createdAt`.
    pub sort: Option<String>,
}

/// A new customer.
#[derive(Deserialize, ToSchema, Default)]
#[schema(as = V1NewCustomerBody)]
pub struct NewCustomerBody {
    #[schema(example = "Acme LLC", pattern = "\\S", required = true, nullable = false)]
    pub name: Option<Option<String>>,
    #[schema(example = "info@acme.uz")]
    pub email: Option<Option<String>>,
    /// Any common format; stored as E.164 (a bare Uzbek number gets +998).
    #[schema(example = "+998901234567")]
    pub phone: Option<Option<String>>,
    pub company: Option<Option<String>>,
    /// An active catalog status; default `potential` (also when null or empty).
    #[schema(example = "potential")]
    pub status: Option<Option<String>>,
    /// Free-form estimated value (a string; numbers are accepted).
    #[schema(schema_with = crate::openapi::string_or_number, example = "5000000")]
    pub value: Option<Option<Value>>,
}

/// A change of a customer: absent fields stay as they are and `null` clears them.
#[derive(Deserialize, ToSchema, Default)]
#[schema(as = V1CustomerChangeBody)]
pub struct CustomerChangeBody {
    #[schema(example = "Acme LLC", pattern = "\\S", nullable = false)]
    pub name: Option<Option<String>>,
    #[schema(example = "info@acme.uz")]
    pub email: Option<Option<String>>,
    #[schema(example = "+998901234567")]
    pub phone: Option<Option<String>>,
    pub company: Option<Option<String>>,
    /// An active catalog status.
    #[schema(example = "active", pattern = "\\S", nullable = false)]
    pub status: Option<Option<String>>,
    /// Free-form estimated value (a string; numbers are accepted).
    #[schema(schema_with = crate::openapi::string_or_number, example = "5000000")]
    pub value: Option<Option<Value>>,
}

/// The estimated value as text: a string, or a number written out.
fn value_text(value: Option<Option<Value>>) -> ApiResult<Option<Option<String>>> {
    Ok(match value {
        None => None,
        Some(None) => Some(None),
        Some(Some(Value::String(s))) => Some(Some(s)),
        Some(Some(Value::Number(n))) => Some(Some(n.to_string())),
        Some(Some(_)) => return Err(ApiError::field("value", "value must be a string or a number.")),
    })
}

#[utoipa::path(operation_id = "v1_customers_list", get, path = "/api/v1/customers", tag = "crm-v1", params(ListQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "`{success:true, data: CustomerList}`, newest first", body = CustomerList),
        (status = 400, description = "VALIDATION_ERROR: bad page, limit or sort"),
        (status = 401, description = "UNAUTHORIZED"), (status = 403, description = "FORBIDDEN"),
    ))]
pub async fn list(auth: Auth, state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = page_request(q.page, q.limit)?;
    let sort =
        q.sort.as_deref().filter(|s| !s.trim().is_empty()).map(SortOrder::parse).transpose()?.unwrap_or_default();
    let status = q.status.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let filter = CustomerFilter { search: q.search, status, sort };
    let result = state.crm.list_customers(&auth.0, &filter, page).await?;
    let pagination = Pagination::of(&result);
    Ok(v1_ok(CustomerList { customers: result.items.into_iter().map(Into::into).collect(), pagination }))
}

#[utoipa::path(operation_id = "v1_customers_get", get, path = "/api/v1/customers/{id}", tag = "crm-v1", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Success", body = CustomerData), (status = 400, description = "Non-numeric id"), (status = 404, description = "NOT_FOUND")))]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let customer = state.crm.get_customer(&auth.0, id.into_inner()).await?;
    Ok(v1_ok(CustomerData { customer: customer.into() }))
}

#[utoipa::path(operation_id = "v1_customers_create", post, path = "/api/v1/customers", tag = "crm-v1", request_body = NewCustomerBody, security(("bearer" = [])),
    responses(
        (status = 201, description = "`{success:true, data:{customer}}`", body = CustomerData),
        (status = 400, description = "VALIDATION_ERROR with per-field details (name required, e-mail, phone, status)"),
        (status = 409, description = "CONFLICT: another customer has this e-mail"),
    ))]
pub async fn create(auth: Auth, state: web::Data<AppState>, body: Typed<NewCustomerBody>) -> ApiResult<HttpResponse> {
    let b = body.0;
    let new = NewCustomer {
        name: b.name.flatten(),
        email: b.email.flatten(),
        phone: b.phone.flatten(),
        company: b.company.flatten(),
        status: b.status.flatten(),
        value: value_text(b.value)?.flatten(),
    };
    let customer = state.crm.create_customer(&auth.0, new).await?;
    Ok(v1_created(CustomerData { customer: customer.into() }))
}

#[utoipa::path(operation_id = "v1_customers_update", put, path = "/api/v1/customers/{id}", tag = "crm-v1", params(("id" = i64, Path)), request_body = CustomerChangeBody, security(("bearer" = [])),
    responses(
        (status = 200, description = "Success", body = CustomerData),
        (status = 400, description = "VALIDATION_ERROR"), (status = 404, description = "NOT_FOUND"),
        (status = 409, description = "CONFLICT: another customer has this e-mail"),
    ))]
pub async fn update(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Typed<CustomerChangeBody>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let patch = CustomerPatch {
        name: b.name.flatten(),
        email: b.email,
        phone: b.phone,
        company: b.company,
        status: b.status.flatten(),
        value: value_text(b.value)?,
    };
    let customer = state.crm.update_customer(&auth.0, id.into_inner(), patch).await?;
    Ok(v1_ok(CustomerData { customer: customer.into() }))
}

#[utoipa::path(operation_id = "v1_customers_delete", delete, path = "/api/v1/customers/{id}", tag = "crm-v1", params(("id" = i64, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "`{success:true, message:\"Customer deleted successfully\"}`; its deals and activities are hidden too"),
        (status = 404, description = "NOT_FOUND"),
    ))]
pub async fn delete(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    state.crm.delete_customer(&auth.0, id.into_inner()).await?;
    Ok(v1_message("Customer deleted successfully"))
}
