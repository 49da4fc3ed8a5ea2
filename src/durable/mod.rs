//! Durable Objects, one file each.
pub mod activation;
pub mod webhook_dispatcher;
