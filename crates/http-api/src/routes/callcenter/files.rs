//! `/api/voip/file`: knowledge documents (txt, md, pdf, docx, csv, json) for the assistant.

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, UploadLimit};
use crate::multipart::{is_multipart, read_fields};
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::header::{CONTENT_TYPE, ContentDisposition};
use actix_web::{HttpRequest, HttpResponse, web};
use callcenter_core::document::{ACCEPTED, Document};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/voip/file").route(web::get().to(list)).route(web::post().to(upload)))
        .service(web::resource("/api/voip/file/{id}").route(web::get().to(download)).route(web::delete().to(delete)));
}

/// A stored document.
#[derive(Serialize, ToSchema)]
pub struct FileDto {
    pub id: i64,
    pub name: String,
    /// Size in bytes.
    pub bytes: i64,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<Document> for FileDto {
    fn from(d: Document) -> Self {
        FileDto { id: d.id, name: d.name, bytes: d.bytes, created_at: d.created_at.timestamp() }
    }
}

/// The multipart upload form.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The document.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[utoipa::path(operation_id = "cc_files_upload", post, path = "/api/voip/file", tag = "callcenter", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "`{message, fileId}`"),
        (status = 400, description = "No `file` field, no name, or empty"),
        (status = 403, description = "callcenter.write needed"),
        (status = 413, description = "Larger than UPLOAD_MAX_BYTES (default 20 MB)"),
        (status = 415, description = "Not multipart, or not txt, md, pdf, docx, csv or json by content"),
    ))]
pub async fn upload(
    auth: Auth,
    req: HttpRequest,
    state: web::Data<AppState>,
    limit: web::Data<UploadLimit>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    if !is_multipart(&req) {
        return Err(ApiError::unsupported(format!(
            "Send the document as multipart/form-data in the field 'file' ({ACCEPTED})."
        )));
    }
    let fields = read_fields(Multipart::new(req.headers(), payload), limit.0, &["file"]).await?;
    let file =
        fields.into_iter().next().ok_or_else(|| ApiError::field("file", "The multipart field 'file' is required."))?;
    let name = file.file_name.unwrap_or_default();
    let document = state.callcenter.upload_document(&auth.0, &name, file.data).await?;
    Ok(HttpResponse::Created().json(json!({"message": "File uploaded", "fileId": document.id})))
}

#[utoipa::path(operation_id = "cc_files_list", get, path = "/api/voip/file", tag = "callcenter", security(("bearer" = [])),
    responses((status = 200, description = "Newest first", body = [FileDto]), (status = 401, description = "Not signed in")))]
pub async fn list(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let documents = state.callcenter.documents(&auth.0).await?;
    Ok(HttpResponse::Ok().json(documents.into_iter().map(FileDto::from).collect::<Vec<_>>()))
}

#[utoipa::path(operation_id = "cc_files_download", get, path = "/api/voip/file/{id}", tag = "callcenter", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The bytes, with their content type, as an attachment"), (status = 400, description = "Non-numeric id"), (status = 404, description = "No such file")))]
pub async fn download(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let (document, data) = state.callcenter.document(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, document.content_type))
        .insert_header(ContentDisposition::attachment(document.name))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(data))
}

#[utoipa::path(operation_id = "cc_files_delete", delete, path = "/api/voip/file/{id}", tag = "callcenter", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "`{message}`"), (status = 403, description = "Supervisors, admins and the CEO delete"), (status = 404, description = "No such file")))]
pub async fn delete(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    state.callcenter.delete_document(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "File deleted"})))
}
