use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use crate::ids::{CustomerId, WorkerId};

use super::command::CallCommand;
use super::error::CallError;
use super::event::{AbandonedDuring, CallEvent, EndedBy, OfferOutcome, OfferRef, RejectReason};

/// Where a call is in its lifecycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CallState {
    /// Not queued yet (no events).
    #[default]
    New,
    Queued,
    Offered {
        agent: WorkerId,
        attempt: u32,
    },
    Connected {
        agent: WorkerId,
    },
    Ended {
        by: EndedBy,
    },
    Abandoned {
        during: AbandonedDuring,
    },
    Rejected {
        reason: RejectReason,
    },
}

impl CallState {
    /// Whether the call has reached its one terminal state.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Ended { .. } | Self::Abandoned { .. } | Self::Rejected { .. }
        )
    }
}

/// One offer of the call to an agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferAttempt {
    pub attempt: u32,
    pub agent: WorkerId,
    pub agent_channel_id: String,
    pub offered_at: DateTime<Utc>,
    /// When the offer ended; `None` while ringing.
    pub ended_at: Option<DateTime<Utc>>,
    /// How the offer ended; `None` while ringing.
    pub outcome: Option<OfferOutcome>,
}

/// One inbound call (PRODUCT §4.1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    state: CallState,
    caller_number: String,
    caller_name: Option<String>,
    customer_id: Option<CustomerId>,
    channel_id: String,
    queue: String,
    queued_at: Option<DateTime<Utc>>,
    connected_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    /// The agent who took the call (set once connected).
    connected_agent: Option<WorkerId>,
    offers: Vec<OfferAttempt>,
    system_end_reason: Option<String>,
}

impl Call {
    pub fn state(&self) -> &CallState {
        &self.state
    }

    pub fn is_terminal(&self) -> bool {
        self.state.is_terminal()
    }

    pub fn caller_number(&self) -> &str {
        &self.caller_number
    }

    pub fn caller_name(&self) -> Option<&str> {
        self.caller_name.as_deref()
    }

    pub fn customer_id(&self) -> Option<CustomerId> {
        self.customer_id
    }

    /// The caller's channel id (empty before the call is queued).
    pub fn channel_id(&self) -> &str {
        &self.channel_id
    }

    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// When the call entered the queue; kept across failed offers (its FIFO position).
    pub fn queued_at(&self) -> Option<DateTime<Utc>> {
        self.queued_at
    }

    pub fn connected_at(&self) -> Option<DateTime<Utc>> {
        self.connected_at
    }

    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.ended_at
    }

    /// The agent the call is offered to or connected with, or who took it before it ended.
    pub fn agent(&self) -> Option<WorkerId> {
        match self.state {
            CallState::Offered { agent, .. } | CallState::Connected { agent } => Some(agent),
            _ => self.connected_agent,
        }
    }

    /// How many offers were made.
    pub fn attempts(&self) -> u32 {
        self.offers.last().map_or(0, |offer| offer.attempt)
    }

    /// Every offer made, oldest first.
    pub fn offers(&self) -> &[OfferAttempt] {
        &self.offers
    }

    /// The offer ringing now, if any.
    pub fn current_offer(&self) -> Option<&OfferAttempt> {
        match self.state {
            CallState::Offered { .. } => self.offers.last(),
            _ => None,
        }
    }

    /// Why the system ended the call, if it did.
    pub fn system_end_reason(&self) -> Option<&str> {
        self.system_end_reason.as_deref()
    }

    /// Queue wait in whole seconds: queued → connected, or queued → end for a call that was
    /// never connected. `None` while still waiting.
    pub fn wait_secs(&self) -> Option<u64> {
        let queued_at = self.queued_at?;
        let until = self.connected_at.or(self.ended_at)?;
        Some(whole_secs(queued_at, until))
    }

    /// Talk time in whole seconds: connected → ended. `None` unless both are known.
    pub fn talk_secs(&self) -> Option<u64> {
        Some(whole_secs(self.connected_at?, self.ended_at?))
    }

    fn decide(&self, command: CallCommand) -> Result<Vec<CallEvent>, CallError> {
        if !matches!(command, CallCommand::Queue { .. }) && self.state == CallState::New {
            return Err(CallError::NotFound);
        }
        let queued_at = self.queued_at.unwrap_or_default();
        match command {
            CallCommand::Queue {
                caller_number,
                caller_name,
                customer_id,
                channel_id,
                queue,
                at,
            } => match self.state {
                CallState::New => Ok(vec![CallEvent::Queued {
                    caller_number,
                    caller_name,
                    customer_id,
                    channel_id,
                    queue,
                    at,
                }]),
                _ if self.channel_id == channel_id => Ok(vec![]),
                _ => Err(CallError::AlreadyQueued),
            },
            CallCommand::Offer {
                agent,
                agent_channel_id,
                at,
            } => match self.state {
                CallState::Queued => Ok(vec![CallEvent::Offered {
                    attempt: self.attempts().saturating_add(1),
                    agent,
                    agent_channel_id,
                    at,
                }]),
                CallState::Offered { agent: offered, .. }
                    if offered == agent
                        && self.current_offer().map(|o| o.agent_channel_id.as_str())
                            == Some(agent_channel_id.as_str()) =>
                {
                    Ok(vec![])
                }
                CallState::Offered { .. } | CallState::Connected { .. } => {
                    Err(CallError::NotWaiting)
                }
                _ => Err(self.terminal_error()),
            },
            CallCommand::AnswerOffer { agent, at } => match self.state {
                CallState::Offered {
                    agent: offered,
                    attempt,
                } if offered == agent => Ok(vec![CallEvent::Connected {
                    attempt,
                    agent,
                    queued_at,
                    at,
                }]),
                CallState::Connected { agent: connected } if connected == agent => Ok(vec![]),
                CallState::Offered { .. } | CallState::Connected { .. } => {
                    Err(CallError::NotYourCall)
                }
                CallState::Queued => Err(CallError::NoOfferPending),
                _ => Err(self.terminal_error()),
            },
            CallCommand::FailOffer { agent, outcome, at } => match self.state {
                CallState::Offered {
                    agent: offered,
                    attempt,
                } if offered == agent => Ok(vec![CallEvent::OfferFailed {
                    attempt,
                    agent,
                    outcome,
                    at,
                }]),
                CallState::Offered { .. } => Err(CallError::NotYourCall),
                CallState::Queued | CallState::Connected { .. } => {
                    if self.latest_offer_of(agent).and_then(|o| o.outcome)
                        == Some(OfferOutcome::from(outcome))
                    {
                        Ok(vec![])
                    } else {
                        Err(CallError::NoOfferPending)
                    }
                }
                _ => Err(self.terminal_error()),
            },
            CallCommand::CallerHangUp { at } => match self.state {
                CallState::Queued => Ok(vec![CallEvent::Abandoned {
                    during: AbandonedDuring::Queued,
                    withdrawn_offer: None,
                    queued_at,
                    at,
                }]),
                CallState::Offered { agent, attempt } => Ok(vec![CallEvent::Abandoned {
                    during: AbandonedDuring::Ringing,
                    withdrawn_offer: Some(OfferRef { attempt, agent }),
                    queued_at,
                    at,
                }]),
                CallState::Connected { agent } => Ok(vec![CallEvent::Ended {
                    by: EndedBy::Caller,
                    reason: None,
                    agent: Some(agent),
                    withdrawn_offer: None,
                    queued_at,
                    connected_at: self.connected_at,
                    at,
                }]),
                CallState::Abandoned { .. }
                | CallState::Ended {
                    by: EndedBy::Caller,
                } => Ok(vec![]),
                _ => Err(self.terminal_error()),
            },
            CallCommand::AgentHangUp { agent, at } => match self.state {
                CallState::Connected { agent: connected } if connected == agent => {
                    Ok(vec![CallEvent::Ended {
                        by: EndedBy::Agent,
                        reason: None,
                        agent: Some(agent),
                        withdrawn_offer: None,
                        queued_at,
                        connected_at: self.connected_at,
                        at,
                    }])
                }
                CallState::Connected { .. } => Err(CallError::NotYourCall),
                CallState::Queued | CallState::Offered { .. } => Err(CallError::NotConnected),
                CallState::Ended { by: EndedBy::Agent } if self.connected_agent == Some(agent) => {
                    Ok(vec![])
                }
                _ => Err(self.terminal_error()),
            },
            CallCommand::EndBySystem { reason, at } => {
                let (agent, withdrawn_offer) = match self.state {
                    CallState::Queued => (None, None),
                    CallState::Offered { agent, attempt } => {
                        (None, Some(OfferRef { attempt, agent }))
                    }
                    CallState::Connected { agent } => (Some(agent), None),
                    CallState::Ended {
                        by: EndedBy::System,
                    } => return Ok(vec![]),
                    _ => return Err(self.terminal_error()),
                };
                Ok(vec![CallEvent::Ended {
                    by: EndedBy::System,
                    reason: Some(reason),
                    agent,
                    withdrawn_offer,
                    queued_at,
                    connected_at: self.connected_at,
                    at,
                }])
            }
            CallCommand::Reject { reason, at } => match self.state {
                CallState::Queued => Ok(vec![CallEvent::Rejected {
                    reason,
                    queued_at,
                    at,
                }]),
                CallState::Rejected { reason: rejected } if rejected == reason => Ok(vec![]),
                CallState::Offered { .. } | CallState::Connected { .. } => {
                    Err(CallError::NotWaiting)
                }
                _ => Err(self.terminal_error()),
            },
            CallCommand::LinkCustomer { customer_id, at } => {
                if self.customer_id == Some(customer_id) {
                    Ok(vec![])
                } else {
                    Ok(vec![CallEvent::CustomerLinked { customer_id, at }])
                }
            }
        }
    }

    /// The error for a lifecycle command the current state does not allow otherwise.
    fn terminal_error(&self) -> CallError {
        match self.state {
            CallState::New => CallError::NotFound,
            _ => CallError::Ended,
        }
    }

    fn latest_offer_of(&self, agent: WorkerId) -> Option<&OfferAttempt> {
        self.offers.iter().rev().find(|offer| offer.agent == agent)
    }

    fn close_offer(&mut self, attempt: u32, outcome: OfferOutcome, at: DateTime<Utc>) {
        if let Some(offer) = self.offers.iter_mut().find(|o| o.attempt == attempt) {
            offer.ended_at = Some(at);
            offer.outcome = Some(outcome);
        }
    }
}

fn whole_secs(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_seconds()).unwrap_or(0)
}

impl Aggregate for Call {
    const TYPE: &'static str = "call";
    type Command = CallCommand;
    type Event = CallEvent;
    type Error = CallError;
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
            CallEvent::Queued {
                caller_number,
                caller_name,
                customer_id,
                channel_id,
                queue,
                at,
            } => {
                self.state = CallState::Queued;
                self.caller_number = caller_number;
                self.caller_name = caller_name;
                self.customer_id = customer_id;
                self.channel_id = channel_id;
                self.queue = queue;
                self.queued_at = Some(at);
            }
            CallEvent::Offered {
                attempt,
                agent,
                agent_channel_id,
                at,
            } => {
                self.state = CallState::Offered { agent, attempt };
                self.offers.push(OfferAttempt {
                    attempt,
                    agent,
                    agent_channel_id,
                    offered_at: at,
                    ended_at: None,
                    outcome: None,
                });
            }
            CallEvent::Connected {
                attempt, agent, at, ..
            } => {
                self.state = CallState::Connected { agent };
                self.close_offer(attempt, OfferOutcome::Answered, at);
                self.connected_agent = Some(agent);
                self.connected_at = Some(at);
            }
            CallEvent::OfferFailed {
                attempt,
                outcome,
                at,
                ..
            } => {
                self.state = CallState::Queued;
                self.close_offer(attempt, outcome.into(), at);
            }
            CallEvent::Abandoned {
                during,
                withdrawn_offer,
                at,
                ..
            } => {
                self.state = CallState::Abandoned { during };
                if let Some(offer) = withdrawn_offer {
                    self.close_offer(offer.attempt, OfferOutcome::Withdrawn, at);
                }
                self.ended_at = Some(at);
            }
            CallEvent::Rejected { reason, at, .. } => {
                self.state = CallState::Rejected { reason };
                self.ended_at = Some(at);
            }
            CallEvent::Ended {
                by,
                reason,
                withdrawn_offer,
                at,
                ..
            } => {
                self.state = CallState::Ended { by };
                if let Some(offer) = withdrawn_offer {
                    self.close_offer(offer.attempt, OfferOutcome::Withdrawn, at);
                }
                self.system_end_reason = reason;
                self.ended_at = Some(at);
            }
            CallEvent::CustomerLinked { customer_id, .. } => {
                self.customer_id = Some(customer_id);
            }
        }
    }
}
