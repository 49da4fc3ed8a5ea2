// Usage alerts: an account's thresholds of spend per UTC day or month (an amount, or a
// percentage of its cap) cross once per period, recorded inside the charge's own batch, so 50
// parallel buys that cross together record one crossing; the scheduled pass sends it as a
// signed `usage.threshold_crossed` webhook event, once; the listing shows it (the dashboard's
// banner); a new period crosses again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnApp } from "./support/app.mjs";
import { seed, sleep, waitFor } from "./support/activations.mjs";
import { fundedCustomer, houseError } from "./accounts-support.mjs";
import { startReceiver } from "./support/receiver.mjs";

let app, session, key, receiver;

before(async () => {
  app = await spawnApp({ vars: { RATE_LIMIT_PRODUCT: "100000", RATE_LIMIT_AUTH: "100000", PRICES_CACHE_SECS: "0", WEBHOOK_ALLOW_LOCAL_HTTP: "true" } });
  await seed(app, { us: 80 });
  ({ token: session } = await fundedCustomer(app));
  const k = await app.request("POST", "/v1/keys", { key: session, body: { name: "buyer" } });
  assert.equal(k.status, 201, k.text);
  key = k.body.api_key;
  receiver = await startReceiver();
  const hook = await app.request("PUT", "/v1/webhook", { key, body: { url: receiver.url } });
  assert.equal(hook.status, 200, hook.text);
});
after(async () => {
  await app?.close();
  await receiver?.close();
});

const alerts = () => app.request("GET", "/v1/usage/alerts", { key: session });
const addAlert = (body) => app.request("POST", "/v1/usage/alerts", { key: session, body });
const buy = () => app.request("POST", "/v1/number", { key, body: { service: "telegram", country: "US" } });
const crossedEvents = () => receiver.received.filter((d) => d.body.type === "usage.threshold_crossed");

async function cron() {
  const worker = await app.mf.getWorker();
  const result = await worker.scheduled({ cron: "* * * * *", scheduledTime: new Date() });
  assert.equal(result.outcome, "ok");
}

test("bad alerts are 400 naming the field; alerts need a session", async () => {
  for (const [body, field] of [
    [{ threshold: "-1", period: "daily" }, "'threshold'"],
    [{ threshold: "ten", period: "daily" }, "'threshold'"],
    [{ percent_of_cap: 0, period: "daily" }, "'percent_of_cap'"],
    [{ percent_of_cap: 101, period: "monthly" }, "'percent_of_cap'"],
    [{ threshold: "1.00", period: "weekly" }, "'period'"],
    [{ period: "daily" }, "'threshold'"],
  ]) {
    const e = houseError(await addAlert(body), 400, "2004");
    assert.ok(e.message.includes(field), e.message);
  }
  assert.equal((await app.request("GET", "/v1/usage/alerts", { key })).status, 403, "an API key may not manage alerts");
  assert.deepEqual((await alerts()).body.alerts, []);
});

test("50 parallel buys cross each alert once: one notice, one webhook event; a new day crosses again", async () => {
  const cap = await app.request("PUT", "/v1/account/limits", { key: session, body: { spend_cap_monthly: "0.50" } });
  assert.equal(cap.status, 200, cap.text);
  const daily = await addAlert({ threshold: "0.10", period: "daily" });
  assert.equal(daily.status, 201, daily.text);
  assert.equal(daily.body.threshold, "0.10");
  assert.equal(daily.body.crossed_at, null);
  const monthly = await addAlert({ percent_of_cap: 50, period: "monthly" });
  assert.equal(monthly.status, 201, monthly.text);
  assert.equal(monthly.body.percent_of_cap, 50);

  const results = await Promise.all(Array.from({ length: 50 }, buy));
  assert.equal(results.filter((r) => r.status === 200).length, 10, "the monthly cap of 0.50 holds ten buys");
  const listed = (await alerts()).body;
  for (const a of listed.alerts) assert.ok(a.crossed_at, `${a.alert_id} crossed`);
  assert.equal(listed.notices.length, 2, JSON.stringify(listed.notices));
  const byAlert = Object.fromEntries(listed.notices.map((n) => [n.alert_id, n]));
  assert.equal(byAlert[daily.body.alert_id].threshold, "0.10");
  assert.equal(byAlert[daily.body.alert_id].spent, "0.10");
  assert.equal(byAlert[monthly.body.alert_id].threshold, "0.25", "half the monthly cap");
  assert.equal(byAlert[monthly.body.alert_id].spent, "0.25");
  assert.equal(crossedEvents().length, 0, "sent by the scheduled pass");

  await cron();
  await waitFor(() => crossedEvents().length >= 2);
  await cron();
  await sleep(300);
  const events = crossedEvents();
  assert.equal(events.length, 2, "each alert sent once");
  const daySent = events.find((e) => e.body.data.alert_id === daily.body.alert_id);
  assert.equal(daySent.body.data.period, "daily");
  assert.equal(daySent.body.data.period_start, new Date().toISOString().slice(0, 10));
  assert.equal(daySent.body.data.threshold, "0.10");
  assert.match(daySent.headers["webhook-id"], /^evt_/);

  // A new UTC day: today's spend, crossing and event become those of a day long past, and
  // the daily alert crosses again.
  const today = `d:${new Date().toISOString().slice(0, 10)}`;
  await app.db.batch([
    app.db.prepare("UPDATE spend SET period = 'd:2000-01-01' WHERE period = ?").bind(today),
    app.db.prepare("UPDATE usage_notices SET period = 'd:2000-01-01' WHERE period = ?").bind(today),
    app.db.prepare("UPDATE webhook_events SET version = 20000101 WHERE object_id = ?").bind(daily.body.alert_id),
  ]);
  assert.equal((await app.request("PUT", "/v1/account/limits", { key: session, body: {} })).status, 200);
  assert.equal((await alerts()).body.alerts.find((a) => a.alert_id === daily.body.alert_id).crossed_at, null);
  await Promise.all(Array.from({ length: 5 }, buy));
  await cron();
  await waitFor(() => crossedEvents().length >= 3);
  assert.equal(crossedEvents().length, 3, "the daily alert again, the monthly one not");
  assert.equal(crossedEvents().at(-1).body.data.alert_id, daily.body.alert_id);

  const del = await app.request("DELETE", `/v1/usage/alerts/${daily.body.alert_id}`, { key: session });
  assert.equal(del.status, 200, del.text);
  houseError(await app.request("DELETE", `/v1/usage/alerts/${daily.body.alert_id}`, { key: session }), 404, "2008");
  assert.equal((await alerts()).body.alerts.length, 1);
});
