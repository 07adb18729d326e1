//! Errors of the scripting API (the REST side answers with ARI error bodies instead).

/// Why a scripting call on [`super::SimHandle`] or starting the simulator failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot bind the simulated asterisk to a loopback port")]
    Bind(#[source] std::io::Error),
    #[error("endpoint {0:?} is not of the form TECH/resource")]
    InvalidEndpoint(String),
    #[error("no channel {0:?}")]
    ChannelNotFound(String),
    #[error("no websocket is connected for application {0:?}")]
    NoSocketForApplication(String),
    #[error("dtmf digit {0:?} is not one of 0-9, A-D, * and #")]
    InvalidDigit(char),
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(std::time::Duration, String),
}
