// sms-activate-style webhooks (PUT|GET|DELETE /v1/webhook/sms-activate): a receiver written
// from sms-activate's webhook documentation gets every SMS of the account's activations and
// rents once, in that shape, retried like our other webhooks when it answers other than 2xx.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnApp } from "./support/app.mjs";
import { startReceiver } from "./support/receiver.mjs";
import { seed, pushSms, sleep, waitFor } from "./support/activations.mjs";

const HANDLER = "/stubs/handler_api.php";
let app, supplier, receiver;

const DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** The shape sms-activate documents for an activation's SMS. */
function assertActivationSms(m) {
  assert.deepEqual(Object.keys(m).sort(), ["activationId", "code", "country", "receivedAt", "service", "text"]);
  assert.ok(Number.isInteger(m.activationId) && Number.isInteger(m.country), JSON.stringify(m));
  assert.ok([m.service, m.text, m.code].every((v) => typeof v === "string"));
  assert.match(m.receivedAt, DATE);
}

before(async () => {
  app = await spawnApp({
    vars: { WEBHOOK_ALLOW_LOCAL_HTTP: "true", WEBHOOK_RETRY_BASE_MS: "100", WEBHOOK_RETRY_MAX_MS: "400", RATE_LIMIT_PRODUCT: "100000", ACTIVATION_CANCEL_LOCK_SECS: "0" },
  });
  supplier = await seed(app, { us: 10 });
  const codes = { countries: [{ code: "US", name: "United States", sms_activate_id: 187 }], services: [{ code: "telegram", name: "Telegram", sms_activate_code: "tg" }] };
  assert.equal((await app.request("PUT", "/admin/catalog", { admin: true, body: codes })).status, 200);
  receiver = await startReceiver({ path: "/sms" });
});

after(async () => {
  await app?.close();
  await receiver?.close();
});

const sa = (key, params) => app.request("GET", `${HANDLER}?${new URLSearchParams({ api_key: key, ...params })}`);

test("the URL: set, read with its signing secret, removed; the webhook URL rules hold", async () => {
  const a = await app.createAccount("sa-hook-url");
  const path = "/v1/webhook/sms-activate";
  assert.equal((await app.request("GET", path, { key: a.key })).status, 404);
  for (const url of ["http://example.com/sms", "ftp://example.com/x", "https://user@evil.test/h"]) {
    const r = await app.request("PUT", path, { key: a.key, body: { url } });
    assert.deepEqual([r.status, r.body.errors?.[0]?.code], [400, "2300"], url);
  }
  const set = await app.request("PUT", path, { key: a.key, body: { url: "https://example.com/sms" } });
  assert.equal(set.status, 200, set.text);
  assert.match(set.body.secret, /^whsec_/);
  assert.equal((await app.request("GET", path, { key: a.key })).body.url, "https://example.com/sms");
  assert.equal((await app.request("DELETE", path, { key: a.key })).status, 200);
  assert.equal((await app.request("GET", path, { key: a.key })).status, 404);
});

test("every SMS of an activation and of a rent reaches the receiver once, in sms-activate's shape", async () => {
  const a = await app.createAccount("sa-hook", "5.00");
  const other = await app.createAccount("no-hook", "1.00");
  const set = await app.request("PUT", "/v1/webhook/sms-activate", { key: a.key, body: { url: receiver.url } });
  assert.equal(set.status, 200, set.text);
  receiver.plan.push(500); // the first delivery fails: retried

  const bought = await sa(a.key, { action: "getNumber", service: "tg", country: "187" });
  const [, id, digits] = bought.text.split(":");
  const first = await pushSms(app, supplier.secret, { number: `+${digits}`, text: "Your code 51234", smsId: "sa-hook-1" });
  assert.equal(first.status, 200, first.text);
  // The supplier delivers the same SMS again: nothing new goes out.
  assert.equal((await pushSms(app, supplier.secret, { number: `+${digits}`, text: "Your code 51234", smsId: "sa-hook-1" })).status, 200);
  await pushSms(app, supplier.secret, { number: `+${digits}`, text: "New code 60001", smsId: "sa-hook-2" });
  // Another account's SMS does not go to this receiver.
  const theirs = await sa(other.key, { action: "getNumber", service: "tg", country: "187" });
  await pushSms(app, supplier.secret, { number: `+${theirs.text.split(":")[2]}`, text: "code 99999" });

  const rent = await sa(a.key, { action: "getRentNumber", service: "tg", country: "187", time: "4" });
  assert.equal(rent.body.status, "success", rent.text);
  await pushSms(app, supplier.secret, { number: String(rent.body.phone.number).replace(/^\+?/, "+"), text: "Rent code 424242", from: "Bank" });

  await waitFor(() => receiver.handled.length >= 3);
  await sleep(500);
  const [one, two, rentSms] = receiver.handled;
  assert.equal(receiver.handled.length, 3, JSON.stringify(receiver.handled));
  for (const m of [one, two]) assertActivationSms(m);
  assert.deepEqual([one.activationId, one.service, one.country, one.code, one.text], [Number(id), "tg", 187, "51234", "Your code 51234"]);
  assert.deepEqual([two.activationId, two.code], [Number(id), "60001"]);
  assert.deepEqual(Object.keys(rentSms).sort(), ["rentId", "sms"]);
  assert.equal(rentSms.rentId, String(rent.body.phone.id));
  assert.deepEqual([rentSms.sms.phoneFrom, rentSms.sms.text], ["Bank", "Rent code 424242"]);
  assert.match(rentSms.sms.date, DATE);
  // The failed first attempt was retried with the same body.
  assert.deepEqual(receiver.received.slice(0, 2).map((x) => x.status), [500, 200]);
  assert.equal(receiver.received[0].raw, receiver.received[1].raw);
  assert.equal(receiver.received[0].headers["content-type"], "application/json");
});
