// The latency model of `npm run bench` (docs/benchmarks-history.md "Latency model"): the
// built Worker (build/index.js, unchanged) behind an entry module that hands it proxies of
// its bindings instead of the bindings themselves. Every D1 call waits BENCH_FAR_MS before it is
// forwarded (D1's primary is far from the caller), every KV and Durable Object call
// BENCH_NEAR_MS (a KV read of a key written in the same location, an object created near
// the caller). The proxies count the round trips of each request: those made before its
// response (the request path) and those made after it (waitUntil), and the D1/KV calls the
// Durable Objects make themselves. `GET /__bench/round-trips` returns the counts since the
// last `?reset=1` (this route never reaches the Worker).
//
// Why not Miniflare's `wrappedBindings`: a wrapped binding's inner bindings can only be JSON
// or text in Miniflare 4 (its `buildBindings` turns each into a `json`/`text` binding), so a
// wrapper script has no D1, KV or Durable Object binding to forward to. workerd itself would
// allow it; Miniflare does not expose that. An entry module that wraps `env` is the
// equivalent proxy: outside the Worker's code, per binding, per call.
import Worker, * as worker from "../../build/index.js";

let farMs = 0;
let nearMs = 0;
const fresh = () => ({ requests: 0, far: 0, near: 0, afterFar: 0, afterNear: 0, objectFar: 0, objectNear: 0 });
let totals = fresh();

const wait = (ms) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

/** Counts one call of `kind` ("far" | "near") for the request (or object) behind `meter`. */
async function hop(meter, kind) {
  meter(kind);
  await wait(kind === "far" ? farMs : nearMs);
}

// The service bindings to the other Workers are handed on as they are (an RPC stub answers
// any property, so it would pass for a Durable Object namespace); no route the model
// measures reaches them.
const BINDINGS = { DB: "d1", OTP_SESSIONS: "kv", RATE_LIMITS: "kv", PROTOCOLS: "service", ACCOUNTS: "service" };

function configure(env) {
  farMs = Number(env.BENCH_FAR_MS ?? 0);
  nearMs = Number(env.BENCH_NEAR_MS ?? 0);
}

function isNamespace(value) {
  return value && typeof value.idFromName === "function" && typeof value.get === "function";
}

/** `env` with every D1, KV and Durable Object binding behind a counting, delaying proxy. */
function wrapEnv(env, meter) {
  const out = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith("BENCH_")) continue;
    const Proxied = PROXIES[BINDINGS[name] ?? (isNamespace(value) ? "do" : undefined)];
    out[name] = Proxied ? new Proxied(value, meter) : value;
  }
  return out;
}

/** A proxy of one binding (or of what a binding's call returned): `inner`, metered by `meter`. */
class BindingProxy {
  constructor(inner, meter) {
    this.inner = inner;
    this.meter = meter;
  }
}

/** Gives `cls` the methods `names`, each a `kind` hop and then the inner object's own. */
function hopping(cls, kind, names) {
  for (const name of names) {
    cls.prototype[name] = async function (...args) {
      await hop(this.meter, kind);
      return this.inner[name](...args);
    };
  }
}

// workers-rs checks a D1 binding's constructor name, so the proxy's class has the same one.
class D1Database extends BindingProxy {
  prepare(sql) {
    return new D1PreparedStatement(this.inner.prepare(sql), this.meter);
  }
  async batch(statements) {
    await hop(this.meter, "far");
    return this.inner.batch(statements.map((s) => s.inner ?? s));
  }
  withSession(...args) {
    return new D1Database(this.inner.withSession(...args), this.meter);
  }
}
hopping(D1Database, "far", ["exec", "dump"]);

class D1PreparedStatement extends BindingProxy {
  bind(...values) {
    return new D1PreparedStatement(this.inner.bind(...values), this.meter);
  }
  async first(column) {
    await hop(this.meter, "far");
    return column === undefined ? this.inner.first() : this.inner.first(column);
  }
}
hopping(D1PreparedStatement, "far", ["all", "run", "raw"]);

class KvNamespace extends BindingProxy {}
hopping(KvNamespace, "near", ["get", "getWithMetadata", "put", "delete", "list"]);

// workers-rs checks this constructor name too.
class DurableObjectNamespace extends BindingProxy {
  idFromName(name) {
    return this.inner.idFromName(name);
  }
  idFromString(id) {
    return this.inner.idFromString(id);
  }
  newUniqueId(options) {
    return this.inner.newUniqueId(options);
  }
  jurisdiction(j) {
    return new DurableObjectNamespace(this.inner.jurisdiction(j), this.meter);
  }
  get(id, options) {
    return stub(this.inner.get(id, options), this.meter);
  }
  getByName(name, options) {
    return stub(this.inner.getByName(name, options), this.meter);
  }
}

function stub(inner, meter) {
  return {
    id: inner.id,
    name: inner.name,
    async fetch(...args) {
      await hop(meter, "near");
      return inner.fetch(...args);
    },
  };
}

/** The proxy class of each kind of binding. */
const PROXIES = { d1: D1Database, kv: KvNamespace, do: DurableObjectNamespace };

function roundTrips(url) {
  const body = JSON.stringify({ farMs, nearMs, ...totals });
  if (url.searchParams.get("reset") === "1") totals = fresh();
  return new Response(body, { headers: { "content-type": "application/json" } });
}

/** The Worker's `fetch` for `env`, metered: each request sees proxied bindings. */
async function metered(request, env, serve) {
  const url = new URL(request.url);
  configure(env);
  if (url.pathname === "/__bench/round-trips") return roundTrips(url);
  let answered = false;
  totals.requests++;
  const meter = (kind) => {
    if (kind === "far") answered ? totals.afterFar++ : totals.far++;
    else answered ? totals.afterNear++ : totals.near++;
  };
  try {
    return await serve(wrapEnv(env, meter));
  } finally {
    answered = true;
  }
}

// The Worker's default export is a module object (`scripts/entry.mjs`); a build made before
// that exported an entry class, which is extended instead.
const Bench =
  typeof Worker === "function"
    ? class extends Worker {
        async fetch(request) {
          return metered(request, this.env, (env) =>
            super.fetch.call(new Proxy(this, { get: (t, p) => (p === "env" ? env : Reflect.get(t, p)) }), request),
          );
        }
      }
    : { fetch: (request, env, ctx) => metered(request, env, (wrapped) => Worker.fetch(request, wrapped, ctx)) };

export default Bench;

/** A Durable Object class whose D1/KV/DO calls are metered as the objects' own. */
function objectClass(Inner) {
  return class extends Inner {
    constructor(state, env) {
      configure(env);
      const meter = (kind) => (kind === "far" ? totals.objectFar++ : totals.objectNear++);
      super(state, wrapEnv(env, meter));
    }
  };
}

// Every Durable Object class of wrangler.toml (a class missing here fails at startup).
export const Activation = objectClass(worker.Activation);
export const WebhookDispatcher = objectClass(worker.WebhookDispatcher);
export const OtpSession = objectClass(worker.OtpSession);
export const ApiKey = objectClass(worker.ApiKey);
export const FraudGuard = objectClass(worker.FraudGuard);
export const ObjectWatch = objectClass(worker.ObjectWatch);
