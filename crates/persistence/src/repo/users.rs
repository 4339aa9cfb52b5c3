//! Staff users over sea-orm.

use crate::entity::users;
use crate::error::{conflict_if_unique, db};
use crate::repo::journal::{self, Change};
use crate::repo::{begin_write, like_pattern, lock_for_update};
use async_trait::async_trait;
use chrono::Utc;
use kernel::{Page, PageRequest};
use management_core::Result;
use management_core::ports::{UpdateOutcome, UserFilter, UserRepository};
use management_core::user::{User, UserChanges, UserCredentials, UserDraft};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// Advisory-lock key serialising changes that could remove the last holder of a role.
const USER_ROLE_LOCK: i64 = 0x5553_4552;

/// [`UserRepository`] over the `users` table.
#[derive(Clone)]
pub struct SqlUsers {
    db: DatabaseConnection,
}

impl SqlUsers {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlUsers { db }
    }
}

/// The domain view of a stored user.
pub fn to_user(m: users::Model) -> User {
    User {
        id: m.id,
        email: m.email,
        name: m.name,
        first_name: m.first_name,
        last_name: m.last_name,
        role: m.role,
        is_active: m.is_active,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

#[async_trait]
impl UserRepository for SqlUsers {
    async fn find_credentials(&self, email: &str) -> Result<Option<UserCredentials>> {
        let found = users::Entity::find().filter(users::Column::Email.eq(email)).one(&self.db).await.map_err(db)?;
        Ok(found.map(|m| {
            let password_hash = m.password_hash.clone();
            UserCredentials { user: to_user(m), password_hash }
        }))
    }

    async fn find_by_id(&self, id: i64) -> Result<Option<User>> {
        Ok(users::Entity::find_by_id(id).one(&self.db).await.map_err(db)?.map(to_user))
    }

    async fn list(&self, filter: &UserFilter, page: PageRequest) -> Result<Page<User>> {
        let mut cond = Condition::all();
        if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let pattern = like_pattern(search);
            let lower = |c: users::Column| Expr::expr(Func::lower(Expr::col(c)));
            cond = cond.add(
                Condition::any()
                    .add(lower(users::Column::Email).like(LikeExpr::new(pattern.as_str()).escape('\\')))
                    .add(lower(users::Column::Name).like(LikeExpr::new(pattern.as_str()).escape('\\'))),
            );
        }
        if let Some(role) = &filter.role {
            cond = cond.add(users::Column::Role.eq(role.as_str()));
        }
        if let Some(active) = filter.is_active {
            cond = cond.add(users::Column::IsActive.eq(active));
        }
        let query = users::Entity::find().filter(cond);
        let total = query.clone().count(&self.db).await.map_err(db)?;
        let items = query
            .order_by_asc(users::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await
            .map_err(db)?;
        Ok(Page { items: items.into_iter().map(to_user).collect(), total, request: page })
    }

    async fn insert(&self, draft: UserDraft) -> Result<User> {
        let now = Utc::now();
        let model = users::ActiveModel {
            email: Set(draft.email),
            password_hash: Set(draft.password_hash),
            name: Set(draft.name),
            first_name: Set(draft.first_name),
            last_name: Set(draft.last_name),
            role: Set(draft.role),
            is_active: Set(draft.is_active),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let txn = begin_write(&self.db).await.map_err(db)?;
        let stored = model.insert(&txn).await.map_err(conflict_if_unique("A user with this e-mail already exists."))?;
        journal::write::<users::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(to_user(stored))
    }

    async fn update(&self, id: i64, changes: UserChanges, protected_role: Option<String>) -> Result<UpdateOutcome> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        lock_for_update(&txn, USER_ROLE_LOCK).await.map_err(db)?;
        let Some(current) = users::Entity::find_by_id(id).one(&txn).await.map_err(db)? else {
            return Ok(UpdateOutcome::NotFound);
        };
        let mut model: users::ActiveModel = current.clone().into();
        let password_changed = changes.password_hash.is_some();
        if let Some(v) = changes.email {
            model.email = Set(v);
        }
        if let Some(v) = changes.password_hash {
            model.password_hash = Set(v);
        }
        if let Some(v) = changes.name {
            model.name = Set(v);
        }
        if let Some(v) = changes.first_name {
            model.first_name = Set(v);
        }
        if let Some(v) = changes.last_name {
            model.last_name = Set(v);
        }
        if let Some(v) = changes.role {
            model.role = Set(v);
        }
        if let Some(v) = changes.is_active {
            model.is_active = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let updated =
            model.update(&txn).await.map_err(conflict_if_unique("A user with this e-mail already exists."))?;
        if let Some(role) = protected_role {
            let holders = users::Entity::find()
                .filter(users::Column::Role.eq(role.as_str()))
                .filter(users::Column::IsActive.eq(true))
                .count(&txn)
                .await
                .map_err(db)?;
            if holders == 0 {
                txn.rollback().await.map_err(db)?;
                return Ok(UpdateOutcome::WouldOrphanRole);
            }
        }
        journal::write::<users::Entity, _>(&txn, "updated", Some(current), Some(updated.clone())).await?;
        if password_changed {
            journal::record(&txn, Change::audit("user", id, "password_changed")).await?;
        }
        txn.commit().await.map_err(db)?;
        Ok(UpdateOutcome::Updated(to_user(updated)))
    }

    async fn count(&self) -> Result<u64> {
        users::Entity::find().count(&self.db).await.map_err(db)
    }
}

journal::journaled_as_stored!(users::Entity, "user");
