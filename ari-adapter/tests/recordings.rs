//! The recorded traffic of real Asterisk 20 (chan_sip) and 22 (chan_pjsip) runs, in
//! `ari-spec/recordings/`: every frame decodes, and translating a run yields the three calls of
//! the scenario (answered, abandoned in queue, agent busy), once each, duplicates or not.

use std::path::PathBuf;

use ari_adapter::model::{decode_event, AriEvent, EndpointStateValue};
use ari_adapter::translate::{AgentLegOutcome, TelephonyFact, Translator};
use serde_json::Value;

const RECORDINGS: [&str; 5] = [
    "20-chansip-devicestate-sub",
    "20-chansip-endpoint-sub",
    "22-pjsip-devicestate-sub",
    "22-pjsip-endpoint-sub",
    "22-pjsip-subscribeall",
];

/// The recordings of the `callcenter` application socket (the subscribeAll one is `monitor`).
const APP_RECORDINGS: [&str; 4] = [
    "20-chansip-devicestate-sub",
    "20-chansip-endpoint-sub",
    "22-pjsip-devicestate-sub",
    "22-pjsip-endpoint-sub",
];

fn recordings_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ari-spec/recordings")
}

fn read_lines(file_name: &str) -> Vec<String> {
    let path = recordings_dir().join(file_name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    text.lines().map(str::to_owned).collect()
}

fn events(recording: &str) -> Vec<AriEvent> {
    read_lines(&format!("{recording}.events.jsonl"))
        .iter()
        .enumerate()
        .map(|(index, line)| {
            decode_event(line)
                .unwrap_or_else(|error| panic!("{recording} line {}: {error}", index + 1))
        })
        .collect()
}

/// Agent legs originated with `POST /channels?app=…&appArgs=agent,<inbound>` never send
/// `StasisStart` when they fail; the dispatcher registers them. Take them from the session log.
fn originated_agent_legs(recording: &str) -> Vec<(String, String)> {
    let session = match recording {
        "22-pjsip-subscribeall" => "22-pjsip-devicestate-sub".to_owned(),
        other => other.to_owned(),
    };
    read_lines(&format!("{session}.session.jsonl"))
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|entry| {
            entry["kind"] == "rest"
                && entry["method"] == "POST"
                && entry["path"] == "/channels"
                && entry["status"] == 200
        })
        .filter_map(|entry| {
            let app_args = entry["query"]["appArgs"].as_str()?;
            let inbound = app_args.strip_prefix("agent,")?;
            let leg = entry["body"]["id"].as_str()?;
            Some((leg.to_owned(), inbound.to_owned()))
        })
        .collect()
}

fn translator_for(recording: &str) -> Translator {
    let mut translator = Translator::new();
    for (leg, inbound) in originated_agent_legs(recording) {
        translator.expect_agent_leg(leg, inbound);
    }
    translator
}

fn translate_all(translator: &mut Translator, events: &[AriEvent]) -> Vec<TelephonyFact> {
    events
        .iter()
        .flat_map(|event| translator.translate(event))
        .collect()
}

fn facts(recording: &str) -> Vec<TelephonyFact> {
    translate_all(&mut translator_for(recording), &events(recording))
}

fn is_call_fact(fact: &TelephonyFact) -> bool {
    !matches!(fact, TelephonyFact::EndpointState { .. })
}

#[test]
fn every_recorded_frame_decodes_and_only_unmodelled_types_fall_back_to_other() {
    for recording in RECORDINGS {
        for event in events(recording) {
            if let AriEvent::Other { type_name, .. } = &event {
                assert!(
                    [
                        "ChannelVarset",
                        "ChannelDialplan",
                        "ChannelConnectedLine",
                        "ChannelCallerId"
                    ]
                    .contains(&type_name.as_str()),
                    "{recording}: {type_name} should be modelled"
                );
            }
            assert!(event.timestamp().is_some(), "{recording}: {event:?}");
        }
    }
}

#[test]
fn recorded_events_survive_a_round_trip_through_to_json() {
    for recording in RECORDINGS {
        for event in events(recording) {
            let again = decode_event(&event.to_json().to_string());
            assert_eq!(again.as_ref(), Ok(&event), "{recording}");
        }
    }
}

#[test]
fn each_recording_translates_to_its_snapshot() {
    for recording in RECORDINGS {
        insta::assert_json_snapshot!(format!("facts-{recording}"), facts(recording));
    }
}

#[test]
fn the_three_recorded_calls_are_answered_abandoned_and_refused_busy() {
    for recording in APP_RECORDINGS {
        let facts: Vec<TelephonyFact> = facts(recording).into_iter().filter(is_call_fact).collect();
        let kinds: Vec<&str> = facts
            .iter()
            .map(|fact| match fact {
                TelephonyFact::CallerArrived { .. } => "CallerArrived",
                TelephonyFact::CallerLeft { .. } => "CallerLeft",
                TelephonyFact::AgentLegReady { .. } => "AgentLegReady",
                TelephonyFact::AgentLegRinging { .. } => "AgentLegRinging",
                TelephonyFact::AgentLegAnswered { .. } => "AgentLegAnswered",
                TelephonyFact::AgentLegFailed { .. } => "AgentLegFailed",
                TelephonyFact::AgentLegHungUp { .. } => "AgentLegHungUp",
                TelephonyFact::EndpointState { .. } => "EndpointState",
                TelephonyFact::ApplicationReplaced { .. } => "ApplicationReplaced",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                // 1: answered and bridged, agent hangs up first, then the caller (the
                // created leg enters Stasis before it is dialled).
                "CallerArrived",
                "AgentLegReady",
                "AgentLegRinging",
                "AgentLegAnswered",
                "AgentLegHungUp",
                "CallerLeft",
                // 2: abandoned while queued.
                "CallerArrived",
                "CallerLeft",
                // 3: the agent's phone answers 486 Busy, then the caller is hung up.
                "CallerArrived",
                "AgentLegRinging",
                "AgentLegFailed",
                "CallerLeft",
            ],
            "{recording}"
        );

        let TelephonyFact::CallerArrived {
            channel_id: first_call,
            caller_number,
            caller_name,
            ..
        } = &facts[0]
        else {
            panic!("{recording}: first fact is not an arrival");
        };
        assert_eq!(caller_number, "+15551230001", "{recording}");
        assert_eq!(caller_name, "Customer", "{recording}");
        let TelephonyFact::AgentLegAnswered {
            channel_id,
            inbound_channel_id,
            ..
        } = &facts[3]
        else {
            panic!("{recording}: fourth fact is not an answer");
        };
        assert_eq!(channel_id, "agent1-leg-1", "{recording}");
        assert_eq!(inbound_channel_id, first_call, "{recording}");

        let TelephonyFact::CallerArrived {
            channel_id: third_call,
            ..
        } = &facts[8]
        else {
            panic!("{recording}: ninth fact is not an arrival");
        };
        let TelephonyFact::AgentLegFailed {
            inbound_channel_id,
            outcome,
            ..
        } = &facts[10]
        else {
            panic!("{recording}: eleventh fact is not a failure");
        };
        assert_eq!(inbound_channel_id, third_call, "{recording}");
        assert_eq!(outcome, &AgentLegOutcome::Busy, "{recording}");
    }
}

#[test]
fn endpoint_subscriptions_report_the_phone_online_then_offline_once_each() {
    for recording in ["20-chansip-endpoint-sub", "22-pjsip-endpoint-sub"] {
        let states: Vec<(String, EndpointStateValue)> = facts(recording)
            .into_iter()
            .filter_map(|fact| match fact {
                TelephonyFact::EndpointState {
                    resource, state, ..
                } => Some((resource, state)),
                _ => None,
            })
            .collect();
        assert_eq!(
            states,
            [
                ("agent1".to_owned(), EndpointStateValue::Online),
                ("agent1".to_owned(), EndpointStateValue::Offline)
            ],
            "{recording}"
        );
    }
}

#[test]
fn feeding_every_event_twice_gives_the_same_facts() {
    for recording in RECORDINGS {
        let once = facts(recording);
        let doubled: Vec<AriEvent> = events(recording)
            .into_iter()
            .flat_map(|event| [event.clone(), event])
            .collect();
        let twice = translate_all(&mut translator_for(recording), &doubled);
        assert_eq!(twice, once, "{recording}");
    }
}

#[test]
fn replaying_a_whole_recording_adds_no_call_facts() {
    for recording in RECORDINGS {
        let events = events(recording);
        let mut translator = translator_for(recording);
        translate_all(&mut translator, &events);
        let replayed = translate_all(&mut translator, &events);
        assert!(
            !replayed.iter().any(is_call_fact),
            "{recording}: {replayed:?}"
        );
    }
}

#[test]
fn forgetting_every_channel_leaves_nothing_tracked() {
    let recording = "22-pjsip-endpoint-sub";
    let mut translator = translator_for(recording);
    let facts = translate_all(&mut translator, &events(recording));
    // Three inbound calls and two agent legs.
    assert_eq!(translator.tracked_channels(), 5);
    for fact in facts {
        match fact {
            TelephonyFact::CallerLeft { channel_id, .. }
            | TelephonyFact::AgentLegHungUp { channel_id, .. }
            | TelephonyFact::AgentLegFailed { channel_id, .. } => translator.forget(&channel_id),
            _ => {}
        }
    }
    assert_eq!(translator.tracked_channels(), 0);
}

#[test]
fn truncated_or_retyped_recorded_frames_never_panic_the_decoder_or_the_translator() {
    let mut translator = Translator::new();
    for recording in RECORDINGS {
        for line in read_lines(&format!("{recording}.events.jsonl")) {
            let boundaries: Vec<usize> = line.char_indices().map(|(index, _)| index).collect();
            for cut in boundaries.iter().step_by(boundaries.len() / 25 + 1) {
                assert!(decode_event(&line[..*cut]).is_err());
            }
            // Every frame under every known type name: most are malformed, none may panic.
            let Ok(Value::Object(object)) = serde_json::from_str::<Value>(&line) else {
                panic!("{recording}: recorded line is not a json object");
            };
            for type_name in [
                "StasisStart",
                "StasisEnd",
                "Dial",
                "ChannelDestroyed",
                "ChannelHangupRequest",
                "ChannelEnteredBridge",
                "EndpointStateChange",
                "PeerStatusChange",
                "PlaybackFinished",
                "ApplicationReplaced",
            ] {
                let mut retyped = object.clone();
                retyped.insert("type".into(), Value::String(type_name.into()));
                if let Ok(event) = decode_event(&Value::Object(retyped).to_string()) {
                    translator.translate(&event);
                }
            }
        }
    }
}
