//! Fault class 4 (RELIABILITY.md): two server instances on one database race for the
//! projector, the backup watchdog and the mail outbox, while the leader is stopped and started
//! again in the middle. Each event is projected once (the read models equal a rebuild: no
//! counter applied twice), each customer goes overdue and recovers once, with one follow-up
//! request, and every mail is sent once.

use std::sync::Arc;
use std::time::Duration;

use api::platform::clock::{ClockHandle, ManualClock};
use api::ServeConfig;
use domain::plan::RetentionPolicy;
use tests::backup::{
    count_events, eventually, given_plan_and_token, outbox_settled, period_plan, ping,
    register_admin, register_customer, watchdog_settled,
};
use tests::smtp::SmtpServer;
use tests::{faults, TestApp};

fn fast(config: &mut ServeConfig, smtp_url: String, clock: Arc<ManualClock>) {
    config.smtp_url = Some(smtp_url);
    config.backup.watchdog_max_sleep_ms = 50;
    config.backup.leader_retry_ms = 100;
    config.mail.mail_poll_ms = 50;
    config.mail.mail_retry_base_ms = 200;
    config.mail.mail_retry_max_ms = 800;
    config.mail.smtp_timeout_ms = 2_000;
    config.backup.clock = ClockHandle::of(clock);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_project_each_event_once_and_send_one_overdue_and_one_mail_per_fact() {
    let smtp = SmtpServer::start().await;
    let clock = ManualClock::new();
    let configure = |config: &mut ServeConfig| fast(config, smtp.url(), clock.clone());
    let first = TestApp::spawn_with(configure).await;
    let database = first.database.clone();
    let second = TestApp::spawn_on(database.clone(), configure).await;
    register_admin(&first.state, "boss@racing.example").await;

    // Customers with plans and tokens, written through both instances alternately.
    let customers = 6;
    let mut tokens = Vec::new();
    for index in 0..customers {
        let app = if index % 2 == 0 { &first } else { &second };
        let name = format!("Racing Customer {index}");
        let customer =
            register_customer(&app.state, &name, &format!("it{index}@racing.example")).await;
        let plan = period_plan(
            60,
            30,
            &[&format!("ops{index}@racing.example")],
            RetentionPolicy::default(),
        );
        let token = given_plan_and_token(&app.state, customer, plan).await;
        let (status, _) = ping(app, &token, "", "").await;
        assert_eq!(status, 200);
        tokens.push((name, token));
    }

    // The first instance (which probably leads) stops; a third starts on the same database.
    first.stop().await;
    let third = TestApp::spawn_on(database.clone(), configure).await;

    // Every customer misses its deadline: one overdue, one follow-up request each.
    clock.advance(Duration::from_secs(91));
    eventually(30, "every customer overdue", || async {
        count_events(&second, "CustomerBackupOverdue").await == customers
    })
    .await;
    eventually(30, "one follow-up per customer", || async {
        count_events(&second, "RequestOpened").await == customers
    })
    .await;

    // They all report again, through both instances: one recovery each.
    for (index, (_, token)) in tokens.iter().enumerate() {
        let app = if index % 2 == 0 { &second } else { &third };
        let (status, _) = ping(app, token, "", "").await;
        assert_eq!(status, 200);
    }
    eventually(30, "every customer recovered", || async {
        count_events(&second, "CustomerBackupRecovered").await == customers
    })
    .await;
    for (name, _) in &tokens {
        for subject in [
            format!("Backup overdue: {name}"),
            format!("Backup recovered: {name}"),
        ] {
            smtp.wait_for(1, Duration::from_secs(30), |mail| {
                mail.header("Subject").as_deref() == Some(subject.as_str())
            })
            .await;
        }
    }
    // Before counting: the leading watchdog went over the whole log without writing anything
    // more, and every mail its events call for was rendered and sent (a duplicate would be
    // an event or an outbox row by then, and each delivery ends before its row is marked sent).
    watchdog_settled(&[&second, &third]).await;
    outbox_settled(&second.pool).await;
    assert_eq!(
        count_events(&second, "CustomerBackupOverdue").await,
        customers
    );
    assert_eq!(
        count_events(&second, "CustomerBackupRecovered").await,
        customers
    );
    assert_eq!(count_events(&second, "RequestOpened").await, customers);
    let received = smtp.received();
    let mut by_message_id = std::collections::BTreeMap::<String, usize>::new();
    for mail in &received {
        let id = mail.header("Message-ID").expect("Message-ID");
        *by_message_id.entry(id).or_default() += 1;
    }
    let duplicates: Vec<_> = by_message_id
        .iter()
        .filter(|(_, count)| **count > 1)
        .collect();
    assert!(duplicates.is_empty(), "mails sent twice: {duplicates:?}");
    for (name, _) in &tokens {
        for subject in [
            format!("Backup overdue: {name}"),
            format!("Backup recovered: {name}"),
        ] {
            let count = received
                .iter()
                .filter(|mail| mail.header("Subject").as_deref() == Some(subject.as_str()))
                .count();
            assert_eq!(count, 1, "{subject}");
        }
    }
    let (unsent,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL")
            .fetch_one(&second.pool)
            .await
            .expect("outbox");
    assert_eq!(unsent, 0, "every mail of the outbox was sent");

    faults::wait_for_projections(&second.pool, Duration::from_secs(60)).await;
    let pool = second.pool.clone();
    second.stop().await;
    third.stop().await;
    faults::assert_read_models_equal_rebuild(&pool).await;
    println!(
        "racing instances: 3 instances over the run (2 at a time), {customers} customers, \
         {customers} overdue, {customers} recovered, {} mails, 0 duplicates",
        received.len()
    );
}
