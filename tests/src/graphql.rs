//! GraphQL helpers for API tests: requests as a caller, login, the first admin, registering
//! workers and customers, and a `graphql-transport-ws` client over tokio-tungstenite.

use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::Message;

use crate::TestApp;

pub const ADMIN_EMAIL: &str = "admin@savecorp.test";
pub const PASSWORD: &str = "correct horse battery staple";

/// A logged-in worker.
#[derive(Clone, Debug)]
pub struct Session {
    pub worker_id: String,
    pub access_token: String,
    pub refresh_token: String,
    pub email: String,
}

/// A GraphQL answer.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The `extensions.code` of the first error, if any.
    pub fn code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    /// `data.<field>`, asserting there was no error.
    pub fn data(&self, field: &str) -> &Value {
        assert!(
            self.body.get("errors").is_none() && self.status == 200,
            "expected success, got {} {}",
            self.status,
            self.body
        );
        &self.body["data"][field]
    }
}

pub const WORKER_FIELDS: &str =
    "id version name email role endpoint active presence { state reason }";

/// POSTs a query with an optional bearer token and extra headers.
pub async fn post(
    app: &TestApp,
    token: Option<&str>,
    headers: &[(&str, &str)],
    query: &str,
    variables: Value,
) -> Answer {
    let mut request = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer { status, body }
}

/// POSTs a query as `token` (or anonymously).
pub async fn gql(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> Answer {
    post(app, token, &[], query, variables).await
}

/// Logs in; panics unless it succeeds.
pub async fn login(app: &TestApp, email: &str, password: &str) -> Session {
    let answer = gql(
        app,
        None,
        "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken refreshToken worker { id } } }",
        json!({"email": email, "password": password}),
    )
    .await;
    let login = answer.data("login");
    Session {
        worker_id: login["worker"]["id"]
            .as_str()
            .expect("worker id")
            .to_owned(),
        access_token: login["accessToken"].as_str().expect("token").to_owned(),
        refresh_token: login["refreshToken"].as_str().expect("refresh").to_owned(),
        email: email.to_owned(),
    }
}

/// Creates the first admin with the bootstrap function and logs in.
pub async fn bootstrap_admin(app: &TestApp) -> Session {
    api::auth::bootstrap::create_admin(&app.pool, ADMIN_EMAIL, PASSWORD, true)
        .await
        .expect("admin bootstrapped");
    login(app, ADMIN_EMAIL, PASSWORD).await
}

/// Registers a worker as `admin` (password [`PASSWORD`]) and logs them in.
pub async fn register_worker(
    app: &TestApp,
    admin: &Session,
    email: &str,
    role: &str,
    endpoint: Option<&str>,
) -> Session {
    let answer = gql(
        app,
        Some(&admin.access_token),
        "mutation($input: RegisterWorkerInput!) { registerWorker(input: $input) { id } }",
        json!({"input": {"name": email.split('@').next(), "email": email, "role": role,
                         "endpoint": endpoint, "password": PASSWORD}}),
    )
    .await;
    answer.data("registerWorker");
    login(app, email, PASSWORD).await
}

/// Registers a customer as `token`; returns its id.
pub async fn register_customer(app: &TestApp, token: &str, name: &str, phone: &str) -> String {
    let answer = gql(
        app,
        Some(token),
        "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) { id } }",
        json!({"input": {"name": name, "phones": [phone], "email": "it@customer.test"}}),
    )
    .await;
    answer.data("registerCustomer")["id"]
        .as_str()
        .expect("customer id")
        .to_owned()
}

/// A phone number no other test run uses.
pub fn unique_phone() -> String {
    let digits = uuid::Uuid::new_v4().as_u128() % 1_000_000_000;
    format!("+336{digits:09}")
}

/// How many events the log holds.
pub async fn event_count(app: &TestApp) -> i64 {
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .expect("count events");
    count
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A `graphql-transport-ws` client.
pub struct WsClient {
    socket: Socket,
}

impl WsClient {
    /// Connects and sends `connection_init` with `payload`; returns the client and the server's
    /// first answer (`connection_ack`, or the close frame when refused).
    pub async fn connect(app: &TestApp, payload: Value) -> (WsClient, Value) {
        let mut request = format!("ws://{}/graphql", app.address)
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket connects");
        let mut client = WsClient { socket };
        client
            .send(json!({"type": "connection_init", "payload": payload}))
            .await;
        let first = client.next().await.unwrap_or(Value::Null);
        (client, first)
    }

    /// Connects as `token`, asserting the connection is acknowledged.
    pub async fn connect_as(app: &TestApp, token: Option<&str>) -> WsClient {
        let payload = match token {
            Some(token) => json!({"authorization": format!("Bearer {token}")}),
            None => json!({}),
        };
        let (client, first) = Self::connect(app, payload).await;
        assert_eq!(first["type"], "connection_ack", "{first}");
        client
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("websocket send");
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, text: String) -> bool {
        self.socket.send(Message::Text(text.into())).await.is_ok()
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({"id": id, "type": "subscribe",
                         "payload": {"query": query, "variables": variables}}))
            .await;
    }

    /// The next message within 10 s: JSON for text, `{"type": "close", "code": …}` for a
    /// close frame, `None` when the connection ended or nothing came.
    pub async fn next(&mut self) -> Option<Value> {
        self.next_within(Duration::from_secs(10)).await
    }

    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(wait, self.socket.next())
                .await
                .ok()??;
            match message.ok()? {
                Message::Text(text) => return serde_json::from_str(text.as_str()).ok(),
                Message::Close(frame) => {
                    return Some(json!({"type": "close",
                        "code": frame.as_ref().map(|frame| u16::from(frame.code)),
                        "reason": frame.map(|frame| frame.reason.to_string())}))
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                _ => continue,
            }
        }
    }

    /// Closes the connection abruptly (no `complete`).
    pub async fn drop_connection(mut self) {
        let _ = self.socket.close(None).await;
    }
}
