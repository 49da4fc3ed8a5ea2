// Customer accounts: register, login, sessions (Bearer and cookie), logout,
// password change, self-service API keys and templates, the operator's account list.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { awayFromWindowEdge } from "./support/app.mjs";
import { spawnAccountsApp, signUp, register, login, freshEmail, freshIp, cookieRequest, createKey, houseError, PASSWORD } from "./accounts-support.mjs";

let app;
before(async () => {
  app = await spawnAccountsApp();
});
after(() => app?.close());

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describe("register and login", () => {
  test("register → 201 with the account and a session (token + HttpOnly cookie); email trimmed and lower-cased", async () => {
    const email = freshEmail("Reg").toUpperCase();
    const s = await register(app, { email: `  ${email} `, name: "Reg Shop" });
    assert.equal(s.r.status, 201, s.r.text);
    const { token, expires_at, account } = s.r.body;
    assert.match(token, /^ots_[A-Za-z0-9_-]{43}$/);
    assert.match(expires_at, RFC3339);
    assert.ok(Date.parse(expires_at) > Date.now());
    assert.deepEqual(Object.keys(account).sort(), ["approved", "email", "id", "name"]);
    assert.equal(account.email, email.toLowerCase());
    assert.equal(account.name, "Reg Shop");
    assert.equal(account.approved, true, "SIGNUP_APPROVAL defaults to auto");
    assert.equal(typeof account.id, "string");

    const setCookie = s.r.headers.get("set-cookie");
    assert.ok(setCookie, "a session cookie is set");
    assert.match(setCookie, new RegExp(`^otpedge_session=${token};`));
    for (const attr of ["HttpOnly", "SameSite=Lax", "Path=/"]) assert.ok(setCookie.includes(attr), `${attr} in ${setCookie}`);
    assert.ok(!/;\s*Secure/i.test(setCookie), "no Secure on http://localhost");

    // The session works, as Bearer and as the cookie.
    const who = await app.request("GET", "/api/v1/auth/session", { key: token });
    assert.equal(who.status, 200, who.text);
    assert.deepEqual(who.body, { account: { id: account.id, email: account.email, name: "Reg Shop", approved: true }, expires_at: who.body.expires_at });
    assert.match(who.body.expires_at, RFC3339);
    const viaCookie = await cookieRequest(app, token, null)("GET", "/api/v1/auth/session");
    assert.equal(viaCookie.status, 200, viaCookie.text);
    assert.equal(viaCookie.body.account.id, account.id);

    // A new account has a 0 wallet.
    const bal = await app.request("GET", "/api/internal/balance", { key: token });
    assert.equal(bal.status, 200, bal.text);
    assert.equal(bal.body.balance, 0);
    assert.equal(bal.body.isApproved, true);
  });

  test("the name defaults to the email's local part", async () => {
    const email = freshEmail("noname");
    const s = await signUp(app, { email });
    assert.equal(s.r.body.account.name, email.split("@")[0]);
  });

  test("bad sign-ups are refused with a clear 4xx and create nothing", async () => {
    const before = await app.db.prepare("SELECT COUNT(*) AS n FROM accounts").first();
    const cases = [
      [{ email: "not-an-email", password: PASSWORD }, 400, "2403"],
      [{ email: freshEmail(), password: "short1!" }, 400, "2402"],
      [{ email: freshEmail(), password: "x".repeat(129) }, 400, "2402"],
      [{ email: freshEmail(), password: "password1" }, 400, "2402"],
      [{ email: freshEmail(), password: "Qwertyuiop" }, 400, "2402"],
      // A name is validated like every other name: no control characters, NUL first included.
      [{ email: freshEmail(), password: PASSWORD, name: "\u0000acme" }, 400, "2004"],
      [{ email: freshEmail(), password: PASSWORD, name: "ac\u0007me" }, 400, "2004"],
      [{ email: freshEmail(), password: PASSWORD, name: "line\nbreak" }, 400, "2004"],
    ];
    for (const [body, status, code] of cases) {
      const r = await app.request("POST", "/api/v1/auth/register", { headers: { "CF-Connecting-IP": freshIp() }, body });
      const e = houseError(r, status, code);
      assert.ok(e.message.length > 10, e.message);
      assert.equal(r.headers.get("set-cookie"), null);
    }
    const missing = await app.request("POST", "/api/v1/auth/register", { headers: { "CF-Connecting-IP": freshIp() }, body: { email: freshEmail() } });
    houseError(missing, 400, "2004");
    const notJson = await app.request("POST", "/api/v1/auth/register", { headers: { "CF-Connecting-IP": freshIp(), "Content-Type": "application/json" }, raw: "{" });
    houseError(notJson, 400, "2003");
    const after = await app.db.prepare("SELECT COUNT(*) AS n FROM accounts").first();
    assert.equal(after.n, before.n);
  });

  test("one account per email, compared case-insensitively → 409", async () => {
    const email = freshEmail("dup");
    await signUp(app, { email });
    const again = await register(app, { email: ` ${email.toUpperCase()}`, password: "another good passphrase" });
    houseError(again.r, 409, "2401");
    const n = await app.db.prepare("SELECT COUNT(*) AS n FROM accounts WHERE email = ?").bind(email).first();
    assert.equal(n.n, 1);
  });

  test("login → token, expires_at, account and a cookie; the email in any case", async () => {
    const s = await signUp(app, { name: "Login Co" });
    const l = await login(app, { email: s.email.toUpperCase() });
    assert.equal(l.r.status, 200, l.r.text);
    assert.match(l.token, /^ots_/);
    assert.notEqual(l.token, s.token, "every login is a new session");
    assert.match(l.r.body.expires_at, RFC3339);
    assert.deepEqual(l.r.body.account, { id: s.accountId, email: s.email, name: "Login Co", approved: true });
    assert.equal(l.cookie, l.token);
    const setCookie = l.r.headers.get("set-cookie");
    for (const attr of ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="]) assert.ok(setCookie.includes(attr), setCookie);
    // Both sessions live side by side.
    assert.equal((await app.request("GET", "/api/v1/auth/session", { key: s.token })).status, 200);
    assert.equal((await app.request("GET", "/api/v1/auth/session", { key: l.token })).status, 200);
  });

  test("no session, a malformed or an unknown token → 401", async () => {
    houseError(await app.request("GET", "/api/v1/auth/session"), 401, "1136");
    houseError(await app.request("GET", "/api/v1/auth/session", { key: "ots_" + "A".repeat(43) }), 401, "1136");
    houseError(await app.request("GET", "/api/v1/auth/session", { key: "garbage" }), 401, "1136");
    houseError(await app.request("GET", "/api/v1/auth/session", { headers: { Cookie: "otpedge_session=ots_nope" } }), 401, "1136");
  });
});

describe("sessions on NumberOTP's routes", () => {
  test("Authorization: Bearer <session token> on /api/user/profile and /api/internal/balance; an API key still works there", async () => {
    const s = await signUp(app, { name: "Numbers Ltd" });
    const top = await app.request("POST", `/admin/accounts/${s.accountId}/topup`, { admin: true, body: { amount: "12.50", reference: `seed-${randomBytes(4).toString("hex")}` } });
    assert.equal(top.status, 200, top.text);

    const profile = await app.request("GET", "/api/user/profile", { key: s.token });
    assert.equal(profile.status, 200, profile.text);
    assert.equal(profile.body.success, true);
    assert.equal(profile.body.data.id, s.accountId);
    assert.equal(profile.body.data.name, "Numbers Ltd");
    assert.equal(profile.body.data.email, s.email);
    assert.equal(profile.body.data.isApproved, true);
    assert.equal(profile.body.data.balance, 12.5);

    const balance = await app.request("GET", "/api/internal/balance", { key: s.token });
    assert.equal(balance.status, 200, balance.text);
    assert.equal(balance.body.balance, 12.5);
    assert.equal(balance.body.credits, 1250);
    assert.equal(balance.body.isApproved, true);
    // NumberOTP's docs show POST too.
    assert.equal((await app.request("POST", "/api/internal/balance", { key: s.token })).body.balance, 12.5);

    const k = await createKey(app, s.token);
    const byKey = await app.request("GET", "/api/internal/balance", { key: k.api_key });
    assert.equal(byKey.status, 200, byKey.text);
    assert.equal(byKey.body.balance, 12.5);
    assert.equal((await app.request("GET", "/api/internal/transactions", { key: s.token })).body.data.length, 1);

    // The cookie works on a GET without any Origin.
    const viaCookie = await cookieRequest(app, s.token, null)("GET", "/api/internal/balance");
    assert.equal(viaCookie.status, 200, viaCookie.text);
  });
});

describe("logout and password change", () => {
  test("logout revokes the session at once and clears the cookie; other sessions live on", async () => {
    const s = await signUp(app);
    const other = await login(app, { email: s.email });
    const out = await app.request("POST", "/api/v1/auth/logout", { key: s.token });
    assert.equal(out.status, 200, out.text);
    assert.match(out.headers.get("set-cookie") ?? "", /^otpedge_session=;.*Max-Age=0/);
    houseError(await app.request("GET", "/api/v1/auth/session", { key: s.token }), 401, "1136");
    assert.equal((await app.request("GET", "/api/user/profile", { key: s.token })).status, 401);
    assert.equal((await app.request("GET", "/api/v1/auth/session", { key: other.token })).status, 200);
    const row = await app.db.prepare("SELECT revoked_at FROM sessions WHERE account_id = ? AND revoked_at IS NOT NULL").bind(s.accountId).all();
    assert.equal(row.results.length, 1);
    // Logging out again with the dead token: 401.
    assert.equal((await app.request("POST", "/api/v1/auth/logout", { key: s.token })).status, 401);
  });

  test("logout through the cookie (same origin)", async () => {
    const s = await signUp(app);
    const out = await cookieRequest(app, s.token)("POST", "/api/v1/auth/logout");
    assert.equal(out.status, 200, out.text);
    assert.equal((await app.request("GET", "/api/v1/auth/session", { key: s.token })).status, 401);
  });

  test("password change: the current password is required, the policy applies, every other session is revoked", async () => {
    const s = await signUp(app);
    const second = await login(app, { email: s.email });
    const third = await login(app, { email: s.email });

    const wrong = await app.request("POST", "/api/v1/auth/password", { key: s.token, body: { current_password: "not the password at all", new_password: "a brand new passphrase" } });
    houseError(wrong, 400, "2409");
    const weak = await app.request("POST", "/api/v1/auth/password", { key: s.token, body: { current_password: PASSWORD, new_password: "password123" } });
    houseError(weak, 400, "2402");
    // Nothing changed so far.
    assert.equal((await app.request("GET", "/api/v1/auth/session", { key: second.token })).status, 200);

    const ok = await app.request("POST", "/api/v1/auth/password", { key: s.token, body: { current_password: PASSWORD, new_password: "a brand new passphrase" } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.revoked_sessions, 2);
    assert.equal((await app.request("GET", "/api/v1/auth/session", { key: s.token })).status, 200, "the session that changed it stays");
    for (const t of [second.token, third.token]) assert.equal((await app.request("GET", "/api/v1/auth/session", { key: t })).status, 401);

    houseError((await login(app, { email: s.email })).r, 401, "2400");
    assert.equal((await login(app, { email: s.email, password: "a brand new passphrase" })).r.status, 200);
  });

  test("an API key cannot log out or change the password", async () => {
    const s = await signUp(app);
    const k = await createKey(app, s.token);
    houseError(await app.request("POST", "/api/v1/auth/password", { key: k.api_key, body: { current_password: PASSWORD, new_password: "a brand new passphrase" } }), 401, "1136");
    houseError(await app.request("GET", "/api/v1/auth/session", { key: k.api_key }), 401, "1136");
  });

  test("GET /api/v1/auth/sessions lists the live sessions; DELETE revokes one", async () => {
    const s = await signUp(app);
    const l = await login(app, { email: s.email, headers: { "User-Agent": "otpedge-test/1.0" } });
    const list = await app.request("GET", "/api/v1/auth/sessions", { key: s.token });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.sessions.length, 2);
    for (const x of list.body.sessions) {
      assert.match(x.session_id, /^ses_/);
      assert.match(x.created_at, RFC3339);
      assert.match(x.expires_at, RFC3339);
      assert.equal(JSON.stringify(x).includes("ots_"), false, "no token in the list");
    }
    assert.equal(list.body.sessions.filter((x) => x.current).length, 1);
    const theirs = list.body.sessions.find((x) => !x.current);
    assert.equal(theirs.user_agent, "otpedge-test/1.0");
    const del = await app.request("DELETE", `/api/v1/auth/sessions/${theirs.session_id}`, { key: s.token });
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.body, { session_id: theirs.session_id, revoked: true });
    assert.equal((await app.request("GET", "/api/v1/auth/session", { key: l.token })).status, 401);
    assert.equal((await app.request("GET", "/api/v1/auth/sessions", { key: s.token })).body.sessions.length, 1);
  });
});

describe("API keys (session required)", () => {
  test("register → login → create a key → it works on /v1/balance → revoke → 401", async () => {
    const s = await signUp(app);
    const l = await login(app, { email: s.email });
    const created = await app.request("POST", "/v1/keys", { key: l.token, body: { name: "production" } });
    assert.equal(created.status, 201, created.text);
    const k = created.body;
    assert.match(k.api_key, /^[A-Za-z0-9]{32}$/);
    assert.match(k.key_id, /^key_/);
    assert.equal(k.name, "production");
    assert.equal(k.prefix, k.api_key.slice(0, k.prefix.length));
    assert.ok(k.prefix.length >= 4 && k.prefix.length <= 8);
    assert.match(k.created_at, RFC3339);
    assert.equal(k.revoked_at, null);

    const bal = await app.request("GET", "/v1/balance", { key: k.api_key });
    assert.equal(bal.status, 200, bal.text);
    assert.equal(bal.text, '{"balance":0.0,"currency":"USD"}');

    const list = await app.request("GET", "/v1/keys", { key: l.token });
    assert.equal(list.status, 200, list.text);
    const row = list.body.keys.find((x) => x.key_id === k.key_id);
    assert.deepEqual(Object.keys(row).sort(), ["created_at", "key_id", "last_used_at", "name", "prefix", "revoked_at", "scopes", "spend_cap_daily", "spend_cap_monthly", "spent_this_month", "spent_today"]);
    assert.equal(row.name, "production");
    assert.equal(JSON.stringify(list.body).includes(k.api_key), false, "the key is shown only once");
    assert.ok(row.last_used_at === null || RFC3339.test(row.last_used_at));

    const del = await app.request("DELETE", `/v1/keys/${k.key_id}`, { key: l.token });
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.body, { key_id: k.key_id, revoked: true });
    houseError(await app.request("GET", "/v1/balance", { key: k.api_key }), 401, "1136");
    const after = (await app.request("GET", "/v1/keys", { key: l.token })).body.keys.find((x) => x.key_id === k.key_id);
    assert.match(after.revoked_at, RFC3339);
  });

  test("last_used_at is filled once the key is used", async () => {
    const s = await signUp(app);
    const k = await createKey(app, s.token);
    assert.equal((await app.request("GET", "/v1/balance", { key: k.api_key })).status, 200);
    let row;
    for (let i = 0; i < 40; i++) {
      row = (await app.request("GET", "/v1/keys", { key: s.token })).body.keys.find((x) => x.key_id === k.key_id);
      if (row.last_used_at) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(row.last_used_at, RFC3339);
  });

  test("an API key cannot create or list keys (403); no credentials → 401", async () => {
    const s = await signUp(app);
    const k = await createKey(app, s.token);
    houseError(await app.request("POST", "/v1/keys", { key: k.api_key, body: { name: "minted" } }), 403, "2407");
    houseError(await app.request("GET", "/v1/keys", { key: k.api_key }), 403, "2407");
    houseError(await app.request("DELETE", `/v1/keys/${k.key_id}`, { key: k.api_key }), 403, "2407");
    houseError(await app.request("GET", "/v1/keys"), 401, "1136");
    const n = await app.db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE account_id = ?").bind(s.accountId).first();
    assert.equal(n.n, 1);
  });

  test("at most 20 live keys per account; revoking one makes room", async () => {
    const s = await signUp(app);
    const keys = [];
    for (let i = 0; i < 20; i++) keys.push(await createKey(app, s.token, `k${i}`));
    const over = await app.request("POST", "/v1/keys", { key: s.token, body: { name: "one too many" } });
    houseError(over, 409, "2408");
    assert.equal((await app.request("DELETE", `/v1/keys/${keys[0].key_id}`, { key: s.token })).status, 200);
    assert.equal((await app.request("POST", "/v1/keys", { key: s.token, body: { name: "replacement" } })).status, 201);
    houseError(await app.request("POST", "/v1/keys", { key: s.token, body: { name: "again too many" } }), 409, "2408");
  });

  test("20 live keys hold under parallel creation", async () => {
    const s = await signUp(app);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => app.request("POST", "/v1/keys", { key: s.token, body: { name: `p${i}` } })));
    assert.equal(results.filter((r) => r.status === 201).length, 20);
    assert.equal(results.filter((r) => r.status === 409).length, 10);
    const live = await app.db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE account_id = ? AND revoked_at IS NULL").bind(s.accountId).first();
    assert.equal(live.n, 20);
  });

  test("a bad key name is refused", async () => {
    const s = await signUp(app);
    houseError(await app.request("POST", "/v1/keys", { key: s.token, body: { name: "x".repeat(101) } }), 400, "2004");
    houseError(await app.request("POST", "/v1/keys", { key: s.token, body: { name: 5 } }), 400, "2004");
  });
});

describe("customer templates", () => {
  test("POST/GET/DELETE /v1/templates: own templates plus the operator's shared ones", async () => {
    const s = await signUp(app);
    const shared = await app.request("POST", "/admin/templates", { admin: true, body: { name: "shared", channel: "sms", body: "Your code is {code}" } });
    assert.equal(shared.status, 201, shared.text);

    const mine = await app.request("POST", "/v1/templates", { key: s.token, body: { name: "welcome", channel: "SMS", body: "Hi {name}, code {code}" } });
    assert.equal(mine.status, 201, mine.text);
    assert.match(mine.body.template_id, /^[0-9a-f-]{36}$/);
    assert.equal(mine.body.channel, "sms");
    assert.equal(mine.body.shared, false);
    assert.deepEqual(mine.body.variables.sort(), ["code", "name"]);

    const list = await app.request("GET", "/v1/templates", { key: s.token });
    assert.equal(list.status, 200, list.text);
    const ids = list.body.templates.map((t) => t.template_id);
    assert.ok(ids.includes(mine.body.template_id));
    assert.ok(ids.includes(shared.body.template_id));
    assert.equal(list.body.templates.find((t) => t.template_id === shared.body.template_id).shared, true);

    const one = await app.request("GET", `/v1/templates/${mine.body.template_id}`, { key: s.token });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.body.body, "Hi {name}, code {code}");
    assert.equal((await app.request("GET", `/v1/templates/${shared.body.template_id}`, { key: s.token })).status, 200);

    // An API key manages templates too.
    const k = await createKey(app, s.token);
    assert.equal((await app.request("GET", "/v1/templates", { key: k.api_key })).status, 200);

    // The shared one cannot be deleted by a customer.
    houseError(await app.request("DELETE", `/v1/templates/${shared.body.template_id}`, { key: s.token }), 403, "2012");
    const del = await app.request("DELETE", `/v1/templates/${mine.body.template_id}`, { key: k.api_key });
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.body, { template_id: mine.body.template_id, deleted: true });
    houseError(await app.request("GET", `/v1/templates/${mine.body.template_id}`, { key: s.token }), 404, "2008");
    assert.ok(!(await app.request("GET", "/v1/templates", { key: s.token })).body.templates.some((t) => t.template_id === mine.body.template_id));
  });

  test("same rules as the admin route: bad brace 2204, bad channel 1515", async () => {
    const s = await signUp(app);
    houseError(await app.request("POST", "/v1/templates", { key: s.token, body: { name: "t", channel: "sms", body: "Code {code" } }), 400, "2204");
    houseError(await app.request("POST", "/v1/templates", { key: s.token, body: { name: "t", channel: "fax", body: "x" } }), 400, "1515");
    houseError(await app.request("POST", "/v1/templates", { body: { name: "t", channel: "sms", body: "x" } }), 401, "1136");
  });
});

describe("operator: accounts list and approval", () => {
  test("GET /admin/accounts?page&limit lists email, name, approved, balance, created; newest first", async () => {
    const a = await signUp(app, { name: "List A" });
    const b = await signUp(app, { name: "List B" });
    await app.request("POST", `/admin/accounts/${b.accountId}/topup`, { admin: true, body: { amount: "3.25", reference: "list-b" } });
    const r = await app.request("GET", "/admin/accounts?page=1&limit=2", { admin: true });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.accounts.length, 2);
    const [first, second] = r.body.accounts;
    assert.equal(first.account_id, b.accountId);
    assert.equal(second.account_id, a.accountId);
    assert.equal(first.email, b.email);
    assert.equal(first.name, "List B");
    assert.equal(first.approved, true);
    assert.equal(first.balance, "3.25");
    assert.equal(first.currency, "USD");
    assert.match(first.created_at, RFC3339);
    assert.equal(JSON.stringify(r.body).includes("password"), false);
    const { page, limit, total, total_pages } = r.body.pagination;
    assert.deepEqual({ page, limit }, { page: 1, limit: 2 });
    assert.ok(total >= 2);
    assert.equal(total_pages, Math.ceil(total / 2));
    // An operator-made account has no email.
    const op = await app.createAccount("operator made");
    const all = await app.request("GET", `/admin/accounts?limit=100`, { admin: true });
    assert.equal(all.body.accounts.find((x) => x.account_id === op.accountId).email, null);

    houseError(await app.request("GET", "/admin/accounts?limit=500", { admin: true }), 400, "2015");
    houseError(await app.request("GET", "/admin/accounts?page=0", { admin: true }), 400, "2015");
    houseError(await app.request("GET", "/admin/accounts", { key: a.token }), 401, "1136");
  });

  test("POST /admin/accounts/{id}/approve; unknown id → 404", async () => {
    const s = await signUp(app);
    const r = await app.request("POST", `/admin/accounts/${s.accountId}/approve`, { admin: true });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { account_id: s.accountId, approved: true });
    houseError(await app.request("POST", "/admin/accounts/nope/approve", { admin: true }), 404, "2008");
  });
});

describe("idle expiry", () => {
  test("a session unused for SESSION_IDLE_SECS is dead", async () => {
    const short = await spawnAccountsApp({ vars: { SESSION_IDLE_SECS: "2" } });
    try {
      const s = await signUp(short);
      assert.equal((await short.request("GET", "/api/v1/auth/session", { key: s.token })).status, 200);
      await new Promise((r) => setTimeout(r, 2300));
      assert.equal((await short.request("GET", "/api/v1/auth/session", { key: s.token })).status, 401);
      assert.equal((await short.request("GET", "/api/internal/balance", { key: s.token })).status, 401);
    } finally {
      await short.close();
    }
  });
});

describe("the auth rate-limit group", () => {
  test("/api/v1/auth/* is limited per IP (RATE_LIMIT_AUTH)", async () => {
    const limited = await spawnAccountsApp({ vars: { RATE_LIMIT_AUTH: "3" } });
    try {
      const ip = freshIp();
      await awayFromWindowEdge(5);
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.request("GET", "/api/v1/auth/session", { headers: { "CF-Connecting-IP": ip } })).status);
      assert.deepEqual(statuses, [401, 401, 401, 429]);
      const other = await limited.request("GET", "/api/v1/auth/session", { headers: { "CF-Connecting-IP": freshIp() } });
      assert.equal(other.status, 401);
      assert.equal(other.headers.get("x-ratelimit-limit"), "3");
    } finally {
      await limited.close();
    }
  });
});

