// Migrations that rewrite existing rows: applied to a database in the shape before them,
// every row is kept and reads back as it was, in its new representation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { migrationStatements } from "./support/app.mjs";

const TIMES_MS = "0010_times_ms.sql";

/** A fresh database with no migration applied, disposed of when test `t` ends: `apply(only)`
 * runs the migrations whose file names `only` accepts, in order. */
async function database(t) {
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(''); } };",
    compatibilityDate: "2026-04-20",
    d1Databases: { DB: "migrations-test" },
  });
  t.after(() => mf.dispose());
  const db = await mf.getD1Database("DB");
  const apply = async (only) => {
    for (const sql of migrationStatements(only)) await db.prepare(sql).run();
  };
  return { db, apply };
}

test("times of api_keys, wallets and ledger become integer ms, every row kept", async (t) => {
  const { db, apply } = await database(t);
  await apply((f) => f < TIMES_MS);
  const hash = (c) => c.repeat(64);
  await db.batch([
    db.prepare("INSERT INTO accounts (id, name, created_at) VALUES ('acc', 'A', '2025-01-02T03:04:05Z')"),
    db.prepare(
      "INSERT INTO api_keys (id, account_id, key_hash, prefix, created_at, revoked_at, last_used_at, name, twilio_sid) " +
        "VALUES ('key_old', 'acc', ?1, 'ab12', '2025-08-18T06:28:58Z', '2025-08-19T00:00:01Z', '2025-08-18T07:00:00Z', 'old', 'SK0'), " +
        "('key_new', 'acc', ?2, 'cd34', '2025-08-20T10:00:00Z', NULL, NULL, NULL, 'SK1')",
    ).bind(hash("a"), hash("b")),
    db.prepare("INSERT INTO wallets (account_id, balance, currency, updated_at) VALUES ('acc', 15000, 'USD', '2025-08-21T12:30:00Z')"),
    db.prepare(
      "INSERT INTO ledger (id, account_id, kind, amount, balance_after, reference, object_id, description, created_at) " +
        "VALUES ('tx1', 'acc', 'topup', 20000, 20000, 'ref-1', NULL, 'top-up', '2025-08-21T12:00:00Z'), " +
        "('tx2', 'acc', 'purchase', -5000, 15000, NULL, 'act1', 'buy', '2025-08-21T12:30:00Z')",
    ),
  ]);
  await apply((f) => f === TIMES_MS);

  const ms = (t) => Date.parse(t);
  const keys = (await db.prepare("SELECT id, key_hash, prefix, name, twilio_sid, created_at, revoked_at, last_used_at FROM api_keys ORDER BY created_at DESC, rowid DESC").all()).results;
  assert.deepEqual(keys, [
    { id: "key_new", key_hash: hash("b"), prefix: "cd34", name: null, twilio_sid: "SK1", created_at: ms("2025-08-20T10:00:00Z"), revoked_at: null, last_used_at: null },
    { id: "key_old", key_hash: hash("a"), prefix: "ab12", name: "old", twilio_sid: "SK0", created_at: ms("2025-08-18T06:28:58Z"), revoked_at: ms("2025-08-19T00:00:01Z"), last_used_at: ms("2025-08-18T07:00:00Z") },
  ]);
  const wallet = await db.prepare("SELECT account_id, balance, currency, updated_at FROM wallets").first();
  assert.deepEqual(wallet, { account_id: "acc", balance: 15000, currency: "USD", updated_at: ms("2025-08-21T12:30:00Z") });
  const ledger = (await db.prepare("SELECT seq, id, kind, amount, balance_after, reference, object_id, description, created_at FROM ledger ORDER BY seq").all()).results;
  assert.deepEqual(ledger, [
    { seq: 1, id: "tx1", kind: "topup", amount: 20000, balance_after: 20000, reference: "ref-1", object_id: null, description: "top-up", created_at: ms("2025-08-21T12:00:00Z") },
    { seq: 2, id: "tx2", kind: "purchase", amount: -5000, balance_after: 15000, reference: null, object_id: "act1", description: "buy", created_at: ms("2025-08-21T12:30:00Z") },
  ]);

  // The constraints and indexes of the tables still hold.
  const insertLedger = (id, kind, amount, reference) =>
    db.prepare("INSERT INTO ledger (id, account_id, kind, amount, balance_after, reference, description, created_at) VALUES (?1, 'acc', ?2, ?3, 0, ?4, 'x', 1)").bind(id, kind, amount, reference).run();
  await assert.rejects(insertLedger("tx3", "purchase", 100, null), /CHECK constraint failed/);
  await assert.rejects(insertLedger("tx4", "topup", 100, "ref-1"), /UNIQUE constraint failed/);
  await assert.rejects(db.prepare("UPDATE wallets SET balance = -1").run(), /CHECK constraint failed/);
  const next = await db.prepare("INSERT INTO ledger (id, account_id, kind, amount, balance_after, description, created_at) VALUES ('tx5', 'acc', 'topup', 1, 15001, 'x', 2) RETURNING seq").first();
  assert.equal(next.seq, 3);
  await db.prepare("INSERT INTO api_keys (id, account_id, key_hash, prefix, created_at) VALUES ('key_sid', 'acc', ?1, 'ef56', 3)").bind(hash("c")).run();
  const sid = await db.prepare("SELECT twilio_sid FROM api_keys WHERE id = 'key_sid'").first();
  assert.match(sid.twilio_sid, /^SK[0-9a-f]{32}$/);
});

test("the statistics rollups start from the history already there, then the triggers keep them", async (t) => {
  const { db, apply } = await database(t);
  await apply((f) => f < "0015_stats_rollups.sql");
  const day = Date.UTC(2026, 10, 30, 12);
  await db.batch([
    db.prepare("INSERT INTO accounts (id, name, created_at) VALUES ('acc', 'A', '2026-01-01T00:00:00Z')"),
    db.prepare("INSERT INTO countries (code, name) VALUES ('US', 'United States')"),
    db.prepare("INSERT INTO operators (country, id, name) VALUES ('US', '1', 'any')"),
    db.prepare("INSERT INTO services (code, name) VALUES ('telegram', 'Telegram')"),
    db.prepare("INSERT INTO suppliers (id, name, created_at) VALUES ('sup', 'S', '2026-01-01')"),
    db.prepare("INSERT INTO numbers (id, number, country, operator, created_at) VALUES ('n1', '+14155550100', 'US', '1', '2026-01-01'), ('n2', '+14155550101', 'US', '1', '2026-01-01')"),
    db.prepare(
      "INSERT INTO otp_sessions (id, account_id, phone, channel, dialect, cost, created_at, expires_at, max_attempts, verified_at, send_allowed) " +
        "VALUES ('otp_1', 'acc', '+14155550199', 'sms', 'whatotp', 75, ?1, ?1, 5, ?1, 1), ('otp_2', 'acc', '+14155550199', 'sms', 'whatotp', 75, ?1, ?1, 5, NULL, 1)",
    ).bind(day),
    db.prepare(
      "INSERT INTO activations (id, account_id, number_id, number, country, service, operator, cost, status, created_at, cancel_allowed_at, expires_at, updated_at) " +
        "VALUES ('act_1', 'acc', 'n1', '+14155550100', 'US', 'telegram', '1', 500, 'complete', ?1, ?1, ?1, ?1), ('act_2', 'acc', 'n2', '+14155550101', 'US', 'telegram', '1', 500, 'cancelled', ?1, ?1, ?1, ?1)",
    ).bind(day),
    db.prepare("INSERT INTO inbound_sms (id, supplier_id, sms_id, number, sender, text, received_at, target_kind, target_id, created_at) VALUES ('sms_1', 'sup', 's1', '+14155550100', 'T', 'code 1', 'x', 'activation', 'act_1', ?1)").bind(day),
    db.prepare(
      "INSERT INTO ledger (id, account_id, kind, amount, balance_after, object_id, description, created_at) VALUES " +
        "('tx1', 'acc', 'topup', 10000, 10000, NULL, 't', ?1), ('tx2', 'acc', 'otp_send', -75, 9925, 'otp_1', 's', ?1), ('tx3', 'acc', 'otp_send', -75, 9850, 'otp_2', 's', ?1), " +
        "('tx4', 'acc', 'otp_refund', 75, 9925, 'otp_2', 'r', ?1), ('tx5', 'acc', 'purchase', -500, 9425, 'act_1', 'p', ?1), ('tx6', 'acc', 'purchase', -500, 8925, 'act_2', 'p', ?1), ('tx7', 'acc', 'refund', 500, 9425, 'act_2', 'r', ?1)",
    ).bind(day),
  ]);
  await apply((f) => f === "0015_stats_rollups.sql");
  const otp = await db.prepare("SELECT day, country, channel, prefix, api_key, door, sends, verified, blocked, spend FROM otp_stats").all();
  assert.deepEqual(otp.results, [{ day: "2026-11-30", country: "", channel: "sms", prefix: "+1415555", api_key: "", door: "whatotp", sends: 2, verified: 1, blocked: 0, spend: 75 }]);
  const acts = await db.prepare("SELECT day, service, country, operator, orders, sms_received, completed, cancelled, expired, refunded, spend FROM activation_stats").all();
  assert.deepEqual(acts.results, [{ day: "2026-11-30", service: "telegram", country: "US", operator: "1", orders: 2, sms_received: 1, completed: 1, cancelled: 1, expired: 0, refunded: 1, spend: 500 }]);

  // From here the triggers count: the second session verified, a new order expired and refunded.
  await db.prepare("UPDATE otp_sessions SET verified_at = ?1 WHERE id = 'otp_2'").bind(day).run();
  await db.batch([
    db.prepare("INSERT INTO activations (id, account_id, number_id, number, country, service, operator, cost, status, created_at, cancel_allowed_at, expires_at, updated_at) VALUES ('act_3', 'acc', 'n1', '+14155550100', 'US', 'whatsapp', '1', 700, 'waiting', ?1, ?1, ?1, ?1)").bind(day),
    db.prepare("INSERT INTO services (code, name) VALUES ('whatsapp', 'WhatsApp')"),
  ].reverse());
  await db.prepare("UPDATE activations SET status = 'expired' WHERE id = 'act_3'").run();
  await db.prepare("INSERT INTO ledger (id, account_id, kind, amount, balance_after, object_id, description, created_at) VALUES ('tx8', 'acc', 'refund', 700, 10125, 'act_3', 'r', ?1)").bind(day).run();
  assert.equal((await db.prepare("SELECT verified FROM otp_stats").first()).verified, 2);
  const wa = await db.prepare("SELECT orders, expired, refunded, spend FROM activation_stats WHERE service = 'whatsapp'").first();
  assert.deepEqual(wa, { orders: 1, expired: 1, refunded: 1, spend: 0 });
});

test("template messages keep every row and status when the status column learns `sending`", async (t) => {
  const { db, apply } = await database(t);
  const CLAIMS = "0024_delivery_claims.sql";
  await apply((f) => f < CLAIMS);
  await db.batch([
    db.prepare("INSERT INTO accounts (id, name, created_at) VALUES ('acc', 'A', 1)"),
    db.prepare("INSERT INTO templates (id, name, channel, body, created_at) VALUES ('00000000-0000-4000-8000-000000000001', 't', 'sms', 'Hi {name}', 1)"),
    db.prepare(
      "INSERT INTO messages (id, account_id, template_id, phone, channel, status, cost, created_at, expires_at, sent_at, error, provider_message_id) VALUES " +
        "('msg_q', 'acc', '00000000-0000-4000-8000-000000000001', '+14155550100', 'sms', 'queued', 75, 10, 20, NULL, NULL, NULL), " +
        "('msg_s', 'acc', '00000000-0000-4000-8000-000000000001', '+14155550101', 'sms', 'sent', 75, 11, 21, 12, NULL, 'SM1'), " +
        "('msg_f', 'acc', '00000000-0000-4000-8000-000000000001', '+14155550102', 'voice', 'failed', 150, 13, 23, NULL, 'refused', NULL)",
    ),
  ]);
  const rows = () => db.prepare("SELECT id, status, phone, channel, cost, created_at, expires_at, sent_at, error, provider_message_id FROM messages ORDER BY id").all();
  const before = (await rows()).results;
  await apply((f) => f === CLAIMS);
  assert.deepEqual((await rows()).results, before);
  await db.prepare("UPDATE messages SET status = 'sending', sending_at = 30 WHERE id = 'msg_q'").run();
  assert.equal((await db.prepare("SELECT status FROM messages WHERE id = 'msg_q'").first()).status, "sending");
  await assert.rejects(db.prepare("UPDATE messages SET status = 'lost' WHERE id = 'msg_s'").run(), /CHECK/);
  const plan = await db.prepare("EXPLAIN QUERY PLAN SELECT id FROM messages WHERE status = 'sending' AND sending_at <= 40 ORDER BY sending_at").all();
  assert.match(JSON.stringify(plan.results), /messages_sending/);
});

test("OTP sessions keep every row and dialect when the column learns vonage and prelude; the statistics triggers count them per door", async (t) => {
  const { db, apply } = await database(t);
  const DOORS = "0025_vonage_callbacks_dialects.sql";
  await apply((f) => f < DOORS);
  const day = Date.UTC(2026, 11, 1, 12);
  const insert = (id, dialect, verified) =>
    db.prepare(
      "INSERT INTO otp_sessions (id, account_id, phone, channel, dialect, cost, created_at, expires_at, max_attempts, verified_at, send_allowed, country) " +
        "VALUES (?1, 'acc', '+14155550199', 'sms', ?2, 75, ?3, ?3, 5, ?4, 1, 'US')",
    ).bind(id, dialect, day, verified);
  await db.batch([
    db.prepare("INSERT INTO accounts (id, name, created_at) VALUES ('acc', 'A', 1)"),
    insert("otp_1", "whatotp", day),
    insert("otp_2", "getotp", null),
    insert("otp_3", "message", null),
  ]);
  const rows = () => db.prepare("SELECT id, account_id, phone, channel, dialect, cost, created_at, expires_at, attempts, max_attempts, verified_at, country FROM otp_sessions ORDER BY id").all();
  const stats = () => db.prepare("SELECT door, sends, verified, spend FROM otp_stats ORDER BY door").all();
  const before = (await rows()).results;
  const statsBefore = (await stats()).results;
  await apply((f) => f === DOORS);
  assert.deepEqual((await rows()).results, before);
  assert.deepEqual((await stats()).results, statsBefore);

  await db.batch([insert("vonage-1", "vonage", null), insert("otp_4", "prelude", null)]);
  await db.prepare("UPDATE otp_sessions SET verified_at = ?1 WHERE id = 'vonage-1'").bind(day).run();
  await db.prepare("INSERT INTO ledger (id, account_id, kind, amount, balance_after, object_id, description, created_at) VALUES ('tx0', 'acc', 'topup', 100, 100, NULL, 't', ?1), ('tx1', 'acc', 'otp_send', -75, 25, 'otp_4', 's', ?1)").bind(day).run();
  const doors = Object.fromEntries((await stats()).results.map((r) => [r.door, [r.sends, r.verified, r.spend]]));
  assert.deepEqual(doors.vonage, [1, 1, 0]);
  assert.deepEqual(doors.prelude, [1, 0, 75]);
  assert.deepEqual(doors.whatotp, [1, 0, 0]);
  await assert.rejects(insert("otp_5", "fax", null).run(), /CHECK/);
  const app = await db.prepare("PRAGMA table_info(vonage_applications)").all();
  assert.ok(app.results.some((c) => c.name === "signature_secret"));
});
