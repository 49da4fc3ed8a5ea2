// `npm run bench -- --scale` (or `node bench/scale.mjs [--ledger N]`): cost as data grows.
// Loads a large history into D1 (Miniflare, the real migrations) in bulk with recursive CTEs,
// in the shapes the store writes: 1,000 accounts, one of them with N ledger rows (default
// 1,000,000), N/5 activations and N OTP sessions. Then times the store's own read statements
// (taken from src/store by tests/support/store-sql.mjs) on that account and on a fresh one,
// the statistics over its last 30 days among them,
// and prints the database size per row kind. D1 only: the Worker's own time per request is
// the same for both accounts and is measured by `npm run bench`.
import { performance } from "node:perf_hooks";
import { migratedDatabase } from "../tests/support/app.mjs";
import { storeStatements } from "../tests/support/store-sql.mjs";

const argv = process.argv.slice(2);
const at = argv.indexOf("--ledger");
const LEDGER = at >= 0 ? Number(argv[at + 1]) : 1_000_000;
const ACTIVATIONS = Math.floor(LEDGER / 5);
const SESSIONS = LEDGER;
const BIG = "acc_big";
const FRESH = "acc_fresh";
const NOW = Date.UTC(2026, 0, 1);
const YEAR_MS = 365 * 24 * 3600 * 1000;

const { mf, db } = await migratedDatabase("scale");

const size = async () => (await db.prepare("SELECT 1").run()).meta.size_after;
const sizes = {};
async function load(label, sql, ...args) {
  const before = await size();
  const t = performance.now();
  await db.prepare(sql).bind(...args).run();
  sizes[label] = { bytes: (await size()) - before, seconds: (performance.now() - t) / 1000 };
}
const seq = (n) => `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n})`;

// Accounts and wallets, as sign-up writes them.
await load("accounts", `${seq(1000)} INSERT INTO accounts (id, name, status, created_at, email)
  SELECT CASE i WHEN 1 THEN '${BIG}' WHEN 2 THEN '${FRESH}' ELSE 'acc_' || i END,
    'Account ' || i, 'active', ${NOW} - i * 60000, 'user' || i || '@example.com' FROM s`);
await db.prepare(`INSERT INTO wallets (account_id, balance, currency, updated_at)
  SELECT id, 100000000, 'USD', ${NOW} FROM accounts`).run();
// One API key each for the two accounts measured (the balance reads through the key).
const HASH = { big: "b".repeat(64), fresh: "f".repeat(64) };
await db.prepare(`INSERT INTO api_keys (id, account_id, key_hash, prefix, created_at)
  VALUES ('key_big', '${BIG}', '${HASH.big}', 'k', ${NOW}), ('key_fresh', '${FRESH}', '${HASH.fresh}', 'k', ${NOW})`).run();
await db.prepare(`INSERT INTO countries (code, name) VALUES ('GB', 'United Kingdom')`).run();
await db.prepare(`INSERT INTO operators (country, id, name) VALUES ('GB', 'any', 'Any')`).run();
// A catalog of 50 services; each number is sold once per service (the unique index on
// activations(number_id, service)), so the activations spread over ACTIVATIONS / 50 numbers.
const SERVICES = 50;
const NUMBERS = Math.ceil(ACTIVATIONS / SERVICES);
await db.prepare(`INSERT INTO services (code, name) SELECT 'svc' || i, 'S' || i FROM (${seq(SERVICES)} SELECT i FROM s)`).run();
await db.prepare(`INSERT INTO suppliers (id, name, secret_version, created_at) VALUES ('sup', 'S', 1, 0)`).run();
await db.prepare(`INSERT INTO numbers (id, number, country, operator, supplier_id, created_at)
  SELECT 'num_' || i, '+4477' || (10000000 + i), 'GB', 'any', 'sup', 0 FROM (${seq(NUMBERS)} SELECT i FROM s)`).run();
// One year of history on the large account, spread evenly, newest last.
const step = (n) => Math.floor(YEAR_MS / n);
await load("ledger", `${seq(LEDGER)} INSERT INTO ledger (id, account_id, kind, amount,
  balance_after, reference, object_id, description, created_at)
  SELECT 'tx_' || lower(hex(randomblob(10))), '${BIG}', 'otp_send', -500, 100000000,
    NULL, 'otp_' || lower(hex(randomblob(10))), 'otp send sms +44770090' || (i % 10000),
    ${NOW - YEAR_MS} + i * ${step(LEDGER)} FROM s`);
await load("activations", `${seq(ACTIVATIONS)} INSERT INTO activations (id, account_id,
  number_id, number, country, service, operator, cost, status, created_at, cancel_allowed_at,
  expires_at, updated_at)
  SELECT 'act_' || lower(hex(randomblob(10))), '${BIG}', 'num_' || ((i - 1) / ${SERVICES} + 1),
    '+4477' || (10000000 + (i - 1) / ${SERVICES} + 1), 'GB', 'svc' || ((i - 1) % ${SERVICES} + 1), 'any', 2500, 'complete', ${NOW - YEAR_MS} + i * ${step(ACTIVATIONS)},
    ${NOW - YEAR_MS} + i * ${step(ACTIVATIONS)} + 120000,
    ${NOW - YEAR_MS} + i * ${step(ACTIVATIONS)} + 1200000, ${NOW} FROM s`);
await load("otp_sessions", `${seq(SESSIONS)} INSERT INTO otp_sessions (id, account_id, phone,
  channel, dialect, sender, template_id, payload, cost, created_at, expires_at, attempts,
  max_attempts, verified_at, send_allowed)
  SELECT 'otp_' || lower(hex(randomblob(10))), '${BIG}', '+4477009' || (i % 100000), 'sms',
    'whatotp', NULL, NULL, NULL, 500, ${NOW - YEAR_MS} + i * ${step(SESSIONS)},
    ${NOW - YEAR_MS} + i * ${step(SESSIONS)} + 300000, 1, 5,
    ${NOW - YEAR_MS} + i * ${step(SESSIONS)} + 30000, 1 FROM s`);

// The totals the triggers kept agree with the rows.
for (const table of ["ledger", "activations", "otp_sessions"]) {
  const kept = await db.prepare("SELECT n FROM list_counts WHERE account_id = ?1 AND list = ?2").bind(BIG, table).first("n");
  const counted = await db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE account_id = ?1`).bind(BIG).first("n");
  if (kept !== counted) throw new Error(`list_counts ${table}: ${kept} kept, ${counted} rows`);
}

// The statistics rollups the triggers kept agree with the rows (every send, every order).
const rolled = await db.prepare("SELECT (SELECT SUM(sends) FROM otp_stats WHERE account_id = ?1) AS sends, (SELECT SUM(orders) FROM activation_stats WHERE account_id = ?1) AS orders").bind(BIG).first();
if (rolled.sends !== SESSIONS || rolled.orders !== ACTIVATIONS) throw new Error(`rollups: ${JSON.stringify(rolled)}`);
const DAY_MS = 24 * 3600 * 1000;
const day = (ms) => new Date(ms).toISOString().slice(0, 10);

// The store's statements, by what they do.
const all = storeStatements().map((s) => s.sql.replace(/\s+/g, " "));
const find = (re) => {
  const found = all.find((s) => re.test(s));
  if (!found) throw new Error(`no store statement matches ${re}`);
  return found;
};
const page = (table) => find(new RegExp(`FROM ${table} WHERE account_id = \\?1 ORDER BY .* LIMIT \\?2 OFFSET \\?3\\)`));
const count = () => find(/^SELECT COALESCE\(\(SELECT n FROM list_counts/);
// Keyset pages: the rows after a row (`after=`), the check that it is the account's, the total.
const keyset = (table) => find(new RegExp(`FROM ${table} WHERE account_id = \\?1 AND \\(\\w.*\\) < \\(SELECT`));
const known = (table) => find(new RegExp(`^SELECT COUNT\\(\\*\\) AS n FROM ${table} WHERE id = \\?2 AND account_id = \\?1$`));
// The row a client 1,000 pages deep would hold as its cursor (the oldest row on a fresh account).
const cursors = {};
for (const a of [BIG, FRESH]) {
  for (const [table, order] of [["ledger", "seq DESC"], ["activations", "created_at DESC, id DESC"]]) {
    const n = (await db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE account_id = ?1`).bind(a).first()).n;
    const row = await db.prepare(`SELECT id FROM ${table} WHERE account_id = ?1 ORDER BY ${order} LIMIT 1 OFFSET ?2`).bind(a, Math.max(0, Math.min(19999, n - 1))).first();
    cursors[`${a}/${table}`] = row?.id ?? "none";
  }
}
const afterRow = (table) => [[keyset(table), known(table), count()], (a) => [[a, cursors[`${a}/${table}`], 20], [a, cursors[`${a}/${table}`]], [a, table]]];
const cases = [
  ["balance (key check + wallet)", find(/^SELECT w\.account_id AS account_id, w\.balance AS balance/), (a) => [a === BIG ? HASH.big : HASH.fresh]],
  ["ledger page 1 (rows + total)", [page("ledger"), count()], (a) => [[a, 20, 0], [a, "ledger"]]],
  ["ledger page 1,000", [page("ledger"), count()], (a) => [[a, 20, 19980], [a, "ledger"]]],
  ["activations page 1 (rows + total)", [page("activations"), count()], (a) => [[a, 20, 0], [a, "activations"]]],
  ["activations page 1,000", [page("activations"), count()], (a) => [[a, 20, 19980], [a, "activations"]]],
  ["ledger by keyset, after row 20,000", ...afterRow("ledger")],
  ["activations by keyset, after row 20,000", ...afterRow("activations")],
  ["send: per-phone rate window", find(/^SELECT created_at FROM otp_sessions WHERE account_id = \?1 AND phone = \?2/), (a) => [a, "+447700912345", NOW - 3600000]],
  ["verify: session by id", find(/FROM otp_sessions WHERE id = \?1 AND account_id = \?2$/), (a) => [`otp_x`, a]],
  ["admin account search", find(/FROM accounts a JOIN wallets w .* LIMIT \?1 OFFSET \?2/), () => [20, 0]],
  // The statistics over the last 30 days, from the rollups the triggers kept while loading.
  ["stats: OTP, 30 days by day", find(/^SELECT day AS key, SUM\(sends\) .* FROM otp_stats WHERE account_id = \?1 AND day BETWEEN/), (a) => [a, day(NOW - 29 * DAY_MS), day(NOW)]],
  ["stats: OTP, 30 days by country", find(/^SELECT country AS key, SUM\(sends\) .* FROM otp_stats WHERE account_id = \?1 AND day BETWEEN/), (a) => [a, day(NOW - 29 * DAY_MS), day(NOW)]],
  ["stats: activations, 30 days by service", find(/^SELECT service AS key, SUM\(orders\) .* FROM activation_stats WHERE account_id = \?1 AND day BETWEEN/), (a) => [a, day(NOW - 29 * DAY_MS), day(NOW)]],
];

/** Fastest of `n` runs of a statement (or a batch), in ms: on a shared machine the
 * fastest run is the statement's own cost, the others add other processes' time. */
async function time(sql, args, n = 25) {
  const run = () => (Array.isArray(sql)
    ? db.batch(sql.map((s, i) => db.prepare(s).bind(...args[i])))
    : db.prepare(sql).bind(...args).all());
  await run();
  const t = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await run();
    t.push(performance.now() - s);
  }
  return Math.min(...t);
}

console.log(`# scale: 1,000 accounts; ${BIG}: ${LEDGER} ledger rows, ${ACTIVATIONS} activations, ${SESSIONS} OTP sessions\n`);
console.log("| load | rows | seconds | bytes/row |\n|---|---:|---:|---:|");
for (const [label, n] of [["ledger", LEDGER], ["activations", ACTIVATIONS], ["otp_sessions", SESSIONS]]) {
  const s = sizes[label];
  console.log(`| ${label} | ${n} | ${s.seconds.toFixed(1)} | ${Math.round(s.bytes / n)} |`);
}
console.log("\n| D1 statement (fastest of 25) | large ms | fresh ms | ratio |\n|---|---:|---:|---:|");
for (const [label, sql, args] of cases) {
  const big = await time(sql, args(BIG));
  const fresh = await time(sql, args(FRESH));
  console.log(`| ${label} | ${big.toFixed(2)} | ${fresh.toFixed(2)} | ${(big / fresh).toFixed(2)} |`);
}
console.log(`\ndatabase size: ${((await size()) / 1e6).toFixed(1)} MB`);
await mf.dispose();
