//! `AriClient` against a tiny ARI-like axum server on 127.0.0.1:0 that answers what real
//! Asterisk answered (bodies taken from the recorded sessions).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ari_adapter::model::EndpointStateValue;
use ari_adapter::rest::{
    AriClient, AriConfig, AriError, CreateBridge, CreateChannel, HangupReason,
};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::json;

/// `Basic base64("ari:secret")`.
const GOOD_AUTH: &str = "Basic YXJpOnNlY3JldA==";

type Log = Arc<Mutex<Vec<String>>>;

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn fake_asterisk(log: Log, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let request = format!("{method} {uri}");
    if let Ok(mut log) = log.lock() {
        log.push(request);
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(GOOD_AUTH) {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                "www-authenticate",
                "Basic realm=\"Asterisk REST Interface\"",
            )],
            axum::Json(json!({"message": "Authentication required"})),
        )
            .into_response();
    }
    let path = uri.path();
    match (method.as_str(), path) {
        ("GET", "/ari/asterisk/ping") => json_response(
            StatusCode::OK,
            json!({"ping": "pong", "timestamp": "2026-11-27T04:06:28.593+0000", "asterisk_id": "02:fc:00:00:00:01"}),
        ),
        ("POST", "/ari/channels/live/answer") => StatusCode::NO_CONTENT.into_response(),
        ("POST", "/ari/channels/gone/answer") => json_response(
            StatusCode::NOT_FOUND,
            json!({"message": "Channel not found"}),
        ),
        ("POST", "/ari/channels/agent1-leg-1/answer") => json_response(
            StatusCode::PRECONDITION_FAILED,
            json!({"message": "Channel in invalid state"}),
        ),
        ("POST", "/ari/channels/ringing/answer") => json_response(
            StatusCode::CONFLICT,
            json!({"message": "Channel not in Stasis application"}),
        ),
        ("POST", "/ari/channels/create") => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "Allocation failed"}),
        ),
        ("POST", "/ari/channels/live/play") => json_response(
            StatusCode::CREATED,
            json!({"id": "welcome-1", "media_uri": "sound:cc-welcome", "target_uri": "channel:live", "language": "en", "state": "playing"}),
        ),
        ("DELETE", "/ari/channels/live") => StatusCode::NO_CONTENT.into_response(),
        ("POST", "/ari/bridges") => json_response(
            StatusCode::OK,
            json!({"id": "b1", "technology": "simple_bridge", "bridge_type": "mixing", "bridge_class": "stasis",
                   "creator": "Stasis", "name": "cc-call-1", "channels": [], "creationtime": "2026-11-27T04:06:28.593+0000",
                   "video_mode": "none"}),
        ),
        ("POST", "/ari/bridges/b1/addChannel") => StatusCode::NO_CONTENT.into_response(),
        ("POST", "/ari/bridges/b1/removeChannel") => json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "Channel not in this bridge"}),
        ),
        ("GET", "/ari/endpoints/PJSIP/agent1") => json_response(
            StatusCode::OK,
            json!({"technology": "PJSIP", "resource": "agent1", "state": "online", "channel_ids": []}),
        ),
        ("GET", "/ari/endpoints") => json_response(
            StatusCode::OK,
            json!([{"technology": "PJSIP", "resource": "trunk", "channel_ids": []}]),
        ),
        ("GET", "/ari/channels") => (StatusCode::OK, "this is not json").into_response(),
        ("POST", "/ari/channels/live/moh") => {
            (StatusCode::SERVICE_UNAVAILABLE, "  try later  ").into_response()
        }
        ("POST", "/ari/channels/live/dial") => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            StatusCode::NO_CONTENT.into_response()
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            json!({"message": "Resource not found"}),
        ),
    }
}

struct FakeAsterisk {
    base_url: String,
    log: Log,
}

impl FakeAsterisk {
    async fn start() -> Self {
        let log: Log = Arc::default();
        let handler_log = log.clone();
        let app = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
            fake_asterisk(handler_log.clone(), method, uri, headers)
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base_url: format!("http://{address}/ari"),
            log,
        }
    }

    fn client(&self, password: &str) -> AriClient {
        let mut config = AriConfig::new(&self.base_url, "ari", password);
        config.request_timeout = Duration::from_millis(500);
        AriClient::new(&config).expect("client")
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }
}

#[tokio::test]
async fn a_204_is_success_and_a_json_body_is_decoded() {
    let asterisk = FakeAsterisk::start().await;
    let client = asterisk.client("secret");
    assert_eq!(client.answer("live").await, Ok(()));
    let ping = client.ping().await.expect("ping");
    assert_eq!(ping.ping, "pong");
    assert_eq!(ping.asterisk_id, "02:fc:00:00:00:01");
    let endpoint = client
        .get_endpoint("PJSIP", "agent1")
        .await
        .expect("endpoint");
    assert_eq!(endpoint.state, Some(EndpointStateValue::Online));
    let endpoints = client.list_endpoints().await.expect("endpoints");
    assert_eq!(endpoints[0].state_or_unknown(), EndpointStateValue::Unknown);
}

#[tokio::test]
async fn a_404_carries_asterisks_message_and_counts_as_gone() {
    let asterisk = FakeAsterisk::start().await;
    let error = asterisk
        .client("secret")
        .answer("gone")
        .await
        .expect_err("404");
    assert_eq!(error, AriError::NotFound("Channel not found".into()));
    assert!(error.is_gone());
}

#[tokio::test]
async fn a_500_with_an_error_key_is_a_server_error_with_that_message() {
    let asterisk = FakeAsterisk::start().await;
    let request = CreateChannel {
        endpoint: "PJSIP/agent1".into(),
        app: "callcenter".into(),
        app_args: vec!["agent".into(), "1795752811.0".into()],
        channel_id: Some("agent1-leg-1".into()),
        ..CreateChannel::default()
    };
    let error = asterisk
        .client("secret")
        .create_channel(&request)
        .await
        .expect_err("500");
    assert_eq!(
        error,
        AriError::Server {
            status: 500,
            message: "Allocation failed".into()
        }
    );
    assert!(!error.is_gone());
    assert_eq!(
        asterisk.requests(),
        ["POST /ari/channels/create?endpoint=PJSIP%2Fagent1&app=callcenter&appArgs=agent%2C1795752811.0&channelId=agent1-leg-1"]
    );
}

#[tokio::test]
async fn wrong_credentials_give_unauthorized() {
    let asterisk = FakeAsterisk::start().await;
    let error = asterisk.client("hunter2").ping().await.expect_err("401");
    assert_eq!(error, AriError::Unauthorized);
    assert!(!error.to_string().contains("hunter2"));
}

#[tokio::test]
async fn status_codes_409_412_422_and_raw_text_bodies_map_to_their_errors() {
    let asterisk = FakeAsterisk::start().await;
    let client = asterisk.client("secret");
    assert_eq!(
        client.answer("ringing").await,
        Err(AriError::Conflict(
            "Channel not in Stasis application".into()
        ))
    );
    assert_eq!(
        client.answer("agent1-leg-1").await,
        Err(AriError::InvalidState("Channel in invalid state".into()))
    );
    assert_eq!(
        client.remove_channel("b1", "live").await,
        Err(AriError::Unprocessable("Channel not in this bridge".into()))
    );
    assert_eq!(
        client.start_moh("live", None).await,
        Err(AriError::Server {
            status: 503,
            message: "try later".into()
        })
    );
    assert!(matches!(
        client.list_channels().await,
        Err(AriError::UnexpectedBody(_))
    ));
}

#[tokio::test]
async fn parameters_go_in_the_query_string_with_multiple_values_comma_separated() {
    let asterisk = FakeAsterisk::start().await;
    let client = asterisk.client("secret");
    let playback = client
        .play(
            "live",
            &["sound:cc-welcome", "sound:cc-wait"],
            Some("welcome-1"),
        )
        .await
        .expect("201 playback");
    assert_eq!(playback.state, "playing");
    let bridge = client
        .create_bridge(&CreateBridge {
            bridge_type: vec!["mixing".into(), "dtmf_events".into()],
            bridge_id: None,
            name: Some("cc-call-1".into()),
        })
        .await
        .expect("bridge");
    assert_eq!(bridge.id, "b1");
    client
        .add_channels("b1", &["live", "agent1-leg-1"])
        .await
        .expect("204");
    client
        .hangup("live", Some(HangupReason::NoAnswer))
        .await
        .expect("204");
    assert_eq!(
        asterisk.requests(),
        [
            "POST /ari/channels/live/play?media=sound%3Acc-welcome%2Csound%3Acc-wait&playbackId=welcome-1",
            "POST /ari/bridges?type=mixing%2Cdtmf_events&name=cc-call-1",
            "POST /ari/bridges/b1/addChannel?channel=live%2Cagent1-leg-1",
            "DELETE /ari/channels/live?reason=no_answer",
        ]
    );
}

#[tokio::test]
async fn a_request_that_outlives_the_timeout_is_a_transport_error() {
    let asterisk = FakeAsterisk::start().await;
    let error = asterisk
        .client("secret")
        .dial("live", Some("caller"), Some(20))
        .await
        .expect_err("timeout");
    assert!(matches!(error, AriError::Transport(_)), "{error:?}");
}

#[tokio::test]
async fn a_closed_port_is_a_transport_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    drop(listener);
    let config = AriConfig::new(format!("http://{address}/ari"), "ari", "secret");
    let error = AriClient::new(&config)
        .expect("client")
        .ping()
        .await
        .expect_err("nothing listens");
    assert!(matches!(error, AriError::Transport(_)), "{error:?}");
    assert!(!error.to_string().contains("secret"));
}
