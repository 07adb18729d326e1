use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{
    validate_service_level_threshold, validate_sla, CenterSettingsCommand, CenterSettingsEvent,
    QueueSettingsCommand, QueueSettingsEvent, QueueValues, SettingsError,
};
use crate::sla::SlaPolicy;

/// One queue's settings as stored; `None` until an admin first sets them (the environment's
/// values apply until then).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSettings {
    values: Option<QueueValues>,
    updated_at: Option<DateTime<Utc>>,
}

impl QueueSettings {
    /// The values last set, if any.
    pub fn values(&self) -> Option<&QueueValues> {
        self.values.as_ref()
    }

    /// When they were set.
    pub fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }

    fn decide(
        &self,
        command: QueueSettingsCommand,
    ) -> Result<Vec<QueueSettingsEvent>, SettingsError> {
        match command {
            QueueSettingsCommand::Update { values, at } => {
                values.validate()?;
                if self.values.as_ref() == Some(&values) {
                    return Ok(vec![]);
                }
                Ok(vec![QueueSettingsEvent::Updated { values, at }])
            }
        }
    }
}

impl Aggregate for QueueSettings {
    const TYPE: &'static str = "queue_settings";
    type Command = QueueSettingsCommand;
    type Event = QueueSettingsEvent;
    type Error = SettingsError;
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
            QueueSettingsEvent::Updated { values, at } => {
                self.values = Some(values);
                self.updated_at = Some(at);
            }
        }
    }
}

/// The call center's settings as stored: each group `None` until an admin first sets it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CenterSettings {
    request_policy: Option<SlaPolicy>,
    requests_updated_at: Option<DateTime<Utc>>,
    service_level_threshold_secs: Option<u32>,
    service_level_updated_at: Option<DateTime<Utc>>,
}

impl CenterSettings {
    /// The request policy last set, if any.
    pub fn request_policy(&self) -> Option<&SlaPolicy> {
        self.request_policy.as_ref()
    }

    pub fn requests_updated_at(&self) -> Option<DateTime<Utc>> {
        self.requests_updated_at
    }

    /// The service-level threshold T last set, in seconds, if any.
    pub fn service_level_threshold_secs(&self) -> Option<u32> {
        self.service_level_threshold_secs
    }

    pub fn service_level_updated_at(&self) -> Option<DateTime<Utc>> {
        self.service_level_updated_at
    }

    fn decide(
        &self,
        command: CenterSettingsCommand,
    ) -> Result<Vec<CenterSettingsEvent>, SettingsError> {
        match command {
            CenterSettingsCommand::UpdateRequestSettings { policy, at } => {
                validate_sla(&policy)?;
                if self.request_policy == Some(policy) {
                    return Ok(vec![]);
                }
                Ok(vec![CenterSettingsEvent::RequestSettingsUpdated {
                    policy,
                    at,
                }])
            }
            CenterSettingsCommand::UpdateServiceLevelThreshold { threshold_secs, at } => {
                validate_service_level_threshold(threshold_secs)?;
                if self.service_level_threshold_secs == Some(threshold_secs) {
                    return Ok(vec![]);
                }
                Ok(vec![CenterSettingsEvent::ServiceLevelThresholdUpdated {
                    threshold_secs,
                    at,
                }])
            }
        }
    }
}

impl Aggregate for CenterSettings {
    const TYPE: &'static str = "center_settings";
    type Command = CenterSettingsCommand;
    type Event = CenterSettingsEvent;
    type Error = SettingsError;
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
            CenterSettingsEvent::RequestSettingsUpdated { policy, at } => {
                self.request_policy = Some(policy);
                self.requests_updated_at = Some(at);
            }
            CenterSettingsEvent::ServiceLevelThresholdUpdated { threshold_secs, at } => {
                self.service_level_threshold_secs = Some(threshold_secs);
                self.service_level_updated_at = Some(at);
            }
        }
    }
}
