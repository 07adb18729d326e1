//! Mail (PRODUCT §6): run reports, overdue, failed and recovered alerts, the welcome mail for a new
//! ingest token. An outbox fed from committed events (one message per event, at most once)
//! and a sender loop with retries; SMTP from `SMTP_URL` (plain, implicit TLS with `smtps://`,
//! STARTTLS with `?tls=required`; rustls, webpki roots plus `SMTP_CA_FILE`), else `.eml` files
//! in `<data_dir>/mail/` (0600 files in a 0700 folder: they name customers and their addresses).
//!
//! - [`outbox`]: the process manager turning events into outbox rows; the admins' read.
//! - [`templates`]: subject, plain text and HTML of each message.
//! - [`sender`]: delivery with exponential backoff, attempts and last error recorded.
//!
//! Architecture Invariant: a message's Message-ID derives from its event id and a row is unique
//! per event, so neither a retry nor a restart sends a second, different message. Tokens never
//! appear in a mail; the SMTP URL (it may hold a password) never appears in a log line or an
//! error message.

pub mod outbox;
pub mod sender;
pub mod templates;

use std::path::PathBuf;

use clap::Args;

/// Mail settings (`SMTP_URL` itself is in `app::settings::ServeConfig`).
#[derive(Args, Clone, Debug)]
pub struct MailConfig {
    /// Sender address of every mail.
    #[arg(
        long,
        env = "SAVECORP_MAIL_FROM",
        default_value = "SaveCorp Backup <backup@savecorp.localhost>"
    )]
    pub mail_from: String,

    /// Delay before the first retry of a failed delivery, doubled on each further failure, in
    /// milliseconds.
    #[arg(long, env = "SAVECORP_MAIL_RETRY_BASE_MS", default_value_t = 30_000)]
    pub mail_retry_base_ms: u64,

    /// Longest delay between two delivery attempts, in milliseconds.
    #[arg(long, env = "SAVECORP_MAIL_RETRY_MAX_MS", default_value_t = 3_600_000)]
    pub mail_retry_max_ms: u64,

    /// Delivery attempts before a message is given up.
    #[arg(long, env = "SAVECORP_MAIL_MAX_ATTEMPTS", default_value_t = 25)]
    pub mail_max_attempts: i32,

    /// How often the sender looks at the outbox when not woken, in milliseconds.
    #[arg(long, env = "SAVECORP_MAIL_POLL_MS", default_value_t = 5_000)]
    pub mail_poll_ms: u64,

    /// SMTP command timeout, in milliseconds.
    #[arg(long, env = "SAVECORP_SMTP_TIMEOUT_MS", default_value_t = 10_000)]
    pub smtp_timeout_ms: u64,

    /// Extra CA certificates (PEM file) trusted for the SMTP server's TLS certificate, besides
    /// the built-in webpki (Mozilla) roots: for a private relay or a self-signed certificate.
    #[arg(long, env = "SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            mail_from: "SaveCorp Backup <backup@savecorp.localhost>".into(),
            mail_retry_base_ms: 30_000,
            mail_retry_max_ms: 3_600_000,
            mail_max_attempts: 25,
            mail_poll_ms: 5_000,
            smtp_timeout_ms: 10_000,
            smtp_ca_file: None,
        }
    }
}

/// Everything the mail services need, resolved from the configuration. Its `Debug` hides the
/// SMTP URL's password.
#[derive(Clone, Default)]
pub struct MailSettings {
    pub config: MailConfig,
    pub smtp_url: Option<String>,
    /// Where `.eml` files go without SMTP.
    pub mail_dir: PathBuf,
    /// The data folder (the backup service stages ping bodies in `ingest/` there).
    pub data_dir: PathBuf,
    /// The base URL shown in the ingest instructions.
    pub public_url: String,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let smtp_url = self.smtp_url.as_deref().map(redacted_url);
        f.debug_struct("MailSettings")
            .field("config", &self.config)
            .field("smtp_url", &smtp_url)
            .field("mail_dir", &self.mail_dir)
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// What the mail services share: their settings, and the wake-up the outbox feeder gives the
/// sender when it stored new messages.
#[derive(Clone, Debug, Default)]
pub struct MailContext {
    pub settings: MailSettings,
    pub wakeup: std::sync::Arc<tokio::sync::Notify>,
}

/// The URL with its password (if any) replaced by `***`; an unreadable URL is hidden whole.
pub fn redacted_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            url.to_string()
        }
        Err(_) => "(unreadable URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_smtp_password() {
        let settings = MailSettings {
            smtp_url: Some("smtps://mailer:s3cret@mail.example:465".into()),
            ..MailSettings::default()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("smtps://mailer:***@mail.example:465"),
            "{shown}"
        );
        assert_eq!(redacted_url("not a url s3cret"), "(unreadable URL)");
    }
}
