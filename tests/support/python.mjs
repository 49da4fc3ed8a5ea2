// Runs a Python client script under tests/python/ with the repo's .venv (scripts/setup.sh),
// linked to the node test by JSON lines (tests/python/node_link.py): each line the script
// prints is an event; the answer to an event with "need" is written back on its stdin.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import path from "node:path";
import { ROOT } from "./app.mjs";

export const PYTHON = path.join(ROOT, ".venv", "bin", "python");

/** Runs tests/python/<script>, answering its "need" events. */
export function runPython(script, env, onNeed) {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [path.join(ROOT, "tests", "python", script)], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    const events = [];
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const lines = createInterface({ input: child.stdout });
    lines.on("line", async (line) => {
      let event;
      try {
        event = JSON.parse(line);
      } catch {
        events.push({ raw: line });
        return;
      }
      events.push(event);
      if (event.need) {
        try {
          child.stdin.write(`${JSON.stringify(await onNeed(event))}\n`);
        } catch (e) {
          child.kill();
          reject(e);
        }
      }
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(events) : reject(new Error(`python exited ${code}\n${stderr}\nevents: ${JSON.stringify(events)}`))));
  });
}
