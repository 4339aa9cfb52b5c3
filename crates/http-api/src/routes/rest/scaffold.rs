//! The one REST resource scaffold: a resource is its path, its record's JSON, its input, and
//! where its use cases are; the scaffold gives it the routes every resource of the surface has
//! (list, create, get, replace, change, delete, restore; with and without the trailing slash),
//! Django REST framework's pages, and their OpenAPI operations.

use super::body::RestBody;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::pagination::RestPage;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use crm_core::records::{Records, Resource};
use kernel::{FilterKind, ListSpec, Page};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

/// The record of a resource.
pub type RecordOf<T> = <<T as RestResource>::R as Resource>::Record;

/// A resource of the REST surface.
pub trait RestResource: 'static {
    type R: Resource;
    /// The record's JSON.
    type Dto: Serialize + ToSchema + 'static;
    /// The request body: its schema is what is published and what the body is checked against.
    type Body: DeserializeOwned + ToSchema + Default + 'static;
    /// The collection path, with its trailing slash (`/api/territories/territories/`).
    const PATH: &'static str;
    /// The OpenAPI tag of its resource group.
    const TAG: &'static str;
    /// Prefix of its operation ids (`rest_territories`).
    const ID: &'static str;
    /// Where its use cases are.
    fn records(state: &AppState) -> &Records<Self::R>;
    fn dto(record: RecordOf<Self>) -> Self::Dto;
    /// Its input, from a checked body.
    fn input(body: Self::Body) -> <Self::R as Resource>::Input;
}

/// A path with and without its trailing slash: both answer the same (no redirect that
/// would drop a POST body).
pub fn both(path: &str) -> [String; 2] {
    [path.to_string(), path.trim_end_matches('/').to_string()]
}

/// Mounts the routes of `T`.
pub fn mount<T: RestResource>(cfg: &mut web::ServiceConfig) {
    let base = T::PATH;
    cfg.service(web::resource(both(base)).route(web::get().to(list::<T>)).route(web::post().to(create::<T>)))
        .service(
            web::resource(both(&format!("{base}{{id}}/")))
                .route(web::get().to(get::<T>))
                .route(web::put().to(replace::<T>))
                .route(web::patch().to(change::<T>))
                .route(web::delete().to(delete::<T>)),
        )
        .service(web::resource(both(&format!("{base}{{id}}/restore/"))).route(web::post().to(restore::<T>)));
}

/// A page in Django REST framework's shape; a page past the end is a 404, as DRF answers.
pub fn rest_page<D: Serialize, R>(
    req: &HttpRequest,
    page: Page<R>,
    dto: impl FnMut(R) -> D,
) -> ApiResult<HttpResponse> {
    if page.request.page > 1 && page.request.page > page.total_pages() {
        return Err(ApiError::not_found("Invalid page."));
    }
    Ok(HttpResponse::Ok().json(RestPage::new(req, page.map(dto))))
}

/// The query string as `(name, value)` pairs.
pub fn query_pairs(req: &HttpRequest) -> ApiResult<Vec<(String, String)>> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|e| ApiError::validation(format!("Invalid query string: {e}")))
}

async fn list<T: RestResource>(req: HttpRequest, auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let query = T::R::LIST.parse(&query_pairs(&req)?)?;
    let page = T::records(&state).list(&auth.0, &query).await?;
    rest_page(&req, page, T::dto)
}

async fn create<T: RestResource>(auth: Auth, state: web::Data<AppState>, body: RestBody) -> ApiResult<HttpResponse> {
    T::records(&state).may_write(&auth.0)?;
    let input = T::input(body.read()?);
    let record = T::records(&state).create(&auth.0, input).await?;
    Ok(HttpResponse::Created().json(T::dto(record)))
}

async fn get<T: RestResource>(auth: Auth, state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let record = T::records(&state).get(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(T::dto(record)))
}

async fn update<T: RestResource>(
    auth: Auth,
    state: web::Data<AppState>,
    id: i64,
    body: RestBody,
    replace: bool,
) -> ApiResult<HttpResponse> {
    T::records(&state).may_write(&auth.0)?;
    let input = T::input(body.read()?);
    let record = T::records(&state).update(&auth.0, id, input, replace).await?;
    Ok(HttpResponse::Ok().json(T::dto(record)))
}

async fn replace<T: RestResource>(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: RestBody,
) -> ApiResult<HttpResponse> {
    update::<T>(auth, state, id.into_inner(), body, true).await
}

async fn change<T: RestResource>(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: RestBody,
) -> ApiResult<HttpResponse> {
    update::<T>(auth, state, id.into_inner(), body, false).await
}

async fn delete<T: RestResource>(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    T::records(&state).delete(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn restore<T: RestResource>(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let record = T::records(&state).restore(&auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(T::dto(record)))
}

// ---- The OpenAPI operations of a resource ----

/// The schema of `S` and every schema it refers to, added to `schemas`; a `$ref` to it.
pub fn schema_ref<S: ToSchema>(schemas: &mut Map<String, Value>) -> Value {
    let mut nested = Vec::new();
    S::schemas(&mut nested);
    for (name, schema) in nested {
        schemas.insert(name, serde_json::to_value(schema).unwrap_or_default());
    }
    schemas.insert(S::name().into_owned(), serde_json::to_value(S::schema()).unwrap_or_default());
    json!({"$ref": format!("#/components/schemas/{}", S::name())})
}

/// The schema of `S` with no field required (a `PATCH` body), added to `schemas` as
/// `<S>Patch`; a `$ref` to it.
pub fn partial_ref<S: ToSchema>(schemas: &mut Map<String, Value>) -> Value {
    schema_ref::<S>(schemas);
    let name = format!("{}Patch", S::name());
    let mut partial = schemas.get(S::name().as_ref()).cloned().unwrap_or_default();
    if let Some(object) = partial.as_object_mut() {
        object.remove("required");
    }
    schemas.insert(name.clone(), partial);
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A query parameter's schema; a blank value counts as absent, as Django REST framework
/// treats it.
pub fn blank_or(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "string", "maxLength": 0}]})
}

/// The query parameters of a list as the spec accepts them.
pub fn list_parameters(spec: &ListSpec) -> Vec<Value> {
    let mut ordering: Vec<String> = spec.ordering.iter().map(|o| o.to_string()).collect();
    ordering.extend(spec.ordering.iter().map(|o| format!("-{o}")));
    let mut params = vec![
        json!({"name": "page", "in": "query", "required": false, "description": "Page number, from 1",
               "schema": blank_or(json!({"type": "integer", "minimum": 1, "maximum": kernel::listing::MAX_PAGE}))}),
        json!({"name": "page_size", "in": "query", "required": false, "description": "Items per page (default 20)",
               "schema": blank_or(json!({"type": "integer", "minimum": 1, "maximum": kernel::listing::MAX_PAGE_SIZE}))}),
        json!({"name": "ordering", "in": "query", "required": false, "description": "A field, `-field` for descending (default newest first)",
               "schema": blank_or(json!({"type": "string", "enum": ordering}))}),
        json!({"name": "created_after", "in": "query", "required": false, "description": "`YYYY-MM-DD` or ISO 8601: created at or after",
               "schema": {"type": "string"}}),
        json!({"name": "created_before", "in": "query", "required": false, "description": "`YYYY-MM-DD` (that whole day included) or ISO 8601: created before",
               "schema": {"type": "string"}}),
    ];
    if !spec.search.is_empty() {
        params.push(json!({"name": "search", "in": "query", "required": false,
            "description": format!("Case-insensitive substring of {}", spec.search), "schema": {"type": "string"}}));
    }
    for f in spec.filters {
        let schema = match f.kind {
            FilterKind::Id => blank_or(json!({"type": "integer", "minimum": 1})),
            FilterKind::Bool => blank_or(json!({"type": "boolean"})),
            FilterKind::Choice(choices) => blank_or(json!({"type": "string", "enum": choices})),
            FilterKind::Text | FilterKind::Instant => json!({"type": "string"}),
        };
        params
            .push(json!({"name": f.name, "in": "query", "required": false, "description": f.about, "schema": schema}));
    }
    params
}

/// The path of an action on one record of `T` (`…/{id}/complete/`).
pub fn action_path<T: RestResource>(action: &str) -> String {
    format!("{}{{id}}/{action}/", T::PATH)
}

/// Documents `POST …/{id}/<action>/` of `T`: a body of `B`, answering `ok` (by default the
/// record, see [`record_answer`]).
pub fn document_action<T: RestResource, B: ToSchema>(
    paths: &mut Map<String, Value>,
    schemas: &mut Map<String, Value>,
    action: &str,
    summary: &str,
    ok: Value,
) {
    let body = schema_ref::<B>(schemas);
    let id = format!("{}_{}", T::ID, action.replace('-', "_"));
    paths.insert(
        action_path::<T>(action),
        json!({"post": operation(T::TAG, &id, summary, vec![id_parameter()], Some(request_body(&body)), ("200", ok))}),
    );
}

/// A 200 answer of the record of `T`.
pub fn record_answer<T: RestResource>(schemas: &mut Map<String, Value>, description: &str) -> Value {
    answer(description, Some(&schema_ref::<T::Dto>(schemas)))
}

fn id_parameter() -> Value {
    json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}})
}

/// A JSON or form request body of `schema`.
pub fn request_body(schema: &Value) -> Value {
    json!({"required": true, "content": {
        "application/json": {"schema": schema},
        "application/x-www-form-urlencoded": {"schema": schema}}})
}

fn answer(description: &str, schema: Option<&Value>) -> Value {
    match schema {
        Some(s) => json!({"description": description, "content": {"application/json": {"schema": s}}}),
        None => json!({"description": description}),
    }
}

/// An operation of the REST surface (security, tag, id, and what it answers).
pub fn operation(
    tag: &str,
    id: &str,
    summary: &str,
    parameters: Vec<Value>,
    body: Option<Value>,
    ok: (&str, Value),
) -> Value {
    let mut op = json!({
        "tags": [tag], "operationId": id, "summary": summary, "security": [{"bearer": []}],
        "parameters": parameters,
        "responses": {ok.0: ok.1},
    });
    if let Some(b) = body {
        op["requestBody"] = b;
    }
    op
}

/// Adds the operations of `T` to `paths` and its schemas to `schemas`.
pub fn document<T: RestResource>(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let record = schema_ref::<T::Dto>(schemas);
    let input = schema_ref::<T::Body>(schemas);
    let partial = partial_ref::<T::Body>(schemas);
    let page = json!({"type": "object", "required": ["count", "next", "previous", "results"], "properties": {
        "count": {"type": "integer"},
        "next": {"type": ["string", "null"], "description": "Absolute link to the next page"},
        "previous": {"type": ["string", "null"]},
        "results": {"type": "array", "items": record}}});
    let name = T::R::NAME;
    let (tag, id) = (T::TAG, T::ID);
    paths.insert(
        T::PATH.to_string(),
        json!({
            "get": operation(tag, &format!("{id}_list"), &format!("List {name} records"), list_parameters(&T::R::LIST), None, ("200", answer("A page", Some(&page)))),
            "post": operation(tag, &format!("{id}_create"), &format!("Create a {name}"), vec![], Some(request_body(&input)), ("201", answer("Created", Some(&record)))),
        }),
    );
    let one = |verb: &str, summary: String, body: Option<&Value>, ok: (&str, Value)| {
        operation(tag, &format!("{id}_{verb}"), &summary, vec![id_parameter()], body.map(request_body), ok)
    };
    paths.insert(
        format!("{}{{id}}/", T::PATH),
        json!({
            "get": one("get", format!("A {name}"), None, ("200", answer("The record", Some(&record)))),
            "put": one("replace", format!("Replace a {name} (required fields required)"), Some(&input), ("200", answer("Updated", Some(&record)))),
            "patch": one("change", format!("Change a {name} (only what is sent)"), Some(&partial), ("200", answer("Updated", Some(&record)))),
            "delete": one("delete", format!("Delete a {name} (soft: restore brings it back)"), None, ("204", answer("Deleted", None))),
        }),
    );
    paths.insert(
        format!("{}{{id}}/restore/", T::PATH),
        json!({"post": one("restore", format!("Restore a deleted {name} (`crm.delete`)"), None, ("200", answer("Restored", Some(&record))))}),
    );
}
