// The 5sim protocol (/v1/user/*, /v1/guest/*): `pyfivesim` from PyPI (installed into .venv/
// by scripts/setup.sh) drives the Worker unchanged but for its base URL; then raw HTTP checks
// the content types and error words, and that money holds under parallel purchases.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { spawnApp, awayFromWindowEdge } from "./support/app.mjs";
import { seed, pushSms, sleep } from "./support/activations.mjs";
import { PYTHON, runPython } from "./support/python.mjs";
import { signUp, createKey } from "./accounts-support.mjs";

const LOCK_SECS = 1;
let app, supplier;

// 5sim's names for the test catalog's countries and services.
const NAMES = {
  countries: [
    { code: "US", name: "United States", fivesim_name: "usa" },
    { code: "IN", name: "India", fivesim_name: "India" },
  ],
  services: [
    { code: "telegram", name: "Telegram", fivesim_product: "telegram" },
    { code: "whatsapp", name: "WhatsApp", fivesim_product: "whatsapp" },
  ],
};

before(async () => {
  app = await spawnApp({
    vars: { ACTIVATION_CANCEL_LOCK_SECS: String(LOCK_SECS), RATE_LIMIT_PRODUCT: "100000", RATE_LIMIT_AUTH: "100000", PRICES_CACHE_SECS: "0" },
  });
  supplier = await seed(app, { us: 30 });
  const names = await app.request("PUT", "/admin/catalog", { admin: true, body: NAMES });
  assert.equal(names.status, 200, names.text);
});

after(() => app?.close());

/** A signed-up customer (an email address, as 5sim profiles have) with `amount` and a key. */
async function customer(amount) {
  const s = await signUp(app);
  if (amount) {
    const t = await app.request("POST", `/admin/accounts/${s.accountId}/topup`, { admin: true, body: { amount, reference: `seed-${s.accountId}` } });
    assert.equal(t.status, 200, t.text);
  }
  const key = await createKey(app, s.token);
  return { accountId: s.accountId, key: key.api_key ?? key.key };
}

const get = (path, key) => app.request("GET", path, key ? { key } : {});

test("pyfivesim: profile, lists, buy, SMS, check, finish; cancel and ban refund; ceilings; 5sim's words", { skip: !existsSync(PYTHON) && !process.env.CI && "no .venv" }, async () => {
  const main = await customer("1.00");
  const empty = await customer();
  const other = await customer("1.00");
  const theirs = await get("/v1/user/buy/activation/usa/any/telegram", other.key);
  assert.equal(theirs.status, 200, theirs.text);
  const env = { OTPEDGE_URL: String(app.url), KEY: main.key, EMPTY_KEY: empty.key, OTHER_ORDER: String(theirs.body.id), LOCK_SECS: String(LOCK_SECS) };
  const events = await runPython("fivesim_flow.py", env, async (need) => {
    assert.equal(need.need, "sms");
    const r = await pushSms(app, supplier.secret, { number: need.phone, text: need.text });
    assert.equal(r.status, 200, r.text);
    return { ok: true };
  });
  assert.equal(events.at(-1).raw, "ok");
  // The other account's order was neither seen nor changed; the ban is on record.
  assert.equal((await get(`/v1/user/check/${theirs.body.id}`, other.key)).body.status, "PENDING");
  const banned = events.find((e) => e.step === "banned number");
  const ban = await app.db.prepare("SELECT COUNT(*) AS n FROM activation_bans b JOIN activations a ON a.id = b.activation_id WHERE a.number = ? AND a.status = 'cancelled'").bind(banned.phone).first();
  assert.equal(ban.n, 1);
  // Money: the customer paid once for the finished order and once for the live one.
  const m = await app.money(main.accountId);
  assert.equal(m.balance, 9000);
  assert.equal(m.ledgerSum, 9000);
});

test("JSON answers carry a bare application/json; errors are plain lower-case words", async () => {
  const { key } = await customer("0.20");
  const profile = await get("/v1/user/profile", key);
  assert.equal(profile.status, 200);
  assert.equal(profile.headers.get("content-type"), "application/json");
  assert.equal((await get("/v1/guest/countries")).headers.get("content-type"), "application/json");
  const none = await get("/v1/user/buy/activation/india/any/whatsapp", key);
  assert.deepEqual([none.status, none.text], [200, "no free phones"]);
  assert.match(none.headers.get("content-type"), /^text\/plain/);
  assert.deepEqual([(await get("/v1/user/profile", "otpk_bad")).status], [401]);
  const words = [
    ["/v1/user/buy/activation/narnia/any/telegram", 400, "bad country"],
    ["/v1/user/buy/activation/usa/42/telegram", 400, "bad operator"],
    ["/v1/user/buy/activation/usa/any/nosuch", 400, "no product"],
    ["/v1/user/check/abc", 404, "order not found"],
    ["/v1/user/finish/999999", 404, "order not found"],
    ["/v1/guest/prices?country=narnia", 400, "country is incorrect"],
    ["/v1/guest/prices?product=nosuch", 400, "product is incorrect"],
  ];
  for (const [path, status, word] of words) {
    const r = await get(path, key);
    assert.deepEqual([r.status, r.text], [status, word], path);
  }
  const bought = await get("/v1/user/buy/activation/usa/any/telegram", key);
  assert.equal(bought.status, 200, bought.text);
  assert.equal(bought.body.sms, null);
  assert.deepEqual([(await get(`/v1/user/finish/${bought.body.id}`, key)).text], ["order no sms"]);
  assert.deepEqual([(await get(`/v1/user/cancel/${bought.body.id}`, key)).text], ["you need to wait time"]);
  await pushSms(app, supplier.secret, { number: bought.body.phone, text: "code 777123" });
  await sleep(LOCK_SECS * 1000 + 200);
  assert.deepEqual([(await get(`/v1/user/cancel/${bought.body.id}`, key)).text], ["order has sms"]);
  const inbox = await get(`/v1/user/sms/inbox/${bought.body.id}`, key);
  assert.deepEqual([inbox.body.Total, inbox.body.Data[0].code], [1, "777123"]);
  // An operator id with another operator's price: the order says which.
  const op2 = await get("/v1/user/buy/activation/usa/2/telegram?maxPrice=0.01", key);
  assert.deepEqual([op2.status, op2.body.operator, op2.body.price], [200, "2", 0.07], "maxPrice counts with operator any only");
});

test("parallel purchases on a wallet for N buy exactly N", async () => {
  const { key, accountId } = await customer("0.15");
  const answers = await Promise.all(Array.from({ length: 8 }, () => get("/v1/user/buy/activation/usa/1/telegram", key)));
  const bought = answers.filter((r) => r.status === 200 && typeof r.body === "object");
  assert.equal(bought.length, 3, answers.map((r) => r.text).join(" | "));
  assert.ok(answers.filter((r) => r.status !== 200).every((r) => r.text === "not enough user balance"));
  assert.equal(new Set(bought.map((r) => r.body.phone)).size, 3);
  const m = await app.money(accountId);
  assert.deepEqual([m.balance, m.ledgerSum], [0, 0]);
});

test("the guest lists: products of a country and operator, prices by product", async () => {
  const products = await get("/v1/guest/products/usa/any");
  assert.equal(products.body.telegram.Category, "activation");
  assert.equal(products.body.telegram.Price, 0.05);
  assert.ok(products.body.telegram.Qty > 0);
  assert.equal((await get("/v1/guest/products/usa/2")).body.telegram.Price, 0.07);
  assert.deepEqual([(await get("/v1/guest/products/usa/9")).text], ["bad operator"]);
  const byProduct = await get("/v1/guest/prices?product=telegram");
  assert.deepEqual(Object.keys(byProduct.body), ["telegram"]);
  assert.ok(byProduct.body.telegram.usa["1"].count > 0);
});

test("a small product limit answers 429 in plain text", async () => {
  const small = await spawnApp({ vars: { RATE_LIMIT_PRODUCT: "2" } });
  try {
    const { key } = await small.createAccount("fs-429", "1.00");
    await awayFromWindowEdge();
    assert.equal((await small.request("GET", "/v1/user/orders", { key })).status, 200);
    assert.equal((await small.request("GET", "/v1/user/orders", { key })).status, 200);
    const r = await small.request("GET", "/v1/user/orders", { key });
    assert.deepEqual([r.status, r.text], [429, "too many requests"]);
    assert.ok(Number(r.headers.get("retry-after")) >= 1);
  } finally {
    await small.close();
  }
});

test("an order that outlives its lifetime without an SMS is TIMEOUT, refunded; the list says so", async () => {
  const short = await spawnApp({ vars: { ACTIVATION_LIFETIME_SECS: "2", ACTIVATION_CANCEL_LOCK_SECS: "1" } });
  try {
    await seed(short, { us: 3 });
    assert.equal((await short.request("PUT", "/admin/catalog", { admin: true, body: NAMES })).status, 200);
    const { key, accountId } = await short.createAccount("fs-expiry", "1.00");
    const bought = await short.request("GET", "/v1/user/buy/activation/usa/any/telegram", { key });
    assert.equal(bought.status, 200, bought.text);
    await sleep(3000);
    const seen = await short.request("GET", `/v1/user/check/${bought.body.id}`, { key });
    assert.equal(seen.body.status, "TIMEOUT");
    assert.equal((await short.request("GET", `/v1/user/cancel/${bought.body.id}`, { key })).text, "order expired");
    const listed = await short.request("GET", "/v1/user/orders?category=activation", { key });
    assert.deepEqual(listed.body.Data.map((o) => o.status), ["TIMEOUT"]);
    assert.equal((await short.money(accountId)).balance, 10000);
  } finally {
    await short.close();
  }
});
