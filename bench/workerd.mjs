// The workerd processes this bench process spawned (through Miniflare), and the CPU time
// each has used, from /proc: a request's cost to the one process that serves the Worker,
// its objects and Miniflare's D1/KV simulators, which other programs on the machine barely
// disturb (unlike requests/s).
import { readFileSync, readdirSync } from "node:fs";

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
