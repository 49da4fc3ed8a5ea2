// Spend caps: an account's caps per UTC day and month (GET|PUT /v1/account/limits) are
// enforced inside the debit's own D1 batch, so 50 parallel buys against a cap of three spend
// exactly three; a refund gives the spend back; sms-activate's official client sees
// NO_BALANCE; nothing is charged on a refusal.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { spawnApp, ROOT } from "./support/app.mjs";
import { seed, sleep } from "./support/activations.mjs";
import { fundedCustomer, houseError } from "./accounts-support.mjs";

const PYTHON = path.join(ROOT, ".venv", "bin", "python");
let app, session, accountId, key;

before(async () => {
  app = await spawnApp({ vars: { ACTIVATION_CANCEL_LOCK_SECS: "1", RATE_LIMIT_PRODUCT: "100000", RATE_LIMIT_AUTH: "100000", PRICES_CACHE_SECS: "0" } });
  await seed(app, { us: 60 });
  ({ token: session, accountId } = await fundedCustomer(app));
  const k = await app.request("POST", "/v1/keys", { key: session, body: { name: "buyer" } });
  assert.equal(k.status, 201, k.text);
  key = k.body.api_key;
});
after(() => app?.close());

const limits = (body) => app.request(body ? "PUT" : "GET", "/v1/account/limits", { key: session, body });
const buy = () => app.request("POST", "/v1/number", { key, body: { service: "telegram", country: "US" } });
const purchases = async () => (await app.db.prepare("SELECT COUNT(*) AS n FROM ledger WHERE account_id = ? AND kind = 'purchase'").bind(accountId).first()).n;

test("bad caps are 400 naming the field; caps need a session", async () => {
  for (const [body, field] of [[{ spend_cap_daily: "-1" }, "spend_cap_daily"], [{ spend_cap_daily: -1 }, "spend_cap_daily"], [{ spend_cap_monthly: "ten" }, "spend_cap_monthly"], [{ spend_cap_monthly: true }, "spend_cap_monthly"]]) {
    const e = houseError(await limits(body), 400, "2004");
    assert.ok(e.message.includes(`'${field}'`), e.message);
  }
  const byKey = await app.request("GET", "/v1/account/limits", { key });
  assert.equal(byKey.status, 403, byKey.text);
  const none = await limits();
  assert.equal(none.status, 200, none.text);
  assert.equal(none.body.spend_cap_daily, null);
  assert.equal(none.body.spent_today, "0.00");
});

test("50 parallel buys with a daily cap of three purchases: three charges; a refund gives one back", async () => {
  const set = await limits({ spend_cap_daily: "0.15" });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.body.spend_cap_daily, "0.15");
  const results = await Promise.all(Array.from({ length: 50 }, buy));
  const ok = results.filter((r) => r.status === 200);
  assert.equal(ok.length, 3, results.map((r) => r.status).join(","));
  for (const r of results.filter((r) => r.status !== 200)) {
    const e = houseError(r, 402, "2411");
    assert.match(e.message, /spend_cap_reached: the account's daily spend cap/);
    const midnight = new Date(Math.floor(Date.now() / 86_400_000 + 1) * 86_400_000).toISOString().replace(".000Z", "Z");
    assert.ok(e.message.includes(midnight), e.message);
  }
  assert.equal(await purchases(), 3, "the ledger shows three charges");
  const m = await app.money(accountId);
  assert.equal(m.balance, 100_000 - 3 * 500);
  assert.equal(m.balance, m.ledgerSum);
  const got = await limits();
  assert.equal(got.body.spent_today, "0.15");
  assert.equal(got.body.spent_this_month, "0.15");

  // A cancelled activation's refund gives its spend back to today: one more buy fits.
  await sleep(Date.parse(ok[0].body.cancel_allowed_at) - Date.now() + 1100);
  const cancel = await app.request("POST", `/v1/activation/${ok[0].body.activation_id}/status`, { key, body: { status: "cancel" } });
  assert.equal(cancel.status, 200, cancel.text);
  assert.equal((await limits()).body.spent_today, "0.10");
  assert.equal((await buy()).status, 200);
  houseError(await buy(), 402, "2411");
  assert.equal(await purchases(), 4);
});

test("the official smsactivate client sees NO_BALANCE at the cap; a monthly cap holds too", async () => {
  const { stdout } = await promisify(execFile)(PYTHON, [path.join(ROOT, "tests", "python", "smsactivate_refusals.py")], {
    env: { ...process.env, OTPEDGE_URL: String(app.url), KEY: key },
  });
  assert.deepEqual(JSON.parse(stdout.trim().split("\n").at(-1)), { balance: null, number: "NO_BALANCE" });
  assert.equal(await purchases(), 4, "nothing charged");

  // Today's cap lifted; this month's spend (0.15: four buys, one refunded) leaves one buy
  // under a monthly cap of 0.20.
  assert.equal((await limits({ spend_cap_daily: null, spend_cap_monthly: "0.20" })).status, 200);
  assert.equal((await buy()).status, 200);
  const e = houseError(await buy(), 402, "2411");
  assert.match(e.message, /monthly spend cap/);
  assert.equal((await limits({})).body.spend_cap_monthly, null, "PUT replaces both caps");
  assert.equal((await buy()).status, 200);
});
