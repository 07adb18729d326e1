//! The `/ari` HTTP surface: authentication, request recording, and one thin handler per
//! operation that parses parameters and calls the world.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

use super::handle::{RecordedRequest, Shared};
use super::json::now;
use super::world::{Failure, Params, PlayTarget, Reply};

type Sim = State<Arc<Shared>>;
type QueryPairs = Query<Vec<(String, String)>>;

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body)).into_response()
    }
}

fn ok(result: Reply<Value>) -> Response {
    result.map(Json).into_response()
}

fn no_content(result: Reply<()>) -> Response {
    result.map(|()| StatusCode::NO_CONTENT).into_response()
}

fn created_playback(result: Reply<Value>) -> Response {
    match result {
        Ok(playback) => {
            let id = playback["id"].as_str().unwrap_or_default();
            let location = HeaderValue::from_str(&format!("/ari/playbacks/{id}"))
                .unwrap_or_else(|_| HeaderValue::from_static("/ari/playbacks"));
            (
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(playback),
            )
                .into_response()
        }
        Err(failure) => failure.into_response(),
    }
}

fn params(query: Vec<(String, String)>, body: &Bytes) -> Reply<Params> {
    Params::new(query, body)
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/ari/asterisk/ping", get(ping))
        .route("/ari/events", get(super::socket::events))
        .route("/ari/channels", get(list_channels).post(originate))
        .route("/ari/channels/create", post(create_channel))
        .route(
            "/ari/channels/{channel_id}",
            get(get_channel).post(originate_with_id).delete(hangup),
        )
        .route("/ari/channels/{channel_id}/answer", post(answer))
        .route("/ari/channels/{channel_id}/dial", post(dial))
        .route("/ari/channels/{channel_id}/play", post(play))
        .route(
            "/ari/channels/{channel_id}/play/{playback_id}",
            post(play_with_id),
        )
        .route(
            "/ari/channels/{channel_id}/ring",
            post(control_op).delete(control_op),
        )
        .route(
            "/ari/channels/{channel_id}/moh",
            post(control_op).delete(control_op),
        )
        .route(
            "/ari/channels/{channel_id}/hold",
            post(control_op).delete(control_op),
        )
        .route(
            "/ari/channels/{channel_id}/silence",
            post(control_op).delete(control_op),
        )
        .route(
            "/ari/channels/{channel_id}/mute",
            post(control_op).delete(control_op),
        )
        .route(
            "/ari/playbacks/{playback_id}",
            get(get_playback).delete(stop_playback),
        )
        .route("/ari/bridges", get(list_bridges).post(create_bridge))
        .route(
            "/ari/bridges/{bridge_id}",
            get(get_bridge)
                .post(create_bridge_with_id)
                .delete(destroy_bridge),
        )
        .route("/ari/bridges/{bridge_id}/addChannel", post(add_channel))
        .route(
            "/ari/bridges/{bridge_id}/removeChannel",
            post(remove_channel),
        )
        .route(
            "/ari/bridges/{bridge_id}/moh",
            post(bridge_moh).delete(bridge_moh),
        )
        .route("/ari/bridges/{bridge_id}/play", post(bridge_play))
        .route("/ari/endpoints", get(list_endpoints))
        .route("/ari/endpoints/{tech}", get(list_endpoints_by_tech))
        .route("/ari/endpoints/{tech}/{resource}", get(get_endpoint))
        .route("/ari/applications", get(list_applications))
        .route("/ari/applications/{app}", get(get_application))
        .route(
            "/ari/applications/{app}/subscription",
            post(subscribe).delete(unsubscribe),
        )
        .route("/ari/deviceStates", get(|| async { Json(json!([])) }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            authenticate_and_record,
        ))
        .with_state(shared)
}

/// Basic first, then `api_key=user:pass` (res_ari.c); every request is recorded with its status.
async fn authenticate_and_record(State(sim): Sim, request: Request, next: Next) -> Response {
    let received_at = std::time::Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path();
    let path = path.strip_prefix("/ari").unwrap_or(path).to_owned();
    let query: Vec<(String, String)> = Query::try_from_uri(request.uri())
        .map(|Query(pairs)| pairs)
        .unwrap_or_default();
    let (user, password) = {
        let world = sim.lock();
        (world.config.user.clone(), world.config.password.clone())
    };
    let expected = format!("{user}:{password}");
    let authorized = match basic_credentials(request.headers()) {
        Some(given) => given == expected,
        None => query
            .iter()
            .rev()
            .find(|(key, _)| key == "api_key")
            .is_some_and(|(_, given)| *given == expected),
    };
    let response = if authorized {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Asterisk REST Interface\""),
            )],
            Json(json!({ "message": "Authentication required" })),
        )
            .into_response()
    };
    let status = response.status().as_u16();
    sim.with_world(|world| {
        if world.config.record_requests {
            world.requests.push(RecordedRequest {
                method,
                path,
                query,
                status,
                received_at,
            });
        }
    });
    response
}

/// `Authorization: Basic base64(user:pass)` decoded; `Some("")` for a malformed header.
fn basic_credentials(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .unwrap_or_default();
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
        .unwrap_or_default();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    Some(decoded.unwrap_or_default())
}

async fn not_found() -> Response {
    Failure::new(404, "Resource not found").into_response()
}

async fn method_not_allowed() -> Response {
    Failure::new(405, "Invalid method").into_response()
}

async fn ping(State(sim): Sim) -> Json<Value> {
    let asterisk_id = sim.lock().config.asterisk_id.clone();
    Json(json!({ "ping": "pong", "timestamp": now(), "asterisk_id": asterisk_id }))
}

async fn list_channels(State(sim): Sim) -> Json<Value> {
    Json(sim.lock().list_channels())
}

async fn get_channel(State(sim): Sim, Path(id): Path<String>) -> Response {
    ok(sim.lock().get_channel(&id))
}

async fn originate(State(sim): Sim, Query(query): QueryPairs, body: Bytes) -> Response {
    ok(params(query, &body).and_then(|p| sim.with_world(|w| w.originate(&p, None))))
}

async fn originate_with_id(
    State(sim): Sim,
    Path(id): Path<String>,
    Query(query): QueryPairs,
    body: Bytes,
) -> Response {
    ok(params(query, &body).and_then(|p| sim.with_world(|w| w.originate(&p, Some(&id)))))
}

async fn create_channel(State(sim): Sim, Query(query): QueryPairs, body: Bytes) -> Response {
    ok(params(query, &body).and_then(|p| sim.with_world(|w| w.create_channel(&p))))
}

async fn hangup(
    State(sim): Sim,
    Path(id): Path<String>,
    Query(query): QueryPairs,
    body: Bytes,
) -> Response {
    no_content(params(query, &body).and_then(|p| sim.with_world(|w| w.hangup(&id, &p))))
}

/// ring, moh, hold, silence, mute (start and stop): the control checks, no event.
async fn control_op(State(sim): Sim, Path(id): Path<String>) -> Response {
    no_content(sim.lock().control(&id))
}

async fn answer(State(sim): Sim, Path(id): Path<String>) -> Response {
    no_content(sim.with_world(|w| w.answer(&id)))
}

async fn dial(
    State(sim): Sim,
    Path(id): Path<String>,
    Query(query): QueryPairs,
    body: Bytes,
) -> Response {
    no_content(params(query, &body).and_then(|p| sim.with_world(|w| w.dial(&id, &p))))
}

async fn play(
    State(sim): Sim,
    Path(id): Path<String>,
    Query(query): QueryPairs,
    body: Bytes,
) -> Response {
    created_playback(
        params(query, &body)
            .and_then(|p| sim.with_world(|w| w.play(PlayTarget::Channel(&id), &p, None))),
    )
}

async fn play_with_id(
    State(sim): Sim,
    Path((id, playback_id)): Path<(String, String)>,
    Query(query): QueryPairs,
    body: Bytes,
) -> Response {
    created_playback(
        params(query, &body).and_then(|p| {
            sim.with_world(|w| w.play(PlayTarget::Channel(&id), &p, Some(&playback_id)))
        }),
    )
}

async fn get_playback(State(sim): Sim, Path(id): Path<String>) -> Response {
    ok(sim.lock().get_playback(&id))
}

async fn stop_playback(State(sim): Sim, Path(id): Path<String>) -> Response {
    no_content(sim.with_world(|w| w.stop_playback(&id)))
}

async fn list_bridges(State(sim): Sim) -> Json<Value> {
    Json(sim.lock().list_bridges())
}

async fn create_bridge(State(sim): Sim, Query(query): QueryPairs, body: Bytes) -> Response {
    ok(params(query, &body).and_then(|p| sim.with_world(|w| w.create_bridge(&p, None))))
}

async fn create_bridge_with_id(
    State(sim): Sim,
    Path(id): Path<String>,
    Query(query): QueryPairs,
    body: Bytes,
) -> Response {
    ok(params(query, &body).and_then(|p| sim.with_world(|w| w.create_bridge(&p, Some(&id)))))
}

async fn get_bridge(State(sim): Sim, Path(id): Path<String>) -> Response {
    ok(sim.lock().get_bridge(&id))
}

async fn destroy_bridge(State(sim): Sim, Path(id): Path<String>) -> Response {
    no_content(sim.with_world(|w| w.destroy_bridge(&id)))
}

async fn add_channel(
    State(sim): Sim,
    Path(id): Path<String>,
    Query(query): QueryPairs,
    body: Bytes,
) -> Response {
    no_content(params(query, &body).and_then(|p| sim.with_world(|w| w.add_channels(&id, &p))))
}

async fn remove_channel(
    State(sim): Sim,
    Path(id): Path<String>,
    Query(query): QueryPairs,
    body: Bytes,
) -> Response {
    no_content(params(query, &body).and_then(|p| sim.with_world(|w| w.remove_channels(&id, &p))))
}

async fn bridge_moh(State(sim): Sim, Path(id): Path<String>) -> Response {
    no_content(sim.lock().bridge_exists(&id))
}

async fn bridge_play(
    State(sim): Sim,
    Path(id): Path<String>,
    Query(query): QueryPairs,
    body: Bytes,
) -> Response {
    created_playback(
        params(query, &body)
            .and_then(|p| sim.with_world(|w| w.play(PlayTarget::Bridge(&id), &p, None))),
    )
}

async fn list_endpoints(State(sim): Sim) -> Response {
    ok(sim.lock().list_endpoints(None))
}

async fn list_endpoints_by_tech(State(sim): Sim, Path(tech): Path<String>) -> Response {
    ok(sim.lock().list_endpoints(Some(&tech)))
}

async fn get_endpoint(State(sim): Sim, Path((tech, resource)): Path<(String, String)>) -> Response {
    ok(sim.lock().get_endpoint(&tech, &resource))
}

async fn list_applications(State(sim): Sim) -> Json<Value> {
    Json(sim.lock().list_applications())
}

async fn get_application(State(sim): Sim, Path(app): Path<String>) -> Response {
    ok(sim.lock().get_application(&app))
}

async fn subscribe(
    State(sim): Sim,
    Path(app): Path<String>,
    Query(query): QueryPairs,
    body: Bytes,
) -> Response {
    ok(
        params(query, &body)
            .and_then(|p| sim.with_world(|w| w.change_subscription(&app, &p, true))),
    )
}

async fn unsubscribe(
    State(sim): Sim,
    Path(app): Path<String>,
    Query(query): QueryPairs,
    body: Bytes,
) -> Response {
    ok(params(query, &body)
        .and_then(|p| sim.with_world(|w| w.change_subscription(&app, &p, false))))
}
