// The fraud guard (docs/fraud.md): the policy API, a pumping simulation (a prefix sent to
// without verifications is refused after the rule trips; one whose users verify is not;
// nothing is sent or charged for the refused), monitor mode, a 200-way parallel burst,
// the safe list and unblocking, and each front door's refusal.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnPricedOtpApp, latestCode, createTemplate } from "./otp-support.mjs";

/** The n-th number of a range: `prefix` (E.164 without the last 4 digits) + 4 digits. */
const number = (prefix, n) => `${prefix}${String(n).padStart(4, "0")}`;

describe("fraud guard", () => {
  let app;
  before(async () => (app = await spawnPricedOtpApp()));
  after(() => app.close());

  const send = (key, to) => app.request("POST", "/v1/otp/send", { key, body: { to, channel: "sms" } });
  const verify = async (key, to, sessionId) => {
    const { code } = await latestCode(app, to);
    const r = await app.request("POST", "/v1/otp/verify", { key, body: { session_id: sessionId, code } });
    assert.equal(r.status, 200, r.text);
  };
  const outboxCount = async (prefix) => (await app.db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE to_phone LIKE ?").bind(`${prefix}%`).first()).n;
  /** The account's `otp.blocked` events, once there are `n` (they are recorded after the answer). */
  const blockedEvents = async (accountId, n) => {
    for (let tries = 0; ; tries++) {
      const rows = (await app.db.prepare("SELECT data FROM webhook_events WHERE account_id = ? AND event_type = 'otp.blocked' ORDER BY seq").bind(accountId).all()).results;
      if (rows.length >= n || tries > 100) return rows.map((r) => JSON.parse(r.data));
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const refusal = (r, reason) => {
    assert.equal(r.status, 403, r.text);
    assert.equal(r.body.errors[0].code, "2207", r.text);
    assert.equal(r.body.errors[0].reason, reason, r.text);
  };

  test("policy: defaults, a PUT replaces it, bad fields are a 400 naming the field", async () => {
    const a = await app.createAccount("policy");
    const got = await app.request("GET", "/v1/fraud/policy", { key: a.key });
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.body, {
      mode: "enforce",
      allowed_countries: null,
      blocked_countries: [],
      country_hourly_cap: {},
      prefix_rule: { window_s: 3600, min_sends: 20, min_conversion: 0.1, max_sends_per_window: 200 },
      block_ttl_s: 43200,
    });
    const bad = [
      [{ blocked_countries: ["ZZ"] }, "blocked_countries"],
      [{ allowed_countries: ["XX"] }, "allowed_countries"],
      [{ prefix_rule: { min_conversion: 1.5 } }, "prefix_rule.min_conversion"],
      [{ block_ttl_s: 100 }, "block_ttl_s"],
      [{ mode: "loud" }, "mode"],
    ];
    for (const [body, field] of bad) {
      const r = await app.request("PUT", "/v1/fraud/policy", { key: a.key, body });
      assert.equal(r.status, 400, r.text);
      assert.match(r.body.errors[0].message, new RegExp(`'${field.replace(".", "\\.")}'`), r.text);
    }
    const put = await app.request("PUT", "/v1/fraud/policy", { key: a.key, body: { mode: "monitor", blocked_countries: ["gb"], country_hourly_cap: { US: 50 } } });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.mode, "monitor");
    assert.deepEqual(put.body.blocked_countries, ["GB"]);
    const again = await app.request("GET", "/v1/fraud/policy", { key: a.key });
    assert.deepEqual(again.body, put.body);
    const stored = await app.db.prepare("SELECT policy FROM fraud_policies WHERE account_id = ?").bind(a.accountId).first();
    assert.equal(JSON.parse(stored.policy).mode, "monitor");
  });

  test("pumping: 40 sends to one range without checks are refused after the rule trips; a verifying range is untouched; nothing sent or charged for the refused", async () => {
    const a = await app.createAccount("pumped", "10.00");
    const pumped = "+1650200";
    const honest = "+1650300";
    const statuses = [];
    for (let i = 0; i < 40; i++) {
      const r = await send(a.key, number(pumped, i));
      statuses.push(r.status);
      if (r.status !== 200) refusal(r, "low_conversion");
      const ok = await send(a.key, number(honest, i));
      assert.equal(ok.status, 200, `honest send ${i}: ${ok.text}`);
      if (i % 2 === 0) await verify(a.key, number(honest, i), ok.body.session_id);
    }
    assert.deepEqual(statuses, [...Array(20).fill(200), ...Array(20).fill(403)]);
    assert.equal(await outboxCount(pumped), 20, "nothing delivered to the refused");
    assert.equal(await outboxCount(honest), 40);
    const m = await app.money(a.accountId);
    assert.equal(m.ledgerRows, 1 + 20 + 40, "no ledger row for a refused send");
    assert.equal(m.balance, 100000 - 60 * 75);
    const blocks = await app.request("GET", "/v1/fraud/blocks", { key: a.key });
    assert.equal(blocks.status, 200, blocks.text);
    assert.equal(blocks.body.blocks.length, 1, blocks.text);
    const [b] = blocks.body.blocks;
    assert.deepEqual([b.scope, b.value, b.reason, b.sends, b.conversions], ["prefix", pumped, "low_conversion", 20, 0]);
    assert.equal(blocks.body.next_cursor, null);
    const events = await blockedEvents(a.accountId, 20);
    assert.equal(events.length, 20);
    assert.deepEqual(events[0], { phone_number: number(pumped, 20), channel: "sms", reason: "low_conversion", front_door: "whatotp" });

    // A safe-listed number goes through; lifting the block opens the range again.
    const safe = await app.request("POST", "/v1/fraud/safe-list", { key: a.key, body: { phone: number(pumped, 100) } });
    assert.equal(safe.status, 201, safe.text);
    assert.match(safe.body.sid, /^GN[0-9a-f]{32}$/);
    assert.equal((await send(a.key, number(pumped, 100))).status, 200);
    const list = await app.request("GET", "/v1/fraud/safe-list", { key: a.key });
    assert.deepEqual(list.body.numbers.map((n) => n.phone), [number(pumped, 100)]);
    const gone = await app.request("DELETE", `/v1/fraud/safe-list/${encodeURIComponent(number(pumped, 100))}`, { key: a.key });
    assert.equal(gone.status, 200, gone.text);
    assert.equal((await app.request("DELETE", `/v1/fraud/safe-list/${encodeURIComponent(number(pumped, 100))}`, { key: a.key })).status, 404);
    refusal(await send(a.key, number(pumped, 101)), "low_conversion");
    const lifted = await app.request("DELETE", `/v1/fraud/blocks/${b.id}`, { key: a.key });
    assert.equal(lifted.status, 200, lifted.text);
    assert.equal((await send(a.key, number(pumped, 102))).status, 200);
    assert.equal((await app.request("DELETE", `/v1/fraud/blocks/${b.id}`, { key: a.key })).status, 404);
  });

  test("monitor mode decides and records, and lets the sends through (the answer says so)", async () => {
    const a = await app.createAccount("monitored", "10.00");
    const put = await app.request("PUT", "/v1/fraud/policy", { key: a.key, body: { mode: "monitor" } });
    assert.equal(put.status, 200, put.text);
    const prefix = "+1650500";
    const answers = [];
    for (let i = 0; i < 25; i++) answers.push(await send(a.key, number(prefix, i)));
    assert.deepEqual(answers.map((r) => r.status), Array(25).fill(200));
    assert.equal(answers[19].body.fraud_check, undefined);
    assert.deepEqual(answers[20].body.fraud_check, { mode: "monitor", decision: "blocked", reason: "low_conversion" });
    assert.equal(await outboxCount(prefix), 25);
    const blocks = await app.request("GET", "/v1/fraud/blocks", { key: a.key });
    assert.deepEqual(blocks.body.blocks.map((b) => [b.value, b.reason]), [[prefix, "low_conversion"]]);
  });

  test("a 200-way parallel burst to one range does not slip through the rule", async () => {
    const a = await app.createAccount("burst", "10.00");
    const prefix = "+1650600";
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => send(a.key, number(prefix, i))));
    const ok = answers.filter((r) => r.status === 200).length;
    for (const r of answers.filter((r) => r.status !== 200)) refusal(r, "low_conversion");
    assert.equal(ok, 20, "exactly min_sends sends before the block");
    assert.equal(await outboxCount(prefix), 20);
    assert.equal((await app.money(a.accountId)).ledgerRows, 1 + 20);
  });

  test("geo, country cap and velocity; GetOTP and template messages are refused in their own envelope", async () => {
    const a = await app.createAccount("geo", "10.00");
    let r = await app.request("PUT", "/v1/fraud/policy", { key: a.key, body: { allowed_countries: ["GB"] } });
    assert.equal(r.status, 200, r.text);
    refusal(await send(a.key, "+16507000001"), "geo");
    const tpl = await createTemplate(app, "Hi {code}");
    const getotp = await app.request("POST", "/api/verify/", { key: a.key, body: { data: { channel: "sms", sender: "Shop", phone: "16507000002", template: tpl, code_length: 4 } } });
    refusal(getotp, "geo");
    const message = await app.request("POST", "/v1/messages/send", { key: a.key, body: { phone_number: "+16507000003", template_id: tpl } });
    refusal(message, "geo");
    assert.equal(await outboxCount("+1650700"), 0);
    assert.equal((await app.money(a.accountId)).ledgerRows, 1);

    r = await app.request("PUT", "/v1/fraud/policy", { key: a.key, body: { country_hourly_cap: { US: 2 }, prefix_rule: { max_sends_per_window: 1 } } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await send(a.key, "+16507100001")).status, 200);
    refusal(await send(a.key, "+16507100002"), "velocity");
    assert.equal((await send(a.key, "+16507200001")).status, 200);
    refusal(await send(a.key, "+16507300001"), "country_cap");
    const events = await blockedEvents(a.accountId, 5);
    assert.deepEqual(events.map((e) => [e.reason, e.front_door]), [["geo", "whatotp"], ["geo", "getotp"], ["geo", "message"], ["velocity", "whatotp"], ["country_cap", "whatotp"]]);
  });
});
