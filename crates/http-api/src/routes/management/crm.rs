//! `/crm/*`: sales managers, lead assignment and lead conversion.

use crate::error::ApiResult;
use crate::extract::Auth;
use crate::iso;
use crate::state::AppState;
use crate::typed_body::Typed;
use actix_web::{HttpResponse, web};
use management_core::assignment::{Assignment, SalesManager};
use serde::Serialize;
use utoipa::ToSchema;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/crm/conversion-rate").route(web::get().to(conversion_rate)))
        .service(web::resource("/crm/sales-managers").route(web::get().to(sales_managers)))
        .service(web::resource("/crm/assign-sales-manager").route(web::post().to(assign)))
        .service(web::resource("/crm/customer/{customer_id}/sales-manager").route(web::get().to(customer_manager)));
}

/// An active sales manager.
#[derive(Serialize, ToSchema)]
pub struct SalesManagerDto {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub surname: String,
    /// Customers currently assigned.
    pub assigned_leads_count: u64,
}

impl From<SalesManager> for SalesManagerDto {
    fn from(m: SalesManager) -> Self {
        SalesManagerDto {
            id: m.id,
            email: m.email,
            name: m.name,
            surname: m.surname,
            assigned_leads_count: m.assigned_leads_count,
        }
    }
}

#[utoipa::path(operation_id = "mgmt_crm_sales_managers", get, path = "/crm/sales-managers", tag = "management", security(("bearer" = [])),
    responses((status = 200, body = [SalesManagerDto], description = "Active users with role sales_manager, by id"), (status = 401, description = "`{detail}`")))]
pub async fn sales_managers(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let managers = state.assignments.sales_managers(&auth.0).await?;
    Ok(HttpResponse::Ok().json(managers.into_iter().map(SalesManagerDto::from).collect::<Vec<_>>()))
}

/// `{customer_id, sales_manager_id}`.
#[derive(serde::Deserialize, ToSchema, Default)]
pub struct AssignBody {
    #[schema(minimum = 1, required = true, nullable = false)]
    pub customer_id: Option<Option<i64>>,
    #[schema(minimum = 1, required = true, nullable = false)]
    pub sales_manager_id: Option<Option<i64>>,
}

/// An assignment.
#[derive(Serialize, ToSchema)]
pub struct AssignmentDto {
    pub id: i64,
    pub customer_id: i64,
    pub sales_manager_id: i64,
    pub assigned_at: String,
    /// Who assigned by hand (`null` for the automatic rotation).
    pub assigned_by: Option<i64>,
    pub is_active: bool,
}

impl From<Assignment> for AssignmentDto {
    fn from(a: Assignment) -> Self {
        AssignmentDto {
            id: a.id,
            customer_id: a.customer_id,
            sales_manager_id: a.sales_manager_id,
            assigned_at: iso(a.assigned_at),
            assigned_by: a.assigned_by,
            is_active: a.is_active,
        }
    }
}

#[utoipa::path(operation_id = "mgmt_crm_assign", post, path = "/crm/assign-sales-manager", tag = "management", request_body = AssignBody, security(("bearer" = [])),
    responses(
        (status = 200, body = AssignmentDto, description = "The new active assignment; the previous one is kept as history"),
        (status = 403, description = "assignments.manage needed (ceo, admin)"),
        (status = 404, description = "No such customer, or the user is not an active sales manager"),
    ))]
pub async fn assign(auth: Auth, state: web::Data<AppState>, body: Typed<AssignBody>) -> ApiResult<HttpResponse> {
    let required = |id: Option<Option<i64>>, f: &str| {
        id.flatten().ok_or_else(|| crate::error::ApiError::field(f, format!("{f} is required.")))
    };
    let b = body.0;
    let (customer_id, manager_id) =
        (required(b.customer_id, "customer_id")?, required(b.sales_manager_id, "sales_manager_id")?);
    let assignment = state.assignments.assign(&auth.0, customer_id, manager_id).await?;
    Ok(HttpResponse::Ok().json(AssignmentDto::from(assignment)))
}

/// The manager embedded in a customer's assignment.
#[derive(Serialize, ToSchema)]
pub struct ManagerRef {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub surname: String,
}

/// A customer's current sales manager.
#[derive(Serialize, ToSchema)]
pub struct CustomerManager {
    pub assignment_id: i64,
    pub customer_id: i64,
    pub sales_manager: ManagerRef,
    pub assigned_at: String,
    pub assigned_by: Option<i64>,
}

#[utoipa::path(operation_id = "mgmt_crm_customer_manager", get, path = "/crm/customer/{customer_id}/sales-manager", tag = "management", params(("customer_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Success", body = CustomerManager), (status = 404, description = "No such customer, or none assigned")))]
pub async fn customer_manager(
    auth: Auth,
    state: web::Data<AppState>,
    customer_id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let c = state.assignments.current(&auth.0, customer_id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(CustomerManager {
        assignment_id: c.assignment.id,
        customer_id: c.assignment.customer_id,
        sales_manager: ManagerRef {
            id: c.manager.id,
            email: c.manager.email,
            name: c.manager.name,
            surname: c.manager.surname,
        },
        assigned_at: iso(c.assignment.assigned_at),
        assigned_by: c.assignment.assigned_by,
    }))
}

/// Conversion of the most recent leads.
#[derive(Serialize, ToSchema)]
pub struct ConversionRate {
    /// Leads considered: the 100 most recently created customers (fewer if there are fewer).
    pub total_customers: u64,
    /// Of those, customers whose status is `project_started`.
    pub project_started_count: u64,
    /// Percent, two decimals.
    #[schema(example = 23.0)]
    pub conversion_rate: f64,
    /// `Oxirgi N ta lead` ("the last N leads").
    #[schema(example = "Oxirgi 100 ta lead")]
    pub period: String,
}

#[utoipa::path(operation_id = "mgmt_crm_conversion_rate", get, path = "/crm/conversion-rate", tag = "management", security(("bearer" = [])),
    description = "conversion_rate = project_started_count / total_customers × 100 over the 100 most recently created customers; zeros when there are none.",
    responses((status = 200, description = "Success", body = ConversionRate), (status = 401, description = "`{detail}`"), (status = 403, description = "analytics.read needed")))]
pub async fn conversion_rate(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let c = state.crm.lead_conversion(&auth.0).await?;
    Ok(HttpResponse::Ok().json(ConversionRate {
        total_customers: c.total,
        project_started_count: c.converted,
        conversion_rate: c.rate,
        period: format!("Oxirgi {} ta lead", c.total),
    }))
}
