// The operator console in a real browser: Debian's Chromium driven by playwright-core, against
// the built Worker (with its static assets) in workerd through Miniflare. The operator signs
// in with the admin token once, finds an account, adjusts its balance with a reason, and the
// ledger, the balance and the audit log agree, on the page and through the API.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnApp } from "./support/app.mjs";
import { openPage, handledAnswer } from "./support/browser.mjs";
import { signUp, freshEmail } from "./accounts-support.mjs";
import { seed } from "./support/activations.mjs";

const REASON = "refund of the duplicate top-up, ticket 4411";

let app, browser, context, page, customer;
const consoleErrors = [];

/** Network answers the console expects and handles (logged by Chromium as errors). */
const expected = (msg) =>
  handledAnswer(msg, [
    [(url) => url.endsWith("/admin/session"), 401],
    [(url) => url.includes("/admin/stats/"), 404],
  ]);

before(async () => {
  app = await spawnApp({ vars: { RATE_LIMIT_AUTH: "100000", RATE_LIMIT_PRODUCT: "100000" } });
  await seed(app, { us: 2, pk: 0 });
  customer = await signUp(app, { email: freshEmail("console"), name: "Console Customer" });
  const t = await app.request("POST", `/admin/accounts/${customer.accountId}/topup`, { admin: true, body: { amount: "10.00", reference: "wire-1" } });
  assert.equal(t.status, 200, t.text);
  ({ browser, context, page } = await openPage({ errors: consoleErrors, expected }));
});

after(async () => {
  await browser?.close();
  await app?.close();
});

const heading = (name) => page.getByRole("heading", { level: 1, name });
const nav = (name) => page.getByRole("navigation", { name: "Console" }).getByRole("link", { name, exact: true });
const status = () => page.locator("#status");

test("the console is a static asset under /admin/; the operator API stays the Worker's", async () => {
  const res = await fetch(new URL("/admin/", app.url));
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /text\/html/);
  assert.match(res.headers.get("content-security-policy"), /script-src 'self'/);
  assert.match(await res.text(), /<script type="module" src="\/admin\/console\/main\.js"><\/script>/);
  assert.equal((await fetch(new URL("/admin/accounts", app.url))).status, 401);
});

test("journey: sign in, find an account, adjust it with a reason; ledger, balance and audit agree", async () => {
  await page.goto(new URL("/admin/", app.url).href);
  await heading("Sign in").waitFor();
  await page.getByLabel("Admin token").fill("not the token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#alert").filter({ hasText: /./ }).waitFor();
  await page.getByLabel("Admin token").fill(app.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await heading("Accounts").waitFor();

  const [cookie] = (await context.cookies()).filter((c) => c.name === "otpedge_admin");
  assert.ok(cookie, "the session cookie is set");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(cookie.path, "/admin");
  assert.equal(await page.evaluate(() => document.cookie), "", "scripts cannot read it");

  await page.getByLabel("Search").fill(customer.email.slice(0, 14));
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: "Console Customer" }).click();
  await heading("Account Console Customer").waitFor();
  assert.equal(await page.locator("#balance").textContent(), "10.00 USD");

  await page.getByLabel("Amount", { exact: true }).fill("-2.50");
  await page.getByLabel("Reason", { exact: true }).fill(REASON);
  await page.getByRole("button", { name: "Adjust" }).click();
  await status().filter({ hasText: "Adjusted by -2.50; the balance is 7.50 USD." }).waitFor();
  assert.equal(await page.locator("#balance").textContent(), "7.50 USD");
  const ledgerRow = page.getByRole("region", { name: "Ledger, newest first" }).getByRole("row").nth(1);
  assert.match(await ledgerRow.textContent(), /adjustment\s*-2\.50\s*7\.50/);
  const auditRow = page.getByRole("region", { name: "Audit trail of this account" }).getByRole("row").nth(1);
  const auditText = await auditRow.textContent();
  assert.match(auditText, /wallet\.adjust/);
  assert.ok(auditText.includes(REASON), auditText);

  // The same facts through the API.
  const id = customer.accountId;
  const account = await app.request("GET", `/admin/accounts/${id}`, { admin: true });
  assert.equal(account.body.balance, "7.50");
  const ledger = await app.request("GET", `/admin/accounts/${id}/ledger`, { admin: true });
  const [entry] = ledger.body.entries;
  assert.deepEqual([entry.kind, entry.amount, entry.balance_after], ["adjustment", "-2.50", "7.50"]);
  // Walked by keyset, one row a page: the adjustment, then the top-up before it, then nothing.
  const first = await app.request("GET", `/admin/accounts/${id}/ledger?limit=1`, { admin: true });
  assert.equal(first.body.pagination.next_cursor, entry.transaction_id);
  const after = await app.request("GET", `/admin/accounts/${id}/ledger?limit=1&after=${entry.transaction_id}`, { admin: true });
  const [topup] = after.body.entries;
  assert.deepEqual([topup.kind, topup.balance_after], ["topup", "10.00"]);
  assert.deepEqual(after.body.pagination, { page: null, limit: 1, total: 2, total_pages: 2, next_cursor: topup.transaction_id });
  const end = await app.request("GET", `/admin/accounts/${id}/ledger?limit=1&after=${topup.transaction_id}`, { admin: true });
  assert.deepEqual([end.body.entries, end.body.pagination.next_cursor], [[], null]);
  const audit = await app.request("GET", `/admin/audit?account=${id}&action=wallet.adjust`, { admin: true });
  assert.equal(audit.body.events.length, 1);
  const [event] = audit.body.events;
  assert.equal(event.resource_id, entry.transaction_id);
  assert.equal(event.reason, REASON);
  assert.equal(event.actor_type, "admin");
  assert.match(event.actor_id, /^adm_/, "the console session is the actor");
  assert.deepEqual([event.before.balance_minor, event.after.balance_minor, event.after.amount_minor], [100000, 75000, -25000]);
  const money = await app.money(id);
  assert.deepEqual(money, { balance: 75000, ledgerSum: 75000, ledgerRows: 2 });
  const own = await app.request("GET", "/v1/audit?action=wallet.adjust", { key: customer.token });
  assert.deepEqual(own.body.events.map((e) => e.reason), [REASON], "the customer sees it too");

  // The audit log page finds it by action.
  await nav("Audit log").click();
  await heading("Audit log").waitFor();
  await page.getByLabel("Action").fill("wallet.adjust");
  await page.getByRole("button", { name: "Show" }).click();
  await status().filter({ hasText: "Audit log updated." }).waitFor();
  const rows = page.getByRole("region", { name: "Audit events, newest first" }).getByRole("row");
  assert.equal(await rows.count(), 2, "a header and the one adjustment");
  assert.ok((await rows.nth(1).textContent()).includes(REASON));
});

test("suspend with a reason from the account page; the other pages render", async () => {
  await page.goto(new URL(`/admin/#/account/${customer.accountId}`, app.url).href);
  await heading("Account Console Customer").waitFor();
  await page.getByLabel("Reason for suspending").fill("KYC documents expired");
  await page.getByRole("button", { name: "Suspend" }).click();
  await status().filter({ hasText: "The account is suspended" }).waitFor();
  assert.equal((await app.request("GET", "/v1/balance", { key: customer.token })).status, 401);
  await page.getByLabel("Reason for reinstating").fill("documents renewed");
  await page.getByRole("button", { name: "Reinstate" }).click();
  await status().filter({ hasText: "The account is active again." }).waitFor();
  assert.equal((await app.request("GET", "/v1/balance", { key: customer.token })).status, 200);

  for (const [link, title, text] of [
    ["Suppliers and inventory", "Suppliers and inventory", "Suppliers"],
    ["Catalog and prices", "Catalog and prices", "Prices"],
    ["Statistics", "Statistics", "OTP sends"],
  ]) {
    await nav(link).click();
    await heading(title).waitFor();
    await page.getByText(text, { exact: true }).first().waitFor();
  }
  await page.goto(new URL(`/admin/#/fraud/${customer.accountId}`, app.url).href);
  await heading("Fraud guard").waitFor();
  await page.getByRole("heading", { name: "Safe list" }).waitFor();
});

test("signing out ends the session; the old cookie no longer works", async () => {
  const [cookie] = (await context.cookies()).filter((c) => c.name === "otpedge_admin");
  await page.getByRole("button", { name: "Sign out" }).click();
  await heading("Sign in").waitFor();
  assert.deepEqual((await context.cookies()).filter((c) => c.name === "otpedge_admin"), []);
  const stale = await app.request("GET", "/admin/accounts", { headers: { Cookie: `otpedge_admin=${cookie.value}` } });
  assert.equal(stale.status, 401);
  assert.deepEqual(consoleErrors, []);
});
