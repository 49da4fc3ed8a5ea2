// The official `twilio` npm SDK pointed at the local Worker, and the assertions the Twilio
// Verify tests share. The only difference from production use is the host: the SDK's
// documented `httpClient` option ("Use a custom HTTP Client", advanced-examples/
// custom-http-client.md) takes a RequestClient — here the SDK's own, which sends each
// request to the local Worker instead of https://verify.twilio.com.
import assert from "node:assert/strict";
import twilio from "twilio";

const { RequestClient } = twilio;
/** The SDK's exception for a Twilio error answer. */
export const { RestException } = twilio;

/** A Twilio sid of this prefix, as we write them. */
export const SID = (prefix) => new RegExp(`^${prefix}[0-9a-f]{32}$`);
/** Twilio's dates: ISO 8601 in UTC to the second. */
export const TWILIO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** The SDK's RequestClient, pointed at the Worker: same requests, same auth, other host. */
export class LocalRequestClient extends RequestClient {
  constructor(base) {
    super({ timeout: 30_000 });
    this.base = base;
    this.seen = [];
  }
  request(opts) {
    const original = new URL(opts.uri);
    this.seen.push({ method: opts.method, host: original.host, path: original.pathname, data: opts.data, headers: { ...opts.headers } });
    return super.request({ ...opts, uri: new URL(original.pathname + original.search, this.base).href });
  }
}

/** A Twilio client as an integration builds it: `twilio(username, password, opts)`. */
export function sdk(app, username, password, opts = {}) {
  return twilio(username, password, { httpClient: new LocalRequestClient(app.url), ...opts });
}

/** Asserts that `promise` rejects with the SDK's RestException of this status and code. */
export async function rejectsWith(promise, status, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof RestException, `RestException expected, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.status, status, e.message);
    assert.equal(e.code, code, e.message);
    assert.equal(typeof e.message, "string");
    return true;
  });
}

/** A funded account with its Twilio ids: AC from the profile, SK from the key's creation. */
export async function twilioAccount(app, name, balance = "5.00") {
  const a = await app.createAccount(name, balance);
  const p = await app.request("GET", "/api/user/profile", { key: a.key });
  assert.equal(p.status, 200, p.text);
  a.ac = p.body.data.twilio_account_sid;
  assert.match(a.ac, SID("AC"));
  const k = await app.request("POST", `/admin/accounts/${a.accountId}/keys`, { admin: true });
  assert.equal(k.status, 201, k.text);
  assert.match(k.body.twilio_key_sid, SID("SK"));
  a.key2 = k.body.api_key;
  a.sk2 = k.body.twilio_key_sid;
  a.client = sdk(app, a.ac, a.key);
  return a;
}
