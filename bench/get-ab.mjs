// The read routes of two or more builds in alternation (A, B, A, B, … several rounds), so that
// their ratios hold on a machine whose load changes during the run: GET /healthz, the public
// prices (a cache hit), the balance and an activation's status, and a route of each of the
// two Workers the front hands routes to (sms-activate's balance, the activations list), each
// with the CPU time the
// serving workerd process spent per request (from /proc: user + system).
//
//   node bench/get-ab.mjs build-a build-b
//   BENCH_SECONDS=4 BENCH_ROUNDS=3 BENCH_CONNECTIONS=32 node bench/get-ab.mjs build-a build-b
import { existsSync } from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import { cpu, withPid } from "./workerd.mjs";
import { spawnApp } from "../tests/support/app.mjs";
import { seed } from "../tests/support/activations.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const builds = process.argv.slice(2);
if (builds.length < 2) throw new Error("usage: node bench/get-ab.mjs build-a build-b [...]");
const HIGH = "1000000000";
const vars = { RATE_LIMIT_PUBLIC: HIGH, RATE_LIMIT_PRODUCT: HIGH, RATE_LIMIT_ADMIN: HIGH };

async function drive(url, headers, pid) {
  const c0 = cpu(pid);
  const r = await autocannon({ url, headers, connections: CONNECTIONS, duration: SECONDS });
  const us = ((cpu(pid) - c0) * 1e6) / r.requests.total;
  if (r.non2xx + r.errors) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.total / SECONDS, us };
}

const apps = [];
for (const dir of builds) {
  // A copy holding its migrations/ runs on its own schema (a build from before a migration).
  const own = path.resolve(dir, "migrations");
  const migrations = existsSync(own) ? own : undefined;
  const spawn = () => spawnApp({ scriptPath: `${dir}/index.js`, host: "127.0.0.1", port: 0, assets: undefined, vars, migrations });
  const { value: app, pid } = await withPid(spawn);
  await seed(app, { us: 10 });
  const acct = await app.createAccount("bench", "100000");
  const body = { service: "telegram", country: "US" };
  const bought = await app.request("POST", "/v1/number", { key: acct.key, body });
  if (bought.status !== 200) throw new Error(`buy: ${bought.status} ${bought.text}`);
  const auth = { authorization: `Bearer ${acct.key}` };
  const base = app.url.href.replace(/\/$/, "");
  const routes = [
    ["GET /healthz", `${base}/healthz`, {}],
    ["GET /api/public/prices", `${base}/api/public/prices?service=telegram&country=US`, {}],
    ["GET /v1/balance", `${base}/v1/balance`, auth],
    ["GET /v1/activation/{id}/status", `${base}/v1/activation/${bought.body.activation_id}/status`, auth],
    // Routes of the other Workers (src/http/parts.rs): through the front's service binding.
    ["sms-activate getBalance", `${base}/stubs/handler_api.php?api_key=${acct.key}&action=getBalance`, {}],
    ["GET /v1/activations", `${base}/v1/activations`, auth],
  ];
  apps.push({ dir, app, pid, routes });
}
const results = new Map();
try {
  for (const { routes, pid } of apps) for (const [, url, h] of routes) await drive(url, h, pid);
  for (let round = 0; round < ROUNDS; round++) {
    for (const { dir, pid, routes } of apps) {
      for (const [name, url, headers] of routes) {
        const r = await drive(url, headers, pid);
        const key = `${name}\t${dir}`;
        results.set(key, [...(results.get(key) ?? []), r]);
        console.log(`round ${round + 1} ${dir} ${name}: ${r.rps.toFixed(0)} req/s, ${r.us.toFixed(0)} µs/request`);
      }
    }
  }
} finally {
  for (const { app } of apps) await app.close();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\n| route | ${builds.map((b) => `${b} req/s (µs)`).join(" | ")} | ratio req/s (µs) |`);
console.log(`|---|${builds.map(() => "---:").join("|")}|---:|`);
for (const [name] of apps[0].routes) {
  const cells = builds.map((b) => {
    const rs = results.get(`${name}\t${b}`);
    return { rps: median(rs.map((r) => r.rps)), us: median(rs.map((r) => r.us)) };
  });
  const last = cells[cells.length - 1];
  const ratio = `${(last.rps / cells[0].rps).toFixed(2)} (${(last.us / cells[0].us).toFixed(2)})`;
  console.log(`| ${name} | ${cells.map((c) => `${c.rps.toFixed(0)} (${c.us.toFixed(0)})`).join(" | ")} | ${ratio} |`);
}
