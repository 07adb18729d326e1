use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::DomainEvent;

use super::*;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0)
        .single()
        .expect("valid date")
        + chrono::TimeDelta::seconds(secs)
}

fn values() -> QueueValues {
    QueueValues {
        offer_timeout_secs: 15,
        wrap_up_secs: 5,
        max_wait_secs: 300,
        max_queue_length: 20,
        reject_announcement: Some("sound:vm-nobodyavail".into()),
    }
}

fn policy() -> SlaPolicy {
    SlaPolicy {
        urgent_secs: 2 * 3600,
        high_secs: 12 * 3600,
        normal_secs: 48 * 3600,
        low_secs: 5 * 24 * 3600,
        due_soon_threshold_secs: 6 * 3600,
    }
}

#[test]
fn a_queue_update_records_every_value() {
    TestFramework::<QueueSettings>::with(())
        .given_no_previous_events()
        .when(QueueSettingsCommand::Update {
            values: values(),
            at: at(0),
        })
        .then_expect_events(vec![QueueSettingsEvent::Updated {
            values: values(),
            at: at(0),
        }]);
}

#[test]
fn setting_the_values_in_force_records_nothing() {
    TestFramework::<QueueSettings>::with(())
        .given(vec![QueueSettingsEvent::Updated {
            values: values(),
            at: at(0),
        }])
        .when(QueueSettingsCommand::Update {
            values: values(),
            at: at(10),
        })
        .then_expect_events(vec![]);
    TestFramework::<CenterSettings>::with(())
        .given(vec![CenterSettingsEvent::ServiceLevelThresholdUpdated {
            threshold_secs: 30,
            at: at(0),
        }])
        .when(CenterSettingsCommand::UpdateServiceLevelThreshold {
            threshold_secs: 30,
            at: at(10),
        })
        .then_expect_events(vec![]);
}

/// A change that makes queue values invalid, and the field it names.
type BadQueueCase = (fn(&mut QueueValues), &'static str);

#[test]
fn bad_queue_values_are_refused_with_their_field() {
    let cases: Vec<BadQueueCase> = vec![
        (|v| v.offer_timeout_secs = 0, "offerTimeoutSecs"),
        (|v| v.offer_timeout_secs = 601, "offerTimeoutSecs"),
        (|v| v.wrap_up_secs = 3601, "wrapUpSecs"),
        (|v| v.max_wait_secs = 0, "maxWaitSecs"),
        (|v| v.max_queue_length = 100_001, "maxQueueLength"),
        (
            |v| v.reject_announcement = Some("http://x".into()),
            "rejectAnnouncement",
        ),
        (
            |v| v.reject_announcement = Some("sound:".into()),
            "rejectAnnouncement",
        ),
        (
            |v| v.reject_announcement = Some("sound:a b".into()),
            "rejectAnnouncement",
        ),
    ];
    for (change, field) in cases {
        let mut bad = values();
        change(&mut bad);
        let error = bad.validate().expect_err("refused");
        assert_eq!(error.field(), field, "{bad:?}");
        assert_eq!(error.code(), "VALIDATION");
        TestFramework::<QueueSettings>::with(())
            .given_no_previous_events()
            .when(QueueSettingsCommand::Update {
                values: bad,
                at: at(0),
            })
            .then_expect_error(error);
    }
    let mut fine = values();
    fine.wrap_up_secs = 0;
    fine.max_queue_length = 0;
    fine.reject_announcement = None;
    assert_eq!(fine.validate(), Ok(()));
}

#[test]
fn bad_request_policies_and_thresholds_are_refused() {
    let mut bad = policy();
    bad.urgent_secs = 59;
    assert_eq!(
        validate_sla(&bad).expect_err("refused").field(),
        "urgentSecs"
    );
    let mut bad = policy();
    bad.low_secs = MAX_ALLOWANCE_SECS + 1;
    assert_eq!(validate_sla(&bad).expect_err("refused").field(), "lowSecs");
    let mut bad = policy();
    bad.due_soon_threshold_secs = MAX_ALLOWANCE_SECS + 1;
    assert_eq!(
        validate_sla(&bad).expect_err("refused").field(),
        "dueSoonCapSecs"
    );
    assert_eq!(validate_sla(&SlaPolicy::default()), Ok(()));
    TestFramework::<CenterSettings>::with(())
        .given_no_previous_events()
        .when(CenterSettingsCommand::UpdateServiceLevelThreshold {
            threshold_secs: 0,
            at: at(0),
        })
        .then_expect_error(validate_service_level_threshold(0).expect_err("refused"));
    assert_eq!(
        validate_service_level_threshold(3601)
            .expect_err("refused")
            .field(),
        "thresholdSecs"
    );
}

#[test]
fn the_last_event_of_each_group_is_in_force() {
    use cqrs_es::Aggregate as _;
    let mut center = CenterSettings::default();
    assert_eq!(center.request_policy(), None);
    assert_eq!(center.service_level_threshold_secs(), None);
    center.apply(CenterSettingsEvent::ServiceLevelThresholdUpdated {
        threshold_secs: 30,
        at: at(0),
    });
    center.apply(CenterSettingsEvent::RequestSettingsUpdated {
        policy: policy(),
        at: at(5),
    });
    center.apply(CenterSettingsEvent::ServiceLevelThresholdUpdated {
        threshold_secs: 40,
        at: at(9),
    });
    assert_eq!(center.service_level_threshold_secs(), Some(40));
    assert_eq!(center.service_level_updated_at(), Some(at(9)));
    assert_eq!(center.request_policy(), Some(&policy()));
    assert_eq!(center.requests_updated_at(), Some(at(5)));
}

#[test]
fn every_event_keeps_its_stored_shape() {
    let queue = [QueueSettingsEvent::Updated {
        values: values(),
        at: at(0),
    }];
    for event in queue {
        assert_eq!(event.event_version(), "1");
        let stored = serde_json::to_string(&event).expect("serialises");
        let read_back: QueueSettingsEvent = serde_json::from_str(&stored).expect("deserialises");
        assert_eq!(read_back, event);
        let name = event.event_type();
        insta::assert_json_snapshot!(
            name.clone(),
            serde_json::json!({ "type": name, "payload": event })
        );
    }
    let center = [
        CenterSettingsEvent::RequestSettingsUpdated {
            policy: policy(),
            at: at(0),
        },
        CenterSettingsEvent::ServiceLevelThresholdUpdated {
            threshold_secs: 30,
            at: at(0),
        },
    ];
    for event in center {
        assert_eq!(event.event_version(), "1");
        let stored = serde_json::to_string(&event).expect("serialises");
        let read_back: CenterSettingsEvent = serde_json::from_str(&stored).expect("deserialises");
        assert_eq!(read_back, event);
        let name = event.event_type();
        insta::assert_json_snapshot!(
            name.clone(),
            serde_json::json!({ "type": name, "payload": event })
        );
    }
}
