// `npm run bench`: builds the release Worker, serves it in workerd (Miniflare on a local
// port, real D1/KV/DO), serves the reference JavaScript peer (bench/peer/worker.js) the same
// way, loads the data each route needs, and drives both with autocannon at a fixed
// concurrency. Prints a table of requests/s and p50/p99 latency with the ratios to
// /healthz (the floor of our own stack) and to the JS peer, plus wasm size, cold start and
// the native micro-benchmarks. Writes the table to bench/results.md.
import autocannon from "autocannon";
import { Miniflare } from "miniflare";
import { execSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import os from "node:os";
import path from "node:path";
import { spawnApp, ROOT, PARTS, appWorkers, builtWorker, wranglerBindings } from "../tests/support/app.mjs";
import { cpu, spawnPeer, withPid } from "./workerd.mjs";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const args = new Set(process.argv.slice(2));
if (args.has("--scale")) {
  // Cost as data grows: a year of history on one account against a fresh one (bench/scale.mjs).
  await import("./scale.mjs");
  process.exit(0);
}
const HIGH = "1000000000";

/** The workerd process serving each origin (http://127.0.0.1:port), for CPU per request. */
const servers = new Map();

/** Spawns a server with `start` (resolving to something with a URL) and notes its process. */
async function serve(start, urlOf) {
  const { value, pid } = await withPid(start);
  if (pid) servers.set(new URL(await urlOf(value)).origin, pid);
  return value;
}

function log(...a) {
  console.error("[bench]", ...a);
}

/** Numeric option `--name N` (or `--name=N`), else `fallback`. */
function option(name, fallback) {
  const argv = process.argv.slice(2);
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const v = argv[i].includes("=") ? argv[i].split("=")[1] : argv[i + 1];
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a number of milliseconds, got ${v}`);
  return n;
}

/** Text option `--name VALUE` (or `--name=VALUE`), else `fallback`. */
function textOption(name, fallback) {
  const argv = process.argv.slice(2);
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  return argv[i].includes("=") ? argv[i].slice(argv[i].indexOf("=") + 1) : argv[i + 1];
}

/** The first few distinct failures of a row, with how often each happened. */
class Failures {
  constructor(keep = 5) {
    this.keep = keep;
    this.seen = new Map();
    this.other = 0;
  }
  add(what) {
    if (this.seen.has(what)) this.seen.set(what, this.seen.get(what) + 1);
    else if (this.seen.size < this.keep) this.seen.set(what, 1);
    else this.other++;
  }
  list() {
    const out = [...this.seen].map(([what, n]) => `${n} × ${what}`);
    if (this.other) out.push(`${this.other} × other failures`);
    return out;
  }
}

async function drive(name, opts, connections = CONNECTIONS) {
  // Every failed answer (status + the start of its body) and every connection error or
  // timeout (autocannon's reqError: code + message) is counted by kind, so a row with
  // failures says what they were.
  const failures = new Failures();
  let lastAnswerAt = 0;
  let ok = 0;
  const noteAnswer = (status, body) => {
    lastAnswerAt = performance.now();
    if (status >= 200 && status < 300) ok++;
    if (status >= 300) failures.add(`HTTP ${status} ${String(body).replace(/\s+/g, " ").slice(0, 200)}`);
  };
  const requests = (opts.requests ?? [{}]).map((req) => ({
    ...req,
    onResponse: (status, body, context, headers) => {
      noteAnswer(status, body);
      req.onResponse?.(status, body, context, headers);
    },
  }));
  const pid = servers.get(new URL(opts.url).origin);
  const cpu0 = pid ? cpu(pid) : 0;
  const started = performance.now();
  const instance = autocannon({ connections, duration: SECONDS, ...opts, requests });
  instance.on("reqError", (err) => failures.add(`connection error ${err?.code ?? ""} ${err?.message ?? err}`.replace(/\s+/g, " ").trim()));
  const r = await instance;
  // Up to the last answer: autocannon notices a fixed-count run is done only on its next
  // 1-second tick, which would understate req/s by up to a second.
  const seconds = ((lastAnswerAt || performance.now()) - started) / 1000;
  const bad = r.non2xx + r.errors + r.timeouts;
  const why = failures.list();
  if (r.timeouts) why.push(`${r.timeouts} × timeout (no answer within autocannon's ${opts.timeout ?? 10} s)`);
  for (const w of why) log(`${name}: ${w}`);
  // Completed requests over the time they took (autocannon's own figures count whole seconds).
  const rps = r.requests.total / seconds;
  // workerd CPU (user + system) per request, background work (waitUntil, alarms) included.
  const us = pid && r.requests.total ? ((cpu(pid) - cpu0) * 1e6) / r.requests.total : undefined;
  log(`${name}: ${rps.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${us === undefined ? "" : `${us.toFixed(0)} µs CPU/request, `}non-2xx/errors ${bad}`);
  return { name, rps, p50: r.latency.p50, p99: r.latency.p99, us, total: r.requests.total, ok, bad, why };
}

/** Median of `runs` fresh workerd processes (the three Workers), each timed from "loaded"
 * to the end of its first answer to `target`: `/healthz` (the front alone), or a route of
 * another Worker (the front, then that Worker, both cold). */
async function coldStart(target = "/healthz", runs = 5) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const front = { ...builtWorker(), d1Databases: { DB: "cold" }, ...wranglerBindings() };
    const mf = new Miniflare({ workers: appWorkers(front) });
    const url = await mf.ready;
    const t1 = performance.now();
    const res = await fetch(new URL(target, url));
    await res.text();
    const t2 = performance.now();
    samples.push({ load: t1 - t0, first: t2 - t1 });
    await mf.dispose();
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { loadMs: median(samples.map((s) => s.load)), firstResponseMs: median(samples.map((s) => s.first)) };
}

/** Every Worker's wasm (src/http/parts.rs), raw and `gzip -9`. */
function sizes() {
  return ["build", ...PARTS.map((p) => `build/${p.part}`)].map((dir) => {
    const wasm = readFileSync(path.join(ROOT, dir, "index_bg.wasm"));
    const js = statSync(path.join(ROOT, dir, "index.js")).size;
    return { dir, raw: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length, js };
  });
}

function microBenchmarks() {
  if (args.has("--no-micro")) return [];
  log("native micro-benchmarks (criterion)…");
  const out = execSync("cargo bench --quiet --manifest-path bench/micro/Cargo.toml -- --noplot --warm-up-time 1 --measurement-time 2 2>&1", { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 26 });
  const rows = [];
  const re = /^(\S[^\n]*?)\s*\n?\s*time:\s+\[\S+ \S+ (\S+ \S+) \S+ \S+\]/gm;
  for (const m of out.matchAll(re)) rows.push({ name: m[1].trim(), median: m[2] });
  return rows;
}

async function main() {
  // The latency model (BENCHMARKS.md): D1 calls wait --far-ms, KV and Durable Object calls
  // --near-ms, at --model-connections (4) so that queueing does not hide the hops.
  const model = { farMs: option("far-ms", 100), nearMs: option("near-ms", 3), connections: option("model-connections", 4) };
  const runLocal = !args.has("--model-only");
  const runModel = !args.has("--no-model");
  if (!args.has("--no-build")) {
    log("building the release Worker…");
    execSync("bash scripts/build.sh", { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  }
  const size = sizes();
  for (const w of size) log(`wasm ${w.dir}: ${w.raw} B raw, ${w.gzip} B gzipped`);
  const cold = runLocal ? await coldStart() : null;
  // A route of another Worker: sms-activate's balance without a key (its own refusal).
  if (cold) cold.other = await coldStart("/stubs/handler_api.php?action=getBalance");
  if (cold) log(`cold start: script load ${cold.loadMs.toFixed(1)} ms, first response ${cold.firstResponseMs.toFixed(1)} ms; through the front to another Worker ${cold.other.firstResponseMs.toFixed(1)} ms`);
  // `--size-only`: the wasm size and the cold start, nothing else (about a minute).
  if (args.has("--size-only")) return console.log(budgets(size, cold).join("\n"));

  const vars = { RATE_LIMIT_PUBLIC: HIGH, RATE_LIMIT_PRODUCT: HIGH, RATE_LIMIT_AUTH: HIGH, RATE_LIMIT_ADMIN: HIGH, OTP_HMAC_SECRET: "bench-secret", OTP_RESEND_INTERVAL_SECS: "0", OTP_MAX_SENDS_PER_WINDOW: HIGH };
  const { scenarios, modelScenarios } = await import("./scenarios.mjs");
  const results = [];
  // `--baseline DIR`: an earlier build (a copy of its build/ inside the repo, e.g. builds/x)
  // served the same way, its local rows run right after ours against the same peer, so
  // that "no route slower than before" is one run's ratios.
  const baselineDir = textOption("baseline");
  const before = [];
  if (runLocal) {
    // Without the static-assets router (the dashboard's files): the peer has none, and
    // Miniflare's router is one more worker in front of every request (BENCHMARKS.md).
    const app = await serve(() => spawnApp({ vars, host: "127.0.0.1", port: 0, assets: undefined }), (a) => a.url);
    const { value: peer, pid: peerPid } = await spawnPeer({ API_KEY: "peer-key", OTP_HMAC_SECRET: "bench-secret" });
    servers.set(new URL(await peer.ready).origin, peerPid);
    const peerUrl = await peer.ready;
    try {
      for (const s of await scenarios({ app, peer, peerUrl, drive })) results.push(s);
      await app.close();
      if (baselineDir) {
        const scriptPath = path.join(path.relative(ROOT, path.resolve(baselineDir)), "index.js");
        log(`baseline: ${scriptPath}`);
        // With its own schema when the copy holds its migrations/ (a build from before a migration).
        const own = path.resolve(baselineDir, "migrations");
        const migrations = existsSync(own) ? own : undefined;
        const old = await serve(() => spawnApp({ vars, host: "127.0.0.1", port: 0, scriptPath, assets: undefined, migrations }), (a) => a.url);
        const label = (name) => `${name} [baseline]`;
        const tagged = (name, opts, c) => drive(label(name), opts, c);
        try {
          for (const s of await scenarios({ app: old, peer, peerUrl, drive: tagged })) before.push(s);
        } finally {
          await old.close();
        }
      }
    } finally {
      await app.close().catch(() => {});
      await peer.dispose();
    }
  }
  const modelled = [];
  if (runModel) {
    // The same rows twice: with the delays, and with the proxies but no delays (what this
    // machine adds by itself; on a shared machine that is most of the latency).
    const spawnModel = (farMs, nearMs) => spawnApp({ vars: { ...vars, BENCH_FAR_MS: String(farMs), BENCH_NEAR_MS: String(nearMs) }, scriptPath: "bench/latency/entry.mjs", partsDir: "build", modulesRules: [{ type: "ESModule", include: ["**/*.js"] }, { type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }], host: "127.0.0.1", port: 0, assets: undefined });
    const runRows = async (farMs, nearMs) => {
      const app = await spawnModel(farMs, nearMs);
      const roundTrips = async (reset = true) => (await fetch(new URL(`/__bench/round-trips${reset ? "?reset=1" : ""}`, app.url))).json();
      try {
        return await modelScenarios({ app, drive: (name, opts) => drive(`${name} [model ${farMs}/${nearMs}]`, opts, model.connections), roundTrips });
      } finally {
        await app.close();
      }
    };
    log(`latency model: D1 ${model.farMs} ms, KV and Durable Objects ${model.nearMs} ms per call, ${model.connections} connections`);
    const withDelays = await runRows(model.farMs, model.nearMs);
    const without = await runRows(0, 0);
    for (const r of withDelays) {
      const base = without.find((x) => x.name.replace(/ \[model .*\]$/, "") === r.name.replace(/ \[model .*\]$/, ""));
      const name = r.name.replace(/ \[model .*\]$/, "");
      modelled.push({ ...r, name, baseP50: base?.p50, baseP99: base?.p99 });
    }
  }
  const micro = microBenchmarks();
  const table = render({ results, before, baselineDir, modelled, model, size, cold, micro });
  console.log(table);
  writeFileSync(path.join(ROOT, "bench/results.md"), table);
}

/** The size and cold-start budgets (BENCHMARKS.md), so that a change that grows either shows. */
const BUDGET = { gzipKiB: 400, firstResponseMs: 50 };
function budgets(size, cold) {
  const over = (v, max, unit) => `${v.toFixed(1)} ${unit} of ${max} ${unit}: ${v <= max ? "within" : `**over by ${(v - max).toFixed(1)} ${unit}**`}`;
  const out = size.map((w) => `Budget: wasm gzipped, ${w.dir}/ ${over(w.gzip / 1024, BUDGET.gzipKiB, "KiB")}.`);
  if (cold) {
    out.push(`Budget: first response after a cold load ${over(cold.firstResponseMs, BUDGET.firstResponseMs, "ms")}.`);
    out.push(`Budget: first response of another Worker's route, both cold ${over(cold.other.firstResponseMs, BUDGET.firstResponseMs, "ms")}.`);
  }
  return out;
}

const fmt = (x, digits = 2) => (x === undefined || Number.isNaN(x) ? "" : Number(x).toFixed(digits));

function render({ results, before, baselineDir, modelled, model, size, cold, micro }) {
  const floor = results.find((r) => r.name === "GET /healthz");
  const last = results.find((r) => r.name === "GET /healthz (again, last)");
  const byName = (list, name) => list.find((r) => r.name === name);
  const lines = [];
  lines.push(`Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString()}`);
  if (results.length) {
    lines.push(`Load: autocannon, ${CONNECTIONS} connections, ${SECONDS} s per GET route; OTP rows are fixed counts (${process.env.BENCH_SESSIONS ?? 3000} sends; verify: a third of those sessions × 4 wrong codes, the rest × 1 right code); workerd via Miniflare on 127.0.0.1.`);
    lines.push("");
    lines.push("| route | req/s | p50 ms | p99 ms | req/s vs /healthz | p99 vs /healthz | vs JS peer (req/s) | workerd µs / request | CPU: JS peer / this | non-2xx |");
    lines.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of results) {
      const peer = r.peer ? results.find((p) => p.name === r.peer) : null;
      lines.push(
        `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${floor ? ((100 * r.rps) / floor.rps).toFixed(0) + " %" : ""} | ${floor ? (r.p99 / Math.max(floor.p99, 1)).toFixed(2) + "×" : ""} | ${peer ? (r.rps / peer.rps).toFixed(2) : ""} | ${fmt(r.us, 0)} | ${peer ? fmt(peer.us / r.us) : ""} | ${r.bad} |`,
      );
    }
    if (floor && last) lines.push(`\n/healthz drift over the run: ${(((last.rps - floor.rps) / floor.rps) * 100).toFixed(0)} % req/s (first ${floor.rps.toFixed(0)}, last ${last.rps.toFixed(0)}); ratios use the first.`);
  }
  const ours = results.filter((r) => !r.name.startsWith("JS peer"));
  const old = (name) => before.find((b) => b.name === `${name} [baseline]`);
  if (before.length) {
    lines.push("");
    lines.push(`Against the baseline build \`${baselineDir}\` (same harness, same peer, right after this build's rows; its own JS-peer rows are in the log). Ratio = this build / baseline (req/s: higher is better; p99: lower is better).`);
    lines.push("");
    lines.push("| route | req/s | baseline req/s | req/s ratio | p99 ms | baseline p99 ms | vs JS peer | baseline vs its JS peer | workerd µs / request (baseline) | non-2xx (baseline) |");
    lines.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    const vsPeer = (list, r, tag = "") => {
      const p = r.peer ? list.find((x) => x.name === `${r.peer}${tag}`) : null;
      return p ? (r.rps / p.rps).toFixed(2) : "";
    };
    for (const r of ours) {
      const b = old(r.name);
      if (!b) continue;
      lines.push(`| ${r.name} | ${r.rps.toFixed(0)} | ${b.rps.toFixed(0)} | **${(r.rps / b.rps).toFixed(2)}** | ${r.p99} | ${b.p99} | ${vsPeer(results, r)} | ${vsPeer(before, b, " [baseline]")} | ${fmt(r.us, 0)} (${fmt(b.us, 0)}) | ${r.bad} (${b.bad}) |`);
    }
  }
  if (modelled.length) {
    lines.push("");
    lines.push(`Latency model: every D1 call waits ${model.farMs} ms (far), every KV and Durable Object call ${model.nearMs} ms (near), counted per request by the binding proxies (bench/latency/entry.mjs); ${model.connections} connections. "Local" is the same route in the table above (${CONNECTIONS} connections, no model).`);
    lines.push("");
    lines.push("| route (model) | req/s | p50 ms | p99 ms | same, no delays: p50 / p99 ms | far / request | near / request | after the answer far / near | in objects far / near | local p50 / p99 ms | non-2xx |");
    lines.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of modelled) {
      const local = byName(results, r.local ?? r.name);
      const t = r.trips ?? {};
      lines.push(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.baseP50 ?? ""} / ${r.baseP99 ?? ""} | ${fmt(t.far)} | ${fmt(t.near)} | ${fmt(t.afterFar)} / ${fmt(t.afterNear)} | ${fmt(t.objectFar)} / ${fmt(t.objectNear)} | ${local ? `${local.p50} / ${local.p99}` : ""} | ${r.bad} |`);
    }
    lines.push("");
    lines.push(`"Same, no delays" is the same rows through the same proxies with both delays at 0 ms: what this machine adds by itself. "Local" is the route in the first table (${CONNECTIONS} connections, no proxies). "In objects" are the calls the Durable Objects make themselves (the OTP-session object's D1 mirror, after its answer).`);
  }
  const targets = checkTargets(results, modelled);
  if (targets.length) {
    lines.push("");
    lines.push("| target | this run | met |");
    lines.push("|---|---|:-:|");
    for (const t of targets) lines.push(`| ${t.target} | ${t.value} | ${t.met ? "yes" : "**no**"} |`);
  }
  const failing = [...results, ...modelled].filter((r) => r.why?.length);
  if (failing.length) {
    lines.push("");
    lines.push("Failed requests, by kind (the first 5 distinct kinds per row):");
    for (const r of failing) for (const w of r.why) lines.push(`- ${r.name}: ${w}`);
  }
  lines.push("");
  for (const w of size) lines.push(`wasm ${w.dir}/: ${(w.raw / 1024).toFixed(0)} KiB raw, **${(w.gzip / 1024).toFixed(1)} KiB gzipped** (${w.gzip} B, gzip -9); JS glue ${(w.js / 1024).toFixed(0)} KiB.`);
  if (cold) lines.push(`Cold start (median of 5 fresh workerd processes): script load + instantiate ${cold.loadMs.toFixed(0)} ms; **first response ${cold.firstResponseMs.toFixed(1)} ms** after the Workers are loaded (/healthz); a route of another Worker, through the front: ${cold.other.firstResponseMs.toFixed(1)} ms.`);
  lines.push(...budgets(size, cold));
  if (micro.length) {
    lines.push("");
    lines.push("| micro-benchmark (native, criterion) | median |");
    lines.push("|---|---:|");
    for (const m of micro) lines.push(`| ${m.name} | ${m.median} |`);
  }
  return lines.join("\n") + "\n";
}

/** The performance targets, as ratios and counts of this run. */
function checkTargets(results, modelled) {
  const out = [];
  const r = (name) => results.find((x) => x.name === name);
  const m = (name) => modelled.find((x) => x.name === name);
  const ratio = (name, peerName, min) => {
    const a = r(name);
    const b = r(peerName);
    // Met by req/s, as the issue states it; CPU per request (steadier) is shown beside it.
    const cpuRatio = a?.us && b?.us ? `; CPU ${(b.us / a.us).toFixed(2)}×` : "";
    if (a && b) out.push({ target: `local: ${name} ≥ ${min}× ${peerName} (req/s)`, value: `${(a.rps / b.rps).toFixed(2)}×${cpuRatio}`, met: a.rps / b.rps >= min });
  };
  ratio("POST /v1/otp/verify (wrong code)", "JS peer POST /v1/otp/verify (wrong code)", 1.2);
  ratio("POST /v1/otp/verify (right code)", "JS peer POST /v1/otp/verify (right code)", 1.2);
  ratio("POST /v1/otp/send", "JS peer POST /v1/otp/send", 1.0);
  ratio("GET /healthz", "JS peer GET /healthz", 0.9);
  const modelRow = (name, maxFar, maxP50) => {
    const x = m(name);
    if (!x) return;
    const far = x.trips?.far;
    out.push({ target: `model: ${name} ≤ ${maxFar} far round trip${maxFar === 1 ? "" : "s"} per request`, value: fmt(far), met: far !== undefined && far <= maxFar + 1e-9 });
    if (maxP50 !== undefined) out.push({ target: `model: ${name} p50 < ${maxP50} ms`, value: `${x.p50} ms (${x.baseP50 ?? "?"} ms with no delays)`, met: x.p50 < maxP50 });
  };
  modelRow("POST /v1/otp/verify (wrong code)", 0, 25);
  modelRow("POST /v1/otp/verify (right code)", 0, 25);
  modelRow("POST /v1/otp/send", 1, 130);
  modelRow("GET /v1/balance", 1);
  modelRow("GET /v1/activation/{id}/status", 1);
  return out;
}

await main();
