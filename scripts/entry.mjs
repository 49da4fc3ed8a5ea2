// The Worker's entry module: scripts/build.sh runs this on wasm-bindgen's output
// (build/index.js, build/snippets/) and replaces it with one minified ES module that
// esbuild bundles from the entry below, importing build/index_bg.wasm.
//
// It keeps the two checks that make a trap fail only its own request (as worker-build 0.8's
// shim does): reinitialize the Wasm instance if an earlier call trapped (`checkReinitialize`,
// through wasm-bindgen's reset-state function), and note a trap (`handleMaybeCritical`).
// The default export is a plain module object whose `fetch` runs those two checks around the
// handler, and nothing else: worker-build's entry, a class behind a Proxy whose traps build a
// second Proxy and a third around `fetch` on every request, cost `/healthz` about a tenth of
// its CPU per request (BENCHMARKS.md). Its `scheduled` (the Cron Trigger) runs the same
// two checks around the Rust handler, whose Promise the runtime awaits. Its `queue` runs each
// message of a batch as one job (`job` in src/lib.rs): acknowledged when done, else retried
// with an exponential backoff; after `max_retries` the queue moves it to the dead-letter
// queue (its name ends in "-dead"), whose consumer runs it again with a longer backoff. The handler (`fetch` in src/lib.rs) answers a request
// that awaits nothing with a Response and any other with a Promise, so this `fetch` is not
// `async`: it passes either on as it is. `tests/idempotency-faults.test.mjs` checks that a
// trap still fails only its own request. Each exported class (the Durable Objects) is
// wrapped as worker-build wraps it: its instance is rebuilt after a reinitialization and each
// method call runs the same two checks.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
// `node scripts/entry.mjs [dir]`: the build of one Worker (default build/, the front).
const dir = path.resolve(root, process.argv[2] ?? "build");
const file = path.join(dir, "index.js");
const bindings = readFileSync(file, "utf8");

/** Fails the build: wasm-bindgen's output must be looked at, not patched blindly. */
function fail(message) {
  console.error(`scripts/entry.mjs: ${message} in build/index.js (wasm-bindgen's output)`);
  process.exit(1);
}
// The Worker that hosts the Durable Objects (the front) has the queue and Cron handlers too;
// a Worker of other routes has neither (src/http/parts.rs).
const hosts = /^export function scheduled\s*\(/m.test(bindings);
const handlers = hosts ? ["scheduled", "job"] : [];
for (const name of ["fetch", ...handlers, "__wbg_reset_state", "__worker_init_state"]) {
  if (!new RegExp(`^export function ${name}\\s*\\(`, "m").test(bindings)) {
    fail(`no exported function ${name}`);
  }
}
if (bindings.split('import source wasmModule from "./index_bg.wasm";').length !== 2) {
  fail("no single `import source` of index_bg.wasm");
}
const classes = [...bindings.matchAll(/^export class (\w+) \{/gm)].map((m) => m[1]);

const entry = `import * as exports from "./index.js";

Error.stackTraceLimit = 100;
const initState = exports.__worker_init_state();

function checkReinitialize() {
  if (initState.criticalError) {
    console.log("Reinitializing Wasm application");
    exports.__wbg_reset_state();
    initState.criticalError = false;
    initState.instanceId++;
  }
}

addEventListener("error", (e) => {
  handleMaybeCritical(e.error);
});

function handleMaybeCritical(e) {
  if (e instanceof WebAssembly.RuntimeError) {
    console.error("Critical", e);
    initState.criticalError = true;
  }
}

function critical(e) {
  handleMaybeCritical(e);
  throw e;
}

export default {
  fetch(request, env, ctx) {
    checkReinitialize();
    try {
      const answer = exports.fetch(request, env, ctx);
      return answer instanceof Promise ? answer.catch(critical) : answer;
    } catch (e) {
      return critical(e);
    }
  },
${hosts ? `  async queue(batch, env, ctx) {
    const dead = batch.queue.endsWith("-dead");
    for (const message of batch.messages) {
      checkReinitialize();
      try {
        const body = typeof message.body === "string" ? message.body : JSON.stringify(message.body);
        await exports.job(body, env, ctx);
        message.ack();
      } catch (e) {
        handleMaybeCritical(e);
        console.error("job " + message.id + " on " + batch.queue + ", try " + message.attempts + ", failed: " + e);
        const base = dead ? 60 : 2;
        message.retry({ delaySeconds: Math.min(base * 2 ** (message.attempts - 1), 3600) });
      }
    }
  },
  scheduled(controller, env, ctx) {
    checkReinitialize();
    try {
      return exports.scheduled(env, ctx).catch(critical);
    } catch (e) {
      return critical(e);
    }
  },` : ""}
};

const instanceProxyHooks = {
  set: (target, prop, value, receiver) => Reflect.set(target.instance, prop, value, receiver),
  has: (target, prop) => Reflect.has(target.instance, prop),
  deleteProperty: (target, prop) => Reflect.deleteProperty(target.instance, prop),
  apply: (target, thisArg, args) => Reflect.apply(target.instance, thisArg, args),
  construct: (target, args, newTarget) => Reflect.construct(target.instance, args, newTarget),
  getPrototypeOf: (target) => Reflect.getPrototypeOf(target.instance),
  setPrototypeOf: (target, proto) => Reflect.setPrototypeOf(target.instance, proto),
  isExtensible: (target) => Reflect.isExtensible(target.instance),
  preventExtensions: (target) => Reflect.preventExtensions(target.instance),
  getOwnPropertyDescriptor: (target, prop) => Reflect.getOwnPropertyDescriptor(target.instance, prop),
  defineProperty: (target, prop, descriptor) => Reflect.defineProperty(target.instance, prop, descriptor),
  ownKeys: (target) => Reflect.ownKeys(target.instance),
};

function guarded(method) {
  if (method.constructor === Function) {
    return new Proxy(method, {
      apply(target, thisArg, argArray) {
        checkReinitialize();
        try {
          return target.apply(thisArg, argArray);
        } catch (e) {
          return critical(e);
        }
      },
    });
  }
  return new Proxy(method, {
    async apply(target, thisArg, argArray) {
      checkReinitialize();
      try {
        return await target.apply(thisArg, argArray);
      } catch (e) {
        return critical(e);
      }
    },
  });
}

const classProxyHooks = {
  construct(ctor, args, newTarget) {
    try {
      checkReinitialize();
      const instance = {
        instance: Reflect.construct(ctor, args, newTarget),
        instanceId: initState.instanceId,
        ctor,
        args,
        newTarget,
      };
      return new Proxy(instance, {
        ...instanceProxyHooks,
        get(target, prop, receiver) {
          if (target.instanceId !== initState.instanceId) {
            target.instance = Reflect.construct(target.ctor, target.args, target.newTarget);
            target.instanceId = initState.instanceId;
          }
          const original = Reflect.get(target.instance, prop, receiver);
          return typeof original === "function" ? guarded(original) : original;
        },
      });
    } catch (e) {
      initState.criticalError = true;
      throw e;
    }
  },
};

${classes.map((c) => `export const ${c} = new Proxy(exports.${c}, classProxyHooks);`).join("\n")}
`;

const esbuild = path.join(root, "node_modules/.bin/esbuild");
execFileSync(
  esbuild,
  [
    "--bundle",
    "--minify",
    "--format=esm",
    "--external:./index_bg.wasm",
    "--external:cloudflare:*",
    "--outfile=index.js",
    "--allow-overwrite",
    "--log-level=warning",
  ],
  { cwd: dir, input: entry, stdio: ["pipe", "inherit", "inherit"] },
);
// workerd takes the compiled module through a plain import of the .wasm file.
const bundle = readFileSync(file, "utf8");
if (bundle.split("import source ").length !== 2) fail("the bundle has no single `import source`");
writeFileSync(file, bundle.replace("import source ", "import "));
rmSync(path.join(dir, "snippets"), { recursive: true, force: true });
