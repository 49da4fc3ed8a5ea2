// The customer dashboard in a real browser: Debian's Chromium driven by playwright-core,
// against the built Worker (with its static assets) in workerd through Miniflare. Elements
// are found by label and role, as assistive technology finds them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";

const TITLES = { overview: "Overview", keys: "API keys", numbers: "Numbers", rents: "Rents", otp: "OTP", templates: "Templates", webhooks: "Webhooks", transactions: "Transactions", outbox: "Sandbox outbox", stats: "Statistics", login: "Log in", signup: "Sign up" };
import { spawnApp, ROOT } from "./support/app.mjs";
import { openPage, handledAnswer } from "./support/browser.mjs";
import { seed, pushSms, sleep } from "./support/activations.mjs";

const SHOTS = path.join(ROOT, "test-output", "dashboard");
const WIDTHS = [375, 1280];
const EMAIL = "Ana.Customer@Example.com";
const PASSWORD = "violet-harbor-engine-42";

let app, supplier, browser, context, page;
const consoleErrors = [];
const requests = [];
const shared = {};

/** Network answers the dashboard expects and handles (logged by Chromium as errors). */
const expected = (msg) =>
  handledAnswer(msg, [
    [(url) => url.endsWith("/api/v1/auth/session"), 401],
    [(url) => url.endsWith("/api/v1/auth/login"), 401],
    [(url) => url.endsWith("/v1/webhook") || url.endsWith("/v1/webhook/sms-activate"), 404],
  ]);

before(async () => {
  app = await spawnApp({
    vars: {
      RATE_LIMIT_AUTH: "100000",
      RATE_LIMIT_PRODUCT: "100000",
      RATE_LIMIT_PUBLIC: "100000",
      PRICES_CACHE_SECS: "0",
      ACTIVATION_CANCEL_LOCK_SECS: "3",
      SIGNUP_APPROVAL: "auto",
      OTP_HMAC_SECRET: "dashboard-test-otp-secret",
    },
  });
  supplier = await seed(app, { us: 6, pk: 6 });
  const permissions = ["clipboard-read", "clipboard-write"];
  const origin = new URL(app.url).origin;
  ({ browser, context, page } = await openPage({ errors: consoleErrors, expected, permissions, origin }));
  page.on("request", (r) => requests.push(new URL(r.url()).pathname + new URL(r.url()).search));
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await app?.close();
});

const heading = (name) => page.getByRole("heading", { level: 1, name });
const nav = (name) => page.getByRole("navigation", { name: "Dashboard" }).getByRole("link", { name, exact: true });

test("the dashboard is served by the Worker; API routes still reach the Worker", async () => {
  const res = await fetch(app.url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /text\/html/);
  assert.match(res.headers.get("content-security-policy"), /default-src 'self'; script-src 'self'/);
  assert.equal((await fetch(new URL("/_headers", app.url))).status, 404, "config files are not served");
  const html = await res.text();
  assert.match(html, /<script type="module" src="\/app\/main\.js"><\/script>/);
  assert.doesNotMatch(html, /https?:\/\//, "nothing is loaded from another origin");
  const js = await fetch(new URL("/app/main.js", app.url));
  assert.equal(js.status, 200);
  assert.match(js.headers.get("content-type"), /javascript/);
  const health = await fetch(new URL("/healthz", app.url));
  assert.deepEqual(await health.json(), { ok: true });
  const api = await fetch(new URL("/v1/balance", app.url));
  assert.equal(api.status, 401);
});

test("journey: sign up, log in, key, buy, live SMS, complete, transactions, log out", async () => {
  await page.goto(String(app.url));
  await heading("Log in").waitFor();
  await page.getByRole("link", { name: "Create an account" }).click();
  await heading("Sign up").waitFor();
  await page.getByLabel("Name").fill("Ana");
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  const registered = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/register"));
  await page.getByRole("button", { name: "Create account" }).click();
  const reg = await (await registered).json();
  await heading("Overview").waitFor();
  const accountId = reg.account?.account_id ?? reg.account?.id ?? reg.account_id;
  assert.ok(accountId, `the register answer names the account: ${JSON.stringify(reg)}`);
  const topup = await app.request("POST", `/admin/accounts/${accountId}/topup`, { admin: true, body: { amount: "5.00", reference: "dash-seed" } });
  assert.equal(topup.status, 200, topup.text);

  // Log out, then log in with the same credentials (email in another case).
  await page.getByRole("button", { name: "Log out" }).click();
  await heading("Log in").waitFor();
  await page.getByLabel("Email").fill(EMAIL.toLowerCase());
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await heading("Overview").waitFor();
  await page.getByText("5 USD").or(page.getByText("5.0 USD")).first().waitFor();

  // A key, created and copied from the page, works on the API.
  await nav("API keys").click();
  await heading("API keys").waitFor();
  await page.getByLabel("Key name").fill("ci <b>bold</b>");
  await page.getByRole("button", { name: "Create key" }).click();
  const shown = page.getByLabel("New API key");
  const key = await shown.inputValue();
  assert.match(key, /^[A-Za-z0-9]{32}$/);
  await page.getByRole("button", { name: "Copy key" }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key, "the copy button copies the key");
  // The key's name is text, not markup.
  await page.getByRole("cell", { name: "ci <b>bold</b>", exact: true }).waitFor();
  assert.equal(await page.locator("table b").count(), 0);
  const bal = await app.request("GET", "/v1/balance", { key });
  assert.equal(bal.status, 200, bal.text);
  assert.equal(bal.body.balance, 5);
  shared.key = key;

  // Buy a number; the supplier's signed SMS shows up without a reload.
  await nav("Numbers").click();
  await heading("Numbers").waitFor();
  await page.evaluate(() => (window.__sameDocument = true));
  await page.getByRole("button", { name: /^Buy a telegram number in Pakistan/ }).click();
  const title = page.getByRole("heading", { level: 2, name: /^Number \+92/ });
  await title.waitFor();
  const number = (await title.textContent()).replace("Number ", "");
  await page.getByText("Waiting for an SMS…").waitFor();
  assert.ok(await page.getByRole("button", { name: "Complete" }).isDisabled(), "no complete before an SMS");
  const push = await pushSms(app, supplier.secret, { number, text: "Your Telegram code is 482913" });
  assert.equal(push.status, 200, push.text);
  await page.locator(".code strong").filter({ hasText: "482913" }).waitFor({ timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "no reload happened");
  assert.ok(requests.some((u) => /^\/v1\/activation\/act_\w+\/events$/.test(u)), "the page follows the activation's event stream");
  assert.ok(!requests.some((u) => u.includes("wait=")), "no long-poll fallback was needed");
  await page.getByRole("button", { name: "Complete" }).click();
  await page.getByRole("status").filter({ hasText: "Activation complete." }).waitFor();
  await page.getByText("complete", { exact: true }).first().waitFor();

  // The purchase is in the transaction list.
  await nav("Transactions").click();
  await heading("Transactions").waitFor();
  await page.getByRole("cell", { name: "purchase", exact: true }).first().waitFor();

  // Log out: the old session token is refused from then on.
  const cookies = await context.cookies(String(app.url));
  const sessionCookie = cookies.find((c) => c.httpOnly);
  assert.ok(sessionCookie, "a HttpOnly session cookie was set");
  const cookieHeader = `${sessionCookie.name}=${sessionCookie.value}`;
  const before = await app.request("GET", "/api/v1/auth/session", { headers: { Cookie: cookieHeader } });
  assert.equal(before.status, 200, before.text);
  await page.getByRole("button", { name: "Log out" }).click();
  await heading("Log in").waitFor();
  await page.getByRole("status").filter({ hasText: "You are logged out." }).waitFor();
  const afterCookie = await app.request("GET", "/api/v1/auth/session", { headers: { Cookie: cookieHeader } });
  assert.equal(afterCookie.status, 401);
  const afterBearer = await app.request("GET", "/api/user/profile", { key: sessionCookie.value });
  assert.equal(afterBearer.status, 401);
});

test("an SMS holding markup is shown as text and runs nothing", async () => {
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await heading("Overview").waitFor();
  await nav("Numbers").click();
  await page.getByRole("button", { name: /^Buy a telegram number in United States/ }).first().click();
  const title = page.getByRole("heading", { level: 2, name: /^Number \+1/ });
  await title.waitFor();
  const number = (await title.textContent()).replace("Number ", "");
  const evil = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> code 551177`;
  const push = await pushSms(app, supplier.secret, { number, text: evil, from: "<b>x</b>" });
  assert.equal(push.status, 200, push.text);
  await page.locator(".sms .text").filter({ hasText: "<img src=x" }).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator(".sms .text").first().textContent(), evil);
  assert.equal(await page.locator(".sms img, .sms script, .sms b").count(), 0);
  await sleep(300);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
});

test("statistics: each chart drawn, with the API's numbers in the table beside it", async () => {
  const key = shared.key;
  const phones = ["+14155550111", "+14155550122"];
  const sent = [];
  for (const to of phones) {
    const r = await app.request("POST", "/v1/otp/send", { key, body: { to, channel: "sms" } });
    assert.equal(r.status, 200, r.text);
    sent.push(r.body.session_id);
  }
  const outbox = await app.request("GET", `/admin/outbox?to=${encodeURIComponent(phones[0])}`, { admin: true });
  const code = outbox.body.messages[0].text.match(/\b(\d{4,12})\b/)[1];
  assert.equal((await app.request("POST", "/v1/otp/verify", { key, body: { session_id: sent[0], code } })).status, 200);
  const api = async (q) => (await app.request("GET", `/v1/stats/${q}`, { key })).body.rows;
  const [day] = await api("otp?group_by=day");
  assert.deepEqual([day.sends, day.verified, day.conversion_rate], [2, 1, 0.5]);
  const [actDay] = await api("activations?group_by=day");
  const telegram = (await api("activations?group_by=service")).find((r) => r.key === "telegram");
  assert.deepEqual([telegram.orders, telegram.completed, telegram.success_rate], [2, 1, 0.5]);

  await nav("Statistics").click();
  await page.locator("main[aria-busy=false] h1").filter({ hasText: "Statistics" }).waitFor();
  const rowOf = (caption, first) =>
    page.getByRole("table", { name: caption }).getByRole("row").filter({ has: page.getByRole("cell", { name: first, exact: true }) });
  const cells = async (caption, first) => (await rowOf(caption, first).getByRole("cell").allTextContents()).map((t) => t.trim());
  assert.deepEqual(await cells("Sends and verified codes per day", day.key), [day.key, "2", "1", "50.0%", "0"]);
  assert.deepEqual(await cells("Conversion by country", "US"), ["US", "2", "1", "50.0%"]);
  const money = (n) => n.toFixed(4).replace(/(\.\d\d\d*?)0+$/, "$1");
  assert.deepEqual(await cells("Spend per day", day.key), [day.key, money(day.spend), money(actDay.spend), money(day.spend + actDay.spend)]);
  assert.deepEqual(await cells("Activation success rate by service", "telegram"), ["telegram", "2", "1", "0", "0", "50.0%"]);
  assert.equal(day.spend, 0.015);
  // Each of the four charts is drawn (uPlot's canvas), beside its table.
  assert.equal(await page.locator(".chart-pair .chart canvas").count(), 4);
  assert.equal(await page.locator('.chart[aria-hidden="true"]').count(), 4);
  assert.ok(requests.includes("/vendor/uPlot.esm.js"), "the chart library is served from this origin");
});

test("the Webhooks page sets and removes the sms-activate webhook URL", async () => {
  await page.goto(`${app.url}#/webhooks`);
  await page.locator("main[aria-busy=false] h1").filter({ hasText: "Webhooks" }).waitFor();
  await page.getByText("No sms-activate webhook.").waitFor();
  await page.getByLabel("sms-activate webhook URL").fill("https://example.com/sms");
  await page.getByRole("button", { name: "Save sms-activate webhook" }).click();
  await page.getByText("SMS go to").waitFor();
  assert.match(await page.getByText("SMS go to").textContent(), /https:\/\/example\.com\/sms/);
  await page.getByRole("button", { name: "Remove sms-activate webhook" }).click();
  await page.getByText("No sms-activate webhook.").waitFor();
});

test("every page at 375 px and 1280 px: screenshots, no horizontal overflow, labelled controls", async () => {
  const pages = ["overview", "keys", "numbers", "rents", "otp", "templates", "webhooks", "transactions", "outbox", "stats"];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    for (const p of pages) {
      await page.goto(`${app.url}#/${p}`);
      await page.locator("main[aria-busy=false] h1").filter({ hasText: TITLES[p] }).waitFor();
      await page.waitForLoadState("networkidle");
      await page.screenshot({ path: path.join(SHOTS, `${p}-${width}.png`), fullPage: true });
      const audit = await page.evaluate(() => {
        const problems = [];
        for (const el of document.querySelectorAll("input, select, textarea")) {
          if (!el.labels?.length && !el.getAttribute("aria-label")) problems.push(`unlabelled ${el.outerHTML.slice(0, 60)}`);
        }
        for (const b of document.querySelectorAll("button")) {
          if (!(b.getAttribute("aria-label") || b.textContent.trim())) problems.push("a button without a name");
        }
        const stray = document.querySelector("main").innerText.match(/\b(null|undefined|NaN)\b|\[object /);
        if (stray) problems.push(`stray "${stray[0]}" on the page`);
        return { problems, overflow: document.documentElement.scrollWidth - window.innerWidth };
      });
      assert.deepEqual(audit.problems, [], `${p} at ${width}px`);
      assert.ok(audit.overflow <= 0, `${p} at ${width}px overflows by ${audit.overflow}px`);
    }
  }
  // Signed out: the sign-up and log-in pages.
  await page.getByRole("button", { name: "Log out" }).click();
  await heading("Log in").waitFor();
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    for (const p of ["login", "signup"]) {
      await page.goto(`${app.url}#/${p}`);
      await page.locator("main[aria-busy=false] h1").filter({ hasText: TITLES[p] }).waitFor();
      await page.screenshot({ path: path.join(SHOTS, `${p}-${width}.png`), fullPage: true });
    }
  }
});

test("errors are announced", async () => {
  await page.goto(`${app.url}#/login`);
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill("not-the-password-1");
  await page.getByRole("button", { name: "Log in" }).click();
  const alert = page.getByRole("alert");
  await alert.filter({ hasText: /\S/ }).waitFor();
  assert.ok((await alert.textContent()).length > 0);
});

test("no console errors", () => {
  assert.deepEqual(consoleErrors, []);
});
