// Vonage Verify v2 status callbacks, driven by the official SDK (@vonage/verify2): an
// application registered with a callback URL gets an `event` for each message of a request's
// workflow and one `summary` when the request ends (completed, failed, cancelled, expired),
// POSTed to a local receiver and signed as Vonage signs them: a Bearer JWT (HS256) under the
// application's signature secret, checked here with Vonage's own verifier (@vonage/jwt's
// verifySignature), its claims read, and its payload_hash compared with the body received.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { vonageAccount, verify2, apiHost, vonageNumber, smsThenVoice, codeOf } from "./support/vonage.mjs";
import { verifySignature } from "@vonage/jwt";
import { outboxTo, until } from "./otp-support.mjs";
import { startReceiver } from "./support/receiver.mjs";

let app;
let acct;
let keys;
let receiver;
let application;

before(async () => {
  ({ app, acct, application, keys } = await vonageAccount("vonage-callbacks", async (app, acct) => {
    receiver = await startReceiver();
    // The account's own events (otp.*) go out in the same order as its callbacks: its
    // endpoint is the receiver too (those deliveries carry no request_id and are told apart).
    const hook = await app.request("PUT", "/v1/webhook", { key: acct.key, body: { url: receiver.url } });
    assert.equal(hook.status, 200, hook.text);
    return { callback_url: receiver.url };
  }));
});
after(async () => {
  await receiver?.close();
  await app?.close();
});

const client = () => verify2(app, application.application_id, keys.privateKey);
const firstCode = async (to) => codeOf((await outboxTo(app, `+${to}`)).find((m) => m.channel === "sms"));

/** The callbacks received for a request, in the order they arrived. */
const callbacksOf = (requestId) => receiver.received.filter((d) => d.body.request_id === requestId);
/** Waits for the request's summary; returns every callback of the request. */
const untilSummary = (requestId) =>
  until(`the summary of ${requestId}`, async () => callbacksOf(requestId).some((d) => d.body.type === "summary") && callbacksOf(requestId));

/** The delivery's JWT, verified with the signature secret; its claims. */
function claimsOf(delivery) {
  const [scheme, token] = delivery.headers.authorization.split(" ");
  assert.equal(scheme, "Bearer");
  assert.equal(verifySignature(token, application.signature_secret), true, "signed with the application's secret");
  assert.equal(verifySignature(token, "another-secret-of-32-characters!"), false);
  const [head, claims] = token.split(".").slice(0, 2).map((p) => JSON.parse(Buffer.from(p, "base64url")));
  assert.equal(head.alg, "HS256");
  return claims;
}

test("the signature secret is shown once at registration and not stored in the clear", async () => {
  assert.match(application.signature_secret, /^[0-9a-f]{64}$/);
  const row = await app.db.prepare("SELECT signature_secret FROM vonage_applications WHERE id = ?").bind(application.application_id).first();
  assert.ok(row.signature_secret && !row.signature_secret.includes(application.signature_secret));
});

test("an event per message and a completed summary, each signed with a payload_hash of its body", async () => {
  const vonage = client();
  const to = vonageNumber();
  const { requestId } = await vonage.newRequest({ ...smsThenVoice(to, 900), clientRef: "order-7" });
  assert.equal(await vonage.nextWorkflow(requestId), true);
  assert.equal(await vonage.checkCode(requestId, await firstCode(to)), "completed");
  const got = await untilSummary(requestId);

  const events = got.filter((d) => d.body.type === "event").map((d) => d.body);
  assert.deepEqual(events.map((e) => [e.channel, e.status, e.client_ref]), [["sms", "sent", "order-7"], ["voice", "sent", "order-7"]]);
  for (const e of events) assert.match(e.triggered_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const summary = got.find((d) => d.body.type === "summary").body;
  assert.equal(summary.status, "completed");
  assert.equal(summary.channel_timeout, 900);
  assert.equal(summary.client_ref, "order-7");
  assert.deepEqual(summary.workflow.map((w) => [w.channel, w.status]), [["sms", "expired"], ["voice", "completed"]]);
  for (const w of summary.workflow) assert.match(w.initiated_at, /Z$/);
  assert.match(summary.submitted_at, /Z$/);
  assert.match(summary.finalized_at, /Z$/);

  const jtis = new Set();
  for (const delivery of got) {
    const claims = claimsOf(delivery);
    assert.equal(claims.iss, "Vonage");
    assert.equal(claims.application_id, application.application_id);
    assert.equal(claims.api_key, acct.accountId);
    assert.equal(typeof claims.iat, "number");
    assert.equal(claims.payload_hash, createHash("sha256").update(delivery.raw).digest("hex"));
    jtis.add(claims.jti);
  }
  assert.equal(jtis.size, got.length, "a fresh jti per delivery");
});

test("a cancelled request's summary says cancelled; the steps never sent are unused", async () => {
  const vonage = client();
  const to = vonageNumber();
  const { requestId } = await vonage.newRequest(smsThenVoice(to, 900));
  assert.equal(await vonage.cancel(requestId), true);
  const summary = (await untilSummary(requestId)).find((d) => d.body.type === "summary").body;
  assert.equal(summary.status, "cancelled");
  assert.deepEqual(summary.workflow.map((w) => [w.channel, w.status]), [["sms", "expired"], ["voice", "unused"]]);
  assert.equal(summary.workflow[1].initiated_at, undefined);
  assert.equal(summary.client_ref, undefined);
});

test("the attempts spent: a failed summary", async () => {
  const vonage = client();
  const to = vonageNumber();
  const { requestId } = await vonage.newRequest({ brand: "Acme", workflow: [{ channel: "sms", to }] });
  const right = await firstCode(to);
  const wrong = right === "0000" ? "1111" : "0000";
  for (let i = 0; i < 5; i++) await vonage.checkCode(requestId, wrong).catch(() => {});
  const summary = (await untilSummary(requestId)).find((d) => d.body.type === "summary").body;
  assert.equal(summary.status, "failed");
  assert.deepEqual(summary.workflow.map((w) => [w.channel, w.status]), [["sms", "failed"]]);
});

test("a request nobody checks: an expired summary from the scheduled pass, once", async () => {
  const vonage = client();
  const to = vonageNumber();
  // One step of 15 s: the request lives 15 s.
  const { requestId } = await vonage.newRequest({ brand: "Acme", workflow: [{ channel: "sms", to }], channelTimeout: 15 });
  const worker = await app.mf.getWorker();
  const got = await until("the expired summary", async () => {
    assert.equal((await worker.scheduled({ cron: "* * * * *" })).outcome, "ok");
    const summaries = callbacksOf(requestId).filter((d) => d.body.type === "summary");
    return summaries.length > 0 && summaries;
  });
  assert.equal(got[0].body.status, "expired");
  assert.deepEqual(got[0].body.workflow.map((w) => [w.channel, w.status]), [["sms", "expired"]]);
  assert.equal((await worker.scheduled({ cron: "* * * * *" })).outcome, "ok");
  const recorded = await app.db.prepare("SELECT COUNT(*) AS n FROM webhook_events WHERE object_id = ? AND event_type = 'vonage.summary'").bind(requestId).first();
  assert.equal(recorded.n, 1);
});

test("a request made with HTTP Basic (no application) records no callback", async () => {
  const to = vonageNumber();
  const basic = Buffer.from(`${acct.accountId}:${acct.key}`).toString("base64");
  const r = await fetch(`${apiHost(app)}/v2/verify`, {
    method: "POST",
    headers: { Authorization: `Basic ${basic}`, "Content-Type": "application/json" },
    body: JSON.stringify({ brand: "Acme", workflow: [{ channel: "sms", to }] }),
  });
  assert.equal(r.status, 202);
  const { request_id } = await r.json();
  const rows = await app.db.prepare("SELECT COUNT(*) AS n FROM webhook_events WHERE object_id = ?").bind(request_id).first();
  assert.equal(rows.n, 0);
  const session = await app.db.prepare("SELECT dialect FROM otp_sessions WHERE id = ?").bind(request_id).first();
  assert.equal(session.dialect, "vonage");
});
