// The reference peer for `npm run bench`: OTP send/verify as a user would write it in plain
// JavaScript on Workers with KV and Web Crypto instead of using otpedge. Same semantics as
// otpedge's WhatOTP routes (6-digit uniform codes, HMAC-SHA256 at rest, 5 wrong checks,
// single use, 5-minute lifetime), minus what a hand-written version typically skips:
// no wallet, no ledger, no outbox, and a KV read-modify-write for the attempt counter
// (racy under parallel requests — the property otpedge serializes).
const enc = new TextEncoder();
let hmacKey;

async function key(env) {
  hmacKey ??= await crypto.subtle.importKey("raw", enc.encode(env.OTP_HMAC_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return hmacKey;
}

async function mac(env, sessionId, code) {
  const sig = await crypto.subtle.sign("HMAC", await key(env), enc.encode(`${sessionId}:${code}`));
  return [...new Uint8Array(sig)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function randomCode(length) {
  let out = "";
  const buf = new Uint8Array(32);
  while (out.length < length) {
    crypto.getRandomValues(buf);
    for (const b of buf) if (b < 250 && out.length < length) out += String(b % 10);
  }
  return out;
}

function json(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

// `node bench/floor.mjs` with PEER_RATE_HEADERS=1: the no-op answering the three rate-limit
// headers otpedge puts on every response, to compare like with like.
function healthzWithRateHeaders() {
  const reset = String(Math.floor(Date.now() / 60_000) * 60 + 60);
  const headers = { "Content-Type": "application/json; charset=utf-8", "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99", "X-RateLimit-Reset": reset };
  return new Response(JSON.stringify({ ok: true }), { status: 200, headers });
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return env.RATE_HEADERS === "1" ? healthzWithRateHeaders() : json(200, { ok: true });
    if (request.headers.get("Authorization") !== `Bearer ${env.API_KEY}`) return json(401, { error: "unauthorized" });
    let body;
    try {
      body = await request.json();
    } catch {
      return json(400, { error: "malformed JSON" });
    }
    if (request.method === "POST" && url.pathname === "/v1/otp/send") {
      if (typeof body.to !== "string" || !/^\+[1-9]\d{7,14}$/.test(body.to)) return json(400, { error: "invalid phone" });
      const length = body.length ?? 6;
      if (!Number.isInteger(length) || length < 4 || length > 8) return json(400, { error: "invalid length" });
      const sessionId = `otp_${crypto.randomUUID().replaceAll("-", "")}`;
      const code = randomCode(length);
      const expiresAt = Date.now() + 300_000;
      await env.OTP_SESSIONS.put(sessionId, JSON.stringify({ to: body.to, hash: await mac(env, sessionId, code), attempts: 0, verified: false, expiresAt }), { expirationTtl: 300 });
      // Delivery would happen here; the bench peer stores the code where the harness can read it.
      await env.OTP_SESSIONS.put(`outbox:${body.to}`, code, { expirationTtl: 300 });
      return json(200, { session_id: sessionId, status: "sent", expires_at: new Date(expiresAt).toISOString() });
    }
    if (request.method === "POST" && url.pathname === "/v1/otp/verify") {
      if (typeof body.session_id !== "string" || typeof body.code !== "string") return json(400, { error: "session_id and code are required" });
      const raw = await env.OTP_SESSIONS.get(body.session_id);
      if (!raw) return json(404, { verified: false, reason: "not_found" });
      const s = JSON.parse(raw);
      if (s.verified) return json(200, { verified: false, reason: "already_verified", attempts_remaining: 0 });
      if (Date.now() > s.expiresAt) return json(200, { verified: false, reason: "expired", attempts_remaining: 0 });
      if (s.attempts >= 5) return json(200, { verified: false, reason: "max_attempts", attempts_remaining: 0 });
      const ok = equal(await mac(env, body.session_id, body.code), s.hash);
      if (ok) s.verified = true;
      else s.attempts += 1;
      await env.OTP_SESSIONS.put(body.session_id, JSON.stringify(s), { expirationTtl: 300 });
      return json(200, { verified: ok, attempts_remaining: 5 - s.attempts });
    }
    return json(404, { error: "no route" });
  },
};
