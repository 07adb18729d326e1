//! ari-adapter

pub mod sim;
