//! The activation state machine.
