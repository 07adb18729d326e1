//! Mail over TLS (PRODUCT §6, "SMTP with TLS when the URL says so"): a report over implicit
//! TLS (`smtps://`), an alert over STARTTLS (`smtp://…?tls=required`), both trusting the test's
//! self-signed certificate through `SMTP_CA_FILE`; an untrusted certificate fails delivery,
//! the outbox records the error and retries, and nothing is sent in clear.

use std::sync::Arc;
use std::time::Duration;

use api::backup::service;
use api::platform::clock::ManualClock;
use api::ServeConfig;
use chrono::Utc;
use domain::plan::RetentionPolicy;
use journal::Actor;
use tests::backup::{
    eventually, given_plan_and_token, period_plan, ping, register_customer, subject_is,
};
use tests::smtp::{SmtpServer, SmtpTls, TestCertificate};
use tests::TestApp;

/// A password with characters a URL must percent-encode.
const PASSWORD: &str = "p@ss:w/rd secret#1";

fn fast(
    config: &mut ServeConfig,
    smtp_url: String,
    ca_file: Option<std::path::PathBuf>,
    clock: Option<Arc<ManualClock>>,
) {
    tests::backup::fast(config, Some(smtp_url), clock);
    config.mail.smtp_ca_file = ca_file;
}

#[tokio::test]
async fn a_run_report_is_delivered_over_implicit_tls_to_a_server_trusted_through_the_ca_file() {
    tests::init_test_log();
    let certificate = TestCertificate::generate();
    let ca_dir = tempfile::tempdir().expect("ca folder");
    let ca_file = certificate.write_pem(ca_dir.path());
    let smtp = SmtpServer::start_tls(SmtpTls::Implicit, &certificate).await;
    let url = smtp.url_with_credentials("mailer", PASSWORD);
    assert!(url.starts_with("smtps://"), "{url}");
    let app = TestApp::spawn_with(|config| fast(config, url, Some(ca_file), None)).await;
    let customer = register_customer(&app.state, "Tls Implicit", "it@implicit.example").await;
    let plan = period_plan(
        86_400,
        3_600,
        &["ops@implicit.example"],
        RetentionPolicy::default(),
    );
    let token = given_plan_and_token(&app.state, customer, plan).await;
    let (status, _) = ping(&app, &token, "?rid=night-1", "").await;
    assert_eq!(status, 200);

    let reports = smtp
        .wait_for(
            1,
            Duration::from_secs(30),
            subject_is("Backup succeeded: Tls Implicit"),
        )
        .await;
    assert_eq!(reports[0].recipients, vec!["ops@implicit.example"]);
    assert!(reports[0].tls, "the report came over TLS");
    assert_eq!(reports[0].authenticated_as.as_deref(), Some("mailer"));
    smtp.wait_for(
        1,
        Duration::from_secs(30),
        subject_is("Backup monitoring is set up: Tls Implicit"),
    )
    .await;
    assert!(smtp.received().iter().all(|mail| mail.tls));
    // The percent-encoded password reached the server decoded, and only inside TLS.
    let logins = smtp.logins();
    assert!(!logins.is_empty());
    assert!(
        logins
            .iter()
            .all(|login| login.tls && login.user == "mailer" && login.password == PASSWORD),
        "{logins:?}"
    );
    assert_eq!(smtp.failed_handshakes(), 0);
    app.stop().await;
}

#[tokio::test]
async fn an_overdue_alert_is_delivered_after_starttls_to_a_server_trusted_through_the_ca_file() {
    tests::init_test_log();
    let certificate = TestCertificate::generate();
    let ca_dir = tempfile::tempdir().expect("ca folder");
    let ca_file = certificate.write_pem(ca_dir.path());
    let smtp = SmtpServer::start_tls(SmtpTls::StartTls, &certificate).await;
    let url = smtp.url_with_credentials("mailer", PASSWORD);
    assert!(url.ends_with("?tls=required"), "{url}");
    let clock = ManualClock::new();
    let app =
        TestApp::spawn_with(|config| fast(config, url, Some(ca_file), Some(clock.clone()))).await;
    let customer = register_customer(&app.state, "Tls Start", "it@start.example").await;
    let plan = period_plan(60, 0, &["ops@start.example"], RetentionPolicy::default());
    service::set_backup_plan(
        &app.state.backup_state(),
        Actor::System,
        customer,
        plan,
        None,
    )
    .await
    .expect("plan set");
    clock.advance(Duration::from_secs(61));

    let alerts = smtp
        .wait_for(
            1,
            Duration::from_secs(30),
            subject_is("Backup overdue: Tls Start"),
        )
        .await;
    assert_eq!(alerts[0].recipients, vec!["ops@start.example"]);
    assert!(alerts[0].tls, "the alert came after STARTTLS");
    assert_eq!(alerts[0].authenticated_as.as_deref(), Some("mailer"));
    let logins = smtp.logins();
    assert!(!logins.is_empty());
    assert!(
        logins
            .iter()
            .all(|login| login.tls && login.password == PASSWORD),
        "{logins:?}"
    );
    assert_eq!(smtp.failed_handshakes(), 0);
    app.stop().await;
}

type Row = (i32, Option<String>, Option<chrono::DateTime<Utc>>);

/// Attempts, last error and sent time of the welcome mail's outbox row.
async fn welcome_row(pool: sqlx::PgPool) -> Option<Row> {
    sqlx::query_as("SELECT attempts, last_error, sent_at FROM mail_outbox WHERE kind = 'welcome'")
        .fetch_optional(&pool)
        .await
        .expect("outbox")
}

#[tokio::test]
async fn an_untrusted_certificate_fails_delivery_with_the_error_recorded_retried_and_nothing_sent_in_clear(
) {
    tests::init_test_log();
    let certificate = TestCertificate::generate();
    let smtp = SmtpServer::start_tls(SmtpTls::StartTls, &certificate).await;
    let url = smtp.url_with_credentials("mailer", PASSWORD);
    // No SMTP_CA_FILE: the webpki roots do not know the test's certificate.
    let configure_untrusted = {
        let url = url.clone();
        move |config: &mut ServeConfig| fast(config, url, None, None)
    };
    let app = TestApp::spawn_with(configure_untrusted).await;
    let customer = register_customer(&app.state, "Tls Untrusted", "it@untrusted.example").await;
    service::issue_ingest_token(&app.state.backup_state(), Actor::System, customer)
        .await
        .expect("token");

    let pool = app.pool.clone();
    let welcome_row = || welcome_row(pool.clone());
    eventually(30, "two failed delivery attempts", || async {
        matches!(welcome_row().await, Some((attempts, Some(_), None)) if attempts >= 2)
    })
    .await;
    let (_, last_error, _) = welcome_row().await.expect("row");
    let last_error = last_error.expect("an error is recorded");
    assert!(
        last_error.to_lowercase().contains("certificate"),
        "the error says why: {last_error}"
    );
    assert!(
        !last_error.contains("secret#1") && !last_error.contains("secret%231"),
        "no password in the error: {last_error}"
    );
    assert!(smtp.failed_handshakes() >= 1);
    assert!(smtp.received().is_empty(), "nothing was sent");
    assert!(smtp.logins().is_empty(), "the password was never sent");

    // Once the certificate is trusted (same database, new configuration), the retry goes
    // through: one message, over TLS.
    let database = app.database.clone();
    app.stop().await;
    let ca_dir = tempfile::tempdir().expect("ca folder");
    let ca_file = certificate.write_pem(ca_dir.path());
    let app = TestApp::spawn_on(database, |config| fast(config, url, Some(ca_file), None)).await;
    let delivered = smtp
        .wait_for(
            1,
            Duration::from_secs(30),
            subject_is("Backup monitoring is set up: Tls Untrusted"),
        )
        .await;
    assert!(delivered[0].tls);
    eventually(10, "the row is marked sent", || async {
        matches!(welcome_row().await, Some((_, _, Some(_))))
    })
    .await;
    assert_eq!(smtp.received().len(), 1, "delivered once");
    app.stop().await;
}

#[tokio::test]
async fn a_server_refuses_to_start_with_an_unknown_tls_mode_or_a_missing_ca_file() {
    tests::init_test_log();
    for (url, ca_file) in [
        (
            format!("smtp://u:{}@127.0.0.1:1?tls=sometimes", "hidden-pw"),
            None,
        ),
        (
            "smtps://127.0.0.1:1".to_owned(),
            Some(std::path::PathBuf::from("/nonexistent/ca.pem")),
        ),
    ] {
        // The mail settings are checked before the database is opened.
        let data_dir = tempfile::tempdir().expect("data folder");
        let mut config = ServeConfig::for_tests(
            "postgres://nobody@127.0.0.1:1/never".into(),
            data_dir.path().into(),
        );
        config.smtp_url = Some(url.clone());
        config.mail.smtp_ca_file = ca_file;
        let error = match api::Application::build(&config).await {
            Ok(_) => panic!("{url}: the server started"),
            Err(error) => format!("{error:#}"),
        };
        assert!(error.contains("SMTP"), "{error}");
        assert!(!error.contains("hidden-pw"), "{error}");
    }
}
