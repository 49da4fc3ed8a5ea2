// Activations end to end through Miniflare: buy, signed inbound SMS, status changes, the
// Durable Object's single terminal state under parallel requests, money and the ledger.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnApp } from "./support/app.mjs";
import { seed, pushSms, signature, sleep, ledgerOf, usNumber, pkNumber, booksBalance } from "./support/activations.mjs";

const LOCK_SECS = 2;
let app, supplier;

before(async () => {
  app = await spawnApp({ vars: { ACTIVATION_CANCEL_LOCK_SECS: String(LOCK_SECS), RATE_LIMIT_PRODUCT: "100000", RATE_LIMIT_PUBLIC: "100000", PRICES_CACHE_SECS: "0" } });
  supplier = await seed(app, { us: 40, pk: 30 });
});
after(() => app?.close());

const buy = (key, body, headers = {}) => app.request("POST", "/v1/number", { key, body, headers });
const status = (key, id) => app.request("GET", `/v1/activation/${id}/status`, { key });
const setStatus = (key, id, s) => app.request("POST", `/v1/activation/${id}/status`, { key, body: { status: s } });

const assertBooks = (accountId) => booksBalance(app, accountId);

test("catalog routes: countries, services, prices with stock, rent prices", async () => {
  const countries = await app.request("GET", "/v1/countries");
  assert.equal(countries.status, 200);
  assert.deepEqual(countries.body, [
    { code: "IN", name: "India" },
    { code: "PK", name: "Pakistan" },
    { code: "US", name: "United States" },
  ]);
  const services = await app.request("GET", "/v1/services");
  assert.deepEqual(services.body.map((s) => s.code), ["facebook", "telegram", "whatsapp"]);

  const p = await app.request("GET", "/api/public/prices?service=telegram&country=US");
  assert.equal(p.status, 200);
  assert.equal(p.body.success, true);
  assert.equal(p.body.source, "api");
  assert.deepEqual(Object.keys(p.body.data), ["US"]);
  const ops = p.body.data.US.telegram.services;
  assert.equal(ops["1"].cost, "0.05");
  assert.equal(ops["2"].cost, "0.07");
  assert.equal(typeof ops["1"].count, "string");
  const all = await app.request("GET", "/api/public/prices");
  assert.equal(all.body.data.US.facebook.services["1"].cost, "0.02");
  assert.equal(all.body.data.PK.telegram.services["1"].count, "30");

  const r = await app.request("GET", "/api/public/rent-prices?service=telegram&country=us&operator=verizon");
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.data.US.telegram.services["1"].prices, [
    { hours: 4, cost: "0.50" },
    { hours: 24, cost: "1.20" },
  ]);
});

test("stock count follows purchases", async () => {
  const { key } = await app.createAccount("stock", "1.00");
  const count = async () => Number((await app.request("GET", "/api/public/prices?service=facebook&country=US")).body.data.US.facebook.services["1"].count);
  const before = await count();
  const b = await buy(key, { service: "facebook", country: "US" });
  assert.equal(b.status, 200, b.text);
  assert.equal(await count(), before - 1);
});

test("buy → signed SMS → received with code → complete; the charge is kept", async () => {
  const { key, accountId } = await app.createAccount("life", "1.00");
  const b = await buy(key, { service: "telegram", country: "pkr" });
  assert.equal(b.status, 200, b.text);
  assert.equal(b.body.status, "waiting");
  assert.match(b.body.activation_id, /^act_[A-Za-z0-9]{22}$/);
  assert.match(b.body.number, /^\+92/);
  assert.equal(b.body.cost, 0.05);
  assert.ok(Date.parse(b.body.expires_at) - Date.now() > 19 * 60 * 1000);
  assert.ok(Date.parse(b.body.cancel_allowed_at) <= Date.now() + LOCK_SECS * 1000);
  const id = b.body.activation_id;

  const waiting = await status(key, id);
  assert.deepEqual([waiting.body.status, waiting.body.sms], ["waiting", null]);

  const sms = await pushSms(app, supplier.secret, { number: b.body.number, text: "Your code is 985421" });
  assert.equal(sms.status, 200, sms.text);
  assert.equal(sms.body.matched, "activation");
  const got = await status(key, id);
  assert.equal(got.body.activation_id, id);
  assert.equal(got.body.status, "received");
  assert.equal(got.body.sms, "Your code is 985421");
  assert.equal(got.body.code, "985421");
  assert.equal(got.body.sms_list.length, 1);

  const done = await setStatus(key, id, "complete");
  assert.equal(done.status, 200, done.text);
  assert.equal(done.body.status, "complete");
  const again = await setStatus(key, id, "complete");
  assert.equal(again.status, 409);
  assert.equal(again.body.errors[0].code, "2107");

  assert.deepEqual(await ledgerOf(app, id), [{ kind: "purchase", amount: -500 }]);
  const m = await assertBooks(accountId);
  assert.equal(m.balance, 10000 - 500);
  const row = await app.db.prepare("SELECT status FROM activations WHERE id = ?").bind(id).first();
  assert.equal(row.status, "complete");
  // The number is free again, but never sold for telegram twice.
  const lease = await app.db.prepare("SELECT COUNT(*) AS n FROM number_leases WHERE object_id = ?").bind(id).first();
  assert.equal(lease.n, 0);
});

test("cancel inside the lock → 409; after it → cancelled and refunded once", async () => {
  const { key, accountId } = await app.createAccount("cancel", "1.00");
  const b = await buy(key, { service: "telegram", country: "US" });
  assert.equal(b.status, 200, b.text);
  const id = b.body.activation_id;
  const early = await setStatus(key, id, "cancel");
  assert.equal(early.status, 409);
  assert.equal(early.body.errors[0].code, "2106");
  assert.match(early.body.errors[0].message, /cancel is allowed from/);
  assert.equal((await app.money(accountId)).balance, 10000 - 500);

  await sleep(Date.parse(b.body.cancel_allowed_at) - Date.now() + 1100);
  const ok = await setStatus(key, id, "cancel");
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.status, "cancelled");
  const twice = await setStatus(key, id, "cancel");
  assert.equal(twice.status, 409);
  assert.deepEqual(await ledgerOf(app, id), [
    { kind: "purchase", amount: -500 },
    { kind: "refund", amount: 500 },
  ]);
  const m = await assertBooks(accountId);
  assert.equal(m.balance, 10000);
});

test("cancel after an SMS → 409; complete before an SMS → 409", async () => {
  const { key } = await app.createAccount("rules", "1.00");
  const b = await buy(key, { service: "whatsapp", country: "US" });
  const id = b.body.activation_id;
  const early = await setStatus(key, id, "complete");
  assert.equal(early.status, 409);
  assert.equal(early.body.errors[0].code, "2109");
  await pushSms(app, supplier.secret, { number: b.body.number, text: "WhatsApp code 482-913" });
  await sleep(LOCK_SECS * 1000 + 100);
  const c = await setStatus(key, id, "cancel");
  assert.equal(c.status, 409);
  assert.equal(c.body.errors[0].code, "2108");
  assert.equal((await status(key, id)).body.code, "482913");
});

test("received → retry → second SMS: both in the history", async () => {
  const { key } = await app.createAccount("retry", "1.00");
  const b = await buy(key, { service: "telegram", country: "US", operator: "verizon" });
  assert.equal(b.body.operator, "1");
  const id = b.body.activation_id;
  await pushSms(app, supplier.secret, { number: b.body.number, text: "Your code is 111111" });
  const r = await setStatus(key, id, "retry");
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, "waiting");
  assert.equal(r.body.sms_list.length, 1);
  await pushSms(app, supplier.secret, { number: b.body.number, text: "G-222222 is your verification code" });
  const s = await status(key, id);
  assert.equal(s.body.status, "received");
  assert.equal(s.body.code, "222222");
  assert.deepEqual(s.body.sms_list.map((x) => x.code), ["111111", "222222"]);
});

test("received → retry → complete with the SMS already received; cancel stays refused (no refund after an SMS)", async () => {
  const { key, accountId } = await app.createAccount("retry-complete", "1.00");
  const b = await buy(key, { service: "telegram", country: "US" });
  const id = b.body.activation_id;
  await pushSms(app, supplier.secret, { number: b.body.number, text: "Your code is 333333" });
  assert.equal((await setStatus(key, id, "retry")).body.status, "waiting");
  await sleep(LOCK_SECS * 1000 + 200);
  const cancel = await setStatus(key, id, "cancel");
  assert.equal(cancel.status, 409, cancel.text);
  const done = await setStatus(key, id, "complete");
  assert.equal(done.status, 200, done.text);
  assert.equal(done.body.status, "complete");
  assert.deepEqual(done.body.sms_list.map((x) => x.code), ["333333"]);
  assert.equal((await status(key, id)).body.status, "complete");
  assert.equal(cancel.body.errors[0].code, "2108");
  assert.deepEqual((await ledgerOf(app, id)).map((r) => r.kind), ["purchase"], "charged once, no refund");
  await assertBooks(accountId);
});

test("inbound: control characters in text / from / sms_id and a received_at in the future are 400, nothing stored", async () => {
  const { key } = await app.createAccount("inbound-bad", "1.00");
  const b = await buy(key, { service: "telegram", country: "US" });
  const count = async () => (await app.db.prepare("SELECT COUNT(*) AS n FROM inbound_sms").first()).n;
  const n0 = await count();
  const push = (fields) => {
    const raw = JSON.stringify({ sms_id: `bad-${Math.random()}`, number: b.body.number, from: "Telegram", text: "Your code is 123456", ...fields });
    return app.request("POST", "/v1/inbound/sms", { raw, headers: { "Content-Type": "application/json", "X-Signature": signature(supplier.secret, raw) } });
  };
  const inFuture = new Date(Date.now() + 3 * 365 * 86_400_000).toISOString();
  for (const fields of [{ text: "code 123456\u0000" }, { text: "\u001b[2Jcode 123456" }, { from: "Tele\ngram" }, { from: "\u0007" }, { sms_id: "id\u0000x" }, { received_at: inFuture }]) {
    const r = await push(fields);
    assert.equal(r.status, 400, `${JSON.stringify(fields)}: ${r.text}`);
    assert.equal(r.body.errors[0].code, "2004");
  }
  assert.equal(await count(), n0, "nothing stored");
  const ok = await push({ text: "Your code\r\nis\t654321", received_at: new Date(Date.now() - 60_000).toISOString() });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.code, "654321");
});

test("inbound: bad signature and stale timestamp → 401, nothing stored; a replayed sms_id is stored once", async () => {
  const { key } = await app.createAccount("sig", "1.00");
  const b = await buy(key, { service: "facebook", country: "US" });
  const id = b.body.activation_id;
  const count = async () => (await app.db.prepare("SELECT COUNT(*) AS n FROM inbound_sms").first()).n;
  const n0 = await count();

  const forged = await pushSms(app, "not-the-secret", { number: b.body.number, text: "Your code is 123456" });
  assert.equal(forged.status, 401);
  assert.equal(forged.body.errors[0].code, "2110");
  const stale = await pushSms(app, supplier.secret, { number: b.body.number, text: "Your code is 123456", t: Math.floor(Date.now() / 1000) - 301 });
  assert.equal(stale.status, 401);
  const missing = await app.request("POST", "/v1/inbound/sms", { body: { sms_id: "x", number: b.body.number, from: "x", text: "1234" } });
  assert.equal(missing.status, 401);
  // A valid signature over another body does not cover this one.
  const raw = JSON.stringify({ sms_id: "tamper", number: b.body.number, from: "x", text: "Your code is 999999" });
  const tampered = await app.request("POST", "/v1/inbound/sms", { raw: raw.replace("999999", "000000"), headers: { "X-Signature": signature(supplier.secret, raw) } });
  assert.equal(tampered.status, 401);
  assert.equal(await count(), n0);
  assert.equal((await status(key, id)).body.status, "waiting");

  const first = await pushSms(app, supplier.secret, { number: b.body.number, text: "Your code is 123456", smsId: "replay-1" });
  assert.equal(first.status, 200);
  assert.equal(first.body.duplicate, false);
  const replay = await pushSms(app, supplier.secret, { number: b.body.number, text: "Your code is 123456", smsId: "replay-1" });
  assert.equal(replay.status, 200);
  assert.equal(replay.body.duplicate, true);
  assert.equal(await count(), n0 + 1);
  assert.equal((await status(key, id)).body.sms_list.length, 1);
});

test("inbound: unmatched SMS is stored; bad body → 400", async () => {
  const r = await pushSms(app, supplier.secret, { number: "+447700900123", text: "hello 5555" });
  assert.equal(r.status, 200);
  assert.equal(r.body.matched, null);
  const row = await app.db.prepare("SELECT target_id, code FROM inbound_sms WHERE number = '+447700900123'").first();
  assert.deepEqual({ ...row }, { target_id: null, code: "5555" });
  const raw = JSON.stringify({ sms_id: "bad", number: "not a phone", from: "x", text: "x" });
  const bad = await app.request("POST", "/v1/inbound/sms", { raw, headers: { "Content-Type": "application/json", "X-Signature": signature(supplier.secret, raw) } });
  assert.equal(bad.status, 400);
});

test("no number free, price above max_price, unknown operator: clear errors, no charge", async () => {
  const { key, accountId } = await app.createAccount("errors", "1.00");
  const none = await buy(key, { service: "telegram", country: "IN", operator: "vi" });
  assert.equal(none.status, 409);
  assert.equal(none.body.errors[0].code, "2104");
  const pricey = await buy(key, { service: "telegram", country: "US", max_price: "0.01" });
  assert.equal(pricey.status, 409);
  assert.equal(pricey.body.errors[0].code, "2105");
  const okMax = await buy(key, { service: "telegram", country: "US", max_price: 0.05 });
  assert.equal(okMax.status, 200, okMax.text);
  const notOffered = await buy(key, { service: "whatsapp", country: "IN" });
  assert.equal(notOffered.status, 404);
  assert.equal(notOffered.body.errors[0].code, "2103");
  const m = await assertBooks(accountId);
  assert.equal(m.balance, 10000 - 500);
});

test("402 when the wallet cannot pay, nothing created", async () => {
  const { key, accountId } = await app.createAccount("poor", "0.01");
  const r = await buy(key, { service: "telegram", country: "US" });
  assert.equal(r.status, 402);
  assert.equal(r.body.errors[0].code, "2007");
  const n = await app.db.prepare("SELECT COUNT(*) AS n FROM activations WHERE account_id = ?").bind(accountId).first();
  assert.equal(n.n, 0);
  const rent = await app.request("POST", "/api/internal/rent", { key, body: { service: "telegram", country: "US" } });
  assert.equal(rent.status, 402);
  assert.deepEqual(rent.body, { success: false, error: "Insufficient balance", code: "2007" });
  assert.equal((await app.money(accountId)).balance, 100);
});

test("bad input on every route → 4xx in the dialect's envelope", async () => {
  const { key } = await app.createAccount("input", "1.00");
  const house = async (r, status, code) => {
    assert.equal(r.status, status, r.text);
    assert.equal(r.body.errors[0].code, code, r.text);
  };
  const numberotp = async (r, status, code) => {
    assert.equal(r.status, status, r.text);
    assert.equal(r.body.success, false);
    assert.equal(r.body.code, code, r.text);
  };
  await house(await buy(key, { service: "nope", country: "US" }), 400, "2101");
  await house(await buy(key, { service: "telegram", country: "ZZ" }), 400, "2100");
  await house(await buy(key, { service: "telegram", country: "US", operator: "att" }), 400, "2102");
  await house(await buy(key, { service: 5, country: "US" }), 400, "2004");
  await house(await buy(key, { service: "telegram" }), 400, "2004");
  await house(await buy(key, { service: "telegram", country: "US", max_price: "abc" }), 400, "2014");
  await house(await app.request("POST", "/v1/number", { key, raw: "{nope", headers: { "Content-Type": "application/json" } }), 400, "2003");
  await house(await buy(undefined, { service: "telegram", country: "US" }), 401, "1136");
  const b = await buy(key, { service: "telegram", country: "US" });
  const id = b.body.activation_id;
  await house(await setStatus(key, id, "bogus"), 400, "2004");
  await house(await app.request("POST", `/v1/activation/${id}/status`, { key, raw: "[", headers: { "Content-Type": "application/json" } }), 400, "2003");
  await house(await status(key, "act_doesnotexist"), 404, "2008");
  const other = await app.createAccount("other", "1.00");
  await house(await status(other.key, id), 404, "2008");
  await house(await setStatus(other.key, id, "cancel"), 404, "2008");
  // The key is checked in the same query as the ownership: an unknown key is still a 401.
  await house(await status("A".repeat(32), id), 401, "1136");
  await house(await status("A".repeat(32), "act_doesnotexist"), 401, "1136");

  await numberotp(await app.request("GET", "/api/public/prices?service=nope"), 400, "2101");
  await numberotp(await app.request("GET", "/api/public/prices?country=XX"), 400, "2100");
  await numberotp(await app.request("GET", "/api/public/rent-prices?country=US"), 400, "2004");
  await numberotp(await app.request("GET", "/api/public/rent-prices?service=telegram&operator=att"), 400, "2102");
  await numberotp(await app.request("POST", "/api/internal/rent", { key, body: { service: "telegram", country: 1 } }), 400, "2004");
  await numberotp(await app.request("POST", "/api/internal/rent", { key, raw: "{", headers: { "Content-Type": "application/json" } }), 400, "2003");
  await numberotp(await app.request("POST", "/api/internal/rent", { key, body: { service: "x", country: "US" } }), 400, "2101");
  await numberotp(await app.request("GET", "/api/internal/rent/rent_nope", { key }), 404, "2008");

  await house(await app.request("PUT", "/admin/catalog", { admin: true, body: { countries: [{ code: "USA", name: "x" }] } }), 400, "2004");
  await house(await app.request("PUT", "/admin/catalog", { admin: true, body: { prices: [{ country: "US", service: "telegram", operator: "9", cost: "0.05" }] } }), 400, "2004");
  await house(await app.request("PUT", "/admin/catalog", { admin: true, body: { prices: [{ country: "US", service: "telegram", operator: "1", cost: "0" }] } }), 400, "2014");
  await house(await app.request("PUT", "/admin/catalog", { admin: true, body: { services: "telegram" } }), 400, "2004");
  await house(await app.request("POST", "/admin/numbers", { admin: true, body: { numbers: [{ number: "12", country: "US", operator: "1" }] } }), 400, "2004");
  await house(await app.request("POST", "/admin/numbers", { admin: true, body: { numbers: [{ number: "+14155550999", country: "ZZ", operator: "1" }] } }), 400, "2100");
  await house(await app.request("POST", "/admin/numbers", { admin: true, body: { numbers: [{ number: "+14155550999", country: "US", operator: "1" }], supplier_id: "sup_x" } }), 404, "2008");
  await house(await app.request("POST", "/admin/suppliers", { admin: true, body: { name: "" } }), 400, "2004");
  await house(await app.request("POST", "/admin/suppliers", { body: { name: "x" } }), 401, "1136");
  // Nothing of the refused catalog changes was written.
  const op = await app.db.prepare("SELECT COUNT(*) AS n FROM prices WHERE operator = '9'").first();
  assert.equal(op.n, 0);
});

test("idempotent buy: same key twice → one activation, one charge, same answer; other body → 422", async () => {
  const { key, accountId } = await app.createAccount("idem", "1.00");
  const headers = { "Idempotency-Key": "buy-1" };
  const body = { service: "telegram", country: "US" };
  const [a, b] = await Promise.all([buy(key, body, headers), buy(key, body, headers)]);
  const ok = [a, b].filter((r) => r.status === 200);
  assert.ok(ok.length >= 1);
  for (const r of [a, b]) assert.ok([200, 409].includes(r.status), r.text);
  const c = await buy(key, body, headers);
  assert.equal(c.status, 200);
  assert.deepEqual(c.body, ok[0].body);
  assert.equal(c.headers.get("Idempotent-Replayed"), "true");
  const d = await buy(key, { service: "whatsapp", country: "US" }, headers);
  assert.equal(d.status, 422);
  const n = await app.db.prepare("SELECT COUNT(*) AS n FROM activations WHERE account_id = ?").bind(accountId).first();
  assert.equal(n.n, 1);
  const m = await assertBooks(accountId);
  assert.equal(m.balance, 10000 - 500);
});

test("100 parallel buys on a wallet funded for exactly k", async () => {
  const k = 7;
  const { key, accountId } = await app.createAccount("race-buy", (0.05 * k).toFixed(2));
  const results = await Promise.all(Array.from({ length: 100 }, () => buy(key, { service: "telegram", country: "PK" })));
  const ok = results.filter((r) => r.status === 200);
  const poor = results.filter((r) => r.status === 402);
  assert.equal(ok.length, k, results.filter((r) => r.status !== 200 && r.status !== 402).map((r) => r.text).join("\n"));
  assert.equal(poor.length, 100 - k);
  assert.equal(new Set(ok.map((r) => r.body.number)).size, k, "no number assigned twice");
  const m = await assertBooks(accountId);
  assert.equal(m.balance, 0);
  assert.equal(m.ledgerRows, 1 + k);
  const leases = await app.db.prepare("SELECT number_id, COUNT(*) AS n FROM activations WHERE status IN ('waiting','received') GROUP BY number_id HAVING n > 1").all();
  assert.deepEqual(leases.results, []);
});

test("parallel buys competing for the last free numbers: each number sold once, the rest get 'no numbers' and pay nothing", async () => {
  const { key, accountId } = await app.createAccount("race-stock", "5.00");
  const free = Number((await app.request("GET", "/api/public/prices?service=telegram&country=IN")).body.data.IN.telegram.services["1"].count);
  assert.equal(free, 3);
  const results = await Promise.all(Array.from({ length: 10 }, () => buy(key, { service: "telegram", country: "IN", operator: "airtel" })));
  const ok = results.filter((r) => r.status === 200);
  assert.equal(ok.length, 3, results.map((r) => r.text).join("\n"));
  assert.equal(new Set(ok.map((r) => r.body.number)).size, 3);
  for (const r of results.filter((r) => r.status !== 200)) {
    assert.equal(r.status, 409, r.text);
    assert.equal(r.body.errors[0].code, "2104");
  }
  const m = await assertBooks(accountId);
  assert.equal(m.balance, 50000 - 3 * 300);
  assert.equal(m.ledgerRows, 1 + 3);
});

test("50 cancels + 50 completes + an SMS at once → one terminal state, ≤ 1 charge, ≤ 1 refund (20 activations)", async () => {
  const N = 20;
  const { key, accountId } = await app.createAccount("race-status", "10.00");
  const bought = [];
  for (let i = 0; i < N; i++) {
    const b = await buy(key, { service: "whatsapp", country: "US" });
    assert.equal(b.status, 200, b.text);
    bought.push(b.body);
  }
  await sleep(LOCK_SECS * 1000 + 200); // past the cancel lock, so cancel and complete both compete
  const outcomes = { cancelled: 0, complete: 0 };
  const BATCH = 4;
  for (let i = 0; i < N; i += BATCH) {
    await Promise.all(
      bought.slice(i, i + BATCH).map(async (a) => {
        const requests = [];
        for (let j = 0; j < 50; j++) requests.push(setStatus(key, a.activation_id, "cancel"), setStatus(key, a.activation_id, "complete"));
        requests.splice(50, 0, pushSms(app, supplier.secret, { number: a.number, text: `Your code is ${100000 + i}` }));
        const res = await Promise.all(requests);
        const sms = res.splice(50, 1)[0];
        assert.equal(sms.status, 200, sms.text);
        for (const r of res) assert.ok([200, 409].includes(r.status), r.text);
        const wins = res.filter((r) => r.status === 200);
        assert.equal(wins.length, 1, "exactly one status change wins");
        const final = (await status(key, a.activation_id)).body.status;
        assert.ok(final === "cancelled" || final === "complete", final);
        assert.equal(wins[0].body.status, final);
        outcomes[final]++;
        const rows = await ledgerOf(app, a.activation_id);
        assert.equal(rows.filter((r) => r.kind === "purchase").length, 1);
        assert.equal(rows.filter((r) => r.kind === "refund").length, final === "cancelled" ? 1 : 0);
        const mirror = await app.db.prepare("SELECT status FROM activations WHERE id = ?").bind(a.activation_id).first();
        assert.equal(mirror.status, final, "D1 mirrors the object");
      }),
    );
  }
  await assertBooks(accountId);
  assert.equal(outcomes.cancelled + outcomes.complete, N);
});

test("rent: NumberOTP shape, every SMS kept, history in transactions", async () => {
  const { key, accountId } = await app.createAccount("rent", "5.00");
  const r = await app.request("POST", "/api/internal/rent", { key, body: { service: "telegram", country: "US", operator: "verizon" } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.success, true);
  const d = r.body.data;
  assert.deepEqual(Object.keys(d).filter((k) => ["id", "number", "service", "country", "expiresAt"].includes(k)).sort(), ["country", "expiresAt", "id", "number", "service"]);
  assert.equal(d.service, "telegram");
  assert.equal(d.country, "US");
  assert.ok(Math.abs(Date.parse(d.expiresAt) - (Date.now() + 4 * 3600 * 1000)) < 60_000);
  assert.equal(r.body.remainingCredits, 450);
  await pushSms(app, supplier.secret, { number: d.number, text: "Your code is 4242" });
  await pushSms(app, supplier.secret, { number: d.number, text: "Your code is 5353" });
  const s = await app.request("GET", `/api/internal/rent/${d.id}`, { key });
  assert.equal(s.status, 200);
  assert.equal(s.body.data.status, "active");
  assert.deepEqual(s.body.data.sms.map((x) => x.code), ["4242", "5353"]);
  const tx = await app.request("GET", "/api/internal/transactions?page=1&limit=20", { key });
  assert.ok(tx.body.data.some((t) => t.type === "rent" && t.objectId === d.id && t.amount === -0.5));
  // A rented number is not sold to an activation while the rent lasts.
  const lease = await app.db.prepare("SELECT kind FROM number_leases WHERE object_id = ?").bind(d.id).first();
  assert.equal(lease.kind, "rent");
  await assertBooks(accountId);
  const idem = { "Idempotency-Key": "rent-1" };
  const r1 = await app.request("POST", "/api/internal/rent", { key, body: { service: "telegram", country: "US", hours: 24 }, headers: idem });
  const r2 = await app.request("POST", "/api/internal/rent", { key, body: { service: "telegram", country: "US", hours: 24 }, headers: idem });
  assert.equal(r1.status, 200, r1.text);
  assert.deepEqual(r2.body, r1.body);
  assert.equal((await app.money(accountId)).balance, 50000 - 5000 - 12000);
});

test("a supplier may push only for its own numbers", async () => {
  const other = await app.request("POST", "/admin/suppliers", { admin: true, body: { name: "Other bank" } });
  const r = await pushSms(app, other.body.secret, { number: usNumber(1), text: "Your code is 123456" });
  assert.equal(r.status, 403);
  assert.equal(r.body.errors[0].code, "2111");
  void pkNumber;
});

test("a JSON array in place of the buy object is refused; nothing is bought or charged", async () => {
  const { key, accountId } = await app.createAccount("array-buy", "1.00");
  const before = await app.money(accountId);
  const r = await app.request("POST", "/v1/number", { key, body: ["telegram", "US", null, null] });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.errors[0].code, "2004");
  assert.deepEqual(await app.money(accountId), before);
  const n = await app.db.prepare("SELECT COUNT(*) AS n FROM activations WHERE account_id = ?").bind(accountId).first();
  assert.equal(n.n, 0);
});
