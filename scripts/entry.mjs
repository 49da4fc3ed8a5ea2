// The Worker's entry, specialized after worker-build (scripts/build.sh runs this on its
// unminified output, then minifies it).
//
// worker-build 0.8 exports the entry as a class wrapped in a Proxy whose traps, on EVERY
// request, construct the instance behind a second Proxy and wrap its `fetch` in a third, new
// each time, only to run two checks around the call: reinitialize the Wasm instance if an
// earlier call crashed it (`checkReinitialize`), and note a crash (`handleMaybeCritical`).
// This exports a plain module object whose `fetch` runs the same two checks around the same
// handler, and nothing else. The handler (`fetch` in src/lib.rs) answers a request that awaits
// nothing with a Response and any other with a Promise, so this `fetch` is not `async`: it
// passes either on as it is. `/healthz` went from 0.82× to 0.90× of the JS peer's no-op in
// alternating runs with the plain object, then to 0.86–0.89× of its CPU per request with the
// answer given at once (BENCHMARKS.md); `tests/idempotency-faults.test.mjs` checks that a
// crash still fails only its own request. The Durable Object classes keep worker-build's
// wrappers.
//
// Every piece of text this relies on must appear exactly once, else the build fails here
// (a worker-build whose output differs must be looked at, not patched blindly).
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const file = path.join(root, "build/index.js");
let js = readFileSync(file, "utf8");

const required = [
  "function checkReinitialize() {",
  "function handleMaybeCritical(e) {",
  "var Entrypoint = class extends WorkerEntrypoint {",
  "Entrypoint.prototype.fetch = function",
];
const entry = "var shim_default = new Proxy(Entrypoint, classProxyHooks);";
for (const text of [...required, entry]) {
  const n = js.split(text).length - 1;
  if (n !== 1) {
    console.error(`scripts/entry.mjs: expected "${text}" once in build/index.js, found ${n}`);
    process.exit(1);
  }
}
js = js.replace(
  entry,
  `var shim_default = {
  fetch(request, env, ctx) {
    checkReinitialize();
    try {
      const answer = Entrypoint.prototype.fetch.call({ env, ctx }, request);
      return answer instanceof Promise ? answer.catch(critical) : answer;
    } catch (e) {
      return critical(e);
    }
  }
};
function critical(e) {
  handleMaybeCritical(e);
  throw e;
}`,
);
writeFileSync(file, js);
const esbuild = path.join(root, "node_modules/.bin/esbuild");
execFileSync(esbuild, [file, "--minify", "--format=esm", `--outfile=${file}`, "--allow-overwrite", "--log-level=warning"], { stdio: "inherit" });
