//! The `savecorp` command line (PRODUCT §11).

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::app::settings::ServeConfig;
use crate::app::Application;
use crate::platform::config::DatabaseConfig;
use crate::platform::shutdown::cancel_on_signals;

pub mod admin;
mod database;
pub mod demo;
pub mod projections;

#[derive(Parser, Debug)]
#[command(
    name = "savecorp",
    version,
    about = "SaveCorp call center and backup monitoring backend"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (HTTP + GraphQL), migrating the database first.
    #[command(after_help = LOGGING_HELP)]
    Serve(Box<ServeConfig>),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseConfig),
    /// Open psql on the server's database (embedded or DATABASE_URL); safe while the server
    /// runs. Arguments after `--` go to psql (`savecorp psql -- -c 'SELECT 1'`).
    Psql {
        #[command(flatten)]
        database: DatabaseConfig,
        /// Arguments passed to psql.
        #[arg(last = true)]
        psql_args: Vec<String>,
    },
    /// Simulate Asterisk with agents and callers against a running server (for demos);
    /// `--demo` also fills the server with agents, customers and backups.
    Simulate(demo::SimulateArgs),
    /// Manage admins (`admin create --email E`).
    Admin(admin::AdminArgs),
    /// Rebuild read models from the log, or show where they stand.
    Projections(projections::ProjectionsArgs),
    /// Print the GraphQL schema (SDL) on stdout, for clients' code generators.
    Schema,
}

/// The logging variables, read before the command line (not flags).
const LOGGING_HELP: &str = "Logging:\n  \
    RUST_LOG             what is logged (default: info), e.g. `info,api::telephony=debug`\n  \
    SAVECORP_LOG_FORMAT  `json` for one JSON object per line (default: text)";

/// Exit status of a setting refused before starting (as for a bad flag).
const EXIT_BAD_SETTING: u8 = 2;

/// Parses the command line, checks the settings, runs the command, and turns an error into one
/// line on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(invalid) = validate(&cli.command) {
        eprintln!("error: {invalid}");
        return ExitCode::from(EXIT_BAD_SETTING);
    }
    init_tracing();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

/// Every setting of `command` that can be checked before starting anything.
fn validate(command: &Command) -> Result<(), crate::platform::config::InvalidSetting> {
    match command {
        Command::Serve(config) => config.validate(),
        Command::Migrate(database) | Command::Psql { database, .. } => database.validate(),
        Command::Admin(args) => match &args.command {
            admin::AdminCommand::Create { database, .. } => database.validate(),
        },
        Command::Projections(args) => args.database.validate(),
        Command::Simulate(_) | Command::Schema => Ok(()),
    }
}

/// The error and its causes on one line, each cause once (a message often repeats its
/// source's text).
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(config) => {
            let application = Application::build(&config).await?;
            let shutdown = CancellationToken::new();
            cancel_on_signals(shutdown.clone());
            application.run_until_stopped(shutdown).await
        }
        Command::Migrate(config) => {
            let database = database::open(&config).await?;
            let migrated = database.migrate().await;
            database.close().await;
            migrated?;
            println!("migrations applied");
            Ok(())
        }
        Command::Simulate(args) => demo::run(args).await,
        Command::Psql {
            database: config,
            psql_args,
        } => {
            let database = database::open(&config).await?;
            let url = database.url.clone();
            let status = tokio::process::Command::new("psql")
                .arg(&url)
                .args(&psql_args)
                .status()
                .await
                .context("cannot run psql (is the PostgreSQL client installed?)");
            database.close().await;
            let status = status?;
            anyhow::ensure!(status.success(), "psql exited with {status}");
            Ok(())
        }
        Command::Admin(args) => admin::run(args).await,
        Command::Projections(args) => projections::run(args.command, &args.database).await,
        Command::Schema => {
            print!("{}", crate::transport::graphql::sdl());
            Ok(())
        }
    }
}

/// Logs to stderr; `RUST_LOG` filters (default `info`, without PostgreSQL's NOTICEs such as
/// "relation already exists, skipping"), `SAVECORP_LOG_FORMAT=json` for JSON lines.
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if std::env::var("SAVECORP_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
