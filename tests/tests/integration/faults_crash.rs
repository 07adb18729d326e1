//! Fault class 1 (RELIABILITY.md): the server process is SIGKILLed at random moments while
//! concurrent clients send mutations; it is restarted each time. Nothing it acknowledged may be
//! lost or duplicated, and every read model must equal a rebuild from the log.
//!
//! `SAVECORP_FAULT_SEED` replays a run; `SAVECORP_FAULT_KILLS` (default 3) sets the kills.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng as _;
use tests::faults::{self, Ledger, ServerProcess, ServerSpec};
use tests::TestPostgres;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_under_load_the_server_loses_and_duplicates_nothing_it_acknowledged() {
    let seed = faults::seed("kill -9 under load", 0x5AFE_C0DE);
    let mut rng = faults::rng(seed);
    let kills: usize = std::env::var("SAVECORP_FAULT_KILLS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(3);
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let pool = postgres.pool(&database, 4).await;
    let (email, password) = faults::bootstrap_admin(&pool).await;
    let data = faults::data_dir();
    let spec = ServerSpec::new(
        env!("CARGO_BIN_EXE_savecorp-under-test"),
        postgres.url(&database),
        data.path(),
    );

    let mut server = ServerProcess::spawn(&spec);
    server.wait_ready(Duration::from_secs(90)).await;
    let token = faults::login(&server.address, email, password).await;
    let target = Arc::new(Mutex::new(Some(server.address.clone())));
    let ledger = Ledger::default();
    let stop = CancellationToken::new();
    let load = faults::spawn_load(4, seed, token, target.clone(), ledger.clone(), stop.clone());

    let mut acknowledged_between_kills = Vec::new();
    for _ in 0..kills {
        // Serving (a few acknowledgements, bounded wait), then under load for a random while,
        // then kill -9 at that moment, whatever is in flight.
        let before = ledger.acknowledged();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while ledger.acknowledged() < before + 3 && std::time::Instant::now() < deadline {
            // sleep-ok: poll interval of a bounded wait (a few acknowledgements)
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // sleep-ok: scenario: under load for a random while, then kill -9 whatever is in flight
        tokio::time::sleep(Duration::from_millis(rng.gen_range(100..2000))).await;
        server.kill9();
        *target.lock().expect("target") = None;
        acknowledged_between_kills.push(ledger.acknowledged() - before);
        // sleep-ok: scenario: a random moment to kill at
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..300))).await;
        server = ServerProcess::spawn(&spec);
        *target.lock().expect("target") = Some(server.address.clone());
        server.wait_ready(Duration::from_secs(90)).await;
    }
    // The last incarnation must serve too.
    let before = ledger.acknowledged();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while ledger.acknowledged() < before + 20 && std::time::Instant::now() < deadline {
        // sleep-ok: poll interval of a bounded wait (more acknowledgements)
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.cancel();
    let stats = faults::join_load(load).await;
    acknowledged_between_kills.push(ledger.acknowledged() - before);

    faults::wait_for_projections(&pool, Duration::from_secs(60)).await;
    let status = server.terminate();
    assert!(status.success(), "clean exit after SIGTERM: {status}");
    faults::assert_no_panic(&server.log());

    let (acknowledged, present) = faults::assert_nothing_acknowledged_is_lost(&pool, &ledger).await;
    println!(
        "kill -9 under load: {kills} kills, {} commands sent, {acknowledged} acknowledged, \
         {present} in the log (the rest were cut off before commit or answered lost), \
         acknowledged per incarnation {acknowledged_between_kills:?}, errors {:?}, \
         transport errors {}, losses 0, duplicates 0",
        stats.sent, stats.error_codes, stats.transport_errors
    );
    assert!(
        acknowledged_between_kills.iter().all(|&count| count > 0),
        "every incarnation acknowledged something: {acknowledged_between_kills:?}"
    );
    let acknowledged_customers: Vec<String> = ledger
        .entries()
        .into_iter()
        .filter(|sent| sent.marker.starts_with("Fault Customer"))
        .filter_map(|sent| sent.acknowledged_id)
        .collect();
    let (in_read_model,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM customers WHERE customer_id::text = ANY($1)")
            .bind(&acknowledged_customers)
            .fetch_one(&pool)
            .await
            .expect("customers");
    assert_eq!(in_read_model as usize, acknowledged_customers.len());
    faults::assert_read_models_equal_rebuild(&pool).await;
}
