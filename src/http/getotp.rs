//! The GetOTP dialect (`/api/verify/`).
