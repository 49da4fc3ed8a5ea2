// A send keeps its new session in the session's Durable Object's memory (its KV record is
// the durable copy until a check changes it). If the object restarted between the send and
// the first check, the check restores the session from KV, with the same guarantees.
// The restart is injected with `X-Test-Fault: object_restarted` (the send does not open the
// object at all), honoured only because this app runs with TEST_FAULTS=1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnOtpApp, seedOtpPrices, latestCode, freshPhone, createTemplate } from "./otp-support.mjs";

let app, acct;

before(async () => {
  app = await spawnOtpApp({ vars: { TEST_FAULTS: "1" } });
  await seedOtpPrices(app);
  acct = await app.createAccount("restore", "10.00");
});
after(() => app?.close());

const restarted = { "X-Test-Fault": "object_restarted" };
const send = (to) => app.request("POST", "/v1/otp/send", { key: acct.key, headers: restarted, body: { to, channel: "sms" } });
const verify = (session_id, code) => app.request("POST", "/v1/otp/verify", { key: acct.key, body: { session_id, code } });

test("a session its object never held is restored from KV by its first check: wrong, right, then already used", async () => {
  const to = freshPhone();
  const s = await send(to);
  assert.equal(s.status, 200, s.text);
  const { code } = await latestCode(app, to);
  const wrong = await verify(s.body.session_id, code === "000000" ? "111111" : "000000");
  assert.equal(wrong.status, 200, wrong.text);
  assert.equal(wrong.body.verified, false);
  assert.equal(wrong.body.attempts_remaining, 4);
  const right = await verify(s.body.session_id, code);
  assert.equal(right.body.verified, true, right.text);
  assert.equal((await verify(s.body.session_id, code)).body.reason, "already_used");
  const row = await app.db.prepare("SELECT attempts, verified_at FROM otp_sessions WHERE id = ?").bind(s.body.session_id).first();
  assert.equal(row.attempts, 1);
  assert.ok(row.verified_at > 0);
});

test("50 parallel wrong guesses, all restoring the session at once → exactly 5 counted; then the right code is refused", async () => {
  const to = freshPhone();
  const s = await send(to);
  assert.equal(s.status, 200, s.text);
  const { code } = await latestCode(app, to);
  const wrong = code === "999999" ? "888888" : "999999";
  const results = await Promise.all(Array.from({ length: 50 }, () => verify(s.body.session_id, wrong)));
  assert.ok(results.every((r) => r.status === 200), results.find((r) => r.status !== 200)?.text);
  assert.equal(results.filter((r) => r.body.reason === "invalid_code").length, 5);
  assert.equal(results.filter((r) => r.body.reason === "max_attempts").length, 45);
  assert.equal((await verify(s.body.session_id, code)).body.reason, "max_attempts");
});

test("20 parallel right codes on a restored session → exactly one success", async () => {
  const to = freshPhone();
  const s = await send(to);
  const { code } = await latestCode(app, to);
  const results = await Promise.all(Array.from({ length: 20 }, () => verify(s.body.session_id, code)));
  assert.equal(results.filter((r) => r.body.verified === true).length, 1);
  assert.equal(results.filter((r) => r.body.reason === "already_used").length, 19);
});

test("GetOTP's state of a restored session, and another account's key finds nothing", async () => {
  const template = await createTemplate(app, "Code {code}", "sms", "restore");
  const phone = `6012345${String(7000 + Math.floor(Math.random() * 2000))}`;
  const s = await app.request("POST", "/api/verify/", { headers: { "X-OTP-Key": acct.key, ...restarted }, body: { data: { channel: "sms", sender: "Shop", phone, template, code_length: 6 } } });
  assert.equal(s.status, 200, s.text);
  const state = await app.request("GET", `/api/verify/${s.body.message_id}`, { headers: { "X-OTP-Key": acct.key } });
  assert.equal(state.status, 200, state.text);
  assert.equal(state.body.status, "pending");
  assert.equal(state.body.attempts_remaining, 5);
  const other = await app.createAccount("other", "1.00");
  const theirs = await app.request("POST", "/v1/otp/verify", { key: other.key, body: { session_id: s.body.message_id, code: "123456" } });
  assert.equal(theirs.status, 404, theirs.text);
});
