//! Products and product categories over sea-orm.

use crate::entity::{product_categories as categories, products};
use crate::error::{conflict_if_unique, db};
use crate::repo::begin_write;
use crate::repo::deals::{from_cents, to_cents};
use crate::repo::journal;
use crate::repo::listing::{
    self, Listing, RefKind, check_references, duplicates, live, lookup, names_of, refuse_duplicates,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::fields::custom_fields_value;
use crm_core::products::{
    CYCLE, Categories, Category, CategoryChanges, CategoryDraft, Product, ProductChanges, ProductDraft, Products,
};
use crm_core::records::Store;
use crm_core::{CrmError, Result};
use kernel::{ListQuery, Page};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

/// [`Store`] of products and of their categories.
#[derive(Clone)]
pub struct SqlProducts {
    db: DatabaseConnection,
}

const PRODUCTS: Listing = Listing {
    columns: &[
        ("category", "category_id"),
        ("is_active", "is_active"),
        ("name", "name"),
        ("sku", "sku_key"),
        ("unit_price", "unit_price_cents"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    search: &["search_text"],
};

const CATEGORIES: Listing = Listing {
    columns: &[
        ("parent_category", "parent_id"),
        ("is_active", "is_active"),
        ("name", "name"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ],
    search: &["name", "description"],
};

fn search_text(name: &str, description: Option<&str>, sku: &str) -> String {
    format!("{name} {} {sku}", description.unwrap_or_default()).to_lowercase()
}

impl SqlProducts {
    pub fn new(db: DatabaseConnection) -> Self {
        SqlProducts { db }
    }

    async fn products(&self, rows: Vec<products::Model>) -> Result<Vec<Product>> {
        let categories = RefKind::categories(rows.iter().filter_map(|r| r.category_id));
        let owners = RefKind::users(rows.iter().filter_map(|r| r.owner_id));
        let [categories, owners] = names_of(&self.db, [categories, owners]).await?;
        Ok(rows
            .into_iter()
            .map(|m| Product {
                id: m.id,
                name: m.name,
                description: m.description,
                sku: m.sku,
                unit_price: from_cents(m.unit_price_cents),
                category: lookup(&categories, m.category_id),
                is_active: m.is_active,
                owner: lookup(&owners, m.owner_id),
                custom_fields: custom_fields_value(&m.custom_fields),
                created_at: m.created_at,
                updated_at: m.updated_at,
            })
            .collect())
    }

    async fn product(&self, id: i64) -> Result<Option<Product>> {
        let found = listing::live_row::<products::Entity, _>(&self.db, id).await?;
        Ok(self.products(found.into_iter().collect()).await?.pop())
    }

    async fn categories(&self, rows: Vec<categories::Model>) -> Result<Vec<Category>> {
        let [parents] = names_of(&self.db, [RefKind::categories(rows.iter().filter_map(|r| r.parent_id))]).await?;
        Ok(rows
            .into_iter()
            .map(|m| Category {
                id: m.id,
                name: m.name,
                description: m.description,
                parent_category: lookup(&parents, m.parent_id),
                is_active: m.is_active,
                created_at: m.created_at,
                updated_at: m.updated_at,
            })
            .collect())
    }

    async fn category(&self, id: i64) -> Result<Option<Category>> {
        let found = listing::live_row::<categories::Entity, _>(&self.db, id).await?;
        Ok(self.categories(found.into_iter().collect()).await?.pop())
    }
}

async fn check_sku<C: ConnectionTrait>(conn: &C, sku: &str, except: Option<i64>) -> Result<()> {
    refuse_duplicates(
        "SKU",
        duplicates(conn, "products", "product", "name", "sku_key", &sku.to_lowercase(), except).await?,
    )
}

#[async_trait]
impl Store<Products> for SqlProducts {
    async fn list(&self, query: &ListQuery) -> Result<Page<Product>> {
        let select = products::Entity::find().filter(live::<products::Entity>());
        let page = listing::page(&self.db, select, &PRODUCTS, query, None).await?;
        let (request, total) = (page.request, page.total);
        Ok(Page { items: self.products(page.items).await?, total, request })
    }

    async fn get(&self, id: i64) -> Result<Option<Product>> {
        self.product(id).await
    }

    async fn insert(&self, d: ProductDraft) -> Result<Product> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        check_references(
            &txn,
            &[("category", "product_categories", true, d.category_id), ("owner", "users", false, d.owner_id)],
        )
        .await?;
        check_sku(&txn, &d.sku, None).await?;
        let now = Utc::now();
        let stored = products::ActiveModel {
            search_text: Set(search_text(&d.name, d.description.as_deref(), &d.sku)),
            sku_key: Set(d.sku.to_lowercase()),
            name: Set(d.name),
            description: Set(d.description),
            sku: Set(d.sku),
            unit_price_cents: Set(to_cents(d.unit_price)),
            category_id: Set(d.category_id),
            is_active: Set(d.is_active),
            owner_id: Set(d.owner_id),
            custom_fields: Set(d.custom_fields),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(conflict_if_unique("A product with this SKU already exists."))?;
        journal::write::<products::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(self.products(vec![stored]).await?.remove(0))
    }

    async fn update(&self, id: i64, c: ProductChanges) -> Result<Option<Product>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = listing::live_row_locked::<products::Entity, _>(&txn, id).await? else { return Ok(None) };
        check_references(
            &txn,
            &[
                ("category", "product_categories", true, c.category_id.flatten()),
                ("owner", "users", false, c.owner_id.flatten()),
            ],
        )
        .await?;
        if let Some(sku) = &c.sku {
            check_sku(&txn, sku, Some(id)).await?;
        }
        let mut next = current.clone();
        if let Some(v) = c.name {
            next.name = v;
        }
        if let Some(v) = c.description {
            next.description = v;
        }
        if let Some(v) = c.sku {
            next.sku_key = v.to_lowercase();
            next.sku = v;
        }
        if let Some(v) = c.unit_price {
            next.unit_price_cents = to_cents(v);
        }
        if let Some(v) = c.category_id {
            next.category_id = v;
        }
        if let Some(v) = c.is_active {
            next.is_active = v;
        }
        if let Some(v) = c.owner_id {
            next.owner_id = v;
        }
        if let Some(v) = c.custom_fields {
            next.custom_fields = v;
        }
        next.search_text = search_text(&next.name, next.description.as_deref(), &next.sku);
        next.updated_at = Utc::now();
        let model: products::ActiveModel = next.into();
        let stored = model
            .reset_all()
            .update(&txn)
            .await
            .map_err(conflict_if_unique("A product with this SKU already exists."))?;
        journal::write::<products::Entity, _>(&txn, "updated", Some(current), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(self.products(vec![stored]).await?.pop())
    }

    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        listing::delete_journaled::<products::Entity>(&self.db, id, at, false).await
    }

    async fn restore(&self, id: i64) -> Result<Option<Product>> {
        if listing::restore_journaled::<products::Entity>(&self.db, id, false).await? {
            self.product(id).await
        } else {
            Ok(None)
        }
    }
}

async fn check_category_name<C: ConnectionTrait>(conn: &C, name: &str, except: Option<i64>) -> Result<()> {
    listing::refuse_taken_name(conn, "product_categories", "category", name, except).await
}

/// Refuses `parent` for category `id` when `id` is `parent` or one of its ancestors.
async fn check_parent<C: ConnectionTrait>(conn: &C, id: i64, parent: i64) -> Result<()> {
    let mut at = Some(parent);
    let mut steps = 0;
    while let Some(current) = at {
        if current == id {
            return Err(CrmError::field("parent_category", CYCLE));
        }
        steps += 1;
        if steps > 1000 {
            return Err(CrmError::field("parent_category", CYCLE));
        }
        at = categories::Entity::find_by_id(current).one(conn).await.map_err(db)?.and_then(|c| c.parent_id);
    }
    Ok(())
}

#[async_trait]
impl Store<Categories> for SqlProducts {
    async fn list(&self, query: &ListQuery) -> Result<Page<Category>> {
        let select = categories::Entity::find().filter(live::<categories::Entity>());
        let page = listing::page(&self.db, select, &CATEGORIES, query, None).await?;
        let (request, total) = (page.request, page.total);
        Ok(Page { items: self.categories(page.items).await?, total, request })
    }

    async fn get(&self, id: i64) -> Result<Option<Category>> {
        self.category(id).await
    }

    async fn insert(&self, d: CategoryDraft) -> Result<Category> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        check_references(&txn, &[("parent_category", "product_categories", true, d.parent_id)]).await?;
        check_category_name(&txn, &d.name, None).await?;
        let now = Utc::now();
        let stored = categories::ActiveModel {
            name_key: Set(d.name.to_lowercase()),
            name: Set(d.name),
            description: Set(d.description),
            parent_id: Set(d.parent_id),
            is_active: Set(d.is_active),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(conflict_if_unique("A category with this name already exists."))?;
        journal::write::<categories::Entity, _>(&txn, "created", None, Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(self.categories(vec![stored]).await?.remove(0))
    }

    async fn update(&self, id: i64, c: CategoryChanges) -> Result<Option<Category>> {
        let txn = begin_write(&self.db).await.map_err(db)?;
        let Some(current) = listing::live_row_locked::<categories::Entity, _>(&txn, id).await? else { return Ok(None) };
        if let Some(Some(parent)) = c.parent_id {
            check_references(&txn, &[("parent_category", "product_categories", true, Some(parent))]).await?;
            check_parent(&txn, id, parent).await?;
        }
        if let Some(name) = &c.name {
            check_category_name(&txn, name, Some(id)).await?;
        }
        let mut model: categories::ActiveModel = current.clone().into();
        if let Some(v) = c.name {
            model.name_key = Set(v.to_lowercase());
            model.name = Set(v);
        }
        if let Some(v) = c.description {
            model.description = Set(v);
        }
        if let Some(v) = c.parent_id {
            model.parent_id = Set(v);
        }
        if let Some(v) = c.is_active {
            model.is_active = Set(v);
        }
        model.updated_at = Set(Utc::now());
        let stored =
            model.update(&txn).await.map_err(conflict_if_unique("A category with this name already exists."))?;
        journal::write::<categories::Entity, _>(&txn, "updated", Some(current), Some(stored.clone())).await?;
        txn.commit().await.map_err(db)?;
        Ok(self.categories(vec![stored]).await?.pop())
    }

    /// A category that live products or subcategories use stays (409 with their count).
    async fn delete(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let users = [("products", "category_id"), ("product_categories", "parent_id")];
        let in_use = |n| format!("This category still has {n} product(s) or subcategories; move them first.");
        listing::soft_delete_unused::<categories::Entity>(&self.db, id, at, &users, in_use).await
    }

    async fn restore(&self, id: i64) -> Result<Option<Category>> {
        if listing::restore_journaled::<categories::Entity>(&self.db, id, false).await? {
            self.category(id).await
        } else {
            Ok(None)
        }
    }
}

journal::journaled_as_stored!(products::Entity, "product", hide: ["sku_key", "search_text"]);
journal::journaled_as_stored!(categories::Entity, "product_category", hide: ["name_key"]);
