//! Uploaded knowledge documents over sea-orm (bytes in the database, so every replica
//! serves every file).

use crate::entity::documents;
use crate::error::db;
use crate::repo::journal::{self, Change};
use crate::repo::{begin_write, like_pattern};
use async_trait::async_trait;
use callcenter_core::Result;
use callcenter_core::document::{Document, NewDocument};
use callcenter_core::ports::DocumentRepository;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

/// [`DocumentRepository`] over `documents`.
#[derive(Clone)]
pub struct SqlDocuments {
    db: DatabaseConnection,
}

impl SqlDocuments {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlDocuments { db }
    }
}

type Row = (i64, String, String, i64, DateTime<Utc>);

fn to_document((id, name, content_type, bytes, created_at): Row) -> Document {
    Document { id, name, content_type, bytes, created_at }
}

/// Everything but the bytes.
fn meta() -> sea_orm::Select<documents::Entity> {
    use documents::Column as C;
    documents::Entity::find().select_only().columns([C::Id, C::Name, C::ContentType, C::Bytes, C::CreatedAt])
}

#[async_trait]
impl DocumentRepository for SqlDocuments {
    async fn insert(&self, d: NewDocument) -> Result<Document> {
        let model = documents::ActiveModel {
            name: Set(d.name),
            content_type: Set(d.content_type),
            bytes: Set(d.data.len() as i64),
            data: Set(d.data),
            text: Set(d.text),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = model.insert(&txn).await.map_err(db)?;
        let shown = serde_json::json!({"id": stored.id, "name": stored.name, "content_type": stored.content_type, "bytes": stored.bytes});
        journal::record(&txn, Change::audit("document", stored.id, "created").with_values(None, Some(shown))).await?;
        txn.commit().await.map_err(db)?;
        Ok(to_document((stored.id, stored.name, stored.content_type, stored.bytes, stored.created_at)))
    }

    async fn list(&self) -> Result<Vec<Document>> {
        let rows: Vec<Row> = meta()
            .order_by_desc(documents::Column::CreatedAt)
            .order_by_desc(documents::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(rows.into_iter().map(to_document).collect())
    }

    async fn get(&self, id: i64) -> Result<Option<(Document, Vec<u8>)>> {
        let row = documents::Entity::find_by_id(id).one(&self.db).await.map_err(db)?;
        Ok(row.map(|m| (to_document((m.id, m.name, m.content_type, m.bytes, m.created_at)), m.data)))
    }

    async fn delete(&self, id: i64) -> Result<bool> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let found: Option<Row> =
            meta().filter(documents::Column::Id.eq(id)).into_tuple().one(&txn).await.map_err(db)?;
        let Some(row) = found else { return Ok(false) };
        let gone = serde_json::json!({"id": row.0, "name": row.1, "content_type": row.2, "bytes": row.3});
        journal::record(&txn, Change::audit("document", id, "deleted").with_values(Some(gone), None)).await?;
        let deleted = documents::Entity::delete_by_id(id).exec(&txn).await.map_err(db)?.rows_affected > 0;
        txn.commit().await.map_err(db)?;
        Ok(deleted)
    }

    async fn matching(&self, terms: Vec<String>, limit: u64) -> Result<Vec<(String, String)>> {
        use documents::Column as C;
        let any = terms.iter().fold(Condition::any(), |c, t| {
            c.add(Expr::expr(Func::lower(Expr::col(C::Text))).like(LikeExpr::new(like_pattern(t)).escape('\\')))
        });
        let rows: Vec<(String, Option<String>)> = documents::Entity::find()
            .select_only()
            .columns([C::Name, C::Text])
            .filter(C::Text.is_not_null())
            .filter(any)
            .order_by_desc(C::CreatedAt)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(rows.into_iter().map(|(name, text)| (name, text.unwrap_or_default())).collect())
    }
}
