//! The call-center knowledge base (Q&A, topics) over sea-orm.

use crate::entity::{qa_entries, topics};
use crate::error::{db, is_unique_violation};
use crate::repo::journal;
use crate::repo::listing::{live_row_locked, purge_journaled};
use crate::repo::{begin_write, contains};
use async_trait::async_trait;
use callcenter_core::knowledge::{Qa, Topic};
use callcenter_core::ports::{QaRepository, TopicRepository};
use callcenter_core::search::KnowledgeVersion;
use callcenter_core::{CallcenterError, Result};
use chrono::DateTime;
use chrono::Utc;
use kernel::{Page, PageRequest};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// [`QaRepository`] and [`TopicRepository`] over `qa_entries` and `topics`.
#[derive(Clone)]
pub struct SqlKnowledge {
    db: DatabaseConnection,
}

impl SqlKnowledge {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlKnowledge { db }
    }
}

fn to_qa(m: qa_entries::Model) -> Qa {
    Qa { id: m.id, title: m.title, answer: m.answer, created_at: m.created_at, updated_at: m.updated_at }
}

pub(crate) fn qa_search_text(title: &str, answer: &str) -> String {
    format!("{title} {answer}").to_lowercase()
}

#[async_trait]
impl QaRepository for SqlKnowledge {
    async fn list(&self, search: Option<String>, page: PageRequest) -> Result<Page<Qa>> {
        let mut query = qa_entries::Entity::find();
        if let Some(search) = search {
            query = query.filter(contains(qa_entries::Column::SearchText, &search));
        }
        let total = query.clone().count(&self.db).await.map_err(db)?;
        let rows = query
            .order_by_desc(qa_entries::Column::CreatedAt)
            .order_by_desc(qa_entries::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(Page { items: rows.into_iter().map(to_qa).collect(), total, request: page })
    }

    async fn get(&self, id: i64) -> Result<Option<Qa>> {
        Ok(qa_entries::Entity::find_by_id(id).one(&self.db).await.map_err(db)?.map(to_qa))
    }

    async fn all(&self) -> Result<Vec<Qa>> {
        let rows = qa_entries::Entity::find().order_by_asc(qa_entries::Column::Id).all(&self.db).await.map_err(db)?;
        Ok(rows.into_iter().map(to_qa).collect())
    }

    async fn version(&self) -> Result<KnowledgeVersion> {
        use qa_entries::Column as C;
        let (count, max_id, last): (i64, Option<i64>, Option<DateTime<Utc>>) = qa_entries::Entity::find()
            .select_only()
            .column_as(C::Id.count(), "n")
            .column_as(C::Id.max(), "max_id")
            .column_as(C::UpdatedAt.max(), "last")
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(db)?
            .unwrap_or_default();
        Ok(KnowledgeVersion {
            count: count as u64,
            max_id: max_id.unwrap_or(0),
            last_change: last.map_or(0, |t| t.timestamp_micros()),
        })
    }

    async fn insert(&self, title: String, answer: String) -> Result<Qa> {
        let now = Utc::now();
        let model = qa_entries::ActiveModel {
            search_text: Set(qa_search_text(&title, &answer)),
            title: Set(title),
            answer: Set(answer),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = model.insert(&txn).await.map_err(db)?;
        journal::write::<qa_entries::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(to_qa(stored))
    }

    async fn update(&self, id: i64, title: Option<String>, answer: Option<String>) -> Result<Option<Qa>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = live_row_locked::<qa_entries::Entity, _>(&txn, id).await? else { return Ok(None) };
        let title = title.unwrap_or_else(|| current.title.clone());
        let answer = answer.unwrap_or_else(|| current.answer.clone());
        let mut model: qa_entries::ActiveModel = current.clone().into();
        model.search_text = Set(qa_search_text(&title, &answer));
        model.title = Set(title);
        model.answer = Set(answer);
        model.updated_at = Set(Utc::now());
        let stored = model.update(&txn).await.map_err(db)?;
        journal::write::<qa_entries::Entity, _>(&txn, "updated", Some(current), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(Some(to_qa(stored)))
    }

    async fn delete(&self, id: i64) -> Result<bool> {
        purge_journaled::<qa_entries::Entity>(&self.db, id).await
    }
}

#[async_trait]
impl TopicRepository for SqlKnowledge {
    async fn list(&self) -> Result<Vec<Topic>> {
        let rows = topics::Entity::find().order_by_asc(topics::Column::NameKey).all(&self.db).await.map_err(db)?;
        Ok(rows.into_iter().map(|t| Topic { id: t.id, name: t.name }).collect())
    }

    async fn get(&self, id: i64) -> Result<Option<Topic>> {
        Ok(topics::Entity::find_by_id(id).one(&self.db).await.map_err(db)?.map(|t| Topic { id: t.id, name: t.name }))
    }

    async fn insert(&self, name: String) -> Result<Topic> {
        let model = topics::ActiveModel {
            name_key: Set(name.to_lowercase()),
            name: Set(name.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = model.insert(&txn).await.map_err(|e| {
            if is_unique_violation(&e) {
                CallcenterError::Conflict(format!("A topic named '{name}' already exists."))
            } else {
                db(e)
            }
        })?;
        journal::write::<topics::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(Topic { id: stored.id, name: stored.name })
    }

    async fn delete(&self, id: i64) -> Result<bool> {
        purge_journaled::<topics::Entity>(&self.db, id).await
    }

    async fn find_or_create(&self, name: String) -> Result<Topic> {
        let by_key = || topics::Entity::find().filter(topics::Column::NameKey.eq(name.to_lowercase())).one(&self.db);
        if let Some(t) = by_key().await.map_err(db)? {
            return Ok(Topic { id: t.id, name: t.name });
        }
        match TopicRepository::insert(self, name.clone()).await {
            // Created meanwhile by a concurrent request.
            Err(CallcenterError::Conflict(_)) => by_key()
                .await
                .map_err(db)?
                .map(|t| Topic { id: t.id, name: t.name })
                .ok_or_else(|| db(sea_orm::DbErr::RecordNotFound(name))),
            other => other,
        }
    }
}

journal::journaled_as_stored!(qa_entries::Entity, "qa", hide: ["search_text"]);
journal::journaled_as_stored!(topics::Entity, "topic", hide: ["name_key"]);
