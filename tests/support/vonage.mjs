// What the Vonage Verify v2 tests share: an application registered with a fresh RSA key pair,
// and the official SDK (@vonage/verify2 with @vonage/auth) pointed at the local Worker.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { Verify2 } from "@vonage/verify2";
import { Auth } from "@vonage/auth";

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
  const apiHost = String(app.url).replace(/\/$/, "");
  return new Verify2(new Auth({ applicationId, privateKey, jwtOptions }), { apiHost });
}
