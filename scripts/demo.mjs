// Loads the local demo data through the admin API once `wrangler dev` answers, then prints
// what a new user needs. Idempotent: what it created is remembered in
// .wrangler/state/otpedge-demo.json (beside the local D1 data, so wiping one wipes both).
// Each file in scripts/demo/ adds its part: `export async function seed(demo)`.
import { readFileSync, writeFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { randomBytes } from "node:crypto";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BASE = process.argv[2] ?? "http://127.0.0.1:8787";
const STATE_FILE = path.join(ROOT, ".wrangler/state/otpedge-demo.json");

function devVar(name) {
  const text = readFileSync(path.join(ROOT, ".dev.vars"), "utf8");
  const m = text.match(new RegExp(`^${name}="?([^"\\n]*)"?$`, "m"));
  if (!m) throw new Error(`${name} missing from .dev.vars`);
  return m[1];
}

async function waitForServer(deadlineMs) {
  while (Date.now() < deadlineMs) {
    try {
      const r = await fetch(`${BASE}/healthz`);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${BASE} did not answer within the time limit`);
}

const adminToken = devVar("ADMIN_TOKEN");
const state = existsSync(STATE_FILE) ? JSON.parse(readFileSync(STATE_FILE, "utf8")) : {};
const lines = [];

const demo = {
  base: BASE,
  state,
  adminToken,
  /** Calls the API; throws on a non-2xx answer. */
  async call(method, urlPath, { body, key, admin = true } = {}) {
    const headers = { "Content-Type": "application/json" };
    headers.Authorization = `Bearer ${key ?? (admin ? adminToken : "")}`;
    const r = await fetch(`${BASE}${urlPath}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${urlPath} → ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  },
  /** Whether `key` still opens the account (false after the local state was wiped). */
  async keyWorks(key) {
    const r = await fetch(`${BASE}/v1/balance`, { headers: { Authorization: `Bearer ${key}` } });
    return r.status === 200;
  },
  print(line) {
    lines.push(line);
  },
};

/** Signs the demo account up like a customer (email + password, docs/accounts.md), then makes its API key with the new session. The password is random, kept in the
 * state file (mode 0600) beside the local data. */
async function registerDemoAccount() {
  const email = "demo@example.com";
  const password = `demo-${randomBytes(9).toString("base64url")}`;
  const r = await fetch(`${BASE}/api/v1/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password, name: "Demo account" }),
  });
  const body = await r.json();
  if (r.status !== 201) throw new Error(`POST /api/v1/auth/register → ${r.status} ${JSON.stringify(body)}`);
  if (!body.account.approved) await demo.call("POST", `/admin/accounts/${body.account.id}/approve`);
  const key = await demo.call("POST", "/v1/keys", { key: body.token, body: { name: "demo" } });
  Object.assign(state, { accountId: body.account.id, apiKey: key.api_key, email, password });
}

async function seedAccount() {
  if (!state.apiKey || !state.password || !(await demo.keyWorks(state.apiKey))) {
    await registerDemoAccount();
    delete state.seeded;
  }
  // Idempotent on its reference: a second run does not add money.
  await demo.call("POST", `/admin/accounts/${state.accountId}/topup`, { body: { amount: "25.00", reference: "demo-initial-credit" } });
}

try {
  await waitForServer(Date.now() + 10 * 60 * 1000);
  await seedAccount();
  const parts = existsSync(path.join(ROOT, "scripts/demo")) ? readdirSync(path.join(ROOT, "scripts/demo")).filter((f) => f.endsWith(".mjs")).sort() : [];
  for (const file of parts) {
    const mod = await import(pathToFileURL(path.join(ROOT, "scripts/demo", file)));
    await mod.seed(demo);
  }
  // The countries exactly as GET /v1/countries answers them, once every part has seeded.
  const countries = await (await fetch(`${BASE}/v1/countries`)).json();
  lines.unshift(`Countries:    ${countries.map((c) => c.code).join(", ")}  (GET ${BASE}/v1/countries)`);
  mkdirSync(path.dirname(STATE_FILE), { recursive: true });
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2), { mode: 0o600 });
  const out = [
    "",
    "================ otpedge demo ================",
    `Serving:      ${BASE}`,
    `Demo API key: ${state.apiKey}`,
    `Demo login:   ${state.email} / ${state.password}   (POST ${BASE}/api/v1/auth/login)`,
    `Admin token:  ${adminToken}`,
    `Try:          curl -H "Authorization: Bearer ${state.apiKey}" ${BASE}/v1/balance`,
    ...lines,
    "==============================================",
    "",
  ];
  console.log(out.join("\n"));
} catch (e) {
  console.error(`[demo] could not load the demo data: ${e.message}`);
  process.exitCode = 1;
}
