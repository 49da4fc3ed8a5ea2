// Prelude's `options.max_auto_fallbacks` through the official `@prelude.so/sdk`: while the
// code is unverified, the next channel goes out after PRELUDE_FALLBACK_TIMEOUT_SECS (the same
// code, charged at that channel's price, one ledger row per step); a fallback that races a
// successful check is never sent after it nor charged (20 runs). Also: the sessions are
// stored as the `prelude` door, and statistics count them under it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import Prelude from "@prelude.so/sdk";
import { spawnPricedOtpApp, latestCode, freshPhone, outboxTo, until, ledgerOfObject } from "./otp-support.mjs";

let app;
let acct;
let client;

before(async () => {
  app = await spawnPricedOtpApp({ vars: { PRELUDE_FALLBACK_TIMEOUT_SECS: "15", OTP_RESEND_INTERVAL_SECS: "0" } });
  acct = await app.createAccount("prelude-fallbacks", "10.00");
  client = new Prelude({ apiToken: acct.key, baseURL: new URL(app.url).origin });
});
after(() => app?.close());

const target = (value) => ({ type: "phone_number", value });
const steps = (phone) =>
  app.db
    .prepare("SELECT s.id, s.session_id, s.channel, s.cost, s.created_at FROM otp_steps s JOIN otp_sessions o ON o.id = s.session_id WHERE o.phone = ? ORDER BY s.n")
    .bind(phone)
    .all()
    .then((r) => r.results);

test("sms, then whatsapp after the timeout with the same code, charged at whatsapp's price; the code then verifies", async () => {
  const phone = freshPhone();
  const before = await app.money(acct.accountId);
  const v = await client.verification.create({ target: target(phone), options: { max_auto_fallbacks: 1 } });
  assert.equal(v.status, "success");
  assert.deepEqual(v.channels, ["sms", "whatsapp"]);
  const first = await latestCode(app, phone);
  assert.equal(first.message.channel, "sms");
  const whatsapp = await until("the whatsapp fallback", async () => (await outboxTo(app, phone)).find((m) => m.channel === "whatsapp"));
  assert.ok(whatsapp.text.includes(first.code), "the fallback carries the send's code");
  const [step] = await steps(phone);
  assert.deepEqual([step.channel, step.cost], ["whatsapp", 50]);
  assert.deepEqual(await ledgerOfObject(app, step.id), [{ kind: "otp_send", amount: -50 }]);
  const ok = await client.verification.check({ target: target(phone), code: first.code });
  assert.deepEqual([ok.id, ok.status], [v.id, "success"]);
  const after = await app.money(acct.accountId);
  assert.equal(after.balance, before.balance - 75 - 50);
  assert.equal(after.ledgerSum, after.balance);
  const session = await app.db.prepare("SELECT dialect FROM otp_sessions WHERE id = ?").bind(step.session_id).first();
  assert.equal(session.dialect, "prelude");
});

test("no fallbacks asked: none listed, none sent", async () => {
  const phone = freshPhone();
  const v = await client.verification.create({ target: target(phone) });
  assert.deepEqual(v.channels, ["sms"]);
  const rows = await app.db.prepare("SELECT COUNT(*) AS n FROM otp_steps s JOIN otp_sessions o ON o.id = s.session_id WHERE o.phone = ?").bind(phone).first();
  assert.equal(rows.n, 0);
});

test("a fallback racing a right code (20 runs): never sent after the check, charged only when sent", async () => {
  const before = await app.money(acct.accountId);
  const phones = Array.from({ length: 20 }, () => freshPhone());
  const runs = await Promise.all(
    phones.map(async (phone, i) => {
      const v = await client.verification.create({ target: target(phone), options: { max_auto_fallbacks: 1 } });
      const { code } = await latestCode(app, phone);
      // Checks spread around the moment the fallback falls due (15 s), some before, some after.
      await new Promise((r) => setTimeout(r, 14_000 + i * 100));
      const ok = await client.verification.check({ target: target(phone), code });
      return { phone, v, ok };
    }),
  );
  for (const { v, ok } of runs) assert.deepEqual([ok.id, ok.status], [v.id, "success"]);
  // Any step let out before its check commits with its charge; none goes out after.
  await new Promise((r) => setTimeout(r, 3000));
  let sent = 0;
  for (const { phone } of runs) {
    const session = await until("the verified mirror", async () =>
      app.db.prepare("SELECT id, verified_at FROM otp_sessions WHERE phone = ? AND verified_at IS NOT NULL").bind(phone).first(),
    );
    const taken = await steps(phone);
    const whatsapp = (await outboxTo(app, phone)).filter((m) => m.channel === "whatsapp");
    assert.equal(whatsapp.length, taken.length, "sent ⇔ recorded");
    for (const step of taken) {
      assert.ok(step.created_at <= session.verified_at, "a step is let out only before the check");
      assert.deepEqual(await ledgerOfObject(app, step.id), [{ kind: "otp_send", amount: -50 }]);
    }
    sent += taken.length;
  }
  const after = await app.money(acct.accountId);
  assert.equal(after.balance, before.balance - 20 * 75 - sent * 50);
  assert.equal(after.ledgerSum, after.balance);
});

test("statistics count Prelude's sends under the prelude door", async () => {
  const r = await app.request("GET", "/v1/stats/otp?group_by=door", { key: acct.key });
  assert.equal(r.status, 200, r.text);
  const prelude = r.body.rows.find((row) => row.key === "prelude");
  assert.ok(prelude && prelude.sends >= 22, JSON.stringify(r.body.rows));
  assert.equal(r.body.rows.find((row) => row.key === "whatotp"), undefined);
});
