// Foundation: auth and keys, wallet and ledger, idempotency, pagination, rate limits, errors.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { spawnApp, awayFromWindowEdge } from "./support/app.mjs";

/** Asserts GetOTP's house envelope with the given status and code. */
function assertHouseError(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body.errors.length, 1, r.text);
  const e = r.body.errors[0];
  assert.equal(e.status, status);
  assert.equal(e.code, code);
  assert.equal(typeof e.message, "string");
  assert.ok(e.message.length > 0);
  assert.match(e.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.equal(typeof e.path, "string");
  assert.equal(typeof e.method, "string");
}

/** Asserts NumberOTP's envelope with the given status and code. */
function assertNumberOtpError(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body.success, false, r.text);
  assert.equal(r.body.code, code);
  assert.equal(typeof r.body.error, "string");
}

describe("foundation", () => {
  let app;
  before(async () => {
    app = await spawnApp();
  });
  after(() => app.close());

  describe("API keys", () => {
    test("a new account's key reads its 0 balance; the key is 32 alphanumerics", async () => {
      const a = await app.createAccount("fresh");
      assert.match(a.key, /^[A-Za-z0-9]{32}$/);
      const r = await app.request("GET", "/v1/balance", { key: a.key });
      assert.equal(r.status, 200);
      assert.equal(r.text, '{"balance":0.0,"currency":"USD"}');
      // Only the hash is stored.
      const stored = await app.db.prepare("SELECT key_hash FROM api_keys WHERE id = ?").bind(a.keyId).first();
      assert.match(stored.key_hash, /^[0-9a-f]{64}$/);
      const plain = await app.db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE key_hash = ? OR prefix = ?").bind(a.key, a.key).first();
      assert.equal(plain.n, 0);
    });

    test("missing, malformed, unknown and revoked keys → 401 in each dialect's envelope", async () => {
      const a = await app.createAccount("revokee", "1.00");
      const extra = await app.request("POST", `/admin/accounts/${a.accountId}/keys`, { admin: true });
      assert.equal(extra.status, 201);
      assert.equal((await app.request("GET", "/v1/balance", { key: extra.body.api_key })).status, 200);
      const revoke = await app.request("DELETE", `/admin/keys/${extra.body.key_id}`, { admin: true });
      assert.equal(revoke.status, 200);
      assert.deepEqual(revoke.body, { key_id: extra.body.key_id, revoked: true });

      const cases = {
        missing: {},
        malformed: { headers: { Authorization: "Bearer not-a-key" } },
        "wrong scheme": { headers: { Authorization: `Token ${a.key}` } },
        unknown: { key: "A".repeat(32) },
        revoked: { key: extra.body.api_key },
      };
      for (const [name, opts] of Object.entries(cases)) {
        const house = await app.request("GET", "/v1/balance", opts);
        assertHouseError(house, 401, "1136");
        assert.equal(house.body.errors[0].message, "User Not Authorized", name);
        assert.equal(house.body.errors[0].path, "/v1/balance");
        assert.equal(house.body.errors[0].method, "GET");
        assertNumberOtpError(await app.request("GET", "/api/internal/balance", opts), 401, "1136");
        assertNumberOtpError(await app.request("GET", "/api/internal/transactions", opts), 401, "1136");
        assertNumberOtpError(await app.request("GET", "/api/user/profile", opts), 401, "1136");
      }
      // The account's first key still works: revocation is per key.
      assert.equal((await app.request("GET", "/v1/balance", { key: a.key })).status, 200);
    });

    test("a key in the query string is ignored", async () => {
      const a = await app.createAccount("query");
      for (const q of ["api_key", "key", "apiKey", "token"]) {
        assertHouseError(await app.request("GET", `/v1/balance?${q}=${a.key}`), 401, "1136");
      }
    });

    test("revoking an unknown key → 404; revoking twice is harmless", async () => {
      assertHouseError(await app.request("DELETE", "/admin/keys/key_nope", { admin: true }), 404, "2008");
      const a = await app.createAccount("twice");
      assert.equal((await app.request("DELETE", `/admin/keys/${a.keyId}`, { admin: true })).status, 200);
      assert.equal((await app.request("DELETE", `/admin/keys/${a.keyId}`, { admin: true })).status, 200);
      assertHouseError(await app.request("GET", "/v1/balance", { key: a.key }), 401, "1136");
    });

    test("admin routes need the admin token, not an API key", async () => {
      const a = await app.createAccount("not-admin");
      assertHouseError(await app.request("POST", "/admin/accounts", { body: { name: "x" } }), 401, "1136");
      assertHouseError(await app.request("POST", "/admin/accounts", { key: a.key, body: { name: "x" } }), 401, "1136");
      assertHouseError(await app.request("POST", "/admin/accounts", { headers: { Authorization: `Bearer ${app.adminToken}x` }, body: { name: "x" } }), 401, "1136");
      assertHouseError(await app.request("POST", "/admin/accounts/nope/keys", { admin: true }), 404, "2008");
    });
  });

  describe("isolation between accounts", () => {
    test("account A sees only its own balance, transactions and profile", async () => {
      const a = await app.createAccount("A", "3.00");
      const b = await app.createAccount("B", "7.50");
      assert.deepEqual((await app.request("GET", "/v1/balance", { key: a.key })).body, { balance: 3, currency: "USD" });
      assert.deepEqual((await app.request("GET", "/v1/balance", { key: b.key })).body, { balance: 7.5, currency: "USD" });
      const ta = await app.request("GET", "/api/internal/transactions", { key: a.key });
      assert.equal(ta.body.pagination.total, 1);
      assert.equal(ta.body.data[0].amount, 3);
      const pa = await app.request("GET", "/api/user/profile", { key: a.key });
      assert.equal(pa.body.data.id, a.accountId);
      assert.equal(pa.body.data.name, "A");
      const bb = await app.request("GET", "/api/internal/balance", { key: b.key });
      assert.deepEqual(bb.body, { success: true, balance: 7.5, credits: 750, freeCreditsUsed: 0, isApproved: true, currency: "USD", source: "api" });
    });
  });

  describe("wallet and ledger", () => {
    test("top-up with the same reference twice → one ledger row, the same response", async () => {
      const a = await app.createAccount("topup");
      const body = { amount: "12.3456", reference: "wire-001" };
      const first = await app.request("POST", `/admin/accounts/${a.accountId}/topup`, { admin: true, body });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.balance, "12.3456");
      assert.equal(first.body.amount, "12.3456");
      const second = await app.request("POST", `/admin/accounts/${a.accountId}/topup`, { admin: true, body });
      assert.equal(second.status, 200);
      assert.equal(second.text, first.text);
      assert.deepEqual(await app.money(a.accountId), { balance: 123456, ledgerSum: 123456, ledgerRows: 1 });
      // Same reference, another amount: refused, nothing added.
      const other = await app.request("POST", `/admin/accounts/${a.accountId}/topup`, { admin: true, body: { amount: "1", reference: "wire-001" } });
      assertHouseError(other, 409, "2013");
      assert.deepEqual(await app.money(a.accountId), { balance: 123456, ledgerSum: 123456, ledgerRows: 1 });
    });

    test("20 concurrent top-ups with distinct references → balance equals the ledger sum", async () => {
      const a = await app.createAccount("parallel");
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => app.request("POST", `/admin/accounts/${a.accountId}/topup`, { admin: true, body: { amount: "0.0075", reference: `p-${i}` } })),
      );
      assert.deepEqual(results.map((r) => r.status), Array(20).fill(200));
      assert.deepEqual(await app.money(a.accountId), { balance: 1500, ledgerSum: 1500, ledgerRows: 20 });
      // Each row's balance_after is a distinct running total: the updates were serialized.
      const { results: rows } = await app.db.prepare("SELECT balance_after FROM ledger WHERE account_id = ? ORDER BY seq").bind(a.accountId).all();
      assert.deepEqual(rows.map((r) => r.balance_after), Array.from({ length: 20 }, (_, i) => 75 * (i + 1)));
    });

    test("10 concurrent top-ups with the same reference → one ledger row, identical answers", async () => {
      const a = await app.createAccount("same-ref");
      const results = await Promise.all(
        Array.from({ length: 10 }, () => app.request("POST", `/admin/accounts/${a.accountId}/topup`, { admin: true, body: { amount: "5", reference: "dup" } })),
      );
      assert.deepEqual(results.map((r) => r.status), Array(10).fill(200));
      assert.equal(new Set(results.map((r) => r.text)).size, 1);
      assert.deepEqual(await app.money(a.accountId), { balance: 50000, ledgerSum: 50000, ledgerRows: 1 });
    });

    test("the schema refuses a negative balance and a ledger row without a wallet", async () => {
      const a = await app.createAccount("schema", "1.00");
      await assert.rejects(app.db.prepare("UPDATE wallets SET balance = -1 WHERE account_id = ?").bind(a.accountId).run(), /CHECK constraint failed/);
      await assert.rejects(
        app.db.prepare("INSERT INTO ledger (id, account_id, kind, amount, balance_after, description, created_at) VALUES ('t', ?, 'purchase', 100, 0, 'x', 'now')").bind(a.accountId).run(),
        /CHECK constraint failed/,
      );
      assert.deepEqual(await app.money(a.accountId), { balance: 10000, ledgerSum: 10000, ledgerRows: 1 });
    });
  });

  describe("Idempotency-Key", () => {
    test("same key and body replays; same key with another body → 422; a bad key → 400", async () => {
      const a = await app.createAccount("idem");
      const url = `/admin/accounts/${a.accountId}/topup`;
      const headers = { "Idempotency-Key": "order-42" };
      const first = await app.request("POST", url, { admin: true, headers, body: { amount: "2", reference: "i-1" } });
      assert.equal(first.status, 200);
      assert.equal(first.headers.get("idempotent-replayed"), null);
      const replay = await app.request("POST", url, { admin: true, headers, body: { amount: "2", reference: "i-1" } });
      assert.equal(replay.status, 200);
      assert.equal(replay.text, first.text);
      assert.equal(replay.headers.get("idempotent-replayed"), "true");
      const mismatch = await app.request("POST", url, { admin: true, headers, body: { amount: "3", reference: "i-2" } });
      assertHouseError(mismatch, 422, "2009");
      assertHouseError(await app.request("POST", url, { admin: true, headers: { "Idempotency-Key": "x".repeat(256) }, body: { amount: "3", reference: "i-3" } }), 400, "2011");
      assert.deepEqual(await app.money(a.accountId), { balance: 20000, ledgerSum: 20000, ledgerRows: 1 });
    });

    test("a key whose first request is still running → 409", async () => {
      const a = await app.createAccount("idem-running");
      const path = `/admin/accounts/${a.accountId}/topup`;
      const raw = JSON.stringify({ amount: "2", reference: "running" });
      // A claimed key with no stored answer yet is what a request in flight leaves behind.
      const fingerprint = createHash("sha256").update(`POST ${path}\n${raw}`).digest("hex");
      await app.db.prepare("INSERT INTO idempotency (scope, idem_key, fingerprint, created_at) VALUES ('admin', 'in-flight', ?, ?)").bind(fingerprint, Date.now()).run();
      const r = await app.request("POST", path, { admin: true, headers: { "Idempotency-Key": "in-flight", "Content-Type": "application/json" }, raw });
      assertHouseError(r, 409, "2010");
      assert.deepEqual(await app.money(a.accountId), { balance: 0, ledgerSum: 0, ledgerRows: 0 });
    });

    test("a request that failed releases its key for a retry", async () => {
      const a = await app.createAccount("idem-retry");
      const headers = { "Idempotency-Key": "retry-me" };
      const bad = await app.request("POST", `/admin/accounts/nope/topup`, { admin: true, headers, body: { amount: "2", reference: "r" } });
      assertHouseError(bad, 404, "2008");
      const ok = await app.request("POST", `/admin/accounts/${a.accountId}/topup`, { admin: true, headers: { "Idempotency-Key": "retry-me-2" }, body: { amount: "2", reference: "r" } });
      assert.equal(ok.status, 200);
      // The failed request's key is free again: the same request now runs (and 404s again, not 409).
      assertHouseError(await app.request("POST", `/admin/accounts/nope/topup`, { admin: true, headers, body: { amount: "2", reference: "r" } }), 404, "2008");
    });
  });

  describe("transactions pagination", () => {
    let acct;
    before(async () => {
      acct = await app.createAccount("pages");
      for (let i = 1; i <= 25; i++) {
        const r = await app.request("POST", `/admin/accounts/${acct.accountId}/topup`, { admin: true, body: { amount: `0.${String(i).padStart(2, "0")}`, reference: `pg-${i}` } });
        assert.equal(r.status, 200);
      }
    });

    test("defaults to page 1 of 20, newest first, with the total", async () => {
      const r = await app.request("GET", "/api/internal/transactions", { key: acct.key });
      assert.equal(r.status, 200);
      assert.equal(r.body.success, true);
      assert.equal(r.body.data.length, 20);
      assert.deepEqual(r.body.pagination, { page: 1, limit: 20, total: 25, totalPages: 2, nextCursor: r.body.data[19].id });
      assert.deepEqual(r.body.data.slice(0, 3).map((t) => t.reference), ["pg-25", "pg-24", "pg-23"]);
      assert.equal(r.body.data[0].type, "topup");
      assert.equal(r.body.data[0].amount, 0.25);
      assert.equal(r.body.data[0].balanceAfter, 3.25);
    });

    test("page 2 holds the rest; a page past the end is empty", async () => {
      const r = await app.request("GET", "/api/internal/transactions?page=2&limit=20", { key: acct.key });
      assert.deepEqual(r.body.data.map((t) => t.reference), ["pg-5", "pg-4", "pg-3", "pg-2", "pg-1"]);
      const past = await app.request("GET", "/api/internal/transactions?page=9&limit=100", { key: acct.key });
      assert.equal(past.status, 200);
      assert.deepEqual(past.body.data, []);
      const small = await app.request("GET", "/api/internal/transactions?page=3&limit=10", { key: acct.key });
      assert.equal(small.body.data.length, 5);
    });

    test("after= walks the ledger by keyset: the same rows as the pages, not shifted by newer rows", async () => {
      const own = await app.createAccount("pages-walk");
      const topup = async (i) => {
        const r = await app.request("POST", `/admin/accounts/${own.accountId}/topup`, { admin: true, body: { amount: `0.${String(i).padStart(2, "0")}`, reference: `w-${i}` } });
        assert.equal(r.status, 200);
      };
      for (let i = 1; i <= 12; i++) await topup(i);
      const walk = async (query) => (await app.request("GET", `/api/internal/transactions?${query}`, { key: own.key })).body;
      const byPage = [];
      for (let n = 1; n <= 3; n++) byPage.push(...(await walk(`page=${n}&limit=5`)).data.map((t) => t.id));
      const first = await walk("limit=5");
      assert.equal(first.pagination.nextCursor, first.data[4].id);
      // A newer row lands on top between two reads: page 2 would shift by one, the cursor does not.
      await topup(13);
      const second = await walk(`after=${first.pagination.nextCursor}&limit=5`);
      assert.deepEqual(second.pagination, { page: null, limit: 5, total: 13, totalPages: 3, nextCursor: second.data[4].id });
      const third = await walk(`after=${second.pagination.nextCursor}&limit=5`);
      assert.equal(third.pagination.nextCursor, null);
      assert.deepEqual([...first.data, ...second.data, ...third.data].map((t) => t.id), byPage);
      assert.deepEqual(third.data.map((t) => t.reference), ["w-2", "w-1"]);
    });

    test("after= naming no row of this account's ledger → 404; empty or malformed → 400; it replaces page=", async () => {
      const other = await app.createAccount("pages-other");
      const t = await app.request("POST", `/admin/accounts/${other.accountId}/topup`, { admin: true, body: { amount: "1", reference: "o-1" } });
      assert.equal(t.status, 200);
      const theirs = (await app.request("GET", "/api/internal/transactions", { key: other.key })).body.data[0].id;
      const mine = (await app.request("GET", "/api/internal/transactions", { key: acct.key })).body.data[0].id;
      for (const q of [`after=${theirs}`, "after=txn_nope"]) {
        assertNumberOtpError(await app.request("GET", `/api/internal/transactions?${q}`, { key: acct.key }), 404, "2008");
      }
      for (const q of ["after=", "after=a%20b", `after=${"x".repeat(65)}`]) {
        assertNumberOtpError(await app.request("GET", `/api/internal/transactions?${q}`, { key: acct.key }), 400, "2015");
      }
      const plain = await app.request("GET", `/api/internal/transactions?after=${mine}&limit=3`, { key: acct.key });
      const withPage = await app.request("GET", `/api/internal/transactions?after=${mine}&limit=3&page=5`, { key: acct.key });
      assert.equal(withPage.status, 200);
      assert.deepEqual(withPage.body, plain.body);
      assert.equal(plain.body.data.length, 3);
    });

    test("limit 101, limit 0, page 0 and junk → 400 in NumberOTP's envelope (not clamped)", async () => {
      for (const q of ["limit=101", "limit=0", "page=0", "page=-1", "limit=abc", "page=1.5"]) {
        assertNumberOtpError(await app.request("GET", `/api/internal/transactions?${q}`, { key: acct.key }), 400, "2015");
      }
      assert.equal((await app.request("GET", "/api/internal/transactions?limit=100", { key: acct.key })).body.data.length, 25);
    });
  });

  describe("errors and bad input", () => {
    test("unknown route → 404 and wrong method → 405 with Allow, in the path's envelope", async () => {
      const a = await app.createAccount("routes");
      assertHouseError(await app.request("GET", "/v1/nope", { key: a.key }), 404, "2001");
      // "/" is the dashboard (Workers static assets); any other unknown path is the Worker's 404.
      assertHouseError(await app.request("GET", "/nope"), 404, "2001");
      assertNumberOtpError(await app.request("GET", "/api/internal/nope", { key: a.key }), 404, "2001");
      const wrong = await app.request("DELETE", "/v1/balance", { key: a.key });
      assertHouseError(wrong, 405, "2002");
      assert.equal(wrong.headers.get("allow"), "GET");
      assertNumberOtpError(await app.request("PUT", "/api/internal/transactions", { key: a.key }), 405, "2002");
    });

    test("bad top-up bodies → the documented 4xx, and the wallet is unchanged", async () => {
      const a = await app.createAccount("bad-input", "1.00");
      const url = `/admin/accounts/${a.accountId}/topup`;
      const cases = [
        [{ raw: "{not json", headers: { "Content-Type": "application/json" } }, 400, "2003"],
        [{ raw: "", headers: { "Content-Type": "application/json" } }, 400, "2003"],
        [{ raw: "[1,2", headers: { "Content-Type": "application/json" } }, 400, "2003"],
        // A body that does not say it is JSON is not read as JSON (415).
        [{ raw: '{"amount":"1","reference":"text"}', headers: { "Content-Type": "text/plain" } }, 415, "2016"],
        [{ body: { amount: "5" } }, 400, "2004"],
        [{ body: { reference: "x" } }, 400, "2004"],
        [{ body: { amount: "5", reference: 7 } }, 400, "2004"],
        [{ body: [] }, 400, "2004"],
        // An array is never read by position as the object's fields.
        [{ body: ["2.00", "ref", null] }, 400, "2004"],
        [{ raw: '{"amount":"1","amount":"50","reference":"dup-key"}', headers: { "Content-Type": "application/json" } }, 400, "2003"],
        [{ body: { amount: true, reference: "x" } }, 400, "2014"],
        [{ body: { amount: "-5", reference: "x" } }, 400, "2014"],
        [{ body: { amount: "0", reference: "x" } }, 400, "2014"],
        [{ body: { amount: "1.00001", reference: "x" } }, 400, "2014"],
        [{ body: { amount: "1e3", reference: "x" } }, 400, "2014"],
        [{ body: { amount: "99999999", reference: "x" } }, 400, "2014"],
        [{ body: { amount: "1", reference: "" } }, 400, "2004"],
        [{ body: { amount: "1", reference: "r".repeat(300) } }, 400, "2004"],
        [{ raw: JSON.stringify({ amount: "1", reference: "big", pad: "x".repeat(70 * 1024) }) }, 413, "2005"],
      ];
      for (const [opts, status, code] of cases) {
        const r = await app.request("POST", url, { admin: true, ...opts });
        assertHouseError(r, status, code);
        assert.ok(!/panick|unwrap|RuntimeError/i.test(r.text), r.text);
      }
      assert.deepEqual(await app.money(a.accountId), { balance: 10000, ledgerSum: 10000, ledgerRows: 1 });
      // The worker is still healthy after all of that.
      assert.equal((await app.request("GET", "/healthz")).status, 200);
    });

    test("a body without Content-Length (chunked) is read with the same 64 KiB cap and parsed", { timeout: 30_000 }, async () => {
      const a = await app.createAccount("chunked", "1.00");
      /** A request through a real socket, its body sent chunked; `end`: close the body. */
      const chunked = (chunks, end = true) =>
        new Promise((resolve, reject) => {
          const url = new URL(`/admin/accounts/${a.accountId}/topup`, app.url);
          const req = http.request(url, { method: "POST", headers: { Authorization: `Bearer ${app.adminToken}`, "Content-Type": "application/json" } }, (res) => {
            let text = "";
            res.on("data", (c) => (text += c));
            res.on("end", () => {
              req.destroy();
              resolve({ status: res.statusCode, text, chunked: req.getHeader("content-length") === undefined });
            });
          });
          req.on("error", reject);
          for (const c of chunks) req.write(c);
          if (end) req.end();
        });
      const ok = await chunked(['{"amount":"2.00",', '"reference":"chunked-1"}']);
      assert.equal(ok.status, 200, ok.text);
      assert.ok(ok.chunked);
      assert.equal((await app.money(a.accountId)).balance, 30_000);
      // Past 64 KiB, with the body still open: refused as soon as that much arrived.
      const big = await chunked(['{"amount":"1","reference":"big","pad":"', "x".repeat(40 * 1024), "x".repeat(40 * 1024)], false);
      assert.equal(big.status, 413, big.text);
      assert.equal(JSON.parse(big.text).errors[0].code, "2005");
      assert.equal((await app.money(a.accountId)).balance, 30_000);
    });

    test("bad account bodies → 4xx; nothing is created", async () => {
      const before = await app.db.prepare("SELECT COUNT(*) AS n FROM accounts").first();
      for (const body of [{}, { name: "" }, { name: 5 }, { name: "   " }]) {
        const r = await app.request("POST", "/admin/accounts", { admin: true, body });
        assertHouseError(r, 400, "2004");
      }
      const after = await app.db.prepare("SELECT COUNT(*) AS n FROM accounts").first();
      assert.equal(after.n, before.n);
    });
  });
});

describe("rate limits", () => {
  let app;
  before(async () => {
    app = await spawnApp({ vars: { RATE_LIMIT_PRODUCT: "5", RATE_LIMIT_PUBLIC: "3", RATE_LIMIT_AUTH: "2" } });
  });
  after(() => app.close());

  test("the product limit counts down per key, then 429 with Retry-After; another key is unaffected", async () => {
    const a = await app.createAccount("rl-a", "1.00");
    const b = await app.createAccount("rl-b", "1.00");
    await awayFromWindowEdge();
    const remaining = [];
    for (let i = 0; i < 5; i++) {
      const r = await app.request("GET", "/v1/balance", { key: a.key });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("x-ratelimit-limit"), "5");
      remaining.push(Number(r.headers.get("x-ratelimit-remaining")));
      const reset = Number(r.headers.get("x-ratelimit-reset"));
      assert.equal(reset % 60, 0);
      assert.ok(reset > Date.now() / 1000 && reset <= Date.now() / 1000 + 60);
    }
    assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
    const limited = await app.request("GET", "/v1/balance", { key: a.key });
    assertHouseError(limited, 429, "2006");
    const retryAfter = Number(limited.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(limited.headers.get("x-ratelimit-remaining"), "0");
    // NumberOTP's account routes are in the product group too and answer in their envelope.
    // They are another Worker's (src/http/parts.rs), which counts the group in its own memory
    // (and KV), as another isolate of one Worker does: its own 5, then 429.
    let numberOtp;
    let n = 0;
    do numberOtp = await app.request("GET", "/api/internal/balance", { key: a.key });
    while (numberOtp.status === 200 && ++n < 6);
    assert.equal(n, 5);
    assertNumberOtpError(numberOtp, 429, "2006");
    // Another key has its own counter.
    const other = await app.request("GET", "/v1/balance", { key: b.key });
    assert.equal(other.status, 200);
    assert.equal(other.headers.get("x-ratelimit-remaining"), "4");
  });

  test("tokens nobody knows count against their IP (a key found live keeps its own bucket); a token only seen is not recorded as used", async () => {
    const a = await app.createAccount("rl-known", "1.00");
    await awayFromWindowEdge();
    const ip = { "CF-Connecting-IP": "203.0.113.50" };
    assert.equal((await app.request("GET", "/v1/balance", { key: a.key, headers: ip })).status, 200);
    const unknown = () => a.key.slice(0, -8) + randomBytes(4).toString("hex");
    for (let i = 0; i < 5; i++) {
      assertHouseError(await app.request("GET", "/v1/balance", { key: unknown(), headers: ip }), 401, "1136");
    }
    // A sixth token nobody knows: refused at once, without a bucket of its own.
    assertHouseError(await app.request("GET", "/v1/balance", { key: unknown(), headers: ip }), 429, "2006");
    // The live key from the same IP is unaffected.
    const known = await app.request("GET", "/v1/balance", { key: a.key, headers: ip });
    assert.equal(known.status, 200, known.text);
    assert.equal(known.headers.get("x-ratelimit-remaining"), "3");

    // A second key, presented on a route that never checks it: its use is not recorded.
    const k = await app.request("POST", `/admin/accounts/${a.accountId}/keys`, { admin: true });
    assert.equal(k.status, 201, k.text);
    const lastUsed = async () => (await app.db.prepare("SELECT last_used_at FROM api_keys WHERE id = ?").bind(k.body.key_id).first()).last_used_at;
    assert.equal((await app.request("GET", "/healthz", { key: k.body.api_key })).status, 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await lastUsed(), null);
    assert.equal((await app.request("GET", "/v1/balance", { key: k.body.api_key })).status, 200);
    for (let i = 0; i < 50 && (await lastUsed()) === null; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok((await lastUsed()) > 0, "the use of a live key is recorded");
  });

  test("public and auth groups count per IP", async () => {
    await awayFromWindowEdge();
    const ip = { "CF-Connecting-IP": "203.0.113.9" };
    for (const expected of ["2", "1", "0"]) {
      const r = await app.request("GET", "/nope", { headers: ip });
      assert.equal(r.status, 404);
      assert.equal(r.headers.get("x-ratelimit-remaining"), expected);
    }
    assertHouseError(await app.request("GET", "/nope", { headers: ip }), 429, "2006");
    assert.equal((await app.request("GET", "/nope", { headers: { "CF-Connecting-IP": "203.0.113.10" } })).status, 404);
    const auth = { "CF-Connecting-IP": "203.0.113.11" };
    assert.equal((await app.request("POST", "/api/v1/auth/login", { headers: auth })).headers.get("x-ratelimit-limit"), "2");
    await app.request("POST", "/api/v1/auth/login", { headers: auth });
    assert.equal((await app.request("POST", "/api/v1/auth/login", { headers: auth })).status, 429);
  });
});
