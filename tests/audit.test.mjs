// The audit log: one insert-only row per change, written in the same D1 batch as the change
// (an operator's action, a money adjustment, a key's life, a login, a policy), read back by
// the operator across accounts (GET /admin/audit) and by a customer for its own account only
// (GET /v1/audit). And the operator console's sign-in (the admin token once, then a cookie).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ORIGIN, PASSWORD, freshEmail, login, signUp, spawnAccountsApp } from "./accounts-support.mjs";

let app;
before(async () => {
  app = await spawnAccountsApp({ vars: { TEST_FAULTS: "1" } });
});
after(() => app?.close());

const admin = (method, path, body, headers) => app.request(method, path, { admin: true, body, headers });

/** Every audit row of an account (or all), oldest first, straight from D1. */
async function rows(accountId) {
  const sql = accountId
    ? "SELECT * FROM audit_events WHERE account_id = ? ORDER BY id"
    : "SELECT * FROM audit_events ORDER BY id";
  const stmt = app.db.prepare(sql);
  return (await (accountId ? stmt.bind(accountId) : stmt).all()).results;
}
const actions = async (accountId) => (await rows(accountId)).map((r) => r.action);

test("audit_events refuses every UPDATE and DELETE (insert-only)", async () => {
  const a = await app.createAccount("immutable");
  const [row] = await rows(a.accountId);
  assert.equal(row.action, "account.create");
  await assert.rejects(app.db.prepare("UPDATE audit_events SET reason = 'edited' WHERE id = ?").bind(row.id).run(), /append-only/);
  await assert.rejects(app.db.prepare("DELETE FROM audit_events WHERE id = ?").bind(row.id).run(), /append-only/);
  await assert.rejects(app.db.prepare("DELETE FROM audit_events").run(), /append-only/);
  assert.deepEqual(await rows(a.accountId), [row]);
});

test("an adjustment needs a reason, and its ledger row, balance and audit row agree", async () => {
  const a = await app.createAccount("adjusted", "10.00");
  const url = `/admin/accounts/${a.accountId}/adjust`;
  const noReason = await admin("POST", url, { amount: "-2.50" });
  assert.equal(noReason.status, 400, noReason.text);
  assert.match(noReason.body.errors[0].message, /reason/);
  const blank = await admin("POST", url, { amount: "1.00", reason: "   " });
  assert.equal(blank.status, 400);
  const overdraw = await admin("POST", url, { amount: "-10.01", reason: "too much" });
  assert.equal(overdraw.status, 402, overdraw.text);
  assert.deepEqual(await actions(a.accountId), ["account.create", "wallet.topup"], "a refused change leaves no audit row");

  const debit = await admin("POST", url, { amount: "-2.50", reason: "duplicate credit of invoice 7" });
  assert.equal(debit.status, 200, debit.text);
  assert.equal(debit.body.amount, "-2.50");
  assert.equal(debit.body.balance, "7.50");
  const ledger = await app.db.prepare("SELECT id, kind, amount, balance_after FROM ledger WHERE id = ?").bind(debit.body.transaction_id).first();
  assert.deepEqual(ledger, { id: debit.body.transaction_id, kind: "adjustment", amount: -25000, balance_after: 75000 });
  const audit = (await rows(a.accountId)).at(-1);
  assert.equal(audit.action, "wallet.adjust");
  assert.equal(audit.actor_type, "admin");
  assert.equal(audit.actor_id, "token");
  assert.equal(audit.resource_type, "ledger");
  assert.equal(audit.resource_id, debit.body.transaction_id);
  assert.equal(audit.reason, "duplicate credit of invoice 7");
  assert.equal(JSON.parse(audit.before).balance_minor, 100000);
  assert.equal(JSON.parse(audit.after).balance_minor, 75000);
  assert.equal(JSON.parse(audit.after).amount_minor, -25000);
  assert.deepEqual(await app.money(a.accountId), { balance: 75000, ledgerSum: 75000, ledgerRows: 2 });
});

test("a top-up whose batch fails leaves neither a ledger row nor an audit row", async () => {
  const a = await app.createAccount("faulted");
  const r = await admin("POST", `/admin/accounts/${a.accountId}/topup`, { amount: "5.00", reference: "f-1", reason: "wire 12" }, { "Idempotency-Key": "fault-1", "X-Test-Fault": "complete_record" });
  assert.equal(r.status, 500, r.text);
  assert.deepEqual(await app.money(a.accountId), { balance: 0, ledgerSum: 0, ledgerRows: 0 });
  assert.deepEqual(await actions(a.accountId), ["account.create"]);
  const ok = await admin("POST", `/admin/accounts/${a.accountId}/topup`, { amount: "5.00", reference: "f-1", reason: "wire 12" });
  assert.equal(ok.status, 200, ok.text);
  const row = (await rows(a.accountId)).at(-1);
  assert.equal(row.action, "wallet.topup");
  assert.equal(row.reason, "wire 12");
  // A repeat of the same top-up adds nothing, and no audit row either.
  assert.equal((await admin("POST", `/admin/accounts/${a.accountId}/topup`, { amount: "5.00", reference: "f-1" })).status, 200);
  assert.deepEqual(await actions(a.accountId), ["account.create", "wallet.topup"]);
});

test("approve, suspend and reinstate are audited; a suspended account's key is refused", async () => {
  const a = await app.createAccount("standing", "1.00");
  assert.equal((await app.request("GET", "/v1/balance", { key: a.key })).status, 200);
  const missing = await admin("POST", `/admin/accounts/${a.accountId}/suspend`, {});
  assert.equal(missing.status, 400, "a suspension needs a reason");
  const s = await admin("POST", `/admin/accounts/${a.accountId}/suspend`, { reason: "chargebacks" });
  assert.equal(s.status, 200, s.text);
  assert.equal(s.body.status, "suspended");
  assert.equal((await app.request("GET", "/v1/balance", { key: a.key })).status, 401);
  assert.equal((await app.request("POST", "/v1/otp/send", { key: a.key, body: { to: "+14155550100", channel: "sms" } })).status, 401);
  const r = await admin("POST", `/admin/accounts/${a.accountId}/reinstate`, { reason: "resolved" });
  assert.equal(r.status, 200, r.text);
  assert.equal((await app.request("GET", "/v1/balance", { key: a.key })).status, 200);
  assert.equal((await admin("POST", `/admin/accounts/${a.accountId}/approve`)).status, 200);
  const audited = (await rows(a.accountId)).slice(-3);
  assert.deepEqual(audited.map((x) => [x.action, x.reason, JSON.parse(x.before).status, JSON.parse(x.after).status]), [
    ["account.suspend", "chargebacks", "active", "suspended"],
    ["account.reinstate", "resolved", "suspended", "active"],
    ["account.approve", null, "active", "active"],
  ]);
  assert.equal((await admin("POST", "/admin/accounts/no-such/suspend", { reason: "x" })).status, 404);
});

test("keys, logins, passwords, spend caps and the fraud policy are audited with their actor", async () => {
  const s = await signUp(app, { email: freshEmail("audited") });
  const headers = { "CF-Connecting-IP": "203.0.113.7", "CF-Ray": "ray-123" };
  const key = await app.request("POST", "/v1/keys", { key: s.token, headers, body: { name: "ci", scopes: ["otp:send"] } });
  assert.equal(key.status, 201, key.text);
  assert.equal((await app.request("PATCH", `/v1/keys/${key.body.key_id}`, { key: s.token, body: { scopes: ["otp:send", "otp:verify"] } })).status, 200);
  assert.equal((await app.request("PUT", "/v1/account/limits", { key: s.token, body: { spend_cap_daily: "5.00" } })).status, 200);
  const policyKey = await app.request("POST", "/v1/keys", { key: s.token, body: { name: "fraud" } });
  assert.equal((await app.request("PUT", "/v1/fraud/policy", { key: policyKey.body.api_key, body: { mode: "monitor" } })).status, 200);
  assert.equal((await app.request("DELETE", `/v1/keys/${key.body.key_id}`, { key: s.token })).status, 200);
  assert.equal((await app.request("DELETE", `/v1/keys/${key.body.key_id}`, { key: s.token })).status, 200, "revoking twice is no error");
  const newPassword = "another horse battery staple";
  assert.equal((await app.request("POST", "/api/v1/auth/password", { key: s.token, body: { current_password: PASSWORD, new_password: newPassword } })).status, 200);
  const again = await login(app, { email: s.email, password: newPassword });
  assert.equal(again.r.status, 200);
  assert.equal((await app.request("POST", "/api/v1/auth/logout", { key: again.token })).status, 200);

  const list = await rows(s.accountId);
  assert.deepEqual(list.map((r) => r.action), [
    "auth.register", "key.create", "key.update", "limits.spend_caps", "key.create", "fraud.policy",
    "key.revoke", "auth.password", "auth.login", "auth.logout",
  ]);
  const byAction = Object.fromEntries(list.map((r) => [r.action, r]));
  const created = list.find((r) => r.action === "key.create");
  assert.equal(created.actor_type, "user");
  assert.equal(created.actor_id, s.accountId);
  assert.equal(created.ip, "203.0.113.7");
  assert.equal(created.request_id, "ray-123");
  assert.deepEqual(JSON.parse(created.after), { name: "ci", scopes: ["otp:send"] });
  assert.deepEqual(JSON.parse(byAction["key.update"].after).scopes, ["otp:send", "otp:verify"]);
  assert.deepEqual(JSON.parse(byAction["limits.spend_caps"].after), { daily_minor: 50000, monthly_minor: null });
  const policy = byAction["fraud.policy"];
  assert.equal(policy.actor_type, "api_key");
  assert.equal(policy.actor_id, policyKey.body.key_id, "an API key is recorded by its id");
  assert.equal(JSON.parse(policy.after).mode, "monitor");
  assert.notEqual(JSON.parse(policy.before).mode, "monitor");
  for (const r of list) assert.doesNotMatch(JSON.stringify(r), /ots_|correct horse|another horse/, "no secret in the log");
});

test("the operator's key and catalog changes are audited", async () => {
  const a = await app.createAccount("ops");
  const k = await admin("POST", `/admin/accounts/${a.accountId}/keys`);
  assert.equal((await admin("DELETE", `/admin/keys/${k.body.key_id}`)).status, 200);
  const keyRows = (await rows(a.accountId)).slice(-2);
  assert.deepEqual(keyRows.map((r) => [r.action, r.resource_id, r.account_id]), [
    ["key.create", k.body.key_id, a.accountId],
    ["key.revoke", k.body.key_id, a.accountId],
  ]);
  const cat = await admin("PUT", "/admin/catalog", { countries: [{ code: "DE", name: "Germany" }], otp_prices: [{ country: "DE", channel: "sms", cost: "0.05" }] });
  assert.equal(cat.status, 200, cat.text);
  const sup = await admin("POST", "/admin/suppliers", { name: "Audited supplier" });
  const platform = (await rows()).filter((r) => r.account_id === null).slice(-2);
  assert.deepEqual(platform.map((r) => [r.action, r.resource_id]), [["catalog.put", null], ["supplier.create", sup.body.supplier_id]]);
  assert.deepEqual(JSON.parse(platform[0].after).otp_price_rows, [["DE", "sms", 500]]);
});

test("templates, webhook endpoints and the safe list are audited", async () => {
  const a = await app.createAccount("hooks");
  const t = await admin("POST", "/admin/templates", { name: "shared", channel: "sms", body: "Code {code}" });
  assert.equal(t.status, 201, t.text);
  const own = await app.request("POST", "/v1/templates", { key: a.key, body: { name: "mine", channel: "sms", body: "Hi {code}" } });
  assert.equal(own.status, 201, own.text);
  const hook = await app.request("PUT", "/v1/webhook", { key: a.key, body: { url: "https://hooks.example.com/in" } });
  assert.equal(hook.status, 200, hook.text);
  assert.equal((await app.request("DELETE", "/v1/webhook", { key: a.key })).status, 200);
  assert.equal((await app.request("DELETE", "/v1/webhook", { key: a.key })).status, 404, "no endpoint left: no row either");
  assert.equal((await app.request("POST", "/v1/fraud/safe-list", { key: a.key, body: { phone: "+14155550123" } })).status, 201);
  assert.equal((await app.request("DELETE", "/v1/fraud/safe-list/+14155550123", { key: a.key })).status, 200);
  const mine = (await rows(a.accountId)).map((r) => [r.action, r.actor_type, r.resource_id]);
  assert.deepEqual(mine, [
    ["account.create", "admin", a.accountId],
    ["template.create", "api_key", own.body.template_id],
    ["webhook.set", "api_key", a.accountId],
    ["webhook.delete", "api_key", a.accountId],
    ["fraud.safe_list_add", "api_key", "+14155550123"],
    ["fraud.safe_list_remove", "api_key", "+14155550123"],
  ]);
  const shared = (await rows()).find((r) => r.resource_id === t.body.template_id);
  assert.deepEqual([shared.action, shared.account_id, shared.actor_type], ["template.create", null, "admin"]);
  assert.equal(JSON.parse((await rows(a.accountId))[2].after).url, "https://hooks.example.com/in");
});

test("GET /admin/audit filters and pages newest first; bad filters are 400 naming the field", async () => {
  const a = await app.createAccount("paged", "100.00");
  for (let i = 0; i < 55; i++) {
    const r = await admin("POST", `/admin/accounts/${a.accountId}/adjust`, { amount: "0.01", reason: `r${i}` });
    assert.equal(r.status, 200, r.text);
  }
  const q = (s) => admin("GET", `/admin/audit?${s}`);
  const first = await q(`account=${a.accountId}&action=wallet.adjust`);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.events.length, 50);
  assert.equal(first.body.events[0].reason, "r54");
  assert.ok(first.body.next_cursor);
  const second = await q(`account=${a.accountId}&action=wallet.adjust&cursor=${first.body.next_cursor}`);
  assert.deepEqual(second.body.events.map((e) => e.reason), ["r4", "r3", "r2", "r1", "r0"]);
  assert.equal(second.body.next_cursor, null);
  const one = first.body.events[3];
  const byResource = await q(`resource_type=ledger&resource_id=${one.resource_id}`);
  assert.deepEqual(byResource.body.events.map((e) => e.id), [one.id]);
  assert.equal(one.actor_type, "admin");
  assert.match(one.at, /^\d{4}-\d\d-\d\dT/);
  assert.equal((await q(`actor=token&account=${a.accountId}&action=account.create`)).body.events.length, 1);
  const future = await q(`account=${a.accountId}&from=2999-01-01T00:00:00Z`);
  assert.deepEqual(future.body.events, []);
  for (const [bad, field] of [["from=yesterday", "from"], ["to=x", "to"], ["from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"], ["cursor=abc", "cursor"]]) {
    const r = await q(bad);
    assert.equal(r.status, 400, bad);
    assert.match(r.body.errors[0].message, new RegExp(`'${field}'`), bad);
  }
  assert.equal((await app.request("GET", "/admin/audit")).status, 401);
  assert.equal((await app.request("GET", "/admin/audit", { key: a.key })).status, 401);
});

test("GET /v1/audit shows a customer its own account's rows only", async () => {
  const a = await app.createAccount("mine", "3.00");
  const b = await app.createAccount("theirs", "4.00");
  await admin("POST", `/admin/accounts/${b.accountId}/adjust`, { amount: "-1.00", reason: "b only" });
  const mine = await app.request("GET", "/v1/audit", { key: a.key });
  assert.equal(mine.status, 200, mine.text);
  assert.deepEqual(mine.body.events.map((e) => e.action), ["wallet.topup", "account.create"]);
  assert.ok(mine.body.events.every((e) => e.account_id === a.accountId));
  const sneaky = await app.request("GET", `/v1/audit?account=${b.accountId}`, { key: a.key });
  assert.ok(sneaky.body.events.every((e) => e.account_id === a.accountId), "the account filter cannot widen it");
  const theirs = (await app.request("GET", "/v1/audit?action=wallet.adjust", { key: b.key })).body.events;
  assert.deepEqual(theirs.map((e) => e.reason), ["b only"]);
  const byId = await app.request("GET", `/v1/audit?resource_id=${theirs[0].resource_id}`, { key: a.key });
  assert.deepEqual(byId.body.events, [], "another account's row is not found by its id");
  assert.equal((await app.request("GET", "/v1/audit")).status, 401);
});

test("the console signs in with the admin token once, then a hashed, strict cookie; logout ends it", async () => {
  const wrong = await app.request("POST", "/admin/session", { body: { token: "nope" } });
  assert.equal(wrong.status, 401);
  const r = await app.request("POST", "/admin/session", { body: { token: app.adminToken }, headers: { Origin: ORIGIN } });
  assert.equal(r.status, 200, r.text);
  const cookie = r.headers.get("set-cookie");
  assert.match(cookie, /^otpedge_admin=ots_[A-Za-z0-9_-]{43}; Path=\/admin; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
  const token = cookie.match(/otpedge_admin=([^;]+)/)[1];
  const stored = await app.db.prepare("SELECT token_hash FROM admin_sessions WHERE id = ?").bind(r.body.session_id).first();
  assert.equal(stored.token_hash, createHash("sha256").update(token).digest("hex"));
  const withCookie = (method, path, body, origin = ORIGIN) =>
    app.request(method, path, { body, headers: { Cookie: `otpedge_admin=${token}`, ...(origin ? { Origin: origin } : {}) } });

  const who = await withCookie("GET", "/admin/session");
  assert.deepEqual(who.body, { signed_in: true, via: "session", actor_id: r.body.session_id });
  const a = await app.createAccount("by console", "1.00");
  assert.equal((await withCookie("GET", `/admin/accounts/${a.accountId}`)).body.balance, "1.00");
  // A cookie-authenticated change must come from this origin.
  assert.equal((await withCookie("POST", `/admin/accounts/${a.accountId}/adjust`, { amount: "1", reason: "x" }, null)).status, 403);
  assert.equal((await withCookie("POST", `/admin/accounts/${a.accountId}/adjust`, { amount: "1", reason: "x" }, "https://evil.example")).status, 403);
  const ok = await withCookie("POST", `/admin/accounts/${a.accountId}/adjust`, { amount: "1", reason: "goodwill" });
  assert.equal(ok.status, 200, ok.text);
  const row = (await rows(a.accountId)).at(-1);
  assert.deepEqual([row.action, row.actor_type, row.actor_id], ["wallet.adjust", "admin", r.body.session_id]);
  // The customer's cookie is no operator.
  assert.equal((await app.request("GET", "/admin/accounts", { headers: { Cookie: "otpedge_session=ots_x" } })).status, 401);

  const out = await withCookie("DELETE", "/admin/session");
  assert.equal(out.status, 200);
  assert.match(out.headers.get("set-cookie"), /^otpedge_admin=; Path=\/admin; Max-Age=0; HttpOnly; SameSite=Strict$/);
  assert.equal((await withCookie("GET", "/admin/accounts")).status, 401, "the session is over");
  const sessionRows = (await rows()).filter((x) => x.resource_id === r.body.session_id).map((x) => x.action);
  assert.deepEqual(sessionRows, ["admin.login", "admin.logout"]);
});

test("account search by id, email prefix and name prefix; one account's ledger and keys", async () => {
  const email = freshEmail("findme");
  const s = await signUp(app, { email, name: "Zebra Shop" });
  const find = async (q) => (await admin("GET", `/admin/accounts?q=${encodeURIComponent(q)}`)).body.accounts.map((x) => x.account_id);
  assert.deepEqual(await find(s.accountId), [s.accountId]);
  assert.ok((await find(email.slice(0, 12).toUpperCase())).includes(s.accountId), "email prefix, any case");
  assert.ok((await find("Zebra")).includes(s.accountId));
  assert.ok(!(await find("ebra")).includes(s.accountId), "a prefix, not a substring");
  await admin("POST", `/admin/accounts/${s.accountId}/adjust`, { amount: "2.00", reason: "welcome credit" });
  const ledger = await admin("GET", `/admin/accounts/${s.accountId}/ledger`);
  assert.equal(ledger.status, 200, ledger.text);
  assert.deepEqual(ledger.body.entries.map((e) => [e.kind, e.amount, e.balance_after]), [["adjustment", "2.00", "2.00"]]);
  const keys = await admin("GET", `/admin/accounts/${s.accountId}/keys`);
  assert.deepEqual(keys.body.keys, []);
  assert.equal((await admin("GET", "/admin/accounts/nobody/ledger")).status, 404);
  assert.equal((await admin("GET", "/admin/accounts/nobody")).status, 404);
});
