// spawnApp(): the built Worker (build/index.js + wasm) in workerd through Miniflare, with
// real D1 / KV / Durable Object bindings and the real migrations applied. Each call gets
// fresh, isolated state.
import { Miniflare } from "miniflare";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** `[vars]` of wrangler.toml, so tests run with the shipped defaults unless they override. */
export function wranglerVars() {
  const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
  const vars = {};
  let inVars = false;
  for (const line of toml.split("\n")) {
    const t = line.trim();
    if (t.startsWith("[")) inVars = t === "[vars]";
    else if (inVars) {
      const m = t.match(/^([A-Z0-9_]+)\s*=\s*"(.*)"$/);
      if (m) vars[m[1]] = m[2];
    }
  }
  return vars;
}

/** A built Worker (`dir`/index.js and its wasm; build/ is the front) as Miniflare loads it. */
export function builtWorker(dir = "build") {
  return {
    rootPath: ROOT,
    scriptPath: `${dir}/index.js`,
    modulesRoot: ROOT,
    modules: true,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: "2026-04-20",
    cf: false,
  };
}


/** The key = value lines of each `[[name]]` section of wrangler.toml (strings and numbers). */
function tomlSections(toml, name) {
  const header = new RegExp(`^\\[\\[${name.replace(".", "\\.")}\\]\\]\\s*$`, "m");
  return toml.split(header).slice(1).map((body) => {
    const fields = {};
    for (const line of body.split(/^\[/m)[0].split("\n")) {
      const m = line.trim().match(/^(\w+)\s*=\s*(?:"([^"]*)"|(\d+))$/);
      if (m) fields[m[1]] = m[2] ?? Number(m[3]);
    }
    return fields;
  });
}

/** Durable Object classes, KV namespaces and queues (producers and consumers) declared in
 * wrangler.toml, so a binding added there is bound here too. */
export function wranglerBindings() {
  const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
  const durableObjects = {};
  for (const m of toml.matchAll(/\{\s*name\s*=\s*"(\w+)"\s*,\s*class_name\s*=\s*"(\w+)"\s*\}/g)) {
    durableObjects[m[1]] = { className: m[2], useSQLite: true };
  }
  const kvNamespaces = [...toml.matchAll(/\[\[kv_namespaces\]\]\s*\nbinding\s*=\s*"(\w+)"/g)].map((m) => m[1]);
  const queueProducers = {};
  for (const p of tomlSections(toml, "queues.producers")) queueProducers[p.binding] = { queueName: p.queue };
  const queueConsumers = {};
  for (const c of tomlSections(toml, "queues.consumers")) {
    queueConsumers[c.queue] = {
      maxBatchSize: c.max_batch_size,
      maxBatchTimeout: c.max_batch_timeout,
      maxRetries: c.max_retries,
      deadLetterQueue: c.dead_letter_queue,
    };
  }
  return { durableObjects, kvNamespaces, queueProducers, queueConsumers };
}

/** `[assets]` of wrangler.toml as Miniflare's `assets` option, built the way `wrangler dev`
 * builds it (a `run_worker_first` list becomes static routing: `/x/*` runs the Worker first,
 * `!/x/*` goes to the assets), so tests serve the dashboard exactly as `npm start` does. */
export function wranglerAssets() {
  const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
  const section = toml.split(/^\[assets\]\s*$/m)[1]?.split(/^\[/m)[0];
  if (section === undefined) return undefined;
  const str = (k) => section.match(new RegExp(`^${k}\\s*=\\s*"([^"]*)"`, "m"))?.[1];
  const routerConfig = { has_user_worker: true };
  const first = section.match(/^run_worker_first\s*=\s*(.+)$/m)?.[1].trim();
  if (first === "true" || first === "false") routerConfig.invoke_user_worker_ahead_of_assets = first === "true";
  else if (first) {
    const rules = JSON.parse(first);
    routerConfig.static_routing = {
      user_worker: rules.filter((r) => r.startsWith("/")),
      asset_worker: rules.filter((r) => r.startsWith("!/")).map((r) => r.slice(1)),
    };
  }
  const assetConfig = {};
  if (str("html_handling")) assetConfig.html_handling = str("html_handling");
  if (str("not_found_handling")) assetConfig.not_found_handling = str("not_found_handling");
  return { directory: path.join(ROOT, str("directory") ?? "public"), routerConfig, assetConfig };
}

/** A bare D1 database (Miniflare, no Worker) with every migration applied: `{ mf, db }`
 * (dispose `mf` when done). */
export async function migratedDatabase(name) {
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(''); } };",
    compatibilityDate: "2026-04-20",
    d1Databases: { DB: name },
  });
  const db = await mf.getD1Database("DB");
  for (const sql of migrationStatements()) await db.prepare(sql).run();
  return { mf, db };
}

/** The statements of every migration (or of those whose file name `only` keeps), in order,
 * as wrangler would apply them; `dir`: another build's migrations (a bench baseline's). */
export function migrationStatements(only = () => true, dir = path.join(ROOT, "migrations")) {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql") && only(f))
    .sort()
    .flatMap((f) =>
      readFileSync(path.join(dir, f), "utf8")
        .split("\n")
        .filter((l) => !l.trim().startsWith("--"))
        .join("\n")
        .split(/;\s*$/m)
        .map((s) => s.trim())
        .filter(Boolean),
    );
}

/** Options Miniflare shares between its workers; every other option is the app Worker's. */
const SHARED = new Set(["host", "port", "cf", "log", "verbose", "handleRuntimeStdio", "inspectorPort", "d1Persist", "kvPersist", "durableObjectsPersist", "cachePersist"]);

/** A second worker on the app's database that applies migrations when asked over HTTP:
 * its calls are plain requests, not the binding proxy's synchronous channel, which can
 * lose an answer on a loaded machine and stay out of step for the rest of the instance. */
const MIGRATOR = {
  name: "migrator",
  modules: true,
  compatibilityDate: "2026-04-20",
  script: `export default { async fetch(req, env) {
    for (const sql of await req.json()) {
      try { await env.DB.prepare(sql).run(); }
      catch (e) { return new Response(String(e?.message ?? e) + "\\n" + sql, { status: 500 }); }
    }
    return new Response("ok");
  } };`,
  d1Databases: { DB: "otpedge-test" },
  routes: ["migrator.internal/*"],
};

/** The Workers the front hands routes to (src/http/parts.rs): each built into build/<part>/
 * (scripts/build.sh) and bound to the front as <binding>. */
export const PARTS = [
  { part: "protocols", binding: "PROTOCOLS" },
  { part: "accounts", binding: "ACCOUNTS" },
];

/** The Workers of the app as `wrangler dev` runs them: the front ("app", first: every
 * request goes to it) with its service bindings to the Workers of the other parts (src/http/
 * parts.rs), which share its options but for the static assets, and bind its Durable
 * Objects. */
export function appWorkers(front, dir = path.dirname(front.scriptPath)) {
  // The other Workers' builds are beside the front's script (or in `dir`); a build of one
  // Worker (an earlier build, as a bench baseline) has none and serves every route itself.
  const parts = PARTS.filter((p) => existsSync(path.join(ROOT, dir, p.part, "index.js")));
  const { assets, durableObjects, queueConsumers, ...rest } = front;
  const remote = Object.fromEntries(
    Object.entries(durableObjects).map(([binding, o]) => [binding, { ...o, scriptName: "app" }]),
  );
  return [
    {
      name: "app",
      ...front,
      serviceBindings: {
        ...front.serviceBindings,
        ...Object.fromEntries(parts.map((p) => [p.binding, p.part])),
      },
    },
    ...parts.map((p) => ({
      ...rest,
      ...builtWorker(path.join(dir, p.part)),
      name: p.part,
      durableObjects: remote,
    })),
  ];
}

export async function spawnApp({ vars = {}, log = () => {}, migrations, partsDir, ...extra } = {}) {
  const adminToken = randomBytes(24).toString("hex");
  const options = {
    ...builtWorker(),
    d1Databases: { DB: "otpedge-test" },
    ...wranglerBindings(),
    assets: wranglerAssets(),
    bindings: { ...wranglerVars(), ADMIN_TOKEN: adminToken, SERVER_KEY: randomBytes(32).toString("hex"), ...vars },
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (d) => log(String(d)));
      stderr.on("data", (d) => log(String(d)));
    },
    ...extra,
  };
  const shared = Object.fromEntries(Object.entries(options).filter(([k]) => SHARED.has(k)));
  const worker = Object.fromEntries(Object.entries(options).filter(([k]) => !SHARED.has(k)));
  const mf = new Miniflare({ ...shared, workers: [...appWorkers(worker, partsDir), MIGRATOR] });
  const url = await mf.ready;
  let db;
  try {
    const statements = migrationStatements(undefined, migrations);
    const r = await mf.dispatchFetch("http://migrator.internal/", { method: "POST", body: JSON.stringify(statements) });
    if (r.status !== 200) throw new Error(`migrations: ${await r.text()}`);
    db = await mf.getD1Database("DB", "app");
  } catch (e) {
    // A runtime left running would keep the test file's process alive after its failure.
    await mf.dispose().catch(() => {});
    throw e;
  }

  /** A request; returns { status, headers, body } with the body parsed as JSON when it is JSON. */
  async function request(method, urlPath, { key, admin, headers = {}, body, raw } = {}) {
    const h = { ...headers };
    if (key) h.Authorization = `Bearer ${key}`;
    if (admin) h.Authorization = `Bearer ${adminToken}`;
    let payload = raw;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      h["Content-Type"] ??= "application/json";
    }
    // Sent with its length, as an HTTP client sends a body it holds whole.
    if (typeof payload === "string") h["Content-Length"] ??= String(Buffer.byteLength(payload));
    const res = await mf.dispatchFetch(`http://localhost${urlPath}`, { method, headers: h, body: payload });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  /** A new account with `balance` (decimal string) in its wallet. */
  async function createAccount(name = "test", balance) {
    const r = await request("POST", "/admin/accounts", { admin: true, body: { name } });
    if (r.status !== 201) throw new Error(`create account: ${r.status} ${r.text}`);
    if (balance !== undefined) {
      const t = await request("POST", `/admin/accounts/${r.body.account_id}/topup`, { admin: true, body: { amount: balance, reference: `seed-${randomBytes(6).toString("hex")}` } });
      if (t.status !== 200) throw new Error(`top-up: ${t.status} ${t.text}`);
    }
    return { accountId: r.body.account_id, key: r.body.api_key, keyId: r.body.key_id };
  }

  /** Wallet balance and ledger sum (minor units) straight from D1. */
  async function money(accountId) {
    const w = await db.prepare("SELECT balance FROM wallets WHERE account_id = ?").bind(accountId).first();
    const l = await db.prepare("SELECT COALESCE(SUM(amount), 0) AS s, COUNT(*) AS n FROM ledger WHERE account_id = ?").bind(accountId).first();
    return { balance: w?.balance, ledgerSum: l.s, ledgerRows: l.n };
  }

  return { mf, url, db, adminToken, request, createAccount, money, close: () => mf.dispose() };
}

/** Waits until at least `marginSecs` remain in the current 60 s rate-limit window. */
export async function awayFromWindowEdge(marginSecs = 10) {
  const into = (Date.now() / 1000) % 60;
  if (into > 60 - marginSecs) await new Promise((r) => setTimeout(r, (60 - into + 0.2) * 1000));
}
