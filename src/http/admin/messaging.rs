//! Operator routes for the OTP side: templates, the sandbox outbox.
