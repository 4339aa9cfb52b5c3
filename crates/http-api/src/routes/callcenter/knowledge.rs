//! `/api/qa` and `/api/topics`: the knowledge base.

use super::{array, list_page};
use crate::error::ApiResult;
use crate::extract::Auth;
use crate::iso;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use callcenter_core::knowledge::{Qa, QaInput, Topic};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/qa").route(web::get().to(list_qa)).route(web::post().to(create_qa)))
        .service(
            web::resource("/api/qa/{id}")
                .route(web::get().to(get_qa))
                .route(web::put().to(update_qa))
                .route(web::delete().to(delete_qa)),
        )
        .service(web::resource("/api/topics").route(web::get().to(list_topics)).route(web::post().to(create_topic)))
        .service(
            web::resource("/api/topics/{id}").route(web::get().to(get_topic)).route(web::delete().to(delete_topic)),
        );
}

/// A question with its answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QaDto {
    pub id: i64,
    pub title: String,
    pub answer: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Qa> for QaDto {
    fn from(q: Qa) -> Self {
        QaDto {
            id: q.id,
            title: q.title,
            answer: q.answer,
            created_at: iso(q.created_at),
            updated_at: iso(q.updated_at),
        }
    }
}

/// `title` and `answer`; on PUT either may be left out.
#[derive(Deserialize, ToSchema)]
pub struct QaBody {
    /// Required on POST; not blank, at most 500 characters.
    #[schema(pattern = "\\S")]
    pub title: Option<String>,
    /// Required on POST; not blank, at most 20,000 characters.
    #[schema(pattern = "\\S")]
    pub answer: Option<String>,
}

/// Search and paging of the Q&A list.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct QaQuery {
    /// Case-insensitive substring of title or answer.
    pub search: Option<String>,
    pub page: Option<u64>,
    /// 1 to 1000 (default 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub page_size: Option<u64>,
}

#[utoipa::path(operation_id = "cc_qa_list", get, path = "/api/qa", tag = "callcenter", params(QaQuery), security(("bearer" = [])),
    responses((status = 200, description = "Newest first; the total is in `X-Total-Count`", body = [QaDto]), (status = 401, description = "Not signed in"), (status = 403, description = "callcenter.read needed")))]
pub async fn list_qa(auth: Auth, state: web::Data<AppState>, q: web::Query<QaQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = state.callcenter.list_qa(&auth.0, q.search, list_page(q.page, q.page_size)?).await?;
    Ok(array(page, QaDto::from))
}

#[utoipa::path(operation_id = "cc_qa_create", post, path = "/api/qa", tag = "callcenter", request_body = QaBody, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = QaDto), (status = 400, description = "title and answer are required")))]
pub async fn create_qa(auth: Auth, state: web::Data<AppState>, body: web::Json<QaBody>) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let qa = state.callcenter.create_qa(&auth.0, QaInput { title: b.title, answer: b.answer }).await?;
    Ok(HttpResponse::Created().json(QaDto::from(qa)))
}

#[utoipa::path(operation_id = "cc_qa_get", get, path = "/api/qa/{id}", tag = "callcenter", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Success", body = QaDto), (status = 400, description = "Non-numeric id"), (status = 404, description = "No such entry")))]
pub async fn get_qa(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(QaDto::from(state.callcenter.get_qa(&auth.0, id.into_inner()).await?)))
}

#[utoipa::path(operation_id = "cc_qa_update", put, path = "/api/qa/{id}", tag = "callcenter", params(("id" = i64, Path)), request_body = QaBody, security(("bearer" = [])),
    responses((status = 200, description = "Success", body = QaDto), (status = 400, description = "Empty fields or nothing to change"), (status = 404, description = "No such entry")))]
pub async fn update_qa(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<QaBody>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let qa = state.callcenter.update_qa(&auth.0, id.into_inner(), QaInput { title: b.title, answer: b.answer }).await?;
    Ok(HttpResponse::Ok().json(QaDto::from(qa)))
}

#[utoipa::path(operation_id = "cc_qa_delete", delete, path = "/api/qa/{id}", tag = "callcenter", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "`{message}`"), (status = 403, description = "Supervisors, admins and the CEO delete"), (status = 404, description = "No such entry")))]
pub async fn delete_qa(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    state.callcenter.delete_qa(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "QA deleted"})))
}

/// A topic.
#[derive(Serialize, ToSchema)]
pub struct TopicDto {
    pub id: i64,
    pub name: String,
}

impl From<Topic> for TopicDto {
    fn from(t: Topic) -> Self {
        TopicDto { id: t.id, name: t.name }
    }
}

/// `{name}`.
#[derive(Deserialize, ToSchema)]
pub struct TopicBody {
    /// Trimmed; not blank.
    #[schema(value_type = String, pattern = "\\S")]
    pub name: Option<String>,
}

#[utoipa::path(operation_id = "cc_topics_list", get, path = "/api/topics", tag = "callcenter", security(("bearer" = [])),
    responses((status = 200, description = "By name", body = [TopicDto]), (status = 401, description = "Not signed in")))]
pub async fn list_topics(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let topics = state.callcenter.topics(&auth.0).await?;
    Ok(HttpResponse::Ok().json(topics.into_iter().map(TopicDto::from).collect::<Vec<_>>()))
}

#[utoipa::path(operation_id = "cc_topics_create", post, path = "/api/topics", tag = "callcenter", request_body = TopicBody, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = TopicDto), (status = 400, description = "Missing name"), (status = 409, description = "A topic with this name (any case) exists")))]
pub async fn create_topic(
    auth: Auth,
    state: web::Data<AppState>,
    body: web::Json<TopicBody>,
) -> ApiResult<HttpResponse> {
    let topic = state.callcenter.create_topic(&auth.0, body.into_inner().name).await?;
    Ok(HttpResponse::Created().json(TopicDto::from(topic)))
}

#[utoipa::path(operation_id = "cc_topics_get", get, path = "/api/topics/{id}", tag = "callcenter", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "Success", body = TopicDto), (status = 404, description = "No such topic")))]
pub async fn get_topic(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(TopicDto::from(state.callcenter.get_topic(&auth.0, id.into_inner()).await?)))
}

#[utoipa::path(operation_id = "cc_topics_delete", delete, path = "/api/topics/{id}", tag = "callcenter", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "`{message}`"), (status = 403, description = "Supervisors, admins and the CEO delete"), (status = 404, description = "No such topic")))]
pub async fn delete_topic(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    state.callcenter.delete_topic(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "Topic deleted"})))
}
