//! Durable Objects, one file each.
pub mod activation;
pub mod signal;
pub mod watch;
pub mod webhook_dispatcher;
