// Number purchases (`POST /v1/number`) of one or more builds, in alternation (A, B, …, then
// again, ROUNDS rounds after a warm-up round), so that ratios hold on a machine whose load
// changes during the run. Each build gets its own app with a pool large enough for every
// round. Reports requests/s and the CPU time the serving workerd spent per request.
//
//   node bench/buy-ab.mjs build-a [build-b …]
//   N=800 ROUNDS=3 CONN=32 node bench/buy-ab.mjs builds/before build
import { existsSync } from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import { cpu, withPid } from "./workerd.mjs";
import { spawnApp } from "../tests/support/app.mjs";
import { seed, usNumber } from "../tests/support/activations.mjs";

const N = Number(process.env.N ?? 800);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONN = Number(process.env.CONN ?? 32);
const HIGH = "1000000000";
const builds = process.argv.slice(2);
if (!builds.length) throw new Error("usage: node bench/buy-ab.mjs build-dir [build-dir …]");
if (N * (ROUNDS + 1) > 8000) throw new Error("N × (ROUNDS + 1) must stay within the 8000-number pool");

const targets = [];
for (const dir of builds) {
  const vars = { RATE_LIMIT_PUBLIC: HIGH, RATE_LIMIT_PRODUCT: HIGH, RATE_LIMIT_ADMIN: HIGH };
  // A baseline copy that holds its migrations/ runs on its own schema.
  const own = path.resolve(dir, "migrations");
  const migrations = existsSync(own) ? own : undefined;
  const spawn = () => spawnApp({ scriptPath: `${dir}/index.js`, host: "127.0.0.1", port: 0, assets: undefined, vars, migrations });
  const { value: app, pid } = await withPid(spawn);
  // The pool in imports of 500 numbers (a body is at most 64 KiB), past the seed's own.
  const { supplierId } = await seed(app, { us: 0, tmobile: 0 });
  const all = Array.from({ length: N * (ROUNDS + 1) }, (_, i) => ({ number: usNumber(i), country: "US", operator: "1" }));
  for (let i = 0; i < all.length; i += 500) {
    const r = await app.request("POST", "/admin/numbers", { admin: true, body: { numbers: all.slice(i, i + 500), supplier_id: supplierId } });
    if (r.status !== 200) throw new Error(`numbers: ${r.status} ${r.text}`);
  }
  const acct = await app.createAccount("bench", "100000");
  targets.push({ name: dir, pid, app, url: new URL("/v1/number", app.url).href, headers: { authorization: `Bearer ${acct.key}`, "content-type": "application/json" } });
}

async function run(t) {
  let bad = 0;
  const c0 = cpu(t.pid);
  const t0 = performance.now();
  let last = t0;
  const r = await autocannon({
    url: t.url,
    connections: CONN,
    amount: N,
    requests: [{ method: "POST", headers: t.headers, body: JSON.stringify({ service: "telegram", country: "US" }), onResponse: (status) => {
      last = performance.now();
      if (status < 200 || status > 299) bad++;
    } }],
  });
  const seconds = (last - t0) / 1000;
  return { rps: r.requests.total / seconds, us: ((cpu(t.pid) - c0) * 1e6) / r.requests.total, bad: bad + r.errors };
}

const results = new Map();
try {
  for (let round = 0; round <= ROUNDS; round++) {
    for (const t of targets) {
      const r = await run(t);
      console.error(`${round ? `round ${round}` : "warm-up"} ${t.name}: buy ${r.rps.toFixed(0)}/s ${r.us.toFixed(0)} µs bad ${r.bad}`);
      if (round) results.set(t.name, [...(results.get(t.name) ?? []), r]);
    }
  }
} finally {
  for (const t of targets) await t.app.close();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const first = builds[0];
console.log(`| build | buy req/s (median) | workerd µs / request (median) | req/s vs ${first} | non-2xx |`);
console.log("|---|---:|---:|---:|---:|");
for (const b of builds) {
  const rs = results.get(b);
  const rps = median(rs.map((r) => r.rps));
  console.log(`| ${b} | ${rps.toFixed(0)} | ${median(rs.map((r) => r.us)).toFixed(0)} | ${(rps / median(results.get(first).map((r) => r.rps))).toFixed(2)} | ${rs.reduce((n, r) => n + r.bad, 0)} |`);
}
