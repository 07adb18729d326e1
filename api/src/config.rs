//! Configuration, read once from flags and the environment (PRODUCT §11) and passed down.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// Where the database is. Shared by every subcommand that needs it.
#[derive(Args, Clone, Debug)]
pub struct DatabaseConfig {
    /// PostgreSQL URL. Absent: an embedded cluster in the `pg/` folder of the data folder,
    /// started with the PostgreSQL binaries found on this machine.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// The data folder: embedded PostgreSQL cluster, generated JWT secret, mail files.
    #[arg(long, env = "SAVECORP_DATA_DIR", default_value = "./var")]
    pub data_dir: PathBuf,

    /// Connections in the server's pool.
    #[arg(long, env = "SAVECORP_DB_CONNECTIONS", default_value_t = 16)]
    pub db_connections: u32,
}

/// Everything `savecorp serve` needs.
#[derive(Args, Clone, Debug)]
pub struct ServeConfig {
    #[command(flatten)]
    pub database: DatabaseConfig,

    /// Address the HTTP server listens on (`127.0.0.1:0` picks a free port).
    #[arg(long, env = "SAVECORP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Asterisk ARI base URL, e.g. `http://127.0.0.1:8088/ari`. Absent: no telephony.
    #[arg(long, env = "ARI_URL")]
    pub ari_url: Option<String>,

    /// ARI user.
    #[arg(long, env = "ARI_USER", default_value = "asterisk")]
    pub ari_user: String,

    /// ARI password.
    #[arg(long, env = "ARI_PASSWORD", hide_env_values = true, default_value = "")]
    pub ari_password: String,

    /// Stasis application name.
    #[arg(long, env = "ARI_APP", default_value = "callcenter")]
    pub ari_app: String,

    /// SMTP server (`smtp://host:port`, `smtps://…` for TLS). Absent: mails go to `.eml` files
    /// in the data folder.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Secret that signs access tokens. Absent: generated once and kept in the data folder.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    #[command(flatten)]
    pub backup: Box<crate::backup::BackupConfig>,

    #[command(flatten)]
    pub mail: Box<crate::mail::MailConfig>,
}

impl ServeConfig {
    /// A configuration for tests: a given database, a free port, no telephony, no SMTP.
    pub fn for_tests(database_url: String, data_dir: PathBuf) -> Self {
        Self {
            database: DatabaseConfig {
                database_url: Some(database_url),
                data_dir,
                db_connections: 8,
            },
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ari_url: None,
            ari_user: "asterisk".into(),
            ari_password: String::new(),
            ari_app: "callcenter".into(),
            smtp_url: None,
            jwt_secret: Some("test-secret-not-for-production".into()),
            backup: Box::default(),
            mail: Box::default(),
        }
    }
}
