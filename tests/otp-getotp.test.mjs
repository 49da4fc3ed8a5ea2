// GetOTP dialect: POST /api/verify/ (X-OTP-Key, Basic), every error code of its table with
// the exact envelope, check, state, and the result event with the payload echoed.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { spawnPricedOtpApp, latestCode, createTemplate } from "./otp-support.mjs";

let app, acct, template, noCodeTemplate;
let phoneSeq = 0;
const malaysian = () => `6012345${String(6000 + ++phoneSeq)}`;

before(async () => {
  app = await spawnPricedOtpApp();
  acct = await app.createAccount("getotp", "10.00");
  template = await createTemplate(app, "Your {code} is your GetOTP code.");
  noCodeTemplate = await createTemplate(app, "Hello from GetOTP, no code here.");
});
after(() => app?.close());

const basic = (key) => `Basic ${Buffer.from(`${key}:`).toString("base64")}`;

function getotp(data, headers = { "X-OTP-Key": acct.key }, method = "POST", path = "/api/verify/") {
  return app.request(method, path, { headers, body: data === undefined ? undefined : { data } });
}

const valid = (extra = {}) => ({ channel: "sms", sender: "GetOTP", phone: malaysian(), template, code_length: 4, ...extra });

describe("send", () => {
  test("a valid request succeeds with X-OTP-Key, in GetOTP's response shape", async () => {
    const data = valid();
    const r = await getotp(data);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body).sort(), ["account_id", "create_date", "expire_date", "message_id", "phone"]);
    assert.equal(r.body.account_id, acct.accountId);
    assert.match(r.body.message_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(r.body.phone, data.phone);
    assert.match(r.body.create_date, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const span = Date.parse(r.body.expire_date.replace(" ", "T") + "Z") - Date.parse(r.body.create_date.replace(" ", "T") + "Z");
    assert.equal(span, 300_000);
    const { code, message } = await latestCode(app, `+${data.phone}`);
    assert.equal(message.text, `Your ${code} is your GetOTP code.`);
    assert.equal(message.sender, "GetOTP");
    assert.equal(code.length, 4);
  });

  test("a valid request succeeds with Basic auth (key as username) and with Bearer", async () => {
    const r = await getotp(valid(), { Authorization: basic(acct.key) });
    assert.equal(r.status, 200, r.text);
    const b = await getotp(valid(), { Authorization: `Bearer ${acct.key}` });
    assert.equal(b.status, 200, b.text);
  });

  test("a caller-chosen code is sent and checkable", async () => {
    const data = valid({ code_length: undefined, code: "482913" });
    const r = await getotp(data);
    assert.equal(r.status, 200, r.text);
    assert.equal((await latestCode(app, `+${data.phone}`)).code, "482913");
    const c = await app.request("POST", "/api/verify/check", { headers: { "X-OTP-Key": acct.key }, body: { data: { message_id: r.body.message_id, code: "482913" } } });
    assert.equal(c.body.verified, true);
  });
});

describe("every error code of the table, with the exact envelope", () => {
  const cases = [
    ["1136", 401, "User Not Authorized", () => getotp(valid(), {})],
    ["1136", 401, "User Not Authorized", () => getotp(valid(), { "X-OTP-Key": "A".repeat(32) })],
    ["1136", 401, "User Not Authorized", () => getotp(valid(), { Authorization: basic("B".repeat(32)) })],
    ["1620", 400, "'sender' is missing", () => getotp(valid({ sender: undefined }))],
    ["1621", 400, "'phone' is missing", () => getotp(valid({ phone: undefined }))],
    ["1622", 400, "'template' is missing", () => getotp(valid({ template: undefined }))],
    ["1512", 400, "Invalid template id", () => getotp(valid({ template: "not-a-uuid" }))],
    ["1513", 400, "Template is not found", () => getotp(valid({ template: randomUUID() }))],
    ["1515", 400, "Invalid channel specified", () => getotp(valid({ channel: "fax" }))],
    ["1523", 400, "Invalid recipient number(s)", () => getotp(valid({ phone: "60-12ab" }))],
    // A phone sent as a JSON number is refused, never read through a float to another number.
    ["1523", 400, "Invalid recipient number(s)", () => getotp(valid({ phone: 14155550100.0 }))],
    ["1523", 400, "Invalid recipient number(s)", () => getotp(valid({ phone: 1e10 }))],
    ["1523", 400, "Invalid recipient number(s)", () => getotp(valid({ phone: -14155550100 }))],
    ["1623", 400, "Invalid code length", () => getotp(valid({ code_length: 9 }))],
    ["1623", 400, "Invalid code length", () => getotp(valid({ code_length: undefined }))],
    ["1623", 400, "Invalid code length", () => getotp(valid({ code_length: "three" }))],
    ["1629", 400, "Provide either 'data.code' or 'data.code_length' but not both", () => getotp(valid({ code: "1234" }))],
    ["1631", 400, "When 'data.channel' is not VOICE 'data.code' must be valid and 4 to 8 characters long", () => getotp(valid({ code_length: undefined, code: "123" }))],
    ["1632", 400, "'data.code' should be numeric if provided", () => getotp(valid({ code_length: undefined, code: "12ab" }))],
    ["1624", 400, "Template does not contain keyword {code}", () => getotp(valid({ template: noCodeTemplate }))],
    ["1705", 400, "Invalid payload", () => getotp(valid({ payload: { order_id: "x" } }))],
  ];
  for (const [code, status, message, call] of cases) {
    test(`${code} ${message}`, async () => {
      const before = await app.money(acct.accountId);
      const r = await call();
      assert.equal(r.status, status, r.text);
      assert.deepEqual(Object.keys(r.body), ["errors"]);
      assert.equal(r.body.errors.length, 1);
      const e = r.body.errors[0];
      assert.deepEqual(Object.keys(e).sort(), ["code", "message", "method", "path", "status", "timestamp"]);
      assert.equal(e.code, code);
      assert.equal(e.status, status);
      assert.equal(e.path, "/api/verify/");
      assert.equal(e.method, "POST");
      assert.ok(e.message.startsWith(message), e.message);
      assert.match(e.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.deepEqual(await app.money(acct.accountId), before, "nothing charged");
    });
  }

  test("a voice call may carry a caller-chosen code longer than 8 digits", async () => {
    const r = await getotp(valid({ channel: "voice", code_length: undefined, code: "1234567890" }));
    assert.equal(r.status, 200, r.text);
  });
});

test("a second send to one phone within 30 s → 429 (2201) in GetOTP's envelope, with resend_available_at", async () => {
  const data = valid();
  assert.equal((await getotp(data)).status, 200);
  const again = await getotp({ ...data });
  assert.equal(again.status, 429, again.text);
  const e = again.body.errors[0];
  assert.equal(e.code, "2201");
  assert.equal(e.path, "/api/verify/");
  assert.ok(Date.parse(e.resend_available_at) > Date.now() + 20_000);
  assert.ok(Number(again.headers.get("Retry-After")) > 20);
});

describe("check and state", () => {
  test("check by message_id (nested and flat bodies), state, and the verified event with the payload", async () => {
    const payload = JSON.stringify({ order_id: "xfdu48sfdjsdf", agent_id: 2258 });
    const data = valid({ payload });
    const s = await getotp(data);
    assert.equal(s.status, 200, s.text);
    const { code } = await latestCode(app, `+${data.phone}`);
    const pending = await app.request("GET", `/api/verify/${s.body.message_id}`, { headers: { "X-OTP-Key": acct.key } });
    assert.equal(pending.status, 200);
    assert.equal(pending.body.status, "pending");
    assert.equal(pending.body.attempts_remaining, 5);
    const wrong = await app.request("POST", "/api/verify/check", { headers: { "X-OTP-Key": acct.key }, body: { message_id: s.body.message_id, code: code === "0000" ? "1111" : "0000" } });
    assert.equal(wrong.status, 200, wrong.text);
    assert.equal(wrong.body.verified, false);
    assert.equal(wrong.body.attempts_remaining, 4);
    const ok = await app.request("POST", "/api/verify/check", { headers: { Authorization: basic(acct.key) }, body: { data: { message_id: s.body.message_id, code } } });
    assert.equal(ok.body.verified, true);
    const state = await app.request("GET", `/api/verify/${s.body.message_id}`, { headers: { "X-OTP-Key": acct.key } });
    assert.equal(state.body.status, "verified");
    assert.equal(state.body.phone, data.phone);
    assert.match(state.body.verify_date, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const ev = await app.db.prepare("SELECT account_id, event_type, data FROM webhook_events WHERE object_id = ?").bind(s.body.message_id).first();
    assert.equal(ev.event_type, "otp.verified");
    assert.equal(ev.account_id, acct.accountId);
    const evData = JSON.parse(ev.data);
    assert.equal(evData.payload, payload);
    assert.equal(evData.status, "verified");
    assert.ok(!ev.data.includes(code) || payload.includes(code));
  });

  test("5 wrong checks → failed, recorded once with the payload; another account sees 404", async () => {
    const data = valid({ payload: "plain text payload" });
    const s = await getotp(data);
    const { code } = await latestCode(app, `+${data.phone}`);
    const wrong = code === "9999" ? "8888" : "9999";
    for (let i = 0; i < 6; i++) {
      await app.request("POST", "/api/verify/check", { headers: { "X-OTP-Key": acct.key }, body: { data: { message_id: s.body.message_id, code: wrong } } });
    }
    const state = await app.request("GET", `/api/verify/${s.body.message_id}`, { headers: { "X-OTP-Key": acct.key } });
    assert.equal(state.body.status, "failed");
    const evs = await app.db.prepare("SELECT event_type, data FROM webhook_events WHERE object_id = ?").bind(s.body.message_id).all();
    assert.deepEqual(evs.results.map((e) => e.event_type), ["otp.failed"]);
    assert.equal(JSON.parse(evs.results[0].data).payload, "plain text payload");
    const other = await app.createAccount("stranger");
    const peek = await app.request("GET", `/api/verify/${s.body.message_id}`, { headers: { "X-OTP-Key": other.key } });
    assert.equal(peek.status, 404);
  });
});
