//! The web app (`web/`, issue 16): its GraphQL schema copy is current, the binary serves it
//! (page navigations get the app, hashed assets are immutable, a missing asset is a 404), and
//! Playwright drives it in Chromium against the real server, its PostgreSQL and the simulated
//! Asterisk (`web/e2e/`): the agent's desk and the wallboard (`desk.spec.ts`), then the back
//! office — administration, a first backup ping, the audit (`office.spec.ts`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use ari_adapter::sim::Behaviour;
use domain::call::CallState;
use domain::worker::Presence;
use tests::graphql::{self, ADMIN_EMAIL, PASSWORD};
use tests::telephony::{agent_endpoint, fast_queue, Telephony};
use tests::wait;
use tokio::io::AsyncReadExt as _;

fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web")
}

/// `web/schema.graphql`, which GraphQL Code Generator types the app's operations from, is what
/// `savecorp schema` prints: regenerate it with
/// `cargo run --bin savecorp -- schema > web/schema.graphql && (cd web && npm run codegen)`.
#[test]
fn the_web_apps_schema_copy_is_current() {
    let committed =
        std::fs::read_to_string(web_dir().join("schema.graphql")).expect("web/schema.graphql");
    assert!(
        committed.trim_end() == api::transport::graphql::sdl().trim_end(),
        "web/schema.graphql is stale: run `cargo run --bin savecorp -- schema > web/schema.graphql` \
         then `npm run codegen` in web/"
    );
}

#[tokio::test]
async fn the_server_serves_the_app_with_cache_rules_and_a_404_for_missing_assets() {
    let tel = Telephony::start(fast_queue()).await;
    let app = &tel.app;
    let page = app
        .http
        .get(app.url("/desk/anything"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    let html = page.text().await.expect("html");
    assert!(html.contains("<html"), "{html}");
    let missing = app
        .http
        .get(app.url("/assets/nope-123.js"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("missing asset");
    assert_eq!(missing.status(), 404);
    let not_a_page = app
        .http
        .get(app.url("/nope"))
        .send()
        .await
        .expect("json client");
    assert_eq!(not_a_page.status(), 404);
    if !api::webapp::embedded() {
        assert!(
            html.contains("npm"),
            "the no-UI page says how to get the UI: {html}"
        );
        return;
    }
    let script = html
        .split('"')
        .find(|part| part.starts_with("/assets/") && part.ends_with(".js"))
        .expect("the page loads a hashed script");
    let asset = app.http.get(app.url(script)).send().await.expect("asset");
    assert_eq!(asset.status(), 200);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(asset.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    // GraphQL stays where it was.
    let (status, body) = app.graphql("{ version }", serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
}

/// How long the browser run may take (Chromium starting on a loaded machine included).
const RUN_LIMIT: Duration = Duration::from_secs(420);
const BROWSER_WAIT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn an_agent_takes_a_call_from_the_pop_and_the_wallboard_shows_it_in_chromium() {
    if !api::webapp::embedded() {
        panic!("the web app is not embedded in this build (is npm installed? see README)");
    }
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "Chromium not found at {chromium} (apt-get install chromium, or set CHROMIUM_PATH)"
    );
    let mut queue = fast_queue();
    queue.offer_timeout_secs = 30;
    queue.wrap_up_secs = 10;
    queue.max_wait_secs = 600;
    let tel = Telephony::start(queue).await;
    let admin = tel.admin().await.clone();
    let caller = graphql::unique_phone();
    let second_caller = graphql::unique_phone();
    // The back-office scenario registers a customer with this number from the browser.
    let new_customer_phone = graphql::unique_phone();
    let customer =
        graphql::register_customer(&tel.app, &admin.access_token, "Acme Lumber", &caller).await;
    let plan = graphql::gql(
        &tel.app,
        Some(&admin.access_token),
        "mutation($id: ID!) { setBackupPlan(customerId: $id, \
         plan: {periodSecs: 86400, graceSecs: 3600}) { status } }",
        serde_json::json!({"id": customer}),
    )
    .await;
    assert_eq!(
        plan.data("setBackupPlan")["status"],
        "new",
        "{:?}",
        plan.body
    );
    let endpoint = agent_endpoint(1);
    tel.sim
        .register_endpoint(&endpoint)
        .expect("phone registers");
    tel.sim.set_agent_behaviour(
        &endpoint,
        Behaviour::Answer {
            after: Duration::from_millis(1500),
        },
    );
    let agent = graphql::register_worker(
        &tel.app,
        &admin,
        "agent1@example.com",
        "AGENT",
        Some(&endpoint),
    )
    .await;
    let agent_id: domain::ids::WorkerId = agent.worker_id.parse().expect("worker id");

    // The browser says when it reached a step by creating a file here (`signal` in
    // web/e2e/support.ts).
    let signals = tempfile::tempdir().expect("signals folder");
    let mut playwright = tokio::process::Command::new("npx")
        .args(["playwright", "test"])
        .current_dir(web_dir())
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .env("CHROMIUM_PATH", &chromium)
        .env("SAVECORP_E2E_URL", tel.app.url(""))
        .env("SAVECORP_E2E_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SAVECORP_E2E_AGENT_EMAIL", "agent1@example.com")
        .env("SAVECORP_E2E_PASSWORD", PASSWORD)
        .env("SAVECORP_E2E_CUSTOMER_NAME", "Acme Lumber")
        .env("SAVECORP_E2E_CALLER", &caller)
        .env("SAVECORP_E2E_CALLER2", &second_caller)
        .env("SAVECORP_E2E_NEW_PHONE", &new_customer_phone)
        .env("SAVECORP_E2E_SIGNALS", signals.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("npx playwright starts (is Node installed and `npm ci` run in web/?)");
    let mut stdout = playwright.stdout.take().expect("stdout");
    let mut stderr = playwright.stderr.take().expect("stderr");
    let output = tokio::spawn(async move {
        let (mut out, mut err) = (String::new(), String::new());
        let _ = tokio::join!(
            stdout.read_to_string(&mut out),
            stderr.read_to_string(&mut err)
        );
        format!("{out}\n{err}")
    });

    // The test's side of the scenario: the customer calls once the agent went Available in
    // the browser; a second caller waits once the first call is connected, and is offered to
    // the agent after the wrap-up.
    let driver = async {
        wait::until_true(
            "the agent available (from the browser)",
            BROWSER_WAIT,
            || async { *tel.worker(agent_id).await.presence() == Presence::Available },
        )
        .await;
        wait::until_true(
            "the desk seen Available (the browser's signal)",
            BROWSER_WAIT,
            || async { signals.path().join("agent-available").exists() },
        )
        .await;
        let (_, first) = tel.place_call(&caller);
        wait::until_true("the first call connected", BROWSER_WAIT, || async {
            matches!(tel.call(first).await.state(), CallState::Connected { .. })
        })
        .await;
        // The agent will let the second call ring (the desk shows the ringing countdown).
        tel.sim.set_agent_behaviour(&endpoint, Behaviour::NoAnswer);
        tel.place_call(&second_caller);
    };
    let status = tokio::time::timeout(RUN_LIMIT, async {
        tokio::select! {
            status = playwright.wait() => status,
            () = driver => playwright.wait().await,
        }
    })
    .await;
    let log = output.await.unwrap_or_default();
    match status {
        Ok(Ok(status)) if status.success() => {}
        Ok(status) => panic!("Playwright failed ({status:?}):\n{log}"),
        Err(_) => panic!("Playwright did not finish within {RUN_LIMIT:?}:\n{log}"),
    }
}

/// First run (issue 16): a server with no admin issued a one-time setup link; in Chromium the
/// setup page creates the first admin and lands on the desk, and the spent link is refused
/// (`e2e/setup.spec.ts`).
#[tokio::test]
async fn a_newcomer_creates_the_first_admin_from_the_setup_link_in_chromium() {
    if !api::webapp::embedded() {
        panic!("the web app is not embedded in this build (is npm installed? see README)");
    }
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let app = tests::TestApp::spawn().await;
    let link = app.setup_link.clone().expect("no admin yet: a setup link");
    // An output folder of its own: another browser run may clean web/test-results meanwhile.
    let results = tempfile::tempdir().expect("results folder");
    let run = tokio::process::Command::new("npx")
        .args(["playwright", "test", "e2e/setup.spec.ts", "--output"])
        .arg(results.path())
        .current_dir(web_dir())
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .env("CHROMIUM_PATH", &chromium)
        .env("SAVECORP_E2E_URL", app.url(""))
        .env("SAVECORP_E2E_SETUP_LINK", &link)
        .env("SAVECORP_E2E_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SAVECORP_E2E_PASSWORD", PASSWORD)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(RUN_LIMIT, run)
        .await
        .expect("Playwright finishes in time")
        .expect("npx playwright starts");
    let log = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "Playwright failed:\n{log}");
    assert!(log.contains("1 passed"), "the setup scenario ran:\n{log}");
    // The admin the browser created logs in.
    graphql::login(&app, ADMIN_EMAIL, PASSWORD).await;
}

/// A TCP proxy in front of the server that the test can cut (every connection closed, no new
/// one accepted) and restore on the same port.
struct CuttableProxy {
    address: std::net::SocketAddr,
    upstream: std::net::SocketAddr,
    running: Option<tokio_util::sync::CancellationToken>,
}

impl CuttableProxy {
    async fn start(upstream: std::net::SocketAddr) -> CuttableProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy binds");
        let address = listener.local_addr().expect("proxy address");
        let mut proxy = CuttableProxy {
            address,
            upstream,
            running: None,
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let stop = tokio_util::sync::CancellationToken::new();
        let upstream = self.upstream;
        let cut = stop.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = cut.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((mut client, _)) = accepted else {
                    continue;
                };
                let cut = cut.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        () = cut.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    }
                });
            }
        });
        self.running = Some(stop);
    }

    /// Closes every connection and stops accepting (the port is released).
    fn cut(&mut self) {
        if let Some(stop) = self.running.take() {
            stop.cancel();
        }
    }

    /// Accepts again on the same port.
    async fn restore(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.address)
            .await
            .expect("proxy binds its port again");
        self.serve(listener);
    }
}

/// Dropped connection (issue 16): a proxy between Chromium and the server is cut while the agent
/// is Available; a call is offered and answered meanwhile; once the proxy is back the desk
/// shows that call exactly once (`e2e/reconnect.spec.ts`).
#[tokio::test]
async fn a_call_offered_while_the_connection_is_down_shows_once_after_the_reconnection_in_chromium()
{
    if !api::webapp::embedded() {
        panic!("the web app is not embedded in this build (is npm installed? see README)");
    }
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut queue = fast_queue();
    queue.offer_timeout_secs = 30;
    queue.wrap_up_secs = 10;
    queue.max_wait_secs = 600;
    let tel = Telephony::start(queue).await;
    let admin = tel.admin().await.clone();
    let caller = graphql::unique_phone();
    graphql::register_customer(&tel.app, &admin.access_token, "Birch Clinic", &caller).await;
    let endpoint = agent_endpoint(1);
    tel.sim
        .register_endpoint(&endpoint)
        .expect("phone registers");
    tel.sim.set_agent_behaviour(
        &endpoint,
        Behaviour::Answer {
            after: Duration::from_millis(500),
        },
    );
    let agent = graphql::register_worker(
        &tel.app,
        &admin,
        "agent-reconnect@example.com",
        "AGENT",
        Some(&endpoint),
    )
    .await;
    let agent_id: domain::ids::WorkerId = agent.worker_id.parse().expect("worker id");
    let mut proxy = CuttableProxy::start(tel.app.address).await;
    // An output folder of its own: another browser run may clean web/test-results meanwhile.
    let results = tempfile::tempdir().expect("results folder");
    let signals = tempfile::tempdir().expect("signals folder");
    let mut playwright = tokio::process::Command::new("npx")
        .args(["playwright", "test", "e2e/reconnect.spec.ts", "--output"])
        .arg(results.path())
        .current_dir(web_dir())
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .env("CHROMIUM_PATH", &chromium)
        .env("SAVECORP_E2E_RECONNECT", "1")
        .env("SAVECORP_E2E_URL", format!("http://{}", proxy.address))
        .env("SAVECORP_E2E_AGENT_EMAIL", "agent-reconnect@example.com")
        .env("SAVECORP_E2E_PASSWORD", PASSWORD)
        .env("SAVECORP_E2E_CUSTOMER_NAME", "Birch Clinic")
        .env("SAVECORP_E2E_CALLER", &caller)
        .env("SAVECORP_E2E_SIGNALS", signals.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("npx playwright starts");
    let mut stdout = playwright.stdout.take().expect("stdout");
    let mut stderr = playwright.stderr.take().expect("stderr");
    let output = tokio::spawn(async move {
        let (mut out, mut err) = (String::new(), String::new());
        let _ = tokio::join!(
            stdout.read_to_string(&mut out),
            stderr.read_to_string(&mut err)
        );
        format!("{out}\n{err}")
    });
    let driver = async {
        wait::until_true("the desk Available (signal)", BROWSER_WAIT, || async {
            signals.path().join("available").exists()
        })
        .await;
        assert_eq!(*tel.worker(agent_id).await.presence(), Presence::Available);
        proxy.cut();
        wait::until_true("the desk reconnecting (signal)", BROWSER_WAIT, || async {
            signals.path().join("down").exists()
        })
        .await;
        let (_, call) = tel.place_call(&caller);
        wait::until_true(
            "the call connected while the page is cut off",
            BROWSER_WAIT,
            || async { matches!(tel.call(call).await.state(), CallState::Connected { .. }) },
        )
        .await;
        proxy.restore().await;
    };
    let status = tokio::time::timeout(RUN_LIMIT, async {
        tokio::select! {
            status = playwright.wait() => status,
            () = driver => playwright.wait().await,
        }
    })
    .await;
    let log = output.await.unwrap_or_default();
    match status {
        Ok(Ok(status)) if status.success() && log.contains("1 passed") => {}
        Ok(status) => panic!("Playwright failed ({status:?}):\n{log}"),
        Err(_) => panic!("Playwright did not finish within {RUN_LIMIT:?}:\n{log}"),
    }
}
