// Scoped API keys: a key made with `scopes` may do only what they name, on every front door
// (403 insufficient_scope on /v1 and NumberOTP, BAD_KEY on sms-activate, 20003 at 403 on
// Twilio Verify, through the official clients); a change of scopes holds from the next
// request; keys made without scopes keep every scope.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import twilio from "twilio";
import { ROOT } from "./support/app.mjs";
import { seed } from "./support/activations.mjs";
import { spawnOtpApp, seedOtpPrices, latestCode, freshPhone } from "./otp-support.mjs";
import { createKey, fundedCustomer, houseError } from "./accounts-support.mjs";

const PYTHON = path.join(ROOT, ".venv", "bin", "python");
let app, session, accountId;

before(async () => {
  app = await spawnOtpApp({ vars: { RATE_LIMIT_AUTH: "100000" } });
  await seed(app, { us: 10 });
  await seedOtpPrices(app);
  ({ token: session, accountId } = await fundedCustomer(app));
});
after(() => app?.close());

const newKey = (body) => createKey(app, session, body);

const send = (key, to = freshPhone()) => app.request("POST", "/v1/otp/send", { key, body: { to, channel: "sms" } });

function scopeError(r, scope) {
  const e = houseError(r, 403, "2410");
  assert.match(e.message, /insufficient_scope/);
  assert.ok(e.message.includes(`'${scope}'`), e.message);
}

test("a verify-only key cannot buy, rent or send (403 naming the scope) and can verify", async () => {
  const full = await newKey({ name: "full" });
  assert.equal(full.scopes.length, 10, "a key made without scopes holds every scope");
  const verifier = await newKey({ name: "verifier", scopes: ["otp:verify"] });
  assert.deepEqual(verifier.scopes, ["otp:verify"]);

  const before = await app.money(accountId);
  scopeError(await app.request("POST", "/v1/number", { key: verifier.api_key, body: { service: "telegram", country: "US" } }), "activations:write");
  const rent = await app.request("POST", "/api/internal/rent", { key: verifier.api_key, body: { service: "telegram", country: "US" } });
  assert.equal(rent.status, 403, rent.text);
  assert.equal(rent.body.code, "2410");
  assert.match(rent.body.error, /'rent:write'/);
  scopeError(await send(verifier.api_key), "otp:send");
  scopeError(await app.request("POST", "/api/verify/", { headers: { "X-OTP-Key": verifier.api_key }, body: { data: { channel: "SMS", sender: "x", phone: "+14155550100", template: "t" } } }), "otp:send");
  scopeError(await app.request("GET", "/v1/balance", { key: verifier.api_key }), "wallet:read");
  assert.deepEqual(await app.money(accountId), before, "nothing was charged");

  const to = freshPhone();
  const sent = await send(full.api_key, to);
  assert.equal(sent.status, 200, sent.text);
  const { code } = await latestCode(app, to);
  const ok = await app.request("POST", "/v1/otp/verify", { key: verifier.api_key, body: { session_id: sent.body.session_id, code } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.verified, true, ok.text);

  const list = await app.request("GET", "/v1/keys", { key: session });
  const listed = list.body.keys.find((k) => k.key_id === verifier.key_id);
  assert.deepEqual(listed.scopes, ["otp:verify"]);
});

test("reads that check their scope in their own D1 read: balance and activation status", async () => {
  const buyer = await newKey({ name: "buyer", scopes: ["activations:write", "activations:read"] });
  const writer = await newKey({ name: "writer", scopes: ["activations:write"] });
  const wallet = await newKey({ name: "wallet", scopes: ["wallet:read"] });
  const bought = await app.request("POST", "/v1/number", { key: buyer.api_key, body: { service: "telegram", country: "US" } });
  assert.equal(bought.status, 200, bought.text);
  const status = (key, id = bought.body.activation_id) => app.request("GET", `/v1/activation/${id}/status`, { key });
  assert.equal((await status(buyer.api_key)).status, 200);
  assert.equal((await status(session)).status, 200, "a login session holds every scope");
  scopeError(await status(writer.api_key), "activations:read");
  scopeError(await status(wallet.api_key), "activations:read");
  // Without the scope, an unknown activation is a 403 too (nothing is told about ids).
  scopeError(await status(writer.api_key, "act_doesnotexist"), "activations:read");
  assert.equal((await status(buyer.api_key, "act_doesnotexist")).status, 404);
  const balance = await app.request("GET", "/v1/balance", { key: wallet.api_key });
  assert.equal(balance.status, 200, balance.text);
  scopeError(await app.request("GET", "/v1/balance", { key: buyer.api_key }), "wallet:read");
  // A revoked key is 401, whatever its scopes.
  const revoked = await app.request("DELETE", `/v1/keys/${wallet.key_id}`, { key: session });
  assert.ok(revoked.status < 300, revoked.text);
  assert.equal((await app.request("GET", "/v1/balance", { key: wallet.api_key })).status, 401);
});

test("PATCH /v1/keys/{id}: new scopes hold from the next request; null restores every scope", async () => {
  const k = await newKey({ name: "patched" });
  assert.equal((await send(k.api_key)).status, 200, "a full key sends (and the key is now known)");
  const patch = (scopes) => app.request("PATCH", `/v1/keys/${k.key_id}`, { key: session, body: { scopes } });
  const p = await patch(["wallet:read", "wallet:read"]);
  assert.equal(p.status, 200, p.text);
  assert.deepEqual(p.body.scopes, ["wallet:read"]);
  scopeError(await send(k.api_key), "otp:send");
  assert.equal((await app.request("GET", "/v1/balance", { key: k.api_key })).status, 200);
  assert.equal((await patch(null)).status, 200);
  assert.equal((await send(k.api_key)).status, 200, "every scope again");
  // An API key cannot change scopes (key management needs a session).
  const byKey = await app.request("PATCH", `/v1/keys/${k.key_id}`, { key: k.api_key, body: { scopes: null } });
  assert.equal(byKey.status, 403, byKey.text);
  assert.equal((await app.request("PATCH", "/v1/keys/key_nope", { key: session, body: { scopes: [] } })).status, 404);
});

test("bad scopes are 400 naming the field", async () => {
  for (const scopes of [["otp:verify", "root"], "otp:verify", [1]]) {
    const r = await app.request("POST", "/v1/keys", { key: session, body: { name: "bad", scopes } });
    const e = houseError(r, 400, "2004");
    assert.match(e.message, /'scopes'/, e.message);
  }
  const k = await newKey({ name: "to-patch" });
  const r = await app.request("PATCH", `/v1/keys/${k.key_id}`, { key: session, body: { scopes: ["nope"] } });
  assert.match(houseError(r, 400, "2004").message, /'scopes'.*'nope'/);
  const missing = await app.request("PATCH", `/v1/keys/${k.key_id}`, { key: session, body: {} });
  assert.match(houseError(missing, 400, "2004").message, /'scopes'/);
});

test("the official smsactivate module sees BAD_KEY for a key without the action's scope", async () => {
  const verifier = await newKey({ name: "sa-verifier", scopes: ["otp:verify"] });
  const { stdout } = await promisify(execFile)(PYTHON, [path.join(ROOT, "tests", "python", "smsactivate_refusals.py")], {
    env: { ...process.env, OTPEDGE_URL: String(app.url), KEY: verifier.api_key },
  });
  assert.deepEqual(JSON.parse(stdout.trim().split("\n").at(-1)), { balance: "BAD_KEY", number: "BAD_KEY" });
  const reader = await newKey({ name: "sa-reader", scopes: ["wallet:read"] });
  const r = await app.request("GET", `/stubs/handler_api.php?api_key=${reader.api_key}&action=getBalance`);
  assert.match(r.text, /^ACCESS_BALANCE:/);
});

test("the Twilio SDK sees 403 (20003) for a key without otp:send", async () => {
  const profile = await app.request("GET", "/api/user/profile", { key: session });
  const ac = profile.body.data.twilio_account_sid;
  const full = await newKey({ name: "tw-full" });
  const service = await twilio(ac, full.api_key, { httpClient: localClient() }).verify.v2.services.create({ friendlyName: "Scopes" });
  const verifier = await newKey({ name: "tw-verifier", scopes: ["otp:verify"] });
  const client = twilio(ac, verifier.api_key, { httpClient: localClient() });
  await assert.rejects(client.verify.v2.services(service.sid).verifications.create({ to: freshPhone(), channel: "sms" }), (e) => {
    assert.ok(e instanceof twilio.RestException, e?.message);
    assert.equal(e.status, 403);
    assert.equal(e.code, 20003);
    assert.match(e.message, /otp:send/);
    return true;
  });
});

test("a check by a key whose object already knows it: a change of scopes holds at its next check", async () => {
  const k = await newKey({ name: "checker" });
  const verify = (session_id, code) => app.request("POST", "/v1/otp/verify", { key: k.api_key, body: { session_id, code } });
  const to = freshPhone();
  const sent = await send(k.api_key, to);
  assert.equal(sent.status, 200, sent.text);
  const wrong = await verify(sent.body.session_id, "000000");
  assert.equal(wrong.status, 200, wrong.text);
  assert.equal(wrong.body.verified, false, "the session's object has checked the key");
  const patch = (scopes) => app.request("PATCH", `/v1/keys/${k.key_id}`, { key: session, body: { scopes } });
  assert.equal((await patch(["otp:send"])).status, 200);
  const { code } = await latestCode(app, to);
  scopeError(await verify(sent.body.session_id, code), "otp:verify");
  const getotp = await app.request("POST", "/api/verify/check", { headers: { "X-OTP-Key": k.api_key }, body: { data: { message_id: sent.body.session_id, code } } });
  scopeError(getotp, "otp:verify");
  assert.equal((await patch(null)).status, 200);
  const ok = await verify(sent.body.session_id, code);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.verified, true, "nothing was counted while refused");
});

test("the fraud guard's routes: fraud:read reads, fraud:manage changes; Twilio's SafeList too", async () => {
  const sender = await newKey({ name: "fraud-none", scopes: ["otp:send"] });
  scopeError(await app.request("GET", "/v1/fraud/policy", { key: sender.api_key }), "fraud:read");
  scopeError(await app.request("GET", "/v1/fraud/blocks", { key: sender.api_key }), "fraud:read");
  const reader = await newKey({ name: "fraud-reader", scopes: ["fraud:read"] });
  const policy = await app.request("GET", "/v1/fraud/policy", { key: reader.api_key });
  assert.equal(policy.status, 200, policy.text);
  assert.equal((await app.request("GET", "/v1/fraud/safe-list", { key: reader.api_key })).status, 200);
  scopeError(await app.request("PUT", "/v1/fraud/policy", { key: reader.api_key, body: { mode: "off" } }), "fraud:manage");
  scopeError(await app.request("POST", "/v1/fraud/safe-list", { key: reader.api_key, body: { phone: "+14155550199" } }), "fraud:manage");
  const manager = await newKey({ name: "fraud-manager", scopes: ["fraud:manage"] });
  const put = await app.request("PUT", "/v1/fraud/policy", { key: manager.api_key, body: { mode: "monitor" } });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.mode, "monitor");
  assert.equal((await app.request("PUT", "/v1/fraud/policy", { key: session, body: { mode: "enforce" } })).status, 200, "a session holds every scope");

  const ac = (await app.request("GET", "/api/user/profile", { key: session })).body.data.twilio_account_sid;
  await assert.rejects(twilio(ac, reader.api_key, { httpClient: localClient() }).verify.v2.safelist.create({ phoneNumber: "+14155550198" }), (e) => {
    assert.equal(e.status, 403);
    assert.equal(e.code, 20003);
    assert.match(e.message, /fraud:manage/);
    return true;
  });
  const created = await twilio(ac, manager.api_key, { httpClient: localClient() }).verify.v2.safelist.create({ phoneNumber: "+14155550198" });
  assert.equal(created.phoneNumber, "+14155550198");
});

/** The SDK's RequestClient, pointed at the Worker: same requests, same auth, other host. */
function localClient() {
  const client = new twilio.RequestClient({ timeout: 30_000 });
  const request = client.request.bind(client);
  client.request = (opts) => {
    const original = new URL(opts.uri);
    return request({ ...opts, uri: new URL(original.pathname + original.search, app.url).href });
  };
  return client;
}
