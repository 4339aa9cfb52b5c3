//! `/api/v1/activities`.

use super::{Pagination, enum_filter, page_request, v1_created, v1_message, v1_ok};
use crate::error::ApiResult;
use crate::extract::Auth;
use crate::iso;
use crate::state::AppState;
use crate::typed_body::Typed;
use actix_web::{HttpResponse, web};
use crm_core::activity::{Activity, ActivityFilter, ActivityType, NewActivity};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/activities").route(web::get().to(list)).route(web::post().to(create)))
        .service(web::resource("/api/v1/activities/{id}").route(web::get().to(get)).route(web::delete().to(delete)));
}

/// The customer embedded in an activity.
#[derive(Serialize, ToSchema)]
pub struct ActivityCustomer {
    pub id: i64,
    pub name: String,
}

/// An activity in the v1 shape.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct V1Activity {
    pub id: i64,
    /// `call`, `email`, `meeting` or `deal`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub description: String,
    /// The customer (null for an activity about a lead alone, logged on the REST surface).
    pub customer_id: Option<i64>,
    pub customer: Option<ActivityCustomer>,
    pub created_at: String,
}

impl From<Activity> for V1Activity {
    fn from(a: Activity) -> Self {
        V1Activity {
            id: a.id,
            kind: a.kind.as_str(),
            description: a.description,
            customer_id: a.account.as_ref().map(|c| c.id),
            customer: a.account.map(|c| ActivityCustomer { id: c.id, name: c.name }),
            created_at: iso(a.created_at),
        }
    }
}

/// `data` of an activity list.
#[derive(Serialize, ToSchema)]
pub struct ActivityList {
    pub activities: Vec<V1Activity>,
    pub pagination: Pagination,
}

/// `data` of one activity.
#[derive(Serialize, ToSchema)]
pub struct ActivityData {
    pub activity: V1Activity,
}

/// List filters.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    pub page: Option<u64>,
    /// 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `call`, `email`, `meeting` or `deal`; any other value matches nothing.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    pub customer_id: Option<i64>,
}

/// A new activity.
#[derive(Deserialize, ToSchema, Default)]
#[schema(as = V1ActivityBody)]
#[serde(rename_all = "camelCase")]
pub struct ActivityBody {
    /// `call`, `email`, `meeting` or `deal` (any case).
    #[serde(rename = "type")]
    #[schema(
        pattern = "^\\s*([cC][aA][lL][lL]|[eE][mM][aA][iI][lL]|[mM][eE][eE][tT][iI][nN][gG]|[dD][eE][aA][lL])\\s*$",
        required = true,
        nullable = false
    )]
    pub kind: Option<Option<String>>,
    /// Not blank.
    #[schema(pattern = "\\S", required = true, nullable = false)]
    pub description: Option<Option<String>>,
    #[schema(minimum = 1, required = true, nullable = false)]
    pub customer_id: Option<Option<i64>>,
}

#[utoipa::path(operation_id = "v1_activities_list", get, path = "/api/v1/activities", tag = "crm-v1", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "`{success:true, data: ActivityList}`, newest first", body = ActivityList), (status = 400, description = "VALIDATION_ERROR")))]
pub async fn list(auth: Auth, state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = page_request(q.page, q.limit)?;
    let (kind, matches_nothing) = enum_filter(q.kind.as_deref(), ActivityType::parse);
    let filter = ActivityFilter { kind, customer_id: q.customer_id, matches_nothing };
    let result = state.crm.list_activities(&auth.0, &filter, page).await?;
    let pagination = Pagination::of(&result);
    Ok(v1_ok(ActivityList { activities: result.items.into_iter().map(Into::into).collect(), pagination }))
}

#[utoipa::path(operation_id = "v1_activities_get", get, path = "/api/v1/activities/{id}", tag = "crm-v1", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Success", body = ActivityData), (status = 404, description = "NOT_FOUND")))]
pub async fn get(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let activity = state.crm.get_activity(&auth.0, id.into_inner()).await?;
    Ok(v1_ok(ActivityData { activity: activity.into() }))
}

#[utoipa::path(operation_id = "v1_activities_create", post, path = "/api/v1/activities", tag = "crm-v1", request_body = ActivityBody, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = ActivityData), (status = 400, description = "VALIDATION_ERROR: type, description, customerId")))]
pub async fn create(auth: Auth, state: web::Data<AppState>, body: Typed<ActivityBody>) -> ApiResult<HttpResponse> {
    let b = body.0;
    let new = NewActivity {
        kind: b.kind.flatten(),
        description: b.description.flatten(),
        customer_id: b.customer_id.flatten(),
    };
    let activity = state.crm.create_activity(&auth.0, new).await?;
    Ok(v1_created(ActivityData { activity: activity.into() }))
}

#[utoipa::path(operation_id = "v1_activities_delete", delete, path = "/api/v1/activities/{id}", tag = "crm-v1", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "`{success:true, message:\"Activity deleted successfully\"}`"), (status = 404, description = "NOT_FOUND")))]
pub async fn delete(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    state.crm.delete_activity(&auth.0, id.into_inner()).await?;
    Ok(v1_message("Activity deleted successfully"))
}
