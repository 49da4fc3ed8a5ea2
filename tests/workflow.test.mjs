// The workflow engine through WhatOTP's `fallback` (our extension): a step goes out on its
// channel after its timeout while the code is unverified (the same code, charged at that
// channel's price, one ledger row, an `otp.step` event); a session verified first sends and
// charges nothing more; bad steps are refused before anything is charged.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnPricedOtpApp, latestCode, freshPhone, outboxTo, until, ledgerOfObject } from "./otp-support.mjs";

let app;
let acct;

before(async () => {
  app = await spawnPricedOtpApp();
  acct = await app.createAccount("workflow", "10.00");
});
after(() => app?.close());

const send = (to, fallback, extra = {}) =>
  app.request("POST", "/v1/otp/send", { key: acct.key, body: { to, channel: "sms", fallback, ...extra } });

const outbox = (to) => outboxTo(app, to);


const ledger = (objectId) => ledgerOfObject(app, objectId);

test("sms, then voice after 15 s unverified: the same code, charged at voice's price; a session verified first sends nothing more", async () => {
  const [late, early] = [freshPhone(), freshPhone()];
  const before = await app.money(acct.accountId);
  const a = await send(late, [{ channel: "voice", timeout_s: 15 }]);
  assert.equal(a.status, 200, a.text);
  const b = await send(early, [{ channel: "voice", timeout_s: 15 }]);
  assert.equal(b.status, 200, b.text);
  const first = await latestCode(app, late);
  assert.equal(first.message.channel, "sms");
  // The early session is verified before its step falls due.
  const { code: earlyCode } = await latestCode(app, early);
  const ok = await app.request("POST", "/v1/otp/verify", { key: acct.key, body: { session_id: b.body.session_id, code: earlyCode } });
  assert.equal(ok.body.verified, true, ok.text);

  const voice = await until("the voice step", async () => (await outbox(late)).find((m) => m.channel === "voice"));
  assert.ok(voice.text.includes(first.code), "the step carries the session's code");
  const step = await ledger(`${a.body.session_id}:step1`);
  assert.deepEqual(step, [{ kind: "otp_send", amount: -150 }]);
  const events = await app.db.prepare("SELECT data FROM webhook_events WHERE event_type = 'otp.step' AND object_id = ?").bind(`${a.body.session_id}:step1`).all();
  assert.equal(events.results.length, 1);
  assert.deepEqual(JSON.parse(events.results[0].data), { session_id: a.body.session_id, step: 1, channel: "voice", status: "sent", error: null });
  // The code still verifies (the attempts count across the whole session).
  const v = await app.request("POST", "/v1/otp/verify", { key: acct.key, body: { session_id: a.body.session_id, code: first.code } });
  assert.equal(v.body.verified, true, v.text);

  // The early session's step fell due at the same time: not sent, not charged.
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual((await outbox(early)).map((m) => m.channel), ["sms"]);
  assert.deepEqual(await ledger(`${b.body.session_id}:step1`), []);
  const after = await app.money(acct.accountId);
  assert.equal(after.balance, before.balance - 75 - 75 - 150);
  assert.equal(after.ledgerSum, after.balance);
});

test("bad fallback steps are refused before anything is charged", async () => {
  const before = await app.money(acct.accountId);
  const cases = [
    [[{ channel: "voice", timeout_s: 14 }], /timeout_s/],
    [[{ channel: "voice", timeout_s: 901 }], /timeout_s/],
    [[{ channel: "fax", timeout_s: 30 }], /channel/i],
    [[{ channel: "voice" }], /timeout_s/],
    [[{ channel: "voice", timeout_s: 200 }, { channel: "whatsapp", timeout_s: 200 }], /lifetime/],
  ];
  for (const [fallback, message] of cases) {
    const r = await send(freshPhone(), fallback);
    assert.equal(r.status, 400, `${JSON.stringify(fallback)}: ${r.text}`);
    assert.match(r.body.errors[0].message, message);
  }
  assert.equal((await app.money(acct.accountId)).balance, before.balance);
});

test("a step the wallet cannot pay is not sent nor charged, and says so in its otp.step event", async () => {
  // 0.0100 pays the sms (75) and leaves 25: the voice step (150) is refused by the wallet.
  const poor = await app.createAccount("poor", "0.0100");
  const to = freshPhone();
  const s = await app.request("POST", "/v1/otp/send", { key: poor.key, body: { to, channel: "sms", fallback: [{ channel: "voice", timeout_s: 15 }] } });
  assert.equal(s.status, 200, s.text);
  const stepId = `${s.body.session_id}:step1`;
  const event = await until("the step's event", async () => {
    const r = await app.db.prepare("SELECT data FROM webhook_events WHERE event_type = 'otp.step' AND object_id = ?").bind(stepId).first();
    return r && JSON.parse(r.data);
  });
  assert.deepEqual(event, { session_id: s.body.session_id, step: 1, channel: "voice", status: "failed", error: "insufficient_funds" });
  assert.deepEqual((await outbox(to)).map((m) => m.channel), ["sms"]);
  assert.deepEqual(await ledger(stepId), []);
  const money = await app.money(poor.accountId);
  assert.equal(money.balance, 25);
  assert.equal(money.ledgerSum, money.balance);
});
