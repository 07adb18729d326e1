//! `savecorp projections rebuild [NAME]`, `savecorp projections status` and
//! `savecorp projections snapshot [TYPE]`.

use std::io::Write as _;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use journal::EventStore;
use projections::projector;
use projections::rebuild::{self, RebuildProgress};

use crate::platform::config::DatabaseConfig;
use crate::platform::db::Database;

/// `savecorp projections …`.
#[derive(Args, Debug)]
pub struct ProjectionsArgs {
    #[command(subcommand)]
    pub command: ProjectionsCommand,
    #[command(flatten)]
    pub database: DatabaseConfig,
}

#[derive(Subcommand, Debug)]
pub enum ProjectionsCommand {
    /// Rebuild one read model (or all) from the log into shadow tables and swap them in; the
    /// server may keep running meanwhile.
    Rebuild {
        /// workers, customers, calls, queue, requests, backups or kpis; all when absent.
        name: Option<String>,
    },
    /// Print each projection's checkpoint and lag (events behind the head of the log).
    Status,
    /// Snapshot, now, every aggregate whose events go past its snapshot (aggregate snapshots
    /// are otherwise taken every SAVECORP_SNAPSHOT_EVERY events); the server may keep running.
    Snapshot {
        /// worker, customer, call or request; all four when absent.
        aggregate_type: Option<String>,
    },
}

/// Runs a projections subcommand against the configured database.
pub async fn run(command: ProjectionsCommand, config: &DatabaseConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "data folder {} cannot be created",
            config.data_dir.display()
        )
    })?;
    let database = Database::open(
        config.database_url.as_deref(),
        &config.data_dir,
        config.db_connections.min(4),
    )
    .await?;
    let result = run_on(command, &database, config.snapshot_every).await;
    database.close().await;
    result
}

async fn run_on(
    command: ProjectionsCommand,
    database: &Database,
    snapshot_every: u32,
) -> anyhow::Result<()> {
    match command {
        ProjectionsCommand::Snapshot { aggregate_type } => {
            snapshot(database, snapshot_every, aggregate_type.as_deref()).await
        }
        ProjectionsCommand::Status => {
            println!(
                "{:<12} {:>12} {:>14} {:>10}",
                "projection", "tx_id", "position", "lag"
            );
            for status in projector::status(&database.pool).await? {
                println!(
                    "{:<12} {:>12} {:>14} {:>10}",
                    status.name, status.checkpoint.tx_id, status.checkpoint.position, status.lag
                );
            }
            Ok(())
        }
        ProjectionsCommand::Rebuild { name } => {
            database.migrate().await?;
            let store =
                EventStore::new(database.pool.clone()).with_upcasters(journal::upcast::upcasters());
            let mut print = |progress: &RebuildProgress| {
                let eta = progress
                    .eta()
                    .map_or("-".to_owned(), |eta| format!("{}s", eta.as_secs()));
                eprint!(
                    "\r{:<12} {:>9}/{:<9} {:>8.0} events/s  eta {:<8}",
                    progress.projection,
                    progress.done,
                    progress.total,
                    progress.rate(),
                    eta
                );
                let _ = std::io::stderr().flush();
            };
            let reports = rebuild::rebuild_named(&store, name.as_deref(), &mut print).await?;
            eprintln!();
            for report in reports {
                println!(
                    "{} rebuilt: {} events in {:.1}s",
                    report.projection,
                    report.events,
                    report.elapsed.as_secs_f64()
                );
            }
            Ok(())
        }
    }
}

/// `savecorp projections snapshot [TYPE]`.
async fn snapshot(
    database: &Database,
    snapshot_every: u32,
    aggregate_type: Option<&str>,
) -> anyhow::Result<()> {
    use domain::customer::Customer;
    use domain::request::Request;
    use domain::worker::Worker;
    const TYPES: [&str; 3] = ["worker", "customer", "request"];
    if let Some(name) = aggregate_type {
        anyhow::ensure!(
            TYPES.contains(&name),
            "unknown aggregate type `{name}`: one of {}",
            TYPES.join(", ")
        );
    }
    let policy = journal::SnapshotPolicy::every(snapshot_every).context(
        "snapshots are off (SAVECORP_SNAPSHOT_EVERY=0): set it to the interval the server uses",
    )?;
    database.migrate().await?;
    let store = EventStore::new(database.pool.clone())
        .with_upcasters(journal::upcast::upcasters())
        .with_snapshots(Some(policy));
    for name in TYPES {
        if aggregate_type.is_some_and(|wanted| wanted != name) {
            continue;
        }
        let written = match name {
            "worker" => store.snapshot_all::<Worker>().await?,
            "customer" => store.snapshot_all::<Customer>().await?,
            _ => store.snapshot_all::<Request>().await?,
        };
        println!("{name}: {written} snapshots written");
    }
    Ok(())
}
