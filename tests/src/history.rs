//! A generated, valid history: every event comes out of the domain aggregates' own `handle`,
//! so the log holds only what the real system could write. Deterministic for a seed.
//!
//! A day: agents log in at 08:00, calls arrive 08:10–17:30 (some rejected, abandoned while
//! queued or ringing, offers missed then re-offered, answered calls with wrap-up), requests are
//! opened, updated, solved (some late, some reopened, some closed), backups run at night (some
//! fail or go missing: overdue, then recovered), and agents log off at 18:00.

use anyhow::{anyhow, Context as _};
use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use domain::backup_run::{BackupRun, BackupRunCommand, ChangeStats, RunResult};
use domain::call::{Call, CallCommand, OfferFailure, RejectReason};
use domain::customer::{Customer, CustomerCommand};
use domain::ids::{CallId, CustomerId, WorkerId};
use domain::plan::{BackupPlan, RetentionPolicy, Schedule};
use domain::request::{Request, RequestCommand};
use domain::sla::SlaPolicy;
use domain::values::{
    EmailAddress, Endpoint, PersonName, PhoneNumber, Priority, RequestMessage, RequestType, Role,
};
use domain::worker::{MissReason, Worker, WorkerCommand};
use journal::{Actor, EventStore, Metadata, NewEvent};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// The shape of a generated history.
#[derive(Clone, Debug)]
pub struct HistoryConfig {
    pub seed: u64,
    pub first_day: DateTime<Utc>,
    pub days: i64,
    pub workers: usize,
    pub customers: usize,
    pub calls_per_day: usize,
    pub requests_per_day: usize,
}

impl HistoryConfig {
    /// About 100 000 events over four weeks around the Europe/Paris DST change of 2024-10-27.
    pub fn large() -> Self {
        Self {
            seed: 7,
            first_day: Utc.with_ymd_and_hms(2024, 10, 14, 0, 0, 0).unwrap(),
            days: 28,
            workers: 24,
            customers: 400,
            calls_per_day: 410,
            requests_per_day: 30,
        }
    }

    /// A couple of thousand events.
    pub fn small() -> Self {
        Self {
            seed: 11,
            first_day: Utc.with_ymd_and_hms(2024, 10, 26, 0, 0, 0).unwrap(),
            days: 2,
            workers: 5,
            customers: 30,
            calls_per_day: 60,
            requests_per_day: 10,
        }
    }
}

struct Tracked<A> {
    id: String,
    state: A,
    version: i64,
}

impl<A: Aggregate<Services = ()>> Tracked<A> {
    fn new(id: Uuid) -> Self {
        Self {
            id: id.to_string(),
            state: A::default(),
            version: 0,
        }
    }

    async fn run(&mut self, out: &mut Vec<NewEvent>, command: A::Command) -> anyhow::Result<()> {
        let sink = EventSink::default();
        self.state
            .handle(command, &(), &sink)
            .await
            .map_err(|error| anyhow!("{} {} refused a command: {error}", A::TYPE, self.id))?;
        for event in sink.collect().await {
            self.version += 1;
            out.push(NewEvent {
                event_id: Uuid::now_v7(),
                aggregate_type: A::TYPE.to_owned(),
                aggregate_id: self.id.clone(),
                sequence: self.version,
                event_type: event.event_type(),
                event_version: event.event_version(),
                payload: serde_json::to_value(&event)?,
            });
        }
        Ok(())
    }
}

struct Agent {
    id: WorkerId,
    aggregate: Tracked<Worker>,
    free_at: DateTime<Utc>,
}

struct Client {
    id: CustomerId,
    aggregate: Tracked<Customer>,
    phone: String,
    has_plan: bool,
    overdue: bool,
    erased: bool,
    last_success: Option<DateTime<Utc>>,
}

fn secs(value: i64) -> Duration {
    Duration::seconds(value)
}

/// `count` more customers registered at `at` (numbered from `first`, phones `+3362…`, apart
/// from the history's `+3361…`): bulk rows for the list benchmarks (P7).
pub async fn customers(
    first: usize,
    count: usize,
    at: DateTime<Utc>,
) -> anyhow::Result<Vec<NewEvent>> {
    let mut out = Vec::with_capacity(count);
    for index in first..first + count {
        let mut aggregate = Tracked::<Customer>::new(Uuid::new_v4());
        aggregate
            .run(
                &mut out,
                CustomerCommand::Register {
                    name: PersonName::parse(&format!("Bulk customer {index}"))?,
                    phones: vec![PhoneNumber::parse_e164(&format!("+3362{index:07}"))?],
                    email: Some(EmailAddress::parse(&format!("bulk{index}@example.test"))?),
                    notes: String::new(),
                    avatar_url: None,
                    at: at + secs(index as i64),
                },
            )
            .await?;
    }
    Ok(out)
}

/// Generates the events of a history, in an order the real system could have written them.
pub async fn generate(config: &HistoryConfig) -> anyhow::Result<Vec<NewEvent>> {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut out = Vec::new();
    let setup = config.first_day - Duration::days(1);

    let mut agents = Vec::new();
    for index in 0..config.workers {
        let id = WorkerId(Uuid::new_v4());
        let mut aggregate = Tracked::<Worker>::new(id.as_uuid());
        aggregate
            .run(
                &mut out,
                WorkerCommand::Register {
                    name: PersonName::parse(&format!("Agent {index}"))?,
                    email: EmailAddress::parse(&format!("agent{index}@savecorp.test"))?,
                    role: if index == 0 { Role::Admin } else { Role::Agent },
                    endpoint: Some(Endpoint::parse(&format!("PJSIP/{}", 2000 + index))?),
                    at: setup,
                },
            )
            .await?;
        agents.push(Agent {
            id,
            aggregate,
            free_at: setup,
        });
    }

    let mut clients = Vec::new();
    for index in 0..config.customers {
        let id = CustomerId(Uuid::new_v4());
        let mut aggregate = Tracked::<Customer>::new(id.as_uuid());
        let phone = format!("+3361{:07}", index);
        aggregate
            .run(
                &mut out,
                CustomerCommand::Register {
                    name: PersonName::parse(&format!("Customer {index}"))?,
                    phones: vec![PhoneNumber::parse_e164(&phone)?],
                    email: Some(EmailAddress::parse(&format!("c{index}@example.test"))?),
                    notes: String::new(),
                    avatar_url: None,
                    at: setup + secs(index as i64),
                },
            )
            .await?;
        let has_plan = index % 5 < 2;
        if has_plan {
            aggregate
                .run(
                    &mut out,
                    CustomerCommand::SetBackupPlan {
                        plan: BackupPlan {
                            schedule: Schedule::Period {
                                period_secs: 86_400,
                                grace_secs: 3_600,
                            },
                            retention: RetentionPolicy::default(),
                            report_recipients: vec![format!("c{index}@example.test")],
                            paused: false,
                        },
                        at: setup + secs(3_600 + index as i64),
                    },
                )
                .await?;
        }
        clients.push(Client {
            id,
            aggregate,
            phone,
            has_plan,
            overdue: false,
            erased: false,
            last_success: None,
        });
    }

    for day in 0..config.days {
        let midnight = config.first_day + Duration::days(day);
        backups_of_day(&mut out, &mut rng, &mut clients, midnight).await?;
        for agent in &mut agents {
            let at = midnight + secs(8 * 3600 + rng.gen_range(0..600));
            agent
                .aggregate
                .run(
                    &mut out,
                    WorkerCommand::GoAvailable {
                        forced_by: None,
                        at,
                    },
                )
                .await?;
            agent.free_at = at;
        }
        let mut arrivals: Vec<i64> = (0..config.calls_per_day)
            .map(|_| rng.gen_range(8 * 3600 + 600..17 * 3600 + 1800))
            .collect();
        arrivals.sort_unstable();
        for offset in arrivals {
            let queued_at =
                midnight + secs(offset) + Duration::milliseconds(rng.gen_range(0..1000));
            one_call(&mut out, &mut rng, &mut agents, &clients, queued_at).await?;
        }
        for agent in &mut agents {
            let at = (midnight + secs(18 * 3600)).max(agent.free_at + secs(1));
            agent
                .aggregate
                .run(
                    &mut out,
                    WorkerCommand::GoOffline {
                        forced_by: None,
                        at,
                    },
                )
                .await?;
        }
        for _ in 0..config.requests_per_day {
            one_request(&mut out, &mut rng, &agents, &clients, midnight).await?;
        }
        // Now and then a customer changes numbers or asks to be erased.
        if day % 7 == 3 {
            let index = rng.gen_range(0..clients.len());
            let client = &mut clients[index];
            if !client.erased {
                let at = midnight + secs(12 * 3600);
                if day % 14 == 3 {
                    client
                        .aggregate
                        .run(&mut out, CustomerCommand::Erase { at })
                        .await?;
                    client.erased = true;
                } else {
                    let phone = format!("+3362{:07}", index);
                    client
                        .aggregate
                        .run(
                            &mut out,
                            CustomerCommand::Update {
                                name: None,
                                phones: Some(vec![PhoneNumber::parse_e164(&phone)?]),
                                email: None,
                                notes: Some("moved".to_owned()),
                                avatar_url: None,
                                at,
                            },
                        )
                        .await?;
                    client.phone = phone;
                }
            }
        }
    }
    Ok(out)
}

async fn one_call(
    out: &mut Vec<NewEvent>,
    rng: &mut StdRng,
    agents: &mut [Agent],
    clients: &[Client],
    queued_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let call_id = CallId(Uuid::new_v4());
    let mut call = Tracked::<Call>::new(call_id.as_uuid());
    let known = rng.gen_bool(0.7);
    let client = &clients[rng.gen_range(0..clients.len())];
    let (caller_number, customer_id) = if known && !client.erased {
        (client.phone.clone(), Some(client.id))
    } else {
        (format!("+3370{:07}", rng.gen_range(0..9_999_999)), None)
    };
    call.run(
        out,
        CallCommand::Queue {
            caller_number,
            caller_name: None,
            customer_id,
            channel_id: format!("chan-{}", call_id.as_uuid().simple()),
            queue: if rng.gen_bool(0.8) { "default" } else { "vip" }.to_owned(),
            at: queued_at,
        },
    )
    .await?;
    let roll: f64 = rng.gen();
    if roll < 0.03 {
        let at = queued_at + secs(rng.gen_range(1..600));
        return call
            .run(
                out,
                CallCommand::Reject {
                    reason: RejectReason::MaxWaitExceeded,
                    at,
                },
            )
            .await;
    }
    if roll < 0.10 {
        let at = queued_at + Duration::milliseconds(rng.gen_range(500..90_000));
        return call.run(out, CallCommand::CallerHangUp { at }).await;
    }
    if roll < 0.11 {
        let at = queued_at + secs(rng.gen_range(1..120));
        return call
            .run(
                out,
                CallCommand::EndBySystem {
                    reason: "channel gone".to_owned(),
                    at,
                },
            )
            .await;
    }
    let mut now = queued_at + Duration::milliseconds(rng.gen_range(0..45_000));
    for _attempt in 0..3 {
        let free: Vec<usize> = (0..agents.len())
            .filter(|index| agents[*index].free_at <= now)
            .collect();
        if free.is_empty() {
            break;
        }
        let agent = &mut agents[free[rng.gen_range(0..free.len())]];
        call.run(
            out,
            CallCommand::Offer {
                agent: agent.id,
                agent_channel_id: format!("agent-{}", Uuid::new_v4().simple()),
                at: now,
            },
        )
        .await?;
        agent
            .aggregate
            .run(out, WorkerCommand::Offer { call_id, at: now })
            .await?;
        let outcome: f64 = rng.gen();
        if outcome < 0.12 {
            let missed_at = now + secs(20);
            call.run(
                out,
                CallCommand::FailOffer {
                    agent: agent.id,
                    outcome: OfferFailure::NoAnswer,
                    at: missed_at,
                },
            )
            .await?;
            agent
                .aggregate
                .run(
                    out,
                    WorkerCommand::MissOffer {
                        call_id,
                        reason: MissReason::NoAnswer,
                        at: missed_at,
                    },
                )
                .await?;
            let back = missed_at + secs(rng.gen_range(30..300));
            agent
                .aggregate
                .run(
                    out,
                    WorkerCommand::GoAvailable {
                        forced_by: None,
                        at: back,
                    },
                )
                .await?;
            agent.free_at = back;
            now = missed_at + Duration::milliseconds(rng.gen_range(100..3000));
            continue;
        }
        if outcome < 0.16 {
            let left = now + secs(rng.gen_range(1..15));
            call.run(out, CallCommand::CallerHangUp { at: left })
                .await?;
            agent
                .aggregate
                .run(out, WorkerCommand::WithdrawOffer { call_id, at: left })
                .await?;
            agent.free_at = left;
            return Ok(());
        }
        let answered = now + Duration::milliseconds(rng.gen_range(1500..12_000));
        call.run(
            out,
            CallCommand::AnswerOffer {
                agent: agent.id,
                at: answered,
            },
        )
        .await?;
        agent
            .aggregate
            .run(
                out,
                WorkerCommand::AnswerOffer {
                    call_id,
                    at: answered,
                },
            )
            .await?;
        let ended = answered + secs(rng.gen_range(20..900));
        if rng.gen_bool(0.5) {
            call.run(
                out,
                CallCommand::AgentHangUp {
                    agent: agent.id,
                    at: ended,
                },
            )
            .await?;
        } else {
            call.run(out, CallCommand::CallerHangUp { at: ended })
                .await?;
        }
        let wrap_up_secs = [0u32, 10, 30][rng.gen_range(0..3)];
        agent
            .aggregate
            .run(
                out,
                WorkerCommand::EndCall {
                    call_id,
                    wrap_up_secs,
                    at: ended,
                },
            )
            .await?;
        let free_at = ended + secs(i64::from(wrap_up_secs));
        if wrap_up_secs > 0 {
            agent
                .aggregate
                .run(out, WorkerCommand::FinishWrapUp { at: free_at })
                .await?;
        }
        agent.free_at = free_at + secs(1);
        return Ok(());
    }
    // Nobody (left) to take it: the caller gives up.
    call.run(out, CallCommand::CallerHangUp { at: now + secs(5) })
        .await
}

async fn one_request(
    out: &mut Vec<NewEvent>,
    rng: &mut StdRng,
    agents: &[Agent],
    clients: &[Client],
    midnight: DateTime<Utc>,
) -> anyhow::Result<()> {
    let client = &clients[rng.gen_range(0..clients.len())];
    if client.erased {
        return Ok(());
    }
    let mut request = Tracked::<Request>::new(Uuid::new_v4());
    let opened_at = midnight + secs(rng.gen_range(8 * 3600..18 * 3600));
    let by = Some(agents[rng.gen_range(0..agents.len())].id);
    let priority = [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ][rng.gen_range(0..4)];
    let explicit = rng
        .gen_bool(0.2)
        .then(|| opened_at + secs(rng.gen_range(3600..5 * 86_400)));
    request
        .run(
            out,
            RequestCommand::Open {
                customer_id: client.id,
                call_id: None,
                message: RequestMessage::parse("The nightly backup reports an error")?,
                priority,
                request_type: RequestType::Incident,
                assignee: None,
                due_at: explicit,
                sla: SlaPolicy::default(),
                opened_by: by,
                at: opened_at,
            },
        )
        .await?;
    let mut now = opened_at + secs(rng.gen_range(60..7200));
    if rng.gen_bool(0.3) {
        request
            .run(
                out,
                RequestCommand::Update {
                    message: None,
                    priority: Some(Priority::High),
                    request_type: None,
                    assignee: Some(by),
                    due_at: None,
                    by,
                    at: now,
                },
            )
            .await?;
    }
    if rng.gen_bool(0.15) {
        return Ok(());
    }
    if rng.gen_bool(0.2) {
        now += secs(600);
        request
            .run(out, RequestCommand::SetPending { by, at: now })
            .await?;
    }
    let solve_at = now + secs(rng.gen_range(1800..4 * 86_400));
    let due_at = request
        .state
        .due_at()
        .context("an opened request has a due date")?;
    if solve_at > due_at && rng.gen_bool(0.5) {
        request
            .run(
                out,
                RequestCommand::RaiseOverdue {
                    at: due_at + secs(1),
                },
            )
            .await?;
    }
    request
        .run(out, RequestCommand::Solve { by, at: solve_at })
        .await?;
    if rng.gen_bool(0.2) {
        request
            .run(
                out,
                RequestCommand::Reopen {
                    by,
                    at: solve_at + secs(3600),
                },
            )
            .await?;
        request
            .run(
                out,
                RequestCommand::Solve {
                    by,
                    at: solve_at + secs(7200),
                },
            )
            .await?;
    }
    if rng.gen_bool(0.4) {
        request
            .run(
                out,
                RequestCommand::Close {
                    by,
                    at: solve_at + secs(86_400),
                },
            )
            .await?;
    }
    Ok(())
}

async fn backups_of_day(
    out: &mut Vec<NewEvent>,
    rng: &mut StdRng,
    clients: &mut [Client],
    midnight: DateTime<Utc>,
) -> anyhow::Result<()> {
    for client in clients
        .iter_mut()
        .filter(|client| client.has_plan && !client.erased)
    {
        let start = midnight + secs(2 * 3600 + rng.gen_range(0..1800));
        let roll: f64 = rng.gen();
        if roll < 0.03 {
            if !client.overdue {
                client
                    .aggregate
                    .run(
                        out,
                        CustomerCommand::MarkBackupOverdue {
                            expected_at: start,
                            at: start + secs(3600),
                        },
                    )
                    .await?;
                client.overdue = true;
            }
            continue;
        }
        let mut run = Tracked::<BackupRun>::new(Uuid::new_v4());
        run.run(
            out,
            BackupRunCommand::Start {
                customer_id: client.id,
                client_run_id: None,
                at: start,
            },
        )
        .await?;
        let end = start + secs(rng.gen_range(60..3600));
        if rng.gen_bool(0.2) {
            run.run(
                out,
                BackupRunCommand::AppendLog {
                    customer_id: client.id,
                    at: end,
                    text: "processed 1204 files".to_owned(),
                },
            )
            .await?;
        }
        if roll < 0.1 {
            run.run(
                out,
                BackupRunCommand::Fail {
                    customer_id: client.id,
                    client_run_id: None,
                    at: end,
                    exit_status: Some(1),
                    message: Some("disk full".to_owned()),
                },
            )
            .await?;
            continue;
        }
        run.run(
            out,
            BackupRunCommand::Succeed {
                customer_id: client.id,
                client_run_id: None,
                at: end,
                result: RunResult::Manifest {
                    digest: format!("{:016x}", rng.gen::<u64>()),
                    entries: rng.gen_range(100..10_000),
                    bytes: rng.gen_range(1_000_000..10_000_000_000),
                    changes: Some(ChangeStats {
                        created: rng.gen_range(0..50),
                        modified: rng.gen_range(0..50),
                        deleted: rng.gen_range(0..10),
                        unchanged: rng.gen_range(100..9000),
                        ..ChangeStats::default()
                    }),
                },
            },
        )
        .await?;
        if client.overdue {
            let downtime_secs = client
                .last_success
                .map_or(86_400, |last| (end - last).num_seconds().max(0) as u64);
            client
                .aggregate
                .run(
                    out,
                    CustomerCommand::MarkBackupRecovered {
                        downtime_secs,
                        at: end,
                    },
                )
                .await?;
            client.overdue = false;
        }
        client.last_success = Some(end);
        if rng.gen_bool(0.1) {
            run.run(
                out,
                BackupRunCommand::Expire {
                    at: end + secs(60),
                    reason: "beyond keep_last 7".to_owned(),
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// Appends `events` in order, `chunk` per statement, all recorded as done by the system.
/// Returns the log position of the last one (`START` when there are none).
pub async fn append(
    store: &EventStore,
    events: &[NewEvent],
    chunk: usize,
) -> anyhow::Result<journal::LogPosition> {
    let metadata = Metadata::new(Actor::System);
    let mut last = journal::LogPosition::START;
    for part in events.chunks(chunk.max(1)) {
        let appended = store.append(part, &metadata).await?;
        if let Some(position) = appended.last().map(|appended| appended.log_position) {
            last = last.max(position);
        }
    }
    Ok(last)
}

/// Every read-model table (and the projections' version rows), each as a JSON array of its
/// rows in a canonical order, for comparing two databases or two moments.
pub async fn read_models(
    pool: &sqlx::PgPool,
) -> anyhow::Result<std::collections::BTreeMap<String, serde_json::Value>> {
    let mut tables: Vec<&str> = projections::projector::all_projections()
        .iter()
        .flat_map(|projection| projection.tables().iter().copied())
        .collect();
    tables.push("projection_versions");
    let mut contents = std::collections::BTreeMap::new();
    for table in tables {
        let rows: serde_json::Value = sqlx::query_scalar(&format!(
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t::text), '[]'::jsonb) FROM {table} t"
        ))
        .fetch_one(pool)
        .await?;
        contents.insert(table.to_owned(), rows);
    }
    Ok(contents)
}
