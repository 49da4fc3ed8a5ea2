//! Outbound delivery: a provider trait; `sandbox` (the default) writes to the outbox.
