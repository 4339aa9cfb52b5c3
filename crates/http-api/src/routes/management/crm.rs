//! `/crm/*`: lead conversion (sales-manager assignment is part of the same contract).

use crate::error::ApiResult;
use crate::extract::Auth;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/crm/conversion-rate").route(web::get().to(conversion_rate)));
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

#[utoipa::path(get, path = "/crm/conversion-rate", tag = "management", security(("bearer" = [])),
    description = "conversion_rate = project_started_count / total_customers × 100 over the 100 most recently created customers; zeros when there are none.",
    responses((status = 200, body = ConversionRate), (status = 401, description = "`{detail}`"), (status = 403, description = "analytics.read needed")))]
pub async fn conversion_rate(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let c = state.crm.lead_conversion(&auth.0).await?;
    Ok(HttpResponse::Ok().json(ConversionRate {
        total_customers: c.total,
        project_started_count: c.converted,
        conversion_rate: c.rate,
        period: format!("Oxirgi {} ta lead", c.total),
    }))
}
