//! Templates, messages and the outbox in D1.
