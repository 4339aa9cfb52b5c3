//! `crm-bench`: seeds a large data set into a fresh database and measures endpoints over real
//! HTTP: the CRM v1 lists and analytics (`--suite crm`), the CRM REST lists, details and
//! actions (`--suite rest`, with contacts and leads), or the assistant's `/api/ai/chat` and
//! live-call transcript over a large knowledge base (`--suite assistant`), or throughput at
//! 16 keep-alive connections beside `/health` and `pgbench -S` (`--suite http`), or the
//! webhook outbox and worker (`--suite webhooks`), or the CIMS workspace (`--suite cims`). Figures and
//! how to reproduce them: `docs/benchmarks.md`.
//!
//! ```text
//! cargo run --release --bin crm-bench -- --database sqlite
//! cargo run --release --bin crm-bench -- --database postgres://postgres:postgres@127.0.0.1:5432/postgres
//! cargo run --release --bin crm-bench -- --suite rest --database sqlite
//! cargo run --release --bin crm-bench -- --suite assistant --database sqlite
//! cargo run --release --bin crm-bench -- --suite http --database postgres://postgres:postgres@127.0.0.1:5432/postgres \
//!     --customers 300 --deals 1000 --activities 500
//! ```

use clap::Parser;
use crm_server::progress::Progress;
use crm_server::settings::Settings;
use persistence::seed::{SeedPlan, seed_crm};
use persistence::seed_callcenter::seed_knowledge;
use persistence::seed_rest::{RestPlan, seed_rest};
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
    /// `crm` (customers, deals, analytics), `rest` (the CRM REST surface), `assistant`
    /// (`/api/ai/chat` over Q&A entries), `http` (throughput, then a sign-in burst) or
    /// `signin` (the sign-in burst alone) or `webhooks` (the outbox's cost and the delivery rate)
    /// or `metrics` (the hottest read with and without request metrics).
    #[arg(long, default_value = "crm")]
    suite: String,
    /// Contacts and leads (each) of the rest suite.
    #[arg(long, default_value_t = 100_000)]
    people: u64,
    /// Q&A entries of the assistant suite.
    #[arg(long, default_value_t = 10_000)]
    qa: u64,
    /// Keep-alive connections of the http suite.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Seconds of load per endpoint in the http suite (after one second of warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// HTTP workers of the server (0: one per core, as in production).
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Database pool size of the server (the configuration's default).
    #[arg(long, default_value_t = 20)]
    pool: u32,
    /// Rows of the rest suite's CSV import.
    #[arg(long, default_value_t = 100_000)]
    import_rows: u64,
    /// Concurrent sign-ins of the http suite's sign-in burst.
    #[arg(long, default_value_t = 64)]
    burst_connections: usize,
    /// Seconds the sign-in burst lasts.
    #[arg(long, default_value_t = 15)]
    burst_seconds: u64,
}

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "Samarqand-Registan-1404";

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

/// Signs in on the call-center surface.
async fn cc_token(client: &reqwest::Client, base: &str) -> String {
    let login: Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    login["access"].as_str().or(login["token"].as_str()).expect("token").to_string()
}

/// Times `samples` POSTs (after 3 warm-up ones) of the bodies `body(i)` to `path(i)`.
async fn time_posts(
    client: &reqwest::Client,
    token: &str,
    samples: usize,
    mut request: impl FnMut(usize) -> (String, Value),
) -> (f64, f64, f64) {
    let mut timed = Vec::with_capacity(samples);
    for i in 0..samples + 3 {
        let (url, body) = request(i);
        let t = Instant::now();
        let res = client.post(&url).bearer_auth(token).json(&body).send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        assert!(status.is_success(), "{url}: {status} {text}");
        if i >= 3 {
            timed.push(t.elapsed());
        }
    }
    stats(timed)
}

/// The assistant over the seeded knowledge base: chat turns that hit an entry, that match
/// nothing, that start a new chat, and live-call transcript chunks.
async fn assistant_suite(base: &str, samples: usize, url: &str) {
    let client = reqwest::Client::new();
    let token = cc_token(&client, base).await;
    let questions = [
        "Grant qanday hujjatlar kerak?",
        "Kontrakt bo'lib to'lash mumkinmi?",
        "Yotoqxona qancha turadi?",
        "Imtihon natijasi qachon chiqadi?",
        "Stipendiya kimlar uchun?",
    ];
    let first: Value = client
        .post(format!("{base}/api/ai/chat"))
        .bearer_auth(&token)
        .json(&json!({"userId": "u_bench", "message": "Mening ismim Aziz"}))
        .send()
        .await
        .expect("first turn")
        .json()
        .await
        .expect("first body");
    let chat_id = first["chatId"].as_str().expect("chatId").to_string();
    let chat = format!("{base}/api/ai/chat");
    println!(
        "| scenario ({}) | median ms | p95 ms | max ms |\n|---|---:|---:|---:|",
        if url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" }
    );
    let (m, p, x) = time_posts(&client, &token, samples, |i| {
        let body = json!({"chatId": chat_id, "userId": "u_bench", "message": questions[i % questions.len()]});
        (chat.clone(), body)
    })
    .await;
    println!("| ai chat, answered from the knowledge base (same chat) | {m:.1} | {p:.1} | {x:.1} |");
    let (m, p, x) = time_posts(&client, &token, samples, |i| {
        (chat.clone(), json!({"userId": format!("u_bench{i}"), "message": questions[i % questions.len()]}))
    })
    .await;
    println!("| ai chat, new caller and chat each time | {m:.1} | {p:.1} | {x:.1} |");
    let (m, p, x) = time_posts(&client, &token, samples, |_| {
        (chat.clone(), json!({"chatId": chat_id, "userId": "u_bench", "message": "Ob-havo bugun qanaqa bo'ladi?"}))
    })
    .await;
    println!("| ai chat, nothing matches (clarifying question) | {m:.1} | {p:.1} | {x:.1} |");
    let call: Value = client
        .post(format!("{base}/api/ai/call/start"))
        .bearer_auth(&token)
        .json(&json!({"userId": "u_bench", "phoneNumber": "+998901112233", "direction": "inbound"}))
        .send()
        .await
        .expect("call start")
        .json()
        .await
        .expect("call body");
    let transcript = format!("{base}/api/ai/call/{}/transcript", call["callId"].as_str().expect("callId"));
    let (m, p, x) = time_posts(&client, &token, samples, |i| {
        let text = format!("User: {}", questions[i % questions.len()]);
        (transcript.clone(), json!({"sessionId": call["sessionId"], "transcript": text}))
    })
    .await;
    println!("| live call transcript chunk | {m:.1} | {p:.1} | {x:.1} |");
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
    let (workers, pool) = (args.workers.to_string(), args.pool.to_string());
    let mut overrides = vec![
        ("database_url", url.as_str()),
        ("port", "0"),
        ("workers", workers.as_str()),
        ("database_max_connections", pool.as_str()),
        ("admin_email", EMAIL),
        ("admin_password", PASSWORD),
        ("log_level", "error"),
    ];
    if args.suite == "webhooks" {
        overrides
            .extend([("webhook_allow_private_targets", "true"), ("rate_limit_authenticated_per_hour", "1000000000")]);
    }
    if args.suite == "http" || args.suite == "signin" || args.suite == "metrics" {
        // Production's password hashing, and quotas the load cannot reach.
        overrides.extend([
            ("password_hash_memory_kib", "19456"),
            ("password_hash_iterations", "2"),
            ("rate_limit_authenticated_per_hour", "1000000000"),
            ("rate_limit_anonymous_per_hour", "1000000000"),
        ]);
    }
    let settings = Settings::load_with("test", Path::new("config"), false, &overrides).expect("settings");
    let db = crm_server::startup::connect_and_migrate(&settings).await.expect("migrate");
    let services = crm_server::startup::services(db.clone(), &settings).expect("services");
    crm_server::startup::bootstrap_admin(&services, &settings).await.expect("admin");
    let owner = crm_server::startup::first_ceo(&db).await.expect("owner");

    if args.suite == "assistant" {
        if !args.reuse {
            let written = seed_knowledge(&db, args.qa).await.expect("seed Q&A");
            db.execute_unprepared("ANALYZE").await.expect("analyze");
            eprintln!("seeded {written} Q&A entries");
        }
        let running = crm_server::spawn(settings).await.expect("server");
        assistant_suite(&format!("http://127.0.0.1:{}", running.port), args.samples, &url).await;
        running.handle.stop(true).await;
        return;
    }
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
        if args.suite == "rest" {
            let plan = RestPlan { contacts: args.people, leads: args.people, catalogue: true, days: 365, batch: 1000 };
            seed_rest(&db, plan, owner, 8, &mut |stage, done, total| progress.update(stage, done, total))
                .await
                .expect("seed the REST records");
        }
        progress.finish();
        if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            // As after any bulk import: the trigram indexes packed, then statistics.
            persistence::maintenance::rebuild_search_indexes(&db).await.expect("reindex");
            db.execute_unprepared("VACUUM ANALYZE").await.expect("analyze");
        } else {
            db.execute_unprepared("ANALYZE").await.expect("analyze");
        }
        eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    }

    if args.suite == "metrics" {
        metrics_suite(settings, args.customers / 2, &args).await;
        return;
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
    if args.suite == "webhooks" {
        webhooks_suite(&client, &base, &token, &db, args.samples.max(50)).await;
        running.handle.stop(true).await;
        return;
    }
    if args.suite == "signin" {
        signin_burst(&base, args.burst_connections, Duration::from_secs(args.burst_seconds)).await;
        running.handle.stop(true).await;
        return;
    }
    if args.suite == "http" {
        http_suite(&client, &base, &token, customer_id, &args, &url).await;
        running.handle.stop(true).await;
        return;
    }
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
    let scenarios: Vec<(&str, String)> = if args.suite == "rest" {
        rest_scenarios(&client, &base, &token, customer_id).await
    } else if args.suite == "cims" {
        cims_scenarios(customer_id, args.customers)
    } else {
        crm_scenarios(customer_id, phone_fragment, year_ago, today)
    };
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
    if args.suite == "rest" {
        rest_actions(&client, &base, &token, args.samples).await;
        rest_exchange(&client, &base, &token, args.import_rows).await;
    }
    running.handle.stop(true).await;
}

/// The CRM v1 reads.
fn crm_scenarios(
    customer_id: u64,
    phone_fragment: &str,
    year_ago: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Vec<(&'static str, String)> {
    vec![
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
    ]
}

/// The CIMS workspace's reads: the dashboard's pages as the UI fetches them, its statistics,
/// the period chips and a detail.
fn cims_scenarios(customer_id: u64, customers: u64) -> Vec<(&'static str, String)> {
    let last = customers.div_ceil(50).max(1);
    vec![
        ("workspace dashboard, page 1 of 50", "/crm/dashboard?page=1&page_size=50&show_all=true".into()),
        ("workspace dashboard, page 1,000 of 50", "/crm/dashboard?page=1000&page_size=50&show_all=true".into()),
        ("workspace dashboard, last page", format!("/crm/dashboard?page={last}&page_size=50&show_all=true")),
        ("workspace stats", "/crm/stats".into()),
        ("workspace stats summary (five periods)", "/crm/customers/stats/summary".into()),
        ("period report, today", "/crm/customers/report/period?period=1d".into()),
        ("period report, 7 days", "/crm/customers/report/period?period=7d".into()),
        ("customer detail", format!("/crm/detail/{customer_id}")),
    ]
}

async fn get_json(client: &reqwest::Client, url: String, token: &str) -> Value {
    client.get(url).bearer_auth(token).send().await.expect("request").json().await.expect("json")
}

/// The CRM REST reads: every list, a filter, a search and a detail of each resource.
async fn rest_scenarios(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    account: u64,
) -> Vec<(&'static str, String)> {
    let contact = get_json(client, format!("{base}/api/crm/contacts/?page_size=1"), token).await;
    let contact_id = contact["results"][0]["id"].as_i64().expect("a contact");
    let phone = contact["results"][0]["phone"].as_str().expect("a phone").to_string();
    let lead = get_json(client, format!("{base}/api/crm/leads/?page_size=1"), token).await;
    let lead_email = lead["results"][0]["email"].as_str().expect("an e-mail").to_string();
    let stage = get_json(client, format!("{base}/api/deals/pipeline-stages/"), token).await["results"][2]["id"].clone();
    let deal = get_json(client, format!("{base}/api/deals/deals/?account={account}&page_size=1"), token).await;
    let deal_id = deal["results"][0]["id"].as_i64().expect("a deal");
    vec![
        ("accounts, page 1", "/api/crm/accounts/".into()),
        ("accounts, a page in the middle", format!("/api/crm/accounts/?page={}", (account / 20).max(1))),
        ("accounts, by territory and industry", "/api/crm/accounts/?territory=1&industry=Technology".into()),
        ("accounts, search one e-mail", format!("/api/crm/accounts/?search=customer{account}@")),
        ("account detail", format!("/api/crm/accounts/{account}/")),
        ("contacts, page 1", "/api/crm/contacts/".into()),
        ("contacts of one account", format!("/api/crm/contacts/?account={account}")),
        ("contacts, search one phone", format!("/api/crm/contacts/?search={}", &phone[1..])),
        ("contact detail", format!("/api/crm/contacts/{contact_id}/")),
        ("leads, page 1", "/api/crm/leads/".into()),
        ("leads, by status and source", "/api/crm/leads/?status=Qualified&lead_source=Referral".into()),
        ("leads, search one e-mail", format!("/api/crm/leads/?search={lead_email}")),
        ("deals, page 1", "/api/deals/deals/".into()),
        ("deals of one account", format!("/api/deals/deals/?account={account}")),
        ("deals, one stage", format!("/api/deals/deals/?stage={stage}")),
        ("deals, won", "/api/deals/deals/?status=Won".into()),
        ("deal detail (with stage history)", format!("/api/deals/deals/{deal_id}/")),
        ("pipeline stages", "/api/deals/pipeline-stages/".into()),
        ("activities, page 1", "/api/activities/activities/".into()),
        ("activities of one account", format!("/api/activities/activities/?account={account}")),
        ("tasks, overdue", "/api/activities/tasks/?overdue=true".into()),
        ("products", "/api/products/products/".into()),
        ("territories", "/api/territories/territories/".into()),
        ("analytics dashboard", "/api/analytics/dashboard/".into()),
        ("report: sales (12 months, JSON)", "/api/analytics/reports/?report_type=sales".into()),
        ("report: pipeline (JSON)", "/api/analytics/reports/?report_type=pipeline".into()),
        ("report: activities (JSON)", "/api/analytics/reports/?report_type=activities".into()),
        ("report: leads (JSON)", "/api/analytics/reports/?report_type=leads".into()),
        ("report: accounts (JSON)", "/api/analytics/reports/?report_type=accounts".into()),
        ("report: sales (PDF)", "/api/analytics/reports/?report_type=sales&format=pdf".into()),
        ("likely duplicates: accounts, page 1", "/api/crm/accounts/duplicates/".into()),
        ("likely duplicates: contacts, page 1", "/api/crm/contacts/duplicates/".into()),
        ("likely duplicates: leads, page 1", "/api/crm/leads/duplicates/".into()),
    ]
}

/// Exports every account as CSV (streamed), with the process's memory before and at its
/// peak, then imports `rows` new contacts from one CSV file: rows per second.
async fn rest_exchange(client: &reqwest::Client, base: &str, token: &str, rows: u64) {
    use crm_server::loadgen::{reset_peak_rss, rss_kib};
    let mib = |kib: u64| kib as f64 / 1024.0;
    let (before, _) = rss_kib().unwrap_or_default();
    reset_peak_rss();
    let started = Instant::now();
    let mut res =
        client.get(format!("{base}/api/crm/accounts/export/")).bearer_auth(token).send().await.expect("export");
    assert!(res.status().is_success(), "export: {}", res.status());
    let (mut bytes, mut lines) = (0usize, 0usize);
    while let Some(chunk) = res.chunk().await.expect("export chunk") {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    let (_, peak) = rss_kib().unwrap_or_default();
    println!(
        "\nCSV export of every account: {} rows, {:.1} MB in {:.2} s; RSS {:.0} MiB before, peak {:.0} MiB",
        lines.saturating_sub(1),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        mib(before),
        mib(peak)
    );
    let mut csv = String::from("first_name,last_name,email,phone,title\n");
    for i in 0..rows {
        csv.push_str(&format!("Import{i},Bench,import{i}@bench-import.uz,+99833{i:07},Buyer\n"));
    }
    let boundary = "----crmbenchboundary";
    let mut form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"contacts.csv\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    form.extend_from_slice(csv.as_bytes());
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    reset_peak_rss();
    let started = Instant::now();
    let res = client
        .post(format!("{base}/api/crm/contacts/import/"))
        .bearer_auth(token)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(form)
        .timeout(Duration::from_secs(3600))
        .send()
        .await
        .expect("import");
    let status = res.status();
    let report: Value = res.json().await.expect("import report");
    assert!(status.is_success(), "import: {status} {report}");
    let seconds = started.elapsed().as_secs_f64();
    let (_, peak) = rss_kib().unwrap_or_default();
    println!(
        "CSV import of {rows} new contacts: {} created, {} failed in {seconds:.1} s = {:.0} rows/s; RSS peak {:.0} MiB",
        report["created"],
        report["failed"],
        rows as f64 / seconds,
        mib(peak)
    );
}

/// The CRM REST actions: lead conversion (a different lead each time, with a deal) and
/// stage changes.
async fn rest_actions(client: &reqwest::Client, base: &str, token: &str, samples: usize) {
    let leads = get_json(client, format!("{base}/api/crm/leads/?page_size=100&status=New"), token).await;
    let ids: Vec<i64> = leads["results"].as_array().expect("leads").iter().filter_map(|l| l["id"].as_i64()).collect();
    assert!(ids.len() > samples + 3, "enough leads to convert");
    let (m, p, x) = time_posts(client, token, samples, |i| {
        let body = json!({"deal": {"name": "First order", "amount": 1000}});
        (format!("{base}/api/crm/leads/{}/convert/", ids[i]), body)
    })
    .await;
    println!("| lead conversion (account, contact and deal) | {m:.1} | {p:.1} | {x:.1} |");
    let stages = get_json(client, format!("{base}/api/deals/pipeline-stages/"), token).await;
    let stages: Vec<Value> = stages["results"].as_array().expect("stages").iter().map(|s| s["id"].clone()).collect();
    let deals = get_json(client, format!("{base}/api/deals/deals/?status=Open&page_size=100"), token).await;
    let deals: Vec<i64> = deals["results"].as_array().expect("deals").iter().filter_map(|d| d["id"].as_i64()).collect();
    let (m, p, x) = time_posts(client, token, samples, |i| {
        let body = json!({"stage": stages[i % (stages.len() - 1)], "notes": "moved by the bench"});
        (format!("{base}/api/deals/deals/{}/change-stage/", deals[i % deals.len()]), body)
    })
    .await;
    println!("| deal stage change | {m:.1} | {p:.1} | {x:.1} |");
}

/// A burst of `connections` concurrent sign-ins for `duration`: resident memory before, at
/// its peak, and 60 s after (the server runs in this process), and the sign-ins per second.
async fn signin_burst(base: &str, connections: usize, duration: Duration) {
    use crm_server::loadgen::{Target, closed_loop, reset_peak_rss, rss_kib};
    let mib = |kib: u64| kib as f64 / 1024.0;
    let target = Target {
        method: "POST",
        url: format!("{base}/api/auth/login"),
        token: None,
        body: Some(json!({"email": EMAIL, "password": PASSWORD}).to_string()),
    };
    let Some((before, _)) = rss_kib() else {
        println!("\nsign-in burst: resident memory is only measured on Linux");
        return;
    };
    reset_peak_rss();
    let load = closed_loop(&target, connections, duration).await;
    let (_, peak) = rss_kib().unwrap_or_default();
    tokio::time::sleep(Duration::from_secs(60)).await;
    let (after, _) = rss_kib().unwrap_or_default();
    println!(
        "\nsign-in burst, {connections} concurrent for {} s: {:.0} sign-ins/s (p50 {:.0} ms, p99 {:.0} ms, {} errors); \
         RSS before {:.0} MiB, peak {:.0} MiB, 60 s after {:.0} MiB",
        duration.as_secs(),
        load.requests_per_sec,
        load.p50_ms,
        load.p99_ms,
        load.errors,
        mib(before),
        mib(peak),
        mib(after)
    );
}

/// A local webhook receiver answering 204 and counting what it got; its base URL.
async fn receiver(count: std::sync::Arc<std::sync::atomic::AtomicU64>) -> String {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("receiver port");
    let port = listener.local_addr().expect("receiver address").port();
    let server = HttpServer::new(move || {
        let count = count.clone();
        App::new().default_service(web::to(move || {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            async { HttpResponse::NoContent().finish() }
        }))
    })
    .workers(1)
    .listen(listener)
    .expect("receiver listens")
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}/hook")
}

/// What the outbox costs a customer create (without, then with a webhook subscribed to every
/// event), and how fast one replica's worker drains 5,000 queued deliveries to a local receiver.
async fn webhooks_suite(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    db: &sea_orm::DatabaseConnection,
    samples: usize,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let create =
        |i: usize, tag: &str| (format!("{base}/api/v1/customers"), json!({"name": format!("Bench {tag} {i}")}));
    let (plain, plain95, _) = time_posts(client, token, samples, |i| create(i, "plain")).await;
    let count = Arc::new(AtomicU64::new(0));
    let url = receiver(count.clone()).await;
    let hook = json!({"name": "bench", "url": url, "events": ["*"]});
    let res = client
        .post(format!("{base}/api/integrations/webhooks/"))
        .bearer_auth(token)
        .json(&hook)
        .send()
        .await
        .expect("webhook");
    assert!(res.status().is_success(), "webhook: {}", res.status());
    let (hooked, hooked95, _) = time_posts(client, token, samples, |i| create(i, "hooked")).await;
    println!("| customer create (POST /api/v1/customers) | median ms | p95 ms |\n|---|---:|---:|");
    println!(
        "| no webhook | {plain:.2} | {plain95:.2} |\n| a webhook subscribed to every event | {hooked:.2} | {hooked95:.2} |"
    );
    println!("\nthe outbox adds {:.2} ms at the median", hooked - plain);
    // Let the creates' deliveries finish, then queue 5,000 at once and time the drain.
    let started = Instant::now();
    while count.load(Ordering::Relaxed) < (samples + 3) as u64 * 2 && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = count.load(Ordering::Relaxed);
    let webhook: i64 = {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT MAX(id) AS id FROM webhooks",
            ))
            .await
            .expect("webhook id")
            .expect("a webhook");
        row.try_get("", "id").expect("id")
    };
    let n = 5_000;
    let txn = sea_orm::TransactionTrait::begin(db).await.expect("begin");
    for chunk in 0..(n / 500) {
        let events: Vec<String> = (0..500)
            .map(|i| {
                format!(
                    "('account.updated', 'account:bench{}', '{{\"id\": {}}}', CURRENT_TIMESTAMP)",
                    chunk * 500 + i,
                    i
                )
            })
            .collect();
        txn.execute_unprepared(&format!(
            "INSERT INTO webhook_events (event, entity_key, payload, created_at) VALUES {}",
            events.join(", ")
        ))
        .await
        .expect("events");
    }
    txn.execute_unprepared(&format!(
        "INSERT INTO webhook_deliveries (webhook_id, event_id, entity_key, status, attempts, next_attempt_at, created_at) \
         SELECT {webhook}, id, entity_key, 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM webhook_events WHERE entity_key LIKE 'account:bench%'"
    ))
    .await
    .expect("deliveries");
    txn.commit().await.expect("commit");
    let started = Instant::now();
    while count.load(Ordering::Relaxed) < before + n as u64 && started.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered = count.load(Ordering::Relaxed) - before;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "one worker delivered {delivered} queued events in {seconds:.2} s = {:.0} events/s",
        delivered as f64 / seconds
    );
}

/// Throughput at `--connections` keep-alive connections: `/health` (the HTTP stack's
/// ceiling), the single-record reads, the lists and catalogs, and sign-in, then `pgbench -S`
/// on the same PostgreSQL server.
async fn http_suite(client: &reqwest::Client, base: &str, token: &str, customer_id: u64, args: &Args, url: &str) {
    use crm_server::loadgen::{Target, drive};
    for i in 0..5 {
        let body = json!({"email": format!("manager{i}@bench.uz"), "password": PASSWORD, "name": format!("Manager {i}"), "role": "sales_manager"});
        let res = client.post(format!("{base}/api/system-config/users/")).bearer_auth(token).json(&body).send().await;
        assert!(res.expect("create a sales manager").status().is_success());
    }
    let deals = get_json(client, format!("{base}/api/v1/deals?limit=1"), token).await;
    let deal_id = deals["data"]["deals"][0]["id"].as_i64().expect("a seeded deal");
    let get = |path: String, auth: bool| Target {
        method: "GET",
        url: format!("{base}{path}"),
        token: auth.then(|| token.to_string()),
        body: None,
    };
    let targets = [
        ("GET /health", get("/health".into(), false)),
        ("GET /api/v1/customers/{id}", get(format!("/api/v1/customers/{customer_id}"), true)),
        ("GET /api/v1/deals/{id}", get(format!("/api/v1/deals/{deal_id}"), true)),
        ("GET /auth/me", get("/auth/me".into(), true)),
        ("GET /api/v1/customers?page=1&limit=10", get("/api/v1/customers?page=1&limit=10".into(), true)),
        ("GET /management/statuses", get("/management/statuses".into(), true)),
        ("GET /crm/conversion-rate", get("/crm/conversion-rate".into(), true)),
        ("GET /crm/sales-managers", get("/crm/sales-managers".into(), true)),
        ("GET /api/v1/analytics/dashboard", get("/api/v1/analytics/dashboard".into(), true)),
        (
            "POST /api/auth/login",
            Target {
                method: "POST",
                url: format!("{base}/api/auth/login"),
                token: None,
                body: Some(json!({"email": EMAIL, "password": PASSWORD}).to_string()),
            },
        ),
    ];
    let engine = if url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" };
    println!(
        "{} connections, {} s per endpoint, {} HTTP workers, pool {}, {engine}\n",
        args.connections, args.seconds, args.workers, args.pool
    );
    println!(
        "| endpoint | req/s | p50 ms | p99 ms | of /health | errors | driver |\n|---|---:|---:|---:|---:|---:|---|"
    );
    let mut health = None;
    for (name, target) in &targets {
        drive(target, args.connections, Duration::from_secs(1)).await;
        let (driver, load) = drive(target, args.connections, Duration::from_secs(args.seconds)).await;
        let ceiling = *health.get_or_insert(load.requests_per_sec);
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.0}% | {} | {driver} |",
            load.requests_per_sec,
            load.p50_ms,
            load.p99_ms,
            100.0 * load.requests_per_sec / ceiling,
            load.errors
        );
    }
    signin_burst(base, args.burst_connections, Duration::from_secs(args.burst_seconds)).await;
    if !url.starts_with("sqlite") {
        match crm_server::loadgen::pgbench(&args.database, args.connections, Duration::from_secs(args.seconds)) {
            Some(tps) => println!("\npgbench -S -M prepared, {} clients, same server: {tps:.0} TPS", args.connections),
            None => println!("\npgbench not available: no database ceiling measured"),
        }
    }
}

/// The cost of `/metrics` on the hottest read: one server without metrics (started first, so
/// no recorder exists for it) and one with them, on one database, measured in turns.
async fn metrics_suite(settings: Settings, customer_id: u64, args: &Args) {
    use crm_server::loadgen::{Target, drive};
    let mut quiet = settings.clone();
    quiet.raw.metrics_enabled = false;
    let without = crm_server::spawn(quiet).await.expect("server without metrics");
    let with = crm_server::spawn(settings).await.expect("server with metrics");
    let client = reqwest::Client::new();
    let target = |port: u16, token: &str| Target {
        method: "GET",
        url: format!("http://127.0.0.1:{port}/api/v1/customers/{customer_id}"),
        token: Some(token.to_string()),
        body: None,
    };
    let mut targets = Vec::new();
    for port in [without.port, with.port] {
        targets.push(target(port, &cc_token(&client, &format!("http://127.0.0.1:{port}")).await));
    }
    let scrape = client.get(format!("http://127.0.0.1:{}/metrics", with.port)).send().await.expect("scrape");
    assert!(scrape.status().is_success(), "the counted server serves /metrics");
    println!(
        "GET /api/v1/customers/{{id}}, {} connections, {} s per turn, {} HTTP workers\n",
        args.connections, args.seconds, args.workers
    );
    println!("| turn | without metrics req/s | with metrics req/s | cost |\n|---|---:|---:|---:|");
    let (mut all_without, mut all_with) = (Vec::new(), Vec::new());
    for turn in 1..=3 {
        let mut rates = [0.0; 2];
        for (i, target) in targets.iter().enumerate() {
            drive(target, args.connections, Duration::from_secs(1)).await;
            rates[i] = drive(target, args.connections, Duration::from_secs(args.seconds)).await.1.requests_per_sec;
        }
        println!("| {turn} | {:.0} | {:.0} | {:.1}% |", rates[0], rates[1], 100.0 * (1.0 - rates[1] / rates[0]));
        all_without.push(rates[0]);
        all_with.push(rates[1]);
    }
    let (a, b) = (all_without.iter().sum::<f64>(), all_with.iter().sum::<f64>());
    println!("| all | {:.0} | {:.0} | {:.1}% |", a / 3.0, b / 3.0, 100.0 * (1.0 - b / a));
    without.handle.stop(true).await;
    with.handle.stop(true).await;
}
