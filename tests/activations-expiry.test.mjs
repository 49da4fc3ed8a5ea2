// Expiry driven by the Activation Durable Object's alarm (Miniflare runs alarms in real time):
// a waiting activation becomes expired and is refunded; a received one becomes complete.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnApp } from "./support/app.mjs";
import { seed, pushSms, sleep, ledgerOf, waitFor } from "./support/activations.mjs";

const LIFETIME_SECS = 2;
let app, supplier;

before(async () => {
  app = await spawnApp({ vars: { ACTIVATION_LIFETIME_SECS: String(LIFETIME_SECS), ACTIVATION_CANCEL_LOCK_SECS: "0" } });
  supplier = await seed(app, { us: 6 });
});
after(() => app?.close());

/** The D1 mirror's status, without touching the object (so only the alarm can change it). */
const mirrored = async (id) => (await app.db.prepare("SELECT status FROM activations WHERE id = ?").bind(id).first()).status;

test("alarm: waiting → expired + refund; received → complete, charge kept", async () => {
  const { key, accountId } = await app.createAccount("expiry", "1.00");
  const waiting = await app.request("POST", "/v1/number", { key, body: { service: "telegram", country: "US" } });
  const received = await app.request("POST", "/v1/number", { key, body: { service: "whatsapp", country: "US" } });
  assert.equal(waiting.status, 200, waiting.text);
  assert.equal(received.status, 200, received.text);
  assert.ok(Math.abs(Date.parse(waiting.body.expires_at) - Date.now()) <= (LIFETIME_SECS + 1) * 1000);
  const sms = await pushSms(app, supplier.secret, { number: received.body.number, text: "Your code is 246810" });
  assert.equal(sms.body.matched, "activation");

  assert.ok(await waitFor(async () => (await mirrored(waiting.body.activation_id)) === "expired"), "the alarm expired the waiting activation");
  assert.ok(await waitFor(async () => (await mirrored(received.body.activation_id)) === "complete"), "the alarm completed the received activation");

  const s = await app.request("GET", `/v1/activation/${waiting.body.activation_id}/status`, { key });
  assert.equal(s.body.status, "expired");
  assert.deepEqual(await ledgerOf(app, waiting.body.activation_id), [
    { kind: "purchase", amount: -500 },
    { kind: "refund", amount: 500 },
  ]);
  assert.deepEqual(await ledgerOf(app, received.body.activation_id), [{ kind: "purchase", amount: -1000 }]);
  const late = await app.request("POST", `/v1/activation/${waiting.body.activation_id}/status`, { key, body: { status: "cancel" } });
  assert.equal(late.status, 409);
  assert.equal(late.body.errors[0].code, "2107");
  const m = await app.money(accountId);
  assert.equal(m.balance, m.ledgerSum);
  assert.equal(m.balance, 10000 - 1000);
  // Both numbers are released.
  const leases = await app.db.prepare("SELECT COUNT(*) AS n FROM number_leases WHERE object_id IN (?, ?)").bind(waiting.body.activation_id, received.body.activation_id).first();
  assert.equal(leases.n, 0);
  // An SMS after the end is stored as unmatched.
  const after = await pushSms(app, supplier.secret, { number: waiting.body.number, text: "Your code is 1357" });
  assert.equal(after.status, 200);
  assert.equal(after.body.matched, null);
});

test("expiry racing a cancel: one terminal state, at most one refund", async () => {
  const { key, accountId } = await app.createAccount("expiry-race", "1.00");
  const b = await app.request("POST", "/v1/number", { key, body: { service: "facebook", country: "US" } });
  assert.equal(b.status, 200, b.text);
  const id = b.body.activation_id;
  await sleep(Math.max(0, Date.parse(b.body.expires_at) - Date.now() - 100));
  const res = await Promise.all(Array.from({ length: 20 }, () => app.request("POST", `/v1/activation/${id}/status`, { key, body: { status: "cancel" } })));
  for (const r of res) assert.ok([200, 409].includes(r.status), r.text);
  assert.ok(res.filter((r) => r.status === 200).length <= 1);
  assert.ok(await waitFor(async () => ["expired", "cancelled"].includes(await mirrored(id))));
  const rows = await ledgerOf(app, id);
  assert.equal(rows.filter((r) => r.kind === "refund").length, 1);
  const m = await app.money(accountId);
  assert.equal(m.balance, m.ledgerSum);
  assert.equal(m.balance, 10000);
});

test("public prices: a repeat within PRICES_CACHE_SECS answers from cache; a catalog change refreshes it", async () => {
  const url = "/api/public/prices?service=telegram&country=us";
  const first = await app.request("GET", url);
  assert.equal(first.body.source, "api");
  const second = await app.request("GET", url);
  assert.equal(second.body.source, "cache");
  assert.deepEqual(second.body.data, first.body.data);
  const put = await app.request("PUT", "/admin/catalog", { admin: true, body: { prices: [{ country: "US", service: "telegram", operator: "1", cost: "0.06" }] } });
  assert.equal(put.status, 200);
  const third = await app.request("GET", url);
  assert.equal(third.body.source, "api");
  assert.equal(third.body.data.US.telegram.services["1"].cost, "0.06");
});
