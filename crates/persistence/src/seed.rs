//! Bulk generation of realistic CRM data: demo data for new users and the benchmark's
//! large data sets. Rows are written in multi-row inserts inside transactions.

use crate::entity::{activities, customers, deals};
use chrono::{DateTime, Duration, Utc};
use crm_core::customer::search_text;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    Set, TransactionTrait,
};

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedPlan {
    pub customers: u64,
    pub deals: u64,
    pub activities: u64,
    /// Spread creation times over this many past days.
    pub days: i64,
    /// Rows per insert statement.
    pub batch: u64,
}

/// E-mail domain that marks generated customers (and makes demo seeding idempotent).
pub const DEMO_DOMAIN: &str = "demo.example";

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeedReport {
    pub customers: u64,
    pub deals: u64,
    pub activities: u64,
}

pub(crate) const FIRST: [&str; 16] = [
    "Aziz", "Dilnoza", "Jasur", "Malika", "Sardor", "Nodira", "Bekzod", "Gulnora", "Timur", "Shahnoza", "Otabek",
    "Kamola", "Rustam", "Zarina", "Anvar", "Madina",
];
pub(crate) const LAST: [&str; 12] = [
    "Karimov",
    "Rashidova",
    "Tursunov",
    "Aliyeva",
    "Yusupov",
    "Nazarova",
    "Ismoilov",
    "Qodirova",
    "Saidov",
    "Ergasheva",
    "Xolmatov",
    "Mirzayeva",
];
const COMPANIES: [&str; 12] = [
    "Samarqand Textile",
    "Toshkent Soft",
    "Buxoro Trade",
    "Farg'ona Agro",
    "Navoiy Mining",
    "Andijon Auto",
    "Xiva Travel",
    "Nukus Logistics",
    "Qarshi Energy",
    "Termiz Foods",
    "Jizzax Build",
    "Urganch Pharma",
];
const STATUSES: [(&str, u32); 6] = [
    ("active", 30),
    ("potential", 25),
    ("waiting", 15),
    ("contacted", 12),
    ("project_started", 10),
    ("need_to_call", 8),
];
const DEAL_TITLES: [&str; 8] = [
    "CRM licence",
    "Annual support",
    "Implementation",
    "Training package",
    "Call-center seats",
    "Integration",
    "Consulting",
    "Hardware",
];
const ACTIVITY_TEXT: [(&str, &str); 4] = [
    ("call", "Called to discuss the proposal"),
    ("email", "Sent the commercial offer"),
    ("meeting", "Met at the office to review requirements"),
    ("deal", "Negotiated the deal terms"),
];

pub(crate) fn weighted<'a>(rng: &mut StdRng, items: &'a [(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (item, w) in items {
        if pick < *w {
            return item;
        }
        pick -= w;
    }
    items[0].0
}

pub(crate) fn past(rng: &mut StdRng, now: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    now - Duration::seconds(rng.random_range(0..days.max(1) * 86_400))
}

/// Inserts `total` rows, `rows(done, n)` making the next `n`, in multi-row inserts of `batch`
/// rows, one transaction each, calling `progress(stage, done, total)` after each.
pub(crate) async fn in_batches<A: ActiveModelTrait + Send>(
    db: &DatabaseConnection,
    stage: &str,
    total: u64,
    batch: u64,
    progress: &mut dyn FnMut(&str, u64, u64),
    mut rows: impl FnMut(u64, u64) -> Vec<A>,
) -> Result<u64, DbErr> {
    let mut done = 0;
    while done < total {
        let n = batch.max(1).min(total - done);
        let txn = db.begin().await?;
        A::Entity::insert_many(rows(done, n)).exec(&txn).await?;
        txn.commit().await?;
        done += n;
        progress(stage, done, total);
    }
    Ok(done)
}

/// Whether demo customers are already present.
pub async fn demo_present(db: &DatabaseConnection) -> Result<bool, DbErr> {
    let n = customers::Entity::find()
        .filter(customers::Column::Email.like(format!("%@{DEMO_DOMAIN}")))
        .filter(customers::Column::DeletedAt.is_null())
        .limit(1)
        .count(db)
        .await?;
    Ok(n > 0)
}

/// Generates the plan's rows (deterministic for a given seed), calling `progress(done, total)`
/// after each batch; customers are owned by `owner`.
pub async fn seed_crm(
    db: &DatabaseConnection,
    plan: SeedPlan,
    owner: Option<i64>,
    seed: u64,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<SeedReport, DbErr> {
    let mut rng = StdRng::seed_from_u64(seed);
    let now = Utc::now();
    let first_id = customers::Entity::find()
        .select_only()
        .column_as(customers::Column::Id.max(), "m")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0);
    let batch = plan.batch.max(1);

    in_batches(db, "customers", plan.customers, batch, progress, |done, n| {
        (0..n)
            .map(|i| {
                let k = first_id + (done + i) as i64 + 1;
                let name =
                    format!("{} {}", FIRST[rng.random_range(0..FIRST.len())], LAST[rng.random_range(0..LAST.len())]);
                let company = COMPANIES[rng.random_range(0..COMPANIES.len())].to_string();
                let email = format!("customer{k}@{DEMO_DOMAIN}");
                let phone = format!("+9989{}{:07}", rng.random_range(0..10), rng.random_range(0..10_000_000));
                let created = past(&mut rng, now, plan.days);
                customers::ActiveModel {
                    search_text: Set(search_text(&name, Some(&email), Some(&phone), Some(&company))),
                    name: Set(name),
                    email: Set(Some(email)),
                    phone: Set(Some(phone)),
                    company: Set(Some(company)),
                    status: Set(weighted(&mut rng, &STATUSES).to_string()),
                    value: Set(Some((rng.random_range(10..5000) * 1000).to_string())),
                    user_id: Set(owner),
                    completed_cents: Set(0),
                    created_at: Set(created),
                    updated_at: Set(created),
                    deleted_at: Set(None),
                    ..Default::default()
                }
            })
            .collect()
    })
    .await?;
    // The ids really given (a PostgreSQL sequence may have gaps).
    let customer_ids: Vec<i64> = customers::Entity::find()
        .select_only()
        .column(customers::Column::Id)
        .filter(customers::Column::Id.gt(first_id))
        .into_tuple()
        .all(db)
        .await?;

    // Every deal at a stage of the pipeline; an open one with the stage's probability.
    let stages: Vec<(i64, i32)> = crate::entity::pipeline_stages::Entity::find()
        .select_only()
        .columns([crate::entity::pipeline_stages::Column::Id, crate::entity::pipeline_stages::Column::Probability])
        .filter(crate::entity::pipeline_stages::Column::DeletedAt.is_null())
        .filter(crate::entity::pipeline_stages::Column::IsActive.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    let deals_n = if customer_ids.is_empty() { 0 } else { plan.deals };
    in_batches(db, "deals", deals_n, batch, progress, |_, n| {
        (0..n)
            .map(|_| {
                let created = past(&mut rng, now, plan.days);
                let status =
                    weighted(&mut rng, &[("completed", 30), ("cancelled", 10), ("new", 30), ("in_progress", 30)]);
                let closed = (status == "completed").then(|| {
                    let after = created + Duration::seconds(rng.random_range(0..30 * 86_400));
                    after.min(now)
                });
                let stage = (!stages.is_empty()).then(|| stages[rng.random_range(0..stages.len())]);
                let probability = match status {
                    "completed" => Some(100),
                    "cancelled" => Some(0),
                    _ => stage.map(|(_, p)| p),
                };
                deals::ActiveModel {
                    title: Set(DEAL_TITLES[rng.random_range(0..DEAL_TITLES.len())].to_string()),
                    description: Set(None),
                    value_cents: Set(rng.random_range(10_000..10_000_000)),
                    status: Set(status.to_string()),
                    customer_id: Set(customer_ids[rng.random_range(0..customer_ids.len())]),
                    user_id: Set(owner),
                    closed_at: Set(closed),
                    created_at: Set(created),
                    updated_at: Set(closed.unwrap_or(created)),
                    deleted_at: Set(None),
                    stage_id: Set(stage.map(|(id, _)| id)),
                    probability: Set(probability),
                    ..Default::default()
                }
            })
            .collect()
    })
    .await?;

    let activities_n = if customer_ids.is_empty() { 0 } else { plan.activities };
    in_batches(db, "activities", activities_n, batch, progress, |_, n| {
        (0..n)
            .map(|_| {
                let (kind, text) = ACTIVITY_TEXT[rng.random_range(0..ACTIVITY_TEXT.len())];
                let at = past(&mut rng, now, plan.days);
                activities::ActiveModel {
                    kind: Set(kind.to_string()),
                    description: Set(text.to_string()),
                    status: Set(crm_core::activity::DONE.to_string()),
                    customer_id: Set(Some(customer_ids[rng.random_range(0..customer_ids.len())])),
                    user_id: Set(owner),
                    created_at: Set(at),
                    updated_at: Set(at),
                    deleted_at: Set(None),
                    ..Default::default()
                }
            })
            .collect()
    })
    .await?;
    progress("summaries", 0, 1);
    crate::repo::summaries::rebuild(db).await?;
    progress("summaries", 1, 1);
    Ok(SeedReport { customers: plan.customers, deals: plan.deals, activities: plan.activities })
}
