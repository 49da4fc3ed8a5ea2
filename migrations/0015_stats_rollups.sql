-- Statistics rollups (GET /v1/stats/*, /admin/stats/*, Twilio's /v2/Attempts/Summary): per
-- account and UTC day of the send or order, counters kept by triggers in the transaction
-- of the write they count, whichever front door made it. A query reads the rollup rows of
-- its date range, never the sessions: its cost does not grow with the history.

-- What a send's row needs for them: the destination's country (domain::phone, bound by the
-- send) and the API key that made it (NULL: a dashboard session or an unknown key).
ALTER TABLE otp_sessions ADD COLUMN country TEXT;
ALTER TABLE otp_sessions ADD COLUMN api_key_id TEXT;

-- OTP sends by day, destination country ('' unknown), channel, prefix (the number without
-- its last 4 digits, as the fraud guard counts them), API key id ('' none) and front door
-- (the session's dialect; 'twilio' for Twilio Verify's VL… sessions). `verified` counts
-- on the day of the send; `spend` is the ledger's net (charges less refunds) in minor
-- units, on the day of the send; `blocked` counts sends the fraud guard refused (nothing
-- charged), written with the refusal's own record (store::stats::blocked_statement).
CREATE TABLE otp_stats (
  account_id TEXT NOT NULL,
  day TEXT NOT NULL,
  country TEXT NOT NULL,
  channel TEXT NOT NULL,
  prefix TEXT NOT NULL,
  api_key TEXT NOT NULL,
  door TEXT NOT NULL,
  sends INTEGER NOT NULL DEFAULT 0,
  verified INTEGER NOT NULL DEFAULT 0,
  blocked INTEGER NOT NULL DEFAULT 0,
  spend INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, day, country, channel, prefix, api_key, door)
) WITHOUT ROWID;
-- The operator's reads across accounts go by day.
CREATE INDEX otp_stats_day ON otp_stats(day);

-- Activations by day of the order, service, country and operator. `sms_received` counts
-- activations that got their first SMS; `refunded` the refunds; `spend` the net of the
-- purchase and its refund, on the day of the order.
CREATE TABLE activation_stats (
  account_id TEXT NOT NULL,
  day TEXT NOT NULL,
  service TEXT NOT NULL,
  country TEXT NOT NULL,
  operator TEXT NOT NULL,
  orders INTEGER NOT NULL DEFAULT 0,
  sms_received INTEGER NOT NULL DEFAULT 0,
  completed INTEGER NOT NULL DEFAULT 0,
  cancelled INTEGER NOT NULL DEFAULT 0,
  expired INTEGER NOT NULL DEFAULT 0,
  refunded INTEGER NOT NULL DEFAULT 0,
  spend INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, day, service, country, operator)
) WITHOUT ROWID;
CREATE INDEX activation_stats_day ON activation_stats(day);

-- The history so far (sessions from before this migration have no country or key).
INSERT INTO otp_stats (account_id, day, country, channel, prefix, api_key, door, sends, verified, spend)
  SELECT s.account_id, strftime('%Y-%m-%d', s.created_at / 1000, 'unixepoch'), '', s.channel,
    substr(s.phone, 1, max(length(s.phone) - 4, 0)), '',
    CASE WHEN substr(s.id, 1, 2) = 'VL' THEN 'twilio' ELSE s.dialect END,
    COUNT(*), COUNT(s.verified_at),
    -COALESCE(SUM((SELECT SUM(l.amount) FROM ledger l WHERE l.object_id = s.id
      AND l.kind IN ('otp_send', 'otp_refund', 'message_send', 'message_refund'))), 0)
  FROM otp_sessions s WHERE true GROUP BY 1, 2, 3, 4, 5, 6, 7;
INSERT INTO activation_stats (account_id, day, service, country, operator, orders, sms_received, completed, cancelled, expired, refunded, spend)
  SELECT a.account_id, strftime('%Y-%m-%d', a.created_at / 1000, 'unixepoch'), a.service, a.country, a.operator,
    COUNT(*),
    SUM(EXISTS (SELECT 1 FROM inbound_sms i WHERE i.target_kind = 'activation' AND i.target_id = a.id)),
    SUM(a.status = 'complete'), SUM(a.status = 'cancelled'), SUM(a.status = 'expired'),
    SUM(EXISTS (SELECT 1 FROM ledger l WHERE l.object_id = a.id AND l.kind = 'refund')),
    SUM(a.cost) - COALESCE(SUM((SELECT SUM(l.amount) FROM ledger l WHERE l.object_id = a.id AND l.kind = 'refund')), 0)
  FROM activations a WHERE true GROUP BY 1, 2, 3, 4, 5;

-- A send: counted on its day under its dimensions.
CREATE TRIGGER otp_stats_sent AFTER INSERT ON otp_sessions BEGIN INSERT INTO otp_stats (account_id, day, country, channel, prefix, api_key, door, sends) VALUES (NEW.account_id, strftime('%Y-%m-%d', NEW.created_at / 1000, 'unixepoch'), COALESCE(NEW.country, ''), NEW.channel, substr(NEW.phone, 1, max(length(NEW.phone) - 4, 0)), COALESCE(NEW.api_key_id, ''), CASE WHEN substr(NEW.id, 1, 2) = 'VL' THEN 'twilio' ELSE NEW.dialect END, 1) ON CONFLICT (account_id, day, country, channel, prefix, api_key, door) DO UPDATE SET sends = sends + 1; END;
-- A check that verified it: counted once, on the day of the send.
CREATE TRIGGER otp_stats_verified AFTER UPDATE OF verified_at ON otp_sessions WHEN OLD.verified_at IS NULL AND NEW.verified_at IS NOT NULL BEGIN UPDATE otp_stats SET verified = verified + 1 WHERE account_id = NEW.account_id AND day = strftime('%Y-%m-%d', NEW.created_at / 1000, 'unixepoch') AND country = COALESCE(NEW.country, '') AND channel = NEW.channel AND prefix = substr(NEW.phone, 1, max(length(NEW.phone) - 4, 0)) AND api_key = COALESCE(NEW.api_key_id, '') AND door = CASE WHEN substr(NEW.id, 1, 2) = 'VL' THEN 'twilio' ELSE NEW.dialect END; END;
-- A charge or refund of a session (a code message's session has the message's id).
CREATE TRIGGER otp_stats_spent AFTER INSERT ON ledger WHEN NEW.kind IN ('otp_send', 'otp_refund', 'message_send', 'message_refund') AND NEW.object_id IS NOT NULL BEGIN UPDATE otp_stats SET spend = spend - NEW.amount WHERE (account_id, day, country, channel, prefix, api_key, door) = (SELECT s.account_id, strftime('%Y-%m-%d', s.created_at / 1000, 'unixepoch'), COALESCE(s.country, ''), s.channel, substr(s.phone, 1, max(length(s.phone) - 4, 0)), COALESCE(s.api_key_id, ''), CASE WHEN substr(s.id, 1, 2) = 'VL' THEN 'twilio' ELSE s.dialect END FROM otp_sessions s WHERE s.id = NEW.object_id); END;

-- An order: counted with its price (charged in the same batch) on its day.
CREATE TRIGGER activation_stats_ordered AFTER INSERT ON activations BEGIN INSERT INTO activation_stats (account_id, day, service, country, operator, orders, spend) VALUES (NEW.account_id, strftime('%Y-%m-%d', NEW.created_at / 1000, 'unixepoch'), NEW.service, NEW.country, NEW.operator, 1, NEW.cost) ON CONFLICT (account_id, day, service, country, operator) DO UPDATE SET orders = orders + 1, spend = spend + excluded.spend; END;
-- Its first SMS.
CREATE TRIGGER activation_stats_received AFTER INSERT ON inbound_sms WHEN NEW.target_kind = 'activation' AND NOT EXISTS (SELECT 1 FROM inbound_sms i WHERE i.target_kind = 'activation' AND i.target_id = NEW.target_id AND i.id <> NEW.id) BEGIN UPDATE activation_stats SET sms_received = sms_received + 1 WHERE (account_id, day, service, country, operator) = (SELECT a.account_id, strftime('%Y-%m-%d', a.created_at / 1000, 'unixepoch'), a.service, a.country, a.operator FROM activations a WHERE a.id = NEW.target_id); END;
-- Its end (a terminal state is never left).
CREATE TRIGGER activation_stats_ended AFTER UPDATE OF status ON activations WHEN OLD.status <> NEW.status AND NEW.status IN ('complete', 'cancelled', 'expired') BEGIN UPDATE activation_stats SET completed = completed + (NEW.status = 'complete'), cancelled = cancelled + (NEW.status = 'cancelled'), expired = expired + (NEW.status = 'expired') WHERE account_id = NEW.account_id AND day = strftime('%Y-%m-%d', NEW.created_at / 1000, 'unixepoch') AND service = NEW.service AND country = NEW.country AND operator = NEW.operator; END;
-- Its refund (at most one per activation: the ledger's unique object_id and kind).
CREATE TRIGGER activation_stats_refunded AFTER INSERT ON ledger WHEN NEW.kind = 'refund' AND NEW.object_id IS NOT NULL BEGIN UPDATE activation_stats SET refunded = refunded + 1, spend = spend - NEW.amount WHERE (account_id, day, service, country, operator) = (SELECT a.account_id, strftime('%Y-%m-%d', a.created_at / 1000, 'unixepoch'), a.service, a.country, a.operator FROM activations a WHERE a.id = NEW.object_id); END;
