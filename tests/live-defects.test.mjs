// Two money/security defects, pinned: a float-like phone string must never reach another
// number (and be charged), and a login session token is never an API key outside
// `Authorization: Bearer` or the session cookie (sms-activate's URL or form, GetOTP's
// X-OTP-Key or Basic, Twilio's Basic).
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnPricedOtpApp, createTemplate } from "./otp-support.mjs";
import { seed } from "./support/activations.mjs";
import { signUp } from "./accounts-support.mjs";

const HANDLER = "/stubs/handler_api.php";
let app;
let acct;

before(async () => {
  app = await spawnPricedOtpApp({ vars: { RATE_LIMIT_AUTH: "100000" } });
  await seed(app, { us: 5 });
  acct = await app.createAccount("phones", "20.00");
});
after(() => app?.close());

const outboxCount = async () => (await app.db.prepare("SELECT COUNT(*) AS n FROM outbox").first()).n;
const code = (r) => r.body?.errors?.[0]?.code ?? r.body?.code ?? r.body?.error?.code;

describe("a phone is digits with an optional leading +, nothing else", () => {
  const floaty = ["14155550180.0", "+14155550196.0", "1.4155550180e10", "+1 415 555 0182", "+1-415-555-0183", "(415)5550184"];

  test("WhatOTP send and template message: 400, nothing sent, nothing charged", async () => {
    const tpl = await createTemplate(app, "Code {code}", "sms", "floaty");
    const before = await app.money(acct.accountId);
    const sent = await outboxCount();
    for (const to of floaty) {
      const w = await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to, channel: "sms" } });
      assert.equal(w.status, 400, `${to}: ${w.text}`);
      const m = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: to, template_id: tpl, variables: {} } });
      assert.equal(m.status, 400, `${to}: ${m.text}`);
    }
    assert.deepEqual(await app.money(acct.accountId), before);
    assert.equal(await outboxCount(), sent);
    // The plain form of the same numbers still sends (so the refusals above are the phones').
    const ok = await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to: "+14155550196", channel: "sms" } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(await outboxCount(), sent + 1);
    const rows = await app.db.prepare("SELECT to_phone FROM outbox WHERE to_phone LIKE '+1415555019%' OR to_phone LIKE '+14155550180%'").all();
    assert.deepEqual(rows.results.map((r) => r.to_phone), ["+14155550196"]);
  });

  test("GetOTP send: 400 with its phone code, nothing sent, nothing charged", async () => {
    const tpl = await createTemplate(app, "Code {code}", "sms", "floaty-getotp");
    const before = await app.money(acct.accountId);
    const sent = await outboxCount();
    for (const phone of floaty) {
      const r = await app.request("POST", "/api/verify/", { headers: { "X-OTP-Key": acct.key }, body: { data: { channel: "sms", sender: "x", phone, template: tpl, code_length: 4 } } });
      assert.equal(r.status, 400, `${phone}: ${r.text}`);
      assert.equal(code(r), "1523", r.text);
    }
    assert.deepEqual(await app.money(acct.accountId), before);
    assert.equal(await outboxCount(), sent);
  });

  test("Twilio Verify: 400 (60200), nothing sent, nothing charged", async () => {
    const p = await app.request("GET", "/api/user/profile", { key: acct.key });
    const auth = "Basic " + Buffer.from(`${p.body.data.twilio_account_sid}:${acct.key}`).toString("base64");
    const svc = await fetch(new URL("/v2/Services", app.url), { method: "POST", headers: { Authorization: auth, "Content-Type": "application/x-www-form-urlencoded" }, body: "FriendlyName=Floaty" }).then((r) => r.json());
    const before = await app.money(acct.accountId);
    const sent = await outboxCount();
    for (const to of floaty.filter((t) => t.startsWith("+"))) {
      const r = await fetch(new URL(`/v2/Services/${svc.sid}/Verifications`, app.url), { method: "POST", headers: { Authorization: auth, "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ To: to, Channel: "sms" }).toString() });
      assert.equal(r.status, 400, to);
      assert.equal((await r.json()).code, 60200);
    }
    assert.deepEqual(await app.money(acct.accountId), before);
    assert.equal(await outboxCount(), sent);
  });
});

describe("a login session token is not an API key outside Authorization: Bearer", () => {
  let s;
  before(async () => {
    s = await signUp(app);
    const t = await app.request("POST", `/admin/accounts/${s.accountId}/topup`, { admin: true, body: { amount: "10.00", reference: `live-defects-${process.pid}` } });
    assert.equal(t.status, 200, t.text);
  });

  test("the session still works as Bearer (the dashboard API)", async () => {
    const r = await app.request("GET", "/v1/balance", { key: s.token });
    assert.equal(r.status, 200, r.text);
  });

  test("sms-activate: api_key in the URL or the form is BAD_KEY; getNumber charges nothing", async () => {
    const before = await app.money(s.accountId);
    for (const action of ["getBalance", "getNumber&service=tg&country=187"]) {
      const q = await fetch(new URL(`${HANDLER}?api_key=${s.token}&action=${action}`, app.url));
      assert.equal(await q.text(), "BAD_KEY", action);
      const f = await fetch(new URL(HANDLER, app.url), { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `api_key=${s.token}&action=${action}` });
      assert.equal(await f.text(), "BAD_KEY", action);
    }
    assert.deepEqual(await app.money(s.accountId), before);
    const held = await app.db.prepare("SELECT COUNT(*) AS n FROM activations WHERE account_id = ?").bind(s.accountId).first();
    assert.equal(held.n, 0);
  });

  test("GetOTP: X-OTP-Key or Basic carrying a session token is 401", async () => {
    const path = "/api/verify/00000000-0000-4000-8000-000000000000";
    const basic = (k) => "Basic " + Buffer.from(`${k}:`).toString("base64");
    // An API key in the same places reaches the route (an unknown id: 404).
    assert.equal((await app.request("GET", path, { headers: { "X-OTP-Key": acct.key } })).status, 404);
    assert.equal((await app.request("GET", path, { headers: { Authorization: basic(acct.key) } })).status, 404);
    const x = await app.request("GET", path, { headers: { "X-OTP-Key": s.token } });
    assert.equal(x.status, 401, x.text);
    const b = await app.request("GET", path, { headers: { Authorization: basic(s.token) } });
    assert.equal(b.status, 401, b.text);
  });

  test("Twilio Verify: a session token as the Basic password is 401 (20003)", async () => {
    const p = await app.request("GET", "/api/user/profile", { key: s.token });
    assert.equal(p.status, 200, p.text);
    const auth = "Basic " + Buffer.from(`${p.body.data.twilio_account_sid}:${s.token}`).toString("base64");
    const r = await fetch(new URL("/v2/Services", app.url), { headers: { Authorization: auth } });
    assert.equal(r.status, 401);
    assert.equal((await r.json()).code, 20003);
  });
});
