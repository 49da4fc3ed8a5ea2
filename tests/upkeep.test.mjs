// The scheduled upkeep pass (the Cron Trigger), run through Miniflare's scheduled call on
// the Worker (what `wrangler dev`'s /cdn-cgi/handler/scheduled triggers). It ends activations whose object never armed
// (expired, refunded once, number free) and deletes rows past their retention.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnApp } from "./support/app.mjs";
import { seed, sleep, ledgerOf, usNumber } from "./support/activations.mjs";

const LIFETIME_SECS = 2;
let app;

before(async () => {
  app = await spawnApp({ vars: { TEST_FAULTS: "1", ACTIVATION_LIFETIME_SECS: String(LIFETIME_SECS), ACTIVATION_CANCEL_LOCK_SECS: "0" } });
  await seed(app, { us: 1, tmobile: 0 });
});
after(() => app?.close());

/** One scheduled pass, awaited to its end. */
async function cron() {
  const worker = await app.mf.getWorker();
  const result = await worker.scheduled({ cron: "* * * * *", scheduledTime: new Date() });
  assert.equal(result.outcome, "ok");
}

const row = (id) => app.db.prepare("SELECT status FROM activations WHERE id = ?").bind(id).first();
const leases = async (id) => (await app.db.prepare("SELECT COUNT(*) AS n FROM number_leases WHERE object_id = ?").bind(id).first()).n;
const buy = (key, headers = {}, service = "telegram") => app.request("POST", "/v1/number", { key, headers, body: { service, country: "US" } });

test("an activation whose object never armed is expired, refunded once and its number freed by the cron", async () => {
  const { key, accountId } = await app.createAccount("unarmed", "1.00");
  const bought = await buy(key, { "X-Test-Fault": "activation_unarmed" });
  assert.equal(bought.status, 200, bought.text);
  const id = bought.body.activation_id;
  assert.equal(bought.body.number, usNumber(0));
  await sleep((LIFETIME_SECS + 1.5) * 1000);
  // No alarm was armed: past its lifetime, it is still live and holds the only number.
  assert.equal((await row(id)).status, "waiting");
  assert.equal(await leases(id), 1);
  // (A number serves a service once: the re-purchase is for another service.)
  assert.equal((await buy(key, {}, "whatsapp")).status, 409, "the only number is still held");

  await cron();
  assert.equal((await row(id)).status, "expired");
  assert.equal(await leases(id), 0);
  assert.deepEqual(await ledgerOf(app, id), [
    { kind: "purchase", amount: -500 },
    { kind: "refund", amount: 500 },
  ]);
  const m = await app.money(accountId);
  assert.equal(m.balance, 10000);
  assert.equal(m.balance, m.ledgerSum);
  const status = await app.request("GET", `/v1/activation/${id}/status`, { key });
  assert.equal(status.body.status, "expired");

  // A second pass changes nothing: no second refund.
  await cron();
  assert.deepEqual(await app.money(accountId), m);
  assert.equal((await ledgerOf(app, id)).length, 2);

  // The number is free again.
  const again = await buy(key, {}, "whatsapp");
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.number, usNumber(0));
  await app.request("POST", `/v1/activation/${again.body.activation_id}/status`, { key, body: { status: "cancel" } });
});

test("the cron deletes rows past their retention and keeps the others", async () => {
  const { accountId } = await app.createAccount("retention");
  const now = Date.now();
  const day = 86_400_000;
  const old = now - 31 * day;
  const run = (sql, ...args) => app.db.prepare(sql).bind(...args).run();
  for (const [k, at] of [["old", now - 2 * day], ["new", now]]) {
    await run("INSERT INTO idempotency (scope, idem_key, fingerprint, created_at) VALUES ('upkeep', ?, 'f', ?)", k, at);
    await run("INSERT INTO outbox (id, to_phone, channel, text, object_id, created_at) VALUES (?, '+14155550100', 'sms', 't', 'o', ?)", `ob_${k}`, k === "old" ? old : now);
    await run("INSERT INTO login_throttle (subject, failures, window_start) VALUES (?, 1, ?)", `ip:${k}`, at);
    await run(
      "INSERT INTO otp_sessions (id, account_id, phone, channel, dialect, cost, created_at, expires_at, max_attempts, send_allowed) VALUES (?, ?, '+14155550100', 'sms', 'getotp', 0, ?, ?, 3, 1)",
      `otp_${k}`, accountId, (k === "old" ? old : now) - 1000, k === "old" ? old : now + 300_000,
    );
  }
  // A Vonage request and its workflow step go with the session they served.
  await run("INSERT INTO vonage_applications (id, account_id, public_key, created_at) VALUES ('app_upkeep', ?, 'pk', ?)", accountId, old);
  for (const k of ["old", "new"]) {
    const at = k === "old" ? old - 1000 : now;
    await run("INSERT INTO otp_steps (id, session_id, account_id, n, channel, cost, created_at, send_allowed) VALUES (?, ?, ?, 0, 'voice', 0, ?, 1)", `step_${k}`, `otp_${k}`, accountId, at);
    await run("INSERT INTO vonage_requests (session_id, account_id, application_id, channels, channel_timeout, created_at) VALUES (?, ?, 'app_upkeep', ?, 300, ?)", `otp_${k}`, accountId, JSON.stringify(["sms", "voice"]), at);
  }
  const session = (id, idle, revoked = null) =>
    run("INSERT INTO sessions (id, account_id, token_hash, created_at, last_seen_at, idle_expires_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      id, accountId, id.padEnd(64, "0"), now - day, now - day, idle, now + day, revoked);
  await session("ses_idle", now - 1000);
  await session("ses_revoked", now + day / 2, now - 1000);
  await session("ses_live", now + day / 2);
  // The throttle row of a locked subject stays until its lock is over.
  await run("INSERT INTO login_throttle (subject, failures, window_start, locked_until) VALUES ('ip:locked', 9, ?, ?)", now - 2 * day, now + 60_000);

  await cron();
  const left = async (table, col, ids) =>
    (await app.db.prepare(`SELECT ${col} AS k FROM ${table} WHERE ${col} IN (${ids.map(() => "?").join(",")}) ORDER BY ${col}`).bind(...ids).all()).results.map((r) => r.k);
  assert.deepEqual(await left("idempotency", "idem_key", ["old", "new"]), ["new"]);
  assert.deepEqual(await left("outbox", "id", ["ob_old", "ob_new"]), ["ob_new"]);
  assert.deepEqual(await left("login_throttle", "subject", ["ip:old", "ip:new", "ip:locked"]), ["ip:locked", "ip:new"]);
  assert.deepEqual(await left("otp_sessions", "id", ["otp_old", "otp_new"]), ["otp_new"]);
  assert.deepEqual(await left("otp_steps", "id", ["step_old", "step_new"]), ["step_new"]);
  assert.deepEqual(await left("vonage_requests", "session_id", ["otp_old", "otp_new"]), ["otp_new"]);
  assert.deepEqual(await left("sessions", "id", ["ses_idle", "ses_revoked", "ses_live"]), ["ses_live"]);
});
