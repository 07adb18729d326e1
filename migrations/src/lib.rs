//! All DDL of SaveCorp: the `sql/` folder holds sqlx migrations, embedded into the binary.
//!
//! Architecture Invariant: no other crate creates or alters a table. A migration is never edited
//! once it has been applied anywhere; changes come as new files.

/// The embedded migrations, in file-name order.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./sql");

/// Applies every pending migration. Safe to call from several processes at once: sqlx takes an
/// advisory lock for the duration.
pub async fn run(pool: &sqlx::PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}
