// `npm run soak`: load on the local Worker (workerd through Miniflare, loopback only), then every
// money and state invariant checked in D1. Bounded in time and in requests; stops by itself.
//
//   node scripts/soak.mjs [--faults] [--seconds 150] [--max-requests 300000] [--concurrency 24]
//                         [--accounts 6] [--fault-rate 0.15] [--seed N] [--report FILE]
//
// --seed N: every random choice (operation, account, activation, session, code, fault,
// Idempotency-Key, duplicated job) comes from a PRNG seeded with N (mulberry32; a random seed
// otherwise, printed), so a failing run can be repeated; timing still varies from run to
// run. --report FILE: the report's JSON is written there too.
//
// Mix, from several accounts at once: activation buys, supplier SMS pushes, cancels, completes,
// retries, rents, WhatOTP sends and verifies (right, wrong and replayed codes), GetOTP sends and
// checks, template messages, balance reads. Then, in D1: balance == ledger sum per account, no
// negative balance, ≤ 1 charge and ≤ 1 refund per object, a refund iff the activation ended
// cancelled or expired, one final state per activation, no OTP session verified twice.
//
// --faults (RELIABILITY.md): the Worker runs with TEST_FAULTS=1, voice goes to a local Twilio
// stub that refuses, answers 503 or hangs past PROVIDER_TIMEOUT_MS (by the number called), and
// a share of the money requests (--fault-rate; each operation's first requests carry each of
// its faults once) carry an injected failure (`X-Test-Fault`): the money batch failing before
// its commit, or committed then the request failed, D1 lost after the commit, the idempotency
// release failing, an activation whose object never armed, an OTP session's object not opened
// (and its KV record not written either: the send is refunded), the refund of a failed delivery
// failing on the request path (and the queue refusing its job too, so only the refund owed in
// D1 is left for the Cron pass); each 5xx is retried once with the same Idempotency-Key, as a
// client would. OTP checks and activation status changes may lose the object's answer after it
// ran (retried once); refund jobs are put on the queue a second time (a queue delivers at
// least once); the Cron Trigger's pass runs every 5 s. A 5xx is counted as injected when its
// request carried a fault, else as ours (the goal is 0). Extra invariants: every failed
// delivery refunded (template messages and OTP sends), each OTP send's answer true in D1 (a
// 502 left a refunded session, a 200 an unrefunded one), no message left queued or sending, no
// refund owed left unpaid, no number held by an ended activation.
import http from "node:http";
import { writeFileSync } from "node:fs";
import { spawnApp } from "../tests/support/app.mjs";
import { seed as seedInventory, pushSms, usNumber } from "../tests/support/activations.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const FAULTS = process.argv.includes("--faults");
const SECONDS = Math.min(arg("--seconds", FAULTS ? 600 : 150), 1800);
const FAULT_RATE = FAULTS ? Math.min(arg("--fault-rate", 0.15), 1) : 0;
const MAX_REQUESTS = Math.min(arg("--max-requests", 300_000), 1_000_000);
const CONCURRENCY = Math.min(arg("--concurrency", 24), 128);
const ACCOUNTS = Math.min(arg("--accounts", 6), 50);
// A number serves a service once: a run with faults (fast, or long) needs more stock.
const NUMBERS = FAULTS ? 3000 : 900;

const SEED = arg("--seed", Math.floor(Math.random() * 2 ** 32)) >>> 0;
const reportIndex = process.argv.indexOf("--report");
const REPORT_FILE = reportIndex > 0 ? process.argv[reportIndex + 1] : undefined;

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
// Each load loop draws from its own generator (seeded from SEED and its index), so a loop's
// choices do not depend on how the loops interleave; what they meet still may.
const loopRandom = (i) => mulberry32((SEED + Math.imul(i + 1, 0x9e3779b9)) >>> 0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pick = (list, rnd) => list[Math.floor(rnd() * list.length)];
const hex32 = (rnd) => Math.floor(rnd() * 2 ** 32).toString(16).padStart(8, "0");

/** A Twilio stand-in for voice calls under --faults. It never accepts a call; what it does
 * depends on the number called (`voicePhone`): refuses it (400), answers 503, or never
 * answers (the Worker's deadline, PROVIDER_TIMEOUT_MS, ends each try). */
const VOICE_FAULTS = { provider_refuses: "555", provider_5xx: "556", provider_hangs: "557" };
async function startVoiceStub() {
  const calls = { provider_refuses: 0, provider_5xx: 0, provider_hangs: 0 };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const to = new URLSearchParams(body).get("To") ?? "";
      const fault = Object.keys(VOICE_FAULTS).find((f) => to.startsWith(`+1202${VOICE_FAULTS[f]}`)) ?? "provider_refuses";
      calls[fault]++;
      if (fault === "provider_hangs") return; // never answers
      const status = fault === "provider_5xx" ? 503 : 400;
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify({ code: status === 400 ? 21211 : 20500, message: "soak: the provider refuses", status }));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    calls,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}
const voiceStub = FAULTS ? await startVoiceStub() : null;

let jobRetries = 0;
const workerLog = [];
const app = await spawnApp({
  log: (text) => {
    jobRetries += (text.match(/job \S+ on otpedge-jobs(-dead)?, try \d+, failed/g) ?? []).length;
    // workerd's own warnings (an alarm running late on a loaded machine) are not failures.
    const failure = /uncaught|panicked|RuntimeError|workerd\/|segfault/i.test(text) && !/\bwarning: NOSENTRY\b/.test(text);
    if (failure && workerLog.length < 20) workerLog.push(text.slice(0, 500));
  },
  vars: {
    ...(FAULTS
      ? {
          TEST_FAULTS: "1",
          OTP_PROVIDER_VOICE: "twilio",
          TWILIO_BASE_URL: voiceStub.base,
          TWILIO_ACCOUNT_SID: "AC0123456789",
          TWILIO_AUTH_TOKEN: "soak-twilio-auth-token",
          TWILIO_FROM: "+15005550006",
          PROVIDER_TIMEOUT_MS: "300",
          PROVIDER_MAX_ATTEMPTS: "2",
        }
      : {}),
    OTP_HMAC_SECRET: "soak-otp-hmac-secret",
    RATE_LIMIT_PUBLIC: "100000000",
    RATE_LIMIT_PRODUCT: "100000000",
    RATE_LIMIT_ADMIN: "100000000",
    // Short lives so that expiry (alarm, refund) happens during the run, and no cancel lock.
    ACTIVATION_LIFETIME_SECS: "20",
    ACTIVATION_CANCEL_LOCK_SECS: "0",
    OTP_RESEND_INTERVAL_SECS: "1",
    OTP_MAX_SENDS_PER_WINDOW: "20",
    OTP_SEND_WINDOW_SECS: "60",
    PRICES_CACHE_SECS: "0",
  },
});
console.log(`[soak] seed ${SEED}; Worker at ${app.url}; ${SECONDS} s, ≤ ${MAX_REQUESTS} requests, ${CONCURRENCY} in flight, ${ACCOUNTS} accounts${FAULTS ? `, faults on ${FAULT_RATE * 100} % of money requests` : ""}`);

const inv = await seedInventory(app, { us: Math.min(NUMBERS, 900), pk: 0, tmobile: 0 });
// More stock in imports of 700 (a request body is at most 64 KiB).
for (let from = 900; from < NUMBERS; from += 700) {
  const numbers = Array.from({ length: Math.min(700, NUMBERS - from) }, (_, i) => ({ number: usNumber(from + i), country: "US", operator: "1" }));
  const r = await app.request("POST", "/admin/numbers", { admin: true, body: { numbers, supplier_id: inv.supplierId } });
  if (r.status !== 200) throw new Error(`numbers: ${r.status} ${r.text}`);
}
const catalog = await app.request("PUT", "/admin/catalog", {
  admin: true,
  body: { otp_prices: ["sms", "whatsapp", "voice"].map((channel) => ({ country: "US", channel, cost: "0.0075" })) },
});
if (catalog.status !== 200) throw new Error(`otp prices: ${catalog.status} ${catalog.text}`);
const tpl = await app.request("POST", "/admin/templates", { admin: true, body: { name: "soak", channel: "sms", body: "Your code is {code}." } });
const hello = await app.request("POST", "/admin/templates", { admin: true, body: { name: "hello", channel: "sms", body: "Hi {name}." } });
// With --faults, voice deliveries all fail: their charges must all come back.
const helloVoice = await app.request("POST", "/admin/templates", { admin: true, body: { name: "hello-voice", channel: "voice", body: "Hi {name}." } });
// Small wallets, so some accounts run dry and the 402 path is part of the load.
const accounts = [];
// With --faults, the larger wallets last the whole run, so faults keep meeting money.
const large = FAULTS ? "2000.00" : "40.00";
for (let i = 0; i < ACCOUNTS; i++) accounts.push(await app.createAccount(`soak-${i}`, i % 2 ? large : "8.00"));
if (FAULTS) {
  // The fraud guard decides and counts every send but lets it through (its refusals are not
  // the faults under test; `tests/fraud.test.mjs` covers them).
  for (const a of accounts) {
    const r = await app.request("PUT", "/v1/fraud/policy", { key: a.key, body: { mode: "monitor" } });
    if (r.status !== 200) throw new Error(`fraud policy: ${r.status} ${r.text}`);
  }
}

const stats = { requests: 0, byStatus: {}, byOp: {}, networkErrors: 0, serverErrors: [], verifiedTwice: [], faults: {}, injected5xx: 0, ours5xx: 0, retries: {}, cronPasses: 0, harnessErrors: [] };
const activations = []; // { id, key, number }
const sessions = []; // { id, key, phone, dialect }
const verifiedOk = new Map(); // session id → successful verifications seen
let phoneSeq = 0;
const freshPhone = (exchange = "555") => `+1202${exchange}${String(++phoneSeq % 10000).padStart(4, "0")}`;
/** A voice send's number and the provider fault it meets (`startVoiceStub`). */
function voicePhone(rnd) {
  const fault = pick(Object.keys(VOICE_FAULTS), rnd);
  return { phone: freshPhone(VOICE_FAULTS[fault]), providerFault: fault };
}
/** Per phone number, what OTP sends to it answered: distinct sessions answered 200, and 502s
 * (a delivery that failed: refunded, or its refund queued). */
const sendsByPhone = new Map();

async function call(op, method, path, opts = {}) {
  stats.requests++;
  // A voice send under --faults meets the stub's refusal, 503 or silence: a fault too.
  const fault = opts.headers?.["X-Test-Fault"] ?? opts.providerFault;
  for (const f of new Set([opts.headers?.["X-Test-Fault"], opts.providerFault])) {
    if (f) stats.faults[f] = (stats.faults[f] ?? 0) + 1;
  }
  let r;
  try {
    r = await app.request(method, path, opts);
  } catch (e) {
    stats.networkErrors++;
    return { status: 0, body: String(e) };
  }
  const cls = `${r.status}`;
  stats.byStatus[cls] = (stats.byStatus[cls] ?? 0) + 1;
  const o = (stats.byOp[op] ??= { n: 0, ok: 0, refused: 0, errors: 0 });
  o.n++;
  if (r.status >= 500) {
    o.errors++;
    if (fault) stats.injected5xx++;
    else {
      stats.ours5xx++;
      if (stats.serverErrors.length < 20) stats.serverErrors.push(`${op} ${method} ${path} → ${r.status} ${r.text.slice(0, 300)}`);
    }
  } else if (r.status >= 400) o.refused++;
  else o.ok++;
  if (opts.sendTo) {
    const seen = sendsByPhone.get(opts.sendTo) ?? { sessions: new Set(), failed: 0 };
    sendsByPhone.set(opts.sendTo, seen);
    if (r.status === 200) seen.sessions.add(r.body?.session_id ?? r.body?.message_id);
    if (r.status === 502) seen.failed++;
  }
  return r;
}

// Per operation and fault list, the faults not injected yet: the first requests carry each
// once, so that even a short run meets every kind.
const uncovered = new Map();
/** A money request: with --faults it carries an Idempotency-Key, and at FAULT_RATE one of
 * `faults` (each of them first once); a 5xx it caused is retried once with the same key and
 * no fault (as a client). */
async function money(op, method, path, opts, faults, rnd) {
  if (!FAULTS) return call(op, method, path, opts);
  const headers = { ...opts.headers, "Idempotency-Key": `soak-${hex32(rnd)}${hex32(rnd)}` };
  const list = `${op}: ${faults.join(" ")}`;
  if (!uncovered.has(list)) uncovered.set(list, [...faults]);
  const drawn = rnd() < FAULT_RATE ? pick(faults, rnd) : undefined;
  const fault = uncovered.get(list).shift() ?? drawn;
  const first = await call(op, method, path, { ...opts, headers: fault ? { ...headers, "X-Test-Fault": fault } : headers });
  if (!fault || first.status < 500) return first;
  await sleep(50);
  const retry = await call(op, method, path, { ...opts, headers });
  const key = `${fault} → ${retry.status}${retry.headers?.get?.("idempotent-replayed") ? " replayed" : ""}`;
  stats.retries[key] = (stats.retries[key] ?? 0) + 1;
  return retry;
}

function verified(id, body) {
  if (body?.verified === true) {
    const n = (verifiedOk.get(id) ?? 0) + 1;
    verifiedOk.set(id, n);
    if (n > 1) stats.verifiedTwice.push(id);
  }
}

async function codeFor(phone) {
  const r = await call("outbox", "GET", `/admin/outbox?to=${encodeURIComponent(phone)}&limit=1`, { admin: true });
  return r.body?.messages?.[0]?.text?.match(/\b(\d{4,8})\b/)?.[1];
}

const ops = [
  [14, async (a, rnd) => {
    const r = await money("buy", "POST", "/v1/number", { key: a.key, body: { service: "telegram", country: "US" } }, ["after_commit", "db_lost_after_commit", "activation_unarmed", "release_fails", "complete_record"], rnd);
    if (r.status === 200) activations.push({ id: r.body.activation_id, key: a.key, number: r.body.number });
  }],
  [10, null], // supplier SMS push: set below (it signs its own request)
  [8, async (a, rnd) => {
    if (!activations.length) return;
    const act = pick(activations, rnd);
    const body = { status: pick(["cancel", "complete", "complete", "retry"], rnd) };
    // The object's answer lost after it ran: a retry meets the state it left (no second refund).
    const lost = FAULTS && rnd() < FAULT_RATE / 2;
    const r = await call("set-status", "POST", `/v1/activation/${act.id}/status`, { key: act.key, body, headers: lost ? { "X-Test-Fault": "object_answer_lost" } : {} });
    if (lost && r.status >= 500) await call("set-status", "POST", `/v1/activation/${act.id}/status`, { key: act.key, body });
  }],
  [4, async (a, rnd) => {
    if (!activations.length) return;
    const act = pick(activations, rnd);
    await call("activation-status", "GET", `/v1/activation/${act.id}/status`, { key: act.key });
  }],
  [3, async (a, rnd) => {
    await money("rent", "POST", "/api/internal/rent", { key: a.key, body: { service: "telegram", country: "US", hours: 4 } }, ["after_commit", "release_fails", "complete_record"], rnd);
  }],
  [12, async (a, rnd) => {
    // With --faults, a fifth go by voice, whose provider refuses, answers 503 or hangs (each
    // refunded); the others may have their object open and KV write both fail (refunded).
    const voice = FAULTS && rnd() < 0.2;
    const { phone, providerFault } = voice ? voicePhone(rnd) : { phone: freshPhone() };
    const faults = voice ? ["refund_fails", "refund_unqueued", "refund_unrecorded", "after_commit"] : ["after_commit", "object_restarted", "release_fails", "complete_record", "kv_write_fails"];
    const r = await money("otp-send", "POST", "/v1/otp/send", { key: a.key, providerFault, sendTo: phone, body: { to: phone, channel: voice ? "voice" : "sms" } }, faults, rnd);
    if (r.status === 200) sessions.push({ id: r.body.session_id, key: a.key, phone, dialect: "whatotp" });
  }],
  [8, async (a, rnd) => {
    const phone = freshPhone();
    const r = await money("getotp-send", "POST", "/api/verify/", { headers: { "X-OTP-Key": a.key }, sendTo: phone, body: { data: { channel: "sms", sender: "soak", phone: phone.slice(1), template: tpl.body.template_id, code_length: 6 } } }, ["after_commit", "object_restarted", "kv_write_fails"], rnd);
    if (r.status === 200) sessions.push({ id: r.body.message_id, key: a.key, phone, dialect: "getotp" });
  }],
  [14, async (a, rnd) => {
    if (!sessions.length) return;
    const s = pick(sessions, rnd);
    const right = rnd() < 0.6 ? await codeFor(s.phone) : undefined;
    const code = right ?? String(Math.floor(rnd() * 1e6)).padStart(6, "0");
    // Sometimes the same right code twice at once: at most one may succeed.
    const tries = right && rnd() < 0.3 ? 3 : 1;
    // The object's answer lost after it ran: the retry may not verify a session twice.
    const lost = FAULTS && rnd() < FAULT_RATE / 2;
    await Promise.all(
      Array.from({ length: tries }, async (_, i) => {
        const check = (headers) =>
          s.dialect === "whatotp"
            ? call("otp-verify", "POST", "/v1/otp/verify", { key: s.key, headers, body: { session_id: s.id, code } })
            : call("getotp-check", "POST", "/api/verify/check", { headers: { "X-OTP-Key": s.key, ...headers }, body: { data: { message_id: s.id, code } } });
        let r = await check(lost && i === 0 ? { "X-Test-Fault": "object_answer_lost" } : {});
        if (lost && i === 0 && r.status >= 500) r = await check({});
        verified(s.id, r.body);
      }),
    );
  }],
  [4, async (a, rnd) => {
    const voice = FAULTS && rnd() < 0.2;
    const { phone, providerFault } = voice ? voicePhone(rnd) : { phone: freshPhone() };
    await money("message", "POST", "/v1/messages/send", { key: a.key, providerFault, body: { phone_number: phone, template_id: (voice ? helloVoice : hello).body.template_id, variables: { name: "soak" } } }, ["after_commit"], rnd);
  }],
  [5, async (a, rnd) => {
    await call("balance", "GET", pick(["/v1/balance", "/api/internal/balance"], rnd), { key: a.key });
  }],
  // A refund job delivered again (a queue delivers at least once): it must change nothing.
  [FAULTS ? 2 : 0, (a, rnd) =>
    harness("queue_duplicate", async () => {
      const { n } = await app.db.prepare("SELECT COUNT(*) AS n FROM ledger WHERE kind = 'otp_refund'").first();
      if (!n) return;
      const done = await app.db.prepare("SELECT account_id, object_id, amount FROM ledger WHERE kind = 'otp_refund' ORDER BY seq LIMIT 1 OFFSET ?").bind(Math.floor(rnd() * n)).first();
      if (!done) return;
      stats.faults.queue_duplicate = (stats.faults.queue_duplicate ?? 0) + 1;
      await jobs.send(JSON.stringify({ job: "refund", account_id: done.account_id, kind: "otp_refund", cost: done.amount, object_id: done.object_id }));
    }),
  ],
];
const jobs = FAULTS ? await app.mf.getQueueProducer("JOBS") : null;
const worker = await app.mf.getWorker();
/** One pass of the Cron Trigger's handler (what `wrangler dev --test-scheduled` runs). */
async function cron() {
  await harness("cron", async () => {
    const r = await worker.scheduled({ cron: "* * * * *" });
    stats.cronPasses++;
    if (r.outcome !== "ok") stats.serverErrors.push(`scheduled → ${r.outcome}`);
  });
}
/** A call of the harness itself (D1 read, queue send, scheduled pass): a failure is counted
 * and shown, never fatal to the run. */
async function harness(what, f) {
  try {
    await f();
  } catch (e) {
    stats.harnessErrors.push(`${new Date().toISOString()} ${what}: ${String(e).slice(0, 200)}`);
  }
}
const weights = ops.reduce((s, [w]) => s + w, 0);
function chooseOp(rnd) {
  let x = rnd() * weights;
  for (const [w, f] of ops) {
    x -= w;
    if (x < 0) return f;
  }
  return ops[0][1];
}
// The inbound op keeps its own count (pushSms bypasses `call`).
stats.byOp.sms = { n: 0, ok: 0, refused: 0, errors: 0 };
ops[1][1] = async (a, rnd) => {
  const act = activations.length && rnd() < 0.85 ? pick(activations, rnd) : null;
  const number = act ? act.number : usNumber(Math.floor(rnd() * NUMBERS));
  stats.requests++;
  stats.byOp.sms.n++;
  let r;
  try {
    r = await pushSms(app, inv.secret, { number, text: `Your code is ${100000 + Math.floor(rnd() * 899999)}` });
  } catch (e) {
    stats.networkErrors++;
    return;
  }
  stats.byStatus[r.status] = (stats.byStatus[r.status] ?? 0) + 1;
  if (r.status >= 500) {
    stats.byOp.sms.errors++;
    if (stats.serverErrors.length < 20) stats.serverErrors.push(`sms → ${r.status} ${r.text.slice(0, 300)}`);
  } else if (r.status >= 400) stats.byOp.sms.refused++;
  else stats.byOp.sms.ok++;
};

const started = Date.now();
const deadline = started + SECONDS * 1000;
await Promise.all([
  ...Array.from({ length: CONCURRENCY }, async (_, i) => {
    const rnd = loopRandom(i);
    while (Date.now() < deadline && stats.requests < MAX_REQUESTS) {
      await chooseOp(rnd)(pick(accounts, rnd), rnd);
    }
  }),
  (async () => {
    while (Date.now() < deadline && stats.requests < MAX_REQUESTS) {
      await sleep(60_000);
      const t = (Date.now() - started) / 1000;
      console.log(`[soak] ${t.toFixed(0)} s: ${stats.requests} requests (${(stats.requests / t).toFixed(1)}/s), 5xx injected ${stats.injected5xx}, ours ${stats.ours5xx}, network ${stats.networkErrors}`);
    }
  })(),
  (async () => {
    while (FAULTS && Date.now() < deadline && stats.requests < MAX_REQUESTS) {
      await sleep(5_000);
      await cron();
    }
  })(),
]);
const elapsed = (Date.now() - started) / 1000;
console.log(`[soak] load done: ${stats.requests} requests in ${elapsed.toFixed(1)} s (${(stats.requests / elapsed).toFixed(0)} req/s); settling…`);

// Let expiry alarms fire and Durable Objects mirror their last transitions into D1.
await sleep(25_000);
for (let i = 0; i < activations.length; i += 8) {
  await Promise.all(activations.slice(i, i + 8).map((act) => app.request("GET", `/v1/activation/${act.id}/status`, { key: act.key })));
}
await sleep(3_000);
if (FAULTS) {
  // Activations whose object never armed end by the scheduled pass; queued jobs drain.
  for (let pass = 0; pass < 3; pass++) {
    await cron();
    await sleep(2_000);
  }
  const owed = async () => (await app.db.prepare("SELECT (SELECT COUNT(*) FROM messages WHERE status IN ('queued', 'sending')) + (SELECT COUNT(*) FROM otp_sessions s WHERE s.channel = 'voice' AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.object_id = s.id AND l.kind = 'otp_refund')) AS n").first()).n;
  for (let i = 0; i < 60 && (await owed()) > 0; i++) await sleep(1_000);
}

const q = async (sql, ...binds) => (await app.db.prepare(sql).bind(...binds).all()).results;
const violations = [];
const v = (what, rows) => {
  if (rows.length) violations.push({ what, count: rows.length, sample: rows.slice(0, 5) });
};
// Each invariant: what breaks it, and the query that lists the rows breaking it (none when it
// holds).
const INVARIANTS = [
  ["wallet balance != ledger sum", "SELECT w.account_id, w.balance, COALESCE((SELECT SUM(amount) FROM ledger l WHERE l.account_id = w.account_id), 0) AS ledger FROM wallets w WHERE w.balance != COALESCE((SELECT SUM(amount) FROM ledger l WHERE l.account_id = w.account_id), 0)"],
  ["negative balance", "SELECT account_id, balance FROM wallets WHERE balance < 0"],
  ["ledger balance_after chain broken", "SELECT l.id FROM ledger l WHERE l.balance_after != (SELECT SUM(amount) FROM ledger m WHERE m.account_id = l.account_id AND m.seq <= l.seq)"],
  ["more than one charge or refund per object", "SELECT object_id, kind, COUNT(*) AS n FROM ledger WHERE object_id IS NOT NULL GROUP BY object_id, kind HAVING n > 1"],
  ["activation without exactly one purchase", "SELECT a.id FROM activations a WHERE (SELECT COUNT(*) FROM ledger l WHERE l.object_id = a.id AND l.kind = 'purchase') != 1"],
  ["refund without cancelled/expired, or cancelled/expired without refund", "SELECT a.id, a.status, (SELECT COUNT(*) FROM ledger l WHERE l.object_id = a.id AND l.kind = 'refund') AS refunds FROM activations a WHERE (a.status IN ('cancelled', 'expired')) != ((SELECT COUNT(*) FROM ledger l WHERE l.object_id = a.id AND l.kind = 'refund') = 1)"],
  ["refund amount != purchase amount", "SELECT r.object_id FROM ledger r JOIN ledger p ON p.object_id = r.object_id AND p.kind = 'purchase' WHERE r.kind = 'refund' AND r.amount != -p.amount"],
  ["activation still live after its expiry", "SELECT id, status FROM activations WHERE status IN ('waiting', 'received') AND expires_at < ?", Date.now() - 20_000],
  ["number held by two live activations", "SELECT number_id, COUNT(*) AS n FROM activations WHERE status IN ('waiting', 'received') GROUP BY number_id HAVING n > 1"],
  ["OTP session with more attempts than allowed", "SELECT id, attempts, max_attempts FROM otp_sessions WHERE attempts > max_attempts"],
  ["OTP session without exactly one charge", "SELECT s.id FROM otp_sessions s WHERE s.dialect != 'message' AND (SELECT COUNT(*) FROM ledger l WHERE l.object_id = s.id AND l.kind = 'otp_send') != 1"],
  ["number held by an ended activation", "SELECT l.number_id, a.id, a.status FROM number_leases l JOIN activations a ON a.id = l.object_id WHERE a.status NOT IN ('waiting', 'received')"],
  ["template message failed without its refund", "SELECT m.id FROM messages m WHERE m.status = 'failed' AND m.provider_message_id IS NULL AND m.cost > 0 AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.object_id = m.id AND l.kind = 'message_refund')"],
  ["template message still queued or sending (charged, neither delivered nor refunded)", "SELECT id, status FROM messages WHERE status IN ('queued', 'sending')"],
  ["refund owed and never paid", "SELECT object_id, kind FROM refunds_owed WHERE paid_at IS NULL"],
  ["OTP send whose delivery failed without its refund", "SELECT s.id FROM otp_sessions s WHERE s.channel = 'voice' AND s.dialect != 'message' AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.object_id = s.id AND l.kind = 'otp_refund')"],
];
for (const [what, sql, ...binds] of INVARIANTS) v(what, await q(sql, ...binds));
const kept = await (await app.mf.getKVNamespace("OTP_SESSIONS")).list({ prefix: "refund:" });
v("refund kept in KV and never made", kept.keys.map((k) => k.name));
// What each OTP send answered is true: a 502 (delivery failed) left a session refunded, a 200
// one that was not; no other answer left a session behind.
const sendMismatch = [];
for (const [phone, seen] of sendsByPhone) {
  const [row] = await q("SELECT COUNT(*) AS sessions, COALESCE(SUM((SELECT COUNT(*) FROM ledger l WHERE l.object_id = s.id AND l.kind = 'otp_refund')), 0) AS refunds FROM otp_sessions s WHERE s.phone IN (?, ?)", phone, phone.slice(1));
  seen.sessions.delete(undefined);
  if (row.refunds !== seen.failed || row.sessions !== seen.sessions.size + seen.failed) sendMismatch.push({ phone, answered200: seen.sessions.size, answered502: seen.failed, ...row });
}
v("OTP send whose answer (200 sent / 502 refunded) is not what D1 holds", sendMismatch);
if (stats.verifiedTwice.length) violations.push({ what: "OTP session verified twice (200 verified:true more than once)", count: stats.verifiedTwice.length, sample: stats.verifiedTwice.slice(0, 5) });

const counts = {
  activations: (await q("SELECT status, COUNT(*) AS n FROM activations GROUP BY status")).map((r) => `${r.status}=${r.n}`).join(" "),
  otpSessions: (await q("SELECT COUNT(*) AS n, SUM(verified_at IS NOT NULL) AS verified FROM otp_sessions"))[0],
  ledgerRows: (await q("SELECT kind, COUNT(*) AS n FROM ledger GROUP BY kind")).map((r) => `${r.kind}=${r.n}`).join(" "),
  wallets: (await q("SELECT balance FROM wallets")).map((r) => (r.balance / 10000).toFixed(4)).join(" "),
};
const serverErrors = Object.entries(stats.byStatus).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0);
const report = {
  seconds: Number(elapsed.toFixed(1)),
  requests: stats.requests,
  reqPerSec: Number((stats.requests / elapsed).toFixed(1)),
  concurrency: CONCURRENCY,
  accounts: ACCOUNTS,
  byStatus: stats.byStatus,
  byOp: stats.byOp,
  errorRate: `${(((serverErrors + stats.networkErrors) / Math.max(1, stats.requests)) * 100).toFixed(3)} % (5xx ${serverErrors}, network ${stats.networkErrors})`,
  seed: SEED,
  faultsInjected: stats.faults,
  voiceProviderCalls: voiceStub?.calls,
  serverErrorsInjected: stats.injected5xx,
  serverErrorsOurs: stats.ours5xx,
  retriesAfterInjected5xx: stats.retries,
  cronPasses: stats.cronPasses,
  jobRetriesLogged: jobRetries,
  harnessErrors: stats.harnessErrors.slice(0, 10),
  harnessErrorCount: stats.harnessErrors.length,
  workerLog,
  sessionsVerified: verifiedOk.size,
  counts,
  serverErrorSamples: stats.serverErrors,
  violations,
};
console.log(JSON.stringify(report, null, 2));
if (REPORT_FILE) writeFileSync(REPORT_FILE, JSON.stringify(report, null, 2));
await app.close();
await voiceStub?.close();
console.log(violations.length ? `[soak] ${violations.length} invariant(s) VIOLATED` : "[soak] every invariant held");
process.exit(violations.length || stats.ours5xx || stats.networkErrors || stats.harnessErrors.length ? 1 : 0);
