// The stack floor, alone and quickly: GET /healthz of one or more builds of the Worker
// against the JS peer's no-op route, in alternation (A, peer, B, peer, … several rounds), so
// that the ratios hold on a machine whose load changes during the run. Besides req/s it
// reports the CPU time the serving workerd process spent per request (from /proc: user +
// system), which other programs on a shared machine barely disturb.
//
//   node bench/floor.mjs [build-dir …]        # default: build
//   BENCH_SECONDS=3 BENCH_ROUNDS=3 BENCH_CONNECTIONS=32 node bench/floor.mjs build-base build
//   PEER_RATE_HEADERS=1 node bench/floor.mjs   # the peer answers our three X-RateLimit headers too
import autocannon from "autocannon";
import { cpu, spawnPeer, withPid } from "./workerd.mjs";
import { spawnApp } from "../tests/support/app.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const builds = process.argv.slice(2).length ? process.argv.slice(2) : ["build"];

async function rps(url, pid) {
  const c0 = pid ? cpu(pid) : 0;
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
  const us = pid ? ((cpu(pid) - c0) * 1e6) / r.requests.total : NaN;
  return { rps: r.requests.total / SECONDS, p50: r.latency.p50, p99: r.latency.p99, bad: r.non2xx + r.errors, us };
}

const apps = [];
for (const dir of builds) {
  const { value: app, pid } = await withPid(() => spawnApp({ scriptPath: `${dir}/index.js`, host: "127.0.0.1", port: 0, assets: undefined, vars: { RATE_LIMIT_PUBLIC: "1000000000" } }));
  apps.push({ dir, app, pid });
}
const { value: peer, pid: peerPid } = await spawnPeer({ API_KEY: "k", OTP_HMAC_SECRET: "s", RATE_HEADERS: process.env.PEER_RATE_HEADERS ?? "0" });
const peerUrl = new URL("/healthz", await peer.ready).href;
const sums = new Map(builds.map((b) => [b, []]));
const cpus = new Map(builds.map((b) => [b, []]));
try {
  for (const { app } of apps) await rps(new URL("/healthz", app.url).href);
  await rps(peerUrl);
  for (let round = 0; round < ROUNDS; round++) {
    for (const { dir, app, pid } of apps) {
      const ours = await rps(new URL("/healthz", app.url).href, pid);
      const theirs = await rps(peerUrl, peerPid);
      const ratio = ours.rps / theirs.rps;
      sums.get(dir).push(ratio);
      cpus.get(dir).push({ ours: ours.us, peer: theirs.us });
      console.log(`round ${round + 1} ${dir}: ${ours.rps.toFixed(0)} req/s (p50 ${ours.p50} ms, p99 ${ours.p99} ms, bad ${ours.bad}, workerd CPU ${ours.us.toFixed(0)} µs/request) vs peer ${theirs.rps.toFixed(0)} req/s (${theirs.us.toFixed(0)} µs/request) → ${ratio.toFixed(2)}×`);
    }
  }
} finally {
  for (const { app } of apps) await app.close();
  await peer.dispose();
}
for (const [dir, ratios] of sums) {
  const sorted = [...ratios].sort((a, b) => a - b);
  const c = cpus.get(dir);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ours = median(c.map((x) => x.ours));
  const peerUs = median(c.map((x) => x.peer));
  console.log(`${dir}: /healthz vs peer no-op, req/s median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)}× (${ratios.map((r) => r.toFixed(2)).join(", ")}); workerd CPU per request median ${ours.toFixed(0)} µs vs peer ${peerUs.toFixed(0)} µs → peer/ours ${(peerUs / ours).toFixed(2)}×`);
}
