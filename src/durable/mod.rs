//! Durable Objects, one file each.
pub mod activation_object;
pub mod webhook_dispatcher;
