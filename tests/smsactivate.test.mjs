// The sms-activate handler protocol (/stubs/handler_api.php): the official
// `smsactivate` module from PyPI (installed into .venv/ by scripts/setup.sh) drives the
// Worker unchanged but for its base URL; then raw HTTP checks every action and error word,
// the content types, and that money holds under parallel getNumber.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { spawnApp, awayFromWindowEdge } from "./support/app.mjs";
import { seed, pushSms, sleep, ledgerOf, booksBalance } from "./support/activations.mjs";
import { PYTHON, runPython } from "./support/python.mjs";

const LOCK_SECS = 2;
const PRODUCT_LIMIT = "5000";
const HANDLER = "/stubs/handler_api.php";
let app, supplier;
const logs = [];

// sms-activate's public numbers and codes for the test catalog's countries and services.
const CODES = {
  countries: [
    { code: "US", name: "United States", sms_activate_id: 187 },
    { code: "PK", name: "Pakistan", sms_activate_id: 66 },
    { code: "IN", name: "India", sms_activate_id: 22 },
  ],
  services: [
    { code: "telegram", name: "Telegram", sms_activate_code: "tg" },
    { code: "whatsapp", name: "WhatsApp", sms_activate_code: "wa" },
    { code: "facebook", name: "Facebook", sms_activate_code: "fb" },
  ],
};

before(async () => {
  app = await spawnApp({
    // TEST_FAULTS: requests may inject failures with `X-Test-Fault` (see app::Fault).
    vars: { ACTIVATION_CANCEL_LOCK_SECS: String(LOCK_SECS), RATE_LIMIT_PRODUCT: PRODUCT_LIMIT, PRICES_CACHE_SECS: "0", TEST_FAULTS: "1" },
    log: (line) => logs.push(line),
  });
  supplier = await seed(app, { us: 40, pk: 0 });
  const c = await app.request("PUT", "/admin/catalog", { admin: true, body: CODES });
  assert.equal(c.status, 200, c.text);
});
after(() => app?.close());

/** One protocol request: GET with the parameters in the query string (or POST, optionally
 * with a form body). Every answer must be a protocol answer: 200, text or JSON, never our
 * envelopes. */
async function sa(params, { method = "GET", form } = {}) {
  const query = new URLSearchParams(params).toString();
  const r = await app.request(method, `${HANDLER}${query ? `?${query}` : ""}`, {
    raw: form === undefined ? undefined : new URLSearchParams(form).toString(),
    headers: form === undefined ? {} : { "Content-Type": "application/x-www-form-urlencoded" },
  });
  assert.equal(r.status, 200, `${JSON.stringify(params)} → ${r.status} ${r.text}`);
  const type = r.headers.get("content-type") ?? "";
  assert.match(type, /^(text\/plain|application\/json)/, `content type of ${r.text}`);
  assert.equal(type.startsWith("application/json"), typeof r.body === "object" && r.body !== null, `JSON answers say so: ${r.text}`);
  assert.ok(!/"errors"\s*:|"success"\s*:/.test(r.text), `no house/NumberOTP envelope: ${r.text}`);
  return r;
}
const word = async (params, opts) => (await sa(params, opts)).text;

/** The act_… id behind a protocol id. */
async function objectId(num) {
  const row = await app.db.prepare("SELECT object_id FROM numeric_ids WHERE num = ?").bind(Number(num)).first();
  return row?.object_id;
}

const assertBooks = (accountId) => booksBalance(app, accountId);

test("the official smsactivate module: balance → number → SMS → STATUS_OK → complete; cancel after the lock; errors", async () => {
  assert.ok(existsSync(PYTHON), "run `bash scripts/setup.sh` first: it creates .venv/ with tests/python/requirements.txt");
  const main = await app.createAccount("sa-python", "1.00");
  const empty = await app.createAccount("sa-python-empty");
  const pushed = [];
  const events = await runPython("smsactivate_flow.py", { OTPEDGE_URL: String(app.url), KEY: main.key, EMPTY_KEY: empty.key, LOCK_SECS: String(LOCK_SECS) }, async (need) => {
    assert.equal(need.need, "sms");
    const r = await pushSms(app, supplier.secret, { number: `+${need.phone}`, text: need.text });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.matched, "activation");
    pushed.push(need);
    return { ok: true };
  });
  assert.equal(events.at(-1)?.step, "done", JSON.stringify(events));
  assert.equal(pushed.length, 1);

  // The protocol's integer id is the same activation as its act_… id on /v1.
  const first = events.find((e) => e.step === "number");
  const act = await objectId(first.id);
  assert.match(act, /^act_/);
  const s = await app.request("GET", `/v1/activation/${act}/status`, { key: main.key });
  assert.equal(s.status, 200, s.text);
  assert.equal(s.body.status, "complete");
  assert.equal(s.body.number, `+${first.phone}`);
  assert.equal(s.body.code, "51234");
  assert.deepEqual(await ledgerOf(app, act), [{ kind: "purchase", amount: -500 }]);

  // The cancelled one: charged, then refunded once.
  const second = events.find((e) => e.step === "second");
  const act2 = await objectId(second.id);
  assert.equal((await app.request("GET", `/v1/activation/${act2}/status`, { key: main.key })).body.status, "cancelled");
  assert.deepEqual(await ledgerOf(app, act2), [
    { kind: "purchase", amount: -500 },
    { kind: "refund", amount: 500 },
  ]);
  const m = await assertBooks(main.accountId);
  assert.equal(m.balance, 9500);

  // NO_BALANCE charged nothing and created nothing.
  const e = await assertBooks(empty.accountId);
  assert.equal(e.ledgerRows, 0);
  const none = await app.db.prepare("SELECT COUNT(*) AS n FROM activations WHERE account_id = ?").bind(empty.accountId).first();
  assert.equal(none.n, 0);
});

test("herosms and aiosmsactivate: their pydantic models accept every answer they read", async () => {
  assert.ok(existsSync(PYTHON), "run `bash scripts/setup.sh` first: it creates .venv/ with tests/python/requirements.txt");
  const { key, accountId } = await app.createAccount("sa-models", "5.00");
  const events = await runPython("smsactivate_clients.py", { OTPEDGE_URL: String(app.url), KEY: key }, async (need) => {
    const r = await pushSms(app, supplier.secret, { number: `+${need.phone}`, text: need.text });
    assert.equal(r.status, 200, r.text);
    return { ok: true };
  });
  assert.equal(events.at(-1)?.step, "done", JSON.stringify(events));
  const hero = await objectId(events.find((e) => e.step === "herosms activation").id);
  assert.equal((await app.request("GET", `/v1/activation/${hero}/status`, { key })).body.status, "complete");
  const rentEvent = events.find((e) => e.step === "aiosmsactivate rent");
  assert.match(String(await objectId(rentEvent?.id)), /^rent_/, JSON.stringify(events));
  const m = await assertBooks(accountId);
  assert.equal(m.balance, 50000 - 500 - 1000 - 5000);
});

test("key and action errors: NO_KEY, BAD_KEY (malformed, unknown, revoked), BAD_ACTION", async () => {
  const { key, keyId } = await app.createAccount("sa-keys", "1.00");
  assert.equal(await word({ action: "getBalance" }), "NO_KEY");
  assert.equal(await word({ api_key: "", action: "getBalance" }), "NO_KEY");
  assert.equal(await word({}), "NO_KEY");
  assert.equal(await word({ api_key: "short", action: "getBalance" }), "BAD_KEY");
  assert.equal(await word({ api_key: "B".repeat(32), action: "getBalance" }), "BAD_KEY");
  assert.equal(await word({ api_key: "B".repeat(32), action: "noSuchAction" }), "BAD_KEY", "the key is checked first");
  assert.equal(await word({ api_key: key }), "BAD_ACTION");
  assert.equal(await word({ api_key: key, action: "getbalance" }), "BAD_ACTION");
  assert.equal(await word({ api_key: key, action: "getFullSms", id: "1" }), "BAD_ACTION");
  assert.equal(await word({ api_key: key, action: "getBalance" }), "ACCESS_BALANCE:1.00");
  const revoke = await app.request("DELETE", `/admin/keys/${keyId}`, { admin: true });
  assert.equal(revoke.status, 200, revoke.text);
  assert.equal(await word({ api_key: key, action: "getBalance" }), "BAD_KEY");
});

test("POST like aiosmsactivate (query string, no body) and with a form body", async () => {
  const { key } = await app.createAccount("sa-post", "12.5");
  assert.equal(await word({ api_key: key, action: "getBalance" }, { method: "POST" }), "ACCESS_BALANCE:12.50");
  assert.equal(await word({}, { method: "POST", form: { api_key: key, action: "getBalance" } }), "ACCESS_BALANCE:12.50");
  assert.equal(await word({ api_key: key }, { method: "POST", form: { action: "getBalance" } }), "ACCESS_BALANCE:12.50");
  assert.equal(await word({}, { method: "POST", form: { action: "getBalance" } }), "NO_KEY");
});

test("getNumber / getNumberV2: words, JSON types, WRONG_MAX_PRICE, NO_NUMBERS, BAD_SERVICE", async () => {
  const { key, accountId } = await app.createAccount("sa-buy", "1.00");
  const buy = (extra) => word({ api_key: key, action: "getNumber", ...extra });
  assert.equal(await buy({ country: "187" }), "BAD_SERVICE");
  assert.equal(await buy({ service: "zz", country: "187" }), "BAD_SERVICE");
  assert.equal(await buy({ service: "tg", country: "66" }), "NO_NUMBERS", "priced, but no PK numbers");
  assert.equal(await buy({ service: "tg", country: "999" }), "NO_NUMBERS", "a country we do not serve");
  assert.equal(await buy({ service: "tg", country: "usa" }), "NO_NUMBERS");
  assert.equal(await buy({ service: "tg" }), "NO_NUMBERS", "the protocol's default country 0 is not in the catalog");
  assert.equal(await buy({ service: "fb", country: "22" }), "NO_NUMBERS", "not offered");
  assert.equal(await buy({ service: "tg", country: "187", operator: "nosuch" }), "NO_NUMBERS");
  assert.equal(await buy({ service: "tg", country: "187", maxPrice: "0.04" }), "WRONG_MAX_PRICE:0.05");
  assert.equal(await buy({ service: "tg", country: "187", maxPrice: "abc" }), "WRONG_MAX_PRICE:0.05");
  assert.equal((await assertBooks(accountId)).ledgerRows, 1, "only the top-up: nothing charged so far");

  const a = await buy({ service: "tg", country: "187", operator: "verizon", maxPrice: "0.05" });
  const m = a.match(/^ACCESS_NUMBER:(\d+):(\d+)$/);
  assert.ok(m, a);
  assert.match(await objectId(m[1]), /^act_/);

  const v2 = await sa({ api_key: key, action: "getNumberV2", service: "wa", country: "187" });
  const b = v2.body;
  assert.equal(typeof b.activationId, "number");
  assert.ok(Number.isInteger(b.activationId) && b.activationId > Number(m[1]));
  assert.match(b.phoneNumber, /^1\d{10}$/);
  assert.equal(b.activationCost, 0.1);
  assert.equal(b.currency, 840);
  assert.equal(b.countryCode, "187");
  assert.equal(b.canGetAnotherSms, true);
  assert.match(b.activationTime, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  assert.ok(Math.abs(Date.parse(`${b.activationTime.replace(" ", "T")}Z`) - Date.now()) < 60_000, "UTC");
  assert.match(b.activationEndTime, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  assert.equal(b.activationOperator, "verizon");
  const s = await app.request("GET", `/v1/activation/${await objectId(b.activationId)}/status`, { key });
  assert.equal(s.body.number, `+${b.phoneNumber}`);
  assert.equal((await assertBooks(accountId)).balance, 10000 - 500 - 1000);
});

test("setStatus / getStatus / getStatusV2 follow the activation's rules", async () => {
  const { key, accountId } = await app.createAccount("sa-status", "1.00");
  const other = await app.createAccount("sa-status-other", "1.00");
  const buy = async () => (await word({ api_key: key, action: "getNumber", service: "tg", country: "187" })).split(":");
  const set = (id, status, k = key) => word({ api_key: k, action: "setStatus", id, status });
  const get = (id, action = "getStatus", k = key) => sa({ api_key: k, action, id });

  const [, id, phone] = await buy();
  assert.equal(await set(id, "8"), "EARLY_CANCEL_DENIED");
  assert.equal(await set(id, "6"), "BAD_STATUS", "complete before an SMS");
  assert.equal(await set(id, "3"), "BAD_STATUS", "retry before an SMS");
  assert.equal(await set(id, "5"), "BAD_STATUS");
  assert.equal(await set(id, ""), "BAD_STATUS");
  assert.equal(await set("999999999", "6"), "NO_ACTIVATION");
  assert.equal(await set("abc", "6"), "NO_ACTIVATION");
  assert.equal(await set(id, "8", other.key), "NO_ACTIVATION", "another account's activation");
  assert.equal((await get(id, "getStatus", other.key)).text, "NO_ACTIVATION");
  assert.equal(await set(id, "1"), "ACCESS_READY");
  assert.equal((await get(id)).text, "STATUS_WAIT_CODE");
  const waiting = await get(id, "getStatusV2");
  assert.deepEqual(waiting.body, { verificationType: 0, sms: null, call: null });

  assert.equal((await pushSms(app, supplier.secret, { number: `+${phone}`, text: "Telegram code 11111" })).status, 200);
  assert.equal((await get(id)).text, "STATUS_OK:11111");
  const v2 = (await get(id, "getStatusV2")).body;
  assert.equal(v2.sms.code, "11111");
  assert.equal(v2.sms.text, "Telegram code 11111");
  assert.match(v2.sms.dateTime, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  await sleep(LOCK_SECS * 1000 + 200);
  assert.equal(await set(id, "8"), "BAD_STATUS", "no cancel after an SMS");

  assert.equal(await set(id, "3"), "ACCESS_RETRY_GET");
  assert.equal((await get(id)).text, "STATUS_WAIT_RETRY:11111");
  assert.equal((await get(id, "getStatusV2")).body.sms, null);
  assert.equal((await pushSms(app, supplier.secret, { number: `+${phone}`, text: "Telegram code 22222" })).status, 200);
  assert.equal((await get(id)).text, "STATUS_OK:22222");
  assert.equal(await set(id, "6"), "ACCESS_ACTIVATION");
  assert.equal(await set(id, "6"), "BAD_STATUS", "already complete");
  assert.equal(await set(id, "8"), "BAD_STATUS");
  assert.equal((await get(id)).text, "STATUS_OK:22222");

  // Cancelled after the lock: refunded, and the protocol says STATUS_CANCEL from then on.
  const [, id2] = await buy();
  await sleep(LOCK_SECS * 1000 + 200);
  assert.equal(await set(id2, "8"), "ACCESS_CANCEL");
  assert.equal(await set(id2, "8"), "STATUS_CANCEL");
  assert.equal(await set(id2, "6"), "STATUS_CANCEL");
  assert.equal(await set(id2, "1"), "STATUS_CANCEL");
  assert.equal((await get(id2)).text, "STATUS_CANCEL");
  assert.equal((await get(id2, "getStatusV2")).text, "STATUS_CANCEL");
  assert.deepEqual(await ledgerOf(app, await objectId(id2)), [
    { kind: "purchase", amount: -500 },
    { kind: "refund", amount: 500 },
  ]);
  assert.equal((await assertBooks(accountId)).balance, 10000 - 500);
});

test("getActiveActivations, getPrices, getCountries, getNumbersStatus, getServicesList, getOperators", async () => {
  const { key } = await app.createAccount("sa-lists", "1.00");
  assert.deepEqual((await sa({ api_key: key, action: "getActiveActivations" })).body, { status: "success", activeActivations: [], data: [] });
  const [, id, phone] = (await word({ api_key: key, action: "getNumber", service: "tg", country: "187" })).split(":");
  await pushSms(app, supplier.secret, { number: `+${phone}`, text: "code 777000" });
  const active = (await sa({ api_key: key, action: "getActiveActivations" })).body;
  assert.equal(active.activeActivations.length, 1);
  const a = active.activeActivations[0];
  assert.equal(a.activationId, Number(id));
  assert.equal(a.serviceCode, "tg");
  assert.equal(a.phoneNumber, phone);
  assert.equal(a.activationCost, 0.05);
  assert.equal(a.activationStatus, "4");
  assert.equal(a.smsCode, "777000");
  assert.equal(a.smsText, "code 777000");
  assert.equal(a.countryCode, "187");
  assert.equal(a.countryName, "United States");
  assert.equal(a.currency, 840);
  assert.deepEqual(active.data, active.activeActivations);

  const prices = (await sa({ api_key: key, action: "getPrices" })).body;
  assert.deepEqual(Object.keys(prices).sort(), ["187", "22", "66"]);
  assert.equal(prices["187"].tg.cost, 0.05, "the cheapest operator");
  assert.equal(prices["187"].fb.cost, 0.02);
  assert.equal(typeof prices["187"].tg.count, "number");
  assert.equal(prices["66"].tg.count, 0);
  assert.equal(prices["22"].tg.count, 3);
  assert.deepEqual(Object.keys((await sa({ api_key: key, action: "getPrices", service: "wa" })).body), ["187"]);
  assert.deepEqual((await sa({ api_key: key, action: "getPrices", country: "999" })).body, {});
  assert.equal(await word({ api_key: key, action: "getPrices", service: "zz" }), "BAD_SERVICE");

  const countries = (await sa({ api_key: key, action: "getCountries" })).body;
  assert.deepEqual(countries["66"], { id: 66, rus: "Pakistan", eng: "Pakistan", chn: "Pakistan", iso: "PK", visible: 1, retry: 1, rent: 1, multiService: 0 });
  assert.deepEqual(Object.keys(countries).sort(), ["187", "22", "66"]);

  const stock = (await sa({ api_key: key, action: "getNumbersStatus", country: "22" })).body;
  assert.deepEqual(stock, { tg_0: 3 });
  const us = (await sa({ api_key: key, action: "getNumbersStatus", country: "187", operator: "tmobile" })).body;
  assert.deepEqual(Object.keys(us), ["tg_0"]);
  assert.deepEqual((await sa({ api_key: key, action: "getNumbersStatus", country: "999" })).body, {});

  const services = (await sa({ api_key: key, action: "getServicesList" })).body;
  assert.deepEqual(services, { status: "success", services: [{ code: "fb", name: "Facebook" }, { code: "tg", name: "Telegram" }, { code: "wa", name: "WhatsApp" }] });
  const ops = (await sa({ api_key: key, action: "getOperators", country: "187" })).body;
  assert.deepEqual(ops, { status: "success", countryOperators: { 187: ["tmobile", "verizon"] } });
});

test("rent: services and countries, getRentNumber, status, SMS, setRentStatus, list, errors as JSON", async () => {
  const { key, accountId } = await app.createAccount("sa-rent", "2.00");
  const empty = await app.createAccount("sa-rent-empty");
  const rent = (params, k = key) => sa({ api_key: k, ...params });

  const offer = (await rent({ action: "getRentServicesAndCountries", country: "187", time: "4" })).body;
  assert.deepEqual(offer.countries, { 0: 187 });
  assert.equal(offer.operators["0"], "any");
  assert.equal(offer.services.tg.cost, 0.5);
  assert.equal(typeof offer.services.tg.quant, "number");
  assert.deepEqual((await rent({ action: "getRentServicesAndCountries", country: "187", time: "24" })).body.services, { tg: { cost: 1.2, quant: offer.services.tg.quant } });

  assert.deepEqual((await rent({ action: "getRentNumber", service: "tg", country: "187" }, empty.key)).body, { status: "error", message: "NO_BALANCE" });
  assert.deepEqual((await rent({ action: "getRentNumber", service: "wa", country: "187" })).body, { status: "error", message: "NO_NUMBERS" });
  assert.deepEqual((await rent({ action: "getRentNumber", service: "zz", country: "187" })).body, { status: "error", message: "BAD_SERVICE" });
  assert.deepEqual((await rent({ action: "getRentNumber", service: "tg", country: "187", time: "0" })).body, { status: "error", message: "INVALID_TIME" });
  const got = (await rent({ action: "getRentNumber", service: "tg", country: "187", time: "4" })).body;
  assert.equal(got.status, "success");
  assert.equal(typeof got.phone.id, "number");
  assert.match(got.phone.number, /^1\d{10}$/);
  assert.match(got.phone.endDate, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  const rentId = await objectId(got.phone.id);
  assert.match(rentId, /^rent_/);
  assert.deepEqual(await ledgerOf(app, rentId), [{ kind: "rent", amount: -5000 }]);

  const id = String(got.phone.id);
  assert.deepEqual((await rent({ action: "getRentStatus", id })).body, { status: "error", message: "STATUS_WAIT_CODE" });
  await pushSms(app, supplier.secret, { number: `+${got.phone.number}`, text: "code 4242", from: "Telegram" });
  const st = (await rent({ action: "getRentStatus", id })).body;
  assert.equal(st.status, "success");
  assert.equal(st.quantity, 1);
  assert.equal(st.values["0"].text, "code 4242");
  assert.equal(st.values["0"].phoneFrom, "Telegram");
  assert.equal(st.values["0"].service, "tg");

  assert.deepEqual((await rent({ action: "getRentList" })).body, { status: "success", values: { 0: { id, phone: got.phone.number } } });
  assert.deepEqual((await rent({ action: "setRentStatus", id, status: "2" })).body, { status: "error", message: "CANT_CANCEL" });
  assert.deepEqual((await rent({ action: "setRentStatus", id, status: "9" })).body, { status: "error", message: "INCORECT_STATUS" });
  assert.deepEqual((await rent({ action: "setRentStatus", id, status: "1" })).body, { status: "success" });
  assert.deepEqual((await rent({ action: "getRentStatus", id: "987654321" })).body, { status: "error", message: "INVALID_PHONE" });
  assert.deepEqual((await rent({ action: "getRentStatus", id }, empty.key)).body, { status: "error", message: "INVALID_PHONE" });
  assert.deepEqual((await rent({ action: "getRentStatus" })).body, { status: "error", message: "NO_ID_RENT" });
  assert.equal(await word({ api_key: "C".repeat(32), action: "getRentList" }), "BAD_KEY");
  assert.equal((await assertBooks(accountId)).balance, 20000 - 5000);
});

test("after setStatus 3 the SMS already received completes the activation (setStatus 6)", async () => {
  const { key } = await app.createAccount("sa-retry-complete", "1.00");
  const [, id, phone] = (await word({ api_key: key, action: "getNumber", service: "tg", country: "187" })).split(":");
  assert.equal((await pushSms(app, supplier.secret, { number: `+${phone}`, text: "Telegram code 33333" })).status, 200);
  assert.equal(await word({ api_key: key, action: "setStatus", id, status: "3" }), "ACCESS_RETRY_GET");
  assert.equal(await word({ api_key: key, action: "setStatus", id, status: "6" }), "ACCESS_ACTIVATION");
  assert.equal(await word({ api_key: key, action: "getStatus", id }), "STATUS_OK:33333");
});

test("nothing fails once the money committed: getNumber and getRentNumber answer with D1 lost after the batch", async () => {
  // The protocol has no idempotency key and its clients retry a 5xx with a new purchase: an
  // answer that needed a D1 read after the commit would be a 500 and a second charge.
  const { key, accountId } = await app.createAccount("sa-after-commit", "1.00");
  const lost = (params) =>
    app.request("GET", `${HANDLER}?${new URLSearchParams({ api_key: key, ...params })}`, { headers: { "X-Test-Fault": "db_lost_after_commit" } });
  const bought = await lost({ action: "getNumber", service: "tg", country: "187" });
  assert.equal(bought.status, 200, bought.text);
  const m = bought.text.match(/^ACCESS_NUMBER:(\d+):(\d+)$/);
  assert.ok(m, bought.text);
  const act = await objectId(m[1]);
  assert.match(act, /^act_/);
  const charges = await ledgerOf(app, act);
  assert.equal(charges.length, 1, "one charge");
  assert.equal(charges[0].kind, "purchase");
  const v2 = await lost({ action: "getNumberV2", service: "tg", country: "187" });
  assert.equal(v2.status, 200, v2.text);
  assert.match(await objectId(v2.body.activationId), /^act_/);
  assert.equal(typeof v2.body.activationOperator, "string");

  const rented = await lost({ action: "getRentNumber", service: "tg", country: "187", time: "4" });
  assert.equal(rented.status, 200, rented.text);
  assert.equal(rented.body.status, "success", rented.text);
  const rentId = await objectId(rented.body.phone.id);
  assert.match(rentId, /^rent_/);
  assert.deepEqual(await ledgerOf(app, rentId), [{ kind: "rent", amount: -5000 }]);
  const books = await assertBooks(accountId);
  assert.equal(books.ledgerRows, 4, "the top-up and exactly three charges");
});

test("money holds: parallel getNumber on a wallet funded for 3 → exactly 3 numbers", async () => {
  const { key, accountId } = await app.createAccount("sa-race", "0.15");
  const answers = await Promise.all(Array.from({ length: 10 }, () => word({ api_key: key, action: "getNumber", service: "tg", country: "187", operator: "verizon" })));
  const won = answers.filter((a) => a.startsWith("ACCESS_NUMBER:"));
  assert.equal(won.length, 3, answers.join(" "));
  assert.deepEqual(answers.filter((a) => !a.startsWith("ACCESS_NUMBER:")), Array(7).fill("NO_BALANCE"));
  assert.equal(new Set(won.map((a) => a.split(":")[2])).size, 3, "three different numbers");
  const m = await assertBooks(accountId);
  assert.equal(m.balance, 0);
  assert.equal(m.ledgerRows, 4);
});

test("rate limits: the product group, keyed by the query-string key; the key is never logged", async () => {
  const a = await app.createAccount("sa-rl-a", "1.00");
  const b = await app.createAccount("sa-rl-b", "1.00");
  const r1 = await sa({ api_key: a.key, action: "getBalance" });
  assert.equal(r1.headers.get("x-ratelimit-limit"), PRODUCT_LIMIT);
  const left = Number(r1.headers.get("x-ratelimit-remaining"));
  const r2 = await sa({ api_key: a.key, action: "getBalance" });
  assert.equal(Number(r2.headers.get("x-ratelimit-remaining")), left - 1);
  const r3 = await sa({ api_key: b.key, action: "getBalance" });
  assert.equal(Number(r3.headers.get("x-ratelimit-remaining")), Number(PRODUCT_LIMIT) - 1, "another key has its own counter");
  await sleep(200);
  assert.ok(!logs.some((l) => l.includes(a.key) || l.includes(b.key)), "no API key in the Worker's logs");
});

test("a small product limit answers 429 in plain text on this route", async () => {
  const small = await spawnApp({ vars: { RATE_LIMIT_PRODUCT: "2" } });
  try {
    const { key } = await small.createAccount("sa-429", "1.00");
    const q = `${HANDLER}?${new URLSearchParams({ api_key: key, action: "getBalance" })}`;
    await awayFromWindowEdge();
    assert.equal((await small.request("GET", q)).status, 200);
    assert.equal((await small.request("GET", q)).status, 200);
    const r = await small.request("GET", q);
    assert.equal(r.status, 429);
    assert.match(r.headers.get("content-type"), /^text\/plain/);
    assert.ok(Number(r.headers.get("retry-after")) >= 1);
    assert.ok(!r.text.includes("{"), r.text);
  } finally {
    await small.close();
  }
});

test("other methods on the route answer in the protocol's style, never our envelope", async () => {
  const r = await app.request("PUT", `${HANDLER}?action=getBalance`);
  assert.equal(r.status, 405);
  assert.match(r.headers.get("content-type"), /^text\/plain/);
  assert.equal(r.headers.get("allow"), "GET, POST");
  assert.ok(!r.text.includes("{"), r.text);
});

test("the catalog takes sms-activate codes; a duplicate is refused", async () => {
  const dup = await app.request("PUT", "/admin/catalog", { admin: true, body: { countries: [{ code: "IN", name: "India", sms_activate_id: 187 }] } });
  assert.equal(dup.status, 400, dup.text);
  const badId = await app.request("PUT", "/admin/catalog", { admin: true, body: { countries: [{ code: "IN", name: "India", sms_activate_id: -1 }] } });
  assert.equal(badId.status, 400, badId.text);
  const badCode = await app.request("PUT", "/admin/catalog", { admin: true, body: { services: [{ code: "telegram", name: "Telegram", sms_activate_code: "t g" }] } });
  assert.equal(badCode.status, 400, badCode.text);
  // Omitting the code keeps it (an upsert of the name only).
  const keep = await app.request("PUT", "/admin/catalog", { admin: true, body: { services: [{ code: "telegram", name: "Telegram" }], countries: [{ code: "US", name: "United States" }] } });
  assert.equal(keep.status, 200, keep.text);
  const row = await app.db.prepare("SELECT sms_activate_code FROM services WHERE code = 'telegram'").first();
  assert.equal(row.sms_activate_code, "tg");
  const c = await app.db.prepare("SELECT sms_activate_id FROM countries WHERE code = 'US'").first();
  assert.equal(c.sms_activate_id, 187);
});

test("expiry refunds as on the other dialects: getStatus says STATUS_CANCEL, the ledger has the refund", async () => {
  const short = await spawnApp({ vars: { ACTIVATION_LIFETIME_SECS: "2", ACTIVATION_CANCEL_LOCK_SECS: "1" } });
  try {
    await seed(short, { us: 3, pk: 0 });
    assert.equal((await short.request("PUT", "/admin/catalog", { admin: true, body: CODES })).status, 200);
    const { key, accountId } = await short.createAccount("sa-expiry", "1.00");
    const q = (params) => `${HANDLER}?${new URLSearchParams({ api_key: key, ...params })}`;
    const bought = (await short.request("GET", q({ action: "getNumber", service: "tg", country: "187" }))).text;
    const [, id] = bought.split(":");
    assert.match(bought, /^ACCESS_NUMBER:\d+:\d+$/);
    await sleep(3000);
    assert.equal((await short.request("GET", q({ action: "getStatus", id }))).text, "STATUS_CANCEL");
    assert.equal((await short.request("GET", q({ action: "setStatus", id, status: "8" }))).text, "STATUS_CANCEL");
    const row = await short.db.prepare("SELECT object_id FROM numeric_ids WHERE num = ?").bind(Number(id)).first();
    assert.deepEqual(await ledgerOf(short, row.object_id), [
      { kind: "purchase", amount: -500 },
      { kind: "refund", amount: 500 },
    ]);
    assert.equal((await short.money(accountId)).balance, 10000);
    assert.equal((await short.request("GET", q({ action: "getBalance" }))).text, "ACCESS_BALANCE:1.00");
  } finally {
    await short.close();
  }
});
