//! `crm-bench`: seeds a large CRM data set into a fresh database and measures the CRM v1
//! endpoints over real HTTP. Figures and how to reproduce them: `docs/benchmarks.md`.
//!
//! ```text
//! cargo run --release --bin crm-bench -- --database sqlite
//! cargo run --release --bin crm-bench -- --database postgres://postgres:postgres@127.0.0.1:5432/postgres
//! ```

use clap::Parser;
use crm_server::progress::Progress;
use crm_server::settings::Settings;
use persistence::seed::{SeedPlan, seed_crm};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "crm-bench", about = "Seed a large CRM data set and time the CRM v1 endpoints")]
struct Args {
    /// `sqlite` (a fresh file under target/) or a PostgreSQL server URL (a fresh `crm_bench` database is created on it).
    #[arg(long, default_value = "sqlite")]
    database: String,
    #[arg(long, default_value_t = 100_000)]
    customers: u64,
    #[arg(long, default_value_t = 1_000_000)]
    deals: u64,
    #[arg(long, default_value_t = 200_000)]
    activities: u64,
    /// Timed requests per scenario (after 3 warm-up requests).
    #[arg(long, default_value_t = 30)]
    samples: usize,
    /// Measure the data set left by a previous run instead of seeding a new one.
    #[arg(long)]
    reuse: bool,
}

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "bench-password-1";

async fn fresh_database(arg: &str, reuse: bool) -> String {
    if arg == "sqlite" {
        let path = Path::new("target/crm-bench.db");
        for suffix in ["", "-wal", "-shm"].iter().filter(|_| !reuse) {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        return format!("sqlite://{}", path.display());
    }
    let (base, _) = arg.rsplit_once('/').expect("the URL names a database");
    if reuse {
        return format!("{base}/crm_bench");
    }
    let admin = Database::connect(arg).await.expect("connect to the PostgreSQL server");
    admin.execute_unprepared("DROP DATABASE IF EXISTS crm_bench").await.expect("drop crm_bench");
    admin.execute_unprepared("CREATE DATABASE crm_bench").await.expect("create crm_bench");
    format!("{base}/crm_bench")
}

fn stats(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pick = |q: f64| ms(samples[((samples.len() as f64 - 1.0) * q).round() as usize]);
    (pick(0.5), pick(0.95), ms(*samples.last().unwrap()))
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let url = fresh_database(&args.database, args.reuse).await;
    let settings = Settings::load_with(
        "test",
        Path::new("config"),
        false,
        &[
            ("database_url", url.as_str()),
            ("port", "0"),
            ("workers", "2"),
            ("database_max_connections", "10"),
            ("admin_email", EMAIL),
            ("admin_password", PASSWORD),
            ("log_level", "error"),
        ],
    )
    .expect("settings");
    let db = crm_server::startup::connect_and_migrate(&settings).await.expect("migrate");
    let services = crm_server::startup::services(db.clone(), &settings).expect("services");
    crm_server::startup::bootstrap_admin(&services, &settings).await.expect("admin");
    let owner = crm_server::startup::first_ceo(&db).await.expect("owner");

    if !args.reuse {
        let plan = SeedPlan {
            customers: args.customers,
            deals: args.deals,
            activities: args.activities,
            days: 365,
            batch: 1000,
        };
        let started = Instant::now();
        let mut progress = Progress::new();
        seed_crm(&db, plan, owner, 7, &mut |stage, done, total| progress.update(stage, done, total))
            .await
            .expect("seed");
        progress.finish();
        if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            db.execute_unprepared("VACUUM ANALYZE").await.expect("analyze");
        } else {
            db.execute_unprepared("ANALYZE").await.expect("analyze");
        }
        eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    }

    let running = crm_server::spawn(settings).await.expect("server");
    let base = format!("http://127.0.0.1:{}", running.port);
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    let token = login["data"]["token"].as_str().expect("token").to_string();
    let today = chrono::Utc::now().date_naive();
    let year_ago = today - chrono::Duration::days(365);
    let customer_id = args.customers / 2;
    let sample: Value = client
        .get(format!("{base}/api/v1/customers/{customer_id}"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sample customer")
        .json()
        .await
        .expect("sample body");
    let phone = sample["data"]["customer"]["phone"].as_str().expect("a seeded phone").to_string();
    let phone_fragment = &phone[phone.len() - 7..];
    let scenarios = [
        ("customer list, page 1", "/api/v1/customers?page=1&limit=10".to_string()),
        ("customer list, page 5,000", "/api/v1/customers?page=5000&limit=10".to_string()),
        ("customer search, one person (7 phone digits)", format!("/api/v1/customers?search={phone_fragment}&limit=10")),
        ("customer search, broad (`rashid`, 8% match)", "/api/v1/customers?search=rashid&limit=10".to_string()),
        ("deals of one customer", format!("/api/v1/deals?customerId={customer_id}&limit=10")),
        ("dashboard", "/api/v1/analytics/dashboard".to_string()),
        (
            "sales analytics, one year",
            format!("/api/v1/analytics/sales?startDate={year_ago}&endDate={today}&period=monthly"),
        ),
    ];
    println!(
        "| scenario ({}) | median ms | p95 ms | max ms |\n|---|---:|---:|---:|",
        if url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" }
    );
    for (name, path) in scenarios {
        let mut samples = Vec::with_capacity(args.samples);
        for i in 0..args.samples + 3 {
            let t = Instant::now();
            let res = client.get(format!("{base}{path}")).bearer_auth(&token).send().await.expect("request");
            let status = res.status();
            let _ = res.bytes().await;
            assert!(status.is_success(), "{path}: {status}");
            if i >= 3 {
                samples.push(t.elapsed());
            }
        }
        let (median, p95, max) = stats(samples);
        println!("| {name} | {median:.1} | {p95:.1} | {max:.1} |");
    }
    running.handle.stop(true).await;
}
