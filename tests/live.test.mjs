// Live activation updates without polling: Server-Sent Events fed by the activation's
// Durable Object (Last-Event-ID resumes without loss or duplicates), long-polls on the
// activation and rent status routes, and the customer's own lists the dashboard shows.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnApp } from "./support/app.mjs";
import { seed, pushSms, sleep } from "./support/activations.mjs";

const LIFETIME_SECS = 8;
let app, supplier;

before(async () => {
  app = await spawnApp({
    vars: {
      OTP_HMAC_SECRET: "live-test-secret",
      ACTIVATION_CANCEL_LOCK_SECS: "1",
      ACTIVATION_LIFETIME_SECS: String(LIFETIME_SECS),
      RATE_LIMIT_PRODUCT: "100000",
      RATE_LIMIT_PUBLIC: "100000",
      PRICES_CACHE_SECS: "0",
    },
  });
  supplier = await seed(app, { us: 30, pk: 0 });
});
after(() => app?.close());

const buy = async (key) => {
  const b = await app.request("POST", "/v1/number", { key, body: { service: "telegram", country: "US", operator: "1" } });
  assert.equal(b.status, 200, b.text);
  return b.body;
};
const setStatus = (key, id, status) => app.request("POST", `/v1/activation/${id}/status`, { key, body: { status } });

/** Opens an event stream over real HTTP; returns {status, headers, events(): parsed so far, done}. */
async function openStream(key, id, lastEventId) {
  const headers = { Authorization: `Bearer ${key}`, Accept: "text/event-stream" };
  if (lastEventId !== undefined) headers["Last-Event-ID"] = String(lastEventId);
  const res = await fetch(new URL(`/v1/activation/${id}/events`, app.url), { headers });
  const events = [];
  let retry = null;
  let buffer = "";
  const done = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let at;
      while ((at = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        const e = { data: [] };
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const [field, ...rest] = line.split(":");
          const value = rest.join(":").replace(/^ /, "");
          if (field === "data") e.data.push(value);
          else if (field === "retry") retry = Number(value);
          else e[field] = value;
        }
        if (e.event) events.push({ id: Number(e.id), event: e.event, data: JSON.parse(e.data.join("\n")) });
      }
    }
  })();
  return { status: res.status, headers: res.headers, events, done, retry: () => retry };
}

/** A rent nothing changes: its long-poll is a clock the server keeps. The function returned
 * says whether `p` settles before a hold of `secs` seconds started now: the tests assert
 * that order (and what was answered), never a duration measured here. */
async function serverClock(name) {
  const { key } = await app.createAccount(name, "1.00");
  const r = await app.request("POST", "/api/internal/rent", { key, body: { service: "telegram", country: "US" } });
  assert.equal(r.status, 200, r.text);
  const url = `/api/internal/rent/${r.body.data.id}`;
  return async (p, secs) => {
    const hold = app.request("GET", `${url}?wait=${secs}&since=0`, { key }).then(() => "hold", () => "hold");
    return (await Promise.race([p.then(() => "first"), hold])) === "first";
  };
}

async function until(check, ms = 5000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(25);
  }
  assert.fail("timed out waiting");
}

test("SSE: snapshot, each SMS and status change with its sequence number; the stream ends with the activation", async () => {
  const { key } = await app.createAccount("sse", "2.00");
  const a = await buy(key);
  const s = await openStream(key, a.activation_id);
  assert.equal(s.status, 200);
  assert.match(s.headers.get("content-type"), /^text\/event-stream/);
  assert.equal(s.headers.get("cache-control"), "no-store");
  await until(() => s.events.length === 1);
  assert.equal(s.retry(), 1000);
  assert.deepEqual([s.events[0].id, s.events[0].event, s.events[0].data.activation.status], [0, "snapshot", "waiting"]);

  const clock = await serverClock("sse-clock");
  assert.equal((await pushSms(app, supplier.secret, { number: a.number, text: "Your code is 111222" })).status, 200);
  // Pushed at once, not on a timer: the event comes before a 10 s hold started after the SMS.
  assert.ok(await clock(until(() => s.events.length === 2, 30_000), 10), "pushed at once, not on a timer");
  const sms = s.events[1];
  assert.deepEqual([sms.id, sms.event, sms.data.type, sms.data.seq], [1, "sms", "sms", 1]);
  assert.equal(sms.data.activation.code, "111222");
  assert.equal(sms.data.activation.status, "received");
  assert.equal(sms.data.activation.seq, 1);

  assert.equal((await pushSms(app, supplier.secret, { number: a.number, text: "Again: 333444" })).status, 200);
  await until(() => s.events.length === 3);
  assert.equal(s.events[2].data.activation.sms_list.length, 2);

  assert.equal((await setStatus(key, a.activation_id, "complete")).status, 200);
  await until(() => s.events.length === 4);
  assert.deepEqual([s.events[3].id, s.events[3].event, s.events[3].data.activation.status], [3, "status", "complete"]);
  await s.done; // the server ends the stream once the activation has ended
  assert.equal(s.events.length, 4);
});

test("SSE: any number of clients follow one activation; each gets every event once", async () => {
  const { key } = await app.createAccount("many", "2.00");
  const a = await buy(key);
  const streams = await Promise.all(Array.from({ length: 12 }, () => openStream(key, a.activation_id)));
  await until(() => streams.every((s) => s.events.length === 1));
  await pushSms(app, supplier.secret, { number: a.number, text: "Your code is 246810" });
  await until(() => streams.every((s) => s.events.length === 2));
  assert.equal((await setStatus(key, a.activation_id, "complete")).status, 200);
  await Promise.all(streams.map((s) => s.done));
  for (const s of streams) {
    assert.deepEqual(s.events.map((e) => [e.id, e.event]), [[0, "snapshot"], [1, "sms"], [2, "status"]]);
  }
});

test("SSE: Last-Event-ID resumes with exactly the missed events; after the end, 204", async () => {
  const { key } = await app.createAccount("resume", "2.00");
  const a = await buy(key);
  await pushSms(app, supplier.secret, { number: a.number, text: "code 555666" });
  assert.equal((await setStatus(key, a.activation_id, "retry")).status, 200);
  await pushSms(app, supplier.secret, { number: a.number, text: "code 777888" });
  // The client saw event 1 only: it gets 2 (retry) and 3 (the second SMS), no duplicate.
  const s = await openStream(key, a.activation_id, 1);
  await until(() => s.events.length === 2);
  assert.deepEqual(s.events.map((e) => [e.id, e.event, e.data.activation.status]), [[2, "status", "waiting"], [3, "sms", "received"]]);
  // Each replayed event carries the state at that moment.
  assert.equal(s.events[0].data.activation.sms_list.length, 1);
  assert.equal(s.events[1].data.activation.sms_list.length, 2);
  assert.equal((await setStatus(key, a.activation_id, "complete")).status, 200);
  await until(() => s.events.length === 3);
  await s.done;
  // Everything seen and the activation over: 204 tells an EventSource to stop reconnecting.
  const over = await openStream(key, a.activation_id, 4);
  assert.equal(over.status, 204);
  // An unknown Last-Event-ID is treated as a first connection: a snapshot, then the end.
  const fresh = await openStream(key, a.activation_id, "garbage");
  await fresh.done;
  assert.deepEqual(fresh.events.map((e) => [e.id, e.event]), [[4, "snapshot"]]);
});

test("SSE: expiry is an event, and ends the stream", async () => {
  const { key } = await app.createAccount("expiry", "2.00");
  const a = await buy(key);
  const s = await openStream(key, a.activation_id);
  await s.done;
  assert.deepEqual(s.events.map((e) => [e.id, e.event, e.data.activation.status]), [[0, "snapshot", "waiting"], [1, "expiry", "expired"]]);
});

test("SSE and long-poll: another account's activation is not found; bad parameters are refused", async () => {
  const { key } = await app.createAccount("owner", "2.00");
  const other = await app.createAccount("other");
  const a = await buy(key);
  const s = await openStream(other.key, a.activation_id);
  assert.equal(s.status, 404);
  const noKey = await fetch(new URL(`/v1/activation/${a.activation_id}/events`, app.url));
  assert.equal(noKey.status, 401);
  for (const q of ["wait=0", "wait=56", "wait=abc", "wait=5&since=-1", "wait=5&since=x"]) {
    const r = await app.request("GET", `/v1/activation/${a.activation_id}/status?${q}`, { key });
    assert.equal(r.status, 400, q);
  }
  const r = await app.request("GET", `/v1/activation/${a.activation_id}/status?wait=2`, { key: other.key });
  assert.equal(r.status, 404);
});

test("long-poll: answers at once when behind, at the change for every waiting client, else at N s unchanged", async () => {
  const { key } = await app.createAccount("poll", "2.00");
  const a = await buy(key);
  const url = `/v1/activation/${a.activation_id}/status`;
  const plain = await app.request("GET", url, { key });
  assert.equal(plain.body.seq, 0);

  const clock = await serverClock("poll-clock");
  const unchanged = await app.request("GET", `${url}?wait=1&since=0`, { key });
  assert.equal(unchanged.status, 200);
  assert.equal(unchanged.body.seq, 0);
  assert.equal(unchanged.body.status, "waiting");

  // Twenty clients wait; one SMS answers all of them at the change. Asked at seq 0 and
  // answered with seq 1, each was held until the SMS; they come before a 10 s hold started
  // with the SMS (their own wait is 20 s; the activation's expiry would answer seq 2).
  const waiting = Promise.all(Array.from({ length: 20 }, () => app.request("GET", `${url}?wait=20&since=0`, { key })));
  await sleep(300);
  const pushed = pushSms(app, supplier.secret, { number: a.number, text: "Code: 909090" });
  assert.ok(await clock(waiting, 10), "answered at the change");
  assert.equal((await pushed).status, 200);
  for (const r of await waiting) {
    assert.equal(r.status, 200);
    assert.deepEqual([r.body.seq, r.body.status, r.body.code], [1, "received", "909090"]);
  }
  // Behind: at once, before a 5 s hold (and with seq 1, not the expiry's seq 2).
  const behind = app.request("GET", `${url}?wait=20&since=0`, { key });
  assert.ok(await clock(behind, 5), "behind: answered at once");
  assert.deepEqual([(await behind).body.seq, (await behind).body.status], [1, "received"]);
  // An ended activation answers at once too.
  assert.equal((await setStatus(key, a.activation_id, "complete")).status, 200);
  const ended = app.request("GET", `${url}?wait=20&since=2`, { key });
  assert.ok(await clock(ended, 5), "ended: answered at once");
  assert.equal((await ended).body.status, "complete");
});

test("rent long-poll: the next SMS to a rented number answers the waiting request", async () => {
  const { key } = await app.createAccount("renter", "5.00");
  const r = await app.request("POST", "/api/internal/rent", { key, body: { service: "telegram", country: "US" } });
  assert.equal(r.status, 200, r.text);
  const id = r.body.data.id;
  const first = await app.request("GET", `/api/internal/rent/${id}`, { key });
  assert.equal(first.body.data.seq, 0);
  const clock = await serverClock("renter-clock");
  const waiting = app.request("GET", `/api/internal/rent/${id}?wait=20&since=0`, { key });
  await sleep(300);
  const pushed = pushSms(app, supplier.secret, { number: r.body.data.number, text: "rent code 123123" });
  // Asked at seq 0, answered with seq 1 before a 10 s hold started with the SMS (its own
  // wait is 20 s): held until the SMS, and answered at it.
  assert.ok(await clock(waiting, 10), "answered at the SMS");
  assert.equal((await pushed).status, 200);
  const got = await waiting;
  assert.equal(got.status, 200);
  assert.equal(got.body.data.seq, 1);
  assert.equal(got.body.data.sms[0].code, "123123");
  const bad = await app.request("GET", `/api/internal/rent/${id}?wait=99`, { key });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.success, false);
  const unchanged = await app.request("GET", `/api/internal/rent/${id}?wait=1&since=1`, { key });
  assert.equal(unchanged.status, 200);
  assert.equal(unchanged.body.data.seq, 1);

  const list = await app.request("GET", "/api/internal/rents", { key });
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.data.map((x) => [x.id, x.status]), [[id, "active"]]);
  assert.equal(list.body.pagination.total, 1);
});

test("lists: own activations, OTP sessions and sandbox outbox only", async () => {
  const mine = await app.createAccount("lists", "5.00");
  const theirs = await app.createAccount("theirs", "5.00");
  const a = await buy(mine.key);
  await buy(theirs.key);
  const acts = await app.request("GET", "/v1/activations?limit=5", { key: mine.key });
  assert.equal(acts.status, 200);
  assert.deepEqual(acts.body.data.map((x) => x.activation_id), [a.activation_id]);
  assert.equal(acts.body.data[0].number, a.number);
  assert.deepEqual(acts.body.pagination, { page: 1, limit: 5, total: 1, total_pages: 1, next_cursor: null });
  // Walked by keyset: the row after the only one is nothing; another account's id is refused.
  const b = await buy(mine.key);
  const one = await app.request("GET", "/v1/activations?limit=1", { key: mine.key });
  assert.deepEqual(one.body.data.map((x) => x.activation_id), [b.activation_id]);
  assert.equal(one.body.pagination.next_cursor, b.activation_id);
  const next = await app.request("GET", `/v1/activations?limit=1&after=${b.activation_id}`, { key: mine.key });
  assert.deepEqual(next.body.data.map((x) => x.activation_id), [a.activation_id]);
  assert.deepEqual(next.body.pagination, { page: null, limit: 1, total: 2, total_pages: 2, next_cursor: a.activation_id });
  const end = await app.request("GET", `/v1/activations?limit=1&after=${a.activation_id}`, { key: mine.key });
  assert.deepEqual([end.body.data, end.body.pagination.next_cursor], [[], null]);
  const foreign = (await app.request("GET", "/v1/activations", { key: theirs.key })).body.data[0].activation_id;
  assert.equal((await app.request("GET", `/v1/activations?after=${foreign}`, { key: mine.key })).status, 404);
  const bad = await app.request("GET", "/v1/activations?limit=1000", { key: mine.key });
  assert.equal(bad.status, 400);

  const catalog = await app.request("PUT", "/admin/catalog", { admin: true, body: { otp_prices: [{ country: "US", channel: "sms", cost: "0.0075" }] } });
  assert.equal(catalog.status, 200, catalog.text);
  const sent = await app.request("POST", "/v1/otp/send", { key: mine.key, body: { to: "+14155550177", channel: "sms" } });
  assert.equal(sent.status, 200, sent.text);
  await app.request("POST", "/v1/otp/send", { key: theirs.key, body: { to: "+14155550178", channel: "sms" } });
  const sessions = await app.request("GET", "/v1/otp/sessions", { key: mine.key });
  assert.equal(sessions.status, 200);
  assert.deepEqual(sessions.body.data.map((s) => [s.session_id, s.status, s.phone]), [[sent.body.session_id, "pending", "+14155550177"]]);
  const outbox = await app.request("GET", "/v1/outbox", { key: mine.key });
  assert.equal(outbox.status, 200);
  assert.equal(outbox.body.messages.length, 1);
  assert.equal(outbox.body.messages[0].to, "+14155550177");
  assert.match(outbox.body.messages[0].text, /\d{6}/);
  assert.equal((await app.request("GET", "/v1/outbox")).status, 401);
});
