//! Delivers the outbox: claims due messages (a lease in `next_attempt_at`, so several instances
//! never send the same row at once), sends each by SMTP (lettre) or writes it as an `.eml`
//! file, and records the outcome: `sent_at`, or `attempts`, `last_error` and the next attempt
//! after an exponential backoff (given up after the configured attempts).

use std::path::Path;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::MailSettings;
use crate::state::AppState;

/// How long a claimed message is reserved for the sender that claimed it.
const LEASE_SECS: i64 = 300;
const CLAIM_BATCH: i64 = 20;

/// Where mail goes.
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(std::path::PathBuf),
}

#[derive(sqlx::FromRow)]
struct Claimed {
    id: i64,
    event_id: Uuid,
    to_addresses: Vec<String>,
    bcc_addresses: Vec<String>,
    subject: String,
    text_body: String,
    html_body: String,
    message_id: String,
    attempts: i32,
}

fn transport(settings: &MailSettings) -> anyhow::Result<Transport> {
    match &settings.smtp_url {
        Some(url) => {
            let transport = smtp_transport(url)?
                .timeout(Some(Duration::from_millis(settings.config.smtp_timeout_ms)))
                .build();
            Ok(Transport::Smtp(transport))
        }
        None => {
            std::fs::create_dir_all(&settings.mail_dir)?;
            Ok(Transport::Files(settings.mail_dir.clone()))
        }
    }
}

/// `smtp://[user:password@]host[:port]` (port 25 by default), without TLS. lettre's own
/// `from_url` needs a TLS feature, which this build does not include: `smtps://` and
/// STARTTLS are refused with a clear message rather than silently sent in clear.
fn smtp_transport(raw: &str) -> anyhow::Result<lettre::transport::smtp::AsyncSmtpTransportBuilder> {
    let url = url::Url::parse(raw).map_err(|error| anyhow::anyhow!("SMTP_URL: {error}"))?;
    if url.scheme() != "smtp" {
        anyhow::bail!(
            "SMTP_URL: scheme {:?} is not supported (only smtp://, without TLS)",
            url.scheme()
        );
    }
    let host = url
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("SMTP_URL: a host is required"))?;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(url.port().unwrap_or(25));
    if !url.username().is_empty() {
        builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
            url.username().to_owned(),
            url.password().unwrap_or_default().to_owned(),
        ));
    }
    Ok(builder)
}

/// Runs the sender until `shutdown`.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let settings = state.backup.mail.clone();
    let transport = match transport(&settings) {
        Ok(transport) => transport,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "mail sender cannot start");
            return;
        }
    };
    let poll = Duration::from_millis(settings.config.mail_poll_ms.max(10));
    loop {
        match send_due(&state.pool, &settings, &transport).await {
            // A full batch: there may be more due right away.
            Ok(claimed) if claimed as i64 == CLAIM_BATCH => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "mail outbox unavailable"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = state.backup.mail_wakeup.notified() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

async fn send_due(
    pool: &PgPool,
    settings: &MailSettings,
    transport: &Transport,
) -> Result<usize, sqlx::Error> {
    let claimed: Vec<Claimed> = sqlx::query_as(
        "UPDATE mail_outbox SET next_attempt_at = now() + make_interval(secs => $1) \
         WHERE id IN (SELECT id FROM mail_outbox \
                      WHERE sent_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= now() \
                      ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) \
         RETURNING id, event_id, to_addresses, bcc_addresses, subject, text_body, html_body, \
                   message_id, attempts",
    )
    .bind(LEASE_SECS as f64)
    .bind(CLAIM_BATCH)
    .fetch_all(pool)
    .await?;
    let count = claimed.len();
    for message in claimed {
        let outcome = deliver(settings, transport, &message).await;
        match outcome {
            Ok(()) => {
                sqlx::query(
                    "UPDATE mail_outbox SET sent_at = now(), attempts = attempts + 1, \
                     last_error = NULL WHERE id = $1",
                )
                .bind(message.id)
                .execute(pool)
                .await?;
                tracing::info!(event_id = %message.event_id, "mail sent");
            }
            Err(error) => {
                let attempts = message.attempts + 1;
                let delay = backoff_ms(settings, attempts);
                tracing::warn!(event_id = %message.event_id, attempts, %error, "mail not sent");
                sqlx::query(
                    "UPDATE mail_outbox SET attempts = $2, last_error = $3, \
                     next_attempt_at = now() + make_interval(secs => $4), \
                     gave_up_at = CASE WHEN $2 >= $5 THEN now() END \
                     WHERE id = $1",
                )
                .bind(message.id)
                .bind(attempts)
                .bind(error.chars().take(2000).collect::<String>())
                .bind(delay as f64 / 1000.0)
                .bind(settings.config.mail_max_attempts)
                .execute(pool)
                .await?;
            }
        }
    }
    Ok(count)
}

/// base × 2^(attempts − 1), at most the configured maximum.
pub fn backoff_ms(settings: &MailSettings, attempts: i32) -> u64 {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(30);
    settings
        .config
        .mail_retry_base_ms
        .saturating_mul(1u64 << exponent)
        .min(settings.config.mail_retry_max_ms)
}

fn build(settings: &MailSettings, message: &Claimed) -> Result<Message, String> {
    let from: Mailbox = settings
        .config
        .mail_from
        .parse()
        .map_err(|error| format!("sender address: {error}"))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(message.subject.clone())
        .message_id(Some(message.message_id.clone()));
    for to in &message.to_addresses {
        let mailbox: Mailbox = to
            .parse()
            .map_err(|error| format!("address {to}: {error}"))?;
        builder = builder.to(mailbox);
    }
    for bcc in &message.bcc_addresses {
        let mailbox: Mailbox = bcc
            .parse()
            .map_err(|error| format!("address {bcc}: {error}"))?;
        builder = builder.bcc(mailbox);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            message.text_body.clone(),
            message.html_body.clone(),
        ))
        .map_err(|error| format!("message: {error}"))
}

async fn deliver(
    settings: &MailSettings,
    transport: &Transport,
    message: &Claimed,
) -> Result<(), String> {
    let email = build(settings, message)?;
    match transport {
        Transport::Smtp(smtp) => smtp
            .send(email)
            .await
            .map(|_| ())
            .map_err(|error| error.to_string()),
        Transport::Files(dir) => write_eml(dir, message.event_id, &email.formatted()).await,
    }
}

async fn write_eml(dir: &Path, event_id: Uuid, bytes: &[u8]) -> Result<(), String> {
    let path = dir.join(format!("{event_id}.eml"));
    let partial = dir.join(format!("{event_id}.eml.partial"));
    tokio::fs::write(&partial, bytes)
        .await
        .map_err(|error| format!("writing {}: {error}", partial.display()))?;
    tokio::fs::rename(&partial, &path)
        .await
        .map_err(|error| format!("renaming to {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_maximum() {
        let mut settings = MailSettings::default();
        settings.config.mail_retry_base_ms = 1_000;
        settings.config.mail_retry_max_ms = 10_000;
        let delays: Vec<u64> = (1..=6).map(|n| backoff_ms(&settings, n)).collect();
        assert_eq!(delays, vec![1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    }
}
