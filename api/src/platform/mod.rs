//! The platform: what every capability stands on. Configuration ([`config`]), the clock
//! ([`clock`]), the database
//! and its embedded cluster ([`db`], [`embedded_pg`]), leadership across instances
//! ([`leadership`]), the tasks joined on shutdown ([`shutdown`]). It imports no capability and no transport.

pub mod clock;
pub mod config;
pub mod db;
pub mod embedded_pg;
pub mod files;
pub mod leadership;
pub mod pool;
pub mod shutdown;
