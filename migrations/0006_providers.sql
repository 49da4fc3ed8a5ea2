-- Which provider accepted a template message, under which id: delivery receipts (Twilio's
-- status callback) find the message by it.
ALTER TABLE messages ADD COLUMN provider_message_id TEXT;
CREATE INDEX messages_provider_message ON messages(provider_message_id) WHERE provider_message_id IS NOT NULL;
