// Real delivery providers against a local fake: the exact requests (method, path, auth, form
// or JSON fields), and the handling of a 4xx, a 5xx then success, and a timeout. Twilio's
// status callback with a wrong and a right X-Twilio-Signature.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import http from "node:http";
import { spawnApp } from "./support/app.mjs";
import { seedOtpPrices, createTemplate, freshPhone, HMAC_SECRET } from "./otp-support.mjs";

const CALLBACK_URL = "https://otpedge.example/v1/providers/twilio/status";

/** A fake provider: `respond(req)` returns [status, body], or null to never answer. */
async function startFake() {
  const requests = [];
  let respond = () => [500, "{}"];
  const held = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const r = { method: req.method, path: req.url, headers: req.headers, body };
      requests.push(r);
      const answer = respond(r);
      if (!answer) return held.push(res);
      res.writeHead(answer[0], { "Content-Type": "application/json" }).end(typeof answer[1] === "string" ? answer[1] : JSON.stringify(answer[1]));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    requests,
    set: (fn) => (respond = fn),
    close: () => {
      held.forEach((res) => res.destroy());
      return new Promise((r) => server.close(r));
    },
  };
}

const form = (body) => Object.fromEntries(new URLSearchParams(body));

describe("delivery providers", () => {
  let app, fake, acct;
  before(async () => {
    fake = await startFake();
    app = await spawnApp({
      vars: {
        OTP_HMAC_SECRET: HMAC_SECRET,
        RATE_LIMIT_PRODUCT: "100000",
        OTP_PROVIDER_SMS: "twilio",
        OTP_PROVIDER_VOICE: "twilio",
        OTP_PROVIDER_WHATSAPP: "whatsapp",
        TWILIO_ACCOUNT_SID: "AC0123456789",
        TWILIO_AUTH_TOKEN: "twilio-auth-token",
        TWILIO_FROM: "+15005550006",
        TWILIO_BASE_URL: fake.base,
        TWILIO_STATUS_CALLBACK_URL: CALLBACK_URL,
        WHATSAPP_PHONE_NUMBER_ID: "106540352242922",
        WHATSAPP_TOKEN: "meta-token",
        WHATSAPP_BASE_URL: fake.base,
        WHATSAPP_TEMPLATE: "otp_code",
        PROVIDER_TIMEOUT_MS: "300",
        PROVIDER_MAX_ATTEMPTS: "3",
      },
    });
    await seedOtpPrices(app);
    acct = await app.createAccount("providers", "10.00");
  });
  after(async () => {
    await app.close();
    await fake.close();
  });

  async function send(channel, phone = freshPhone()) {
    const before = fake.requests.length;
    const r = await app.request("POST", "/v1/otp/send", { key: acct.key, body: { to: phone, channel } });
    return { r, phone, calls: fake.requests.slice(before) };
  }

  test("Twilio SMS: a form POST to Messages.json with Basic auth; the code arrives and verifies", async () => {
    fake.set(() => [201, { sid: "SM0000000001", status: "queued" }]);
    const { r, phone, calls } = await send("sms");
    assert.equal(r.status, 200, r.text);
    assert.equal(calls.length, 1);
    const call = calls[0];
    assert.equal(call.method, "POST");
    assert.equal(call.path, "/2010-04-01/Accounts/AC0123456789/Messages.json");
    assert.equal(call.headers.authorization, `Basic ${Buffer.from("AC0123456789:twilio-auth-token").toString("base64")}`);
    assert.match(call.headers["content-type"], /^application\/x-www-form-urlencoded/);
    const fields = form(call.body);
    assert.equal(fields.To, phone);
    assert.equal(fields.From, "+15005550006");
    assert.equal(fields.StatusCallback, CALLBACK_URL);
    const code = fields.Body.match(/\b(\d{6})\b/)[1];
    const v = await app.request("POST", "/v1/otp/verify", { key: acct.key, body: { session_id: r.body.session_id, code } });
    assert.equal(v.body.verified, true, v.text);
  });

  test("a 4xx from the provider fails at once with its error code kept, and is refunded", async () => {
    fake.set(() => [400, { code: 21211, message: "Invalid 'To' Phone Number", status: 400 }]);
    const before = await app.money(acct.accountId);
    const { r, calls } = await send("sms");
    assert.equal(r.status, 502, r.text);
    assert.equal(r.body.errors[0].code, "2205");
    assert.equal(calls.length, 1, "a definite refusal is not retried");
    const after = await app.money(acct.accountId);
    assert.equal(after.balance, before.balance, "charge refunded");
    assert.equal(after.ledgerSum, after.balance);
    assert.equal(after.ledgerRows, before.ledgerRows + 2, "one charge, one refund");
  });

  test("a 5xx then success is retried once and succeeds", async () => {
    let n = 0;
    fake.set(() => (++n === 1 ? [503, { message: "busy" }] : [201, { sid: "SM0000000002" }]));
    const { r, calls } = await send("sms");
    assert.equal(r.status, 200, r.text);
    assert.equal(calls.length, 2);
    assert.equal(calls[0].body, calls[1].body, "the same request again");
  });

  test("a provider that never answers times out after the bounded attempts; the charge is refunded", async () => {
    fake.set(() => null);
    const before = await app.money(acct.accountId);
    const { r, calls } = await send("sms");
    assert.equal(r.status, 502, r.text);
    // Answered only after the third attempt went unanswered (how long each waited is the
    // provider timeout's business, not asserted here); each attempt is the same request.
    assert.equal(calls.length, 3, "three attempts, then the refusal");
    assert.ok(calls.every((c) => c.body === calls[0].body), "the same request each time");
    assert.equal((await app.money(acct.accountId)).balance, before.balance);
  });

  test("WhatsApp: a template message with the code, bearer token, JSON to /{version}/{phone-number-id}/messages", async () => {
    fake.set(() => [200, { messaging_product: "whatsapp", contacts: [{ wa_id: "1" }], messages: [{ id: "wamid.HBgL" }] }]);
    const { r, phone, calls } = await send("whatsapp");
    assert.equal(r.status, 200, r.text);
    assert.equal(calls.length, 1);
    const call = calls[0];
    assert.equal(call.path, "/v21.0/106540352242922/messages");
    assert.equal(call.headers.authorization, "Bearer meta-token");
    assert.match(call.headers["content-type"], /^application\/json/);
    const body = JSON.parse(call.body);
    assert.equal(body.messaging_product, "whatsapp");
    assert.equal(body.to, phone.slice(1));
    assert.equal(body.type, "template");
    assert.equal(body.template.name, "otp_code");
    const code = body.template.components[0].parameters[0].text;
    assert.match(code, /^\d{6}$/);
    const v = await app.request("POST", "/v1/otp/verify", { key: acct.key, body: { session_id: r.body.session_id, code } });
    assert.equal(v.body.verified, true, v.text);
  });

  test("WhatsApp: a 4xx keeps Meta's error code; a 5xx then success is retried", async () => {
    fake.set(() => [400, { error: { message: "Message undeliverable", type: "OAuthException", code: 131026 } }]);
    const refused = await send("whatsapp");
    assert.equal(refused.r.status, 502, refused.r.text);
    assert.match(refused.r.body.errors[0].message, /131026/);
    assert.equal(refused.calls.length, 1);
    let n = 0;
    fake.set(() => (++n === 1 ? [500, { error: { code: 1, message: "unknown" } }] : [200, { messages: [{ id: "wamid.2" }] }]));
    const retried = await send("whatsapp");
    assert.equal(retried.r.status, 200, retried.r.text);
    assert.equal(retried.calls.length, 2);
  });

  test("voice: a Twilio call whose TwiML reads the code digit by digit", async () => {
    fake.set(() => [201, { sid: "CA0000000001" }]);
    const { r, phone, calls } = await send("voice");
    assert.equal(r.status, 200, r.text);
    const call = calls[0];
    assert.equal(call.path, "/2010-04-01/Accounts/AC0123456789/Calls.json");
    const fields = form(call.body);
    assert.equal(fields.To, phone);
    assert.match(fields.Twiml, /^<Response><Say>Your verification code is \d(, \d){5}\.<\/Say>/);
    const code = fields.Twiml.match(/is ((?:\d, ){5}\d)/)[1].replaceAll(", ", "");
    const v = await app.request("POST", "/v1/otp/verify", { key: acct.key, body: { session_id: r.body.session_id, code } });
    assert.equal(v.body.verified, true, v.text);
  });

  test("a template message's state follows Twilio's signed status callback; a wrong signature changes nothing", async () => {
    fake.set(() => [201, { sid: "SMabcdef0123" }]);
    const template = await createTemplate(app, "Hi {name}, your code is {code}");
    const sent = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: freshPhone(), template_id: template, variables: { name: "Ana" } } });
    assert.equal(sent.status, 202, sent.text);
    const id = sent.body.message_id;
    let state;
    for (let i = 0; i < 100 && state?.status !== "sent"; i++) {
      state = (await app.request("GET", `/v1/messages/${id}`, { key: acct.key })).body;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(state.status, "sent");

    const params = { MessageSid: "SMabcdef0123", MessageStatus: "undelivered", ErrorCode: "30003", AccountSid: "AC0123456789" };
    const raw = new URLSearchParams(params).toString();
    const signed = CALLBACK_URL + Object.keys(params).sort().map((k) => k + params[k]).join("");
    const good = createHmac("sha1", "twilio-auth-token").update(signed).digest("base64");
    const headers = { "Content-Type": "application/x-www-form-urlencoded" };
    const wrong = await app.request("POST", "/v1/providers/twilio/status", { raw, headers: { ...headers, "X-Twilio-Signature": good.replace(/^./, good[0] === "A" ? "B" : "A") } });
    assert.equal(wrong.status, 403, wrong.text);
    assert.equal((await app.request("POST", "/v1/providers/twilio/status", { raw, headers })).status, 403);
    assert.equal((await app.request("GET", `/v1/messages/${id}`, { key: acct.key })).body.status, "sent");

    const ok = await app.request("POST", "/v1/providers/twilio/status", { raw, headers: { ...headers, "X-Twilio-Signature": good } });
    assert.equal(ok.status, 200, ok.text);
    const after = (await app.request("GET", `/v1/messages/${id}`, { key: acct.key })).body;
    assert.equal(after.status, "failed");
    assert.match(after.error, /30003/);
  });

  test("a template message the provider refuses is failed with the provider's code, and refunded", async () => {
    fake.set(() => [400, { code: 21610, message: "Attempt to send to unsubscribed recipient" }]);
    const template = await createTemplate(app, "Your code is {code}");
    const before = await app.money(acct.accountId);
    const sent = await app.request("POST", "/v1/messages/send", { key: acct.key, body: { phone_number: freshPhone(), template_id: template } });
    assert.equal(sent.status, 202, sent.text);
    let state;
    for (let i = 0; i < 100 && state?.status !== "failed"; i++) {
      state = (await app.request("GET", `/v1/messages/${sent.body.message_id}`, { key: acct.key })).body;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(state.status, "failed");
    assert.match(state.error, /21610/);
    assert.equal((await app.money(acct.accountId)).balance, before.balance);
  });
});
