//! Pure policies: decisions that need no aggregate state, only plain facts the caller gathers.
//!
//! - [`routing`]: which waiting call goes to which agent, and when a call is refused (§4.2).
//! - [`schedule`]: a backup plan's status (`new`, `up`, `grace`, `down`, `paused`, `running`)
//!   and the next instant it changes by the passage of time (§6).
//! - [`manifest`]: the difference between two backup manifests, streamed (§6).
//! - [`retention`]: which backup runs a retention policy keeps, with restic `forget` semantics.
//! - [`kpi`]: the call-center and request KPI formulas, as additive totals (§8).
//!
//! Architecture Invariant: every function here is deterministic. The clock is a parameter
//! (`now`), inputs are plain structs defined here (never aggregate types), and no input makes a
//! policy panic.

pub mod kpi;
pub mod manifest;
pub mod retention;
pub mod routing;
pub mod schedule;
