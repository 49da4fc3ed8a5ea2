// `npm run bench`: builds the release Worker, serves it in workerd (Miniflare on a local
// port, real D1/KV/DO), serves the reference JavaScript peer (bench/peer/worker.js) the same
// way, loads the data each route needs, and drives both with autocannon at a fixed
// concurrency. Prints a table of requests/s and p50/p99 latency with the ratios to
// /healthz (the floor of our own stack) and to the JS peer, plus wasm size, cold start and
// the native micro-benchmarks. Writes the table to bench/results.md.
import autocannon from "autocannon";
import { Miniflare } from "miniflare";
import { execSync } from "node:child_process";
import { readFileSync, writeFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import os from "node:os";
import path from "node:path";
import { spawnApp, ROOT, wranglerBindings } from "../tests/support/app.mjs";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const args = new Set(process.argv.slice(2));
const HIGH = "1000000000";

function log(...a) {
  console.error("[bench]", ...a);
}

async function drive(name, opts) {
  // Keep the first failed answer, so a row with failures says what they were.
  let firstBad;
  let lastAnswerAt = 0;
  const noteBad = (status, body) => {
    lastAnswerAt = performance.now();
    if (status >= 300 && !firstBad) firstBad = `${status} ${String(body).slice(0, 300)}`;
  };
  const requests = (opts.requests ?? [{}]).map((req) => ({
    ...req,
    onResponse: (status, body, context, headers) => {
      noteBad(status, body);
      req.onResponse?.(status, body, context, headers);
    },
  }));
  const started = performance.now();
  const r = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts, requests });
  // Up to the last answer: autocannon notices a fixed-count run is done only on its next
  // 1-second tick, which would understate req/s by up to a second.
  const seconds = ((lastAnswerAt || performance.now()) - started) / 1000;
  if (firstBad) log(`${name}: first failed answer: ${firstBad}`);
  if (r.errors + r.timeouts) log(`${name}: ${r.errors} connection errors, ${r.timeouts} timeouts`);
  const bad = r.non2xx + r.errors + r.timeouts;
  // Completed requests over the time they took (autocannon's own figures count whole seconds).
  const rps = r.requests.total / seconds;
  log(`${name}: ${rps.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non-2xx/errors ${bad}`);
  return { name, rps, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total, bad };
}

async function coldStart(runs = 5) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const mf = new Miniflare({
      rootPath: ROOT,
      modulesRoot: ROOT,
      scriptPath: "build/index.js",
      modules: true,
      modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
      compatibilityDate: "2026-04-20",
      cf: false,
      d1Databases: { DB: "cold" },
      ...wranglerBindings(),
    });
    const url = await mf.ready;
    const t1 = performance.now();
    const res = await fetch(new URL("/healthz", url));
    await res.text();
    const t2 = performance.now();
    samples.push({ load: t1 - t0, first: t2 - t1 });
    await mf.dispose();
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { loadMs: median(samples.map((s) => s.load)), firstResponseMs: median(samples.map((s) => s.first)) };
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
  if (!args.has("--no-build")) {
    log("building the release Worker…");
    execSync("bash scripts/build.sh", { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  }
  const wasm = readFileSync(path.join(ROOT, "build/index_bg.wasm"));
  const size = { raw: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length, js: statSync(path.join(ROOT, "build/index.js")).size };
  log(`wasm ${size.raw} B raw, ${size.gzip} B gzipped`);
  const cold = await coldStart();
  log(`cold start: script load ${cold.loadMs.toFixed(1)} ms, first response ${cold.firstResponseMs.toFixed(1)} ms`);

  const vars = { RATE_LIMIT_PUBLIC: HIGH, RATE_LIMIT_PRODUCT: HIGH, RATE_LIMIT_AUTH: HIGH, RATE_LIMIT_ADMIN: HIGH, OTP_HMAC_SECRET: "bench-secret", OTP_RESEND_INTERVAL_SECS: "0", OTP_MAX_SENDS_PER_WINDOW: HIGH };
  const app = await spawnApp({ vars, host: "127.0.0.1", port: 0 });
  const peer = new Miniflare({
    scriptPath: path.join(ROOT, "bench/peer/worker.js"),
    modules: true,
    compatibilityDate: "2026-04-20",
    cf: false,
    kvNamespaces: ["OTP_SESSIONS"],
    bindings: { API_KEY: "peer-key", OTP_HMAC_SECRET: "bench-secret" },
    host: "127.0.0.1",
    port: 0,
  });
  const peerUrl = await peer.ready;
  const { scenarios } = await import("./scenarios.mjs");
  const results = [];
  try {
    for (const s of await scenarios({ app, peer, peerUrl, drive })) results.push(s);
  } finally {
    await app.close();
    await peer.dispose();
  }
  const micro = microBenchmarks();
  const table = render({ results, size, cold, micro });
  console.log(table);
  writeFileSync(path.join(ROOT, "bench/results.md"), table);
}

function render({ results, size, cold, micro }) {
  const floor = results.find((r) => r.name === "GET /healthz");
  const last = results.find((r) => r.name === "GET /healthz (again, last)");
  const lines = [];
  lines.push(`Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString()}`);
  lines.push(`Load: autocannon, ${CONNECTIONS} connections, ${SECONDS} s per GET route; OTP rows are fixed counts (${process.env.BENCH_SESSIONS ?? 3000} sends; verify: a third of those sessions × 4 wrong codes, the rest × 1 right code); workerd via Miniflare on 127.0.0.1.`);
  lines.push("");
  lines.push("| route | req/s | p50 ms | p99 ms | req/s vs /healthz | p99 vs /healthz | vs JS peer (req/s) | non-2xx |");
  lines.push("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of results) {
    const peer = r.peer ? results.find((p) => p.name === r.peer) : null;
    lines.push(
      `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${floor ? ((100 * r.rps) / floor.rps).toFixed(0) + " %" : ""} | ${floor ? (r.p99 / Math.max(floor.p99, 1)).toFixed(2) + "×" : ""} | ${peer ? (r.rps / peer.rps).toFixed(2) : ""} | ${r.bad} |`,
    );
  }
  if (floor && last) lines.push(`\n/healthz drift over the run: ${(((last.rps - floor.rps) / floor.rps) * 100).toFixed(0)} % req/s (first ${floor.rps.toFixed(0)}, last ${last.rps.toFixed(0)}); ratios use the first.`);
  lines.push("");
  lines.push(`wasm: ${(size.raw / 1024).toFixed(0)} KiB raw, **${(size.gzip / 1024).toFixed(1)} KiB gzipped** (${size.gzip} B, gzip -9); JS glue ${(size.js / 1024).toFixed(0)} KiB.`);
  lines.push(`Cold start (median of 5 fresh workerd processes): script load + instantiate ${cold.loadMs.toFixed(0)} ms; **first response ${cold.firstResponseMs.toFixed(1)} ms** after the Worker is loaded.`);
  if (micro.length) {
    lines.push("");
    lines.push("| micro-benchmark (native, criterion) | median |");
    lines.push("|---|---:|");
    for (const m of micro) lines.push(`| ${m.name} | ${m.median} |`);
  }
  return lines.join("\n") + "\n";
}

await main();
