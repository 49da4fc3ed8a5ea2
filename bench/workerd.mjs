// The workerd processes this bench process spawned (through Miniflare), and the CPU time
// each has used, from /proc: a request's cost to the one process that serves the Worker,
// its objects and Miniflare's D1/KV simulators, which other programs on the machine barely
// disturb (unlike requests/s).
import { Miniflare } from "miniflare";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PEER = path.join(path.dirname(fileURLToPath(import.meta.url)), "peer/worker.js");

/** The stat fields of a process after its name. */
function stat(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  return { name: s.slice(s.indexOf("(") + 1, s.lastIndexOf(")")), f: s.slice(s.lastIndexOf(")") + 2).split(" ") };
}

/** workerd processes that are children of this process. */
export function workerds() {
  const out = new Set();
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const { name, f } = stat(pid);
      if (name === "workerd" && Number(f[1]) === process.pid) out.add(Number(pid));
    } catch {}
  }
  return out;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpu(pid) {
  const { f } = stat(pid);
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Runs `start` and returns its result with the workerd process it added. */
export async function withPid(start) {
  const before = workerds();
  const value = await start();
  return { value, pid: [...workerds()].find((p) => !before.has(p)) };
}

/** The JS peer (bench/peer/worker.js) served by its own workerd, ready: `{ value, pid }`. */
export function spawnPeer(bindings) {
  return withPid(async () => {
    const options = { scriptPath: PEER, modules: true, compatibilityDate: "2026-04-20", cf: false };
    const mf = new Miniflare({ ...options, kvNamespaces: ["OTP_SESSIONS"], bindings, host: "127.0.0.1", port: 0 });
    await mf.ready;
    return mf;
  });
}
