// Twilio Verify Service Rate Limits and Buckets (docs/twilio-verify.md), driven by the
// official `twilio` npm SDK: their resources in Twilio's shapes and errors, and a
// verification's `RateLimits` taking one token from each bucket of each rate limit it names
// before anything is charged or sent — exact under a parallel burst.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnPricedOtpApp, freshPhone } from "./otp-support.mjs";
import { SID, TWILIO_DATE, rejectsWith, twilioAccount } from "./support/twilio.mjs";

describe("Twilio Verify rate limits through the official SDK", () => {
  let app;
  before(async () => (app = await spawnPricedOtpApp()));
  after(() => app.close());

  const ledger = (accountId) => app.db.prepare("SELECT kind, amount, object_id FROM ledger WHERE account_id = ? AND kind <> 'topup' ORDER BY seq").bind(accountId).all().then((r) => r.results);
  const outboxCount = async (phones) => {
    let n = 0;
    for (const p of phones) n += (await app.db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE to_phone = ?").bind(p).first()).n;
    return n;
  };
  /** A raw form POST with the account's Basic credentials: status, headers and JSON body. */
  const rawPost = async (a, path, form) => {
    const auth = "Basic " + Buffer.from(`${a.ac}:${a.key}`).toString("base64");
    const r = await fetch(new URL(path, app.url), { method: "POST", headers: { Authorization: auth, "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
    return { status: r.status, headers: r.headers, body: await r.json() };
  };
  const lastBody = (a) => {
    const raw = a.client.httpClient.lastResponse.body;
    return typeof raw === "string" ? JSON.parse(raw) : raw;
  };

  test("rate limits: create, fetch, list (paged), update, delete in Twilio's shapes; 60208 / 60209 / 60207; another account sees none", async () => {
    const a = await twilioAccount(app, "rl-crud");
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Limits" });
    const limits = a.client.verify.v2.services(svc.sid).rateLimits;
    const rl = await limits.create({ uniqueName: "end_user_ip", description: "per IP" });
    assert.equal(a.client.httpClient.lastResponse.statusCode, 201);
    assert.match(rl.sid, SID("RK"));
    assert.equal(rl.serviceSid, svc.sid);
    assert.equal(rl.accountSid, a.ac);
    assert.equal(rl.uniqueName, "end_user_ip");
    assert.equal(rl.description, "per IP");
    assert.ok(rl.url.endsWith(`/v2/Services/${svc.sid}/RateLimits/${rl.sid}`), rl.url);
    assert.equal(rl.links.buckets, `${rl.url}/Buckets`);
    const body = lastBody(a);
    assert.match(body.date_created, TWILIO_DATE);
    assert.match(body.date_updated, TWILIO_DATE);
    assert.deepEqual(a.client.httpClient.seen.at(-1).data, { UniqueName: "end_user_ip", Description: "per IP" });

    assert.deepEqual((await limits(rl.sid).fetch()).toJSON(), rl.toJSON());
    const other = await limits.create({ uniqueName: "user.id-2" });
    assert.equal(other.description, null);
    const all = await limits.list({ pageSize: 1 });
    assert.deepEqual(all.map((r) => r.sid), [rl.sid, other.sid], "oldest first, pages followed through meta");
    const page = await limits.page({ pageSize: 1 });
    assert.equal(lastBody(a).meta.key, "rate_limits");
    assert.ok(page.nextPageUrl);

    const updated = await limits(rl.sid).update({ description: "per end-user IP" });
    assert.equal(updated.description, "per end-user IP");
    assert.equal(updated.uniqueName, "end_user_ip");

    await rejectsWith(limits.create({ uniqueName: "end_user_ip" }), 400, 60208);
    await rejectsWith(limits.create({ uniqueName: "bad name" }), 400, 60209);
    await rejectsWith(limits.create({ uniqueName: "x".repeat(65) }), 400, 60209);
    const missing = await rawPost(a, `/v2/Services/${svc.sid}/RateLimits`, { Description: "no name" });
    assert.deepEqual([missing.status, missing.body.code], [400, 20001]);
    await rejectsWith(limits("RK" + "0".repeat(32)).fetch(), 404, 20404);

    // Another account: nothing of it.
    const b = await twilioAccount(app, "rl-crud-other");
    await rejectsWith(b.client.verify.v2.services(svc.sid).rateLimits.list(), 404, 20404);
    await rejectsWith(b.client.verify.v2.services(svc.sid).rateLimits(rl.sid).remove(), 404, 20404);

    assert.equal(await limits(other.sid).remove(), true);
    await rejectsWith(limits(other.sid).fetch(), 404, 20404);
    await rejectsWith(limits(other.sid).remove(), 404, 20404);
    assert.deepEqual((await limits.list()).map((r) => r.sid), [rl.sid]);

    // At most 10 per service.
    for (let i = 1; i < 10; i++) await limits.create({ uniqueName: `k${i}` });
    await rejectsWith(limits.create({ uniqueName: "k10" }), 400, 60207);
  });

  test("buckets: create, fetch, list, update, delete in Twilio's shapes; 60211 / 60210; Max or Interval ≤ 0 is 60200; a deleted rate limit takes its buckets", async () => {
    const a = await twilioAccount(app, "bl-crud");
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Buckets" });
    const rl = await a.client.verify.v2.services(svc.sid).rateLimits.create({ uniqueName: "phone" });
    const buckets = a.client.verify.v2.services(svc.sid).rateLimits(rl.sid).buckets;
    const bl = await buckets.create({ max: 2, interval: 60 });
    assert.equal(a.client.httpClient.lastResponse.statusCode, 201);
    assert.match(bl.sid, SID("BL"));
    assert.deepEqual([bl.rateLimitSid, bl.serviceSid, bl.accountSid, bl.max, bl.interval], [rl.sid, svc.sid, a.ac, 2, 60]);
    assert.ok(bl.url.endsWith(`/v2/Services/${svc.sid}/RateLimits/${rl.sid}/Buckets/${bl.sid}`), bl.url);
    assert.match(lastBody(a).date_created, TWILIO_DATE);
    assert.deepEqual(a.client.httpClient.seen.at(-1).data, { Max: 2, Interval: 60 });
    assert.deepEqual((await buckets(bl.sid).fetch()).toJSON(), bl.toJSON());

    const hourly = await buckets.create({ max: 10, interval: 3600 });
    assert.deepEqual((await buckets.list({ pageSize: 1 })).map((b) => b.sid), [bl.sid, hourly.sid]);
    assert.equal(lastBody(a).meta.key, "buckets");
    const updated = await buckets(bl.sid).update({ max: 3 });
    assert.deepEqual([updated.max, updated.interval], [3, 60]);

    await rejectsWith(buckets.create({ max: 5, interval: 60 }), 400, 60211);
    await rejectsWith(buckets(hourly.sid).update({ interval: 60 }), 400, 60211);
    for (const [max, interval] of [[0, 30], [-1, 30], [1, 0], [1, -5]]) {
      await rejectsWith(buckets.create({ max, interval }), 400, 60200);
    }
    const missing = await rawPost(a, `/v2/Services/${svc.sid}/RateLimits/${rl.sid}/Buckets`, { Max: "2" });
    assert.deepEqual([missing.status, missing.body.code], [400, 20001]);

    assert.equal(await buckets(hourly.sid).remove(), true);
    await rejectsWith(buckets(hourly.sid).fetch(), 404, 20404);
    for (const interval of [1, 2, 3, 4]) await buckets.create({ max: 1, interval });
    await rejectsWith(buckets.create({ max: 1, interval: 5 }), 400, 60210);

    assert.equal(await a.client.verify.v2.services(svc.sid).rateLimits(rl.sid).remove(), true);
    await rejectsWith(buckets(bl.sid).fetch(), 404, 20404);
    const left = await app.db.prepare("SELECT COUNT(*) AS n FROM verify_rate_limit_buckets WHERE rate_limit_sid = ?").bind(rl.sid).first();
    assert.equal(left.n, 0);
  });

  test("RateLimits on a verification: 2 allowed, the 3rd 429 (20429, Retry-After) with nothing charged; another value allowed; a bucket update takes effect", async () => {
    const a = await twilioAccount(app, "rl-send");
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Send" });
    const rl = await a.client.verify.v2.services(svc.sid).rateLimits.create({ uniqueName: "end_user_ip" });
    const bl = await a.client.verify.v2.services(svc.sid).rateLimits(rl.sid).buckets.create({ max: 2, interval: 60 });
    const verifications = a.client.verify.v2.services(svc.sid).verifications;
    const start = (ip, extra = {}) => verifications.create({ to: freshPhone(), channel: "sms", rateLimits: { end_user_ip: ip }, ...extra });

    for (let i = 0; i < 2; i++) assert.equal((await start("1.2.3.4")).status, "pending");
    assert.equal(a.client.httpClient.seen.at(-1).data.RateLimits, '{"end_user_ip":"1.2.3.4"}', "the SDK sends the object as JSON");
    const refusedPhone = freshPhone();
    await rejectsWith(verifications.create({ to: refusedPhone, channel: "sms", rateLimits: { end_user_ip: "1.2.3.4" } }), 429, 20429);
    const raw = await rawPost(a, `/v2/Services/${svc.sid}/Verifications`, { To: freshPhone(), Channel: "sms", RateLimits: '{"end_user_ip":"1.2.3.4"}' });
    assert.deepEqual([raw.status, raw.body.code, raw.body.status], [429, 20429, 429]);
    const wait = Number(raw.headers.get("Retry-After"));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${raw.headers.get("Retry-After")}`);
    assert.equal(await outboxCount([refusedPhone]), 0, "nothing sent for the refused");
    assert.equal((await ledger(a.accountId)).length, 2, "nothing charged for the refused");
    // RiskCheck=disable skips the fraud guard, not the rate limits.
    await rejectsWith(start("1.2.3.4", { riskCheck: "disable" }), 429, 20429);

    assert.equal((await start("5.6.7.8")).status, "pending", "another value has its own tokens");
    assert.equal((await verifications.create({ to: freshPhone(), channel: "sms" })).status, "pending", "a request naming no rate limit is not limited");

    await a.client.verify.v2.services(svc.sid).rateLimits(rl.sid).buckets(bl.sid).update({ max: 3 });
    assert.equal((await start("1.2.3.4")).status, "pending", "the raised max applies to the window under way");
    await rejectsWith(start("1.2.3.4"), 429, 20429);
    assert.equal((await ledger(a.accountId)).length, 5);

    // A rate limit without buckets limits nothing; an unknown name and bad JSON are 60200.
    await a.client.verify.v2.services(svc.sid).rateLimits.create({ uniqueName: "empty" });
    assert.equal((await verifications.create({ to: freshPhone(), channel: "sms", rateLimits: { empty: "x" } })).status, "pending");
    await rejectsWith(verifications.create({ to: freshPhone(), channel: "sms", rateLimits: { nope: "x" } }), 400, 60200);
    for (const bad of ["{not json", "[1]", '{"end_user_ip":null}']) {
      const r = await rawPost(a, `/v2/Services/${svc.sid}/Verifications`, { To: freshPhone(), Channel: "sms", RateLimits: bad });
      assert.deepEqual([r.status, r.body.code], [400, 60200], bad);
    }
    assert.equal((await ledger(a.accountId)).length, 6);
  });

  test("a 20-way parallel burst on one value at max 5: exactly 5 sent and charged, 15 refused with 20429", async () => {
    const a = await twilioAccount(app, "rl-burst");
    const svc = await a.client.verify.v2.services.create({ friendlyName: "Burst" });
    const rl = await a.client.verify.v2.services(svc.sid).rateLimits.create({ uniqueName: "user" });
    await a.client.verify.v2.services(svc.sid).rateLimits(rl.sid).buckets.create({ max: 5, interval: 600 });
    const phones = Array.from({ length: 20 }, () => freshPhone());
    const verifications = a.client.verify.v2.services(svc.sid).verifications;
    const results = await Promise.allSettled(phones.map((to) => verifications.create({ to, channel: "sms", rateLimits: { user: "u-1" } })));
    const sent = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected");
    assert.equal(sent.length, 5, JSON.stringify(refused.map((r) => `${r.reason?.status}/${r.reason?.code}`)));
    for (const r of refused) assert.deepEqual([r.reason.status, r.reason.code], [429, 20429]);
    assert.equal((await ledger(a.accountId)).length, 5);
    assert.equal(await outboxCount(phones), 5);
    const money = await app.money(a.accountId);
    assert.equal(money.balance, money.ledgerSum);
  });
});
