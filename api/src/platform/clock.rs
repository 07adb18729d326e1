//! Where "now" comes from: the system clock in production, a clock tests move by hand. The
//! services that decide by time (backup watchdog, retention, request deadlines) read it
//! through a [`ClockHandle`].
//!
//! Every instant the server puts into a command, and so into an event, is to the microsecond
//! ([`now`], [`to_micros`]): the precision PostgreSQL's `timestamptz` keeps, so a read model
//! holds exactly the instants of the events it was made from, and a lookup served from a read
//! model answers what a fold of the events answers.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// `at` to the microsecond (the rest of its nanoseconds dropped).
pub fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(at)
}

/// The system clock's now, to the microsecond: the instant of every command the server issues.
pub fn now() -> DateTime<Utc> {
    to_micros(Utc::now())
}

/// Where "now" comes from: the system clock in production, a clock tests move by hand.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        now()
    }
}

/// A clock that follows the system clock plus an offset that tests move forward, or, once
/// [`set`](ManualClock::set), stands still at a given instant until moved.
#[derive(Debug, Default)]
pub struct ManualClock {
    offset: Mutex<TimeDelta>,
    frozen: Mutex<Option<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = TimeDelta::from_std(by).unwrap_or(TimeDelta::zero());
        if let Some(frozen) = self
            .frozen
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .as_mut()
        {
            *frozen += by;
            return;
        }
        let mut offset = self
            .offset
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        *offset += by;
    }
}

impl ManualClock {
    /// Stops the clock at `at` (exact instants for the test); [`advance`](Self::advance) and
    /// `set` move it from there.
    pub fn set(&self, at: DateTime<Utc>) {
        *self
            .frozen
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some(at);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        if let Some(frozen) = *self
            .frozen
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
        {
            return to_micros(frozen);
        }
        let offset = *self
            .offset
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        to_micros(Utc::now() + offset)
    }
}

/// A shareable clock for the configuration (`None`: the system clock).
#[derive(Clone, Default)]
pub struct ClockHandle(pub Option<Arc<dyn Clock>>);

impl ClockHandle {
    pub fn of(clock: Arc<dyn Clock>) -> Self {
        Self(Some(clock))
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.0.clone().unwrap_or_else(|| Arc::new(SystemClock))
    }
}

impl fmt::Debug for ClockHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "ClockHandle(custom)"
        } else {
            "ClockHandle(system)"
        })
    }
}
