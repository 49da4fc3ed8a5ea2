//! Template messages and the sandbox outbox as the API shows them.

/// A template message and its delivery state (`queued`, `sending`, `sent` or `failed`).
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub template_id: String,
    pub phone: String,
    pub channel: String,
    pub status: String,
    /// The OTP session checking its code (the message's own id), for a template with `{code}`.
    pub session_id: Option<String>,
    pub cost: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub sent_at: Option<i64>,
    pub error: Option<String>,
}

/// One text the sandbox delivered (it goes nowhere else).
#[derive(Debug, Clone)]
pub struct OutboxText {
    pub id: String,
    pub to_phone: String,
    pub channel: String,
    pub sender: Option<String>,
    pub text: String,
    pub status: String,
    /// The OTP session or message it belongs to.
    pub object_id: String,
    pub created_at: i64,
}
