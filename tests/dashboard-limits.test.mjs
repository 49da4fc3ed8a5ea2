// The dashboard's key page (scopes as checkboxes, caps, spent today and this month, last
// use, change, revoke) and limits page (the account's caps, usage alerts and the banner of
// alerts crossed this period), in Debian's Chromium driven by playwright-core against the
// built Worker, as tests/dashboard.test.mjs drives the rest. Each step is checked on the API.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { spawnApp, ROOT } from "./support/app.mjs";
import { openPage } from "./support/browser.mjs";
import { seed } from "./support/activations.mjs";
import { signUp, PASSWORD } from "./accounts-support.mjs";

const SHOTS = path.join(ROOT, "test-output", "dashboard");

let app, browser, page, session;
const consoleErrors = [];

before(async () => {
  app = await spawnApp({ vars: { RATE_LIMIT_AUTH: "100000", RATE_LIMIT_PRODUCT: "100000", RATE_LIMIT_PUBLIC: "100000", PRICES_CACHE_SECS: "0", SIGNUP_APPROVAL: "auto" } });
  await seed(app, { us: 10 });
  const codes = { countries: [{ code: "US", name: "United States", sms_activate_id: 187 }], services: [{ code: "telegram", name: "Telegram", sms_activate_code: "tg" }] };
  assert.equal((await app.request("PUT", "/admin/catalog", { admin: true, body: codes })).status, 200);
  const s = await signUp(app);
  session = s.token;
  const t = await app.request("POST", `/admin/accounts/${s.accountId}/topup`, { admin: true, body: { amount: "5.00", reference: "limits-seed" } });
  assert.equal(t.status, 200, t.text);
  ({ browser, page } = await openPage({ errors: consoleErrors }));
  mkdirSync(SHOTS, { recursive: true });
  await page.goto(String(app.url));
  await page.getByLabel("Email").fill(s.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await heading("Overview").waitFor();
});

after(async () => {
  await browser?.close();
  await app?.close();
});

const heading = (name) => page.getByRole("heading", { level: 1, name });
const nav = (name) => page.getByRole("navigation", { name: "Dashboard" }).getByRole("link", { name, exact: true });
const keysOnApi = async () => (await app.request("GET", "/v1/keys", { key: session })).body.keys;
const buy = (key) => app.request("POST", "/v1/number", { key, body: { service: "telegram", country: "US" } });

test("key page: create with scopes and caps, see spend and last use, change, revoke", async () => {
  await nav("API keys").click();
  await heading("API keys").waitFor();
  await page.getByLabel("Key name").fill("verifier");
  for (const s of ["wallet:read", "activations:read", "activations:write", "rent:write", "otp:send", "messages:send", "webhooks:manage", "fraud:read", "fraud:manage"]) {
    await page.getByRole("checkbox", { name: s, exact: true }).uncheck();
  }
  await page.getByLabel("Daily spend cap", { exact: true }).fill("0.10");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = await page.getByLabel("New API key").inputValue();
  assert.match(key, /^[A-Za-z0-9]{32}$/);
  let listed = (await keysOnApi()).find((k) => k.name === "verifier");
  assert.deepEqual(listed.scopes, ["otp:verify"]);
  assert.equal(listed.spend_cap_daily, "0.10");
  assert.equal(listed.spend_cap_monthly, null);
  await page.getByRole("cell", { name: "otp:verify", exact: true }).waitFor();
  await page.getByRole("cell", { name: "0.00 of 0.10", exact: true }).waitFor();
  assert.equal((await buy(key)).status, 403, "the key may not buy");

  await page.getByRole("button", { name: "Change key verifier" }).click();
  const form = page.getByRole("form", { name: "Change key verifier" });
  await form.getByRole("checkbox", { name: "activations:write", exact: true }).check();
  await form.getByLabel("Daily spend cap of verifier").fill("0.05");
  await form.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("cell", { name: "activations:write, otp:verify", exact: true }).waitFor();
  listed = (await keysOnApi()).find((k) => k.name === "verifier");
  assert.deepEqual(listed.scopes, ["activations:write", "otp:verify"]);
  assert.equal(listed.spend_cap_daily, "0.05");
  assert.equal((await buy(key)).status, 200);
  assert.equal((await buy(key)).status, 402, "its own cap holds");

  await nav("Limits").click();
  await heading("Limits").waitFor();
  await nav("API keys").click();
  await page.getByRole("cell", { name: "0.05 of 0.05", exact: true }).waitFor();
  const row = page.getByRole("row").filter({ hasText: "verifier" });
  assert.notEqual((await row.getByRole("cell").nth(6).textContent()).trim(), "—", "last use is shown");

  await page.getByRole("button", { name: "Revoke key verifier" }).click();
  await row.getByRole("cell", { name: /^Revoked/ }).waitFor();
  assert.equal((await buy(key)).status, 401);
});

test("limits page: account caps, a usage alert, and the banner once it crossed", async () => {
  await nav("Limits").click();
  await heading("Limits").waitFor();
  await page.getByLabel("Daily spend cap (USD)").fill("1.00");
  await page.getByRole("button", { name: "Save caps" }).click();
  await page.getByText("Spend caps saved.").waitFor();
  const limits = (await app.request("GET", "/v1/account/limits", { key: session })).body;
  assert.equal(limits.spend_cap_daily, "1.00");
  assert.equal(limits.spend_cap_monthly, null);

  // Spent today: 0.05 (the first test's buy). An alert at 0.08 crosses with the next buy.
  await page.getByLabel("Alert on").selectOption("threshold");
  await page.getByLabel("Threshold").fill("0.08");
  await page.getByLabel("Period").selectOption("daily");
  await page.getByRole("button", { name: "Add alert" }).click();
  await page.getByRole("cell", { name: "0.08 USD", exact: true }).waitFor();
  assert.equal(await page.getByRole("region", { name: "Usage alerts crossed" }).count(), 0, "no banner before it crossed");
  await page.getByLabel("Threshold").fill("150");
  await page.getByLabel("Alert on").selectOption("percent_of_cap");
  await page.getByRole("button", { name: "Add alert" }).click();
  await page.getByRole("alert").filter({ hasText: "'percent_of_cap'" }).waitFor();

  const k = await app.request("POST", "/v1/keys", { key: session, body: { name: "buyer" } });
  assert.equal((await buy(k.body.api_key)).status, 200);
  await nav("Overview").click();
  await heading("Overview").waitFor();
  const banner = page.getByRole("region", { name: "Usage alerts crossed" });
  await banner.waitFor();
  assert.match(await banner.textContent(), /Spend today \(UTC\) reached 0\.10 USD \(alert at 0\.08 USD\)/);
  await nav("Limits").click();
  await banner.waitFor();
  await page.getByRole("button", { name: "Delete the daily alert at 0.08 USD" }).click();
  await page.getByText("No usage alerts yet.").waitFor();
  assert.deepEqual((await app.request("GET", "/v1/usage/alerts", { key: session })).body.alerts, []);
});

test("both pages at 375 px and 1280 px: labelled controls, no overflow, no console errors", async () => {
  for (const width of [375, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    for (const [p, title] of [["keys", "API keys"], ["limits", "Limits"]]) {
      await page.goto(`${app.url}#/${p}`);
      await page.locator("main[aria-busy=false] h1").filter({ hasText: title }).waitFor();
      await page.waitForLoadState("networkidle");
      await page.screenshot({ path: path.join(SHOTS, `${p}-limits-${width}.png`), fullPage: true });
      const audit = await page.evaluate(() => {
        const problems = [];
        for (const el of document.querySelectorAll("input, select, textarea")) {
          if (!el.labels?.length && !el.getAttribute("aria-label")) problems.push(`unlabelled ${el.outerHTML.slice(0, 60)}`);
        }
        const stray = document.querySelector("main").innerText.match(/\b(null|undefined|NaN)\b|\[object /);
        if (stray) problems.push(`stray "${stray[0]}" on the page`);
        return { problems, overflow: document.documentElement.scrollWidth - window.innerWidth };
      });
      assert.deepEqual(audit.problems, [], `${p} at ${width}px`);
      assert.ok(audit.overflow <= 0, `${p} at ${width}px overflows by ${audit.overflow}px`);
    }
  }
  const unexpected = consoleErrors.filter((e) => !/Failed to load resource.*(40[0-3]|402)/.test(e));
  assert.deepEqual(unexpected, []);
});
