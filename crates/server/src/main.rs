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
    let result = match cli.command.unwrap_or(Command::Serve) {
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
