use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::command::CustomerCommand;
use super::error::CustomerError;
use super::event::CustomerEvent;
use crate::backup_run::MAX_MESSAGE_BYTES;
use crate::ids::IngestTokenId;
use crate::plan::{BackupPlan, Schedule};
use crate::values::{Change, EmailAddress, PersonName, PhoneNumber};

const MAX_NOTES_CHARS: usize = 10_000;
const MAX_AVATAR_URL_LEN: usize = 2048;
const MIN_PERIOD_SECS: u64 = 60;
const MAX_GRACE_SECS: u64 = 7 * 24 * 3600;

/// The customer's personal data (dropped on erasure).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDetails {
    pub name: PersonName,
    /// E.164, at least one, no duplicates; the first is the main number.
    pub phones: Vec<PhoneNumber>,
    pub email: Option<EmailAddress>,
    pub notes: String,
    pub avatar_url: Option<String>,
}

/// An ingest token as the customer knows it: its id and a prefix of its hash, never the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestToken {
    pub token_id: IngestTokenId,
    pub hash_prefix: String,
    pub issued_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A customer of the backup business.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    registered: bool,
    erased: bool,
    details: Option<CustomerDetails>,
    backup_plan: Option<BackupPlan>,
    ingest_tokens: Vec<IngestToken>,
    /// When overdue: the expected time of the missed backup.
    overdue_since: Option<DateTime<Utc>>,
    /// When down because a run failed: when it failed.
    #[serde(default)]
    failed_since: Option<DateTime<Utc>>,
}

impl Customer {
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    pub fn is_erased(&self) -> bool {
        self.erased
    }

    /// The personal data; `None` before registration and after erasure.
    pub fn details(&self) -> Option<&CustomerDetails> {
        self.details.as_ref()
    }

    pub fn backup_plan(&self) -> Option<&BackupPlan> {
        self.backup_plan.as_ref()
    }

    /// Every token issued (revoked ones included), oldest first.
    pub fn ingest_tokens(&self) -> &[IngestToken] {
        &self.ingest_tokens
    }

    /// Whether this token id is issued to this customer and not revoked.
    pub fn accepts_ingest_token(&self, token_id: IngestTokenId) -> bool {
        self.ingest_tokens
            .iter()
            .any(|token| token.token_id == token_id && token.revoked_at.is_none())
    }

    pub fn is_backup_overdue(&self) -> bool {
        self.overdue_since.is_some()
    }

    /// The expected time of the missed backup, while overdue.
    pub fn backup_overdue_since(&self) -> Option<DateTime<Utc>> {
        self.overdue_since
    }

    /// When the run that put the backups down failed, while down for that reason.
    pub fn backup_failed_since(&self) -> Option<DateTime<Utc>> {
        self.failed_since
    }

    /// Whether an incident is open: overdue or failed, until the next success.
    pub fn is_backup_down(&self) -> bool {
        self.overdue_since.is_some() || self.failed_since.is_some()
    }

    fn decide(&self, command: CustomerCommand) -> Result<Vec<CustomerEvent>, CustomerError> {
        if self.erased {
            return Err(CustomerError::Erased);
        }
        if let CustomerCommand::Register {
            name,
            phones,
            email,
            notes,
            avatar_url,
            at,
        } = command
        {
            if self.registered {
                return Err(CustomerError::AlreadyRegistered);
            }
            check_phones(&phones)?;
            check_notes(&notes)?;
            check_avatar_url(avatar_url.as_deref())?;
            return Ok(vec![CustomerEvent::Registered {
                name,
                phones,
                email,
                notes,
                avatar_url,
                at,
            }]);
        }
        let Some(details) = &self.details else {
            return Err(CustomerError::NotRegistered);
        };
        let event = match command {
            CustomerCommand::Register { .. } => return Err(CustomerError::AlreadyRegistered),
            CustomerCommand::Update {
                name,
                phones,
                email,
                notes,
                avatar_url,
                at,
            } => {
                if let Some(phones) = &phones {
                    check_phones(phones)?;
                }
                if let Some(notes) = &notes {
                    check_notes(notes)?;
                }
                if let Some(avatar_url) = &avatar_url {
                    check_avatar_url(avatar_url.as_deref())?;
                }
                let name = name.and_then(|name| Change::between(details.name.clone(), name));
                let phones =
                    phones.and_then(|phones| Change::between(details.phones.clone(), phones));
                let email = email.and_then(|email| Change::between(details.email.clone(), email));
                let notes = notes.and_then(|notes| Change::between(details.notes.clone(), notes));
                let avatar_url = avatar_url
                    .and_then(|avatar_url| Change::between(details.avatar_url.clone(), avatar_url));
                if name.is_none()
                    && phones.is_none()
                    && email.is_none()
                    && notes.is_none()
                    && avatar_url.is_none()
                {
                    return Ok(vec![]);
                }
                CustomerEvent::Updated {
                    name,
                    phones,
                    email,
                    notes,
                    avatar_url,
                    at,
                }
            }
            CustomerCommand::SetBackupPlan { plan, at } => {
                let plan = validated_plan(plan)?;
                if self.backup_plan.as_ref() == Some(&plan) {
                    return Ok(vec![]);
                }
                CustomerEvent::BackupPlanSet { plan, at }
            }
            CustomerCommand::IssueIngestToken {
                token_id,
                hash_prefix,
                at,
            } => {
                let hex_ok = hash_prefix.len() == 8
                    && hash_prefix
                        .chars()
                        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
                if !hex_ok {
                    return Err(CustomerError::InvalidHashPrefix);
                }
                if self.token(token_id).is_some() {
                    return Err(CustomerError::TokenAlreadyIssued);
                }
                CustomerEvent::IngestTokenIssued {
                    token_id,
                    hash_prefix,
                    at,
                }
            }
            CustomerCommand::RevokeIngestToken { token_id, at } => match self.token(token_id) {
                None => return Err(CustomerError::TokenNotFound),
                Some(token) if token.revoked_at.is_some() => return Ok(vec![]),
                Some(_) => CustomerEvent::IngestTokenRevoked { token_id, at },
            },
            CustomerCommand::MarkBackupOverdue { expected_at, at } => {
                if self.is_backup_down() {
                    return Ok(vec![]);
                }
                CustomerEvent::BackupOverdue { expected_at, at }
            }
            CustomerCommand::MarkBackupFailed {
                run_id,
                exit_status,
                message,
                failed_at,
                at,
            } => {
                if self.is_backup_down() {
                    return Ok(vec![]);
                }
                CustomerEvent::BackupFailed {
                    run_id,
                    exit_status,
                    message: message.map(|text| keep_last_bytes(text, MAX_MESSAGE_BYTES)),
                    failed_at,
                    at,
                }
            }
            CustomerCommand::MarkBackupRecovered { downtime_secs, at } => {
                if !self.is_backup_down() {
                    return Ok(vec![]);
                }
                CustomerEvent::BackupRecovered { downtime_secs, at }
            }
            CustomerCommand::Erase { at } => CustomerEvent::Erased { at },
        };
        Ok(vec![event])
    }

    fn token(&self, token_id: IngestTokenId) -> Option<&IngestToken> {
        self.ingest_tokens
            .iter()
            .find(|token| token.token_id == token_id)
    }
}

/// The last `max_bytes` of `text` at most (never starting inside a character).
fn keep_last_bytes(text: String, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text;
    }
    let mut cut = text.len() - max_bytes;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    text[cut..].to_owned()
}

fn check_phones(phones: &[PhoneNumber]) -> Result<(), CustomerError> {
    if phones.is_empty() {
        return Err(CustomerError::PhoneRequired);
    }
    for (index, phone) in phones.iter().enumerate() {
        if phones[..index].contains(phone) {
            return Err(CustomerError::DuplicatePhone {
                phone: phone.clone(),
            });
        }
    }
    Ok(())
}

fn check_notes(notes: &str) -> Result<(), CustomerError> {
    if notes.chars().count() > MAX_NOTES_CHARS {
        return Err(CustomerError::NotesTooLong);
    }
    Ok(())
}

fn check_avatar_url(avatar_url: Option<&str>) -> Result<(), CustomerError> {
    let Some(url) = avatar_url else {
        return Ok(());
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let valid = rest.is_some_and(|rest| !rest.is_empty())
        && url.len() <= MAX_AVATAR_URL_LEN
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(())
    } else {
        Err(CustomerError::InvalidAvatarUrl)
    }
}

fn invalid_plan(reason: impl Into<String>) -> CustomerError {
    CustomerError::InvalidBackupPlan {
        reason: reason.into(),
    }
}

/// Checks a plan and normalises its recipients (parsed, de-duplicated, order kept).
fn validated_plan(plan: BackupPlan) -> Result<BackupPlan, CustomerError> {
    let grace_secs = match &plan.schedule {
        Schedule::Period {
            period_secs,
            grace_secs,
        } => {
            if *period_secs < MIN_PERIOD_SECS {
                return Err(invalid_plan("period must be at least 60 seconds"));
            }
            *grace_secs
        }
        Schedule::Cron {
            expression,
            time_zone,
            grace_secs,
        } => {
            if expression.split_whitespace().count() != 5 {
                return Err(invalid_plan("cron expression must have 5 fields"));
            }
            if croner::Cron::new(expression).parse().is_err() {
                return Err(invalid_plan("cron expression is not valid"));
            }
            if time_zone.parse::<chrono_tz::Tz>().is_err() {
                return Err(invalid_plan("time zone is not a known iana time zone"));
            }
            *grace_secs
        }
    };
    if grace_secs > MAX_GRACE_SECS {
        return Err(invalid_plan("grace must be at most 7 days"));
    }
    let mut recipients: Vec<String> = Vec::with_capacity(plan.report_recipients.len());
    for raw in &plan.report_recipients {
        let email = EmailAddress::parse(raw)
            .map_err(|_| invalid_plan(format!("recipient {raw:?} is not an email address")))?;
        let email = email.to_string();
        if !recipients.contains(&email) {
            recipients.push(email);
        }
    }
    Ok(BackupPlan {
        report_recipients: recipients,
        ..plan
    })
}

impl Aggregate for Customer {
    const TYPE: &'static str = "customer";
    type Command = CustomerCommand;
    type Event = CustomerEvent;
    type Error = CustomerError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            CustomerEvent::Registered {
                name,
                phones,
                email,
                notes,
                avatar_url,
                at: _,
            } => {
                self.registered = true;
                self.details = Some(CustomerDetails {
                    name,
                    phones,
                    email,
                    notes,
                    avatar_url,
                });
            }
            CustomerEvent::Updated {
                name,
                phones,
                email,
                notes,
                avatar_url,
                at: _,
            } => {
                if let Some(details) = &mut self.details {
                    if let Some(name) = name {
                        details.name = name.to;
                    }
                    if let Some(phones) = phones {
                        details.phones = phones.to;
                    }
                    if let Some(email) = email {
                        details.email = email.to;
                    }
                    if let Some(notes) = notes {
                        details.notes = notes.to;
                    }
                    if let Some(avatar_url) = avatar_url {
                        details.avatar_url = avatar_url.to;
                    }
                }
            }
            CustomerEvent::BackupPlanSet { plan, at: _ } => self.backup_plan = Some(plan),
            CustomerEvent::IngestTokenIssued {
                token_id,
                hash_prefix,
                at,
            } => self.ingest_tokens.push(IngestToken {
                token_id,
                hash_prefix,
                issued_at: at,
                revoked_at: None,
            }),
            CustomerEvent::IngestTokenRevoked { token_id, at } => {
                for token in &mut self.ingest_tokens {
                    if token.token_id == token_id {
                        token.revoked_at = Some(at);
                    }
                }
            }
            CustomerEvent::BackupOverdue { expected_at, at: _ } => {
                self.overdue_since = Some(expected_at);
            }
            CustomerEvent::BackupFailed { failed_at, .. } => {
                self.failed_since = Some(failed_at);
            }
            CustomerEvent::BackupRecovered { .. } => {
                self.overdue_since = None;
                self.failed_since = None;
            }
            CustomerEvent::Erased { at: _ } => {
                self.erased = true;
                self.details = None;
                self.backup_plan = None;
                self.ingest_tokens.clear();
                self.overdue_since = None;
                self.failed_since = None;
            }
        }
    }
}
