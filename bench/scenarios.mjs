// The routes `npm run bench` drives, with the data each needs. Each otpedge result may name
// the JS peer's result it is compared with (`peer`). /healthz runs first and last: the
// floor of our own stack, and how much the machine drifted during the run.
//
// OTP sessions are consumable (5 wrong checks, one success), so the verify rows use fixed
// request counts (autocannon `amount`) over sessions made beforehand by the send rows:
// every wrong-code request hits a session that still accepts checks (≤ 4 wrong each), and
// every right-code request verifies a distinct session once. The peer gets the same counts.
import { seed } from "../tests/support/activations.mjs";

// Sessions the send rows create (otpedge and peer alike); split between the verify rows.
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 3000);
const WRONG_SESSIONS = Math.floor(SESSIONS / 3);
const WRONG_PER_SESSION = 4;

const json = { "content-type": "application/json" };

/** A distinct, valid US number per index (+1 415 xxx 2xxx), so no resend rule applies; the
 * index walks the 1000 ranges (the number without its last 4 digits) first, so the fraud
 * guard's per-range rule (20 unverified sends trip it) sees a real app's spread. */
const phone = (prefix, i) =>
  `+1${prefix}${String(i % 1000).padStart(3, "0")}${String(2000 + Math.floor(i / 1000)).padStart(4, "0")}`;

/** A code that is surely wrong: the right one with its last digit changed. */
const wrongCode = (code) => code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10);

/** One check of a session that does not exist (404), so that the key's object has read the key. */
async function warmVerify(app, key) {
  const r = await app.request("POST", "/v1/otp/verify", { key, body: { session_id: "otp_warm_up", code: "000000" } });
  if (r.status !== 404) throw new Error(`warm-up verify: ${r.status} ${r.text}`);
}

/** POST `path` with one body per request, taken in order from `bodies` (fixed count). */
function cycling(url, headers, bodies) {
  let i = 0;
  return {
    url,
    amount: bodies.length,
    requests: [{ method: "POST", headers, setupRequest: (req) => ({ ...req, body: JSON.stringify(bodies[i++ % bodies.length]) }) }],
  };
}

/** Sends to `count` distinct phones; returns [{sessionId, phone}] of the 200 answers. */
async function sendRun(drive, name, url, headers, prefix, count, peer) {
  const made = [];
  let i = 0;
  let refusal;
  const result = await drive(name, {
    url,
    amount: count,
    requests: [
      {
        method: "POST",
        headers,
        setupRequest: (req, context) => {
          context.phone = phone(prefix, i++);
          return { ...req, body: JSON.stringify({ to: context.phone, channel: "sms" }) };
        },
        onResponse: (status, body, context) => {
          if (status === 200) made.push({ sessionId: JSON.parse(body).session_id, phone: context.phone });
          else if (!refusal) refusal = `${status} ${body}`;
        },
      },
    ],
  });
  if (refusal) console.error(`[bench] ${name}: first refusal: ${refusal}`);
  return { result: { ...result, peer }, made };
}

/** Wrong-code and right-code request bodies over the sessions, given each one's code. */
function verifyBodies(sessions) {
  const wrong = [];
  const right = [];
  sessions.forEach((s, n) => {
    if (n < WRONG_SESSIONS) for (let k = 0; k < WRONG_PER_SESSION; k++) wrong.push({ session_id: s.sessionId, code: wrongCode(s.code) });
    else right.push({ session_id: s.sessionId, code: s.code });
  });
  // Interleave sessions so parallel connections rarely hit the same row at once.
  wrong.sort((a, b) => (a.session_id < b.session_id ? -1 : 1));
  const spread = [];
  for (let k = 0; k < WRONG_PER_SESSION; k++) for (let j = k; j < wrong.length; j += WRONG_PER_SESSION) spread.push(wrong[j]);
  return { wrong: spread, right };
}

export async function scenarios({ app, peer, peerUrl, drive }) {
  const out = [];
  const base = app.url.href.replace(/\/$/, "");
  const peerBase = peerUrl.href.replace(/\/$/, "");
  await seed(app, { us: 10 });
  const acct = await app.createAccount("bench", "100000");
  const auth = { authorization: `Bearer ${acct.key}`, ...json };
  const peerAuth = { authorization: "Bearer peer-key", ...json };

  // An activation to poll.
  const bought = await app.request("POST", "/v1/number", { key: acct.key, body: { service: "telegram", country: "US" } });
  if (bought.status !== 200) throw new Error(`buy: ${bought.status} ${bought.text}`);
  const activationId = bought.body.activation_id;

  // Warm both isolates (JIT, connections) before anything is measured.
  await drive("warm-up (not reported)", { url: `${base}/healthz`, duration: 2 });
  await drive("warm-up (not reported)", { url: `${peerBase}/healthz`, duration: 2 });
  out.push(await drive("GET /healthz", { url: `${base}/healthz` }));
  out.push(await drive("JS peer GET /healthz", { url: `${peerBase}/healthz` }));

  // Sends (these also make the sessions the verify rows use).
  const peerSend = await sendRun(drive, "JS peer POST /v1/otp/send", `${peerBase}/v1/otp/send`, peerAuth, "415", SESSIONS);
  const send = await sendRun(drive, "POST /v1/otp/send", `${base}/v1/otp/send`, auth, "415", SESSIONS, "JS peer POST /v1/otp/send");
  out.push(send.result, peerSend.result);

  // The codes: otpedge's from the sandbox outbox (D1), the peer's from where it left them (KV).
  const texts = new Map();
  for (const row of (await app.db.prepare("SELECT object_id, text FROM outbox").all()).results) texts.set(row.object_id, row.text);
  const sessions = send.made.map((s) => ({ ...s, code: texts.get(s.sessionId)?.match(/\b(\d{4,8})\b/)?.[1] })).filter((s) => s.code);
  const kv = await peer.getKVNamespace("OTP_SESSIONS");
  const peerSessions = [];
  for (let n = 0; n < peerSend.made.length; n += 100) {
    const chunk = peerSend.made.slice(n, n + 100);
    const codes = await Promise.all(chunk.map((s) => kv.get(`outbox:${s.phone}`)));
    chunk.forEach((s, k) => codes[k] && peerSessions.push({ ...s, code: codes[k] }));
  }
  const n = Math.min(sessions.length, peerSessions.length);
  if (n < SESSIONS * 0.5) throw new Error(`only ${sessions.length} otpedge and ${peerSessions.length} peer sessions with codes out of ${SESSIONS}`);
  const ours = verifyBodies(sessions.slice(0, n));
  const theirs = verifyBodies(peerSessions.slice(0, n));

  // The first check with a key makes its key's object read the key from D1 (once): not timed.
  await warmVerify(app, acct.key);
  out.push({ ...(await drive("POST /v1/otp/verify (wrong code)", cycling(`${base}/v1/otp/verify`, auth, ours.wrong))), peer: "JS peer POST /v1/otp/verify (wrong code)" });
  out.push(await drive("JS peer POST /v1/otp/verify (wrong code)", cycling(`${peerBase}/v1/otp/verify`, peerAuth, theirs.wrong)));
  out.push({ ...(await drive("POST /v1/otp/verify (right code)", cycling(`${base}/v1/otp/verify`, auth, ours.right))), peer: "JS peer POST /v1/otp/verify (right code)" });
  out.push(await drive("JS peer POST /v1/otp/verify (right code)", cycling(`${peerBase}/v1/otp/verify`, peerAuth, theirs.right)));

  // The answers were what the rows claim: every answered wrong check counted, every answered
  // right one verified, nothing more (D1's rows follow the session objects after the
  // answers: wait a little for them). A request that got no answer (a timeout or a reset on
  // a saturated machine) may or may not have been counted.
  const [wrongRow, rightRow] = out.slice(-4).filter((r) => !r.name.startsWith("JS peer"));
  const within = (c) => c.wrong >= wrongRow.ok && c.wrong <= ours.wrong.length && c.verified >= rightRow.ok && c.verified <= ours.right.length;
  let check;
  for (let tries = 0; tries < 50; tries++) {
    check = await app.db.prepare("SELECT SUM(attempts) AS wrong, COUNT(verified_at) AS verified FROM otp_sessions").first();
    if (within(check) && (check.wrong === ours.wrong.length || wrongRow.ok < ours.wrong.length) && (check.verified === ours.right.length || rightRow.ok < ours.right.length)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!within(check)) throw new Error(`verify counts: ${JSON.stringify(check)} vs ${wrongRow.ok} of ${ours.wrong.length} wrong and ${rightRow.ok} of ${ours.right.length} right answered`);

  out.push(await drive("GET /v1/activation/{id}/status", { url: `${base}/v1/activation/${activationId}/status`, headers: auth }));
  out.push(await drive("GET /v1/balance", { url: `${base}/v1/balance`, headers: auth }));
  out.push(await drive("GET /api/public/prices?service=telegram&country=US", { url: `${base}/api/public/prices?service=telegram&country=US` }));
  out.push(await drive("GET /healthz (again, last)", { url: `${base}/healthz` }));
  return out;
}

// The latency model's rows (bench/latency/entry.mjs): the hot routes at a few connections,
// each with the round trips its requests made (counted by the binding proxies).
const MODEL_SESSIONS = Number(process.env.BENCH_MODEL_SESSIONS ?? 200);
const MODEL_SECONDS = Number(process.env.BENCH_MODEL_SECONDS ?? 5);

export async function modelScenarios({ app, drive, roundTrips }) {
  const out = [];
  const base = app.url.href.replace(/\/$/, "");
  await seed(app, { us: 10 });
  const acct = await app.createAccount("bench-model", "100000");
  const auth = { authorization: `Bearer ${acct.key}`, ...json };
  const bought = await app.request("POST", "/v1/number", { key: acct.key, body: { service: "telegram", country: "US" } });
  if (bought.status !== 200) throw new Error(`buy: ${bought.status} ${bought.text}`);
  const activationId = bought.body.activation_id;

  /** One row: counters reset before, read after (per request served). */
  async function row(name, opts, extra = {}) {
    await roundTrips(true);
    const result = await drive(name, opts);
    // Work after the answer (waitUntil) may still be running: give it a moment.
    await new Promise((r) => setTimeout(r, 500));
    const c = await roundTrips(true);
    const per = (n) => (c.requests ? n / c.requests : undefined);
    const trips = { far: per(c.far), near: per(c.near), afterFar: per(c.afterFar), afterNear: per(c.afterNear), objectFar: per(c.objectFar), objectNear: per(c.objectNear) };
    return { ...result, ...extra, trips };
  }

  await drive("model warm-up (not reported)", { url: `${base}/healthz`, duration: 1 });
  out.push(await row("GET /healthz", { url: `${base}/healthz`, duration: MODEL_SECONDS }));
  const made = [];
  let i = 0;
  out.push(
    await row("POST /v1/otp/send", {
      url: `${base}/v1/otp/send`,
      amount: MODEL_SESSIONS,
      requests: [
        {
          method: "POST",
          headers: auth,
          setupRequest: (req, context) => {
            context.phone = phone("415", i++);
            return { ...req, body: JSON.stringify({ to: context.phone, channel: "sms" }) };
          },
          onResponse: (status, body, context) => status === 200 && made.push({ sessionId: JSON.parse(body).session_id, phone: context.phone }),
        },
      ],
    }),
  );
  // The sandbox outbox may be written after the answer: wait until every code is there.
  let texts = new Map();
  for (let tries = 0; tries < 50 && texts.size < made.length; tries++) {
    texts = new Map((await app.db.prepare("SELECT object_id, text FROM outbox").all()).results.map((r) => [r.object_id, r.text]));
    if (texts.size < made.length) await new Promise((r) => setTimeout(r, 200));
  }
  const sessions = made.map((s) => ({ ...s, code: texts.get(s.sessionId)?.match(/\b(\d{4,8})\b/)?.[1] })).filter((s) => s.code);
  const half = Math.floor(sessions.length / 2);
  const wrong = sessions.slice(0, half).map((s) => ({ session_id: s.sessionId, code: wrongCode(s.code) }));
  const right = sessions.slice(half).map((s) => ({ session_id: s.sessionId, code: s.code }));
  await warmVerify(app, acct.key);
  out.push(await row("POST /v1/otp/verify (wrong code)", cycling(`${base}/v1/otp/verify`, auth, wrong)));
  out.push(await row("POST /v1/otp/verify (right code)", cycling(`${base}/v1/otp/verify`, auth, right)));
  out.push(await row("GET /v1/balance", { url: `${base}/v1/balance`, headers: auth, duration: MODEL_SECONDS }));
  out.push(await row("GET /v1/activation/{id}/status", { url: `${base}/v1/activation/${activationId}/status`, headers: auth, duration: MODEL_SECONDS }));
  return out;
}
