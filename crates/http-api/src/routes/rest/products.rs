//! `/api/products/`: products and product categories.

use super::activities::{RefDto, related};
use super::body::RestBody;
use super::scaffold::{RestResource, mount};
use crate::iso;
use crate::state::AppState;
use actix_web::web;
use crm_core::products::{Categories, Category, CategoryInput, Product, ProductInput, Products};
use crm_core::records::Records;
use serde::Serialize;
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
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ProductBody {
    #[schema(example = "New Product", max_length = 255)]
    pub name: String,
    pub description: Option<String>,
    /// Unique among live products, case-insensitive (409 otherwise).
    #[schema(example = "PROD-001", max_length = 64)]
    pub sku: String,
    /// Not negative, at most two decimal places.
    #[schema(example = 199.99, minimum = 0)]
    pub unit_price: f64,
    #[schema(minimum = 1)]
    pub category: Option<i64>,
    /// Default true.
    #[schema(nullable = false)]
    pub is_active: Option<bool>,
    /// Default: the caller.
    #[schema(minimum = 1)]
    pub owner: Option<i64>,
    /// A JSON object (at most 50 keys, 16 KB; values scalars or flat lists).
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Value>,
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

    fn input(b: &RestBody) -> ProductInput {
        ProductInput {
            name: b.text("name"),
            description: b.text("description"),
            sku: b.text("sku"),
            unit_price: b.decimal("unit_price"),
            category: b.id("category"),
            is_active: b.bool("is_active"),
            owner: b.id("owner"),
            custom_fields: b.json("custom_fields"),
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
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CategoryBody {
    /// Unique among live categories, case-insensitive.
    #[schema(example = "Software", max_length = 100)]
    pub name: String,
    pub description: Option<String>,
    /// A parent that would make a cycle is refused.
    #[schema(minimum = 1)]
    pub parent_category: Option<i64>,
    #[schema(nullable = false)]
    pub is_active: Option<bool>,
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

    fn input(b: &RestBody) -> CategoryInput {
        CategoryInput {
            name: b.text("name"),
            description: b.text("description"),
            parent_category: b.id("parent_category"),
            is_active: b.bool("is_active"),
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
