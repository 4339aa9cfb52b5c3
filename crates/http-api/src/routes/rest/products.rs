//! `/api/products/`: products and product categories.

use super::activities::{RefDto, related};
use super::scaffold::{RestResource, mount};
use crate::iso;
use crate::state::AppState;
use actix_web::web;
use crm_core::products::{Categories, Category, CategoryInput, Product, ProductInput, Products};
use crm_core::records::Records;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A product.
#[derive(Serialize, ToSchema)]
pub struct ProductDto {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub sku: String,
    /// Exact, two decimal places.
    #[schema(example = 99.99)]
    pub unit_price: f64,
    pub category: Option<RefDto>,
    pub is_active: bool,
    pub owner: Option<RefDto>,
    /// As given.
    #[schema(value_type = Object)]
    pub custom_fields: Value,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of a product.
#[derive(Deserialize, ToSchema, Default)]
pub struct ProductBody {
    #[schema(example = "New Product", max_length = 255, nullable = false, required = true)]
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    /// Unique among live products, case-insensitive (409 otherwise).
    #[schema(example = "PROD-001", max_length = 64, nullable = false, required = true)]
    pub sku: Option<Option<String>>,
    /// Not negative, at most two decimal places.
    #[schema(value_type = f64, example = 199.99, minimum = 0, required = true)]
    pub unit_price: Option<Option<Decimal>>,
    #[schema(minimum = 1)]
    pub category: Option<Option<i64>>,
    /// Default true.
    #[schema(nullable = false)]
    pub is_active: Option<Option<bool>>,
    /// Default: the caller.
    #[schema(minimum = 1)]
    pub owner: Option<Option<i64>>,
    /// A JSON object (at most 50 keys, 16 KB; values scalars or flat lists).
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Option<Value>>,
}

/// The product resource.
pub struct ProductResource;

impl RestResource for ProductResource {
    type R = Products;
    type Dto = ProductDto;
    type Body = ProductBody;
    const PATH: &'static str = "/api/products/products/";
    const TAG: &'static str = "crm-rest: products";
    const ID: &'static str = "rest_products";

    fn records(state: &AppState) -> &Records<Products> {
        &state.rest.products
    }

    fn dto(p: Product) -> ProductDto {
        ProductDto {
            id: p.id,
            name: p.name,
            description: p.description,
            sku: p.sku,
            unit_price: crate::money(p.unit_price),
            category: related(p.category),
            is_active: p.is_active,
            owner: related(p.owner),
            custom_fields: p.custom_fields,
            created_at: iso(p.created_at),
            updated_at: iso(p.updated_at),
        }
    }

    fn input(b: Self::Body) -> ProductInput {
        ProductInput {
            name: b.name,
            description: b.description,
            sku: b.sku,
            unit_price: b.unit_price,
            category: b.category,
            is_active: b.is_active,
            owner: b.owner,
            custom_fields: b.custom_fields,
        }
    }
}

/// A product category.
#[derive(Serialize, ToSchema)]
pub struct CategoryDto {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub parent_category: Option<RefDto>,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// Fields of a category.
#[derive(Deserialize, ToSchema, Default)]
pub struct CategoryBody {
    /// Unique among live categories, case-insensitive.
    #[schema(example = "Software", max_length = 100, nullable = false, required = true)]
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    /// A parent that would make a cycle is refused.
    #[schema(minimum = 1)]
    pub parent_category: Option<Option<i64>>,
    #[schema(nullable = false)]
    pub is_active: Option<Option<bool>>,
}

/// The product category resource.
pub struct CategoryResource;

impl RestResource for CategoryResource {
    type R = Categories;
    type Dto = CategoryDto;
    type Body = CategoryBody;
    const PATH: &'static str = "/api/products/categories/";
    const TAG: &'static str = "crm-rest: products";
    const ID: &'static str = "rest_categories";

    fn records(state: &AppState) -> &Records<Categories> {
        &state.rest.categories
    }

    fn dto(c: Category) -> CategoryDto {
        CategoryDto {
            id: c.id,
            name: c.name,
            description: c.description,
            parent_category: related(c.parent_category),
            is_active: c.is_active,
            created_at: iso(c.created_at),
            updated_at: iso(c.updated_at),
        }
    }

    fn input(b: Self::Body) -> CategoryInput {
        CategoryInput {
            name: b.name,
            description: b.description,
            parent_category: b.parent_category,
            is_active: b.is_active,
        }
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    mount::<ProductResource>(cfg);
    mount::<CategoryResource>(cfg);
}

pub fn document(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    super::scaffold::document::<ProductResource>(paths, schemas);
    super::scaffold::document::<CategoryResource>(paths, schemas);
}
