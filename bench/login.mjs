// CPU time of one login in workerd: the built Worker (bash scripts/build.sh first) in
// Miniflare, one request at a time; the CPU the workerd process spends (utime + stime from
// /proc, Linux) over N logins, minus the same over N requests that hash nothing
// (GET /api/v1/auth/session without a session → 401), divided by N. Also an unknown email
// (which hashes a dummy) and a sign-up. `node bench/login.mjs [N]`
// (docs/benchmarks-history.md "Login").
import { readFileSync, readdirSync } from "node:fs";
import { spawnAccountsApp, signUp, login, freshEmail, freshIp } from "../tests/accounts-support.mjs";

const N = Number(process.argv[2] ?? 20);
const TICK_MS = 1000 / 100; // USER_HZ: /proc times are in 1/100 s on Linux.

/** The workerd processes started by this node process (Miniflare's runtime). */
function workerdPids() {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return stat.includes("(workerd)") && Number(fields[1]) === process.pid;
      } catch {
        return false;
      }
    });
}

function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * TICK_MS;
}

async function measure(pids, fn) {
  await fn(-1); // warm-up
  const c0 = cpuMs(pids);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await fn(i);
  return { cpu: (cpuMs(pids) - c0) / N, wall: (performance.now() - t0) / N };
}

const app = await spawnAccountsApp({ vars: { LOGIN_MAX_FAILURES: "100000", LOGIN_MAX_FAILURES_PER_IP: "100000" } });
try {
  const pids = workerdPids();
  if (pids.length === 0) throw new Error("no workerd process found under this node process");
  const s = await signUp(app);
  const floor = await measure(pids, () => app.request("GET", "/api/v1/auth/session", { headers: { "CF-Connecting-IP": freshIp() } }));
  const ok = await measure(pids, async () => {
    const r = await login(app, { email: s.email });
    if (r.r.status !== 200) throw new Error(`login: ${r.r.status} ${r.r.text}`);
  });
  const unknown = await measure(pids, () => login(app, { email: freshEmail("nobody"), password: "not a password at all" }));
  const register = await measure(pids, () => signUp(app));
  const row = (name, m) => `| ${name} | ${m.cpu.toFixed(1)} | ${(m.cpu - floor.cpu).toFixed(1)} | ${m.wall.toFixed(1)} |`;
  console.log(`workerd CPU per request, mean of ${N} sequential requests (10 ms /proc resolution over the run)`);
  console.log("| request | CPU ms | CPU ms above the floor | wall ms |");
  console.log("|---|---|---|---|");
  console.log(row("GET /api/v1/auth/session → 401 (floor: no hash)", floor));
  console.log(row("POST /api/v1/auth/login → 200", ok));
  console.log(row("POST /api/v1/auth/login, unknown email → 401", unknown));
  console.log(row("POST /api/v1/auth/register → 201", register));
} finally {
  await app.close();
}
