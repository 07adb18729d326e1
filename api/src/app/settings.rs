//! The assembly of every setting of `savecorp serve` (PRODUCT §11): the platform's (database,
//! data folder), the transport's (listen address, HTTP edge) and each capability's own settings
//! struct, read once from flags and the environment and handed to each part by the
//! composition root.

use std::net::SocketAddr;
use std::path::PathBuf;

use ari_adapter::AriConfig;
use clap::Args;

use crate::auth::{AuthConfig, MIN_JWT_SECRET_BYTES, TEST_JWT_SECRET};
use crate::backup::BackupConfig;
use crate::mail::{redacted_url, MailConfig, MailSettings};
use crate::platform::config::{invalid, secret, DatabaseConfig, InvalidSetting};
use crate::requests::RequestConfig;
use crate::telephony::{QueueConfig, TelephonyConfig};
use crate::transport::HttpConfig;

/// Everything `savecorp serve` needs. Its `Debug` hides every secret (passwords in URLs, the
/// ARI password, the JWT secret, the first admin's password), so printing it cannot leak them.
#[derive(Args, Clone)]
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

    #[command(flatten)]
    pub queue: QueueConfig,

    /// SMTP server: `smtp://[user:password@]host[:port]` (no TLS), `smtps://…` (implicit TLS,
    /// port 465), `smtp://…?tls=required` (STARTTLS or no mail, port 587) or
    /// `?tls=opportunistic` (STARTTLS when offered). Absent: mails go to `.eml` files in the
    /// data folder.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Secret that signs access tokens. Absent: generated once and kept in the data folder.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    #[command(flatten)]
    pub auth: AuthConfig,

    #[command(flatten)]
    pub backup: Box<BackupConfig>,

    #[command(flatten)]
    pub mail: Box<MailConfig>,

    #[command(flatten)]
    pub requests: RequestConfig,

    #[command(flatten)]
    pub http: HttpConfig,

    #[command(flatten)]
    pub kpis: crate::settings::KpiConfig,
}

impl ServeConfig {
    /// A configuration for tests: a given database, a free port, no telephony, no SMTP, no
    /// request deadline alerts (a test that wants them turns them on: alerts would race tests
    /// that count a request's events).
    pub fn for_tests(database_url: String, data_dir: PathBuf) -> Self {
        Self {
            database: DatabaseConfig {
                database_url: Some(database_url),
                data_dir,
                db_connections: 8,
                snapshot_every: 100,
            },
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ari_url: None,
            ari_user: "asterisk".into(),
            ari_password: String::new(),
            ari_app: "callcenter".into(),
            queue: QueueConfig::default(),
            smtp_url: None,
            jwt_secret: Some(TEST_JWT_SECRET.into()),
            auth: AuthConfig::default(),
            backup: Box::default(),
            mail: Box::default(),
            requests: RequestConfig {
                request_alerts: false,
                ..RequestConfig::default()
            },
            http: HttpConfig::default(),
            kpis: crate::settings::KpiConfig::default(),
        }
    }
}

impl ServeConfig {
    /// Checks every setting before anything is started or created (`savecorp serve` exits
    /// with status 2 on the first one refused).
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        self.database.validate()?;
        if let Some(url) = &self.ari_url {
            let expected = "expected http://host:port/ari (e.g. http://127.0.0.1:8088/ari)";
            let parsed = url::Url::parse(url.trim_end_matches('/'))
                .map_err(|error| invalid("ARI_URL", format!("not a URL ({error}); {expected}")))?;
            if !matches!(parsed.scheme(), "http" | "https")
                || parsed.cannot_be_a_base()
                || parsed.host_str().is_none_or(str::is_empty)
            {
                return Err(invalid("ARI_URL", expected));
            }
        }
        if self.ari_app.trim().is_empty() {
            return Err(invalid("ARI_APP", "must not be empty"));
        }
        if let Some(secret) = self.jwt_secret.as_deref().filter(|s| !s.is_empty()) {
            if secret.len() < MIN_JWT_SECRET_BYTES {
                return Err(invalid(
                    "JWT_SECRET",
                    format!(
                        "too short ({} bytes, at least {MIN_JWT_SECRET_BYTES}); use e.g. \
                         `openssl rand -hex 32`, or leave it unset to have one generated",
                        secret.len()
                    ),
                ));
            }
        }
        let code = self.auth.default_country_code.as_str();
        let digits = code.strip_prefix('+').unwrap_or(code);
        if digits.is_empty()
            || digits.len() > 3
            || !digits.chars().all(|c| c.is_ascii_digit())
            || digits.starts_with('0')
        {
            return Err(invalid(
                "SAVECORP_DEFAULT_COUNTRY_CODE",
                "expected 1 to 3 digits not starting with 0 (e.g. 33), optionally after a +",
            ));
        }
        for (setting, value) in [
            ("SAVECORP_ACCESS_TOKEN_SECS", self.auth.access_token_secs),
            ("SAVECORP_REFRESH_TOKEN_SECS", self.auth.refresh_token_secs),
            ("SAVECORP_LOGIN_WINDOW_SECS", self.auth.login_window_secs),
        ] {
            if value == 0 {
                return Err(invalid(setting, "must be at least 1"));
            }
        }
        if self
            .auth
            .admin_email
            .as_deref()
            .is_some_and(|email| !email.is_empty())
            && self.auth.admin_password.is_none()
        {
            return Err(invalid(
                "SAVECORP_ADMIN_PASSWORD",
                "missing (SAVECORP_ADMIN_EMAIL is set)",
            ));
        }
        crate::mail::sender::check(&self.mail_settings()).map_err(|error| {
            let text = format!("{error:#}");
            let reason = text.strip_prefix("SMTP_URL: ").unwrap_or(&text).to_owned();
            invalid("SMTP_URL", reason)
        })?;
        Ok(())
    }
}

impl ServeConfig {
    /// The mail settings: `SMTP_URL`, the mail settings, the folders in the data folder and the
    /// public URL the mails link to (`SAVECORP_PUBLIC_URL`, else the listen address).
    pub fn mail_settings(&self) -> MailSettings {
        let public_url = self
            .backup
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen));
        MailSettings {
            config: (*self.mail).clone(),
            smtp_url: self.smtp_url.clone(),
            mail_dir: self.database.data_dir.join("mail"),
            data_dir: self.database.data_dir.clone(),
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The initial values of the settings admins change (what the environment says).
    pub fn initial_settings(&self) -> crate::settings::InitialSettings {
        crate::settings::InitialSettings {
            queue: domain::settings::QueueValues {
                offer_timeout_secs: self.queue.offer_timeout_secs,
                wrap_up_secs: self.queue.wrap_up_secs,
                max_wait_secs: self.queue.max_wait_secs,
                max_queue_length: u32::try_from(self.queue.max_queue_length).unwrap_or(u32::MAX),
                reject_announcement: self.queue.reject_announcement.clone(),
            },
            request_policy: self.requests.sla(),
            service_level_threshold_secs: self.kpis.service_level_threshold_secs,
        }
    }

    /// Telephony's settings; `None` when no ARI URL is configured (no telephony).
    pub fn telephony(&self) -> Option<TelephonyConfig> {
        let url = self.ari_url.as_ref()?;
        Some(TelephonyConfig {
            ari: AriConfig::new(url.clone(), &self.ari_user, &self.ari_password),
            app: self.ari_app.clone(),
            queue: self.queue.clone(),
        })
    }
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("database", &self.database)
            .field("listen", &self.listen)
            .field(
                "ari_url",
                &self.ari_url.as_deref().map(crate::platform::db::redact),
            )
            .field("ari_user", &self.ari_user)
            .field(
                "ari_password",
                &secret(Some(self.ari_password.as_str()).filter(|p| !p.is_empty())),
            )
            .field("ari_app", &self.ari_app)
            .field("queue", &self.queue)
            .field("smtp_url", &self.smtp_url.as_deref().map(redacted_url))
            .field("jwt_secret", &secret(self.jwt_secret.as_deref()))
            .field("auth", &self.auth)
            .field("backup", &self.backup)
            .field("mail", &self.mail)
            .field("requests", &self.requests)
            .field("http", &self.http)
            .field("kpis", &self.kpis)
            .finish()
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_output_hides_every_secret() {
        let mut config = ServeConfig::for_tests(
            "postgres://app:db-s3cret@localhost/savecorp".into(),
            PathBuf::from("/tmp/x"),
        );
        config.ari_url = Some("http://ari:ari-s3cret@localhost:8088/ari".into());
        config.ari_password = "ari-pass-s3cret".into();
        config.smtp_url = Some("smtps://mailer:smtp-s3cret@mail.example:465".into());
        config.jwt_secret = Some("jwt-s3cret".into());
        config.auth.admin_password = Some("admin-s3cret".into());
        config.http.metrics_token = Some("metrics-s3cret".into());
        let printed = format!("{config:?} {config:#?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("mail.example"), "{printed}");
        assert!(printed.contains("<redacted>"), "{printed}");
    }
}
