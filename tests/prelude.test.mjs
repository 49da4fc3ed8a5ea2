// Prelude Verify v2 on otpedge, driven by the official `@prelude.so/sdk` npm SDK (pinned in
// package.json) unchanged but for its documented `baseURL` option, which points it at the
// local Worker instead of https://api.prelude.dev.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import Prelude from "@prelude.so/sdk";
import { spawnPricedOtpApp, latestCode, freshPhone, until } from "./otp-support.mjs";
import { startReceiver } from "./support/receiver.mjs";

const VRF = /^vrf_[A-Za-z0-9]{22}$/;

/** A Prelude client as an integration builds it, with the otpedge API key as its token. */
function sdk(app, key, opts = {}) {
  return new Prelude({ apiToken: key, baseURL: new URL(app.url).origin, ...opts });
}

/** Asserts that `promise` rejects with the SDK's APIError of this status and Prelude code. */
async function rejectsWith(promise, status, code, param) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Prelude.APIError, `APIError expected, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.status, status, e.message);
    assert.equal(e.error.code, code, JSON.stringify(e.error));
    assert.equal(typeof e.error.message, "string");
    assert.equal(typeof e.error.type, "string");
    assert.equal(typeof e.error.request_id, "string");
    if (param) assert.equal(e.error.param, param);
    return true;
  });
}

const phoneTarget = (value) => ({ type: "phone_number", value });

/** An OTP app with prices; retries may follow each other at once (the resend interval is
 * the engine's rule, tested with WhatOTP), the sends-per-window limit stays as shipped. */
async function preludeApp(vars = {}) {
  const app = await spawnPricedOtpApp({ vars: { OTP_RESEND_INTERVAL_SECS: "0", ...vars } });
  return app;
}

describe("Prelude Verify v2 through the official SDK", () => {
  let app;
  before(async () => (app = await preludeApp()));
  after(() => app.close());

  /** A funded account and its SDK client. */
  const account = async (name) => {
    const a = await app.createAccount(name, "5.00");
    return { ...a, client: sdk(app, a.key) };
  };

  const sends = (accountId) => app.db.prepare("SELECT kind, amount FROM ledger WHERE account_id = ? AND kind = 'otp_send'").bind(accountId).all().then((r) => r.results);

  test("create → success; the code in the outbox verifies once, then the window is closed", async () => {
    const a = await account("create");
    const phone = freshPhone();
    const v = await a.client.verification.create({ target: phoneTarget(phone), metadata: { correlation_id: "user-42" } });
    assert.match(v.id, VRF);
    assert.equal(v.status, "success");
    assert.equal(v.method, "message");
    assert.deepEqual(v.channels, ["sms"]);
    assert.deepEqual(v.metadata, { correlation_id: "user-42" });
    assert.equal(typeof v.request_id, "string");
    assert.equal(v.reason, undefined);
    const { code } = await latestCode(app, phone);
    assert.match(code, /^\d{6}$/);
    const wrong = await a.client.verification.check({ target: phoneTarget(phone), code: code === "000000" ? "111111" : "000000" });
    assert.deepEqual([wrong.id, wrong.status], [v.id, "failure"]);
    const ok = await a.client.verification.check({ target: phoneTarget(phone), code });
    assert.deepEqual([ok.id, ok.status], [v.id, "success"]);
    const again = await a.client.verification.check({ target: phoneTarget(phone), code });
    assert.equal(again.status, "expired_or_not_found");
    assert.equal(again.id, undefined);
    // Charged as one send (US SMS, 75 minor units).
    assert.deepEqual(await sends(a.accountId), [{ kind: "otp_send", amount: -75 }]);
    // The next create opens a new window.
    const next = await a.client.verification.create({ target: phoneTarget(phone) });
    assert.equal(next.status, "success");
    assert.notEqual(next.id, v.id);
  });

  test("retry: a second create answers 'retry' with a fresh code; both codes verify until one is used", async () => {
    const a = await account("retry");
    const phone = freshPhone();
    const first = await a.client.verification.create({ target: phoneTarget(phone), options: { code_size: 4 } });
    const code1 = (await latestCode(app, phone)).code;
    const retry = await a.client.verification.create({ target: phoneTarget(phone), options: { code_size: 8 } });
    assert.equal(retry.status, "retry");
    assert.equal(retry.id, first.id, "a retry is the same verification");
    const code2 = (await latestCode(app, phone)).code;
    assert.match(code1, /^\d{4}$/);
    assert.match(code2, /^\d{8}$/);
    // Each retry is charged as a send.
    assert.deepEqual(await sends(a.accountId), [{ kind: "otp_send", amount: -75 }, { kind: "otp_send", amount: -75 }]);
    // Either code verifies: the older one here (a copy of the window is not needed: one try).
    const ok = await a.client.verification.check({ target: phoneTarget(phone), code: code1 });
    assert.deepEqual([ok.id, ok.status], [first.id, "success"]);
    // Used: neither code verifies any more.
    for (const code of [code1, code2]) {
      assert.equal((await a.client.verification.check({ target: phoneTarget(phone), code })).status, "expired_or_not_found");
    }
    // And the newer code of another window verifies as well.
    const phone2 = freshPhone();
    await a.client.verification.create({ target: phoneTarget(phone2) });
    await a.client.verification.create({ target: phoneTarget(phone2) });
    const newest = (await latestCode(app, phone2)).code;
    assert.equal((await a.client.verification.check({ target: phoneTarget(phone2), code: newest })).status, "success");
  });

  test("a check for a number without a window, or another account's → expired_or_not_found", async () => {
    const a = await account("nowindow");
    const b = await account("other");
    const phone = freshPhone();
    assert.equal((await a.client.verification.check({ target: phoneTarget(phone), code: "123456" })).status, "expired_or_not_found");
    await b.client.verification.create({ target: phoneTarget(phone) });
    const { code } = await latestCode(app, phone);
    assert.equal((await a.client.verification.check({ target: phoneTarget(phone), code })).status, "expired_or_not_found");
    assert.equal((await b.client.verification.check({ target: phoneTarget(phone), code })).status, "success");
  });

  test("custom code, voice method, preferred channel, and the fallbacks a verification lists", async () => {
    const a = await account("options");
    const phone = freshPhone();
    const v = await a.client.verification.create({ target: phoneTarget(phone), options: { custom_code: "4321", preferred_channel: "whatsapp", max_auto_fallbacks: 2, locale: "fr-FR" } });
    // The fallbacks: the other channels this deployment delivers on, in its order.
    assert.deepEqual(v.channels, ["whatsapp", "sms", "voice"]);
    const out = await latestCode(app, phone);
    assert.equal(out.code, "4321");
    assert.equal(out.message.channel, "whatsapp");
    assert.equal((await a.client.verification.check({ target: phoneTarget(phone), code: "4321" })).status, "success");
    const voice = await a.client.verification.create({ target: phoneTarget(freshPhone()), options: { method: "voice" } });
    assert.equal(voice.method, "voice");
    assert.deepEqual(voice.channels, ["voice"]);
    // A channel this deployment does not deliver on is a preference: SMS goes out.
    const viber = await a.client.verification.create({ target: phoneTarget(freshPhone()), options: { preferred_channel: "viber" } });
    assert.deepEqual(viber.channels, ["sms"]);
  });

  test("expired codes: the window ends with its last code", async () => {
    const short = await preludeApp({ OTP_TTL_SECS: "1" });
    try {
      const a = await short.createAccount("expiry", "5.00");
      const client = sdk(short, a.key);
      const phone = freshPhone();
      await client.verification.create({ target: phoneTarget(phone) });
      const { code } = await latestCode(short, phone);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await client.verification.check({ target: phoneTarget(phone), code })).status, "expired_or_not_found");
      // A create after the window ended is a new verification, not a retry.
      assert.equal((await client.verification.create({ target: phoneTarget(phone) })).status, "success");
    } finally {
      await short.close();
    }
  });

  test("20 parallel right codes → one success; 50 parallel wrong → at most the attempt limit counted", async () => {
    const a = await account("races");
    const client = sdk(app, a.key, { maxRetries: 0 });
    const phone = freshPhone();
    await client.verification.create({ target: phoneTarget(phone) });
    const { code } = await latestCode(app, phone);
    const right = await Promise.all(Array.from({ length: 20 }, () => client.verification.check({ target: phoneTarget(phone), code })));
    assert.equal(right.filter((r) => r.status === "success").length, 1);
    assert.equal(right.filter((r) => r.status !== "success").length, 19);
    assert.ok(right.every((r) => r.status === "success" || r.status === "expired_or_not_found"));

    const phone2 = freshPhone();
    await client.verification.create({ target: phoneTarget(phone2) });
    const code2 = (await latestCode(app, phone2)).code;
    const bad = code2 === "000000" ? "999999" : "000000";
    const wrong = await Promise.allSettled(Array.from({ length: 50 }, () => client.verification.check({ target: phoneTarget(phone2), code: bad })));
    const failures = wrong.filter((r) => r.status === "fulfilled" && r.value.status === "failure").length;
    const refused = wrong.filter((r) => r.status === "rejected" && r.reason.status === 429 && r.reason.error.code === "too_many_requests").length;
    assert.equal(failures, 5, "exactly the attempt limit was counted");
    assert.equal(failures + refused, 50);
    // Spent: the right code no longer verifies (429 in Prelude's envelope).
    await rejectsWith(client.verification.check({ target: phoneTarget(phone2), code: code2 }), 429, "too_many_requests");
  });

  test("a number on the block list is blocked with Prelude's reason; nothing is charged or sent", async () => {
    const a = await account("blocked");
    const phone = freshPhone();
    const added = await a.client.verificationManagement.setPhoneNumber("block", { phone_number: phone });
    assert.deepEqual(added, { phone_number: phone });
    const v = await a.client.verification.create({ target: phoneTarget(phone) });
    assert.equal(v.status, "blocked");
    assert.equal(v.reason, "in_block_list");
    assert.match(v.id, VRF);
    assert.deepEqual(await sends(a.accountId), []);
    const out = await app.request("GET", `/admin/outbox?to=${encodeURIComponent(phone)}`, { admin: true });
    assert.deepEqual(out.body.messages, []);
    // The fraud guard's geo rule: suspicious.
    const put = await app.request("PUT", "/v1/fraud/policy", { key: a.key, body: { blocked_countries: ["MY"] } });
    assert.equal(put.status, 200, put.text);
    const geo = await a.client.verification.create({ target: phoneTarget("+60123456789") });
    assert.deepEqual([geo.status, geo.reason], ["blocked", "suspicious"]);
  });

  test("monitor mode: shadow_blocked with the reason, and the code still goes out", async () => {
    const a = await account("monitor");
    const put = await app.request("PUT", "/v1/fraud/policy", { key: a.key, body: { mode: "monitor", blocked_countries: ["MY"] } });
    assert.equal(put.status, 200, put.text);
    const phone = "+60123450001";
    const v = await a.client.verification.create({ target: phoneTarget(phone) });
    assert.deepEqual([v.status, v.reason], ["shadow_blocked", "suspicious"]);
    const { code } = await latestCode(app, phone);
    assert.equal((await a.client.verification.check({ target: phoneTarget(phone), code })).status, "success");
  });

  test("allow and block lists: list, add (idempotent), remove (idempotent), tied to the fraud guard", async () => {
    const a = await account("lists");
    const m = a.client.verificationManagement;
    const phone = freshPhone();
    assert.deepEqual(await m.listPhoneNumbers("allow"), { phone_numbers: [] });
    await m.setPhoneNumber("allow", { phone_number: phone });
    await m.setPhoneNumber("allow", { phone_number: phone });
    const allow = await m.listPhoneNumbers("allow");
    assert.equal(allow.phone_numbers.length, 1);
    assert.equal(allow.phone_numbers[0].phone_number, phone);
    assert.ok(!isNaN(Date.parse(allow.phone_numbers[0].created_at)));
    // The allow list is the fraud guard's safe list.
    const safe = await app.request("GET", "/v1/fraud/safe-list", { key: a.key });
    assert.deepEqual(safe.body.numbers.map((n) => n.phone), [phone]);
    assert.deepEqual(await m.deletePhoneNumber("allow", { phone_number: phone }), { phone_number: phone });
    assert.deepEqual(await m.deletePhoneNumber("allow", { phone_number: phone }), { phone_number: phone });
    assert.deepEqual(await m.listPhoneNumbers("allow"), { phone_numbers: [] });

    await m.setPhoneNumber("block", { phone_number: phone });
    await m.setPhoneNumber("block", { phone_number: phone });
    assert.deepEqual((await m.listPhoneNumbers("block")).phone_numbers.map((n) => n.phone_number), [phone]);
    const blocks = await app.request("GET", "/v1/fraud/blocks", { key: a.key });
    assert.deepEqual(blocks.body.blocks.map((b) => [b.scope, b.value, b.reason]), [["phone", phone, "manual"]]);
    await m.deletePhoneNumber("block", { phone_number: phone });
    await m.deletePhoneNumber("block", { phone_number: phone });
    assert.deepEqual(await m.listPhoneNumbers("block"), { phone_numbers: [] });
    assert.equal((await a.client.verification.create({ target: phoneTarget(phone) })).status, "success");
    await rejectsWith(m.setPhoneNumber("block", { phone_number: "12345" }), 400, "invalid_phone_number", "phone_number");
    await rejectsWith(m.listPhoneNumbers("other"), 404, "not_found");
  });

  test("callback_url: verify.authentication and verify.attempt for the window, verify.attempt for a retry", async () => {
    const a = await account("callbacks");
    // No webhook endpoint: a callback goes to its own URL all the same.
    assert.equal((await app.request("DELETE", "/v1/webhook", { key: a.key })).status, 200);
    const receiver = await startReceiver();
    try {
      const phone = freshPhone();
      const options = { callback_url: receiver.url };
      const v = await a.client.verification.create({ target: phoneTarget(phone), options, metadata: { correlation_id: "cb-1" } });
      await until("two callbacks", () => receiver.received.length === 2);
      const [auth, attempt] = receiver.received.map((r) => r.body);
      assert.equal(auth.type, "verify.authentication");
      assert.equal(attempt.type, "verify.attempt");
      for (const e of [auth, attempt]) {
        assert.match(e.id, /^evt_/);
        assert.equal(e.payload.verification_id, v.id);
        assert.deepEqual(e.payload.target, phoneTarget(phone));
        assert.deepEqual(e.payload.price, { amount: 0.0075, currency: "USD" });
        assert.deepEqual(e.payload.metadata, { correlation_id: "cb-1" });
        assert.ok(!isNaN(Date.parse(e.created_at)));
      }
      assert.equal(attempt.payload.channel, "sms");
      const h = receiver.received[0].headers;
      assert.equal(h["webhook-id"], auth.id);
      assert.match(h["webhook-signature"], /^v1,/);
      const retry = await a.client.verification.create({ target: phoneTarget(phone), options });
      assert.equal(retry.status, "retry");
      await until("three callbacks", () => receiver.received.length === 3);
      const third = receiver.received[2].body;
      assert.deepEqual([third.type, third.payload.verification_id], ["verify.attempt", v.id]);
      assert.notEqual(third.id, attempt.id);
    } finally {
      await receiver.close();
    }
  });

  test("bad input → Prelude's 4xx in its envelope; a bad key → 401 first", async () => {
    const a = await account("input");
    const c = sdk(app, a.key, { maxRetries: 0 });
    await rejectsWith(c.verification.create({ target: { type: "ip_address", value: "1.2.3.4" } }), 400, "invalid_request", "target.type");
    await rejectsWith(c.verification.create({ target: phoneTarget("not-a-phone") }), 400, "invalid_phone_number", "target.value");
    await rejectsWith(c.verification.create({ target: phoneTarget(freshPhone()), options: { code_size: 3 } }), 400, "invalid_code_size", "options.code_size");
    await rejectsWith(c.verification.create({ target: phoneTarget(freshPhone()), options: { code_size: 9 } }), 400, "invalid_code_size", "options.code_size");
    await rejectsWith(c.verification.check({ target: { type: "email_address", value: "a@b.c" }, code: "1234" }), 400, "email_verification_not_allowed", "target.type");
    await rejectsWith(c.verification.check({ target: phoneTarget("+1"), code: "1234" }), 400, "invalid_phone_number");
    // A callback URL follows the webhook rules (https, no internal address).
    await rejectsWith(c.verification.create({ target: phoneTarget(freshPhone()), options: { callback_url: "http://169.254.169.254/latest" } }), 400, "invalid_callback_url", "options.callback_url");
    const nokey = sdk(app, "0".repeat(32), { maxRetries: 0 });
    await rejectsWith(nokey.verification.create({ target: { type: "ip_address", value: "x" } }), 401, "invalid_api_key");
    await rejectsWith(nokey.verification.check({ target: phoneTarget(freshPhone()), code: "1234" }), 401, "invalid_api_key");
    const broke = await app.createAccount("broke");
    await rejectsWith(sdk(app, broke.key, { maxRetries: 0 }).verification.create({ target: phoneTarget(freshPhone()) }), 402, "insufficient_balance");
    assert.deepEqual(await sends(a.accountId), [], "no bad request was charged");
  });
});
