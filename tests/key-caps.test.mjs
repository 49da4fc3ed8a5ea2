// Per-key spend caps: a key's own caps per UTC day and month (POST /v1/keys, PATCH
// /v1/keys/{id}) are checked in the debit's own D1 batch with the account's, so 50 parallel
// buys by a key capped at three purchases spend exactly three, and parallel OTP sends by a
// key capped at N sends spend exactly N; the other keys of the account are not held back; a
// refund gives the spend back to the key; sms-activate's official client sees NO_BALANCE.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { ROOT } from "./support/app.mjs";
import { seed, sleep } from "./support/activations.mjs";
import { spawnOtpApp, seedOtpPrices, freshPhone } from "./otp-support.mjs";
import { createKey, fundedCustomer, houseError } from "./accounts-support.mjs";

const PYTHON = path.join(ROOT, ".venv", "bin", "python");
let app, session, accountId;

before(async () => {
  app = await spawnOtpApp({ vars: { ACTIVATION_CANCEL_LOCK_SECS: "1", RATE_LIMIT_AUTH: "100000", PRICES_CACHE_SECS: "0" } });
  await seed(app, { us: 80 });
  await seedOtpPrices(app);
  ({ token: session, accountId } = await fundedCustomer(app));
});
after(() => app?.close());

const newKey = (body) => createKey(app, session, body);
const patch = (id, body) => app.request("PATCH", `/v1/keys/${id}`, { key: session, body });
const listed = async (id) => (await app.request("GET", "/v1/keys", { key: session })).body.keys.find((k) => k.key_id === id);
const buy = (key) => app.request("POST", "/v1/number", { key, body: { service: "telegram", country: "US" } });
const charges = async (keyId, kind) =>
  (await app.db.prepare("SELECT COUNT(*) AS n FROM ledger WHERE account_id = ? AND key_id = ? AND kind = ?").bind(accountId, keyId, kind).first()).n;

function capError(r, period) {
  const e = houseError(r, 402, "2411");
  assert.match(e.message, new RegExp(`spend_cap_reached: the API key's ${period} spend cap`), e.message);
  return e;
}

test("bad caps are 400 naming the field, at creation and in PATCH", async () => {
  for (const [body, field] of [[{ spend_cap_daily: "-1" }, "spend_cap_daily"], [{ spend_cap_monthly: "ten" }, "spend_cap_monthly"], [{ spend_cap_daily: [] }, "spend_cap_daily"]]) {
    const e = houseError(await app.request("POST", "/v1/keys", { key: session, body: { name: "bad", ...body } }), 400, "2004");
    assert.ok(e.message.includes(`'${field}'`), e.message);
  }
  const k = await newKey({ name: "plain" });
  assert.equal(k.spend_cap_daily, null);
  assert.equal(k.spent_today, "0.00");
  const e = houseError(await patch(k.key_id, { spend_cap_monthly: -5 }), 400, "2004");
  assert.ok(e.message.includes("'spend_cap_monthly'"), e.message);
  houseError(await patch(k.key_id, {}), 400, "2004");
  assert.equal((await listed(k.key_id)).spend_cap_monthly, null, "nothing changed");
});

test("a key capped at three purchases buys three of 50 parallel attempts; another key still buys; a refund gives one back", async () => {
  const capped = await newKey({ name: "capped", spend_cap_daily: "0.15" });
  assert.equal(capped.spend_cap_daily, "0.15");
  const other = await newKey({ name: "uncapped" });
  const before = await app.money(accountId);

  const results = await Promise.all(Array.from({ length: 50 }, () => buy(capped.api_key)));
  const ok = results.filter((r) => r.status === 200);
  assert.equal(ok.length, 3, results.map((r) => r.status).join(","));
  for (const r of results.filter((r) => r.status !== 200)) {
    const e = capError(r, "daily");
    const midnight = new Date(Math.floor(Date.now() / 86_400_000 + 1) * 86_400_000).toISOString().replace(".000Z", "Z");
    assert.ok(e.message.includes(midnight), e.message);
  }
  assert.equal(await charges(capped.key_id, "purchase"), 3, "the ledger shows three charges by the key");
  const after = await app.money(accountId);
  assert.equal(after.balance, before.balance - 3 * 500);
  assert.equal(after.balance, after.ledgerSum);
  const shown = await listed(capped.key_id);
  assert.equal(shown.spent_today, "0.15");
  assert.equal(shown.spent_this_month, "0.15");
  assert.ok(shown.last_used_at, "last use is listed");

  assert.equal((await buy(other.api_key)).status, 200, "the cap is the key's, not the account's");
  assert.equal(await charges(other.key_id, "purchase"), 1);

  // A cancelled activation's refund gives its spend back to the key's day: one more fits.
  await sleep(Date.parse(ok[0].body.cancel_allowed_at) - Date.now() + 1100);
  const cancel = await app.request("POST", `/v1/activation/${ok[0].body.activation_id}/status`, { key: capped.api_key, body: { status: "cancel" } });
  assert.equal(cancel.status, 200, cancel.text);
  assert.equal((await listed(capped.key_id)).spent_today, "0.10");
  assert.equal((await buy(capped.api_key)).status, 200);
  capError(await buy(capped.api_key), "daily");
});

test("PATCH changes the caps from the next charge; a monthly cap holds; sms-activate sees NO_BALANCE", async () => {
  const k = await newKey({ name: "patched", scopes: ["activations:write", "activations:read", "wallet:read"], spend_cap_monthly: "0.05" });
  assert.equal((await buy(k.api_key)).status, 200);
  capError(await buy(k.api_key), "monthly");

  const { stdout } = await promisify(execFile)(PYTHON, [path.join(ROOT, "tests", "python", "smsactivate_refusals.py")], {
    env: { ...process.env, OTPEDGE_URL: String(app.url), KEY: k.api_key },
  });
  assert.deepEqual(JSON.parse(stdout.trim().split("\n").at(-1)), { balance: null, number: "NO_BALANCE" });
  assert.equal(await charges(k.key_id, "purchase"), 1, "nothing charged on a refusal");

  const p = await patch(k.key_id, { spend_cap_monthly: "0.10", spend_cap_daily: "1" });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.body.spend_cap_monthly, "0.10");
  assert.equal(p.body.spend_cap_daily, "1.00");
  assert.deepEqual(p.body.scopes, ["wallet:read", "activations:read", "activations:write"], "scopes untouched");
  assert.equal((await buy(k.api_key)).status, 200);
  capError(await buy(k.api_key), "monthly");
  assert.equal((await patch(k.key_id, { spend_cap_monthly: null })).body.spend_cap_monthly, null);
  assert.equal((await buy(k.api_key)).status, 200);
  assert.equal(await charges(k.key_id, "purchase"), 3);
});

test("parallel OTP sends by a key capped at four sends: exactly four charged and delivered", async () => {
  // A US SMS costs 0.0075: a daily cap of 0.03 holds four.
  const k = await newKey({ name: "sender", spend_cap_daily: "0.03" });
  const phones = Array.from({ length: 20 }, () => freshPhone());
  const results = await Promise.all(phones.map((to) => app.request("POST", "/v1/otp/send", { key: k.api_key, body: { to, channel: "sms" } })));
  const sent = results.filter((r) => r.status === 200);
  assert.equal(sent.length, 4, results.map((r) => r.status).join(","));
  for (const r of results.filter((r) => r.status !== 200)) capError(r, "daily");
  assert.equal(await charges(k.key_id, "otp_send"), 4);
  const outbox = await app.db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE to_phone IN (${phones.map(() => "?").join(",")})`).bind(...phones).first();
  assert.equal(outbox.n, 4, "only the charged sends were delivered");
  assert.equal((await listed(k.key_id)).spent_today, "0.03");
});
