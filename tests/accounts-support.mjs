// Helpers shared by the accounts test files: self-registration, login sessions
// carried as a Bearer token or as the session cookie.
import { spawnApp } from "./support/app.mjs";

/** The app's own origin: spawnApp sends every request to http://localhost. */
export const ORIGIN = "http://localhost";
export const PASSWORD = "correct horse battery staple";

/** An app whose auth and product rate limits stay out of the way, unless a test sets them. */
export function spawnAccountsApp({ vars = {}, ...rest } = {}) {
  return spawnApp({ vars: { RATE_LIMIT_AUTH: "100000", RATE_LIMIT_PRODUCT: "100000", ...vars }, ...rest });
}

let ipSeq = 0;
/** A distinct client IP (documentation range) per call, so per-IP throttles of one test never
 * touch another. Only a header value: nothing is sent anywhere. */
export function freshIp() {
  ipSeq += 1;
  return `2001:db8::${ipSeq.toString(16)}`;
}

let emailSeq = 0;
export function freshEmail(tag = "user") {
  emailSeq += 1;
  return `${tag}-${process.pid}-${emailSeq}@example.com`;
}

/** The session token in a response's Set-Cookie, if any. */
export function sessionCookie(res) {
  const m = (res.headers.get("set-cookie") ?? "").match(/otpedge_session=([^;]*)/);
  return m ? m[1] : undefined;
}

export async function register(app, { email = freshEmail(), password = PASSWORD, name, ip = freshIp(), headers = {} } = {}) {
  const body = { email, password };
  if (name !== undefined) body.name = name;
  const r = await app.request("POST", "/api/v1/auth/register", { headers: { "CF-Connecting-IP": ip, ...headers }, body });
  return { r, email, password, token: r.body?.token, accountId: r.body?.account?.id, cookie: sessionCookie(r) };
}

/** Registers and checks it worked. */
export async function signUp(app, opts = {}) {
  const s = await register(app, opts);
  if (s.r.status !== 201) throw new Error(`register: ${s.r.status} ${s.r.text}`);
  return s;
}

export async function login(app, { email, password = PASSWORD, ip = freshIp(), headers = {} }) {
  const r = await app.request("POST", "/api/v1/auth/login", { headers: { "CF-Connecting-IP": ip, ...headers }, body: { email, password } });
  return { r, token: r.body?.token, cookie: sessionCookie(r) };
}

/** A request authenticated by the session cookie, sent from `origin` (default: the app's
 * own; `null` sends no Origin header). */
export function cookieRequest(app, token, origin = ORIGIN) {
  return (method, path, opts = {}) => {
    const headers = { Cookie: `otpedge_session=${token}`, ...(opts.headers ?? {}) };
    if (origin) headers.Origin = origin;
    return app.request(method, path, { ...opts, headers });
  };
}

/** A new API key made with a session (Bearer). */
export async function createKey(app, token, body = "test key") {
  if (typeof body === "string") body = { name: body };
  const r = await app.request("POST", "/v1/keys", { key: token, body });
  if (r.status !== 201) throw new Error(`create key: ${r.status} ${r.text}`);
  return r.body;
}

/** GetOTP's house envelope: status and code. */
export function houseError(r, status, code) {
  if (r.status !== status || r.body?.errors?.[0]?.code !== code) {
    throw new Error(`expected ${status}/${code}, got ${r.status} ${r.text}`);
  }
  return r.body.errors[0];
}

/** A signed-up customer with `amount` in the wallet, and sms-activate's codes for the US and
 * Telegram in the catalog (so its clients can buy): { token, accountId }. */
export async function fundedCustomer(app, amount = "10.00") {
  const codes = {
    countries: [{ code: "US", name: "United States", sms_activate_id: 187 }],
    services: [{ code: "telegram", name: "Telegram", sms_activate_code: "tg" }],
  };
  const c = await app.request("PUT", "/admin/catalog", { admin: true, body: codes });
  if (c.status !== 200) throw new Error(`catalog: ${c.status} ${c.text}`);
  const s = await signUp(app);
  const reference = `seed-${s.accountId}`;
  const t = await app.request("POST", `/admin/accounts/${s.accountId}/topup`, { admin: true, body: { amount, reference } });
  if (t.status !== 200) throw new Error(`top-up: ${t.status} ${t.text}`);
  return { token: s.token, accountId: s.accountId };
}
