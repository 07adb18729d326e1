//! The simulated Asterisk driven over real HTTP and WebSocket (reqwest + tokio-tungstenite),
//! checked against NOTES.md and the Asterisk 22 / chan_pjsip recordings
//! (`shared/ari-spec/recordings/22-pjsip-*.session.jsonl`).

use std::time::Duration;

use anyhow::{bail, Context as _};
use ari_adapter::sim::{Behaviour, SimAsterisk, SimConfig, SimHandle};
use futures::StreamExt as _;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Result<T = ()> = anyhow::Result<T>;

const QUIET: Duration = Duration::from_millis(150);
const PATIENCE: Duration = Duration::from_secs(3);

// ------------------------------------------------------------------------------------ helpers

struct Ari {
    http: reqwest::Client,
    base: String,
}

impl Ari {
    fn new(sim: &SimHandle) -> Ari {
        Ari {
            http: reqwest::Client::new(),
            base: sim.base_url(),
        }
    }

    async fn call(&self, method: &str, path: &str, query: &[(&str, &str)]) -> Result<Reply> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth("ari", Some("ari"))
            .query(query)
            .send()
            .await?;
        Reply::read(response).await
    }
}

struct Reply {
    status: u16,
    location: Option<String>,
    body: Value,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Result<Reply> {
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).with_context(|| format!("body {text:?}"))?
        };
        Ok(Reply {
            status,
            location,
            body,
        })
    }
}

struct Events {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Events {
    async fn connect(sim: &SimHandle, app: &str) -> Result<Events> {
        let url = format!("{}&api_key=ari:ari", sim.events_url(app));
        let (socket, _) = tokio_tungstenite::connect_async(url).await?;
        sim.wait_for_socket(app, PATIENCE).await?;
        Ok(Events { socket })
    }

    /// The next text frame, or `None` if nothing came within `within`.
    async fn next_raw(&mut self, within: Duration) -> Result<Option<String>> {
        loop {
            match tokio::time::timeout(within, self.socket.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => bail!("socket closed"),
                Ok(Some(frame)) => match frame? {
                    Message::Text(text) => return Ok(Some(text.to_string())),
                    Message::Close(_) => bail!("socket closed"),
                    _ => continue,
                },
            }
        }
    }

    /// Every frame until none came for `QUIET`.
    async fn until_quiet(&mut self) -> Result<Vec<String>> {
        let mut frames = Vec::new();
        while let Some(frame) = self.next_raw(QUIET).await? {
            frames.push(frame);
        }
        Ok(frames)
    }

    /// Every frame up to and including the first that `stop` accepts.
    async fn until(&mut self, stop: impl Fn(&Value) -> bool) -> Result<Vec<String>> {
        let mut frames = Vec::new();
        loop {
            let Some(frame) = self.next_raw(PATIENCE).await? else {
                bail!("no matching event; got {:?}", types(&frames));
            };
            let done = stop(&serde_json::from_str(&frame)?);
            frames.push(frame);
            if done {
                return Ok(frames);
            }
        }
    }
}

fn parse(frame: &str) -> Value {
    serde_json::from_str(frame).unwrap_or(Value::Null)
}

fn types(frames: &[String]) -> Vec<String> {
    frames
        .iter()
        .map(|frame| parse(frame)["type"].as_str().unwrap_or("?").to_owned())
        .filter(|kind| kind != "ChannelVarset")
        .collect()
}

fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |event| event["type"] == kind
}

/// The `StasisStart` of channel `id`: a created leg may be dialled only after it (NOTES §5).
fn stasis_start_of(id: &str) -> impl Fn(&Value) -> bool + '_ {
    move |event| event["type"] == "StasisStart" && event["channel"]["id"] == id
}

fn dial_status(status: &'static str) -> impl Fn(&Value) -> bool {
    move |event| event["type"] == "Dial" && event["dialstatus"] == status
}

async fn start() -> Result<(SimHandle, Ari)> {
    let sim = SimAsterisk::start(SimConfig::default()).await?;
    let ari = Ari::new(&sim);
    Ok((sim, ari))
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

// --------------------------------------------------------------- the recorded answered call

/// Call 1 of the recordings: the same REST calls in the same order, with the statuses the
/// recording got. Returns every frame the `callcenter` socket received.
async fn replay_answered_call(sim: &SimHandle, ari: &Ari, sources: &str) -> Result<Vec<String>> {
    let mut events = Events::connect(sim, "callcenter").await?;
    let mut frames = Vec::new();
    let subscribed = ari
        .call(
            "POST",
            "/applications/callcenter/subscription",
            &[("eventSource", sources)],
        )
        .await?;
    assert_eq!(subscribed.status, 200);

    sim.register_endpoint("PJSIP/agent1")?;
    sim.set_agent_behaviour("PJSIP/agent1", Behaviour::Answer { after: ms(30) });
    let inbound = sim.place_call("+15551230001", "Customer", "100")?;
    frames.extend(events.until(is("StasisStart")).await?);
    let start = parse(frames.last().map_or("", String::as_str));
    assert_eq!(start["args"], serde_json::json!(["inbound", "100"]));
    assert_eq!(start["channel"]["state"], "Ring");
    assert_eq!(start["channel"]["caller"]["number"], "+15551230001");

    let channel = format!("/channels/{inbound}");
    assert_eq!(ari.call("GET", &channel, &[]).await?.body["state"], "Ring");
    let ring = format!("{channel}/ring");
    assert_eq!(ari.call("POST", &ring, &[]).await?.status, 204);
    assert_eq!(ari.call("DELETE", &ring, &[]).await?.status, 204);
    let answer = format!("{channel}/answer");
    assert_eq!(ari.call("POST", &answer, &[]).await?.status, 204);

    let play = format!("{channel}/play");
    let welcome = [("media", "sound:cc-welcome"), ("playbackId", "welcome-1")];
    let played = ari.call("POST", &play, &welcome).await?;
    assert_eq!(played.status, 201);
    assert_eq!(played.location.as_deref(), Some("/ari/playbacks/welcome-1"));
    assert_eq!(played.body["target_uri"], format!("channel:{inbound}"));
    frames.extend(events.until(is("PlaybackFinished")).await?);
    let missing = ari
        .call("POST", &play, &[("media", "sound:no-such-file")])
        .await?;
    assert_eq!(missing.status, 201);
    let finished = events.until(is("PlaybackFinished")).await?;
    assert_eq!(
        parse(finished.last().map_or("", String::as_str))["playback"]["state"],
        "failed"
    );
    frames.extend(finished);
    let moh = format!("{channel}/moh");
    assert_eq!(
        ari.call("POST", &moh, &[("mohClass", "default")])
            .await?
            .status,
        204
    );
    sim.send_dtmf(&inbound, '1')?;
    frames.extend(events.until(is("ChannelDtmfReceived")).await?);

    let bridge = ari
        .call(
            "POST",
            "/bridges",
            &[("type", "mixing"), ("name", "cc-call-1")],
        )
        .await?;
    assert_eq!(bridge.status, 200);
    assert_eq!(bridge.body["bridge_type"], "mixing");
    let bridge_path = format!(
        "/bridges/{}",
        bridge.body["id"].as_str().unwrap_or_default()
    );
    let add = format!("{bridge_path}/addChannel");
    let remove = format!("{bridge_path}/removeChannel");
    let unknown = ari
        .call("POST", &add, &[("channel", "nosuchchannel")])
        .await?;
    assert_eq!(
        (unknown.status, unknown.body["message"].as_str()),
        (400, Some("Channel not found"))
    );
    let outside = ari.call("POST", &remove, &[("channel", &inbound)]).await?;
    assert_eq!(
        (outside.status, outside.body["message"].as_str()),
        (422, Some("Channel not in this bridge"))
    );

    let args = format!("agent,{inbound}");
    let created = ari
        .call(
            "POST",
            "/channels/create",
            &[
                ("endpoint", "PJSIP/agent1"),
                ("app", "callcenter"),
                ("appArgs", &args),
                ("channelId", "agent1-leg-1"),
                ("formats", "ulaw"),
            ],
        )
        .await?;
    assert_eq!(
        (created.status, created.body["state"].as_str()),
        (200, Some("Down"))
    );
    frames.extend(events.until(stasis_start_of("agent1-leg-1")).await?);
    let early = ari
        .call("POST", "/channels/agent1-leg-1/answer", &[])
        .await?;
    assert_eq!(
        (early.status, early.body["message"].as_str()),
        (412, Some("Channel in invalid state"))
    );
    let dialled = ari
        .call(
            "POST",
            "/channels/agent1-leg-1/dial",
            &[("caller", &inbound), ("timeout", "20")],
        )
        .await?;
    assert_eq!(dialled.status, 204);
    frames.extend(events.until(dial_status("ANSWER")).await?);

    assert_eq!(ari.call("DELETE", &moh, &[]).await?.status, 204);
    let both = format!("{inbound},agent1-leg-1");
    assert_eq!(
        ari.call("POST", &add, &[("channel", &both)]).await?.status,
        204
    );
    let members = ari.call("GET", &bridge_path, &[]).await?.body["channels"].clone();
    assert_eq!(members, serde_json::json!([inbound, "agent1-leg-1"]));
    let removed = ari
        .call("POST", &remove, &[("channel", "agent1-leg-1")])
        .await?;
    assert_eq!(removed.status, 204);
    let agent_hangup = ari
        .call("DELETE", "/channels/agent1-leg-1", &[("reason", "normal")])
        .await?;
    assert_eq!(agent_hangup.status, 204);
    let bogus = ari.call("DELETE", &channel, &[("reason", "bogus")]).await?;
    assert_eq!(
        (bogus.status, bogus.body["message"].as_str()),
        (400, Some("Invalid reason for hangup reason provided"))
    );
    let both_reasons = ari
        .call(
            "DELETE",
            &channel,
            &[("reason", "normal"), ("reason_code", "16")],
        )
        .await?;
    assert_eq!(
        (both_reasons.status, both_reasons.body["message"].as_str()),
        (
            400,
            Some("The reason and reason_code can't both be specified")
        )
    );
    let hung_up = ari
        .call("DELETE", &channel, &[("reason_code", "16")])
        .await?;
    assert_eq!(hung_up.status, 204);
    let gone = ari.call("POST", &answer, &[]).await?;
    assert_eq!(
        (gone.status, gone.body["message"].as_str()),
        (404, Some("Channel not found"))
    );
    assert_eq!(ari.call("DELETE", &bridge_path, &[]).await?.status, 204);
    let again = ari.call("DELETE", &bridge_path, &[]).await?;
    assert_eq!(
        (again.status, again.body["message"].as_str()),
        (404, Some("Bridge not found"))
    );

    frames.extend(events.until_quiet().await?);
    assert!(sim.channels().is_empty(), "leaked {:?}", sim.channels());
    assert!(sim.bridges().is_empty(), "leaked {:?}", sim.bridges());
    Ok(frames)
}

#[tokio::test]
async fn answered_call_replays_the_event_sequence_recorded_on_asterisk_22() -> Result {
    let (sim, ari) = start().await?;
    let frames = replay_answered_call(&sim, &ari, "deviceState:PJSIP/agent1").await?;
    // 22-pjsip-devicestate-sub.session.jsonl, callcenter socket, up to CALL 2, no ChannelVarset.
    let recorded = [
        "DeviceStateChanged",
        "StasisStart",
        "ChannelStateChange",
        "PlaybackStarted",
        "PlaybackFinished",
        "PlaybackStarted",
        "PlaybackFinished",
        "ChannelDtmfReceived",
        "ChannelDialplan",
        "StasisStart",
        "ChannelConnectedLine",
        "Dial",
        "ChannelStateChange",
        "DeviceStateChanged",
        "Dial",
        "DeviceStateChanged",
        "ChannelStateChange",
        "Dial",
        "ChannelEnteredBridge",
        "ChannelEnteredBridge",
        "ChannelLeftBridge",
        "ChannelHangupRequest",
        "DeviceStateChanged",
        "StasisEnd",
        "ChannelDestroyed",
        "ChannelHangupRequest",
        "ChannelLeftBridge",
        "StasisEnd",
        "BridgeDestroyed",
    ];
    assert_eq!(types(&frames), recorded);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn events_carry_the_recorded_shapes_and_timestamp_format() -> Result {
    let (sim, ari) = start().await?;
    let frames = replay_answered_call(&sim, &ari, "deviceState:PJSIP/agent1").await?;
    for frame in &frames {
        let event = parse(frame);
        assert_eq!(event["asterisk_id"], "02:fc:00:00:00:01", "{frame}");
        assert_eq!(event["application"], "callcenter", "{frame}");
        let timestamp = event["timestamp"].as_str().unwrap_or_default();
        let parsed = chrono::DateTime::parse_from_str(timestamp, "%Y-%m-%dT%H:%M:%S%.3f%z");
        assert!(
            parsed.is_ok() && timestamp.ends_with("+0000"),
            "{timestamp}"
        );
    }
    let events: Vec<Value> = frames.iter().map(|f| parse(f)).collect();
    let destroyed = events.iter().find(|e| e["type"] == "ChannelDestroyed");
    let destroyed = destroyed.context("ChannelDestroyed")?;
    assert_eq!(destroyed["cause"], 16);
    assert_eq!(destroyed["cause_txt"], "Normal Clearing");
    assert_eq!(destroyed["channel"]["id"], "agent1-leg-1");
    let request = events.iter().find(|e| e["type"] == "ChannelHangupRequest");
    let request = request.context("ChannelHangupRequest")?;
    assert_eq!(
        (request["cause"].as_i64(), request["soft"].as_bool()),
        (Some(32), Some(true))
    );
    let agent_start = events
        .iter()
        .filter(|e| e["type"] == "StasisStart")
        .nth(1)
        .context("agent StasisStart")?;
    assert_eq!(agent_start["channel"]["state"], "Down");
    assert_eq!(agent_start["channel"]["name"], "PJSIP/agent1-00000001");
    assert_eq!(agent_start["args"][0], "agent");
    let entered = events
        .iter()
        .filter(|e| e["type"] == "ChannelEnteredBridge")
        .nth(1)
        .context("second ChannelEnteredBridge")?;
    assert_eq!(
        entered["bridge"]["channels"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(entered["bridge"]["bridge_class"], "stasis");
    let first_dial = events
        .iter()
        .find(|e| e["type"] == "Dial")
        .context("Dial")?;
    assert_eq!(
        (
            first_dial["dialstatus"].as_str(),
            first_dial["dialstring"].as_str()
        ),
        (Some(""), Some("agent1"))
    );
    assert_eq!(first_dial["peer"]["connected"]["name"], "Customer");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn endpoint_subscription_duplicates_channel_events_byte_identically_like_the_recording(
) -> Result {
    let (sim, ari) = start().await?;
    let sources = "endpoint:PJSIP/agent1,deviceState:PJSIP/agent1";
    let frames = replay_answered_call(&sim, &ari, sources).await?;
    // 22-pjsip-endpoint-sub.session.jsonl up to CALL 2, without ChannelVarset and without
    // DeviceStateChanged (whose place relative to Dial(RINGING) differs between the two runs).
    let recorded = [
        "EndpointStateChange",
        "PeerStatusChange",
        "ContactStatusChange",
        "StasisStart",
        "ChannelStateChange",
        "PlaybackStarted",
        "PlaybackFinished",
        "PlaybackStarted",
        "PlaybackFinished",
        "ChannelDtmfReceived",
        "EndpointStateChange",
        "ChannelCreated",
        "ChannelDialplan",
        "ChannelDialplan",
        "StasisStart",
        "ChannelConnectedLine",
        "ChannelConnectedLine",
        "Dial",
        "Dial",
        "ChannelStateChange",
        "ChannelStateChange",
        "Dial",
        "Dial",
        "ChannelStateChange",
        "ChannelStateChange",
        "Dial",
        "Dial",
        "ChannelEnteredBridge",
        "ChannelEnteredBridge",
        "ChannelLeftBridge",
        "ChannelHangupRequest",
        "ChannelHangupRequest",
        "StasisEnd",
        "ChannelDestroyed",
        "ChannelDestroyed",
        "EndpointStateChange",
        "ChannelHangupRequest",
        "ChannelLeftBridge",
        "StasisEnd",
        "BridgeDestroyed",
    ];
    let without_device: Vec<String> = types(&frames)
        .into_iter()
        .filter(|kind| kind != "DeviceStateChanged")
        .collect();
    assert_eq!(without_device, recorded);
    let agent_leg: Vec<&String> = frames
        .iter()
        .filter(|frame| {
            let event = parse(frame);
            let kind = event["type"].as_str().unwrap_or_default().to_owned();
            let channel = if kind == "Dial" {
                &event["peer"]
            } else {
                &event["channel"]
            };
            channel["id"] == "agent1-leg-1"
                && !matches!(
                    kind.as_str(),
                    "StasisStart" | "StasisEnd" | "ChannelCreated"
                )
                && !kind.contains("Bridge")
        })
        .collect();
    assert!(!agent_leg.is_empty());
    for pair in agent_leg.chunks(2) {
        assert_eq!(pair.len(), 2);
        assert_eq!(pair[0], pair[1], "duplicates must be byte-identical");
    }
    let states: Vec<Value> = frames
        .iter()
        .map(|f| parse(f))
        .filter(|e| e["type"] == "EndpointStateChange")
        .map(|e| e["endpoint"]["channel_ids"].clone())
        .collect();
    assert_eq!(
        states,
        [
            serde_json::json!([]),
            serde_json::json!(["agent1-leg-1"]),
            serde_json::json!([])
        ]
    );
    sim.shutdown().await;
    Ok(())
}

// ----------------------------------------------------------------------------- agent answers

async fn queued_caller(sim: &SimHandle, events: &mut Events) -> Result<String> {
    let inbound = sim.place_call("+15551230001", "Customer", "100")?;
    events.until(is("StasisStart")).await?;
    Ok(inbound)
}

#[tokio::test]
async fn busy_agent_on_an_originated_leg_gives_dial_busy_and_cause_17_without_stasis_start(
) -> Result {
    let (sim, ari) = start().await?;
    let mut events = Events::connect(&sim, "callcenter").await?;
    sim.register_endpoint("PJSIP/agent1")?;
    sim.set_agent_behaviour("PJSIP/agent1", Behaviour::Busy { after: ms(200) });
    let inbound = queued_caller(&sim, &mut events).await?;
    let args = format!("agent,{inbound}");
    let originated = ari
        .call(
            "POST",
            "/channels",
            &[
                ("endpoint", "PJSIP/agent1"),
                ("app", "callcenter"),
                ("appArgs", &args),
                ("callerId", "Queue <100>"),
                ("timeout", "20"),
                ("originator", &inbound),
            ],
        )
        .await?;
    assert_eq!(originated.status, 200);
    assert_eq!(originated.body["dialplan"]["app_name"], "AppDial2");
    assert_eq!(originated.body["caller"]["name"], "Queue");
    let leg = originated.body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let ringing = ari
        .call("POST", &format!("/channels/{leg}/answer"), &[])
        .await?;
    assert_eq!(
        (ringing.status, ringing.body["message"].as_str()),
        (409, Some("Channel not in Stasis application"))
    );
    let endpoint = ari.call("GET", "/endpoints/PJSIP/agent1", &[]).await?;
    assert_eq!(endpoint.body["channel_ids"], serde_json::json!([leg]));
    let frames = events.until(is("ChannelDestroyed")).await?;
    assert_eq!(
        types(&frames),
        [
            "Dial",
            "ChannelStateChange",
            "Dial",
            "ChannelHangupRequest",
            "Dial",
            "ChannelDestroyed"
        ]
    );
    let last = parse(frames.last().map_or("", String::as_str));
    assert_eq!(
        (last["cause"].as_i64(), last["cause_txt"].as_str()),
        (Some(17), Some("User busy"))
    );
    let busy = parse(&frames[4]);
    assert_eq!(busy["dialstatus"], "BUSY");
    assert!(events.until_quiet().await?.is_empty());
    let gone = ari.call("GET", &format!("/channels/{leg}"), &[]).await?;
    assert_eq!(gone.status, 404);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn originated_leg_enters_stasis_only_after_the_agent_answers() -> Result {
    let (sim, ari) = start().await?;
    let mut events = Events::connect(&sim, "callcenter").await?;
    sim.register_endpoint("PJSIP/agent2")?;
    sim.set_agent_behaviour("PJSIP/agent2", Behaviour::Answer { after: ms(50) });
    let originated = ari
        .call(
            "POST",
            "/channels",
            &[
                ("endpoint", "PJSIP/agent2"),
                ("app", "callcenter"),
                ("appArgs", "agent,x"),
            ],
        )
        .await?;
    assert_eq!(originated.status, 200);
    let frames = events.until(is("StasisStart")).await?;
    assert_eq!(
        types(&frames),
        [
            "Dial",
            "ChannelStateChange",
            "Dial",
            "ChannelStateChange",
            "Dial",
            "StasisStart"
        ]
    );
    let start = parse(frames.last().map_or("", String::as_str));
    assert_eq!(start["args"], serde_json::json!(["agent", "x"]));
    assert_eq!(start["channel"]["state"], "Up");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn agent_not_answering_within_the_dial_timeout_gives_noanswer_and_cause_19() -> Result {
    let (sim, ari) = start().await?;
    let mut events = Events::connect(&sim, "callcenter").await?;
    sim.register_endpoint("PJSIP/agent1")?;
    sim.set_agent_behaviour("PJSIP/agent1", Behaviour::NoAnswer);
    let query = [
        ("endpoint", "PJSIP/agent1"),
        ("app", "callcenter"),
        ("channelId", "leg"),
    ];
    assert_eq!(
        ari.call("POST", "/channels/create", &query).await?.status,
        200
    );
    let mut frames = events.until(stasis_start_of("leg")).await?;
    let dial = ari
        .call("POST", "/channels/leg/dial", &[("timeout", "1")])
        .await?;
    assert_eq!(dial.status, 204);
    frames.extend(events.until(is("ChannelDestroyed")).await?);
    assert_eq!(
        types(&frames),
        [
            "ChannelDialplan",
            "StasisStart",
            "Dial",
            "ChannelStateChange",
            "Dial",
            "Dial",
            "StasisEnd",
            "ChannelDestroyed"
        ]
    );
    assert_eq!(parse(&frames[5])["dialstatus"], "NOANSWER");
    assert_eq!(parse(&frames[7])["cause"], 19);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn unregistered_agent_gives_500_allocation_failed_on_create_and_originate() -> Result {
    let (sim, ari) = start().await?;
    let _events = Events::connect(&sim, "callcenter").await?;
    let query = [("endpoint", "PJSIP/agent1"), ("app", "callcenter")];
    for path in ["/channels", "/channels/create"] {
        let refused = ari.call("POST", path, &query).await?;
        assert_eq!(refused.status, 500, "{path}");
        assert_eq!(
            refused.body,
            serde_json::json!({ "error": "Allocation failed" })
        );
    }
    let offline = ari.call("GET", "/endpoints/PJSIP/agent1", &[]).await?;
    assert_eq!(offline.body["state"], "offline");
    sim.register_endpoint("PJSIP/agent1")?;
    let online = ari.call("GET", "/endpoints/PJSIP/agent1", &[]).await?;
    assert_eq!(online.body["state"], "online");
    assert_eq!(
        ari.call("POST", "/channels/create", &query).await?.status,
        200
    );
    sim.unregister_endpoint("PJSIP/agent1")?;
    assert_eq!(ari.call("POST", "/channels", &query).await?.status, 500);
    sim.shutdown().await;
    Ok(())
}

// ----------------------------------------------------------------------------- error codes

#[tokio::test]
async fn originate_and_create_refuse_bad_parameters_with_the_recorded_messages() -> Result {
    let (sim, ari) = start().await?;
    let _events = Events::connect(&sim, "callcenter").await?;
    sim.register_endpoint("PJSIP/agent1")?;
    let no_app = ari
        .call("POST", "/channels", &[("endpoint", "PJSIP/agent1")])
        .await?;
    assert_eq!(
        (no_app.status, no_app.body["message"].as_str()),
        (400, Some("Application or extension must be specified"))
    );
    let no_slash = ari
        .call(
            "POST",
            "/channels",
            &[("endpoint", "agent1"), ("app", "callcenter")],
        )
        .await?;
    assert_eq!(
        (no_slash.status, no_slash.body["message"].as_str()),
        (400, Some("Invalid endpoint specified"))
    );
    let query = [
        ("endpoint", "PJSIP/agent1"),
        ("app", "callcenter"),
        ("channelId", "same"),
    ];
    assert_eq!(
        ari.call("POST", "/channels/create", &query).await?.status,
        200
    );
    assert_eq!(
        ari.call("POST", "/channels/create", &query).await?.status,
        409
    );
    let no_originator = ari
        .call(
            "POST",
            "/channels",
            &[
                ("endpoint", "PJSIP/agent1"),
                ("app", "callcenter"),
                ("originator", "nope"),
            ],
        )
        .await?;
    assert_eq!(no_originator.status, 400);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn channel_operations_follow_the_404_409_412_rules() -> Result {
    let (sim, ari) = start().await?;
    let mut events = Events::connect(&sim, "callcenter").await?;
    sim.register_endpoint("PJSIP/agent1")?;
    sim.set_agent_behaviour("PJSIP/agent1", Behaviour::NoAnswer);
    let inbound = queued_caller(&sim, &mut events).await?;
    for (method, operation) in [("POST", "answer"), ("POST", "moh"), ("DELETE", "ring")] {
        let missing = ari
            .call(method, &format!("/channels/nosuchchannel/{operation}"), &[])
            .await?;
        assert_eq!(missing.status, 404, "{operation}");
        let ready = ari
            .call(method, &format!("/channels/{inbound}/{operation}"), &[])
            .await?;
        assert_eq!(ready.status, 204, "{operation} on a Ring channel");
    }
    let query = [
        ("endpoint", "PJSIP/agent1"),
        ("app", "callcenter"),
        ("channelId", "down"),
    ];
    ari.call("POST", "/channels/create", &query).await?;
    events.until(stasis_start_of("down")).await?;
    let down = ari.call("POST", "/channels/down/moh", &[]).await?;
    assert_eq!(down.status, 412);
    let play = ari
        .call("POST", "/channels/down/play", &[("media", "sound:x")])
        .await?;
    assert_eq!(play.status, 412);
    let originated = ari
        .call(
            "POST",
            "/channels",
            &[("endpoint", "PJSIP/agent1"), ("app", "callcenter")],
        )
        .await?;
    let leg = originated.body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let ringing = ari
        .call("POST", &format!("/channels/{leg}/ring"), &[])
        .await?;
    assert_eq!(ringing.status, 409);
    let not_dialable = ari
        .call("POST", &format!("/channels/{inbound}/dial"), &[])
        .await?;
    assert_eq!(not_dialable.status, 409);
    let no_caller = ari
        .call("POST", "/channels/down/dial", &[("caller", "nope")])
        .await?;
    assert_eq!(no_caller.status, 404);
    assert_eq!(
        ari.call("DELETE", &format!("/channels/{leg}"), &[])
            .await?
            .status,
        204
    );
    assert_eq!(
        ari.call("DELETE", "/channels/nosuchchannel", &[])
            .await?
            .status,
        404
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn bridge_operations_answer_400_for_unknown_channels_404_for_unknown_bridges_and_422(
) -> Result {
    let (sim, ari) = start().await?;
    let mut events = Events::connect(&sim, "callcenter").await?;
    sim.register_endpoint("PJSIP/agent1")?;
    sim.set_agent_behaviour("PJSIP/agent1", Behaviour::NoAnswer);
    let inbound = queued_caller(&sim, &mut events).await?;
    let unknown = ari
        .call(
            "POST",
            "/bridges/nosuchbridge/addChannel",
            &[("channel", &inbound)],
        )
        .await?;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        ari.call("GET", "/bridges/nosuchbridge", &[]).await?.status,
        404
    );
    let holding = ari
        .call(
            "POST",
            "/bridges",
            &[("type", "holding"), ("bridgeId", "hold-1")],
        )
        .await?;
    assert_eq!(
        (holding.status, holding.body["bridge_type"].as_str()),
        (200, Some("holding"))
    );
    let duplicate = ari
        .call("POST", "/bridges", &[("bridgeId", "hold-1")])
        .await?;
    assert_eq!(duplicate.status, 409);
    let originated = ari
        .call(
            "POST",
            "/channels",
            &[("endpoint", "PJSIP/agent1"), ("app", "callcenter")],
        )
        .await?;
    let leg = originated.body["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let outside_stasis = ari
        .call("POST", "/bridges/hold-1/addChannel", &[("channel", &leg)])
        .await?;
    assert_eq!(
        (
            outside_stasis.status,
            outside_stasis.body["message"].as_str()
        ),
        (422, Some("Channel not in Stasis application"))
    );
    events.until_quiet().await?;
    let added = ari
        .call(
            "POST",
            "/bridges/hold-1/addChannel",
            &[("channel", &inbound)],
        )
        .await?;
    assert_eq!(added.status, 204);
    let members = sim
        .bridges()
        .first()
        .map(|bridge| bridge.channel_ids.clone());
    assert_eq!(members, Some(vec![inbound.clone()]));
    assert_eq!(
        ari.call("POST", "/bridges/hold-1/moh", &[]).await?.status,
        204
    );
    assert_eq!(
        ari.call("DELETE", "/bridges/hold-1", &[]).await?.status,
        204
    );
    assert_eq!(
        types(&events.until_quiet().await?),
        [
            "ChannelEnteredBridge",
            "ChannelLeftBridge",
            "BridgeDestroyed"
        ]
    );
    assert_eq!(
        ari.call("DELETE", "/bridges/hold-1", &[]).await?.status,
        404
    );
    let still_in_stasis = sim.channels().into_iter().find(|c| c.id == inbound);
    assert_eq!(
        still_in_stasis.and_then(|c| c.stasis_app),
        Some("callcenter".to_owned())
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn endpoints_and_applications_answer_like_the_recording() -> Result {
    let (sim, ari) = start().await?;
    let _events = Events::connect(&sim, "callcenter").await?;
    let all = ari.call("GET", "/endpoints", &[]).await?;
    assert_eq!(all.body.as_array().map(Vec::len), Some(3));
    let pjsip = ari.call("GET", "/endpoints/PJSIP", &[]).await?;
    assert_eq!(pjsip.status, 200);
    let foo = ari.call("GET", "/endpoints/FOO", &[]).await?;
    assert_eq!(
        (foo.status, foo.body["message"].as_str()),
        (404, Some("No Endpoints found - invalid tech FOO"))
    );
    let peer = ari.call("GET", "/endpoints/PJSIP/nosuchpeer", &[]).await?;
    assert_eq!(
        (peer.status, peer.body["message"].as_str()),
        (404, Some("Endpoint not found"))
    );
    let no_app = ari
        .call(
            "POST",
            "/applications/nosuchapp/subscription",
            &[("eventSource", "endpoint:PJSIP")],
        )
        .await?;
    assert_eq!(
        (no_app.status, no_app.body["message"].as_str()),
        (404, Some("Application not found"))
    );
    let subscription = "/applications/callcenter/subscription";
    let empty = ari
        .call("POST", subscription, &[("eventSource", "endpoint:PJSIP/")])
        .await?;
    assert_eq!(
        (empty.status, empty.body["message"].as_str()),
        (422, Some("Event source does not exist"))
    );
    let unknown_channel = ari
        .call("POST", subscription, &[("eventSource", "channel:nope")])
        .await?;
    assert_eq!(unknown_channel.status, 422);
    let tech = ari
        .call(
            "POST",
            subscription,
            &[("eventSource", "endpoint:PJSIP,deviceState:PJSIP/agent1")],
        )
        .await?;
    assert_eq!(tech.status, 200);
    assert_eq!(tech.body["endpoint_ids"], serde_json::json!(["PJSIP"]));
    assert_eq!(
        tech.body["device_names"],
        serde_json::json!(["PJSIP/agent1"])
    );
    let unsubscribed = ari
        .call("DELETE", subscription, &[("eventSource", "endpoint:PJSIP")])
        .await?;
    assert_eq!(unsubscribed.body["endpoint_ids"], serde_json::json!([]));
    let twice = ari
        .call("DELETE", subscription, &[("eventSource", "endpoint:PJSIP")])
        .await?;
    assert_eq!(twice.status, 409);
    let apps = ari.call("GET", "/applications", &[]).await?;
    assert_eq!(apps.body[0]["name"], "callcenter");
    let ping = ari.call("GET", "/asterisk/ping", &[]).await?;
    assert_eq!(ping.body["ping"], "pong");
    sim.shutdown().await;
    Ok(())
}

// ------------------------------------------------------------------ hangups and subscriptions

#[tokio::test]
async fn caller_hanging_up_in_queue_gives_stasis_end_without_channel_destroyed() -> Result {
    let (sim, ari) = start().await?;
    let mut events = Events::connect(&sim, "callcenter").await?;
    let inbound = queued_caller(&sim, &mut events).await?;
    ari.call("POST", &format!("/channels/{inbound}/answer"), &[])
        .await?;
    sim.caller_hangs_up(&inbound)?;
    let frames = events.until_quiet().await?;
    assert_eq!(
        types(&frames),
        ["ChannelStateChange", "ChannelHangupRequest", "StasisEnd"]
    );
    let request = parse(&frames[1]);
    assert!(request.get("cause").is_none() && request.get("soft").is_none());
    let gone = ari
        .call("POST", &format!("/channels/{inbound}/moh"), &[])
        .await?;
    assert_eq!(gone.status, 404);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn agent_hanging_up_a_bridged_call_leaves_the_bridge_and_destroys_the_leg() -> Result {
    let (sim, ari) = start().await?;
    let mut events = Events::connect(&sim, "callcenter").await?;
    sim.register_endpoint("PJSIP/agent1")?;
    let inbound = queued_caller(&sim, &mut events).await?;
    let query = [
        ("endpoint", "PJSIP/agent1"),
        ("app", "callcenter"),
        ("channelId", "leg"),
    ];
    ari.call("POST", "/channels/create", &query).await?;
    events.until(stasis_start_of("leg")).await?;
    ari.call("POST", "/channels/leg/dial", &[]).await?;
    events.until(dial_status("ANSWER")).await?;
    ari.call("POST", "/bridges", &[("bridgeId", "b")]).await?;
    let both = format!("{inbound},leg");
    ari.call("POST", "/bridges/b/addChannel", &[("channel", &both)])
        .await?;
    events.until_quiet().await?;
    assert_eq!(sim.agent_hangs_up("PJSIP/agent1"), ["leg"]);
    let frames = events.until_quiet().await?;
    assert_eq!(
        types(&frames),
        [
            "ChannelHangupRequest",
            "ChannelLeftBridge",
            "StasisEnd",
            "ChannelDestroyed"
        ]
    );
    assert_eq!(
        parse(&frames[1])["bridge"]["channels"],
        serde_json::json!([inbound])
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn rejecting_agent_hangs_up_the_created_leg_with_cause_21() -> Result {
    let (sim, ari) = start().await?;
    let mut events = Events::connect(&sim, "callcenter").await?;
    sim.register_endpoint("PJSIP/agent1")?;
    sim.set_agent_behaviour("PJSIP/agent1", Behaviour::Reject { after: ms(20) });
    let query = [
        ("endpoint", "PJSIP/agent1"),
        ("app", "callcenter"),
        ("channelId", "leg"),
    ];
    ari.call("POST", "/channels/create", &query).await?;
    events.until(stasis_start_of("leg")).await?;
    ari.call("POST", "/channels/leg/dial", &[]).await?;
    let frames = events.until(is("ChannelDestroyed")).await?;
    let last = parse(frames.last().map_or("", String::as_str));
    assert_eq!(
        (last["cause"].as_i64(), last["cause_txt"].as_str()),
        (Some(21), Some("Call Rejected"))
    );
    assert!(types(&frames).contains(&"StasisEnd".to_owned()));
    assert!(sim.channels().is_empty());
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn set_duplicate_events_sends_every_channel_event_twice() -> Result {
    let (sim, ari) = start().await?;
    let mut events = Events::connect(&sim, "callcenter").await?;
    sim.set_duplicate_events(true);
    let inbound = queued_caller(&sim, &mut events).await?;
    ari.call("POST", &format!("/channels/{inbound}/answer"), &[])
        .await?;
    let frames = events.until_quiet().await?;
    assert_eq!(types(&frames), ["ChannelStateChange", "ChannelStateChange"]);
    assert_eq!(frames[0], frames[1]);
    sim.shutdown().await;
    Ok(())
}

// ------------------------------------------------------------------------------- sockets

#[tokio::test]
async fn a_second_socket_for_the_same_app_replaces_the_first() -> Result {
    let (sim, _ari) = start().await?;
    let mut first = Events::connect(&sim, "callcenter").await?;
    let mut second = Events::connect(&sim, "callcenter").await?;
    let replaced = first.until(is("ApplicationReplaced")).await?;
    assert_eq!(parse(&replaced[0])["application"], "callcenter");
    sim.place_call("+15551230001", "Customer", "100")?;
    assert_eq!(types(&second.until_quiet().await?), ["StasisStart"]);
    assert!(first.until_quiet().await?.is_empty());
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn dropped_websockets_unregister_the_app_until_the_client_reconnects() -> Result {
    let (sim, _ari) = start().await?;
    let mut events = Events::connect(&sim, "callcenter").await?;
    sim.drop_websockets();
    assert!(!sim.is_connected("callcenter"));
    assert!(
        events.next_raw(PATIENCE).await.is_err(),
        "the socket must close"
    );
    assert!(sim.place_call("+1555", "Customer", "100").is_err());
    let mut again = Events::connect(&sim, "callcenter").await?;
    sim.place_call("+1555", "Customer", "100")?;
    assert_eq!(types(&again.until_quiet().await?), ["StasisStart"]);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn stalled_websockets_hold_events_and_deliver_them_afterwards() -> Result {
    let (sim, _ari) = start().await?;
    let mut events = Events::connect(&sim, "callcenter").await?;
    sim.stall_websockets(ms(400));
    let inbound = sim.place_call("+1555", "Customer", "100")?;
    sim.caller_hangs_up(&inbound)?;
    assert_eq!(events.next_raw(ms(200)).await?, None);
    let frames = events.until(is("StasisEnd")).await?;
    assert_eq!(
        types(&frames),
        ["StasisStart", "ChannelHangupRequest", "StasisEnd"]
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn requests_without_valid_credentials_get_401_with_the_asterisk_realm() -> Result {
    let (sim, _ari) = start().await?;
    let http = reqwest::Client::new();
    let ping = format!("{}/asterisk/ping", sim.base_url());
    let attempts = [
        http.get(&ping),
        http.get(&ping).basic_auth("ari", Some("wrong")),
        http.get(format!("{ping}?api_key=ari:wrong")),
        http.get(format!("{ping}?api_key=ari:ari"))
            .basic_auth("ari", Some("wrong")),
    ];
    for attempt in attempts {
        let response = attempt.send().await?;
        let realm = response.headers().get("www-authenticate").cloned();
        assert_eq!(response.status(), 401);
        assert_eq!(
            realm.as_ref().and_then(|v| v.to_str().ok()),
            Some("Basic realm=\"Asterisk REST Interface\"")
        );
        let body: Value = response.json().await?;
        assert_eq!(
            body,
            serde_json::json!({ "message": "Authentication required" })
        );
    }
    let by_key = http.get(format!("{ping}?api_key=ari:ari")).send().await?;
    assert_eq!(by_key.status(), 200);
    let refused = tokio_tungstenite::connect_async(sim.events_url("callcenter")).await;
    assert!(
        matches!(&refused, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 401),
        "{refused:?}"
    );
    let mut request = sim.events_url("callcenter").into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", "Basic YXJpOmFyaQ==".parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    sim.wait_for_socket("callcenter", PATIENCE).await?;
    socket.close(None).await?;
    sim.wait_until(PATIENCE, "socket closed", |sim| {
        !sim.is_connected("callcenter")
    })
    .await?;
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn recorded_requests_list_every_ari_call_in_order() -> Result {
    let (sim, ari) = start().await?;
    sim.clear_requests();
    ari.call("GET", "/channels", &[]).await?;
    ari.call("DELETE", "/channels/x", &[("reason", "normal")])
        .await?;
    ari.call(
        "POST",
        "/bridges",
        &[("type", "mixing"), ("type", "holding")],
    )
    .await?;
    let requests = sim.requests();
    let seen: Vec<(&str, &str, u16)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.status))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", "/channels", 200),
            ("DELETE", "/channels/x", 404),
            ("POST", "/bridges", 200)
        ]
    );
    assert_eq!(requests[1].param("reason"), Some("normal"));
    assert_eq!(
        requests[2].param("type"),
        Some("holding"),
        "the last value wins"
    );
    let bridge_type = sim
        .bridges()
        .first()
        .map(|bridge| bridge.bridge_type.clone());
    assert_eq!(bridge_type.as_deref(), Some("holding"));
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_playback_can_be_read_and_stopped_until_it_finishes() -> Result {
    let config = SimConfig {
        playback_duration: Duration::from_secs(30),
        record_requests: false,
        ..SimConfig::default()
    };
    let sim = SimAsterisk::start(config).await?;
    let ari = Ari::new(&sim);
    let mut events = Events::connect(&sim, "callcenter").await?;
    let inbound = queued_caller(&sim, &mut events).await?;
    let play = format!("/channels/{inbound}/play/greeting");
    let started = ari.call("POST", &play, &[("media", "sound:hello")]).await?;
    assert_eq!(
        (started.status, started.body["state"].as_str()),
        (201, Some("queued"))
    );
    let playing = ari.call("GET", "/playbacks/greeting", &[]).await?;
    assert_eq!(playing.body["state"], "playing");
    assert_eq!(
        ari.call("DELETE", "/playbacks/greeting", &[]).await?.status,
        204
    );
    let frames = events.until_quiet().await?;
    assert_eq!(types(&frames), ["PlaybackStarted", "PlaybackFinished"]);
    assert_eq!(
        ari.call("GET", "/playbacks/greeting", &[]).await?.status,
        404
    );
    assert!(sim.requests().is_empty(), "recording was turned off");
    sim.shutdown().await;
    Ok(())
}

// ------------------------------------------------------------ create answers before Stasis

#[tokio::test]
async fn a_create_can_answer_before_its_leg_entered_stasis_and_an_early_dial_is_refused_409(
) -> Result {
    let (sim, ari) = start().await?;
    let mut events = Events::connect(&sim, "callcenter").await?;
    sim.register_endpoint("PJSIP/agent1")?;
    sim.register_endpoint("PJSIP/agent2")?;
    sim.set_late_stasis_probability(1.0);
    let query = [
        ("endpoint", "PJSIP/agent1"),
        ("app", "callcenter"),
        ("channelId", "late"),
    ];
    assert_eq!(
        ari.call("POST", "/channels/create", &query).await?.status,
        200
    );
    let early = ari.call("POST", "/channels/late/dial", &[]).await?;
    assert_eq!(
        (early.status, early.body["message"].as_str()),
        (409, Some("Channel not in Stasis application"))
    );
    events.until(stasis_start_of("late")).await?;
    let dial = ari.call("POST", "/channels/late/dial", &[]).await?;
    assert_eq!(dial.status, 204);
    events.until(dial_status("ANSWER")).await?;

    // A leg that never enters Stasis can never be dialled; hanging it up still works.
    sim.set_late_stasis_probability(0.0);
    sim.hold_legs_out_of_stasis("PJSIP/agent2", true);
    let query = [
        ("endpoint", "PJSIP/agent2"),
        ("app", "callcenter"),
        ("channelId", "stuck"),
    ];
    assert_eq!(
        ari.call("POST", "/channels/create", &query).await?.status,
        200
    );
    let frames = events.until_quiet().await?;
    assert!(
        !types(&frames).contains(&"StasisStart".to_owned()),
        "{:?}",
        types(&frames)
    );
    assert_eq!(
        ari.call("POST", "/channels/stuck/dial", &[]).await?.status,
        409
    );
    assert_eq!(
        ari.call("DELETE", "/channels/stuck", &[]).await?.status,
        204
    );
    sim.shutdown().await;
    Ok(())
}
