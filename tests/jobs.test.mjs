// Jobs after the answer on the JOBS queue (Miniflare runs the producer and the consumer from
// wrangler.toml): a refund that fails on the request path is made by its queued job, once,
// even when the job is delivered twice; a job that keeps failing is retried, not lost. The
// scheduled pass makes a refund a failed template message still owes, and one recorded as
// owed when it could neither be made nor queued. A delivery reaches its provider once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import http from "node:http";
import { spawnPricedOtpApp, freshPhone, createTemplate } from "./otp-support.mjs";
import { sleep, waitFor } from "./support/activations.mjs";

const SERVER_KEY = randomBytes(32).toString("hex");
let app, sandbox, twilio, logs = "";

/** A fake Twilio that takes its time (300 ms) to accept each call, and counts them. */
async function startTwilio() {
  const calls = [];
  const server = http.createServer((req, res) => {
    calls.push(req.url);
    req.resume();
    setTimeout(() => res.writeHead(201, { "Content-Type": "application/json" }).end(JSON.stringify({ sid: `CA${calls.length}` })), 300);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { base: `http://127.0.0.1:${server.address().port}`, calls, close: () => new Promise((r) => server.close(r)) };
}

before(async () => {
  // A provider that refuses every text: each OTP send fails and is refunded.
  app = await spawnPricedOtpApp({ vars: { TEST_FAULTS: "1", OTP_PROVIDER: "nonexistent" }, log: (s) => (logs += s) });
  // The sandbox delivers every text but voice calls (Twilio, faked here); its SERVER_KEY is
  // known here, to seal jobs as it does.
  twilio = await startTwilio();
  const voice = { OTP_PROVIDER_VOICE: "twilio", TWILIO_BASE_URL: twilio.base, TWILIO_ACCOUNT_SID: "AC0123456789", TWILIO_AUTH_TOKEN: "twilio-auth-token", TWILIO_FROM: "+15005550006" };
  sandbox = await spawnPricedOtpApp({ vars: { TEST_FAULTS: "1", SERVER_KEY, ...voice } });
});
after(async () => {
  await app?.close();
  await sandbox?.close();
  await twilio?.close();
});

const kinds = async (accountId) =>
  (await app.db.prepare("SELECT kind FROM ledger WHERE account_id = ? ORDER BY seq").bind(accountId).all()).results.map((r) => r.kind);

/** The account's wallet is whole again (its 10.00, matching its ledger), whose rows are of
 * these kinds. */
async function assertWhole(accountId, expected) {
  const m = await app.money(accountId);
  assert.equal(m.balance, 10_000);
  assert.equal(m.ledgerSum, 10_000);
  assert.deepEqual(await kinds(accountId), expected);
}

const until = (fn) => waitFor(fn, 15_000);

/** An OTP send whose refund `fault` stops on the request path: a 502 whose answer says what is
 * true when it is read (the refund is owed, not made). */
async function refundOwedSend(who, fault) {
  const r = await app.request("POST", "/v1/otp/send", { key: who.key, headers: { "X-Test-Fault": fault }, body: { to: freshPhone(), channel: "sms" } });
  assert.equal(r.status, 502, r.text);
  assert.equal(r.body.errors[0].code, "2205");
  assert.match(r.body.errors[0].message, /the charge is owed back: its refund is queued$/);
}

test("a refund that fails on the request path is made once by its queued job, even delivered twice", async () => {
  const who = await app.createAccount("queued-refund", "1.00");
  await refundOwedSend(who, "refund_fails");
  assert.ok(await until(async () => (await app.money(who.accountId)).balance === 10_000), "the queued job refunded the charge");
  assert.deepEqual(await kinds(who.accountId), ["topup", "otp_send", "otp_refund"]);
  const session = (await app.db.prepare("SELECT id, cost FROM otp_sessions WHERE account_id = ?").bind(who.accountId).first());

  // The same job again (a queue may deliver a message twice): nothing changes.
  const queue = await app.mf.getQueueProducer("JOBS");
  const job = { job: "refund", account_id: who.accountId, kind: "otp_refund", cost: session.cost, object_id: session.id };
  await queue.send(JSON.stringify(job));
  await queue.send(JSON.stringify(job));
  // A job that cannot run yet (its account's wallet is missing) stays on the queue, retried.
  await queue.send(JSON.stringify({ ...job, account_id: "acc_missing", object_id: "otp_missing" }));
  assert.ok(await until(async () => /job \S+ on otpedge-jobs, try 2, failed/.test(logs)), "the failing job was retried");
  await assertWhole(who.accountId, ["topup", "otp_send", "otp_refund"]);
});

test("the scheduled pass refunds a failed template message whose refund never committed, once", async () => {
  const who = await app.createAccount("owed", "1.00");
  const tpl = await createTemplate(app, "Order {order} shipped");
  const r = await app.request("POST", "/v1/messages/send", { key: who.key, body: { phone_number: freshPhone(), template_id: tpl, variables: { order: 7 } } });
  assert.equal(r.status, 202, r.text);
  const id = r.body.message_id;
  assert.ok(await until(async () => (await app.money(who.accountId)).balance === 10_000), "refunded after the failure");
  // As if the request's waitUntil was cut off after the failure was recorded, before the
  // refund: the refund row and its credit are taken back out.
  const refund = await app.db.prepare("SELECT amount FROM ledger WHERE object_id = ? AND kind = 'message_refund'").bind(id).first();
  await app.db.batch([
    app.db.prepare("DELETE FROM ledger WHERE object_id = ? AND kind = 'message_refund'").bind(id),
    app.db.prepare("UPDATE wallets SET balance = balance - ? WHERE account_id = ?").bind(refund.amount, who.accountId),
  ]);
  assert.equal((await app.money(who.accountId)).balance, 10_000 - refund.amount);

  const worker = await app.mf.getWorker();
  for (let pass = 0; pass < 2; pass++) {
    assert.equal((await worker.scheduled({ cron: "* * * * *" })).outcome, "ok");
    await assertWhole(who.accountId, ["topup", "message_send", "message_refund"]);
  }
});

/** A message's text sealed as `jobs::Deliver` seals it: HMAC-SHA256 counter-mode stream
 * under the key derived from SERVER_KEY and the message id, then the tag. */
function seal(messageId, plain) {
  const key = createHmac("sha256", SERVER_KEY).update(`otpedge:message-text:${messageId}:0`).digest();
  const data = Buffer.from(plain);
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i += 32) {
    const n = Buffer.alloc(8);
    n.writeBigUInt64BE(BigInt(i / 32));
    const block = createHmac("sha256", key).update(Buffer.concat([Buffer.from("ks:"), n])).digest();
    for (let j = 0; j < 32 && i + j < data.length; j++) out[i + j] = data[i + j] ^ block[j];
  }
  const tag = createHmac("sha256", key).update(Buffer.concat([Buffer.from("tag:"), out])).digest();
  return Buffer.concat([out, tag]).toString("hex");
}

const outboxOf = async (phone) =>
  (await sandbox.db.prepare("SELECT text FROM outbox WHERE to_phone = ?").bind(phone).all()).results.map((r) => r.text);
const statusOf = async (db, id) => (await db.prepare("SELECT status, error FROM messages WHERE id = ?").bind(id).first());

/** A new account `name` (1.00) on `on` sends its template message (`text` with `variables`, by
 * `channel`, to `phone`) with its delivery job dropped: the message stays queued until a test
 * hands the queue a job or runs a pass. The account, the template and the message id. */
async function droppedSend(on, name, text, variables, { channel = "sms", phone = freshPhone() } = {}) {
  const who = await on.createAccount(name, "1.00");
  const tpl = await createTemplate(on, text, channel);
  const headers = { "X-Test-Fault": "delivery_dropped" };
  const r = await on.request("POST", "/v1/messages/send", { key: who.key, headers, body: { phone_number: phone, template_id: tpl, variables } });
  assert.equal(r.status, 202, r.text);
  return { who, tpl, id: r.body.message_id };
}

test("a template message is delivered by its job on the queue, once however often the job comes", async () => {
  const phone = freshPhone();
  // The request's own job is dropped: the test hands the queue the job itself, twice.
  const { who, tpl, id } = await droppedSend(sandbox, "delivered", "Parcel {order} is on its way", { order: 42 }, { phone });
  assert.equal((await statusOf(sandbox.db, id)).status, "queued");
  const m = await sandbox.db.prepare("SELECT cost FROM messages WHERE id = ?").bind(id).first();
  const job = { job: "deliver", account_id: who.accountId, message_id: id, to: phone, channel: "sms", cost: m.cost, sealed: seal(id, JSON.stringify({ text: "Parcel 42 is on its way", code: null })) };
  const queue = await sandbox.mf.getQueueProducer("JOBS");
  await queue.send(JSON.stringify(job));
  await queue.send(JSON.stringify(job));
  assert.ok(await until(async () => (await statusOf(sandbox.db, id)).status === "sent"), "the job delivered it");
  await sleep(2_500); // the second copy has run by now
  assert.deepEqual(await outboxOf(phone), ["Parcel 42 is on its way"]);
  assert.deepEqual((await sandbox.db.prepare("SELECT kind FROM ledger WHERE account_id = ? ORDER BY seq").bind(who.accountId).all()).results.map((x) => x.kind), ["topup", "message_send"]);

  // A job whose text does not open under this deployment's key fails the message, refunded.
  const bad = await sandbox.request("POST", "/v1/messages/send", { key: who.key, headers: { "X-Test-Fault": "delivery_dropped" }, body: { phone_number: freshPhone(), template_id: tpl, variables: { order: 43 } } });
  const badId = bad.body.message_id;
  await queue.send(JSON.stringify({ ...job, message_id: badId, to: freshPhone(), sealed: seal(id, "{}") }));
  assert.ok(await until(async () => (await statusOf(sandbox.db, badId)).status === "failed"), "the message failed");
  assert.ok(await until(async () => (await sandbox.money(who.accountId)).balance === 10_000 - m.cost), "the failed one was refunded");
  const money = await sandbox.money(who.accountId);
  assert.equal(money.balance, money.ledgerSum);
});

test("copies of a delivery job running at the same moment reach the provider once: one claims the message", async () => {
  const phone = freshPhone();
  const { who, id } = await droppedSend(sandbox, "claimed", "Ticket {order} confirmed", { order: 5 }, { channel: "voice", phone });
  const m = await sandbox.db.prepare("SELECT cost FROM messages WHERE id = ?").bind(id).first();
  const body = JSON.stringify({ job: "deliver", account_id: who.accountId, message_id: id, to: phone, channel: "voice", cost: m.cost, sealed: seal(id, JSON.stringify({ text: "Ticket 5 confirmed", code: null })) });
  // Four deliveries of the same job at once, each its own run of the consumer (a queue
  // delivers at least once; a retry may overlap a try still waiting on the provider).
  const worker = await sandbox.mf.getWorker();
  const copy = (n) => worker.queue("otpedge-jobs", [{ id: `copy-${n}`, timestamp: new Date(), body, attempts: 1 }]);
  const calls = twilio.calls.length;
  const results = await Promise.all([1, 2, 3, 4].map(copy));
  for (const result of results) assert.equal(result.outcome, "ok");
  assert.equal(twilio.calls.length - calls, 1, "one call reached the provider");
  assert.deepEqual({ ...(await statusOf(sandbox.db, id)) }, { status: "sent", error: null });
  const kindsOf = await sandbox.db.prepare("SELECT kind FROM ledger WHERE account_id = ? ORDER BY seq").bind(who.accountId).all();
  assert.deepEqual(kindsOf.results.map((x) => x.kind), ["topup", "message_send"]);
});

test("a message its job claimed and never settled is failed and refunded by the scheduled pass after the bound, once", async () => {
  const { who, id } = await droppedSend(app, "stuck", "Room {order} ready", { order: 3 });
  // As if its job claimed it and the Worker stopped during the provider call.
  const claim = (at) => app.db.prepare("UPDATE messages SET status = 'sending', sending_at = ? WHERE id = ?").bind(at, id).run();
  await claim(Date.now() - 60_000);
  const worker = await app.mf.getWorker();
  // A claim one minute old may still be in its provider call: the pass leaves it.
  assert.equal((await worker.scheduled({ cron: "* * * * *" })).outcome, "ok");
  assert.equal((await statusOf(app.db, id)).status, "sending");
  assert.ok((await app.money(who.accountId)).balance < 10_000);
  await claim(Date.now() - 11 * 60_000);
  for (let pass = 0; pass < 2; pass++) {
    assert.equal((await worker.scheduled({ cron: "* * * * *" })).outcome, "ok");
    assert.deepEqual({ ...(await statusOf(app.db, id)) }, { status: "failed", error: "delivery not confirmed: its attempt stopped before the provider answered" });
    await assertWhole(who.accountId, ["topup", "message_send", "message_refund"]);
  }
});

test("a refund that can neither be made nor queued is owed in D1 and paid once by the scheduled pass", async () => {
  const who = await app.createAccount("owed-otp", "1.00");
  await refundOwedSend(who, "refund_unqueued");
  const session = await app.db.prepare("SELECT id, cost FROM otp_sessions WHERE account_id = ?").bind(who.accountId).first();
  const owed = () => app.db.prepare("SELECT account_id, cost, paid_at FROM refunds_owed WHERE object_id = ? AND kind = 'otp_refund'").bind(session.id).first();
  assert.deepEqual({ ...(await owed()) }, { account_id: who.accountId, cost: session.cost, paid_at: null });
  await sleep(2_000); // no job was queued: nothing else pays it
  assert.deepEqual(await kinds(who.accountId), ["topup", "otp_send"]);
  const worker = await app.mf.getWorker();
  for (let pass = 0; pass < 2; pass++) {
    assert.equal((await worker.scheduled({ cron: "* * * * *" })).outcome, "ok");
    await assertWhole(who.accountId, ["topup", "otp_send", "otp_refund"]);
    assert.ok((await owed()).paid_at > 0);
  }
});

test("a refund that can be neither made, recorded in D1 nor queued is kept in KV and paid once by the scheduled pass", async () => {
  const who = await app.createAccount("kept-otp", "1.00");
  await refundOwedSend(who, "refund_unrecorded");
  const session = await app.db.prepare("SELECT id, cost FROM otp_sessions WHERE account_id = ?").bind(who.accountId).first();
  assert.equal(await app.db.prepare("SELECT 1 FROM refunds_owed WHERE object_id = ?").bind(session.id).first(), null, "D1 took no record");
  const kv = await app.mf.getKVNamespace("OTP_SESSIONS");
  const key = `refund:otp_refund:${session.id}`;
  assert.deepEqual(JSON.parse(await kv.get(key)), { account_id: who.accountId, kind: "otp_refund", cost: session.cost, object_id: session.id });
  assert.deepEqual(await kinds(who.accountId), ["topup", "otp_send"]);
  const worker = await app.mf.getWorker();
  for (let pass = 0; pass < 2; pass++) {
    assert.equal((await worker.scheduled({ cron: "* * * * *" })).outcome, "ok");
    await assertWhole(who.accountId, ["topup", "otp_send", "otp_refund"]);
    assert.equal(await kv.get(key), null, "made, then forgotten");
  }
});

test("a delivery job that runs after its message expired records it failed and refunds it, without delivering", async () => {
  const phone = freshPhone();
  const { who, id } = await droppedSend(sandbox, "late", "Sale ends {day}", { day: "today" }, { phone });
  const m = await sandbox.db.prepare("SELECT cost FROM messages WHERE id = ?").bind(id).first();
  await sandbox.db.prepare("UPDATE messages SET expires_at = ? WHERE id = ?").bind(Date.now() - 60_000, id).run();
  const queue = await sandbox.mf.getQueueProducer("JOBS");
  await queue.send(JSON.stringify({ job: "deliver", account_id: who.accountId, message_id: id, to: phone, channel: "sms", cost: m.cost, sealed: seal(id, JSON.stringify({ text: "Sale ends today", code: null })) }));
  assert.ok(await until(async () => !["queued", "sending"].includes((await statusOf(sandbox.db, id)).status)), "settled by its job");
  assert.deepEqual({ ...(await statusOf(sandbox.db, id)) }, { status: "failed", error: "not delivered before it expired" });
  assert.ok(await until(async () => (await sandbox.money(who.accountId)).balance === 10_000), "refunded");
  assert.deepEqual(await outboxOf(phone), []);
});

test("a message whose delivery job was lost is failed and refunded by the scheduled pass, once", async () => {
  const { who, id } = await droppedSend(app, "stranded", "Order {order} packed", { order: 9 });
  const worker = await app.mf.getWorker();
  // Not yet long past its expiry: the pass leaves it to its job.
  assert.equal((await worker.scheduled({ cron: "* * * * *" })).outcome, "ok");
  assert.equal((await statusOf(app.db, id)).status, "queued");
  assert.ok((await app.money(who.accountId)).balance < 10_000);
  // As if it expired 11 minutes ago.
  await app.db.prepare("UPDATE messages SET expires_at = ? WHERE id = ?").bind(Date.now() - 11 * 60_000, id).run();
  for (let pass = 0; pass < 2; pass++) {
    assert.equal((await worker.scheduled({ cron: "* * * * *" })).outcome, "ok");
    assert.deepEqual({ ...(await statusOf(app.db, id)) }, { status: "failed", error: "not delivered before it expired" });
    await assertWhole(who.accountId, ["topup", "message_send", "message_refund"]);
  }
  const events = await app.db.prepare("SELECT event_type FROM webhook_events WHERE object_id = ?").bind(id).all();
  assert.deepEqual(events.results.map((e) => e.event_type), ["message.failed"]);
});

test("the scheduled pass settles each ended OTP session once: a mirror D1 lost is made again by its object", async () => {
  const who = await sandbox.createAccount("settle", "1.00");
  const sent = await sandbox.request("POST", "/v1/otp/send", { key: who.key, body: { to: freshPhone(), channel: "sms" } });
  assert.equal(sent.status, 200, sent.text);
  const id = sent.body.session_id;
  const wrong = await sandbox.request("POST", "/v1/otp/verify", { key: who.key, body: { session_id: id, code: "000000" } });
  assert.equal(wrong.status, 200, wrong.text);
  const row = () => sandbox.db.prepare("SELECT attempts, settled_at FROM otp_sessions WHERE id = ?").bind(id).first();
  assert.ok(await until(async () => (await row()).attempts === 1), "mirrored after the answer");
  // As if that mirror was lost with an evicted object, and the session has ended since.
  await sandbox.db.prepare("UPDATE otp_sessions SET attempts = 0, expires_at = ? WHERE id = ?").bind(Date.now() - 1000, id).run();
  const worker = await sandbox.mf.getWorker();
  assert.equal((await worker.scheduled({ cron: "* * * * *" })).outcome, "ok");
  const settled = await row();
  assert.equal(settled.attempts, 1, "the object mirrored its state again");
  assert.ok(settled.settled_at > 0);
  // Settled: the next pass leaves it alone (D1 changed meanwhile stays as it is).
  await sandbox.db.prepare("UPDATE otp_sessions SET attempts = 0 WHERE id = ?").bind(id).run();
  assert.equal((await worker.scheduled({ cron: "* * * * *" })).outcome, "ok");
  assert.deepEqual({ ...(await row()) }, { attempts: 0, settled_at: settled.settled_at });
});
