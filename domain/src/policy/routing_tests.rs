use std::collections::HashSet;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
}

fn call(n: u128, queued_secs: i64) -> WaitingCall {
    WaitingCall {
        call_id: CallId(Uuid::from_u128(n)),
        queued_at: at(queued_secs),
    }
}

fn agent(n: u128, availability: Availability, calls_today: u32) -> AgentView {
    AgentView {
        worker_id: WorkerId(Uuid::from_u128(n)),
        availability,
        calls_today,
    }
}

fn idle(secs: i64) -> Availability {
    Availability::Available {
        idle_since: at(secs),
    }
}

fn cid(n: u128) -> CallId {
    CallId(Uuid::from_u128(n))
}

fn wid(n: u128) -> WorkerId {
    WorkerId(Uuid::from_u128(n))
}

#[test]
fn assignment_follows_fifo_and_longest_idle_with_documented_tie_breaks() {
    struct Case {
        name: &'static str,
        calls: Vec<WaitingCall>,
        agents: Vec<AgentView>,
        expected: Vec<(CallId, WorkerId)>,
    }
    let cases = vec![
        Case {
            name: "oldest call to the agent idle the longest",
            calls: vec![call(1, 10), call(2, 5)],
            agents: vec![agent(1, idle(3), 0), agent(2, idle(1), 0)],
            expected: vec![(cid(2), wid(2)), (cid(1), wid(1))],
        },
        Case {
            name: "equal idle time goes to fewest calls today",
            calls: vec![call(1, 0)],
            agents: vec![agent(1, idle(0), 5), agent(2, idle(0), 2)],
            expected: vec![(cid(1), wid(2))],
        },
        Case {
            name: "equal idle time and calls go to the smallest worker id",
            calls: vec![call(1, 0)],
            agents: vec![agent(9, idle(0), 2), agent(3, idle(0), 2)],
            expected: vec![(cid(1), wid(3))],
        },
        Case {
            name: "equal queue time goes to the smallest call id",
            calls: vec![call(7, 0), call(4, 0)],
            agents: vec![agent(1, idle(0), 0)],
            expected: vec![(cid(4), wid(1))],
        },
        Case {
            name: "busy paused and offline agents get nothing",
            calls: vec![call(1, 0)],
            agents: vec![
                agent(1, Availability::Offered, 0),
                agent(2, Availability::OnCall, 0),
                agent(3, Availability::WrapUp, 0),
                agent(4, Availability::Paused, 0),
                agent(5, Availability::Offline, 0),
            ],
            expected: vec![],
        },
        Case {
            name: "more agents than calls leaves the most recently idle agent free",
            calls: vec![call(1, 0)],
            agents: vec![agent(1, idle(50), 0), agent(2, idle(40), 0)],
            expected: vec![(cid(1), wid(2))],
        },
        Case {
            name: "a repeated call id is assigned once",
            calls: vec![call(1, 0), call(1, 0)],
            agents: vec![agent(1, idle(0), 0), agent(2, idle(1), 0)],
            expected: vec![(cid(1), wid(1))],
        },
        Case {
            name: "a repeated agent gets one call",
            calls: vec![call(1, 0), call(2, 1)],
            agents: vec![agent(1, idle(0), 0), agent(1, idle(0), 0)],
            expected: vec![(cid(1), wid(1))],
        },
    ];
    for case in cases {
        assert_eq!(
            assign(&case.calls, &case.agents),
            case.expected,
            "{}",
            case.name
        );
    }
}

#[test]
fn arrival_is_refused_without_staff_then_when_full() {
    let staffed = [agent(1, Availability::OnCall, 0)];
    let cases = [
        (
            "no agent at all",
            0,
            100,
            vec![],
            ArrivalVerdict::Reject(ArrivalRejection::NoAgentsLoggedIn),
        ),
        (
            "only paused and offline agents",
            0,
            100,
            vec![
                agent(1, Availability::Paused, 0),
                agent(2, Availability::Offline, 0),
            ],
            ArrivalVerdict::Reject(ArrivalRejection::NoAgentsLoggedIn),
        ),
        (
            "unstaffed wins over full",
            100,
            100,
            vec![],
            ArrivalVerdict::Reject(ArrivalRejection::NoAgentsLoggedIn),
        ),
        (
            "busy agent and room left",
            99,
            100,
            staffed.to_vec(),
            ArrivalVerdict::Admit,
        ),
        (
            "queue holding max_len calls",
            100,
            100,
            staffed.to_vec(),
            ArrivalVerdict::Reject(ArrivalRejection::QueueFull),
        ),
        (
            "zero max length",
            0,
            0,
            staffed.to_vec(),
            ArrivalVerdict::Reject(ArrivalRejection::QueueFull),
        ),
        (
            "offered agent counts",
            0,
            1,
            vec![agent(1, Availability::Offered, 0)],
            ArrivalVerdict::Admit,
        ),
        (
            "wrap-up agent counts",
            0,
            1,
            vec![agent(1, Availability::WrapUp, 0)],
            ArrivalVerdict::Admit,
        ),
        (
            "available agent counts",
            0,
            1,
            vec![agent(1, idle(0), 0)],
            ArrivalVerdict::Admit,
        ),
    ];
    for (name, queue_len, max_len, agents, expected) in cases {
        assert_eq!(
            verdict_on_arrival(queue_len, max_len, &agents),
            expected,
            "{name}"
        );
    }
}

#[test]
fn calls_expire_at_exactly_max_wait() {
    let calls = [call(1, 0), call(2, 1), call(3, -5)];
    let max_wait = TimeDelta::seconds(600);
    assert_eq!(expired(&calls, at(594), max_wait), Vec::<CallId>::new());
    assert_eq!(expired(&calls, at(595), max_wait), vec![cid(3)]);
    assert_eq!(expired(&calls, at(600), max_wait), vec![cid(3), cid(1)]);
    assert_eq!(
        expired(&calls, at(601), max_wait),
        vec![cid(3), cid(1), cid(2)]
    );
    assert_eq!(next_expiry(&calls, max_wait), Some(at(595)));
    assert_eq!(next_expiry(&[], max_wait), None);
}

#[test]
fn waiting_calls_are_stranded_when_the_last_agent_pauses() {
    let calls = [call(2, 5), call(1, 7)];
    let last_agent_paused = [agent(1, Availability::Paused, 3)];
    let one_still_on_call = [
        agent(1, Availability::Paused, 3),
        agent(2, Availability::OnCall, 0),
    ];
    assert!(unstaffed(&last_agent_paused));
    assert_eq!(stranded(&calls, &last_agent_paused), vec![cid(2), cid(1)]);
    assert!(!unstaffed(&one_still_on_call));
    assert_eq!(stranded(&calls, &one_still_on_call), Vec::<CallId>::new());
}

fn availability_strategy() -> impl Strategy<Value = Availability> {
    prop_oneof![
        (0i64..20).prop_map(idle),
        Just(Availability::Offered),
        Just(Availability::OnCall),
        Just(Availability::WrapUp),
        Just(Availability::Paused),
        Just(Availability::Offline),
    ]
}

fn calls_strategy() -> impl Strategy<Value = Vec<WaitingCall>> {
    prop::collection::vec((0u128..30, 0i64..20), 0..15)
        .prop_map(|pairs| pairs.into_iter().map(|(n, t)| call(n, t)).collect())
}

fn agents_strategy() -> impl Strategy<Value = Vec<AgentView>> {
    prop::collection::vec((0u128..12, availability_strategy(), 0u32..4), 0..10)
        .prop_map(|rows| rows.into_iter().map(|(n, a, c)| agent(n, a, c)).collect())
}

proptest! {
    #[test]
    fn routing_never_offers_to_an_unavailable_agent_nor_twice(
        calls in calls_strategy(),
        agents in agents_strategy(),
    ) {
        let pairs = assign(&calls, &agents);
        let available: HashSet<WorkerId> = agents
            .iter()
            .filter(|a| matches!(a.availability, Availability::Available { .. }))
            .map(|a| a.worker_id)
            .collect();
        let mut used_agents = HashSet::new();
        let mut used_calls = HashSet::new();
        for (call_id, worker_id) in &pairs {
            prop_assert!(available.contains(worker_id));
            prop_assert!(used_agents.insert(*worker_id), "agent given two calls");
            prop_assert!(used_calls.insert(*call_id), "call offered twice");
        }
        let distinct_calls: HashSet<CallId> = calls.iter().map(|c| c.call_id).collect();
        prop_assert_eq!(pairs.len(), distinct_calls.len().min(available.len()));
    }

    #[test]
    fn routing_serves_the_oldest_calls_first(
        calls in calls_strategy(),
        agents in agents_strategy(),
    ) {
        let pairs = assign(&calls, &agents);
        let oldest_of = |id: CallId| {
            calls.iter().filter(|c| c.call_id == id).map(|c| c.queued_at).min()
        };
        let assigned: HashSet<CallId> = pairs.iter().map(|(c, _)| *c).collect();
        let newest_assigned = pairs.iter().filter_map(|(c, _)| oldest_of(*c).map(|t| (t, *c))).max();
        if let Some(newest_assigned) = newest_assigned {
            for call in &calls {
                let key = (oldest_of(call.call_id).unwrap_or(call.queued_at), call.call_id);
                if key < newest_assigned {
                    prop_assert!(assigned.contains(&call.call_id), "an older call was skipped");
                }
            }
        }
    }
}
