//! `savecorp simulate --demo`: fills a running server with a demo through its public API
//! (GraphQL and `/ping`), as an admin would: agents on the simulated phones (logged in and
//! Available), customers whose numbers the simulated calls come from, their backup plans and
//! pings (up, failing, late within a minute, running, new). A second run reuses what exists.

use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Args;
use serde_json::{json, Value};

use crate::telephony::simulate::{self, SimulateConfig};

/// `savecorp simulate [--demo]`.
#[derive(Args, Clone, Debug)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub simulate: SimulateConfig,

    /// Also fill the server with a demo once it connects: agents on the simulated phones
    /// (logged in, Available), customers with backup plans and pings; the calls then come
    /// from the customers' numbers.
    #[arg(long)]
    pub demo: bool,

    /// The server's URL (with `--demo`).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,

    /// The admin the demo acts as (with `--demo`); the printed settings create it on a server
    /// without an admin.
    #[arg(long, env = "SAVECORP_ADMIN_EMAIL", default_value = DEMO_ADMIN_EMAIL)]
    pub admin_email: String,
}

/// Runs the simulated Asterisk; with `--demo`, fills the server once it connected.
pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    if !args.demo {
        return simulate::run(args.simulate).await;
    }
    // The password never comes from a flag.
    let admin_password =
        std::env::var("SAVECORP_ADMIN_PASSWORD").unwrap_or_else(|_| DEMO_PASSWORD.to_owned());
    let settings = [
        ("SAVECORP_ADMIN_EMAIL", args.admin_email.as_str()),
        ("SAVECORP_ADMIN_PASSWORD", admin_password.as_str()),
    ];
    let Some(running) = simulate::start(&args.simulate, &settings).await? else {
        return Ok(());
    };
    let target = DemoTarget {
        server: args.server.clone(),
        admin_email: args.admin_email.clone(),
        admin_password,
    };
    let demo = fill(&target, &simulate::endpoints(&args.simulate)).await?;
    println!("Demo agents (password {DEMO_PASSWORD}), logged in and Available:");
    for (email, endpoint) in &demo.agents {
        println!("  {email} on {endpoint}");
    }
    println!("Demo customers (their backups: up, failing, late within a minute, running, new):");
    for (name, phone) in &demo.customers {
        println!("  {name} {phone}");
    }
    println!(
        "Open {}/ and log in as {} (or an agent) to watch the desk, wallboard and backup board.",
        target.server.trim_end_matches('/'),
        target.admin_email
    );
    simulate::place_calls(running, customer_numbers()).await
}

/// The password of the demo's agents (and of its admin when the server creates one from the
/// printed settings). Printed by the command; a demo only.
pub const DEMO_PASSWORD: &str = "savecorp-demo";

/// The demo admin the printed `serve` line creates when the server has no admin yet.
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.savecorp.test";

/// Where the demo goes and as whom.
#[derive(Clone, Debug)]
pub struct DemoTarget {
    /// The server's URL, e.g. `http://127.0.0.1:8080`.
    pub server: String,
    pub admin_email: String,
    pub admin_password: String,
}

/// One demo customer: a name, a number (the simulated calls come from it) and its backups.
#[derive(Clone, Copy, Debug)]
struct DemoCustomer {
    name: &'static str,
    phone: &'static str,
    /// Schedule: period and grace, in seconds.
    period_secs: u32,
    grace_secs: u32,
    /// The pings sent after the plan (paths after `/ping/<token>`): "" is a success.
    pings: &'static [&'static str],
}

const CUSTOMERS: &[DemoCustomer] = &[
    DemoCustomer {
        name: "Acme Lumber",
        phone: "+15550000001",
        period_secs: 86_400,
        grace_secs: 3_600,
        pings: &[""],
    },
    DemoCustomer {
        name: "Blue Harbor Dental",
        phone: "+15550000002",
        period_secs: 86_400,
        grace_secs: 3_600,
        pings: &["/fail"],
    },
    DemoCustomer {
        name: "Cedar Logistics",
        phone: "+15550000003",
        // Late a minute after its success (and down an hour later).
        period_secs: 60,
        grace_secs: 3_600,
        pings: &[""],
    },
    DemoCustomer {
        name: "Delta Print",
        phone: "+15550000004",
        period_secs: 86_400,
        grace_secs: 3_600,
        pings: &["/start"],
    },
    DemoCustomer {
        name: "Evergreen Bakery",
        phone: "+15550000005",
        period_secs: 86_400,
        grace_secs: 3_600,
        pings: &[],
    },
];

/// The numbers of the demo's customers (the simulated calls come from them).
pub fn customer_numbers() -> Vec<String> {
    CUSTOMERS.iter().map(|c| c.phone.to_owned()).collect()
}

/// What a demo run made or found.
#[derive(Clone, Debug, Default)]
pub struct Demo {
    /// (email, endpoint) of each agent.
    pub agents: Vec<(String, String)>,
    /// (name, phone) of each customer registered by this run (existing ones are left alone).
    pub customers: Vec<(String, String)>,
}

/// The email of the demo agent on `endpoint` (`PJSIP/agent3` → `agent3@demo.savecorp.test`).
pub fn agent_email(endpoint: &str) -> String {
    let name = endpoint.rsplit('/').next().unwrap_or(endpoint);
    format!("{}@demo.savecorp.test", name.to_lowercase())
}

struct Client {
    http: reqwest::Client,
    server: String,
}

impl Client {
    /// A GraphQL call: `data`, or the first error's code and message.
    async fn graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Result<Value, (String, String)>> {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.server))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let body: Value = request
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.server))?
            .json()
            .await
            .context("the server's answer is not JSON")?;
        if let Some(error) = body["errors"].get(0) {
            let code = error["extensions"]["code"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            let message = error["message"].as_str().unwrap_or("").to_owned();
            return Ok(Err((code, message)));
        }
        Ok(Ok(body["data"].clone()))
    }

    /// Like [`Self::graphql`], an error being fatal.
    async fn must(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        match self.graphql(token, query, variables).await? {
            Ok(data) => Ok(data),
            Err((code, message)) => bail!("{message} ({code})"),
        }
    }

    async fn login(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let data = self
            .must(
                None,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
                json!({"e": email, "p": password}),
            )
            .await
            .with_context(|| format!("cannot log in as {email}"))?;
        Ok(data["login"]["accessToken"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }
}

/// Fills the server at `target` with the demo: agents on `endpoints`, customers with backups.
pub async fn fill(target: &DemoTarget, endpoints: &[String]) -> anyhow::Result<Demo> {
    let client = Client {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .context("HTTP client")?,
        server: target.server.trim_end_matches('/').to_owned(),
    };
    let admin = client
        .login(&target.admin_email, &target.admin_password)
        .await?;
    let mut demo = Demo::default();
    for endpoint in endpoints {
        let email = agent_email(endpoint);
        let name = format!(
            "Agent {}",
            endpoint.trim_start_matches(|c: char| !c.is_ascii_digit())
        );
        let registered = client
            .graphql(
                Some(&admin),
                "mutation($input: RegisterWorkerInput!) { registerWorker(input: $input) { id } }",
                json!({"input": {"name": name, "email": email, "role": "AGENT",
                                 "endpoint": endpoint, "password": DEMO_PASSWORD}}),
            )
            .await?;
        match registered {
            Ok(_) => {}
            // A second run: the agent exists.
            Err((code, _)) if code == "EMAIL_TAKEN" => {}
            Err((code, message)) => bail!("agent {email}: {message} ({code})"),
        }
        let agent = client.login(&email, DEMO_PASSWORD).await?;
        client
            .must(
                Some(&agent),
                "mutation { setAvailability(state: AVAILABLE) { id } }",
                json!({}),
            )
            .await
            .with_context(|| format!("{email} cannot go available"))?;
        demo.agents.push((email, endpoint.clone()));
    }
    for customer in CUSTOMERS {
        let registered = client
            .graphql(
                Some(&admin),
                "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) { id } }",
                json!({"input": {"name": customer.name, "phones": [customer.phone]}}),
            )
            .await?;
        let id = match registered {
            Ok(data) => data["registerCustomer"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            // A second run: the customer exists (their number is taken); leave them alone.
            Err((code, _)) if code == "PHONE_TAKEN" => continue,
            Err((code, message)) => bail!("customer {}: {message} ({code})", customer.name),
        };
        client
            .must(
                Some(&admin),
                "mutation($c: ID!, $plan: BackupPlanInput!) { setBackupPlan(customerId: $c, plan: $plan) { status } }",
                json!({"c": id, "plan": {"periodSecs": customer.period_secs,
                                         "graceSecs": customer.grace_secs}}),
            )
            .await
            .with_context(|| format!("backup plan of {}", customer.name))?;
        if !customer.pings.is_empty() {
            let issued = client
                .must(
                    Some(&admin),
                    "mutation($c: ID!) { issueIngestToken(customerId: $c) { token } }",
                    json!({"c": id}),
                )
                .await
                .with_context(|| format!("ingest token of {}", customer.name))?;
            let token = issued["issueIngestToken"]["token"]
                .as_str()
                .unwrap_or_default();
            for ping in customer.pings {
                let status = client
                    .http
                    .post(format!("{}/ping/{token}{ping}", client.server))
                    .send()
                    .await
                    .context("ping")?
                    .status();
                if !status.is_success() {
                    bail!("ping of {} answered {status}", customer.name);
                }
            }
        }
        demo.customers
            .push((customer.name.to_owned(), customer.phone.to_owned()));
    }
    Ok(demo)
}
