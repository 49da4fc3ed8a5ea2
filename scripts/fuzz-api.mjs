// `npm run fuzz:api`: schemathesis against the local Worker (workerd through Miniflare, loopback
// only), every operation of openapi/openapi.json, all of schemathesis's default checks.
// The seeded short run in `npm test` (tests/contract.test.mjs) calls `fuzz()` too.
//
//   node scripts/fuzz-api.mjs [--max-examples N] [--seed S] [--phases examples,coverage,fuzzing,stateful]
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { spawnApp, ROOT } from "../tests/support/app.mjs";
import { seed as seedInventory } from "../tests/support/activations.mjs";

export const SCHEMATHESIS = path.join(ROOT, ".venv/bin/schemathesis");

/** Vars for a fuzzed Worker: limits high enough that the fuzzer is not rate limited, and a
 * webhook endpoint on this machine allowed. */
export const FUZZ_VARS = {
  OTP_HMAC_SECRET: "fuzz-otp-hmac-secret",
  RATE_LIMIT_PUBLIC: "1000000",
  RATE_LIMIT_PRODUCT: "1000000",
  RATE_LIMIT_ADMIN: "1000000",
  RATE_LIMIT_AUTH: "1000000",
  WEBHOOK_ALLOW_LOCAL_HTTP: "true",
  WEBHOOK_RETRY_BASE_MS: "600000",
  OTP_RESEND_INTERVAL_SECS: "0",
  OTP_MAX_SENDS_PER_WINDOW: "1000000",
};

/** An account with a key, a balance, a catalog with stock and OTP prices, templates. */
export async function seedForFuzz(app) {
  const inv = await seedInventory(app, { us: 200, pk: 0, tmobile: 2 });
  const otp = await app.request("PUT", "/admin/catalog", {
    admin: true,
    body: { otp_prices: ["sms", "whatsapp", "voice"].map((channel) => ({ country: "US", channel, cost: "0.0075" })) },
  });
  if (otp.status !== 200) throw new Error(`otp prices: ${otp.status} ${otp.text}`);
  const account = await app.createAccount("fuzz", "100000.00");
  const templates = {};
  for (const [name, body] of [["code", "Your code is {code}."], ["hello", "Hi {name}, welcome."]]) {
    const t = await app.request("POST", "/admin/templates", { admin: true, body: { name, channel: "sms", body } });
    if (t.status !== 201) throw new Error(`template: ${t.status} ${t.text}`);
    templates[name] = t.body.template_id;
  }
  return { ...account, ...inv, templates };
}

function run(cmd, args, { log }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: "1", SCHEMATHESIS_TELEMETRY: "false" } });
    let output = "";
    const take = (d) => {
      output += d;
      log(String(d));
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/**
 * Runs schemathesis against a fresh, seeded Worker: the operator routes with the admin token,
 * every other route with the account's API key. Resolves to { ok, runs: [{ name, code, output }] }.
 */
export async function fuzz({ seed = 1, maxExamples = 20, phases, workers = 1, log = () => {}, extraArgs = [] } = {}) {
  if (!existsSync(SCHEMATHESIS)) throw new Error(`${SCHEMATHESIS} is missing: run \`bash scripts/setup.sh\` (creates .venv from tests/python/requirements.txt)`);
  const app = await spawnApp({ vars: FUZZ_VARS });
  try {
    const data = await seedForFuzz(app);
    const base = String(app.url).replace(/\/$/, "");
    const schema = `${base}/openapi.json`;
    const common = [
      "--config-file",
      path.join(ROOT, "tests/python/schemathesis.toml"),
      "run",
      schema,
      "--url",
      base,
      "--seed",
      String(seed),
      "--max-examples",
      String(maxExamples),
      "--workers",
      String(workers),
      "--no-color",
      "--warnings",
      "off",
      "--suppress-health-check",
      "all",
      // A long-poll (`?wait=` up to 55 s on an activation's or rent's status, found through the
      // inferred links) may hold its answer that long: the timeout is above it.
      "--request-timeout",
      "70",
      ...(phases ? ["--phases", phases] : []),
      ...extraArgs,
    ];
    const runs = [];
    for (const [name, args] of [
      ["operator routes", ["--include-path-regex", "^/admin/", "-H", `Authorization: Bearer ${app.adminToken}`]],
      ["customer routes", ["--exclude-path-regex", "^/admin/", "-H", `Authorization: Bearer ${data.key}`]],
    ]) {
      log(`\n== schemathesis: ${name}\n`);
      const r = await run(SCHEMATHESIS, [...common, ...args], { log });
      runs.push({ name, ...r });
    }
    return { ok: runs.every((r) => r.code === 0), runs };
  } finally {
    await app.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const result = await fuzz({
    seed: Number(arg("--seed", Date.now() % 100000)),
    maxExamples: Number(arg("--max-examples", 200)),
    phases: arg("--phases", undefined),
    workers: Number(arg("--workers", 2)),
    log: (s) => process.stdout.write(s),
  });
  for (const r of result.runs) console.log(`[fuzz:api] ${r.name}: ${r.code === 0 ? "passed" : `FAILED (exit ${r.code})`}`);
  process.exit(result.ok ? 0 : 1);
}
