// `npm run soak`: load on the local Worker (workerd through Miniflare, loopback only), then every
// money and state invariant checked in D1. Bounded in time and in requests; stops by itself.
//
//   node scripts/soak.mjs [--seconds 150] [--max-requests 300000] [--concurrency 24] [--accounts 6]
//
// Mix, from several accounts at once: activation buys, supplier SMS pushes, cancels, completes,
// retries, rents, WhatOTP sends and verifies (right, wrong and replayed codes), GetOTP sends and
// checks, template messages, balance reads. Then, in D1: balance == ledger sum per account, no
// negative balance, ≤ 1 charge and ≤ 1 refund per object, a refund iff the activation ended
// cancelled or expired, one final state per activation, no OTP session verified twice.
import { randomBytes } from "node:crypto";
import { spawnApp } from "../tests/support/app.mjs";
import { seed as seedInventory, pushSms, usNumber } from "../tests/support/activations.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = Math.min(arg("--seconds", 150), 180);
const MAX_REQUESTS = Math.min(arg("--max-requests", 300_000), 1_000_000);
const CONCURRENCY = Math.min(arg("--concurrency", 24), 128);
const ACCOUNTS = Math.min(arg("--accounts", 6), 50);
const NUMBERS = 900;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pick = (list) => list[Math.floor(Math.random() * list.length)];

const app = await spawnApp({
  vars: {
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
console.log(`[soak] Worker at ${app.url}; ${SECONDS} s, ≤ ${MAX_REQUESTS} requests, ${CONCURRENCY} in flight, ${ACCOUNTS} accounts`);

const inv = await seedInventory(app, { us: NUMBERS, pk: 0, tmobile: 0 });
const catalog = await app.request("PUT", "/admin/catalog", {
  admin: true,
  body: { otp_prices: ["sms", "whatsapp", "voice"].map((channel) => ({ country: "US", channel, cost: "0.0075" })) },
});
if (catalog.status !== 200) throw new Error(`otp prices: ${catalog.status} ${catalog.text}`);
const tpl = await app.request("POST", "/admin/templates", { admin: true, body: { name: "soak", channel: "sms", body: "Your code is {code}." } });
const hello = await app.request("POST", "/admin/templates", { admin: true, body: { name: "hello", channel: "sms", body: "Hi {name}." } });
// Small wallets, so some accounts run dry and the 402 path is part of the load.
const accounts = [];
for (let i = 0; i < ACCOUNTS; i++) accounts.push(await app.createAccount(`soak-${i}`, i % 2 ? "40.00" : "8.00"));

const stats = { requests: 0, byStatus: {}, byOp: {}, networkErrors: 0, serverErrors: [], verifiedTwice: [] };
const activations = []; // { id, key, number }
const sessions = []; // { id, key, phone, dialect }
const verifiedOk = new Map(); // session id → successful verifications seen
let phoneSeq = 0;
const freshPhone = () => `+1202555${String(++phoneSeq % 10000).padStart(4, "0")}`;

async function call(op, method, path, opts) {
  stats.requests++;
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
    if (stats.serverErrors.length < 20) stats.serverErrors.push(`${op} ${method} ${path} → ${r.status} ${r.text.slice(0, 300)}`);
  } else if (r.status >= 400) o.refused++;
  else o.ok++;
  return r;
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
  [14, async (a) => {
    const r = await call("buy", "POST", "/v1/number", { key: a.key, body: { service: "telegram", country: "US" } });
    if (r.status === 200) activations.push({ id: r.body.activation_id, key: a.key, number: r.body.number });
  }],
  [10, null], // supplier SMS push: set below (it signs its own request)
  [8, async () => {
    if (!activations.length) return;
    const act = pick(activations);
    await call("set-status", "POST", `/v1/activation/${act.id}/status`, { key: act.key, body: { status: pick(["cancel", "complete", "complete", "retry"]) } });
  }],
  [4, async () => {
    if (!activations.length) return;
    const act = pick(activations);
    await call("activation-status", "GET", `/v1/activation/${act.id}/status`, { key: act.key });
  }],
  [3, async (a) => {
    await call("rent", "POST", "/api/internal/rent", { key: a.key, body: { service: "telegram", country: "US", hours: 4 } });
  }],
  [12, async (a) => {
    const phone = freshPhone();
    const r = await call("otp-send", "POST", "/v1/otp/send", { key: a.key, body: { to: phone, channel: "sms" } });
    if (r.status === 200) sessions.push({ id: r.body.session_id, key: a.key, phone, dialect: "whatotp" });
  }],
  [8, async (a) => {
    const phone = freshPhone();
    const r = await call("getotp-send", "POST", "/api/verify/", { headers: { "X-OTP-Key": a.key }, body: { data: { channel: "sms", sender: "soak", phone: phone.slice(1), template: tpl.body.template_id, code_length: 6 } } });
    if (r.status === 200) sessions.push({ id: r.body.message_id, key: a.key, phone, dialect: "getotp" });
  }],
  [14, async () => {
    if (!sessions.length) return;
    const s = pick(sessions);
    const right = Math.random() < 0.6 ? await codeFor(s.phone) : undefined;
    const code = right ?? String(Math.floor(Math.random() * 1e6)).padStart(6, "0");
    // Sometimes the same right code twice at once: at most one may succeed.
    const tries = right && Math.random() < 0.3 ? 3 : 1;
    await Promise.all(
      Array.from({ length: tries }, async () => {
        const r =
          s.dialect === "whatotp"
            ? await call("otp-verify", "POST", "/v1/otp/verify", { key: s.key, body: { session_id: s.id, code } })
            : await call("getotp-check", "POST", "/api/verify/check", { headers: { "X-OTP-Key": s.key }, body: { data: { message_id: s.id, code } } });
        verified(s.id, r.body);
      }),
    );
  }],
  [4, async (a) => {
    await call("message", "POST", "/v1/messages/send", { key: a.key, body: { phone_number: freshPhone(), template_id: hello.body.template_id, variables: { name: "soak" } } });
  }],
  [5, async (a) => {
    await call("balance", "GET", pick(["/v1/balance", "/api/internal/balance"]), { key: a.key });
  }],
];
const weights = ops.reduce((s, [w]) => s + w, 0);
function chooseOp() {
  let x = Math.random() * weights;
  for (const [w, f] of ops) {
    x -= w;
    if (x < 0) return f;
  }
  return ops[0][1];
}
// The inbound op keeps its own count (pushSms bypasses `call`).
stats.byOp.sms = { n: 0, ok: 0, refused: 0, errors: 0 };
ops[1][1] = async () => {
  const act = activations.length && Math.random() < 0.85 ? pick(activations) : null;
  const number = act ? act.number : usNumber(Math.floor(Math.random() * NUMBERS));
  stats.requests++;
  stats.byOp.sms.n++;
  let r;
  try {
    r = await pushSms(app, inv.secret, { number, text: `Your code is ${100000 + Math.floor(Math.random() * 899999)}` });
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
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (Date.now() < deadline && stats.requests < MAX_REQUESTS) {
      await chooseOp()(pick(accounts));
    }
  }),
);
const elapsed = (Date.now() - started) / 1000;
console.log(`[soak] load done: ${stats.requests} requests in ${elapsed.toFixed(1)} s (${(stats.requests / elapsed).toFixed(0)} req/s); settling…`);

// Let expiry alarms fire and Durable Objects mirror their last transitions into D1.
await sleep(25_000);
for (const act of activations) await app.request("GET", `/v1/activation/${act.id}/status`, { key: act.key });
await sleep(3_000);

const q = async (sql, ...binds) => (await app.db.prepare(sql).bind(...binds).all()).results;
const violations = [];
const v = (what, rows) => {
  if (rows.length) violations.push({ what, count: rows.length, sample: rows.slice(0, 5) });
};
v("wallet balance != ledger sum", await q("SELECT w.account_id, w.balance, COALESCE((SELECT SUM(amount) FROM ledger l WHERE l.account_id = w.account_id), 0) AS ledger FROM wallets w WHERE w.balance != COALESCE((SELECT SUM(amount) FROM ledger l WHERE l.account_id = w.account_id), 0)"));
v("negative balance", await q("SELECT account_id, balance FROM wallets WHERE balance < 0"));
v("ledger balance_after chain broken", await q("SELECT l.id FROM ledger l WHERE l.balance_after != (SELECT SUM(amount) FROM ledger m WHERE m.account_id = l.account_id AND m.seq <= l.seq)"));
v("more than one charge or refund per object", await q("SELECT object_id, kind, COUNT(*) AS n FROM ledger WHERE object_id IS NOT NULL GROUP BY object_id, kind HAVING n > 1"));
v("activation without exactly one purchase", await q("SELECT a.id FROM activations a WHERE (SELECT COUNT(*) FROM ledger l WHERE l.object_id = a.id AND l.kind = 'purchase') != 1"));
v("refund without cancelled/expired, or cancelled/expired without refund", await q("SELECT a.id, a.status, (SELECT COUNT(*) FROM ledger l WHERE l.object_id = a.id AND l.kind = 'refund') AS refunds FROM activations a WHERE (a.status IN ('cancelled', 'expired')) != ((SELECT COUNT(*) FROM ledger l WHERE l.object_id = a.id AND l.kind = 'refund') = 1)"));
v("refund amount != purchase amount", await q("SELECT r.object_id FROM ledger r JOIN ledger p ON p.object_id = r.object_id AND p.kind = 'purchase' WHERE r.kind = 'refund' AND r.amount != -p.amount"));
v("activation still live after its expiry", await q("SELECT id, status FROM activations WHERE status IN ('waiting', 'received') AND expires_at < ?", Date.now() - 20_000));
v("number held by two live activations", await q("SELECT number_id, COUNT(*) AS n FROM activations WHERE status IN ('waiting', 'received') GROUP BY number_id HAVING n > 1"));
v("OTP session with more attempts than allowed", await q("SELECT id, attempts, max_attempts FROM otp_sessions WHERE attempts > max_attempts"));
v("OTP session without exactly one charge", await q("SELECT s.id FROM otp_sessions s WHERE s.dialect != 'message' AND (SELECT COUNT(*) FROM ledger l WHERE l.object_id = s.id AND l.kind = 'otp_send') != 1"));
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
  sessionsVerified: verifiedOk.size,
  counts,
  serverErrorSamples: stats.serverErrors,
  violations,
};
console.log(JSON.stringify(report, null, 2));
await app.close();
console.log(violations.length ? `[soak] ${violations.length} invariant(s) VIOLATED` : "[soak] every invariant held");
process.exit(violations.length || serverErrors || stats.networkErrors ? 1 : 0);
