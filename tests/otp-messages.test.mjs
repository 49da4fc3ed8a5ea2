// Templates (POST /admin/templates) and template messages (POST /v1/messages/send):
// rendering, variable errors, 202 queued → sent in the outbox, codes in messages, money.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { spawnPricedOtpApp, latestCode, createTemplate, freshPhone } from "./otp-support.mjs";
import { waitFor } from "./support/activations.mjs";

let app, acct, codeTemplate, plainTemplate;

before(async () => {
  app = await spawnPricedOtpApp();
  acct = await app.createAccount("messages", "10.00");
  codeTemplate = await createTemplate(app, "Hi {name}, your {app} code is {code}.", "sms", "login");
  plainTemplate = await createTemplate(app, "Hi {name}, your order {order} has shipped. {{thanks}}", "sms", "shipping");
});
after(() => app?.close());

/** The message's answer once it has settled (neither `queued` nor claimed by its job, `sending`). */
const waitForState = (id, key = acct.key) =>
  waitFor(async () => {
    const r = await app.request("GET", `/v1/messages/${id}`, { key });
    return !["queued", "sending"].includes(r.body.status) && r;
  });

describe("templates", () => {
  test("POST /admin/templates → 201 with a UUID and the variables it uses", async () => {
    const r = await app.request("POST", "/admin/templates", { admin: true, body: { name: "t", channel: "WhatsApp", body: "Code {code} for {user}" } });
    assert.equal(r.status, 201, r.text);
    assert.match(r.body.template_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(r.body.channel, "whatsapp");
    assert.equal(r.body.has_code, true);
    assert.deepEqual(r.body.variables, ["code", "user"]);
  });

  test("bad templates are refused: unmatched brace 2204, unknown channel 1515, no admin token 401", async () => {
    const brace = await app.request("POST", "/admin/templates", { admin: true, body: { name: "t", channel: "sms", body: "Code {code" } });
    assert.equal(brace.status, 400);
    assert.equal(brace.body.errors[0].code, "2204");
    const channel = await app.request("POST", "/admin/templates", { admin: true, body: { name: "t", channel: "fax", body: "x" } });
    assert.equal(channel.body.errors[0].code, "1515");
    const anon = await app.request("POST", "/admin/templates", { key: acct.key, body: { name: "t", channel: "sms", body: "x" } });
    assert.equal(anon.status, 401);
  });
});

describe("messages", () => {
  test("202 queued → later sent, rendered in full in the outbox; its code verifies", async () => {
    const phone = freshPhone();
    const before = await app.money(acct.accountId);
    const r = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: phone, template_id: codeTemplate, variables: { name: "Ana", app: "Shop" }, expires_in_seconds: 120 } });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.body.status, "queued");
    assert.match(r.body.message_id, /^msg_/);
    const done = await waitForState(r.body.message_id);
    assert.equal(done.body.status, "sent");
    assert.ok(done.body.sent_at);
    const { message, code } = await latestCode(app, phone);
    assert.equal(message.text, `Hi Ana, your Shop code is ${code}.`);
    assert.equal(message.object_id, r.body.message_id);
    assert.equal((await app.money(acct.accountId)).balance, before.balance - 75);
    const v = await app.request("POST", "/v1/otp/verify", { key: acct.key, body: { session_id: r.body.message_id, code } });
    assert.equal(v.body.verified, true, v.text);
    // The message row does not hold the text.
    const row = await app.db.prepare("SELECT * FROM messages WHERE id = ?").bind(r.body.message_id).first();
    assert.ok(!JSON.stringify(row).includes(code));
  });

  test("a template without {code} renders variables and literal braces", async () => {
    const phone = freshPhone();
    const r = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: phone, template_id: plainTemplate, variables: { name: "Bo", order: 42 } } });
    assert.equal(r.status, 202, r.text);
    assert.equal((await waitForState(r.body.message_id)).body.status, "sent");
    assert.equal((await latestCode(app, phone)).message.text, "Hi Bo, your order 42 has shipped. {thanks}");
  });

  test("a missing or unknown variable → 400 (2203), nothing queued or charged", async () => {
    const before = await app.money(acct.accountId);
    const phone = freshPhone();
    const missing = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: phone, template_id: plainTemplate, variables: { name: "Bo" } } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.errors[0].code, "2203");
    assert.match(missing.body.errors[0].message, /order/);
    const unknown = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: phone, template_id: plainTemplate, variables: { name: "Bo", order: 1, coupon: "X" } } });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.errors[0].code, "2203");
    assert.match(unknown.body.errors[0].message, /coupon/);
    const code = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: phone, template_id: codeTemplate, variables: { name: "A", app: "B", code: "1234" } } });
    assert.equal(code.body.errors[0].code, "2203");
    assert.deepEqual(await app.money(acct.accountId), before);
    const box = await app.request("GET", `/admin/outbox?to=${encodeURIComponent(phone)}`, { admin: true });
    assert.deepEqual(box.body.messages, []);
  });

  test("template id errors: not a UUID 1512, unknown 1513", async () => {
    const bad = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: freshPhone(), template_id: "nope" } });
    assert.equal(bad.body.errors[0].code, "1512");
    const unknown = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: freshPhone(), template_id: randomUUID() } });
    assert.equal(unknown.body.errors[0].code, "1513");
  });

  test("an empty wallet → 402, no message, no outbox entry", async () => {
    const poor = await app.createAccount("poor");
    const phone = freshPhone();
    const r = await app.request("POST", "/v1/messages/send", { key: poor.key, body: { phone_number: phone, template_id: plainTemplate, variables: { name: "A", order: 1 } } });
    assert.equal(r.status, 402, r.text);
    await new Promise((res) => setTimeout(res, 100));
    const box = await app.request("GET", `/admin/outbox?to=${encodeURIComponent(phone)}`, { admin: true });
    assert.deepEqual(box.body.messages, []);
    const n = await app.db.prepare("SELECT COUNT(*) AS n FROM messages WHERE account_id = ?").bind(poor.accountId).first();
    assert.equal(n.n, 0);
  });

  test("a message is visible only to its account", async () => {
    const r = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: freshPhone(), template_id: plainTemplate, variables: { name: "A", order: 1 } } });
    const other = await app.createAccount("other");
    assert.equal((await app.request("GET", `/v1/messages/${r.body.message_id}`, { key: other.key })).status, 404);
  });
});

test("GET /admin/outbox lists newest first, filters by phone, and needs the admin token", async () => {
  const phone = freshPhone();
  for (const order of [1, 2]) {
    const r = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: phone, template_id: plainTemplate, variables: { name: "A", order } } });
    await waitForState(r.body.message_id);
  }
  const box = await app.request("GET", `/admin/outbox?to=${encodeURIComponent(phone)}`, { admin: true });
  assert.deepEqual(box.body.messages.map((m) => m.text), ["Hi A, your order 2 has shipped. {thanks}", "Hi A, your order 1 has shipped. {thanks}"]);
  assert.ok(box.body.messages.every((m) => m.to === phone && m.status && m.created_at && m.id));
  assert.equal((await app.request("GET", "/admin/outbox", { key: acct.key })).status, 401);
  assert.equal((await app.request("GET", "/admin/outbox?to=abc", { admin: true })).body.errors[0].code, "1523");
});

describe("a provider that refuses (OTP_PROVIDER set to one this build does not have)", () => {
  let broken, who, tpl;
  before(async () => {
    broken = await spawnPricedOtpApp({ vars: { OTP_PROVIDER: "nonexistent" } });
    who = await broken.createAccount("refused", "1.00");
    tpl = await createTemplate(broken, "Order {order} shipped");
  });
  after(() => broken?.close());

  test("an OTP send → 502 (2205) and the charge is refunded", async () => {
    const r = await broken.request("POST", "/v1/otp/send", { key: who.key, body: { to: freshPhone(), channel: "sms" } });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.body.errors[0].code, "2205");
    assert.match(r.body.errors[0].message, /; the charge was refunded$/);
    const m = await broken.money(who.accountId);
    assert.equal(m.balance, 10_000);
    assert.equal(m.ledgerSum, 10_000);
    const kinds = (await broken.db.prepare("SELECT kind FROM ledger WHERE account_id = ? ORDER BY seq").bind(who.accountId).all()).results.map((r) => r.kind);
    assert.deepEqual(kinds, ["topup", "otp_send", "otp_refund"]);
  });

  test("a template message → 202 queued, then failed, refunded", async () => {
    const r = await broken.request("POST", "/v1/messages/send", { key: who.key, body: { phone_number: freshPhone(), template_id: tpl, variables: { order: 7 } } });
    assert.equal(r.status, 202, r.text);
    const state = await waitFor(async () => {
      const s = await broken.request("GET", `/v1/messages/${r.body.message_id}`, { key: who.key });
      return !["queued", "sending"].includes(s.body.status) && s;
    });
    assert.equal(state.body.status, "failed");
    await waitFor(async () => (await broken.money(who.accountId)).balance === 10_000);
    const m = await broken.money(who.accountId);
    assert.equal(m.balance, 10_000);
    assert.equal(m.ledgerSum, 10_000);
  });
});
