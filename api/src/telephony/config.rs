//! The call queue's settings (PRODUCT §4.2, §11).

use clap::Args;

/// The call queue's settings (PRODUCT §4.2).
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// How long an agent's phone rings before the offer counts as missed (whole seconds, ≥ 1:
    /// ARI's dial timeout is in seconds).
    #[arg(long, env = "SAVECORP_OFFER_TIMEOUT_SECS", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=600))]
    pub offer_timeout_secs: u32,

    /// Wrap-up time after each call before the agent is Available again (0 = none).
    #[arg(long, env = "SAVECORP_WRAP_UP_SECS", default_value_t = 10)]
    pub wrap_up_secs: u32,

    /// How long a caller waits at most before being rejected `max_wait_exceeded`.
    #[arg(long, env = "SAVECORP_MAX_WAIT_SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_wait_secs: u32,

    /// Calls waiting (queued or ringing an agent) above which new callers are rejected
    /// `queue_full`.
    #[arg(long, env = "SAVECORP_MAX_QUEUE_LENGTH", default_value_t = 100)]
    pub max_queue_length: usize,

    /// Media played to a rejected caller before hanging up (e.g. `sound:vm-nobodyavail`).
    /// Absent: rejected callers are hung up at once.
    #[arg(long, env = "SAVECORP_REJECT_ANNOUNCEMENT")]
    pub reject_announcement: Option<String>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            offer_timeout_secs: 20,
            wrap_up_secs: 10,
            max_wait_secs: 600,
            max_queue_length: 100,
            reject_announcement: None,
        }
    }
}
