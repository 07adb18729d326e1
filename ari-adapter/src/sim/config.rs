//! What a simulated Asterisk looks like at start and how its agent phones behave.

use std::time::Duration;

/// How an agent phone reacts when a leg to its endpoint is dialled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Rings, then answers (200 OK) after `after`.
    Answer { after: Duration },
    /// Rings, then answers 486 Busy Here after `after` (Q.850 cause 17, `Dial(BUSY)`).
    Busy { after: Duration },
    /// Rings until the dial (or originate) timeout: `Dial(NOANSWER)`, cause 19.
    NoAnswer,
    /// Rings, then declines (603) after `after` (cause 21, `Dial(CHANUNAVAIL)`).
    Reject { after: Duration },
}

/// Configuration of a [`super::SimAsterisk`]. `SimConfig::default()` matches the recorded lab:
/// user `ari`/`ari`, app `callcenter`, endpoints `PJSIP/trunk`, `PJSIP/agent1`, `PJSIP/agent2`
/// (all offline until registered).
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub user: String,
    pub password: String,
    /// `asterisk_id` of every message (a MAC address on a real Asterisk).
    pub asterisk_id: String,
    /// Stasis application that scripted inbound calls enter.
    pub inbound_app: String,
    /// Endpoint carrying scripted inbound calls.
    pub trunk_endpoint: String,
    /// Dialplan context of inbound calls (`dialplan.context`).
    pub inbound_context: String,
    /// Dialplan context of agent legs.
    pub agent_context: String,
    /// Endpoints that exist at start, offline. `register_endpoint` adds others.
    pub endpoints: Vec<String>,
    /// Behaviour of an agent endpoint without `set_agent_behaviour`.
    pub default_behaviour: Behaviour,
    /// How long a playback plays before `PlaybackFinished(done)`.
    pub playback_duration: Duration,
    /// Media URIs that do not exist: `PlaybackFinished(failed)` right after `PlaybackStarted`.
    pub missing_media: Vec<String>,
    /// First part of generated channel ids (`{epoch}.{sequence}`); fixed for determinism. A
    /// simulator that must not repeat an earlier run's ids (as a real Asterisk never does
    /// across boots) takes [`SimConfig::uniqueid_epoch_now`].
    pub uniqueid_epoch: u64,
    /// Keep every request for [`super::SimHandle::requests`]; turn off for long benchmarks.
    pub record_requests: bool,
    /// Probability (0 to 1) that a `POST /channels/create` answers 200 before the new leg has
    /// entered Stasis, as real Asterisk 22 does about 1 in 40 times (NOTES §5): its
    /// `StasisStart` then follows `late_stasis_delay` later, and a dial sent meanwhile is
    /// refused 409 "Channel not in Stasis application". On by default (0.25) so that every
    /// test meets the race; 0 never, 1 always.
    pub late_stasis_probability: f64,
    /// How long after the create's 200 a late leg enters Stasis.
    pub late_stasis_delay: Duration,
}

impl SimConfig {
    /// An epoch for [`SimConfig::uniqueid_epoch`] taken from the clock: milliseconds since
    /// 1970, so that two runs (even two started within the same second) never share a
    /// channel id.
    pub fn uniqueid_epoch_now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            })
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            user: "ari".to_owned(),
            password: "ari".to_owned(),
            asterisk_id: "02:fc:00:00:00:01".to_owned(),
            inbound_app: "callcenter".to_owned(),
            trunk_endpoint: "PJSIP/trunk".to_owned(),
            inbound_context: "from-trunk".to_owned(),
            agent_context: "from-agents".to_owned(),
            endpoints: vec![
                "PJSIP/trunk".to_owned(),
                "PJSIP/agent1".to_owned(),
                "PJSIP/agent2".to_owned(),
            ],
            default_behaviour: Behaviour::Answer {
                after: Duration::from_millis(20),
            },
            playback_duration: Duration::from_millis(20),
            missing_media: vec!["sound:no-such-file".to_owned()],
            uniqueid_epoch: 1_795_752_774,
            record_requests: true,
            late_stasis_probability: 0.25,
            late_stasis_delay: Duration::from_millis(15),
        }
    }
}
