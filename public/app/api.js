// The JSON API, called with the session cookie (same origin; HttpOnly, so scripts never see
// the token). Each dialect has its own error envelope; ApiError carries the message and code.

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function errorOf(status, body) {
  const e = body?.errors?.[0]; // GetOTP envelope (/v1, /admin, /api/verify)
  if (e) return new ApiError(status, e.message ?? `Error ${status}`, e.code);
  if (body && typeof body.error === "string") return new ApiError(status, body.error, body.code);
  if (body?.error?.message) return new ApiError(status, body.error.message, body.error.code);
  if (typeof body?.message === "string") return new ApiError(status, body.message, body.code);
  return new ApiError(status, `The server answered ${status}.`);
}

export async function api(method, path, body, headers = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "The server cannot be reached. Check your connection and try again.");
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) throw errorOf(res.status, data);
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body = {}, headers) => api("POST", path, body, headers);
export const put = (path, body) => api("PUT", path, body);
export const del = (path) => api("DELETE", path);

/** A list out of the shapes the API uses: a bare array, {data:[…]}, {keys|templates|…:[…]}. */
export function listOf(body, ...names) {
  if (Array.isArray(body)) return body;
  if (Array.isArray(body?.data)) return body.data;
  for (const n of names) if (Array.isArray(body?.[n])) return body[n];
  return [];
}

/** A random Idempotency-Key for a money-moving POST (a double click buys once). */
export const idempotencyKey = () => ({ "Idempotency-Key": crypto.randomUUID() });
