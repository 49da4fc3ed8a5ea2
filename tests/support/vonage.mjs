// What the Vonage Verify v2 tests share: an account with an application registered with a
// fresh RSA key pair, the official SDK (@vonage/verify2 with @vonage/auth) pointed at the local
// Worker, and the numbers, requests and codes they send.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { Verify2 } from "@vonage/verify2";
import { Auth } from "@vonage/auth";
import { spawnPricedOtpApp, freshPhone } from "../otp-support.mjs";

/** A fresh RSA key pair in PEM, as a Vonage application holds one. */
export function rsaKeys() {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
}

/** Registers an application of the account (its public key, and `extra` fields such as
 * `callback_url`): the answer's body and the key pair. */
export async function vonageApplication(app, key, extra = {}) {
  const keys = rsaKeys();
  const r = await app.request("POST", "/v1/vonage/applications", { key, body: { public_key: keys.publicKey, ...extra } });
  assert.equal(r.status, 201, r.text);
  return { application: r.body, keys };
}

/** The SDK as the application `applicationId` signs in to the Worker at `app.url`. */
export function verify2(app, applicationId, privateKey, jwtOptions = {}) {
  return new Verify2(new Auth({ applicationId, privateKey, jwtOptions }), { apiHost: apiHost(app) });
}

/** A priced OTP app with an account `name` (10.00) and its application: `{app, acct,
 * application, keys}`. `extra(app, acct)` gives the application's other fields. */
export async function vonageAccount(name, extra = async () => ({})) {
  const app = await spawnPricedOtpApp();
  try {
    const acct = await app.createAccount(name, "10.00");
    return { app, acct, ...(await vonageApplication(app, acct.key, await extra(app, acct))) };
  } catch (err) {
    await app.close();
    throw err;
  }
}

/** The base URL of the Worker as the SDK takes it (no trailing slash). */
export const apiHost = (app) => String(app.url).replace(/\/$/, "");
/** A Vonage number (E.164 without the +) of its own. */
export const vonageNumber = () => freshPhone().slice(1);
/** A request whose workflow is an SMS to `to`, then a voice call after `channelTimeout` s. */
export const smsThenVoice = (to, channelTimeout) => ({
  brand: "Acme",
  workflow: [{ channel: "sms", to }, { channel: "voice", to }],
  channelTimeout,
});
/** The code in a message's text. */
export const codeOf = (message) => message.text.match(/\b(\d{4,10})\b/)[1];
