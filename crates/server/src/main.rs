//! The `crm-server` binary: serves HTTP, applies migrations, or creates a user.

use clap::{Parser, Subcommand};
use crm_server::settings::Settings;
use crm_server::startup;
use management_core::NewUser;
use std::process::ExitCode;

/// One backend for the CRM, the AI call center and management.
#[derive(Parser)]
#[command(name = "crm-server", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP (the default): migrate, create the first administrator, listen on HOST:PORT.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Fill the database with demo customers, deals and activities (idempotent).
    SeedDemo,
    /// Print the effective configuration (profile, sources, every key) with secrets hidden.
    Config,
    /// Rebuild the search indexes (PostgreSQL; safe while the server runs): after bulk imports,
    /// or monthly on a busy database.
    Reindex,
    /// Create a staff user and exit.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        name: String,
        /// A role of the catalog: ceo, admin, financial_director, sales_manager, supervisor, operator, member, customer, user.
        #[arg(long, default_value = "user")]
        role: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("crm-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    crm_server::telemetry::init(&settings.raw.log_level, settings.raw.log_format == "json");
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Config = command {
        println!("# profile: {}", settings.env);
        println!("# sources, later over earlier: {}", settings.sources.join(", "));
        for line in settings.redacted_lines() {
            println!("{line}");
        }
        return ExitCode::SUCCESS;
    }
    tracing::info!(profile = %settings.env, sources = %settings.sources.join(", "), "configuration loaded");
    let result = match command {
        Command::Config => Ok(()),
        Command::Serve => serve(settings).await,
        Command::Migrate => startup::connect_and_migrate(&settings).await.map(|_| {
            tracing::info!("migrations applied");
        }),
        Command::SeedDemo => seed_demo(settings).await,
        Command::Reindex => reindex(settings).await,
        Command::CreateUser { email, password, name, role } => create_user(settings, email, password, name, role).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("crm-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), startup::StartupError> {
    let running = startup::spawn(settings).await?;
    match running.join.await {
        Ok(Ok(())) => {
            tracing::info!("stopped");
            Ok(())
        }
        Ok(Err(e)) => Err(startup::StartupError::Other(format!("server error: {e}"))),
        Err(e) => Err(startup::StartupError::Other(format!("server task failed: {e}"))),
    }
}

async fn create_user(
    settings: Settings,
    email: String,
    password: String,
    name: String,
    role: String,
) -> Result<(), startup::StartupError> {
    let db = startup::connect_and_migrate(&settings).await?;
    let services = startup::services(db, &settings)?;
    let new_user = NewUser { email, password, name: Some(name), role: Some(role), ..NewUser::default() };
    let user = services
        .users
        .create_unchecked(new_user)
        .await
        .map_err(|e| startup::StartupError::Other(format!("create-user: {e}")))?;
    println!("created user {} <{}> with role {}", user.id, user.email, user.role);
    Ok(())
}

async fn reindex(settings: Settings) -> Result<(), startup::StartupError> {
    let db = startup::connect_and_migrate(&settings).await?;
    let rebuilt = persistence::maintenance::rebuild_search_indexes(&db)
        .await
        .map_err(|e| startup::StartupError::Other(format!("reindex: {e}")))?;
    if rebuilt.is_empty() {
        println!("no search indexes to rebuild (SQLite searches without them)");
    }
    for name in rebuilt {
        println!("rebuilt {name}");
    }
    Ok(())
}

async fn seed_demo(settings: Settings) -> Result<(), startup::StartupError> {
    use persistence::seed::demo_present;
    use persistence::seed_callcenter::{CallcenterPlan, callcenter_demo_present, seed_callcenter};
    let db = startup::connect_and_migrate(&settings).await?;
    let services = startup::services(db.clone(), &settings)?;
    startup::bootstrap_admin(&services, &settings).await?;
    let fail = |e: sea_orm::DbErr| startup::StartupError::Other(format!("seed-demo: {e}"));
    if demo_present(&db).await.map_err(fail)? {
        println!("CRM demo data is already present");
    } else {
        seed_crm_demo(&db).await.map_err(fail)?;
    }
    seed_workspace_demo(&services).await?;
    if callcenter_demo_present(&db).await.map_err(fail)? {
        println!("call-center demo data is already present");
    } else {
        let plan = CallcenterPlan { callers: 60, chats: 250, calls: 600, days: 60 };
        let r = seed_callcenter(&db, plan, 7).await.map_err(fail)?;
        println!(
            "call-center demo data: {} callers, {} chats ({} messages), {} calls",
            r.callers, r.chats, r.messages, r.calls
        );
    }
    Ok(())
}

/// The CIMS workspace's demo: three sales managers (passwords printed once), and 36 customers
/// made through the workspace itself, so each takes its rotation turn, across the six lead
/// statuses and four platforms, with status changes, notes and, for every fourth, a recording.
async fn seed_workspace_demo(services: &startup::Services) -> Result<(), startup::StartupError> {
    use crm_core::workspace::{AudioUpload, CustomerForm, WorkspaceFilter};
    use management_core::{Permission, Principal};
    let fail = |e: kernel::DomainError| startup::StartupError::Other(format!("seed-demo (workspace): {e}"));
    let Some(owner) =
        startup::first_ceo(&services.db).await.map_err(|e| startup::StartupError::Other(e.to_string()))?
    else {
        return Ok(());
    };
    let ceo = Principal {
        user_id: owner,
        role: "ceo".into(),
        permissions: Permission::ALL.to_vec(),
        jti: "seed-demo".into(),
        session_id: "seed-demo".into(),
        expires_at: i64::MAX,
    };
    let existing = WorkspaceFilter { platform: Some("telegram".into()), ..Default::default() };
    if services.workspace.list(&ceo, &existing, kernel::PageRequest::new(1, 1)).await.map_err(fail)?.total > 0 {
        println!("CIMS workspace demo data is already present");
        return Ok(());
    }
    for (email, first, last) in [
        ("dilnoza.sales@example.com", "Dilnoza", "Rahimova"),
        ("jasur.sales@example.com", "Jasur", "Toshpulatov"),
        ("madina.sales@example.com", "Madina", "Yusupova"),
    ] {
        let password = startup::generate_password();
        let made = services
            .users
            .create_unchecked(NewUser {
                email: email.into(),
                password: password.clone(),
                name: Some(format!("{first} {last}")),
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                role: Some("sales_manager".into()),
            })
            .await;
        match made {
            Ok(_) => println!("sales manager {email} / {password}"),
            Err(e) => println!("sales manager {email} not created: {e}"),
        }
    }
    let names = [
        "Aziz Karimov",
        "Nodira Saidova",
        "Bekzod Aliyev",
        "Gulnora Xolmatova",
        "Sardor Rustamov",
        "Shahnoza Qodirova",
        "Oʻtkir Gʻofurov",
        "Малика Юсупова",
        "John Miller",
        "Feruza Ergasheva",
        "Ulugʻbek Nazarov",
        "Дмитрий Ким",
    ];
    let platforms = ["telegram", "instagram", "whatsapp", "website"];
    let statuses = ["need_to_call", "contacted", "project_started", "continuing", "finished", "rejected"];
    let languages = ["uz", "ru", "en"];
    let mut made = 0;
    for i in 0..36usize {
        let name = format!("{} {}", names[i % names.len()], i / names.len() + 1);
        let audio = (i % 4 == 0).then(|| AudioUpload { file_name: Some(format!("call-{i}.wav")), data: demo_wav(i) });
        let form = CustomerForm {
            full_name: Some(name),
            platform: Some(platforms[i % platforms.len()].into()),
            phone_number: Some(format!("+9989{:08}", 10_000_000 + i * 7_919)),
            status: Some("need_to_call".into()),
            username: Some(format!("client_{i}")),
            assistant_name: Some(if i % 2 == 0 { "Cogni" } else { "Aida" }.into()),
            notes: Some(format!("Lead from AI Bot | Job: {}", ["website", "CRM", "chat bot", "mobile app"][i % 4])),
            conversation_language: Some(languages[i % languages.len()].into()),
            recall_time: (i % 5 == 0)
                .then(|| (chrono::Utc::now() + chrono::Duration::days((i % 3) as i64)).to_rfc3339()),
            audio,
            ..Default::default()
        };
        let id = services.workspace.create(&ceo, form).await.map_err(fail)?;
        // By thirds, so each of the three sales managers in turn gets leads in every status.
        let status = statuses[(i / 3) % statuses.len()];
        if status != "need_to_call" {
            let change = CustomerForm { status: Some(status.into()), ..Default::default() };
            services.workspace.update(&ceo, id, change).await.map_err(fail)?;
        }
        if (i / 3) % 3 != 2 {
            let text = ["Called, asked for a price list", "Sent the proposal", "Meeting on Friday"][i % 3];
            services.workspace.add_note(&ceo, id, Some(text)).await.map_err(fail)?;
        }
        made += 1;
    }
    println!("CIMS workspace demo data: {made} customers with notes, status changes and recordings");
    Ok(())
}

/// A short, real WAV recording (a tone whose pitch depends on `seed`).
fn demo_wav(seed: usize) -> Vec<u8> {
    let rate = 8_000u32;
    let samples: Vec<i16> = (0..rate)
        .map(|n| {
            let t = n as f32 / rate as f32;
            ((t * (300.0 + seed as f32 * 20.0) * std::f32::consts::TAU).sin() * 8_000.0) as i16
        })
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// 300 customers, 2,000 deals and 1,000 activities over the last year; the demo company, 400
/// contacts, 150 leads, territories, products, tasks and events around them.
async fn seed_crm_demo(db: &persistence::Database) -> Result<(), sea_orm::DbErr> {
    use persistence::seed::{SeedPlan, seed_crm};
    use persistence::seed_rest::{RestPlan, seed_rest};
    let owner = startup::first_ceo(db).await?;
    let plan = SeedPlan { customers: 300, deals: 2_000, activities: 1_000, days: 365, batch: 500 };
    let mut progress = crm_server::progress::Progress::new();
    let report = seed_crm(db, plan, owner, 42, &mut |stage, done, total| progress.update(stage, done, total)).await?;
    let rest = RestPlan { contacts: 400, leads: 150, catalogue: true, days: 365, batch: 500 };
    let extra = seed_rest(db, rest, owner, 43, &mut |stage, done, total| progress.update(stage, done, total)).await?;
    progress.finish();
    println!("demo data: {} customers, {} deals, {} activities", report.customers, report.deals, report.activities);
    println!(
        "demo data: {} companies, {} contacts, {} leads, {} territories, {} products, {} tasks, {} events",
        extra.companies, extra.contacts, extra.leads, extra.territories, extra.products, extra.tasks, extra.events
    );
    Ok(())
}
