// The defects a hostile-input run (schemathesis) found, each pinned by a test: every constraint a
// client can trip is a 4xx in the route's envelope, never a 500; webhook URLs cannot reach
// internal addresses; secret rotation is atomic; a refused check never reads as a success.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnPricedOtpApp, spawnOtpApp, latestCode, freshPhone, createTemplate } from "./otp-support.mjs";
import { seed, pushSms } from "./support/activations.mjs";

let app;
let acct;
let inv;

before(async () => {
  app = await spawnPricedOtpApp({ vars: { ACTIVATION_CANCEL_LOCK_SECS: "0" } });
  inv = await seed(app, { us: 10 });
  acct = await app.createAccount("defects", "50.00");
});
after(() => app?.close());

/** The error code of either envelope. */
const code = (r) => r.body?.errors?.[0]?.code ?? r.body?.code;

describe("names starting with NUL are refused (SQLite's length() stops at NUL)", () => {
  for (const [path, body] of [
    ["/admin/accounts", { name: "\u0000acme" }],
    ["/admin/suppliers", { name: "\u0000sim" }],
    ["/admin/templates", { name: "\u0000tpl", channel: "sms", body: "Code {code}" }],
    ["/admin/templates", { name: "tpl", channel: "sms", body: "\u0000Code {code}" }],
    ["/admin/accounts", { name: "a\u0007b" }],
  ]) {
    test(`POST ${path} ${JSON.stringify(body)} → 400`, async () => {
      const r = await app.request("POST", path, { admin: true, body });
      assert.equal(r.status, 400, r.text);
      // A name is an invalid request (2004); a template body, an invalid template (2204).
      assert.ok(["2004", "2204"].includes(code(r)), r.text);
    });
  }
  test("PUT /admin/catalog with a NUL name → 400", async () => {
    const r = await app.request("PUT", "/admin/catalog", { admin: true, body: { services: [{ code: "nulsvc", name: "\u0000x" }] } });
    assert.equal(r.status, 400, r.text);
  });
});

describe("ids longer than a KV key can be are unknown ids (404), not 500s", () => {
  for (const len of [509, 512, 600, 4096]) {
    test(`session / message id of ${len} characters`, async () => {
      const id = "o".repeat(len);
      const w = await app.request("POST", "/v1/otp/verify", { key: acct.key, body: { session_id: id, code: "123456" } });
      assert.equal(w.status, 404, w.text);
      const g = await app.request("POST", "/api/verify/check", { headers: { "X-OTP-Key": acct.key }, body: { data: { message_id: id, code: "123456" } } });
      assert.equal(g.status, 404, g.text);
      const s = await app.request("GET", `/api/verify/${id}`, { headers: { "X-OTP-Key": acct.key } });
      assert.equal(s.status, 404, s.text);
      const m = await app.request("GET", `/v1/messages/${id}`, { key: acct.key });
      assert.equal(m.status, 404, m.text);
    });
  }
});

describe("webhook URLs cannot reach internal addresses (SSRF)", () => {
  // The shipped default: WEBHOOK_ALLOW_LOCAL_HTTP = "false" (no local-development exception).
  let prod;
  let key;
  let accountId;
  before(async () => {
    prod = await (await import("./support/app.mjs")).spawnApp();
    ({ key, accountId } = await prod.createAccount("ssrf"));
  });
  after(() => prod?.close());
  const refused = [
    "https://127.0.0.1/",
    "https://127.1/",
    "https://2130706433/",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.1.2.3/",
    "https://192.168.0.1/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[fd00::1]/",
    "https://[::1",
    "https://example.com:99999999/",
    "https://example.com:0/",
    "https://localhost/",
    "https://metadata.google.internal/",
    "https://example.com/\u202egpj",
    "https://exa\u202emple.com/",
  ];
  for (const url of refused) {
    test(`PUT /v1/webhook ${JSON.stringify(url)} → 400 (2300)`, async () => {
      const r = await prod.request("PUT", "/v1/webhook", { key, body: { url } });
      assert.equal(r.status, 400, r.text);
      assert.equal(code(r), "2300");
    });
  }
  test("a public https URL is accepted; the admin route applies the same rules", async () => {
    assert.equal((await prod.request("PUT", "/v1/webhook", { key, body: { url: "https://example.com/hooks" } })).status, 200);
    const r = await prod.request("PUT", `/admin/accounts/${accountId}/webhook`, { admin: true, body: { url: "https://169.254.169.254/" } });
    assert.equal(r.status, 400, r.text);
  });
});

test("30 parallel secret rotations: 30 distinct secrets, each the one of the version it created", async () => {
  const a = await app.createAccount("rotate");
  const first = await app.request("PUT", "/v1/webhook", { key: a.key, body: { url: "https://example.com/hooks" } });
  assert.equal(first.status, 200);
  const answers = await Promise.all(Array.from({ length: 30 }, () => app.request("PUT", "/v1/webhook", { key: a.key, body: { url: "https://example.com/hooks", rotate_secret: true } })));
  for (const r of answers) assert.equal(r.status, 200, r.text);
  const secrets = new Set(answers.map((r) => r.body.secret));
  assert.equal(secrets.size, 30, "every rotation returns its own secret");
  assert.ok(!secrets.has(first.body.secret));
  const row = await app.db.prepare("SELECT secret_version FROM webhook_endpoints WHERE account_id = ?").bind(a.accountId).first();
  assert.equal(row.secret_version, 31);
  const now = await app.request("GET", "/v1/webhook", { key: a.key });
  assert.ok(secrets.has(now.body.secret), "the current secret is one that a rotation returned");
  // A PUT without rotate_secret keeps the secret.
  const keep = await app.request("PUT", "/v1/webhook", { key: a.key, body: { url: "https://example.com/other" } });
  assert.equal(keep.body.secret, now.body.secret);
});

describe("a refused check carries no success word", () => {
  const noSuccessWord = (body) => {
    assert.equal(body.verified, false);
    for (const [k, v] of Object.entries(body)) if (typeof v === "string" && k !== "session_id" && k !== "message_id") assert.doesNotMatch(v, /verified|success|valid|ok/i, `${k}: ${v}`);
  };
  test("WhatOTP: the same right code twice → the second is rejected", async () => {
    const to = freshPhone();
    const s = await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to, channel: "sms" } });
    assert.equal(s.status, 200, s.text);
    const { code: c } = await latestCode(app, to);
    const ok = await app.request("POST", "/v1/otp/verify", { key: acct.key, body: { session_id: s.body.session_id, code: c } });
    assert.equal(ok.body.verified, true);
    const again = await app.request("POST", "/v1/otp/verify", { key: acct.key, body: { session_id: s.body.session_id, code: c } });
    assert.equal(again.status, 200);
    assert.equal(again.body.status, "rejected");
    assert.equal(again.body.reason, "already_used");
    noSuccessWord(again.body);
  });
  test("GetOTP: /api/verify/check the same way; max_attempts is rejected too", async () => {
    const tpl = await createTemplate(app, "Code {code}");
    const phone = freshPhone().slice(1);
    const s = await app.request("POST", "/api/verify/", { headers: { "X-OTP-Key": acct.key }, body: { data: { channel: "sms", sender: "x", phone, template: tpl, code: "4321" } } });
    assert.equal(s.status, 200, s.text);
    const check = (c) => app.request("POST", "/api/verify/check", { headers: { "X-OTP-Key": acct.key }, body: { data: { message_id: s.body.message_id, code: c } } });
    assert.equal((await check("4321")).body.verified, true);
    const again = await check("4321");
    assert.equal(again.body.status, "rejected");
    noSuccessWord(again.body);
    // A session whose attempts are spent.
    const phone2 = freshPhone().slice(1);
    const s2 = await app.request("POST", "/api/verify/", { headers: { "X-OTP-Key": acct.key }, body: { data: { channel: "sms", sender: "x", phone: phone2, template: tpl, code: "4321" } } });
    const check2 = (c) => app.request("POST", "/api/verify/check", { headers: { "X-OTP-Key": acct.key }, body: { data: { message_id: s2.body.message_id, code: c } } });
    for (let i = 0; i < 5; i++) await check2("0000");
    const spent = await check2("4321");
    assert.equal(spent.body.status, "rejected");
    assert.equal(spent.body.reason, "max_attempts");
    noSuccessWord(spent.body);
  });
});

test("a top-up past the wallet's maximum says so (not 402 insufficient balance)", async () => {
  const a = await app.createAccount("rich");
  await app.db.prepare("UPDATE wallets SET balance = 1000000000000000 - 10000 WHERE account_id = ?").bind(a.accountId).run();
  const r = await app.request("POST", `/admin/accounts/${a.accountId}/topup`, { admin: true, body: { amount: "2.00", reference: "over" } });
  assert.notEqual(r.status, 402, r.text);
  assert.equal(r.status, 409, r.text);
  assert.equal(code(r), "2017");
  assert.match(r.body.errors[0].message, /maximum/i);
});

test("POST /v1/activation/{id}/status checks the key before the body", async () => {
  const r = await app.request("POST", "/v1/activation/act_x/status", { key: "X".repeat(32), raw: "{not json", headers: { "Content-Type": "application/json" } });
  assert.equal(r.status, 401, r.text);
  const n = await app.request("POST", "/v1/activation/act_x/status", { raw: "[1]", headers: { "Content-Type": "application/json" } });
  assert.equal(n.status, 401, n.text);
});

test("POST /api/verify without its slash counts in the product rate-limit group", async () => {
  const fresh = await (await import("./support/app.mjs")).spawnApp();
  try {
    const a = await fresh.request("POST", "/api/verify", { headers: { "X-OTP-Key": "k" }, body: {} });
    const b = await fresh.request("POST", "/api/verify/", { headers: { "X-OTP-Key": "k" }, body: {} });
    assert.equal(a.status, 401);
    assert.equal(a.headers.get("x-ratelimit-limit"), b.headers.get("x-ratelimit-limit"));
    assert.equal(a.headers.get("x-ratelimit-limit"), "120");
  } finally {
    await fresh.close();
  }
});

test("inbound SMS: received_at must be an RFC 3339 time", async () => {
  const number = "+14155551000";
  for (const received_at of ["yesterday", "2026-13-01T00:00:00Z", "x".repeat(50), "2026-11-30 12:00:00"]) {
    const raw = JSON.stringify({ sms_id: `bad-${received_at.length}-${Math.random()}`, number, from: "T", text: "code 123456", received_at });
    const { signature } = await import("./support/activations.mjs");
    const r = await app.request("POST", "/v1/inbound/sms", { raw, headers: { "Content-Type": "application/json", "X-Signature": signature(inv.secret, raw) } });
    assert.equal(r.status, 400, `${received_at}: ${r.text}`);
  }
  const ok = await pushSms(app, inv.secret, { number, text: "code 123456" });
  assert.equal(ok.status, 200, ok.text);
});

test("template variables are bounded", async () => {
  const tpl = await createTemplate(app, "Hi {name}.", "sms", "hello");
  const r = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: freshPhone(), template_id: tpl, variables: { name: "x".repeat(10_000) } } });
  assert.equal(r.status, 400, r.text);
  assert.equal(code(r), "2203");
  const ok = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: freshPhone(), template_id: tpl, variables: { name: "Ana" } } });
  assert.equal(ok.status, 202, ok.text);
});

test("channel on /v1/otp/send is required (WhatOTP marks it required)", async () => {
  const r = await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to: freshPhone() } });
  assert.equal(r.status, 400, r.text);
  assert.match(r.body.errors[0].message, /'channel' is required/);
});

describe("a non-JSON Content-Type on a JSON route → 415 in the route's envelope", () => {
  test("OTPWALL / admin (GetOTP's envelope)", async () => {
    for (const [path, opts] of [
      ["/v1/number", { key: acct.key }],
      ["/admin/accounts", { admin: true }],
      ["/api/verify/", { headers: { "X-OTP-Key": acct.key } }],
    ]) {
      const r = await app.request("POST", path, { ...opts, raw: '{"name":"x","service":"telegram","country":"US"}', headers: { ...opts.headers, "Content-Type": "text/plain" } });
      assert.equal(r.status, 415, `${path}: ${r.text}`);
      assert.equal(r.body.errors[0].code, "2016");
    }
  });
  test("NumberOTP's envelope", async () => {
    const r = await app.request("POST", "/api/internal/rent", { key: acct.key, raw: '{"service":"telegram","country":"US"}', headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    assert.equal(r.status, 415, r.text);
    assert.deepEqual(Object.keys(r.body).sort(), ["code", "error", "success"]);
    assert.equal(r.body.code, "2016");
  });
  test("application/json with a charset, +json, and no Content-Type at all are read", async () => {
    for (const ct of ["application/json; charset=utf-8", "application/merge-patch+json", undefined]) {
      const headers = ct ? { "Content-Type": ct } : {};
      // Bytes, so that fetch adds no Content-Type of its own (a string body gets text/plain).
      const r = await app.request("POST", "/admin/accounts", { admin: true, raw: Buffer.from('{"name":"ct"}'), headers });
      assert.equal(r.status, 201, `${ct}: ${r.text}`);
    }
  });
});

test("a GetOTP phone sent as a JSON number, and a body sent as an array, are refused (no charge)", async () => {
  const tpl = await createTemplate(app, "Code {code}");
  const before = await app.money(acct.accountId);
  for (const phone of [14155550100.0, 1e10, -14155550100]) {
    const r = await app.request("POST", "/api/verify/", { headers: { "X-OTP-Key": acct.key }, body: { data: { channel: "sms", sender: "x", phone, template: tpl, code_length: 4 } } });
    assert.equal(r.status, 400, r.text);
    assert.equal(code(r), "1523");
  }
  const arr = await app.request("POST", "/v1/number", { key: acct.key, body: ["telegram", "US", null, null] });
  assert.equal(arr.status, 400, arr.text);
  assert.deepEqual(await app.money(acct.accountId), before);
});

describe("bad configuration values", () => {
  test("a var that is not understood is named in the log once, with the value used instead", async () => {
    const logs = [];
    const bad = await spawnOtpApp({
      vars: { RATE_LIMIT_PUBLIC: "lots", WEBHOOK_ALLOW_LOCAL_HTTP: "yes", SIGNUP_APPROVAL: "sometimes", PUBLIC_ORIGIN: "otp.example.com/x" },
      log: (line) => logs.push(line),
    });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await bad.request("GET", "/api/public/prices")).status, 200);
      await new Promise((r) => setTimeout(r, 200));
      const text = logs.join("");
      for (const [name, used] of [["RATE_LIMIT_PUBLIC", "100"], ["WEBHOOK_ALLOW_LOCAL_HTTP", "false"], ["SIGNUP_APPROVAL", "manual"], ["PUBLIC_ORIGIN", "the request's origin"]]) {
        const said = text.split("\n").filter((l) => l.includes(`config: ${name}=`));
        assert.equal(said.length, 1, `${name} logged once: ${text}`);
        assert.ok(said[0].includes(`using ${used} instead`), said[0]);
      }
    } finally {
      await bad.close();
    }
  });
});
