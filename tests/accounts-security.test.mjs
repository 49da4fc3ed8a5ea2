// Customer accounts, the attacker's side: enumeration, failed-login lockout,
// CSRF, isolation between accounts, manual approval, parallel sign-ups, and secrets that are
// never logged nor stored in the clear.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { spawnAccountsApp, signUp, register, login, freshEmail, freshIp, cookieRequest, createKey, houseError, PASSWORD, ORIGIN } from "./accounts-support.mjs";

const logs = [];
let app;
before(async () => {
  app = await spawnAccountsApp({ log: (line) => logs.push(line) });
});
after(() => app?.close());

/** The house envelope without its timestamp (which may tick between two requests). */
function withoutTimestamp(body) {
  return { errors: body.errors.map(({ timestamp, ...rest }) => rest) };
}

describe("enumeration", () => {
  test("an unknown email and a wrong password get the same status, body and cookie", async () => {
    const s = await signUp(app);
    const unknown = await login(app, { email: freshEmail("nobody"), password: "a wrong passphrase" });
    const wrong = await login(app, { email: s.email, password: "a wrong passphrase" });
    houseError(unknown.r, 401, "2400");
    houseError(wrong.r, 401, "2400");
    assert.deepEqual(withoutTimestamp(unknown.r.body), withoutTimestamp(wrong.r.body));
    assert.equal(unknown.r.headers.get("set-cookie"), wrong.r.headers.get("set-cookie"));

    // Both run one argon2id hash (an unknown email against a dummy): how long each takes is
    // measured by the bench (`node bench/login.mjs`, "unknown email"), not asserted here.
  });
});

describe("failed-login lockout", () => {
  test("10 failures for one email → the next attempt is 429 with Retry-After, even with the right password, from any IP", async () => {
    const s = await signUp(app);
    for (let i = 0; i < 10; i++) {
      houseError((await login(app, { email: s.email, password: `wrong guess number ${i}` })).r, 401, "2400");
    }
    const locked = await login(app, { email: s.email });
    const e = houseError(locked.r, 429, "2404");
    const retry = Number(locked.r.headers.get("retry-after"));
    assert.ok(retry > 800 && retry <= 900, `Retry-After ${retry}`);
    assert.ok(e.message.length > 10);
    assert.equal(locked.token, undefined);
    // The lock is per email: another account is unaffected, and the right password from
    // yet another IP is still refused.
    const other = await signUp(app);
    assert.equal((await login(app, { email: other.email })).r.status, 200);
    houseError((await login(app, { email: s.email.toUpperCase() })).r, 429, "2404");
    // Sessions already open stay open.
    assert.equal((await app.request("GET", "/api/v1/auth/session", { key: s.token })).status, 200);
  });

  test("an unknown email locks exactly like a known one (no enumeration through the lock)", async () => {
    const ghost = freshEmail("ghost");
    for (let i = 0; i < 10; i++) houseError((await login(app, { email: ghost, password: `guess ${i} guess` })).r, 401, "2400");
    houseError((await login(app, { email: ghost, password: "guess again guess" })).r, 429, "2404");
    assert.equal((await app.db.prepare("SELECT COUNT(*) AS n FROM login_throttle WHERE subject LIKE ?").bind(`%${ghost}%`).first()).n, 0, "no address in the clear");
  });

  test("a success resets the count", async () => {
    const s = await signUp(app);
    for (let i = 0; i < 9; i++) await login(app, { email: s.email, password: `wrong guess ${i}` });
    assert.equal((await login(app, { email: s.email })).r.status, 200);
    for (let i = 0; i < 9; i++) assert.equal((await login(app, { email: s.email, password: `wrong again ${i}` })).r.status, 401);
    assert.equal((await login(app, { email: s.email })).r.status, 200);
  });

  test("30 parallel wrong passwords for one email: at most 10 are checked, the rest get 429", async () => {
    const s = await signUp(app);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => login(app, { email: s.email, password: `parallel guess ${i}` })));
    const statuses = results.map((x) => x.r.status);
    assert.equal(statuses.filter((c) => c === 401).length, 10, statuses.join(","));
    assert.equal(statuses.filter((c) => c === 429).length, 20, statuses.join(","));
    for (const x of results.filter((x) => x.r.status === 429)) assert.ok(Number(x.r.headers.get("retry-after")) >= 1);
  });

  test("per IP: one client guessing across many emails is locked too", async () => {
    const ipApp = await spawnAccountsApp({ vars: { LOGIN_MAX_FAILURES_PER_IP: "5" } });
    try {
      const ip = freshIp();
      for (let i = 0; i < 5; i++) houseError((await login(ipApp, { email: freshEmail("spray"), password: "Summer2024!!", ip })).r, 401, "2400");
      const r = (await login(ipApp, { email: freshEmail("spray"), password: "Summer2024!!", ip })).r;
      houseError(r, 429, "2404");
      assert.ok(Number(r.headers.get("retry-after")) > 800);
      // Another IP may still log in.
      const s = await signUp(ipApp);
      assert.equal((await login(ipApp, { email: s.email })).r.status, 200);
    } finally {
      await ipApp.close();
    }
  });
});

describe("CSRF", () => {
  test("a cookie-authenticated POST from another origin (or with no Origin) is refused and changes nothing", async () => {
    const s = await signUp(app);
    const count = async () => (await app.db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE account_id = ?").bind(s.accountId).first()).n;
    const n0 = await count();
    for (const origin of ["https://evil.example", "http://localhost:9999", "null", null]) {
      const r = await cookieRequest(app, s.token, origin)("POST", "/v1/keys", { body: { name: "csrf" } });
      houseError(r, 403, "2406");
    }
    assert.equal(await count(), n0);
    // A cross-origin logout or password change through the cookie does nothing either.
    houseError(await cookieRequest(app, s.token, "https://evil.example")("POST", "/api/v1/auth/logout"), 403, "2406");
    houseError(await cookieRequest(app, s.token, "https://evil.example")("POST", "/api/v1/auth/password", { body: { current_password: PASSWORD, new_password: "attacker chosen phrase" } }), 403, "2406");
    assert.equal((await app.request("GET", "/api/v1/auth/session", { key: s.token })).status, 200);
    assert.equal((await login(app, { email: s.email })).r.status, 200);

    // Same origin: fine. A Bearer token needs no Origin at all. A GET through the cookie neither.
    assert.equal((await cookieRequest(app, s.token, ORIGIN)("POST", "/v1/keys", { body: { name: "same origin" } })).status, 201);
    assert.equal((await app.request("POST", "/v1/keys", { key: s.token, body: { name: "bearer" } })).status, 201);
    assert.equal((await cookieRequest(app, s.token, "https://evil.example")("GET", "/v1/keys")).status, 200);
    assert.equal(await count(), n0 + 2);
  });

  test("a cross-origin DELETE of a key through the cookie is refused; the key still works", async () => {
    const s = await signUp(app);
    const k = await createKey(app, s.token);
    houseError(await cookieRequest(app, s.token, "https://evil.example")("DELETE", `/v1/keys/${k.key_id}`), 403, "2406");
    assert.equal((await app.request("GET", "/v1/balance", { key: k.api_key })).status, 200);
  });

  test("login from another origin's page is refused (login CSRF); without Origin (curl) it is fine", async () => {
    const s = await signUp(app);
    houseError((await login(app, { email: s.email, headers: { Origin: "https://evil.example" } })).r, 403, "2406");
    assert.equal((await login(app, { email: s.email, headers: { Origin: ORIGIN } })).r.status, 200);
  });
});

describe("isolation", () => {
  test("one account cannot see or revoke another's keys, templates or sessions", async () => {
    const a = await signUp(app, { name: "Alice" });
    const b = await signUp(app, { name: "Bob" });
    const aKey = await createKey(app, a.token, "alice key");
    const aTpl = await app.request("POST", "/v1/templates", { key: a.token, body: { name: "alice", channel: "sms", body: "Alice says {code}" } });
    assert.equal(aTpl.status, 201, aTpl.text);
    const aSessions = (await app.request("GET", "/api/v1/auth/sessions", { key: a.token })).body.sessions;

    // Keys.
    const bKeys = await app.request("GET", "/v1/keys", { key: b.token });
    assert.equal(bKeys.status, 200);
    assert.equal(bKeys.body.keys.some((k) => k.key_id === aKey.key_id), false);
    houseError(await app.request("DELETE", `/v1/keys/${aKey.key_id}`, { key: b.token }), 404, "2008");
    assert.equal((await app.request("GET", "/v1/balance", { key: aKey.api_key })).status, 200);

    // Templates: not listed, not readable, not deletable, not usable.
    const bTpls = await app.request("GET", "/v1/templates", { key: b.token });
    assert.equal(bTpls.body.templates.some((t) => t.template_id === aTpl.body.template_id), false);
    houseError(await app.request("GET", `/v1/templates/${aTpl.body.template_id}`, { key: b.token }), 404, "2008");
    houseError(await app.request("DELETE", `/v1/templates/${aTpl.body.template_id}`, { key: b.token }), 404, "2008");
    const bKey = await createKey(app, b.token);
    const send = await app.request("POST", "/v1/messages/send", { key: bKey.api_key, body: { phone_number: "+14155550199", template_id: aTpl.body.template_id } });
    houseError(send, 400, "1513");
    assert.equal((await app.request("GET", `/v1/templates/${aTpl.body.template_id}`, { key: a.token })).status, 200);

    // Sessions.
    const bSessions = (await app.request("GET", "/api/v1/auth/sessions", { key: b.token })).body.sessions;
    assert.equal(bSessions.some((x) => aSessions.some((y) => y.session_id === x.session_id)), false);
    houseError(await app.request("DELETE", `/api/v1/auth/sessions/${aSessions[0].session_id}`, { key: b.token }), 404, "2008");
    assert.equal((await app.request("GET", "/api/v1/auth/session", { key: a.token })).status, 200);
  });
});

describe("manual approval", () => {
  test("SIGNUP_APPROVAL=manual: log in and look around, but money moves are 403 until the operator approves", async () => {
    const m = await spawnAccountsApp({ vars: { SIGNUP_APPROVAL: "manual", OTP_HMAC_SECRET: "test-otp-hmac-secret" } });
    try {
      const cat = await m.request("PUT", "/admin/catalog", { admin: true, body: { countries: [{ code: "US", name: "United States" }], otp_prices: [{ country: "US", channel: "sms", cost: "0.0075" }] } });
      assert.equal(cat.status, 200, cat.text);
      const s = await signUp(m);
      assert.equal(s.r.body.account.approved, false);
      await m.request("POST", `/admin/accounts/${s.accountId}/topup`, { admin: true, body: { amount: "5.00", reference: `seed-${randomBytes(4).toString("hex")}` } });
      const l = await login(m, { email: s.email });
      assert.equal(l.r.status, 200, "an unapproved account can log in");
      assert.equal(l.r.body.account.approved, false);
      assert.equal((await m.request("GET", "/api/v1/auth/session", { key: l.token })).body.account.approved, false);
      const bal = await m.request("GET", "/api/internal/balance", { key: l.token });
      assert.equal(bal.body.isApproved, false);
      assert.equal(bal.body.balance, 5);
      assert.equal((await m.request("GET", "/api/user/profile", { key: l.token })).body.data.isApproved, false);
      const k = await createKey(m, l.token);

      const money = () => m.money(s.accountId);
      const before = await money();
      const send = await m.request("POST", "/v1/otp/send", { key: k.api_key, body: { to: "+14155550123", channel: "sms" } });
      const e = houseError(send, 403, "2405");
      assert.match(e.message, /approv/i);
      const getotp = await m.request("POST", "/api/verify/", { key: k.api_key, body: { data: { channel: "sms", sender: "Shop", phone: "+14155550124", template: "Code {code}" } } });
      assert.equal(getotp.status, 403, getotp.text);
      const rent = await m.request("POST", "/api/internal/rent", { key: l.token, body: { service: "telegram", country: "US" } });
      assert.equal(rent.status, 403, rent.text);
      assert.equal(rent.body.success, false);
      assert.equal(rent.body.code, "2405");
      const buy = await m.request("POST", "/v1/number", { key: k.api_key, body: { service: "telegram", country: "US" } });
      houseError(buy, 403, "2405");
      assert.deepEqual(await money(), before, "nothing charged");
      const outbox = await m.request("GET", "/admin/outbox?to=%2B14155550123", { admin: true });
      assert.equal(outbox.body.messages.length, 0);

      const listed = (await m.request("GET", "/admin/accounts?limit=100", { admin: true })).body.accounts.find((x) => x.account_id === s.accountId);
      assert.equal(listed.approved, false);
      const ok = await m.request("POST", `/admin/accounts/${s.accountId}/approve`, { admin: true });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await m.request("GET", "/api/internal/balance", { key: l.token })).body.isApproved, true);
      const sent = await m.request("POST", "/v1/otp/send", { key: k.api_key, body: { to: "+14155550123", channel: "sms" } });
      assert.equal(sent.status, 200, sent.text);
      assert.equal((await money()).balance, before.balance - 75);
    } finally {
      await m.close();
    }
  });
});

describe("parallel sign-ups", () => {
  test("30 parallel registrations of one email (any case) → exactly one account", async () => {
    const email = freshEmail("race");
    const variants = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? email.toUpperCase() : i % 3 === 1 ? ` ${email}` : email));
    const results = await Promise.all(variants.map((e, i) => register(app, { email: e, password: `${PASSWORD} ${i}` })));
    const statuses = results.map((x) => x.r.status);
    assert.equal(statuses.filter((c) => c === 201).length, 1, statuses.join(","));
    assert.equal(statuses.filter((c) => c === 409).length, 29, statuses.join(","));
    const n = await app.db.prepare("SELECT COUNT(*) AS n FROM accounts WHERE email = ?").bind(email).first();
    assert.equal(n.n, 1);
    const winner = results.find((x) => x.r.status === 201);
    const w = await app.db.prepare("SELECT COUNT(*) AS n FROM wallets WHERE account_id = ?").bind(winner.accountId).first();
    assert.equal(w.n, 1);
    // The winner's password is the one that logs in.
    assert.equal((await login(app, { email, password: winner.password })).r.status, 200);
  });
});

describe("secrets", () => {
  test("no password, session token or API key is ever logged or stored in the clear", async () => {
    const secrets = [];
    const pw = `Secret-${randomBytes(8).toString("hex")}-passphrase`;
    const pw2 = `Second-${randomBytes(8).toString("hex")}-passphrase`;
    secrets.push(pw, pw2);
    const s = await signUp(app, { password: pw });
    secrets.push(s.token);
    const l = await login(app, { email: s.email, password: pw });
    secrets.push(l.token);
    // Failures and odd inputs too: a wrong password, an unknown email, a bad body.
    const wrongPw = `Wrong-${randomBytes(8).toString("hex")}-passphrase`;
    secrets.push(wrongPw);
    await login(app, { email: s.email, password: wrongPw });
    await login(app, { email: freshEmail(), password: wrongPw });
    await app.request("POST", "/api/v1/auth/login", { headers: { "Content-Type": "application/json" }, raw: `{"email":"x@example.com","password":"${wrongPw}"` });
    await app.request("POST", "/api/v1/auth/register", { body: { email: "bad", password: wrongPw } });
    const k = await createKey(app, l.token);
    secrets.push(k.api_key);
    await app.request("GET", "/v1/balance", { key: k.api_key });
    await app.request("GET", "/api/internal/balance", { key: l.token });
    await app.request("POST", "/api/v1/auth/password", { key: l.token, body: { current_password: pw, new_password: pw2 } });
    await app.request("DELETE", `/v1/keys/${k.key_id}`, { key: l.token });
    await app.request("GET", "/v1/balance", { key: k.api_key });
    await app.request("GET", "/api/v1/auth/session", { key: s.token });
    await app.request("POST", "/api/v1/auth/logout", { key: l.token });
    await app.request("GET", "/api/v1/auth/session", { key: l.token });
    await new Promise((r) => setTimeout(r, 300));

    const output = logs.join("");
    for (const secret of secrets) assert.equal(output.includes(secret), false, "a secret appears in the Worker's output");

    // Every text column of every table.
    const tables = (await app.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'").all()).results.map((t) => t.name);
    let rows = 0;
    for (const t of tables) {
      const all = (await app.db.prepare(`SELECT * FROM "${t}"`).all()).results;
      rows += all.length;
      const dump = JSON.stringify(all);
      for (const secret of secrets) assert.equal(dump.includes(secret), false, `a secret is stored in the clear in ${t}`);
    }
    assert.ok(rows > 0);
    const stored = await app.db.prepare("SELECT password_hash FROM accounts WHERE id = ?").bind(s.accountId).first();
    assert.match(stored.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
});
