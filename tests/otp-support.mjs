// Helpers shared by the OTP test files.
import { spawnApp } from "./support/app.mjs";

export const HMAC_SECRET = "test-otp-hmac-secret";

/** An app with an OTP secret and product rate limits high enough for bursts of checks.
 * Result events are recorded only for accounts with a webhook endpoint, so each account it
 * creates gets one on this machine that refuses connections (nothing leaves the machine;
 * the first retry would come after 10 minutes). */
export async function spawnOtpApp({ vars = {}, ...rest } = {}) {
  const app = await spawnApp({ vars: { OTP_HMAC_SECRET: HMAC_SECRET, RATE_LIMIT_PRODUCT: "100000", WEBHOOK_ALLOW_LOCAL_HTTP: "true", WEBHOOK_RETRY_BASE_MS: "600000", ...vars }, ...rest });
  const createAccount = app.createAccount;
  app.createAccount = async (...args) => {
    const account = await createAccount(...args);
    const r = await app.request("PUT", "/v1/webhook", { key: account.key, body: { url: "http://127.0.0.1:9/otpedge-test-hooks" } });
    if (r.status !== 200) throw new Error(`webhook endpoint: ${r.status} ${r.text}`);
    return account;
  };
  return app;
}

/** `spawnOtpApp` with the default prices loaded. */
export async function spawnPricedOtpApp(options) {
  const app = await spawnOtpApp(options);
  await seedOtpPrices(app);
  return app;
}

/** Loads OTP prices (minor units) through the operator's catalog route. */
export async function seedOtpPrices(app, prices = [["US", "sms", 75], ["US", "whatsapp", 50], ["US", "voice", 150], ["MY", "sms", 100], ["MY", "voice", 200], ["GB", "sms", 80]]) {
  const names = { US: "United States", MY: "Malaysia", GB: "United Kingdom" };
  const countries = [...new Set(prices.map(([c]) => c))].map((code) => ({ code, name: names[code] ?? code }));
  const otp_prices = prices.map(([country, channel, cost]) => ({ country, channel, cost: (cost / 10000).toFixed(4) }));
  const r = await app.request("PUT", "/admin/catalog", { admin: true, body: { countries, otp_prices } });
  if (r.status !== 200) throw new Error(`catalog: ${r.status} ${r.text}`);
}

/** The newest outbox text for a phone, and the code in it. */
export async function latestCode(app, phone) {
  const r = await app.request("GET", `/admin/outbox?to=${encodeURIComponent(phone)}`, { admin: true });
  if (r.status !== 200) throw new Error(`outbox: ${r.status} ${r.text}`);
  const msg = r.body.messages[0];
  if (!msg) throw new Error(`no outbox message for ${phone}`);
  const m = msg.text.match(/\b(\d{4,12})\b/);
  return { message: msg, code: m?.[1], all: r.body.messages };
}

export async function createTemplate(app, body, channel = "sms", name = "tpl") {
  const r = await app.request("POST", "/admin/templates", { admin: true, body: { name, channel, body } });
  if (r.status !== 201) throw new Error(`template: ${r.status} ${r.text}`);
  return r.body.template_id;
}

let phoneSeq = 0;
/** A distinct US number per call, so the resend rules of one test do not touch another; each
 * in a number range (prefix: all but the last 4 digits) of its own, so the fraud guard's
 * per-prefix rule (docs/fraud.md) never sees a test's unverified sends as pumping. */
export function freshPhone() {
  phoneSeq += 1;
  const range = String(phoneSeq % 1000).padStart(3, "0");
  return `+1415${range}${String(1000 + Math.floor(phoneSeq / 1000)).padStart(4, "0")}`;
}

/** Every outbox message to a phone, newest first. */
export async function outboxTo(app, phone) {
  const r = await app.request("GET", `/admin/outbox?to=${encodeURIComponent(phone)}`, { admin: true });
  if (r.status !== 200) throw new Error(`outbox: ${r.status} ${r.text}`);
  return r.body.messages;
}

/** Polls `check` until it returns something truthy (returned), or fails after `ms`. */
export async function until(what, check, ms = 45_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The ledger rows of an object (a session, a workflow step), oldest first. */
export async function ledgerOfObject(app, objectId) {
  const rows = await app.db.prepare("SELECT kind, amount FROM ledger WHERE object_id = ? ORDER BY seq").bind(objectId).all();
  return rows.results;
}
