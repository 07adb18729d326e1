//! Delivers the outbox: claims due messages (a lease in `next_attempt_at`, so several instances
//! never send the same row at once), sends each by SMTP (lettre) or writes it as an `.eml`
//! file, and records the outcome: `sent_at`, or `attempts`, `last_error` and the next attempt
//! after an exponential backoff (given up after the configured attempts).
//!
//! TLS is what the URL says (lettre's convention): `smtps://` is TLS from the first byte,
//! `smtp://…?tls=required` is STARTTLS or nothing, `?tls=opportunistic` STARTTLS when offered.
//! A certificate that is not trusted fails the attempt like any other delivery error: the row
//! keeps its error and is retried, and nothing is sent in clear.

use std::path::Path;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{MailContext, MailSettings};

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
            let transport = smtp_transport(url, settings.config.smtp_ca_file.as_deref())?
                .timeout(Some(Duration::from_millis(settings.config.smtp_timeout_ms)))
                .build();
            Ok(Transport::Smtp(transport))
        }
        None => {
            // Mails name customers and their addresses: the server's user only.
            crate::platform::files::create_private_dir(&settings.mail_dir)?;
            // Files written by older versions were world-readable.
            for entry in std::fs::read_dir(&settings.mail_dir)? {
                let path = entry?.path();
                if path.extension().is_some_and(|extension| extension == "eml") {
                    use std::os::unix::fs::PermissionsExt as _;
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
                }
            }
            Ok(Transport::Files(settings.mail_dir.clone()))
        }
    }
}

/// Checks the mail settings at startup (the SMTP URL and the extra CA file), so a
/// misconfiguration stops the server instead of silently never sending.
pub fn check(settings: &MailSettings) -> anyhow::Result<()> {
    if let Some(url) = &settings.smtp_url {
        smtp_transport(url, settings.config.smtp_ca_file.as_deref())?;
    }
    Ok(())
}

/// How the connection to the SMTP server is protected, read from `SMTP_URL` with lettre's
/// URL convention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://host[:port]` (port 25): no TLS at all.
    Plain,
    /// `smtps://host[:port]` (port 465): TLS from the first byte (implicit TLS).
    ImplicitTls,
    /// `smtp://host[:port]?tls=required` (port 587): STARTTLS, and no mail unless it succeeds.
    StartTlsRequired,
    /// `smtp://host[:port]?tls=opportunistic` (port 587): STARTTLS when the server offers it,
    /// in clear otherwise (a server offering it with an untrusted certificate still fails).
    StartTlsOpportunistic,
}

impl SmtpSecurity {
    /// The protection `url` asks for; an unknown scheme or `tls` value is an error (never a
    /// silent fallback to clear text).
    pub fn of(url: &url::Url) -> anyhow::Result<Self> {
        let tls = url
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());
        match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => Ok(Self::Plain),
            ("smtp", Some("required")) => Ok(Self::StartTlsRequired),
            ("smtp", Some("opportunistic")) => Ok(Self::StartTlsOpportunistic),
            ("smtps", None | Some("required") | Some("wrapper")) => Ok(Self::ImplicitTls),
            ("smtp", Some(other)) | ("smtps", Some(other)) => anyhow::bail!(
                "SMTP_URL: tls={other:?} is not supported (use tls=required or \
                 tls=opportunistic with smtp://, or smtps:// for implicit TLS)"
            ),
            (scheme, _) => {
                anyhow::bail!("SMTP_URL: scheme {scheme:?} is not supported (smtp:// or smtps://)")
            }
        }
    }
}

/// `smtp://[user:password@]host[:port][?tls=required|opportunistic]` or
/// `smtps://[user:password@]host[:port]`, as lettre reads them (default ports, credentials
/// percent-decoded). TLS uses rustls with the webpki (Mozilla) roots plus, when given, the
/// certificates of `ca_file` (PEM), for private relays. Errors never quote the URL: it may
/// hold the password.
fn smtp_transport(
    raw: &str,
    ca_file: Option<&Path>,
) -> anyhow::Result<lettre::transport::smtp::AsyncSmtpTransportBuilder> {
    use lettre::transport::smtp::client::Tls;

    let url = url::Url::parse(raw).map_err(|error| anyhow::anyhow!("SMTP_URL: {error}"))?;
    let security = SmtpSecurity::of(&url)?;
    let host = url
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("SMTP_URL: a host is required"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(raw)
        .map_err(|error| anyhow::anyhow!("SMTP_URL: {error}"))?;
    let parameters = || tls_parameters(&host, ca_file);
    Ok(match security {
        SmtpSecurity::Plain => builder,
        SmtpSecurity::ImplicitTls => builder.tls(Tls::Wrapper(parameters()?)),
        SmtpSecurity::StartTlsRequired => builder.tls(Tls::Required(parameters()?)),
        SmtpSecurity::StartTlsOpportunistic => builder.tls(Tls::Opportunistic(parameters()?)),
    })
}

/// rustls parameters for `host`: the webpki roots, plus the certificates of `ca_file`.
fn tls_parameters(
    host: &str,
    ca_file: Option<&Path>,
) -> anyhow::Result<lettre::transport::smtp::client::TlsParameters> {
    use lettre::transport::smtp::client::{Certificate, TlsParameters};

    let mut parameters = TlsParameters::builder(host.to_owned());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|error| anyhow::anyhow!("SMTP_CA_FILE {}: {error}", path.display()))?;
        if !pem
            .windows(b"-----BEGIN CERTIFICATE-----".len())
            .any(|window| window == b"-----BEGIN CERTIFICATE-----")
        {
            anyhow::bail!("SMTP_CA_FILE {}: no PEM certificate in it", path.display());
        }
        let certificate = Certificate::from_pem(&pem)
            .map_err(|error| anyhow::anyhow!("SMTP_CA_FILE {}: {error}", path.display()))?;
        parameters = parameters.add_root_certificate(certificate);
    }
    parameters
        .build_rustls()
        .map_err(|error| anyhow::anyhow!("SMTP TLS settings: {error}"))
}

/// Runs the sender until `shutdown`: sends what is due from `pool`'s outbox with `mail`'s
/// settings, woken by `mail.wakeup` or every `mail_poll_ms`.
pub async fn run(pool: PgPool, mail: MailContext, shutdown: CancellationToken) {
    let settings = mail.settings.clone();
    let transport = match transport(&settings) {
        Ok(transport) => transport,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "mail sender cannot start");
            return;
        }
    };
    let poll = Duration::from_millis(settings.config.mail_poll_ms.max(10));
    loop {
        match send_due(&pool, &settings, &transport).await {
            // A full batch: there may be more due right away.
            Ok(claimed) if claimed as i64 == CLAIM_BATCH => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "mail outbox unavailable"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = mail.wakeup.notified() => {}
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

/// Writes the message as `<event id>.eml`, readable by the server's user only (0600): written
/// aside, then renamed, so a reader never sees half a message.
async fn write_eml(dir: &Path, event_id: Uuid, bytes: &[u8]) -> Result<(), String> {
    use tokio::io::AsyncWriteExt as _;
    let path = dir.join(format!("{event_id}.eml"));
    let partial = dir.join(format!("{event_id}.eml.partial"));
    let failed = |error: std::io::Error| format!("writing {}: {error}", partial.display());
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .await
        .map_err(failed)?;
    // A partial file left by an older version may have other permissions.
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .await
        .map_err(failed)?;
    file.write_all(bytes).await.map_err(failed)?;
    file.flush().await.map_err(failed)?;
    drop(file);
    tokio::fs::rename(&partial, &path)
        .await
        .map_err(|error| format!("renaming to {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_says_how_the_connection_is_protected() {
        let cases = [
            ("smtp://mail.example", SmtpSecurity::Plain),
            ("smtp://mail.example:2525", SmtpSecurity::Plain),
            ("smtps://mail.example", SmtpSecurity::ImplicitTls),
            (
                "smtp://mail.example:587?tls=required",
                SmtpSecurity::StartTlsRequired,
            ),
            (
                "smtp://u:p@mail.example?tls=opportunistic",
                SmtpSecurity::StartTlsOpportunistic,
            ),
        ];
        for (raw, expected) in cases {
            let url = url::Url::parse(raw).expect("url");
            assert_eq!(SmtpSecurity::of(&url).expect(raw), expected, "{raw}");
            assert!(smtp_transport(raw, None).is_ok(), "{raw}");
        }
        for raw in [
            "smtp://mail.example?tls=maybe",
            "smtps://mail.example?tls=opportunistic",
            "http://mail.example",
        ] {
            let url = url::Url::parse(raw).expect("url");
            assert!(SmtpSecurity::of(&url).is_err(), "{raw}");
        }
    }

    #[test]
    fn errors_about_the_smtp_settings_never_quote_the_password() {
        let missing = Path::new("/nonexistent/savecorp-ca.pem");
        for (raw, ca_file) in [
            ("smtp://user:s3cret-pw@mail.example?tls=bogus", None),
            ("ftp://user:s3cret-pw@mail.example", None),
            ("smtps://user:s3cret-pw@mail.example", Some(missing)),
            ("smtps://user:s3cret-pw@[::1", None),
        ] {
            let error = smtp_transport(raw, ca_file).expect_err(raw);
            let message = format!("{error:#} {error:?}");
            assert!(!message.contains("s3cret-pw"), "{message}");
        }
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused() {
        let dir = std::env::temp_dir().join(format!("savecorp-ca-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("empty.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let error = smtp_transport("smtps://mail.example", Some(&path)).expect_err("refused");
        assert!(
            format!("{error:#}").contains("no PEM certificate"),
            "{error:#}"
        );
        // Plain SMTP does not read the file.
        assert!(smtp_transport("smtp://mail.example", Some(&path)).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn backoff_doubles_up_to_its_maximum() {
        let mut settings = MailSettings::default();
        settings.config.mail_retry_base_ms = 1_000;
        settings.config.mail_retry_max_ms = 10_000;
        let delays: Vec<u64> = (1..=6).map(|n| backoff_ms(&settings, n)).collect();
        assert_eq!(delays, vec![1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    }
}
