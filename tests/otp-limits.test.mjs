// Resend rules (interval, per-window count, under parallel sends) and session expiry.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnPricedOtpApp, latestCode, freshPhone } from "./otp-support.mjs";

/** For one describe block: a Worker with `vars`, its OTP prices seeded, and an account with
 * 10.00 named `name`, handed to `set`. */
function withOtpApp(name, vars, set) {
  let app;
  before(async () => {
    app = await spawnPricedOtpApp({ vars });
    set(app, await app.createAccount(name, "10.00"));
  });
  after(() => app?.close());
}

describe("resend interval (default 30 s)", () => {
  let app, acct;
  withOtpApp("limits", {}, (a, k) => ([app, acct] = [a, k]));

  test("a second send inside 30 s is refused with when the next is allowed, and not charged", async () => {
    const to = freshPhone();
    const first = await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to, channel: "sms" } });
    assert.equal(first.status, 200);
    const next = Date.parse(first.body.resend_available_at);
    assert.ok(Math.abs(next - (Date.now() + 30_000)) < 5_000, first.body.resend_available_at);
    const before = await app.money(acct.accountId);
    const again = await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to, channel: "sms" } });
    assert.equal(again.status, 429, again.text);
    assert.equal(again.body.errors[0].code, "2201");
    const retry = Number(again.headers.get("Retry-After"));
    assert.ok(retry >= 25 && retry <= 30, `Retry-After ${retry}`);
    // When the next send is allowed: in the error object (as in the send answer) and the message.
    const at = again.body.errors[0].resend_available_at;
    assert.ok(Math.abs(Date.parse(at) - Date.parse(first.body.resend_available_at)) <= 1000, `${at} vs ${first.body.resend_available_at}`);
    assert.ok(again.body.errors[0].message.includes(at), again.body.errors[0].message);
    assert.deepEqual(await app.money(acct.accountId), before);
    const { all } = await latestCode(app, to);
    assert.equal(all.length, 1);
    // Another phone is not held back.
    assert.equal((await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to: freshPhone(), channel: "sms" } })).status, 200);
  });

  test("parallel sends to one phone → exactly one goes out", async () => {
    const to = freshPhone();
    const results = await Promise.all(Array.from({ length: 10 }, () => app.request("POST", "/v1/otp/send", { key: acct.key, body: { to, channel: "sms" } })));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.status === 429 && r.headers.get("Retry-After")));
    const { all } = await latestCode(app, to);
    assert.equal(all.length, 1);
  });
});

describe("sends per window (5 per 10 min, interval 0 here)", () => {
  let app, acct;
  withOtpApp("window", { OTP_RESEND_INTERVAL_SECS: "0" }, (a, k) => ([app, acct] = [a, k]));

  test("the 6th send in 10 minutes is refused with when-next-allowed", async () => {
    const to = freshPhone();
    let firstAt;
    for (let i = 0; i < 5; i++) {
      const r = await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to, channel: "sms" } });
      assert.equal(r.status, 200, r.text);
      firstAt ??= Date.now();
    }
    const sixth = await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to, channel: "sms" } });
    assert.equal(sixth.status, 429, sixth.text);
    assert.equal(sixth.body.errors[0].code, "2202");
    const retry = Number(sixth.headers.get("Retry-After"));
    assert.ok(retry > 590 && retry <= 600, `Retry-After ${retry}`);
    const allowedAt = sixth.body.errors[0].resend_available_at;
    assert.ok(sixth.body.errors[0].message.includes(allowedAt));
    assert.ok(Math.abs(Date.parse(allowedAt) - (firstAt + 600_000)) < 5_000, allowedAt);
    const { all } = await latestCode(app, to);
    assert.equal(all.length, 5);
  });

  test("12 parallel sends to one phone → exactly 5 go out and are charged", async () => {
    const to = freshPhone();
    const before = await app.money(acct.accountId);
    const results = await Promise.all(Array.from({ length: 12 }, () => app.request("POST", "/v1/otp/send", { key: acct.key, body: { to, channel: "sms" } })));
    assert.equal(results.filter((r) => r.status === 200).length, 5);
    assert.equal(results.filter((r) => r.status === 429).length, 7);
    const after = await app.money(acct.accountId);
    assert.equal(after.balance, before.balance - 5 * 75);
    assert.equal(after.ledgerSum, after.balance);
  });
});

describe("expiry (OTP_TTL_SECS=1)", () => {
  let app, acct;
  withOtpApp("expiry", { OTP_TTL_SECS: "1" }, (a, k) => ([app, acct] = [a, k]));

  test("the right code after the lifetime → expired, and the event is recorded once", async () => {
    const to = freshPhone();
    const s = await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to, channel: "sms" } });
    assert.equal(s.status, 200);
    const { code } = await latestCode(app, to);
    await new Promise((r) => setTimeout(r, 1300));
    const r = await app.request("POST", "/v1/otp/verify", { key: acct.key, body: { session_id: s.body.session_id, code } });
    assert.equal(r.status, 200);
    assert.equal(r.body.verified, false);
    assert.equal(r.body.reason, "expired");
    assert.equal(r.body.status, "rejected");
    await app.request("POST", "/v1/otp/verify", { key: acct.key, body: { session_id: s.body.session_id, code } });
    const events = await app.db.prepare("SELECT event_type FROM webhook_events WHERE object_id = ?").bind(s.body.session_id).all();
    assert.deepEqual(events.results.map((e) => e.event_type), ["otp.expired"]);
  });

  test("a lifetime above the 10-minute maximum is refused", async () => {
    const r = await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to: freshPhone(), channel: "sms", expires_in_seconds: 601 } });
    assert.equal(r.status, 400);
    assert.equal(r.body.errors[0].code, "2004");
  });
});

describe("configurable channels (OTP_CHANNELS=whatsapp, as WhatOTP's doc deployment)", () => {
  let app, acct;
  withOtpApp("wa", { OTP_CHANNELS: "whatsapp" }, (a, k) => ([app, acct] = [a, k]));

  test("sms is refused with 1515, whatsapp goes out", async () => {
    const sms = await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to: freshPhone(), channel: "sms" } });
    assert.equal(sms.status, 400);
    assert.equal(sms.body.errors[0].code, "1515");
    const to = freshPhone();
    const wa = await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to, channel: "whatsapp" } });
    assert.equal(wa.status, 200, wa.text);
    assert.equal(wa.body.cost, "0.005");
    assert.equal((await latestCode(app, to)).message.channel, "whatsapp");
  });
});
