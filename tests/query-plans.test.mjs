// Cost as data grows: every statement the store prepares (read from src/store by
// support/store-sql.mjs) is planned by D1 against the real migrations, and none may read a
// growing table whole. A `SCAN` of a table that grows with use (ledger, activations, OTP
// sessions, messages, outbox, webhook events and attempts, idempotency keys, login
// sessions...) costs time in proportion to all the history of all accounts; the small
// operator-managed tables (catalog, suppliers) may be scanned.
import { test } from "node:test";
import assert from "node:assert/strict";
import { migratedDatabase } from "./support/app.mjs";
import { storeStatements } from "./support/store-sql.mjs";

/** Tables whose size is fixed by the operator, not by traffic. */
const SMALL = new Set([
  "countries", "country_aliases", "services", "operators", "prices", "rent_prices",
  "otp_prices", "suppliers",
]);

/** Statements that walk a growing table in the order of an index and stop at their LIMIT:
 * they read the page, not the table. Each with the reason it stays bounded and the walk its
 * plan must show. */
const WALKS = [
  // The sandbox outbox, newest first, all phones: the newest LIMIT rows of the table.
  [/^SELECT [^;]* FROM outbox WHERE \?1 IS NULL ORDER BY seq DESC LIMIT \?2$/, /^SCAN outbox$/],
  // The admin account list, newest first: steps over the accounts_newest index to its page.
  [
    /SELECT rowid FROM accounts ORDER BY created_at DESC, rowid DESC LIMIT \?1 OFFSET \?2\)/,
    /^SCAN accounts USING COVERING INDEX accounts_newest$/,
  ],
  // The admin list's total: one index entry per account (accounts grow by sign-up, not use).
  [/^SELECT COUNT\(\*\) AS total FROM accounts$/, /^SCAN accounts USING COVERING INDEX \w+$/],
  // Usage-alert crossings not sent yet, oldest first: the partial index holds only those (each
  // scheduled pass sends them and so empties it), walked to its LIMIT.
  [/FROM usage_notices WHERE notified_at IS NULL ORDER BY created_at LIMIT \?1$/, /^SCAN usage_notices USING INDEX usage_notices_pending$/],
];

/** Every table name an alias (or the table's own name) stands for in `sql`. */
function aliases(sql) {
  const map = {};
  for (const m of sql.matchAll(/\b(?:FROM|JOIN|INTO|UPDATE)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?/gi)) {
    map[m[1]] = m[1];
    const alias = m[2];
    if (alias && !/^(WHERE|ON|SET|JOIN|LEFT|INNER|ORDER|GROUP|LIMIT|VALUES|SELECT|USING|UNION)$/i.test(alias)) {
      map[alias] = m[1];
    }
  }
  return map;
}

/** The full scans of growing tables in a plan: `SCAN t` with or without an index, which
 * reads every row of `t` (a `SEARCH` reads only the rows its key selects). */
export function growingScans(sql, plan) {
  const names = aliases(sql);
  return plan
    .map((row) => row.detail.match(/^SCAN (\w+)/))
    .filter(Boolean)
    // A name no FROM/JOIN/INTO/UPDATE names is a subquery's alias (its rows are the
    // subquery's, planned on their own lines), not a table.
    .map((m) => names[m[1]])
    .filter((table) => table && !SMALL.has(table) && !/^\(|^CONSTANT|subquery/i.test(table));
}

const database = () => migratedDatabase("query-plans");

/** `sql`'s plan, its `?N` parameters bound to dummy values. */
async function plan(db, sql) {
  const n = Math.max(0, ...[...sql.matchAll(/\?(\d+)/g)].map((m) => Number(m[1])));
  const args = Array.from({ length: n }, () => "x");
  return (await db.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...args).all()).results;
}

test("the store's statements are all found and every placeholder resolved", () => {
  const statements = storeStatements();
  assert.ok(statements.length > 100, `only ${statements.length} statements found`);
  const unresolved = statements.filter((s) => s.unresolved.length > 0);
  assert.deepEqual(unresolved, [], "teach tests/support/store-sql.mjs these placeholders");
  // The paged lists are among them (expanded from their `Listing`s).
  assert.ok(statements.some((s) => /FROM ledger WHERE account_id = \?1 ORDER BY seq DESC/.test(s.sql)));
});

test("no statement the store prepares scans a growing table", async () => {
  const { mf, db } = await database();
  try {
    const scans = [];
    for (const { file, sql } of storeStatements()) {
      const p = await plan(db, sql);
      const flat = sql.replace(/\s+/g, " ");
      const walk = WALKS.find(([statement]) => statement.test(flat))?.[1];
      const rows = walk ? p.filter((r) => !walk.test(r.detail)) : p;
      const tables = growingScans(sql, rows);
      if (tables.length > 0) scans.push(`${file}: SCAN ${tables.join(", ")} in ${sql.replace(/\s+/g, " ")}`);
    }
    assert.deepEqual(scans, []);
  } finally {
    await mf.dispose();
  }
});

test("the check itself sees a scan of a growing table, through an alias too", async () => {
  const { mf, db } = await database();
  try {
    const bad = "SELECT l.id FROM ledger l WHERE l.description = ?1";
    assert.deepEqual(growingScans(bad, await plan(db, bad)), ["ledger"]);
    const good = "SELECT l.id FROM ledger l WHERE l.account_id = ?1 ORDER BY l.seq DESC LIMIT 5";
    assert.deepEqual(growingScans(good, await plan(db, good)), []);
    const small = "SELECT code FROM countries ORDER BY name";
    assert.deepEqual(growingScans(small, await plan(db, small)), []);
  } finally {
    await mf.dispose();
  }
});

test("the list totals kept in list_counts follow inserts and deletes, per account", async () => {
  const { mf, db } = await database();
  try {
    await db.batch([
      db.prepare("INSERT INTO accounts (id, name, status, created_at) VALUES ('a1', 'A', 'active', 1), ('a2', 'B', 'active', 2)"),
      db.prepare("INSERT INTO wallets (account_id, balance, currency, updated_at) VALUES ('a1', 100, 'USD', 1), ('a2', 100, 'USD', 1)"),
    ]);
    const ledger = (id, account) =>
      db.prepare(
        "INSERT INTO ledger (id, account_id, kind, amount, balance_after, description, created_at) " +
          "VALUES (?1, ?2, 'topup', 5, 105, 'top-up', 3)",
      ).bind(id, account);
    await db.batch([ledger("t1", "a1"), ledger("t2", "a1"), ledger("t3", "a2")]);
    await db.prepare("DELETE FROM ledger WHERE id = 't1'").run();
    const totals = (await db.prepare("SELECT account_id, list, n FROM list_counts ORDER BY account_id").all()).results;
    assert.deepEqual(totals, [
      { account_id: "a1", list: "ledger", n: 1 },
      { account_id: "a2", list: "ledger", n: 1 },
    ]);
    // A refused insert (its batch rolled back) counts nothing.
    await assert.rejects(db.batch([ledger("t4", "a1"), ledger("t4", "a1")]));
    const a1 = await db.prepare("SELECT n FROM list_counts WHERE account_id = 'a1'").first("n");
    assert.equal(a1, 1);
  } finally {
    await mf.dispose();
  }
});
