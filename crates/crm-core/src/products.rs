//! Products with a unique SKU and an exact unit price, in categories that form a tree.

use crate::error::Result;
use crate::fields::{Fields, MAX_FREE_TEXT, Sent};
use crate::records::Resource;
use chrono::{DateTime, Utc};
use kernel::{FilterKind, FilterSpec, ListSpec, Ref};
use rust_decimal::Decimal;
use serde_json::Value;

const MAX_NAME: usize = 255;
const MAX_SKU: usize = 64;
const MAX_CATEGORY_NAME: usize = 100;

/// A product.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub sku: String,
    pub unit_price: Decimal,
    pub category: Option<Ref>,
    pub is_active: bool,
    pub owner: Option<Ref>,
    pub custom_fields: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductInput {
    pub name: Sent<String>,
    pub description: Sent<String>,
    pub sku: Sent<String>,
    pub unit_price: Sent<Decimal>,
    pub category: Sent<i64>,
    pub is_active: Sent<bool>,
    pub owner: Sent<i64>,
    pub custom_fields: Sent<Value>,
}

/// A checked new product.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductDraft {
    pub name: String,
    pub description: Option<String>,
    pub sku: String,
    pub unit_price: Decimal,
    pub category_id: Option<i64>,
    pub is_active: bool,
    pub owner_id: Option<i64>,
    /// JSON text.
    pub custom_fields: String,
}

/// A checked change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub sku: Option<String>,
    pub unit_price: Option<Decimal>,
    pub category_id: Option<Option<i64>>,
    pub is_active: Option<bool>,
    pub owner_id: Option<Option<i64>>,
    pub custom_fields: Option<String>,
}

/// The product record kind.
pub struct Products;

impl Resource for Products {
    type Record = Product;
    type Input = ProductInput;
    type Draft = ProductDraft;
    type Changes = ProductChanges;
    const NAME: &'static str = "Product";
    const LIST: ListSpec = ListSpec {
        filters: &[
            FilterSpec { name: "category", kind: FilterKind::Id, about: "Category id" },
            FilterSpec { name: "is_active", kind: FilterKind::Bool, about: "Active or not" },
        ],
        ordering: &["name", "sku", "unit_price", "created_at", "updated_at"],
        default_ordering: ("created_at", true),
        search: "name, description, sku",
    };

    fn draft(input: ProductInput, owner: i64) -> Result<ProductDraft> {
        let mut f = Fields::new();
        let is_active = f.present("is_active", input.is_active, false).unwrap_or(true);
        let name = f.required_text("name", &input.name, MAX_NAME, true);
        let description = f.text("description", &input.description, MAX_FREE_TEXT).flatten();
        let sku = f.required_text("sku", &input.sku, MAX_SKU, true);
        let price = f.money("unit_price", &input.unit_price);
        let unit_price = f.present("unit_price", price, true);
        let category_id = f.id("category", &input.category).flatten();
        let owner_id = f.id("owner", &input.owner).flatten();
        let custom_fields = f.custom_fields("custom_fields", &input.custom_fields).unwrap_or_else(|| "{}".into());
        f.finish()?;
        Ok(ProductDraft {
            name: name.unwrap_or_default(),
            description,
            sku: sku.unwrap_or_default(),
            unit_price: unit_price.unwrap_or_default(),
            category_id,
            is_active,
            owner_id: owner_id.or(Some(owner)),
            custom_fields,
        })
    }

    fn changes(input: ProductInput, replace: bool) -> Result<ProductChanges> {
        let mut f = Fields::new();
        let price = f.money("unit_price", &input.unit_price);
        let changes = ProductChanges {
            name: f.required_text("name", &input.name, MAX_NAME, replace),
            description: f.text("description", &input.description, MAX_FREE_TEXT),
            sku: f.required_text("sku", &input.sku, MAX_SKU, replace),
            unit_price: f.present("unit_price", price, replace),
            category_id: f.id("category", &input.category),
            is_active: f.present("is_active", input.is_active, false),
            owner_id: f.id("owner", &input.owner),
            custom_fields: f.custom_fields("custom_fields", &input.custom_fields),
        };
        f.finish()?;
        Ok(changes)
    }
}

/// A product category.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub parent_category: Option<Ref>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a caller sends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoryInput {
    pub name: Sent<String>,
    pub description: Sent<String>,
    pub parent_category: Sent<i64>,
    pub is_active: Sent<bool>,
}

/// A checked new category.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryDraft {
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<i64>,
    pub is_active: bool,
}

/// A checked change; the store refuses a parent that would make a cycle.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoryChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub parent_id: Option<Option<i64>>,
    pub is_active: Option<bool>,
}

/// The message of a parent that would make a cycle.
pub const CYCLE: &str = "A category cannot be its own ancestor.";

/// The product category record kind.
pub struct Categories;

impl Resource for Categories {
    type Record = Category;
    type Input = CategoryInput;
    type Draft = CategoryDraft;
    type Changes = CategoryChanges;
    const NAME: &'static str = "Category";
    const LIST: ListSpec = ListSpec {
        filters: &[
            FilterSpec { name: "parent_category", kind: FilterKind::Id, about: "Parent category id" },
            FilterSpec { name: "is_active", kind: FilterKind::Bool, about: "Active or not" },
        ],
        ordering: &["name", "created_at", "updated_at"],
        default_ordering: ("created_at", true),
        search: "name, description",
    };

    fn draft(input: CategoryInput, _owner: i64) -> Result<CategoryDraft> {
        let mut f = Fields::new();
        let is_active = f.present("is_active", input.is_active, false).unwrap_or(true);
        let name = f.required_text("name", &input.name, MAX_CATEGORY_NAME, true);
        let description = f.text("description", &input.description, MAX_FREE_TEXT).flatten();
        let parent_id = f.id("parent_category", &input.parent_category).flatten();
        f.finish()?;
        Ok(CategoryDraft { name: name.unwrap_or_default(), description, parent_id, is_active })
    }

    fn changes(input: CategoryInput, replace: bool) -> Result<CategoryChanges> {
        let mut f = Fields::new();
        let changes = CategoryChanges {
            name: f.required_text("name", &input.name, MAX_CATEGORY_NAME, replace),
            description: f.text("description", &input.description, MAX_FREE_TEXT),
            parent_id: f.id("parent_category", &input.parent_category),
            is_active: f.present("is_active", input.is_active, false),
        };
        f.finish()?;
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::str::FromStr;

    #[test]
    fn products_need_a_name_a_sku_and_a_price() {
        let input = ProductInput {
            name: Some(Some("New Product".into())),
            sku: Some(Some("PROD-001".into())),
            unit_price: Some(Some(Decimal::from_str("199.99").unwrap())),
            custom_fields: Some(Some(json!({"weight": "1.5kg"}))),
            ..Default::default()
        };
        let draft = Products::draft(input, 3).unwrap();
        assert_eq!((draft.unit_price.to_string().as_str(), draft.owner_id, draft.is_active), ("199.99", Some(3), true));
        assert!(Products::draft(ProductInput::default(), 1).is_err());
        let negative = ProductInput { unit_price: Some(Some(Decimal::from_str("-1").unwrap())), ..Default::default() };
        assert!(Products::changes(negative, false).is_err());
    }
}
