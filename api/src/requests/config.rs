//! The request deadlines' settings (PRODUCT §5, §11).

use clap::Args;

/// Request deadlines (PRODUCT §5): the due-soon window and the alerts process manager.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct RequestConfig {
    /// The longest due-soon window, in seconds: `due_soon` is raised when a quarter of a
    /// request's allowance remains (urgent 1 h, high 6 h, normal 18 h, low 24 h; an explicit
    /// due date: a quarter of the time from when it was set), but never earlier than this
    /// before its due date. Applies to requests opened from now on (a request keeps the policy
    /// it was opened with).
    #[arg(long, env = "SAVECORP_REQUEST_DUE_SOON_SECS", default_value_t = 24 * 3600)]
    pub request_due_soon_secs: u64,

    /// Whether this server raises request `due_soon` / `overdue` alerts (one instance does at
    /// a time, whatever the number of servers).
    #[arg(long, env = "SAVECORP_REQUEST_ALERTS", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub request_alerts: bool,

    /// Longest the request-deadline manager sleeps without looking again (a safety net: it
    /// normally sleeps until the next deadline and is woken by new events), in milliseconds.
    #[arg(
        long,
        env = "SAVECORP_REQUEST_ALERTS_MAX_SLEEP_MS",
        default_value_t = 3_600_000
    )]
    pub request_alerts_max_sleep_ms: u64,
}

impl Default for RequestConfig {
    fn default() -> Self {
        Self {
            request_due_soon_secs: 24 * 3600,
            request_alerts: true,
            request_alerts_max_sleep_ms: 3_600_000,
        }
    }
}

impl RequestConfig {
    /// The SLA policy given to new requests: the product defaults with this due-soon cap.
    pub fn sla(&self) -> domain::sla::SlaPolicy {
        domain::sla::SlaPolicy {
            due_soon_threshold_secs: self.request_due_soon_secs,
            ..domain::sla::SlaPolicy::default()
        }
    }
}
