// Statistics (docs/stats.md): after a known mix of traffic (OTP sends, a verification, a
// send the fraud guard refuses, activations completed, cancelled and expired), the rollups
// agree with the ledger and the sessions; a customer sees only its own account; the
// operator reads any; bad filters are a 400 naming the field.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnOtpApp, latestCode } from "./otp-support.mjs";
import { CATALOG, seed, pushSms, waitFor } from "./support/activations.mjs";

const LIFETIME_SECS = 3;
const today = () => new Date().toISOString().slice(0, 10);

describe("statistics", () => {
  let app, supplier, a, b;
  before(async () => {
    app = await spawnOtpApp({ vars: { ACTIVATION_LIFETIME_SECS: String(LIFETIME_SECS), ACTIVATION_CANCEL_LOCK_SECS: "0" } });
    supplier = await seed(app, { us: 6 });
    const catalog = {
      ...CATALOG,
      countries: [...CATALOG.countries, { code: "GB", name: "United Kingdom" }],
      otp_prices: [{ country: "US", channel: "sms", cost: "0.0075" }, { country: "GB", channel: "sms", cost: "0.0080" }],
    };
    const c = await app.request("PUT", "/admin/catalog", { admin: true, body: catalog });
    assert.equal(c.status, 200, c.text);
    a = await app.createAccount("stats-a", "5.00");
    b = await app.createAccount("stats-b", "5.00");
    await mix();
  });
  after(() => app?.close());

  const send = (key, to) => app.request("POST", "/v1/otp/send", { key, body: { to, channel: "sms" } });
  const buy = (key, service) => app.request("POST", "/v1/number", { key, body: { service, country: "US" } });
  const setStatus = (key, id, status) => app.request("POST", `/v1/activation/${id}/status`, { key, body: { status } });
  const stats = (kind, query, key = a.key) => app.request("GET", `/v1/stats/${kind}?${query}`, { key });
  let expiredId;

  /** A's traffic: 3 US sends + 1 GB send (4 sends), one verified, one GB send refused;
   * 3 activations: one completed after its SMS, one cancelled, one left to expire. B sends 1. */
  async function mix() {
    const phones = ["+14155550101", "+14155560102", "+14155570103", "+447700900123"];
    const sent = [];
    for (const p of phones) {
      const r = await send(a.key, p);
      assert.equal(r.status, 200, r.text);
      sent.push(r.body);
    }
    const { code } = await latestCode(app, phones[0]);
    const v = await app.request("POST", "/v1/otp/verify", { key: a.key, body: { session_id: sent[0].session_id, code } });
    assert.equal(v.status, 200, v.text);
    const policy = await app.request("PUT", "/v1/fraud/policy", { key: a.key, body: { blocked_countries: ["GB"] } });
    assert.equal(policy.status, 200, policy.text);
    const refused = await send(a.key, "+447700900999");
    assert.equal(refused.status, 403, refused.text);
    assert.equal((await send(b.key, "+14155580104")).status, 200);

    const done = await buy(a.key, "telegram");
    const cancelled = await buy(a.key, "whatsapp");
    const expiring = await buy(a.key, "telegram");
    for (const r of [done, cancelled, expiring]) assert.equal(r.status, 200, r.text);
    expiredId = expiring.body.activation_id;
    const sms = await pushSms(app, supplier.secret, { number: done.body.number, text: "Your code is 246810" });
    assert.equal(sms.body.matched, "activation", sms.text);
    assert.equal((await setStatus(a.key, done.body.activation_id, "complete")).status, 200);
    assert.equal((await setStatus(a.key, cancelled.body.activation_id, "cancel")).status, 200);
    // The refusal is counted after its answer; the expiry by the activation's alarm.
    assert.ok(await waitFor(async () => (await stats("otp", "group_by=day")).body.rows[0]?.blocked === 1), "the refused send is counted");
    assert.ok(await waitFor(async () => {
      const row = await app.db.prepare("SELECT status FROM activations WHERE id = ?").bind(expiredId).first();
      return row.status === "expired";
    }), "the alarm expired the third activation");
  }

  test("OTP stats agree with the sessions and the ledger", async () => {
    const r = await stats("otp", `from=${today()}&to=${today()}&group_by=day`);
    assert.equal(r.status, 200, r.text);
    const sessions = await app.db.prepare("SELECT COUNT(*) AS n, COUNT(verified_at) AS v FROM otp_sessions WHERE account_id = ?").bind(a.accountId).first();
    const ledger = await app.db.prepare("SELECT -SUM(amount) AS s FROM ledger WHERE account_id = ? AND kind IN ('otp_send', 'otp_refund')").bind(a.accountId).first();
    assert.deepEqual(r.body.rows, [{
      key: today(), sends: sessions.n, verified: sessions.v, conversion_rate: 0.25,
      spend: ledger.s / 10000, blocked: 1,
    }]);
    assert.equal(sessions.n, 4);
    assert.equal(ledger.s, 3 * 75 + 80);

    const byCountry = await stats("otp", "group_by=country");
    assert.deepEqual(byCountry.body.rows.map((x) => [x.key, x.sends, x.verified, x.blocked, x.spend]), [
      ["GB", 1, 0, 1, 0.008],
      ["US", 3, 1, 0, 0.0225],
    ]);
    const byKey = await stats("otp", "group_by=api_key");
    assert.deepEqual(byKey.body.rows.map((x) => [x.key, x.sends]), [[null, 0], [a.keyId, 4]]);
    const byPrefix = await stats("otp", "group_by=prefix");
    assert.deepEqual(byPrefix.body.rows.map((x) => x.key), ["+1415555", "+1415556", "+1415557", "+44770090"]);
    const byChannel = await stats("otp", "group_by=channel");
    assert.deepEqual(byChannel.body.rows.map((x) => [x.key, x.sends]), [["sms", 4]]);
  });

  test("activation stats agree with the activations and the ledger", async () => {
    const r = await stats("activations", "group_by=service");
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.rows, [
      { key: "telegram", orders: 2, sms_received: 1, completed: 1, cancelled: 0, expired: 1, refunded: 1, success_rate: 0.5, spend: 0.05 },
      { key: "whatsapp", orders: 1, sms_received: 0, completed: 0, cancelled: 1, expired: 0, refunded: 1, success_rate: 0, spend: 0 },
    ]);
    const ledger = await app.db.prepare("SELECT -SUM(amount) AS s FROM ledger WHERE account_id = ? AND kind IN ('purchase', 'refund')").bind(a.accountId).first();
    const rows = await app.db.prepare("SELECT status, COUNT(*) AS n FROM activations WHERE account_id = ? GROUP BY status ORDER BY status").bind(a.accountId).all();
    const byDay = (await stats("activations", "group_by=day")).body.rows;
    assert.equal(byDay.length, 1);
    assert.equal(byDay[0].spend, ledger.s / 10000);
    assert.deepEqual(rows.results, [{ status: "cancelled", n: 1 }, { status: "complete", n: 1 }, { status: "expired", n: 1 }]);
    const byOperator = (await stats("activations", "group_by=operator")).body.rows;
    assert.deepEqual(byOperator.map((x) => [x.key, x.orders]), [["1", 3]]);
    const byCountry = (await stats("activations", "group_by=country")).body.rows;
    assert.deepEqual(byCountry.map((x) => [x.key, x.orders, x.completed]), [["US", 3, 1]]);
  });

  test("isolation: a customer sees only its own account; the operator reads any", async () => {
    const mine = await stats("otp", "group_by=day", b.key);
    assert.deepEqual(mine.body.rows.map((x) => [x.sends, x.verified, x.blocked]), [[1, 0, 0]]);
    assert.deepEqual((await stats("activations", "group_by=day", b.key)).body.rows, []);
    const admin = (q) => app.request("GET", `/admin/stats/${q}`, { admin: true });
    const forA = await admin(`otp?account=${a.accountId}&group_by=country`);
    assert.equal(forA.status, 200, forA.text);
    assert.deepEqual(forA.body, (await stats("otp", "group_by=country")).body);
    const all = await admin("otp?group_by=channel");
    assert.equal(all.body.rows[0].sends, 5);
    const acts = await admin(`activations?account=${b.accountId}`);
    assert.deepEqual(acts.body.rows, []);
    assert.equal((await admin("otp?account=acc_nobody")).status, 404);
    assert.equal((await app.request("GET", "/admin/stats/otp", {})).status, 401);
    assert.equal((await app.request("GET", "/admin/stats/otp", { key: a.key })).status, 401);
    assert.equal((await app.request("GET", "/v1/stats/otp", {})).status, 401);
  });

  test("bad filters are a 400 naming the field", async () => {
    for (const [kind, query, field] of [
      ["otp", "group_by=service", "group_by"],
      ["activations", "group_by=prefix", "group_by"],
      ["otp", "from=2026-02-01&to=2026-01-01", "from"],
      ["otp", "from=2024-01-01&to=2026-01-01", "from"],
      ["activations", "from=yesterday", "from"],
      ["otp", "to=2026-02-30", "to"],
    ]) {
      const r = await stats(kind, query);
      assert.equal(r.status, 400, `${kind}?${query}: ${r.text}`);
      assert.match(r.body.errors[0].message, new RegExp(`'${field}'`), r.text);
      const admin = await app.request("GET", `/admin/stats/${kind}?${query}`, { admin: true });
      assert.equal(admin.status, 400, admin.text);
    }
    // 400 days, both ends included, is the most one query covers.
    assert.equal((await stats("otp", "from=2025-01-01&to=2026-02-04")).status, 200);
  });
});
