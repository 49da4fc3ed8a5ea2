// The one idempotency entry point (app::idempotency) under injected failures, for every
// money-moving route: buy, rent, OTP send, template message, top-up.
//
// Faults are injected with the request header `X-Test-Fault`, honoured only because this
// app runs with TEST_FAULTS=1 (never set in wrangler.toml):
// - `after_commit`: the money and the stored answer committed, then the request failed (as
//   a read after the commit, or storing the answer after it, used to). The client sees a
//   500; a retry with the same key must replay the committed answer, never charge again.
// - `complete_record`: storing the answer fails inside the money's batch, so the batch rolls
//   back: nothing charged, the key released, and a retry runs once and is then replayable.
// - `release_fails`: as `complete_record`, and releasing the key fails too.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { seed } from "./support/activations.mjs";
import { spawnOtpApp, seedOtpPrices, createTemplate, freshPhone } from "./otp-support.mjs";

let app, supplier, template;

before(async () => {
  app = await spawnOtpApp({ vars: { TEST_FAULTS: "1", PRICES_CACHE_SECS: "0" } });
  supplier = await seed(app, { us: 20 });
  await seedOtpPrices(app);
  template = await createTemplate(app, "Hi {name}, your order {order} has shipped.", "sms", "shipping");
});
after(() => app?.close());

/** Each money-moving route: how to call it, and what its success looks like. */
const ROUTES = {
  buy: { method: "POST", path: () => "/v1/number", body: () => ({ service: "telegram", country: "US" }), ok: 200, cost: 500, kind: "purchase" },
  rent: { method: "POST", path: () => "/api/internal/rent", body: () => ({ service: "telegram", country: "US", hours: 4 }), ok: 200, cost: 5000, kind: "rent" },
  "OTP send": { method: "POST", path: () => "/v1/otp/send", body: () => ({ to: freshPhone(), channel: "sms" }), ok: 200, cost: 75, kind: "otp_send" },
  "template message": {
    method: "POST",
    path: () => "/v1/messages/send",
    body: () => ({ phone_number: freshPhone(), template_id: template, variables: { name: "Ana", order: 7 } }),
    ok: 202,
    cost: 75,
    kind: "message_send",
    // Delivery was due once the message committed, even though that request failed.
    async committed(account, answer) {
      for (let i = 0; i < 50; i++) {
        const m = await app.request("GET", `/v1/messages/${answer.message_id}`, { key: account.key });
        if (!["queued", "sending"].includes(m.body.status)) return assert.equal(m.body.status, "sent");
        await new Promise((res) => setTimeout(res, 50));
      }
      assert.fail("the committed message was never delivered");
    },
  },
  "top-up": { method: "POST", path: (a) => `/admin/accounts/${a.accountId}/topup`, body: () => ({ amount: "2.50", reference: `ref-${Math.random()}` }), ok: 200, cost: -25000, kind: "topup", admin: true },
};

function call(route, account, body, key, fault) {
  const headers = { "Idempotency-Key": key };
  if (fault) headers["X-Test-Fault"] = fault;
  const auth = route.admin ? { admin: true } : { key: account.key };
  return app.request(route.method, route.path(account), { ...auth, headers, body });
}

async function rowsOfKind(accountId, kind) {
  const r = await app.db.prepare("SELECT COUNT(*) AS n FROM ledger WHERE account_id = ? AND kind = ?").bind(accountId, kind).first();
  return r.n;
}

/** A fresh account's first call of `route` with `fault` injected: it must answer 500. */
async function failOnce(route, name, phase, fault) {
  const account = await app.createAccount(`${name}-${phase}`, "10.00");
  const body = route.body();
  const key = `k-${phase}-${name.replaceAll(" ", "-")}`;
  const before = await app.money(account.accountId);
  const first = await call(route, account, body, key, fault);
  assert.equal(first.status, 500, first.text);
  return { account, body, key, before };
}

for (const [name, route] of Object.entries(ROUTES)) {
  describe(name, () => {
    test("failure after the commit: 500, ONE charge, and the retry replays the committed answer", async () => {
      const { account, body, key, before } = await failOnce(route, name, "after", "after_commit");
      const charged = await app.money(account.accountId);
      assert.equal(charged.balance, before.balance - route.cost, "charged exactly once");
      assert.equal(await rowsOfKind(account.accountId, route.kind), route.kind === "topup" ? 2 : 1);

      const retry = await call(route, account, body, key);
      assert.equal(retry.status, route.ok, retry.text);
      assert.equal(retry.headers.get("idempotent-replayed"), "true");
      await route.committed?.(account, retry.body);
      const again = await call(route, account, body, key);
      assert.equal(again.status, route.ok);
      assert.deepEqual(again.body, retry.body);
      const after = await app.money(account.accountId);
      assert.equal(after.balance, charged.balance, "no second charge");
      assert.equal(after.balance, after.ledgerSum);
    });

    test("storing the answer fails in the money's batch: nothing charged, the retry runs once", async () => {
      const { account, body, key, before } = await failOnce(route, name, "record", "complete_record");
      assert.deepEqual(await app.money(account.accountId), before, "the batch rolled back whole");

      const retry = await call(route, account, body, key);
      assert.equal(retry.status, route.ok, retry.text);
      assert.equal(retry.headers.get("idempotent-replayed"), null);
      const charged = await app.money(account.accountId);
      assert.equal(charged.balance, before.balance - route.cost);

      const replay = await call(route, account, body, key);
      assert.equal(replay.status, route.ok);
      assert.equal(replay.headers.get("idempotent-replayed"), "true");
      assert.deepEqual(replay.body, retry.body);
      assert.deepEqual(await app.money(account.accountId), charged);
    });
  });
}

test("a failed release answers the work's own error; the claim it left is taken over once abandoned, not after 24 h", async () => {
  const route = ROUTES.buy;
  const account = await app.createAccount("release-fails", "10.00");
  const body = route.body();
  const before = await app.money(account.accountId);
  const first = await call(route, account, body, "k-release", "release_fails");
  assert.equal(first.status, 500, first.text);
  assert.doesNotMatch(first.text, /releas/i, "the work's error, not the release's");
  assert.deepEqual(await app.money(account.accountId), before, "nothing charged");
  const held = await call(route, account, body, "k-release");
  assert.equal(held.status, 409, "the claim left behind may still be a running request");
  // Five minutes on, no request is still running: the key is free again.
  await app.db.prepare("UPDATE idempotency SET created_at = created_at - 300000 WHERE idem_key = 'k-release'").run();
  const retry = await call(route, account, body, "k-release");
  assert.equal(retry.status, route.ok, retry.text);
  assert.equal(retry.headers.get("idempotent-replayed"), null);
  const replay = await call(route, account, body, "k-release");
  assert.equal(replay.headers.get("idempotent-replayed"), "true");
  assert.equal((await app.money(account.accountId)).balance, before.balance - route.cost, "charged once");
});

test("the replayed rent and top-up answers carry the balance their batch computed", async () => {
  const account = await app.createAccount("fills", "10.00");
  const rent = ROUTES.rent;
  const body = rent.body();
  const first = await call(rent, account, body, "fill-rent");
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.remainingCredits, 950);
  const replay = await call(rent, account, body, "fill-rent");
  assert.deepEqual(replay.body, first.body);

  const topup = ROUTES["top-up"];
  const tBody = { amount: "0.0075", reference: "fill-ref" };
  const t1 = await call(topup, account, tBody, "fill-topup");
  assert.equal(t1.status, 200, t1.text);
  assert.equal(t1.body.balance, "9.5075");
  const t2 = await call(topup, account, tBody, "fill-topup");
  assert.equal(t2.headers.get("idempotent-replayed"), "true");
  assert.deepEqual(t2.body, t1.body);
});

test("a request that crashes the Wasm instance fails alone: the next requests are served by a fresh instance, nothing lost", async () => {
  const account = await app.createAccount("crash", "2.00");
  const before = await app.money(account.accountId);
  const crashed = await app.request("GET", "/v1/balance", { key: account.key, headers: { "X-Test-Fault": "crash" } });
  assert.equal(crashed.status, 500);
  for (let i = 0; i < 3; i++) {
    const ok = await app.request("GET", "/v1/balance", { key: account.key });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.balance, 2);
  }
  const s = await app.request("POST", "/v1/otp/send", { key: account.key, body: { to: freshPhone(), channel: "sms" } });
  assert.equal(s.status, 200, s.text);
  assert.equal((await app.money(account.accountId)).balance, before.balance - 75);
});

test("without TEST_FAULTS the fault header is ignored", async () => {
  const plain = await spawnOtpApp();
  try {
    const account = await plain.createAccount("no-faults", "1.00");
    const r = await plain.request("POST", `/admin/accounts/${account.accountId}/topup`, {
      admin: true,
      headers: { "X-Test-Fault": "after_commit" },
      body: { amount: "1", reference: "x" },
    });
    assert.equal(r.status, 200, r.text);
  } finally {
    await plain.close();
  }
  void supplier;
});
