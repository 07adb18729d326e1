//! `savecorp admin create --email E`: creates an admin; the password comes from
//! `SAVECORP_ADMIN_PASSWORD` or the first line of standard input (never from a flag).

use std::io::BufRead as _;

use clap::{Args, Subcommand};

use crate::auth::bootstrap::{create_admin, Bootstrapped};
use crate::platform::config::DatabaseConfig;

#[derive(Args, Debug)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create an admin (the password from SAVECORP_ADMIN_PASSWORD or standard input).
    Create {
        /// The admin's email (the login).
        #[arg(long)]
        email: String,
        #[command(flatten)]
        database: DatabaseConfig,
    },
}

pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    match args.command {
        AdminCommand::Create { email, database } => {
            let password = match std::env::var("SAVECORP_ADMIN_PASSWORD") {
                Ok(password) if !password.is_empty() => password,
                _ => read_password_line()?,
            };
            let opened = super::database::open(&database).await?;
            let result = async {
                opened.migrate().await?;
                create_admin(&opened.pool, &email, &password, false).await
            }
            .await;
            opened.close().await;
            match result? {
                Bootstrapped::Created(worker_id) => println!("admin created: {worker_id}"),
                Bootstrapped::AdminExists => println!("an admin exists already"),
            }
            Ok(())
        }
    }
}

fn read_password_line() -> anyhow::Result<String> {
    eprintln!("password (10 to 128 characters), then Enter:");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(!password.is_empty(), "no password given on standard input");
    Ok(password)
}
