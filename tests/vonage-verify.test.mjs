// Vonage Verify v2 through the official Node SDK (@vonage/verify2 with @vonage/auth),
// unchanged but for the host: a JWT signed by a test application's private key (its public
// key registered with POST /v1/vonage/applications), the sms → voice workflow seen in the
// outbox after the channel timeout (the same code, the step charged at voice's price), a
// check, a cancel, next_workflow, the attempt limit, parallel checks, and Vonage's own 4xx
// problems for bad input and bad tokens.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createSign } from "node:crypto";
import { rsaKeys, vonageAccount, verify2, apiHost, vonageNumber, smsThenVoice, codeOf } from "./support/vonage.mjs";
import { outboxTo, until, ledgerOfObject } from "./otp-support.mjs";

let app;
let acct;
let application;
let keys;

before(async () => ({ app, acct, application, keys } = await vonageAccount("vonage")));
after(() => app?.close());

const client = (jwtOptions = {}, privateKey = keys.privateKey) =>
  verify2(app, application.application_id, privateKey, jwtOptions);

const outbox = (to) => outboxTo(app, `+${to}`);
const ledger = (objectId) => ledgerOfObject(app, objectId);

/** The SDK's error for a refused call: its HTTP status and Vonage's problem body. */
async function refusal(call) {
  try {
    await call();
  } catch (e) {
    assert.ok(e.response, `not an HTTP refusal: ${e}`);
    assert.match(e.response.headers.get("content-type"), /^application\/problem\+json/);
    return { status: e.response.status, body: await e.response.json() };
  }
  assert.fail("the call succeeded");
}


test("sms → voice after the timeout with the same code; a cancelled or verified request sends no step", async () => {
  const vonage = client();
  const [late, cancelled, verified] = [vonageNumber(), vonageNumber(), vonageNumber()];
  const before = await app.money(acct.accountId);
  const a = await vonage.newRequest(smsThenVoice(late, 15));
  assert.match(a.requestId, /^[0-9a-f-]{36}$/);
  const b = await vonage.newRequest(smsThenVoice(cancelled, 15));
  const c = await vonage.newRequest(smsThenVoice(verified, 15));
  assert.equal(await vonage.cancel(b.requestId), true);
  const cCode = codeOf((await outbox(verified))[0]);
  assert.equal(await vonage.checkCode(c.requestId, cCode), "completed");
  const bCode = codeOf((await outbox(cancelled))[0]);
  const cancelledCheck = await refusal(() => vonage.checkCode(b.requestId, bCode));
  assert.equal(cancelledCheck.status, 410);

  const [sms] = await outbox(late);
  assert.equal(sms.channel, "sms");
  const voice = await until("the voice step", async () => (await outbox(late)).find((m) => m.channel === "voice"));
  assert.equal(codeOf(voice), codeOf(sms), "the same code on every step");
  assert.deepEqual(await ledger(`${a.requestId}:step1`), [{ kind: "otp_send", amount: -150 }]);
  assert.equal(await vonage.checkCode(a.requestId, codeOf(voice)), "completed");

  // The other two fell due at the same time: nothing sent, nothing charged.
  await new Promise((r) => setTimeout(r, 2000));
  for (const [to, id] of [[cancelled, b.requestId], [verified, c.requestId]]) {
    assert.deepEqual((await outbox(to)).map((m) => m.channel), ["sms"]);
    assert.deepEqual(await ledger(`${id}:step1`), []);
  }
  const after = await app.money(acct.accountId);
  assert.equal(after.balance, before.balance - 3 * 75 - 150);
  assert.equal(after.ledgerSum, after.balance);
});

test("next_workflow sends the next step now; with none left it is 409 no-events", async () => {
  const vonage = client();
  const to = vonageNumber();
  const { requestId } = await vonage.newRequest(smsThenVoice(to, 900));
  assert.equal(await vonage.nextWorkflow(requestId), true);
  assert.deepEqual((await outbox(to)).map((m) => m.channel).sort(), ["sms", "voice"]);
  const none = await refusal(() => vonage.sendPostRequest(`${apiHost(app)}/v2/verify/${requestId}/next_workflow`));
  assert.equal(none.status, 409);
  assert.equal(none.body.type, "https://www.developer.vonage.com/api-errors/verify#no-events");
  assert.equal(await vonage.nextWorkflow(requestId), false);
});

test("next_workflow racing a right check (20 runs): the step goes out only before the check, charged only when sent", async () => {
  const vonage = client();
  const before = await app.money(acct.accountId);
  const runs = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const to = vonageNumber();
      const { requestId } = await vonage.newRequest(smsThenVoice(to, 900));
      const code = codeOf((await outbox(to))[0]);
      const [checked, next] = await Promise.all([
        vonage.checkCode(requestId, code),
        vonage.nextWorkflow(requestId),
      ]);
      return { to, requestId, checked, next };
    }),
  );
  let sent = 0;
  for (const { to, requestId, checked, next } of runs) {
    assert.equal(checked, "completed");
    // next_workflow answers after its step's batch: whatever it says, the step is settled.
    const voice = (await outbox(to)).filter((m) => m.channel === "voice");
    const charged = await ledger(`${requestId}:step1`);
    assert.equal(voice.length, charged.length, "sent ⇔ charged");
    if (next === false) assert.deepEqual(charged, [], "refused after the check: nothing sent");
    if (charged.length > 0) {
      assert.deepEqual(charged, [{ kind: "otp_send", amount: -150 }]);
      const step = await app.db.prepare("SELECT created_at FROM otp_steps WHERE id = ?").bind(`${requestId}:step1`).first();
      const session = await until("the verified mirror", async () => app.db.prepare("SELECT verified_at FROM otp_sessions WHERE id = ? AND verified_at IS NOT NULL").bind(requestId).first());
      assert.ok(step.created_at <= session.verified_at, "let out before the check");
      sent += 1;
    }
  }
  const after = await app.money(acct.accountId);
  assert.equal(after.balance, before.balance - 20 * 75 - sent * 150);
  assert.equal(after.ledgerSum, after.balance);
});

test("a wrong code ×5 is 400 Invalid Code each time, then the request is over (410), even for the right code", async () => {
  const vonage = client();
  const to = vonageNumber();
  const { requestId } = await vonage.newRequest({ brand: "Acme", workflow: [{ channel: "sms", to }] });
  const right = codeOf((await outbox(to))[0]);
  const wrong = right === "0000" ? "1111" : "0000";
  for (let i = 0; i < 5; i++) {
    const r = await refusal(() => vonage.checkCode(requestId, wrong));
    assert.equal(r.status, 400);
    assert.equal(r.body.title, "Invalid Code");
    assert.equal(r.body.type, "https://www.developer.vonage.com/api-errors/verify#invalid-code");
  }
  const over = await refusal(() => vonage.checkCode(requestId, right));
  assert.equal(over.status, 410);
  assert.equal(over.body.type, "https://www.developer.vonage.com/api-errors/verify#expired");
});

test("20 parallel right codes → one completed; 50 parallel wrong → at most 5 counted", async () => {
  const vonage = client();
  const [one, two] = [vonageNumber(), vonageNumber()];
  const a = await vonage.newRequest({ brand: "Acme", workflow: [{ channel: "sms", to: one }] });
  const code = codeOf((await outbox(one))[0]);
  const rights = await Promise.all(Array.from({ length: 20 }, () => vonage.checkCode(a.requestId, code).catch((e) => e.response.status)));
  assert.equal(rights.filter((r) => r === "completed").length, 1);
  assert.deepEqual([...new Set(rights.filter((r) => r !== "completed"))], [409]);

  const b = await vonage.newRequest({ brand: "Acme", workflow: [{ channel: "sms", to: two }] });
  const wrong = codeOf((await outbox(two))[0]) === "0000" ? "1111" : "0000";
  const wrongs = await Promise.all(Array.from({ length: 50 }, () => vonage.checkCode(b.requestId, wrong).catch((e) => e.response.status)));
  assert.ok(wrongs.filter((s) => s === 400).length <= 5, JSON.stringify(wrongs));
  assert.equal(wrongs.filter((s) => s === 400).length + wrongs.filter((s) => s === 410).length, 50);
  const row = await until("the mirror", async () => {
    const r = await app.db.prepare("SELECT attempts FROM otp_sessions WHERE id = ?").bind(b.requestId).first();
    return r?.attempts === 5 && r;
  });
  assert.equal(row.attempts, 5);
});

test("bad input is Vonage's 422 invalid-params; an unknown request 404", async () => {
  const vonage = client();
  const before = await app.money(acct.accountId);
  const to = vonageNumber();
  const cases = [
    { brand: "Acme", workflow: [] },
    { brand: "Acme", workflow: [{ channel: "fax", to }] },
    { brand: "Acme", workflow: [{ channel: "email", to: "a@example.com" }] },
    { ...smsThenVoice(to, 14) },
    { ...smsThenVoice(to, 901) },
    { workflow: [{ channel: "sms", to }] },
  ];
  for (const body of cases) {
    const r = await refusal(() => vonage.newRequest(body));
    assert.equal(r.status, 422, JSON.stringify(body));
    assert.equal(r.body.type, "https://www.developer.vonage.com/api-errors#invalid-params");
    assert.equal(r.body.title, "Invalid params");
  }
  assert.equal((await app.money(acct.accountId)).balance, before.balance);
  const unknown = await refusal(() => vonage.checkCode("5a8d9c3e-0000-4000-8000-000000000000", "1234"));
  assert.equal(unknown.status, 404);
});

test("a JWT signed by another key, expired, or replayed is 401; HTTP Basic with the API key works", async () => {
  const stranger = rsaKeys();
  const request = { brand: "Acme", workflow: [{ channel: "sms", to: vonageNumber() }] };
  const forged = await refusal(() => client({}, stranger.privateKey).newRequest(request));
  assert.equal(forged.status, 401);
  assert.equal(forged.body.type, "https://www.developer.vonage.com/api-errors#unauthorized");
  const expired = await refusal(() => client({ ttl: -10 }).newRequest(request));
  assert.equal(expired.status, 401);
  assert.equal(expired.body.type, "https://www.developer.vonage.com/api-errors#jwt-expired");
  // The same jti twice: the first is taken, the second refused.
  const replaying = client({ jti: `replay-${Date.now()}` });
  await replaying.newRequest(request);
  const replayed = await refusal(() => replaying.newRequest({ ...request, workflow: [{ channel: "sms", to: vonageNumber() }] }));
  assert.equal(replayed.status, 401);
  assert.match(replayed.body.detail, /jti/);
  // A JWT whose header names another algorithm.
  const body64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const head = body64({ alg: "HS256", typ: "JWT" });
  const claims = body64({ application_id: application.application_id, iat: now, exp: now + 60, jti: `hs-${now}` });
  const signer = createSign("RSA-SHA256").update(`${head}.${claims}`);
  const hs = `${head}.${claims}.${signer.sign(keys.privateKey).toString("base64url")}`;
  const r = await fetch(`${apiHost(app)}/v2/verify`, { method: "POST", headers: { Authorization: `Bearer ${hs}`, "Content-Type": "application/json" }, body: JSON.stringify(request) });
  assert.equal(r.status, 401);

  const basic = Buffer.from(`${acct.accountId}:${acct.key}`).toString("base64");
  const ok = await fetch(`${apiHost(app)}/v2/verify`, { method: "POST", headers: { Authorization: `Basic ${basic}`, "Content-Type": "application/json" }, body: JSON.stringify({ brand: "Acme", workflow: [{ channel: "sms", to: vonageNumber() }] }) });
  assert.equal(ok.status, 202, await ok.clone().text());
  assert.match((await ok.json()).request_id, /^[0-9a-f-]{36}$/);
  const none = await fetch(`${apiHost(app)}/v2/verify`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  assert.equal(none.status, 401);
  assert.match(none.headers.get("content-type"), /^application\/problem\+json/);
});

test("an application's public key must be an RSA key in PEM", async () => {
  const r = await app.request("POST", "/v1/vonage/applications", { key: acct.key, body: { public_key: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" } });
  assert.equal(r.status, 400, r.text);
  const none = await app.request("POST", "/v1/vonage/applications", { key: acct.key, body: {} });
  assert.equal(none.status, 400);
});
