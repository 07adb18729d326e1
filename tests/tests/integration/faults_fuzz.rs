//! Fault class 3 (RELIABILITY.md): a seeded, bounded campaign of generated and mutated input
//! against a server child process — GraphQL documents and variables generated from the
//! introspected schema plus hostile mutations of them and of the HTTP body; the ping API with
//! hostile manifests, restic output, tokens, actions and bodies; and, in this process, the ARI
//! event decoder and translator fed mutated recorded events. Nothing may answer 5xx, panic or
//! hang; every GraphQL error has `extensions.code`; the server's memory stays bounded.
//!
//! `SAVECORP_FUZZ_CASES` (default 1500 GraphQL cases; the ping and ARI campaigns scale with it)
//! and `SAVECORP_FAULT_SEED` replay or widen a run.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use api::backup::service::MAX_TEXT_BODY_BYTES;
use futures::StreamExt as _;
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use rand::Rng as _;
use serde_json::{json, Value};
use tests::faults::{self, Outcome, ServerProcess, ServerSpec};
use tests::fuzz::{self, Schema};
use tests::TestPostgres;

/// One HTTP request of the campaign.
#[derive(Debug)]
struct Case {
    path: String,
    token: Option<String>,
    content_type: &'static str,
    body: Vec<u8>,
    /// A body over a limit: the server may answer 413 and close before reading it all.
    oversized: bool,
    graphql: bool,
}

#[derive(Default)]
struct Findings {
    statuses: BTreeMap<u16, usize>,
    codes: BTreeMap<String, usize>,
    failures: Vec<String>,
    internal_samples: Vec<String>,
}

async fn run_case(
    http: &reqwest::Client,
    address: &str,
    case: Case,
) -> (Case, Result<(u16, Vec<u8>), String>) {
    let mut request = http
        .post(format!("http://{address}{}", case.path))
        .header("content-type", case.content_type)
        .body(case.body.clone());
    if let Some(token) = &case.token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let result = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(bytes) => Ok((status, bytes.to_vec())),
                Err(error) => Err(error.to_string()),
            }
        }
        Err(error) => Err(error.to_string()),
    };
    (case, result)
}

/// `/ping/{token}/log[?…]`: its body is log text, limited to [`MAX_TEXT_BODY_BYTES`].
fn is_log_ping(path: &str) -> bool {
    path.starts_with("/ping/")
        && path
            .split('?')
            .next()
            .is_some_and(|path| path.ends_with("/log"))
}

fn check(findings: &mut Findings, case: &Case, result: Result<(u16, Vec<u8>), String>) {
    let (status, body) = match result {
        Ok(answer) => answer,
        // Any body over the server's limit, generated so or grown by a mutation, or a log
        // text over the log limit: refused before it is read, the connection may be cut.
        Err(_) if case.oversized || case.body.len() > api::transport::http::MAX_BODY_BYTES => {
            return
        }
        Err(_) if is_log_ping(&case.path) && case.body.len() > MAX_TEXT_BODY_BYTES => return,
        Err(error) => {
            findings.failures.push(format!(
                "no answer to POST {} ({} bytes): {error}",
                case.path,
                case.body.len()
            ));
            return;
        }
    };
    *findings.statuses.entry(status).or_default() += 1;
    let snippet = || String::from_utf8_lossy(&case.body[..case.body.len().min(300)]).into_owned();
    if status >= 500 {
        findings.failures.insert(
            0,
            format!(
                "HTTP {status} for POST {} {}: {}",
                case.path,
                snippet(),
                String::from_utf8_lossy(&body)
            ),
        );
        return;
    }
    if !case.graphql {
        return;
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(_) => {
            findings
                .failures
                .push(format!("HTTP {status}, not JSON, for {}", snippet()));
            return;
        }
    };
    for error in body["errors"].as_array().into_iter().flatten() {
        match error["extensions"]["code"].as_str() {
            Some(code) => {
                *findings.codes.entry(code.to_owned()).or_default() += 1;
                if code == "INTERNAL" && findings.internal_samples.len() < 5 {
                    findings.internal_samples.push(snippet());
                }
            }
            None => findings.failures.push(format!(
                "an error without extensions.code: {error} for {}",
                snippet()
            )),
        }
    }
}

fn graphql_case(
    rng: &mut StdRng,
    schema: &Schema,
    known: &[String],
    tokens: &[Option<String>],
) -> Case {
    let token = tokens.choose(rng).expect("tokens").clone();
    let (mut document, mut variables) = fuzz::document(rng, schema, known);
    let mut oversized = false;
    let body = match rng.gen_range(0..20) {
        0..=11 => json!({"query": document, "variables": variables})
            .to_string()
            .into_bytes(),
        12..=16 => {
            document = fuzz::mutate_text(rng, &document, known);
            json!({"query": document, "variables": variables})
                .to_string()
                .into_bytes()
        }
        17 => {
            variables = fuzz::random_json(rng, 4, known);
            json!({"query": document, "variables": variables, "operationName": fuzz::hostile_string(rng, known)})
                .to_string()
                .into_bytes()
        }
        18 => {
            // Not a GraphQL request body.
            match rng.gen_range(0..7) {
                0 => Vec::new(),
                1 => b"{\"query\": 5}".to_vec(),
                2 => json!([{"query": "{ logHead }"}, {"query": document}])
                    .to_string()
                    .into_bytes(),
                3 => vec![0xff, 0xfe, 0x00, b'{'],
                4 => format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
                5 => {
                    oversized = true;
                    json!({"query": format!("{{ logHead }} #{}", "x".repeat(1_200_000))})
                        .to_string()
                        .into_bytes()
                }
                _ => document.into_bytes(),
            }
        }
        _ => {
            // Byte-level damage to the JSON body itself.
            let mut bytes = json!({"query": document, "variables": variables})
                .to_string()
                .into_bytes();
            for _ in 0..rng.gen_range(1..5) {
                if bytes.is_empty() {
                    break;
                }
                let at = rng.gen_range(0..bytes.len());
                bytes[at] = rng.gen();
            }
            bytes
        }
    };
    Case {
        path: "/graphql".into(),
        token,
        content_type: if rng.gen_ratio(1, 30) {
            "text/plain"
        } else {
            "application/json"
        },
        body,
        oversized,
        graphql: true,
    }
}

fn ping_case(rng: &mut StdRng, ingest_tokens: &[String], known: &[String]) -> Case {
    let token = match rng.gen_range(0..10) {
        0..=6 => ingest_tokens.choose(rng).expect("token").clone(),
        7 => "sci_".to_owned() + &"0".repeat(rng.gen_range(0..80)),
        8 => urlencode(
            &fuzz::hostile_string(rng, known)
                .chars()
                .take(200)
                .collect::<String>(),
        ),
        _ => "x".repeat(rng.gen_range(1..5000)),
    };
    let action = match rng.gen_range(0..10) {
        0..=3 => String::new(),
        4 => "/start".into(),
        5 => "/fail".into(),
        6 => "/log".into(),
        7 => format!("/{}", rng.gen_range(0..300)),
        8 => "/-1".into(),
        _ => format!(
            "/{}",
            urlencode(
                &fuzz::hostile_string(rng, known)
                    .chars()
                    .take(50)
                    .collect::<String>()
            )
        ),
    };
    let rid = match rng.gen_range(0..4) {
        0 => String::new(),
        1 => format!("?rid=run-{}", rng.gen_range(0..20)),
        2 => format!(
            "?rid={}",
            urlencode(
                &fuzz::hostile_string(rng, known)
                    .chars()
                    .take(300)
                    .collect::<String>()
            )
        ),
        _ => "?rid=&rid=2&other=%ff".into(),
    };
    let mut oversized = false;
    let body = match rng.gen_range(0..20) {
        0 => Vec::new(),
        1 => {
            oversized = true;
            let line =
                json!({"path": "big", "size": 1, "mtime": 1, "hash": "h"}).to_string() + "\n";
            line.repeat(1_200_000 / line.len() + 1).into_bytes()
        }
        2 => vec![0xc3, 0x28, b'\n', 0xff, 0x00, b'\n'],
        3 => fuzz::hostile_string(rng, known).into_bytes(),
        _ => {
            let lines = rng.gen_range(1..60);
            let mut text = String::new();
            for index in 0..lines {
                text.push_str(&fuzz::ingest_line(rng, index, known));
                text.push(if rng.gen_ratio(1, 20) { '\r' } else { '\n' });
            }
            text.into_bytes()
        }
    };
    Case {
        path: format!("/ping/{token}{action}{rid}"),
        token: None,
        content_type: "application/octet-stream",
        body,
        oversized,
        graphql: false,
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

async fn campaign(address: &str, cases: Vec<Case>, findings: &mut Findings) -> usize {
    // A fresh connection per case: a connection the server closed after refusing a body must
    // not fail the next case.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .pool_max_idle_per_host(0)
        .build()
        .expect("HTTP client");
    let count = cases.len();
    let results: Vec<_> = futures::stream::iter(cases)
        .map(|case| run_case(&http, address, case))
        .buffer_unordered(4)
        .collect()
        .await;
    for (case, result) in results {
        check(findings, &case, result);
    }
    count
}

/// The ARI decoder and translator fed mutated recorded events, in this process.
fn ari_campaign(rng: &mut StdRng, cases: usize) -> (usize, usize, usize) {
    let folder =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ari-adapter/ari-spec/recordings");
    let mut corpus: Vec<Value> = Vec::new();
    for entry in std::fs::read_dir(&folder).expect("recordings") {
        let path = entry.expect("entry").path();
        if path.to_string_lossy().ends_with(".events.jsonl") {
            for line in std::fs::read_to_string(&path).expect("recording").lines() {
                if let Ok(value) = serde_json::from_str::<Value>(line) {
                    corpus.push(value);
                }
            }
        }
    }
    assert!(
        corpus.len() > 100,
        "recorded events found in {}",
        folder.display()
    );
    let types: Vec<Value> = corpus.iter().map(|event| event["type"].clone()).collect();
    let panics = Arc::new(AtomicUsize::new(0));
    let mut decoded = 0;
    let mut facts = 0;
    let mut translator = ari_adapter::translate::Translator::new();
    for case in 0..cases {
        // Walk the recordings in order so the translator sees plausible sequences, damaged.
        let mut event = corpus[case % corpus.len()].clone();
        let text = match rng.gen_range(0..10) {
            0 => event.to_string(),
            1..=5 => {
                for _ in 0..rng.gen_range(1..4) {
                    fuzz::mutate_json(rng, &mut event, &[]);
                }
                event.to_string()
            }
            6 => {
                event["type"] = types.choose(rng).expect("type").clone();
                event.to_string()
            }
            7 => {
                let text = event.to_string();
                let cut = rng.gen_range(0..text.len());
                text[..cut].to_owned()
            }
            8 => {
                let mut bytes = event.to_string().into_bytes();
                let at = rng.gen_range(0..bytes.len());
                bytes[at] = rng.gen_range(b' '..b'~');
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => {
                let depth = rng.gen_range(1..200);
                format!("{}{}{}", "{\"a\":".repeat(depth), event, "}".repeat(depth))
            }
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if let Ok(event) = ari_adapter::model::decode_event(&text) {
                let _ = event.to_json();
                let _ = event.timestamp();
                Some(translator.translate(&event).len())
            } else {
                None
            }
        }));
        match result {
            Ok(Some(count)) => {
                decoded += 1;
                facts += count;
            }
            Ok(None) => {}
            Err(_) => {
                panics.fetch_add(1, Ordering::Relaxed);
                eprintln!("ARI parser panicked on: {}", &text[..text.len().min(500)]);
                translator = ari_adapter::translate::Translator::new();
            }
        }
    }
    assert_eq!(
        panics.load(Ordering::Relaxed),
        0,
        "the ARI decoder or translator panicked"
    );
    (cases, decoded, facts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_graphql_ping_and_ari_input_never_gets_a_5xx_a_panic_or_a_hang() {
    let seed = faults::seed("fuzz", 0xF0_22);
    let mut rng = faults::rng(seed);
    let graphql_cases = fuzz::cases(1500);
    let ping_cases = (graphql_cases / 5).max(10);
    let ari_cases = graphql_cases * 4 / 3;

    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let pool = postgres.pool(&database, 2).await;
    let (email, password) = faults::bootstrap_admin(&pool).await;
    let data = faults::data_dir();
    let mut spec = ServerSpec::new(
        env!("CARGO_BIN_EXE_savecorp-under-test"),
        postgres.url(&database),
        data.path(),
    );
    spec.log_filter = "warn,api::app=info".into();
    spec.env = vec![
        ("SAVECORP_INGEST_MAX_BODY_BYTES".into(), "1048576".into()),
        (
            "SAVECORP_LOGIN_FAILURES_PER_ADDRESS".into(),
            "100000".into(),
        ),
        // Wrong tokens are most ping cases: keep the valid ones reaching the ingest.
        (
            "SAVECORP_INGEST_TOKEN_FAILURES_PER_ADDRESS".into(),
            "100000".into(),
        ),
    ];
    let mut server = ServerProcess::spawn(&spec);
    server.wait_ready(Duration::from_secs(90)).await;
    let http = faults::http_client();
    let admin = faults::login(&server.address, email, password).await;

    // Real objects for the generator to aim at.
    let customer = faults::graphql(&http, &server.address, Some(&admin),
        "mutation { registerCustomer(input: {name: \"Fuzz Customer\", phones: [\"+33622222222\"]}) { id } }",
        json!({})).await;
    let customer_id = customer.data("registerCustomer").expect("customer")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let issued = faults::graphql(
        &http,
        &server.address,
        Some(&admin),
        "mutation($id: ID!) { issueIngestToken(customerId: $id) { token tokenId } }",
        json!({"id": customer_id}),
    )
    .await;
    let issued = issued
        .data("issueIngestToken")
        .expect("ingest token")
        .clone();
    let ingest_token = issued["token"].as_str().expect("token").to_owned();
    let request = faults::graphql(&http, &server.address, Some(&admin),
        "mutation($id: ID!) { openRequest(input: {customerId: $id, message: \"fuzz target request\", priority: HIGH, type: TASK}) { id } }",
        json!({"id": customer_id})).await;
    let request_id = request.data("openRequest").expect("request")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let me = faults::graphql(
        &http,
        &server.address,
        Some(&admin),
        "{ me { id } }",
        json!({}),
    )
    .await;
    let admin_id = me.data("me").expect("me")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let known = vec![
        customer_id,
        request_id,
        admin_id,
        issued["tokenId"].as_str().expect("id").to_owned(),
        email.to_owned(),
    ];

    let introspection =
        faults::graphql(&http, &server.address, None, fuzz::INTROSPECTION, json!({})).await;
    let schema = match &introspection {
        Outcome::Answered { body, .. } if body.get("errors").is_none() => {
            Schema::from_introspection(&body["data"])
        }
        other => panic!("introspection failed: {other:?}"),
    };
    assert!(
        schema.types[&schema.mutation].fields.len() > 20,
        "the schema was read"
    );

    let tokens = vec![
        Some(admin.clone()),
        Some(admin.clone()),
        Some(admin.clone()),
        None,
        None,
        Some("not-a-jwt".to_owned()),
        Some(ingest_token.clone()),
        Some(format!("{admin}x")),
    ];
    let mut findings = Findings::default();

    // A warm-up tenth, then the memory baseline, then the rest.
    let warm_up = graphql_cases / 10;
    let cases: Vec<Case> = (0..warm_up)
        .map(|_| graphql_case(&mut rng, &schema, &known, &tokens))
        .collect();
    let mut graphql_run = campaign(&server.address, cases, &mut findings).await;
    let rss_before = server.rss_kib().expect("rss");
    let mut remaining = graphql_cases - warm_up;
    while remaining > 0 {
        // Batches, so that a logout or a lost session by a generated mutation is repaired.
        let batch = remaining.min(200);
        let admin = faults::login(&server.address, email, password).await;
        let tokens: Vec<Option<String>> = tokens
            .iter()
            .map(|token| {
                token.as_ref().map(|token| {
                    if token.starts_with("ey") && !token.ends_with('x') {
                        admin.clone()
                    } else {
                        token.clone()
                    }
                })
            })
            .collect();
        let cases: Vec<Case> = (0..batch)
            .map(|_| graphql_case(&mut rng, &schema, &known, &tokens))
            .collect();
        graphql_run += campaign(&server.address, cases, &mut findings).await;
        remaining -= batch;
        assert!(server.is_alive(), "the server died:\n{}", server.log());
        println!(
            "fuzz: {graphql_run} GraphQL cases, server RSS {} MiB",
            server.rss_kib().unwrap_or(0) / 1024
        );
    }
    let ingest_tokens = vec![ingest_token.clone()];
    let cases: Vec<Case> = (0..ping_cases)
        .map(|_| ping_case(&mut rng, &ingest_tokens, &known))
        .collect();
    let ping_run = campaign(&server.address, cases, &mut findings).await;
    let (ari_run, ari_decoded, ari_facts) = ari_campaign(&mut rng, ari_cases);

    // Still serving, no panic, memory bounded.
    assert!(server.is_alive(), "the server died:\n{}", server.log());
    let alive = faults::graphql(&http, &server.address, None, "{ version }", json!({})).await;
    assert!(
        alive.data("version").is_some(),
        "the server still answers: {alive:?}"
    );
    let rss_after = server.rss_kib().expect("rss");
    let written: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT event_type, count(*), sum(length(payload::text))::bigint FROM events GROUP BY 1 ORDER BY 3 DESC",
    )
    .fetch_all(&pool)
    .await
    .expect("events");
    println!("fuzz: events written (type, count, payload bytes): {written:?}");
    faults::assert_no_panic(&server.log());
    println!(
        "fuzz: {graphql_run} GraphQL cases, {ping_run} ping cases, {ari_run} ARI events \
         ({ari_decoded} decoded, {ari_facts} facts); HTTP statuses {:?}; GraphQL error codes {:?}; \
         RSS {} -> {} MiB; INTERNAL samples {:?}",
        findings.statuses,
        findings.codes,
        rss_before / 1024,
        rss_after / 1024,
        findings.internal_samples,
    );
    assert!(
        findings.failures.is_empty(),
        "{} failures, first ones:\n{}",
        findings.failures.len(),
        findings
            .failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Generous on purpose: every login, registerWorker and changePassword runs Argon2id with
    // 19 MiB (on a few dedicated hashing threads since the fuzz campaign found the blocking
    // pool's arenas growing to ~460 MiB, RELIABILITY.md), and the allocator keeps freed
    // blocks. A leak per request grows past it.
    assert!(
        rss_after <= rss_before + 1024 * 1024,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
    server.terminate();
}
