//! P7: the API path as a user meets it, over GraphQL/HTTP against the server process, client
//! side (issue 17): one client's mutations back to back (read-your-writes included), mutations
//! at 64 connections against `P1@64` of the same run, and every list with each sort key read by
//! 64 connections at once on 100k rows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use journal::EventStore;
use projections::projector::ProjectorHandle;
use serde_json::{json, Value};

use super::server::BenchServer;
use super::{Figure, Latencies};

/// Connections of the concurrent P7 figures.
const CONNECTIONS: usize = 64;
/// Rows of the customers list (bulk registrations appended to the log, projected by the server).
const LIST_ROWS: usize = 100_000;

const REGISTER: &str = "mutation($input: RegisterCustomerInput!) { \
    registerCustomer(input: $input) { id version name phones } }";

/// One GraphQL client over its own HTTP connection pool (cheap to clone).
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Client {
    fn of(server: &BenchServer) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
            url: format!("http://{}/graphql", server.address),
            token: server.token.clone(),
        })
    }

    async fn graphql(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await?;
        let status = response.status();
        let mut body: Value = response.json().await?;
        if !status.is_success() || body.get("errors").is_some() {
            anyhow::bail!("GraphQL answered {status}: {body}");
        }
        Ok(body["data"].take())
    }

    /// Registers customer `n` (phones `+3363…`: apart from the history's and the bulk rows').
    async fn register(&self, n: u64) -> anyhow::Result<()> {
        self.graphql(
            REGISTER,
            json!({"input": {"name": format!("Mutation customer {n}"),
                             "phones": [format!("+3363{n:07}")],
                             "email": format!("m{n}@example.test"),
                             "notes": "x".repeat(60)}}),
        )
        .await?;
        Ok(())
    }
}

pub async fn run(
    server: &BenchServer,
    quick: bool,
    seconds: u64,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    let client = Client::of(server)?;
    let numbers = Arc::new(AtomicU64::new(0));

    // P7-mutation: one client, back to back.
    let rounds = if quick { 300 } else { 1_000 };
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds + rounds / 10 {
        let n = numbers.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        client.register(n).await?;
        samples.push(started.elapsed());
    }
    // The first tenth warms up.
    let one = Latencies::new(samples.split_off(rounds / 10));
    for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
        let value = one.quantile_ms(q);
        println!(
            "P7-mutation {name} {value:>8.3} ms  ({} samples)",
            one.count()
        );
        push_goal(
            figures,
            &format!("P7-mutation {name}"),
            "one client sending registerCustomer over GraphQL/HTTP back to back, read-your-writes \
             included (client side)"
                .into(),
            value,
            "ms",
            20.0,
        );
    }

    // P7-mutations: 64 connections, each its own client (no shared HTTP pool).
    let clients: Vec<Client> = (0..CONNECTIONS)
        .map(|_| Client::of(server))
        .collect::<anyhow::Result<_>>()?;
    let clients = Arc::new(clients);
    let rate = {
        let numbers = numbers.clone();
        super::run_clients(CONNECTIONS, seconds, move |connection, _| {
            let client = clients[connection as usize].clone();
            let n = numbers.fetch_add(1, Ordering::Relaxed);
            async move { client.register(n).await }
        })
        .await?
    };
    let p1 = figures
        .iter()
        .find(|figure| figure.id == "P1@64")
        .map(|figure| figure.value);
    let ratio = p1.map(|p1| rate / p1).unwrap_or(0.0);
    println!(
        "P7-mutations {rate:>9.0} registerCustomer/s at {CONNECTIONS} connections  P1@64 {}  ratio {ratio:.3}",
        p1.map(|p1| format!("{p1:.0}/s")).unwrap_or_else(|| "not measured (--skip p1)".into())
    );
    figures.push(Figure {
        id: "P7-mutations".into(),
        description: format!(
            "registerCustomer/s over GraphQL/HTTP, {CONNECTIONS} connections, read-your-writes \
             included; limit: P1@64 of this run (0 when P1 was skipped)"
        ),
        value: rate,
        unit: "mutations/s".into(),
        limit: p1.unwrap_or(0.0),
        ratio,
        goal: "ratio >= 0.20".into(),
    });

    // P7-lists: bulk customers up to LIST_ROWS, projected by every read model of the server
    // (none still catching up while the lists are read), then every list.
    let (existing,): (i64,) = sqlx::query_as("SELECT count(*) FROM customers")
        .fetch_one(&server.pool)
        .await?;
    let missing = LIST_ROWS.saturating_sub(existing as usize);
    if missing > 0 {
        let started = Instant::now();
        let events = tests::history::customers(0, missing, Utc::now()).await?;
        let head =
            tests::history::append(&EventStore::new(server.pool.clone()), &events, 5_000).await?;
        ProjectorHandle::new(server.pool.clone())
            .wait_for(&[], head, Duration::from_secs(600))
            .await?;
        println!(
            "P7-lists: {missing} bulk customers appended and projected in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let lists = Arc::new(list_queries(&client).await?);
    let samples = Arc::new(Mutex::new(vec![Vec::new(); lists.len()]));
    let reader = Client::of(server)?;
    {
        let samples = samples.clone();
        let lists = lists.clone();
        let cursors = Arc::new(Mutex::new(vec![Value::Null; CONNECTIONS * lists.len()]));
        super::run_clients(CONNECTIONS, seconds, move |connection, n| {
            let client = reader.clone();
            let lists = lists.clone();
            let samples = samples.clone();
            let cursors = cursors.clone();
            async move {
                let which = ((connection + n) as usize) % lists.len();
                let (_, query, variables, path) = &lists[which];
                let slot = connection as usize * lists.len() + which;
                let mut variables = variables.clone();
                // Walk up to ten pages, then start over.
                let after = if n % 10 == 0 {
                    Value::Null
                } else {
                    cursors.lock().expect("cursors")[slot].clone()
                };
                variables["after"] = after;
                let started = Instant::now();
                let data = client.graphql(query, variables).await?;
                let took = started.elapsed();
                let mut page = &data;
                for key in path {
                    page = &page[*key];
                }
                cursors.lock().expect("cursors")[slot] = page["pageInfo"]["endCursor"].clone();
                samples.lock().expect("samples")[which].push(took);
                Ok(())
            }
        })
        .await?;
    }
    let samples = std::mem::take(&mut *samples.lock().expect("samples"));
    let mut all = Vec::new();
    for ((id, ..), list) in lists.iter().zip(samples) {
        let latencies = Latencies::new(list.clone());
        println!(
            "P7-lists {id:<28} p50 {:>8.3} ms  p99 {:>8.3} ms  ({} samples)",
            latencies.quantile_ms(0.5),
            latencies.quantile_ms(0.99),
            latencies.count()
        );
        all.extend(list);
    }
    let all = Latencies::new(all);
    let (customers,): (i64,) = sqlx::query_as("SELECT count(*) FROM customers")
        .fetch_one(&server.pool)
        .await?;
    for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
        let value = all.quantile_ms(q);
        println!(
            "P7-lists {name} {value:>8.3} ms  ({} samples, {customers} customers)",
            all.count()
        );
        push_goal(
            figures,
            &format!("P7-lists {name}"),
            format!(
                "every list and sort key over GraphQL/HTTP (workers, customers by each key and a \
                 search, calls, requests, backup runs, history), {CONNECTIONS} connections at \
                 once, pages of 20 walked 10 deep, {customers} customers (client side)"
            ),
            value,
            "ms",
            10.0,
        );
    }
    Ok(())
}

/// A latency figure against its goal: the limit column is the goal, ratio = goal ÷ value.
fn push_goal(
    figures: &mut Vec<Figure>,
    id: &str,
    description: String,
    value: f64,
    unit: &str,
    goal: f64,
) {
    figures.push(Figure {
        id: id.into(),
        description,
        value,
        unit: unit.into(),
        limit: goal,
        ratio: if value > 0.0 { goal / value } else { 0.0 },
        goal: format!("<= {goal} {unit} (limit column = the goal)"),
    });
}

/// (id, query, variables, path to the connection) of every list and sort key.
async fn list_queries(
    client: &Client,
) -> anyhow::Result<Vec<(String, &'static str, Value, Vec<&'static str>)>> {
    const WORKERS: &str = "query($sort: WorkerSort!, $after: String) { \
        workers(first: 20, after: $after, sortBy: $sort) { edges { node { id name role active } } \
            pageInfo { endCursor hasNextPage } } }";
    const CUSTOMERS: &str = "query($sort: CustomerSort!, $search: String, $after: String) { \
        customers(first: 20, after: $after, sortBy: $sort, search: $search) { \
            edges { node { id version name phones email } } pageInfo { endCursor hasNextPage } } }";
    const CALLS: &str = "query($after: String) { calls(first: 20, after: $after) { \
        edges { node { id state callerNumber customerId agentId queuedAt endedAt } } \
        pageInfo { endCursor hasNextPage } } }";
    const REQUESTS: &str = "query($sort: RequestSort!, $after: String) { \
        requests(first: 20, after: $after, sortBy: $sort) { \
            edges { node { id status priority openedAt dueAt } } pageInfo { endCursor hasNextPage } } }";
    const BACKUP_RUNS: &str = "query($customer: ID!, $after: String) { \
        backupRuns(customerId: $customer, first: 20, after: $after) { \
            edges { node { id status startedAt finishedAt } } pageInfo { endCursor hasNextPage } } }";
    const HISTORY: &str = "query($type: String!, $id: String!, $after: String) { \
        history(aggregateType: $type, aggregateId: $id, first: 20, after: $after) { \
            edges { node { position eventType recordedAt } } pageInfo { endCursor hasNextPage } } }";
    // A customer of the history with backup runs (plans run nightly), for backupRuns and history.
    let data = client
        .graphql(
            CUSTOMERS,
            json!({"sort": "REGISTERED_AT", "search": "Customer 1", "after": null}),
        )
        .await?;
    let customer = data["customers"]["edges"][0]["node"]["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no customer matches `Customer 1`: {data}"))?
        .to_owned();
    let mut lists = Vec::new();
    for sort in ["NAME", "STATE_SINCE"] {
        lists.push((
            format!("workers/{sort}"),
            WORKERS,
            json!({"sort": sort}),
            vec!["workers"],
        ));
    }
    for sort in ["REGISTERED_AT", "UPDATED_AT", "NAME"] {
        lists.push((
            format!("customers/{sort}"),
            CUSTOMERS,
            json!({"sort": sort, "search": null}),
            vec!["customers"],
        ));
    }
    lists.push((
        "customers/search".into(),
        CUSTOMERS,
        json!({"sort": "NAME", "search": "customer 12"}),
        vec!["customers"],
    ));
    lists.push(("calls".into(), CALLS, json!({}), vec!["calls"]));
    for sort in ["OPENED_AT", "DUE_AT", "UPDATED_AT"] {
        lists.push((
            format!("requests/{sort}"),
            REQUESTS,
            json!({"sort": sort}),
            vec!["requests"],
        ));
    }
    lists.push((
        "backupRuns".into(),
        BACKUP_RUNS,
        json!({"customer": customer}),
        vec!["backupRuns"],
    ));
    lists.push((
        "history".into(),
        HISTORY,
        json!({"type": "customer", "id": customer}),
        vec!["history"],
    ));
    Ok(lists)
}
