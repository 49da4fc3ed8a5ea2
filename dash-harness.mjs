// Temporary (not committed): serves public/ and proxies the API to Miniflare with an API key,
// faking /api/v1/auth/* and /v1/keys, to smoke-test every page before accounts lands.
import http from "node:http";
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const TITLES = { overview: "Overview", keys: "API keys", numbers: "Numbers", rents: "Rents", otp: "OTP", templates: "Templates", webhooks: "Webhooks", transactions: "Transactions", outbox: "Sandbox outbox", login: "Log in", signup: "Sign up" };
import { spawnApp } from "./tests/support/app.mjs";
import { seed, pushSms } from "./tests/support/activations.mjs";
const app = await spawnApp({ vars: { RATE_LIMIT_PRODUCT: "100000", RATE_LIMIT_PUBLIC: "100000", ACTIVATION_CANCEL_LOCK_SECS: "3", OTP_HMAC_SECRET: "x" } });
const sup = await seed(app, { us: 5, pk: 5 });
const acct = await app.createAccount("Ana", "5.00");
await app.request("PUT", "/admin/catalog", { admin: true, body: { otp_prices: [{ country: "US", channel: "sms", cost: "0.0075" }] } });
const keys = [];
const srv = http.createServer(async (req, res) => {
  const p = req.url.split("?")[0];
  if (!p.startsWith("/v1") && !p.startsWith("/api")) {
    try {
      const f = readFileSync("public" + (p === "/" ? "/index.html" : p));
      res.writeHead(200, { "content-type": p.endsWith(".js") ? "text/javascript" : p.endsWith(".css") ? "text/css" : "text/html" });
      return res.end(f);
    } catch { res.writeHead(404); return res.end(); }
  }
  const j = (s, b) => { res.writeHead(s, { "content-type": "application/json" }); res.end(JSON.stringify(b)); };
  if (p.startsWith("/api/v1/auth/")) return j(200, { account: { id: acct.accountId, email: "ana@example.com", name: "Ana" }, token: "ots_x" });
  if (p === "/v1/keys" && req.method === "POST") { const k = { key_id: "key_" + keys.length, name: "n<b>x</b>", prefix: "AbC1", created_at: new Date().toISOString(), api_key: acct.key }; keys.push(k); return j(201, k); }
  if (p === "/v1/keys") return j(200, { keys });
  if (p === "/v1/templates") return j(200, { templates: [] });
  const chunks = []; for await (const c of req) chunks.push(c);
  const headers = { Authorization: `Bearer ${acct.key}` };
  if (req.headers["content-type"]) headers["Content-Type"] = req.headers["content-type"];
  if (req.headers["last-event-id"]) headers["Last-Event-ID"] = req.headers["last-event-id"];
  const r = await fetch(new URL(req.url, app.url), { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
  const hh = Object.fromEntries(r.headers); delete hh["content-encoding"]; delete hh["content-length"]; res.writeHead(r.status, hh);
  if (r.body) for await (const c of r.body) res.write(c);
  res.end();
}).listen(0, "127.0.0.1");
await new Promise(r => srv.on("listening", r));
const url = `http://127.0.0.1:${srv.address().port}/`;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.setDefaultTimeout(8000);
page.on("console", m => m.type() === "error" && console.log("console", m.text(), m.location().url));
page.on("pageerror", e => console.log("pageerror", e.message));
await page.goto(url + "#/overview");
await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
await page.screenshot({ path: "/tmp/dash-overview.png", fullPage: true });
await page.getByRole("link", { name: "Numbers", exact: true }).click();
await page.getByRole("button", { name: /^Buy a telegram number in Pakistan/ }).click();
const title = page.getByRole("heading", { level: 2, name: /^Number \+92/ });
await title.waitFor();
const number = (await title.textContent()).replace("Number ", "");
await pushSms(app, sup.secret, { number, text: "Telegram code: 482913. Do not give this code to anyone." });
page.on("request", r => console.log("req", r.method(), r.url()));
try { await page.locator(".code strong").filter({ hasText: "482913" }).waitFor(); } catch (e) { await page.screenshot({ path: "/tmp/dash-fail.png", fullPage: true }); console.log(await page.locator("main").innerText()); throw e; }
console.log("code shown live");
await page.setViewportSize({ width: 1100, height: 700 });
await page.evaluate(() => window.scrollTo(0, 0));
await page.screenshot({ path: "docs/dashboard-numbers.png" });
await page.setViewportSize({ width: 1280, height: 900 });
await page.screenshot({ path: "/tmp/dash-numbers.png", fullPage: true });
await page.getByRole("button", { name: "Complete" }).click();
await page.getByRole("status").filter({ hasText: "Activation complete." }).waitFor();
for (const p of ["keys", "rents", "otp", "templates", "webhooks", "transactions", "outbox"]) {
  await page.goto(url + "#/" + p);
  await page.locator("main[aria-busy=false] h1").filter({ hasText: TITLES[p] }).waitFor();
  await page.waitForLoadState("networkidle");
  await page.screenshot({ path: `/tmp/dash-${p}.png`, fullPage: true });
  console.log(p, (await page.locator("#alert").textContent()) || "ok");
}
await page.goto(url + "#/rents"); await page.locator("main[aria-busy=false] h1").filter({ hasText: "Rents" }).waitFor();
await page.getByRole("button", { name: /^Rent a telegram number in United States for 4 hours/ }).first().click();
const rt = page.getByRole("heading", { level: 2, name: /^Rented number/ }); await rt.waitFor();
const rnum = (await rt.textContent()).replace("Rented number ", "");
await pushSms(app, sup.secret, { number: rnum, text: "rent code 777111" });
await page.locator(".sms .badge").filter({ hasText: "777111" }).waitFor();
console.log("rent sms live");
await page.goto(url + "#/otp"); await page.locator("main[aria-busy=false] h1").filter({ hasText: "OTP" }).waitFor();
await page.getByLabel("Phone number").fill("+14155550123");
await page.getByRole("button", { name: "Send code" }).click();
await page.getByRole("status").filter({ hasText: "Code sent." }).waitFor();
await page.getByRole("cell", { name: "pending" }).waitFor();
await page.goto(url + "#/outbox"); await page.locator("main[aria-busy=false] h1").filter({ hasText: "Sandbox outbox" }).waitFor();
const txt = await page.getByRole("cell", { name: /verification code/ }).first().textContent();
const otpCode = txt.match(/\d{6}/)[0];
await page.goto(url + "#/otp"); await page.locator("main[aria-busy=false] h1").filter({ hasText: "OTP" }).waitFor();
await page.getByLabel("Phone number").fill("+14155550124");
await page.getByRole("button", { name: "Send code" }).click();
await page.getByRole("status").filter({ hasText: "Code sent." }).waitFor();
await page.getByLabel("Code", { exact: true }).fill("000000");
await page.getByRole("button", { name: "Check code" }).click();
await page.getByRole("status").filter({ hasText: "Not verified" }).waitFor();
console.log("otp ok", otpCode);
await page.goto(url + "#/webhooks"); await page.locator("main[aria-busy=false] h1").filter({ hasText: "Webhooks" }).waitFor();
await page.getByLabel("Endpoint URL").fill("https://example.com/hooks");
await page.getByRole("button", { name: "Save endpoint" }).click();
await page.getByRole("status").filter({ hasText: "Endpoint saved." }).waitFor();
const sec1 = await page.getByLabel("Signing secret").inputValue();
await page.getByRole("button", { name: "Reveal secret" }).click();
await page.getByRole("button", { name: "Rotate secret" }).click();
await page.getByRole("status").filter({ hasText: "Secret rotated" }).waitFor();
const sec2 = await page.getByLabel("Signing secret").inputValue();
console.log("webhook", sec1 !== sec2, sec2.slice(0, 6));
await page.goto(url + "#/transactions"); await page.locator("main[aria-busy=false] h1").filter({ hasText: "Transactions" }).waitFor();
console.log(await page.locator(".pager").innerText());
await page.setViewportSize({ width: 375, height: 800 });
await page.goto(url + "#/numbers"); await page.locator("main[aria-busy=false] h1").filter({ hasText: "Numbers" }).waitFor(); await page.waitForLoadState("networkidle");
await page.screenshot({ path: "/tmp/dash-numbers-375.png", fullPage: true });
console.log("overflow", await page.evaluate(() => document.documentElement.scrollWidth - innerWidth));
await browser.close(); srv.close(); await app.close();
