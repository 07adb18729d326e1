//! Typed calls to the ARI REST API (plain HTTP + Basic auth).
//!
//! Parameters go in the query string; `allowMultiple` parameters are sent as one comma-separated
//! value, because repeating the key keeps only the last one (NOTES §1). Error bodies are decoded
//! leniently: `{"message": …}`, `{"error": …}` (seen for `500 Allocation failed`) or raw text.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::model::{Application, AsteriskPing, Bridge, Channel, Endpoint, Playback};

/// Where Asterisk's ARI is and how to log in.
#[derive(Clone)]
pub struct AriConfig {
    /// REST base URL, e.g. `http://127.0.0.1:8088/ari`.
    pub base_url: String,
    pub username: String,
    pub password: String,
    /// Timeout of one whole request (connect + response).
    pub request_timeout: Duration,
}

impl AriConfig {
    pub fn new(
        base_url: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            username: username.into(),
            password: password.into(),
            request_timeout: Duration::from_secs(5),
        }
    }
}

impl fmt::Debug for AriConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AriConfig")
            .field("base_url", &self.base_url)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// A failed ARI call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AriError {
    /// 404: the channel, bridge, endpoint or application does not exist (any more).
    #[error("not found: {0}")]
    NotFound(String),
    /// 400: invalid parameters (also an unknown channel in bridge operations).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: missing or wrong credentials.
    #[error("unauthorized: wrong ari credentials")]
    Unauthorized,
    /// 403: a read-only user tried to change something.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 409: e.g. the channel is not in a Stasis application, or the id already exists.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 412: the channel is in a state that does not allow the operation (Down, Ringing, …).
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// 422: e.g. channel not in Stasis / not in this bridge, unknown event source.
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    /// Any other status, e.g. `500 {"error":"Allocation failed"}` for an unregistered phone.
    #[error("asterisk answered {status}: {message}")]
    Server { status: u16, message: String },
    /// The request did not get an answer (connection refused, timeout, …).
    #[error("transport error: {0}")]
    Transport(String),
    /// A success status with a body that is not what the spec says.
    #[error("unexpected response body: {0}")]
    UnexpectedBody(String),
    /// The base URL or an argument cannot form a URL.
    #[error("invalid url: {0}")]
    InvalidUrl(String),
}

impl AriError {
    /// True for a 404: for cleanup (hang up, destroy a bridge) this means already done.
    pub fn is_gone(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }

    fn from_status(status: StatusCode, body: &str) -> Self {
        let message = error_message(status, body);
        match status.as_u16() {
            400 => Self::BadRequest(message),
            401 => Self::Unauthorized,
            403 => Self::Forbidden(message),
            404 => Self::NotFound(message),
            409 => Self::Conflict(message),
            412 => Self::InvalidState(message),
            422 => Self::Unprocessable(message),
            code => Self::Server {
                status: code,
                message,
            },
        }
    }
}

/// The human message of an ARI error body: `message` or `error` key, else the raw text.
fn error_message(status: StatusCode, body: &str) -> String {
    if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(body) {
        for key in ["message", "error"] {
            if let Some(Value::String(text)) = object.get(key) {
                return text.clone();
            }
        }
    }
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return status
            .canonical_reason()
            .unwrap_or("no message")
            .to_lowercase();
    }
    trimmed.chars().take(500).collect()
}

/// `reason` of `DELETE /channels/{id}` and the Q.850 cause Asterisk sets for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HangupReason {
    /// 16
    Normal,
    /// 17
    Busy,
    /// 34
    Congestion,
    /// 19
    NoAnswer,
    /// 18
    Timeout,
    /// 21
    Rejected,
    /// 1
    Unallocated,
    /// 31
    NormalUnspecified,
    /// 28
    NumberIncomplete,
    /// 58
    CodecMismatch,
    /// 127
    Interworking,
    /// 38
    Failure,
    /// 26
    AnsweredElsewhere,
}

impl HangupReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Busy => "busy",
            Self::Congestion => "congestion",
            Self::NoAnswer => "no_answer",
            Self::Timeout => "timeout",
            Self::Rejected => "rejected",
            Self::Unallocated => "unallocated",
            Self::NormalUnspecified => "normal_unspecified",
            Self::NumberIncomplete => "number_incomplete",
            Self::CodecMismatch => "codec_mismatch",
            Self::Interworking => "interworking",
            Self::Failure => "failure",
            Self::AnsweredElsewhere => "answered_elsewhere",
        }
    }
}

/// Parameters of `POST /channels/create` (a channel in our app, not dialed yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateChannel {
    /// `TECH/resource`, e.g. `PJSIP/agent1`.
    pub endpoint: String,
    pub app: String,
    /// Becomes `StasisStart.args`, e.g. `["agent", "<inbound id>"]`.
    pub app_args: Vec<String>,
    /// Our own id for the channel (known before any event).
    pub channel_id: Option<String>,
    /// The related channel (e.g. the inbound one), for codec and linkedid.
    pub originator: Option<String>,
    /// e.g. `ulaw`; not together with `originator`.
    pub formats: Option<String>,
}

/// Parameters of `POST /bridges`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateBridge {
    /// Attributes, e.g. `["mixing", "dtmf_events"]` or `["holding"]`.
    pub bridge_type: Vec<String>,
    pub bridge_id: Option<String>,
    pub name: Option<String>,
}

type Query<'a> = Vec<(&'static str, String)>;

/// ARI REST client. Cheap to clone (shares one connection pool).
#[derive(Clone)]
pub struct AriClient {
    http: reqwest::Client,
    base_url: Url,
    username: String,
    password: String,
}

impl fmt::Debug for AriClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AriClient")
            .field("base_url", &self.base_url.as_str())
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl AriClient {
    pub fn new(config: &AriConfig) -> Result<Self, AriError> {
        let base_url = Url::parse(config.base_url.trim_end_matches('/'))
            .map_err(|error| AriError::InvalidUrl(error.to_string()))?;
        if base_url.cannot_be_a_base() {
            return Err(AriError::InvalidUrl(format!("{base_url} cannot be a base")));
        }
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout)
            .build()
            .map_err(|error| AriError::Transport(error.to_string()))?;
        Ok(Self {
            http,
            base_url,
            username: config.username.clone(),
            password: config.password.clone(),
        })
    }

    /// The REST base URL.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    fn url(&self, segments: &[&str], query: &Query<'_>) -> Result<Url, AriError> {
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| AriError::InvalidUrl("base url cannot be a base".into()))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
        }
        Ok(url)
    }

    async fn call(
        &self,
        method: Method,
        segments: &[&str],
        query: Query<'_>,
    ) -> Result<(StatusCode, String), AriError> {
        let url = self.url(segments, &query)?;
        tracing::debug!(%method, path = url.path(), "ari request");
        let response = self
            .http
            .request(method, url)
            .basic_auth(&self.username, Some(&self.password))
            .send()
            .await
            .map_err(|error| AriError::Transport(error.without_url().to_string()))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|error| AriError::Transport(error.without_url().to_string()))?;
        if status.is_success() {
            Ok((status, body))
        } else {
            Err(AriError::from_status(status, &body))
        }
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: Query<'_>,
    ) -> Result<T, AriError> {
        let (_, body) = self.call(method, segments, query).await?;
        serde_json::from_str(&body).map_err(|error| AriError::UnexpectedBody(error.to_string()))
    }

    async fn empty(
        &self,
        method: Method,
        segments: &[&str],
        query: Query<'_>,
    ) -> Result<(), AriError> {
        self.call(method, segments, query).await.map(|_| ())
    }

    /// `GET /asterisk/ping`: health check.
    pub async fn ping(&self) -> Result<AsteriskPing, AriError> {
        self.json(Method::GET, &["asterisk", "ping"], vec![]).await
    }

    /// `GET /channels`.
    pub async fn list_channels(&self) -> Result<Vec<Channel>, AriError> {
        self.json(Method::GET, &["channels"], vec![]).await
    }

    /// `GET /channels/{id}`.
    pub async fn get_channel(&self, channel_id: &str) -> Result<Channel, AriError> {
        self.json(Method::GET, &["channels", channel_id], vec![])
            .await
    }

    /// `POST /channels/{id}/answer`.
    pub async fn answer(&self, channel_id: &str) -> Result<(), AriError> {
        self.empty(Method::POST, &["channels", channel_id, "answer"], vec![])
            .await
    }

    /// `POST /channels/{id}/ring`: the caller hears ringing (180).
    pub async fn ring(&self, channel_id: &str) -> Result<(), AriError> {
        self.empty(Method::POST, &["channels", channel_id, "ring"], vec![])
            .await
    }

    /// `DELETE /channels/{id}/ring`.
    pub async fn stop_ring(&self, channel_id: &str) -> Result<(), AriError> {
        self.empty(Method::DELETE, &["channels", channel_id, "ring"], vec![])
            .await
    }

    /// `POST /channels/{id}/moh`, with Asterisk's default class when `moh_class` is `None`.
    pub async fn start_moh(
        &self,
        channel_id: &str,
        moh_class: Option<&str>,
    ) -> Result<(), AriError> {
        let mut query = vec![];
        if let Some(class) = moh_class {
            query.push(("mohClass", class.to_owned()));
        }
        self.empty(Method::POST, &["channels", channel_id, "moh"], query)
            .await
    }

    /// `DELETE /channels/{id}/moh`.
    pub async fn stop_moh(&self, channel_id: &str) -> Result<(), AriError> {
        self.empty(Method::DELETE, &["channels", channel_id, "moh"], vec![])
            .await
    }

    /// `DELETE /channels/{id}?reason=`. A 404 ([`AriError::is_gone`]) means already hung up.
    pub async fn hangup(
        &self,
        channel_id: &str,
        reason: Option<HangupReason>,
    ) -> Result<(), AriError> {
        let mut query = vec![];
        if let Some(reason) = reason {
            query.push(("reason", reason.as_str().to_owned()));
        }
        self.empty(Method::DELETE, &["channels", channel_id], query)
            .await
    }

    /// `POST /channels/create`: the channel enters our app (`StasisStart`) without being dialed.
    pub async fn create_channel(&self, request: &CreateChannel) -> Result<Channel, AriError> {
        let mut query = vec![
            ("endpoint", request.endpoint.clone()),
            ("app", request.app.clone()),
        ];
        if !request.app_args.is_empty() {
            query.push(("appArgs", request.app_args.join(",")));
        }
        if let Some(channel_id) = &request.channel_id {
            query.push(("channelId", channel_id.clone()));
        }
        if let Some(originator) = &request.originator {
            query.push(("originator", originator.clone()));
        }
        if let Some(formats) = &request.formats {
            query.push(("formats", formats.clone()));
        }
        self.json(Method::POST, &["channels", "create"], query)
            .await
    }

    /// `POST /channels/{id}/dial`. Never dial the same channel twice (NOTES §5).
    pub async fn dial(
        &self,
        channel_id: &str,
        caller: Option<&str>,
        timeout_secs: Option<u32>,
    ) -> Result<(), AriError> {
        let mut query = vec![];
        if let Some(caller) = caller {
            query.push(("caller", caller.to_owned()));
        }
        if let Some(timeout) = timeout_secs {
            query.push(("timeout", timeout.to_string()));
        }
        self.empty(Method::POST, &["channels", channel_id, "dial"], query)
            .await
    }

    /// `POST /channels/{id}/play` with one or more media URIs (`sound:…`, `tone:…`, …).
    pub async fn play(
        &self,
        channel_id: &str,
        media: &[&str],
        playback_id: Option<&str>,
    ) -> Result<Playback, AriError> {
        let mut query = vec![("media", media.join(","))];
        if let Some(playback_id) = playback_id {
            query.push(("playbackId", playback_id.to_owned()));
        }
        self.json(Method::POST, &["channels", channel_id, "play"], query)
            .await
    }

    /// `POST /bridges`.
    pub async fn create_bridge(&self, request: &CreateBridge) -> Result<Bridge, AriError> {
        let mut query = vec![];
        if !request.bridge_type.is_empty() {
            query.push(("type", request.bridge_type.join(",")));
        }
        if let Some(bridge_id) = &request.bridge_id {
            query.push(("bridgeId", bridge_id.clone()));
        }
        if let Some(name) = &request.name {
            query.push(("name", name.clone()));
        }
        self.json(Method::POST, &["bridges"], query).await
    }

    /// `POST /bridges/{id}/addChannel?channel=a,b`.
    pub async fn add_channels(
        &self,
        bridge_id: &str,
        channel_ids: &[&str],
    ) -> Result<(), AriError> {
        let query = vec![("channel", channel_ids.join(","))];
        self.empty(Method::POST, &["bridges", bridge_id, "addChannel"], query)
            .await
    }

    /// `POST /bridges/{id}/removeChannel?channel=`.
    pub async fn remove_channel(&self, bridge_id: &str, channel_id: &str) -> Result<(), AriError> {
        let query = vec![("channel", channel_id.to_owned())];
        self.empty(
            Method::POST,
            &["bridges", bridge_id, "removeChannel"],
            query,
        )
        .await
    }

    /// `DELETE /bridges/{id}`. A 404 ([`AriError::is_gone`]) means already destroyed.
    pub async fn destroy_bridge(&self, bridge_id: &str) -> Result<(), AriError> {
        self.empty(Method::DELETE, &["bridges", bridge_id], vec![])
            .await
    }

    /// `GET /bridges`.
    pub async fn list_bridges(&self) -> Result<Vec<Bridge>, AriError> {
        self.json(Method::GET, &["bridges"], vec![]).await
    }

    /// `GET /endpoints`.
    pub async fn list_endpoints(&self) -> Result<Vec<Endpoint>, AriError> {
        self.json(Method::GET, &["endpoints"], vec![]).await
    }

    /// `GET /endpoints/{tech}/{resource}`; `state == Online` means the phone is registered.
    pub async fn get_endpoint(
        &self,
        technology: &str,
        resource: &str,
    ) -> Result<Endpoint, AriError> {
        self.json(Method::GET, &["endpoints", technology, resource], vec![])
            .await
    }

    /// `POST /applications/{app}/subscription?eventSource=a,b` (e.g. `endpoint:PJSIP/agent1`).
    /// 404 when no WebSocket is connected for `app`.
    pub async fn subscribe(
        &self,
        app: &str,
        event_sources: &[&str],
    ) -> Result<Application, AriError> {
        let query = vec![("eventSource", event_sources.join(","))];
        self.json(Method::POST, &["applications", app, "subscription"], query)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_read_from_message_then_error_then_raw_text() {
        let status = StatusCode::INTERNAL_SERVER_ERROR;
        assert_eq!(
            error_message(status, r#"{"message":"Channel not found"}"#),
            "Channel not found"
        );
        assert_eq!(
            error_message(status, r#"{"error":"Allocation failed"}"#),
            "Allocation failed"
        );
        assert_eq!(error_message(status, "  boom \n"), "boom");
        assert_eq!(error_message(status, ""), "internal server error");
        assert_eq!(
            error_message(status, r#"{"message":5}"#),
            r#"{"message":5}"#
        );
    }

    #[test]
    fn path_segments_are_escaped_and_multiple_values_joined_with_commas() {
        let client = AriClient::new(&AriConfig::new("http://127.0.0.1:8088/ari/", "u", "p"))
            .expect("valid config");
        let url = client
            .url(
                &["bridges", "a/b c", "addChannel"],
                &vec![("channel", ["x", "y"].join(","))],
            )
            .expect("url");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8088/ari/bridges/a%2Fb%20c/addChannel?channel=x%2Cy"
        );
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let config = AriConfig::new("http://127.0.0.1:8088/ari", "ari", "s3cret");
        let client = AriClient::new(&config).expect("valid config");
        assert!(!format!("{config:?}").contains("s3cret"));
        assert!(!format!("{client:?}").contains("s3cret"));
    }
}
