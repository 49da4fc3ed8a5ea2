// Outbound webhooks: endpoint rules, Standard Webhooks signatures (verified here by an
// independent implementation of the spec), retries with every attempt recorded, per-object
// order, redelivery, isolation between accounts.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { spawnApp } from "./support/app.mjs";
import { startReceiver } from "./support/receiver.mjs";
import { seed, pushSms, usNumber, sleep, waitFor } from "./support/activations.mjs";
import { seedOtpPrices, latestCode, createTemplate, freshPhone, HMAC_SECRET } from "./otp-support.mjs";

/** Standard Webhooks verification, written from the spec (not from otpedge's code). */
function verifyStandardWebhook(secret, headers, body, { toleranceSecs = 300, now = Date.now() / 1000 } = {}) {
  const id = headers["webhook-id"];
  const ts = headers["webhook-timestamp"];
  const sigs = headers["webhook-signature"];
  if (!id || !ts || !sigs) return false;
  if (Math.abs(now - Number(ts)) > toleranceSecs) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest();
  return sigs.split(" ").some((s) => {
    const [version, b64] = s.split(",");
    const got = Buffer.from(b64 ?? "", "base64");
    return version === "v1" && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

describe("outbound webhooks", () => {
  let app, receiver;
  before(async () => {
    app = await spawnApp({
      vars: { WEBHOOK_ALLOW_LOCAL_HTTP: "true", WEBHOOK_RETRY_BASE_MS: "100", WEBHOOK_RETRY_MAX_MS: "400", OTP_HMAC_SECRET: HMAC_SECRET, RATE_LIMIT_PRODUCT: "100000", ACTIVATION_CANCEL_LOCK_SECS: "0" },
    });
    receiver = await startReceiver();
    await seedOtpPrices(app);
  });
  after(async () => {
    await app.close();
    await receiver.close();
  });

  test("endpoint URLs: https, or http to this machine only with the dev flag; the secret is kept unless rotated", async () => {
    const a = await app.createAccount("urls");
    for (const url of ["ftp://example.com/x", "example.com", "https://", "http://example.com/hooks", "http://127.0.0.1.evil.test/h", "https://user@evil.test/h", "https://example.com:+443/h"]) {
      const r = await app.request("PUT", "/v1/webhook", { key: a.key, body: { url } });
      assert.equal(r.status, 400, `${url}: ${r.text}`);
      assert.equal(r.body.errors[0].code, "2300");
    }
    assert.equal((await app.request("GET", "/v1/webhook", { key: a.key })).body.errors[0].code, "2301");
    const set = await app.request("PUT", "/v1/webhook", { key: a.key, body: { url: "https://example.com/hooks" } });
    assert.equal(set.status, 200, set.text);
    assert.match(set.body.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    const again = await app.request("PUT", "/v1/webhook", { key: a.key, body: { url: "https://example.com/other" } });
    assert.equal(again.body.secret, set.body.secret);
    assert.equal((await app.request("GET", "/v1/webhook", { key: a.key })).body.url, "https://example.com/other");
    const rotated = await app.request("PUT", "/v1/webhook", { key: a.key, body: { url: "https://example.com/other", rotate_secret: true } });
    assert.notEqual(rotated.body.secret, set.body.secret);
    assert.equal((await app.request("DELETE", "/v1/webhook", { key: a.key })).status, 200);
    assert.equal((await app.request("GET", "/v1/webhook", { key: a.key })).status, 404);
    // Without the dev flag, plain http to localhost is refused too.
    const strict = await spawnApp();
    try {
      const s = await strict.createAccount("strict");
      const r = await strict.request("PUT", "/v1/webhook", { key: s.key, body: { url: receiver.url } });
      assert.equal(r.status, 400);
      assert.equal(r.body.errors[0].code, "2300");
    } finally {
      await strict.close();
    }
  });

  test("signing secrets (webhook endpoints, suppliers) are derived, never stored in D1", async () => {
    const a = await app.createAccount("no-secrets");
    const set = await app.request("PUT", "/v1/webhook", { key: a.key, body: { url: "https://example.com/h" } });
    const supplier = await app.request("POST", "/admin/suppliers", { admin: true, body: { name: "bank" } });
    assert.equal(supplier.status, 201, supplier.text);
    assert.match(supplier.body.secret, /^whsec_[0-9a-f]{64}$/);
    const rows = JSON.stringify([
      ...(await app.db.prepare("SELECT * FROM webhook_endpoints").all()).results,
      ...(await app.db.prepare("SELECT * FROM suppliers").all()).results,
    ]);
    for (const secret of [set.body.secret, supplier.body.secret]) {
      assert.ok(!rows.includes(secret) && !rows.includes(secret.slice(6)), "secret found in D1");
    }
  });

  test("an account without an endpoint records no events", async () => {
    const a = await app.createAccount("no-endpoint", "1.00");
    const phone = freshPhone();
    const s = await app.request("POST", "/v1/otp/send", { key: a.key, body: { to: phone, channel: "sms" } });
    assert.equal(s.status, 200, s.text);
    const { code } = await latestCode(app, phone);
    assert.equal((await app.request("POST", "/v1/otp/verify", { key: a.key, body: { session_id: s.body.session_id, code } })).body.verified, true);
    const n = await app.db.prepare("SELECT COUNT(*) AS n FROM webhook_events WHERE account_id = ?").bind(a.accountId).first();
    assert.equal(n.n, 0);
  });

  test("a GetOTP verification result reaches the endpoint signed, with the payload echoed", async () => {
    const a = await app.createAccount("getotp-hook", "5.00");
    const set = await app.request("PUT", "/v1/webhook", { key: a.key, body: { url: receiver.url } });
    assert.equal(set.status, 200, set.text);
    const template = await createTemplate(app, "Your code is {code}");
    const phone = freshPhone();
    const payload = JSON.stringify({ order_id: "xfdu48sfdjsdf", agent_id: 2258 });
    const sent = await app.request("POST", "/api/verify/", { headers: { "X-OTP-Key": a.key }, body: { data: { channel: "sms", sender: "GetOTP", phone: phone.slice(1), template, code_length: 6, payload } } });
    assert.equal(sent.status, 200, sent.text);
    const { code } = await latestCode(app, phone);
    const before = receiver.received.length;
    const check = await app.request("POST", "/api/verify/check", { headers: { "X-OTP-Key": a.key }, body: { data: { message_id: sent.body.message_id, code } } });
    assert.equal(check.body.verified, true, check.text);
    const delivery = await waitFor(() => receiver.received.slice(before).find((d) => d.body.data?.message_id === sent.body.message_id));
    const event = delivery.body;
    assert.equal(event.type, "otp.verified");
    assert.equal(event.data.payload, payload);
    assert.match(delivery.headers["webhook-id"], /^evt_/);
    assert.ok(verifyStandardWebhook(set.body.secret, delivery.headers, delivery.raw), "signature verifies");
    // The same verifier rejects a tampered body, another secret and an old timestamp.
    assert.equal(verifyStandardWebhook(set.body.secret, delivery.headers, delivery.raw.replace("otp.verified", "otp.failed")), false);
    assert.equal(verifyStandardWebhook("whsec_" + Buffer.from("other-secret-000000000000").toString("base64"), delivery.headers, delivery.raw), false);
    assert.equal(verifyStandardWebhook(set.body.secret, delivery.headers, delivery.raw, { now: Date.now() / 1000 + 3600 }), false);
    assert.ok(!delivery.raw.includes(code), "the code itself is never sent in an event");
  });

  test("a receiver that fails twice then succeeds gets three attempts, all recorded", async () => {
    const a = await app.createAccount("retries", "5.00");
    await app.request("PUT", "/v1/webhook", { key: a.key, body: { url: receiver.url } });
    const template = await createTemplate(app, "Hello {name}, {code}");
    receiver.plan.push(500, 503);
    const before = receiver.received.length;
    const sent = await app.request("POST", "/v1/messages/send", { key: a.key, body: { phone_number: freshPhone(), template_id: template, variables: { name: "Ana" } } });
    assert.equal(sent.status, 202, sent.text);
    const id = sent.body.message_id;
    const mine = () => receiver.received.slice(before).filter((d) => d.body.data?.message_id === id);
    await waitFor(() => mine().length === 3);
    const hooks = mine();
    assert.deepEqual(hooks.map((d) => d.body.type), ["message.sent", "message.sent", "message.sent"]);
    assert.equal(new Set(hooks.map((d) => d.headers["webhook-id"])).size, 1, "one webhook-id across retries");
    assert.ok(hooks[2].at - hooks[1].at >= 50 && hooks[1].at - hooks[0].at >= 50, "retries are spaced by the backoff");
    const log = await waitFor(async () => {
      const r = await app.request("GET", "/v1/webhook/deliveries", { key: a.key });
      return r.body.data.filter((x) => x.object_id === id).length === 3 ? r : null;
    });
    const attempts = log.body.data.filter((x) => x.object_id === id).reverse();
    assert.deepEqual(attempts.map((x) => [x.attempt, x.status_code, x.succeeded]), [[1, 500, false], [2, 503, false], [3, 200, true]]);
    assert.ok(attempts[0].next_attempt_at && !attempts[2].next_attempt_at);
    await sleep(300);
    assert.equal(mine().length, 3, "no attempt after the success");
  });

  test("a redirect is never followed: the 3xx is a failed attempt, the redirect's target gets nothing", async () => {
    const target = await startReceiver();
    const redirector = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(302, { Location: target.url }).end());
    });
    await new Promise((r) => redirector.listen(0, "127.0.0.1", r));
    try {
      const a = await app.createAccount("redirects", "5.00");
      const url = `http://127.0.0.1:${redirector.address().port}/hooks`;
      assert.equal((await app.request("PUT", "/v1/webhook", { key: a.key, body: { url } })).status, 200);
      const template = await createTemplate(app, "Hello {name}, {code}");
      const sent = await app.request("POST", "/v1/messages/send", { key: a.key, body: { phone_number: freshPhone(), template_id: template, variables: { name: "Ana" } } });
      assert.equal(sent.status, 202, sent.text);
      const id = sent.body.message_id;
      const log = await waitFor(async () => {
        const r = await app.request("GET", "/v1/webhook/deliveries", { key: a.key });
        return r.body.data.some((x) => x.object_id === id) ? r : null;
      });
      const first = log.body.data.filter((x) => x.object_id === id).at(-1);
      assert.deepEqual([first.attempt, first.status_code, first.succeeded], [1, 302, false]);
      assert.ok(first.next_attempt_at, "retried like any failed attempt");
      await sleep(300);
      assert.equal(target.received.length, 0, "the redirect's target never got the signed request");
    } finally {
      await new Promise((r) => redirector.close(r));
      await target.close();
    }
  });

  test("an activation's events arrive in order; redelivery sends one again; other accounts see nothing", async () => {
    const a = await app.createAccount("order", "5.00");
    const b = await app.createAccount("other", "5.00");
    await app.request("PUT", "/v1/webhook", { key: a.key, body: { url: receiver.url } });
    const { secret } = await seed(app, { us: 3 });
    const bought = await app.request("POST", "/v1/number", { key: a.key, body: { service: "telegram", country: "US" } });
    assert.equal(bought.status, 200, bought.text);
    const id = bought.body.activation_id;
    const before = receiver.received.length;
    assert.equal((await pushSms(app, secret, { number: bought.body.number, text: "Your code is 985421" })).status, 200);
    await waitFor(async () => (await app.request("GET", `/v1/activation/${id}/status`, { key: a.key })).body.status === "received");
    const done = await app.request("POST", `/v1/activation/${id}/status`, { key: a.key, body: { status: "complete" } });
    assert.equal(done.status, 200, done.text);
    const mine = () => receiver.received.slice(before).map((d) => ({ ...d, event: d.body })).filter((d) => d.event.data?.activation_id === id);
    await waitFor(() => mine().length >= 2);
    const events = mine();
    assert.deepEqual(events.map((d) => d.event.type), ["activation.sms_received", "activation.completed"]);
    assert.equal(events[0].event.data.code, "985421");
    assert.equal(events[0].event.data.sms, "Your code is 985421");

    // Redelivery: the same event (same webhook-id) once more.
    const eventId = events[0].headers["webhook-id"];
    assertNotFoundFor(await app.request("POST", `/v1/webhook/events/${eventId}/redeliver`, { key: b.key }));
    const again = await app.request("POST", `/v1/webhook/events/${eventId}/redeliver`, { key: a.key });
    assert.equal(again.status, 202, again.text);
    await waitFor(() => mine().filter((d) => d.headers["webhook-id"] === eventId).length === 2);
    const other = await app.request("GET", "/v1/webhook/deliveries", { key: b.key });
    assert.equal(other.status, 200);
    assert.deepEqual(other.body.data, []);
  });
});

function assertNotFoundFor(r) {
  assert.equal(r.status, 404, r.text);
  assert.equal(r.body.errors[0].code, "2008");
}
