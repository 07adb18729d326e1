//! SaveCorp's domain: the aggregates (Worker, Customer, Call, Request, BackupRun, and the
//! admins' QueueSettings and CenterSettings), the value
//! types they are made of, and the pure policies (routing, SLA, backup schedule, manifest diff,
//! retention, KPI formulas).
//!
//! Architecture Invariant: this crate performs no I/O and reads no clock. Time and fresh ids come
//! in commands; facts from outside (e.g. how many active admins remain) are looked up by the
//! caller and put in the command. It depends on no database, HTTP, GraphQL or ARI crate.

pub mod backup_run;
pub mod call;
pub mod customer;
pub mod ids;
pub mod plan;
pub mod policy;
pub mod request;
pub mod settings;
pub mod sla;
pub mod values;
pub mod worker;
