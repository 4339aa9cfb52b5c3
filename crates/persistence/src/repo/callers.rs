//! Callers over sea-orm, linked to the CRM customer with the same phone.

use crate::entity::{callers, customers};
use crate::error::{conflict_if_unique, db};
use crate::repo::journal::{self, Change};
use crate::repo::{begin_write, contains, random_id};
use async_trait::async_trait;
use callcenter_core::caller::{CALLER_PREFIX, Caller, CallerFields, phone_caller_id};
use callcenter_core::memory::{AiContext, MemoryChange};
use callcenter_core::ports::CallerRepository;
use callcenter_core::{CallcenterError, Result};
use chrono::Utc;
use kernel::{Page, PageRequest};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// [`CallerRepository`] over `callers`.
#[derive(Clone)]
pub struct SqlCallers {
    db: DatabaseConnection,
}

impl SqlCallers {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlCallers { db }
    }

    async fn insert_as(&self, id: String, f: CallerFields) -> Result<Caller> {
        let now = Utc::now();
        let customer_id = match &f.phone {
            Some(phone) => customer_with_phone(&self.db, phone).await?,
            None => None,
        };
        let mut model = callers::Model {
            id,
            full_name: f.full_name.unwrap_or_default(),
            customer_id,
            phone: f.phone,
            email: f.email.flatten(),
            region: f.region.flatten(),
            language: f.language.flatten(),
            search_text: String::new(),
            ai_context: "{}".into(),
            created_at: now,
            updated_at: now,
        };
        model.search_text = search_text(&model);
        let active: callers::ActiveModel = model.into();
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = callers::Entity::insert(active.reset_all())
            .exec_with_returning(&txn)
            .await
            .map_err(conflict_if_unique("A caller with this phone already exists."))?;
        journal::record(&txn, caller_change(&stored.id, "created", None, Some(&stored))).await?;
        txn.commit().await.map_err(db)?;
        Ok(to_caller(stored))
    }

    /// Whether no caller has the phone of `f`.
    async fn phone_is_free(&self, f: &CallerFields) -> Result<bool> {
        let taken = callers::Entity::find().filter(callers::Column::Phone.eq(f.phone.clone())).count(&self.db).await;
        Ok(taken.map_err(db)? == 0)
    }
}

fn to_caller(m: callers::Model) -> Caller {
    Caller {
        id: m.id,
        full_name: m.full_name,
        phone: m.phone,
        email: m.email,
        region: m.region,
        language: m.language,
        customer_id: m.customer_id,
        created_at: m.created_at,
    }
}

fn search_text(m: &callers::Model) -> String {
    let (phone, email) = (m.phone.as_deref().unwrap_or_default(), m.email.as_deref().unwrap_or_default());
    format!("{} {phone} {email}", m.full_name).to_lowercase()
}

/// A stored memory; unreadable JSON reads as empty.
pub fn context_from_json(json: &str) -> AiContext {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let list = |key: &str| -> Vec<String> {
        v[key].as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
    };
    AiContext {
        known_name: v["knownName"].as_str().map(str::to_string),
        personality_notes: list("personalityNotes"),
        conversation_history: list("conversationHistory"),
    }
}

pub fn context_to_json(c: &AiContext) -> String {
    serde_json::json!({
        "knownName": c.known_name,
        "personalityNotes": c.personality_notes,
        "conversationHistory": c.conversation_history,
    })
    .to_string()
}

/// The live CRM customer with this E.164 phone, if any.
async fn customer_with_phone<C: ConnectionTrait>(conn: &C, phone: &str) -> Result<Option<i64>> {
    customers::Entity::find()
        .select_only()
        .column(customers::Column::Id)
        .filter(customers::Column::Phone.eq(phone))
        .filter(customers::Column::DeletedAt.is_null())
        .order_by_asc(customers::Column::Id)
        .into_tuple()
        .one(conn)
        .await
        .map_err(db)
}

#[async_trait]
impl CallerRepository for SqlCallers {
    async fn list(&self, query: Option<String>, page: PageRequest) -> Result<Page<Caller>> {
        let mut q = callers::Entity::find();
        if let Some(query) = query {
            q = q.filter(contains(callers::Column::SearchText, &query));
        }
        let total = q.clone().count(&self.db).await.map_err(db)?;
        let rows = q
            .order_by_desc(callers::Column::CreatedAt)
            .order_by_desc(callers::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(Page { items: rows.into_iter().map(to_caller).collect(), total, request: page })
    }

    async fn get(&self, id: &str) -> Result<Option<Caller>> {
        Ok(callers::Entity::find_by_id(id.to_string()).one(&self.db).await.map_err(db)?.map(to_caller))
    }

    async fn find_by_phone(&self, phone: &str) -> Result<Option<Caller>> {
        let found = callers::Entity::find().filter(callers::Column::Phone.eq(phone)).one(&self.db).await;
        Ok(found.map_err(db)?.map(to_caller))
    }

    async fn insert(&self, f: CallerFields) -> Result<Caller> {
        let id = match f.phone.as_deref().map(phone_caller_id) {
            Some(id) if self.get(&id).await?.is_none() => id,
            _ => random_id(CALLER_PREFIX),
        };
        self.insert_as(id, f).await
    }

    async fn ensure(&self, id: &str, mut f: CallerFields) -> Result<Caller> {
        // A conflict is either the phone (another caller has it: store this one without it)
        // or the id (created meanwhile by a concurrent request: read it on the next round).
        for _ in 0..3 {
            if let Some(found) = self.get(id).await? {
                return Ok(found);
            }
            match self.insert_as(id.to_string(), f.clone()).await {
                Err(CallcenterError::Conflict(_)) => {
                    if f.phone.is_some() && !self.phone_is_free(&f).await? {
                        f.phone = None;
                    }
                }
                other => return other,
            }
        }
        Err(CallcenterError::Conflict(format!("Caller {id} could not be created; try again.")))
    }

    async fn find_or_create(&self, phone: &str, name: Option<String>) -> Result<Caller> {
        if let Some(found) = self.find_by_phone(phone).await? {
            return Ok(found);
        }
        let fields = CallerFields {
            full_name: Some(name.unwrap_or_else(|| phone.to_string())),
            phone: Some(phone.to_string()),
            ..CallerFields::default()
        };
        match self.insert(fields).await {
            // Created meanwhile by a concurrent request.
            Err(CallcenterError::Conflict(_)) => {
                self.find_by_phone(phone).await?.ok_or_else(|| db(sea_orm::DbErr::RecordNotFound(phone.into())))
            }
            other => other,
        }
    }

    async fn context(&self, id: &str) -> Result<Option<AiContext>> {
        let stored: Option<String> = callers::Entity::find_by_id(id.to_string())
            .select_only()
            .column(callers::Column::AiContext)
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(db)?;
        Ok(stored.map(|json| context_from_json(&json)))
    }

    async fn set_context(&self, id: &str, context: AiContext) -> Result<bool> {
        let done = callers::Entity::update_many()
            .col_expr(callers::Column::AiContext, Expr::value(context_to_json(&context)))
            .col_expr(callers::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(callers::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .map_err(db)?;
        Ok(done.rows_affected > 0)
    }

    async fn change_context(&self, id: &str, change: MemoryChange) -> Result<Option<AiContext>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored: Option<String> = callers::Entity::find_by_id(id.to_string())
            .select_only()
            .column(callers::Column::AiContext)
            .lock_exclusive()
            .into_tuple()
            .one(&txn)
            .await
            .map_err(db)?;
        let Some(json) = stored else { return Ok(None) };
        let mut context = context_from_json(&json);
        context.apply(&change);
        callers::Entity::update_many()
            .col_expr(callers::Column::AiContext, Expr::value(context_to_json(&context)))
            .col_expr(callers::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(callers::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(db)?;
        txn.commit().await.map_err(db)?;
        Ok(Some(context))
    }

    async fn update(&self, id: &str, f: CallerFields) -> Result<Option<Caller>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let found = callers::Entity::find_by_id(id.to_string()).lock_exclusive().one(&txn).await.map_err(db)?;
        let Some(current) = found else { return Ok(None) };
        let mut next = current.clone();
        if let Some(v) = f.full_name {
            next.full_name = v;
        }
        if let Some(v) = f.phone {
            next.customer_id = customer_with_phone(&txn, &v).await?;
            next.phone = Some(v);
        }
        if let Some(v) = f.email {
            next.email = v;
        }
        if let Some(v) = f.region {
            next.region = v;
        }
        if let Some(v) = f.language {
            next.language = v;
        }
        next.search_text = search_text(&next);
        next.updated_at = Utc::now();
        let active: callers::ActiveModel = next.into();
        let stored = active
            .reset_all()
            .update(&txn)
            .await
            .map_err(conflict_if_unique("A caller with this phone already exists."))?;
        journal::record(&txn, caller_change(id, "updated", Some(&current), Some(&stored))).await?;
        txn.commit().await.map_err(db)?;
        Ok(Some(to_caller(stored)))
    }
}

/// A caller's change for the trail (callers have text ids, so they are not [`journal::Journaled`]).
fn caller_change(
    id: &str,
    action: &'static str,
    before: Option<&callers::Model>,
    after: Option<&callers::Model>,
) -> Change {
    let shown = |m: &callers::Model| journal::stored(m, &["search_text"]);
    Change::audit("caller", id, action).with_values(before.map(shown), after.map(shown))
}
