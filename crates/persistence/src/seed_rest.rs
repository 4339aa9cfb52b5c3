//! Bulk generation of the CRM REST records around the seeded customers: territories, contacts
//! and leads at scale (the benchmark's 100,000 each), deals placed on pipeline stages, and a
//! small catalogue of products, categories, tasks and events for the demo.

use crate::entity::{
    companies, company_members, contacts, customers, deals, events, leads, pipeline_stages, product_categories,
    products, tasks, territories,
};
use crate::seed::{DEMO_DOMAIN, FIRST, LAST, in_batches, past, weighted};
use chrono::{Duration, Utc};
use crm_core::leads::LEAD_STATUSES;
use crm_core::tasks::PRIORITIES;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    Set, TransactionTrait,
};

/// How many REST records to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestPlan {
    pub contacts: u64,
    pub leads: u64,
    /// Also the small demo catalogue (the demo company, products, categories, tasks, events).
    pub catalogue: bool,
    pub days: i64,
    pub batch: u64,
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RestReport {
    pub companies: u64,
    pub territories: u64,
    pub contacts: u64,
    pub leads: u64,
    pub products: u64,
    pub tasks: u64,
    pub events: u64,
}

const TERRITORIES: [&str; 5] = ["Toshkent", "Samarqand", "Farg'ona vodiysi", "Buxoro", "Qoraqalpog'iston"];
const INDUSTRIES: [&str; 6] = ["Technology", "Textile", "Agriculture", "Logistics", "Healthcare", "Retail"];
const TITLES: [&str; 6] = ["CEO", "CTO", "Head of Sales", "Procurement Manager", "Accountant", "Office Manager"];
const SOURCES: [(&str, u32); 5] =
    [("Website", 35), ("Phone", 25), ("Referral", 20), ("Exhibition", 10), ("Instagram", 10)];

async fn ids_of<E: EntityTrait, C: ConnectionTrait>(conn: &C, column: E::Column, after: i64) -> Result<Vec<i64>, DbErr>
where
    E::Column: ColumnTrait,
{
    E::find().select_only().column(column).filter(column.gt(after)).into_tuple().all(conn).await
}

async fn max_id<E: EntityTrait, C: ConnectionTrait>(conn: &C, column: E::Column) -> Result<i64, DbErr>
where
    E::Column: ColumnTrait,
{
    let found: Option<Option<i64>> =
        E::find().select_only().column_as(column.max(), "m").into_tuple().one(conn).await?;
    Ok(found.flatten().unwrap_or(0))
}

/// Generates the plan's rows around the demo customers (deterministic for a given seed),
/// reporting progress after each batch.
pub async fn seed_rest(
    db: &DatabaseConnection,
    plan: RestPlan,
    owner: Option<i64>,
    seed: u64,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<RestReport, DbErr> {
    let mut rng = StdRng::seed_from_u64(seed);
    let now = Utc::now();
    let batch = Ord::max(plan.batch, 1);
    let mut report = RestReport::default();

    // Territories, and the demo accounts' REST fields.
    for name in TERRITORIES {
        let taken =
            territories::Entity::find().filter(territories::Column::NameKey.eq(name.to_lowercase())).count(db).await?;
        if taken == 0 {
            territories::Entity::insert(territories::ActiveModel {
                name: Set(name.into()),
                name_key: Set(name.to_lowercase()),
                description: Set(Some(format!("{name} region"))),
                is_active: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                deleted_at: Set(None),
                ..Default::default()
            })
            .exec(db)
            .await?;
            report.territories += 1;
        }
    }
    let territory_ids = ids_of::<territories::Entity, _>(db, territories::Column::Id, 0).await?;
    let demo = customers::Column::Email.like(format!("%@{DEMO_DOMAIN}"));
    let account_ids: Vec<i64> = customers::Entity::find()
        .select_only()
        .column(customers::Column::Id)
        .filter(demo.clone())
        .into_tuple()
        .all(db)
        .await?;
    for (i, industry) in INDUSTRIES.iter().enumerate() {
        let territory = territory_ids.get(i % territory_ids.len().max(1)).copied();
        let kind = if i % 3 == 0 { "Prospect" } else { "Customer" };
        customers::Entity::update_many()
            .col_expr(customers::Column::Industry, Expr::value(*industry))
            .col_expr(customers::Column::AccountType, Expr::value(kind))
            .col_expr(customers::Column::TerritoryId, Expr::value(territory))
            .filter(demo.clone())
            .filter(Expr::col(customers::Column::Id).modulo(6).eq(i as i64))
            .exec(db)
            .await?;
    }

    // Deals on the pipeline: open ones spread over the stages, won ones at the last.
    let stages: Vec<(i64, i32)> = pipeline_stages::Entity::find()
        .select_only()
        .columns([pipeline_stages::Column::Id, pipeline_stages::Column::Probability])
        .filter(pipeline_stages::Column::DeletedAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let open = stages.len().saturating_sub(1).max(1) as i64;
    for (i, (stage, probability)) in stages.iter().enumerate() {
        let mut update = deals::Entity::update_many()
            .col_expr(deals::Column::StageId, Expr::value(*stage))
            .col_expr(deals::Column::Probability, Expr::value(*probability))
            .filter(deals::Column::StageId.is_null());
        update = if i + 1 == stages.len() {
            update.filter(deals::Column::Status.eq("completed"))
        } else {
            update
                .filter(deals::Column::Status.is_in(["new", "in_progress", "cancelled"]))
                .filter(Expr::col(deals::Column::Id).modulo(open).eq(i as i64))
        };
        update.exec(db).await?;
    }

    // Contacts at the demo accounts.
    let first_id = max_id::<contacts::Entity, _>(db, contacts::Column::Id).await?;
    let contacts_n = if account_ids.is_empty() { 0 } else { plan.contacts };
    report.contacts = in_batches(db, "contacts", contacts_n, batch, progress, |done, n| {
        (0..n)
            .map(|i| {
                let k = first_id + (done + i) as i64 + 1;
                let (first, last) = (FIRST[rng.random_range(0..FIRST.len())], LAST[rng.random_range(0..LAST.len())]);
                let email = format!("contact{k}@{DEMO_DOMAIN}");
                let phone = format!("+9989{}{:07}", rng.random_range(0..10), k % 10_000_000);
                let created = past(&mut rng, now, plan.days);
                contacts::ActiveModel {
                    search_text: Set(crm_core::contacts::search_text(first, last, Some(&email), Some(&phone))),
                    first_name: Set(first.into()),
                    last_name: Set(last.into()),
                    email: Set(Some(email)),
                    phone: Set(Some(phone)),
                    title: Set(Some(TITLES[rng.random_range(0..TITLES.len())].into())),
                    account_id: Set(Some(account_ids[rng.random_range(0..account_ids.len())])),
                    owner_id: Set(owner),
                    custom_fields: Set("{}".into()),
                    created_at: Set(created),
                    updated_at: Set(created),
                    deleted_at: Set(None),
                    ..Default::default()
                }
            })
            .collect()
    })
    .await?;

    // Leads, none converted yet.
    let open_statuses: Vec<(&str, u32)> =
        LEAD_STATUSES.iter().filter(|s| **s != crm_core::leads::CONVERTED).map(|s| (*s, 1)).collect();
    let first_id = max_id::<leads::Entity, _>(db, leads::Column::Id).await?;
    report.leads = in_batches(db, "leads", plan.leads, batch, progress, |done, n| {
        (0..n)
            .map(|i| {
                let k = first_id + (done + i) as i64 + 1;
                let (first, last) = (FIRST[rng.random_range(0..FIRST.len())], LAST[rng.random_range(0..LAST.len())]);
                let email = format!("lead{k}@{DEMO_DOMAIN}");
                let phone = format!("+9987{}{:07}", rng.random_range(0..10), k % 10_000_000);
                let company = format!(
                    "{} {} {k}",
                    LAST[rng.random_range(0..LAST.len())],
                    ["MChJ", "AJ", "XK"][rng.random_range(0..3)]
                );
                let created = past(&mut rng, now, plan.days);
                leads::ActiveModel {
                    search_text: Set(crm_core::leads::search_text(
                        first,
                        last,
                        Some(&email),
                        Some(&phone),
                        Some(&company),
                    )),
                    first_name: Set(first.into()),
                    last_name: Set(last.into()),
                    email: Set(Some(email)),
                    phone: Set(Some(phone)),
                    company_name: Set(Some(company)),
                    lead_source: Set(Some(weighted(&mut rng, &SOURCES).into())),
                    status: Set(weighted(&mut rng, &open_statuses).into()),
                    territory_id: Set(territory_ids.get(rng.random_range(0..territory_ids.len().max(1))).copied()),
                    owner_id: Set(owner),
                    custom_fields: Set("{}".into()),
                    converted_account_id: Set(None),
                    converted_contact_id: Set(None),
                    converted_deal_id: Set(None),
                    converted_at: Set(None),
                    created_at: Set(created),
                    updated_at: Set(created),
                    deleted_at: Set(None),
                    ..Default::default()
                }
            })
            .collect()
    })
    .await?;

    if plan.catalogue {
        let (products, tasks, events) = seed_catalogue(db, owner, &account_ids, &mut rng).await?;
        (report.products, report.tasks, report.events) = (products, tasks, events);
        report.companies = seed_company(db, owner).await?;
    }
    // Bulk rows bypass the per-write summaries and duplicate keys: recompute them.
    progress("summaries", 0, 1);
    crate::repo::summaries::rebuild(db).await?;
    progress("summaries", 1, 1);
    Ok(report)
}

/// Categories (a small tree), products, open tasks and upcoming events.
async fn seed_catalogue(
    db: &DatabaseConnection,
    owner: Option<i64>,
    account_ids: &[i64],
    rng: &mut StdRng,
) -> Result<(u64, u64, u64), DbErr> {
    let now = Utc::now();
    let txn = db.begin().await?;
    let category = |name: &str, parent: Option<i64>| categories_row(name, parent, now);
    let software = product_categories::Entity::insert(category("Software", None)).exec(&txn).await?.last_insert_id;
    let services = product_categories::Entity::insert(category("Services", None)).exec(&txn).await?.last_insert_id;
    let licences =
        product_categories::Entity::insert(category("Licences", Some(software))).exec(&txn).await?.last_insert_id;
    let catalogue: [(&str, &str, i64, i64); 8] = [
        ("CRM licence (annual)", "CRM-LIC-Y", 1_200_000, licences),
        ("CRM licence (monthly)", "CRM-LIC-M", 120_000, licences),
        ("Call-center seat", "CC-SEAT", 250_000, software),
        ("AI assistant minutes (1,000)", "AI-MIN-1K", 90_000, software),
        ("Implementation", "SRV-IMPL", 5_000_000, services),
        ("Training day", "SRV-TRAIN", 800_000, services),
        ("Integration", "SRV-INTEG", 3_000_000, services),
        ("Premium support (annual)", "SRV-SUPP", 2_400_000, services),
    ];
    for (name, sku, cents, category) in catalogue {
        products::Entity::insert(products::ActiveModel {
            search_text: Set(format!("{name}  {sku}").to_lowercase()),
            name: Set(name.into()),
            description: Set(None),
            sku: Set(sku.into()),
            sku_key: Set(sku.to_lowercase()),
            unit_price_cents: Set(cents),
            category_id: Set(Some(category)),
            is_active: Set(true),
            owner_id: Set(owner),
            custom_fields: Set("{}".into()),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    let task_titles = ["Call back about the offer", "Send the contract", "Prepare a demo", "Confirm the delivery date"];
    let tasks_n = 40;
    for i in 0..tasks_n {
        let due = now + Duration::days(rng.random_range(-10..30));
        tasks::Entity::insert(tasks::ActiveModel {
            title: Set(task_titles[i % task_titles.len()].into()),
            description: Set(None),
            due_date: Set(Some(due)),
            status: Set(if i % 4 == 0 { "In Progress" } else { "Not Started" }.into()),
            priority: Set(PRIORITIES[i % PRIORITIES.len()].into()),
            owner_id: Set(owner),
            account_id: Set(account_ids.get(rng.random_range(0..account_ids.len().max(1))).copied()),
            contact_id: Set(None),
            deal_id: Set(None),
            completed_at: Set(None),
            completion_notes: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    let events_n = 20;
    for i in 0..events_n {
        let start = now + Duration::hours(rng.random_range(-72..24 * 21));
        events::Entity::insert(events::ActiveModel {
            title: Set(["Client meeting", "Product demo", "Team review", "Exhibition"][i % 4].into()),
            description: Set(None),
            start_date: Set(start),
            end_date: Set(start + Duration::minutes(30 * rng.random_range(1..6))),
            location: Set(Some(["Office", "Online", "Client site"][i % 3].into())),
            owner_id: Set(owner),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok((catalogue.len() as u64, tasks_n as u64, events_n as u64))
}

/// The organisation the demo data belongs to, with the first CEO as its admin (decision 0011).
async fn seed_company(db: &DatabaseConnection, owner: Option<i64>) -> Result<u64, DbErr> {
    const NAME: &str = "Demo Savdo MChJ";
    let taken = companies::Entity::find().filter(companies::Column::NameKey.eq(NAME.to_lowercase())).count(db).await?;
    if taken > 0 {
        return Ok(0);
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    let company = companies::Entity::insert(companies::ActiveModel {
        name: Set(NAME.into()),
        name_key: Set(NAME.to_lowercase()),
        description: Set(Some("The demo organisation".into())),
        industry: Set(Some("Technology".into())),
        email: Set(Some(format!("info@{DEMO_DOMAIN}"))),
        is_active: Set(true),
        owner_id: Set(owner),
        created_at: Set(now),
        updated_at: Set(now),
        // website, phone and deleted_at are left to their NULL defaults
        ..Default::default()
    })
    .exec(&txn)
    .await?
    .last_insert_id;
    if let Some(user) = owner {
        company_members::Entity::insert(company_members::ActiveModel {
            company_id: Set(company),
            user_id: Set(user),
            role: Set(crm_core::companies::ADMIN.into()),
            created_at: Set(now),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(1)
}

fn categories_row(name: &str, parent: Option<i64>, now: chrono::DateTime<Utc>) -> product_categories::ActiveModel {
    product_categories::ActiveModel {
        name: Set(name.into()),
        name_key: Set(name.to_lowercase()),
        description: Set(None),
        parent_id: Set(parent),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    }
}
