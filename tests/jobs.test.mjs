// Jobs after the answer on the JOBS queue (Miniflare runs the producer and the consumer from
// wrangler.toml): a refund that fails on the request path is made by its queued job, once,
// even when the job is delivered twice; a job that keeps failing is retried, not lost. The
// scheduled pass makes a refund a failed template message still owes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnOtpApp, seedOtpPrices, freshPhone, createTemplate } from "./otp-support.mjs";

let app, logs = "";

before(async () => {
  // A provider that refuses every text: each OTP send fails and is refunded.
  app = await spawnOtpApp({ vars: { TEST_FAULTS: "1", OTP_PROVIDER: "nonexistent" }, log: (s) => (logs += s) });
  await seedOtpPrices(app);
});
after(() => app?.close());

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const kinds = async (accountId) =>
  (await app.db.prepare("SELECT kind FROM ledger WHERE account_id = ? ORDER BY seq").bind(accountId).all()).results.map((r) => r.kind);

async function until(fn, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await sleep(100);
  }
  return false;
}

test("a refund that fails on the request path is made once by its queued job, even delivered twice", async () => {
  const who = await app.createAccount("queued-refund", "1.00");
  const r = await app.request("POST", "/v1/otp/send", { key: who.key, headers: { "X-Test-Fault": "refund_fails" }, body: { to: freshPhone(), channel: "sms" } });
  assert.equal(r.status, 502, r.text);
  assert.equal(r.body.errors[0].code, "2205");
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
  const m = await app.money(who.accountId);
  assert.equal(m.balance, 10_000);
  assert.equal(m.ledgerSum, 10_000);
  assert.deepEqual(await kinds(who.accountId), ["topup", "otp_send", "otp_refund"]);
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
    const m = await app.money(who.accountId);
    assert.equal(m.balance, 10_000);
    assert.equal(m.ledgerSum, 10_000);
    assert.deepEqual(await kinds(who.accountId), ["topup", "message_send", "message_refund"]);
  }
});
