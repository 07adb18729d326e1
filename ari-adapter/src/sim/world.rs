//! The simulated Asterisk's state and every change to it, with the events each change sends.
//!
//! Architecture Invariant: the world is only touched under one lock and never awaits; timed
//! behaviour (an agent answering after 1.5 s, a playback ending) is queued in `timers` and
//! scheduled by the caller once the lock is released (see `Shared::with_world`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::config::{Behaviour, SimConfig};
use super::json::{cause_text, now, parse_caller_id, split_endpoint};
use super::{RecordedRequest, SimBridge, SimChannel, SimError};

/// What the socket task of one WebSocket is told to do.
pub(crate) enum SocketCommand {
    Frame(String),
    Close,
}

/// A REST failure: status and ARI error body.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl Failure {
    pub(crate) fn new(status: u16, message: &str) -> Self {
        Failure {
            status,
            body: json!({ "message": message }),
        }
    }

    fn allocation_failed() -> Self {
        Failure {
            status: 500,
            body: json!({ "error": "Allocation failed" }),
        }
    }

    fn channel_not_found() -> Self {
        Failure::new(404, "Channel not found")
    }

    fn bridge_not_found() -> Self {
        Failure::new(404, "Bridge not found")
    }
}

pub(crate) type Reply<T> = Result<T, Failure>;

/// Timed work that the world asks to be done later.
pub(crate) struct Scheduled {
    pub(crate) after: Duration,
    pub(crate) action: TimerAction,
}

pub(crate) enum TimerAction {
    AgentAnswers {
        channel_id: String,
        attempt: u64,
    },
    AgentRefuses {
        channel_id: String,
        attempt: u64,
        refusal: Refusal,
    },
    DialTimeout {
        channel_id: String,
        attempt: u64,
    },
    PlaybackEnds {
        playback_id: String,
    },
    /// A created leg enters Stasis after its create's 200 (the race of NOTES §5).
    EnterStasis {
        channel_id: String,
        app: String,
        args: Vec<String>,
    },
}

#[derive(Clone, Copy)]
pub(crate) struct Refusal {
    cause: i32,
    tech_cause: i32,
    dial_status: &'static str,
}

const BUSY: Refusal = Refusal {
    cause: 17,
    tech_cause: 486,
    dial_status: "BUSY",
};
const DECLINE: Refusal = Refusal {
    cause: 21,
    tech_cause: 603,
    dial_status: "CHANUNAVAIL",
};

#[derive(Clone, Default)]
struct CallerId {
    name: String,
    number: String,
}

struct Dialplan {
    context: String,
    exten: String,
    priority: i64,
    app_name: String,
    app_data: String,
}

/// The Stasis application (and its args) a leg enters once answered (originate in app mode).
#[derive(Clone)]
struct StasisEntry {
    app: String,
    args: Vec<String>,
}

struct DialAttempt {
    attempt: u64,
    on_answer: Option<StasisEntry>,
}

struct Channel {
    order: u64,
    id: String,
    name: String,
    state: &'static str,
    protocol_id: String,
    caller: CallerId,
    connected: CallerId,
    dialplan: Dialplan,
    creationtime: String,
    endpoint: String,
    /// The app the channel is in (between StasisStart and StasisEnd).
    stasis_app: Option<String>,
    /// Apps subscribed to the channel itself: the creator/originator and `channel:` sources.
    /// They keep receiving its events after StasisEnd (hence ChannelDestroyed).
    followers: BTreeSet<String>,
    bridge: Option<String>,
    dial: Option<DialAttempt>,
    dialable: bool,
    attempts: u64,
}

struct Bridge {
    order: u64,
    id: String,
    bridge_type: &'static str,
    name: String,
    channels: Vec<String>,
    creationtime: String,
    followers: BTreeSet<String>,
}

struct Endpoint {
    technology: String,
    resource: String,
    online: bool,
}

impl Endpoint {
    fn key(&self) -> String {
        format!("{}/{}", self.technology, self.resource)
    }
}

struct Playback {
    id: String,
    media_uri: String,
    target_uri: String,
    language: String,
    state: &'static str,
}

#[derive(Default)]
struct App {
    socket: Option<u64>,
    subscribe_all: bool,
    endpoint_subs: BTreeSet<String>,
    device_subs: BTreeSet<String>,
}

struct SocketEntry {
    apps: Vec<String>,
    tx: UnboundedSender<SocketCommand>,
}

/// Who receives an event, and how many copies (endpoint subscriptions duplicate channel events).
enum Audience<'a> {
    /// The channel topic: followers, the app it is in, `endpoint:` subscribers (a second copy),
    /// subscribeAll apps.
    Channel(&'a str),
    /// Once to each app following the channel (playbacks).
    ChannelOnce(&'a str),
    /// Sent to one app directly (StasisStart, StasisEnd).
    App(&'a str),
    Bridge(&'a str),
    /// Endpoint topic: `endpoint:` subscribers, plus subscribeAll apps when `with_all`.
    Endpoint {
        key: &'a str,
        with_all: bool,
    },
    Device(&'a str),
    /// Only subscribeAll apps (BridgeCreated).
    AllOnly,
}

/// How a channel goes away.
struct Teardown {
    /// `ChannelHangupRequest` fields, or no such event.
    request: Option<Map<String, Value>>,
    /// A `Dial` event with this status first (failed dial).
    dial_status: Option<&'static str>,
    cause: i32,
    tech_cause: Option<i32>,
}

pub(crate) struct World {
    pub(crate) config: SimConfig,
    sequence: u64,
    order: u64,
    channels: HashMap<String, Channel>,
    bridges: HashMap<String, Bridge>,
    endpoints: Vec<Endpoint>,
    behaviours: HashMap<String, Behaviour>,
    apps: BTreeMap<String, App>,
    sockets: HashMap<u64, SocketEntry>,
    next_socket: u64,
    playbacks: HashMap<String, Playback>,
    device_states: HashMap<String, &'static str>,
    pub(crate) duplicate_all: bool,
    pub(crate) stall_until: Option<Instant>,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) timers: Vec<Scheduled>,
    /// Endpoints whose created legs never enter Stasis (a stuck leg: every dial is 409).
    pub(crate) stuck_out_of_stasis: BTreeSet<String>,
}

/// REST parameters, last value wins (ARI semantics), plus the JSON body's `variables`.
pub(crate) struct Params {
    values: HashMap<String, String>,
}

impl Params {
    pub(crate) fn new(query: Vec<(String, String)>, body: &[u8]) -> Reply<Params> {
        let mut values: HashMap<String, String> = query.into_iter().collect();
        if !body.iter().all(u8::is_ascii_whitespace) {
            let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
                return Err(Failure::new(400, "Request body is not a JSON object"));
            };
            for (key, value) in object {
                if key == "variables" {
                    continue;
                }
                let text = match value {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                values.insert(key, text);
            }
        }
        Ok(Params { values })
    }

    /// A non-empty parameter.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|value| {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn int(&self, name: &str) -> Reply<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| Failure::new(400, &format!("Invalid value for parameter {name}"))),
        }
    }
}

fn channel_json(channel: &Channel) -> Value {
    json!({
        "id": channel.id,
        "name": channel.name,
        "state": channel.state,
        "protocol_id": channel.protocol_id,
        "caller": { "name": channel.caller.name, "number": channel.caller.number },
        "connected": { "name": channel.connected.name, "number": channel.connected.number },
        "accountcode": "",
        "dialplan": {
            "context": channel.dialplan.context,
            "exten": channel.dialplan.exten,
            "priority": channel.dialplan.priority,
            "app_name": channel.dialplan.app_name,
            "app_data": channel.dialplan.app_data,
        },
        "creationtime": channel.creationtime,
        "language": "en",
    })
}

fn bridge_json(bridge: &Bridge) -> Value {
    json!({
        "id": bridge.id,
        "technology": "simple_bridge",
        "bridge_type": bridge.bridge_type,
        "bridge_class": "stasis",
        "creator": "Stasis",
        "name": bridge.name,
        "channels": bridge.channels,
        "creationtime": bridge.creationtime,
        "video_mode": "talker",
    })
}

fn playback_json(playback: &Playback) -> Value {
    json!({
        "id": playback.id,
        "media_uri": playback.media_uri,
        "target_uri": playback.target_uri,
        "language": playback.language,
        "state": playback.state,
    })
}

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl World {
    pub(crate) fn new(config: SimConfig) -> World {
        let mut world = World {
            config,
            sequence: 0,
            order: 0,
            channels: HashMap::new(),
            bridges: HashMap::new(),
            endpoints: Vec::new(),
            behaviours: HashMap::new(),
            apps: BTreeMap::new(),
            sockets: HashMap::new(),
            next_socket: 1,
            playbacks: HashMap::new(),
            device_states: HashMap::new(),
            duplicate_all: false,
            stall_until: None,
            requests: Vec::new(),
            timers: Vec::new(),
            stuck_out_of_stasis: BTreeSet::new(),
        };
        let mut known = world.config.endpoints.clone();
        known.push(world.config.trunk_endpoint.clone());
        for endpoint in known {
            world.ensure_endpoint(&endpoint);
        }
        world
    }

    fn ensure_endpoint(&mut self, key: &str) -> bool {
        let Some((technology, resource)) = split_endpoint(key) else {
            return false;
        };
        if self.endpoint(key).is_none() {
            self.endpoints.push(Endpoint {
                technology: technology.to_owned(),
                resource: resource.to_owned(),
                online: false,
            });
            self.device_states.insert(key.to_owned(), "UNAVAILABLE");
        }
        true
    }

    fn endpoint(&self, key: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|endpoint| endpoint.key() == key)
    }

    fn next_order(&mut self) -> u64 {
        self.order += 1;
        self.order
    }

    // ---------------------------------------------------------------- event delivery

    fn socket_of(&self, app: &str) -> Option<&SocketEntry> {
        let id = self.apps.get(app)?.socket?;
        self.sockets.get(&id)
    }

    fn endpoint_subscribed(app: &App, endpoint: &str) -> bool {
        let technology = endpoint.split('/').next().unwrap_or_default();
        app.endpoint_subs
            .iter()
            .any(|source| source == endpoint || source == technology)
    }

    fn audience(&self, audience: &Audience<'_>) -> Vec<(String, usize)> {
        let connected = self.apps.iter().filter(|(_, app)| app.socket.is_some());
        let mut targets = Vec::new();
        for (name, app) in connected {
            let copies = match audience {
                Audience::Channel(id) | Audience::ChannelOnce(id) => {
                    let Some(channel) = self.channels.get(*id) else {
                        continue;
                    };
                    let follows = app.subscribe_all
                        || channel.followers.contains(name)
                        || channel.stasis_app.as_deref() == Some(name);
                    let via_endpoint = Self::endpoint_subscribed(app, &channel.endpoint);
                    match audience {
                        Audience::ChannelOnce(_) => usize::from(follows),
                        _ => {
                            let copies = usize::from(follows) + usize::from(via_endpoint);
                            if self.duplicate_all && copies == 1 {
                                2
                            } else {
                                copies
                            }
                        }
                    }
                }
                Audience::App(target) => usize::from(name == target),
                Audience::Bridge(id) => {
                    let follows = self
                        .bridges
                        .get(*id)
                        .is_some_and(|bridge| bridge.followers.contains(name));
                    usize::from(follows || app.subscribe_all)
                }
                Audience::Endpoint { key, with_all } => usize::from(
                    Self::endpoint_subscribed(app, key) || (*with_all && app.subscribe_all),
                ),
                Audience::Device(device) => {
                    usize::from(app.device_subs.contains(*device) || app.subscribe_all)
                }
                Audience::AllOnly => usize::from(app.subscribe_all),
            };
            if copies > 0 {
                targets.push((name.clone(), copies));
            }
        }
        targets
    }

    fn emit(&mut self, audience: Audience<'_>, kind: &str, body: Map<String, Value>) {
        let targets = self.audience(&audience);
        let timestamp = now();
        for (app, copies) in targets {
            let mut event = Map::new();
            event.insert("type".into(), kind.into());
            event.insert("timestamp".into(), timestamp.clone().into());
            event.extend(body.clone());
            event.insert("asterisk_id".into(), self.config.asterisk_id.clone().into());
            event.insert("application".into(), app.clone().into());
            let text = Value::Object(event).to_string();
            if let Some(socket) = self.socket_of(&app) {
                for _ in 0..copies {
                    // A closed socket task only means the event is lost, as on a real Asterisk.
                    let _ = socket.tx.send(SocketCommand::Frame(text.clone()));
                }
            }
        }
    }

    fn emit_channel(&mut self, id: &str, kind: &str, mut body: Map<String, Value>) {
        let Some(channel) = self.channels.get(id) else {
            return;
        };
        body.insert("channel".into(), channel_json(channel));
        self.emit(Audience::Channel(id), kind, body);
    }

    fn emit_dial(&mut self, id: &str, dial_status: &str, dialstring: &str) {
        let Some(channel) = self.channels.get(id) else {
            return;
        };
        let body = fields(json!({
            "dialstatus": dial_status,
            "forward": "",
            "dialstring": dialstring,
            "peer": channel_json(channel),
        }));
        self.emit(Audience::Channel(id), "Dial", body);
    }

    fn endpoint_json(&self, endpoint: &Endpoint) -> Value {
        let key = endpoint.key();
        let mut on_endpoint: Vec<&Channel> = self
            .channels
            .values()
            .filter(|channel| channel.endpoint == key)
            .collect();
        on_endpoint.sort_by_key(|channel| channel.order);
        let channel_ids: Vec<&str> = on_endpoint.iter().map(|c| c.id.as_str()).collect();
        json!({
            "technology": endpoint.technology,
            "resource": endpoint.resource,
            "state": if endpoint.online { "online" } else { "offline" },
            "channel_ids": channel_ids,
        })
    }

    fn emit_endpoint(&mut self, key: &str, kind: &str, mut body: Map<String, Value>) {
        let Some(endpoint) = self.endpoint(key) else {
            return;
        };
        body.insert("endpoint".into(), self.endpoint_json(endpoint));
        let with_all = kind != "EndpointStateChange";
        self.emit(Audience::Endpoint { key, with_all }, kind, body);
    }

    /// Recomputes the device state of an endpoint (ignoring a channel about to go) and sends
    /// `DeviceStateChanged` when it changed.
    fn refresh_device(&mut self, key: &str, ignoring: Option<&str>) {
        let Some(endpoint) = self.endpoint(key) else {
            return;
        };
        let states: Vec<&str> = self
            .channels
            .values()
            .filter(|channel| channel.endpoint == key && Some(channel.id.as_str()) != ignoring)
            .map(|channel| channel.state)
            .collect();
        let state = if states.iter().any(|s| *s == "Up" || *s == "Ring") {
            "INUSE"
        } else if states.contains(&"Ringing") {
            "RINGING"
        } else if endpoint.online {
            "NOT_INUSE"
        } else {
            "UNAVAILABLE"
        };
        if self.device_states.get(key) == Some(&state) {
            return;
        }
        self.device_states.insert(key.to_owned(), state);
        let body = fields(json!({ "device_state": { "name": key, "state": state } }));
        self.emit(Audience::Device(key), "DeviceStateChanged", body);
    }

    // ---------------------------------------------------------------- sockets and apps

    pub(crate) fn register_socket(
        &mut self,
        apps: &[String],
        subscribe_all: bool,
        tx: UnboundedSender<SocketCommand>,
    ) -> u64 {
        let id = self.next_socket;
        self.next_socket += 1;
        for name in apps {
            let previous = self.apps.get(name).and_then(|app| app.socket);
            if let Some(old) = previous {
                if let Some(entry) = self.sockets.get_mut(&old) {
                    entry.apps.retain(|app| app != name);
                    let replaced = json!({
                        "type": "ApplicationReplaced",
                        "timestamp": now(),
                        "asterisk_id": self.config.asterisk_id,
                        "application": name,
                    });
                    let _ = entry.tx.send(SocketCommand::Frame(replaced.to_string()));
                }
            }
            let app = self.apps.entry(name.clone()).or_default();
            app.socket = Some(id);
            app.subscribe_all = subscribe_all;
        }
        self.sockets.insert(
            id,
            SocketEntry {
                apps: apps.to_vec(),
                tx,
            },
        );
        id
    }

    pub(crate) fn unregister_socket(&mut self, id: u64) {
        if let Some(entry) = self.sockets.remove(&id) {
            for name in entry.apps {
                if let Some(app) = self.apps.get_mut(&name) {
                    if app.socket == Some(id) {
                        app.socket = None;
                    }
                }
            }
        }
    }

    pub(crate) fn drop_sockets(&mut self) {
        let ids: Vec<u64> = self.sockets.keys().copied().collect();
        for id in ids {
            if let Some(entry) = self.sockets.get(&id) {
                let _ = entry.tx.send(SocketCommand::Close);
            }
            self.unregister_socket(id);
        }
    }

    pub(crate) fn is_connected(&self, app: &str) -> bool {
        self.apps.get(app).is_some_and(|app| app.socket.is_some())
    }

    fn application_json(&self, name: &str) -> Value {
        let app = self.apps.get(name);
        if app.is_some_and(|app| app.subscribe_all) {
            return json!({
                "name": name,
                "channel_ids": ["__AST_CHANNEL_ALL_TOPIC"],
                "bridge_ids": ["__AST_BRIDGE_ALL_TOPIC"],
                "endpoint_ids": ["__AST_ENDPOINT_ALL_TOPIC"],
                "device_names": ["__AST_DEVICE_STATE_ALL_TOPIC"],
                "events_allowed": [],
                "events_disallowed": [],
            });
        }
        let mut channels: Vec<&Channel> = self
            .channels
            .values()
            .filter(|c| c.followers.contains(name) || c.stasis_app.as_deref() == Some(name))
            .collect();
        channels.sort_by_key(|channel| channel.order);
        let mut bridges: Vec<&Bridge> = self
            .bridges
            .values()
            .filter(|bridge| bridge.followers.contains(name))
            .collect();
        bridges.sort_by_key(|bridge| bridge.order);
        json!({
            "name": name,
            "channel_ids": channels.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            "bridge_ids": bridges.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
            "endpoint_ids": app.map(|a| a.endpoint_subs.iter().collect::<Vec<_>>()).unwrap_or_default(),
            "device_names": app.map(|a| a.device_subs.iter().collect::<Vec<_>>()).unwrap_or_default(),
            "events_allowed": [],
            "events_disallowed": [],
        })
    }

    pub(crate) fn list_applications(&self) -> Value {
        let names: Vec<&String> = self
            .apps
            .iter()
            .filter(|(_, app)| app.socket.is_some())
            .map(|(name, _)| name)
            .collect();
        Value::Array(names.iter().map(|n| self.application_json(n)).collect())
    }

    pub(crate) fn get_application(&self, name: &str) -> Reply<Value> {
        if !self.is_connected(name) {
            return Err(Failure::new(404, "Application not found"));
        }
        Ok(self.application_json(name))
    }

    pub(crate) fn change_subscription(
        &mut self,
        name: &str,
        params: &Params,
        subscribe: bool,
    ) -> Reply<Value> {
        if !self.is_connected(name) {
            return Err(Failure::new(404, "Application not found"));
        }
        let sources = params.list("eventSource");
        if sources.is_empty() {
            return Err(Failure::new(400, "Missing parameter eventSource"));
        }
        for source in &sources {
            let Some((scheme, target)) = source.split_once(':') else {
                return Err(Failure::new(400, "Invalid event source URI scheme"));
            };
            let exists = match scheme {
                "channel" => self.channels.contains_key(target),
                "bridge" => self.bridges.contains_key(target),
                "endpoint" => match target.split_once('/') {
                    Some(_) => self.endpoint(target).is_some(),
                    None => self.endpoints.iter().any(|e| e.technology == target),
                },
                "deviceState" => !target.is_empty(),
                _ => return Err(Failure::new(400, "Invalid event source URI scheme")),
            };
            if !exists {
                return Err(Failure::new(422, "Event source does not exist"));
            }
        }
        for source in &sources {
            let Some((scheme, target)) = source.split_once(':') else {
                continue;
            };
            let changed = match scheme {
                "channel" => self
                    .channels
                    .get_mut(target)
                    .is_some_and(|channel| set_member(&mut channel.followers, name, subscribe)),
                "bridge" => self
                    .bridges
                    .get_mut(target)
                    .is_some_and(|bridge| set_member(&mut bridge.followers, name, subscribe)),
                "endpoint" => self
                    .apps
                    .get_mut(name)
                    .is_some_and(|app| set_member(&mut app.endpoint_subs, target, subscribe)),
                _ => self
                    .apps
                    .get_mut(name)
                    .is_some_and(|app| set_member(&mut app.device_subs, target, subscribe)),
            };
            if !subscribe && !changed {
                return Err(Failure::new(
                    409,
                    "Application not subscribed to event source",
                ));
            }
        }
        Ok(self.application_json(name))
    }

    // ---------------------------------------------------------------- endpoints

    pub(crate) fn list_endpoints(&self, technology: Option<&str>) -> Reply<Value> {
        let matching: Vec<Value> = self
            .endpoints
            .iter()
            .filter(|endpoint| technology.is_none_or(|tech| endpoint.technology == tech))
            .map(|endpoint| self.endpoint_json(endpoint))
            .collect();
        if let Some(technology) = technology {
            if matching.is_empty() {
                let message = format!("No Endpoints found - invalid tech {technology}");
                return Err(Failure::new(404, &message));
            }
        }
        Ok(Value::Array(matching))
    }

    pub(crate) fn get_endpoint(&self, technology: &str, resource: &str) -> Reply<Value> {
        self.endpoint(&format!("{technology}/{resource}"))
            .map(|endpoint| self.endpoint_json(endpoint))
            .ok_or_else(|| Failure::new(404, "Endpoint not found"))
    }

    pub(crate) fn set_registered(&mut self, key: &str, online: bool) -> Result<(), SimError> {
        if !self.ensure_endpoint(key) {
            return Err(SimError::InvalidEndpoint(key.to_owned()));
        }
        let Some(endpoint) = self.endpoints.iter_mut().find(|e| e.key() == key) else {
            return Err(SimError::InvalidEndpoint(key.to_owned()));
        };
        if endpoint.online == online {
            return Ok(());
        }
        endpoint.online = online;
        let pjsip = endpoint.technology == "PJSIP";
        let resource = endpoint.resource.clone();
        self.emit_endpoint(key, "EndpointStateChange", Map::new());
        let peer_status = match (pjsip, online) {
            (true, true) => json!({ "peer_status": "Reachable" }),
            (true, false) => json!({ "peer_status": "Unreachable" }),
            (false, true) => json!({ "peer_status": "Registered", "address": "127.0.0.1:5080" }),
            (false, false) => json!({ "peer_status": "Unregistered", "cause": "Expired" }),
        };
        self.emit_endpoint(
            key,
            "PeerStatusChange",
            fields(json!({ "peer": peer_status })),
        );
        if pjsip {
            let contact = json!({ "contact_info": {
                "uri": format!("sip:{resource}@127.0.0.1:5080"),
                "contact_status": if online { "NonQualified" } else { "Removed" },
                "aor": resource,
                "roundtrip_usec": "0",
            }});
            self.emit_endpoint(key, "ContactStatusChange", fields(contact));
        }
        self.refresh_device(key, None);
        Ok(())
    }

    pub(crate) fn set_behaviour(&mut self, key: &str, behaviour: Behaviour) {
        self.behaviours.insert(key.to_owned(), behaviour);
    }

    // ---------------------------------------------------------------- channels

    #[allow(clippy::too_many_arguments)]
    fn allocate_channel(
        &mut self,
        endpoint: &str,
        channel_id: Option<String>,
        state: &'static str,
        caller: CallerId,
        connected: CallerId,
        dialplan: Dialplan,
        protocol_id: String,
    ) -> String {
        let sequence = self.sequence;
        self.sequence += 1;
        let id =
            channel_id.unwrap_or_else(|| format!("{}.{}", self.config.uniqueid_epoch, sequence));
        let channel = Channel {
            order: self.next_order(),
            id: id.clone(),
            name: format!("{endpoint}-{sequence:08x}"),
            state,
            protocol_id,
            caller,
            connected,
            dialplan,
            creationtime: now(),
            endpoint: endpoint.to_owned(),
            stasis_app: None,
            followers: BTreeSet::new(),
            bridge: None,
            dial: None,
            dialable: false,
            attempts: 0,
        };
        self.channels.insert(id.clone(), channel);
        id
    }

    pub(crate) fn place_call(
        &mut self,
        app: &str,
        caller_number: &str,
        caller_name: &str,
        exten: &str,
        args: Option<Vec<String>>,
    ) -> Result<String, SimError> {
        if !self.is_connected(app) {
            return Err(SimError::NoSocketForApplication(app.to_owned()));
        }
        let args = args.unwrap_or_else(|| vec!["inbound".to_owned(), exten.to_owned()]);
        let mut app_data = vec![app.to_owned()];
        app_data.extend(args.iter().cloned());
        let trunk = self.config.trunk_endpoint.clone();
        let dialplan = Dialplan {
            context: self.config.inbound_context.clone(),
            exten: exten.to_owned(),
            priority: 2,
            app_name: "Stasis".to_owned(),
            app_data: app_data.join(","),
        };
        let caller = CallerId {
            name: caller_name.to_owned(),
            number: caller_number.to_owned(),
        };
        let protocol_id = format!("{}-{}@127.0.0.1", self.sequence + 1, rand::random::<u16>());
        let id = self.allocate_channel(
            &trunk,
            None,
            "Ring",
            caller,
            CallerId::default(),
            dialplan,
            protocol_id,
        );
        self.emit_endpoint(&trunk, "EndpointStateChange", Map::new());
        self.emit_channel(&id, "ChannelCreated", Map::new());
        self.refresh_device(&trunk, None);
        self.enter_stasis(
            &id,
            StasisEntry {
                app: app.to_owned(),
                args,
            },
        );
        Ok(id)
    }

    fn enter_stasis(&mut self, id: &str, entry: StasisEntry) {
        let Some(channel) = self.channels.get_mut(id) else {
            return;
        };
        channel.stasis_app = Some(entry.app.clone());
        let body = fields(json!({ "args": entry.args, "channel": channel_json(channel) }));
        self.emit(Audience::App(&entry.app), "StasisStart", body);
    }

    pub(crate) fn list_channels(&self) -> Value {
        let mut channels: Vec<&Channel> = self.channels.values().collect();
        channels.sort_by_key(|channel| channel.order);
        Value::Array(channels.into_iter().map(channel_json).collect())
    }

    pub(crate) fn get_channel(&self, id: &str) -> Reply<Value> {
        self.channels
            .get(id)
            .map(channel_json)
            .ok_or_else(Failure::channel_not_found)
    }

    /// The checks of `find_control` + `channel_state_invalid`: 404, 409, then 412.
    fn controllable(&self, id: &str, check_state: bool) -> Reply<&Channel> {
        let channel = self
            .channels
            .get(id)
            .ok_or_else(Failure::channel_not_found)?;
        if channel.stasis_app.is_none() {
            return Err(Failure::new(409, "Channel not in Stasis application"));
        }
        if check_state && matches!(channel.state, "Down" | "Rsrved" | "Ringing") {
            return Err(Failure::new(412, "Channel in invalid state"));
        }
        Ok(channel)
    }

    /// ring, moh, hold, silence, mute: no event, only the checks.
    pub(crate) fn control(&self, id: &str) -> Reply<()> {
        self.controllable(id, true).map(|_| ())
    }

    pub(crate) fn answer(&mut self, id: &str) -> Reply<()> {
        let channel = self.controllable(id, true)?;
        if channel.state == "Up" {
            return Ok(());
        }
        let endpoint = channel.endpoint.clone();
        if let Some(channel) = self.channels.get_mut(id) {
            channel.state = "Up";
        }
        self.refresh_device(&endpoint, None);
        self.emit_channel(id, "ChannelStateChange", Map::new());
        Ok(())
    }

    /// Checks shared by create and originate; returns (endpoint, channel id).
    fn check_new_leg(&self, params: &Params) -> Reply<(String, Option<String>)> {
        let endpoint = params
            .get("endpoint")
            .ok_or_else(|| Failure::new(400, "Endpoint must be specified"))?;
        if params.get("originator").is_some() && params.get("formats").is_some() {
            return Err(Failure::new(
                400,
                "Originator and formats can't both be specified",
            ));
        }
        Ok((
            endpoint.to_owned(),
            params.get("channelId").map(str::to_owned),
        ))
    }

    fn check_allocation(&self, endpoint: &str, params: &Params) -> Reply<()> {
        if split_endpoint(endpoint).is_none() {
            return Err(Failure::new(400, "Invalid endpoint specified"));
        }
        if let Some(id) = params.get("channelId") {
            if id.len() > 150 {
                return Err(Failure::new(400, "Channel ID too long"));
            }
            if self.channels.contains_key(id) {
                return Err(Failure::new(
                    409,
                    "Channel with given unique ID already exists",
                ));
            }
        }
        if let Some(originator) = params.get("originator") {
            if !self.channels.contains_key(originator) {
                return Err(Failure::new(
                    400,
                    "Provided originator channel was not found",
                ));
            }
        }
        if !self.endpoint(endpoint).is_some_and(|e| e.online) {
            return Err(Failure::allocation_failed());
        }
        Ok(())
    }

    pub(crate) fn create_channel(&mut self, params: &Params) -> Reply<Value> {
        let (endpoint, channel_id) = self.check_new_leg(params)?;
        let app = params
            .get("app")
            .ok_or_else(|| Failure::new(400, "Application must be specified"))?
            .to_owned();
        self.check_allocation(&endpoint, params)?;
        let args = params.list("appArgs");
        let mut app_data = vec![app.clone()];
        app_data.extend(args.iter().cloned());
        let dialplan = Dialplan {
            context: self.config.agent_context.clone(),
            exten: "s".to_owned(),
            priority: 1,
            app_name: "Stasis".to_owned(),
            app_data: app_data.join(","),
        };
        let protocol_id = uuid::Uuid::new_v4().to_string();
        let id = self.allocate_channel(
            &endpoint,
            channel_id,
            "Down",
            CallerId::default(),
            CallerId::default(),
            dialplan,
            protocol_id,
        );
        if let Some(channel) = self.channels.get_mut(&id) {
            channel.dialable = true;
        }
        self.announce_leg(&id, &endpoint);
        if let Some(channel) = self.channels.get_mut(&id) {
            channel.followers.insert(app.clone());
        }
        let dialplan_body = self.channels.get(&id).map(|channel| {
            fields(json!({
                "dialplan_app": channel.dialplan.app_name,
                "dialplan_app_data": channel.dialplan.app_data,
            }))
        });
        self.emit_channel(&id, "ChannelDialplan", dialplan_body.unwrap_or_default());
        let response = self.get_channel(&id)?;
        if self.stuck_out_of_stasis.contains(&endpoint) {
            // Never enters Stasis: every dial is refused 409 until it is hung up.
        } else if rand::random::<f64>() < self.config.late_stasis_probability {
            // The 200 goes out first; StasisStart follows (NOTES §5).
            self.timers.push(Scheduled {
                after: self.config.late_stasis_delay,
                action: TimerAction::EnterStasis {
                    channel_id: id,
                    app,
                    args,
                },
            });
        } else {
            self.enter_stasis(&id, StasisEntry { app, args });
        }
        Ok(response)
    }

    /// EndpointStateChange (channel_ids grew) and ChannelCreated, before any app follows the leg.
    fn announce_leg(&mut self, id: &str, endpoint: &str) {
        self.emit_endpoint(endpoint, "EndpointStateChange", Map::new());
        self.emit_channel(id, "ChannelCreated", Map::new());
    }

    pub(crate) fn originate(&mut self, params: &Params, path_id: Option<&str>) -> Reply<Value> {
        let (endpoint, mut channel_id) = self.check_new_leg(params)?;
        if let Some(path_id) = path_id {
            channel_id = Some(path_id.to_owned());
        }
        let app = params.get("app").map(str::to_owned);
        if app.is_none() && params.get("extension").is_none() {
            return Err(Failure::new(
                400,
                "Application or extension must be specified",
            ));
        }
        self.check_allocation(&endpoint, params)?;
        if let Some(id) = path_id {
            if self.channels.contains_key(id) {
                return Err(Failure::new(
                    409,
                    "Channel with given unique ID already exists",
                ));
            }
        }
        let timeout = params.int("timeout")?.unwrap_or(30);
        let (name, number) = params
            .get("callerId")
            .map(parse_caller_id)
            .unwrap_or_default();
        let mut caller = CallerId { name, number };
        let originator = params
            .get("originator")
            .and_then(|id| self.channels.get(id))
            .map(|channel| channel.caller.clone());
        let connected = if caller.number.is_empty() && caller.name.is_empty() {
            originator.clone().unwrap_or_default()
        } else {
            caller.clone()
        };
        if caller.number.is_empty() && caller.name.is_empty() {
            caller = CallerId::default();
        }
        let dialplan = Dialplan {
            context: self.config.agent_context.clone(),
            exten: "s".to_owned(),
            priority: 1,
            app_name: "AppDial2".to_owned(),
            app_data: "(Outgoing Line)".to_owned(),
        };
        let protocol_id = uuid::Uuid::new_v4().to_string();
        let id = self.allocate_channel(
            &endpoint,
            channel_id,
            "Down",
            caller,
            connected,
            dialplan,
            protocol_id,
        );
        let response = self.get_channel(&id)?;
        self.announce_leg(&id, &endpoint);
        self.emit_channel(
            &id,
            "ChannelDialplan",
            fields(json!({ "dialplan_app": "AppDial2", "dialplan_app_data": "(Outgoing Line)" })),
        );
        let on_answer = app.map(|app| StasisEntry {
            app,
            args: params.list("appArgs"),
        });
        if let (Some(entry), Some(channel)) = (&on_answer, self.channels.get_mut(&id)) {
            channel.followers.insert(entry.app.clone());
        }
        self.start_ringing(&id, on_answer, timeout);
        Ok(response)
    }

    pub(crate) fn dial(&mut self, id: &str, params: &Params) -> Reply<()> {
        let channel = self
            .channels
            .get(id)
            .ok_or_else(Failure::channel_not_found)?;
        let caller = match params.get("caller") {
            Some(caller_id) => Some(
                self.channels
                    .get(caller_id)
                    .map(|caller| caller.caller.clone())
                    .ok_or_else(|| Failure::new(404, "Caller channel not found"))?,
            ),
            None => None,
        };
        if channel.stasis_app.is_none() {
            return Err(Failure::new(409, "Channel not in Stasis application"));
        }
        if !channel.dialable {
            return Err(Failure::new(409, "Channel cannot be dialed"));
        }
        if channel.dial.is_some() || channel.state != "Down" {
            // Real Asterisk accepts a second dial (and sends a second INVITE); nothing new here.
            return Ok(());
        }
        let timeout = params.int("timeout")?.unwrap_or(0);
        if let Some(caller) = caller {
            if let Some(channel) = self.channels.get_mut(id) {
                channel.connected = caller;
            }
            self.emit_channel(id, "ChannelConnectedLine", Map::new());
        }
        self.start_ringing(id, None, timeout);
        Ok(())
    }

    /// Dial(""), ChannelStateChange(Ringing), DeviceStateChanged, Dial(RINGING), then the
    /// agent's scripted behaviour and the timeout (seconds, ≤ 0 = none).
    fn start_ringing(&mut self, id: &str, on_answer: Option<StasisEntry>, timeout: i64) {
        let Some(channel) = self.channels.get_mut(id) else {
            return;
        };
        channel.attempts += 1;
        let attempt = channel.attempts;
        channel.dial = Some(DialAttempt { attempt, on_answer });
        let endpoint = channel.endpoint.clone();
        let dialstring = split_endpoint(&endpoint)
            .map(|(_, resource)| resource.to_owned())
            .unwrap_or_default();
        self.emit_dial(id, "", &dialstring);
        if let Some(channel) = self.channels.get_mut(id) {
            channel.state = "Ringing";
        }
        self.emit_channel(id, "ChannelStateChange", Map::new());
        self.refresh_device(&endpoint, None);
        self.emit_dial(id, "RINGING", "");
        let behaviour = self
            .behaviours
            .get(&endpoint)
            .copied()
            .unwrap_or(self.config.default_behaviour);
        let channel_id = id.to_owned();
        let action = match behaviour {
            Behaviour::Answer { after } => Some((
                after,
                TimerAction::AgentAnswers {
                    channel_id: channel_id.clone(),
                    attempt,
                },
            )),
            Behaviour::Busy { after } => Some((
                after,
                TimerAction::AgentRefuses {
                    channel_id: channel_id.clone(),
                    attempt,
                    refusal: BUSY,
                },
            )),
            Behaviour::Reject { after } => Some((
                after,
                TimerAction::AgentRefuses {
                    channel_id: channel_id.clone(),
                    attempt,
                    refusal: DECLINE,
                },
            )),
            Behaviour::NoAnswer => None,
        };
        if let Some((after, action)) = action {
            self.timers.push(Scheduled { after, action });
        }
        if let Ok(seconds) = u64::try_from(timeout) {
            if seconds > 0 {
                self.timers.push(Scheduled {
                    after: Duration::from_secs(seconds),
                    action: TimerAction::DialTimeout {
                        channel_id,
                        attempt,
                    },
                });
            }
        }
    }

    fn ringing_attempt(&self, id: &str, attempt: u64) -> bool {
        self.channels.get(id).is_some_and(|channel| {
            channel.state == "Ringing"
                && channel.dial.as_ref().is_some_and(|d| d.attempt == attempt)
        })
    }

    pub(crate) fn fire(&mut self, action: TimerAction) {
        match action {
            TimerAction::AgentAnswers {
                channel_id,
                attempt,
            } => {
                if self.ringing_attempt(&channel_id, attempt) {
                    self.agent_answers(&channel_id);
                }
            }
            TimerAction::AgentRefuses {
                channel_id,
                attempt,
                refusal,
            } => {
                if self.ringing_attempt(&channel_id, attempt) {
                    let request = fields(json!({
                        "cause": refusal.cause,
                        "tech_cause": refusal.tech_cause,
                    }));
                    self.teardown(
                        &channel_id,
                        Teardown {
                            request: Some(request),
                            dial_status: Some(refusal.dial_status),
                            cause: refusal.cause,
                            tech_cause: Some(refusal.tech_cause),
                        },
                    );
                }
            }
            TimerAction::DialTimeout {
                channel_id,
                attempt,
            } => {
                if self.ringing_attempt(&channel_id, attempt) {
                    self.teardown(
                        &channel_id,
                        Teardown {
                            request: None,
                            dial_status: Some("NOANSWER"),
                            cause: 19,
                            tech_cause: None,
                        },
                    );
                }
            }
            TimerAction::PlaybackEnds { playback_id } => self.finish_playback(&playback_id, "done"),
            TimerAction::EnterStasis {
                channel_id,
                app,
                args,
            } => {
                let waiting = self
                    .channels
                    .get(&channel_id)
                    .is_some_and(|channel| channel.stasis_app.is_none() && channel.state == "Down");
                if waiting {
                    self.enter_stasis(&channel_id, StasisEntry { app, args });
                }
            }
        }
    }

    fn agent_answers(&mut self, id: &str) {
        let Some(channel) = self.channels.get_mut(id) else {
            return;
        };
        channel.state = "Up";
        let on_answer = channel.dial.take().and_then(|dial| dial.on_answer);
        let endpoint = channel.endpoint.clone();
        self.refresh_device(&endpoint, None);
        self.emit_channel(id, "ChannelStateChange", Map::new());
        self.emit_dial(id, "ANSWER", "");
        if let Some(entry) = on_answer {
            if let Some(channel) = self.channels.get_mut(id) {
                let mut app_data = vec![entry.app.clone()];
                app_data.extend(entry.args.iter().cloned());
                channel.dialplan.app_name = "Stasis".to_owned();
                channel.dialplan.app_data = app_data.join(",");
            }
            self.enter_stasis(id, entry);
        }
    }

    /// ChannelHangupRequest, Dial(status), ChannelLeftBridge, DeviceStateChanged, StasisEnd,
    /// ChannelDestroyed, EndpointStateChange: in that order, each only when it applies.
    fn teardown(&mut self, id: &str, teardown: Teardown) {
        let Some(channel) = self.channels.get(id) else {
            return;
        };
        let endpoint = channel.endpoint.clone();
        if let Some(request) = teardown.request {
            self.emit_channel(id, "ChannelHangupRequest", request);
        }
        if let Some(status) = teardown.dial_status {
            self.emit_dial(id, status, "");
        }
        self.leave_bridge(id);
        self.refresh_device(&endpoint, Some(id));
        let stasis_app = self
            .channels
            .get_mut(id)
            .and_then(|channel| channel.stasis_app.take());
        if let Some(app) = stasis_app {
            if let Some(channel) = self.channels.get(id) {
                let body = fields(json!({ "channel": channel_json(channel) }));
                self.emit(Audience::App(&app), "StasisEnd", body);
            }
        }
        let mut destroyed = fields(json!({
            "cause": teardown.cause,
            "cause_txt": cause_text(teardown.cause),
        }));
        if let Some(tech_cause) = teardown.tech_cause {
            destroyed.insert("tech_cause".into(), tech_cause.into());
        }
        self.emit_channel(id, "ChannelDestroyed", destroyed);
        self.channels.remove(id);
        self.playbacks
            .retain(|_, playback| playback.target_uri != format!("channel:{id}"));
        self.emit_endpoint(&endpoint, "EndpointStateChange", Map::new());
    }

    pub(crate) fn hangup(&mut self, id: &str, params: &Params) -> Reply<()> {
        let cause = match (params.get("reason"), params.get("reason_code")) {
            (Some(_), Some(_)) => {
                return Err(Failure::new(
                    400,
                    "The reason and reason_code can't both be specified",
                ))
            }
            (None, Some(code)) => code
                .trim()
                .parse::<i32>()
                .map_err(|_| Failure::new(400, "Invalid reason for hangup reason code provided"))?,
            (Some(reason), None) => super::json::reason_to_cause(reason)
                .ok_or_else(|| Failure::new(400, "Invalid reason for hangup reason provided"))?,
            (None, None) => 16,
        };
        if !self.channels.contains_key(id) {
            return Err(Failure::channel_not_found());
        }
        let request = fields(json!({ "cause": 32, "soft": true }));
        self.teardown(
            id,
            Teardown {
                request: Some(request),
                dial_status: None,
                cause,
                tech_cause: None,
            },
        );
        Ok(())
    }

    /// The far end hangs up (BYE): ChannelHangupRequest without cause, then the teardown.
    pub(crate) fn far_end_hangup(&mut self, id: &str) -> Result<(), SimError> {
        let Some(channel) = self.channels.get(id) else {
            return Err(SimError::ChannelNotFound(id.to_owned()));
        };
        if channel.state == "Ringing" {
            let refusal = DECLINE;
            let request =
                fields(json!({ "cause": refusal.cause, "tech_cause": refusal.tech_cause }));
            self.teardown(
                id,
                Teardown {
                    request: Some(request),
                    dial_status: Some(refusal.dial_status),
                    cause: refusal.cause,
                    tech_cause: Some(refusal.tech_cause),
                },
            );
        } else {
            self.teardown(
                id,
                Teardown {
                    request: Some(Map::new()),
                    dial_status: None,
                    cause: 16,
                    tech_cause: None,
                },
            );
        }
        Ok(())
    }

    pub(crate) fn channels_on(&self, endpoint: &str) -> Vec<String> {
        let mut channels: Vec<&Channel> = self
            .channels
            .values()
            .filter(|channel| channel.endpoint == endpoint)
            .collect();
        channels.sort_by_key(|channel| channel.order);
        channels.into_iter().map(|c| c.id.clone()).collect()
    }

    pub(crate) fn send_dtmf(&mut self, id: &str, digit: char) -> Result<(), SimError> {
        if !self.channels.contains_key(id) {
            return Err(SimError::ChannelNotFound(id.to_owned()));
        }
        let body = fields(json!({ "digit": digit.to_string(), "duration_ms": 250 }));
        self.emit_channel(id, "ChannelDtmfReceived", body);
        Ok(())
    }

    // ---------------------------------------------------------------- playbacks

    pub(crate) fn play(
        &mut self,
        target: PlayTarget<'_>,
        params: &Params,
        path_playback_id: Option<&str>,
    ) -> Reply<Value> {
        let target_uri = match target {
            PlayTarget::Channel(id) => {
                self.controllable(id, true)?;
                format!("channel:{id}")
            }
            PlayTarget::Bridge(id) => {
                if !self.bridges.contains_key(id) {
                    return Err(Failure::bridge_not_found());
                }
                format!("bridge:{id}")
            }
        };
        let media = params.list("media");
        let Some(first) = media.first() else {
            return Err(Failure::new(400, "Missing parameter media"));
        };
        let id = path_playback_id
            .or_else(|| params.get("playbackId"))
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if self.playbacks.contains_key(&id) {
            return Err(Failure::new(409, "Playback with given id already exists"));
        }
        let mut playback = Playback {
            id: id.clone(),
            media_uri: first.clone(),
            target_uri,
            language: params.get("lang").unwrap_or("en").to_owned(),
            state: "queued",
        };
        let response = playback_json(&playback);
        playback.state = "playing";
        let missing = media.iter().any(|m| self.config.missing_media.contains(m));
        self.playbacks.insert(id.clone(), playback);
        self.emit_playback(&id, "PlaybackStarted");
        if missing {
            self.finish_playback(&id, "failed");
        } else {
            self.timers.push(Scheduled {
                after: self.config.playback_duration,
                action: TimerAction::PlaybackEnds { playback_id: id },
            });
        }
        Ok(response)
    }

    fn emit_playback(&mut self, id: &str, kind: &str) {
        let Some(playback) = self.playbacks.get(id) else {
            return;
        };
        let body = fields(json!({ "playback": playback_json(playback) }));
        let target = playback.target_uri.clone();
        match target.split_once(':') {
            Some(("bridge", bridge)) => self.emit(Audience::Bridge(bridge), kind, body),
            Some((_, channel)) => self.emit(Audience::ChannelOnce(channel), kind, body),
            None => {}
        }
    }

    fn finish_playback(&mut self, id: &str, state: &'static str) {
        let Some(playback) = self.playbacks.get_mut(id) else {
            return;
        };
        playback.state = state;
        self.emit_playback(id, "PlaybackFinished");
        self.playbacks.remove(id);
    }

    pub(crate) fn get_playback(&self, id: &str) -> Reply<Value> {
        self.playbacks
            .get(id)
            .map(playback_json)
            .ok_or_else(|| Failure::new(404, "Playback not found"))
    }

    pub(crate) fn stop_playback(&mut self, id: &str) -> Reply<()> {
        if !self.playbacks.contains_key(id) {
            return Err(Failure::new(404, "Playback not found"));
        }
        self.finish_playback(id, "done");
        Ok(())
    }

    // ---------------------------------------------------------------- bridges

    pub(crate) fn create_bridge(&mut self, params: &Params, path_id: Option<&str>) -> Reply<Value> {
        let id = path_id
            .or_else(|| params.get("bridgeId"))
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if self.bridges.contains_key(&id) {
            return Err(Failure::new(409, "Bridge with this id already exists"));
        }
        let holding = params.list("type").iter().any(|t| t == "holding");
        let bridge = Bridge {
            order: self.next_order(),
            id: id.clone(),
            bridge_type: if holding { "holding" } else { "mixing" },
            name: params.get("name").unwrap_or_default().to_owned(),
            channels: Vec::new(),
            creationtime: now(),
            followers: BTreeSet::new(),
        };
        let json = bridge_json(&bridge);
        self.bridges.insert(id, bridge);
        self.emit(
            Audience::AllOnly,
            "BridgeCreated",
            fields(json!({ "bridge": json })),
        );
        Ok(json)
    }

    pub(crate) fn list_bridges(&self) -> Value {
        let mut bridges: Vec<&Bridge> = self.bridges.values().collect();
        bridges.sort_by_key(|bridge| bridge.order);
        Value::Array(bridges.into_iter().map(bridge_json).collect())
    }

    pub(crate) fn get_bridge(&self, id: &str) -> Reply<Value> {
        self.bridges
            .get(id)
            .map(bridge_json)
            .ok_or_else(Failure::bridge_not_found)
    }

    fn bridge_channels_param(&self, bridge_id: &str, params: &Params) -> Reply<Vec<String>> {
        if !self.bridges.contains_key(bridge_id) {
            return Err(Failure::bridge_not_found());
        }
        let channels = params.list("channel");
        if channels.is_empty() {
            return Err(Failure::new(400, "Missing parameter channel"));
        }
        if channels.iter().any(|id| !self.channels.contains_key(id)) {
            return Err(Failure::new(400, "Channel not found"));
        }
        Ok(channels)
    }

    pub(crate) fn add_channels(&mut self, bridge_id: &str, params: &Params) -> Reply<()> {
        let channels = self.bridge_channels_param(bridge_id, params)?;
        let outside_stasis = channels.iter().any(|id| {
            self.channels
                .get(id)
                .is_some_and(|c| c.stasis_app.is_none())
        });
        if outside_stasis {
            return Err(Failure::new(422, "Channel not in Stasis application"));
        }
        for id in channels {
            let current = self.channels.get(&id).and_then(|c| c.bridge.clone());
            if current.as_deref() == Some(bridge_id) {
                continue;
            }
            self.leave_bridge(&id);
            let app = self.channels.get(&id).and_then(|c| c.stasis_app.clone());
            if let Some(bridge) = self.bridges.get_mut(bridge_id) {
                bridge.channels.push(id.clone());
                bridge.followers.extend(app);
            }
            if let Some(channel) = self.channels.get_mut(&id) {
                channel.bridge = Some(bridge_id.to_owned());
            }
            self.emit_bridge_membership(bridge_id, &id, "ChannelEnteredBridge");
        }
        Ok(())
    }

    pub(crate) fn remove_channels(&mut self, bridge_id: &str, params: &Params) -> Reply<()> {
        let channels = self.bridge_channels_param(bridge_id, params)?;
        let outside = channels.iter().any(|id| {
            self.channels
                .get(id)
                .is_some_and(|c| c.bridge.as_deref() != Some(bridge_id))
        });
        if outside {
            return Err(Failure::new(422, "Channel not in this bridge"));
        }
        for id in channels {
            self.leave_bridge(&id);
        }
        Ok(())
    }

    fn emit_bridge_membership(&mut self, bridge_id: &str, channel_id: &str, kind: &str) {
        let (Some(bridge), Some(channel)) =
            (self.bridges.get(bridge_id), self.channels.get(channel_id))
        else {
            return;
        };
        let body =
            fields(json!({ "bridge": bridge_json(bridge), "channel": channel_json(channel) }));
        self.emit(Audience::Bridge(bridge_id), kind, body);
    }

    fn leave_bridge(&mut self, channel_id: &str) {
        let Some(bridge_id) = self
            .channels
            .get_mut(channel_id)
            .and_then(|channel| channel.bridge.take())
        else {
            return;
        };
        if let Some(bridge) = self.bridges.get_mut(&bridge_id) {
            bridge.channels.retain(|id| id != channel_id);
        }
        self.emit_bridge_membership(&bridge_id, channel_id, "ChannelLeftBridge");
    }

    pub(crate) fn destroy_bridge(&mut self, id: &str) -> Reply<()> {
        let Some(bridge) = self.bridges.get(id) else {
            return Err(Failure::bridge_not_found());
        };
        for channel_id in bridge.channels.clone() {
            self.leave_bridge(&channel_id);
        }
        if let Some(bridge) = self.bridges.get(id) {
            let body = fields(json!({ "bridge": bridge_json(bridge) }));
            self.emit(Audience::Bridge(id), "BridgeDestroyed", body);
        }
        self.bridges.remove(id);
        Ok(())
    }

    pub(crate) fn bridge_exists(&self, id: &str) -> Reply<()> {
        if self.bridges.contains_key(id) {
            Ok(())
        } else {
            Err(Failure::bridge_not_found())
        }
    }

    // ---------------------------------------------------------------- snapshots for tests

    pub(crate) fn channel_snapshots(&self) -> Vec<SimChannel> {
        let mut channels: Vec<&Channel> = self.channels.values().collect();
        channels.sort_by_key(|channel| channel.order);
        channels
            .into_iter()
            .map(|channel| SimChannel {
                id: channel.id.clone(),
                name: channel.name.clone(),
                state: channel.state.to_owned(),
                endpoint: channel.endpoint.clone(),
                stasis_app: channel.stasis_app.clone(),
                bridge_id: channel.bridge.clone(),
            })
            .collect()
    }

    pub(crate) fn bridge_snapshots(&self) -> Vec<SimBridge> {
        let mut bridges: Vec<&Bridge> = self.bridges.values().collect();
        bridges.sort_by_key(|bridge| bridge.order);
        bridges
            .into_iter()
            .map(|bridge| SimBridge {
                id: bridge.id.clone(),
                name: bridge.name.clone(),
                bridge_type: bridge.bridge_type.to_owned(),
                channel_ids: bridge.channels.clone(),
            })
            .collect()
    }
}

pub(crate) enum PlayTarget<'a> {
    Channel(&'a str),
    Bridge(&'a str),
}

fn set_member(set: &mut BTreeSet<String>, item: &str, present: bool) -> bool {
    if present {
        set.insert(item.to_owned());
        true
    } else {
        set.remove(item)
    }
}
