// Send and verify of one or more builds against the JS peer, in alternation (A, B, …, peer,
// then again, ROUNDS rounds after a warm-up round), so that ratios hold on a machine whose
// load changes during the run. Each round sends N codes to fresh numbers, then checks half
// of those sessions with a wrong code and the other half with the right one. Reports
// requests/s (first request to last answer) and the CPU time the serving workerd process
// spent per request (from /proc: user + system), which other programs barely disturb.
//
//   node bench/otp-ab.mjs build-a [build-b …]
//   N=1500 ROUNDS=3 CONN=32 ROUTES=send,wrong,right node bench/otp-ab.mjs builds/before build
import autocannon from "autocannon";
import { cpu, spawnPeer, withPid } from "./workerd.mjs";
import { spawnApp } from "../tests/support/app.mjs";
import { seed } from "../tests/support/activations.mjs";

const N = Number(process.env.N ?? 1500);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONN = Number(process.env.CONN ?? 32);
const ROUTES = (process.env.ROUTES ?? "send,wrong,right").split(",");
const HIGH = "1000000000";
const builds = process.argv.slice(2);
if (!builds.length) throw new Error("usage: node bench/otp-ab.mjs build-dir [build-dir …]");

const json = { "content-type": "application/json" };
let phones = 0;
// Ranges (the number without its last 4 digits) walked first, as bench/scenarios.mjs does, so
// the fraud guard's per-range rule sees a real app's spread.
const phone = (i = phones++) => `+1415${String(i % 1000).padStart(3, "0")}${String(2000 + Math.floor(i / 1000)).padStart(4, "0")}`;
const wrongCode = (code) => code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10);

/** POSTs each body once; req/s from the first request to the last answer. */
async function run(url, headers, bodies, pid, onAnswer) {
  let i = 0;
  let bad = 0;
  const c0 = cpu(pid);
  const t0 = performance.now();
  let last = t0;
  const r = await autocannon({
    url,
    connections: CONN,
    amount: bodies.length,
    requests: [
      {
        method: "POST",
        headers,
        setupRequest: (req, context) => {
          context.body = bodies[i++];
          return { ...req, body: JSON.stringify(context.body) };
        },
        onResponse: (status, body, context) => {
          last = performance.now();
          if (status !== 200) bad++;
          onAnswer?.(status, body, context);
        },
      },
    ],
  });
  const seconds = (last - t0) / 1000;
  return { rps: r.requests.total / seconds, us: ((cpu(pid) - c0) * 1e6) / r.requests.total, bad: bad + r.errors };
}

const targets = [];
for (const dir of builds) {
  const vars = { RATE_LIMIT_PUBLIC: HIGH, RATE_LIMIT_PRODUCT: HIGH, RATE_LIMIT_ADMIN: HIGH, OTP_HMAC_SECRET: "bench-secret", OTP_RESEND_INTERVAL_SECS: "0", OTP_MAX_SENDS_PER_WINDOW: HIGH };
  const { value: app, pid } = await withPid(() => spawnApp({ scriptPath: `${dir}/index.js`, host: "127.0.0.1", port: 0, assets: undefined, vars }));
  await seed(app, { us: 2 });
  const acct = await app.createAccount("bench", "100000");
  // The first check with the key makes its key's object read the key (once): not timed.
  await app.request("POST", "/v1/otp/verify", { key: acct.key, body: { session_id: "otp_warm_up", code: "000000" } });
  targets.push({
    name: dir,
    pid,
    base: app.url.href.replace(/\/$/, ""),
    headers: { authorization: `Bearer ${acct.key}`, ...json },
    async codes(made) {
      const texts = new Map();
      for (const row of (await app.db.prepare("SELECT object_id, text FROM outbox").all()).results) texts.set(row.object_id, row.text);
      return made.map((s) => ({ ...s, code: texts.get(s.id)?.match(/\b(\d{4,8})\b/)?.[1] }));
    },
    close: () => app.close(),
  });
}
{
  const { value: peer, pid } = await spawnPeer({ API_KEY: "k", OTP_HMAC_SECRET: "s" });
  const kv = await peer.getKVNamespace("OTP_SESSIONS");
  targets.push({
    name: "JS peer",
    pid,
    base: (await peer.ready).href.replace(/\/$/, ""),
    headers: { authorization: "Bearer k", ...json },
    async codes(made) {
      const out = [];
      for (let n = 0; n < made.length; n += 100) {
        const chunk = made.slice(n, n + 100);
        const codes = await Promise.all(chunk.map((s) => kv.get(`outbox:${s.to}`)));
        chunk.forEach((s, k) => out.push({ ...s, code: codes[k] }));
      }
      return out;
    },
    close: () => peer.dispose(),
  });
}

const results = new Map();
const note = (route, name, r) => results.set(`${route} ${name}`, [...(results.get(`${route} ${name}`) ?? []), r]);
const show = (label, r) => (r ? ` | ${label} ${r.rps.toFixed(0)}/s ${r.us.toFixed(0)} µs bad ${r.bad}` : "");
try {
  for (let round = 0; round <= ROUNDS; round++) {
    for (const t of targets) {
      const made = [];
      const sends = Array.from({ length: N }, () => ({ to: phone(), channel: "sms" }));
      const s = await run(`${t.base}/v1/otp/send`, t.headers, sends, t.pid, (status, body, context) => {
        if (status === 200) made.push({ id: JSON.parse(body).session_id, to: context.body.to });
      });
      const sessions = (await t.codes(made)).filter((x) => x.code);
      const half = Math.floor(sessions.length / 2);
      const wrong = sessions.slice(0, half).map((x) => ({ session_id: x.id, code: wrongCode(x.code) }));
      const right = sessions.slice(half).map((x) => ({ session_id: x.id, code: x.code }));
      const w = ROUTES.includes("wrong") ? await run(`${t.base}/v1/otp/verify`, t.headers, wrong, t.pid) : null;
      const r = ROUTES.includes("right") ? await run(`${t.base}/v1/otp/verify`, t.headers, right, t.pid) : null;
      console.error(`${round ? `round ${round}` : "warm-up"} ${t.name}:${show("send", s)}${show("wrong", w)}${show("right", r)}`);
      if (round === 0) continue;
      note("send", t.name, s);
      if (w) note("wrong", t.name, w);
      if (r) note("right", t.name, r);
    }
  }
} finally {
  for (const t of targets) await t.close();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const labels = { send: "send", wrong: "verify, wrong code", right: "verify, right code" };
console.log("| route | build | req/s (median) | workerd µs / request (median) | req/s vs JS peer | CPU: peer / this |");
console.log("|---|---|---:|---:|---:|---:|");
for (const route of ["send", "wrong", "right"]) {
  const peer = results.get(`${route} JS peer`);
  if (!peer) continue;
  const peerRps = median(peer.map((x) => x.rps));
  const peerUs = median(peer.map((x) => x.us));
  for (const t of targets) {
    const rs = results.get(`${route} ${t.name}`);
    const rps = median(rs.map((x) => x.rps));
    const us = median(rs.map((x) => x.us));
    console.log(`| ${labels[route]} | ${t.name} | ${rps.toFixed(0)} | ${us.toFixed(0)} | ${(rps / peerRps).toFixed(2)} | ${(peerUs / us).toFixed(2)} |`);
  }
}
