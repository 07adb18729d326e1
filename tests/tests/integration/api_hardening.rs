//! Hostile clients at the HTTP edge (issue 19 §3-4): read timeouts on raw sockets, WebSocket
//! `connection_init` timeout, keepalive, connection caps, token expiry and re-authentication,
//! the security headers, CSRF-proof POSTs, the protected and cached `/metrics`, and what an
//! agent sees of other workers and of waiting callers.

use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tests::graphql::{
    bootstrap_admin, event_count, gql, login, register_worker, Session, WsClient, PASSWORD,
};
use tests::TestApp;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::Message;

/// Reads from `stream` until the server closes it (or resets it); returns what was read, or
/// panics if it is still open after `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration, what: &str) -> String {
    let deadline = Instant::now() + within;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => panic!(
                "{what}: still open after {within:?} (read so far: {:?})",
                String::from_utf8_lossy(&received)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return String::from_utf8_lossy(&received).into_owned(),
            Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
        }
    }
}

async fn short_timeouts() -> TestApp {
    TestApp::spawn_with(|config| {
        config.http.header_read_timeout_ms = 500;
        config.http.body_read_timeout_ms = 500;
    })
    .await
}

#[tokio::test]
async fn partial_headers_a_silent_connection_and_a_partial_body_are_cut_off() {
    let app = short_timeouts().await;

    let mut partial_headers = TcpStream::connect(app.address).await.expect("connects");
    partial_headers
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: savecorp.test\r\nContent-Type: appl")
        .await
        .expect("writes");
    let mut silent = TcpStream::connect(app.address).await.expect("connects");
    let mut partial_body = TcpStream::connect(app.address).await.expect("connects");
    partial_body
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: savecorp.test\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"query\": \"{ vers",
        )
        .await
        .expect("writes");

    read_until_closed(
        &mut partial_headers,
        Duration::from_secs(10),
        "partial headers",
    )
    .await;
    read_until_closed(&mut silent, Duration::from_secs(10), "silent connection").await;
    let answer =
        read_until_closed(&mut partial_body, Duration::from_secs(10), "partial body").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("REQUEST_TIMEOUT"), "{answer}");

    // A well-behaved client is unaffected.
    let (status, body) = app.graphql("{ version }", json!({})).await;
    assert_eq!(status, 200, "{body}");
}

/// A raw WebSocket: the handshake and unmasked reads by hand, so the client can stay silent
/// (no automatic pongs) and the close code is seen as sent.
struct RawSocket(TcpStream);

impl RawSocket {
    async fn connect(app: &TestApp) -> RawSocket {
        let mut stream = TcpStream::connect(app.address).await.expect("connects");
        stream
            .write_all(
                b"GET /graphql HTTP/1.1\r\nHost: savecorp.test\r\nUpgrade: websocket\r\n\
                  Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                  Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
            )
            .await
            .expect("handshake sent");
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            stream
                .read_exact(&mut byte)
                .await
                .expect("handshake answer");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        RawSocket(stream)
    }

    /// Sends a text frame (masked with a zero key, as a client must mask).
    async fn send_text(&mut self, text: &str) {
        let payload = text.as_bytes();
        assert!(payload.len() < 126);
        let mut frame = vec![0x81, 0x80 | payload.len() as u8, 0, 0, 0, 0];
        frame.extend_from_slice(payload);
        self.0.write_all(&frame).await.expect("frame sent");
    }

    /// Reads frames until a close frame: its code, and whether pings came before it.
    async fn close_code(&mut self, within: Duration) -> (u16, bool) {
        let read = async {
            let mut pinged = false;
            loop {
                let mut header = [0u8; 2];
                self.0.read_exact(&mut header).await.expect("frame header");
                let opcode = header[0] & 0x0f;
                let mut length = u64::from(header[1] & 0x7f);
                if length == 126 {
                    let mut bytes = [0u8; 2];
                    self.0.read_exact(&mut bytes).await.expect("length");
                    length = u64::from(u16::from_be_bytes(bytes));
                } else if length == 127 {
                    let mut bytes = [0u8; 8];
                    self.0.read_exact(&mut bytes).await.expect("length");
                    length = u64::from_be_bytes(bytes);
                }
                let mut payload = vec![0u8; usize::try_from(length).expect("length")];
                self.0.read_exact(&mut payload).await.expect("payload");
                match opcode {
                    0x8 => return (u16::from_be_bytes([payload[0], payload[1]]), pinged),
                    0x9 => pinged = true,
                    _ => {}
                }
            }
        };
        tokio::time::timeout(within, read)
            .await
            .expect("the server closed the WebSocket in time")
    }
}

#[tokio::test]
async fn a_websocket_without_connection_init_is_closed_4408_and_a_silent_one_after_two_pings() {
    let app = TestApp::spawn_with(|config| {
        config.http.ws_init_timeout_ms = 300;
        config.http.ws_keepalive_ms = 200;
    })
    .await;

    let mut never_initialised = RawSocket::connect(&app).await;
    let (code, _) = never_initialised.close_code(Duration::from_secs(10)).await;
    assert_eq!(code, 4408);

    // Initialised, then deaf: it gets pings, answers none, and is closed.
    let mut deaf = RawSocket::connect(&app).await;
    deaf.send_text(r#"{"type":"connection_init","payload":{}}"#)
        .await;
    let (code, pinged) = deaf.close_code(Duration::from_secs(10)).await;
    assert_eq!(code, 1001);
    assert!(pinged, "keepalive pings came before the close");

    // A client that answers pings (tungstenite does while it reads) stays open past several
    // intervals: it still answers after the server has pinged it five times.
    let mut socket = raw_tungstenite(&app).await;
    socket
        .send(Message::Text(
            json!({"type": "connection_init", "payload": {}})
                .to_string()
                .into(),
        ))
        .await
        .expect("init");
    let mut pings = 0;
    while pings < 5 {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("readable");
        match message {
            Message::Ping(_) => pings += 1,
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
    socket
        .send(Message::Text(json!({"type": "ping"}).to_string().into()))
        .await
        .expect("ping sent");
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("readable");
        match message {
            Message::Text(text) => {
                assert!(text.as_str().contains("pong"), "{text}");
                break;
            }
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

type Tungstenite =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn raw_tungstenite(app: &TestApp) -> Tungstenite {
    try_connect(app).await.expect("websocket connects")
}

async fn try_connect(app: &TestApp) -> Result<Tungstenite, tokio_tungstenite::tungstenite::Error> {
    let mut request = format!("ws://{}/graphql", app.address)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

#[tokio::test]
async fn websockets_are_capped_per_worker_and_per_server_with_clear_codes() {
    let app = TestApp::spawn_with(|config| {
        config.http.ws_max_connections = 4;
        config.http.ws_max_connections_per_worker = 2;
    })
    .await;
    let admin = bootstrap_admin(&app).await;
    let agent = register_worker(&app, &admin, "capped@edge.test", "AGENT", None).await;

    let first = WsClient::connect_as(&app, Some(&agent.access_token)).await;
    let _second = WsClient::connect_as(&app, Some(&agent.access_token)).await;
    let (_, refused) = WsClient::connect(
        &app,
        json!({"authorization": format!("Bearer {}", agent.access_token)}),
    )
    .await;
    assert_eq!(refused["type"], "close", "{refused}");
    assert_eq!(refused["code"], 4429, "{refused}");
    // Another worker is not affected by the agent's cap.
    let _admin_socket = WsClient::connect_as(&app, Some(&admin.access_token)).await;

    // Closing one frees its slot.
    first.drop_connection().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let _third = loop {
        let (client, answer) = WsClient::connect(
            &app,
            json!({"authorization": format!("Bearer {}", agent.access_token)}),
        )
        .await;
        if answer["type"] == "connection_ack" {
            break client;
        }
        assert!(
            Instant::now() < deadline,
            "the slot was never freed: {answer}"
        );
        // sleep-ok: poll interval of a bounded wait (the slot is freed)
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // Four open (two of the agent's, the admin's, one anonymous): the server's cap.
    let _anonymous = WsClient::connect_as(&app, None).await;
    match try_connect(&app).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 503);
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                .into_owned();
            assert!(body.contains("TOO_MANY_CONNECTIONS"), "{body}");
        }
        other => panic!(
            "expected a 503 refusal, got {:?}",
            other.map(|_| "a socket")
        ),
    }
}

#[tokio::test]
async fn a_bad_or_expired_token_at_connection_init_is_closed_4403() {
    let app = TestApp::spawn_with(|config| config.auth.access_token_secs = 1).await;
    let admin = bootstrap_admin(&app).await;
    let (_, refused) =
        WsClient::connect(&app, json!({"authorization": "Bearer not-a-token"})).await;
    assert_eq!(refused["type"], "close", "{refused}");
    assert_eq!(refused["code"], 4403, "{refused}");

    // The admin's token expires (wait for its `exp` to pass): refused the same way.
    let claims = app
        .state
        .auth
        .keys
        .verify(&admin.access_token)
        .expect("a valid token");
    while chrono::Utc::now().timestamp() <= claims.exp {
        // sleep-ok: poll interval of a bounded wait (the wall clock passed the token's exp)
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, refused) = WsClient::connect(
        &app,
        json!({"authorization": format!("Bearer {}", admin.access_token)}),
    )
    .await;
    assert_eq!(refused["code"], 4403, "{refused}");
}

const LOG: &str = "subscription { events(fromPosition: 0) { position type } }";

#[tokio::test]
async fn a_websocket_closes_when_its_token_expires_unless_the_client_reauthenticates() {
    let app = TestApp::spawn_with(|config| config.auth.access_token_secs = 5).await;
    let admin = bootstrap_admin(&app).await;

    // Not re-authenticated: closed 4403 once the token expired, with no new subscription
    // (the admin's whole log) served after that.
    let exp = app
        .state
        .auth
        .keys
        .verify(&admin.access_token)
        .expect("a valid token")
        .exp;
    let mut idle = WsClient::connect_as(&app, Some(&admin.access_token)).await;
    let closed = loop {
        let message = idle
            .next_within(Duration::from_secs(10))
            .await
            .expect("closed within 10 s of expiry");
        if message["type"] == "close" {
            break message;
        }
    };
    assert_eq!(closed["code"], 4403, "{closed}");
    assert!(
        chrono::Utc::now().timestamp() >= exp,
        "closed before the token expired"
    );

    // Re-authenticated with a refreshed token of the same session: open past the first
    // token's expiry, closed at the second's.
    let session = login(&app, &admin.email, PASSWORD).await;
    let first = app
        .state
        .auth
        .keys
        .verify(&session.access_token)
        .expect("valid");
    let first_exp = first.exp;
    let mut socket = WsClient::connect_as(&app, Some(&session.access_token)).await;
    // Refresh 3 s after the first token was issued (2 s before it expires): the new one
    // expires 3 s later than the first.
    while chrono::Utc::now().timestamp() < first.iat + 3 {
        // sleep-ok: poll interval of a bounded wait (the wall clock reached iat + 3)
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refreshed = gql(
        &app,
        None,
        "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }",
        json!({"t": session.refresh_token}),
    )
    .await;
    let fresh = refreshed.data("refreshSession")["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let second_exp = app.state.auth.keys.verify(&fresh).expect("valid").exp;
    socket
        .send(json!({"type": "ping", "payload": {"authorization": format!("Bearer {fresh}")}}))
        .await;
    let pong = socket.next().await.expect("pong");
    assert_eq!(pong["type"], "pong", "{pong}");
    while chrono::Utc::now().timestamp() <= first_exp {
        // sleep-ok: poll interval of a bounded wait (the wall clock passed the first exp)
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(second_exp >= first_exp + 3);
    socket.subscribe("log", LOG, json!({})).await;
    let first_event = socket.next().await.expect("an event");
    assert_eq!(first_event["type"], "next", "{first_event}");
    let closed = loop {
        let message = socket
            .next_within(Duration::from_secs(10))
            .await
            .expect("closed within 10 s of the second expiry");
        if message["type"] == "close" {
            break message;
        }
    };
    assert_eq!(closed["code"], 4403, "{closed}");
    assert!(chrono::Utc::now().timestamp() >= second_exp);

    // A token of another caller is refused.
    let other = login(&app, &admin.email, PASSWORD).await;
    let mut socket = WsClient::connect_as(&app, Some(&other.access_token)).await;
    socket
        .send(json!({"type": "ping", "payload": {"token": "forged"}}))
        .await;
    let closed = socket.next().await.expect("closed");
    assert_eq!(closed["code"], 4403, "{closed}");
}

const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        api::transport::http::CONTENT_SECURITY_POLICY,
    ),
];

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let responses = [
        app.http.get(app.url("/healthz")).send().await,
        app.http.get(app.url("/graphql")).send().await,
        app.http.get(app.url("/graphiql/explorer.js")).send().await,
        app.http.get(app.url("/no/such/page")).send().await,
        app.http.post(app.url("/ping/sci_nothing")).send().await,
        app.http
            .post(app.url("/graphql"))
            .json(&json!({"query": "{ version }"}))
            .send()
            .await,
    ];
    for response in responses {
        let response = response.expect("answered");
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(
                response.headers().get(name).and_then(|v| v.to_str().ok()),
                Some(value),
                "{name} on {}",
                response.url()
            );
        }
    }
    let policy = api::transport::http::CONTENT_SECURITY_POLICY;
    assert!(policy.contains("frame-ancestors 'none'"));
    assert!(policy.contains("default-src 'none'"));
    assert!(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"));
}

#[tokio::test]
async fn posts_that_a_foreign_page_could_send_are_refused_415_and_run_nothing() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let before = event_count(&app).await;
    let mutation =
        json!({"query": "mutation { setAvailability(state: PAUSED, reason: \"csrf\") { id } }"})
            .to_string();
    for content_type in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = app
            .http
            .post(app.url("/graphql"))
            .bearer_auth(&admin.access_token)
            .header("content-type", content_type)
            .body(mutation.clone())
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 415, "{content_type}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNSUPPORTED_MEDIA_TYPE",
            "{body}"
        );
    }
    let no_type = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&admin.access_token)
        .body(mutation.clone())
        .send()
        .await
        .expect("answered");
    assert_eq!(no_type.status().as_u16(), 415);
    assert_eq!(event_count(&app).await, before, "nothing was written");

    for content_type in [
        "application/json",
        "application/graphql-response+json; charset=utf-8",
    ] {
        let response = app
            .http
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(json!({"query": "{ version }"}).to_string())
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 200, "{content_type}");
    }
}

async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let mut request = app.http.get(app.url("/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("answered");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

fn database_reads(text: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix("savecorp_metrics_database_reads_total "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no database reads counter in {text}"))
}

#[tokio::test]
async fn metrics_need_the_configured_token_and_scrapes_share_one_database_read() {
    let app = TestApp::spawn_with(|config| {
        config.http.metrics_token = Some("scrape-me-please-0123456789".into());
        config.http.metrics_cache_ms = 60_000;
    })
    .await;
    assert_eq!(scrape(&app, None).await.0, 401);
    assert_eq!(scrape(&app, Some("wrong")).await.0, 401);
    let (status, first) = scrape(&app, Some("scrape-me-please-0123456789")).await;
    assert_eq!(status, 200, "{first}");
    assert!(first.contains("savecorp_projector_lag_events"), "{first}");
    for _ in 0..5 {
        let (_, again) = scrape(&app, Some("scrape-me-please-0123456789")).await;
        assert_eq!(database_reads(&again), database_reads(&first), "{again}");
    }
    assert_eq!(database_reads(&first), 1);

    // Without a token setting, /metrics is open (the default), and a short cache reads again.
    let open = TestApp::spawn_with(|config| config.http.metrics_cache_ms = 1).await;
    let (status, first) = scrape(&open, None).await;
    assert_eq!(status, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, again) = scrape(&open, None).await;
        if database_reads(&again) > database_reads(&first) {
            break;
        }
        assert!(Instant::now() < deadline, "the cache never expired");
        // sleep-ok: poll interval of a bounded wait (the metrics cache expired)
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const WORKERS: &str =
    "{ workers(first: 50) { edges { node { id name email endpoint role presence { state } } } } }";
const WORKER: &str =
    "query($id: ID!) { worker(id: $id) { id name email endpoint presence { state } } }";

fn node_of<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| &edge["node"])
        .find(|node| node["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {list}"))
}

async fn as_caller(app: &TestApp, who: &Session, query: &str, variables: Value) -> Value {
    let answer = gql(app, Some(&who.access_token), query, variables).await;
    assert!(answer.body["errors"].is_null(), "{}", answer.body);
    answer.body["data"].clone()
}

#[tokio::test]
async fn agents_see_other_workers_names_and_presence_not_their_contact_details() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let alice = register_worker(&app, &admin, "alice@edge.test", "AGENT", Some("PJSIP/7001")).await;
    let bob = register_worker(&app, &admin, "bob@edge.test", "AGENT", Some("PJSIP/7002")).await;

    // The list and the single item agree, for an agent…
    let list = as_caller(&app, &alice, WORKERS, json!({})).await;
    let single = as_caller(&app, &alice, WORKER, json!({"id": bob.worker_id})).await;
    for other in [node_of(&list["workers"], &bob.worker_id), &single["worker"]] {
        assert_eq!(other["name"], "bob", "{other}");
        assert_eq!(other["presence"]["state"], "OFFLINE", "{other}");
        assert!(other["email"].is_null(), "{other}");
        assert!(other["endpoint"].is_null(), "{other}");
    }
    let admin_seen_by_alice = node_of(&list["workers"], &admin.worker_id);
    assert!(
        admin_seen_by_alice["email"].is_null(),
        "{admin_seen_by_alice}"
    );
    let herself = node_of(&list["workers"], &alice.worker_id);
    assert_eq!(herself["email"], "alice@edge.test");
    assert_eq!(herself["endpoint"], "PJSIP/7001");
    let me = as_caller(&app, &alice, WORKER, json!({"id": alice.worker_id})).await;
    assert_eq!(me["worker"]["email"], "alice@edge.test");

    // …and for an admin, who sees everything.
    let list = as_caller(&app, &admin, WORKERS, json!({})).await;
    let single = as_caller(&app, &admin, WORKER, json!({"id": bob.worker_id})).await;
    for other in [node_of(&list["workers"], &bob.worker_id), &single["worker"]] {
        assert_eq!(other["email"], "bob@edge.test", "{other}");
        assert_eq!(other["endpoint"], "PJSIP/7002", "{other}");
    }

    // Logging in answers with one's own details.
    let answer = gql(
        &app,
        None,
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { worker { email } } }",
        json!({"e": "bob@edge.test", "p": PASSWORD}),
    )
    .await;
    assert_eq!(answer.data("login")["worker"]["email"], "bob@edge.test");
}

#[tokio::test]
async fn agents_not_involved_do_not_see_waiting_callers_numbers() {
    let tel = tests::telephony::Telephony::start(tests::telephony::fast_queue()).await;
    let app = &tel.app;
    let admin = bootstrap_admin(app).await;
    let agent = register_worker(app, &admin, "bystander@edge.test", "AGENT", None).await;
    // One agent busy on a first call: the queue is staffed, the second caller waits.
    tel.add_agent(
        1,
        ari_adapter::sim::Behaviour::Answer {
            after: Duration::from_millis(30),
        },
    )
    .await;
    let (_first, first_call) = tel.place_call("+15551230001");
    tel.wait_bridged(first_call).await;
    let (_channel, call_id) = tel.place_call("+15551239876");
    let query = "{ queueStatus { waiting { callId callerNumber ringingAgentId } oldestWaitSecs } }";
    let wanted = call_id.to_string();
    let find = |data: &Value| {
        data["queueStatus"]["waiting"]
            .as_array()
            .and_then(|calls| calls.iter().find(|call| call["callId"] == wanted.as_str()))
            .cloned()
    };
    // Wait until the read model shows the second call waiting (the first one may linger a
    // moment after it was bridged).
    let deadline = Instant::now() + Duration::from_secs(10);
    let waiting = loop {
        let data = as_caller(app, &admin, query, json!({})).await;
        if let Some(call) = find(&data) {
            break call;
        }
        assert!(Instant::now() < deadline, "the call never waited");
        // sleep-ok: poll interval of a bounded wait (the call waits)
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(waiting["callerNumber"], "+15551239876", "{waiting}");
    assert!(waiting["ringingAgentId"].is_null(), "{waiting}");

    let seen = as_caller(app, &agent, query, json!({})).await;
    let call = find(&seen).expect("the agent sees that someone waits");
    assert!(call["callerNumber"].is_null(), "{call}");
}
