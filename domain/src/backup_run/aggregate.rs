use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use crate::ids::CustomerId;

use super::command::BackupRunCommand;
use super::error::BackupRunError;
use super::event::{BackupRunEvent, RunResult};
use super::{MAX_LARGEST_CHANGES, MAX_MESSAGE_BYTES, MAX_TEXT_CHARS};

/// Where a run is. Every status but `Running` is finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    /// Still running past its grace: counts as failed.
    TimedOut,
}

/// One backup run of a customer (PRODUCT §6).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupRun {
    /// `None` until the run is reported.
    status: Option<RunStatus>,
    customer_id: Option<CustomerId>,
    client_run_id: Option<String>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    result: Option<RunResult>,
    exit_status: Option<i32>,
    /// What a failed run reported (its output's last bytes).
    #[serde(default)]
    message: Option<String>,
    expired: bool,
}

impl BackupRun {
    /// `None` for a run never reported.
    pub fn status(&self) -> Option<RunStatus> {
        self.status
    }

    pub fn is_finished(&self) -> bool {
        matches!(
            self.status,
            Some(RunStatus::Succeeded | RunStatus::Failed | RunStatus::TimedOut)
        )
    }

    pub fn customer_id(&self) -> Option<CustomerId> {
        self.customer_id
    }

    pub fn client_run_id(&self) -> Option<&str> {
        self.client_run_id.as_deref()
    }

    /// `None` when the run was never reported as started.
    pub fn started_at(&self) -> Option<DateTime<Utc>> {
        self.started_at
    }

    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.finished_at
    }

    /// Whole seconds from start to finish, when both are known.
    pub fn duration_secs(&self) -> Option<u64> {
        Some(whole_secs(self.started_at?, self.finished_at?))
    }

    /// What the run reported on success.
    pub fn result(&self) -> Option<&RunResult> {
        self.result.as_ref()
    }

    /// The exit status a failed run reported.
    pub fn exit_status(&self) -> Option<i32> {
        self.exit_status
    }

    /// The message a failed run reported (the last [`MAX_MESSAGE_BYTES`] of its output).
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Whether retention let this run go.
    pub fn expired(&self) -> bool {
        self.expired
    }

    fn decide(&self, command: BackupRunCommand) -> Result<Vec<BackupRunEvent>, BackupRunError> {
        match command {
            BackupRunCommand::Start {
                customer_id,
                client_run_id,
                at,
            } => match self.status {
                None => Ok(vec![BackupRunEvent::Started {
                    customer_id,
                    client_run_id,
                    at,
                }]),
                Some(status) => {
                    self.check_customer(customer_id)?;
                    if status == RunStatus::Running {
                        Ok(vec![])
                    } else {
                        Err(BackupRunError::AlreadyFinished)
                    }
                }
            },
            BackupRunCommand::Succeed {
                customer_id,
                client_run_id,
                at,
                result,
            } => {
                if self.status.is_some() {
                    self.check_customer(customer_id)?;
                }
                match self.status {
                    None | Some(RunStatus::Running) => Ok(vec![BackupRunEvent::Succeeded {
                        customer_id,
                        client_run_id: self.client_run_id.clone().or(client_run_id),
                        started_at: self.started_at,
                        duration_secs: self.duration_until(at),
                        result: bounded_result(result),
                        at,
                    }]),
                    Some(RunStatus::Succeeded) => Ok(vec![]),
                    Some(RunStatus::Failed | RunStatus::TimedOut) => {
                        Err(BackupRunError::AlreadyFinished)
                    }
                }
            }
            BackupRunCommand::Fail {
                customer_id,
                client_run_id,
                at,
                exit_status,
                message,
            } => {
                if self.status.is_some() {
                    self.check_customer(customer_id)?;
                }
                match self.status {
                    None | Some(RunStatus::Running) => Ok(vec![BackupRunEvent::Failed {
                        customer_id,
                        client_run_id: self.client_run_id.clone().or(client_run_id),
                        started_at: self.started_at,
                        duration_secs: self.duration_until(at),
                        exit_status,
                        message: message.map(|text| keep_last_bytes(text, MAX_MESSAGE_BYTES)),
                        at,
                    }]),
                    Some(RunStatus::Failed | RunStatus::TimedOut) => Ok(vec![]),
                    Some(RunStatus::Succeeded) => Err(BackupRunError::AlreadyFinished),
                }
            }
            BackupRunCommand::AppendLog {
                customer_id,
                at,
                text,
            } => {
                if self.status.is_none() {
                    return Err(BackupRunError::NotFound);
                }
                self.check_customer(customer_id)?;
                let truncated = text.chars().nth(MAX_TEXT_CHARS).is_some();
                Ok(vec![BackupRunEvent::LogAppended {
                    text: truncate_chars(text, MAX_TEXT_CHARS),
                    truncated,
                    at,
                }])
            }
            BackupRunCommand::TimeOut { at } => match self.status {
                None => Err(BackupRunError::NotFound),
                Some(RunStatus::Running) => Ok(vec![BackupRunEvent::TimedOut {
                    started_at: self.started_at.unwrap_or(at),
                    at,
                }]),
                Some(RunStatus::TimedOut) => Ok(vec![]),
                Some(RunStatus::Succeeded | RunStatus::Failed) => {
                    Err(BackupRunError::AlreadyFinished)
                }
            },
            BackupRunCommand::Expire { at, reason } => match self.status {
                None => Err(BackupRunError::NotFound),
                Some(RunStatus::Running) => Err(BackupRunError::NotFinished),
                Some(_) if self.expired => Ok(vec![]),
                Some(_) => Ok(vec![BackupRunEvent::Expired { reason, at }]),
            },
        }
    }

    fn check_customer(&self, customer_id: CustomerId) -> Result<(), BackupRunError> {
        if self.customer_id == Some(customer_id) {
            Ok(())
        } else {
            Err(BackupRunError::CustomerMismatch)
        }
    }

    fn duration_until(&self, finished_at: DateTime<Utc>) -> Option<u64> {
        self.started_at
            .map(|started_at| whole_secs(started_at, finished_at))
    }
}

fn whole_secs(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_seconds()).unwrap_or(0)
}

/// `text` cut to at most `max_chars` characters (never inside a character).
fn truncate_chars(mut text: String, max_chars: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(max_chars) {
        text.truncate(cut);
    }
    text
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

/// `result` with its list of largest changes cut to [`MAX_LARGEST_CHANGES`].
fn bounded_result(mut result: RunResult) -> RunResult {
    if let RunResult::Manifest {
        changes: Some(changes),
        ..
    } = &mut result
    {
        changes.largest.truncate(MAX_LARGEST_CHANGES);
    }
    result
}

impl Aggregate for BackupRun {
    const TYPE: &'static str = "backup_run";
    type Command = BackupRunCommand;
    type Event = BackupRunEvent;
    type Error = BackupRunError;
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
            BackupRunEvent::Started {
                customer_id,
                client_run_id,
                at,
            } => {
                self.status = Some(RunStatus::Running);
                self.customer_id = Some(customer_id);
                self.client_run_id = client_run_id;
                self.started_at = Some(at);
            }
            BackupRunEvent::Succeeded {
                customer_id,
                client_run_id,
                started_at,
                result,
                at,
                ..
            } => {
                self.status = Some(RunStatus::Succeeded);
                self.customer_id = Some(customer_id);
                self.client_run_id = client_run_id;
                self.started_at = started_at;
                self.finished_at = Some(at);
                self.result = Some(result);
            }
            BackupRunEvent::Failed {
                customer_id,
                client_run_id,
                started_at,
                exit_status,
                message,
                at,
                ..
            } => {
                self.status = Some(RunStatus::Failed);
                self.message = message;
                self.customer_id = Some(customer_id);
                self.client_run_id = client_run_id;
                self.started_at = started_at;
                self.finished_at = Some(at);
                self.exit_status = exit_status;
            }
            BackupRunEvent::LogAppended { .. } => {}
            BackupRunEvent::TimedOut { started_at, at } => {
                self.status = Some(RunStatus::TimedOut);
                self.started_at = Some(started_at);
                self.finished_at = Some(at);
            }
            BackupRunEvent::Expired { .. } => {
                self.expired = true;
            }
        }
    }
}
